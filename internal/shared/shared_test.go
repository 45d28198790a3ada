package shared_test

import (
	"runtime/debug"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/linktoken/internal/shared"
)

// TestRedact: every secret, in any case (Unicode simple folding, so a
// secret may match text shorter in bytes), longest first, the caller's
// slice untouched.
func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{"nothing to hide", "plain text", []string{"key"}, "plain text"},
		{"no secrets", "plain text", nil, "plain text"},
		{"an empty secret is ignored", "plain", []string{""}, "plain"},
		{"every occurrence, any case", "Key key KEY", []string{"key"}, "[redacted] [redacted] [redacted]"},
		{"the longest first", "ada.lovelace@example.com", []string{"lovelace", "ada.lovelace@example.com"}, "[redacted]"},
		{"the longest first whatever the order", "ada.lovelace@example.com", []string{"ada.lovelace@example.com", "lovelace"}, "[redacted]"},
		{"equal lengths both go", "abc xyz", []string{"abc", "xyz"}, "[redacted] [redacted]"},
		{"a secret longer in bytes than the text", "k", []string{"\u212A"}, "[redacted]"},
		{"a secret longer than the text", "ab", []string{"abc"}, "ab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := slices.Clone(tc.secrets)
			assert.Equal(t, tc.want, shared.NewRedactor(tc.secrets...).Redact(tc.text))
			assert.Equal(t, secrets, tc.secrets, "the caller's slice is untouched")
		})
	}
}

// TestPrintable: what the one cleaner of server text (the errors', the
// mock's log, the linktoken command's output) keeps, replaces and drops.
func TestPrintable(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain", "Invalid token.", "Invalid token."},
		{"unicode letters kept", "Größe ✓ 日本", "Größe ✓ 日本"},
		{"line breaks become spaces", "a\nb\rc\vd\fe\tf\u0085g\u2028h\u2029i", "a b c d e f g h i"},
		{"CSI sequence loses its ESC", "\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"OSC sequence loses ESC and BEL", "\x1b]8;;http://evil\x07link", "]8;;http://evillink"},
		{"C1 CSI and DEL dropped", "a\u009b2Jb\x7fc", "a2Jbc"},
		{"bidi controls dropped", "\u202eabc\u202c \u2066x\u2069 \u200ey\u200f\u061c", "abc x y"},
		{"NUL dropped", "a\x00b", "ab"},
		{"invalid UTF-8 replaced", "a\xffb", "a\ufffdb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.Printable(tc.in))
		})
	}
}

// TestVersion: the module's version comes from the build info, whether this
// module is the main one or a dependency; "(devel)" otherwise.
func TestVersion(t *testing.T) {
	t.Parallel()
	const path = "github.com/mergelink/linktoken"
	cases := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go install @v0.1.0", &debug.BuildInfo{Main: debug.Module{Path: path, Version: "v0.1.0"}}, true, "v0.1.0"},
		{"built in a checkout", &debug.BuildInfo{Main: debug.Module{Path: path, Version: "(devel)"}}, true, "(devel)"},
		{"a dependency of another main module", &debug.BuildInfo{Main: debug.Module{Path: "example.com/tool", Version: "v9.9.9"},
			Deps: []*debug.Module{{Path: path, Version: "v0.2.0"}}}, true, "v0.2.0"},
		{"replaced without a version", &debug.BuildInfo{Main: debug.Module{Path: "example.com/tool"},
			Deps: []*debug.Module{{Path: path}}}, true, "(devel)"},
		{"no build info", nil, false, "(devel)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.ModuleVersion(tc.info, tc.ok))
		})
	}
	assert.NotEmpty(t, shared.Version())
}

// TestEachSecret: every string member named as one of SecretMembers, in any
// case and at any depth, with the object holding it so that it can be
// replaced; a secret name with a value that is not a string is walked into.
func TestEachSecret(t *testing.T) {
	t.Parallel()
	body := map[string]any{
		"End_User_Email_Address": "ada@example.com",
		"end_user_origin_id":     "not a secret",
		"nested":                 []any{map[string]any{"link_token": "lt"}, "magic_link_url"},
		"public_token":           map[string]any{"account_token": "at"},
		"link_token":             nil,
	}
	var found []string
	shared.EachSecret(body, func(obj map[string]any, name, value string) {
		found = append(found, name+"="+value)
		obj[name] = shared.Redacted
	})
	slices.Sort(found)
	assert.Equal(t, []string{"End_User_Email_Address=ada@example.com", "account_token=at", "link_token=lt"}, found,
		"EachSecret must find each string member named in SecretMembers (any case, any depth), and only those")
	assert.Equal(t, shared.Redacted, body["End_User_Email_Address"], "f must be able to replace the member in the object it is given")
	assert.Equal(t, shared.Redacted, body["nested"].([]any)[0].(map[string]any)["link_token"])
	assert.Equal(t, "not a secret", body["end_user_origin_id"])
	shared.EachSecret("plain", func(map[string]any, string, string) { t.Error("a JSON string holds no member") })
}
