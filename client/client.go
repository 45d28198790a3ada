// Package client is the Go client for Merge's POST /link-token endpoint: the
// generated client of package gen with region selection, authentication,
// validation against the spec before anything is sent, typed errors, bounded
// retries and care for the API key.
//
//	c, err := client.New(apiKey, client.WithRegion(client.RegionEU))
//	tok, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{...})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/gen"
)

// The environment variables NewFromEnv reads.
const (
	EnvAPIKey = "MERGE_API_KEY"
	EnvRegion = "MERGE_REGION"
)

const (
	// maxBodyBytes caps how much of a response is read.
	maxBodyBytes = 1 << 20
	// defaultTimeout bounds each attempt when the caller gives no *http.Client.
	defaultTimeout = 60 * time.Second
	// defaultMaxIdleConnsPerHost keeps enough idle connections to Merge for a
	// busy service to reuse them (net/http's default keeps 2).
	defaultMaxIdleConnsPerHost = 64
	// redacted replaces secrets and personal data in errors.
	redacted = "[redacted]"
	// modulePath names this module in the User-Agent.
	modulePath = "github.com/mergelink/linktoken"
)

// Client calls POST /link-token. It is safe for concurrent use. Printing it,
// as a value or a pointer and with any verb, never shows the API key.
type Client struct {
	// core is behind a pointer so that printing a Client value shows an
	// address, never the key; the zero Client refuses to send.
	core *core
}

// core is what New builds, once.
type core struct {
	region   Region
	category Category
	baseURL  string
	retries  int
	key      string
	// endpoint is the request the generated code builds for POST
	// /link-token (URL, method, Content-Type) with the client's headers;
	// each attempt sends a clone of it.
	endpoint *http.Request
	doer     *retryDoer
}

// New returns a client that authenticates with apiKey (Merge's production
// API key, sent only as "Authorization: Bearer <key>"). By default it calls
// the US region's mktg API, retries twice, gives up each attempt after 60
// seconds, and keeps up to 64 idle connections per host in a pool shared by
// all clients. It returns an error, never panics, for an empty key or a bad
// option.
func New(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, errors.New("linktoken: empty API key")
	}
	if strings.ContainsAny(apiKey, "\r\n") {
		return nil, errors.New("linktoken: API key contains a line break")
	}
	s := settings{
		region: DefaultRegion,
		retry:  retryDoer{maxRetries: defaultMaxRetries, sleep: sleepContext, jitter: randJitter, now: time.Now},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	baseURL := s.baseURL
	category := s.category
	if baseURL == "" {
		srv, _ := s.region.server()
		if category == "" {
			category = srv.defaultCategory
		}
		u, err := s.region.CategoryURL(category)
		if err != nil {
			return nil, err
		}
		baseURL = u
	}
	endpoint, err := gen.NewCreateLinkTokenRequestWithBody(baseURL, "application/json", nil)
	if err != nil {
		return nil, fmt.Errorf("linktoken: base URL: %w", err)
	}
	ua := userAgent()
	if s.userAgent != "" {
		ua += " " + s.userAgent
	}
	endpoint.Header.Set("Authorization", "Bearer "+apiKey)
	endpoint.Header.Set("User-Agent", ua)
	doer := &s.retry
	doer.client = sameHostRedirects(s.httpClient)
	return &Client{&core{
		region: s.region, category: category, baseURL: baseURL, retries: doer.maxRetries,
		key: apiKey, endpoint: endpoint, doer: doer,
	}}, nil
}

// NewFromEnv is New with the key from MERGE_API_KEY and, when set, the
// region from MERGE_REGION. Options given explicitly win over the
// environment.
func NewFromEnv(opts ...Option) (*Client, error) {
	key := os.Getenv(EnvAPIKey)
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf("linktoken: %s is not set", EnvAPIKey)
	}
	var env []Option
	if v := os.Getenv(EnvRegion); strings.TrimSpace(v) != "" {
		r, err := ParseRegion(v)
		if err != nil {
			return nil, fmt.Errorf("linktoken: %s: %w", EnvRegion, err)
		}
		env = append(env, WithRegion(r))
	}
	return New(key, append(env, opts...)...)
}

// Region returns the region the client was configured with.
func (c *Client) Region() Region { return c.core.region }

// BaseURL returns the URL requests are sent to, without the path of the
// operation.
func (c *Client) BaseURL() string { return c.core.baseURL }

// String describes the client without its API key.
func (c Client) String() string {
	if c.core == nil {
		return "linktoken.Client{}"
	}
	return fmt.Sprintf("linktoken.Client{region: %s, baseURL: %s, maxRetries: %d, key: %s}",
		c.core.region, c.core.baseURL, c.core.retries, redacted)
}

