package client_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
)

const (
	testKey   = "sk-test-SECRET-key-0123456789"
	testEmail = "ada.lovelace@example.com"
)

func validRequest() client.LinkTokenRequest {
	return client.LinkTokenRequest{
		EndUserEmailAddress:     testEmail,
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	}
}

// recorder is a fake clock for retries: it records each wait instead of
// sleeping, and its jitter returns the top of the range, so waits are exact.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) option() client.Option {
	return client.WithRetryClock(r.sleep, func(n int64) int64 { return n - 1 }, time.Now)
}

func (r *recorder) recorded() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// server counts attempts, checks the key, and records each body it receives.
type server struct {
	*httptest.Server
	attempts atomic.Int32
	mu       sync.Mutex
	bodies   []string
}

func newServer(t *testing.T, h func(attempt int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.attempts.Add(1))
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testKey || r.URL.Path != "/link-token" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		h(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) recordedBodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-123")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

const okBody = `{"link_token":"tok_abc","integration_name":"BambooHR"}`

func TestCreateLinkTokenSendsTheRequest(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var body map[string]any
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		got = r
		writeJSON(w, 200, okBody)
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithUserAgent("myapp/1.0"))
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), validRequest())
	require.NoError(t, err)
	assert.Equal(t, "tok_abc", tok.LinkToken)
	assert.Equal(t, "BambooHR", tok.IntegrationName)

	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Regexp(t, `^github.com/mergelink/linktoken/\S+ go/go\S+ myapp/1.0$`, got.Header.Get("User-Agent"))
	require.NoError(t, json.Unmarshal([]byte(srv.recordedBodies()[0]), &body))
	assert.Equal(t, 30.0, body["link_expiry_mins"], "link_expiry_mins 0 is sent as 30")
	assert.Equal(t, []any{"hris"}, body["categories"])
	assert.NotContains(t, body, "should_create_magic_link_url", "false booleans are omitted")
}

type outcome struct {
	token      string        // a token is expected
	status     int           // an *APIError with this status is expected
	is         error         // errors.Is target for other errors
	contains   []string      // substrings of err.Error()
	retryAfter time.Duration // APIError.RetryAfter
	problems   []client.Problem
}

