package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/openapi"
)

// testCatalogue is the catalogue of the committed spec, generated once.
var testCatalogue = sync.OnceValues(func() (*catalogue, error) {
	return loadCatalogue(filepath.Join("..", "..", openapi.SpecPath))
})

func loadTestCatalogue(t *testing.T) *catalogue {
	t.Helper()
	cat, err := testCatalogue()
	require.NoError(t, err)
	return cat
}

// TestCatalogueHasWhatTheIssueAsks: the mutants generated from the spec's
// structure include every kind the issue names, each name is unique, and
// the mock's catalogue has a rule mutant per rule kind of the request.
func TestCatalogueHasWhatTheIssueAsks(t *testing.T) {
	t.Parallel()
	cat := loadTestCatalogue(t)
	names := map[string]bool{}
	kinds := map[string]string{}
	for _, m := range cat.mutants {
		require.False(t, names[m.name], "two mutants named %q", m.name)
		names[m.name] = true
		kinds[m.name] = m.kind()
	}
	for _, want := range []string{
		"schema EndUserDetailsRequest.required-end_user_email_address",
		"schema EndUserDetailsRequest.required+integration",
		"schema EndUserDetailsRequest.properties.end_user_email_address.maxLength+1",
		"schema EndUserDetailsRequest.properties.end_user_email_address.maxLength-1",
		"schema EndUserDetailsRequest.properties.categories.minItems-1",
		"schema EndUserDetailsRequest.properties.link_expiry_mins.maximum+1",
		"schema CategoriesEnum.enum-knowledgebase",
		"schema CategoriesEnum.enum+mutant",
		"schema EndUserDetailsRequest.properties.end_user_origin_id.type=integer",
		"schema EndUserDetailsRequest.properties.integration.nullable=false",
		"schema EndUserDetailsRequest.properties.language.nullable=true",
		"schema EndUserDetailsRequest.not removed",
		"schema EndUserDetailsRequest.not.properties.link_expiry_mins.minimum-1",
		"schema LinkToken.required-link_token",
		"server[0].url changed",
		"server[3].url changed",
		"operation response 200 removed",
		"operation response 5XX removed",
		"mock accepts a request breaking only maxLength",
		"mock accepts a request breaking only not",
		"mock accepts a request breaking only required",
		"mock answers 200 without link_token",
		"mock answers 200 with a Magic Link not asked for",
		"mock answers 403 to a missing key",
		"mock drops the X-Request-Id header",
		"mock sends a non-JSON error body",
	} {
		assert.True(t, names[want], "the catalogue has %q", want)
	}
	assert.Equal(t, "spec", kinds["server[0].url changed"])
	assert.Equal(t, "mock", kinds["mock answers 403 to a missing key"])
}

// TestSpecMutantsChangeOneThing: the baseline, re-encoded by the program,
// is the same document as the committed spec for kin-openapi; each spec
// mutant differs from it.
func TestSpecMutantsChangeOneThing(t *testing.T) {
	t.Parallel()
	cat := loadTestCatalogue(t)
	committed, err := openapi.Parse(openapi.Spec())
	require.NoError(t, err)
	reencoded, err := openapi.Parse(cat.base)
	require.NoError(t, err, "the re-encoded spec loads")
	a, _ := json.Marshal(committed)
	b, _ := json.Marshal(reencoded)
	assert.JSONEq(t, string(a), string(b), "re-encoding changes nothing kin-openapi sees")

	m := map[string]mutant{}
	for _, x := range cat.mutants {
		m[x.name] = x
	}
	dropped := m["schema LinkToken.required-link_token"].spec
	doc, err := parseSpec(dropped)
	require.NoError(t, err)
	required, err := find(doc.Content[0], []string{"components", "schemas", "LinkToken", "required"})
	if err == nil {
		for _, v := range required.Content {
			assert.NotEqual(t, "link_token", v.Value)
		}
	}
	bumped := string(m["schema EndUserDetailsRequest.properties.end_user_email_address.maxLength+1"].spec)
	assert.Equal(t, strings.Count(string(cat.base), "maxLength: 100")-1, strings.Count(bumped, "maxLength: 100"))
	assert.Contains(t, bumped, "maxLength: 101")
}

// TestRequestRules: the rule kinds of the mock's "accept" mutants are read
// from the request schema, through its $refs.
func TestRequestRules(t *testing.T) {
	t.Parallel()
	doc, err := parseSpec(openapi.Spec())
	require.NoError(t, err)
	rules, err := requestRules(doc.Content[0])
	require.NoError(t, err)
	for _, want := range []string{"required", "minLength", "maxLength", "minItems", "enum", "type", "minimum", "maximum",
		"not", "allOf", "nullable", "properties", "requestBody", "security"} {
		assert.Contains(t, rules, want)
	}
}

// TestEquivalentsAreMutants: every entry of the committed equivalent.txt
// names a mutant of the catalogue and gives a reason.
func TestEquivalentsAreMutants(t *testing.T) {
	t.Parallel()
	cat := loadTestCatalogue(t)
	equiv, err := readEquivalents("equivalent.txt")
	require.NoError(t, err)
	names := map[string]bool{}
	for _, m := range cat.mutants {
		names[m.name] = true
	}
	for name, reason := range equiv {
		assert.True(t, names[name], "equivalent.txt lists %q, which the catalogue does not produce", name)
		assert.NotEmpty(t, reason)
	}
}

