// Package client is the Go client for Merge's POST /link-token endpoint: the
// generated types and request of package gen, with region selection,
// authentication, validation against the spec before anything is sent, typed
// errors, bounded retries, and care for the API key and the end user's email.
//
//	c, err := client.New(os.Getenv(client.EnvAPIKey), client.WithRegion(client.RegionEU))
//	tok, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{...})
//
// # Defaults
//
// New calls the US region's mktg API (WithRegion, WithCategoryAPI,
// WithBaseURL change it), retries a failed attempt twice (WithMaxRetries),
// gives each attempt 60 seconds (WithHTTPClient replaces the client), reads
// at most 1 MiB of a response body, and follows at most 3 redirects, only 307
// and 308 and only within the same origin. Clients built without
// WithHTTPClient share one pool of up to 512 connections per host, busy or
// idle (more calls in flight wait for one), which reads at most 64 KiB of
// response headers.
// NewFromEnv reads the key from MERGE_API_KEY (EnvAPIKey) and, when set, the
// region from MERGE_REGION (EnvRegion).
//
// With the defaults and no deadline on the context, a call takes at most 4
// minutes: three attempts of at most 60 seconds each, and two waits of at
// most 30 seconds. With a deadline, a call ends by the deadline: no wait is
// started that would outlive it, and every wait and attempt ends when the
// context does.
//
// # Errors
//
// CreateLinkToken returns one of:
//
//   - *ValidationError: the request breaks the spec; nothing was sent.
//   - *APIError: a response arrived and was not a 200 with a LinkToken. Its
//     class is found with errors.Is: ErrUnauthorized (401), ErrForbidden
//     (403), ErrRateLimited (429, after the retries; RetryAfter says when to
//     come back), ErrServerError (5xx, after the retries) and
//     ErrContractBroken (a 2xx other than 200, or a 200 that is not a
//     LinkToken or is over 1 MiB). A redirect that was not followed is an
//     *APIError with the 3xx status and its Location. Other statuses (400,
//     404, ...) are told apart by StatusCode and Problems.
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
// Every error prints as one line under every fmt verb, and implements
// slog.LogValuer. Whatever the server sends, it never shows the API key or
// the end user's email: all text taken from a response (problems, the
// request id, a Location, a body, a transport error's message) is decoded,
// stripped of control and formatting characters (escape sequences, line
// separators, bidi overrides), scrubbed of the key and the email (the email
// in any case) and then bounded (1 KiB per string, 20 problems, 64 KiB of
// body). The package's own words are never scrubbed. A Client prints without
// its key under every verb, and keeps the key where no printer can reach it.
//
// # Retries, and why a POST is sent again only when that is safe
//
// POST /link-token is not idempotent: a second request creates a second link
// token, a credential that stays valid until it expires (link_expiry_mins)
// though nobody will use it, and that counts against Merge's rate limits.
// Merge documents no idempotency key for the endpoint. So the client sends a
// request again only when Merge said the request failed, or when the request
// provably never reached Merge:
//
//   - 429, 500, 502, 503 and 504 are retried: Merge answered that the
//     request failed and may succeed later. (After a 500 Merge may, rarely,
//     have created a token before failing; the unused token expires.)
//   - A failure to connect is retried: refused, unreachable, a dial timeout,
//     a temporary DNS failure. net/http dials before it writes a byte, and
//     resends by itself only a request of which nothing was written.
//   - An HTTP/2 stream the server did not process is retried: reset with
//     REFUSED_STREAM, or above the last-stream-id of a GOAWAY (RFC 9113).
//   - Nothing else is retried, "server closed idle connection" included:
//     net/http reports it after writing the request too (golang/go#19943),
//     and resends by itself, before it reaches the client, a request of
//     which it wrote nothing. Permanent failures: "no such host", a
//     certificate that does not verify, an invalid header, a redirect that
//     was not followed, any other status, a response that breaks the
//     contract, an error of the caller's RoundTripper. Failures after the
//     request was written (a reset, an EOF, a timeout awaiting the
//     response): Merge may have created the token, and a second one is not
//     worth the risk; the caller, who knows whether the end user is still
//     waiting, decides.
//
// net/http never sends a request again by itself: the client hands it each
// attempt without a GetBody, so the HTTP/2 transport cannot resend a POST
// after a reset or a GOAWAY, nor the HTTP/1 transport after a reused
// connection closed, whatever headers the request carries. Every resend is
// the policy's, counted against WithMaxRetries and after its wait.
//
// Waits are full-jitter exponential backoff from 250 ms, capped at 5 s, or
// the server's Retry-After (seconds or an HTTP date) when given. A
// Retry-After over 30 seconds is not waited for: the *APIError carries it. No
// wait follows the last attempt. The body of a response that is retried is
// read (up to 1 MiB) before the wait, so its connection is reused.
//
// # Testing
//
// Package contracttest validates every request and response against the
// spec, as an http.RoundTripper for WithHTTPClient, and serves a mock of the
// endpoint:
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
