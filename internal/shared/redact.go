package shared

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret.
const Redacted = "[redacted]"

// SecretMembers are the JSON members of the spec's bodies whose values are
// credentials or personal data: the end user's email, the link token, the
// Magic Link URL, the public and the account token. A recording or a
// report never shows their values.
var SecretMembers = []string{"end_user_email_address", "link_token", "magic_link_url", "account_token", "public_token"}

// EachSecret calls f for each member of a decoded JSON value (the maps and
// slices of encoding/json), at any depth, whose name is one of
// SecretMembers in any case and whose value is a string, with the object
// that holds it. f may replace the member's value in obj.
func EachSecret(v any, f func(obj map[string]any, name, value string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, m := range x {
			if s, ok := m.(string); ok && slices.ContainsFunc(SecretMembers, func(name string) bool { return strings.EqualFold(name, k) }) {
				f(x, k, s)
				continue
			}
			EachSecret(m, f)
		}
	case []any:
		for _, m := range x {
			EachSecret(m, f)
		}
	}
}

// Redactor replaces secrets in text with Redacted: each secret as given and
// with its surrounding space trimmed, in any case under Unicode simple case
// folding (regexp's (?i): K, k and the Kelvin sign K are one letter; ß and
// "SS" are not), the longest secret first. It is built once per set of
// secrets, when text is to be shown, and is safe for concurrent use.
type Redactor struct {
	// res match the secrets, longest first.
	res []*regexp.Regexp
	// guard is how many bytes at the end of a cut text may hold the start
	// of a secret: 4 per rune of the longest secret (a rune's case variant
	// may be longer than the rune), and an escape cut in the middle.
	guard int
}

// NewRedactor returns a Redactor for the non-empty secrets.
func NewRedactor(secrets ...string) *Redactor {
	var forms []string
	for _, s := range secrets {
		// The text is made valid UTF-8 before it is redacted (Printable),
		// so a secret that is not is matched as Printable shows it.
		s = strings.ToValidUTF8(s, "\uFFFD")
		for _, f := range []string{s, strings.TrimSpace(s)} {
			if f != "" && !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b)) })
	r := &Redactor{guard: 16}
	for _, f := range forms {
		r.res = append(r.res, regexp.MustCompile("(?i)"+regexp.QuoteMeta(f)))
		r.guard = max(r.guard, 4*utf8.RuneCountInString(f)+16)
	}
	return r
}

// Redact returns s with every secret replaced.
func (r *Redactor) Redact(s string) string {
	for _, re := range r.res {
		s = re.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// Shown returns text from elsewhere (a server, a request) as it may be
// shown, in at most n bytes: decoded (Unescape), printable (Printable), with
// every secret replaced, then cut (Truncate). Its cost is bounded whatever
// s is: of a long s it reads only n bytes and a guard, and drops the
// guard's length from the end of what it read, where a secret may have been
// cut before it could be matched. (Text that decoding or Printable shortens
// is shown shorter than n.)
func (r *Redactor) Shown(s string, n int) string {
	limit := n + r.guard
	cut := len(s) > limit
	if cut {
		s = s[:limit]
	}
	t := r.Redact(Printable(Unescape(s)))
	if cut {
		t = Truncate(t, max(0, len(t)-r.guard))
	}
	return Truncate(t, n)
}
