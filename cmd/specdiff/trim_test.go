package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrimmedAndWholeLoadsAgree runs upstream on each fixture twice, once
// trimming JSON documents first (what specdiff does) and once loading them
// whole (what it did before): the exit code, the report and the error must
// be the same.
func TestTrimmedAndWholeLoadsAgree(t *testing.T) {
	t.Parallel()
	large := filepath.Join(t.TempDir(), "large.json")
	require.NoError(t, os.WriteFile(large, largeDocument(t, 3000), 0o600))
	untrimmable := filepath.Join(t.TempDir(), "untrimmable.json")
	require.NoError(t, os.WriteFile(untrimmable, untrimmableDocument(t, 10), 0o600))
	cases := []struct {
		name, spec, path string
		trims            bool // trimJSON handles it; else both load it whole
	}{
		{"identical", "testdata/identical.json", "", true},
		{"new optional field", "testdata/new-optional-field.json", "", true},
		{"new required field", "testdata/new-required-field.json", "", true},
		{"removed enum value", "testdata/removed-enum-value.json", "", true},
		{"bundle, hris", "testdata/two-link-tokens.json", "/api/hris/v1/link-token", true},
		{"bundle, ats", "testdata/two-link-tokens.json", "/api/ats/v1/link-token", true},
		{"large", large, "", true},
		{"Merge's mktg document", copyName("mktg"), "", true},
		{"Merge's hris document", copyName("hris"), "", true},
		{"bundle without -path", "testdata/two-link-tokens.json", "", false},
		{"a $ref outside the components, small", untrimmable, "", false},
		{"no operation", "testdata/no-operation.json", "", false},
		{"not OpenAPI", "testdata/not-openapi.json", "", false},
		{"YAML", "testdata/ours.yaml", "", false},
		{"broken YAML", "testdata/broken.yaml", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(tc.spec)
			require.NoError(t, err)
			var ps picks
			if tc.path != "" {
				ps = picks{tc.path}
			}
			_, _, err = trimJSON(data, tc.spec, linkTokenOnly, ps)
			assert.Equal(t, tc.trims, err == nil, "trimJSON: %v", err)
			for _, format := range upstreamFormats {
				run := func(whole bool) (int, string, string) {
					var out bytes.Buffer
					u := upstreamRun{specs: []string{tc.spec}, paths: ps, ours: "testdata/ours.yaml", format: format, whole: whole}
					code, err := u.run(&out)
					if err != nil {
						return code, out.String(), err.Error()
					}
					return code, out.String(), ""
				}
				code, out, errText := run(false)
				wholeCode, wholeOut, wholeErrText := run(true)
				assert.Equal(t, wholeCode, code, format)
				assert.Equal(t, wholeOut, out, format)
				assert.Equal(t, wholeErrText, errText, format)
			}
		})
	}
}

