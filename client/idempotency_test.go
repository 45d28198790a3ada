package client_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
)

// TestEveryCreateSendsAnIdempotencyKey: a fresh random key per call, the
// same on every attempt of the call, reported in ResponseInfo.
func TestEveryCreateSendsAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys []string
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		if n == 1 {
			writeJSON(w, 503, `{}`)
			return
		}
		writeJSON(w, 200, okBody)
	})
	var clock recorder
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), clock.option())
	require.NoError(t, err)
	var info1, info2 client.ResponseInfo
	_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithResponseInfo(&info1))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithResponseInfo(&info2))
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.Regexp(t, `^[A-Z2-7]{26}$`, keys[0], "crypto/rand's Text")
	assert.Equal(t, keys[0], keys[1], "the retry of a call sends the call's key")
	assert.NotEqual(t, keys[0], keys[2], "each call its own key")
	assert.Equal(t, keys[0], info1.IdempotencyKey)
	assert.Equal(t, keys[2], info2.IdempotencyKey)
	assert.Equal(t, 2, info1.Attempts)
	assert.Equal(t, 1, info2.Attempts)
}

// TestWithIdempotencyKey: the caller's key is sent as given on every
// attempt; a bad key, or the option where it does not apply, is refused
// before sending; the key is never logged, and redacted from errors.
func TestWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	const key = "user-42:connect-hris:ada@example.com"
	var got []string
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Idempotency-Key"))
		writeJSON(w, 400, `{"detail":"key `+key+` was used with another body"}`)
	})
	var logs syncWriter
	var buf strings.Builder
	logs.w = &buf
	c, err := client.New(testKey, client.WithBaseURL(srv.URL),
		client.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithIdempotencyKey(key))
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{key}, got)
	assert.NotContains(t, err.Error(), key, "the key may be personal data: redacted from errors")
	assert.Contains(t, err.Error(), "key [redacted] was used")
	assert.NotContains(t, buf.String(), key, "and never logged")

	sent := srv.attempts.Load()
	for _, tc := range []struct {
		name string
		opts []client.Option
		want string
	}{
		{"empty", []client.Option{client.WithIdempotencyKey("")}, "WithIdempotencyKey: empty key"},
		{"256 bytes", []client.Option{client.WithIdempotencyKey(strings.Repeat("k", 256))}, "the key is 256 bytes; at most 255 are allowed"},
		{"a line break", []client.Option{client.WithIdempotencyKey("k\r\nX-Evil: 1")}, "line break"},
		{"not ASCII", []client.Option{client.WithIdempotencyKey("clé")}, "non-ASCII"},
		{"a space at the end", []client.Option{client.WithIdempotencyKey("k ")}, "starts or ends with a space"},
		{"resend after write without a key", []client.Option{client.WithResendAfterWrite()}, "needs WithIdempotencyKey in the same call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateLinkToken(context.Background(), validRequest(), tc.opts...)
			var optErr *client.OptionError
			require.ErrorAs(t, err, &optErr)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err = c.ExchangePublicToken(context.Background(), "pt", client.WithIdempotencyKey("k"))
	assert.ErrorContains(t, err, "applies to CreateLinkToken, a POST, only")
	_, err = client.New(testKey, client.WithIdempotencyKey("k"))
	assert.ErrorContains(t, err, "WithIdempotencyKey: applies to one call, not to New")
	_, err = client.New(testKey, client.WithResponseInfo(&client.ResponseInfo{}))
	assert.ErrorContains(t, err, "applies to one call, not to New")
	assert.Equal(t, sent, srv.attempts.Load(), "nothing was sent")
}

// resetAfterWrite serves HTTP/1.1 by hand: it reads each request whole and,
// for the first `resets` requests, writes the start of a 200 and closes the
// connection mid-response; later requests get okBody. It records each
// request's Idempotency-Key.
func resetAfterWrite(t *testing.T, resets int) (url string, keys func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var got []string
	var n atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				rd := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(rd)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					mu.Lock()
					got = append(got, req.Header.Get("Idempotency-Key"))
					mu.Unlock()
					if int(n.Add(1)) <= resets {
						_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"link_tok")
						return // mid-response
					}
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+
						strconv.Itoa(len(okBody))+"\r\n\r\n"+okBody)
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestResendAfterWrite: by default a request reset mid-response is not sent
// again (it may have created a token); with the caller's key and
// WithResendAfterWrite, it is, with the same key, counted and after the
// policy's wait.
func TestResendAfterWrite(t *testing.T) {
	t.Parallel()
	t.Run("default: one attempt", func(t *testing.T) {
		t.Parallel()
		url, keys := resetAfterWrite(t, 1)
		var clock recorder
		c, err := client.New(testKey, client.WithBaseURL(url), clock.option())
		require.NoError(t, err)
		_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithIdempotencyKey("intent-1"))
		require.Error(t, err)
		assert.Len(t, keys(), 1, "not sent again once written")
		assert.Empty(t, clock.recorded())
	})
	t.Run("with the option: resent with the same key", func(t *testing.T) {
		t.Parallel()
		url, keys := resetAfterWrite(t, 1)
		var clock recorder
		c, err := client.New(testKey, client.WithBaseURL(url), clock.option())
		require.NoError(t, err)
		tok, err := c.CreateLinkToken(context.Background(), validRequest(), client.WithIdempotencyKey("intent-1"), client.WithResendAfterWrite())
		require.NoError(t, err)
		assert.Equal(t, "tok_abc", tok.LinkToken)
		assert.Equal(t, []string{"intent-1", "intent-1"}, keys())
		assert.Len(t, clock.recorded(), 1, "after the policy's wait")
	})
	t.Run("with the option: still counted", func(t *testing.T) {
		t.Parallel()
		url, keys := resetAfterWrite(t, 10)
		var clock recorder
		c, err := client.New(testKey, client.WithBaseURL(url), clock.option(), client.WithMaxRetries(1))
		require.NoError(t, err)
		_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithIdempotencyKey("intent-1"), client.WithResendAfterWrite())
		require.Error(t, err)
		assert.Len(t, keys(), 2)
	})
}

