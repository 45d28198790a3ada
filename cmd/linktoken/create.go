package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
)

// The environment variables the command reads, as client.NewFromEnv does.
const (
	envAPIKey = "MERGE_API_KEY"
	envRegion = "MERGE_REGION"
)

const (
	defaultTimeout = 30 * time.Second
	// mockKey authenticates against the in-process mock, which checks only
	// the form of the header.
	mockKey = "mock-key"
	// maxScopesBytes caps the -scopes file.
	maxScopesBytes = 1 << 20
)

const createHelp = `Usage: linktoken create [flags]

Creates a link token and prints it (and the Magic Link URL with -magic-link) on
stdout, one per line. The API key is read from MERGE_API_KEY.

Example:
  linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
  MERGE_API_KEY=... linktoken create -region eu -email ada@example.com -org Acme \
      -origin-id 42 -category hris,ats -magic-link -expiry 10080

The -scopes file is the request's category_common_model_scopes: a JSON object
whose keys are categories and whose values are lists of model scopes:
  {"hris": [{"model_name": "Employee",
             "model_permissions": {"READ": {"is_enabled": true}, "WRITE": {"is_enabled": false}},
             "field_permissions": {"enabled_fields": ["first_name"], "disabled_fields": ["ssn"]}}]}

What is printed comes from the server: the key and the end user's email are
replaced by [redacted] wherever they appear in it. A Magic Link asked for with
-magic-link and not returned is an error (exit 1).

Exit codes: 0 success; 1 an API or transport error; 2 bad usage or an invalid request.

Flags:
`

// categoryList is a repeatable, comma-separated -category flag; each value
// is matched to the spec's categories in any case.
type categoryList []client.Category

func (c *categoryList) String() string { return shared.JoinValues(*c) }

func (c *categoryList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*c = append(*c, enumValue(part, client.CategoryValues()))
		}
	}
	return nil
}

func runCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := newCommand("create", "create [flags]", createHelp)
	fs := cmd.flags
	var (
		req        client.LinkTokenRequest
		categories categoryList
		language   = fs.String("language", "", "the `language` Merge Link is shown in, in any case: "+shared.JoinValues(client.LanguageValues()))
		scopesFile = fs.String("scopes", "", "a JSON `file` of category_common_model_scopes (see above)")
		asJSON     = fs.Bool("json", false, "print the whole response as JSON")
		conn       = addConnectionFlags(fs, "run against the spec-validating mock, in-process on a loopback port (no key, no network)")
	)
	fs.StringVar(&req.EndUserEmailAddress, "email", "", "the end user's email address (required)")
	fs.StringVar(&req.EndUserOrganizationName, "org", "", "the end user's organization (required)")
	fs.StringVar(&req.EndUserOriginID, "origin-id", "", "your ID for the end user (required)")
	fs.Var(&categories, "category", "an integration `category`, repeatable or comma-separated, in any case: "+shared.JoinValues(client.CategoryValues())+" (required)")
	fs.StringVar(&req.Integration, "integration", "", "the slug of a pre-selected integration, such as bamboohr")
	fs.IntVar(&req.LinkExpiryMins, "expiry", 0, "`minutes` the token is valid: 30 to 720, or up to 10080 with -magic-link (default 30)")
	fs.BoolVar(&req.ShouldCreateMagicLinkURL, "magic-link", false, "also create a Magic Link URL")
	fs.BoolVar(&req.HideAdminMagicLink, "hide-admin-magic-link", false, "hide the Magic Link on the Admin Needed screen")
	if code, ok := cmd.parse(args, stdout, stderr); !ok {
		return code
	}
	req.Categories = categories
	if *language != "" {
		req.Language = enumValue(*language, client.LanguageValues())
	}
	if *scopesFile != "" {
		scopes, err := readScopes(*scopesFile)
		if err != nil {
			return cmd.usageError(stderr, "-scopes: %v", err)
		}
		req.CategoryCommonModelScopes = scopes
	}
	// Validate before anything else: a broken request never needs a key.
	if err := client.Validate(req); err != nil {
		return reportInvalid(stderr, cmd, err)
	}

	c, key, _, stop, code, ok := conn.connect(cmd, stderr, getenv)
	if !ok {
		return code
	}
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	tok, err := c.CreateLinkToken(ctx, req)
	if err != nil {
		return reportError(stderr, cmd, "create link token", err)
	}
	if req.ShouldCreateMagicLinkURL && tok.MagicLinkURL == "" {
		fmt.Fprintln(stderr, "linktoken: asked for a Magic Link (-magic-link), and the response has no magic_link_url")
		return exitError
	}
	// What is printed is the server's: cleaned, and with the key and the
	// email redacted wherever a server put them.
	red := shared.NewRedactor(key, req.EndUserEmailAddress)
	shown := client.LinkToken{LinkToken: red.Redact(tok.LinkToken), MagicLinkURL: red.Redact(tok.MagicLinkURL), IntegrationName: red.Redact(tok.IntegrationName)}
	if *asJSON {
		js, _ := json.MarshalIndent(shown, "", "  ")
		_, _ = stdout.Write(append(printableJSON(js), '\n'))
		return exitOK
	}
	fmt.Fprintln(stdout, shared.Printable(shown.LinkToken))
	if shown.MagicLinkURL != "" {
		fmt.Fprintln(stdout, shared.Printable(shown.MagicLinkURL))
	}
	return exitOK
}

