package contracttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/openapi"
)

const (
	operationPath = "/link-token"
	// maxBodyBytes caps how much of a body the validator reads.
	maxBodyBytes = 1 << 20
)

// Violation is one way a request or response breaks the spec: the same type
// the client's validation reports, with an RFC 6901 JSON pointer.
type Violation = client.Violation

// ContractError lists the violations found on one side of an exchange, in
// pointer order and at most client.MaxViolations of them.
type ContractError struct {
	// Side is "request" or "response": which side broke the contract.
	Side       string
	Violations client.Violations
	// Omitted counts the violations found beyond client.MaxViolations.
	Omitted int
}

// newContractError is the error for what l collected, or nil when it
// collected nothing.
func newContractError(side string, l *client.ViolationList) *ContractError {
	if l.Len() == 0 {
		return nil
	}
	vs, n := l.Result()
	return &ContractError{Side: side, Violations: vs, Omitted: n}
}

// listOf collects violations into a list.
func listOf(vs ...Violation) *client.ViolationList {
	var l client.ViolationList
	for _, v := range vs {
		l.Add(v)
	}
	return &l
}

// Error names the side and each violation, on one line: a request's path and
// map keys reach it, so it goes through client.Printable.
func (e *ContractError) Error() string {
	msg := e.Violations.String()
	if e.Omitted > 0 {
		msg += fmt.Sprintf("; and %d more", e.Omitted)
	}
	return "contracttest: " + e.Side + " breaks the spec: " + client.Printable(msg)
}

// Fields returns the distinct top-level body fields named by the violations,
// sorted: the same meaning as client.ValidationError's Fields.
func (e *ContractError) Fields() []string { return e.Violations.Fields() }

// Is makes errors.Is(err, client.ErrContractBroken) true for a contract
// error, so a service branches on it as on the client's own.
func (e *ContractError) Is(target error) bool { return target == client.ErrContractBroken }

// Validator validates requests to and responses from POST /link-token
// against the embedded spec. Every rule is the spec's and every schema check
// is kin-openapi's (Schema.VisitJSON); the Validator reads the operation's
// security, media types, documented statuses and headers from the spec once,
// at construction, instead of going through openapi3filter on each call.
// TestValidatorAgreesWithOpenapi3filter proves both give the same verdict,
// naming the same fields, on thousands of generated exchanges. It is safe for
// concurrent use.
type Validator struct {
	op *openapi3.Operation
	// bearer is true when the operation requires an http bearer scheme.
	bearer bool
	// withoutNot is the request body's schema without its not: kin-openapi
	// stops at a failed not, so a body that breaks it is checked again
	// against this copy for its other violations.
	withoutNot *openapi3.Schema
}

