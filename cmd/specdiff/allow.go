package main

// The allow list (-allow) names breaking changes accepted on purpose, one a
// line, each as exactly as the change itself, and optionally until when:
//
//	<change id> <METHOD> <path> [<argument>...] -- <reason> [(until YYYY-MM-DD)]
//
// The arguments are the change's own, as oasdiff gives them
// (checker.Change.GetArgs) and in the order its message shows them: for
// request-property-enum-value-removed, the value and then the property, so
//
//	request-property-enum-value-removed POST /link-token knowledgebase categories/items -- Merge dropped the category (until 2027-03-31)
//
// acknowledges the removal of knowledgebase from categories/items and
// nothing else: removing hris is reported as breaking all the same. A field
// that is empty, is "--" or holds a space, a quote, a backslash or a control
// character is written as a Go string literal ("two words"). METHOD and path
// are "-" for a change that is not about one operation. The reason is
// required, and may not be a placeholder such as the "<why>" of the line
// specdiff suggests; it is kept cleaned (shared.Printable), so what is
// printed of it is one line without control characters. Blank lines and
// lines starting with # are skipped.
//
// The expiry, when given, ends the line: "(until 2027-03-31)", a date of the
// calendar (UTC) written YYYY-MM-DD. The entry acknowledges its change up to
// and including that day. From the next day on it has expired: it is
// reported, with its line and its date, and fails the run under -strict, so
// that a break accepted for a while (until Merge ships a fix, until the
// next major version) is looked at again. Something else in parentheses
// after "until" at the end of the line is refused, so a misspelt date never
// makes an entry last for ever.
//
// "specdiff breaking" prints, under each breaking change it reports, the
// entry that would acknowledge it; an entry that acknowledges nothing is
// reported too (and fails under -strict), so stale and misspelt entries do
// not linger.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/oasdiff/oasdiff/checker"

	"github.com/mergelink/linktoken/internal/shared"
)

// allowFormat is the form of an entry, for error messages.
const allowFormat = "<change id> <METHOD> <path> [<argument>...] -- <why this breaking change is intended> [(until YYYY-MM-DD)]"

// untilLayout is how an entry's expiry is written: "(until 2027-03-31)".
const untilLayout = "2006-01-02"

// untilSuffix finds what looks like an expiry at the end of a reason, in
// any case and with anything in the parentheses, so that parseAllowLine
// can refuse one that is not exactly "(until YYYY-MM-DD)".
var untilSuffix = regexp.MustCompile(`(?i)\(\s*until\b[^()]*\)\s*$`)

// untilExact is an expiry as it must be written.
var untilExact = regexp.MustCompile(`^\(until (\d{4}-\d{2}-\d{2})\)$`)

// allowList is a parsed -allow file.
type allowList struct {
	file    string
	entries []*allowEntry // in file order
	byKey   map[string]*allowEntry
}

// allowEntry is one line of the allow list.
type allowEntry struct {
	line    int
	key     string // canonical: formatKey of the parsed fields
	reason  string // cleaned by parseAllowLine: printed as it is
	until   string // the last day it acknowledges its change, YYYY-MM-DD; "" for ever
	expired bool   // until is before the day readAllow was given
	matched bool
}

// readAllow reads and parses an allow list; an empty path is no list. An
// entry whose until is before now's day (UTC) has expired.
func readAllow(path string, now time.Time) (*allowList, error) {
	if path == "" {
		return nil, nil
	}
	data, err := readFile("-allow", path, maxDocumentBytes)
	if err != nil {
		return nil, err
	}
	a := &allowList{file: path, byKey: map[string]*allowEntry{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n := i + 1
		fields, reason, until, err := parseAllowLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", shown(path), n, err)
		}
		e := &allowEntry{line: n, key: formatKey(fields), reason: reason, until: until}
		e.expired = until != "" && until < now.UTC().Format(untilLayout)
		if prev, ok := a.byKey[e.key]; ok {
			return nil, fmt.Errorf("%s:%d: names the same change as line %d", shown(path), n, prev.line)
		}
		a.byKey[e.key] = e
		a.entries = append(a.entries, e)
	}
	return a, nil
}

