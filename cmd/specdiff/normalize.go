package main

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Reading schemas for what they mean. Two documents can say the same thing
// in different ways, and oasdiff compares what they write: Merge's category
// documents write an open enum as
//
//	language: {oneOf: [{$ref: LanguageEnum}, {type: string}], nullable: true}
//
// (any string, the enum naming the values known today), its marketing
// document and ours wrap a closed enum as {allOf: [{$ref: LanguageEnum}]}
// to give it a description or nullable, and Merge marks response properties
// readOnly, which constrains nothing in a response. Compared as written,
// oasdiff reports "removed LanguageEnum from the allOf list, added it to
// the oneOf list" and, for an open enum against a closed one, every value
// of the closed one as added: words about syntax, some of them "breaking".
//
// The normalizer rewrites a copy of each schema before oasdiff sees it:
//   - an open enum (oneOf or anyOf of exactly an enum of strings and an
//     unconstrained string) becomes what it accepts, a string, and the
//     values it names are kept aside (open) for the report's words;
//   - an allOf of one schema, beside nothing but annotations, nullable,
//     default, readOnly, writeOnly or deprecated, becomes that schema with
//     them;
//   - readOnly is dropped in response schemas and writeOnly in request
//     schemas, where they constrain nothing.
//
// Extensions (Fern's x-fern-* among them), descriptions, examples and
// titles are left out by the diff's configuration (upstreamDiffConfig).
// Schemas are copied, never changed: a document's schemas are shared by its
// operations, and ours is compared with every document.
type normalizer struct {
	response bool
	memo     map[*openapi3.Schema]*openapi3.Schema
	// open holds the values of each open enum, by the schema that
	// replaced it.
	open map[*openapi3.Schema][]string
}

func newNormalizer(response bool) *normalizer {
	return &normalizer{response: response, memo: map[*openapi3.Schema]*openapi3.Schema{}, open: map[*openapi3.Schema][]string{}}
}

func (n *normalizer) ref(r *openapi3.SchemaRef) *openapi3.SchemaRef {
	if r == nil || r.Value == nil {
		return r
	}
	return &openapi3.SchemaRef{Ref: r.Ref, Value: n.schema(r.Value)}
}

func (n *normalizer) refs(rs openapi3.SchemaRefs) openapi3.SchemaRefs {
	if rs == nil {
		return nil
	}
	out := make(openapi3.SchemaRefs, len(rs))
	for i, r := range rs {
		out[i] = n.ref(r)
	}
	return out
}

func (n *normalizer) schema(s *openapi3.Schema) *openapi3.Schema {
	if c, ok := n.memo[s]; ok {
		return c // a cycle, or a schema reached twice: one copy
	}
	c := new(openapi3.Schema)
	n.memo[s] = c
	*c = *s
	if s.Properties != nil {
		c.Properties = make(openapi3.Schemas, len(s.Properties))
		for name, p := range s.Properties {
			c.Properties[name] = n.ref(p)
		}
	}
	c.Items = n.ref(s.Items)
	c.AdditionalProperties.Schema = n.ref(s.AdditionalProperties.Schema)
	c.AllOf, c.AnyOf, c.OneOf = n.refs(s.AllOf), n.refs(s.AnyOf), n.refs(s.OneOf)
	c.Not = n.ref(s.Not)
	if n.response {
		c.ReadOnly = false
	} else {
		c.WriteOnly = false
	}
	if inner := allOfWrapped(c); inner != nil {
		merged := *inner
		merged.Nullable = merged.Nullable || c.Nullable
		merged.ReadOnly = merged.ReadOnly || c.ReadOnly
		merged.WriteOnly = merged.WriteOnly || c.WriteOnly
		merged.Deprecated = merged.Deprecated || c.Deprecated
		if c.Default != nil {
			merged.Default = c.Default
		}
		merged.Description, merged.Title, merged.Example = c.Description, c.Title, c.Example
		merged.Extensions, merged.Origin = c.Extensions, c.Origin // where the property is written
		if values, ok := n.open[inner]; ok {
			n.open[c] = values
		}
		*c = merged
	}
	if values, nullable, ok := openEnum(c); ok {
		c.OneOf, c.AnyOf = nil, nil
		c.Type = &openapi3.Types{openapi3.TypeString}
		c.Nullable = c.Nullable || nullable
		n.open[c] = values
	}
	return c
}

// annotationsOnly returns a copy of s without what neither the allOf
// wrapper nor the open enum's outer schema may carry beside their members:
// annotations, nullable, default, readOnly, writeOnly and deprecated.
func annotationsOnly(s *openapi3.Schema) openapi3.Schema {
	c := *s
	c.Extensions, c.Origin = nil, nil
	c.Title, c.Description, c.Example, c.ExternalDocs, c.XML = "", "", nil, nil, nil
	c.Nullable, c.ReadOnly, c.WriteOnly, c.Deprecated, c.Default = false, false, false, false, nil
	return c
}

