package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

const (
	defaultTimeout = 30 * time.Second
	// mockKey authenticates against the in-process mock, which checks only
	// the form of the header.
	mockKey = "mock-key"
)

// categoryList is a repeatable, comma-separated -category flag.
type categoryList []client.Category

func (c *categoryList) String() string {
	parts := make([]string, len(*c))
	for i, x := range *c {
		parts[i] = string(x)
	}
	return strings.Join(parts, ",")
}

func (c *categoryList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*c = append(*c, client.Category(strings.ToLower(part)))
		}
	}
	return nil
}

func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		req        client.LinkTokenRequest
		categories categoryList
		region     = fs.String("region", "", "us, eu or apac (default: $MERGE_REGION, else us)")
		language   = fs.String("language", "", "en or de")
		scopesFile = fs.String("scopes", "", "a JSON `file` of category_common_model_scopes")
		baseURL    = fs.String("base-url", "", "send to this base URL (a proxy, a staging host) instead of the region's")
		timeout    = fs.Duration("timeout", defaultTimeout, "give up after this long, retries included")
		asJSON     = fs.Bool("json", false, "print the whole response as JSON")
		useMock    = fs.Bool("mock", false, "run against the spec-validating mock, in-process on a loopback port (no key, no network)")
	)
	fs.StringVar(&req.EndUserEmailAddress, "email", "", "the end user's email address (required)")
	fs.StringVar(&req.EndUserOrganizationName, "org", "", "the end user's organization (required)")
	fs.StringVar(&req.EndUserOriginID, "origin-id", "", "your ID for the end user (required)")
	fs.Var(&categories, "category", "an integration category, repeatable or comma-separated: hris, ats, accounting, ticketing, crm, mktg, filestorage, knowledgebase (required)")
	fs.StringVar(&req.Integration, "integration", "", "the slug of a pre-selected integration, such as bamboohr")
	fs.IntVar(&req.LinkExpiryMins, "expiry", 0, "minutes the token is valid: 30 to 720, or up to 10080 with -magic-link (default 30)")
	fs.BoolVar(&req.ShouldCreateMagicLinkURL, "magic-link", false, "also create a Magic Link URL")
	fs.BoolVar(&req.HideAdminMagicLink, "hide-admin-magic-link", false, "hide the Magic Link on the Admin Needed screen")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: linktoken create [flags]

Creates a link token and prints it (and the Magic Link URL with -magic-link) on
stdout, one per line. The API key is read from MERGE_API_KEY.

Example:
  linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
  MERGE_API_KEY=... linktoken create -region eu -email ada@example.com -org Acme \
      -origin-id 42 -category hris,ats -magic-link -expiry 10080

Exit codes: 0 success; 1 an API or transport error; 2 bad usage or an invalid request.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "linktoken: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	req.Categories = categories
	req.Language = client.Language(*language)
	if *scopesFile != "" {
		scopes, err := readScopes(*scopesFile)
		if err != nil {
			fmt.Fprintf(stderr, "linktoken: -scopes: %v\n", err)
			return exitUsage
		}
		req.CategoryCommonModelScopes = scopes
	}
	// Validate before anything else: a broken request never needs a key.
	if err := client.Validate(req); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}

	opts := []client.Option{client.WithUserAgent("linktoken-cli")}
	key := getenv(client.EnvAPIKey)
	regionName := *region
	if regionName == "" {
		regionName = getenv(client.EnvRegion)
	}
	if regionName != "" {
		r, err := client.ParseRegion(regionName)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		opts = append(opts, client.WithRegion(r))
	}
	if *baseURL != "" {
		opts = append(opts, client.WithBaseURL(*baseURL))
	}
	if *useMock {
		url, stop, err := startMock()
		if err != nil {
			fmt.Fprintf(stderr, "linktoken: start the mock: %v\n", err)
			return exitError
		}
		defer stop()
		opts = append(opts, client.WithBaseURL(url))
		key = mockKey
	}
	if strings.TrimSpace(key) == "" {
		fmt.Fprintf(stderr, "linktoken: set %s to your Merge production API key (or use -mock)\n", client.EnvAPIKey)
		return exitUsage
	}
	c, err := client.New(key, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tok, err := c.CreateLinkToken(ctx, req)
	if err != nil {
		return reportError(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(tok)
		return exitOK
	}
	fmt.Fprintln(stdout, tok.LinkToken)
	if tok.MagicLinkURL != "" {
		fmt.Fprintln(stdout, tok.MagicLinkURL)
	}
	return exitOK
}

// reportError prints an error of CreateLinkToken and returns the exit code.
func reportError(stderr io.Writer, err error) int {
	var verr *client.ValidationError
	if errors.As(err, &verr) {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	fmt.Fprintln(stderr, err)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Fprintf(stderr, "status: %d\n", apiErr.StatusCode)
		if apiErr.RequestID != "" {
			fmt.Fprintf(stderr, "request id: %s\n", apiErr.RequestID)
		}
		for _, p := range apiErr.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
	}
	return exitError
}

// readScopes reads category_common_model_scopes from a JSON file, strictly.
func readScopes(path string) (map[string][]client.CommonModelScope, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var scopes map[string][]client.CommonModelScope
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&scopes); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return scopes, nil
}

// startMock serves the contract suite's mock on a loopback port.
func startMock() (url string, stop func(), err error) {
	mock, err := contracttest.NewMock()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mock, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
