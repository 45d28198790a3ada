package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Option configures a Client. Options that can be wrong make New return an
// error rather than failing later.
type Option func(*settings) error

// settings are what the options set; New turns them into a Client.
type settings struct {
	region     Region
	category   Category
	baseURL    string
	httpClient *http.Client
	userAgent  string
	logger     *slog.Logger
	// retry is the retry policy; New gives it the HTTP client. Its waits
	// are replaced only by this package's tests.
	retry retryPolicy
}

// OptionError is an option New refused: which option, and why. Its message
// is "linktoken: <Option>: <reason>"; a program that took the value from
// elsewhere (a flag, a variable) names that instead with errors.As and Err.
type OptionError struct {
	// Option is the option's name, such as "WithBaseURL".
	Option string
	// Err says why, without the option's name.
	Err error
}

// Error returns "linktoken: <Option>: <reason>".
func (e *OptionError) Error() string { return "linktoken: " + e.Option + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }

func optionError(option, format string, args ...any) error {
	return &OptionError{Option: option, Err: fmt.Errorf(format, args...)}
}

// WithRegion selects the Merge region whose server the client calls. The
// default is RegionUS. An unknown region makes New fail.
func WithRegion(r Region) Option {
	return func(s *settings) error {
		if r.BaseURL() == "" {
			return optionError("WithRegion", "unknown region %q (valid: %s)", string(r), validRegions())
		}
		s.region = r
		return nil
	}
}

// WithCategoryAPI sends requests to one category's API of the region, such as
// /api/hris/v1 for CategoryHRIS, instead of the default mktg API: POST
// /link-token is the same under each, so a team that integrates HRIS can
// call the API whose reference it reads. An unknown category makes New fail.
// WithBaseURL wins over it.
func WithCategoryAPI(c Category) Option {
	return func(s *settings) error {
		if !c.Valid() {
			return optionError("WithCategoryAPI", "unknown category %q (valid: %s)", string(c), joinValues(CategoryValues()))
		}
		s.category = c
		return nil
	}
}

// WithBaseURL sends requests to baseURL instead of the region's server: a
// mock, a proxy or a staging host. It must be https, except for loopback
// hosts (localhost, 127.0.0.0/8, ::1), which may use http. It wins over
// WithRegion.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		if err := checkBaseURL(baseURL); err != nil {
			return err
		}
		s.baseURL = strings.TrimRight(baseURL, "/")
		return nil
	}
}

// WithHTTPClient sends requests with c instead of a default client with a
// 60-second timeout per attempt. The client is copied, never changed. The
// copy checks every redirect against the package's redirect policy before
// c's own CheckRedirect: a redirect that changes the scheme, host or port, or
// turns the POST into a GET, is not followed, and at most 3 are followed;
// the 3xx response is returned as an *APIError with its Location. So the API
// key never leaves the origin of the base URL, whatever c would do. An error
// of c's Transport is returned after one attempt, unless it is a failure to
// connect (see the package doc), wrapped so that errors.As finds it.
func WithHTTPClient(c *http.Client) Option {
	return func(s *settings) error {
		if c == nil {
			return optionError("WithHTTPClient", "nil *http.Client")
		}
		s.httpClient = c
		return nil
	}
}

// WithMaxRetries sets how many times a failed request is retried (default 2;
// 0 disables retries). Only 429, 500, 502, 503 and 504 answers, and failures
// where the request provably never reached the server, are retried (see the
// package doc). A negative count makes New fail.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return optionError("WithMaxRetries", "negative retry count %d", n)
		}
		s.retry.maxRetries = n
		return nil
	}
}

// WithUserAgent appends ua to the default User-Agent
// "github.com/mergelink/linktoken/<version> go/<version>". It must be
// printable ASCII; anything else makes New fail.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
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
// class, the attempts, the latency), with the method, host and path. It
// never logs the key, the end user's email, a token, a header or a body.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return optionError("WithLogger", "nil *slog.Logger")
		}
		s.logger = l
		return nil
	}
}

// checkHeaderText accepts printable ASCII, and spaces when spaces is true:
// what a header value of ours may hold. Its error names the first bad byte's
// position and kind, never the value, which may be the key.
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

// checkBaseURL accepts an absolute https URL, or http on a loopback host. Its
// errors never quote the URL's credentials.
func checkBaseURL(raw string) error {
	if err := baseURLProblem(raw); err != nil {
		return &OptionError{Option: "WithBaseURL", Err: err}
	}
	return nil
}

func baseURLProblem(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.User != nil {
		return errors.New("the URL must not contain credentials")
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only for loopback hosts; use https", u.Redacted())
	}
	return fmt.Errorf("%q: scheme must be https", u.Redacted())
}
