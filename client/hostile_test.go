package client_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// The secrets of the hostile suite: a key with a slash (so "\/" can hide it)
// and an email whose local part is distinctive enough to find in part.
const (
	hKey   = "hk_Zq8v/Xw3RtY9pLm2N"
	hEmail = "ada.lovelace@example.com"
	// hToken is a link token a hostile server sends where it is not valid.
	hToken = "tok_SECRET_9f8e7d"
)

// hostileServer is one case's server: it counts connections and requests,
// reads each body, and hands the request to the case's handler.
type hostileServer struct {
	*httptest.Server
	requests atomic.Int32 // every request, any method or path
	conns    atomic.Int32 // new connections
	dials    atomic.Int32 // dials made by a case's own transport
	trips    atomic.Int32 // round trips made by a case's own RoundTripper
	// other is a second server, on another port, that no request may reach.
	other *httptest.Server
	// otherRequests counts requests that reached other anyway.
	otherRequests atomic.Int32
}

type handler func(h *hostileServer, n int, w http.ResponseWriter, r *http.Request)

func newHostileServer(t *testing.T, useTLS bool, fn handler) *hostileServer {
	t.Helper()
	h := &hostileServer{}
	h.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.otherRequests.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(h.other.Close)
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.requests.Add(1))
		_, _ = io.Copy(io.Discard, r.Body)
		fn(h, n, w, r)
	}))
	h.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.conns.Add(1)
		}
	}
	h.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake errors are expected
	if useTLS {
		h.StartTLS()
	} else {
		h.Start()
	}
	t.Cleanup(h.Close)
	return h
}

