package contracttest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/shared"
)

// Step is one scripted answer of the mock, for fault injection. NewMock
// rejects a step that would answer something the spec does not allow, unless
// the step says so with Undocumented.
type Step struct {
	// Path is the operation the step answers, as the spec writes its path
	// ("/link-token" when empty). Each operation plays its own steps, in
	// order.
	Path string
	// Status is the status to answer with. 200 answers normally; any other
	// status answers the spec's error body, {"detail": "..."}. It must be a
	// status the spec documents for the operation (for POST /link-token:
	// 200, 400, 401, 403, 429 and 5XX), unless Undocumented is set.
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

// defaultStepPath is the operation a Step without a Path answers.
const defaultStepPath = "/link-token"

// Mock is a spec-validating stand-in for Merge's Link API: an http.Handler
// to serve with httptest.NewServer or an http.Server. It is safe for
// concurrent use.
type Mock struct {
	validator *Validator
	coverage  *Coverage
	latency   time.Duration
	onRequest func(*http.Request, []byte)
	logger    *slog.Logger
	// answers maps an operation's path, as the spec writes it, to what
	// answers its valid requests.
	answers map[string]func(*http.Request, []byte) (int, any)
	now     func() time.Time
	// links is the mock's memory of the Link flow, idempotency its
	// memory of Idempotency-Keys.
	links                  *links
	idempotency            *idempotency
	webhookURL, webhookKey string
	webhookClient          *http.Client

	mu sync.Mutex
	// scripts holds each operation's steps left, by path.
	scripts map[string][]Step
}

// NewMock returns a mock that behaves as the spec says each of its
// operations does, at the spec's paths under the mock's root (POST
// /link-token, not POST /api/mktg/v1/link-token: point the client's base
// URL at the mock itself):
//
//   - a missing or malformed "Authorization: Bearer" header: 401;
//   - a request that breaks the spec (the expiry rule included): 400 with
//     field-keyed messages naming the offending fields: at most 50
//     messages, each cut to 200 bytes, with "detail" saying how many more
//     violations were found;
//   - a valid POST /link-token: 200 with a fresh opaque link_token,
//     integration_name when integration was given, and magic_link_url only
//     when should_create_magic_link_url is true; with an Idempotency-Key, as
//     Merge documents it: the same key and body get the first answer again
//     (a request that arrives while the first is answered waits for it),
//     the same key with another body a 400 naming the header, for 24 hours
//     of the mock's clock (WithClock), at most 10,000 keys kept;
//   - a valid GET /account-token/{public_token}: 200 with an account token,
//     once per public token CompleteLink made, then 404, as for a public
//     token it did not make or that expired.
//
// A valid request may ask, as Prism's mock lets it, for one of the spec's
// answers with a Prefer header: "code=NNN" answers the operation's
// documented response for that status (a 5XX range included) and
// "example=NAME" that response's named example; without a name, the
// response's first example in the spec's order, as Prism does;
// "dynamic=false" alone answers the 200's first example, and
// "dynamic=true" alone the mock's own answer. A code the operation does not
// document, or an example its response does not have, gets Prism's answer:
// 404 (500 when a code was asked for too), and a code outside 100-599 or a
// dynamic that is not a boolean 422, all as application/problem+json. As in
// Prism, the key and the body are checked first (401, 400), and a malformed
// Prefer before them. A preferred answer is canned: it starts no Link
// flow, is not kept under its Idempotency-Key, and takes no scripted step
// (a step plays first).
//
// A request whose body cannot be read whole is answered 400, and one whose
// client has gone is not answered. Other paths get 404 and other methods
// 405 (with Allow). Every error answer has the spec's Error form as JSON
// ("detail" only when there is one), and every answer carries an
// X-Request-Id header.
//
// NewMock loads the spec (once per process, unless WithValidator gives a
// Validator) and returns an error if it cannot, if a WithScript step is one
// the mock cannot answer or the spec does not document (see Step), or if an
// option is one only NewTransport takes.
func NewMock(opts ...Option) (*Mock, error) {
	o := newOptions(opts)
	if len(o.transportOnly) > 0 {
		return nil, fmt.Errorf("contracttest: NewMock: %s applies to NewTransport only", strings.Join(o.transportOnly, ", "))
	}
	if o.webhook.url != "" && o.webhook.key == "" {
		return nil, errors.New("contracttest: NewMock: WithWebhook needs a signature key")
	}
	m := &Mock{validator: o.validator, coverage: o.coverage, latency: o.latency, onRequest: o.onRequest, logger: o.logger, scripts: map[string][]Step{},
		now: o.clock, links: newLinks(), idempotency: newIdempotency(), webhookURL: o.webhook.url, webhookKey: o.webhook.key,
		webhookClient: &http.Client{Timeout: webhookTimeout}}
	if m.now == nil {
		m.now = time.Now
	}
	if m.validator == nil {
		v, err := defaultValidator()
		if err != nil {
			return nil, err
		}
		m.validator = v
	}
	m.answers = map[string]func(*http.Request, []byte) (int, any){
		"/link-token":                   m.createLinkToken,
		"/account-token/{public_token}": m.exchangePublicToken,
	}
	for i, step := range o.script {
		if step.Path == "" {
			step.Path = defaultStepPath
		}
		if err := m.checkStep(step); err != nil {
			return nil, fmt.Errorf("contracttest: NewMock: script step %d: %w", i+1, err)
		}
		m.scripts[step.Path] = append(m.scripts[step.Path], step)
	}
	return m, nil
}

// checkStep reports a step the mock cannot answer faithfully, or whose
// status the operation's documented responses do not allow without
// Undocumented.
func (m *Mock) checkStep(s Step) error {
	r := m.route(s.Path)
	if r == nil {
		return fmt.Errorf("path %s is not an operation of the spec (%s)", shared.Quote(s.Path), m.validator.operations())
	}
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
	responses := r.op.Responses
	documented := responses != nil && (responses.Status(s.Status) != nil || responses.Default() != nil)
	switch {
	case !documented && !s.Undocumented:
		return fmt.Errorf("status %d is not documented for %s %s (documented: %s); set Undocumented to answer it anyway",
			s.Status, r.method, r.path, documentedStatuses(responses))
	case documented && s.Undocumented:
		return fmt.Errorf("status %d is documented for %s %s; remove Undocumented", s.Status, r.method, r.path)
	}
	return nil
}

// route returns the operation whose path, as the spec writes it, is path.
func (m *Mock) route(path string) *route {
	for _, r := range m.validator.routes {
		if r.path == path {
			return r
		}
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
	return !strings.ContainsFunc(s, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f })
}

// exchange is what the mock learned of one request, for its log line.
type exchange struct {
	// route is the request's operation, nil when the spec has none.
	route *route
	// path is the operation's path as the spec writes it, or the
	// request's, cleaned and redacted, when no operation has it.
	path   string
	status int
	fields []string
}

// ServeHTTP answers one request as described by NewMock.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("X-Request-Id", "mock-"+randomToken(9))
	// The body is read once, before anything else, whether or not there is
	// a logger: the verdict never depends on the log.
	body, readErr := readBody(&r.Body)
	var ex exchange
	log := func() {
		if m.logger != nil {
			m.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", loggedMethod(r, body)),
				slog.String("path", ex.path),
				slog.Int("status", ex.status),
				slog.Duration("latency", time.Since(start)),
				slog.Any("invalid_fields", ex.fields))
		}
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				log() // status 0: nothing was answered
			}
			panic(p)
		}
	}()
	m.serve(w, r, body, readErr, &ex)
	if ex.route != nil && ex.status != 0 {
		m.coverage.response(ex.route, ex.status)
	}
	log()
}

