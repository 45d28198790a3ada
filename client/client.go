package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/shared"
)

// Client calls Merge's Link API: the operations of openapi/link-token.yaml,
// built and sent by the generated client of package gen, with the policy
// this package adds to every operation (authentication, validation,
// retries, redirects, bounds, typed errors, redaction). It is safe for
// concurrent use. Printing it, as a value or a pointer and with any verb,
// never shows the API key.
type Client struct {
	// conf is behind a pointer so that printing a Client value shows an
	// address; the zero Client refuses to send.
	conf *conf
}

// conf is what New builds, once.
type conf struct {
	region  Region
	baseURL string
	// server is baseURL with a trailing slash: what the generated client
	// resolves each operation's path against.
	server string
	// defaults are the client's settings; each call starts from a copy.
	defaults settings
	// editors set what every request carries: the Authorization and
	// User-Agent headers. The key lives only in a closure: no printer (fmt,
	// or a test library's diff that follows pointers) can reach a
	// closure's variables, nor, through sender, the connection pool whose
	// buffers hold the bytes of recent requests.
	editors []gen.RequestEditorFn
	sender  func() sender
	apiKey  func() string
}

// The environment variables NewFromEnv reads.
const (
	envAPIKey  = "MERGE_API_KEY"
	envRegion  = "MERGE_REGION"
	envBaseURL = "MERGE_BASE_URL"
)

// New returns a client that authenticates with apiKey (Merge's production
// API key, sent only as "Authorization: Bearer <key>"). By default it calls
// the US region's mktg API, retries twice, gives each attempt 60 seconds,
// and keeps up to 512 connections per host in a pool shared by all clients.
// It returns an error, never panics, for an empty key, a key that is not
// printable ASCII (surrounding space is trimmed), or a bad option.
func New(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, usageError("empty API key")
	}
	if err := checkHeaderText("API key", apiKey, false); err != nil {
		return nil, usageError(err.Error())
	}
	s := settings{region: RegionUS, maxRetries: defaultMaxRetries, clock: defaultClock}
	if err := s.apply(opts); err != nil {
		return nil, err
	}
	baseURL := s.baseURL
	if baseURL == "" {
		u, err := s.region.CategoryURL(s.category)
		if err != nil {
			return nil, err
		}
		baseURL = u
	}
	send, err := newSender(s.httpClient, baseURL)
	if err != nil {
		return nil, err
	}
	ua := userAgent()
	if s.userAgent != "" {
		ua += " " + s.userAgent
	}
	authorization := "Bearer " + apiKey
	headers := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", authorization)
		req.Header.Set("User-Agent", ua)
		return nil
	}
	s.httpClient = nil // kept in sender only
	return &Client{&conf{
		region: s.region, baseURL: baseURL, server: baseURL + "/", defaults: s,
		editors: []gen.RequestEditorFn{headers},
		sender:  func() sender { return send },
		apiKey:  func() string { return apiKey },
	}}, nil
}

// NewFromEnv is New with the key from MERGE_API_KEY and, when set, the
// region from MERGE_REGION (us, eu, apac or sandbox, in any case) and the
// base URL from MERGE_BASE_URL (as WithBaseURL takes it: https, or http on
// loopback, such as the mock's http://127.0.0.1:4010). Options given
// explicitly win over the environment.
func NewFromEnv(opts ...Option) (*Client, error) {
	key := os.Getenv(envAPIKey)
	if strings.TrimSpace(key) == "" {
		return nil, usageError(envAPIKey + " is not set")
	}
	var env []Option
	if v := os.Getenv(envRegion); strings.TrimSpace(v) != "" {
		r, err := ParseRegion(v)
		if err != nil {
			return nil, fmt.Errorf("client: %s: %w", envRegion, err)
		}
		env = append(env, WithRegion(r))
	}
	if v := os.Getenv(envBaseURL); strings.TrimSpace(v) != "" {
		if err := baseURLProblem(strings.TrimSpace(v)); err != nil {
			return nil, fmt.Errorf("client: %s: %w", envBaseURL, err)
		}
		env = append(env, WithBaseURL(strings.TrimSpace(v)))
	}
	return New(key, append(env, opts...)...)
}

// Region returns the region the client was configured with.
func (c *Client) Region() Region { return c.conf.region }

// BaseURL returns the URL requests are sent to, without the path of the
// operation.
func (c *Client) BaseURL() string { return c.conf.baseURL }

// String describes the client without its API key.
func (c *Client) String() string {
	if c == nil || c.conf == nil {
		return "client.Client{}"
	}
	return fmt.Sprintf("client.Client{region: %s, baseURL: %s, maxRetries: %d, key: %s}",
		c.conf.region, c.conf.baseURL, c.conf.defaults.maxRetries, shared.Redacted)
}

