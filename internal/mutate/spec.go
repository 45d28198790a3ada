package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A specEdit changes one thing in a copy of the spec's YAML tree.
type specEdit func(root *yaml.Node) error

// specMutant is a catalogue entry before it is applied: its name, its
// category (for the summary) and the edit.
type specMutant struct {
	name     string
	category string
	edit     specEdit
}

// Spec mutant categories, in the order the summary lists them.
const (
	catRequired   = "required"
	catBound      = "bound"
	catEnum       = "enum"
	catType       = "type"
	catNullable   = "nullable"
	catDefault    = "default"
	catCombinator = "not/allOf/additionalProperties"
	catServer     = "server"
	catOperation  = "operation"
)

// numericKeywords are the bounds loosened and tightened by one.
var numericKeywords = []string{"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minimum", "maximum"}

// otherType is the type a "type" mutant changes each type to.
var otherType = map[string]string{
	"string": "integer", "integer": "string", "number": "string", "boolean": "string", "array": "object", "object": "array",
}

// parseSpec parses the spec into a YAML document node.
func parseSpec(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse spec: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse spec: not a YAML mapping")
	}
	return &doc, nil
}

// encodeSpec writes a document back as YAML, indented as the spec is.
func encodeSpec(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// apply returns the spec with one mutant's edit applied to a fresh copy.
func (m specMutant) apply(doc *yaml.Node) ([]byte, error) {
	cp := deepCopy(doc)
	if err := m.edit(cp.Content[0]); err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return encodeSpec(cp)
}

func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	cp := *n
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		cp.Content[i] = deepCopy(c)
	}
	return &cp
}

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// set replaces or appends key in a mapping node.
func set(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, scalar(key, "!!str"), value)
}

