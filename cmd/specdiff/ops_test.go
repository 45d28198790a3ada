package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOperationMatching(t *testing.T) {
	t.Parallel()
	linkToken := newPattern("post", "/link-token")
	exchange := newPattern("get", "/account-token/{public_token}")
	cases := []struct {
		name    string
		pattern operationPattern
		path    string
		matches bool
		prefix  string
	}{
		{"the same path", linkToken, "/link-token", true, ""},
		{"below a category", linkToken, "/hris/v1/link-token", true, "/hris/v1"},
		{"below /api/<category>/v1", linkToken, "/api/hris/v1/link-token", true, "/api/hris/v1"},
		{"a trailing slash", linkToken, "/hris/v1/link-token/", true, "/hris/v1"},
		{"a longer last segment", linkToken, "/hris/v1/my-link-token", false, ""},
		{"a segment after", linkToken, "/link-token/extra", false, ""},
		{"another operation", linkToken, "/account-details", false, ""},
		{"a parameter of the same name", exchange, "/account-token/{public_token}", true, ""},
		{"a parameter of another name, below a category", exchange, "/crm/v1/account-token/{token}", true, "/crm/v1"},
		{"a literal where the parameter is", exchange, "/account-token/latest", false, ""},
		{"a parameter where the literal is", exchange, "/{x}/{public_token}", false, ""},
		{"too short", exchange, "/{public_token}", false, ""},
		{"a parameter with a suffix", newPattern("get", "/files/{id}.json"), "/v1/files/{file}.json", true, "/v1"},
		{"a parameter without its suffix", newPattern("get", "/files/{id}.json"), "/v1/files/{file}", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.matches, tc.pattern.matches(tc.path), "%s matching %s", tc.pattern, tc.path)
			if tc.matches {
				assert.Equal(t, tc.prefix, tc.pattern.prefix(tc.path))
			}
		})
	}
	assert.Equal(t, []string{"public_token"}, exchange.params, "the names of the path parameters, in order")
	assert.Equal(t, "GET /account-token/{public_token}", exchange.String())
}

func TestChoosePath(t *testing.T) {
	t.Parallel()
	p := newPattern("post", "/link-token")
	cases := []struct {
		name       string
		candidates []string
		picks      picks
		want       string
		err        string
	}{
		{"none: the document lacks the operation", nil, nil, "", ""},
		{"one", []string{"/hris/v1/link-token"}, nil, "/hris/v1/link-token", ""},
		{"ours among several", []string{"/hris/v1/link-token", "/link-token"}, nil, "/link-token", ""},
		{"several", []string{"/hris/v1/link-token", "/ats/v1/link-token"}, nil, "",
			"doc.json has 2 POST /link-token operations, choose one with -path: /ats/v1/link-token, /hris/v1/link-token"},
		{"a -path among them", []string{"/hris/v1/link-token", "/ats/v1/link-token"}, picks{"/ats/v1/link-token"}, "/ats/v1/link-token", ""},
		{"a -path for another operation", []string{"/hris/v1/link-token"}, picks{"/hris/v1/account-token/{x}"}, "/hris/v1/link-token", ""},
		{"a -path the document lacks", []string{"/hris/v1/link-token"}, picks{"/crm/v1/link-token"}, "",
			"doc.json has no POST /crm/v1/link-token operation; POST /link-token is at /hris/v1/link-token"},
		{"a -path, no candidate", nil, picks{"/crm/v1/link-token"}, "", "doc.json has no POST /crm/v1/link-token operation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := choosePath("doc.json", p, tc.candidates, tc.picks)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPatternsOf(t *testing.T) {
	t.Parallel()
	info, err := loadSpec([]byte(`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /b:
    post: {responses: {"200": {description: ok}}}
    get: {responses: {"200": {description: ok}}}
  /a/{id}:
    delete: {responses: {"200": {description: ok}}}
`), "t.yaml")
	require.NoError(t, err)
	var names []string
	for _, p := range patternsOf(info.Spec) {
		names = append(names, p.String())
	}
	assert.Equal(t, []string{"DELETE /a/{id}", "GET /b", "POST /b"}, names, "every operation, sorted by path, then get, put, post, delete...")
	assert.Empty(t, patternsOf(&openapi3.T{}), "a document without paths has no operation")
}

func TestCategoryOf(t *testing.T) {
	t.Parallel()
	servers := func(urls ...string) openapi3.Servers {
		var out openapi3.Servers
		for _, u := range urls {
			out = append(out, &openapi3.Server{URL: u})
		}
		return out
	}
	cases := []struct {
		name, source, prefix string
		servers              openapi3.Servers
		want                 string
	}{
		{"the paths' prefix", "x.json", "/hris/v1", servers("https://api.merge.dev/api/mktg/v1"), "hris"},
		{"the prefix after /api/", "x.json", "/api/ats/v1", nil, "ats"},
		{"the servers", "x.json", "", servers("https://api.merge.dev/api/crm/v1", "https://api-eu.merge.dev/api/crm/v1"), "crm"},
		{"servers that disagree: the file", "dir/merge_x.json", "", servers("https://api.merge.dev/api/crm/v1", "https://api.merge.dev/api/ats/v1"), "merge_x"},
		{"a server variable: the file", "openapi/link-token.yaml", "", servers("https://api.merge.dev/api/{category}/v1"), "link-token"},
		{"a URL", "https://example.com/docs/merge_hris.json?x=1", "", nil, "merge_hris"},
		{"not a category name: the file", "x.yaml", "/Some Thing/v1", nil, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, categoryOf(tc.source, tc.prefix, tc.servers))
		})
	}
}

