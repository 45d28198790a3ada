package shared

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Violation is one rule of the spec that a request or a response breaks.
// The client's validation and the contract kit report it, as
// client.Violation.
type Violation struct {
	// In is where the problem is: "body", "path", "header", "security",
	// "status" or "operation".
	In string
	// Pointer is the RFC 6901 JSON pointer of the offending value in the
	// body, such as "/link_expiry_mins" or "/categories/1"; "" for the body
	// as a whole or outside it. Its tokens are the body's keys, map keys
	// (a category, an integration slug) included.
	Pointer string
	// Rule is the JSON Schema keyword that failed, such as "maxLength" or
	// "not".
	Rule string
	// Value is the offending value, or "" where it is personal data or a
	// credential (the email address, a token), or absent.
	Value string
	// Message says what the rule requires.
	Message string
}

// Field returns the top-level body field the violation concerns, or "".
func (v Violation) Field() string {
	p := strings.TrimPrefix(v.Pointer, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return pointerToken.Replace(p)
}

// String returns "pointer: message (rule)", with the value when there is
// one: `/link_expiry_mins: must be at least 30 (minimum; got 5)`.
func (v Violation) String() string {
	where := v.Pointer
	if where == "" {
		where = v.In
	}
	if v.Value == "" {
		return fmt.Sprintf("%s: %s (%s)", where, v.Message, v.Rule)
	}
	return fmt.Sprintf("%s: %s (%s; got %s)", where, v.Message, v.Rule, v.Value)
}

// Violations is a list of violations in a deterministic order: by pointer
// (array indexes by number), then where, rule, message and value.
type Violations []Violation

// Fields returns the distinct top-level body fields named, sorted.
func (vs Violations) Fields() []string {
	var out []string
	for _, v := range vs {
		if f := v.Field(); f != "" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// String joins the violations with "; ".
func (vs Violations) String() string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// MaxViolations bounds how many violations one error lists.
const MaxViolations = 50

// ViolationList collects violations as they are found and keeps those that
// will be shown: at most MaxViolations, each field's first ones before
// another field's repeats, so that a request with thousands of bad
// categories still names its missing email. It keeps at most
// 2×MaxViolations per field whatever is added (a sort and a cut when a
// field's list fills up), so adding n costs O(n log MaxViolations). The zero
// value is ready to use.
type ViolationList struct {
	byField map[string][]Violation
	n       int
}

// Add records one violation.
func (l *ViolationList) Add(v Violation) {
	if l.byField == nil {
		l.byField = map[string][]Violation{}
	}
	f := v.Field()
	kept := append(l.byField[f], v)
	if len(kept) == 2*MaxViolations {
		kept = smallest(kept)
	}
	l.byField[f] = kept
	l.n++
}

// smallest sorts vs and keeps its first MaxViolations.
func smallest(vs []Violation) []Violation {
	slices.SortFunc(vs, CompareViolations)
	return vs[:min(len(vs), MaxViolations)]
}

// Len returns how many violations were added.
func (l *ViolationList) Len() int { return l.n }

// Result returns the violations kept, sorted, and how many were left out.
func (l *ViolationList) Result() ([]Violation, int) {
	type ranked struct {
		rank int
		v    Violation
	}
	var candidates []ranked
	for _, vs := range l.byField {
		for rank, v := range smallest(vs) {
			candidates = append(candidates, ranked{rank, v})
		}
	}
	slices.SortFunc(candidates, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), CompareViolations(a.v, b.v))
	})
	keep := min(len(candidates), MaxViolations)
	var out []Violation
	for _, c := range candidates[:keep] {
		out = append(out, c.v)
	}
	slices.SortFunc(out, CompareViolations)
	return out, l.n - keep
}

// CompareViolations orders violations by pointer (array indexes by number),
// then where, rule, message and value.
func CompareViolations(a, b Violation) int {
	return cmp.Or(comparePointers(a.Pointer, b.Pointer), cmp.Compare(a.In, b.In),
		cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message), cmp.Compare(a.Value, b.Value))
}

// comparePointers orders JSON pointers token by token, array indexes by
// number, so /categories/2 comes before /categories/10; a prefix comes
// first.
func comparePointers(a, b string) int {
	for a != "" && b != "" {
		var x, y string
		x, a = nextToken(a)
		y, b = nextToken(b)
		if isIndex(x) && isIndex(y) {
			if c := cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(x, y)); c != 0 {
				return c
			}
			continue
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// nextToken splits "/a/b" into "a" and "/b".
func nextToken(p string) (string, string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// isIndex reports whether a pointer token is an array index: digits
// without a leading zero.
func isIndex(t string) bool {
	return t != "" && (len(t) == 1 || t[0] != '0') && strings.Trim(t, "0123456789") == ""
}

// pointerToken decodes one JSON pointer token (RFC 6901).
var pointerToken = strings.NewReplacer("~1", "/", "~0", "~")

// pointerEscaper encodes a key as one JSON pointer token.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// Pointer returns the RFC 6901 pointer made of tokens, each escaped:
// Pointer("a/b", "0") is "/a~1b/0".
func Pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(t))
	}
	return b.String()
}