// answer is a handler that writes status, body and header pairs.
func answer(status int, body string, headers ...string) handler {
	return func(_ *hostileServer, _ int, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header()[headers[i]] = append(w.Header()[headers[i]], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		if w.Header().Get("X-Request-Id") == "" {
			w.Header().Set("X-Request-Id", "req-1")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// redirectTo answers 307 (or status) to the URL made from the server.
func redirectTo(status int, target func(h *hostileServer) string) handler {
	return func(h *hostileServer, _ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target(h))
		w.WriteHeader(status)
	}
}

// transportWith is an *http.Client whose transport counts the server's
// dials and dials through dial.
func transportWith(h *hostileServer, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		h.dials.Add(1)
		return dial(ctx, network, addr)
	}}}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// brokenContract is what a caller's validating RoundTripper returns: a
// response arrived, and it breaks the contract.
type brokenContract struct{ rule string }

func (e *brokenContract) Error() string        { return "contract: " + e.rule }
func (e *brokenContract) Is(target error) bool { return target == client.ErrContractBroken }

type hostileCase struct {
	name    string
	tls     bool // an https server the client trusts, unless untrusted
	handler handler
	// key and email replace hKey and hEmail.
	key, email string
	// opts are added after the suite's own (so they win).
	opts func(h *hostileServer) []client.Option
	req  func(*client.LinkTokenRequest)
	// timeout is the call's deadline (2s when 0); realSleep waits for real
	// between attempts instead of recording the wait.
	timeout   time.Duration
	realSleep bool
	untrusted bool
	// calls is how many calls are made in a row (1 when 0).
	calls int
	// heavy cases move megabytes: they run one at a time, before the
	// others, so that they cannot starve the cases that measure time.
	heavy bool

	// attempts is how many requests the server received, over every call.
	attempts int
	// within bounds the time of all calls (the timeout when set, else
	// 500ms).
	within time.Duration
	// status is the *APIError's StatusCode; 0 means no *APIError.
	status int
	// is and isNot are errors.Is targets that must and must not match.
	is, isNot []error
	token     bool
	contains  []string
	check     func(t *testing.T, h *hostileServer, err error)
}

func hostileCases() []hostileCase {
	escapedEmail := strings.ReplaceAll(hEmail, "@", `\u0040`)
	long := strings.Repeat("x", 1024-len("ada.lov")) // puts the email across the 1 KiB bound
	problems := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"errors":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"title":"t%d","detail":"problem %d for %s %s","problem_type":"P","source":{"pointer":"/f%d"}}`,
				i, i, hEmail, strings.Repeat("p", 300), i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	return []hostileCase{
		// --- 1. Redirects: the key stays at the configured origin.
		{
			name: "redirect https to http on the same host and port", tls: true,
			handler: redirectTo(307, func(h *hostileServer) string {
				return strings.Replace(h.URL, "https://", "http://", 1) + "/link-token"
			}),
			attempts: 1, status: 307, contains: []string{"another origin", "location http://127.0.0.1:"},
		},
		{
			name:     "redirect to another port",
			handler:  redirectTo(307, func(h *hostileServer) string { return h.other.URL + "/link-token" }),
			attempts: 1, status: 307, contains: []string{"another origin"},
		},
		{
			name: "redirect to another host name on the same port",
			handler: redirectTo(308, func(h *hostileServer) string {
				return strings.Replace(h.URL, "127.0.0.1", "localhost", 1) + "/link-token"
			}),
			attempts: 1, status: 308, contains: []string{"another origin"},
		},
		{
			name: "redirect followed by the caller's CheckRedirect is still refused",
			opts: func(h *hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})}
			},
			handler:  redirectTo(307, func(h *hostileServer) string { return h.other.URL + "/link-token" }),
			attempts: 1, status: 307,
		},
		{
			name: "https to http redirect with 301, 302 and 303",
			tls:  true,
			handler: func(h *hostileServer, n int, w http.ResponseWriter, r *http.Request) {
				status := []int{301, 302, 303}[(n-1)%3]
				redirectTo(status, func(h *hostileServer) string { return h.other.URL + "/link-token" })(h, n, w, r)
			},
			calls: 3, attempts: 3, status: 303,
		},
		{
			name:     "same-origin redirect that turns the POST into a GET",
			handler:  redirectTo(302, func(h *hostileServer) string { return h.URL + "/link-token" }),
			attempts: 1, status: 302, contains: []string{"turns the POST into a GET"},
		},
		{
			name:     "same-host redirect loop",
			handler:  redirectTo(307, func(h *hostileServer) string { return h.URL + "/link-token" }),
			attempts: 4, status: 307, contains: []string{"stopped after 3 redirects"},
		},
		{
			name: "redirect whose Location carries the key and the email",
			handler: redirectTo(307, func(h *hostileServer) string {
				return h.other.URL + "/" + strings.ReplaceAll(hEmail, "@", "%40") + "?key=" + hKey + "#" + hKey
			}),
			attempts: 1, status: 307,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Regexp(t, `^http://127\.0\.0\.1:\d+/\[redacted\]$`, apiErr.Location)
			},
		},

		// --- 2. Echoes of the key and the email, however encoded.
		{
			name:     "key and email echoed raw",
			handler:  answer(403, `{"detail":"key `+hKey+` may not act for `+hEmail+`"}`),
			attempts: 1, status: 403, is: []error{client.ErrForbidden},
			contains: []string{"key [redacted] may not act for [redacted]"},
		},
		{
			name:     "email echoed with \\u0040",
			handler:  answer(400, `{"detail":"unknown user `+escapedEmail+`"}`),
			attempts: 1, status: 400, contains: []string{"unknown user [redacted]"},
		},
		{
			name:     "key echoed with \\/",
			handler:  answer(401, `{"detail":"bad key `+strings.ReplaceAll(hKey, "/", `\/`)+`"}`),
			attempts: 1, status: 401, is: []error{client.ErrUnauthorized}, contains: []string{"bad key [redacted]"},
		},
		{
			name: "email with ö echoed as \\u00f6", email: "jörg.müller@example.com",
			handler:  answer(400, `{"detail":"j\u00f6rg.m\u00fcller@example.com is taken"}`),
			attempts: 1, status: 400, contains: []string{"[redacted] is taken"},
		},
		{
			name:     "email echoed upper-cased",
			handler:  answer(400, `{"detail":"`+strings.ToUpper(hEmail)+` exists"}`),
			attempts: 1, status: 400, contains: []string{"[redacted] exists"},
		},
		{
			name: "email with ö echoed upper-cased", email: "jörg.müller@example.com",
			handler:  answer(400, `{"detail":"JÖRG.MÜLLER@EXAMPLE.COM exists"}`),
			attempts: 1, status: 400, contains: []string{"[redacted] exists"},
		},
		{
			name:     "email and key as field names and pointers",
			handler:  answer(400, `{"`+hEmail+`":["bad"],"errors":[{"title":"t","detail":"d","problem_type":"P","source":{"pointer":"/`+hKey+`"}}]}`),
			attempts: 1, status: 400,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				require.Len(t, apiErr.Problems, 2)
				assert.Equal(t, "[redacted]", apiErr.Problems[0].Field)
				assert.Equal(t, "[redacted]", apiErr.Problems[1].Field)
			},
		},
		{
			name:     "email split across two problems",
			handler:  answer(400, `{"a":["ada.lovelace"],"b":["@example.com"]}`),
			attempts: 1, status: 400, contains: []string{"a: ada.lovelace; b: @example.com"},
		},
		{
			name:     "email across the bound of a problem",
			handler:  answer(400, `{"detail":"`+long+hEmail+`"}`),
			attempts: 1, status: 400,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				d := apiErr.Problems[0].Detail
				assert.LessOrEqual(t, len(d), 1024)
				assert.True(t, strings.HasSuffix(d, "…"), "cut and marked")
				assert.NotContains(t, d, "ada.", "no part of the email survives the cut")
			},
		},
		{
			name:     "email across the 64 KiB bound of the body",
			handler:  answer(500, `{"detail":"`+strings.Repeat("y", 64<<10-len(`{"detail":"ada.lov`))+hEmail+`"}`),
			attempts: 3, status: 500, is: []error{client.ErrServerError}, within: 2 * time.Second, heavy: true,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.LessOrEqual(t, len(apiErr.Body), 64<<10)
				assert.NotContains(t, string(apiErr.Body), "ada.")
			},
		},
		{
			// Text that is not JSON is cleaned as the text it is: a JSON
			// escape in it is not decoded (a documented limit), while
			// percent-encoding and HTML references are.
			name:     "email JSON-escaped in a body that is not JSON is kept as written",
			handler:  answer(502, "<html>upstream said: "+escapedEmail+"</html>", "Content-Type", "text/html"),
			attempts: 3, status: 502,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "<html>upstream said: "+escapedEmail+"</html>", string(apiErr.Body))
			},
		},
		{
			name:     "email percent-encoded and as HTML references in a body that is not JSON",
			handler:  answer(502, "<html>"+strings.ReplaceAll(hEmail, "@", "%2540")+" "+strings.ReplaceAll(hEmail, "@", "&#64;")+"</html>", "Content-Type", "text/html"),
			attempts: 3, status: 502,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "<html>[redacted] [redacted]</html>", string(apiErr.Body))
			},
		},
		{
			name:     "key in the request id header",
			handler:  answer(400, `{}`, "X-Request-Id", "req-"+hKey),
			attempts: 1, status: 400, contains: []string{"(request id req-[redacted])"},
		},
		{
			name:     "key in a header line net/http refuses",
			handler:  answer(503, `{}`, "X-Request-Id", hKey+"\x00"),
			attempts: 1, contains: []string{"malformed MIME header line", "[redacted]"},
		},
		{
			name: "one-letter key leaves our words and the problems intact", key: "e",
			handler:  answer(400, `{"detail":"the detail","end_user_origin_id":["taken"]}`),
			attempts: 1, status: 400, contains: []string{"client: 400 Bad Request (request id r", ": th[redacted] d[redacted]tail; [redacted]nd_us"},
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Len(t, apiErr.Problems, 2, "the body is decoded before it is scrubbed")
			},
		},

		// --- 6. Unbounded and raw server data.
		{
			name: "4 MiB request id through a transport without a header limit",
			opts: func(*hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(&http.Client{Transport: &http.Transport{}})}
			},
			handler: answer(400, `{}`, "X-Request-Id", strings.Repeat("r", 4<<20)),
			// Moving 4 MiB through net/http takes most of a second under -race.
			timeout: 10 * time.Second, heavy: true,
			attempts: 1, status: 400, within: 5 * time.Second,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.LessOrEqual(t, len(apiErr.RequestID), 1024)
				assert.Less(t, len(err.Error()), 2048)
			},
		},
		{
			name:    "4 MiB request id through the default transport",
			handler: answer(503, `{}`, "X-Request-Id", strings.Repeat("r", 4<<20)),
			timeout: 10 * time.Second, heavy: true,
			attempts: 1, within: 5 * time.Second, contains: []string{"headers exceeded"},
			check: func(t *testing.T, _ *hostileServer, err error) {
				assert.Less(t, len(err.Error()), 2048)
			},
		},
		{
			name:     "escape sequences, separators and bidi overrides in problems",
			handler:  answer(400, `{"detail":"x\nstatus: 200\u001b]0;pwned\u0007\u001b[2K\u000b\u2028\u2029\u202eevil\u2066","f\u0000":["a\rb"]}`),
			attempts: 1, status: 400, contains: []string{": x status: 200]0;pwned[2K   evil; f: a b"},
		},
		{
			name:     "separators and bidi overrides in the request id",
			handler:  answer(400, `{}`, "X-Request-Id", "a\u2028b\u202ec"),
			attempts: 1, status: 400, contains: []string{"(request id a bc)"},
		},
		{
			name:     "invalid UTF-8 in a body that is not JSON",
			handler:  answer(400, "bad \xff\xfe bytes \x1b[31m", "Content-Type", "text/plain"),
			attempts: 1, status: 400,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "bad \uFFFD\uFFFD bytes [31m", string(apiErr.Body))
			},
		},
		{
			name:     "two thousand long problems",
			handler:  answer(400, problems(2000)),
			attempts: 1, status: 400, contains: []string{"more"}, within: 2 * time.Second, heavy: true,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Len(t, apiErr.Problems, 20)
				assert.Less(t, len(err.Error()), 8<<10)
			},
		},
		{
			name:     "error body nested 10,000 deep",
			handler:  answer(400, strings.Repeat(`{"a":`, 10000)+`"`+hEmail+`"`+strings.Repeat("}", 10000)),
			attempts: 1, status: 400, within: 2 * time.Second, heavy: true,
		},
		{
			name:     "error body with an unknown key keeps its problems",
			handler:  answer(400, `{"detail":"x","status_code":400,"end_user_origin_id":"taken","other":{"a":1}}`),
			attempts: 1, status: 400,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, []client.Problem{{Detail: "x"}, {Field: "end_user_origin_id", Detail: "taken"}}, apiErr.Problems)
			},
		},

		// --- 5 and 7. Responses that break the contract are not retried.
		{
			name:     "201 with a token",
			handler:  answer(201, `{"link_token":"`+hToken+`"}`),
			attempts: 1, status: 201, is: []error{client.ErrContractBroken}, contains: []string{"status 201 is not the documented 200"},
		},
		{
			name:     "204 without a body",
			handler:  answer(204, ``),
			attempts: 1, status: 204, is: []error{client.ErrContractBroken},
		},
		{
			name:     "200 without a token",
			handler:  answer(200, `{"integration_name":"`+hEmail+`"}`),
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, isNot: []error{client.ErrServerError},
		},
		{
			name: "200 {} through contracttest's validating transport",
			opts: func(*hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)})}
			},
			handler: answer(200, `{}`), attempts: 1,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var ce *contracttest.ContractError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "response", ce.Side)
			},
		},
		{
			name: "a RoundTripper's contract error after a response",
			opts: func(h *hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(&http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
					resp, err := http.DefaultTransport.RoundTrip(r)
					if err != nil {
						return nil, err
					}
					resp.Body.Close()
					return nil, &brokenContract{rule: "link_token is required"}
				})})}
			},
			handler: answer(200, `{}`), attempts: 1, is: []error{client.ErrContractBroken},
			check: func(t *testing.T, _ *hostileServer, err error) {
				var bc *brokenContract
				require.ErrorAs(t, err, &bc)
			},
		},

		// --- 4. The retry policy, branch by branch.
		{
			name: "connection refused is retried",
			opts: func(h *hostileServer) []client.Option {
				closed := httptest.NewServer(http.NotFoundHandler())
				closed.Close()
				var d net.Dialer
				return []client.Option{client.WithBaseURL(closed.URL), client.WithHTTPClient(transportWith(h, func(ctx context.Context, network, _ string) (net.Conn, error) {
					return d.DialContext(ctx, network, closed.Listener.Addr().String())
				}))}
			},
			handler:  answer(200, `{}`),
			attempts: 0, is: []error{syscall.ECONNREFUSED}, contains: []string{"after 3 attempts"},
			check: func(t *testing.T, h *hostileServer, _ error) { assert.EqualValues(t, 3, h.dials.Load()) },
		},
		{
			name: "a temporary DNS failure is retried",
			opts: func(h *hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(transportWith(h, func(context.Context, string, string) (net.Conn, error) {
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "server misbehaving", Name: "api.merge.dev", IsTemporary: true}}
				}))}
			},
			handler:  answer(200, `{}`),
			attempts: 0, contains: []string{"after 3 attempts", "server misbehaving"},
			check: func(t *testing.T, h *hostileServer, _ error) { assert.EqualValues(t, 3, h.dials.Load()) },
		},
		{
			name: "no such host is not retried",
			opts: func(h *hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(transportWith(h, func(context.Context, string, string) (net.Conn, error) {
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.merge.dev", IsNotFound: true}}
				}))}
			},
			handler:  answer(200, `{}`),
			attempts: 0, contains: []string{"no such host"},
			check: func(t *testing.T, h *hostileServer, err error) {
				assert.EqualValues(t, 1, h.dials.Load())
				var dnsErr *net.DNSError
				assert.ErrorAs(t, err, &dnsErr)
			},
		},
		{
			name: "a certificate that does not verify is not retried", tls: true, untrusted: true,
			handler:  answer(200, `{"link_token":"`+hToken+`"}`),
			attempts: 0, contains: []string{"certificate"},
			check: func(t *testing.T, h *hostileServer, _ error) {
				assert.EqualValues(t, 1, h.conns.Load(), "one handshake")
			},
		},
		{
			name: "reset after the server read the body is not retried",
			handler: func(_ *hostileServer, _ int, w http.ResponseWriter, _ *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
				_ = conn.Close()
			},
			attempts: 1,
		},
		{
			name: "an invalid header value is not retried",
			opts: func(h *hostileServer) []client.Option {
				return []client.Option{client.WithHTTPClient(&http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
					h.trips.Add(1)
					r = r.Clone(r.Context())
					r.Header.Set("X-Trace", "a\x00b")
					return http.DefaultTransport.RoundTrip(r)
				})})}
			},
			handler:  answer(200, `{}`),
			attempts: 0, contains: []string{"invalid header field value"},
			check: func(t *testing.T, h *hostileServer, _ error) { assert.EqualValues(t, 1, h.trips.Load()) },
		},
		{
			name:     "429 is retried and classed as rate limited",
			handler:  answer(429, `{"detail":"slow down"}`, "Retry-After", "0"),
			attempts: 3, status: 429, is: []error{client.ErrRateLimited}, isNot: []error{client.ErrServerError},
		},
		{
			name:     "501 is not retried",
			handler:  answer(501, `{}`),
			attempts: 1, status: 501, is: []error{client.ErrServerError},
		},

		// --- Slow and hanging peers: the deadline holds.
		{
			name: "headers never sent", timeout: 500 * time.Millisecond, realSleep: true,
			handler: func(_ *hostileServer, _ int, _ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			attempts: 1, is: []error{context.DeadlineExceeded},
		},
		{
			name: "body trickled slower than the deadline", timeout: 600 * time.Millisecond, realSleep: true,
			handler: func(_ *hostileServer, _ int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(200)
				for range 1000 {
					if _, err := w.Write([]byte("{")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			},
			attempts: 1, is: []error{context.DeadlineExceeded}, contains: []string{"read response"},
		},
		{
			name: "a wait longer than the deadline keeps the last response", timeout: time.Second, realSleep: true,
			handler:  answer(503, `{"detail":"busy"}`, "Retry-After", "2", "X-Request-Id", "req-last"),
			attempts: 1, within: 300 * time.Millisecond, status: 503,
			is: []error{context.DeadlineExceeded, client.ErrServerError}, contains: []string{"(request id req-last)", "busy"},
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 2*time.Second, apiErr.RetryAfter)
			},
		},
		{
			name: "a retry cut short by the deadline keeps the last response", timeout: time.Second,
			handler: func(h *hostileServer, n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					answer(503, `{}`, "X-Request-Id", "req-first")(h, n, w, r)
					return
				}
				<-r.Context().Done()
			},
			attempts: 2, status: 503, is: []error{context.DeadlineExceeded, client.ErrServerError}, contains: []string{"req-first"},
		},

		// --- Retry-After values no server should send.
		{
			name:     "Retry-After of 2^63-1 seconds",
			handler:  answer(503, `{}`, "Retry-After", strconv.FormatInt(math.MaxInt64, 10)),
			attempts: 1, status: 503,
			check: retryAfterIs(time.Duration(math.MaxInt64)),
		},
		{
			name:     "Retry-After too large for an int64",
			handler:  answer(429, `{}`, "Retry-After", "99999999999999999999"),
			attempts: 1, status: 429,
			check: retryAfterIs(time.Duration(math.MaxInt64)),
		},
		{
			name:     "negative Retry-After is ignored",
			handler:  answer(503, `{}`, "Retry-After", "-5"),
			attempts: 3, status: 503,
			check: retryAfterIs(0),
		},
		{
			name:     "Retry-After as an HTTP date far in the future",
			handler:  answer(503, `{}`, "Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
			attempts: 1, status: 503,
		},

		// --- Issue 19: a 200 is read as the spec reads it.
		{
			name:     "200 whose member differs from link_token only in case: link_token is missing",
			handler:  answer(200, `{"LINK_TOKEN":"`+hToken+`"}`),
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, contains: []string{"link_token is missing"},
		},
		{
			name:     "200 with link_token and a re-cased twin: the exact member wins",
			handler:  answer(200, `{"link_token":"`+hToken+`","Link_Token":"tok_other"}`),
			attempts: 1, token: true,
		},
		{
			name:     "200 with a re-cased twin before the exact member",
			handler:  answer(200, `{"Link_Token":"tok_other","link_token":"`+hToken+`"}`),
			attempts: 1, token: true,
		},
		{
			name:     "200 whose magic_link_url is null, which the spec does not allow",
			handler:  answer(200, `{"link_token":"`+hToken+`","magic_link_url":null}`),
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, contains: []string{"magic_link_url is null"},
		},
		{
			name:     "200 whose integration_name is null",
			handler:  answer(200, `{"link_token":"`+hToken+`","integration_name":null}`),
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, contains: []string{"integration_name is null"},
		},
		{
			name:     "200 as text/html",
			handler:  answer(200, `{"link_token":"`+hToken+`"}`, "Content-Type", "text/html"),
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, contains: []string{`Content-Type "text/html" is not the spec's application/json`},
		},
		{
			name: "200 without a Content-Type",
			handler: func(_ *hostileServer, _ int, w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = nil // net/http would sniff one
				_, _ = io.WriteString(w, `{"link_token":"`+hToken+`"}`)
			},
			attempts: 1, status: 200, is: []error{client.ErrContractBroken}, contains: []string{"no Content-Type"},
		},

		// --- Issue 19: cleaning is bounded in time, and the call never
		// outlives its context.
		{
			name:     "1 MiB detail of Ö for an email of 90 ö, under a 300 ms deadline",
			email:    strings.Repeat("ö", 90) + "@x.io",
			handler:  answer(400, `{"detail":"`+strings.Repeat("Ö", 1<<19-8)+`"}`),
			timeout:  300 * time.Millisecond,
			attempts: 1, status: 400, heavy: true,
		},
		{
			name:     "half a MiB of Ö and 20 problems of Ö on 503, retried three times",
			email:    strings.Repeat("ö", 90) + "@x.io",
			handler:  answer(503, `{"detail":"`+strings.Repeat("Ö", 1<<18)+`","errors":[`+strings.Repeat(`{"title":"`+strings.Repeat("Ö", 2000)+`","detail":"d","problem_type":"P"},`, 19)+`{"title":"t","detail":"d","problem_type":"P"}]}`),
			timeout:  time.Second,
			attempts: 3, status: 503, heavy: true,
		},

		// --- Issue 19: the forms of an echoed secret that are covered.
		{
			name:     "email echoed trimmed, when given with a trailing space",
			email:    hEmail + " ",
			handler:  answer(400, `{"detail":"unknown user `+hEmail+`."}`),
			attempts: 1, status: 400, contains: []string{"unknown user [redacted]."},
		},
		{
			name:     "email percent-encoded inside JSON",
			handler:  answer(400, `{"detail":"see /users/`+strings.ReplaceAll(hEmail, "@", "%40")+` and /u/`+strings.ReplaceAll(hEmail, "@", "%2540")+`"}`),
			attempts: 1, status: 400, contains: []string{"see /users/[redacted] and /u/[redacted]"},
		},
		{
			name:     "email as HTML character references inside JSON",
			handler:  answer(400, `{"detail":"`+strings.ReplaceAll(hEmail, "@", "&#64;")+` `+strings.ReplaceAll(hEmail, "@", "&commat;")+`"}`),
			attempts: 1, status: 400, contains: []string{"[redacted] [redacted]"},
		},
		{
			name:     "email re-cased under simple case folding (K and the Kelvin sign)",
			email:    "kim@example.com",
			handler:  answer(400, `{"detail":"`+"\u212Aim@EXAMPLE.com"+`"}`),
			attempts: 1, status: 400, contains: []string{"[redacted]"},
		},

		// --- Issue 19: redirects.
		{
			name: "307 whose Location is not a URL",
			handler: func(_ *hostileServer, _ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", "http://[::1")
				w.WriteHeader(307)
			},
			attempts: 1, status: 307, contains: []string{"Location is not a URL", "location http://[::1"},
		},
		{
			name: "Location with the email encoded twice",
			handler: redirectTo(307, func(h *hostileServer) string {
				return h.other.URL + "/" + strings.ReplaceAll(hEmail, "@", "%2540")
			}),
			attempts: 1, status: 307,
			check: func(t *testing.T, _ *hostileServer, err error) {
				var apiErr *client.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Regexp(t, `^http://127\.0\.0\.1:\d+/\[redacted\]$`, apiErr.Location)
			},
		},

		// --- Connections are kept.
		{
			name: "a retried 503 with a 100 KiB body keeps its connection",
			handler: func(h *hostileServer, n int, w http.ResponseWriter, r *http.Request) {
				if n%2 == 1 {
					answer(503, `{"detail":"`+strings.Repeat("z", 100<<10)+`"}`)(h, n, w, r)
					return
				}
				answer(200, `{"link_token":"`+hToken+`"}`)(h, n, w, r)
			},
			// Ten retries, each after a random wait of up to 250 ms.
			calls: 10, attempts: 20, token: true, within: 10 * 250 * time.Millisecond, heavy: true,
			check: func(t *testing.T, h *hostileServer, _ error) {
				assert.EqualValues(t, 1, h.conns.Load(), "one connection for every call")
			},
		},
		{
			name:    "a success on TLS",
			tls:     true,
			handler: answer(200, `{"link_token":"`+hToken+`"}`), attempts: 1, token: true,
		},
	}
}

