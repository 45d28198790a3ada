package contracttest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// TestDoubleClickGetsOneToken: two concurrent calls with one key get one
// link token from the mock; a third, later, gets it too.
func TestDoubleClickGetsOneToken(t *testing.T) {
	t.Parallel()
	f := newLinkFlow(t, contracttest.WithLatency(50*time.Millisecond))
	var wg sync.WaitGroup
	tokens := make([]string, 2)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := f.c.CreateLinkToken(context.Background(), ada(), client.WithIdempotencyKey("user-42:connect"))
			if assert.NoError(t, err) {
				tokens[i] = tok.LinkToken
			}
		}()
	}
	wg.Wait()
	require.NotEmpty(t, tokens[0])
	assert.Equal(t, tokens[0], tokens[1], "a double click gets one token")
	again, err := f.c.CreateLinkToken(context.Background(), ada(), client.WithIdempotencyKey("user-42:connect"))
	require.NoError(t, err)
	assert.Equal(t, tokens[0], again.LinkToken)
	other, err := f.c.CreateLinkToken(context.Background(), ada(), client.WithIdempotencyKey("user-43:connect"))
	require.NoError(t, err)
	assert.NotEqual(t, tokens[0], other.LinkToken, "another key, another token")
}

// TestMockIdempotencyKey: the same key with another body is a 400 naming
// the header; a key is kept 24 hours of the mock's clock; without the
// option, each call (with its own random key) gets its own token.
func TestMockIdempotencyKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	f := newLinkFlow(t, contracttest.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	ctx := context.Background()
	first, err := f.c.CreateLinkToken(ctx, ada(), client.WithIdempotencyKey("k1"))
	require.NoError(t, err)
	other := ada()
	other.EndUserOriginID = "43"
	_, err = f.c.CreateLinkToken(ctx, other, client.WithIdempotencyKey("k1"))
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Contains(t, apiErr.Error(), "Idempotency-Key header was already used with another request body")

	mu.Lock()
	now = now.Add(23 * time.Hour)
	mu.Unlock()
	same, err := f.c.CreateLinkToken(ctx, ada(), client.WithIdempotencyKey("k1"))
	require.NoError(t, err)
	assert.Equal(t, first.LinkToken, same.LinkToken, "within 24 hours")
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	later, err := f.c.CreateLinkToken(ctx, ada(), client.WithIdempotencyKey("k1"))
	require.NoError(t, err)
	assert.NotEqual(t, first.LinkToken, later.LinkToken, "after 24 hours the key is new")

	a, err := f.c.CreateLinkToken(ctx, ada())
	require.NoError(t, err)
	b, err := f.c.CreateLinkToken(ctx, ada())
	require.NoError(t, err)
	assert.NotEqual(t, a.LinkToken, b.LinkToken, "each call's own random key")
}

// TestMockRefusesAnEmptyIdempotencyKey: the header present and empty breaks
// its minLength.
func TestMockRefusesAnEmptyIdempotencyKey(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(minimalBody))
	req.Header.Set("Authorization", "Bearer key")
	req.Header.Set("Content-Type", "application/json")
	req.Header["Idempotency-Key"] = []string{""}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "header Idempotency-Key breaks its schema's minLength")
}

// TestMockIdempotencyKeyLastsExactly24Hours: a key replays its first answer
// until 24 hours of the mock's clock have passed, to the nanosecond, and is
// new from then on.
func TestMockIdempotencyKeyLastsExactly24Hours(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now := start
	var mu sync.Mutex
	f := newLinkFlow(t, contracttest.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	create := func(at time.Duration) string {
		t.Helper()
		mu.Lock()
		now = start.Add(at)
		mu.Unlock()
		tok, err := f.c.CreateLinkToken(context.Background(), ada(), client.WithIdempotencyKey("k-24h"))
		require.NoError(t, err)
		return tok.LinkToken
	}
	first := create(0)
	assert.Equal(t, first, create(24*time.Hour-time.Nanosecond), "a nanosecond before 24 hours, the key still replays its first answer")
	assert.NotEqual(t, first, create(24*time.Hour), "at 24 hours of the mock's clock, the key is new (kept for less than idempotencyTTL)")
}