func TestCreateLinkTokenFaultMatrix(t *testing.T) {
	t.Parallel()
	huge := `{"link_token":"` + strings.Repeat("a", 10<<20) + `"}`
	other := newServer(t, func(int, http.ResponseWriter, *http.Request) {})
	cases := []struct {
		name      string
		handler   func(attempt int, w http.ResponseWriter, r *http.Request)
		timeout   time.Duration
		realSleep bool
		want      outcome
		attempts  int
		waits     []time.Duration // nil: not checked
		maxTime   time.Duration
	}{
		{
			name: "429 with Retry-After 1 then 200",
			handler: func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					writeJSON(w, 429, `{"detail":"Request was throttled."}`)
					return
				}
				writeJSON(w, 200, okBody)
			},
			want: outcome{token: "tok_abc"}, attempts: 2, waits: []time.Duration{time.Second}, maxTime: time.Second,
		},
		{
			name: "429 forever",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, 429, `{"detail":"Request was throttled."}`)
			},
			want:     outcome{status: 429, retryAfter: time.Second, contains: []string{"429 Too Many Requests", "after 3 attempts", "req-123", "throttled"}},
			attempts: 3, waits: []time.Duration{time.Second, time.Second}, maxTime: time.Second,
		},
		{
			name: "Retry-After above the cap is not waited for",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "3600")
				writeJSON(w, 429, `{}`)
			},
			want: outcome{status: 429, retryAfter: time.Hour}, attempts: 1, waits: []time.Duration{}, maxTime: time.Second,
		},
		{
			name: "Retry-After as an HTTP date",
			handler: func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
					writeJSON(w, 503, `{}`)
					return
				}
				writeJSON(w, 200, okBody)
			},
			want: outcome{token: "tok_abc"}, attempts: 2, waits: []time.Duration{0}, maxTime: time.Second,
		},
		{
			name: "503 then 200",
			handler: func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					writeJSON(w, 503, `{"detail":"unavailable"}`)
					return
				}
				writeJSON(w, 200, okBody)
			},
			// full jitter in [0, 250ms); the test's jitter returns the top
			want: outcome{token: "tok_abc"}, attempts: 2, waits: []time.Duration{250*time.Millisecond - 1}, maxTime: time.Second,
		},
		{
			name: "502 and 504 then 200",
			handler: func(n int, w http.ResponseWriter, _ *http.Request) {
				switch n {
				case 1:
					writeJSON(w, 502, `{}`)
				case 2:
					writeJSON(w, 504, `{}`)
				default:
					writeJSON(w, 200, okBody)
				}
			},
			want: outcome{token: "tok_abc"}, attempts: 3,
			waits: []time.Duration{250*time.Millisecond - 1, 500*time.Millisecond - 1}, maxTime: time.Second,
		},
		{
			name: "500 forever",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 500, `{"detail":"A server error occurred."}`)
			},
			want:     outcome{status: 500, contains: []string{"500 Internal Server Error", "after 3 attempts", "A server error occurred."}},
			attempts: 3, maxTime: time.Second,
		},
		{
			name: "400 with field messages",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, `{"end_user_origin_id":["A Linked Account with this origin id exists."],"detail":"Bad request"}`)
			},
			want: outcome{status: 400, contains: []string{"400 Bad Request", "end_user_origin_id: A Linked Account"},
				problems: []client.Problem{{Detail: "Bad request"}, {Field: "end_user_origin_id", Detail: "A Linked Account with this origin id exists."}}},
			attempts: 1, waits: []time.Duration{}, maxTime: time.Second,
		},
		{
			name: "400 with a list of problems",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, `{"errors":[{"title":"Invalid","detail":"too long","problem_type":"INVALID_FIELD","source":{"pointer":"/link_expiry_mins"}}]}`)
			},
			want:     outcome{status: 400, problems: []client.Problem{{Field: "link_expiry_mins", Title: "Invalid", Detail: "too long", Type: "INVALID_FIELD"}}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "401",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 401, `{"detail":"Invalid token."}`)
			},
			want:     outcome{status: 401, contains: []string{"401 Unauthorized", "Invalid token."}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "server echoes the key and the email",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 403, `{"detail":"key `+testKey+` may not act for `+testEmail+`"}`)
			},
			want:     outcome{status: 403, contains: []string{"key [redacted] may not act for [redacted]"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "200 with HTML",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "<html><body>Bad gateway</body></html>")
			},
			want:     outcome{status: 200, contains: []string{"breaks the contract", `Content-Type "text/html" is not the spec's application/json`}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "200 with a charset parameter",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = io.WriteString(w, `{"link_token":"tok_abc"}`)
			},
			want:     outcome{token: "tok_abc"},
			attempts: 1, maxTime: time.Second,
		},
		{
			// mime.ParseMediaType returns the media type with its error.
			name: "200 with a malformed parameter",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; =utf-8")
				_, _ = io.WriteString(w, `{"link_token":"tok_abc"}`)
			},
			want:     outcome{status: 200, contains: []string{`Content-Type "application/json; =utf-8" is not the spec's application/json`}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name:     "200 with an empty object",
			handler:  func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) },
			want:     outcome{status: 200, contains: []string{"link_token is missing"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "200 with a token that is not UTF-8",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, "{\"link_token\":\"tok\xffabc\"}")
			},
			want:     outcome{status: 200, contains: []string{"not valid UTF-8"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name:     "200 with a wrong type",
			handler:  func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"link_token":42}`) },
			want:     outcome{status: 200, contains: []string{"link_token is not a string"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name:     "200 with truncated JSON",
			handler:  func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"link_token":"tok_a`) },
			want:     outcome{status: 200, contains: []string{"not a JSON object"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			name:     "10 MiB body",
			handler:  func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, huge) },
			want:     outcome{status: 200, contains: []string{"exceeds 1048576 bytes"}},
			attempts: 1, maxTime: 5 * time.Second,
		},
		{
			name: "connection closed mid-response",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"link_to")
				_ = buf.Flush()
				_ = conn.Close()
			},
			want:     outcome{is: io.ErrUnexpectedEOF, contains: []string{"read response"}},
			attempts: 1, maxTime: time.Second,
		},
		{
			// The server read the whole request: it may have created a
			// token, so the POST is not sent again.
			name: "connection closed after the request was read",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
			},
			want:     outcome{is: io.EOF},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "server slower than the context deadline",
			handler: func(_ int, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				writeJSON(w, 200, okBody)
			},
			timeout: 100 * time.Millisecond, realSleep: true,
			want:     outcome{is: context.DeadlineExceeded},
			attempts: 1, maxTime: time.Second,
		},
		{
			name: "a retry that would outlive the deadline is not made",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "2")
				writeJSON(w, 503, `{}`)
			},
			timeout: 500 * time.Millisecond, realSleep: true,
			want:     outcome{status: 503, retryAfter: 2 * time.Second},
			attempts: 1, maxTime: 400 * time.Millisecond,
		},
		{
			name: "redirect to another host",
			handler: func(_ int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/link-token", http.StatusTemporaryRedirect)
			},
			want:     outcome{status: 307},
			attempts: 1, maxTime: time.Second,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tc.handler)
			rec := &recorder{}
			opts := []client.Option{client.WithBaseURL(srv.URL)}
			if !tc.realSleep {
				opts = append(opts, rec.option())
			}
			c, err := client.New(testKey, opts...)
			require.NoError(t, err)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			tok, err := c.CreateLinkToken(ctx, validRequest())
			elapsed := time.Since(start)

			assert.LessOrEqual(t, elapsed, tc.maxTime, "took too long")
			assert.Equal(t, tc.attempts, int(srv.attempts.Load()), "attempts")
			if tc.waits != nil {
				assert.Equal(t, tc.waits, append([]time.Duration{}, rec.recorded()...), "waits between attempts")
			}
			bodies := srv.recordedBodies()
			for _, b := range bodies {
				assert.Equal(t, bodies[0], b, "the body is re-sent intact")
			}
			if tc.want.token != "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want.token, tok.LinkToken)
				return
			}
			require.Error(t, err)
			assert.Nil(t, tok, "no half-filled token")
			assertNoSecrets(t, err)
			for _, s := range tc.want.contains {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "\n", "one line")
			var apiErr *client.APIError
			if tc.want.status == 0 {
				assert.False(t, errors.As(err, &apiErr), "not an *APIError: %v", err)
				assert.ErrorIs(t, err, tc.want.is)
				return
			}
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.want.status, apiErr.StatusCode)
			assert.Equal(t, tc.attempts, apiErr.Attempts)
			assert.Equal(t, tc.want.retryAfter, apiErr.RetryAfter)
			assert.LessOrEqual(t, len(apiErr.Body), 64<<10)
			if tc.want.problems != nil {
				assert.Equal(t, tc.want.problems, apiErr.Problems)
			}
			if tc.want.status >= 400 {
				assert.Equal(t, "req-123", apiErr.RequestID)
			}
		})
	}
	assert.Zero(t, other.attempts.Load(), "the other host never received a request")
}

func TestCreateLinkTokenConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rec := &recorder{}
	c, err := client.New(testKey, client.WithBaseURL(url), rec.option(), client.WithMaxRetries(1))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after 2 attempts")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Len(t, rec.recorded(), 1)
	assertNoSecrets(t, err)
}

func TestCreateLinkTokenMaxRetriesZero(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, `{}`) })
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1, apiErr.Attempts)
	assert.ErrorIs(t, err, client.ErrServerError)
	assert.EqualValues(t, 1, srv.attempts.Load())
}

func TestCreateLinkTokenCanceledWhileWaiting(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "20")
		writeJSON(w, 429, `{}`)
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.CreateLinkToken(ctx, validRequest())
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr, "the last response is kept")
	assert.Equal(t, 20*time.Second, apiErr.RetryAfter)
	assert.ErrorIs(t, err, client.ErrRateLimited)
	assert.NotContains(t, err.Error(), "\n")
	assert.Less(t, time.Since(start), 2*time.Second, "the wait selects on ctx.Done")
	assert.EqualValues(t, 1, srv.attempts.Load())
}

func TestCreateLinkTokenDoesNotChangeTheCallersHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 7 * time.Second}
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) })
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect)
	assert.Equal(t, 7*time.Second, hc.Timeout)
}

