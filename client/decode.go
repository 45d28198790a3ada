package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// decodeExact decodes body, a JSON object, into v (a pointer to a
// generated struct) as the spec reads it, and says why it cannot ("" when
// it can):
//
//   - a member fills a field only when its name is the field's JSON name
//     exactly: encoding/json matches names in any case, so it fills
//     LinkToken from "LINK_TOKEN", and takes the last of "link_token" and
//     "Link_Token", where JSON Schema sees an unknown member;
//   - a required member (its field's tag has no omitempty or omitzero) must
//     be there;
//   - null is accepted only where the Go type can hold it (a pointer, a
//     slice, a map): the spec's nullable fields;
//   - members the type does not know are ignored, as the spec allows, and
//     values of a generated enum type that the spec does not list are kept:
//     Merge adds categories, and a response that names a new one is not a
//     broken contract.
//
// The client stays on the standard library, whose encoding/json has no
// case-sensitive mode (encoding/json/v2 and go-json-experiment/json have
// one, but are an experiment and a dependency). So a body is read in one of
// two ways. The usual body, where encoding/json cannot go wrong (see
// plainJSON), is decoded by json.Unmarshal alone, and its required fields
// checked after it (requiredSet). Any other body, and any body that fails
// there, is decoded again by decodeValue: each object's members into a map
// (whose keys are the exact names), then each member with encoding/json,
// which also finds the reason. The two agree on every body
// (FuzzDecodeExact); BenchmarkDecodeExact measures them.
func decodeExact(body []byte, v any) string {
	rv := reflect.ValueOf(v).Elem()
	if decodeFast(body, rv) {
		return ""
	}
	rv.SetZero()
	return decodeValue(body, rv, "")
}

// decodeFast is decodeExact's fast way: it reports whether body is one that
// json.Unmarshal reads as decodeValue does (plainJSON), decoded into v
// without error, with every required field set.
func decodeFast(body []byte, v reflect.Value) bool {
	return plainJSON(body, fieldsOf(v.Type())) && json.Unmarshal(body, v.Addr().Interface()) == nil && requiredSet(v)
}

// decodeValue is decodeExact's reading of any body, one member at a time.
func decodeValue(raw []byte, v reflect.Value, path string) string {
	t := v.Type()
	switch {
	case bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
		if k := t.Kind(); k == reflect.Pointer || k == reflect.Slice || k == reflect.Map {
			return ""
		}
		return where(path) + " is null"
	case t.Kind() == reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return where(path) + " is not a JSON object"
		}
		for _, f := range fieldsOf(t).fields {
			m, ok := members[f.name]
			if !ok {
				if f.required {
					return where(path+"/"+f.name) + " is missing"
				}
				continue
			}
			if reason := decodeValue(m, v.Field(f.index), path+"/"+f.name); reason != "" {
				return reason
			}
		}
		return ""
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		v.Set(reflect.New(t.Elem()))
		return decodeValue(raw, v.Elem(), path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return where(path) + " is not a JSON array"
		}
		v.Set(reflect.MakeSlice(t, len(items), len(items)))
		for i, item := range items {
			if reason := decodeValue(item, v.Index(i), path+"/"+strconv.Itoa(i)); reason != "" {
				return reason
			}
		}
		return ""
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		return where(path) + " is not " + jsonKind(t)
	}
	return ""
}

// plainJSON reports whether encoding/json reads body, a JSON text, into a
// value of the type of f as decodeValue does. It does, for a type whose
// fields encoding/json names as decodeValue does (f.plain), unless body
// has
//
//   - a backslash: an escape can spell a name ("link\u005ftoken");
//   - a null, which encoding/json skips where decodeValue may refuse it,
//     except as the value of a member whose every field (in f.nullable)
//     holds null as nil in both readings, or of a member no field reads;
//   - a member name that is one of f.names in another case, or holds a
//     byte outside ASCII (encoding/json folds K and ſ to k and s);
//   - a name of f.names twice: encoding/json merges two objects of the same
//     member, where decodeValue keeps the last.
//
// Without a backslash, each string ends at the next quote, and outside
// strings an n can only start a null. plainJSON may refuse a body that
// encoding/json would read right (a null in a member the type does not
// know): decodeValue then reads it.
func plainJSON(body []byte, f *jsonFields) bool {
	if !f.plain || bytes.IndexByte(body, '\\') >= 0 {
		return false
	}
	var seen uint64 // bit i: names[i] was a member name
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case 'n':
			return false
		case '"':
			end := bytes.IndexByte(body[i+1:], '"')
			if end < 0 {
				return false
			}
			s := body[i+1 : i+1+end]
			i += 1 + end
			rest := bytes.TrimLeft(body[i+1:], jsonSpace)
			if len(rest) == 0 || rest[0] != ':' {
				continue // a value, not a member name
			}
			n := nameIndex(s, f.names)
			switch {
			case n < 0:
				return false
			case n < len(f.names):
				if seen&(1<<n) != 0 {
					return false
				}
				seen |= 1 << n
			}
			if value := bytes.TrimLeft(rest[1:], jsonSpace); bytes.HasPrefix(value, []byte("null")) {
				if n < len(f.names) && f.nullable&(1<<n) == 0 {
					return false
				}
				i = len(body) - len(value) + len("null") - 1 // past the null
			}
		}
	}
	return true
}

