package client

import (
	"errors"
	"fmt"
	"net"
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
	// retry is the retry policy; New gives it the HTTP client. Its waits
	// are replaced only by this package's tests.
	retry retryDoer
}

// WithRegion selects the Merge region whose server the client calls. The
// default is RegionUS. An unknown region makes New fail.
func WithRegion(r Region) Option {
	return func(s *settings) error {
		if r.BaseURL() == "" {
			return fmt.Errorf("linktoken: unknown region %q (valid: %s)", string(r), validRegions())
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
			return fmt.Errorf("linktoken: WithCategoryAPI: unknown category %q (valid: %s)", string(c), joinValues(CategoryValues()))
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
// 60-second timeout per attempt. The client is copied, never changed: the
// copy refuses to follow a redirect to another host (the 3xx response is
// returned as an *APIError), so the API key cannot leave the API's host.
func WithHTTPClient(c *http.Client) Option {
	return func(s *settings) error {
		if c == nil {
			return errors.New("linktoken: WithHTTPClient: nil *http.Client")
		}
		s.httpClient = c
		return nil
	}
}

// WithMaxRetries sets how many times a failed request is retried (default 2;
// 0 disables retries). Only 429, 500, 502, 503, 504 and connection errors
// where no response arrived are retried. A negative count makes New fail.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return fmt.Errorf("linktoken: WithMaxRetries: negative retry count %d", n)
		}
		s.retry.maxRetries = n
		return nil
	}
}

// WithUserAgent appends ua to the default User-Agent
// "github.com/mergelink/linktoken/<version> go/<version>".
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("linktoken: WithUserAgent: user agent contains a line break")
		}
		s.userAgent = strings.TrimSpace(ua)
		return nil
	}
}

// checkBaseURL accepts an absolute https URL, or http on a loopback host. Its
// errors never quote the URL, which may carry credentials.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("linktoken: WithBaseURL: not a valid URL")
	}
	if u.User != nil {
		return errors.New("linktoken: WithBaseURL: the URL must not contain credentials")
	}
	if u.Host == "" {
		return fmt.Errorf("linktoken: WithBaseURL: %q has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("linktoken: WithBaseURL: %q must not have a query or fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("linktoken: WithBaseURL: %q: plain http is allowed only for loopback hosts; use https", u.Redacted())
	}
	return fmt.Errorf("linktoken: WithBaseURL: %q: scheme must be https", u.Redacted())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