// serve answers r and says what it answered in ex, as it learns it, so
// that a request aborted midway is logged with what was known.
func (m *Mock) serve(w http.ResponseWriter, r *http.Request, body []byte, readErr error, ex *exchange) {
	if r.URL.Path == completeLinkPath {
		ex.path = completeLinkPath
		ex.status = m.serveCompleteLink(w, r, body)
		return
	}
	var route *route
	for _, candidate := range m.validator.routes {
		if matchExactly(candidate, r.URL.Path) {
			route = candidate
			if candidate.method == r.Method {
				break
			}
		}
	}
	if route == nil {
		ex.path = m.unknownPath(r, body)
		ex.status = writeError(w, http.StatusNotFound, errorBody{detail: "Not found: the mock serves the spec's operations at its root (" + m.validator.operations() + ")."})
		return
	}
	ex.path = route.path
	if route.method != r.Method {
		w.Header().Set("Allow", m.allowed(route.path))
		ex.status = writeError(w, http.StatusMethodNotAllowed, errorBody{detail: "Method not allowed: the spec has " + m.allowed(route.path) + " " + route.path + "."})
		return
	}
	switch {
	case errors.Is(readErr, errBodyTooLarge):
		// Validated below: a violation of its own.
	case readErr != nil && r.Context().Err() != nil:
		// The client has gone: nobody reads an answer.
		panic(http.ErrAbortHandler)
	case readErr != nil:
		ex.status = writeError(w, http.StatusBadRequest, errorBody{detail: "The request body could not be read whole."})
		return
	}
	ex.route = route
	if m.onRequest != nil {
		m.onRequest(r, bytes.Clone(body))
	}
	if m.latency > 0 && shared.Sleep(r.Context(), m.latency) != nil {
		panic(http.ErrAbortHandler) // the client went away while the mock waited
	}
	if step, ok := m.next(route.path); ok && step.Status != http.StatusOK {
		if step.RetryAfter != "" {
			w.Header().Set("Retry-After", step.RetryAfter)
		}
		if !bodyAllowed(step.Status) {
			w.WriteHeader(step.Status)
			ex.status = step.Status
			return
		}
		ex.status = writeError(w, step.Status, errorBody{detail: scriptedDetail(step.Status)})
		return
	}
	pref, problem := parsePrefer(r.Header)
	if problem != "" {
		ex.status = writeProblem(w, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "Invalid request", problem)
		return
	}
	if route.bearer && !validBearer(r.Header.Get("Authorization")) {
		ex.status = writeError(w, http.StatusUnauthorized, errorBody{detail: "Authentication credentials were not provided or are malformed."})
		return
	}
	l := listOf()
	if errors.Is(readErr, errBodyTooLarge) {
		l.Add(tooLarge("requestBody"))
	} else {
		_, params := m.validator.match(r.Method, r.URL.Path)
		l = route.checkRequest(r.Header, params, body, m.coverage)
	}
	if ce := newContractError("request", l); ce != nil {
		ex.status, ex.fields = writeError(w, http.StatusBadRequest, violationsBody(ce)), ce.Fields()
		return
	}
	if pref.canned() {
		ex.status = m.answerPreferred(w, route, pref)
		return
	}
	answer := m.answers[route.path]
	if route.method == http.MethodPost {
		answer = func(r *http.Request, body []byte) (int, any) { return m.idempotent(r, body, m.answers[route.path]) }
	}
	status, out := answer(r, body)
	if e, ok := out.(errorBody); ok {
		ex.status = writeError(w, status, e)
		return
	}
	writeJSON(w, status, out)
	ex.status = status
}