// jsonSpace is JSON's whitespace.
const jsonSpace = " \t\r\n"

// nameIndex is the index of the member name s in names, len(names) for a
// name encoding/json cannot match to any of names, or -1 for one it might
// match in another case.
func nameIndex(s []byte, names []string) int {
	for i, n := range names {
		if string(s) == n {
			return i
		}
	}
	for _, b := range s {
		if b >= utf8.RuneSelf {
			return -1
		}
	}
	for _, n := range names {
		if bytes.EqualFold(s, []byte(n)) {
			return -1
		}
	}
	return len(names)
}

// requiredSet reports whether every required field of v, and of the
// structs within it, holds a value that is not its zero value: after
// json.Unmarshal of a plainJSON body, whether every required member was
// there (a zero one, "" or 0, is left to decodeValue).
func requiredSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer:
		return v.IsNil() || requiredSet(v.Elem())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := range v.Len() {
				if !requiredSet(v.Index(i)) {
					return false
				}
			}
		}
	case reflect.Struct:
		for _, f := range fieldsOf(v.Type()).fields {
			if fv := v.Field(f.index); (f.required && fv.IsZero()) || !requiredSet(fv) {
				return false
			}
		}
	}
	return true
}

// jsonFields are the JSON members of a struct type: its exported fields
// with a name in their json tag, and whether each is required (no omitempty
// or omitzero). names are the JSON names of the members of the type and of
// every struct type within it, at most 64 of them; plain is false when
// there are more, or when encoding/json would name a member otherwise than
// decodeValue (a field with no name in its tag, or an embedded one).
type jsonFields struct {
	fields []jsonField
	names  []string
	plain  bool
	// nullable has bit i set when every field named names[i] holds null,
	// in both readings, as nil: a pointer, or a slice or map that is not a
	// json.Unmarshaler (encoding/json hands null to json.RawMessage as its
	// value).
	nullable uint64
}

type jsonField struct {
	index    int
	name     string
	required bool
}

// fieldTypes caches fieldsOf.
var fieldTypes sync.Map // reflect.Type -> *jsonFields

// fieldsOf returns the JSON members of t (a struct type; of any other, none).
func fieldsOf(t reflect.Type) *jsonFields {
	if f, ok := fieldTypes.Load(t); ok {
		return f.(*jsonFields)
	}
	f := &jsonFields{plain: true}
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			sf := t.Field(i)
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if !sf.IsExported() || name == "" || name == "-" {
				continue
			}
			f.fields = append(f.fields, jsonField{index: i, name: name,
				required: !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero")})
		}
	}
	f.addNames(t, map[reflect.Type]bool{})
	f.plain = f.plain && len(f.names) <= 64
	fieldTypes.Store(t, f)
	return f
}

// nilOnNull reports whether both readings of null into a t are its nil.
func nilOnNull(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer:
		return true
	case reflect.Slice, reflect.Map:
		return !reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]())
	}
	return false
}

// addNames adds the JSON names of t's members and of the struct types
// within it to f.names.
func (f *jsonFields) addNames(t reflect.Type, done map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || done[t] {
		return
	}
	done[t] = true
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch {
		case !sf.IsExported() || name == "-":
			continue
		case name == "" || sf.Anonymous:
			f.plain = false
			continue
		}
		i := slices.Index(f.names, name)
		if i < 0 {
			i = len(f.names)
			f.names = append(f.names, name)
			f.nullable |= 1 << i
		}
		if !nilOnNull(sf.Type) {
			f.nullable &^= 1 << i
		}
		f.addNames(sf.Type, done)
	}
}

// where names a member for a message: "link_token", "integration/name",
// or "the body".
func where(path string) string {
	if path == "" {
		return "the body"
	}
	return strings.TrimPrefix(path, "/")
}

// jsonKind names the JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(jsonKind(t.Elem()), "a ")
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a JSON object"
}
