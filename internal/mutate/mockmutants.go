package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// mockMutant is a behaviour of the mock that breaks the spec or the
// mock's documentation. Its id is what hooks/mock_hook.go.txt switches on.
type mockMutant struct {
	name string
	id   string
}

// answerMutants change the real mock's answer after it is written.
var answerMutants = []mockMutant{
	{"mock answers 200 without link_token", "no-link-token"},
	{"mock answers the same link_token every time", "same-link-token"},
	{"mock answers 200 with a Magic Link not asked for", "unasked-magic-link"},
	{"mock answers 200 without the Magic Link asked for", "no-magic-link"},
	{"mock answers 200 without integration_name", "no-integration-name"},
	{"mock answers 403 to a missing key", "403-for-missing-key"},
	{"mock answers 422 to an invalid body", "422-for-invalid-body"},
	{"mock answers 400 without naming the fields", "unnamed-fields"},
	{"mock drops the X-Request-Id header", "no-request-id"},
	{"mock drops the Retry-After header", "no-retry-after"},
	{"mock sends a non-JSON error body", "text-error-body"},
}

// mockMutants is the catalogue of mock mutants: one that accepts a request
// whose only violations are of one rule, for every rule kind the request
// body's schema uses (and the body's decoding and the security), then the
// answer mutants.
func mockMutants(doc *yaml.Node) ([]mockMutant, error) {
	rules, err := requestRules(doc.Content[0])
	if err != nil {
		return nil, err
	}
	var out []mockMutant
	for _, r := range rules {
		out = append(out, mockMutant{name: "mock accepts a request breaking only " + r, id: "accept:" + r})
	}
	return append(out, answerMutants...), nil
}

// requestRules lists the rule names (as contracttest.Violation.Rule spells
// them: kin-openapi's keyword) that the request can break: the keywords of
// its body's schema, followed through $refs, plus "requestBody" (a body that
// is missing, not JSON or of another media type) and "security" when the
// operation needs a key.
func requestRules(root *yaml.Node) ([]string, error) {
	op, err := find(root, []string{"paths", "/link-token", "post"})
	if err != nil {
		return nil, err
	}
	schema, err := find(op, []string{"requestBody", "content", "application/json", "schema"})
	if err != nil {
		return nil, fmt.Errorf("request body schema: %w", err)
	}
	rules := map[string]bool{"requestBody": true}
	if get(op, "security") != nil || get(root, "security") != nil {
		rules["security"] = true
	}
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n == nil || n.Kind != yaml.MappingNode || seen[n] {
			return nil
		}
		seen[n] = true
		if ref := get(n, "$ref"); ref != nil {
			target, err := find(root, strings.Split(strings.TrimPrefix(ref.Value, "#/"), "/"))
			if err != nil {
				return fmt.Errorf("$ref %s: %w", ref.Value, err)
			}
			return walk(target)
		}
		for _, kw := range []string{"required", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "enum", "type", "not", "allOf"} {
			if get(n, kw) != nil {
				rules[kw] = true
			}
		}
		if ap := get(n, "additionalProperties"); ap != nil && ap.Value == "false" {
			rules["properties"] = true // kin-openapi names an unknown property's rule "properties"
		}
		if get(n, "type") != nil {
			if nl := get(n, "nullable"); nl == nil || nl.Value != "true" {
				rules["nullable"] = true // null where the schema is not nullable
			}
		}
		if props := get(n, "properties"); props != nil {
			for i := 1; i < len(props.Content); i += 2 {
				if err := walk(props.Content[i]); err != nil {
					return err
				}
			}
		}
		for _, kw := range []string{"items", "not", "additionalProperties"} {
			if err := walk(get(n, kw)); err != nil {
				return err
			}
		}
		if all := get(n, "allOf"); all != nil {
			for _, s := range all.Content {
				if err := walk(s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(schema); err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(rules)), nil
}
