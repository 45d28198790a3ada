// Package shared holds what the client, the contract kit and the commands
// of this module share, each defined once: text made safe to show
// (Printable, Truncate, Quote, Unescape), the redaction of secrets
// (Redactor), JSON pointers and the bounded list of violations
// (ViolationList), and small helpers (IsLoopback, JoinValues, Sleep).
package shared

import (
	"context"
	"html"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting encoding/json decodes, and so
// kin-openapi and the contract kit's mock: a deeper body is not JSON to
// them.
const MaxJSONDepth = 10000

// lineBreaks are the characters Printable makes spaces.
const lineBreaks = "\t\n\v\f\r\u0085\u2028\u2029"

// Printable returns s as it may be shown on a terminal or in a log: line
// breaks (CR, LF, VT, FF, NEL, U+2028, U+2029) and tabs become spaces, and
// other control and formatting characters (escape sequences, bidi
// overrides, zero-width characters) are dropped, so that text a server or a
// user sent cannot forge a line or recolour a terminal. Invalid UTF-8
// becomes U+FFFD.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(lineBreaks, r) {
			return ' '
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// Ellipsis marks where Truncate cut a string.
const Ellipsis = "…"

// Truncate cuts s to at most n bytes, on a rune boundary, ending the cut
// text with Ellipsis: at most max(n, len(Ellipsis)) bytes in all, since a
// cut text always ends with it (for n under 3, Truncate gives Ellipsis).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(0, n-len(Ellipsis))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}

// maxQuoted bounds how much of a value Quote shows.
const maxQuoted = 64

// Quote is a value as an error message shows it: cut to 64 bytes, then
// Go-quoted, so control characters are escaped and a megabyte of input
// never becomes a megabyte of error.
func Quote(s string) string {
	return strconv.Quote(Truncate(s, maxQuoted))
}

// JoinValues lists values for a message: "a, b, c".
func JoinValues[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

// IsLoopback reports whether host (without a port) is localhost or a
// loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Sleep waits for d, or returns the context's error if it is done first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// percentEscape is one %XX escape.
var percentEscape = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

// maxUnescapes bounds how many layers Unescape takes off.
const maxUnescapes = 16

// Unescape decodes what a reader of s would see through its escapes:
// percent-encoding (each valid %XX, leaving an invalid one as it is, so a bad
// escape cannot shield what follows it) and HTML character references
// (&#64;, &commat;), repeatedly until nothing changes (or 16 times), so a
// twice-encoded %2540 is an @ too. Both only shorten s, so the cost is
// bounded by its length.
func Unescape(s string) string {
	for range maxUnescapes {
		if !strings.ContainsAny(s, "%&") {
			return s
		}
		out := html.UnescapeString(percentEscape.ReplaceAllStringFunc(s, func(e string) string {
			b, _ := strconv.ParseUint(e[1:], 16, 8)
			return string([]byte{byte(b)})
		}))
		if out == s {
			return s
		}
		s = out
	}
	return s
}

// MatchPath matches path against the segments of a spec path (split at "/",
// without its leading "/"; a "{name}" segment matches any non-empty
// segment) as the path's last segments, whatever base path comes before
// them. It returns the path parameters' values (nil when there are none)
// and how many segments come before them.
func MatchPath(pattern []string, path string) (params map[string]string, base int, ok bool) {
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	base = len(segments) - len(pattern)
	if base < 0 {
		return nil, 0, false
	}
	for i, s := range pattern {
		seg := segments[base+i]
		if name, isParam := strings.CutPrefix(s, "{"); isParam {
			if seg == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = seg
		} else if s != seg {
			return nil, 0, false
		}
	}
	return params, base, true
}

// Credentials returns what follows the scheme of an Authorization header's
// value ("Bearer <key>" gives "<key>"), after any run of spaces or tabs,
// trimmed: "" when there is nothing after the scheme.
func Credentials(auth string) string {
	scheme := strings.TrimLeftFunc(auth, unicode.IsSpace)
	return strings.TrimSpace(strings.TrimLeftFunc(scheme, func(r rune) bool { return !unicode.IsSpace(r) }))
}
