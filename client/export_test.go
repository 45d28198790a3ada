package client

import (
	"context"
	"time"
)

// Exported for the tests of package client_test only.

// WithRetryClock replaces the retry waits: sleep is called instead of waiting,
// jitter instead of the random source, and now instead of time.Now.
func WithRetryClock(sleep func(context.Context, time.Duration) error, jitter func(int64) int64, now func() time.Time) Option {
	return func(s *settings) error {
		s.retry.sleep, s.retry.jitter, s.retry.now = sleep, jitter, now
		return nil
	}
}

// ParseRetryAfter exposes parseRetryAfter.
var ParseRetryAfter = parseRetryAfter

// SafeToResend exposes safeToResend, the policy for failures where no
// response arrived.
var SafeToResend = safeToResend

// Limits exposes the spec limits mirrored in validate.go, by spec keyword.
var Limits = map[string]int{
	"minLength": minStringLen,
	"maxLength": maxStringLen,
	"minItems":  minCategories,
	"default":   defaultExpiryMins,
	"minimum":   minExpiryMins,
	"not":       maxExpiryMins,
	"maximum":   maxExpiryMinsMagicLink,
}

// Retry policy constants.
const (
	MaxRetryAfter  = maxRetryAfter
	MaxBodyBytes   = maxBodyBytes
	DefaultTimeout = defaultTimeout
)

// AttemptTimeout is the per-attempt timeout of c's HTTP client.
func AttemptTimeout(c *Client) time.Duration { return c.core.retry.client().Timeout }

// CleanText is what an error keeps of one server string, and
// CleanTextWhole the same computed on the whole string, without the
// shortcut for long ones.
func CleanText(key, email, s string) string { return newRedactor(key, email).text(s) }
func CleanTextWhole(key, email, s string) string {
	r := newRedactor(key, email)
	return truncate(r.scrub(sanitize(s)), maxShownText)
}

// ModuleVersion exposes moduleVersion.
var ModuleVersion = moduleVersion