// TestAttemptTimeout: WithAttemptTimeout bounds each attempt, not the call;
// an attempt cut short after writing is not resent by default, and is a
// timeout that is not the call's context.DeadlineExceeded; with the
// caller's key and WithResendAfterWrite, it is resent.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	slow := func(t *testing.T) *server {
		return newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return
			}
			writeJSON(w, 200, okBody)
		})
	}
	srv := slow(t)
	var clock recorder
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), clock.option())
	require.NoError(t, err)
	start := time.Now()
	_, err = c.CreateLinkToken(context.Background(), validRequest(), client.WithAttemptTimeout(100*time.Millisecond))
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the call had no deadline: %v", err)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	assert.True(t, netErr.Timeout())
	assert.Contains(t, err.Error(), "attempt timed out after 100ms")
	assert.EqualValues(t, 1, srv.attempts.Load())

	srv = slow(t)
	c, err = client.New(testKey, client.WithBaseURL(srv.URL), clock.option(), client.WithAttemptTimeout(100*time.Millisecond))
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), validRequest(), client.WithIdempotencyKey("intent-2"), client.WithResendAfterWrite())
	require.NoError(t, err)
	assert.Equal(t, "tok_abc", tok.LinkToken)
	assert.EqualValues(t, 2, srv.attempts.Load())
}

// TestHTTPClientTimeoutBoundsEachAttempt: without WithAttemptTimeout, the
// Timeout of the client given to WithHTTPClient bounds each attempt, as
// http.Client would, though the package calls its Transport itself.
func TestHTTPClientTimeoutBoundsEachAttempt(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.CreateLinkToken(ctx, validRequest())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt timed out after 100ms", "the HTTP client's Timeout must bound the attempt when WithAttemptTimeout is not given")
	assert.Less(t, time.Since(start), 2*time.Second, "the attempt must end at the HTTP client's Timeout, not when the server gives up")
	assert.EqualValues(t, 1, srv.attempts.Load(), "an attempt cut short after writing is not resent")
}

// TestResponseInfo: the status, the request id, the attempts and when the
// link token expires (the 200's arrival plus link_expiry_mins, 30 when 0),
// on success and on failure.
func TestResponseInfo(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Idempotency-Key"), "fail") {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Request-Id", "req-"+hEmail)
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `{}`)
			return
		}
		writeJSON(w, 200, okBody)
	})
	arrival := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c, err := client.New(testKey, client.WithBaseURL(srv.URL), client.WithRetryClock(
		func(ctx context.Context, _ time.Duration) error { return ctx.Err() }, func(n int64) int64 { return n - 1 }, func() time.Time { return arrival }))
	require.NoError(t, err)
	for _, mins := range []int{0, 720} {
		req := validRequest()
		req.LinkExpiryMins = mins
		var info client.ResponseInfo
		_, err = c.CreateLinkToken(context.Background(), req, client.WithResponseInfo(&info))
		require.NoError(t, err)
		want := 30
		if mins != 0 {
			want = mins
		}
		assert.Equal(t, arrival.Add(time.Duration(want)*time.Minute), info.ExpiresAt, "link_expiry_mins %d", mins)
		assert.Equal(t, 200, info.StatusCode)
		assert.Equal(t, "req-123", info.RequestID)
		assert.Equal(t, 1, info.Attempts)
	}
	req := validRequest()
	req.EndUserEmailAddress = hEmail
	var info client.ResponseInfo
	_, err = c.CreateLinkToken(context.Background(), req, client.WithResponseInfo(&info), client.WithIdempotencyKey("will-fail"))
	require.Error(t, err)
	assert.Equal(t, 403, info.StatusCode)
	assert.Equal(t, "req-[redacted]", info.RequestID, "cleaned as an APIError's")
	assert.True(t, info.ExpiresAt.IsZero())
}
