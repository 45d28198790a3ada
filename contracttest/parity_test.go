package contracttest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/openapi"
)

// reference is the plain use of kin-openapi that the Validator's prepared
// path must agree with: openapi3filter on the spec's route, with the same
// options the Validator applies (every violation, no defaults written, the
// status checked, a Bearer token required).
type reference struct {
	route *routers.Route
	opts  *openapi3filter.Options
	// withoutNot is the request schema without its not: kin-openapi stops
	// at a failed not, and the Validator then reports the body's other
	// violations too, which this copy finds.
	withoutNot *openapi3.Schema
}

func newReference(t testing.TB) *reference {
	t.Helper()
	doc, err := openapi.Load()
	require.NoError(t, err)
	item := doc.Paths.Find("/link-token")
	withoutNot := *item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	withoutNot.Not = nil
	return &reference{
		withoutNot: &withoutNot,
		route:      &routers.Route{Spec: doc, Path: "/link-token", PathItem: item, Method: http.MethodPost, Operation: item.Post},
		opts: &openapi3filter.Options{
			MultiError: true, SkipSettingDefaults: true, IncludeResponseStatus: true,
			AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
				scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
					return errors.New("no bearer token")
				}
				return nil
			},
		},
	}
}

func (r *reference) request(req *http.Request) error {
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{Request: req, Route: r.route, Options: r.opts})
}

func (r *reference) response(req *http.Request, status int, h http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: r.route, Options: r.opts},
		Status:                 status, Header: h, Options: r.opts,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// referenceFields is the sorted set of top-level body fields an
// openapi3filter error names; a failed not names the field its required
// list gives.
func referenceFields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		var schemaErr *openapi3.SchemaError
		var reqErr *openapi3filter.RequestError
		var respErr *openapi3filter.ResponseError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &reqErr) && reqErr.Err != nil && !errors.As(reqErr.Err, &schemaErr) && errors.As(reqErr.Err, &multi):
			walk(reqErr.Err)
		case errors.As(err, &respErr) && respErr.Err != nil && !errors.As(respErr.Err, &schemaErr) && errors.As(respErr.Err, &multi):
			walk(respErr.Err)
		case errors.As(err, &schemaErr):
			p := schemaErr.JSONPointer()
			if len(p) > 0 {
				out = append(out, p[0])
			} else if schemaErr.SchemaField == "not" && len(schemaErr.Schema.Not.Value.Required) == 1 {
				out = append(out, schemaErr.Schema.Not.Value.Required[0])
			}
		}
	}
	walk(err)
	slices.Sort(out)
	return slices.Compact(out)
}

// exchangeCase is one request, and one response to it, to validate both ways.
type exchangeCase struct {
	name        string
	contentType string
	auth        string
	body        string
}

// parityRequests are generated valid requests and single-fault mutations,
// every contract case file, and raw edge cases.
func parityRequests(t *testing.T, n int) []exchangeCase {
	var out []exchangeCase
	r := rand.New(rand.NewPCG(42, 20261125))
	for i := range n {
		valid, err := json.Marshal(randomValid(r))
		require.NoError(t, err)
		out = append(out, exchangeCase{fmt.Sprintf("valid #%d", i), "application/json", "Bearer k", string(valid)})
		bad := randomValid(r)
		require.True(t, mutations[i%len(mutations)].apply(r, &bad))
		body, err := json.Marshal(bad)
		require.NoError(t, err)
		out = append(out, exchangeCase{fmt.Sprintf("mutation #%d", i), "application/json", "Bearer k", string(body)})
	}
	for _, c := range loadCases(t) {
		body := string(c.Body)
		if c.RawBody != nil {
			body = *c.RawBody
		}
		ct, auth := "application/json", "Bearer k"
		if v, ok := c.Headers["Content-Type"]; ok {
			ct = v
		}
		if v, ok := c.Headers["Authorization"]; ok {
			auth = v
		}
		out = append(out, exchangeCase{"case " + c.Name, ct, auth, body})
	}
	return append(out, []exchangeCase{
		{"content type with parameters", "application/json; charset=utf-8", "Bearer k", minimalBody},
		{"upper-case content type", "Application/JSON", "Bearer k", minimalBody},
		{"no content type", "", "Bearer k", minimalBody},
		{"text/plain", "text/plain", "Bearer k", minimalBody},
		{"empty body", "application/json", "Bearer k", ""},
		{"null body", "application/json", "Bearer k", "null"},
		{"a number", "application/json", "Bearer k", "42"},
		{"lower-case bearer", "application/json", "bearer k", minimalBody},
		{"bearer without a token", "application/json", "Bearer ", minimalBody},
		{"huge number", "application/json", "Bearer k", strings.Replace(minimalBody, "}", `,"link_expiry_mins":1e400}`, 1)},
		{"expiry as a float", "application/json", "Bearer k", strings.Replace(minimalBody, "}", `,"link_expiry_mins":60.0}`, 1)},
		{"expiry 721 and not JSON elsewhere", "application/json", "Bearer k", strings.Replace(minimalBody, "}", `,"link_expiry_mins":721,"language":5}`, 1)},
	}...)
}

