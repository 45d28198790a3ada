package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// The retry policy, written down in the package doc: an attempt is retried
// when Merge answered that it failed and may succeed later (429, 500, 502,
// 503, 504), or when the request provably never reached the server (see
// safeToResend). Anything else is returned after one attempt.
const (
	// defaultMaxRetries is how many times a request is retried by default.
	defaultMaxRetries = 2
	// baseRetryDelay is the first backoff's upper bound; it doubles per retry.
	baseRetryDelay = 250 * time.Millisecond
	// maxRetryDelay caps the exponential backoff.
	maxRetryDelay = 5 * time.Second
	// maxRetryAfter caps the wait a server may ask for with Retry-After. A
	// longer ask is not retried: the error carries RetryAfter instead.
	maxRetryAfter = 30 * time.Second
)

// defaultClock waits for real, with math/rand/v2's jitter.
var defaultClock = clock{sleep: shared.Sleep, jitter: rand.Int64N, now: time.Now}

// run sends the attempts of a call, up to 1+maxRetries of them, waiting
// between them as the policy says, and returns the last response (its body
// read) or error. send is one attempt: the generated client builds a fresh
// request under the attempt's context (its own headers and body, so that
// nothing one attempt's RoundTripper did carries over) and hands it to the
// call's Do. When the context ends during a wait, or leaves no room for it,
// after a failed attempt, run returns a *stopped error and keeps that
// attempt's outcome in the call.
func (c *call) run(send func(ctx context.Context) (*http.Response, error)) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		c.attempts = attempt
		c.prev, c.prevErr = c.last, c.lastErr
		resp, err := c.sendAttempt(send)
		c.last, c.lastErr = resp, err
		if resp != nil {
			c.arrived = c.s.clock.now()
		}
		if err != nil && c.ctx.Err() != nil {
			return nil, err // the context cut this attempt short
		}
		wait, retry, class := c.retryWait(resp, err, attempt)
		if !retry || attempt > c.s.maxRetries {
			return resp, err
		}
		if deadline, ok := c.ctx.Deadline(); ok && c.s.clock.now().Add(wait).After(deadline) {
			// The wait would outlive the deadline: the call cannot succeed.
			return nil, &stopped{context.DeadlineExceeded}
		}
		c.logRetry(attempt, statusOf(resp), class, wait)
		if err := c.s.clock.sleep(c.ctx, wait); err != nil {
			return nil, &stopped{err}
		}
	}
}