func TestParseEquivalents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{"comments and blanks", "# x\n\nmock a -- why\n", map[string]string{"mock a": "why"}, ""},
		{"no reason", "mock a -- \n", nil, "want"},
		{"no separator", "mock a\n", nil, "want"},
		{"twice", "a -- x\na -- y\n", nil, "listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseEquivalents(strings.NewReader(tc.in), "f")
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestRenameServeHTTP: the overlay's mock.go differs from the real one by
// the name of ServeHTTP only, and a mock.go without it is refused.
func TestRenameServeHTTP(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "contracttest", "mock.go"))
	require.NoError(t, err)
	out, err := renameServeHTTP(src)
	require.NoError(t, err)
	assert.NotContains(t, string(out), serveHTTP)
	assert.Equal(t, string(src), strings.Replace(string(out), "serveUnmutated(w http", "ServeHTTP(w http", 1))
	_, err = renameServeHTTP([]byte("package contracttest\n"))
	assert.ErrorContains(t, err, "update internal/mutate")
}

// TestMockHookKnowsEveryAnswerMutant: each answer mutant's id is a case of
// the hook's switch (an unknown one panics the tests, which would kill it
// for the wrong reason).
func TestMockHookKnowsEveryAnswerMutant(t *testing.T) {
	t.Parallel()
	for _, m := range answerMutants {
		assert.Contains(t, string(mockHook), `case "`+m.id+`":`, m.name)
	}
}

func TestFailedTests(t *testing.T) {
	t.Parallel()
	out := `--- FAIL: TestContract (0.03s)
    --- FAIL: TestContract/mock (0.00s)
        --- FAIL: TestContract/mock/minimal (0.00s)
        --- FAIL: TestContract/mock/language_en (0.00s)
        --- FAIL: TestContract/mock/language_de (0.00s)
--- FAIL: ExampleWithScript (0.00s)
FAIL
`
	assert.Equal(t, "TestContract/mock/minimal, TestContract/mock/language_en and 2 more", failedTests(out))
	assert.Equal(t, []string{"TestContract", "ExampleWithScript"}, topLevel(out))
	assert.Equal(t, "TestLimitsMatchSpec", failedTests("--- FAIL: TestLimitsMatchSpec (0.00s)\nFAIL\n"))
	assert.Equal(t, "timeout", failedTests("panic: test timed out after 2m0s\n"))
	assert.Equal(t, "panic: boom", failedTests("panic: boom\n\ngoroutine 1\n"))
}

func TestReport(t *testing.T) {
	t.Parallel()
	mutants := []mutant{
		{name: "a", category: "x"}, {name: "b", category: "x"}, {name: "c", category: "y"}, {name: "d", category: "y"},
	}
	results := []result{{killedBy: []string{"check-generated"}}, {}, {}, {killedBy: []string{"go test ./client: T"}}}
	equiv := map[string]string{"c": "same meaning", "d": "was equivalent", "gone": "no longer produced"}
	rep := newReport(mutants, results, equiv, true)
	assert.Equal(t, []string{"b"}, rep.newSurvivors)
	assert.Len(t, rep.stale, 2)
	assert.True(t, rep.failed())
	var sb strings.Builder
	rep.write(&sb)
	out := sb.String()
	assert.Contains(t, out, "| a | check-generated |")
	assert.Contains(t, out, "| b | **survived** |")
	assert.Contains(t, out, "| c | survived (equivalent: same meaning) |")
	assert.Contains(t, out, "killed 2 of 4 (equivalent 1): score 66.7%")

	partial := newReport(mutants[:1], results[:1], map[string]string{"gone": "x"}, false)
	assert.False(t, partial.failed(), "a -run subset does not call unmatched entries stale")
}

// TestHooksCompile builds openapi and contracttest with the hooks that
// make mutate adds through -overlay: the hooks name unexported identifiers of
// mock.go and openapi, so a rename there breaks them, and only this test
// (run by make test, and so by CI on every change) would tell before the
// weekly mutation run does.
func TestHooksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	ov, err := writeOverlay(root, t.TempDir())
	require.NoError(t, err)
	cmd := exec.Command("go", "vet", "-overlay", ov, "./openapi", "./contracttest")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the mutation hooks (internal/mutate/hooks) no longer compile against the code they wrap; update them:\n%s", out)
}

// TestGenexportsFlags: make mutate runs genexports with gen/generate.go's
// flags, which must be those make check-generated gives it, or every
// mutant's check-generated fails (it did, when -spec and -own were added).
func TestGenexportsFlags(t *testing.T) {
	t.Parallel()
	flags, err := genexportsFlags("../..")
	require.NoError(t, err)
	assert.Equal(t, []string{"-own", "AccountToken"}, flags, "the flags of gen/generate.go's genexports line, but -gen, -spec and -out")
	makefile, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	var line string
	for l := range strings.Lines(string(makefile)) {
		if strings.Contains(l, "./internal/genexports ") {
			line = l
		}
	}
	require.NotEmpty(t, line, "the Makefile runs genexports in check-generated")
	for i := 0; i < len(flags); i += 2 {
		assert.Contains(t, line, flags[i]+" "+flags[i+1], "make check-generated must give genexports the flags gen/generate.go gives it: %s", strings.TrimSpace(line))
	}
}