func retryAfterIs(want time.Duration) func(t *testing.T, _ *hostileServer, err error) {
	return func(t *testing.T, _ *hostileServer, err error) {
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, want, apiErr.RetryAfter)
	}
}

// TestHostileServer runs every case against a real server that misbehaves on
// purpose. Each asserts the requests made, the time taken, the error's
// class, and that neither the key nor the email shows in any rendering of
// the error, its fields or the log.
func TestHostileServer(t *testing.T) {
	t.Parallel()
	cases := hostileCases()
	require.GreaterOrEqual(t, len(cases), 40)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.heavy {
				t.Parallel()
			}
			key, email := or(tc.key, hKey), or(tc.email, hEmail)
			h := newHostileServer(t, tc.tls, tc.handler)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			opts := []client.Option{client.WithBaseURL(h.URL), client.WithLogger(logger)}
			if tc.tls && !tc.untrusted {
				opts = append(opts, client.WithHTTPClient(h.Client()))
			}
			if !tc.realSleep {
				opts = append(opts, client.WithRetryClock(func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
					func(n int64) int64 { return n - 1 }, time.Now))
			}
			if tc.opts != nil {
				opts = append(opts, tc.opts(h)...)
			}
			c, err := client.New(key, opts...)
			require.NoError(t, err)
			req := validRequest()
			req.EndUserEmailAddress = email
			if tc.req != nil {
				tc.req(&req)
			}
			timeout := or(tc.timeout, 2*time.Second)
			within := or(tc.within, or(tc.timeout, 500*time.Millisecond))

			var tok *client.LinkToken
			start := time.Now()
			for range max(tc.calls, 1) {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				tok, err = c.CreateLinkToken(ctx, req)
				cancel()
			}
			elapsed := time.Since(start)
			if testing.Verbose() && err != nil {
				s := err.Error()
				if len(s) > 300 {
					s = s[:300] + "..."
				}
				t.Logf("%s", s)
			}

			assert.Equal(t, tc.attempts, int(h.requests.Load()), "requests the server received")
			assert.Zero(t, h.otherRequests.Load(), "no request reached another origin")
			assert.LessOrEqual(t, elapsed, within+slack, "time taken")
			logger.Debug("call failed", "err", err) // through LogValue
			if tc.token {
				require.NoError(t, err)
				assert.Equal(t, hToken, tok.LinkToken)
			} else {
				require.Error(t, err)
				assert.Nil(t, tok)
			}
			var apiErr *client.APIError
			if tc.status != 0 {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
			} else if err != nil {
				assert.False(t, errors.As(err, &apiErr), "not an *APIError: %v", err)
			}
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tc.isNot {
				assert.NotErrorIs(t, err, target)
			}
			for _, s := range tc.contains {
				assert.Contains(t, fmt.Sprint(err), s)
			}
			if tc.check != nil {
				tc.check(t, h, err)
			}
			assertNothingLeaks(t, key, email, err, logs.String())
		})
	}
}

