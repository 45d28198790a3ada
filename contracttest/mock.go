package contracttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/gen"
)

// Step is one scripted answer of the mock, for fault injection. NewMock
// rejects a step that would answer something the spec does not allow, unless
// the step says so with Undocumented.
type Step struct {
	// Status is the status to answer with. 200 answers normally; any other
	// status answers the spec's error body, {"detail": "..."}. It must be a
	// status the spec documents for POST /link-token (in
	// openapi/link-token.yaml: 200, 400, 401, 403, 429 and 5XX), unless
	// Undocumented is set.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header of an error
	// answer. It must be a valid header value.
	RetryAfter string
	// Undocumented allows a Status in 200-599 that the spec does not
	// document for the operation, such as 418 or 201, to see how a client
	// copes with an answer outside the contract. Such an answer still has
	// the spec's error body (none for 204 and 304). Setting it on a
	// documented status is an error, so a script does not go stale
	// silently when the spec changes.
	Undocumented bool
}

// MockOption configures NewMock.
type MockOption func(*Mock)

// WithScript makes the mock answer its first requests with these steps, in
// order, then normally: for example 429 with Retry-After, 503, then 200.
// NewMock checks each step against the spec (see Step).
func WithScript(steps ...Step) MockOption {
	return func(m *Mock) { m.script = append(m.script, steps...) }
}

// WithLatency delays every answer by d (or until the request is canceled).
func WithLatency(d time.Duration) MockOption {
	return func(m *Mock) { m.latency = d }
}

// OnRequest calls fn with each POST .../link-token the mock receives and a
// copy of its body, before answering (requests to other paths or with other
// methods are answered 404 or 405 without calling it). fn may be called
// concurrently.
func OnRequest(fn func(r *http.Request, body []byte)) MockOption {
	return func(m *Mock) { m.onRequest = fn }
}

// WithLogger makes the mock log one line per request: method, path, status,
// latency and the fields that broke the spec. It never logs the
// Authorization header or any body value, and where the key or the end
// user's email appears in the method or the path (in any case, percent-
// encoded or not), it logs "[redacted]" instead.
func WithLogger(l *slog.Logger) MockOption {
	return func(m *Mock) { m.logger = l }
}

// WithMockValidator makes the mock use v instead of the shared default.
func WithMockValidator(v *Validator) MockOption {
	return func(m *Mock) { m.validator = v }
}

// Mock is a spec-validating stand-in for POST /link-token: an http.Handler
// to serve with httptest.NewServer or an http.Server. It is safe for
// concurrent use.
type Mock struct {
	validator *Validator
	latency   time.Duration
	onRequest func(*http.Request, []byte)
	logger    *slog.Logger

	mu     sync.Mutex
	script []Step
}

// NewMock returns a mock that behaves as the spec says POST /link-token
// does, at any path ending in /link-token:
//   - a missing or malformed "Authorization: Bearer" header: 401;
//   - a request that breaks the spec (the expiry rule included): 400 with
//     field-keyed messages naming the offending fields: at most
//     client.MaxViolations messages, each cut to 200 bytes, with "detail"
//     saying how many more violations were found;
//   - a valid request: 200 with a fresh opaque link_token, integration_name
//     when integration was given, and magic_link_url only when
//     should_create_magic_link_url is true.
//
// Other paths get 404 and other methods 405 (with Allow: POST). Every error
// answer has the spec's Error form as JSON ("detail" only when there is
// one), and every answer carries an X-Request-Id header.
//
// NewMock loads the spec (once per process, unless WithMockValidator gives
// a Validator) and returns an error if it cannot, or if a WithScript step
// is one the mock cannot answer or the spec does not document (see Step).
func NewMock(opts ...MockOption) (*Mock, error) {
	m := &Mock{}
	for _, opt := range opts {
		if opt != nil {
			opt(m)
		}
	}
	if m.validator == nil {
		v, err := defaultValidator()
		if err != nil {
			return nil, err
		}
		m.validator = v
	}
	for i, step := range m.script {
		if err := checkStep(m.validator.op.Responses, step); err != nil {
			return nil, fmt.Errorf("contracttest: NewMock: script step %d: %w", i+1, err)
		}
	}
	return m, nil
}