// sendAttempt is one attempt of send, under the per-attempt timeout
// (WithAttemptTimeout, or the HTTP client's).
func (c *call) sendAttempt(send func(ctx context.Context) (*http.Response, error)) (*http.Response, error) {
	ctx := c.ctx
	if d := c.attemptTimeout(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return send(ctx)
}

// stopped is what Do returns when the context stopped the call between
// attempts: the last attempt's outcome is in the call.
type stopped struct{ cause error }

func (e *stopped) Error() string { return e.cause.Error() }
func (e *stopped) Unwrap() error { return e.cause }

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// retryWait decides whether the policy retries after a failed attempt, how
// long it waits first (the server's Retry-After, up to maxRetryAfter, for a
// retryable status, else full-jitter backoff), and the failure's class for
// the log.
func (c *call) retryWait(resp *http.Response, err error, attempt int) (time.Duration, bool, string) {
	if err != nil {
		class, safe := safeToResend(err)
		if !safe && c.s.resendAfterWrite && resendableWithKey(class) {
			// WithResendAfterWrite: the caller's Idempotency-Key makes a
			// second request the first one's.
			safe = true
		}
		return c.backoff(attempt), safe, class
	}
	if !retryable(resp.StatusCode) || c.tooLarge {
		return 0, false, ""
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.s.clock.now()); ok {
		return after, after <= maxRetryAfter, ""
	}
	return c.backoff(attempt), true, ""
}

// retryable reports whether a status is worth retrying.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is full jitter after the attempt-th attempt: a random wait in
// [0, min(maxRetryDelay, baseRetryDelay·2^(attempt-1))). The shift stops
// at 16, far past the cap (reached from attempt 6), so it cannot overflow;
// the ceiling is never 0, as rand.Int64N needs.
func (c *call) backoff(attempt int) time.Duration {
	ceiling := min(maxRetryDelay, baseRetryDelay<<min(attempt-1, 16))
	return time.Duration(c.s.clock.jitter(int64(ceiling)))
}

// notProcessedHTTP2 matches, whole, the errors of net/http's HTTP/2
// transport for a stream the server did not process (RFC 9113 sections 6.8
// and 8.7): reset with REFUSED_STREAM, or above the last-stream-id of a
// GOAWAY. The transport would resend such a request by itself; without a
// GetBody (see attempt) it returns these errors instead. net/http exports
// neither error, so they are matched by their text, anchored at both ends
// so that no text a server sends can make a match; if a Go release changes
// the text, the failure is not retried, and TestNeverSentTwiceOverHTTP2
// fails.
var notProcessedHTTP2 = regexp.MustCompile(`^(?:` +
	`http2: Transport: cannot retry err \[(?:` +
	`stream error: stream ID \d+; REFUSED_STREAM; received from peer|` +
	`http2: Transport received Server's graceful shutdown GOAWAY` +
	`)\] after Request\.Body was written; define Request\.GetBody to avoid this error|` +
	`http2: Transport received GOAWAY from server ErrCode:[A-Z_0-9]+` +
	`)$`)

// safeToResend names a failure where no response arrived, and reports
// whether the request provably never reached the server, so that sending it
// again cannot create a second token:
//
//   - "dial": the connection was never made (refused, unreachable, a dial
//     timeout): net/http dials before it writes;
//   - "dns": a temporary failure to resolve the host;
//   - "http2 not processed": an HTTP/2 server refused the stream
//     (REFUSED_STREAM) or sent a GOAWAY whose last-stream-id is below it:
//     by RFC 9113, it did not process the request.
//
// Everything else is not retried, for one of two reasons. It is permanent:
// "no such host", a certificate that does not verify, an invalid request, an
// error of the caller's RoundTripper (such as a contract check). Or the
// request may have been processed: a reset, an EOF, "server closed idle
// connection" (which net/http reports after writing a request too,
// golang/go#19943) or a timeout once the request was written.
func safeToResend(err error) (class string, safe bool) {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrContractBroken):
		return "contract broken", false
	case errors.Is(err, context.Canceled):
		return "canceled", false
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded", false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host", false
	case errors.As(err, &dnsErr):
		return "dns", dnsErr.IsTemporary || dnsErr.IsTimeout
	case isCertificateError(err):
		return "tls certificate", false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "dial", true
	case notProcessedByHTTP2(err):
		return "http2 not processed", true
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", false
	}
	return "connection", false
}

// resendableWithKey reports whether a failure of a class may be resent under
// WithResendAfterWrite: one where the request may have been written (a
// reset, an EOF, a timeout), and not one that is permanent or the caller's
// (a certificate, a host that does not exist, a contract check, the
// context).
func resendableWithKey(class string) bool {
	return class == "connection" || class == "timeout"
}

func isCertificateError(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verifyErr) || errors.As(err, &unknownAuthority) ||
		errors.As(err, &hostname) || errors.As(err, &invalid)
}

// notProcessedByHTTP2 reports whether err, or an error it wraps, is one of
// notProcessedHTTP2's.
func notProcessedByHTTP2(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if notProcessedHTTP2.MatchString(err.Error()) {
			return true
		}
	}
	return false
}

// parseRetryAfter reads a Retry-After value (RFC 9110): a number of seconds
// (digits only; a number too large for a time.Duration is the longest
// duration) or an HTTP date (one in the past is zero). It reports false for
// anything else, a negative number included.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 63)
		if err != nil || secs > math.MaxInt64/uint64(time.Second) {
			return time.Duration(math.MaxInt64), true // out of range: the longest
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
