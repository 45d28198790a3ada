package main

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizer(t *testing.T) {
	t.Parallel()
	str := func() *openapi3.Schema { return openapi3.NewStringSchema() }
	enum := func(values ...any) *openapi3.Schema { return openapi3.NewStringSchema().WithEnum(values...) }
	refOf := func(s *openapi3.Schema) *openapi3.SchemaRef { return &openapi3.SchemaRef{Value: s} }
	oneOf := func(members ...*openapi3.Schema) *openapi3.Schema {
		s := &openapi3.Schema{}
		for _, m := range members {
			s.OneOf = append(s.OneOf, refOf(m))
		}
		return s
	}
	with := func(s *openapi3.Schema, edit func(*openapi3.Schema)) *openapi3.Schema { edit(s); return s }

	cases := []struct {
		name     string
		schema   *openapi3.Schema
		response bool
		open     []string // the open enum's values; nil when it is not one
		check    func(t *testing.T, got *openapi3.Schema)
	}{
		{"oneOf an enum and a string: open", oneOf(enum("en", "de"), str()), false, []string{"en", "de"}, func(t *testing.T, got *openapi3.Schema) {
			assert.Empty(t, got.OneOf, "an open enum is the string it accepts")
			assert.True(t, got.Type.Is(openapi3.TypeString))
			assert.Empty(t, got.Enum, "an open enum constrains no value")
		}},
		{"anyOf a string and an enum: open", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{refOf(str()), refOf(enum("a"))}}, false, []string{"a"}, nil},
		{"nullable outside: open, nullable", with(oneOf(enum("en"), str()), func(s *openapi3.Schema) { s.Nullable = true; s.Description = "d" }), false, []string{"en"},
			func(t *testing.T, got *openapi3.Schema) { assert.True(t, got.Nullable) }},
		{"a nullable member: open, nullable", oneOf(enum("en"), with(str(), func(s *openapi3.Schema) { s.Nullable = true })), false, []string{"en"},
			func(t *testing.T, got *openapi3.Schema) { assert.True(t, got.Nullable) }},
		{"type string outside: open", with(oneOf(enum("en"), str()), func(s *openapi3.Schema) { s.Type = &openapi3.Types{"string"} }), false, []string{"en"}, nil},
		{"a string with a bound: not open", oneOf(enum("en"), with(str(), func(s *openapi3.Schema) { s.MinLength = 1 })), false, nil, nil},
		{"a string with a format: not open", oneOf(enum("en"), with(str(), func(s *openapi3.Schema) { s.Format = "date" })), false, nil, nil},
		{"an enum of numbers: not open", oneOf(openapi3.NewIntegerSchema().WithEnum(1, 2), str()), false, nil, nil},
		{"three members: not open", oneOf(enum("en"), str(), openapi3.NewIntegerSchema()), false, nil, nil},
		{"an enum and an integer: not open", oneOf(enum("en"), openapi3.NewIntegerSchema()), false, nil, nil},
		{"properties outside: not open", with(oneOf(enum("en"), str()), func(s *openapi3.Schema) { s.Properties = openapi3.Schemas{"x": refOf(str())} }), false, nil, nil},
		{"an allOf of one closed enum, nullable: the enum, nullable", &openapi3.Schema{AllOf: openapi3.SchemaRefs{refOf(enum("en", "de"))}, Nullable: true, Description: "d"}, false, nil,
			func(t *testing.T, got *openapi3.Schema) {
				assert.Empty(t, got.AllOf)
				assert.Equal(t, []any{"en", "de"}, got.Enum)
				assert.True(t, got.Nullable)
			}},
		{"an allOf of one open enum: open", &openapi3.Schema{AllOf: openapi3.SchemaRefs{refOf(oneOf(enum("en"), str()))}}, false, []string{"en"}, nil},
		{"an allOf beside a type: kept", &openapi3.Schema{AllOf: openapi3.SchemaRefs{refOf(enum("en"))}, Type: &openapi3.Types{"string"}}, false, nil,
			func(t *testing.T, got *openapi3.Schema) { assert.Len(t, got.AllOf, 1) }},
		{"an allOf of two: kept", &openapi3.Schema{AllOf: openapi3.SchemaRefs{refOf(enum("en")), refOf(str())}}, false, nil,
			func(t *testing.T, got *openapi3.Schema) { assert.Len(t, got.AllOf, 2) }},
		{"readOnly in a response: dropped", with(str(), func(s *openapi3.Schema) { s.ReadOnly = true }), true, nil,
			func(t *testing.T, got *openapi3.Schema) { assert.False(t, got.ReadOnly) }},
		{"readOnly in a request: kept", with(str(), func(s *openapi3.Schema) { s.ReadOnly = true }), false, nil,
			func(t *testing.T, got *openapi3.Schema) { assert.True(t, got.ReadOnly) }},
		{"writeOnly in a request: dropped", with(str(), func(s *openapi3.Schema) { s.WriteOnly = true }), false, nil,
			func(t *testing.T, got *openapi3.Schema) { assert.False(t, got.WriteOnly) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := *tc.schema
			n := newNormalizer(tc.response)
			// The schema as a property, so that its copy is reached as
			// one: the report's words name it by its path.
			root := refOf(&openapi3.Schema{Type: &openapi3.Types{"object"}, Properties: openapi3.Schemas{"p": refOf(tc.schema)}})
			got := n.ref(root).Value.Properties["p"].Value
			assert.Equal(t, tc.open, n.open[got], "the open enum's values")
			shape, ok := enumShapes(n.ref(root), n.open)["p"]
			if tc.open != nil {
				require.True(t, ok)
				assert.Equal(t, enumShape{open: true, values: tc.open}, shape)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			assert.Equal(t, before, *tc.schema, "the normalizer copies; the document's schema, shared by its operations, is left as it was")
		})
	}
}

func TestNormalizerEndsOnCycles(t *testing.T) {
	t.Parallel()
	node := openapi3.NewObjectSchema()
	node.Properties = openapi3.Schemas{"children": &openapi3.SchemaRef{Value: openapi3.NewArraySchema().WithItems(node)}}
	n := newNormalizer(false)
	got := n.ref(&openapi3.SchemaRef{Value: node})
	children := got.Value.Properties["children"].Value.Items.Value
	assert.Same(t, got.Value, children, "a recursive schema stays one copy")
	assert.Empty(t, enumShapes(got, n.open), "and its walk ends")
	assert.Nil(t, schemaAt(got.Value, "children/items/children/items/nothing"))
	assert.Same(t, got.Value, schemaAt(got.Value, "children/items"))
}

func TestEnumShapeDescribe(t *testing.T) {
	t.Parallel()
	many := make([]string, 12)
	for i := range many {
		many[i] = string(rune('a' + i))
	}
	cases := []struct {
		name  string
		shape enumShape
		want  string
	}{
		{"closed", enumShape{values: []string{"en", "de"}}, "a closed enum (`en`, `de`)"},
		{"open", enumShape{open: true, values: []string{"en"}}, "an open enum (`en`, or any other string)"},
		{"many values", enumShape{values: many}, "a closed enum (`a`, `b`, `c`, `d`, `e`, `f`, `g`, `h`, `i`, `j` and 2 more)"},
		{"a value to clean", enumShape{values: []string{"a\x1b[31m"}}, "a closed enum (`a[31m`)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.shape.describe())
		})
	}
}