// TestValidatorAgreesWithOpenapi3filter: the Validator's prepared path and
// openapi3filter give the same verdict, naming the same fields, on every
// generated request, every case file and a set of raw edge cases, and on a
// corpus of responses.
func TestValidatorAgreesWithOpenapi3filter(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	ref := newReference(t)
	for _, c := range parityRequests(t, 500) {
		ours := v.ValidateRequest(parityRequest(c))
		theirs := ref.request(parityRequest(c))
		require.Equal(t, theirs == nil, ours == nil, "%s: verdicts differ on %.300s\nours:   %v\ntheirs: %v", c.name, c.body, ours, theirs)
		if ours != nil {
			var ce *contracttest.ContractError
			require.ErrorAs(t, ours, &ce)
			want := referenceFields(theirs)
			if slices.Contains(want, "link_expiry_mins") && strings.Contains(theirs.Error(), `"not"`) {
				var value any
				require.NoError(t, json.Unmarshal([]byte(c.body), &value))
				want = append(want, referenceFields(ref.withoutNot.VisitJSON(value, openapi3.MultiErrors()))...)
				slices.Sort(want)
				want = slices.Compact(want)
			}
			assert.Equal(t, want, ce.Fields(), "%s: fields differ on %.300s\nours:   %v\ntheirs: %v", c.name, c.body, ours, theirs)
		}
	}

	req := parityRequest(exchangeCase{"", "application/json", "Bearer k", minimalBody})
	for _, status := range []int{200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 418, 429, 500, 503, 599} {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "text/html", ""} {
			for _, body := range []string{
				`{"link_token":"t"}`, `{"link_token":"t","magic_link_url":"https://x","integration_name":"I"}`,
				`{}`, `{"link_token":""}`, `{"link_token":5}`, `{"detail":"x"}`, `{"detail":5}`,
				`{"end_user_email_address":["required"]}`, `{"errors":[{"title":"t","detail":"d","problem_type":"P"}]}`,
				`{"errors":[{"detail":"d"}]}`, `[]`, `nope`, ``,
			} {
				for _, reqID := range []string{"", "req-1"} {
					h := http.Header{}
					if ct != "" {
						h.Set("Content-Type", ct)
					}
					if reqID != "" {
						h.Set("X-Request-Id", reqID)
					}
					resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
					ours := v.ValidateResponse(req, resp)
					theirs := ref.response(req, status, h, []byte(body))
					name := fmt.Sprintf("%d %q %s", status, ct, body)
					require.Equal(t, theirs == nil, ours == nil, "%s: verdicts differ\nours:   %v\ntheirs: %v", name, ours, theirs)
					if ours != nil {
						var ce *contracttest.ContractError
						require.ErrorAs(t, ours, &ce)
						assert.Equal(t, referenceFields(theirs), ce.Fields(), "%s: fields differ\nours:   %v\ntheirs: %v", name, ours, theirs)
					}
				}
			}
		}
	}
}

// TestValidatorIsStricterOnBodiesThatAreNotJSON names the two places the
// Validator is stricter than openapi3filter, both about what application/json
// is: trailing data after the value (openapi3filter decodes the first value
// and ignores the rest) and bytes that are not UTF-8 (RFC 8259, section 8.1;
// openapi3filter decodes them as U+FFFD). The client refuses both too.
func TestValidatorIsStricterOnBodiesThatAreNotJSON(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := []struct{ name, body, message string }{
		{"data after the value", minimalBody + ` {"x":1}`, "data after the value"},
		{"not UTF-8", strings.Replace(minimalBody, "Acme", "Acme\xff", 1), "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := exchangeCase{tc.name, "application/json", "Bearer k", tc.body}
			require.NoError(t, newReference(t).request(parityRequest(c)), "openapi3filter accepts it")
			err := v.ValidateRequest(parityRequest(c))
			var ce *contracttest.ContractError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "requestBody", ce.Violations[0].Rule)
			assert.Contains(t, err.Error(), tc.message)
		})
	}
}

func parityRequest(c exchangeCase) *http.Request {
	req := newRequest(c.body)
	req.Header.Del("Content-Type")
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	req.Header.Del("Authorization")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return req
}
