package client

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// The transport policy: where a request may go (redirects), the connection
// pool shared by clients, and the User-Agent.
const (
	// defaultTimeout bounds each attempt when the caller gives no *http.Client.
	defaultTimeout = 60 * time.Second
	// defaultConnsPerHost sizes the shared pool: up to this many calls in
	// flight to one host each get a connection at once and keep it idle for
	// the next burst (net/http's default keeps 2 idle, so a busy service
	// closes and reopens connections all the time); beyond it, calls wait
	// for a connection. Measured in BenchmarkConcurrent: against an API 20
	// ms away, a pool of this size matches the best raw net/http pool at 1
	// to 512 calls in flight, where a cap of 64 connections would queue
	// calls (64 in flight at most, so at most 64/latency calls per second).
	defaultConnsPerHost = 512
	// maxResponseHeaderBytes bounds the response headers the default
	// transport reads (net/http's default is 10 MiB); Merge's are a few
	// hundred bytes.
	maxResponseHeaderBytes = 64 << 10
	// maxRedirects is how many same-origin 307 or 308 redirects one attempt
	// follows before the last 3xx is returned as an *APIError.
	maxRedirects = 3
	// modulePath names this module in the User-Agent.
	modulePath = "github.com/mergelink/linktoken"
)

// withRedirectPolicy returns a copy of hc (or of a default client: a 60
// second timeout per attempt on the shared pool) whose redirects follow the
// package's one redirect policy, checked before hc's own CheckRedirect:
//
//   - a redirect that changes the scheme, the host or the port is refused,
//     so the Authorization header goes only to the origin the client was
//     configured with (https, or http on loopback: see WithBaseURL);
//   - a redirect that changes the method (301, 302 and 303 turn POST into
//     GET) is refused: the GET cannot create a token;
//   - after maxRedirects redirects the next one is refused.
//
// A refused redirect is not an error of the round trip: the 3xx response
// comes back and becomes an *APIError with its Location. The caller's client
// is never changed.
func withRedirectPolicy(hc *http.Client) *http.Client {
	var cp http.Client
	if hc != nil {
		cp = *hc
	} else {
		cp.Timeout = defaultTimeout
		cp.Transport = defaultTransport()
	}
	if cp.Transport == nil {
		cp.Transport = http.DefaultTransport
	}
	cp.Transport = sendOnce{cp.Transport}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if !sameOrigin(first.URL, req.URL) || req.Method != first.Method || len(via) > maxRedirects {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cp
}

// sendOnce is the last layer of the client's own above the transport: it
// hands each request down without its GetBody, so that net/http can never
// send a request's body a second time by itself. net/http resends a
// request whose body it can rewind (GetBody set, as http.NewRequest sets
// it) in two cases that are not safe for a POST that creates a token:
//
//   - HTTP/2: after a stream reset with PROTOCOL_ERROR, as after
//     REFUSED_STREAM or a GOAWAY, immediately and up to 7 times per
//     connection, and on a fresh connection each time the old one is gone
//     (a server that read a whole POST and reset it got it a thousand
//     times in two seconds);
//   - HTTP/1: on a reused connection the server closed after reading the
//     request, when the request carries an Idempotency-Key header
//     (Request.isReplayable).
//
// Without GetBody, net/http resends only a request of which it has read
// nothing (an HTTP/2 connection that could not take the stream), and
// returns every other failure to the retry policy, which resends only what
// provably never reached the server (see safeToResend), after its backoff
// and within its count. The client's own redirects still rewind the body:
// http.Client follows a 307 or 308 with the GetBody of the request it was
// given, above this layer. A RoundTripper given with WithHTTPClient that
// sets GetBody again gives net/http its resends back.
type sendOnce struct{ next http.RoundTripper }

func (t sendOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		once := *r // a shallow copy: RoundTrip must not change r
		once.GetBody = nil
		r = &once
	}
	return t.next.RoundTrip(r)
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

// redirectReason says why a 3xx response reached the caller instead of being
// followed; endpoint is where the first request of the attempt went.
func redirectReason(resp *http.Response, endpoint *url.URL) string {
	loc, err := resp.Location()
	if err != nil {
		return "" // a 3xx without a usable Location: not a redirect to follow
	}
	switch {
	case !sameOrigin(endpoint, loc):
		return "refused a redirect to another origin (the scheme, host or port changed)"
	case redirectsFollowed(resp) >= maxRedirects:
		return fmt.Sprintf("stopped after %d redirects", maxRedirects)
	case resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusFound ||
		resp.StatusCode == http.StatusSeeOther:
		return "refused a redirect that turns the POST into a GET"
	}
	return "redirect not followed"
}

// redirectsFollowed counts the redirects that led to resp.
func redirectsFollowed(resp *http.Response) int {
	n := 0
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		n++
	}
	return n
}

// shownURL is a server-given URL as an APIError keeps it: scheme, host and
// the decoded path, without user info, query or fragment, which may carry
// anything. The result is server-controlled text, to be cleaned.
func shownURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}

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

// Version returns this module's version in the running program's build, as
// the User-Agent reports it: the tag it was built at (a program installed
// with go install ...@v0.1.0, or one whose go.mod requires v0.1.0), or
// "(devel)" when it was built from a checkout or without build info.
func Version() string { return buildVersion() }

var buildVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	return moduleVersion(info, ok)
})

// moduleVersion finds this module's version in build info.
func moduleVersion(info *debug.BuildInfo, ok bool) string {
	version := "(devel)"
	if !ok || info == nil {
		return version
	}
	if info.Main.Path == modulePath && info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == modulePath && dep.Version != "" {
			version = dep.Version
		}
	}
	return version
}

var userAgent = sync.OnceValue(func() string {
	return modulePath + "/" + Version() + " go/" + runtime.Version()
})

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