// slack is what a loaded machine may add to a bound on time.
const slack = 500 * time.Millisecond

func or[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}

// assertNothingLeaks checks every rendering of err, the fields of its
// *APIError and the log for the key and the email (in any case, and in hex),
// and err's line for control and formatting characters. A key shorter than
// four characters cannot be looked for.
func assertNothingLeaks(t *testing.T, key, email string, err error, logs string) {
	t.Helper()
	shown := map[string]string{"log": logs}
	if err != nil {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			shown[verb] = fmt.Sprintf(verb, err)
		}
		shown["Error"] = err.Error()
		assertOneCleanLine(t, err.Error())
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			shown["Body"] = string(apiErr.Body)
			shown["RequestID"] = apiErr.RequestID
			shown["Location"] = apiErr.Location
			shown["APIError value"] = fmt.Sprintf("%#v", *apiErr)
			for i, p := range apiErr.Problems {
				shown["Problem "+strconv.Itoa(i)] = fmt.Sprintf("%#v %v", p, p)
				assertOneCleanLine(t, p.String())
			}
		}
	}
	secrets := []string{email, hToken}
	if len(key) >= 4 {
		secrets = append(secrets, key)
	}
	for where, out := range shown {
		lower := strings.ToLower(out)
		for _, s := range secrets {
			assert.NotContains(t, lower, strings.ToLower(s), where)
			assert.NotContains(t, lower, hex.EncodeToString([]byte(s)), where+" (hex)")
		}
	}
}