func TestCreateLinkTokenFollowsSameHostRedirect(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Redirect(w, r, "/link-token", http.StatusPermanentRedirect)
			return
		}
		writeJSON(w, 200, okBody)
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), validRequest())
	require.NoError(t, err, "the server checks the key on the redirected request too")
	assert.Equal(t, "tok_abc", tok.LinkToken)
}

func TestInvalidRequestIsNeverSent(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) })
	c, err := client.New(testKey, client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	req := validRequest()
	req.LinkExpiryMins = 721
	_, err = c.CreateLinkToken(context.Background(), req)
	var verr *client.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []string{"link_expiry_mins"}, verr.Fields())
	assert.Zero(t, srv.attempts.Load())
	//lint:ignore SA1012 a nil context is what this checks
	_, err = c.CreateLinkToken(nil, validRequest())
	assert.ErrorContains(t, err, "nil context")
}

func TestNewOptionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		key  string
		opts []client.Option
		want string // "" means no error
	}{
		{"defaults", testKey, nil, ""},
		{"empty key", "", nil, "empty API key"},
		{"blank key", "  ", nil, "empty API key"},
		{"key with a line break", testKey + "\n", nil, ""},
		{"key with an inner line break", "sk\nx", nil, "line break"},
		{"key with NUL", "sk\x00x", nil, "contains a control character at byte 2"},
		{"key with DEL", "sk\x7fx", nil, "contains a control character at byte 2"},
		{"key with ESC", "sk\x1b[2Jx", nil, "contains a control character at byte 2"},
		{"key with a tab", "sk\tx", nil, "contains a control character at byte 2"},
		{"key with an inner space", "sk x", nil, "contains a space at byte 2"},
		{"key with non-ASCII", "skö", nil, "contains a non-ASCII character at byte 2"},
		{"user agent with a control character", testKey, []client.Option{client.WithUserAgent("app\x00")}, "control character"},
		{"user agent with spaces", testKey, []client.Option{client.WithUserAgent("my app/1.0 (linux)")}, ""},
		{"nil logger", testKey, []client.Option{client.WithLogger(nil)}, "nil *slog.Logger"},
		{"unknown region", testKey, []client.Option{client.WithRegion("mars")}, `unknown region "mars" (valid: us, eu, apac, sandbox)`},
		{"each region", testKey, []client.Option{client.WithRegion(client.RegionAPAC)}, ""},
		{"http to a public host", testKey, []client.Option{client.WithBaseURL("http://api.merge.dev")}, "plain http is allowed only for loopback"},
		{"http to localhost", testKey, []client.Option{client.WithBaseURL("http://localhost:4010/api")}, ""},
		{"http to ::1", testKey, []client.Option{client.WithBaseURL("http://[::1]:4010")}, ""},
		{"https proxy", testKey, []client.Option{client.WithBaseURL("https://proxy.internal/merge/")}, ""},
		{"ftp", testKey, []client.Option{client.WithBaseURL("ftp://x.io")}, "scheme must be https"},
		{"relative URL", testKey, []client.Option{client.WithBaseURL("/api")}, "has no host"},
		{"not a URL", testKey, []client.Option{client.WithBaseURL("https://bad host\x7f")}, "not a valid URL"},
		{"credentials in URL", testKey, []client.Option{client.WithBaseURL("https://user:hunter2@x.io")}, "must not contain credentials"},
		{"query in URL", testKey, []client.Option{client.WithBaseURL("https://x.io/?a=b")}, "query or fragment"},
		{"an empty query would drop the path's last segment", testKey, []client.Option{client.WithBaseURL("https://h.example/api?")}, "query or fragment"},
		{"an empty fragment", testKey, []client.Option{client.WithBaseURL("https://h.example/api#")}, "query or fragment"},
		{"an empty query and fragment", testKey, []client.Option{client.WithBaseURL("https://h.example/api?#")}, "query or fragment"},
		{"a 64 KiB category is echoed bounded", testKey, []client.Option{client.WithCategoryAPI(client.Category(strings.Repeat("c", 64<<10)))}, `unknown category "` + strings.Repeat("c", 61) + `…"`},
		{"a 64 KiB region is echoed bounded", testKey, []client.Option{client.WithRegion(client.Region(strings.Repeat("r", 64<<10)))}, `unknown region "` + strings.Repeat("r", 61) + `…"`},
		{"a plain-http proxy on another host would see the key", testKey, []client.Option{client.WithBaseURL("http://127.0.0.1:4010"),
			client.WithHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"})}})},
			`its Transport sends plain-http requests through a proxy on "proxy.example:3128"`},
		{"a proxy on loopback is allowed", testKey, []client.Option{client.WithBaseURL("http://127.0.0.1:4010"),
			client.WithHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "127.0.0.1:3128"})}})}, ""},
		{"a proxy for https is allowed", testKey, []client.Option{client.WithBaseURL("https://api.example"),
			client.WithHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"})}})}, ""},
		{"a client option given to New is fine; a call option too", testKey, []client.Option{client.WithAttemptTimeout(time.Second)}, ""},
		{"a zero attempt timeout", testKey, []client.Option{client.WithAttemptTimeout(0)}, "must be more than 0"},
		{"negative retries", testKey, []client.Option{client.WithMaxRetries(-1)}, "negative retry count -1"},
		{"nil http client", testKey, []client.Option{client.WithHTTPClient(nil)}, "nil *http.Client"},
		{"user agent with newline", testKey, []client.Option{client.WithUserAgent("a\r\nX-Evil: 1")}, "line break"},
		{"nil option", testKey, []client.Option{nil}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := client.New(tc.key, tc.opts...)
			if tc.want == "" {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			assert.Nil(t, c)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
			assertNoSecrets(t, err)
			var oe *client.OptionError
			if len(tc.opts) > 0 && errors.As(err, &oe) {
				assert.Equal(t, "client: "+oe.Option+": "+oe.Err.Error(), err.Error(), "the message names the option once")
				assert.NotContains(t, oe.Err.Error(), oe.Option)
			} else {
				assert.Empty(t, tc.opts, "an option's error is an *OptionError")
			}
		})
	}
}

