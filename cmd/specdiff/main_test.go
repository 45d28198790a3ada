package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUpstreamFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture string
		code    int
		want    []string
	}{
		{"identical.json", exitOK, []string{"0 breaking, 0 narrower, 0 wider, 0 absent"}},
		{"new-optional-field.json", exitOK, []string{"[new-optional-request-property]", "`language`"}},
		{"new-required-field.json", exitChanges, []string{": 1 breaking", "[new-required-request-property]", "`end_user_origin_id`"}},
		{"removed-enum-value.json", exitChanges, []string{"[request-property-enum-value-removed]", "`ats`"}},
		{"no-operation.json", exitBadInput, []string{"testdata/no-operation.json has none of our operations (POST /link-token): is it one of Merge's category documents?"}},
		{"not-openapi.json", exitBadInput, []string{"not an OpenAPI 3 document"}},
		{"broken.yaml", exitBadInput, []string{"load testdata/broken.yaml"}},
		{"missing.json", exitBadInput, []string{"read -spec", "no such file"}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("upstream", "-spec", "testdata/"+tc.fixture, "-ours", "testdata/ours.yaml")
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out+errOut, w)
			}
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
			}
		})
	}
}

func TestUpstreamJSONAndURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	code, out, errOut := runCmd("upstream", "-spec", srv.URL+"/new-required-field.json", "-ours", "testdata/ours.yaml", "-format", "json")
	require.Equal(t, exitChanges, code, errOut)
	var m matrix
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	require.Len(t, m.Operations, 1)
	assert.Equal(t, "POST", m.Operations[0].Method)
	require.Len(t, m.Operations[0].Cells, 1)
	c := m.Operations[0].Cells[0]
	assert.Equal(t, "mktg", c.Category, "the document is named by its servers' category")
	require.Len(t, c.Breaking, 1)
	assert.Equal(t, "new-required-request-property", c.Breaking[0].ID)

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	cases := []struct{ name, spec, want string }{
		{"unreachable URL", url + "/x.json", "fetch -spec"},
		{"404", srv.URL + "/nothing.json", "status 404"},
	}
	for _, tc := range cases {
		code, out, errOut := runCmd("upstream", "-spec", tc.spec)
		assert.Equal(t, exitBadInput, code, tc.name)
		assert.Empty(t, out)
		assert.Contains(t, errOut, tc.want, tc.name)
	}
}

func TestUpstreamAgainstTheEmbeddedSpec(t *testing.T) {
	t.Parallel()
	// The embedded spec against itself, served as an upstream document.
	spec, err := os.ReadFile("../../openapi/link-token.yaml")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "self.yaml")
	require.NoError(t, os.WriteFile(path, spec, 0o600))
	code, out, errOut := runCmd("upstream", "-spec", path)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "our spec against 1 document (self), 2 operations: 0 breaking, 0 narrower, 0 wider, 0 absent",
		"our spec compared with itself: every operation found, nothing different; the document is named by its file, as its servers name no category")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		want string // in stdout when the code is 0, else in stderr
	}{
		{"no arguments", nil, exitBadInput, "usage:"},
		{"unknown command", []string{"frobnicate"}, exitBadInput, `unknown command "frobnicate"`},
		{"breaking without -base", []string{"breaking"}, exitBadInput, "breaking needs -base; usage: specdiff breaking -base"},
		{"upstream without -spec", []string{"upstream"}, exitBadInput, "upstream needs -spec; usage: specdiff upstream -spec"},
		{"bad format", []string{"upstream", "-spec", "x", "-format", "xml"}, exitBadInput, `-format must be text, json, markdown or github, not "xml"`},
		{"breaking bad format", []string{"breaking", "-base", "x", "-format", "html"}, exitBadInput, `-format must be text, json, markdown or github, not "html"; usage: specdiff breaking`},
		{"-path matching none of our operations", []string{"upstream", "-spec", "testdata/identical.json", "-path", "/api/hris/v1/account-details"}, exitBadInput,
			`-path "/api/hris/v1/account-details" ends with the path of none of our operations (GET /account-token/{public_token}, POST /link-token)`},
		{"unknown flag", []string{"breaking", "-base", "main", "-nope"}, exitBadInput, "flag provided but not defined: -nope; usage: specdiff breaking"},
		{"flag without its value", []string{"upstream", "-spec"}, exitBadInput, "flag needs an argument: -spec"},
		{"stray argument", []string{"upstream", "-spec", "x.json", "extra"}, exitBadInput, `unexpected argument "extra"; usage: specdiff upstream`},
		{"specdiff -h", []string{"-h"}, exitOK, "Exit codes"},
		{"breaking -h", []string{"breaking", "-h"}, exitOK, "usage: " + breakingSynopsis},
		{"upstream -help", []string{"upstream", "-help"}, exitOK, "usage: " + upstreamSynopsis},
		{"breaking --help after a flag", []string{"breaking", "-base", "main", "--help"}, exitOK, "-allow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			switch {
			case tc.code == exitOK:
				assert.Contains(t, out, tc.want)
				assert.Equal(t, 1, strings.Count(out, "usage:"), "the usage once: %q", out)
				assert.Empty(t, errOut)
			case tc.args == nil:
				assert.Contains(t, errOut, tc.want)
			default:
				assert.Empty(t, out)
				assert.Contains(t, errOut, tc.want)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
				assert.True(t, strings.HasPrefix(errOut, "specdiff: "), errOut)
			}
		})
	}
}

