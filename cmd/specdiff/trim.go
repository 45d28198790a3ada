package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Trimming a JSON document before kin-openapi loads it. kin-openapi parses
// JSON through its YAML parser, which takes seconds and gigabytes on a
// document of a few megabytes; encoding/json finds the link-token operation
// and what it references in a small fraction of that, and kin-openapi then
// loads a document of a few kilobytes. YAML documents are loaded whole.
//
// The trimmed document keeps openapi, info, servers, the chosen path item
// and every component it references, transitively: schemas, parameters,
// responses and the rest through "$ref", security schemes through the
// operations' security requirements. Values are copied byte for byte
// (json.RawMessage), never decoded and re-encoded, so numbers keep their
// text.

// errNotTrimmable means the document is not one trimJSON can cut down
// faithfully: not a JSON object, not OpenAPI 3, a "$ref" outside
// #/components/ or to a component that is missing, a path item that is
// itself a "$ref". The caller then loads the whole document, so every
// problem is reported by kin-openapi as before.
var errNotTrimmable = errors.New("not trimmable")

const componentsRef = "#/components/"

// trimJSON returns the link-token operation's part of a JSON document (see
// above) and the path choosePath picked. An error other than
// errNotTrimmable is choosePath's: no operation, or several.
func trimJSON(data []byte, name, want string) ([]byte, string, error) {
	if !looksLikeJSONObject(data) || !json.Valid(data) {
		return nil, "", errNotTrimmable
	}
	top, err := objectMembers(data)
	if err != nil {
		return nil, "", errNotTrimmable
	}
	var version string
	if json.Unmarshal(top["openapi"], &version) != nil || !strings.HasPrefix(version, "3.") {
		return nil, "", errNotTrimmable
	}
	paths, err := objectMembers(top["paths"])
	if err != nil {
		return nil, "", errNotTrimmable
	}
	// Only paths that could be chosen are looked into.
	items := map[string]map[string][]byte{}
	var posts []string
	for path, raw := range paths {
		if path != want && !strings.HasSuffix(path, operationPath) {
			continue
		}
		item, err := objectMembers(raw)
		if err != nil {
			return nil, "", errNotTrimmable
		}
		if _, ok := item["$ref"]; ok {
			return nil, "", errNotTrimmable
		}
		if post, ok := item["post"]; ok && string(post) != "null" {
			items[path] = item
			posts = append(posts, path)
		}
	}
	path, err := choosePath(name, posts, want)
	if err != nil {
		return nil, "", err
	}
	components, err := referencedComponents(top["components"], items[path])
	if err != nil {
		return nil, "", err
	}
	doc := trimmedDocument{
		OpenAPI:    top["openapi"],
		Info:       top["info"],
		Servers:    top["servers"],
		Paths:      map[string]json.RawMessage{path: paths[path]},
		Components: components,
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("trim %s: %w", name, err)
	}
	return append(out, '\n'), path, nil
}

// trimmedDocument is what trimJSON keeps, in the order a reader expects.
type trimmedDocument struct {
	OpenAPI    json.RawMessage                       `json:"openapi"`
	Info       json.RawMessage                       `json:"info,omitempty"`
	Servers    json.RawMessage                       `json:"servers,omitempty"`
	Paths      map[string]json.RawMessage            `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components,omitempty"`
}

// referencedComponents collects the components a path item references,
// transitively, by section ("schemas", "parameters", ...) and name.
func referencedComponents(rawComponents []byte, item map[string][]byte) (map[string]map[string]json.RawMessage, error) {
	var sections map[string][]byte
	if rawComponents != nil {
		var err error
		if sections, err = objectMembers(rawComponents); err != nil {
			return nil, errNotTrimmable
		}
	}
	available := map[string]map[string][]byte{} // the sections looked into so far
	section := func(name string) (map[string][]byte, error) {
		if s, ok := available[name]; ok {
			return s, nil
		}
		var s map[string][]byte
		if raw, ok := sections[name]; ok {
			var err error
			if s, err = objectMembers(raw); err != nil {
				return nil, errNotTrimmable
			}
		}
		available[name] = s
		return s, nil
	}

	found := map[string]map[string]json.RawMessage{}
	var queue [][]byte
	add := func(sectionName, name string) error {
		if _, ok := found[sectionName][name]; ok {
			return nil
		}
		s, err := section(sectionName)
		if err != nil {
			return err
		}
		raw, ok := s[name]
		if !ok {
			return errNotTrimmable
		}
		if found[sectionName] == nil {
			found[sectionName] = map[string]json.RawMessage{}
		}
		found[sectionName][name] = raw
		queue = append(queue, raw)
		return nil
	}

	for method, raw := range item {
		queue = append(queue, raw)
		if !isOperationKey(method) {
			continue
		}
		// Security schemes are named, not referenced.
		var op struct {
			Security []map[string]json.RawMessage `json:"security"`
		}
		if json.Unmarshal(raw, &op) != nil {
			return nil, errNotTrimmable
		}
		schemes, err := section("securitySchemes")
		if err != nil {
			return nil, err
		}
		for _, requirement := range op.Security {
			for scheme := range requirement {
				// A scheme the document lacks is left out: kin-openapi
				// does not resolve security requirements when loading.
				if _, ok := schemes[scheme]; ok {
					if err := add("securitySchemes", scheme); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	for len(queue) > 0 {
		raw := queue[0]
		queue = queue[1:]
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return nil, errNotTrimmable
		}
		var walkErr error
		walkRefs(v, func(ref string) {
			if walkErr != nil {
				return
			}
			sectionName, name, ok := splitComponentRef(ref)
			if !ok {
				walkErr = errNotTrimmable
				return
			}
			walkErr = add(sectionName, name)
		})
		if walkErr != nil {
			return nil, walkErr
		}
	}
	return found, nil
}

// walkRefs calls f with the value of every "$ref" key holding a string,
// and with every string of a discriminator's mapping that points into
// #/components/.
func walkRefs(v any, f func(ref string)) {
	switch v := v.(type) {
	case map[string]any:
		for key, child := range v {
			if s, ok := child.(string); ok && key == "$ref" {
				f(s)
				continue
			}
			if m, ok := child.(map[string]any); ok && key == "mapping" {
				for _, target := range m {
					if s, ok := target.(string); ok && strings.HasPrefix(s, componentsRef) {
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
