package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpstreamOperationChoice runs upstream on a bundle holding two
// category documents' link-token operations: the hris one is the same as
// ours, the ats one requires one more field.
func TestUpstreamOperationChoice(t *testing.T) {
	t.Parallel()
	const bundle = "testdata/two-link-tokens.json"
	// The same bundle with a /link-token of its own, which needs no -path.
	withExact := filepath.Join(t.TempDir(), "with-exact.json")
	writeJSON(t, withExact, func(doc map[string]any) {
		paths := doc["paths"].(map[string]any)
		paths["/link-token"] = paths["/api/hris/v1/link-token"]
	})
	cases := []struct {
		name  string
		spec  string
		path  string
		code  int
		want  string // all of stderr when the code is 2, else the category of the document
		found string // the path the report says it compared
	}{
		{"several candidates and no -path", bundle, "", exitBadInput,
			"specdiff: " + bundle + " has 2 POST /link-token operations, choose one with -path: /api/ats/v1/link-token, /api/hris/v1/link-token\n", ""},
		{"-path picks hris", bundle, "/api/hris/v1/link-token", exitOK, "hris", "/api/hris/v1/link-token"},
		{"-path picks ats", bundle, "/api/ats/v1/link-token", exitChanges, "ats", "/api/ats/v1/link-token"},
		{"-path not in the document", bundle, "/api/crm/v1/link-token", exitBadInput,
			"specdiff: " + bundle + " has no POST /api/crm/v1/link-token operation; POST /link-token is at /api/ats/v1/link-token, /api/hris/v1/link-token\n", ""},
		{"-path not absolute", bundle, "api/hris/v1/link-token", exitBadInput,
			`specdiff: -path "api/hris/v1/link-token" must start with /; usage: ` + upstreamSynopsis + "\n", ""},
		{"exact /link-token wins", withExact, "", exitOK, "mktg", "/link-token"},
		{"-path over the exact one", withExact, "/api/ats/v1/link-token", exitChanges, "ats", "/api/ats/v1/link-token"},
		{"one candidate", "testdata/identical.json", "", exitOK, "mktg", "/link-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"upstream", "-spec", tc.spec, "-ours", "testdata/ours.yaml", "-format", "json"}
			if tc.path != "" {
				args = append(args, "-path", tc.path)
			}
			code, out, errOut := runCmd(args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Equal(t, tc.want, errOut)
				return
			}
			var m matrix
			require.NoError(t, json.Unmarshal([]byte(out), &m))
			require.Len(t, m.Operations, 1)
			require.Len(t, m.Operations[0].Cells, 1)
			c := m.Operations[0].Cells[0]
			assert.Equal(t, tc.found, c.FoundAt, "the path compared")
			assert.Equal(t, tc.want, c.Category, "a bundle's document is named by the category of the path compared")
			assert.Equal(t, tc.code == exitChanges, len(c.Breaking) > 0)
		})
	}
}

// writeJSON writes testdata/two-link-tokens.json to path, as edit changed
// it.
func writeJSON(t *testing.T, path string, edit func(doc map[string]any)) {
	t.Helper()
	data, err := os.ReadFile("testdata/two-link-tokens.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	edit(doc)
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o600))
}

// outsideRef is a "$ref" kin-openapi resolves but trimJSON cannot keep:
// it points into a path of the document, not into #/components/.
const outsideRef = "#/paths/~1models-0/get/responses/200/content/application~1json/schema"

// untrimmableDocument is largeDocument(n) whose link-token response refers
// to a string schema through outsideRef: kin-openapi loads it (the same
// report as identical.json), trimJSON cannot cut it down.
func untrimmableDocument(tb testing.TB, n int) []byte {
	tb.Helper()
	var doc map[string]any
	require.NoError(tb, json.Unmarshal(largeDocument(tb, n), &doc))
	models0 := doc["paths"].(map[string]any)["/models-0"].(map[string]any)["get"].(map[string]any)
	models0["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"] = map[string]any{"schema": map[string]any{"type": "string"}}
	linkToken := doc["components"].(map[string]any)["schemas"].(map[string]any)["LinkToken"].(map[string]any)
	linkToken["properties"].(map[string]any)["magic_link_url"] = map[string]any{"$ref": outsideRef}
	out, err := json.Marshal(doc)
	require.NoError(tb, err)
	return out
}