func TestNewFromEnv(t *testing.T) {
	cases := []struct {
		name       string
		key        string
		region     string
		opts       []client.Option
		wantRegion client.Region
		wantErr    string
	}{
		{"key only", testKey, "", nil, client.RegionUS, ""},
		{"key and region", testKey, " EU ", nil, client.RegionEU, ""},
		{"explicit option wins", testKey, "eu", []client.Option{client.WithRegion(client.RegionAPAC)}, client.RegionAPAC, ""},
		{"no key", "", "eu", nil, "", "MERGE_API_KEY is not set"},
		{"bad region", testKey, "moon", nil, "", "MERGE_REGION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MERGE_API_KEY", tc.key)
			t.Setenv("MERGE_REGION", tc.region)
			c, err := client.NewFromEnv(tc.opts...)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assertNoSecrets(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantRegion, c.Region())
			assert.Equal(t, tc.wantRegion.BaseURL(), c.BaseURL())
		})
	}
}

func TestClientNeverPrintsTheKey(t *testing.T) {
	t.Parallel()
	c, err := client.New(testKey, client.WithRegion(client.RegionEU), client.WithLogger(slog.Default()))
	require.NoError(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("client", "c", c, "v", *c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("client", "c", c, "v", *c)
	// Every value of the public API that holds or reaches the client.
	values := map[string]any{
		"*Client": c, "Client": *c, "**Client": &c, "[]*Client": []*client.Client{c},
		"struct with a Client": struct{ C client.Client }{*c}, "struct with an unexported Client": struct{ c client.Client }{*c},
		"map of Clients": map[string]client.Client{"c": *c}, "zero Client": client.Client{},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%p", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range []string{testKey, "SECRET", hex.EncodeToString([]byte(testKey)), strings.ToUpper(hex.EncodeToString([]byte(testKey)))} {
				assert.NotContains(t, out, s, "%s %s", name, verb)
			}
		}
	}
	assert.NotContains(t, logged.String(), "SECRET")
	assert.Contains(t, logged.String(), `"region":"eu"`)

	// A test library's diff follows pointers and ignores String methods.
	other, err := client.New("another-key")
	require.NoError(t, err)
	diff := &fakeT{}
	assert.Equal(diff, *c, *other)
	assert.Equal(diff, c, other)
	require.NotEmpty(t, diff.out, "the diff was printed")
	assert.NotContains(t, diff.out, "SECRET")
	assert.NotContains(t, diff.out, "another-key")
	assert.Contains(t, c.String(), "eu")
	assert.Contains(t, c.String(), "[redacted]")
}

