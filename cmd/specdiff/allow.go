package main

// The allow list (-allow) names breaking changes accepted on purpose, one a
// line, each as exactly as the change itself:
//
//	<change id> <METHOD> <path> [<argument>...] -- <reason>
//
// The arguments are the change's own, as oasdiff gives them
// (checker.Change.GetArgs) and in the order its message shows them: for
// request-property-enum-value-removed, the value and then the property, so
//
//	request-property-enum-value-removed POST /link-token knowledgebase categories/items -- Merge dropped the category
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
// "specdiff breaking" prints, under each breaking change it reports, the
// entry that would acknowledge it; an entry that acknowledges nothing is
// reported too (and fails under -strict), so stale and misspelt entries do
// not linger.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/oasdiff/oasdiff/checker"

	"github.com/mergelink/linktoken/internal/shared"
)

// allowFormat is the form of an entry, for error messages.
const allowFormat = "<change id> <METHOD> <path> [<argument>...] -- <why this breaking change is intended>"

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
	matched bool
}

// readAllow reads and parses an allow list; an empty path is no list.
func readAllow(path string) (*allowList, error) {
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
		fields, reason, err := parseAllowLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", shown(path), n, err)
		}
		e := &allowEntry{line: n, key: formatKey(fields), reason: reason}
		if prev, ok := a.byKey[e.key]; ok {
			return nil, fmt.Errorf("%s:%d: names the same change as line %d", shown(path), n, prev.line)
		}
		a.byKey[e.key] = e
		a.entries = append(a.entries, e)
	}
	return a, nil
}

// parseAllowLine splits an entry into the fields naming the change and the
// reason after "--", cleaned. What an error quotes of line is shown
// (bounded and cleaned).
func parseAllowLine(line string) ([]string, string, error) {
	var fields []string
	rest := line
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			return nil, "", fmt.Errorf("has no reason; write %s", allowFormat)
		}
		var field string
		if rest[0] == '"' {
			quoted, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, "", fmt.Errorf("unterminated or invalid quoted field %s", shown(rest))
			}
			field, _ = strconv.Unquote(quoted)
			rest = rest[len(quoted):]
			if rest != "" && !unicode.IsSpace(rune(rest[0])) {
				return nil, "", fmt.Errorf("no space after the quoted field %s", shown(quoted))
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
	switch {
	case len(fields) < 3:
		return nil, "", fmt.Errorf("names %q only; write %s", shown(formatKey(fields)), allowFormat)
	case reason == "":
		return nil, "", fmt.Errorf("has no reason; write %s", allowFormat)
	case isPlaceholder(reason):
		return nil, "", fmt.Errorf("gives the placeholder %s as its reason; replace it with why this breaking change is intended", shown(reason))
	}
	return fields, reason, nil
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

// acknowledge returns the reason given for the change named key, marking
// its entry as used.
func (a *allowList) acknowledge(key string) (string, bool) {
	if a == nil {
		return "", false
	}
	e, ok := a.byKey[key]
	if !ok {
		return "", false
	}
	e.matched = true
	return e.reason, true
}

// unmatched lists, in file order, the entries no breaking change matched.
func (a *allowList) unmatched() []unmatchedEntry {
	if a == nil {
		return nil
	}
	var out []unmatchedEntry
	for _, e := range a.entries {
		if !e.matched {
			out = append(out, unmatchedEntry{File: a.file, Line: e.line, Entry: e.key, Reason: e.reason})
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
