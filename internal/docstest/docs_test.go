// Package docstest checks what the documentation promises: every test,
// fuzz target, benchmark and example it names exists, so a promise cannot
// point at a test that was renamed or removed.
package docstest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	// A name followed by "*" names every test it starts, as does a name in
	// the Makefile, where names are -run and -bench patterns.
	named   = regexp.MustCompile(`\b((?:Test|Fuzz|Benchmark|Example)[A-Z][A-Za-z0-9_]*)(\*?)`)
	defined = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)\(`)
)

// TestDocumentedTestsExist: every Test, Fuzz, Benchmark or Example named in
// the Markdown files, the Makefile or the comments of any non-test Go file is
// defined in a _test.go file of this repository.
func TestDocumentedTestsExist(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	have := map[string]bool{}
	var docs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		switch {
		case strings.HasSuffix(path, "_test.go"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range defined.FindAllStringSubmatch(string(src), -1) {
				have[m[1]] = true
			}
		case strings.HasSuffix(path, ".md"), strings.HasSuffix(path, ".go"), filepath.Base(path) == "Makefile":
			docs = append(docs, path) // Go files for their comments: a doc comment may cite a test
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, have)
	var missing []string
	checked := 0
	for _, doc := range docs {
		src, err := os.ReadFile(doc)
		require.NoError(t, err)
		if strings.HasSuffix(doc, ".go") {
			src = comments(t, doc, src) // code may hold a field such as TestEfficacy
		}
		for _, m := range named.FindAllStringSubmatch(string(src), -1) {
			name, prefix := m[1], m[2] == "*" || filepath.Base(doc) == "Makefile"
			checked++
			if !have[name] && !(prefix && startsAny(have, name)) {
				rel, _ := filepath.Rel(root, doc)
				missing = append(missing, rel+": "+name)
			}
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "named in the documentation but defined by no test")
	assert.Greater(t, checked, 20, "the documentation names its tests")
}

// comments returns the text of a Go file's comments.
func comments(t *testing.T, path string, src []byte) []byte {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ParseComments)
	require.NoError(t, err)
	var b strings.Builder
	for _, g := range f.Comments {
		b.WriteString(g.Text())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func startsAny(have map[string]bool, prefix string) bool {
	for name := range have {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
