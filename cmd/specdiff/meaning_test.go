package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What "specdiff upstream" reports is what the documents mean. These tests
// compare testdata/ours-two.yaml (two operations; a closed enum wrapped in
// an allOf, open enums written anyOf [enum, string]) with small documents
// written the ways Merge's are: paths below a repeated /<category>/v1, a
// path parameter of another name, open enums written oneOf in either order,
// readOnly response properties, Fern's extensions, an operation missing.

const oursTwo = "testdata/ours-two.yaml"

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func jsonBody(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func ok(schema any) map[string]any {
	return map[string]any{"200": map[string]any{"description": "", "content": jsonBody(schema)}}
}

// mergeLikeDocument is a document of the category, whose paths repeat its
// servers' /<category>/v1 when prefixed; language is open when openLanguage,
// else an allOf wrapper, nullable either way; without accountToken it has
// no GET /account-token.
func mergeLikeDocument(category string, prefixed, openLanguage, accountToken bool) map[string]any {
	prefix := ""
	if prefixed {
		prefix = "/" + category + "/v1"
	}
	language := map[string]any{"allOf": []any{ref("LanguageEnum")}, "nullable": true}
	if openLanguage {
		language = map[string]any{"oneOf": []any{ref("LanguageEnum"), map[string]any{"type": "string"}}, "nullable": true}
	}
	paths := map[string]any{
		prefix + "/link-token": map[string]any{"post": map[string]any{
			"operationId": "link_token_create", "x-fern-sdk-method-name": "create",
			"requestBody": map[string]any{"required": true, "content": map[string]any{
				"application/json":    map[string]any{"schema": ref("EndUserDetailsRequest")},
				"multipart/form-data": map[string]any{"schema": ref("EndUserDetailsRequest")},
			}},
			"responses": ok(ref("LinkToken")),
		}},
		prefix + "/account-details": map[string]any{"get": map[string]any{"responses": ok(map[string]any{"type": "object"})}},
	}
	if accountToken {
		paths[prefix+"/account-token/{token}"] = map[string]any{"get": map[string]any{
			"operationId": "account_token_retrieve",
			"parameters":  []any{map[string]any{"name": "token", "in": "path", "required": true, "schema": map[string]any{"type": "string", "minLength": 1}}},
			"responses":   ok(ref("AccountToken")),
		}}
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Merge " + strings.ToUpper(category) + " API", "version": "1.0"},
		"servers": []any{
			map[string]any{"url": "https://api.merge.dev/api/" + category + "/v1", "x-fern-server-name": "Production"},
			map[string]any{"url": "https://api-eu.merge.dev/api/" + category + "/v1", "x-fern-server-name": "ProductionEU"},
		},
		"paths": paths,
		"components": map[string]any{"schemas": map[string]any{
			"EndUserDetailsRequest": map[string]any{"type": "object", "required": []any{"categories"}, "properties": map[string]any{
				"categories": map[string]any{"type": "array", "items": ref("CategoriesEnum")},
				"language":   language,
				"region":     ref("RegionEnum"),
			}},
			"CategoriesEnum": map[string]any{"type": "string", "enum": []any{"hris", "ats"}, "x-fern-enum": map[string]any{"hris": map[string]any{"name": "HRIS"}}},
			"LanguageEnum":   map[string]any{"type": "string", "enum": []any{"en", "de"}},
			"RegionEnum":     map[string]any{"type": "string", "enum": []any{"us", "eu"}},
			"LinkToken":      map[string]any{"type": "object", "required": []any{"link_token"}, "properties": map[string]any{"link_token": map[string]any{"type": "string"}}},
			"AccountToken": map[string]any{"type": "object", "required": []any{"account_token"}, "properties": map[string]any{
				"account_token": map[string]any{"type": "string"},
				"categories":    map[string]any{"type": "array", "readOnly": true, "items": ref("CategoriesEnum")},
				// The open enum with its members the other way round.
				"status": map[string]any{"oneOf": []any{map[string]any{"type": "string"}, ref("StatusEnum")}},
			}},
			"StatusEnum": map[string]any{"type": "string", "enum": []any{"COMPLETE", "INCOMPLETE"}},
		}},
	}
}

func writeDocument(t *testing.T, dir, name string, doc any) string {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// findingLines is a cell as "<group> [<id>] <text>" lines.
func findingLines(c cell) []string {
	var out []string
	for _, g := range []string{groupBreaking, groupNarrower, groupWider} {
		for _, f := range c.group(g) {
			out = append(out, g+" ["+f.ID+"] "+f.Text)
		}
	}
	return out
}

func TestUpstreamReadsMeaning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hris := writeDocument(t, dir, "hris.json", mergeLikeDocument("hris", true, true, true))
	mktg := writeDocument(t, dir, "mktg.json", mergeLikeDocument("mktg", false, false, false))

	const (
		region    = "breaking [request-property-became-enum] the request property `region` is a closed enum (`us`, `eu`) in Merge's document, an open enum (`us`, `eu`, or any other string) in ours"
		language  = "narrower [request-property-became-not-enum] the request property `language` is an open enum (`en`, `de`, or any other string) in Merge's document, a closed enum (`en`, `de`) in ours"
		nullable  = "narrower [request-property-became-nullable] the request property `language` became nullable"
		status    = "breaking [response-property-became-not-enum] the response property `status` is an open enum (`COMPLETE`, `INCOMPLETE`, or any other string) in Merge's document, a closed enum (`COMPLETE`, `INCOMPLETE`) in ours"
		categores = "wider [response-property-became-enum] the response property `categories/items` is a closed enum (`hris`, `ats`) in Merge's document, an open enum (`hris`, `ats`, or any other string) in ours"
	)
	code, out, errOut := runCmd("upstream", "-ours", oursTwo, "-spec", mktg, "-spec", hris, "-format", "json")
	require.Equal(t, exitChanges, code, "stderr: %s", errOut)
	var m matrix
	require.NoError(t, json.Unmarshal([]byte(out), &m))

	require.Len(t, m.Documents, 2)
	assert.Equal(t, documentInfo{Category: "hris", Source: hris, Title: "Merge HRIS API", Prefix: "/hris/v1", RepeatsServers: true}, m.Documents[0],
		"named by the category of its paths, which repeat its servers' path")
	assert.Equal(t, documentInfo{Category: "mktg", Source: mktg, Title: "Merge MKTG API"}, m.Documents[1], "named by its servers' category")

	require.Len(t, m.Operations, 2)
	get, post := m.Operations[0], m.Operations[1]
	assert.Equal(t, "GET /account-token/{public_token}", get.name(), "operations sorted by path")
	assert.Equal(t, "exchangePublicToken", get.OperationID)
	assert.Equal(t, "POST /link-token", post.name())

	require.Len(t, get.Cells, 2)
	assert.Equal(t, "/hris/v1/account-token/{token}", get.Cells[0].FoundAt, "matched by its last segments, the parameter by position")
	assert.Equal(t, []string{status, categores}, findingLines(get.Cells[0]),
		"the parameter, named otherwise, is the same; readOnly in a response constrains nothing; open enums are compared as what they accept")
	assert.True(t, get.Cells[1].Absent, "mktg has no GET /account-token: reported as absent")
	assert.Empty(t, findingLines(get.Cells[1]))

	require.Len(t, post.Cells, 2)
	assert.Equal(t, "/hris/v1/link-token", post.Cells[0].FoundAt)
	assert.Equal(t, []string{region, language, nullable}, findingLines(post.Cells[0]),
		"an allOf wrapper is the schema it wraps; Fern's extensions and the multipart body are left out")
	assert.Equal(t, "/link-token", post.Cells[1].FoundAt)
	assert.Equal(t, []string{region, nullable}, findingLines(post.Cells[1]))

	var disagreements []string
	for _, d := range m.Disagreements {
		disagreements = append(disagreements, d.Operation+" "+d.Group+" "+d.Text+" in "+strings.Join(d.In, ",")+" not in "+strings.Join(d.NotIn, ","))
	}
	assert.Equal(t, []string{
		"GET /account-token/{public_token} absent the operation is not in every document in hris not in mktg",
		"POST /link-token narrower " + strings.SplitN(language, "] ", 2)[1] + " in hris not in mktg",
	}, disagreements, "where the categories disagree: an operation some lack, a difference some hold")
	assert.Equal(t, summary{Operations: 2, Documents: 2, Breaking: 3, Narrower: 3, Wider: 1, Absent: 1, Disagreements: 2}, m.Summary)

	// The same as text.
	code, text, _ := runCmd("upstream", "-ours", oursTwo, "-spec", mktg, "-spec", hris)
	require.Equal(t, exitChanges, code)
	for _, want := range []string{
		"testdata/ours-two.yaml against 2 documents (hris, mktg), 2 operations: 3 breaking, 3 narrower, 1 wider, 1 absent; the categories disagree on 2\n",
		"  hris             1         0      1  /hris/v1/account-token/{token}\n",
		"  mktg             -         -      -  not in this document\n",
		"\n  mktg:\n    not in this document\n",
		"\nwhere the categories disagree:\n  GET /account-token/{public_token}: the operation is not in every document\n      in hris; not in mktg\n",
	} {
		assert.Contains(t, text, want)
	}
}

func TestUpstreamDocumentsByDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeDocument(t, dir, "b-hris.json", mergeLikeDocument("hris", true, true, true))
	writeDocument(t, dir, "a-ats.json", mergeLikeDocument("ats", true, true, true))
	writeDocument(t, dir, "c-hris-again.json", mergeLikeDocument("hris", false, true, true))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a document"), 0o600))
	none := writeDocument(t, t.TempDir(), "none.json", map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": "t", "version": "1"},
		"paths": map[string]any{"/account-details": map[string]any{"get": map[string]any{"responses": ok(map[string]any{"type": "object"})}}}})

	cases := []struct {
		name       string
		args       []string
		code       int
		categories []string // the documents' names, when the code is not 2
		err        string   // stderr, when it is
	}{
		{"a directory: its documents, in order; two of one category told apart by file", []string{"-spec", dir}, exitChanges,
			[]string{"ats", "hris", "hris (c-hris-again)"}, ""},
		{"a directory and a file", []string{"-spec", dir, "-spec", oursTwo}, exitChanges,
			[]string{"ats", "hris", "hris (c-hris-again)", "ours-two"}, ""},
		{"the same file twice", []string{"-spec", oursTwo, "-spec", "./" + oursTwo}, exitBadInput, nil,
			"specdiff: -spec names ./testdata/ours-two.yaml twice\n"},
		{"a document without our operations", []string{"-spec", dir, "-spec", none}, exitBadInput, nil,
			"specdiff: " + none + " has none of our operations (GET /account-token/{public_token}, POST /link-token): is it one of Merge's category documents?\n"},
		{"a directory without documents", []string{"-spec", "testdata/fuzz"}, exitBadInput, nil,
			"specdiff: -spec testdata/fuzz is a directory with no .json, .yaml or .yml document\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Every document's region and status break our callers (see
			// TestUpstreamReadsMeaning): 1 unless the input is bad.
			code, out, errOut := runCmd(append([]string{"upstream", "-ours", oursTwo, "-format", "json"}, tc.args...)...)
			require.Equal(t, tc.code, code, "stdout: %.300s\nstderr: %s", out, errOut)
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Equal(t, tc.err, errOut)
				return
			}
			var m matrix
			require.NoError(t, json.Unmarshal([]byte(out), &m))
			var got []string
			for _, d := range m.Documents {
				got = append(got, d.Category)
			}
			assert.Equal(t, tc.categories, got, "documents are sorted by category, each named once")
		})
	}
}

// TestOurSpecAgainstItself: every operation found, nothing different, in
// every format.
func TestOurSpecAgainstItself(t *testing.T) {
	t.Parallel()
	nothing := map[string]string{
		"text":     "0 breaking, 0 narrower, 0 wider, 0 absent; the categories disagree on 0\n",
		"json":     `"breaking": 0,`,
		"markdown": "**0 breaking**, 0 narrower, 0 wider, 0 absent",
		"github":   "0 breaking, 0 narrower, 0 wider, 0 absent",
	}
	for _, format := range upstreamFormats {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("upstream", "-ours", oursTwo, "-spec", oursTwo, "-format", format)
			require.Equal(t, exitOK, code, "stderr: %s", errOut)
			assert.NotContains(t, out, "::error")
			assert.NotContains(t, out, "::warning")
			assert.Contains(t, out, nothing[format])
		})
	}
}