// del removes key from a mapping node and reports whether it was there.
func del(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

func scalar(value, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// find follows a path of mapping keys and sequence indexes ("[2]") from
// the document's root mapping.
func find(root *yaml.Node, path []string) (*yaml.Node, error) {
	n := root
	for i, seg := range path {
		if strings.HasPrefix(seg, "[") {
			idx, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if err != nil || n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return nil, fmt.Errorf("no %s at %s", seg, strings.Join(path[:i], "."))
			}
			n = n.Content[idx]
			continue
		}
		next := get(n, seg)
		if next == nil {
			return nil, fmt.Errorf("no %q at %s", seg, strings.Join(path[:i], "."))
		}
		n = next
	}
	return n, nil
}

// at makes an edit of the node at path.
func at(path []string, f func(n *yaml.Node) error) specEdit {
	path = append([]string(nil), path...)
	return func(root *yaml.Node) error {
		n, err := find(root, path)
		if err != nil {
			return err
		}
		return f(n)
	}
}

// specMutants generates the catalogue of spec mutants from the spec's own
// structure: every component schema (and every schema inside it, its not
// included), the servers, the operation's responses and its security.
func specMutants(doc *yaml.Node) ([]specMutant, error) {
	root := doc.Content[0]
	var out []specMutant
	add := func(name, category string, edit specEdit) {
		out = append(out, specMutant{name: name, category: category, edit: edit})
	}

	schemas := get(get(root, "components"), "schemas")
	if schemas == nil || schemas.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the spec has no components.schemas")
	}
	for i := 0; i+1 < len(schemas.Content); i += 2 {
		name := schemas.Content[i].Value
		walkSchema(schemas.Content[i+1], []string{"components", "schemas", name}, "schema "+name, add)
	}

	servers := get(root, "servers")
	if servers != nil {
		for i, srv := range servers.Content {
			path := []string{"servers", fmt.Sprintf("[%d]", i)}
			label := fmt.Sprintf("server[%d]", i)
			add(label+".url changed", catServer, at(path, func(n *yaml.Node) error {
				u := get(n, "url")
				if u == nil || !strings.Contains(u.Value, "://") {
					return fmt.Errorf("no url")
				}
				u.Value = strings.Replace(u.Value, "://", "://mutant.", 1)
				return nil
			}))
			vars := get(srv, "variables")
			if vars == nil {
				continue
			}
			for j := 0; j+1 < len(vars.Content); j += 2 {
				vname := vars.Content[j].Value
				vpath := append(append([]string(nil), path...), "variables", vname)
				vlabel := label + ".variables." + vname
				if def := get(vars.Content[j+1], "default"); def != nil {
					add(vlabel+".default changed", catServer, at(vpath, func(n *yaml.Node) error {
						get(n, "default").Value += "-mutant"
						return nil
					}))
				}
				enumMutants(vars.Content[j+1], vpath, vlabel, catServer, add)
			}
		}
	}

	opPath := []string{"paths", "/link-token", "post"}
	op, err := find(root, opPath)
	if err != nil {
		return nil, fmt.Errorf("the spec has no POST /link-token: %w", err)
	}
	if responses := get(op, "responses"); responses != nil {
		for i := 0; i+1 < len(responses.Content); i += 2 {
			status := responses.Content[i].Value
			add("operation response "+status+" removed", catOperation, at(append(opPath, "responses"), func(n *yaml.Node) error {
				if !del(n, status) {
					return fmt.Errorf("no response %s", status)
				}
				return nil
			}))
		}
	}
	if rb := get(op, "requestBody"); rb != nil {
		add("operation requestBody.required flipped", catOperation, at(append(opPath, "requestBody"), func(n *yaml.Node) error {
			if r := get(n, "required"); r != nil && r.Value == "true" {
				set(n, "required", scalar("false", "!!bool"))
			} else {
				set(n, "required", scalar("true", "!!bool"))
			}
			return nil
		}))
	}
	if get(op, "security") != nil {
		add("operation security removed", catOperation, at(opPath, func(n *yaml.Node) error { del(n, "security"); return nil }))
	}
	if get(root, "security") != nil {
		add("document security removed", catOperation, func(n *yaml.Node) error { del(n, "security"); return nil })
	}
	if schemes := get(get(root, "components"), "securitySchemes"); schemes != nil {
		for i := 0; i+1 < len(schemes.Content); i += 2 {
			name := schemes.Content[i].Value
			if get(schemes.Content[i+1], "scheme") == nil {
				continue
			}
			add("securityScheme "+name+".scheme changed", catOperation,
				at([]string{"components", "securitySchemes", name}, func(n *yaml.Node) error {
					get(n, "scheme").Value = map[bool]string{true: "basic", false: "bearer"}[get(n, "scheme").Value != "basic"]
					return nil
				}))
		}
	}

	seen := map[string]bool{}
	for _, m := range out {
		if seen[m.name] {
			return nil, fmt.Errorf("two spec mutants are named %q", m.name)
		}
		seen[m.name] = true
	}
	return out, nil
}

