package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mergelink/linktoken/gen"
)

// RequestIDHeader is the response header read into APIError.RequestID. Merge
// documents no request id header; this is the one its responses carry.
const RequestIDHeader = "X-Request-Id"

// The classes of failure a service handles differently. Test with errors.Is:
// an *APIError matches the class of its status, and an error from a
// RoundTripper given with WithHTTPClient may match ErrContractBroken too
// (contracttest's *ContractError does).
var (
	// ErrUnauthorized: Merge answered 401; the API key is wrong or revoked.
	ErrUnauthorized = errors.New("linktoken: unauthorized")
	// ErrForbidden: Merge answered 403; the key may not do this.
	ErrForbidden = errors.New("linktoken: forbidden")
	// ErrRateLimited: Merge answered 429 after the retries; APIError.RetryAfter
	// says when to come back, if Merge said.
	ErrRateLimited = errors.New("linktoken: rate limited")
	// ErrServerError: Merge answered 5xx after the retries.
	ErrServerError = errors.New("linktoken: server error")
	// ErrContractBroken: a 2xx arrived that breaks the spec (a 2xx other
	// than 200, or a 200 that is not a LinkToken, that is not UTF-8 or that
	// is over 1 MiB), or a validating RoundTripper refused an exchange. It is
	// never retried.
	ErrContractBroken = errors.New("linktoken: contract broken")
)

const (
	// maxBodyBytes caps how much of a response is read.
	maxBodyBytes = 1 << 20
	// maxErrorBodyBytes bounds APIError.Body.
	maxErrorBodyBytes = 64 << 10
	// maxShownText bounds every other string taken from a response and kept
	// in an error: RequestID, Location, each field of a Problem, and the
	// text of a wrapped transport error.
	maxShownText = 1 << 10
	// maxProblems bounds APIError.Problems.
	maxProblems = 20
	// maxErrorLine is the length past which Error stops listing problems.
	maxErrorLine = 4 << 10
	// maxJSONCleanDepth bounds the nesting of an error body re-encoded for
	// APIError.Body; a deeper body is kept as text.
	maxJSONCleanDepth = 64
	// redacted replaces the API key and the end user's email in server text.
	redacted = "[redacted]"
)

// Problem is one detail of Merge's error response, whichever form it came in:
// {"detail": "..."}, a field-keyed list of messages, or an entry of an
// "errors" list in Merge's ErrorValidationProblem shape. Every field is
// server text, cleaned like the rest of an APIError.
type Problem struct {
	// Field is the request field the problem concerns, or "" for the whole
	// request.
	Field string
	// Title is a short summary, when Merge gave one.
	Title string
	// Detail is the message.
	Detail string
	// Type is Merge's machine-readable problem_type, when given.
	Type string
}

// String returns "field: detail", "detail" or "title: detail".
func (p Problem) String() string {
	switch {
	case p.Field != "":
		return p.Field + ": " + p.Detail
	case p.Title != "" && p.Detail != "":
		return p.Title + ": " + p.Detail
	case p.Detail != "":
		return p.Detail
	}
	return p.Title
}

// APIError is a response that was not a valid success: a non-200 status, or
// a 200 whose body breaks the contract (Reason says how). Everything in it
// that came from the server has been cleaned: decoded, stripped of control
// and formatting characters, the API key and the end user's email replaced
// by "[redacted]" (the email in any case), then bounded. Match its class with
// errors.Is and ErrUnauthorized, ErrForbidden, ErrRateLimited,
// ErrServerError or ErrContractBroken.
type APIError struct {
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// RequestID is the RequestIDHeader of the response, if any.
	RequestID string
	// Problems are Merge's error details, parsed from the body (at most 20).
	Problems []Problem
	// Body is the start of a non-2xx response body (at most 64 KiB): a JSON
	// body re-encoded with its strings cleaned, any other body as cleaned
	// text. It is empty for a 2xx, whose body may hold a link token.
	Body []byte
	// Location is where a refused or unfollowed redirect pointed: scheme,
	// host and path only.
	Location string
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
	// Attempts is how many requests were made, retries included.
	Attempts int
	// Reason is set when the client, not the server, found the response
	// wrong: a 2xx that breaks the contract, a body too large, a redirect
	// not followed.
	Reason string
}

// Error returns one line: status, request id, attempts, the reason, the
// redirect's location and the details.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("linktoken: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Attempts > 1 {
		b.WriteString(" after " + strconv.Itoa(e.Attempts) + " attempts")
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Location != "" {
		b.WriteString(" (location " + e.Location + ")")
	}
	for i, p := range e.Problems {
		if b.Len() > maxErrorLine {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	// The fields are clean when this package made e; this keeps the line
	// one line when a caller made it.
	return sanitize(b.String())
}

// Format prints the error's one line for every verb, so %+v and %#v cannot
// expose more than Error does.
func (e *APIError) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, e.Error())
}

