package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShown(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1000)
	cut := strings.Repeat("x", maxShownBytes-len(cutMark)) + cutMark
	cases := []struct {
		name, in, want string
	}{
		{"short, unchanged", "/api/hris/v1/link-token", "/api/hris/v1/link-token"},
		{"at the bound, unchanged", long[:maxShownBytes], long[:maxShownBytes]},
		{"one byte over, cut", long[:maxShownBytes+1], cut},
		{"long, cut", long, cut},
		{"30 MB, cut", strings.Repeat("x", 30<<20), cut},
		{"a rune across the cut, not split", strings.Repeat("x", maxShownBytes-len(cutMark)-1) + "é" + long,
			strings.Repeat("x", maxShownBytes-len(cutMark)-1) + cutMark},
		{"control characters dropped", "a\x00b\x1b[31mc\x7f", "ab[31mc"},
		{"line breaks become spaces", "a\nb\rc\u2028d", "a b c d"},
		{"invalid UTF-8 replaced", "a\xffb", "a\ufffdb"},
		{"control characters dropped before the bound", strings.Repeat("\x00", 100) + "end", "end"},
		{"cut before cleaning, so that cleaning 30 MB costs nothing", strings.Repeat("\x00", 1000) + "end", cutMark},
		{"invalid UTF-8 that grows when replaced, cut", strings.Repeat("\xff", maxShownBytes), strings.Repeat("\ufffd", (maxShownBytes-len(cutMark))/3) + cutMark},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := shown(tc.in)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), maxShownBytes, "shown must bound a value to maxShownBytes, the mark included")
			assert.True(t, utf8.ValidString(got), "shown must give valid UTF-8")
		})
	}
}