// TestBreakingAgainstGitRefs builds a repository whose main holds the small
// spec, then checks a commit adding a required field (breaking) and one
// adding an optional field (not).
func TestBreakingAgainstGitRefs(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	repo, git := newGitRepo(t)
	write := func(content string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Join(repo, "openapi"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(repo, "openapi", "link-token.yaml"), []byte(content), 0o600))
	}
	write(string(base))
	git("add", ".")
	git("commit", "-q", "-m", "base")

	required := requireOriginID(string(base))
	optional := strings.Replace(string(base), "        link_expiry_mins:\n", "        language:\n          type: string\n        link_expiry_mins:\n", 1)
	narrowed := strings.Replace(string(base), "maximum: 10080", "maximum: 720", 1)
	allow := filepath.Join(repo, "allow.txt")
	require.NoError(t, os.WriteFile(allow, []byte("# accepted on purpose\nnew-required-request-property POST /link-token end_user_origin_id -- Merge now requires the origin id\n"), 0o600))
	noReason := filepath.Join(repo, "no-reason.txt")
	require.NoError(t, os.WriteFile(noReason, []byte("new-required-request-property\n"), 0o600))
	// "git show --output=out:openapi/link-token.yaml" would write there.
	injected := filepath.Join(repo, "out:openapi", "link-token.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(injected), 0o755))

	cases := []struct {
		name  string
		head  string
		extra []string
		code  int
		want  string
	}{
		{"unchanged", string(base), nil, exitOK, "0 breaking"},
		{"new required field", required, nil, exitChanges, "[new-required-request-property]"},
		{"new optional field", optional, nil, exitOK, "[new-optional-request-property]"},
		{"narrowed range", narrowed, nil, exitChanges, "breaking"},
		{"acknowledged", required, []string{"-allow", allow}, exitOK, "acknowledged: Merge now requires the origin id"},
		{"allow entry without a reason", required, []string{"-allow", noReason}, exitBadInput, "has no reason"},
		{"bad ref", string(base), []string{"-base", "no-such-ref"}, exitBadInput, "neither a file nor a git ref"},
		{"ref read as a git option", string(base), []string{"-base=--output=out"}, exitBadInput, `-base "--output=out": a git ref cannot start with "-"`},
		{"YAML syntax error", "openapi: 3.0.3\ninfo: [\n", nil, exitBadInput, "load"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := filepath.Join(t.TempDir(), "head.yaml")
			require.NoError(t, os.WriteFile(head, []byte(tc.head), 0o600))
			args := append([]string{"breaking", "-base", "main", "-head", head}, tc.extra...)
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=TestHelperProcess", "--"}, args...)...)
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "SPECDIFF_HELPER=1")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			if exitErr, ok := err.(*exec.ExitError); ok {
				code = exitErr.ExitCode()
			}
			assert.Equal(t, tc.code, code, out.String())
			assert.Contains(t, out.String(), tc.want)
			assert.NoFileExists(t, injected, "git took -base for an option")
		})
	}

	t.Run("git show never takes the object for an option", func(t *testing.T) {
		_, err := gitShow(repo, "--output="+injected, maxDocumentBytes)
		assert.Error(t, err)
		assert.NoFileExists(t, injected)
	})
}