// optionReason is why the client refused an option or a value, without the
// option's name, for a message that names the flag or variable instead.
func optionReason(err error) string {
	var oe *client.OptionError
	if errors.As(err, &oe) {
		return oe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), "client: ")
}

// reportInvalid prints each violation of an invalid request, naming the
// flag and the field, then the usage line; nothing was sent.
func reportInvalid(stderr io.Writer, cmd *command, err error) int {
	var verr *client.ValidationError
	if !errors.As(err, &verr) {
		return cmd.usageError(stderr, "%v", err)
	}
	for _, v := range verr.Violations {
		fmt.Fprintf(stderr, "linktoken: %s\n", shared.Printable(describe(v)))
	}
	if verr.Omitted > 0 {
		fmt.Fprintf(stderr, "linktoken: and %d more\n", verr.Omitted)
	}
	cmd.usageLine(stderr)
	return exitUsage
}

// reportError prints an error of a call (op names it) and returns the exit
// code.
// An API error is a short block: the error line, then the status, the
// request id, the reason and each problem once. Everything the server
// wrote goes through shared.Printable.
func reportError(stderr io.Writer, cmd *command, op string, err error) int {
	var verr *client.ValidationError
	if errors.As(err, &verr) {
		return reportInvalid(stderr, cmd, err)
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		fmt.Fprintln(stderr, shared.Printable(err.Error()))
		return exitError
	}
	line := "linktoken: " + op + " failed"
	if apiErr.Attempts > 1 {
		line += " after " + strconv.Itoa(apiErr.Attempts) + " attempts"
	}
	fmt.Fprintln(stderr, line)
	status := strconv.Itoa(apiErr.StatusCode)
	if text := http.StatusText(apiErr.StatusCode); text != "" {
		status += " " + text
	}
	fmt.Fprintf(stderr, "status: %s\n", status)
	if apiErr.RequestID != "" {
		fmt.Fprintf(stderr, "request id: %s\n", shared.Printable(apiErr.RequestID))
	}
	if apiErr.Reason != "" {
		fmt.Fprintf(stderr, "reason: %s\n", shared.Printable(apiErr.Reason))
	}
	for _, p := range apiErr.Problems {
		fmt.Fprintf(stderr, "problem: %s\n", shared.Printable(p.String()))
	}
	if apiErr.RetryAfter > 0 {
		fmt.Fprintf(stderr, "retry after: %s\n", apiErr.RetryAfter)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, "gave up: -timeout reached before the next attempt")
	}
	return exitError
}

// readScopes reads category_common_model_scopes from a JSON file, strictly:
// no unknown field, nothing after the value.
func readScopes(path string) (map[string][]client.CommonModelScope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScopesBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxScopesBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxScopesBytes)
	}
	var scopes map[string][]client.CommonModelScope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&scopes); err != nil {
		return nil, fmt.Errorf("%s: %s", shared.Quote(path), scopesProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: data after the JSON value", shared.Quote(path))
	}
	for category := range scopes {
		if !client.Category(category).Valid() {
			return nil, fmt.Errorf("%s: key %s is not a category (valid: %s)", shared.Quote(path), shared.Quote(category), shared.JoinValues(client.CategoryValues()))
		}
	}
	return scopes, nil
}

// scopesProblem says what is wrong with a -scopes file in the words of its
// format, not encoding/json's Go types.
func scopesProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "must be a JSON object of categories, each a list of model scopes (see linktoken create -h), not a JSON " + typeErr.Value
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s must not be a JSON %s (see linktoken create -h)", shared.Quote(typeErr.Field), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("not JSON at byte %d: %v", syntaxErr.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown member " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " (see linktoken create -h)"
	}
	return err.Error()
}
