package contracttest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/gen"
)

// TestLinksAreBounded: past its bound, the mock forgets its oldest link
// tokens and their public tokens, as if they had expired.
func TestLinksAreBounded(t *testing.T) {
	t.Parallel()
	ls := newLinks()
	ls.max = 3
	now := time.Now()
	for _, tok := range []string{"a", "b", "c"} {
		ls.issued(tok, gen.LinkTokenRequest{}, now)
	}
	la, err := ls.complete("a", now)
	require.NoError(t, err)
	ls.issued("d", gen.LinkTokenRequest{}, now)
	assert.Len(t, ls.byLink, 3)
	_, err = ls.complete("a", now)
	assert.True(t, errors.Is(err, ErrUnknownLinkToken), "the oldest link token is forgotten")
	_, ok := ls.exchange(la.public, now)
	assert.False(t, ok, "with its public token")
	_, err = ls.complete("d", now)
	assert.NoError(t, err)
}

// TestIdempotencyIsBounded: past its bound, the mock forgets its oldest
// keys.
func TestIdempotencyIsBounded(t *testing.T) {
	t.Parallel()
	id := newIdempotency()
	id.max = 2
	now := time.Now()
	for _, k := range []string{"a", "b", "c"} {
		a, first, _ := id.claim(k, []byte(k), now)
		require.True(t, first)
		a.fill(200, k)
	}
	assert.Len(t, id.entries, 2)
	_, first, _ := id.claim("a", []byte("other body"), now)
	assert.True(t, first, "the oldest key is forgotten: a new first use, not a conflict")
}