// matchExactly reports whether path is the route's, exactly (a {parameter}
// matches one non-empty segment).
func matchExactly(r *route, path string) bool {
	_, base, ok := shared.MatchPath(r.segments, path)
	return ok && base == 0
}

// allowed lists the methods the spec has at path: "GET, POST".
func (m *Mock) allowed(path string) string {
	var methods []string
	for _, r := range m.validator.routes {
		if r.path == path {
			methods = append(methods, r.method)
		}
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

// maxLoggedPath bounds a path the mock logs.
const maxLoggedPath = 256

// unknownPath is a path no operation has, as the log shows it: decoded,
// printable, with the request's secrets (its credentials, any email in its
// body) redacted, and bounded.
func (m *Mock) unknownPath(r *http.Request, body []byte) string {
	return shared.NewRedactor(requestSecrets(r.Header, body)...).Shown(r.URL.Path, maxLoggedPath)
}

// loggedMethod is a request's method as the log shows it: one of HTTP's
// as it is, anything else cleaned and redacted like a path.
func loggedMethod(r *http.Request, body []byte) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return r.Method
	}
	return shared.NewRedactor(requestSecrets(r.Header, body)...).Shown(r.Method, 32)
}

// maxLoggedEmails bounds how many emails a request's body gives the log's
// redactor: each costs a pass over the logged text.
const maxLoggedEmails = 8