// checkStep reports a step the mock cannot answer faithfully, or whose
// status the operation's documented responses do not allow without
// Undocumented.
func checkStep(responses *openapi3.Responses, s Step) error {
	if s.Status < 200 || s.Status > 599 {
		return fmt.Errorf("status %d is not a final HTTP status (200-599)", s.Status)
	}
	if s.RetryAfter != "" {
		if s.Status == http.StatusOK {
			return errors.New("RetryAfter is sent only with an error status, not with 200")
		}
		if !validHeaderValue(s.RetryAfter) {
			return fmt.Errorf("RetryAfter %q is not a valid header value", s.RetryAfter)
		}
	}
	documented := responses != nil && (responses.Status(s.Status) != nil || responses.Default() != nil)
	switch {
	case !documented && !s.Undocumented:
		return fmt.Errorf("status %d is not documented for POST %s (documented: %s); set Undocumented to answer it anyway",
			s.Status, operationPath, documentedStatuses(responses))
	case documented && s.Undocumented:
		return fmt.Errorf("status %d is documented for POST %s; remove Undocumented", s.Status, operationPath)
	}
	return nil
}

// documentedStatuses lists the operation's documented responses: "200,
// 400, 5XX".
func documentedStatuses(responses *openapi3.Responses) string {
	if responses == nil {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(responses.Map())), ", ")
}

// validHeaderValue reports whether s can be sent as a header value as is:
// no control characters other than tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// ServeHTTP answers one request as described by NewMock.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if m.logger == nil {
		m.serve(w, r)
		return
	}
	// Read the secrets before serving: the validator consumes the body
	// (and puts it back).
	body, _ := readBody(&r.Body)
	secrets := requestSecrets(r.Header, body)
	status, fields := m.serve(w, r)
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", redact(r.Method, secrets)),
		slog.String("path", logPath(r.URL.Path, secrets)),
		slog.Int("status", status),
		slog.Duration("latency", time.Since(start)),
		slog.Any("invalid_fields", fields))
}

// requestSecrets returns what the log line must not show: the credentials
// of each Authorization header, and the end user's email from the body,
// decoded (so \u0040 is @) and under any casing of its key.
func requestSecrets(h http.Header, body []byte) []string {
	var out []string
	for _, auth := range h.Values("Authorization") {
		if _, cred, ok := strings.Cut(auth, " "); ok {
			auth = cred
		}
		out = append(out, strings.TrimSpace(auth))
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return out
	}
	for k, raw := range obj {
		var email string
		if strings.EqualFold(k, "end_user_email_address") && json.Unmarshal(raw, &email) == nil {
			out = append(out, email)
		}
	}
	return out
}

// logPath is the request's path as logged: decoded until no escape is left
// (each valid %XX, leaving invalid ones, so a bad escape cannot shield what
// follows it), with the secrets redacted before the operation's own path,
// which is the spec's and is kept whatever the secrets are.
func logPath(path string, secrets []string) string {
	for {
		p := unescapeLenient(path)
		if p == path {
			break
		}
		path = p
	}
	if prefix, ok := strings.CutSuffix(path, operationPath); ok {
		return redact(prefix, secrets) + operationPath
	}
	return redact(path, secrets)
}

// unescapeLenient decodes every valid %XX escape of s and keeps the rest.
func unescapeLenient(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// redact replaces every secret in s, in any case and in its percent-encoded
// forms, by "[redacted]", with the client's scrubber.
func redact(s string, secrets []string) string {
	var forms []string
	for _, secret := range secrets {
		if strings.TrimSpace(secret) == "" {
			continue
		}
		forms = append(forms, secret, url.PathEscape(secret), url.QueryEscape(secret))
	}
	return client.Printable(client.Redact(s, forms...))
}

// serve answers r and returns the status and the fields that broke the spec.
func (m *Mock) serve(w http.ResponseWriter, r *http.Request) (int, []string) {
	w.Header().Set("X-Request-Id", "mock-"+randomToken(9))
	if !strings.HasSuffix(r.URL.Path, operationPath) {
		return writeError(w, http.StatusNotFound, errorBody{detail: "Not found: the mock serves only POST " + operationPath + " (under any prefix)."}), nil
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, errorBody{detail: "Method not allowed: the spec has only POST " + operationPath + "."}), nil
	}
	body, err := readBody(&r.Body)
	if err != nil {
		return writeError(w, http.StatusBadRequest, errorBody{detail: "The request body could not be read: " + err.Error()}), nil
	}
	if m.onRequest != nil {
		m.onRequest(r, bytes.Clone(body))
	}
	if m.latency > 0 && !wait(r.Context(), m.latency) {
		return 0, nil // the client went away
	}
	if step, ok := m.next(); ok && step.Status != http.StatusOK {
		if step.RetryAfter != "" {
			w.Header().Set("Retry-After", step.RetryAfter)
		}
		if !bodyAllowed(step.Status) {
			w.WriteHeader(step.Status)
			return step.Status, nil
		}
		return writeError(w, step.Status, errorBody{detail: scriptedDetail(step.Status)}), nil
	}
	if !validBearer(r.Header.Get("Authorization")) {
		return writeError(w, http.StatusUnauthorized, errorBody{detail: "Authentication credentials were not provided or are malformed."}), nil
	}
	if err := m.validator.ValidateRequest(r); err != nil {
		ce, ok := err.(*ContractError)
		if !ok {
			return writeError(w, http.StatusBadRequest, errorBody{detail: err.Error()}), nil
		}
		return writeError(w, http.StatusBadRequest, violationsBody(ce)), ce.Fields()
	}
	// Read the two fields the answer depends on by their exact names, as
	// JSON Schema does: encoding/json would also match "Integration" or
	// "SHOULD_CREATE_MAGIC_LINK_URL" into the generated struct.
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields) // valid per the spec, so an object
	var integration string
	var magicLink bool
	_ = json.Unmarshal(fields["integration"], &integration) // a string or null
	_ = json.Unmarshal(fields["should_create_magic_link_url"], &magicLink)
	tok := gen.LinkToken{LinkToken: randomToken(30)}
	if integration != "" {
		tok.IntegrationName = integrationName(integration)
	}
	if magicLink {
		tok.MagicLinkURL = "https://link.merge.dev/" + randomToken(18)
	}
	writeJSON(w, http.StatusOK, tok)
	return http.StatusOK, nil
}

