package shared_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/linktoken/internal/shared"
)

// TestTruncate: at most n bytes, cut on a rune boundary and ended with the
// ellipsis; a string that fits is returned as it is.
func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"shorter than n is kept", "abc", 4, "abc"},
		{"exactly n bytes is kept", "abcd", 4, "abcd"},
		{"one byte over is cut, the ellipsis counted in n", "abcdefgh", 7, "abcd…"},
		{"a long ASCII text keeps n minus the ellipsis", strings.Repeat("x", 100), 10, "xxxxxxx…"},
		{"a cut inside a rune backs off to its start", "日本語", 7, "日…"},
		{"a cut two bytes into a rune backs off to its start", "a日本語", 9, "a日…"},
		{"a text of continuation bytes is cut to the ellipsis alone", "\x80\x80\x80\x80\x80", 4, "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := shared.Truncate(tc.in, tc.n)
			assert.Equal(t, tc.want, got, "Truncate(%q, %d) must keep whole runes and end a cut text with the ellipsis", tc.in, tc.n)
			assert.LessOrEqual(t, len(got), tc.n, "Truncate must return at most n bytes")
		})
	}
}

// TestQuote: a value cut to 64 bytes, then Go-quoted.
func TestQuote(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain", "abc", `"abc"`},
		{"control characters escaped", "a\x1b[31m\n", `"a\x1b[31m\n"`},
		{"64 bytes kept whole", strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{"65 bytes cut to 64 with the ellipsis", strings.Repeat("x", 65), `"` + strings.Repeat("x", 61) + `…"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.Quote(tc.in))
		})
	}
}

// TestUnescape: percent-encoding and HTML references are decoded, layer by
// layer, at most 16 layers; an invalid escape is left as it is.
func TestUnescape(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"nothing to decode", "ada@example.com", "ada@example.com"},
		{"a percent escape", "ada%40example.com", "ada@example.com"},
		{"lower-case hex", "%2f%2F", "//"},
		{"an HTML reference", "ada&#64;example&period;com", "ada@example.com"},
		{"twice encoded", "ada%2540example.com", "ada@example.com"},
		{"percent then HTML", "ada%26%2364;example.com", "ada@example.com"},
		{"an invalid escape does not shield what follows", "%zz%40", "%zz@"},
		{"a lone percent sign", "100%", "100%"},
		{"16 layers at most", "%" + strings.Repeat("25", 17) + "40", "%2540"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.Unescape(tc.in))
		})
	}
}

// TestIsLoopback: localhost in any case, with or without its final dot,
// and loopback addresses; nothing else.
func TestIsLoopback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost.", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"10.0.0.1", false},
		{"::2", false},
		{"example.com", false},
		{"localhost.example.com", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.IsLoopback(tc.host), "IsLoopback(%q)", tc.host)
		})
	}
}

// TestJoinValues: values of any string type, joined with ", ".
func TestJoinValues(t *testing.T) {
	t.Parallel()
	type category string
	assert.Equal(t, "hris, ats", shared.JoinValues([]category{"hris", "ats"}))
	assert.Equal(t, "", shared.JoinValues([]string(nil)))
}

// TestSleep: it waits for d; a done context ends it with the context's
// error, even when there is nothing to wait for.
func TestSleep(t *testing.T) {
	t.Parallel()
	t.Run("waits for d", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		assert.NoError(t, shared.Sleep(context.Background(), 20*time.Millisecond))
		assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "Sleep must not return before d has passed")
	})
	t.Run("nothing to wait for", func(t *testing.T) {
		t.Parallel()
		assert.NoError(t, shared.Sleep(context.Background(), 0))
		assert.NoError(t, shared.Sleep(context.Background(), -time.Second))
	})
	t.Run("a done context ends a wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		assert.ErrorIs(t, shared.Sleep(ctx, time.Hour), context.Canceled)
		assert.Less(t, time.Since(start), time.Minute, "a done context must end the wait at once")
	})
	t.Run("a done context wins over a zero wait, every time", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// A zero timer would race the context: Sleep must not start one.
		for range 200 {
			if err := shared.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
				t.Fatalf("Sleep(done context, 0) = %v, want context.Canceled: a zero wait must return the context's error without a timer", err)
			}
		}
	})
}

// TestMatchPath: a spec path matches the last segments of a path below any
// base path, a parameter any non-empty segment; the base's length says
// whether the match is exact.
func TestMatchPath(t *testing.T) {
	t.Parallel()
	exchange := []string{"account-token", "{public_token}"}
	cases := []struct {
		name    string
		pattern []string
		path    string
		params  map[string]string
		base    int
		ok      bool
	}{
		{"exact, no parameter", []string{"link-token"}, "/link-token", nil, 0, true},
		{"below a base path", []string{"link-token"}, "/api/hris/v1/link-token", nil, 3, true},
		{"a parameter", exchange, "/account-token/pt-1", map[string]string{"public_token": "pt-1"}, 0, true},
		{"a parameter below a base path", exchange, "/v1/account-token/pt-1", map[string]string{"public_token": "pt-1"}, 1, true},
		{"an empty parameter", exchange, "/account-token/", nil, 0, false},
		{"another last segment", []string{"link-token"}, "/link-token/x", nil, 0, false},
		{"a shorter path", exchange, "/pt-1", nil, 0, false},
		{"a literal differs", exchange, "/account-tokens/pt-1", nil, 0, false},
		{"a trailing slash is an empty last segment", []string{"link-token"}, "/link-token/", nil, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params, base, ok := shared.MatchPath(tc.pattern, tc.path)
			assert.Equal(t, tc.ok, ok, "MatchPath(%q, %q) must match only a path ending in the pattern's segments", tc.pattern, tc.path)
			assert.Equal(t, tc.params, params)
			assert.Equal(t, tc.base, base, "the segments before the match")
		})
	}
}

// TestCredentials: what follows an Authorization header's scheme, after any
// run of spaces or tabs.
func TestCredentials(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, auth, want string }{
		{"a space", "Bearer sk-1", "sk-1"},
		{"a tab", "Bearer\tsk-1", "sk-1"},
		{"spaces around", "  Bearer   sk-1  ", "sk-1"},
		{"no credentials", "Bearer", ""},
		{"empty", "", ""},
		{"credentials with a space", "Basic a b", "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.Credentials(tc.auth), "Credentials(%q) must return what follows the scheme, trimmed", tc.auth)
		})
	}
}
