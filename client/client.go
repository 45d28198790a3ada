package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mergelink/linktoken/gen"
)

// The environment variables NewFromEnv reads.
const (
	EnvAPIKey = "MERGE_API_KEY"
	EnvRegion = "MERGE_REGION"
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
	region  Region
	baseURL string
	retries int
	// endpoint is the request the generated code builds for POST
	// /link-token (URL, method, Content-Type) with the User-Agent; each
	// attempt sends a clone of it with the Authorization header.
	endpoint *http.Request
	// authorization returns "Bearer <key>". The key lives only in this
	// closure: no printer, fmt or reflection-based (a test library's diff),
	// can reach a closure's variables, whereas a string field of core is
	// printed by %s of a Client held in an unexported field, and a header
	// by anything that follows pointers.
	authorization func() string
	retry         retryPolicy
	logger        *slog.Logger
}

// New returns a client that authenticates with apiKey (Merge's production
// API key, sent only as "Authorization: Bearer <key>"). By default it calls
// the US region's mktg API, retries twice, gives up each attempt after 60
// seconds, and keeps up to 512 connections per host in a pool shared by all
// clients. It returns an error, never panics, for an empty key, a key
// that is not printable ASCII (surrounding space is trimmed), or a bad
// option.
func New(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, errors.New("linktoken: empty API key")
	}
	if err := checkHeaderText("API key", apiKey, false); err != nil {
		return nil, fmt.Errorf("linktoken: %w", err)
	}
	s := settings{
		region: DefaultRegion,
		retry:  retryPolicy{maxRetries: defaultMaxRetries, sleep: sleepContext, jitter: randJitter, now: time.Now},
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
	// The generated builder resolves "./link-token" against the server URL,
	// which needs its trailing slash (gen.NewClient adds one the same way):
	// without it, https://api.merge.dev/api/mktg/v1 would lose its "v1".
	endpoint, err := gen.NewCreateLinkTokenRequestWithBody(baseURL+"/", "application/json", nil)
	if err != nil {
		return nil, fmt.Errorf("linktoken: base URL: %w", err)
	}
	ua := userAgent()
	if s.userAgent != "" {
		ua += " " + s.userAgent
	}
	endpoint.Header.Set("User-Agent", ua)
	k := &core{
		region: s.region, baseURL: baseURL, retries: s.retry.maxRetries,
		endpoint: endpoint, authorization: bearer("Bearer " + apiKey), retry: s.retry, logger: s.logger,
	}
	hc := withRedirectPolicy(s.httpClient)
	k.retry.client = func() *http.Client { return hc }
	return &Client{k}, nil
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

// LogValue makes slog log the client's region, URL and retries, never its
// key.
func (c Client) LogValue() slog.Value {
	if c.core == nil {
		return slog.GroupValue()
	}
	return slog.GroupValue(slog.String("region", string(c.core.region)),
		slog.String("base_url", c.core.baseURL), slog.Int("max_retries", c.core.retries))
}

// CreateLinkToken creates a link token for one end user. It validates req
// against the spec first (link_expiry_mins 0 is sent as 30): a request that
// breaks a rule returns a *ValidationError and nothing is sent. A response
// that is not a valid success (anything but a 200 with a LinkToken) returns
// an *APIError. Transport failures and context errors are returned wrapped,
// so errors.Is(err, context.DeadlineExceeded) works; when the context ends
// after a failed attempt, the error is both that attempt's (errors.As finds
// its *APIError) and the context's. Retries follow the policy in the package
// doc and never outlive ctx's deadline.
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
	return k.send(ctx, body, newRedactor(k.apiKey(), req.EndUserEmailAddress))
}

// bearer keeps the Authorization header's value in a closure.
func bearer(value string) func() string { return func() string { return value } }

// apiKey returns the key, for the scrubber.
func (k *core) apiKey() string { return strings.TrimPrefix(k.authorization(), "Bearer ") }

// newRequest is one attempt's request: a clone of the endpoint (its own
// headers, so a RoundTripper that edits them changes no other request) with
// the body.
func (k *core) newRequest(ctx context.Context, body []byte) *http.Request {
	r := k.endpoint.Clone(ctx)
	r.Header.Set("Authorization", k.authorization())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return r
}
