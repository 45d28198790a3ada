package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// Option configures a Client, given to New, or one call, given to a method
// such as CreateLinkToken; a call's options win over the client's for that
// call. Each option's doc says where it applies. One given where it does
// not apply (WithRegion to a call, say) makes New or the call return an
// *OptionError before anything is sent, as does an option with a bad value.
type Option func(*settings) error

// settings are what the options set: New keeps the client's, and each call
// starts from a copy of them.
type settings struct {
	// call is true while a call's options are applied.
	call bool

	region     Region
	category   Category
	baseURL    string
	httpClient *http.Client
	userAgent  string
	logger     *slog.Logger

	maxRetries     int
	attemptTimeout time.Duration

	// Only a call takes these.
	idempotencyKey   string
	resendAfterWrite bool
	info             *ResponseInfo

	// clock is the retry policy's clock; only this package's tests change
	// it.
	clock clock
}

// apply applies opts to s, skipping nil ones.
func (s *settings) apply(opts []Option) error {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(s); err != nil {
			return err
		}
	}
	return nil
}

// clientOnly refuses an option given to one call that only a Client can
// take.
func clientOnly(option string, s *settings) error {
	if s.call {
		return optionError(option, "applies to New, not to one call")
	}
	return nil
}

// callOnly refuses an option given to New that only one call can take.
func callOnly(option string, s *settings) error {
	if !s.call {
		return optionError(option, "applies to one call, not to New")
	}
	return nil
}

// WithRegion selects the Merge region whose server the client calls (New
// only). The default is RegionUS. An unknown region makes New fail.
func WithRegion(r Region) Option {
	return func(s *settings) error {
		if err := clientOnly("WithRegion", s); err != nil {
			return err
		}
		if _, ok, _ := serverURL(r, ""); !ok {
			return &OptionError{Option: "WithRegion", Err: errors.New(strings.TrimPrefix(unknownRegion(string(r)).Error(), "client: "))}
		}
		s.region = r
		return nil
	}
}

// WithCategoryAPI sends requests to one category's API of the region, such
// as /api/hris/v1 for CategoryHRIS, instead of the default mktg API (New
// only): every operation is the same under each, so a team that integrates
// HRIS can call the API whose reference it reads. An unknown category makes
// New fail. WithBaseURL wins over it.
func WithCategoryAPI(c Category) Option {
	return func(s *settings) error {
		if err := clientOnly("WithCategoryAPI", s); err != nil {
			return err
		}
		if !c.Valid() {
			return optionError("WithCategoryAPI", "unknown category %s (valid: %s)", shared.Quote(string(c)), shared.JoinValues(CategoryValues()))
		}
		s.category = c
		return nil
	}
}

// WithBaseURL sends requests to baseURL instead of the region's server (New
// only): a mock, a proxy or a staging host. It must be an absolute https URL
// without credentials, query or fragment; http is allowed for loopback
// hosts only (localhost, 127.0.0.0/8, ::1). It wins over WithRegion and
// WithCategoryAPI.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		if err := clientOnly("WithBaseURL", s); err != nil {
			return err
		}
		if err := baseURLProblem(baseURL); err != nil {
			return &OptionError{Option: "WithBaseURL", Err: err}
		}
		s.baseURL = strings.TrimRight(baseURL, "/")
		return nil
	}
}

// WithHTTPClient sends requests with c instead of a default client with a
// 60-second timeout per attempt (New only). The client is copied, never
// changed. Its redirects are the package's: a 307 or 308 to the same origin
// is followed (at most 3), and c's CheckRedirect is asked too; any other is
// returned as an *APIError with its Location, so the API key never leaves
// the origin of the base URL. Its Transport gets each attempt without a
// GetBody, so that it never sends a request again by itself (see the
// package doc); a Transport that sets GetBody again gives net/http its
// resends back. With an http:// base URL (loopback only), a Transport that
// would send the requests through a proxy on another host is refused: the
// proxy would see the API key in clear text.
func WithHTTPClient(c *http.Client) Option {
	return func(s *settings) error {
		if err := clientOnly("WithHTTPClient", s); err != nil {
			return err
		}
		if c == nil {
			return optionError("WithHTTPClient", "nil *http.Client")
		}
		s.httpClient = c
		return nil
	}
}

// WithMaxRetries sets how many times a failed attempt is retried (default
// 2; 0 disables retries), for the client or for one call. Only 429, 500,
// 502, 503 and 504 answers, and failures where the request provably never
// reached the server, are retried (see the package doc). A negative count
// is refused.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return optionError("WithMaxRetries", "negative retry count %d", n)
		}
		s.maxRetries = n
		return nil
	}
}

// WithAttemptTimeout bounds each attempt (the request, its redirects and
// reading the response) to d, for the client or for one call; the context
// still bounds the whole call, retries and waits included. An attempt cut
// short by it after the request was written is not retried. The default is
// no bound beyond the HTTP client's own (60 seconds for the default
// client). A d of 0 or less is refused.
func WithAttemptTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return optionError("WithAttemptTimeout", "must be more than 0, got %s", d)
		}
		s.attemptTimeout = d
		return nil
	}
}

// WithUserAgent appends ua to the default User-Agent
// "github.com/mergelink/linktoken/<version> go/<version>" (New only). It
// must be printable ASCII; anything else makes New fail.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if err := clientOnly("WithUserAgent", s); err != nil {
			return err
		}
		ua = strings.TrimSpace(ua)
		if err := checkHeaderText("user agent", ua, true); err != nil {
			return &OptionError{Option: "WithUserAgent", Err: err}
		}
		s.userAgent = ua
		return nil
	}
}

