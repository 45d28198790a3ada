package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// The transport policy: where a request may go (redirects), how much of a
// response is read, and the connection pool shared by clients.
const (
	// defaultTimeout bounds each attempt when the caller gives no
	// *http.Client.
	defaultTimeout = 60 * time.Second
	// defaultConnsPerHost sizes the shared pool: up to this many calls in
	// flight to one host each get a connection at once and keep it idle for
	// the next burst (net/http's default keeps 2 idle, so a busy service
	// closes and reopens connections all the time); beyond it, calls wait
	// for a connection. Measured in BenchmarkConcurrent: against an API 20
	// ms away, a pool of this size matches the best raw net/http pool at 1
	// to 512 calls in flight, where a cap of 64 connections would queue
	// calls.
	defaultConnsPerHost = 512
	// maxResponseHeaderBytes bounds the response headers the default
	// transport reads (net/http's default is 10 MiB); Merge's are a few
	// hundred bytes.
	maxResponseHeaderBytes = 64 << 10
	// maxRedirects is how many same-origin 307 or 308 redirects one attempt
	// follows before the last 3xx is returned as an *APIError.
	maxRedirects = 3
	// maxBodyBytes caps how much of a response body is read.
	maxBodyBytes = 1 << 20
)

// defaultTransport is shared by every client built without WithHTTPClient,
// so they share one connection pool.
var defaultTransport = sync.OnceValue(func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxConnsPerHost = defaultConnsPerHost
	t.MaxIdleConnsPerHost = defaultConnsPerHost
	t.MaxIdleConns = 0 // no limit across hosts: the per-host bound is the one that matters
	t.MaxResponseHeaderBytes = maxResponseHeaderBytes
	return t
})

// sender is how a client sends an attempt: the caller's *http.Client (a
// copy of its fields) or the default one. The client calls the Transport's
// RoundTrip itself instead of http.Client.Do, so that the package's one
// redirect policy sees every 3xx, one whose Location is not a URL included,
// and so that net/http never gets a GetBody (see attempt).
type sender struct {
	transport     http.RoundTripper
	timeout       time.Duration
	checkRedirect func(req *http.Request, via []*http.Request) error
}

// newSender returns the sender for hc (nil: the default client), refusing
// a Transport that would send the base URL's plain-http requests (loopback
// only) through a proxy on another host.
func newSender(hc *http.Client, baseURL string) (sender, error) {
	if hc == nil {
		return sender{transport: defaultTransport(), timeout: defaultTimeout}, nil
	}
	s := sender{transport: hc.Transport, timeout: hc.Timeout, checkRedirect: hc.CheckRedirect}
	if s.transport == nil {
		s.transport = http.DefaultTransport
	}
	if t, ok := s.transport.(*http.Transport); ok && t.Proxy != nil && strings.HasPrefix(baseURL, "http://") {
		req, err := http.NewRequest(http.MethodPost, baseURL, nil)
		if err != nil {
			return sender{}, err
		}
		if proxy, err := t.Proxy(req); err == nil && proxy != nil && !shared.IsLoopback(proxy.Hostname()) {
			return sender{}, optionError("WithHTTPClient", "its Transport sends plain-http requests through a proxy on %s, which would see the API key; use https, or a proxy on loopback", shared.Quote(proxy.Host))
		}
	}
	return s, nil
}

// Do is the call's HttpRequestDoer, under the generated client: it sends
// one attempt's request, which the generated client built for it alone,
// following the redirects the policy allows, and returns the last response
// with its body read (at most maxBodyBytes of it; c.tooLarge says whether
// there was more) and closed, so the connection can be reused, or the
// round trip's error. The request's context carries the attempt's timeout.
//
// The request handed to the transport has no GetBody. net/http resends a
// request whose body it can rewind in two cases that are not safe for a
// POST: over HTTP/2 after a stream reset with PROTOCOL_ERROR (as after
// REFUSED_STREAM or a GOAWAY), at once and again on each fresh connection
// (a server that read a whole POST and reset it got it a thousand times in
// two seconds); over HTTP/1 on a reused connection the server closed after
// reading the request, when it carries an Idempotency-Key header
// (Request.isReplayable). Without GetBody, net/http resends only a request
// of which it has read nothing, and returns every other failure to the
// retry policy, which resends only what provably never reached the server.
// The redirects followed here rewind the body with the request's own
// GetBody.
func (c *call) Do(req *http.Request) (*http.Response, error) {
	c.refused, c.tooLarge = "", false
	getBody := req.GetBody
	req.GetBody = nil
	if req.Body == nil {
		req.Body = noBody{}
	}
	var via []*http.Request
	hop := req
	for {
		resp, err := c.client.sender().transport.RoundTrip(hop)
		if err != nil && req.Context().Err() != nil && c.ctx.Err() == nil {
			// The attempt's own timeout, not the call's deadline.
			err = &attemptTimeout{c.attemptTimeout(), err}
		}
		if err != nil {
			// As http.Client.Do reports it: the method and URL (a public
			// token in it is cleaned out of the error), and the cause.
			return nil, &url.Error{Op: urlErrorOp(hop.Method), URL: hop.URL.String(), Err: err}
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return c.readBody(resp)
		}
		via = append(via, hop)
		next, reason := c.redirect(resp, via)
		if next == nil {
			c.refused = reason
			return c.readBody(resp)
		}
		drain(resp.Body)
		if hop, err = newHop(req, getBody, next); err != nil {
			return nil, err
		}
	}
}