// GoString is String, so %#v never shows the key.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb, so no verb shows the key.
func (c Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// CreateLinkToken creates a link token for one end user. It validates req
// against the spec first (link_expiry_mins 0 is sent as 30): a request that
// breaks a rule returns a *ValidationError and nothing is sent. A response
// that is not a valid success returns an *APIError. Transport failures and
// context errors are returned wrapped, so errors.Is(err,
// context.DeadlineExceeded) works. Retries follow WithMaxRetries and never
// outlive ctx's deadline.
func (c *Client) CreateLinkToken(ctx context.Context, req LinkTokenRequest) (*LinkToken, error) {
	if c == nil || c.core == nil {
		return nil, errors.New("linktoken: Client not made by New")
	}
	if ctx == nil {
		return nil, errors.New("linktoken: nil context")
	}
	if err := prepare(&req); err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("linktoken: encode request: %w", err)
	}
	k := c.core
	resp, attempts, err := k.doer.do(ctx, func() *http.Request { return k.newRequest(ctx, body) })
	if err != nil {
		return nil, k.wrap(err, attempts, req.EndUserEmailAddress)
	}
	// checkResponse reads the body to its end (or past the cap, when the
	// connection is not worth keeping), so closing is enough.
	defer resp.Body.Close()
	return k.checkResponse(resp, attempts, req.EndUserEmailAddress)
}

// newRequest is one attempt's request: a clone of the endpoint (its own
// headers, so a RoundTripper that edits them changes no other request) with
// the body.
func (k *core) newRequest(ctx context.Context, body []byte) *http.Request {
	r := k.endpoint.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return r
}

// checkResponse is the one place that turns a response into a token or an
// *APIError.
func (c *core) checkResponse(resp *http.Response, attempts int, email string) (*LinkToken, error) {
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if readErr != nil {
		return nil, c.wrap(fmt.Errorf("read response: %w", readErr), attempts, email)
	}
	tooLarge := len(body) > maxBodyBytes
	if resp.StatusCode >= 200 && resp.StatusCode < 300 && !tooLarge {
		tok, reason := decodeLinkToken(body)
		if reason == "" {
			return tok, nil
		}
		return nil, c.apiError(resp, body, attempts, email, "response breaks the contract: "+reason)
	}
	reason := ""
	if tooLarge {
		reason = fmt.Sprintf("response body exceeds %d bytes", maxBodyBytes)
	}
	return nil, c.apiError(resp, body, attempts, email, reason)
}

// decodeLinkToken decodes a success body, or says why it is not a LinkToken.
func decodeLinkToken(body []byte) (*LinkToken, string) {
	var tok LinkToken
	if err := json.Unmarshal(body, &tok); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Sprintf("%s is not a %s", typeErr.Field, typeErr.Type)
		}
		return nil, "body is not a JSON object"
	}
	if tok.LinkToken == "" {
		return nil, "link_token is missing or empty"
	}
	return &tok, ""
}

func (c *core) apiError(resp *http.Response, body []byte, attempts int, email, reason string) *APIError {
	scrub := c.scrubber(email)
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  scrub.Replace(resp.Header.Get(RequestIDHeader)),
		Attempts:   attempts,
		Reason:     reason,
	}
	// A 2xx body may hold a link token, a credential: it is not kept.
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		e.Body = []byte(scrub.Replace(string(body[:min(len(body), maxErrorBodyBytes)])))
		e.Problems = parseProblems(e.Body)
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = after
	}
	return e
}

// wrap adds the attempt count to a transport or context error, keeping it
// reachable for errors.Is and errors.As, and redacts the key and email.
func (c *core) wrap(err error, attempts int, email string) error {
	msg := "linktoken: create link token"
	if attempts > 1 {
		msg = fmt.Sprintf("%s after %d attempts", msg, attempts)
	}
	return &transportError{msg: msg, err: err, scrub: c.scrubber(email)}
}

// transportError is a failure where no usable response arrived.
type transportError struct {
	msg   string
	err   error
	scrub *strings.Replacer
}

func (e *transportError) Error() string { return e.scrub.Replace(e.msg + ": " + e.err.Error()) }
func (e *transportError) Unwrap() error { return e.err }
func (e *transportError) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(e.Error()))
}

func (c *core) scrubber(email string) *strings.Replacer {
	pairs := []string{c.key, redacted}
	if email != "" {
		pairs = append(pairs, email, redacted)
	}
	return strings.NewReplacer(pairs...)
}

// sameHostRedirects returns a copy of hc (or a default client) that follows
// redirects only within the original host, so the Authorization header never
// reaches another one.
func sameHostRedirects(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	} else {
		cp.Timeout = defaultTimeout
		cp.Transport = defaultTransport()
	}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// defaultTransport is shared by every client built without WithHTTPClient,
// so they share one connection pool.
var defaultTransport = sync.OnceValue(func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	return t
})

var userAgent = sync.OnceValue(func() string {
	version := "(devel)"
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Path == modulePath && info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, dep := range info.Deps {
			if dep.Path == modulePath {
				version = dep.Version
			}
		}
	}
	return modulePath + "/" + version + " go/" + runtime.Version()
})