// NewValidator builds a Validator from the embedded spec.
func NewValidator() (*Validator, error) {
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	item := doc.Paths.Find(operationPath)
	if item == nil || item.Post == nil {
		return nil, errors.New("contracttest: the spec has no POST " + operationPath)
	}
	op := item.Post
	v := &Validator{op: op}
	security := op.Security
	if security == nil {
		security = &doc.Security
	}
	for _, req := range *security {
		for name := range req {
			scheme := doc.Components.SecuritySchemes[name]
			if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || !strings.EqualFold(scheme.Value.Scheme, "bearer") {
				return nil, fmt.Errorf("contracttest: security scheme %q is not an http bearer scheme, the only kind the Validator checks", name)
			}
			v.bearer = true
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Not != nil {
			cp := *mt.Schema.Value
			cp.Not = nil
			v.withoutNot = &cp
		}
	}
	return v, nil
}

// validBearer accepts "Authorization: Bearer <token>" with a non-empty token.
func validBearer(h string) bool {
	scheme, token, ok := strings.Cut(h, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// ValidateRequest checks a request against the spec and returns nil or a
// *ContractError with every violation. The request body stays readable.
func (v *Validator) ValidateRequest(req *http.Request) error {
	if vs := v.operationViolations(req); vs != nil {
		return newContractError("request", listOf(vs...))
	}
	body, err := readBody(&req.Body)
	if errors.Is(err, errBodyTooLarge) {
		return newContractError("request", listOf(tooLarge(client.RuleRequestBody)))
	}
	if err != nil {
		return fmt.Errorf("contracttest: read request body: %w", err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if ce := newContractError("request", v.requestViolations(req.Header, body)); ce != nil {
		return ce
	}
	return nil
}

// requestViolations applies the operation's security and request body to a
// request's headers and body. It takes body over: decoded strings share its
// memory while it validates, so the caller must not change it.
func (v *Validator) requestViolations(h http.Header, body []byte) *client.ViolationList {
	var l client.ViolationList
	if v.bearer && !validBearer(h.Get("Authorization")) {
		l.Add(Violation{In: "security", Rule: "security",
			Message: `the Authorization header must be "Bearer <API key>"`})
	}
	rb := v.op.RequestBody
	if rb == nil || rb.Value == nil {
		return &l
	}
	if len(body) == 0 {
		if rb.Value.Required {
			l.Add(Violation{In: "body", Rule: client.RuleRequestBody, Message: "a request body is required"})
		}
		return &l
	}
	ct := h.Get("Content-Type")
	mt := rb.Value.Content.Get(ct)
	if mt == nil {
		l.Add(Violation{In: "header", Rule: client.RuleRequestBody,
			Message: fmt.Sprintf("Content-Type %q is not one the spec documents for the request (%s)", ct, mediaTypes(rb.Value.Content))})
		return &l
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return &l
	}
	if !utf8.Valid(body) {
		// RFC 8259 section 8.1: JSON exchanged between systems is UTF-8.
		l.Add(Violation{In: "body", Rule: client.RuleRequestBody, Message: "the body is not valid UTF-8"})
		return &l
	}
	value, err := decodeJSON(body)
	if err != nil {
		l.Add(Violation{In: "body", Rule: client.RuleRequestBody, Message: "the body is not JSON: " + err.Error()})
		return &l
	}
	if addSchemaErrors(&l, mt.Schema.Value.VisitJSON(value, openapi3.VisitAsRequest(), openapi3.MultiErrors()), "body") && v.withoutNot != nil {
		addSchemaErrors(&l, v.withoutNot.VisitJSON(value, openapi3.VisitAsRequest(), openapi3.MultiErrors()), "body")
	}
	return &l
}

// ValidateResponse checks a response to req against the spec: its status is
// documented, and its headers and body match. It returns nil or a
// *ContractError. The response body stays readable.
func (v *Validator) ValidateResponse(req *http.Request, resp *http.Response) error {
	body, err := readBody(&resp.Body)
	if errors.Is(err, errBodyTooLarge) {
		return newContractError("response", listOf(tooLarge("responseBody")))
	}
	if err != nil {
		return fmt.Errorf("contracttest: read response body: %w", err)
	}
	if ce := newContractError("response", v.responseViolations(resp.StatusCode, resp.Header, body)); ce != nil {
		return ce
	}
	return nil
}

// responseViolations checks a status, its headers and its body against the
// operation's documented responses. Like requestViolations, it takes body
// over.
func (v *Validator) responseViolations(status int, h http.Header, body []byte) *client.ViolationList {
	switch status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return listOf() // redirects belong to the transport, as for openapi3filter
	}
	ref := v.op.Responses.Status(status)
	if ref == nil {
		ref = v.op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return listOf(Violation{In: "status", Rule: "responses",
			Message: fmt.Sprintf("status %d is not one the spec documents", status)})
	}
	resp := ref.Value
	var vs client.Violations
	names := make([]string, 0, len(resp.Headers))
	for name := range resp.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
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
			Message: fmt.Sprintf("Content-Type %q is not one the spec documents for status %d (%s)", ct, status, mediaTypes(resp.Content))})
		return l
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return l
	}
	if !utf8.Valid(body) {
		l.Add(Violation{In: "body", Rule: "responseBody", Message: "the body is not valid UTF-8"})
		return l
	}
	value, err := decodeJSON(body)
	if err != nil {
		l.Add(Violation{In: "body", Rule: "responseBody", Message: "the body is not JSON: " + err.Error()})
		return l
	}
	addSchemaErrors(l, mt.Schema.Value.VisitJSON(value, openapi3.VisitAsResponse(), openapi3.MultiErrors()), "body")
	return l
}

// headerViolations checks one documented response header: present when
// required, and its value (a plain string, in our spec) against its schema.
func headerViolations(name string, ref *openapi3.HeaderRef, h http.Header) client.Violations {
	if ref == nil || ref.Value == nil {
		return nil
	}
	values, ok := h[http.CanonicalHeaderKey(name)]
	if !ok || len(values) == 0 {
		if ref.Value.Required {
			return client.Violations{{In: "header", Rule: "required", Message: "response header " + name + " is required"}}
		}
		return nil
	}
	if ref.Value.Schema == nil || ref.Value.Schema.Value == nil {
		return nil
	}
	if err := ref.Value.Schema.Value.VisitJSON(values[0], openapi3.MultiErrors()); err != nil {
		return client.Violations{{In: "header", Rule: "header", Message: "response header " + name + " does not match its schema"}}
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

// operationViolations reports a request that is not POST .../link-token.
func (v *Validator) operationViolations(req *http.Request) client.Violations {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, operationPath) {
		return client.Violations{{In: "operation", Rule: "operation",
			Message: "the spec has no operation " + req.Method + " " + req.URL.Path + " (only POST " + operationPath + ")"}}
	}
	return nil
}

// errBodyTooLarge reports a body over maxBodyBytes.
var errBodyTooLarge = fmt.Errorf("the body exceeds %d bytes", maxBodyBytes)

// tooLarge is the violation of a body over maxBodyBytes.
func tooLarge(rule string) Violation {
	return Violation{In: "body", Rule: rule, Message: errBodyTooLarge.Error() + ", more than the contract suite reads"}
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
func addSchemaErrors(l *client.ViolationList, err error, in string) bool {
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
	pointer := ""
	for _, p := range e.JSONPointer() {
		pointer += "/" + escapePointer(p)
	}
	if e.SchemaField == "not" && e.Schema != nil && e.Schema.Not != nil && e.Schema.Not.Value != nil {
		// kin-openapi reports a failed not on the object; name the field
		// the rule is about and say what it requires.
		field, msg := describeNot(e.Schema.Not.Value)
		if field != "" {
			pointer += "/" + escapePointer(field)
		}
		return Violation{In: in, Pointer: pointer, Rule: "not", Message: msg}
	}
	return Violation{In: in, Pointer: pointer, Rule: e.SchemaField, Message: e.Reason}
}

func escapePointer(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
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
	names := make([]string, 0, len(n.Properties))
	for name := range n.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
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