// LogValue makes slog log the error's line and its fields, nothing more.
func (e *APIError) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("error", e.Error()),
		slog.Int("status", e.StatusCode),
		slog.Int("attempts", e.Attempts),
	}
	if e.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", e.RequestID))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return slog.GroupValue(attrs...)
}

// Is reports whether the error belongs to target's class: ErrUnauthorized
// (401), ErrForbidden (403), ErrRateLimited (429), ErrServerError (5xx) or
// ErrContractBroken (a 2xx: any 2xx that is an error broke the contract).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrContractBroken:
		return e.StatusCode >= 200 && e.StatusCode <= 299
	}
	return false
}

// Temporary reports whether the retry policy retries this status (429, 500,
// 502, 503 and 504): whether trying again later may succeed.
func (e *APIError) Temporary() bool { return retryable(e.StatusCode) }

// checkResponse is the one place a response becomes a token or an
// *APIError. It reads the body to its end, or stops past maxBodyBytes (the
// connection is then not worth keeping), and closes it. err is set when the
// body could not be read.
func (k *core) checkResponse(resp *http.Response, attempts int, red redactor) (tok *LinkToken, apiErr *APIError, err error) {
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if readErr != nil {
		return nil, nil, red.transportError(fmt.Errorf("read response: %w", readErr), attempts)
	}
	tooLarge := len(body) > maxBodyBytes
	success := resp.StatusCode >= 200 && resp.StatusCode <= 299
	var reason string
	switch {
	case tooLarge:
		reason = fmt.Sprintf("response body exceeds %d bytes", maxBodyBytes)
	case resp.StatusCode == http.StatusOK:
		if tok, reason = decodeLinkToken(body); reason == "" {
			return tok, nil, nil
		}
	case success:
		reason = fmt.Sprintf("status %d is not the documented 200", resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		reason = redirectReason(resp, k.endpoint.URL)
	}
	if success {
		reason = "response breaks the contract: " + reason
		body = nil // it may hold a link token, a credential: it is not kept
	}
	return nil, k.apiError(resp, body, attempts, red, reason), nil
}

// decodeLinkToken decodes a success body, or says why it is not a LinkToken.
func decodeLinkToken(body []byte) (*LinkToken, string) {
	if !utf8.Valid(body) {
		// encoding/json would turn the bad bytes into U+FFFD: a credential
		// silently changed.
		return nil, "body is not valid UTF-8"
	}
	var tok LinkToken
	if err := json.Unmarshal(body, &tok); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Sprintf("%s is not a %s", typeErr.Field, typeErr.Type)
		}
		return nil, "body is not a JSON object"
	}
	if tok.LinkToken == "" {
		return nil, "link_token is missing or empty"
	}
	return &tok, ""
}

// apiError builds the *APIError of a response; every server string goes
// through red.
func (k *core) apiError(resp *http.Response, body []byte, attempts int, red redactor, reason string) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  red.text(resp.Header.Get(RequestIDHeader)),
		Attempts:   attempts,
		Reason:     reason,
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		if loc, err := resp.Location(); err == nil {
			e.Location = red.text(shownURL(loc))
		}
	}
	if len(body) > 0 {
		e.Problems = parseProblems(body, red)
		e.Body = red.body(body)
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), k.retry.now()); ok {
		e.RetryAfter = after
	}
	return e
}

// parseProblems reads Merge's error details from an error body, in any of the
// spec's forms, keeping what it understands: a key of an unexpected type is
// skipped, not a reason to drop the rest. Each string is cleaned by red.
func parseProblems(body []byte, red redactor) []Problem {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	var out []Problem
	add := func(p Problem) {
		if len(out) < maxProblems {
			out = append(out, Problem{Field: red.text(p.Field), Title: red.text(p.Title), Detail: red.text(p.Detail), Type: red.text(p.Type)})
		}
	}
	var detail string
	if json.Unmarshal(top["detail"], &detail) == nil && detail != "" {
		add(Problem{Detail: detail})
	}
	var list []json.RawMessage
	if json.Unmarshal(top["errors"], &list) == nil {
		for _, raw := range list[:min(len(list), maxProblems)] {
			var p gen.ErrorValidationProblem
			if json.Unmarshal(raw, &p) == nil {
				add(Problem{Field: strings.TrimPrefix(p.Source.Pointer, "/"), Title: p.Title, Detail: p.Detail, Type: p.ProblemType})
			}
		}
	}
	for _, field := range slices.Sorted(maps.Keys(top)) {
		if len(out) == maxProblems {
			break
		}
		if field == "detail" || field == "errors" || field == "warnings" {
			continue
		}
		var msgs []string
		if json.Unmarshal(top[field], &msgs) != nil {
			var msg string
			if json.Unmarshal(top[field], &msg) != nil {
				continue
			}
			msgs = []string{msg}
		}
		for _, msg := range msgs {
			add(Problem{Field: field, Detail: msg})
		}
	}
	return out
}

