package main

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// What a body holds that the spec does not document, which the Validator
// lets pass: JSON Schema accepts members no property names, and an open
// enum (anyOf an enum and any string) accepts every string. Nothing here
// validates: the Validator does, and walk only reads which names and values
// the schemas list.

// schemas is what applies at one place of a body: a schema, and the
// members of its allOf, anyOf and oneOf, flattened (to maxShapeDepth).
// A member is documented when any of them names it.
type schemas []*openapi3.Schema

// schemasOf returns the schemas a reference brings, each once.
func schemasOf(refs ...*openapi3.SchemaRef) schemas {
	var out schemas
	var add func(r *openapi3.SchemaRef, depth int)
	add = func(r *openapi3.SchemaRef, depth int) {
		if r == nil || r.Value == nil || depth > maxShapeDepth || slices.Contains(out, r.Value) {
			return
		}
		out = append(out, r.Value)
		for _, members := range []openapi3.SchemaRefs{r.Value.AllOf, r.Value.AnyOf, r.Value.OneOf} {
			for _, m := range members {
				add(m, depth+1)
			}
		}
	}
	for _, r := range refs {
		add(r, 0)
	}
	return out
}

// objectShape is what an object's schemas say of its members.
type objectShape struct {
	// props are the schemas of each member a property names.
	props map[string]schemas
	// maps are the additionalProperties schemas: the other members are
	// map entries, their keys data (a category, an integration's slug).
	maps schemas
	// closed is set when a member no property names is undocumented:
	// the schemas name properties, or forbid others, and none of them
	// takes other members (additionalProperties true or a schema).
	closed bool
}

func (ss schemas) object() objectShape {
	sh := objectShape{props: map[string]schemas{}}
	named, open := false, false
	for _, s := range ss {
		for name, p := range s.Properties {
			sh.props[name] = append(sh.props[name], schemasOf(p)...)
			named = true
		}
		ap := s.AdditionalProperties
		switch {
		case ap.Schema != nil:
			sh.maps = append(sh.maps, schemasOf(ap.Schema)...)
		case ap.Has != nil && *ap.Has:
			open = true
		case ap.Has != nil:
			named = true // additionalProperties: false
		}
	}
	sh.closed = named && !open && len(sh.maps) == 0
	return sh
}

// items returns the schemas of an array's elements.
func (ss schemas) items() schemas {
	var out schemas
	for _, s := range ss {
		out = append(out, schemasOf(s.Items)...)
	}
	return out
}

// line returns where the spec writes the first of the schemas that says
// where it is written, or 0.
func (ss schemas) line() int {
	for _, s := range ss {
		if s.Origin != nil && s.Origin.Key != nil && s.Origin.Key.Line > 0 {
			return s.Origin.Key.Line
		}
	}
	return 0
}

// bodyWalker reads bodies against schemas, remembering what it works out
// of a schema (an object's shape, an open enum's values): a body visits
// the same schemas again and again. The zero value is ready to use.
type bodyWalker struct {
	shapes map[*openapi3.Schema]objectShape
	enums  map[*openapi3.Schema]openEnumValues
}

// openEnumValues are the values an open enum lists (see openEnum).
type openEnumValues struct {
	values []string
	ok     bool
}

// object is ss.object, remembered for a single schema.
func (w *bodyWalker) object(ss schemas) objectShape {
	if len(ss) != 1 {
		return ss.object()
	}
	sh, ok := w.shapes[ss[0]]
	if !ok {
		if w.shapes == nil {
			w.shapes = map[*openapi3.Schema]objectShape{}
		}
		sh = ss.object()
		w.shapes[ss[0]] = sh
	}
	return sh
}

// openEnum returns the values the open enums among ss list, and whether
// there is one.
func (w *bodyWalker) openEnum(ss schemas) ([]string, bool) {
	var values []string
	found := false
	for _, s := range ss {
		e, ok := w.enums[s]
		if !ok {
			if w.enums == nil {
				w.enums = map[*openapi3.Schema]openEnumValues{}
			}
			e.values, _, e.ok = openEnum(s)
			w.enums[s] = e
		}
		if e.ok {
			values, found = append(values, e.values...), true
		}
	}
	return values, found
}

// bodyNote is what walk found at one place of a body.
type bodyNote struct {
	group string // groupField or groupUnlisted
	// pointer is where, as a schema pointer: array indexes and map keys
	// are "*", an undocumented member is named.
	pointer []string
	value   string // the string an open enum does not list
	line    int
}

// walk calls note with what v, a decoded JSON body at ptr, holds that ss
// do not document: each member none of them names where they are closed
// (not looked into further), and each string an open enum among them does
// not list. Members are visited in name order, so that which findings a
// full report keeps does not depend on a map's order.
func (w *bodyWalker) walk(ss schemas, v any, ptr []string, note func(bodyNote)) {
	if len(ss) == 0 {
		return
	}
	at := func(token string) []string { return append(ptr[:len(ptr):len(ptr)], token) }
	switch x := v.(type) {
	case map[string]any:
		sh := w.object(ss)
		for _, name := range slices.Sorted(maps.Keys(x)) {
			switch p, ok := sh.props[name]; {
			case ok:
				w.walk(p, x[name], at(name), note)
			case len(sh.maps) > 0:
				w.walk(sh.maps, x[name], at("*"), note)
			case sh.closed:
				note(bodyNote{group: groupField, pointer: at(name), line: ss.line()})
			}
		}
	case []any:
		items := ss.items()
		for _, m := range x {
			w.walk(items, m, at("*"), note)
		}
	case string:
		if values, ok := w.openEnum(ss); ok && !slices.Contains(values, x) {
			note(bodyNote{group: groupUnlisted, pointer: ptr, value: x, line: ss.line()})
		}
	}
}

// pointerToken decodes one token of an RFC 6901 pointer.
var pointerToken = strings.NewReplacer("~1", "/", "~0", "~")

// locate follows a pointer the Validator gives (its tokens the body's keys
// and indexes) from ss through the body v. It returns the schema pointer
// (indexes and map keys as "*"), the value there and whether it was found,
// and the line of the deepest schemas reached that give one.
func (w *bodyWalker) locate(ss schemas, v any, pointer string) (schemaPtr []string, value any, found bool, line int) {
	line = ss.line()
	if pointer == "" {
		return nil, v, true, line
	}
	found = true
	for _, token := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		token = pointerToken.Replace(token)
		switch x := v.(type) {
		case []any:
			schemaPtr, ss = append(schemaPtr, "*"), ss.items()
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(x) {
				v, found = nil, false
				break
			}
			v = x[i]
		case map[string]any:
			sh := w.object(ss)
			switch p, ok := sh.props[token]; {
			case ok:
				schemaPtr, ss = append(schemaPtr, token), p
			case len(sh.maps) > 0:
				schemaPtr, ss = append(schemaPtr, "*"), sh.maps
			default:
				schemaPtr, ss = append(schemaPtr, token), nil
			}
			m, ok := x[token]
			v, found = m, found && ok
		default:
			schemaPtr, ss, v, found = append(schemaPtr, token), nil, nil, false
		}
		if l := ss.line(); l > 0 {
			line = l
		}
	}
	return schemaPtr, v, found, line
}
