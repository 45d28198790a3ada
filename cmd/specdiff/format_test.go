package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/openapi"
)

func TestEscaping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		escape func(string) string
		in     string
		want   string
	}{
		{"annotation message: percent first, line breaks", ghData, "50%\r\nx%0A", "50%25%0D%0Ax%250A"},
		{"annotation property: and its delimiters", ghProperty, "a:b,c%\n", "a%3Ab%2Cc%25%0A"},
		{"markdown text: markup, HTML, entities, pipes", mdText, "a|b*c_d<e>&`f`[g](h)~\\", `a\|b\*c\_d\<e>&amp;\` + "`f\\`" + `\[g\](h)\~\\`},
		{"markdown code: a backtick would end it", mdCode, "a`b", "`a'b`"},
		{"markdown table cell: a pipe would end it", mdCell, "`a|b`", "`a\\|b`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.escape(tc.in))
		})
	}
}

// annotation is one GitHub Actions workflow command.
var annotation = regexp.MustCompile(`^::(error|warning|notice) file=([^,]*)(?:,line=(\d+))?,title=([^:]*)::(.*)$`)

// TestAnnotationsPointIntoOurSpec: every annotation upstream writes for
// Merge's seven documents names our spec, and its line is where the spec
// writes the property, parameter or keyword the message is about.
func TestAnnotationsPointIntoOurSpec(t *testing.T) {
	t.Parallel()
	_, out, errOut := runCmd("upstream", "-spec", upstreamCopies, "-format", "github")
	require.Empty(t, errOut)
	lines := strings.Split(string(openapi.Spec()), "\n")
	keywords := map[string]string{"min-length": "minLength", "max-length": "maxLength", "min-items": "minItems", "pattern": "pattern", "type": "type:"}
	quoted := regexp.MustCompile("`([^`]*)`")
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := annotation.FindStringSubmatch(l)
		if m == nil {
			assert.True(t, strings.HasPrefix(l, "our spec against 7 documents"), "only annotations and the headline: %q", l)
			continue
		}
		n++
		assert.Equal(t, openapi.SpecPath, m[2], "annotations point into our spec")
		require.NotEmpty(t, m[3], "every difference is in a place of our spec: %s", l)
		line, err := strconv.Atoi(m[3])
		require.NoError(t, err)
		require.LessOrEqual(t, line, len(lines))
		at := lines[line-1]
		var words []string
		for _, q := range quoted.FindAllStringSubmatch(m[5], -1) {
			seg := q[1][strings.LastIndex(q[1], "/")+1:]
			words = append(words, seg)
			if seg == "items" || seg == "additionalProperties" {
				words = append(words, strings.Split(q[1], "/")[0]) // or the line of the property holding them
			}
		}
		for k, w := range keywords {
			if strings.Contains(m[4], k) {
				words = append(words, w)
			}
		}
		assert.True(t, containsAny(at, words), "%s: line %d of %s is %q, which names none of %q", m[4], line, openapi.SpecPath, at, words)
	}
	assert.Greater(t, n, 10, "upstream must write an annotation per difference")
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if w != "" && strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func TestBreakingFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := baseWithCategories(t, dir, "hris, ats, crm")
	stale := filepath.Join(dir, "stale.txt")
	require.NoError(t, os.WriteFile(stale, []byte("request-property-enum-value-removed POST /link-token hris categories/items -- not removed\n"), 0o600))
	const key = "request-property-enum-value-removed POST /link-token crm categories/items"
	ours, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	line := strconv.Itoa(1 + strings.Count(string(ours[:strings.Index(string(ours), "    CategoriesEnum:")]), "\n"))
	cases := []struct {
		name  string
		extra []string
		code  int
		want  []string
	}{
		{"markdown", []string{"-format", "markdown"}, exitChanges, []string{
			"## specdiff breaking\n\n" + mdText(base) + " -> testdata/ours.yaml: 1 breaking, 0 warning, 0 informational\n",
			"\n### Breaking\n\n- `request-property-enum-value-removed` `POST /link-token`: removed the enum value `crm` of the request property `categories/items`\n",
			"  - to accept it, allow: `" + key + " -- <why>`\n",
		}},
		{"github", []string{"-format", "github"}, exitChanges, []string{
			"::error file=testdata/ours.yaml,line=" + line + ",title=specdiff breaking%3A request-property-enum-value-removed::POST /link-token: removed the enum value `crm` of the request property `categories/items`; to accept it, allow: " + key + " -- <why>\n",
		}},
		{"github, an unmatched entry, strict", []string{"-format", "github", "-allow", stale, "-strict"}, exitChanges, []string{
			"::error file=" + ghProperty(stale) + ",line=1,title=specdiff breaking%3A unmatched allow entry::acknowledges no breaking change: request-property-enum-value-removed POST /link-token hris categories/items\n",
		}},
		{"github, an unmatched entry, not strict", []string{"-format", "github", "-allow", stale}, exitChanges, []string{
			"::warning file=" + ghProperty(stale) + ",line=1,title=specdiff breaking%3A unmatched allow entry::",
		}},
		{"markdown, an unmatched entry", []string{"-format", "markdown", "-allow", stale}, exitChanges, []string{
			"\n### Unmatched allow entries (they acknowledge no breaking change)\n\n- `" + stale + ":1: request-property-enum-value-removed POST /link-token hris categories/items`\n",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(append([]string{"breaking", "-base", base, "-head", "testdata/ours.yaml"}, tc.extra...)...)
			require.Equal(t, tc.code, code, "stderr: %s", errOut)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
}
