package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mergelink/linktoken/client"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzResponseDecoding: whatever status and bytes the server sends, the
// client returns a complete token or an error (an *APIError for any status
// outside 2xx), never a panic and never a half-filled token.
func FuzzResponseDecoding(f *testing.F) {
	f.Add(200, []byte(`{"link_token":"t"}`), "application/json")
	f.Add(200, []byte(`{}`), "application/json")
	f.Add(200, []byte(`<html>`), "text/html")
	f.Add(201, []byte(`{"link_token":5}`), "application/json")
	f.Add(400, []byte(`{"detail":"x","errors":[{"title":"t","detail":"d","problem_type":"P","source":{"pointer":"/a"}}],"f":["m"]}`), "application/json")
	f.Add(429, []byte(`{"f":{"nested":1}}`), "application/json")
	f.Add(503, []byte(``), "")
	f.Add(302, []byte(`null`), "application/json")
	f.Add(400, []byte(`{"detail":"fuzz\u002dkey \u001b]0;x\u0007","status_code":400}`), "application/json")
	f.Add(500, []byte("<p>fuzz-key\x1b[2J\u2028</p>"), "text/html")
	f.Fuzz(func(t *testing.T, status int, body []byte, contentType string) { runOne(t, status, body, contentType) })
}

func runOne(t *testing.T, status int, body []byte, contentType string) {
	{
		if status < 100 || status > 999 {
			return
		}
		c, err := client.New("fuzz-key", client.WithBaseURL("https://fuzz.invalid"), client.WithMaxRetries(0),
			client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{
					StatusCode: status,
					Header:     http.Header{"Content-Type": {contentType}, "Retry-After": {string(body[:min(len(body), 8)])}},
					Body:       io.NopCloser(bytes.NewReader(body)),
					Request:    r,
				}, nil
			})}))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.CreateLinkToken(context.Background(), validRequest())
		switch {
		case err == nil && (tok == nil || tok.LinkToken == ""):
			t.Fatalf("no error but no token: %+v", tok)
		case err != nil && tok != nil:
			t.Fatalf("a token and an error: %v", err)
		case err == nil && status != http.StatusOK:
			t.Fatalf("status %d accepted: only 200 is documented", status)
		}
		var apiErr *client.APIError
		if err != nil && (!errors.As(err, &apiErr) || apiErr.StatusCode != status) {
			t.Fatalf("status %d: want an *APIError, got %v", status, err)
		}
		if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("error is not one clean line: %q", err)
		}
		if err != nil && len(err.Error()) > 16<<10 {
			t.Fatalf("error of %d bytes", len(err.Error()))
		}
		if apiErr != nil && (strings.Contains(strings.ToLower(err.Error()), "fuzz-key") || strings.Contains(strings.ToLower(string(apiErr.Body)), "fuzz-key")) {
			t.Fatalf("the key shows: %q", err)
		}
	}
}

// FuzzParseRetryAfter: any header value gives a non-negative wait or none.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "120", "-1", "", "Wed, 21 Oct 2015 07:28:00 GMT", "9999999999999999999", " 3 ", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := client.ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("negative wait %v for %q", d, v)
		}
		if !ok && d != 0 {
			t.Fatalf("no wait reported but %v returned for %q", d, v)
		}
	})
}

// FuzzParseRegion: any input gives a region with a URL, or an error listing
// the valid values.
func FuzzParseRegion(f *testing.F) {
	for _, s := range []string{"us", " EU ", "apac", "", "mars", "Us\t", "ApAc\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := client.ParseRegion(s)
		if err != nil {
			if r != "" || !strings.Contains(err.Error(), "valid: us, eu, apac") {
				t.Fatalf("bad error for %q: %v (%q)", s, err, r)
			}
			return
		}
		if r.BaseURL() == "" || !strings.HasPrefix(r.BaseURL(), "https://") {
			t.Fatalf("%q parsed to %q without a URL", s, r)
		}
		if again, err := client.ParseRegion(string(r)); err != nil || again != r {
			t.Fatalf("%q does not round-trip", r)
		}
	})
}
