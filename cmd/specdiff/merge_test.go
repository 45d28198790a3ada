package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden files and copies under testdata instead of comparing with them")
	mergeOAS = flag.String("merge-oas", "", "Merge's full merge_mktg.oas.json (see testdata/merge_mktg.SOURCE.md), to check or, with -update, rewrite "+mergeCopy)
)

const (
	// mergeCopy is Merge's published marketing-automation document trimmed
	// by trimJSON to what the drift check reads; see merge_mktg.SOURCE.md.
	mergeCopy = "testdata/merge_mktg.link-token.json"
	// mergeGolden is what upstream reports for mergeCopy against the
	// embedded spec: the README's worked example.
	mergeGolden = "testdata/merge_mktg.upstream.golden"
)

// TestMergeDocumentReport compares Merge's document with the embedded spec.
// When the spec changes on purpose, rewrite the golden file with
//
//	go test -run TestMergeDocumentReport -update
//
// and review the difference.
func TestMergeDocumentReport(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCmd("upstream", "-spec", mergeCopy)
	require.Empty(t, errOut)
	wantCode := exitChanges
	if strings.Contains(strings.SplitN(out, "\n", 2)[0], ": 0 breaking,") {
		wantCode = exitOK
	}
	assert.Equal(t, wantCode, code, "the exit code follows the report")
	if *update {
		require.NoError(t, os.WriteFile(mergeGolden, []byte(out), 0o644))
		return
	}
	want, err := os.ReadFile(mergeGolden)
	require.NoError(t, err)
	assert.Equal(t, string(want), out, "run with -update to rewrite %s", mergeGolden)
}

// TestMergeDocumentCopy checks that the committed copy is what trimJSON
// makes of Merge's full document, and that the report is the same from the
// full document loaded whole. It needs that document, which is not
// committed:
//
//	go test -run TestMergeDocumentCopy -merge-oas /path/to/merge_mktg.oas.json [-update]
func TestMergeDocumentCopy(t *testing.T) {
	if *mergeOAS == "" {
		t.Skip("needs -merge-oas (Merge's full merge_mktg.oas.json)")
	}
	t.Parallel()
	full, err := os.ReadFile(*mergeOAS)
	require.NoError(t, err)
	trimmed, path, err := trimJSON(full, *mergeOAS, "")
	require.NoError(t, err)
	assert.Equal(t, operationPath, path)
	if *update {
		require.NoError(t, os.WriteFile(mergeCopy, trimmed, 0o644))
	} else {
		committed, err := os.ReadFile(mergeCopy)
		require.NoError(t, err)
		assert.Equal(t, string(committed), string(trimmed), "run with -update to rewrite %s", mergeCopy)
	}

	// The full document, loaded whole, reports what the copy reports.
	var whole, fromCopy bytes.Buffer
	wholeCode, err := upstreamRun{spec: "merge_mktg", format: "json", whole: true}.runData(full, &whole)
	require.NoError(t, err)
	copyCode, err := upstreamRun{spec: "merge_mktg", format: "json"}.runData(trimmed, &fromCopy)
	require.NoError(t, err)
	assert.Equal(t, wholeCode, copyCode)
	assert.JSONEq(t, whole.String(), fromCopy.String())
}
