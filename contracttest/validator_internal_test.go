package contracttest

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
)

// TestHeaderViolations: a documented response header is checked when the
// spec requires it or constrains its value. Today's spec documents only
// optional string headers, which nothing breaks; these are the rules the
// Validator applies when it gains others.
func TestHeaderViolations(t *testing.T) {
	t.Parallel()
	str := openapi3.NewStringSchema()
	digits := openapi3.NewStringSchema().WithPattern(`^[0-9]+$`)
	header := func(required bool, schema *openapi3.Schema) *openapi3.HeaderRef {
		h := &openapi3.Header{Parameter: openapi3.Parameter{Required: required}}
		if schema != nil {
			h.Schema = openapi3.NewSchemaRef("", schema)
		}
		return &openapi3.HeaderRef{Value: h}
	}
	missing := []client.Violation{{In: "header", Rule: "required", Message: "response header Retry-After is required"}}
	mismatch := []client.Violation{{In: "header", Rule: "header", Message: "response header Retry-After does not match its schema"}}
	cases := []struct {
		name string
		ref  *openapi3.HeaderRef
		sent http.Header
		want []client.Violation
	}{
		{"no definition", nil, nil, nil},
		{"a definition without a value", &openapi3.HeaderRef{}, nil, nil},
		{"optional and absent", header(false, str), nil, nil},
		{"required and absent", header(true, str), nil, missing},
		{"required and present without a value", header(true, str), http.Header{"Retry-After": {}}, missing},
		{"required and present", header(true, str), http.Header{"Retry-After": {"7"}}, nil},
		{"required without a schema", header(true, nil), http.Header{"Retry-After": {"x"}}, nil},
		{"a schema without a value", &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{Schema: &openapi3.SchemaRef{}}}},
			http.Header{"Retry-After": {"x"}}, nil},
		{"matching its schema", header(false, digits), http.Header{"Retry-After": {"120"}}, nil},
		{"not matching its schema", header(false, digits), http.Header{"Retry-After": {"soon"}}, mismatch},
		{"only the first value is checked", header(false, digits), http.Header{"Retry-After": {"1", "soon"}}, nil},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, headerViolations("Retry-After", tc.ref, tc.sent), tc.name)
	}
}

// TestMediaTypes: messages list the documented media types without their
// parameters, sorted.
func TestMediaTypes(t *testing.T) {
	t.Parallel()
	content := openapi3.Content{
		"application/json; charset=utf-8": openapi3.NewMediaType(),
		"text/plain":                      openapi3.NewMediaType(),
		"not a media type":                openapi3.NewMediaType(),
	}
	assert.Equal(t, "application/json, not a media type, text/plain", mediaTypes(content))
}

// TestAddSchemaErrors: an error of kin-openapi that is not a SchemaError
// becomes one violation with its first line; wrapped schema errors are
// unwrapped, and a failed not is reported.
func TestAddSchemaErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		want   []client.Violation
		sawNot bool
	}{
		{"nil", nil, nil, false},
		{"another error, first line only", errors.New("  line one \nline two"), []client.Violation{{In: "body", Rule: "spec", Message: "line one"}}, false},
		{"another error starting with a line break", errors.New("\nline two"), []client.Violation{{In: "body", Rule: "spec", Message: ""}}, false},
		{"a wrapped schema error", fmt.Errorf("wrapped: %w", &openapi3.SchemaError{SchemaField: "minLength", Reason: "too short"}),
			[]client.Violation{{In: "body", Rule: "minLength", Message: "too short"}}, false},
		{"a wrapped multi-error", fmt.Errorf("wrapped: %w", openapi3.MultiError{&openapi3.SchemaError{SchemaField: "enum", Reason: "r"}}),
			[]client.Violation{{In: "body", Rule: "enum", Message: "r"}}, false},
		{"a not", &openapi3.SchemaError{SchemaField: "not", Schema: &openapi3.Schema{}, Reason: "matched"},
			[]client.Violation{{In: "body", Rule: "not", Message: "matched"}}, true},
	}
	for _, tc := range cases {
		var l shared.ViolationList
		assert.Equal(t, tc.sawNot, addSchemaErrors(&l, tc.err, "body"), tc.name)
		got, _ := l.Result()
		assert.Equal(t, tc.want, got, tc.name)
	}
}
