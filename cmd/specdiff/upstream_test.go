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
		want  string // in stdout when the code is not 2, else in stderr
		found string // the path the report says it compared
	}{
		{"several candidates and no -path", bundle, "", exitBadInput,
			bundle + " has 2 POST /link-token operations, choose one with -path: /api/ats/v1/link-token, /api/hris/v1/link-token\n", ""},
		{"-path picks hris", bundle, "/api/hris/v1/link-token", exitOK, "0 breaking", "/api/hris/v1/link-token"},
		{"-path picks ats", bundle, "/api/ats/v1/link-token", exitChanges, "[new-required-request-property]", "/api/ats/v1/link-token"},
		{"-path not in the document", bundle, "/api/crm/v1/link-token", exitBadInput,
			"has no POST /api/crm/v1/link-token operation; POST /link-token is at /api/ats/v1/link-token, /api/hris/v1/link-token", ""},
		{"-path not absolute", bundle, "api/hris/v1/link-token", exitBadInput, `-path "api/hris/v1/link-token" must start with /`, ""},
		{"exact /link-token wins", withExact, "", exitOK, "0 breaking", "/link-token"},
		{"-path over the exact one", withExact, "/api/ats/v1/link-token", exitChanges, "1 breaking", "/api/ats/v1/link-token"},
		{"one candidate", "testdata/identical.json", "", exitOK, "0 breaking", "/link-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"upstream", "-spec", tc.spec, "-ours", "testdata/ours.yaml"}
			if tc.path != "" {
				args = append(args, "-path", tc.path)
			}
			code, out, errOut := runCmd(args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Contains(t, errOut, tc.want)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
				return
			}
			assert.Contains(t, out, tc.want)
			assert.Contains(t, out, "(found at "+tc.found+")")
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