// attemptTimeout is the error of an attempt that its timeout
// (WithAttemptTimeout, or the HTTP client's) cut short: a timeout, and not
// the call's context.DeadlineExceeded.
type attemptTimeout struct {
	d     time.Duration
	cause error
}

func (e *attemptTimeout) Error() string   { return fmt.Sprintf("attempt timed out after %s", e.d) }
func (e *attemptTimeout) Timeout() bool   { return true }
func (e *attemptTimeout) Temporary() bool { return false }

// urlErrorOp is "Post" for POST, as net/http writes it.
func urlErrorOp(method string) string {
	return method[:1] + strings.ToLower(method[1:])
}

// attemptTimeout is WithAttemptTimeout's bound, else the HTTP client's.
func (c *call) attemptTimeout() time.Duration {
	if c.s.attemptTimeout > 0 {
		return c.s.attemptTimeout
	}
	return c.client.sender().timeout
}

// newHop is the request of a redirect to target: a clone of req (its own
// headers, so a RoundTripper that edits them changes no other request) with
// a fresh body from getBody, and no GetBody.
func newHop(req *http.Request, getBody func() (io.ReadCloser, error), target *url.URL) (*http.Request, error) {
	hop := req.Clone(req.Context())
	hop.URL = target
	hop.Host = ""
	hop.Body = noBody{}
	if getBody != nil {
		body, err := getBody()
		if err != nil {
			return nil, err
		}
		hop.Body = body
	}
	hop.GetBody = nil
	return hop, nil
}

// noBody is the empty body of a request that has none (a GET). It is not
// http.NoBody on purpose: net/http resends a request without a body (nil or
// http.NoBody) by itself, on an HTTP/2 reset or GOAWAY and on an HTTP/1
// connection closed after the request was written, as it would a POST with
// a GetBody; with an empty body of its own and no GetBody, it returns those
// failures to the policy instead. The request still goes out without a
// body: net/http reads this one, finds it empty, and sends no
// Content-Length and no chunks.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }

// redirect returns where the policy follows a response, or nil and, for a
// 3xx, why it is not followed:
//
//   - only 307 and 308, which keep the method and the body: a 301, 302 or
//     303 would turn the POST into a GET;
//   - only within the origin (scheme, host and port) of the first request,
//     so the Authorization header goes only where the client was configured
//     to send it (https, or http on loopback: see WithBaseURL);
//   - at most maxRedirects times;
//   - only if the caller's CheckRedirect (WithHTTPClient) agrees.
//
// A redirect not followed is not an error of the round trip: the 3xx
// response becomes an *APIError with its Location.
func (c *call) redirect(resp *http.Response, via []*http.Request) (*url.URL, string) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, ""
	}
	raw := resp.Header.Get("Location")
	if raw == "" {
		return nil, "redirect without a Location"
	}
	last := via[len(via)-1]
	loc, err := last.URL.Parse(raw)
	switch {
	case err != nil:
		return nil, "refused a redirect whose Location is not a URL"
	case !sameOrigin(via[0].URL, loc):
		return nil, "refused a redirect to another origin (the scheme, host or port changed)"
	case resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
		return nil, "refused a redirect that turns the " + last.Method + " into a GET"
	case resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect:
		return nil, "redirect not followed"
	case len(via) > maxRedirects:
		return nil, fmt.Sprintf("stopped after %d redirects", maxRedirects)
	}
	if check := c.client.sender().checkRedirect; check != nil {
		next := last.Clone(last.Context())
		next.URL = loc
		if err := check(next, via); err != nil {
			return nil, "the HTTP client's CheckRedirect refused the redirect"
		}
	}
	return loc, ""
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (RFC 6454), with the scheme's default port filled in.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(strings.TrimSuffix(a.Hostname(), "."), strings.TrimSuffix(b.Hostname(), ".")) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// readBody reads resp's body, at most maxBodyBytes (c.tooLarge reports
// more; the connection is then not worth keeping), closes it and puts the
// bytes back in its place, as a *keptBody.
func (c *call) readBody(resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(body) > maxBodyBytes {
		c.tooLarge = true
		body = body[:maxBodyBytes]
	}
	b := &keptBody{data: body}
	b.Reset(body)
	resp.Body = b
	return resp, nil
}

// keptBody is a response body already read: its bytes, and a reader of
// them.
type keptBody struct {
	bytes.Reader
	data []byte
}

func (*keptBody) Close() error { return nil }

// bodyOf is the body of a response the call read (readBody).
func bodyOf(resp *http.Response) []byte {
	if b, ok := resp.Body.(*keptBody); ok {
		return b.data
	}
	return nil
}

// drain reads a little of a body it discards, so that its connection can
// be reused, and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