// transportError is a failure where no usable response arrived: the
// RoundTripper's error, or a body that could not be read. Its text is the
// package's words followed by the cleaned text of the wrapped error, which
// stays reachable with errors.Is and errors.As.
type transportError struct {
	msg  string // ours
	text string // the wrapped error's, cleaned
	err  error
}

func (e *transportError) Error() string { return e.msg + ": " + e.text }
func (e *transportError) Unwrap() error { return e.err }

// Format prints Error for every verb.
func (e *transportError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log Error, nothing more.
func (e *transportError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// gaveUpError is the error of a call whose context ended, or whose deadline
// left no room for the wait before the next attempt, after an attempt had
// failed: last is that attempt's error (an *APIError with its status,
// request id and RetryAfter, or a transport error) and cause what stopped
// the call (the context's error, or the error of the attempt it cut short).
// errors.As finds the *APIError and errors.Is the context's error.
type gaveUpError struct {
	last  error
	cause error
}

func (e *gaveUpError) Error() string {
	return e.last.Error() + "; then gave up: " + strings.TrimPrefix(e.cause.Error(), "linktoken: ")
}
func (e *gaveUpError) Unwrap() []error { return []error{e.last, e.cause} }

// Format prints Error for every verb.
func (e *gaveUpError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log Error, nothing more.
func (e *gaveUpError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// redactor is the one scrubber: every string a response puts into an error
// goes through it, after decoding (JSON escapes, percent-encoding in a
// Location) and before truncation. The package's own words never do, so a
// short key cannot garble them. Making one costs nothing; the work happens
// only when an error is built.
type redactor struct {
	key, email string
}

func newRedactor(key, email string) redactor { return redactor{key: key, email: email} }

// text cleans one server string: control and formatting characters out,
// secrets replaced, then cut to maxShownText bytes. A long string (a 4 MiB
// header) is cleaned by growing prefixes until the cleaned prefix is longer
// than the bound by more than a cut secret could take (guard): the shown
// part is then exactly that of the whole string cleaned, since sanitize and
// scrub keep order and look ahead at most one secret's length.
func (r redactor) text(s string) string {
	guard := r.guard()
	for n := 4 * maxShownText; n < len(s); n *= 4 {
		if out := r.scrub(sanitize(s[:n])); len(out) >= maxShownText+guard {
			return truncate(out, maxShownText)
		}
	}
	return truncate(r.scrub(sanitize(s)), maxShownText)
}

// guard bounds the bytes that the end of a cut input can take once cleaned:
// a secret's match takes at most 4 bytes per rune, and each input byte
// becomes at most 3 (invalid UTF-8 becomes U+FFFD).
func (r redactor) guard() int {
	longest := max(utf8.RuneCountInString(r.key), utf8.RuneCountInString(r.email))
	return 3 * 4 * (longest + 1)
}

// body cleans an error body: a JSON body is re-encoded with each key and
// string cleaned (so escapes such as \u0040 cannot hide a secret); anything
// else is cleaned as text with its JSON-style escapes decoded first. Then it
// is cut to maxErrorBodyBytes.
func (r redactor) body(raw []byte) []byte {
	out, ok := r.json(raw)
	if !ok {
		out = []byte(r.scrub(sanitize(unescapeJSON(string(raw)))))
	}
	return []byte(truncate(string(out), maxErrorBodyBytes))
}

// json re-encodes one JSON value compactly, in its order, with every string
// and key cleaned; it reports false for anything that is not one JSON value
// nested at most maxJSONCleanDepth deep.
func (r redactor) json(raw []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	// counts holds, per open container, how many keys and values it has had.
	var counts []int
	var objects []bool
	values := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out.Bytes(), values == 1
		}
		if err != nil || (len(counts) == 0 && values > 0) {
			return nil, false
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			counts, objects = counts[:len(counts)-1], objects[:len(objects)-1]
			out.WriteByte(byte(d))
			continue
		}
		if n := len(counts); n > 0 {
			switch {
			case objects[n-1] && counts[n-1]%2 == 1:
				out.WriteByte(':')
			case counts[n-1] > 0:
				out.WriteByte(',')
			}
			counts[n-1]++
		} else {
			values++
		}
		switch v := tok.(type) {
		case json.Delim:
			if len(counts) == maxJSONCleanDepth {
				return nil, false
			}
			out.WriteByte(byte(v))
			counts, objects = append(counts, 0), append(objects, v == '{')
		case string:
			_ = enc.Encode(r.scrub(sanitize(v)))
			out.Truncate(out.Len() - 1) // Encode's newline
		case json.Number:
			out.WriteString(string(v))
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
		if out.Len() > maxErrorBodyBytes {
			return out.Bytes(), true // only its start is kept anyway
		}
	}
}

// transportError wraps an error where no usable response arrived, with the
// attempt count, cleaning its text.
func (r redactor) transportError(err error, attempts int) *transportError {
	msg := "linktoken: create link token"
	if attempts > 1 {
		msg = fmt.Sprintf("%s after %d attempts", msg, attempts)
	}
	return &transportError{msg: msg, text: r.text(err.Error()), err: err}
}

// scrub replaces the key and the email (as given and as sanitize shows it),
// longest first, each matched under Unicode simple case folding.
func (r redactor) scrub(s string) string {
	return Redact(s, r.key, r.email, sanitize(r.email))
}

// replaceFold replaces every match of secret in s, in any case.
func replaceFold(s, secret string) string {
	if secret == "" {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if n := foldPrefix(s[i:], secret); n > 0 {
			b.WriteString(s[last:i])
			b.WriteString(redacted)
			i += n
			last = i
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// foldPrefix returns how many bytes of s match p under simple case folding,
// or 0 when s does not start with p.
func foldPrefix(s, p string) int {
	i := 0
	for _, pr := range p {
		if i >= len(s) {
			return 0
		}
		sr, size := utf8.DecodeRuneInString(s[i:])
		if !equalFoldRune(sr, pr) {
			return 0
		}
		i += size
	}
	return i
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'A' <= b && b <= 'Z' && b+'a'-'A' == a
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// Printable returns s as it may be shown on a terminal or in a log: line
// breaks (CR, LF, VT, FF, NEL, U+2028, U+2029) become spaces, and other
// control and formatting characters (escape sequences, bidi overrides,
// zero-width characters) are dropped, so text a server sent cannot forge a
// line or recolour a terminal. Invalid UTF-8 becomes U+FFFD. Every string the
// client keeps from a response has been through it; the linktoken command
// prints what it shows through it too.
func Printable(s string) string { return sanitize(s) }

// Redact returns s with every occurrence of each secret, in any case,
// replaced by "[redacted]", the longest secret first. It is the client's
// scrubber, for a program that logs text that may hold a key or an email
// (the contract suite's mock does).
func Redact(s string, secrets ...string) string {
	// Longest first, without copying or reordering the caller's slice:
	// each pass takes the secrets of the longest length not yet done.
	for done := math.MaxInt; ; {
		n := -1
		for _, secret := range secrets {
			if l := len(secret); l < done && l > n {
				n = l
			}
		}
		if n < 0 {
			return s
		}
		for _, secret := range secrets {
			// Each rune of a match is at least one byte of s, so a
			// secret of more runes than s has bytes cannot occur in it.
			if len(secret) == n && utf8.RuneCountInString(secret) <= len(s) {
				s = replaceFold(s, secret)
			}
		}
		done = n
	}
}

// sanitize is Printable, under the name the package's own code uses.
func sanitize(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncate cuts s to at most max bytes, on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// unescapeJSON decodes the JSON string escapes (\uXXXX, surrogate pairs
// included, \/, \" and the others) found anywhere in s, so that text that
// is not valid JSON is scrubbed as a reader decoding it would see it.
func unescapeJSON(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case '"', '\\', '/':
			b.WriteByte(c)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n := decodeUnicodeEscape(s[i:])
			if n == 0 {
				b.WriteByte('\\')
				continue
			}
			b.WriteRune(r)
			i += n - 2
		default:
			b.WriteByte('\\')
			continue
		}
		i++
	}
	return b.String()
}

// decodeUnicodeEscape decodes \uXXXX (and a following low surrogate) at the
// start of s, returning the rune and the bytes used, or 0 bytes.
func decodeUnicodeEscape(s string) (rune, int) {
	hex := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(s[2:6], 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if lo, ok := hex(s[6:]); ok {
			if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
				return pair, 12
			}
		}
	}
	return r, 6
}