// parseAllowLine splits an entry into the fields naming the change, the
// reason after "--", cleaned, and the expiry that ends it, if any
// (YYYY-MM-DD). What an error quotes of line is shown (bounded and
// cleaned).
func parseAllowLine(line string) ([]string, string, string, error) {
	var fields []string
	rest := line
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			return nil, "", "", fmt.Errorf("has no reason; write %s", allowFormat)
		}
		var field string
		if rest[0] == '"' {
			quoted, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, "", "", fmt.Errorf("unterminated or invalid quoted field %s", shown(rest))
			}
			field, _ = strconv.Unquote(quoted)
			rest = rest[len(quoted):]
			if rest != "" && !unicode.IsSpace(rune(rest[0])) {
				return nil, "", "", fmt.Errorf("no space after the quoted field %s", shown(quoted))
			}
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			field, rest = rest[:end], rest[end:]
			if field == "--" {
				break
			}
		}
		fields = append(fields, field)
	}
	reason := strings.TrimSpace(shared.Printable(rest))
	var until string
	if loc := untilSuffix.FindStringIndex(reason); loc != nil {
		written := strings.TrimSpace(reason[loc[0]:])
		m := untilExact.FindStringSubmatch(written)
		if m == nil {
			return nil, "", "", fmt.Errorf("ends with %s; write the expiry as (until YYYY-MM-DD), such as (until 2027-03-31)", shown(written))
		}
		if _, err := time.Parse(untilLayout, m[1]); err != nil {
			return nil, "", "", fmt.Errorf("gives %s as its expiry, which is not a date; write (until YYYY-MM-DD)", shown(m[1]))
		}
		until, reason = m[1], strings.TrimSpace(reason[:loc[0]])
	}
	switch {
	case len(fields) < 3:
		return nil, "", "", fmt.Errorf("names %q only; write %s", shown(formatKey(fields)), allowFormat)
	case reason == "":
		return nil, "", "", fmt.Errorf("has no reason; write %s", allowFormat)
	case isPlaceholder(reason):
		return nil, "", "", fmt.Errorf("gives the placeholder %s as its reason; replace it with why this breaking change is intended", shown(reason))
	}
	return fields, reason, until, nil
}

// isPlaceholder reports whether a reason is template text left in place:
// one <...> with nothing around it, such as the "<why>" of the entry
// specdiff suggests, or the "<why this breaking change is intended>" of
// allowFormat.
func isPlaceholder(reason string) bool {
	inner, ok := strings.CutPrefix(reason, "<")
	if !ok {
		return false
	}
	inner, ok = strings.CutSuffix(inner, ">")
	return ok && !strings.ContainsAny(inner, "<>")
}

// acknowledge returns the entry naming the change key, marking it as used.
// An expired entry acknowledges its change still (it is reported among the
// expired entries, and fails the run under -strict).
func (a *allowList) acknowledge(key string) (*allowEntry, bool) {
	if a == nil {
		return nil, false
	}
	e, ok := a.byKey[key]
	if !ok {
		return nil, false
	}
	e.matched = true
	return e, true
}

// unmatched lists, in file order, the entries no breaking change matched.
func (a *allowList) unmatched() []unmatchedEntry {
	return a.list(func(e *allowEntry) bool { return !e.matched })
}

// expiredEntries lists, in file order, the entries whose date has passed.
func (a *allowList) expiredEntries() []unmatchedEntry {
	return a.list(func(e *allowEntry) bool { return e.expired })
}

func (a *allowList) list(keep func(*allowEntry) bool) []unmatchedEntry {
	if a == nil {
		return nil
	}
	var out []unmatchedEntry
	for _, e := range a.entries {
		if keep(e) {
			out = append(out, unmatchedEntry{File: a.file, Line: e.line, Entry: e.key, Reason: e.reason, Until: e.until})
		}
	}
	return out
}

// changeKey is the allow-list name of a change, canonical: its id, method,
// path and arguments, in formatKey's form.
func changeKey(c checker.Change) string {
	fields := []string{c.GetId(), orDash(c.GetOperation()), orDash(c.GetPath())}
	for _, arg := range c.GetArgs() {
		fields = append(fields, argString(arg))
	}
	return formatKey(fields)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// argString writes one argument of a change as its value reads: strings as
// they are, numbers without trailing zeros, lists comma-separated, anything
// else as JSON.
func argString(arg any) string {
	switch v := arg.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []string:
		return strings.Join(v, ",")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return v.String()
	}
	if data, err := json.Marshal(arg); err == nil {
		return string(data)
	}
	return fmt.Sprint(arg)
}

// formatKey joins fields with spaces, quoting those that would not read
// back as one field.
func formatKey(fields []string) string {
	quoted := make([]string, len(fields))
	for i, f := range fields {
		quoted[i] = f
		if needsQuotes(f) {
			quoted[i] = strconv.Quote(f)
		}
	}
	return strings.Join(quoted, " ")
}

func needsQuotes(f string) bool {
	return f == "" || f == "--" || strings.IndexFunc(f, func(r rune) bool {
		return unicode.IsSpace(r) || r == '"' || r == '\\' || !unicode.IsPrint(r)
	}) >= 0
}
