package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Trimming a JSON document before kin-openapi loads it. kin-openapi parses
// JSON through its YAML parser, which takes seconds and gigabytes on a
// document of a few megabytes; gjson finds our operations and what they
// reference in a small fraction of that, and kin-openapi then
// loads a document of a few kilobytes. YAML documents, and JSON documents
// trimJSON cannot cut down, are loaded whole, and only when small
// (maxUntrimmedBytes in upstream.go).
//
// The trimmed document keeps openapi, info, servers, the chosen operations
// (each in its path item, with the item's parameters and servers) and every
// component they reference, transitively: schemas, parameters,
// responses and the rest through "$ref", security schemes through the
// operations' security requirements. Values are copied byte for byte
// (json.RawMessage), never decoded and re-encoded, so numbers keep their
// text.

// errNotTrimmable means the document is not one trimJSON can cut down
// faithfully: not a JSON object, not OpenAPI 3, a key given twice in an
// object it reads, a "$ref" outside #/components/ or to a component that
// is missing, a path item that is itself a "$ref". The error wrapping it
// says which (see notTrimmable). The caller then loads the whole document,
// so that kin-openapi reports every problem as before, but only when it is
// small (see maxUntrimmedBytes in upstream.go).
var errNotTrimmable = errors.New("cannot be trimmed to our operations")

// notTrimmable is errNotTrimmable with the reason: the first problem found,
// any value from the document in it shown (bounded and cleaned).
func notTrimmable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errNotTrimmable}, args...)...)
}

const componentsRef = "#/components/"

// trimJSON returns the part of a JSON document that holds our operations
// (see above) and, for each of ours, the path choosePath picked ("" when
// the document does not hold it). Each path item kept holds the chosen
// operations, its parameters and its servers, nothing else. An error other
// than one wrapping errNotTrimmable is choosePath's (several candidates, a
// -path the document lacks) or noOperation's.
//
// The document is read with gjson, which finds the members of an object
// without decoding or copying their values: that is what makes looking up
// a few paths and components of a document of megabytes cheap. Every
// object trimJSON reads is checked for a key given twice, which kin-openapi
// refuses and gjson would not notice.
func trimJSON(data []byte, name string, ours []operationPattern, ps picks) ([]byte, []string, error) {
	if !looksLikeJSONObject(data) {
		return nil, nil, notTrimmable("it is not a JSON object (YAML is never trimmed)")
	}
	if !json.Valid(data) {
		return nil, nil, notTrimmable("it is not valid JSON")
	}
	// One copy, so that every member below is a substring of it.
	doc := string(data)
	top, err := objectMembers(doc, "the document")
	if err != nil {
		return nil, nil, err
	}
	var version string
	if json.Unmarshal([]byte(top["openapi"]), &version) != nil || !strings.HasPrefix(version, "3.") {
		return nil, nil, notTrimmable("its openapi member is %s, not a 3.x version", shown(cmp.Or(top["openapi"], "missing")))
	}
	paths, err := objectMembers(top["paths"], "paths")
	if err != nil {
		return nil, nil, err
	}
	// Only paths that could be chosen are looked into.
	items := map[string]map[string]string{}
	candidates := make([][]string, len(ours))
	var matchingPaths []string
	for path := range paths {
		for _, p := range ours {
			if p.matches(path) {
				matchingPaths = append(matchingPaths, path)
				break
			}
		}
	}
	slices.Sort(matchingPaths) // the problem reported, when there are several, is always the same
	for _, path := range matchingPaths {
		var matching []int
		for i, p := range ours {
			if p.matches(path) {
				matching = append(matching, i)
			}
		}
		item, err := objectMembers(paths[path], "the path item "+shown(path))
		if err != nil {
			return nil, nil, err
		}
		if _, ok := item["$ref"]; ok {
			return nil, nil, notTrimmable("the path item %s is a $ref", shown(path))
		}
		items[path] = item
		for _, i := range matching {
			if op, ok := item[ours[i].key()]; ok && op != "null" {
				candidates[i] = append(candidates[i], path)
			}
		}
	}
	chosen := make([]string, len(ours))
	kept := map[string]map[string]json.RawMessage{}
	for i, p := range ours {
		if chosen[i], err = choosePath(name, p, candidates[i], ps); err != nil {
			return nil, nil, err
		}
		if chosen[i] == "" {
			continue
		}
		item := items[chosen[i]]
		if kept[chosen[i]] == nil {
			kept[chosen[i]] = map[string]json.RawMessage{}
			for _, shared := range []string{"parameters", "servers"} {
				if raw, ok := item[shared]; ok {
					kept[chosen[i]][shared] = json.RawMessage(raw)
				}
			}
		}
		kept[chosen[i]][p.key()] = json.RawMessage(item[p.key()])
	}
	if !slices.ContainsFunc(chosen, func(path string) bool { return path != "" }) {
		return nil, nil, noOperation(name, ours)
	}
	components, err := referencedComponents(top["components"], kept)
	if err != nil {
		return nil, nil, err
	}
	out, err := json.MarshalIndent(trimmedDocument{
		OpenAPI:    json.RawMessage(top["openapi"]),
		Info:       json.RawMessage(top["info"]),
		Servers:    json.RawMessage(top["servers"]),
		Paths:      kept,
		Components: components,
	}, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("trim %s: %w", shown(name), err)
	}
	return append(out, '\n'), chosen, nil
}