// TestEachRequestHasItsOwnHeaders: a caller's RoundTripper that edits a
// header in place, as a redacting logger does, changes no later request.
func TestEachRequestHasItsOwnHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) })
	redacting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		r.Header["Authorization"][0] = "Bearer [redacted]"
		r.Header["User-Agent"][0] = "edited"
		return resp, err
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithHTTPClient(&http.Client{Transport: redacting}))
	require.NoError(t, err)
	for i := range 3 {
		_, err := c.CreateLinkToken(context.Background(), validRequest())
		require.NoError(t, err, "call %d: the server checks the key", i)
	}
	assert.EqualValues(t, 3, srv.attempts.Load())
}

// TestWithLogger: each retry and the outcome are logged at debug with the
// method, host, path, status or class, attempt, wait and latency; never the
// key, the email, the token or a body.
func TestWithLogger(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 503, `{"detail":"down for `+testEmail+`"}`)
			return
		}
		writeJSON(w, 200, okBody)
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "latency" {
				return slog.Attr{}
			}
			return a
		}}))
	rec := &recorder{}
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithLogger(logger), rec.option())
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), validRequest())
	require.NoError(t, err)
	host := strings.TrimPrefix(srv.URL, "http://")
	assert.Equal(t,
		`level=DEBUG msg="client: retrying" method=POST host=`+host+` path=/link-token attempt=1 status=503 wait=1s`+"\n"+
			`level=DEBUG msg="client: create link token" method=POST host=`+host+` path=/link-token status=200 attempts=2`+"\n",
		buf.String())
	for _, secret := range []string{testKey, testEmail, tok.LinkToken, "down for"} {
		assert.NotContains(t, buf.String(), secret)
	}

	// A failure is logged with its class; a logger above debug costs nothing.
	buf.Reset()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c, err = client.New(testKey, client.WithBaseURL(closed.URL), client.WithLogger(logger), client.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	require.Error(t, err)
	assert.Regexp(t, `msg="client: create link token" method=POST host=\S+ path=/link-token error=dial attempts=1`, buf.String())
}

