package client

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/mergelink/linktoken/gen"
)

// operation is one of the spec's operations, as the client names it in
// errors and logs: its path as the spec writes it, never the path of a
// request, which may carry a token.
type operation struct {
	name   string // "create link token"
	method string // "POST"
	path   string // "/link-token"
	// singleUse is true when a request consumes what it sends (a public
	// token): a 404 after an attempt that failed may mean that attempt
	// consumed it, and the error says so.
	singleUse bool
}

// call is one call of an operation: its settings, its secrets, and what its
// attempts found. It is the generated client's HttpRequestDoer for that
// call (see Do).
type call struct {
	client *conf
	op     *operation
	// api is the generated client for this call: the client's server and
	// headers, with the call as its HttpRequestDoer.
	api gen.Client
	s   settings
	ctx context.Context
	// secrets are the call's own, besides the API key: the end user's
	// email, a public token. Nothing of them is shown.
	secrets []string
	start   time.Time

	attempts int
	// last and lastErr are the last attempt's response (its body read) or
	// error; prev and prevErr the attempt's before it.
	last, prev       *http.Response
	lastErr, prevErr error
	// refused is why the last attempt did not follow its last 3xx,
	// tooLarge whether its body exceeded maxBodyBytes.
	refused  string
	tooLarge bool

	// clean is the call's cleaner, made when an error is built.
	clean *cleaner
	// arrived is when the last response arrived.
	arrived time.Time
}

// idempotencyKey is the Idempotency-Key of the call: the caller's, or a
// fresh random one (crypto/rand), which the call then keeps for every
// attempt and ResponseInfo. The caller's is a secret of the call: it may be
// derived from personal data.
func (c *call) idempotencyKey() string {
	if c.s.idempotencyKey == "" {
		c.s.idempotencyKey = rand.Text()
	} else {
		c.secrets = append(c.secrets, c.s.idempotencyKey)
	}
	if c.s.info != nil {
		c.s.info.IdempotencyKey = c.s.idempotencyKey
	}
	return c.s.idempotencyKey
}

// begin starts a call of op with the client's settings and opts, or refuses
// it before anything is sent.
func (c *Client) begin(ctx context.Context, op *operation, opts []Option, secrets ...string) (*call, error) {
	if c == nil || c.conf == nil {
		return nil, usageError("Client not made by New")
	}
	if ctx == nil {
		return nil, usageError("nil context")
	}
	cl := &call{client: c.conf, op: op, s: c.conf.defaults, ctx: ctx, secrets: secrets}
	cl.api = gen.Client{Server: c.conf.server, Client: cl, RequestEditors: c.conf.editors}
	cl.s.call = true
	if err := cl.s.apply(opts); err != nil {
		return nil, err
	}
	if cl.s.resendAfterWrite && cl.s.idempotencyKey == "" {
		return nil, optionError("WithResendAfterWrite", "needs WithIdempotencyKey in the same call: a resend is safe only under the caller's key")
	}
	cl.start = cl.s.clock.now()
	return cl, nil
}

// logRetry logs, at debug, that an attempt failed and the next one follows
// after wait.
func (c *call) logRetry(attempt, status int, class string, wait time.Duration) {
	if l := c.client.defaults.logger; l != nil && l.Enabled(c.ctx, slog.LevelDebug) {
		l.LogAttrs(c.ctx, slog.LevelDebug, "client: retrying",
			c.logAttrs(slog.Int("attempt", attempt), outcomeAttr(status, class), slog.Duration("wait", wait))...)
	}
}

// logOutcome logs, at debug, how the call ended.
func (c *call) logOutcome(status int, class string) {
	if l := c.client.defaults.logger; l != nil && l.Enabled(c.ctx, slog.LevelDebug) {
		l.LogAttrs(c.ctx, slog.LevelDebug, "client: "+c.op.name,
			c.logAttrs(outcomeAttr(status, class), slog.Int("attempts", c.attempts),
				slog.Duration("latency", c.s.clock.now().Sub(c.start)))...)
	}
}

// logAttrs are the method, the host and the operation's path as the spec
// writes it, then attrs: never a token, a header or a body.
func (c *call) logAttrs(attrs ...slog.Attr) []slog.Attr {
	host, path := "", c.op.path
	if u, err := url.Parse(c.client.baseURL); err == nil {
		host, path = u.Host, u.Path+c.op.path
	}
	return append([]slog.Attr{slog.String("method", c.op.method), slog.String("host", host), slog.String("path", path)}, attrs...)
}

func outcomeAttr(status int, class string) slog.Attr {
	if status != 0 {
		return slog.Int("status", status)
	}
	return slog.String("error", class)
}
