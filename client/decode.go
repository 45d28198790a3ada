package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
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
// It decodes each object's members into a map (whose keys are the exact
// names) and each member with encoding/json: the client stays on the
// standard library, whose encoding/json has no case-sensitive mode
// (encoding/json/v2 and go-json-experiment/json have one, but are an
// experiment and a dependency).
func decodeExact(body []byte, v any) string {
	return decodeValue(body, reflect.ValueOf(v).Elem(), "")
}

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
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			m, ok := members[name]
			if !ok {
				if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
					return where(path+"/"+name) + " is missing"
				}
				continue
			}
			if reason := decodeValue(m, v.Field(i), path+"/"+name); reason != "" {
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
