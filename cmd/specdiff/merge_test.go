package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/openapi"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden files and copies under testdata instead of comparing with them")
	mergeOAS = flag.String("merge-oas", "", "a directory holding Merge's full documents, merge_<category>*.oas.json anywhere below it (see testdata/upstream/SOURCE.md), to check or, with -update, rewrite the copies in "+upstreamCopies)
)

const (
	// upstreamCopies holds Merge's published documents, one per category,
	// trimmed by trimJSON to the operations of our spec; see SOURCE.md
	// there.
	upstreamCopies = "testdata/upstream"
	// upstreamGolden is what upstream reports for upstreamCopies against
	// the embedded spec, in each format: upstreamGolden + "." + format +
	// ".golden". The text one is the README's worked example.
	upstreamGolden = "testdata/upstream-matrix"
)

// TestMergeDocumentsReport compares Merge's seven documents with the
// embedded spec, in every format. When the spec changes on purpose,
// rewrite the golden files with
//
//	go test -run TestMergeDocumentsReport -update
//
// and review the difference.
func TestMergeDocumentsReport(t *testing.T) {
	t.Parallel()
	for _, format := range upstreamFormats {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("upstream", "-spec", upstreamCopies, "-format", format)
			require.Empty(t, errOut)
			_, again, _ := runCmd("upstream", "-spec", upstreamCopies+"/", "-format", format)
			assert.Equal(t, out, again, "two runs must print the same: sort whatever the report prints")

			// The exit code follows the report.
			_, js, _ := runCmd("upstream", "-spec", upstreamCopies, "-format", "json")
			var m matrix
			require.NoError(t, json.Unmarshal([]byte(js), &m))
			wantCode := exitOK
			if m.Summary.Breaking > 0 {
				wantCode = exitChanges
			}
			assert.Equal(t, wantCode, code, "the exit code must be 1 exactly when a cell holds a breaking difference")
			assert.Equal(t, 7, m.Summary.Documents, "the seven documents of %s", upstreamCopies)
			assert.Zero(t, m.Summary.Absent, "every copy holds every operation of our spec: regenerate them as SOURCE.md says")

			golden := upstreamGolden + "." + format + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, withoutLines(string(want)), withoutLines(out),
				"run 'go test -run TestMergeDocumentsReport -update' to rewrite %s, and review the difference", golden)
		})
	}
}

// lineNumbers are the lines of our spec the json and github reports give.
var lineNumbers = regexp.MustCompile(`(line=|"line": )\d+`)

// withoutLines is a report without the line numbers into our spec, which
// move whenever the spec is edited above them: the goldens pin what the
// report says, TestAnnotationsPointIntoOurSpec that each line is right.
func withoutLines(report string) string {
	return lineNumbers.ReplaceAllString(report, "${1}N")
}

// mergeFileCategory reads the category in the name of one of Merge's
// documents: merge_mktg.oas.json, merge_hris_link_flow.oas.json.
var mergeFileCategory = regexp.MustCompile(`^merge_([a-z]+)[._]`)

// copyName is where the copy of a category's document is kept.
func copyName(category string) string {
	return filepath.Join(upstreamCopies, "merge_"+category+".link-flow.json")
}

// TestMergeDocumentCopies checks that each committed copy is what trimJSON
// makes of Merge's full document for our spec's operations, and that the
// report is the same from the full document loaded whole. It needs those
// documents, which are not committed:
//
//	go test -run TestMergeDocumentCopies -merge-oas /path/to/documents [-update]
func TestMergeDocumentCopies(t *testing.T) {
	if *mergeOAS == "" {
		t.Skip("needs -merge-oas (a directory holding Merge's full merge_<category>*.oas.json documents)")
	}
	t.Parallel()
	ours, err := upstreamRun{}.loadOurs()
	require.NoError(t, err)
	var fulls []string
	require.NoError(t, filepath.WalkDir(*mergeOAS, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".oas.json") && mergeFileCategory.MatchString(d.Name()) {
			fulls = append(fulls, path)
		}
		return err
	}))
	require.NotEmpty(t, fulls, "no merge_<category>*.oas.json below %s", *mergeOAS)
	for _, full := range fulls {
		category := mergeFileCategory.FindStringSubmatch(filepath.Base(full))[1]
		t.Run(category, func(t *testing.T) {
			data, err := os.ReadFile(full)
			require.NoError(t, err)
			trimmed, paths, err := trimJSON(data, full, ours.pats, nil)
			require.NoError(t, err)
			for i, p := range ours.pats {
				assert.NotEmpty(t, paths[i], "%s holds no %s", full, p)
			}
			name := copyName(category)
			if *update {
				require.NoError(t, os.WriteFile(name, trimmed, 0o644))
			} else {
				committed, err := os.ReadFile(name)
				require.NoError(t, err)
				assert.Equal(t, string(committed), string(trimmed), "run with -update to rewrite %s", name)
			}

			// The full document, loaded whole, reports what the copy reports.
			var whole, fromCopy bytes.Buffer
			wholeCode, err := upstreamRun{specs: []string{category}, format: "json", whole: true}.runData(data, &whole)
			require.NoError(t, err)
			copyCode, err := upstreamRun{specs: []string{category}, format: "json"}.runData(trimmed, &fromCopy)
			require.NoError(t, err)
			assert.Equal(t, wholeCode, copyCode)
			assert.JSONEq(t, whole.String(), fromCopy.String())
		})
	}
}

// TestMergeCopiesAreSmall: each copy holds our operations and what they
// reference, nothing else of Merge's document.
func TestMergeCopiesAreSmall(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(upstreamCopies)
	require.NoError(t, err)
	ours, err := upstreamRun{}.loadOurs()
	require.NoError(t, err)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(upstreamCopies, e.Name()))
			require.NoError(t, err)
			assert.Less(t, len(data), 64<<10, "a copy is trimmed to our operations: regenerate it as SOURCE.md says")
			var doc struct {
				Paths map[string]map[string]json.RawMessage `json:"paths"`
			}
			require.NoError(t, json.Unmarshal(data, &doc))
			n := 0
			for _, item := range doc.Paths {
				for key := range item {
					if isOperationKey(key) {
						n++
					}
				}
			}
			assert.Equal(t, len(ours.pats), n, "a copy holds exactly the operations of %s: regenerate it as SOURCE.md says", openapi.SpecPath)
		})
	}
}