// LogValue makes slog log the client's region, URL and retries, never its
// key.
func (c *Client) LogValue() slog.Value {
	if c == nil || c.conf == nil {
		return slog.GroupValue()
	}
	return slog.GroupValue(slog.String("region", string(c.conf.region)),
		slog.String("base_url", c.conf.baseURL), slog.Int("max_retries", c.conf.defaults.maxRetries))
}

// opCreateLinkToken is POST /link-token.
var opCreateLinkToken = operation{name: "create link token", method: http.MethodPost, path: "/link-token"}

// CreateLinkToken creates a link token for one end user. Every call sends an
// Idempotency-Key (fresh and random, or WithIdempotencyKey's), the same on
// every attempt, so that where Merge honours the key, a retry cannot create
// a second token. It validates req
// against the spec first (link_expiry_mins 0 is sent as 30): a request that
// breaks a rule returns a *ValidationError and nothing is sent. A response
// that is not a valid success (anything but a 200 with a LinkToken) returns
// an *APIError. Transport failures and context errors are returned wrapped,
// so errors.Is(err, context.DeadlineExceeded) works; when the context ends
// after a failed attempt, the error is both that attempt's (errors.As finds
// its *APIError) and the context's. Retries follow the policy in the package
// doc and never outlive ctx's deadline. opts apply to this call only.
func (c *Client) CreateLinkToken(ctx context.Context, req LinkTokenRequest, opts ...Option) (*LinkToken, error) {
	call, err := c.begin(ctx, &opCreateLinkToken, opts, req.EndUserEmailAddress)
	if err != nil {
		return nil, err
	}
	if err := prepare(&req); err != nil {
		return nil, err
	}
	key := call.idempotencyKey()
	params := gen.CreateLinkTokenParams{IdempotencyKey: &key}
	resp, err := call.run(func(ctx context.Context) (*http.Response, error) {
		return call.api.CreateLinkToken(ctx, &params, req)
	})
	tok, err := finish(call, resp, err, checkLinkToken)
	if tok != nil && call.s.info != nil {
		call.s.info.ExpiresAt = call.arrived.Add(time.Duration(req.LinkExpiryMins) * time.Minute)
	}
	return tok, err
}

// checkLinkToken is what the spec says of a LinkToken beyond its members'
// names and types: link_token is not empty (minLength 1).
func checkLinkToken(tok *LinkToken) string {
	if tok.LinkToken == "" {
		return "link_token is empty"
	}
	return ""
}

// opExchangePublicToken is GET /account-token/{public_token}.
var opExchangePublicToken = operation{name: "exchange public token", method: http.MethodGet, path: "/account-token/{public_token}", singleUse: true}

// ExchangePublicToken exchanges the public token that Merge Link handed the
// front end, when the end user finished linking, for the linked account's
// account token: the long-lived credential to store (as a secret) for every
// later request about that account. The public token is single-use.
//
// A public token that breaks the spec (empty, over 256 bytes, or holding a
// character outside printable ASCII, or /, ?, #, %, space) returns a
// *ValidationError, and nothing is sent. A public token that Merge does not
// know, that expired, or that was already exchanged gets a 404 *APIError.
// Retries follow the package's policy (see "Retries" in the package doc):
// an answer lost after Merge exchanged the token cannot be recovered by
// sending it again. The public token never appears in an error or a log
// line; the account token only in the result, which prints without it.
// opts apply to this call only.
func (c *Client) ExchangePublicToken(ctx context.Context, publicToken string, opts ...Option) (*AccountToken, error) {
	call, err := c.begin(ctx, &opExchangePublicToken, opts, publicToken)
	if err != nil {
		return nil, err
	}
	if call.s.idempotencyKey != "" || call.s.resendAfterWrite {
		return nil, optionError("WithIdempotencyKey", "applies to CreateLinkToken, a POST, only")
	}
	if err := validatePublicToken(publicToken); err != nil {
		return nil, err
	}
	resp, err := call.run(func(ctx context.Context) (*http.Response, error) {
		return call.api.ExchangePublicToken(ctx, publicToken)
	})
	tok, err := finish(call, resp, err, checkAccountToken)
	return (*AccountToken)(tok), err
}

// checkAccountToken is what the spec says of an AccountToken beyond its
// members' names and types: account_token is not empty (minLength 1).
func checkAccountToken(tok *gen.AccountToken) string {
	if tok.AccountToken == "" {
		return "account_token is empty"
	}
	return ""
}