// TestHelperProcess runs specdiff in a child process, so that a test can
// choose its working directory (the git repository) without chdir.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("SPECDIFF_HELPER") != "1" {
		t.Skip("helper process for TestBreakingAgainstGitRefs")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// BenchmarkUpstreamLargeDocument compares against a document of thousands of
// schemas, after loading it: the part of the work that grows with the
// document beyond parsing.
func BenchmarkUpstreamLargeDocument(b *testing.B) {
	data := largeDocument(b, 5000)
	up, err := loadSpec(data, "large.json")
	require.NoError(b, err)
	ours, err := upstreamRun{ours: "testdata/ours.yaml"}.loadOurs()
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		doc, err := findOperations(up, "large.json", ours.pats, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := compareDocument(ours, doc, "large"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLargeDocument(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "large.json")
	require.NoError(t, os.WriteFile(path, largeDocument(t, 3000), 0o600))
	code, out, errOut := runCmd("upstream", "-spec", path, "-ours", "testdata/ours.yaml")
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "0 breaking, 0 narrower, 0 wider")
}

// largeDocument is identical.json with n more schemas and n more paths.
func largeDocument(tb testing.TB, n int) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/identical.json")
	require.NoError(tb, err)
	var doc map[string]any
	require.NoError(tb, json.Unmarshal(data, &doc))
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	paths := doc["paths"].(map[string]any)
	for i := range n {
		name := fmt.Sprintf("Model%d", i)
		schemas[name] = map[string]any{"type": "object", "properties": map[string]any{
			"id": map[string]any{"type": "string"}, "count": map[string]any{"type": "integer", "minimum": 0},
		}}
		paths[fmt.Sprintf("/models-%d", i)] = map[string]any{"get": map[string]any{
			"operationId": fmt.Sprintf("models_%d_list", i),
			"responses": map[string]any{"200": map[string]any{"description": "", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}}},
		}}
	}
	out, err := json.Marshal(doc)
	require.NoError(tb, err)
	return out
}

// baseWithCategories writes, in dir, testdata/ours.yaml with its
// categories enum (ours has [hris, ats]) set to categories, and returns
// its path: the base of a breaking run whose head is testdata/ours.yaml.
func baseWithCategories(t *testing.T, dir, categories string) string {
	t.Helper()
	ours, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	changed := strings.Replace(string(ours), "enum: [hris, ats]", "enum: ["+categories+"]", 1)
	require.NotEqual(t, string(ours), changed, "testdata/ours.yaml has no categories enum [hris, ats] any more: update baseWithCategories")
	base := filepath.Join(dir, "base.yaml")
	require.NoError(t, os.WriteFile(base, []byte(changed), 0o600))
	return base
}

// newGitRepo returns a new git repository, on branch main, in a temporary
// directory, and a function that runs git there; the test is skipped
// where git is not installed.
func newGitRepo(t *testing.T) (string, func(args ...string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	git("init", "-q", "-b", "main")
	return repo, git
}

// requireOriginID is spec (testdata/ours.yaml) with end_user_origin_id a
// new required property of the request: a breaking change.
func requireOriginID(spec string) string {
	required := strings.Replace(spec, "required: [end_user_email_address, categories]",
		"required: [end_user_email_address, categories, end_user_origin_id]", 1)
	return strings.Replace(required, "        link_expiry_mins:\n", "        end_user_origin_id:\n          type: string\n        link_expiry_mins:\n", 1)
}
