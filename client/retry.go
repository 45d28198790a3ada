package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
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

// notProcessedHTTP2 matches, whole, the errors of net/http's HTTP/2
// transport for a stream the server did not process (RFC 9113 sections 6.8
// and 8.7): reset with REFUSED_STREAM, or above the last-stream-id of a
// GOAWAY. The transport would resend such a request by itself; without a
// GetBody (see sendOnce) it returns these errors instead. net/http exports
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

// retryable reports whether a status is worth retrying.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// safeToResend names a failure where no response arrived, and reports
// whether the request provably never reached the server, so that sending it
// again cannot create a second link token:
//
//   - "dial": the connection was never made (refused, unreachable, a dial
//     timeout, a temporary DNS failure): net/http dials before it writes,
//     and retries by itself only when nothing was written;
//   - "http2 not processed": an HTTP/2 server refused the stream
//     (REFUSED_STREAM) or sent a GOAWAY whose last-stream-id is below it:
//     by RFC 9113, it did not process the request.
//
// Everything else is not retried, for one of two reasons. It is permanent:
// "no such host", a certificate that does not verify, an invalid request, a
// redirect error, an error of the caller's RoundTripper (such as a contract
// check). Or the request may have been processed: a reset, an EOF or a
// timeout once the request was written.
func safeToResend(err error) (class string, safe bool) {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
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

// retryPolicy sends one call's attempts: up to 1+maxRetries of them.
type retryPolicy struct {
	// client returns the *http.Client attempts are sent with. It is behind a
	// closure so that a printer that follows pointers (a test library's
	// diff of two Clients) cannot walk into the connection pool, whose
	// buffers hold the bytes of recent requests, key and email included.
	client     func() *http.Client
	maxRetries int
	// sleep waits for d or until ctx is done; jitter returns a value in
	// [0, n); now is the clock. All are replaceable so tests are exact and
	// fast.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64
	now    func() time.Time
}

// send makes the attempts of one call until one gives a token or the policy
// stops, and returns the token or the error of the call.
func (k *core) send(ctx context.Context, body []byte, red redactor) (*LinkToken, error) {
	p := &k.retry
	start := p.now()
	// last is the error of the previous attempt, kept for when the context
	// cuts the next one short.
	var last error
	for attempt := 1; ; attempt++ {
		resp, doErr := p.client().Do(k.newRequest(ctx, body))
		var (
			tok    *LinkToken
			apiErr *APIError
			err    error
		)
		if doErr != nil {
			err = red.transportError(doErr, attempt)
		} else if tok, apiErr, err = k.checkResponse(resp, attempt, red); apiErr != nil {
			err = apiErr
		}
		if err == nil {
			k.logOutcome(ctx, start, attempt, http.StatusOK, "")
			return tok, nil
		}
		class := ""
		if apiErr == nil {
			class, _ = safeToResend(err)
		}
		if apiErr == nil && ctx.Err() != nil {
			// The context cut this attempt short.
			if last != nil {
				err = &gaveUpError{last: last, cause: err}
			}
			k.logOutcome(ctx, start, attempt, 0, class)
			return nil, err
		}
		wait, retry := p.retryWait(resp, apiErr, err, attempt)
		if !retry || attempt > p.maxRetries {
			k.logOutcome(ctx, start, attempt, statusOf(apiErr), class)
			return nil, err
		}
		if deadline, ok := ctx.Deadline(); ok && p.now().Add(wait).After(deadline) {
			// The wait would outlive the deadline: the call cannot succeed.
			k.logOutcome(ctx, start, attempt, statusOf(apiErr), class)
			return nil, &gaveUpError{last: err, cause: context.DeadlineExceeded}
		}
		k.logRetry(ctx, attempt, statusOf(apiErr), class, wait)
		if serr := p.sleep(ctx, wait); serr != nil {
			k.logOutcome(ctx, start, attempt, statusOf(apiErr), class)
			return nil, &gaveUpError{last: err, cause: serr}
		}
		last = err
	}
}

func statusOf(e *APIError) int {
	if e == nil {
		return 0
	}
	return e.StatusCode
}

// retryWait decides whether the policy retries after a failed attempt, and
// how long it waits first: the server's Retry-After (up to maxRetryAfter)
// for a retryable status, else full-jitter backoff.
func (p *retryPolicy) retryWait(resp *http.Response, apiErr *APIError, err error, attempt int) (time.Duration, bool) {
	if apiErr == nil {
		if _, safe := safeToResend(err); !safe {
			return 0, false
		}
		return p.backoff(attempt), true
	}
	if !retryable(apiErr.StatusCode) {
		return 0, false
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), p.now()); ok {
		return after, after <= maxRetryAfter
	}
	return p.backoff(attempt), true
}

// backoff is full jitter after the attempt-th attempt: a random wait in
// [0, min(maxRetryDelay, baseRetryDelay·2^(attempt-1))).
func (p *retryPolicy) backoff(attempt int) time.Duration {
	ceiling := maxRetryDelay
	if attempt <= 16 {
		ceiling = min(maxRetryDelay, baseRetryDelay<<(attempt-1))
	}
	return time.Duration(p.jitter(int64(ceiling)))
}

// parseRetryAfter reads a Retry-After value (RFC 9110): a number of seconds
// (digits only, of any length: a number too large for a time.Duration is
// the longest duration) or an HTTP date (one in the past is zero). It
// reports false for anything else, a negative number included.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		const maxSeconds = int64(math.MaxInt64 / int64(time.Second))
		secs := int64(0)
		for i := 0; i < len(v); i++ {
			secs = secs*10 + int64(v[i]-'0')
			if secs > maxSeconds {
				return time.Duration(math.MaxInt64), true
			}
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sleepContext waits for d, or returns the context's error if it is done first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func randJitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}

// logRetry logs, at debug, that an attempt failed and the next one follows
// after wait: method, host, path, the status or the failure's class. Never a
// body, a header, the key, the email or a token.
func (k *core) logRetry(ctx context.Context, attempt, status int, class string, wait time.Duration) {
	if k.logger == nil || !k.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	k.logger.LogAttrs(ctx, slog.LevelDebug, "linktoken: retrying",
		k.endpointAttrs(slog.Int("attempt", attempt), outcomeAttr(status, class), slog.Duration("wait", wait))...)
}

// logOutcome logs, at debug, how a call ended.
func (k *core) logOutcome(ctx context.Context, start time.Time, attempts, status int, class string) {
	if k.logger == nil || !k.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	k.logger.LogAttrs(ctx, slog.LevelDebug, "linktoken: create link token",
		k.endpointAttrs(outcomeAttr(status, class), slog.Int("attempts", attempts),
			slog.Duration("latency", k.retry.now().Sub(start)))...)
}

func (k *core) endpointAttrs(attrs ...slog.Attr) []slog.Attr {
	u := k.endpoint.URL
	return append([]slog.Attr{slog.String("method", k.endpoint.Method), slog.String("host", u.Host), slog.String("path", u.Path)}, attrs...)
}

func outcomeAttr(status int, class string) slog.Attr {
	if status != 0 {
		return slog.Int("status", status)
	}
	return slog.String("error", class)
}