// TestErrorsLogSafely: slog logs each error of the package through LogValue,
// which shows no more than Error.
func TestErrorsLogSafely(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		writeJSON(w, 429, `{"detail":"`+testKey+` for `+testEmail+`"}`)
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("create", "err", err)
	var line struct {
		Err struct {
			Error      string `json:"error"`
			Status     int    `json:"status"`
			RequestID  string `json:"request_id"`
			Attempts   int    `json:"attempts"`
			RetryAfter int64  `json:"retry_after"`
		} `json:"err"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	assert.Equal(t, 429, line.Err.Status)
	assert.Equal(t, "req-123", line.Err.RequestID)
	assert.Equal(t, int64(7*time.Second), line.Err.RetryAfter)
	assert.Equal(t, err.Error(), line.Err.Error)
	assert.NotContains(t, buf.String(), testKey)
	assert.NotContains(t, buf.String(), testEmail)
}

// TestErrorClasses: errors.Is finds the class of an *APIError, built by the
// client or by a caller's test.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	classes := []error{client.ErrUnauthorized, client.ErrForbidden, client.ErrRateLimited, client.ErrServerError, client.ErrContractBroken}
	cases := map[int]error{199: nil, 200: client.ErrContractBroken, 201: client.ErrContractBroken, 299: client.ErrContractBroken,
		300: nil, 302: nil, 400: nil, 401: client.ErrUnauthorized, 403: client.ErrForbidden, 404: nil, 429: client.ErrRateLimited,
		499: nil, 500: client.ErrServerError, 599: client.ErrServerError, 600: nil}
	for status, want := range cases {
		err := fmt.Errorf("wrapped: %w", &client.APIError{StatusCode: status})
		for _, class := range classes {
			assert.Equal(t, class == want, errors.Is(err, class), "%d is %v", status, class)
		}
	}
}

// TestSafeToResend pins each branch of the policy for failures where no
// response arrived, including the one no server can produce on demand
// (net/http's closed idle connection, a race with the server's keep-alive
// timeout).
func TestSafeToResend(t *testing.T) {
	t.Parallel()
	dial := func(err error) error {
		return &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	cases := []struct {
		name  string
		err   error
		class string
		safe  bool
	}{
		{"refused", dial(syscall.ECONNREFUSED), "dial", true},
		{"dial timeout", dial(os.ErrDeadlineExceeded), "dial", true},
		{"temporary DNS", dial(&net.DNSError{IsTemporary: true}), "dns", true},
		{"DNS timeout", dial(&net.DNSError{IsTimeout: true}), "dns", true},
		{"no such host", dial(&net.DNSError{IsNotFound: true}), "no such host", false},
		{"other DNS failure", dial(&net.DNSError{}), "dns", false},
		// net/http returns it after writing the request too (golang/go#19943).
		{"server closed idle connection", &url.Error{Op: "Post", URL: "u", Err: errors.New("http: server closed idle connection")}, "connection", false},
		{"HTTP/2 REFUSED_STREAM", &url.Error{Op: "Post", URL: "u", Err: errors.New("http2: Transport: cannot retry err [stream error: stream ID 3; REFUSED_STREAM; received from peer] after Request.Body was written; define Request.GetBody to avoid this error")}, "http2 not processed", true},
		{"HTTP/2 GOAWAY below the stream", &url.Error{Op: "Post", URL: "u", Err: errors.New("http2: Transport: cannot retry err [http2: Transport received Server's graceful shutdown GOAWAY] after Request.Body was written; define Request.GetBody to avoid this error")}, "http2 not processed", true},
		{"HTTP/2 GOAWAY with an error below the first stream", &url.Error{Op: "Post", URL: "u", Err: errors.New("http2: Transport received GOAWAY from server ErrCode:PROTOCOL_ERROR")}, "http2 not processed", true},
		{"HTTP/2 PROTOCOL_ERROR", &url.Error{Op: "Post", URL: "u", Err: errors.New("http2: Transport: cannot retry err [stream error: stream ID 3; PROTOCOL_ERROR; received from peer] after Request.Body was written; define Request.GetBody to avoid this error")}, "connection", false},
		{"server text that quotes the HTTP/2 error", &url.Error{Op: "Post", URL: "u", Err: errors.New(`malformed HTTP response "http2: Transport received GOAWAY from server ErrCode:NO_ERROR"`)}, "connection", false},
		{"reset after writing", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, "connection", false},
		{"EOF", &url.Error{Op: "Post", URL: "u", Err: io.EOF}, "connection", false},
		{"certificate", &url.Error{Op: "Post", URL: "u", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, "tls certificate", false},
		{"proxy", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "proxyconnect", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}}, "connection", false},
		{"deadline", &url.Error{Op: "Post", URL: "u", Err: context.DeadlineExceeded}, "deadline exceeded", false},
		{"canceled", &url.Error{Op: "Post", URL: "u", Err: context.Canceled}, "canceled", false},
		{"a RoundTripper's own error", &url.Error{Op: "Post", URL: "u", Err: errors.New("contract broken")}, "connection", false},
	}
	for _, tc := range cases {
		class, safe := client.SafeToResend(tc.err)
		assert.Equal(t, tc.class, class, tc.name)
		assert.Equal(t, tc.safe, safe, tc.name)
	}
}

// assertNoSecrets checks every way of printing err for the key and the email.
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, err)
		assert.NotContains(t, out, testKey, verb)
		assert.NotContains(t, out, "SECRET", verb)
		assert.NotContains(t, out, testEmail, verb)
		assert.NotContains(t, out, "lovelace", verb)
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		assert.NotContains(t, string(apiErr.Body), testKey)
		assert.NotContains(t, string(apiErr.Body), testEmail)
	}
}

// fakeT collects what a failed assertion prints.
type fakeT struct{ out string }

func (f *fakeT) Errorf(format string, args ...any) { f.out += fmt.Sprintf(format, args...) }

// TestLongestCallWithDefaults: with the defaults and no deadline, a call is
// at most three attempts of 60 seconds and two waits of at most 30 seconds:
// 4 minutes.
func TestLongestCallWithDefaults(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30") // the longest wait honoured
		writeJSON(w, 503, `{}`)
	})
	rec := &recorder{}
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), rec.option())
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	assert.ErrorIs(t, err, client.ErrServerError)
	waits := rec.recorded()
	assert.Equal(t, []time.Duration{client.MaxRetryAfter, client.MaxRetryAfter}, waits)
	attempts := int(srv.attempts.Load())
	assert.Equal(t, 3, attempts)
	assert.Equal(t, 60*time.Second, client.AttemptTimeout(c))
	longest := time.Duration(attempts)*client.AttemptTimeout(c) + waits[0] + waits[1]
	assert.Equal(t, 4*time.Minute, longest)
}

// TestNoKeyOverPlainHTTP: whatever redirect Merge's host answers, no request
// leaves over plain http, nor to another host or port.
func TestNoKeyOverPlainHTTP(t *testing.T) {
	t.Parallel()
	targets := []string{
		"http://api.merge.dev/api/mktg/v1/link-token",
		"https://api.merge.dev:8443/api/mktg/v1/link-token",
		"https://evil.example/api/mktg/v1/link-token",
		"//evil.example/link-token",
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, target := range targets {
			var mu sync.Mutex
			var sent []string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				sent = append(sent, r.URL.String()+" "+r.Header.Get("Authorization"))
				mu.Unlock()
				if r.URL.Scheme == "https" && r.URL.Host == "api.merge.dev" {
					return &http.Response{StatusCode: status, Header: http.Header{"Location": {target}},
						Body: http.NoBody, Request: r}, nil
				}
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(okBody)), Request: r}, nil
			})
			c, err := client.New(testKey, client.WithHTTPClient(&http.Client{Transport: rt}))
			require.NoError(t, err)
			_, err = c.CreateLinkToken(context.Background(), validRequest())
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr, "%d to %s", status, target)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, []string{"https://api.merge.dev/api/mktg/v1/link-token Bearer " + testKey}, sent, "%d to %s", status, target)
		}
	}
}

// TestEndpointURL: the request goes to the base URL followed by
// /link-token, for every region, a category API and a base URL with a path.
func TestEndpointURL(t *testing.T) {
	t.Parallel()
	cases := map[string][]client.Option{}
	for _, r := range client.RegionValues() {
		cases[r.BaseURL()] = []client.Option{client.WithRegion(r)}
	}
	cases["https://api-eu.merge.dev/api/hris/v1"] = []client.Option{client.WithRegion(client.RegionEU), client.WithCategoryAPI(client.CategoryHRIS)}
	cases["https://proxy.internal/merge/api/mktg/v1"] = []client.Option{client.WithBaseURL("https://proxy.internal/merge/api/mktg/v1/")}
	cases["http://127.0.0.1:4010"] = []client.Option{client.WithBaseURL("http://127.0.0.1:4010")}
	for base, opts := range cases {
		var got string
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(okBody)), Request: r}, nil
		})
		c, err := client.New(testKey, append(opts, client.WithHTTPClient(&http.Client{Transport: rt}))...)
		require.NoError(t, err)
		assert.Equal(t, base, c.BaseURL())
		_, err = c.CreateLinkToken(context.Background(), validRequest())
		require.NoError(t, err)
		assert.Equal(t, base+"/link-token", got)
	}
}

// TestCallOptions: a call's options win over the client's for that call
// only; an option only a Client takes is refused, and nothing is sent.
func TestCallOptions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, `{}`) })
	var clock recorder
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), clock.option())
	require.NoError(t, err)

	_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithMaxRetries(0))
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1, apiErr.Attempts, "the call's WithMaxRetries(0)")
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 3, apiErr.Attempts, "the client's default is back for the next call")

	sent := srv.attempts.Load()
	for _, opt := range []client.Option{
		client.WithRegion(client.RegionEU), client.WithCategoryAPI(client.CategoryHRIS), client.WithBaseURL(srv.URL),
		client.WithHTTPClient(http.DefaultClient), client.WithUserAgent("x"), client.WithLogger(slog.Default()),
	} {
		_, err := c.CreateLinkToken(context.Background(), validRequest(), opt)
		var optErr *client.OptionError
		require.ErrorAs(t, err, &optErr)
		assert.ErrorContains(t, err, "applies to New, not to one call")
	}
	assert.Equal(t, sent, srv.attempts.Load(), "a refused call sends nothing")
}
