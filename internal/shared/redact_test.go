package shared_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/linktoken/internal/shared"
)

// TestShown: text is decoded, made printable, redacted and cut to n bytes;
// of a text longer than n and the guard (16 bytes, or 4 per rune of the
// longest secret and 16), only n and the guard are read, and the guard's
// length is dropped from the end of what was read, so a secret or an
// escape cut at the read limit never shows in part.
func TestShown(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("0123456789", 4) // 40 runes: a guard of 4*40+16 = 176 bytes
	cases := []struct {
		name    string
		secrets []string
		in      string
		n       int
		want    string
	}{
		{"short text shown whole", nil, "short", 10, "short"},
		{"decoded, printable and redacted", []string{"ada@example.com"}, "to ADA%40example.com\n\x1b[0mok", 40, "to [redacted] [0mok"},
		{"longer than n is cut to n", nil, strings.Repeat("x", 20), 10, "xxxxxxx…"},
		{"n and the guard exactly are read whole", nil, strings.Repeat("%41", 8) + "xx", 10, "AAAAAAAAxx"},
		{"an escape cut at the read limit is dropped with the guard", nil, strings.Repeat("%41", 9), 10, "…"},
		{"a secret within the guard of a long secret is redacted, then dropped with the guard",
			[]string{secret}, strings.Repeat("a", 170) + secret + strings.Repeat("b", 100), 50, strings.Repeat("a", 17) + "…"},
		{"a secret that starts before n is read whole, however far past n it ends",
			[]string{secret}, strings.Repeat("a", 50) + secret + strings.Repeat("b", 300), 60, strings.Repeat("a", 27) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := shared.NewRedactor(tc.secrets...).Shown(tc.in, tc.n)
			assert.Equal(t, tc.want, got, "Shown(%q, %d): read n and the guard, decode, redact, drop the guard if cut, then cut to n", tc.in, tc.n)
			assert.NotContains(t, got, "0123", "no part of a secret may be shown")
		})
	}
}
