package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The GitHub Action (.github/actions/spec-drift) and the CI job that runs
// it cannot run here; these tests parse them, hold them to the workflow's
// conventions, check every script with bash -n, and run the action's
// script with specdiff as this test binary.

const (
	actionDir  = "../../.github/actions/spec-drift"
	actionFile = actionDir + "/action.yml"
	actionSh   = actionDir + "/spec-drift.sh"
	workflow   = "../../.github/workflows/ci.yml"
)

// step is a step of a job or of a composite action.
type step struct {
	Name  string            `yaml:"name"`
	Uses  string            `yaml:"uses"`
	Run   string            `yaml:"run"`
	Shell string            `yaml:"shell"`
	With  map[string]any    `yaml:"with"`
	Env   map[string]string `yaml:"env"`
}

type actionDef struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

type workflowDef struct {
	Jobs map[string]struct {
		If    string `yaml:"if"`
		Steps []step `yaml:"steps"`
	} `yaml:"jobs"`
}

func readYAML(t *testing.T, path string, v any) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, v), "%s must be valid YAML", path)
	return string(data)
}

// pinnedUses is a remote action pinned by commit, with its release in a
// comment: "uses: actions/checkout@<40 hex> # v7.0.1".
var (
	usesLine   = regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinnedUses = regexp.MustCompile(`^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$`)
	releaseTag = regexp.MustCompile(`^\s*#\s*v\d+(\.\d+)*\b`)
	inputRef   = regexp.MustCompile(`\$\{\{\s*inputs\.([\w-]+)\s*\}\}`)
)

// bashSyntax runs bash -n on a script, the expressions GitHub substitutes
// replaced by a word.
func bashSyntax(t *testing.T, name, script string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	script = regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(script, "EXPR")
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s: bash -n: %s", name, out)
}

func TestActionDefinition(t *testing.T) {
	t.Parallel()
	var a actionDef
	raw := readYAML(t, actionFile, &a)
	ciRaw, err := os.ReadFile(workflow)
	require.NoError(t, err)

	assert.Equal(t, "composite", a.Runs.Using, "the action is a composite one: steps, no container or node program")
	assert.Contains(t, a.Description, "same ref as", "the description must say the action is versioned with the module")
	for name, in := range a.Inputs {
		assert.NotEmpty(t, in.Description, "input %s needs a description", name)
	}
	for _, m := range inputRef.FindAllStringSubmatch(raw, -1) {
		assert.Contains(t, a.Inputs, m[1], "action.yml uses inputs.%s, which it does not declare", m[1])
	}
	for _, want := range []string{"spec", "base-ref", "upstream", "format", "allow", "fail-on-upstream"} {
		assert.Contains(t, a.Inputs, want, "the action needs the input %s", want)
	}

	for i, s := range a.Runs.Steps {
		switch {
		case s.Uses != "":
			assert.Regexp(t, pinnedUses, s.Uses, "step %d: pin actions by commit", i)
			ref, _, _ := strings.Cut(s.Uses, "@")
			assert.Contains(t, string(ciRaw), "uses: "+s.Uses, "step %d: use the commit ci.yml uses for %s", i, ref)
		case s.Run != "":
			assert.Equal(t, "bash", s.Shell, "step %d (%s): a composite action's run step needs shell: bash", i, s.Name)
			assert.NotContains(t, s.Run, "${{", "step %d (%s): pass inputs through env, never spliced into the script", i, s.Name)
			bashSyntax(t, fmt.Sprintf("action.yml step %d", i), s.Run)
		default:
			t.Errorf("step %d (%s) neither uses an action nor runs a script", i, s.Name)
		}
	}
	for _, m := range usesLine.FindAllStringSubmatch(raw, -1) {
		assert.Regexp(t, releaseTag, m[2], "%s: give the release in a comment after the commit", m[1])
	}

	script, err := os.ReadFile(actionSh)
	require.NoError(t, err)
	bashSyntax(t, actionSh, string(script))

	// The default documents are the seven copies.
	docs, err := filepath.Glob(filepath.Join(actionDir, "../../../cmd/specdiff/testdata/upstream/*.json"))
	require.NoError(t, err)
	assert.Len(t, docs, 7, "the action's default upstream documents are cmd/specdiff/testdata/upstream's seven copies")
}

