package main

import (
	"hash/maphash"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mergelink/linktoken/internal/shared"
)

// Keeping an archive's secrets out of "specdiff traffic"'s report.
//
// The report shows few texts from the archive: the names of undocumented
// members, enum values, the Validator's messages, an entry's URL in an
// error; at most maxFindings findings. What must not show is every
// credential and email the archive holds, one or more per exchange: tens
// of thousands in a large archive. A shared.Redactor compiles a regexp
// per secret (10,000 took 40 MB and 0.24 s here), so it cannot be given
// all of them. secretIndex keeps a hash of each secret's case-folded form
// instead (8 bytes each); once the texts to show are known, each of their
// substrings as long as some secret is looked up, as a Redactor reads the
// text (decoded by shared.Unescape, then shared.Printable), and the
// substrings found are what the Redactor is built with. It then replaces
// them in any case, decoded, as it would have replaced the secrets.

const (
	// minSecretRunes: a shorter value is no credential, and would blank
	// out every word it is part of (a cookie "en", "1").
	minSecretRunes = 6
	// maxSecretRunes: no text shown is longer (an error line is at most
	// maxErrorBytes), so a longer secret cannot be in one whole.
	maxSecretRunes = maxErrorBytes
	// maxSecrets bounds the index: 8 MiB of hashes or so, three secrets
	// an exchange for a 300,000-exchange archive.
	maxSecrets = 1 << 20
)

// secretIndex remembers the secrets an archive showed. The zero value is
// not ready: use newSecretIndex.
type secretIndex struct {
	seed   maphash.Seed
	hashes map[uint64]struct{}
	// lengths are the secrets' lengths in runes, each once.
	lengths []int
	// full is set once maxSecrets are held: the run stops.
	full bool
}

func newSecretIndex() *secretIndex {
	return &secretIndex{seed: maphash.MakeSeed(), hashes: map[uint64]struct{}{}}
}

// add remembers secrets in the forms a Redactor matches (as given, and
// trimmed: see shared.NewRedactor) and decoded (shared.Unescape). The
// placeholder of a redacted archive is not a secret.
func (x *secretIndex) add(secrets ...string) {
	for _, s := range secrets {
		s = strings.ToValidUTF8(s, "\uFFFD")
		u := shared.Unescape(s)
		for _, f := range [...]string{s, strings.TrimSpace(s), u, strings.TrimSpace(u)} {
			n := utf8.RuneCountInString(f)
			if n < minSecretRunes || n > maxSecretRunes || isRedactedPlaceholder(f) {
				continue
			}
			if len(x.hashes) >= maxSecrets {
				x.full = true
				return
			}
			x.hashes[maphash.String(x.seed, fold(f))] = struct{}{}
			if i, found := slices.BinarySearch(x.lengths, n); !found {
				x.lengths = slices.Insert(x.lengths, i, n)
			}
		}
	}
}

// isRedactedPlaceholder reports whether s is what a redacted archive holds
// instead of a secret: contracttest.RecordHAR writes shared.Redacted.
func isRedactedPlaceholder(s string) bool {
	return strings.EqualFold(s, shared.Redacted) || strings.EqualFold(s, "REDACTED")
}

// fold maps each rune to the smallest of its case variants (its orbit
// under unicode.SimpleFold): two strings are equal under regexp's (?i),
// and so under a Redactor, when their folds are.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf { // ASCII: the upper-case letter is the smallest
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			return r
		}
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		return low
	}, s)
}

// redactor returns a Redactor for the secrets texts hold: each substring
// of a text, as a Redactor reads it, whose fold is a secret's.
func (x *secretIndex) redactor(texts ...string) *shared.Redactor {
	var found []string
	for _, t := range texts {
		p := shared.Printable(shared.Unescape(t))
		f := fold(p)
		// Folding maps rune to rune, so the i-th rune of p and f start at
		// pAt[i] and fAt[i].
		pAt, fAt := runeStarts(p), runeStarts(f)
		n := len(pAt) - 1
		for i := range n {
			for _, l := range x.lengths {
				if i+l > n {
					break
				}
				if _, ok := x.hashes[maphash.String(x.seed, f[fAt[i]:fAt[i+l]])]; ok {
					found = append(found, p[pAt[i]:pAt[i+l]])
				}
			}
		}
	}
	return shared.NewRedactor(found...)
}

// runeStarts returns where each rune of s starts, and len(s) last.
func runeStarts(s string) []int {
	out := make([]int, 0, len(s)+1)
	for i := range s {
		out = append(out, i)
	}
	return append(out, len(s))
}

// Where secrets are in an exchange.

// secretHeaderWords are what the name of a header holding a credential
// contains: Authorization, Cookie, Set-Cookie, X-Api-Key, X-Account-Token,
// Idempotency-Key, X-CSRF-Token...
var secretHeaderWords = []string{"auth", "cookie", "token", "key", "secret", "session", "password", "signature", "credential", "csrf", "xsrf"}

// headerSecrets returns the secrets of headers and of a HAR's cookies:
// the value of each header whose name says it holds a credential, what
// follows its scheme ("Bearer <key>"), and each cookie's value.
func headerSecrets(headers, cookies []harNV) []string {
	var out []string
	for _, h := range headers {
		name := strings.ToLower(h.Name)
		if !slices.ContainsFunc(secretHeaderWords, func(w string) bool { return strings.Contains(name, w) }) {
			continue
		}
		out = append(out, h.Value, shared.Credentials(h.Value))
		if strings.Contains(name, "cookie") {
			for _, pair := range strings.Split(h.Value, ";") {
				if _, v, ok := strings.Cut(pair, "="); ok {
					out = append(out, v)
				}
			}
		}
	}
	for _, c := range cookies {
		out = append(out, c.Value)
	}
	return out
}

// bodySecrets returns the string values of the secret members (shared.SecretMembers) of a
// decoded JSON body, at any depth, their names in any case.
func bodySecrets(v any) []string {
	var out []string
	shared.EachSecret(v, func(_ map[string]any, _, value string) { out = append(out, value) })
	return out
}

// Texts from the archive, before they are shown.

// maxDataText bounds a text from the archive that a finding keeps (a
// member's name, an enum value, a message): a longer one is not shown at
// all, since cutting it could leave the start of a secret in view.
const maxDataText = 512

// longText stands for a text over maxDataText.
const longText = "(a text over 512 bytes, not shown)"

// cutQuote is a Go-quoted value that shared.Quote cut: its end, where a
// secret may have begun, is gone, so the Redactor cannot match it.
var cutQuote = regexp.MustCompile(`"(?:[^"\\]|\\.)*` + shared.Ellipsis + `"`)

// dataText is a text from the archive as a finding keeps it: whole, or
// longText; a value the Validator's message quotes cut short is dropped.
func dataText(s string) string {
	if len(s) > maxDataText {
		return longText
	}
	return cutQuote.ReplaceAllLiteralString(s, `"`+shared.Ellipsis+`"`)
}
