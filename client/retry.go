package client

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry policy. Retries happen under the generated client, in retryDoer.
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
	// maxRetryAfterSeconds clamps a Retry-After in seconds: above the cap, so
	// never waited for, and small enough not to overflow a time.Duration.
	maxRetryAfterSeconds = 1000 * int64(maxRetryAfter/time.Second)
	// maxDrainBytes is how much of a discarded response is read so that its
	// connection can be reused.
	maxDrainBytes = 64 << 10
)

// retryable reports whether a status is worth retrying.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryDoer sends a request up to 1+maxRetries times.
type retryDoer struct {
	client     *http.Client
	maxRetries int
	// sleep waits for d or until ctx is done; jitter returns a value in [0, n).
	// Both are replaceable so tests are exact and fast.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64
	now    func() time.Time
}

// do sends the requests newRequest makes, one per attempt, until one
// succeeds or the policy stops, and returns the last response or error with
// the number of attempts made.
func (d *retryDoer) do(ctx context.Context, newRequest func() *http.Request) (*http.Response, int, error) {
	for attempt := 0; ; attempt++ {
		resp, err := d.client.Do(newRequest())
		if attempt >= d.maxRetries {
			return resp, attempt + 1, err
		}
		wait, ok := d.retryWait(ctx, resp, err, attempt)
		if !ok {
			return resp, attempt + 1, err
		}
		if resp != nil {
			drain(resp.Body)
		}
		if err := d.sleep(ctx, wait); err != nil {
			return nil, attempt + 1, err
		}
	}
}

// retryWait decides whether to retry after an attempt, and how long to wait.
func (d *retryDoer) retryWait(ctx context.Context, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	var wait time.Duration
	switch {
	case err != nil:
		// No response arrived (refused, reset, closed before the headers).
		wait = d.backoff(attempt)
	case retryable(resp.StatusCode):
		if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), d.now()); ok {
			if after > maxRetryAfter {
				return 0, false
			}
			wait = after
		} else {
			wait = d.backoff(attempt)
		}
	default:
		return 0, false
	}
	if deadline, ok := ctx.Deadline(); ok && d.now().Add(wait).After(deadline) {
		return 0, false // waiting would outlive the caller's deadline
	}
	return wait, true
}

// backoff is full jitter: a random wait in [0, min(maxRetryDelay, base·2^attempt)).
func (d *retryDoer) backoff(attempt int) time.Duration {
	ceiling := maxRetryDelay
	if attempt < 16 {
		ceiling = min(maxRetryDelay, baseRetryDelay<<attempt)
	}
	return time.Duration(d.jitter(int64(ceiling)))
}

// parseRetryAfter reads a Retry-After value: a number of seconds or an HTTP
// date. It reports false for anything else; a date in the past is zero.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		secs = min(secs, maxRetryAfterSeconds) // far beyond the cap anyway; avoids overflow
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
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

// drain reads a little of a discarded body and closes it, so the connection
// can be reused.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	_ = body.Close()
}