func TestExpandSpecs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"b.json", "a.yaml", "c.YML", "notes.md", ".hidden.json"} {
		writeDocument(t, dir, name, map[string]any{})
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.json"), 0o755))
	cases := []struct {
		name  string
		specs []string
		want  []string
		err   string
	}{
		{"files and URLs as they are", []string{"x.json", "https://example.com/a.json"}, []string{"x.json", "https://example.com/a.json"}, ""},
		{"a directory: its documents by name, not hidden ones, not directories", []string{dir},
			[]string{dir + "/a.yaml", dir + "/b.json", dir + "/c.YML"}, ""},
		{"the same file twice", []string{dir, dir + "/b.json"}, nil, "-spec names " + dir + "/b.json twice"},
		{"an empty directory", []string{t.TempDir()}, nil, "is a directory with no .json, .yaml or .yml document"},
		{"too many", make([]string, maxDocuments+1), nil, "-spec names 65 documents; at most 64 are compared in one run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := expandSpecs(tc.specs)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzPatternMatches checks matches, which reads a path from its end
// without allocating, against the plain reading: split both paths into
// segments (splitPath) and compare the last ones.
func FuzzPatternMatches(f *testing.F) {
	for _, seed := range [][2]string{
		{"/link-token", "/hris/v1/link-token"}, {"/account-token/{public_token}", "/crm/v1/account-token/{token}"},
		{"/a/{x}.json", "/v/a/{y}.json"}, {"/", "/"}, {"/a", "a"}, {"//a//", "/b//a/"}, {"/{a/b}", "/x/{c/d}"},
		{"/{", "/{"}, {"/a}{b", "/x/a}{c"}, {"/{}{}", "/{x}{y}"}, {"", "/link-token"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p := newPattern("post", pattern)
		segs, _ := splitPath(path)
		want := len(segs) >= len(p.segs) && slices.Equal(segs[len(segs)-len(p.segs):], p.segs)
		if got := p.matches(path); got != want {
			t.Fatalf("%q matching %q: matches says %v, the segments say %v: matches must read the path as splitPath does", pattern, path, got, want)
		}
	})
}
