package contracttest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
	"github.com/mergelink/linktoken/openapi"
)

// maxBodyBytes caps how much of a body the validator reads.
const maxBodyBytes = 1 << 20

// Violation is one way a request or response breaks the spec: the same type
// the client's validation reports, with an RFC 6901 JSON pointer.
type Violation = client.Violation

// ContractError lists the violations found on one side of an exchange, in
// pointer order and at most 50 of them.
type ContractError struct {
	// Side is "request" or "response": which side broke the contract.
	Side       string
	Violations []Violation
	// Omitted counts the violations found beyond those listed.
	Omitted int
}

// newContractError is the error for what l collected, or nil when it
// collected nothing.
func newContractError(side string, l *shared.ViolationList) *ContractError {
	if l.Len() == 0 {
		return nil
	}
	vs, n := l.Result()
	return &ContractError{Side: side, Violations: vs, Omitted: n}
}

// listOf collects violations into a list.
func listOf(vs ...Violation) *shared.ViolationList {
	var l shared.ViolationList
	for _, v := range vs {
		l.Add(v)
	}
	return &l
}

// Error names the side and each violation, on one line: a request's path and
// map keys reach it, so it is made printable.
func (e *ContractError) Error() string {
	msg := shared.Violations(e.Violations).String()
	if e.Omitted > 0 {
		msg += fmt.Sprintf("; and %d more", e.Omitted)
	}
	return "contracttest: " + e.Side + " breaks the spec: " + shared.Printable(msg)
}

// Fields returns the distinct top-level body fields named by the violations,
// sorted: the same meaning as client.ValidationError's Fields.
func (e *ContractError) Fields() []string { return shared.Violations(e.Violations).Fields() }

// Is makes errors.Is(err, client.ErrContractBroken) true for a contract
// error, so a service branches on it as on the client's own.
func (e *ContractError) Is(target error) bool { return target == client.ErrContractBroken }

// Validator validates requests to and responses from the operations of the
// embedded spec. Every rule is the spec's and every schema check is
// kin-openapi's (Schema.VisitJSON); the Validator reads each operation's
// security, parameters, media types, documented statuses and headers from
// the spec once, at construction, instead of going through openapi3filter
// on each call. TestValidatorAgreesWithOpenapi3filter proves both give the
// same verdict, naming the same fields, on thousands of generated
// exchanges. It is safe for concurrent use.
type Validator struct {
	routes []*route
}

// route is one operation of the spec, prepared for validation.
type route struct {
	method string
	// path is the spec's, such as /account-token/{public_token}; segments
	// its parts.
	path     string
	segments []string
	op       *openapi3.Operation
	// params are the operation's path parameters, by name; headers its
	// header parameters.
	params  map[string]*openapi3.Parameter
	headers []*openapi3.Parameter
	// bearer is true when the operation requires an http bearer scheme.
	bearer bool
	// withoutNot is the request body's schema without its not:
	// kin-openapi stops at a failed not, so a body that breaks it is
	// checked again against this copy for its other violations.
	withoutNot *openapi3.Schema
}

// NewValidator builds a Validator from the embedded spec.
func NewValidator() (*Validator, error) {
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	return validatorOf(doc)
}

// validatorOf builds a Validator of doc's operations.
func validatorOf(doc *openapi3.T) (*Validator, error) {
	v := &Validator{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			r, err := newRoute(doc, method, path, item, op)
			if err != nil {
				return nil, err
			}
			v.routes = append(v.routes, r)
		}
	}
	if len(v.routes) == 0 {
		return nil, errors.New("contracttest: the spec has no operation")
	}
	return v, nil
}

func newRoute(doc *openapi3.T, method, path string, item *openapi3.PathItem, op *openapi3.Operation) (*route, error) {
	r := &route{method: method, path: path, segments: strings.Split(strings.Trim(path, "/"), "/"), op: op, params: map[string]*openapi3.Parameter{}}
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			switch {
			case p == nil || p.Value == nil:
			case p.Value.In == openapi3.ParameterInPath:
				r.params[p.Value.Name] = p.Value
			case p.Value.In == openapi3.ParameterInHeader:
				r.headers = append(r.headers, p.Value)
			}
		}
	}
	security := cmp.Or(op.Security, &doc.Security) // the document's, unless the operation has its own
	for _, req := range *security {
		for name := range req {
			scheme := doc.Components.SecuritySchemes[name]
			if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || !strings.EqualFold(scheme.Value.Scheme, "bearer") {
				return nil, fmt.Errorf("contracttest: security scheme %q is not an http bearer scheme, the only kind the Validator checks", name)
			}
			r.bearer = true
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Not != nil {
			cp := *mt.Schema.Value
			cp.Not = nil
			r.withoutNot = &cp
		}
	}
	return r, nil
}