// WithLogger logs, at debug level, each retry (the attempt, the status or
// the class of failure, the wait) and how each call ended (the status or
// class, the attempts, the latency), with the method, the host and the
// operation's path as the spec writes it (/account-token/{public_token}),
// for the client (New only). It never logs the key, the end user's email, a
// token, an idempotency key, a header or a body.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if err := clientOnly("WithLogger", s); err != nil {
			return err
		}
		if l == nil {
			return optionError("WithLogger", "nil *slog.Logger")
		}
		s.logger = l
		return nil
	}
}

// clock is what the retry policy waits with: sleep waits for d or until ctx
// is done, jitter returns a value in [0, n), now is the time.
type clock struct {
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64
	now    func() time.Time
}

// checkHeaderText accepts printable ASCII, and spaces when spaces is true:
// what a header value of ours may hold. Its error names the first bad
// byte's position and kind, never the value, which may be a secret.
func checkHeaderText(what, v string, spaces bool) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		var kind string
		switch {
		case c == '\r' || c == '\n':
			kind = "a line break"
		case c == ' ' && !spaces:
			kind = "a space"
		case c < ' ' || c == 0x7f:
			kind = "a control character"
		case c > 0x7f:
			kind = "a non-ASCII character"
		default:
			continue
		}
		return fmt.Errorf("%s contains %s at byte %d; it must be printable ASCII", what, kind, i)
	}
	return nil
}

// baseURLProblem accepts an absolute https URL, or http on a loopback host,
// without credentials, query or fragment. Its errors show the URL without
// credentials, bounded.
func baseURLProblem(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.User != nil {
		return errors.New("the URL must not contain credentials")
	}
	shown := shared.Quote(u.Redacted())
	switch {
	case u.Host == "":
		return fmt.Errorf("%s has no host", shown)
	case strings.ContainsAny(raw, "?#"):
		// Even an empty query or fragment ("https://h/api?"): the
		// generated client resolves the operation's path against the URL,
		// and would drop its last segment.
		return fmt.Errorf("%s must not have a query or fragment", shown)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && shared.IsLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s: plain http is allowed only for loopback hosts; use https", shown)
	}
	return fmt.Errorf("%s: scheme must be https", shown)
}

// maxIdempotencyKey bounds an Idempotency-Key: the header's maxLength in
// the spec.
const maxIdempotencyKey = 255

// WithIdempotencyKey sends key as the call's Idempotency-Key (one call of
// CreateLinkToken only), instead of the fresh random key every
// CreateLinkToken sends: a key tied to an intent (the end user and the
// purpose, say) makes a double click, or a retry of the whole call after a
// timeout, get the first link token instead of a second, where Merge
// honours the key (for 24 hours). Every attempt of the call sends the same
// key. The key is 1 to 255 printable ASCII characters, with no space at
// either end; anything else is refused before sending. It may be derived from personal data, so it is
// never logged, and it is redacted from errors.
func WithIdempotencyKey(key string) Option {
	return func(s *settings) error {
		if err := callOnly("WithIdempotencyKey", s); err != nil {
			return err
		}
		switch {
		case key == "":
			return optionError("WithIdempotencyKey", "empty key")
		case strings.TrimSpace(key) != key:
			return optionError("WithIdempotencyKey", "the key starts or ends with a space, which HTTP would drop")
		case len(key) > maxIdempotencyKey:
			return optionError("WithIdempotencyKey", "the key is %d bytes; at most %d are allowed", len(key), maxIdempotencyKey)
		}
		if err := checkHeaderText("the key", key, true); err != nil {
			return &OptionError{Option: "WithIdempotencyKey", Err: err}
		}
		s.idempotencyKey = key
		return nil
	}
}

// WithResendAfterWrite lets the call's retries send the request again after
// it was written (a reset, or a timeout awaiting the answer, WithAttemptTimeout's
// included), with the same WithIdempotencyKey, which it requires (one call
// of CreateLinkToken only). Without it, the client never sends a request
// again once written, because a second POST may create a second link
// token; with it, a retry is safe exactly when Merge honours the key on
// POST /link-token, which Merge documents as a beta without naming the
// endpoint (see the README's decisions). The retries stay counted
// (WithMaxRetries) and wait the policy's backoff.
func WithResendAfterWrite() Option {
	return func(s *settings) error {
		if err := callOnly("WithResendAfterWrite", s); err != nil {
			return err
		}
		s.resendAfterWrite = true
		return nil
	}
}

// ResponseInfo is what a call's last response told, beyond its result
// (WithResponseInfo fills it in, whether the call succeeded or not).
type ResponseInfo struct {
	// StatusCode is the last response's status, 0 when none arrived.
	StatusCode int
	// RequestID is its X-Request-Id header, cleaned as an APIError's.
	RequestID string
	// Attempts is how many requests the call sent, retries included.
	Attempts int
	// IdempotencyKey is the Idempotency-Key CreateLinkToken sent (the
	// caller's, or the fresh random one), "" for other operations.
	IdempotencyKey string
	// ExpiresAt is when CreateLinkToken's link token expires: when its 200
	// arrived, plus link_expiry_mins (30 when 0, as the client sends it);
	// the zero time for other operations or without a 200.
	ExpiresAt time.Time
}

// WithResponseInfo makes one call fill in info with what its last response
// told: the status, the request id, the attempts, the idempotency key, and
// when a link token expires. None of it is a secret of the call.
func WithResponseInfo(info *ResponseInfo) Option {
	return func(s *settings) error {
		if err := callOnly("WithResponseInfo", s); err != nil {
			return err
		}
		if info == nil {
			return optionError("WithResponseInfo", "nil *ResponseInfo")
		}
		s.info = info
		return nil
	}
}