// requestSecrets returns what the log must not show: each Authorization
// header and its credentials (after the scheme and any run of spaces or
// tabs), and the end user's emails in the body: the value of each member
// whose key is end_user_email_address in any case, wherever it is, in a
// body that may be truncated or repeat the key; at most 8 of them, however
// many Authorization headers there are.
func requestSecrets(h http.Header, body []byte) []string {
	var out []string
	for _, auth := range h.Values("Authorization") {
		out = append(out, auth, shared.Credentials(auth)) // "" when none: the redactor skips it
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	emailNext := false
	for emails := 0; emails < maxLoggedEmails; {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		s, isString := tok.(string)
		switch {
		case emailNext && isString:
			out = append(out, s)
			emails++
			emailNext = false
		case isString:
			emailNext = strings.EqualFold(s, "end_user_email_address")
		default:
			emailNext = false
		}
	}
	return out
}

// next pops the operation's next scripted step, if any.
func (m *Mock) next(path string) (Step, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	steps := m.scripts[path]
	if len(steps) == 0 {
		return Step{}, false
	}
	m.scripts[path] = steps[1:]
	return steps[0], true
}

// createLinkToken answers a valid POST /link-token.
func (m *Mock) createLinkToken(_ *http.Request, body []byte) (int, any) {
	// The two fields the answer depends on are read by their exact names,
	// as JSON Schema reads them: encoding/json would also match
	// "Integration" or "SHOULD_CREATE_MAGIC_LINK_URL" into the generated
	// struct.
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
	var req gen.LinkTokenRequest
	_ = json.Unmarshal(body, &req) // what the flow remembers: the end user, the categories, the integration
	req.Integration = integration
	m.links.issued(tok.LinkToken, req, m.now())
	return http.StatusOK, tok
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
	obj := make(map[string]any, len(e.fields))
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
// "detail". It holds at most 50 messages (the ContractError's cap), each at
// most maxMessageBytes long. The request's fields and the Error schema's
// properties (detail, errors, warnings) share no name, so a field never
// shadows one of them; FuzzMock checks every answer against the spec.
func violationsBody(ce *ContractError) errorBody {
	e := errorBody{fields: map[string][]string{}}
	var general []string
	for _, v := range ce.Violations {
		f := v.Field()
		msg := v.Message
		if f == "" {
			general = append(general, shared.Truncate(msg, maxMessageBytes))
			continue
		}
		if sub := strings.TrimPrefix(v.Pointer, shared.Pointer(f)); sub != "" {
			msg = sub + ": " + msg
		}
		e.fields[f] = append(e.fields[f], shared.Truncate(msg, maxMessageBytes))
	}
	sort.Strings(general)
	if ce.Omitted > 0 {
		general = append(general, fmt.Sprintf("%d more violations were not listed (at most %d are)", ce.Omitted, len(ce.Violations)))
	}
	e.detail = strings.Join(general, "; ")
	return e
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
	return base64.RawURLEncoding.EncodeToString([]byte(randomBytes(n)))
}

func randomBytes(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return string(b)
}

// completeLinkPath is the mock's own endpoint, outside the spec, that
// stands in for the end user finishing Merge Link, so that a service
// written in any language can test its whole flow against "linktoken mock".
const completeLinkPath = "/_mock/complete-link"

// serveCompleteLink answers POST /_mock/complete-link, whose body is
// {"link_token": "..."}: 200 {"public_token": "..."}, 404 for a link token
// the mock did not issue, 409 for one already completed, 410 for one that
// expired, 502 when the webhook could not be delivered (the public token is
// in the answer all the same), 400 for a body without a link token.
func (m *Mock) serveCompleteLink(w http.ResponseWriter, r *http.Request, body []byte) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, errorBody{detail: "Method not allowed: POST " + completeLinkPath + "."})
	}
	var in struct {
		LinkToken string `json:"link_token"`
	}
	if json.Unmarshal(body, &in) != nil || in.LinkToken == "" {
		return writeError(w, http.StatusBadRequest, errorBody{detail: `The body must be {"link_token": "..."}.`})
	}
	public, err := m.CompleteLink(in.LinkToken)
	switch {
	case errors.Is(err, ErrUnknownLinkToken):
		return writeError(w, http.StatusNotFound, errorBody{detail: err.Error()})
	case errors.Is(err, ErrLinkCompleted):
		return writeError(w, http.StatusConflict, errorBody{detail: err.Error()})
	case errors.Is(err, ErrLinkTokenExpired):
		return writeError(w, http.StatusGone, errorBody{detail: err.Error()})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"public_token": public, "detail": err.Error()})
		return http.StatusBadGateway
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_token": public})
	return http.StatusOK
}