// match finds the operation of a request: its method, and its path's last
// segments those of the operation's path (a {parameter} matches any
// non-empty segment), whatever base path comes before them. It returns the
// path parameters' values.
func (v *Validator) match(method, path string) (*route, map[string]string) {
	for _, r := range v.routes {
		if r.method != method {
			continue
		}
		if values, _, ok := shared.MatchPath(r.segments, path); ok {
			return r, values
		}
	}
	return nil, nil
}

// operations lists the spec's operations for a message: "GET /a, POST /b".
func (v *Validator) operations() string {
	names := make([]string, len(v.routes))
	for i, r := range v.routes {
		names[i] = r.method + " " + r.path
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// noOperation is the violation of a request no operation of the spec takes.
// The path is not quoted: it may carry a token.
func (v *Validator) noOperation(method string) Violation {
	return Violation{In: "operation", Rule: "operation",
		Message: "the spec has no operation " + shared.Quote(method) + " at this path (it has " + v.operations() + ")"}
}

// validBearer accepts "Authorization: Bearer <token>" with a non-empty token.
func validBearer(h string) bool {
	scheme, token, ok := strings.Cut(h, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// ValidateRequest checks a request against the spec and returns nil or a
// *ContractError with every violation. The request body stays readable.
func (v *Validator) ValidateRequest(req *http.Request) error {
	r, params := v.match(req.Method, req.URL.Path)
	if r == nil {
		return newContractError("request", listOf(v.noOperation(req.Method)))
	}
	body, err := readBody(&req.Body)
	if errors.Is(err, errBodyTooLarge) {
		return newContractError("request", listOf(tooLarge("requestBody")))
	}
	if err != nil {
		return fmt.Errorf("contracttest: read request body: %w", err)
	}
	if ce := newContractError("request", r.requestViolations(req.Header, params, body)); ce != nil {
		return ce
	}
	return nil
}

// requestViolations applies the operation's security, path parameters and
// request body to a request.
func (r *route) requestViolations(h http.Header, params map[string]string, body []byte) *shared.ViolationList {
	l, _, _ := r.check(h, params, body)
	return l
}

// check is requestViolations, with the decoded body when it could be
// decoded (decoded is true), for a Coverage.
func (r *route) check(h http.Header, params map[string]string, body []byte) (_ *shared.ViolationList, value any, decoded bool) {
	var l shared.ViolationList
	if r.bearer && !validBearer(h.Get("Authorization")) {
		l.Add(Violation{In: "security", Rule: "security",
			Message: `the Authorization header must be "Bearer <API key>"`})
	}
	for _, name := range slices.Sorted(maps.Keys(r.params)) {
		p := r.params[name]
		if p.Schema == nil || p.Schema.Value == nil {
			continue
		}
		if err := p.Schema.Value.VisitJSON(params[name], openapi3.MultiErrors()); err != nil {
			// The value is not quoted: a path parameter may be a token.
			var rules []string
			collectRules(err, &rules)
			for _, rule := range rules {
				l.Add(Violation{In: "path", Rule: rule, Message: "path parameter " + name + " breaks its schema's " + rule})
			}
		}
	}
	for _, p := range r.headers {
		values, ok := h[http.CanonicalHeaderKey(p.Name)]
		switch {
		case !ok || len(values) == 0:
			if p.Required {
				l.Add(Violation{In: "header", Rule: "required", Message: "header " + p.Name + " is required"})
			}
		case p.Schema != nil && p.Schema.Value != nil:
			if err := p.Schema.Value.VisitJSON(values[0], openapi3.MultiErrors()); err != nil {
				// The value is not quoted: it may be derived from personal data.
				var rules []string
				collectRules(err, &rules)
				for _, rule := range rules {
					l.Add(Violation{In: "header", Rule: rule, Message: "header " + p.Name + " breaks its schema's " + rule})
				}
			}
		}
	}
	rb := r.op.RequestBody
	if rb == nil || rb.Value == nil {
		if len(body) > 0 {
			l.Add(Violation{In: "body", Rule: "requestBody", Message: "the operation takes no request body"})
		}
		return &l, nil, false
	}
	if len(body) == 0 {
		if rb.Value.Required {
			l.Add(Violation{In: "body", Rule: "requestBody", Message: "a request body is required"})
		}
		return &l, nil, false
	}
	ct := h.Get("Content-Type")
	mt := rb.Value.Content.Get(ct)
	if mt == nil {
		l.Add(Violation{In: "header", Rule: "requestBody",
			Message: fmt.Sprintf("Content-Type %s is not one the spec documents for the request (%s)", shared.Quote(ct), mediaTypes(rb.Value.Content))})
		return &l, nil, false
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return &l, nil, false
	}
	value, problem := decodeBody(body)
	if problem != "" {
		l.Add(Violation{In: "body", Rule: "requestBody", Message: problem})
		return &l, nil, false
	}
	if addSchemaErrors(&l, mt.Schema.Value.VisitJSON(value, openapi3.VisitAsRequest(), openapi3.MultiErrors()), "body") && r.withoutNot != nil {
		addSchemaErrors(&l, r.withoutNot.VisitJSON(value, openapi3.VisitAsRequest(), openapi3.MultiErrors()), "body")
	}
	return &l, value, true
}

// collectRules lists the schema keywords an error of VisitJSON names.
func collectRules(err error, rules *[]string) {
	var multi openapi3.MultiError
	var schemaErr *openapi3.SchemaError
	switch {
	case errors.As(err, &multi):
		for _, e := range multi {
			collectRules(e, rules)
		}
	case errors.As(err, &schemaErr):
		if !slices.Contains(*rules, schemaErr.SchemaField) {
			*rules = append(*rules, schemaErr.SchemaField)
		}
	default:
		*rules = append(*rules, "schema")
	}
}

// decodeBody decodes a JSON body into the values kin-openapi validates
// (map[string]any, []any, string, json.Number, bool, nil), with
// encoding/json and UseNumber (so a number too large for a float64 is
// reported on its field), keys matched exactly as JSON Schema matches them.
// It also refuses what openapi3filter accepts: bytes that are not UTF-8
// (RFC 8259 section 8.1) and data after the value. It returns why the body
// is not JSON, or "".
func decodeBody(body []byte) (any, string) {
	if !utf8.Valid(body) {
		return nil, "the body is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Sprintf("the body is not JSON: %v, at byte %d", err, syntax.Offset)
		}
		return nil, "the body is not JSON: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "the body is not JSON: data after the value, at byte " + strconv.FormatInt(dec.InputOffset(), 10)
	}
	return value, ""
}

// ValidateResponse checks a response to req against the spec: its status is
// documented for req's operation, and its headers and body match. It
// returns nil or a *ContractError. The response body stays readable.
func (v *Validator) ValidateResponse(req *http.Request, resp *http.Response) error {
	r, _ := v.match(req.Method, req.URL.Path)
	if r == nil {
		return newContractError("response", listOf(v.noOperation(req.Method)))
	}
	body, err := readBody(&resp.Body)
	if errors.Is(err, errBodyTooLarge) {
		return newContractError("response", listOf(tooLarge("responseBody")))
	}
	if err != nil {
		return fmt.Errorf("contracttest: read response body: %w", err)
	}
	if ce := newContractError("response", r.responseViolations(resp.StatusCode, resp.Header, body)); ce != nil {
		return ce
	}
	return nil
}

// responseViolations checks a status, its headers and its body against the
// operation's documented responses.
func (r *route) responseViolations(status int, h http.Header, body []byte) *shared.ViolationList {
	switch status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return listOf() // redirects belong to the transport, as for openapi3filter
	}
	ref := r.op.Responses.Status(status)
	if ref == nil {
		ref = r.op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return listOf(Violation{In: "status", Rule: "responses",
			Message: fmt.Sprintf("status %d is not one the spec documents for %s %s", status, r.method, r.path)})
	}
	resp := ref.Value
	var vs []Violation
	for _, name := range slices.Sorted(maps.Keys(resp.Headers)) {
		vs = append(vs, headerViolations(name, resp.Headers[name], h)...)
	}
	l := listOf(vs...)
	if len(resp.Content) == 0 {
		return l
	}
	ct := h.Get("Content-Type")
	mt := resp.Content.Get(ct)
	if mt == nil {
		l.Add(Violation{In: "header", Rule: "header",
			Message: fmt.Sprintf("Content-Type %s is not one the spec documents for status %d (%s)", shared.Quote(ct), status, mediaTypes(resp.Content))})
		return l
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return l
	}
	value, problem := decodeBody(body)
	if problem != "" {
		l.Add(Violation{In: "body", Rule: "responseBody", Message: problem})
		return l
	}
	addSchemaErrors(l, mt.Schema.Value.VisitJSON(value, openapi3.VisitAsResponse(), openapi3.MultiErrors()), "body")
	return l
}

// headerViolations checks one documented response header: present when
// required, and its value (a plain string, in our spec) against its schema.
func headerViolations(name string, ref *openapi3.HeaderRef, h http.Header) []Violation {
	if ref == nil || ref.Value == nil {
		return nil
	}
	values, ok := h[http.CanonicalHeaderKey(name)]
	if !ok || len(values) == 0 {
		if ref.Value.Required {
			return []Violation{{In: "header", Rule: "required", Message: "response header " + name + " is required"}}
		}
		return nil
	}
	if ref.Value.Schema == nil || ref.Value.Schema.Value == nil {
		return nil
	}
	if err := ref.Value.Schema.Value.VisitJSON(values[0], openapi3.MultiErrors()); err != nil {
		return []Violation{{In: "header", Rule: "header", Message: "response header " + name + " does not match its schema"}}
	}
	return nil
}

// mediaTypes lists a content map's media types, sorted.
func mediaTypes(c openapi3.Content) string {
	out := make([]string, 0, len(c))
	for k := range c {
		if t, _, err := mime.ParseMediaType(k); err == nil {
			k = t
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// errBodyTooLarge reports a body over maxBodyBytes.
var errBodyTooLarge = fmt.Errorf("the body exceeds %d bytes", maxBodyBytes)

// tooLarge is the violation of a body over maxBodyBytes.
func tooLarge(rule string) Violation {
	return Violation{In: "body", Rule: rule, Message: errBodyTooLarge.Error() + ", more than the contract kit reads"}
}

// readBody reads a body of at most maxBodyBytes, closes it and puts an
// unread copy back. A larger body is put back whole (what was read, then the
// rest; closing it closes the original) with errBodyTooLarge, so it stays
// readable.
func readBody(rc *io.ReadCloser) ([]byte, error) {
	if *rc == nil || *rc == http.NoBody {
		return nil, nil
	}
	orig := *rc
	body, err := io.ReadAll(io.LimitReader(orig, maxBodyBytes+1))
	if err == nil && len(body) > maxBodyBytes {
		*rc = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), orig), orig}
		return nil, errBodyTooLarge
	}
	_ = orig.Close()
	*rc = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return body, nil
}

// addSchemaErrors adds the violations of an error of Schema.VisitJSON to l,
// one at a time (a body can break a rule hundreds of thousands of times),
// and reports whether one was a failed not.
func addSchemaErrors(l *shared.ViolationList, err error, in string) bool {
	sawNot := false
	var walk func(err error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			if (e.SchemaField == "allOf" || e.SchemaField == "anyOf" || e.SchemaField == "oneOf") && e.Origin != nil {
				// "doesn't match all schemas from allOf" names no rule:
				// the schema that failed inside it does.
				walk(e.Origin)
				return
			}
			v := schemaViolation(e, in)
			sawNot = sawNot || v.Rule == "not"
			l.Add(v)
		default:
			var multi openapi3.MultiError
			var schemaErr *openapi3.SchemaError
			switch {
			case errors.As(err, &multi):
				walk(multi)
			case errors.As(err, &schemaErr):
				walk(schemaErr)
			default:
				l.Add(Violation{In: in, Rule: "spec", Message: firstLine(err.Error())})
			}
		}
	}
	walk(err)
	return sawNot
}

func schemaViolation(e *openapi3.SchemaError, in string) Violation {
	pointer := shared.Pointer(e.JSONPointer()...)
	if e.SchemaField == "not" && e.Schema != nil && e.Schema.Not != nil && e.Schema.Not.Value != nil {
		// kin-openapi reports a failed not on the object; name the field
		// the rule is about and say what it requires.
		field, msg := describeNot(e.Schema.Not.Value)
		if field != "" {
			pointer += shared.Pointer(field)
		}
		return Violation{In: in, Pointer: pointer, Rule: "not", Message: msg}
	}
	return Violation{In: in, Pointer: pointer, Rule: e.SchemaField, Message: e.Reason}
}

// describeNot words a not rule of the form the spec uses for the expiry
// bound, read from the schema itself: required [F], F with a minimum M, and
// other properties each with not: {enum: [V]}, meaning "F must be at most
// M-1 unless each other property is V". Any other form gets a generic
// message. It returns the field and the message.
func describeNot(n *openapi3.Schema) (string, string) {
	if len(n.Required) != 1 || n.Properties[n.Required[0]] == nil || n.Properties[n.Required[0]].Value == nil {
		return "", "matches a combination of values the spec forbids (not)"
	}
	field := n.Required[0]
	prop := n.Properties[field].Value
	if prop.Min == nil {
		return field, "has a value the spec forbids in this combination (not)"
	}
	msg := "must be at most " + strconv.FormatFloat(*prop.Min-1, 'f', -1, 64)
	for _, name := range slices.Sorted(maps.Keys(n.Properties)) {
		if name == field || n.Properties[name].Value == nil {
			continue
		}
		other := n.Properties[name].Value
		if other.Not != nil && other.Not.Value != nil && len(other.Not.Value.Enum) == 1 {
			msg += fmt.Sprintf(" unless %s is %v", name, other.Not.Value.Enum[0])
		}
	}
	return field, msg
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
