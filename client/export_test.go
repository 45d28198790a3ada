package client

import (
	"context"
	"reflect"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// Exported for the tests of package client_test only.

// WithRetryClock replaces the retry waits: sleep is called instead of waiting,
// jitter instead of the random source, and now instead of time.Now.
func WithRetryClock(sleep func(context.Context, time.Duration) error, jitter func(int64) int64, now func() time.Time) Option {
	return func(s *settings) error {
		s.clock = clock{sleep: sleep, jitter: jitter, now: now}
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

// PublicToken exposes the public token's rules mirrored in validate.go.
var PublicToken = map[string]any{
	"maxLength": maxPublicTokenLen,
	"pattern":   publicTokenPattern,
	"not":       []any{publicTokenDotSegments[0], publicTokenDotSegments[1]},
}

// MaxIdempotencyKey is the Idempotency-Key's maxLength.
const MaxIdempotencyKey = maxIdempotencyKey

// Retry policy and bounds.
const (
	MaxRetryAfter  = maxRetryAfter
	MaxBodyBytes   = maxBodyBytes
	DefaultTimeout = defaultTimeout
	MaxShownText   = maxShownText
)

// AttemptTimeout is the per-attempt timeout of c's HTTP client.
func AttemptTimeout(c *Client) time.Duration { return c.conf.sender().timeout }

// CleanText is what an error keeps of one server string, for a call whose
// secrets are key and email; CleanTextWhole the same computed on the whole
// string, without the bound on what is read.
func CleanText(key, email, s string) string {
	return (&call{client: &conf{apiKey: func() string { return key }}, ctx: context.Background(), secrets: []string{email}}).cleaner().text(s)
}
func CleanTextWhole(key, email, s string) string {
	red := shared.NewRedactor(key, email)
	return shared.Truncate(red.Redact(shared.Printable(shared.Unescape(s))), maxShownText)
}

// DecodeExact is decodeExact into a new T; DecodeReference is decodeValue
// alone, decodeExact's reading of any body; DecodesFast reports whether
// decodeExact reads body into v, a pointer to a zero struct, the fast way
// (plainJSON, json.Unmarshal alone, requiredSet).
func DecodeExact[T any](body []byte) (*T, string) {
	v := new(T)
	return v, decodeExact(body, v)
}
func DecodeReference[T any](body []byte) (*T, string) {
	v := new(T)
	return v, decodeValue(body, reflect.ValueOf(v).Elem(), "")
}
func DecodesFast(body []byte, v any) bool {
	return decodeFast(body, reflect.ValueOf(v).Elem())
}