func TestTrimJSON(t *testing.T) {
	t.Parallel()
	// A document whose /link-token references a chain of components, a
	// parameter and a security scheme, next to components it does not use.
	doc := func(edit func(doc map[string]any)) []byte {
		d := map[string]any{
			"openapi": "3.0.3",
			"info":    map[string]any{"title": "t", "version": "1"},
			"servers": []any{map[string]any{"url": "https://api.merge.dev/api/mktg/v1"}},
			"paths": map[string]any{
				"/link-token": map[string]any{
					"parameters": []any{map[string]any{"$ref": "#/components/parameters/Trace"}},
					"post": map[string]any{
						"security":    []any{map[string]any{"tokenAuth": []any{}}},
						"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Request"}}}},
						"responses":   map[string]any{"200": map[string]any{"description": "", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/A~1B"}}}}},
					},
				},
				"/other": map[string]any{"get": map[string]any{"responses": map[string]any{"200": map[string]any{"$ref": "#/components/responses/Unused"}}}},
			},
			"components": map[string]any{
				"schemas": map[string]any{
					"Request": map[string]any{"type": "object", "properties": map[string]any{
						"categories": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Categories"}},
						"expiry":     map[string]any{"type": "integer", "maximum": json.Number("10080.0")},
					}},
					"Categories": map[string]any{"type": "string", "enum": []any{"hris", "ats"}},
					"A/B":        map[string]any{"type": "object"},
					"Unused":     map[string]any{"type": "string"},
				},
				"parameters":      map[string]any{"Trace": map[string]any{"name": "X-Trace", "in": "header", "schema": map[string]any{"type": "string"}}},
				"responses":       map[string]any{"Unused": map[string]any{"description": ""}},
				"securitySchemes": map[string]any{"tokenAuth": map[string]any{"type": "http", "scheme": "bearer"}, "other": map[string]any{"type": "http", "scheme": "basic"}},
			},
		}
		if edit != nil {
			edit(d)
		}
		data, err := json.Marshal(d)
		require.NoError(t, err)
		return data
	}
	schemas := func(d map[string]any) map[string]any {
		return d["components"].(map[string]any)["schemas"].(map[string]any)
	}

	t.Run("keeps the operation and what it references", func(t *testing.T) {
		t.Parallel()
		out, paths, err := trimJSON(doc(nil), "doc.json", linkTokenOnly, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"/link-token"}, paths)
		var got map[string]any
		require.NoError(t, json.Unmarshal(out, &got))
		assert.ElementsMatch(t, []string{"openapi", "info", "servers", "paths", "components"}, keys(got))
		assert.ElementsMatch(t, []string{"/link-token"}, keys(got["paths"].(map[string]any)))
		components := map[string][]string{}
		for section, v := range got["components"].(map[string]any) {
			components[section] = keys(v.(map[string]any))
		}
		assert.Equal(t, map[string][]string{
			"schemas":         {"A/B", "Categories", "Request"},
			"parameters":      {"Trace"},
			"securitySchemes": {"tokenAuth"},
		}, sortedValues(components))
		assert.Contains(t, string(out), `"maximum": 10080.0`, "numbers keep their text")
		_, err = loadSpec(out, "trimmed.json")
		assert.NoError(t, err, "kin-openapi loads the trimmed document")
	})

	notTrimmable := []struct {
		name   string
		data   []byte
		reason string // what the error says after "cannot be trimmed to our operations: "
	}{
		{"YAML", []byte("openapi: 3.0.3\n"), "it is not a JSON object (YAML is never trimmed)"},
		{"syntax error after the operation", append(doc(nil)[:len(doc(nil))-1], []byte(`,"x":}`)...), "it is not valid JSON"},
		{"OpenAPI 2", doc(func(d map[string]any) { d["openapi"] = "2.0" }), `its openapi member is "2.0", not a 3.x version`},
		{"a reference outside the components", doc(func(d map[string]any) {
			schemas(d)["Categories"] = map[string]any{"$ref": "#/paths/~1other"}
		}), `$ref "#/paths/~1other" does not point into #/components/`},
		{"an external reference", doc(func(d map[string]any) {
			schemas(d)["Categories"] = map[string]any{"$ref": "other.json#/components/schemas/X"}
		}), `$ref "other.json#/components/schemas/X" does not point into #/components/`},
		{"a reference to a missing component", doc(func(d map[string]any) {
			delete(schemas(d), "Categories")
		}), `$ref "#/components/schemas/Categories" names a component the document does not have`},
		{"a path item that is a reference", doc(func(d map[string]any) {
			d["paths"].(map[string]any)["/link-token"] = map[string]any{"$ref": "#/components/pathItems/X"}
		}), "the path item /link-token is a $ref"},
		{"a key given twice in the document", bytes.Replace(doc(nil), []byte(`"openapi":"3.0.3"`), []byte(`"openapi":"3.0.3","openapi":"3.0.3"`), 1),
			`the document has the key "openapi" twice`},
		{"a key given twice in paths", bytes.Replace(doc(nil), []byte(`"paths":{`), []byte(`"paths":{"/other":{},`), 1),
			`paths has the key "/other" twice`},
		{"a key given twice in the path item", bytes.Replace(doc(nil), []byte(`"/link-token":{`), []byte(`"/link-token":{"post":null,`), 1),
			`the path item /link-token has the key "post" twice`},
		{"a key given twice in the schemas", bytes.Replace(doc(nil), []byte(`"schemas":{`), []byte(`"schemas":{"Unused":{},`), 1),
			`components/schemas has the key "Unused" twice`},
		{"a key given twice, escaped once", bytes.Replace(doc(nil), []byte(`"openapi":"3.0.3"`), []byte(`"\u006fpenapi":"3.0.3","openapi":"3.0.3"`), 1),
			`the document has the key "openapi" twice`},
		{"paths not an object", doc(func(d map[string]any) { d["paths"] = []any{} }), "paths is not an object"},
		{"a long reference, shown cut", doc(func(d map[string]any) {
			schemas(d)["Categories"] = map[string]any{"$ref": "#/paths/" + strings.Repeat("x", 1000)}
		}), `$ref "#/paths/` + strings.Repeat("x", maxShownBytes-len("#/paths/")-len(cutMark)) + cutMark + `" does not point into #/components/`},
		{"a reference with control characters, shown clean", doc(func(d map[string]any) {
			schemas(d)["Categories"] = map[string]any{"$ref": "#/paths/\x1b[31mred\x00"}
		}), `$ref "#/paths/[31mred" does not point into #/components/`},
	}
	for _, tc := range notTrimmable {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := trimJSON(tc.data, "doc.json", linkTokenOnly, nil)
			require.ErrorIs(t, err, errNotTrimmable)
			assert.EqualError(t, err, "cannot be trimmed to our operations: "+tc.reason,
				"trimJSON must say why it cannot trim the document, naming the $ref or key, shown (bounded and cleaned)")
		})
	}

	t.Run("keeps our operations, and only them, below a prefix", func(t *testing.T) {
		t.Parallel()
		data := doc(func(d map[string]any) {
			paths := d["paths"].(map[string]any)
			item := paths["/link-token"].(map[string]any)
			delete(paths, "/link-token")
			// The GET beside our POST is not ours: left out with what only it references.
			item["get"] = map[string]any{"responses": map[string]any{"200": map[string]any{"$ref": "#/components/responses/Unused"}}}
			paths["/hris/v1/link-token"] = item
			paths["/hris/v1/account-token/{token}"] = map[string]any{
				"get":    map[string]any{"responses": map[string]any{"200": map[string]any{"description": "", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Categories"}}}}}},
				"delete": map[string]any{"responses": map[string]any{"200": map[string]any{"$ref": "#/components/responses/Unused"}}},
			}
		})
		ours := []operationPattern{newPattern("get", "/account-token/{public_token}"), newPattern("post", "/link-token"), newPattern("get", "/linked-accounts")}
		out, paths, err := trimJSON(data, "doc.json", ours, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"/hris/v1/account-token/{token}", "/hris/v1/link-token", ""}, paths,
			"each operation found by the last segments of its path, parameters by position; one the document lacks is \"\"")
		var got struct {
			Paths      map[string]map[string]any `json:"paths"`
			Components map[string]map[string]any `json:"components"`
		}
		require.NoError(t, json.Unmarshal(out, &got))
		assert.ElementsMatch(t, []string{"get"}, keys(got.Paths["/hris/v1/account-token/{token}"]))
		assert.ElementsMatch(t, []string{"parameters", "post"}, keys(got.Paths["/hris/v1/link-token"]), "the path item keeps its parameters")
		assert.NotContains(t, got.Components, "responses", "what only the operations left out reference is left out")
		_, err = loadSpec(out, "trimmed.json")
		assert.NoError(t, err, "kin-openapi loads the trimmed document")
	})

	t.Run("no operation", func(t *testing.T) {
		t.Parallel()
		_, _, err := trimJSON(doc(func(d map[string]any) { delete(d["paths"].(map[string]any), "/link-token") }), "doc.json", linkTokenOnly, nil)
		assert.EqualError(t, err, "doc.json has none of our operations (POST /link-token): is it one of Merge's category documents?")
	})
}

// linkTokenOnly is the operations of testdata/ours.yaml.
var linkTokenOnly = []operationPattern{newPattern("post", "/link-token")}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedValues(m map[string][]string) map[string][]string {
	for _, v := range m {
		slices.Sort(v)
	}
	return m
}

// FuzzObjectMembers checks objectMembers (gjson) against encoding/json: on
// any valid JSON object, it finds the members json.Unmarshal finds, with
// the same bytes (or refuses a repeated key, which json.Unmarshal takes the
// last of).
func FuzzObjectMembers(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { "a" : 1 } `, `{"a":"}","b":["]",{"c":"\"{"}],"d":null,"e":true,"f":-1.5e3}`,
		`{"\u0061\/b":{"x":[1,2,[3]]},"":""}`, `{"a":1,"a":2}`, `{"nested":{"a":{"b":{"c":[{}]}}}}`,
		`{"s":"back\\slash\\"}`, `{"a":1,"\u0061":2}`, `null`, ` {"a":{}} `, `{"\ud800":1,"\ufffd":2}`, "{\"\xff\":1,\"\xfe\":2}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil || want == nil {
			return // not an object (json.Unmarshal takes null for a nil map)
		}
		got, err := objectMembers(string(data), "the object")
		if err != nil {
			require.ErrorIs(t, err, errNotTrimmable)
			require.ErrorContains(t, err, "twice")
			require.Greater(t, countKeys(t, data), len(want), "objectMembers may refuse an object only for a repeated key")
			return
		}
		require.Len(t, got, len(want), "objectMembers must find each member encoding/json finds")
		for k, v := range want {
			require.Contains(t, got, k, "objectMembers must decode keys as encoding/json does")
			var compactGot, compactWant bytes.Buffer
			require.NoError(t, json.Compact(&compactGot, []byte(got[k])))
			require.NoError(t, json.Compact(&compactWant, v))
			require.Equal(t, compactWant.String(), compactGot.String(), "member %q: objectMembers must give the value's bytes", k)
		}
	})
}

// countKeys counts the top-level keys of a JSON object, repeats included.
func countKeys(t *testing.T, data []byte) int {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	_, err := dec.Token()
	require.NoError(t, err)
	n := 0
	for dec.More() {
		_, err := dec.Token() // the key
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		n++
	}
	return n
}

func TestObjectMembersRefusesWhatIsNotAnObject(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, input string }{
		{"missing", ``},
		{"array", `[]`},
		{"array of an object", `[{"a":1}]`},
		{"string", `"{}"`},
		{"number", `1`},
		{"null", `null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := objectMembers(tc.input, "the value")
			assert.ErrorIs(t, err, errNotTrimmable)
			assert.EqualError(t, err, "cannot be trimmed to our operations: the value is not an object")
		})
	}
}