// walkSchema adds the mutants of one schema node and recurses into the
// schemas inside it. A $ref is left alone: its target is mutated where it
// is defined.
func walkSchema(n *yaml.Node, path []string, label string, add func(string, string, specEdit)) {
	if n == nil || n.Kind != yaml.MappingNode || get(n, "$ref") != nil {
		return
	}
	path = append([]string(nil), path...)

	// required: drop each required property, require each optional one.
	if props := get(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		required := map[string]bool{}
		if r := get(n, "required"); r != nil {
			for _, v := range r.Content {
				required[v.Value] = true
			}
		}
		for i := 0; i+1 < len(props.Content); i += 2 {
			prop := props.Content[i].Value
			if required[prop] {
				add(label+".required-"+prop, catRequired, at(path, func(s *yaml.Node) error {
					r := get(s, "required")
					for j, v := range r.Content {
						if v.Value == prop {
							r.Content = append(r.Content[:j], r.Content[j+1:]...)
							break
						}
					}
					if len(r.Content) == 0 {
						del(s, "required")
					}
					return nil
				}))
			} else {
				add(label+".required+"+prop, catRequired, at(path, func(s *yaml.Node) error {
					r := get(s, "required")
					if r == nil {
						r = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
						set(s, "required", r)
					}
					r.Content = append(r.Content, scalar(prop, "!!str"))
					return nil
				}))
			}
		}
	}

	for _, kw := range numericKeywords {
		if v := get(n, kw); v != nil {
			for _, d := range []int{+1, -1} {
				add(fmt.Sprintf("%s.%s%+d", label, kw, d), catBound, at(path, func(s *yaml.Node) error {
					node := get(s, kw)
					x, err := strconv.ParseFloat(node.Value, 64)
					if err != nil {
						return fmt.Errorf("%s is not a number: %q", kw, node.Value)
					}
					node.Value = strconv.FormatFloat(x+float64(d), 'f', -1, 64)
					return nil
				}))
			}
		}
	}

	enumMutants(n, path, label, catEnum, add)

	if t := get(n, "type"); t != nil {
		if other, ok := otherType[t.Value]; ok {
			add(label+".type="+other, catType, at(path, func(s *yaml.Node) error {
				get(s, "type").Value = other
				return nil
			}))
		}
	}
	if get(n, "type") != nil || get(n, "allOf") != nil {
		if nl := get(n, "nullable"); nl != nil && nl.Value == "true" {
			add(label+".nullable=false", catNullable, at(path, func(s *yaml.Node) error {
				del(s, "nullable")
				return nil
			}))
		} else {
			add(label+".nullable=true", catNullable, at(path, func(s *yaml.Node) error {
				set(s, "nullable", scalar("true", "!!bool"))
				return nil
			}))
		}
	}

	if def := get(n, "default"); def != nil && def.Kind == yaml.ScalarNode {
		add(label+".default changed", catDefault, at(path, func(s *yaml.Node) error {
			d := get(s, "default")
			switch d.Tag {
			case "!!bool":
				d.Value = strconv.FormatBool(d.Value != "true")
			case "!!int":
				x, err := strconv.Atoi(d.Value)
				if err != nil {
					return err
				}
				d.Value = strconv.Itoa(x + 1)
			default:
				d.Value += "-mutant"
			}
			return nil
		}))
	}

	for _, kw := range []string{"not", "allOf", "additionalProperties"} {
		if get(n, kw) != nil {
			add(label+"."+kw+" removed", catCombinator, at(path, func(s *yaml.Node) error {
				del(s, kw)
				return nil
			}))
		}
	}

	// The schemas inside this one.
	if props := get(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(props.Content); i += 2 {
			prop := props.Content[i].Value
			walkSchema(props.Content[i+1], append(path, "properties", prop), label+".properties."+prop, add)
		}
	}
	for _, kw := range []string{"items", "not", "additionalProperties"} {
		walkSchema(get(n, kw), append(path, kw), label+"."+kw, add)
	}
	if all := get(n, "allOf"); all != nil {
		for i, s := range all.Content {
			walkSchema(s, append(path, "allOf", fmt.Sprintf("[%d]", i)), fmt.Sprintf("%s.allOf[%d]", label, i), add)
		}
	}
}

// enumMutants removes each value of an enum in turn and adds one value
// outside it.
func enumMutants(n *yaml.Node, path []string, label, category string, add func(string, string, specEdit)) {
	enum := get(n, "enum")
	if enum == nil || enum.Kind != yaml.SequenceNode {
		return
	}
	path = append([]string(nil), path...)
	for i, v := range enum.Content {
		add(fmt.Sprintf("%s.enum-%s", label, v.Value), category, at(path, func(s *yaml.Node) error {
			e := get(s, "enum")
			e.Content = append(e.Content[:i], e.Content[i+1:]...)
			if len(e.Content) == 0 {
				del(s, "enum")
			}
			return nil
		}))
	}
	extra := scalar("mutant", "!!str")
	if len(enum.Content) > 0 {
		switch enum.Content[0].Tag {
		case "!!bool":
			extra = scalar(strconv.FormatBool(enum.Content[0].Value != "true"), "!!bool")
		case "!!int":
			extra = scalar("-12345", "!!int")
		}
	}
	add(fmt.Sprintf("%s.enum+%s", label, extra.Value), category, at(path, func(s *yaml.Node) error {
		e := get(s, "enum")
		e.Content = append(e.Content, extra)
		return nil
	}))
}
