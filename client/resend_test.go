package client_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/h2test"
)

// TestNeverSentTwiceOverHTTP2 holds the promise that a request written to
// the server is not sent again, on the HTTP/2 that Merge serves and that
// every default transport speaks, below the client's own policy too:
// net/http's HTTP/2 transport resends a request by itself on some resets
// and GOAWAYs whenever it can rewind the body (a server that read a whole
// POST and reset it with PROTOCOL_ERROR got it a thousand times in 2 s).
// Where RFC 9113 says the server did not process the stream
// (REFUSED_STREAM, a GOAWAY whose last-stream-id is below it), a resend is
// safe, and it is the client's: counted against the retries, after its
// backoff. Anything else is one attempt.
func TestNeverSentTwiceOverHTTP2(t *testing.T) {
	t.Parallel()
	always := func(a h2test.Action) func(int) h2test.Action { return func(int) h2test.Action { return a } }
	first := func(a h2test.Action) func(int) h2test.Action {
		return func(n int) h2test.Action {
			if n == 1 {
				return a
			}
			return h2test.Respond
		}
	}
	cases := []struct {
		name   string
		decide func(n int) h2test.Action
		// requests is how many whole POSTs the server read; waits how
		// many backoffs the client's policy took between them.
		requests, waits int
		token           bool
	}{
		{"200", always(h2test.Respond), 1, 0, true},
		{"307 to the same origin is followed with the body", first(h2test.Redirect), 2, 0, true},
		{"PROTOCOL_ERROR after reading the request: maybe processed, one attempt", always(h2test.ResetProtocol), 1, 0, false},
		{"INTERNAL_ERROR: one attempt", always(h2test.ResetInternal), 1, 0, false},
		{"GOAWAY at our stream, then hang up: maybe processed, one attempt", always(h2test.GoAwayAfter), 1, 0, false},
		{"hang up after reading the request: one attempt", always(h2test.Hangup), 1, 0, false},
		{"REFUSED_STREAM: not processed, retried by the policy", always(h2test.RefuseStream), 3, 2, false},
		{"REFUSED_STREAM once, then 200", first(h2test.RefuseStream), 2, 1, true},
		{"GOAWAY below our stream: not processed, retried by the policy", always(h2test.GoAwayBelow), 3, 2, false},
		{"GOAWAY below our stream with an error code: not processed, retried", always(h2test.GoAwayBelowError), 3, 2, false},
		{"GOAWAY below our stream once, then 200", first(h2test.GoAwayBelow), 2, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := h2test.NewServer(t, okBody, tc.decide)
			var clock recorder
			c, err := client.New(testKey, client.WithBaseURL(srv.URL), clock.option(),
				client.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			tok, err := c.CreateLinkToken(ctx, validRequest())

			assert.Equal(t, tc.requests, srv.Requests(), "whole POSTs the server read: a request written once is never sent again below the policy (err: %v)", err)
			assert.Len(t, clock.recorded(), tc.waits, "backoffs the policy waited: every resend is the policy's")
			for i, b := range srv.Bodies() {
				assert.Equal(t, string(srv.Bodies()[0]), string(b), "body %d: every resend carries the same body", i)
				assert.Equal(t, "/link-token", srv.Paths()[i])
			}
			if tc.token {
				require.NoError(t, err)
				assert.Equal(t, "tok_abc", tok.LinkToken)
				return
			}
			require.Error(t, err)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "the call ended on its own, not at the deadline")
			assertNoSecrets(t, err)
		})
	}
}

// TestNeverSentTwiceOverHTTP1 is the same promise on HTTP/1.1, where
// net/http resends a request with a GetBody by itself when the server closes
// a reused connection after reading it, if the request carries an
// Idempotency-Key header (Request.isReplayable).
func TestNeverSentTwiceOverHTTP1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header string // a header every attempt carries
	}{
		{"no idempotency header", ""},
		{"Idempotency-Key", "Idempotency-Key"},
		{"X-Idempotency-Key", "X-Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The first request on a connection gets a 200 and the
			// connection is kept; every later one is read whole, then the
			// connection is closed without an answer.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { _ = ln.Close() })
			var requests atomic.Int32
			go serveThenHangUp(ln, &requests)

			// One connection at a time: the second call waits for the
			// first one's connection to go back to the pool and reuses it,
			// the case where net/http resends by itself. (With no bound, it
			// may dial a new connection before the first is back, and its
			// first request gets a 200.)
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxConnsPerHost = 1
			t.Cleanup(tr.CloseIdleConnections)
			hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
				if tc.header != "" {
					r = r.Clone(r.Context())
					r.Header.Set(tc.header, "k-1")
				}
				return tr.RoundTrip(r)
			})}
			var clock recorder
			c, err := client.New(testKey, client.WithBaseURL("http://"+ln.Addr().String()), client.WithHTTPClient(hc), clock.option())
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = c.CreateLinkToken(ctx, validRequest())
			require.NoError(t, err, "the first call gets its 200")
			_, err = c.CreateLinkToken(ctx, validRequest())
			require.Error(t, err, "the second call is read, then hung up on")
			assert.Equal(t, 2, int(requests.Load()), "whole POSTs the server read: one per call, none sent again (err: %v)", err)
			assert.Empty(t, clock.recorded(), "no backoff: a request read by the server is not retried")
			assert.False(t, errors.Is(err, context.DeadlineExceeded), "the call ended on its own")
		})
	}
}

// serveThenHangUp answers the first request of each connection with a 200
// and keeps the connection; it reads every later request whole and closes
// the connection. requests counts whole requests.
func serveThenHangUp(ln net.Listener, requests *atomic.Int32) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			rd := bufio.NewReader(conn)
			for n := 1; ; n++ {
				req, err := http.ReadRequest(rd)
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, req.Body); err != nil {
					return
				}
				requests.Add(1)
				if n > 1 {
					return // read it whole, then hang up
				}
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+
					strconv.Itoa(len(okBody))+"\r\n\r\n"+okBody)
			}
		}()
	}
}

// TestNeverSentTwiceThroughContracttest is the HTTP/2 promise with the
// contract kit's validating transport under the client, as a service's
// tests put it: the transport must not give net/http the GetBody that the
// client took away.
func TestNeverSentTwiceThroughContracttest(t *testing.T) {
	t.Parallel()
	srv := h2test.NewServer(t, okBody, func(int) h2test.Action { return h2test.ResetProtocol })
	c, err := client.New(testKey, client.WithBaseURL(srv.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(srv.Transport())}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = c.CreateLinkToken(ctx, validRequest())
	require.Error(t, err)
	assert.Equal(t, 1, srv.Requests(), "whole POSTs the server read (err: %v)", err)
}
