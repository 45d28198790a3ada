package contracttest

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures NewTransport or NewMock; its doc says which. NewMock
// refuses an option that only a transport takes, and a transport given an
// option that only a mock takes answers every round trip with an error
// naming it.
type Option func(*options)

// options are what the options set.
type options struct {
	validator *Validator
	coverage  *Coverage
	// Only a transport takes these.
	recorder *Recorder
	har      *HAR
	// Only a mock takes these.
	script    []Step
	latency   time.Duration
	onRequest func(*http.Request, []byte)
	logger    *slog.Logger
	clock     func() time.Time
	webhook   struct{ url, key string }

	// transportOnly and mockOnly name the options given that only one of
	// them takes.
	transportOnly, mockOnly []string
}

func newOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithValidator makes a transport or a mock use v instead of the default
// validator, shared by every transport and mock of the process.
func WithValidator(v *Validator) Option {
	return func(o *options) { o.validator = v }
}

// WithCoverage makes a transport or a mock record in cov what the
// exchanges it sees exercise of the spec (see Coverage).
func WithCoverage(cov *Coverage) Option {
	return func(o *options) { o.coverage = cov }
}

// RecordTo makes a transport record violations in rec instead of failing
// the round trip: for auditing a proxy or a staging run. Transport only.
func RecordTo(rec *Recorder) Option {
	return func(o *options) {
		o.recorder = rec
		o.transportOnly = append(o.transportOnly, "RecordTo")
	}
}

// WithScript makes a mock answer its first requests of each operation with
// these steps, in order, then normally: for example 429 with Retry-After,
// 503, then 200. NewMock checks each step against the spec (see Step). Mock
// only.
func WithScript(steps ...Step) Option {
	return func(o *options) {
		o.script = append(o.script, steps...)
		o.mockOnly = append(o.mockOnly, "WithScript")
	}
}

// WithLatency delays every answer of a mock by d (or until the request is
// canceled, when the mock answers nothing). Mock only.
func WithLatency(d time.Duration) Option {
	return func(o *options) {
		o.latency = d
		o.mockOnly = append(o.mockOnly, "WithLatency")
	}
}

// OnRequest calls fn with each request a mock receives for one of the
// spec's operations and a copy of its body, before answering (requests to
// other paths, or with other methods, are answered 404 or 405 without
// calling it). fn may be called concurrently. Mock only.
func OnRequest(fn func(r *http.Request, body []byte)) Option {
	return func(o *options) {
		o.onRequest = fn
		o.mockOnly = append(o.mockOnly, "OnRequest")
	}
}

// WithLogger makes a mock log one line per request: method, the
// operation's path as the spec writes it (a path the spec does not have,
// cleaned and redacted), status, latency and the fields that broke the
// spec. It never logs the Authorization header, a token or any body value,
// and wherever the key or the end user's email could show, it logs
// "[redacted]". Mock only.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		o.logger = l
		o.mockOnly = append(o.mockOnly, "WithLogger")
	}
}

// WithClock makes a mock read the time from now instead of time.Now: the
// expiry of link tokens and public tokens follows it, so a test can move
// time forward. Mock only.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		o.clock = now
		o.mockOnly = append(o.mockOnly, "WithClock")
	}
}

// WithWebhook makes a mock deliver, when CompleteLink completes a link, the
// linked-account webhook Merge would send: a POST of the envelope to url,
// signed with key in the X-Merge-Webhook-Signature header. Mock only.
func WithWebhook(url, key string) Option {
	return func(o *options) {
		o.webhook.url, o.webhook.key = url, key
		o.mockOnly = append(o.mockOnly, "WithWebhook")
	}
}
