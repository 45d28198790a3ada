// Package contracttest checks requests and responses of POST /link-token
// against the spec in openapi/link-token.yaml: a Validator built on
// kin-openapi, a validating http.RoundTripper, a spec-validating mock of the
// endpoint, and the contract suite that runs the same cases against the mock,
// any server, or Merge's live API.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

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

func newContractError(side string, vs client.Violations) *ContractError {
	vs, n := vs.Limit()
	return &ContractError{Side: side, Violations: vs, Omitted: n}
}

func (e *ContractError) Error() string {
	msg := "contracttest: " + e.Side + " breaks the spec: " + e.Violations.String()
	if e.Omitted > 0 {
		msg += fmt.Sprintf("; and %d more", e.Omitted)
	}
	return msg
}

// Fields returns the distinct top-level body fields named by the violations,
// sorted: the same meaning as client.ValidationError's Fields.
func (e *ContractError) Fields() []string { return e.Violations.Fields() }

// Validator validates requests to and responses from POST /link-token with
// kin-openapi's openapi3filter: every rule is the spec's, the request's not
// rule on link_expiry_mins included. It is built once and safe for
// concurrent use.
type Validator struct {
	route *routers.Route
	opts  *openapi3filter.Options
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
	// The route is fixed: the validator accepts this operation at any base
	// URL (a region, a mock on a loopback port, a proxy), so no router that
	// matches the spec's servers is needed.
	route := &routers.Route{Spec: doc, Path: operationPath, PathItem: item, Method: http.MethodPost, Operation: item.Post}
	opts := &openapi3filter.Options{
		MultiError:            true,
		SkipSettingDefaults:   true,
		IncludeResponseStatus: true,
		AuthenticationFunc:    checkBearer,
	}
	v := &Validator{route: route, opts: opts}
	if rb := item.Post.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Not != nil {
			cp := *mt.Schema.Value
			cp.Not = nil
			v.withoutNot = &cp
		}
	}
	return v, nil
}

// checkBearer accepts "Authorization: Bearer <token>" with a non-empty token.
func checkBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !validBearer(in.RequestValidationInput.Request.Header.Get("Authorization")) {
		return errors.New("the Authorization header must be \"Bearer <API key>\"")
	}
	return nil
}