// TestErrorsShowValuesBounded: an error quoting a value from the command
// line, a file or a document stays one bounded line without control
// characters, however long or dirty the value.
func TestErrorsShowValuesBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	const thirtyMB = 30 << 20
	huge := strings.Repeat("x", thirtyMB)
	dirty := "\x1b[2J\x00\xff\r\n"
	allowUnterminated := write("unterminated.txt", []byte(`request-property-enum-value-removed POST /link-token "`+huge+"\n"))
	allowOneField := write("one-field.txt", []byte(huge+" -- a reason\n"))
	allowDirty := write("dirty.txt", []byte(`request-property-enum-value-removed POST /link-token "a`+dirty+"\n"))
	allowPlaceholder := write("placeholder.txt", []byte("request-property-enum-value-removed POST /link-token crm categories/items -- <"+huge+">\n"))

	// A bundle with 41 link-token paths, the first of them 100 kB long, and no -path.
	var bundle map[string]any
	data, err := os.ReadFile("testdata/two-link-tokens.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &bundle))
	paths := bundle["paths"].(map[string]any)
	item := paths["/api/hris/v1/link-token"]
	for i := range 38 {
		paths[fmt.Sprintf("/api/c%02d/v1/link-token", i)] = item
	}
	paths["/0"+strings.Repeat("y", 100_000)+dirty+"/link-token"] = item
	data, err = json.Marshal(bundle)
	require.NoError(t, err)
	manyPaths := write("many-paths.json", data)

	// A large document (not trimmable) whose $ref is 100 kB long.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(largeDocument(t, untrimmableModels), &doc))
	doc["components"].(map[string]any)["schemas"].(map[string]any)["LinkToken"] = map[string]any{"$ref": "#/paths/" + strings.Repeat("z", 100_000) + dirty}
	data, err = json.Marshal(doc)
	require.NoError(t, err)
	longRef := write("long-ref.json", data)

	cases := []struct {
		name string
		args []string
		want string // the start of the error, after "specdiff: "
	}{
		{"a 30 MB allow-list line, quoted field unterminated", []string{"breaking", "-base", "testdata/ours.yaml", "-allow", allowUnterminated},
			allowUnterminated + `:1: unterminated or invalid quoted field "xxx`},
		{"a 30 MB allow-list field alone", []string{"breaking", "-base", "testdata/ours.yaml", "-allow", allowOneField},
			allowOneField + `:1: names "xxx`},
		{"an allow-list line with control characters", []string{"breaking", "-base", "testdata/ours.yaml", "-allow", allowDirty},
			allowDirty + `:1: unterminated or invalid quoted field "a[2J` + "\ufffd"},
		{"a 30 MB placeholder", []string{"breaking", "-base", "testdata/ours.yaml", "-allow", allowPlaceholder},
			allowPlaceholder + ":1: gives the placeholder <xxx"},
		{"a long -path", []string{"upstream", "-spec", "testdata/two-link-tokens.json", "-path", huge[:1<<20]},
			`-path "xxx`},
		{"a -path with control characters", []string{"upstream", "-spec", "testdata/two-link-tokens.json", "-path", dirty + "x"},
			`-path "[2J` + "\ufffd" + ` x" must start with /`},
		{"a long -path not in the document", []string{"upstream", "-spec", "testdata/two-link-tokens.json", "-path", "/" + huge[:1<<20] + "/link-token"},
			"testdata/two-link-tokens.json has no POST /xxx"},
		{"a long unknown command", []string{huge[:1<<20]}, `unknown command "xxx`},
		{"a long stray argument", []string{"upstream", "-spec", "x.json", dirty + huge[:1<<20]}, `unexpected argument "[2J`},
		{"a long flag value", []string{"breaking", "-base", "main", "-strict=" + huge[:1<<20]}, `invalid boolean value "xxx`},
		{"a long unknown flag", []string{"breaking", "-" + huge[:1<<20]}, "flag provided but not defined: -xxx"},
		{"a long file name", []string{"upstream", "-spec", filepath.Join(dir, huge[:1<<20]+dirty)}, "read -spec " + dir + "/xxx"},
		{"a long -base ref", []string{"breaking", "-base", "-" + huge[:1<<20]}, `-base "-xxx`},
		{"a long URL", []string{"upstream", "-spec", "http://example.com/" + huge[:1<<20]}, "fetch -spec: refusing http://example.com: only https"},
		{"a long host", []string{"upstream", "-spec", "http://" + huge[:1<<20] + ".example/x.json"}, "fetch -spec: refusing http://xxx"},
		{"41 candidate paths, one long", []string{"upstream", "-spec", manyPaths},
			manyPaths + " has 41 POST /link-token operations, choose one with -path: /0yyy"},
		{"a long $ref in a large untrimmable document", []string{"upstream", "-spec", longRef},
			longRef + ` cannot be trimmed to our operations: $ref "#/paths/zzz`},
		{"a long -path ending with none of our operations", []string{"upstream", "-spec", "testdata/two-link-tokens.json", "-path", "/" + huge[:1<<20]},
			`-path "/xxx`},
	}
	// What some errors hold further on.
	also := map[string]string{
		"41 candidate paths, one long": ", /api/c05/v1/link-token and 33 more\n",
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(tc.args...)
			require.Equal(t, exitBadInput, code, "stdout: %.300s\nstderr: %.300s", out, errOut)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errOut, "specdiff: "+tc.want), "the error must start with %q: %.500q", tc.want, errOut)
			assert.Contains(t, errOut, also[tc.name], "a list of paths must stop at maxListedPaths")
			assert.LessOrEqual(t, len(errOut), len("specdiff: \n")+maxErrorBytes,
				"an error must be bounded: cut each value it quotes with shown(); this one has %d bytes: %.500q", len(errOut), errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "an error must be one line: %.500q", errOut)
			assert.True(t, utf8.ValidString(errOut), "an error must be valid UTF-8: %.500q", errOut)
			assert.Equal(t, -1, strings.IndexFunc(strings.TrimSuffix(errOut, "\n"), unicode.IsControl),
				"an error must show values with shown(), which drops control characters: %.500q", errOut)
		})
	}
}