func assertOneCleanLine(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			assert.Failf(t, "control or formatting character", "%U in %q", r, s)
			return
		}
	}
}

// syncWriter lets a slog handler write from the client's goroutine while
// the test reads.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestLongServerTextIsBounded: a long server string is cleaned from a
// bounded part of it: what is shown is at most 1 KiB, never holds a secret
// (however it sits across the cuts: secrets, runs of dropped control
// characters, secrets that shrink to "[redacted]", invalid UTF-8), and is
// exactly the whole string's cleaning when the string is within what is
// read.
func TestLongServerTextIsBounded(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{hKey, hEmail, strings.ToUpper(hEmail), "\x1b", "\u202e", "\xff", "x", "ö", "ada.lov", strings.Repeat("\x00", 100), "%40", "&#64;"}
	var inputs []string
	for _, cut := range []int{1 << 10, 4 << 10, 16 << 10, 64 << 10} {
		for off := -len(hEmail); off <= 0; off++ {
			inputs = append(inputs, strings.Repeat("r", cut+off)+hEmail+strings.Repeat("r", 100))
			inputs = append(inputs, strings.Repeat(hEmail, (cut+off)/len(hEmail))+strings.Repeat("\x07", cut%97)+hKey+strings.Repeat("s", 2000))
		}
		inputs = append(inputs, strings.Repeat("\x1b", cut-5)+hEmail+strings.Repeat("t", 5000))
	}
	for range 300 {
		var b strings.Builder
		for b.Len() < 1<<10+rng.IntN(80<<10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for i, s := range inputs {
		got := client.CleanText(hKey, hEmail, s)
		require.LessOrEqual(t, len(got), client.MaxShownText, "input %d", i)
		require.NotContains(t, strings.ToLower(got), "ada.lovelace@", "input %d", i)
		require.NotContains(t, strings.ToLower(got), strings.ToLower(hKey), "input %d", i)
		if len(s) <= client.MaxShownText {
			require.Equal(t, client.CleanTextWhole(hKey, hEmail, s), got, "input %d (%d bytes) is read whole", i, len(s))
		}
	}
	huge := strings.Repeat("r", 4<<20)
	best := time.Hour
	for range 5 {
		start := time.Now()
		client.CleanText(hKey, hEmail, huge)
		best = min(best, time.Since(start))
	}
	assert.Less(t, best, 20*time.Millisecond, "a 4 MiB string costs little")
}