// objectMembers returns the members of the JSON object raw (valid JSON) by
// key, each value a substring of raw, found by gjson. where names the
// object in errors. A value that is not an object, and a key given twice
// (kin-openapi refuses such documents), are errNotTrimmable.
func objectMembers(raw, where string) (map[string]string, error) {
	v := gjson.Parse(raw)
	if !v.IsObject() {
		return nil, notTrimmable("%s is not an object", where)
	}
	members := map[string]string{}
	var err error
	v.ForEach(func(k, value gjson.Result) bool {
		key := objectKey(k.Raw)
		if _, ok := members[key]; ok {
			err = notTrimmable("%s has the key %q twice", where, shown(key))
			return false
		}
		members[key] = value.Raw
		return true
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// objectKey decodes a quoted JSON key as encoding/json does (and so as the
// "$ref" strings it is matched with are decoded): escapes decoded, invalid
// UTF-8 replaced by U+FFFD. Most keys need neither, and are not copied.
func objectKey(quoted string) string {
	if !strings.Contains(quoted, `\`) && utf8.ValidString(quoted) {
		return quoted[1 : len(quoted)-1]
	}
	var s string
	if json.Unmarshal([]byte(quoted), &s) != nil {
		return quoted // not reached on valid JSON
	}
	return s
}

// trimmedDocument is what trimJSON keeps, in the order a reader expects.
type trimmedDocument struct {
	OpenAPI    json.RawMessage                       `json:"openapi"`
	Info       json.RawMessage                       `json:"info,omitempty"`
	Servers    json.RawMessage                       `json:"servers,omitempty"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components,omitempty"`
}

// referencedComponents collects the components the path items reference,
// transitively, by section ("schemas", "parameters", ...) and name. Paths
// and members are visited in sorted order, so that the problem reported,
// when there are several, is always the same.
func referencedComponents(rawComponents string, items map[string]map[string]json.RawMessage) (map[string]map[string]json.RawMessage, error) {
	var sections map[string]string
	if rawComponents != "" {
		var err error
		if sections, err = objectMembers(rawComponents, "components"); err != nil {
			return nil, err
		}
	}
	available := map[string]map[string]string{} // the sections looked into so far
	section := func(name string) (map[string]string, error) {
		if s, ok := available[name]; ok {
			return s, nil
		}
		var s map[string]string
		if raw, ok := sections[name]; ok {
			var err error
			if s, err = objectMembers(raw, "components/"+shown(name)); err != nil {
				return nil, err
			}
		}
		available[name] = s
		return s, nil
	}

	found := map[string]map[string]json.RawMessage{}
	var queue []string
	add := func(ref, sectionName, name string) error {
		if _, ok := found[sectionName][name]; ok {
			return nil
		}
		s, err := section(sectionName)
		if err != nil {
			return err
		}
		raw, ok := s[name]
		if !ok {
			return notTrimmable("$ref %q names a component the document does not have", shown(ref))
		}
		if found[sectionName] == nil {
			found[sectionName] = map[string]json.RawMessage{}
		}
		found[sectionName][name] = json.RawMessage(raw)
		queue = append(queue, raw)
		return nil
	}

	for _, path := range slices.Sorted(maps.Keys(items)) {
		item := items[path]
		for _, method := range slices.Sorted(maps.Keys(item)) {
			raw := string(item[method])
			queue = append(queue, raw)
			if !isOperationKey(method) {
				continue
			}
			// Security schemes are named, not referenced.
			var op struct {
				Security []map[string]json.RawMessage `json:"security"`
			}
			if json.Unmarshal([]byte(raw), &op) != nil {
				return nil, notTrimmable("the security of its %s operation is not a list of requirements", method)
			}
			schemes, err := section("securitySchemes")
			if err != nil {
				return nil, err
			}
			for _, requirement := range op.Security {
				for _, scheme := range slices.Sorted(maps.Keys(requirement)) {
					// A scheme the document lacks is left out: kin-openapi
					// does not resolve security requirements when loading.
					if _, ok := schemes[scheme]; ok {
						if err := add("", "securitySchemes", scheme); err != nil {
							return nil, err
						}
					}
				}
			}
		}
	}
	for len(queue) > 0 {
		raw := queue[0]
		queue = queue[1:]
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return nil, notTrimmable("a value is not valid JSON") // not reached: the document is valid
		}
		var walkErr error
		walkRefs(v, func(ref string) {
			if walkErr != nil {
				return
			}
			sectionName, name, ok := splitComponentRef(ref)
			if !ok {
				walkErr = notTrimmable("$ref %q does not point into %s", shown(ref), componentsRef)
				return
			}
			walkErr = add(ref, sectionName, name)
		})
		if walkErr != nil {
			return nil, walkErr
		}
	}
	return found, nil
}

// walkRefs calls f with the value of every "$ref" key holding a string,
// and with every string of a discriminator's mapping that points into
// #/components/, in the order of the sorted keys.
func walkRefs(v any, f func(ref string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, key := range slices.Sorted(maps.Keys(v)) {
			child := v[key]
			if s, ok := child.(string); ok && key == "$ref" {
				f(s)
				continue
			}
			if m, ok := child.(map[string]any); ok && key == "mapping" {
				for _, k := range slices.Sorted(maps.Keys(m)) {
					if s, ok := m[k].(string); ok && strings.HasPrefix(s, componentsRef) {
						f(s)
					}
				}
				continue
			}
			walkRefs(child, f)
		}
	case []any:
		for _, child := range v {
			walkRefs(child, f)
		}
	}
}

// splitComponentRef splits "#/components/<section>/<name>[/...]" into its
// section and (JSON-pointer-unescaped) name.
func splitComponentRef(ref string) (section, name string, ok bool) {
	rest, ok := strings.CutPrefix(ref, componentsRef)
	if !ok {
		return "", "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	return parts[0], unescape.Replace(parts[1]), true
}

// isOperationKey reports whether a path item's key is an HTTP method.
func isOperationKey(key string) bool {
	switch key {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

func looksLikeJSONObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}