// untrimmableModels is how many models make untrimmableDocument larger
// than maxUntrimmedBytes (about 288 bytes each).
const untrimmableModels = 4000

// TestUntrimmableDocumentsAreBounded: a document trimJSON cannot cut down
// is loaded whole only up to maxUntrimmedBytes; a larger one is refused
// before kin-openapi sees it, saying why it could not be trimmed.
func TestUntrimmableDocumentsAreBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	large := untrimmableDocument(t, untrimmableModels)
	require.Greater(t, len(large), maxUntrimmedBytes, "raise untrimmableModels: the document must be over maxUntrimmedBytes")
	ours, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	largeYAML := append(append(ours, "\n# "...), bytes.Repeat([]byte("x"), maxUntrimmedBytes)...)
	refused := func(path, reason string, size int) string {
		return fmt.Sprintf("specdiff: %s cannot be trimmed to our operations: %s; a document that cannot be trimmed is loaded whole only up to 1048576 bytes (1 MiB), and this one has %d\n", path, reason, size)
	}
	cases := []struct {
		name string
		spec string
		code int
		want string // stdout's first line's end when the code is not 2, else all of stderr
	}{
		{"small and untrimmable: loaded whole", write("small.json", untrimmableDocument(t, 10)), exitOK, "0 breaking, 0 narrower, 0 wider, 0 absent"},
		{"large and trimmable: trimmed", write("trimmable.json", largeDocument(t, untrimmableModels)), exitOK, "0 breaking, 0 narrower, 0 wider, 0 absent"},
		{"large, a $ref outside the components: refused", write("large.json", large), exitBadInput,
			refused(filepath.Join(dir, "large.json"), `$ref "`+outsideRef+`" does not point into #/components/`, len(large))},
		{"large YAML: refused", write("large.yaml", largeYAML), exitBadInput,
			refused(filepath.Join(dir, "large.yaml"), "it is not a JSON object (YAML is never trimmed)", len(largeYAML))},
		{"large and not valid JSON: refused", write("broken.json", append(slices.Clip(large), '}')), exitBadInput,
			refused(filepath.Join(dir, "broken.json"), "it is not valid JSON", len(large)+1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("upstream", "-spec", tc.spec, "-ours", "testdata/ours.yaml")
			require.Equal(t, tc.code, code, "stdout: %.300s\nstderr: %.300s", out, errOut)
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Equal(t, tc.want, errOut, "an untrimmable document over maxUntrimmedBytes must be refused, saying why it cannot be trimmed")
				return
			}
			assert.Contains(t, strings.SplitN(out, "\n", 2)[0], tc.want)
		})
	}
}

// TestUntrimmableRefusalAllocates: refusing a large untrimmable document
// costs a few times its size, not the hundreds kin-openapi would allocate
// loading it whole (0.93 MiB: 280 MB). Not parallel, so that no other test
// allocates while it measures.
func TestUntrimmableRefusalAllocates(t *testing.T) {
	data := untrimmableDocument(t, untrimmableModels)
	var err error
	pats := []operationPattern{newPattern("post", "/link-token")}
	allocated := allocatedBy(func() { _, err = loadDocument(data, "large.json", pats, nil, false) })
	require.ErrorIs(t, err, errNotTrimmable, "a large untrimmable document must be refused, not loaded whole")
	t.Logf("refusing %d bytes allocated %d bytes", len(data), allocated)
	assert.LessOrEqual(t, allocated, uint64(4*len(data)),
		"refusing a %d-byte untrimmable document must allocate at most 4 times its size: is it refused before kin-openapi loads it?", len(data))
}

// allocatedBy returns the bytes allocated on the heap while f ran. Call it
// from a test that is not parallel: other tests' allocations would count.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