func TestWorkflowRunsTheAction(t *testing.T) {
	t.Parallel()
	var w workflowDef
	raw := readYAML(t, workflow, &w)
	job, ok := w.Jobs["spec-drift"]
	require.True(t, ok, "ci.yml needs the spec-drift job")
	assert.Equal(t, "github.event_name == 'pull_request'", job.If, "the spec-drift job runs on pull requests")
	uses := slices.IndexFunc(job.Steps, func(s step) bool { return s.Uses == "./.github/actions/spec-drift" })
	require.GreaterOrEqual(t, uses, 1, "the spec-drift job checks out the repository, then uses ./.github/actions/spec-drift")
	assert.True(t, strings.HasPrefix(job.Steps[0].Uses, "actions/checkout@"), "the job's first step checks out the repository")
	assert.Equal(t, 0, job.Steps[0].With["fetch-depth"], "the breaking check needs the base commit: fetch-depth 0")

	for name, j := range w.Jobs {
		for i, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				assert.Equal(t, false, s.With["persist-credentials"], "job %s step %d: check out with persist-credentials: false", name, i)
			}
			if s.Uses != "" && !strings.HasPrefix(s.Uses, "./") {
				assert.Regexp(t, pinnedUses, s.Uses, "job %s step %d: pin actions by commit", name, i)
			}
			if s.Run != "" {
				bashSyntax(t, fmt.Sprintf("ci.yml job %s step %d", name, i), s.Run)
			}
		}
	}
	for _, m := range usesLine.FindAllStringSubmatch(raw, -1) {
		if !strings.HasPrefix(m[1], "./") {
			assert.Regexp(t, releaseTag, m[2], "%s: give the release in a comment after the commit", m[1])
		}
	}
}

// actionRun runs the action's script in dir, as a step of the action
// would, with specdiff being this test binary (see TestHelperProcess).
func actionRun(t *testing.T, dir, mode string, env map[string]string) (int, string, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	tmp := t.TempDir()
	wrapper := filepath.Join(tmp, "specdiff")
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(wrapper, fmt.Appendf(nil, "#!/bin/sh\nSPECDIFF_HELPER=1 exec %q -test.run='^TestHelperProcess$' -- \"$@\"\n", self), 0o700))
	actionAbs, err := filepath.Abs(actionDir)
	require.NoError(t, err)
	summary := filepath.Join(tmp, "summary.md")
	cmd := exec.Command(bash, filepath.Join(actionAbs, "spec-drift.sh"), mode)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ACTION_DIR="+actionAbs, "RUNNER_TEMP="+tmp, "GITHUB_STEP_SUMMARY="+summary, "SPECDIFF="+wrapper)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	written, _ := os.ReadFile(summary)
	return code, out.String(), errOut.String() + "\nsummary:\n" + string(written)
}