// allOfWrapped returns the one member of an allOf that s only wraps (see
// annotationsOnly), or nil.
func allOfWrapped(s *openapi3.Schema) *openapi3.Schema {
	if len(s.AllOf) != 1 || s.AllOf[0] == nil || s.AllOf[0].Value == nil {
		return nil
	}
	rest := annotationsOnly(s)
	rest.AllOf = nil
	if !reflect.DeepEqual(rest, openapi3.Schema{}) {
		return nil
	}
	return s.AllOf[0].Value
}

// openEnum reports whether s is an open enum: a oneOf or anyOf of exactly
// an enum of strings and an unconstrained string, beside annotations (a
// type string included). It returns the enum's values and whether either
// member is nullable.
func openEnum(s *openapi3.Schema) ([]string, bool, bool) {
	members := s.OneOf
	if len(members) == 0 {
		members = s.AnyOf
	}
	rest := annotationsOnly(s)
	rest.OneOf, rest.AnyOf = nil, nil
	if rest.Type != nil && rest.Type.Is(openapi3.TypeString) {
		rest.Type = nil
	}
	if len(members) != 2 || (len(s.OneOf) > 0 && len(s.AnyOf) > 0) || !reflect.DeepEqual(rest, openapi3.Schema{}) {
		return nil, false, false
	}
	for i := range 2 {
		enum, plain := members[i], members[1-i]
		if enum == nil || enum.Value == nil || plain == nil || plain.Value == nil {
			return nil, false, false
		}
		values, ok := stringEnum(enum.Value)
		if ok && isPlainString(plain.Value) {
			return values, enum.Value.Nullable || plain.Value.Nullable, true
		}
	}
	return nil, false, false
}

// stringEnum returns the values of an enum of strings.
func stringEnum(s *openapi3.Schema) ([]string, bool) {
	if len(s.Enum) == 0 || (s.Type != nil && !s.Type.Is(openapi3.TypeString)) {
		return nil, false
	}
	values := make([]string, len(s.Enum))
	for i, v := range s.Enum {
		str, ok := v.(string)
		if !ok {
			return nil, false
		}
		values[i] = str
	}
	return values, true
}

// isPlainString reports whether s accepts every string: type string and
// nothing else but annotations.
func isPlainString(s *openapi3.Schema) bool {
	rest := annotationsOnly(s)
	return rest.Type != nil && rest.Type.Is(openapi3.TypeString) && reflect.DeepEqual(rest, openapi3.Schema{Type: rest.Type})
}

// enumShape is what a property's schema says of its values: an enum, open
// (any string, these values named) or closed (these values only).
type enumShape struct {
	open   bool
	values []string
}

// describe words a shape for a report: "an open enum (`en`, `de`, or any
// other string)", "a closed enum (`en`, `de`)".
func (e enumShape) describe() string {
	const most = 10
	quoted := make([]string, 0, min(len(e.values), most))
	for i, v := range e.values {
		if i == most {
			break
		}
		quoted = append(quoted, "`"+shown(v)+"`")
	}
	list := strings.Join(quoted, ", ")
	if len(e.values) > most {
		list += fmt.Sprintf(" and %d more", len(e.values)-most)
	}
	if e.open {
		return "an open enum (" + list + ", or any other string)"
	}
	return "a closed enum (" + list + ")"
}

// enumShapes maps the property paths of a normalized schema, written as
// oasdiff writes them ("integration/categories/items"; "" for the schema
// itself), to the enum each holds.
func enumShapes(root *openapi3.SchemaRef, open map[*openapi3.Schema][]string) map[string]enumShape {
	out := map[string]enumShape{}
	var walk func(r *openapi3.SchemaRef, path string, depth int)
	walk = func(r *openapi3.SchemaRef, path string, depth int) {
		if r == nil || r.Value == nil || depth > maxShapeDepth {
			return
		}
		s := r.Value
		if values, ok := open[s]; ok {
			out[path] = enumShape{open: true, values: values}
		} else if values, ok := stringEnum(s); ok {
			out[path] = enumShape{values: values}
		}
		join := func(name string) string {
			if path == "" {
				return name
			}
			return path + "/" + name
		}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			walk(s.Properties[name], join(name), depth+1)
		}
		walk(s.Items, join("items"), depth+1)
		walk(s.AdditionalProperties.Schema, join("additionalProperties"), depth+1)
		for _, members := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, m := range members {
				walk(m, path, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return out
}

// maxShapeDepth bounds enumShapes' walk, which a recursive schema would
// otherwise never end.
const maxShapeDepth = 16
