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
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/mergelink/linktoken/openapi"
)

const (
	operationPath = "/link-token"
	// extMaxWithoutMagicLink is the spec's extension holding the expiry bound
	// that applies without should_create_magic_link_url.
	extMaxWithoutMagicLink = "x-max-without-magic-link"
	// maxBodyBytes caps how much of a body the validator reads.
	maxBodyBytes = 1 << 20
)

// Violation is one way a request or response breaks the spec.
type Violation struct {
	// In is where the problem is: "body", "header", "security", "status" or
	// "operation".
	In string
	// Pointer is the JSON pointer of the offending value inside the body
	// ("/link_expiry_mins", "/categories/1"), or "" outside the body.
	Pointer string
	// Rule is the spec keyword that failed, such as "maxLength", "required"
	// or "x-max-without-magic-link".
	Rule string
	// Message says what is wrong, without quoting the offending value.
	Message string
}

// Field returns the top-level body field the violation concerns, or "".
func (v Violation) Field() string {
	p := strings.TrimPrefix(v.Pointer, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return p
}

func (v Violation) String() string {
	where := v.In
	if v.Pointer != "" {
		where = v.Pointer
	}
	return fmt.Sprintf("%s: %s (%s)", where, v.Message, v.Rule)
}

// ContractError lists every violation found on one side of an exchange.
type ContractError struct {
	// Side is "request" or "response": which side broke the contract.
	Side       string
	Violations []Violation
}

func (e *ContractError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "contracttest: " + e.Side + " breaks the spec: " + strings.Join(parts, "; ")
}

// Fields returns the distinct top-level body fields named by the violations.
func (e *ContractError) Fields() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range e.Violations {
		if f := v.Field(); f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// Validator validates requests to and responses from POST /link-token with
// kin-openapi's openapi3filter, plus the spec's x-max-without-magic-link rule.
// It is built once and safe for concurrent use.
type Validator struct {
	route           *routers.Route
	opts            *openapi3filter.Options
	maxWithoutMagic int
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
	max, err := expiryBound(doc)
	if err != nil {
		return nil, err
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
	return &Validator{route: route, opts: opts, maxWithoutMagic: max}, nil
}

func expiryBound(doc *openapi3.T) (int, error) {
	s := doc.Components.Schemas["EndUserDetailsRequest"]
	if s == nil || s.Value.Properties["link_expiry_mins"] == nil {
		return 0, errors.New("contracttest: the spec has no link_expiry_mins")
	}
	raw, ok := s.Value.Properties["link_expiry_mins"].Value.Extensions[extMaxWithoutMagicLink]
	if !ok {
		return 0, nil // no conditional bound
	}
	n, ok := raw.(float64)
	if !ok {
		return 0, fmt.Errorf("contracttest: %s is not a number", extMaxWithoutMagicLink)
	}
	return int(n), nil
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
		return &ContractError{Side: "request", Violations: vs}
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
	if verr == nil || !hasBodyViolation(vs) {
		vs = append(vs, v.expiryViolations(body)...)
	}
	if len(vs) == 0 {
		return nil
	}
	return &ContractError{Side: "request", Violations: vs}
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
	vs := violations(openapi3filter.ValidateResponse(req.Context(), input))
	if len(vs) == 0 {
		return nil
	}
	return &ContractError{Side: "response", Violations: vs}
}

// operationViolations reports a request that is not POST .../link-token.
func (v *Validator) operationViolations(req *http.Request) []Violation {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, operationPath) {
		return []Violation{{In: "operation", Rule: "operation",
			Message: "the spec has no operation " + req.Method + " " + req.URL.Path + " (only POST " + operationPath + ")"}}
	}
	return nil
}

// expiryViolations applies x-max-without-magic-link, the one rule of the
// spec that its schema cannot express.
func (v *Validator) expiryViolations(body []byte) []Violation {
	if v.maxWithoutMagic == 0 {
		return nil
	}
	var req struct {
		Expiry *float64 `json:"link_expiry_mins"`
		Magic  *bool    `json:"should_create_magic_link_url"`
	}
	if json.Unmarshal(body, &req) != nil || req.Expiry == nil {
		return nil // the schema reports malformed bodies and types
	}
	if *req.Expiry > float64(v.maxWithoutMagic) && (req.Magic == nil || !*req.Magic) {
		return []Violation{{In: "body", Pointer: "/link_expiry_mins", Rule: extMaxWithoutMagicLink,
			Message: "must be at most " + strconv.Itoa(v.maxWithoutMagic) + " unless should_create_magic_link_url is true"}}
	}
	return nil
}

func hasBodyViolation(vs []Violation) bool {
	for _, v := range vs {
		if v.In == "body" && v.Pointer == "" {
			return true // the body as a whole is broken (not JSON, wrong type)
		}
	}
	return false
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
func violations(err error) []Violation {
	if err == nil {
		return nil
	}
	var out []Violation
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
	path := e.JSONPointer()
	pointer := ""
	for _, p := range path {
		pointer += "/" + strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	return Violation{In: in, Pointer: pointer, Rule: e.SchemaField, Message: e.Reason}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
