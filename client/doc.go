// Package client is the Go client for Merge Link's backend side: the
// operations of openapi/link-token.yaml (CreateLinkToken for POST
// /link-token, ExchangePublicToken for GET /account-token/{public_token};
// package client/webhook receives the linked-account webhook), built and
// sent by the generated client of package gen, with what this package adds
// once for every operation: region selection, authentication, validation
// against the spec before anything is sent, bounded retries, one redirect
// policy, read bounds, typed errors, and care for every secret of a call.
//
//	c, err := client.NewFromEnv() // MERGE_API_KEY; MERGE_REGION and MERGE_BASE_URL when set
//	tok, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{...})
//
// # How it is built
//
// The generated gen.Client builds each request (URL, method, headers, JSON
// body) from the spec. This package gives it two things: a RequestEditorFn
// that adds the Authorization and User-Agent headers, and, for each call,
// an HttpRequestDoer (the call itself) that sends the attempts under the
// policy below. One function turns every response into a result or an
// *APIError. A new operation is a spec edit, "make generate", its pre-flight
// rules, and a method of a few lines.
//
// # Defaults
//
// New calls the US region's mktg API (WithRegion, WithCategoryAPI,
// WithBaseURL change it), retries a failed attempt twice (WithMaxRetries),
// gives each attempt 60 seconds (WithAttemptTimeout, or WithHTTPClient's
// Timeout), reads at most 1 MiB of a response body, and follows at most 3
// redirects, only 307 and 308 and only within the same origin. Clients
// built without WithHTTPClient share one pool of up to 512 connections per
// host, busy or idle (more calls in flight wait for one), which reads at
// most 64 KiB of response headers.
//
// Options are given to New for the client, or to a method for one call
// (WithMaxRetries and WithAttemptTimeout apply to both); each option's doc
// says where it applies.
//
// With the defaults and no deadline on the context, a call takes at most 4
// minutes: three attempts of at most 60 seconds each, and two waits of at
// most 30 seconds. With a deadline, a call ends by the deadline: no wait is
// started that would outlive it, and every wait and attempt ends when the
// context does.
//
// # Errors
//
// A method returns one of:
//
//   - *ValidationError: the request breaks the spec; nothing was sent.
//   - *OptionError: an option was refused; nothing was sent.
//   - *APIError: a response arrived and was not the operation's 200. Its
//     class is found with errors.Is: ErrUnauthorized (401), ErrForbidden
//     (403), ErrRateLimited (429, after the retries; RetryAfter says when to
//     come back), ErrServerError (5xx, after the retries) and
//     ErrContractBroken (a 2xx other than 200, or a 200 that is not the
//     operation's JSON, read as the spec reads it: members named exactly,
//     no null where the spec allows none, application/json, at most 1 MiB).
//     A redirect that was not followed is an *APIError with the 3xx status
//     and its Location. Other statuses (400, 404, ...) are told apart by
//     StatusCode and Problems.
//   - an error where no usable response arrived (a failure to connect, a
//     reset, a deadline, an error of the caller's RoundTripper), wrapped so
//     that errors.Is and errors.As find the cause: errors.Is(err,
//     context.DeadlineExceeded) works, and an error from a validating
//     RoundTripper that matches ErrContractBroken (contracttest's does) still
//     does.
//
// When the context ends after an attempt failed (during the wait, or because
// its deadline leaves no room for the wait, or during the next attempt), the
// error is both: errors.As finds the last *APIError with its status, request
// id and RetryAfter, and errors.Is finds the context's error.
//
// # Secrets
//
// The API key, the end user's email and a public token never appear in an
// error, a WithLogger line (which names the spec's path,
// /account-token/{public_token}, never the request's) or a URL this package
// prints; the account token appears only in the AccountToken returned, which
// prints without it. Every error prints
// as one line under every fmt verb and logs through slog (LogValue) as that
// line. All text taken from a response (problems, the request id, a
// Location, a body, a transport error's message) is made safe before it is
// kept, at a cost bounded whatever the server sends: a bounded part of it is
// decoded (JSON escapes inside a JSON body, by decoding it; percent-encoding
// at any depth and HTML character references, anywhere), stripped of control
// and formatting characters (escape sequences, line separators, bidi
// overrides), has each secret replaced by "[redacted]" (as given and
// trimmed, in any case under Unicode simple case folding), and is cut (1 KiB
// per string, 20 problems, 64 KiB of JSON body with 4 KiB per string in
// it, 16 KiB of text body). JSON escapes in a body that is
// not JSON are shown as written, not decoded; full case mapping (ß and
// "SS"), Unicode normalization (NFD, NFKC, fullwidth forms) and other
// encodings are not undone. The package's own words are never scrubbed. A
// Client prints without its key under every verb, and keeps the key where
// no printer can reach it.
//
// # Retries, and why a request is sent again only when that is safe
//
// POST /link-token is not idempotent: a second request creates a second
// link token, a credential that stays valid until it expires, and that
// counts against Merge's rate limits. So the client sends a request again
// only when Merge said it failed, or when it provably never reached Merge:
//
//   - 429, 500, 502, 503 and 504 are retried: Merge answered that the
//     request failed and may succeed later. (After a 500 Merge may, rarely,
//     have created a token before failing; the unused token expires.)
//   - A failure to connect is retried: refused, unreachable, a dial
//     timeout, a temporary DNS failure. Nothing was written.
//   - An HTTP/2 stream the server did not process is retried: reset with
//     REFUSED_STREAM, or above the last-stream-id of a GOAWAY (RFC 9113).
//   - Nothing else is retried, "server closed idle connection" included:
//     net/http reports it after writing the request too (golang/go#19943).
//     Permanent failures: "no such host", a certificate that does not
//     verify, an invalid header, a redirect that was not followed, any other
//     status, a response that breaks the contract, an error of the caller's
//     RoundTripper. Failures after the request was written (a reset, an
//     EOF, a timeout awaiting the response): Merge may have created the
//     token, and a second one is not worth the risk; the caller, who knows
//     whether the end user is still waiting, decides.
//
// Every CreateLinkToken sends an Idempotency-Key, a fresh random one (or the
// caller's, WithIdempotencyKey), the same on every attempt of the call:
// where Merge honours the key, a retry cannot create a second token. Merge
// documents the key as a beta for POSTs without naming POST /link-token,
// and nobody here can verify it does, so the default policy does not rely
// on it: a request written once is not sent again. With the caller's own
// key and WithResendAfterWrite, a call also resends after a reset or a
// timeout once written, with the same key, counted and after the backoff:
// the caller then takes the risk, for an intent it named, that Merge does
// not honour the key.
//
// net/http never sends a request again by itself: each attempt reaches the
// transport without a GetBody, so its HTTP/2 side cannot resend a POST after
// a reset or a GOAWAY (a server that read a whole POST and reset it once got
// it a thousand times in two seconds), nor its HTTP/1 side after a reused
// connection closed, whatever headers the request carries
// (Request.isReplayable). Every resend is the policy's, counted against
// WithMaxRetries and after its wait.
//
// GET /account-token/{public_token} (ExchangePublicToken) follows the same
// policy. Sending it again cannot create anything, but the public token is
// single-use: if Merge exchanged it and the answer was lost (a reset, a
// timeout after the request was written), the account token is gone, and a
// second request can only find the token consumed (404). So the client does
// not send it again after it was written; it returns the failure, and the
// caller may exchange again, which either returns the account token (the
// first request never reached Merge) or 404. When a retried attempt (after
// a 5xx) ends in 404, the *APIError's Reason says the earlier attempt may
// have consumed the token.
//
// Waits are full-jitter exponential backoff from 250 ms, capped at 5 s, or
// the server's Retry-After (seconds or an HTTP date) when given. A
// Retry-After over 30 seconds is not waited for: the *APIError carries it.
// No wait follows the last attempt. The body of a response that is retried
// is read (up to 1 MiB) before the wait, so its connection is reused.
//
// # Testing
//
// Package contracttest validates every request and response against the
// spec, as an http.RoundTripper for WithHTTPClient, and serves a mock of
// the API:
//
//	mock, err := contracttest.NewMock()
//	if err != nil {
//		t.Fatal(err)
//	}
//	srv := httptest.NewServer(mock)
//	c, err := client.New("test-key", client.WithBaseURL(srv.URL),
//		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
//
// A response that breaks the spec then fails the call after one attempt with
// an error that errors.As finds as a *contracttest.ContractError and
// errors.Is finds as ErrContractBroken.
package client