func validBearer(h string) bool {
	scheme, token, ok := strings.Cut(h, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// ValidateRequest checks a request against the spec and returns nil or a
// *ContractError with every violation. The request body stays readable.
func (v *Validator) ValidateRequest(req *http.Request) error {
	if vs := v.operationViolations(req); vs != nil {
		return newContractError("request", vs)
	}
	body, err := readBody(&req.Body)
	if err != nil {
		return fmt.Errorf("contracttest: read request body: %w", err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	input := &openapi3filter.RequestValidationInput{Request: req, Route: v.route, Options: v.opts}
	verr := openapi3filter.ValidateRequest(req.Context(), input)
	req.Body = io.NopCloser(bytes.NewReader(body))
	vs := violations(verr)
	if len(vs) == 0 {
		return nil
	}
	return newContractError("request", append(vs, v.besidesNot(vs, body)...))
}

// besidesNot returns the body's violations other than a failed not at its
// root, which kin-openapi does not look for once the not has failed.
func (v *Validator) besidesNot(vs client.Violations, body []byte) client.Violations {
	if v.withoutNot == nil || !slices.ContainsFunc(vs, func(x Violation) bool { return x.Rule == "not" }) {
		return nil
	}
	var value any
	if json.Unmarshal(body, &value) != nil {
		return nil
	}
	return violations(v.withoutNot.VisitJSON(value, openapi3.MultiErrors()))
}

// ValidateResponse checks a response to req against the spec: its status is
// documented, and its headers and body match. It returns nil or a
// *ContractError. The response body stays readable.
func (v *Validator) ValidateResponse(req *http.Request, resp *http.Response) error {
	body, err := readBody(&resp.Body)
	if err != nil {
		return fmt.Errorf("contracttest: read response body: %w", err)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: v.route, Options: v.opts},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                v.opts,
	}
	input.SetBodyBytes(body)
	if vs := violations(openapi3filter.ValidateResponse(req.Context(), input)); len(vs) > 0 {
		return newContractError("response", vs)
	}
	return nil
}

// operationViolations reports a request that is not POST .../link-token.
func (v *Validator) operationViolations(req *http.Request) client.Violations {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, operationPath) {
		return client.Violations{{In: "operation", Rule: "operation",
			Message: "the spec has no operation " + req.Method + " " + req.URL.Path + " (only POST " + operationPath + ")"}}
	}
	return nil
}

// readBody reads a body (capped) and puts an unread copy back.
func readBody(rc *io.ReadCloser) ([]byte, error) {
	if *rc == nil || *rc == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(*rc, maxBodyBytes+1))
	_ = (*rc).Close()
	*rc = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBodyBytes {
		return nil, fmt.Errorf("body exceeds %d bytes", maxBodyBytes)
	}
	return body, nil
}

// violations flattens kin-openapi's errors into Violations.
func violations(err error) client.Violations {
	if err == nil {
		return nil
	}
	var out client.Violations
	var walk func(err error, in string)
	walk = func(err error, in string) {
		var multi openapi3.MultiError
		var schemaErr *openapi3.SchemaError
		var reqErr *openapi3filter.RequestError
		var respErr *openapi3filter.ResponseError
		var secErr *openapi3filter.SecurityRequirementsError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e, in)
			}
		case errors.As(err, &secErr):
			msg := "missing or malformed credentials"
			if len(secErr.Errors) > 0 {
				msg = secErr.Errors[0].Error()
			}
			out = append(out, Violation{In: "security", Rule: "security", Message: msg})
		case errors.As(err, &schemaErr):
			out = append(out, schemaViolation(schemaErr, in))
		case errors.As(err, &reqErr):
			if reqErr.Err != nil && reqErr.Parameter == nil && hasSchemaError(reqErr.Err) {
				walk(reqErr.Err, "body")
				return
			}
			where, rule := "body", "requestBody"
			if reqErr.Parameter != nil {
				where, rule = "header", "parameter"
			}
			out = append(out, Violation{In: where, Rule: rule, Message: firstLine(reqErr.Error())})
		case errors.As(err, &respErr):
			if respErr.Err != nil && hasSchemaError(respErr.Err) {
				walk(respErr.Err, "body")
				return
			}
			where, rule := "body", "responseBody"
			if strings.Contains(respErr.Reason, "status") {
				where, rule = "status", "responses"
			} else if strings.Contains(respErr.Reason, "header") {
				where, rule = "header", "header"
			}
			out = append(out, Violation{In: where, Rule: rule, Message: firstLine(respErr.Error())})
		default:
			out = append(out, Violation{In: in, Rule: "spec", Message: firstLine(err.Error())})
		}
	}
	walk(err, "body")
	return out
}

func hasSchemaError(err error) bool {
	var schemaErr *openapi3.SchemaError
	var multi openapi3.MultiError
	return errors.As(err, &schemaErr) || errors.As(err, &multi)
}

func schemaViolation(e *openapi3.SchemaError, in string) Violation {
	pointer := ""
	for _, p := range e.JSONPointer() {
		pointer += "/" + strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	if e.SchemaField == "not" && e.Schema != nil && e.Schema.Not != nil && e.Schema.Not.Value != nil {
		// kin-openapi reports a failed not on the object; name the field
		// the rule is about and say what it requires.
		field, msg := describeNot(e.Schema.Not.Value)
		if field != "" {
			pointer += "/" + strings.ReplaceAll(strings.ReplaceAll(field, "~", "~0"), "/", "~1")
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