// next pops the next scripted step, if any.
func (m *Mock) next() (Step, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.script) == 0 {
		return Step{}, false
	}
	s := m.script[0]
	m.script = m.script[1:]
	return s, true
}

// maxMessageBytes bounds each message of an error answer: kin-openapi's
// messages and the pointers before them can quote the request's keys, which
// may be as long as the body.
const maxMessageBytes = 200

// errorBody is the spec's Error form as the mock sends it: messages keyed
// by request field, and detail for the request as a whole, left out when
// empty. (gen.Error's generated MarshalJSON writes "detail" even when it is
// empty, because the schema has additionalProperties.)
type errorBody struct {
	detail string
	fields map[string][]string
}

func (e errorBody) MarshalJSON() ([]byte, error) {
	obj := make(map[string]any, len(e.fields)+1)
	for f, msgs := range e.fields {
		obj[f] = msgs
	}
	if e.detail != "" {
		obj["detail"] = e.detail
	}
	return json.Marshal(obj) // keys sorted
}

// violationsBody turns violations into Merge's field-keyed form, with
// problems outside any field, and the count of violations left out, under
// "detail". It holds at most client.MaxViolations messages (the
// ContractError's cap), each at most maxMessageBytes long. The request's
// fields and the Error schema's properties (detail, errors, warnings) share
// no name, so a field never shadows one of them; FuzzMock checks every
// answer against the spec.
func violationsBody(ce *ContractError) errorBody {
	e := errorBody{fields: map[string][]string{}}
	var general []string
	for _, v := range ce.Violations {
		f := v.Field()
		msg := v.Message
		if f == "" {
			general = append(general, truncate(msg, maxMessageBytes))
			continue
		}
		if sub := strings.TrimPrefix(v.Pointer, "/"+f); sub != "" {
			msg = sub + ": " + msg
		}
		e.fields[f] = append(e.fields[f], truncate(msg, maxMessageBytes))
	}
	sort.Strings(general)
	if ce.Omitted > 0 {
		general = append(general, fmt.Sprintf("%d more violations were not listed (at most %d are)", ce.Omitted, len(ce.Violations)))
	}
	e.detail = strings.Join(general, "; ")
	return e
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func writeError(w http.ResponseWriter, status int, e errorBody) int {
	writeJSON(w, status, e)
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func scriptedDetail(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Request was throttled."
	case http.StatusUnauthorized:
		return "Invalid token."
	case http.StatusForbidden:
		return "You do not have permission to perform this action."
	}
	if status >= 500 {
		return "A server error occurred."
	}
	return http.StatusText(status)
}

// integrationNames are the display names the mock returns for a few slugs.
var integrationNames = map[string]string{
	"bamboohr": "BambooHR", "greenhouse": "Greenhouse", "lever": "Lever",
	"quickbooks-online": "QuickBooks Online", "hubspot": "HubSpot", "workday": "Workday",
}

func integrationName(slug string) string {
	if name, ok := integrationNames[slug]; ok {
		return name
	}
	return slug
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