func TestActionUpstream(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	cases := []struct {
		name     string
		env      map[string]string
		code     int
		want     []string // in stdout
		notWant  []string // not in stdout
		summary  bool     // the markdown report is in the job summary
		jsonOnly bool     // stdout opens with the JSON report
	}{
		{"defaults: reported as warnings, not failing", map[string]string{"SPEC": "openapi/link-token.yaml"}, 0,
			[]string{"::warning file=openapi/link-token.yaml,line=", "title=specdiff upstream%3A breaking%3A", "7 documents (accounting, ats, crm, filestorage, hris, mktg, ticketing)",
				"::notice title=spec-drift::Merge's documents differ"},
			[]string{"::error "}, true, false},
		{"fail-on-upstream", map[string]string{"SPEC": "openapi/link-token.yaml", "FAIL_ON_UPSTREAM": "true"}, 1,
			[]string{"::error file=openapi/link-token.yaml,line="}, []string{"fail-on-upstream is not true"}, true, false},
		{"documents one a line, blank lines and spaces around", map[string]string{"SPEC": "openapi/link-token.yaml", "FORMAT": "text",
			"UPSTREAM": "\n  cmd/specdiff/testdata/upstream/merge_hris.link-flow.json  \n\ncmd/specdiff/testdata/upstream/merge_mktg.link-flow.json\n"}, 0,
			[]string{"our spec", "2 documents (hris, mktg)"}, []string{"::warning"}, true, false},
		{"json", map[string]string{"SPEC": "openapi/link-token.yaml", "FORMAT": "json"}, 0, nil, nil, true, true},
		{"bad format", map[string]string{"SPEC": "openapi/link-token.yaml", "FORMAT": "xml"}, 2, nil, nil, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, rest := actionRun(t, root, "upstream", tc.env)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, rest)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			for _, w := range tc.notWant {
				assert.NotContains(t, out, w)
			}
			if tc.summary {
				assert.Contains(t, rest, "summary:\n## specdiff upstream: ", "the markdown report goes to the job summary")
			}
			if tc.jsonOnly {
				var m matrix
				require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&m), "with format json the log opens with the JSON report")
				assert.Equal(t, 7, m.Summary.Documents)
			}
		})
	}
}

func TestActionBreaking(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	repo, git := newGitRepo(t)
	spec := filepath.Join("third_party", "link-token.yaml")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "third_party"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, spec), base, 0o600))
	git("add", ".")
	git("commit", "-q", "-m", "base")
	required := requireOriginID(string(base))
	require.NoError(t, os.WriteFile(filepath.Join(repo, spec), []byte(required), 0o600))
	// The annotation points at the new property in the head spec.
	line := fmt.Sprint(1 + strings.Count(required[:strings.Index(required, "        end_user_origin_id:")], "\n"))
	const key = "new-required-request-property POST /link-token end_user_origin_id"
	require.NoError(t, os.WriteFile(filepath.Join(repo, "allow.txt"), []byte(key+" -- Merge requires it now\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "expired.txt"), []byte(key+" -- Merge requires it now (until 2020-01-01)\n"), 0o600))

	cases := []struct {
		name string
		env  map[string]string
		code int
		want string // in stdout
	}{
		{"a breaking change", map[string]string{"SPEC": spec, "BASE_REF": "main"}, 1,
			"::error file=" + spec + ",line=" + line + ",title=specdiff breaking%3A new-required-request-property::POST /link-token: "},
		{"acknowledged", map[string]string{"SPEC": spec, "BASE_REF": "main", "ALLOW": "allow.txt"}, 0,
			"::notice file=" + spec + ",line=" + line + ",title=specdiff breaking%3A new-required-request-property::"},
		{"acknowledged until a day past", map[string]string{"SPEC": spec, "BASE_REF": "main", "ALLOW": "expired.txt"}, 1,
			"::error file=expired.txt,line=1,title=specdiff breaking%3A expired allow entry::expired: its date, 2020-01-01, has passed"},
		{"no base: skipped", map[string]string{"SPEC": spec}, 0, "::notice title=spec-drift::No base ref"},
		{"a spec the base lacks: skipped", map[string]string{"SPEC": "new.yaml", "BASE_REF": "main"}, 0, "new.yaml is not in main"},
		{"a ref read as an option", map[string]string{"SPEC": spec, "BASE_REF": "--output=x"}, 2, "starts with -"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, rest := actionRun(t, repo, "breaking", tc.env)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, rest)
			assert.Contains(t, out, tc.want)
			if tc.code == exitChanges || (tc.code == exitOK && tc.env["ALLOW"] != "") {
				assert.Contains(t, rest, "summary:\n## specdiff breaking", "the markdown report goes to the job summary")
			}
		})
	}
}
