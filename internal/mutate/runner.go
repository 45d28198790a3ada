package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/openapi"
)

var (
	//go:embed hooks/spec_hook.go.txt
	specHook []byte
	//go:embed hooks/mock_hook.go.txt
	mockHook []byte
)

const (
	// envSpec and envMock are read by the hooks.
	envSpec = "LINKTOKEN_MUTATE_SPEC"
	envMock = "LINKTOKEN_MUTATE_MOCK"
	// serveHTTP is the real mock's method, renamed in the overlay so that
	// the hook's ServeHTTP can wrap it.
	serveHTTP = "func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {"
	// testTimeout bounds one test binary's run: a mutant that hangs a test
	// is killed by the timeout.
	testTimeout = "120s"
	// oapiCodegen is the generator at the version go.mod pins, as make
	// check-generated builds it.
	oapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)

// testRun is one run of a test binary, built once for every mutant.
type testRun struct {
	bin  string   // in bin/
	dir  string   // the package's directory, where go test runs it
	args []string // -test.run / -test.skip
	// confirming is the re-run of the tests that failed.
	confirming bool
}

func (t testRun) label() string {
	return "go test ./" + t.dir
}

var (
	// contracttest's slowest test (3,000 HTTP exchanges) runs last, only
	// when everything else passed.
	contractFast = testRun{bin: "contracttest.test", dir: "contracttest", args: []string{"-test.skip", "^TestGeneratedCases$"}}
	contractSlow = testRun{bin: "contracttest.test", dir: "contracttest", args: []string{"-test.run", "^TestGeneratedCases$"}}
	// specTests can notice a change of the spec: every package whose tests
	// load it, cheapest first. cmd/linktoken's load it through the mock.
	specTests = []testRun{
		{bin: "openapi.test", dir: "openapi"},
		{bin: "client.test", dir: "client"},
		contractFast,
		{bin: "linktoken.test", dir: "cmd/linktoken"},
		contractSlow,
	}
	// mockTests can notice a change of the mock: every package whose tests
	// run it (openapi and client never import contracttest).
	mockTests = []testRun{contractFast, {bin: "linktoken.test", dir: "cmd/linktoken"}, contractSlow}
)

// runner builds the binaries once and checks mutants with them.
type runner struct {
	root, tmp string
	all       bool
	verbose   bool
	base      []byte // the unmutated spec, as encoded by this program

	basePath string
	progress sync.Mutex
}

func (r *runner) bin(name string) string { return filepath.Join(r.tmp, "bin", name) }

// writeOverlay writes, in tmp, the -overlay file that puts the hooks into
// the builds of openapi and contracttest, and returns its path.
func writeOverlay(root, tmp string) (string, error) {
	ovDir := filepath.Join(tmp, "overlay")
	if err := os.MkdirAll(ovDir, 0o755); err != nil {
		return "", err
	}
	mockSrc, err := os.ReadFile(filepath.Join(root, "contracttest", "mock.go"))
	if err != nil {
		return "", err
	}
	mockMutated, err := renameServeHTTP(mockSrc)
	if err != nil {
		return "", err
	}
	replace := map[string][]byte{
		filepath.Join(root, "openapi", "zz_mutate_spec.go"):      specHook,
		filepath.Join(root, "contracttest", "mock.go"):           mockMutated,
		filepath.Join(root, "contracttest", "zz_mutate_mock.go"): mockHook,
	}
	ov := map[string]map[string]string{"Replace": {}}
	for target, content := range replace {
		file := filepath.Join(ovDir, filepath.Base(target))
		if err := os.WriteFile(file, content, 0o644); err != nil {
			return "", err
		}
		ov["Replace"][target] = file
	}
	ovJSON, _ := json.Marshal(ov)
	ovPath := filepath.Join(tmp, "overlay.json")
	return ovPath, os.WriteFile(ovPath, ovJSON, 0o644)
}

// build writes the overlay and builds the test binaries, oapi-codegen,
// genexports and specdiff, once.
func (r *runner) build() error {
	ovPath, err := writeOverlay(r.root, r.tmp)
	if err != nil {
		return err
	}
	binDir := filepath.Join(r.tmp, "bin") + string(filepath.Separator)
	steps := [][]string{
		{"go", "test", "-c", "-o", binDir, "-overlay", ovPath, "./openapi", "./client", "./contracttest", "./cmd/linktoken"},
		{"go", "build", "-o", binDir, oapiCodegen, "./internal/genexports"},
		{"go", "build", "-C", filepath.Join(r.root, "cmd", "specdiff"), "-o", binDir, "."},
	}
	for _, s := range steps {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Dir = r.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, out)
		}
	}
	r.basePath = filepath.Join(r.tmp, "base.yaml")
	return os.WriteFile(r.basePath, r.base, 0o644)
}

// renameServeHTTP renames the real mock's ServeHTTP so the hook can wrap it.
func renameServeHTTP(src []byte) ([]byte, error) {
	if bytes.Count(src, []byte(serveHTTP)) != 1 {
		return nil, fmt.Errorf("contracttest/mock.go has no single %q to wrap: update internal/mutate", serveHTTP)
	}
	return bytes.Replace(src, []byte(serveHTTP),
		[]byte(strings.Replace(serveHTTP, "ServeHTTP", "serveUnmutated", 1)), 1), nil
}

// baseline checks that the unmutated spec and mock pass every check, and
// that the hooks take effect: otherwise every kill would be meaningless.
func (r *runner) baseline() error {
	w, err := r.newWorker("baseline")
	if err != nil {
		return err
	}
	base := mutant{name: "baseline", spec: r.base}
	if _, err := openapi.Parse(r.base); err != nil {
		return fmt.Errorf("the re-encoded spec does not load: %w", err)
	}
	if killed, detail, err := w.checkGenerated(r.base); err != nil || killed {
		return fmt.Errorf("check-generated fails on the unmutated spec: %s %v", detail, err)
	}
	if killed, detail, err := w.breaking(r.base); err != nil || killed {
		return fmt.Errorf("the breaking check fails on the unmutated spec: %s %v", detail, err)
	}
	// Spec mutants run the tests on the re-encoded spec, mock mutants on
	// the embedded one: each setting must pass unmutated.
	for _, run := range []struct {
		tests []testRun
		m     mutant
		what  string
	}{{specTests, base, "the re-encoded spec"}, {mockTests, mutant{name: "baseline"}, "the embedded spec and the unmutated mock"}} {
		for _, t := range run.tests {
			if killed, detail, out := w.test(t, run.m); killed {
				return fmt.Errorf("%s fails on %s: %s\n%s", t.label(), run.what, detail, tail(out, 40))
			}
		}
	}
	// The hooks must be live: a spec that is not YAML fails openapi's
	// tests, and an unknown mock mutant panics contracttest's.
	if killed, _, _ := w.test(testRun{bin: "openapi.test", dir: "openapi", args: []string{"-test.run", "^TestSpecLoads$"}},
		mutant{name: "canary", spec: []byte("not: [yaml")}); !killed {
		return errors.New("the spec hook has no effect: a broken spec passes TestSpecLoads")
	}
	if killed, _, _ := w.test(testRun{bin: "contracttest.test", dir: "contracttest", args: []string{"-test.run", "^TestMockAnswers$"}},
		mutant{name: "canary", mock: "no-such-mutant"}); !killed {
		return errors.New("the mock hook has no effect: an unknown mock mutant passes TestMockAnswers")
	}
	return nil
}

// result is what the checks found on one mutant.
type result struct {
	killedBy []string // every check that failed, in order; empty: survived
	output   string   // a survivor's or a killer's test output, for -v
	elapsed  time.Duration
	err      error // the checks could not run
}

// runAll checks the mutants on jobs workers and returns their results in
// catalogue order.
func (r *runner) runAll(mutants []mutant, jobs int) ([]result, error) {
	if jobs < 1 {
		jobs = 1
	}
	results := make([]result, len(mutants))
	next := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	done := 0
	for j := range jobs {
		w, err := r.newWorker(fmt.Sprintf("w%d", j))
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				res := w.check(mutants[i])
				res.elapsed = time.Since(start)
				results[i] = res
				if res.err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s: %w", mutants[i].name, res.err) })
				}
				r.progress.Lock()
				done++
				if !r.verbose && done%50 == 0 {
					fmt.Fprintf(os.Stderr, "mutate: %d of %d mutants checked\n", done, len(mutants))
				}
				if r.verbose {
					verdict := "SURVIVED"
					if len(res.killedBy) > 0 {
						verdict = "killed by " + strings.Join(res.killedBy, "; ")
					}
					fmt.Fprintf(os.Stderr, "[%d/%d] %s: %s (%s)\n", done, len(mutants), mutants[i].name, verdict, res.elapsed.Round(10*time.Millisecond))
					if len(res.killedBy) == 0 && res.output != "" {
						fmt.Fprintln(os.Stderr, tail(res.output, 20))
					}
				}
				r.progress.Unlock()
			}
		}()
	}
	for i := range mutants {
		next <- i
	}
	close(next)
	wg.Wait()
	return results, firstErr
}

// worker holds one directory for generated code and mutated specs.
type worker struct {
	r   *runner
	dir string
}

func (r *runner) newWorker(name string) (*worker, error) {
	dir := filepath.Join(r.tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{"oapi-codegen.yaml", "overlay.yaml"} {
		data, err := os.ReadFile(filepath.Join(r.root, "gen", f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			return nil, err
		}
	}
	return &worker{r: r, dir: dir}, nil
}

// check runs the checks on one mutant, cheapest first, stopping at the
// first that kills it unless -all.
func (w *worker) check(m mutant) result {
	var res result
	kill := func(check string) bool {
		res.killedBy = append(res.killedBy, check)
		return !w.r.all
	}
	tests := mockTests
	if m.spec != nil {
		tests = specTests
		if _, err := openapi.Parse(m.spec); err != nil {
			// Nothing can load the spec: every check that reads it fails.
			res.killedBy = []string{"spec validation: " + shorten(lastLine(err.Error()), 90)}
			return res
		}
		killed, detail, err := w.checkGenerated(m.spec)
		if err != nil {
			res.err = err
			return res
		}
		if killed && kill("check-generated"+detail) {
			return res
		}
		killed, detail, err = w.breaking(m.spec)
		if err != nil {
			res.err = err
			return res
		}
		if killed && kill("breaking"+detail) {
			return res
		}
	}
	for _, t := range tests {
		killed, detail, out := w.test(t, m)
		if killed {
			res.output = out
			if kill(t.label() + ": " + detail) {
				return res
			}
			continue
		}
		if res.output == "" {
			res.output = out
		}
	}
	return res
}

// checkGenerated does what make check-generated does, with the binaries
// built once: generate from the spec with the committed settings, write
// client/models.gen.go with genexports, and compare with the committed
// files. It reports the files that differ.
func (w *worker) checkGenerated(spec []byte) (bool, string, error) {
	specPath := filepath.Join(w.dir, "spec.yaml")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return false, "", err
	}
	for _, f := range []string{"linktoken.gen.go", "models.gen.go"} {
		_ = os.Remove(filepath.Join(w.dir, f))
	}
	gen := exec.Command(w.r.bin("oapi-codegen"), "-config", "oapi-codegen.yaml", specPath)
	gen.Dir = w.dir
	if out, err := gen.CombinedOutput(); err != nil {
		return true, " (oapi-codegen fails: " + shorten(lastLine(string(out)), 60) + ")", nil
	}
	flags, err := genexportsFlags(w.r.root)
	if err != nil {
		return false, "", err
	}
	exp := exec.Command(w.r.bin("genexports"), append(flags, "-gen", filepath.Join(w.dir, "linktoken.gen.go"), "-spec", specPath, "-out", filepath.Join(w.dir, "models.gen.go"))...)
	if out, err := exp.CombinedOutput(); err != nil {
		return true, " (genexports fails: " + shorten(lastLine(string(out)), 60) + ")", nil
	}
	var stale []string
	for _, pair := range [][2]string{{"gen/linktoken.gen.go", "linktoken.gen.go"}, {"client/models.gen.go", "models.gen.go"}} {
		committed, err := os.ReadFile(filepath.Join(w.r.root, pair[0]))
		if err != nil {
			return false, "", err
		}
		generated, err := os.ReadFile(filepath.Join(w.dir, pair[1]))
		if err != nil {
			return false, "", err
		}
		if !bytes.Equal(committed, generated) {
			stale = append(stale, pair[0])
		}
	}
	if len(stale) == 0 {
		return false, "", nil
	}
	return true, " (" + strings.Join(stale, ", ") + ")", nil
}

// breaking runs the drift check as make breaking does, with the unmutated
// spec as the base. The allow-list is left out: it acknowledges the changes
// from main to this branch, not a mutant's, and under -strict an entry that
// matches nothing would fail every mutant.
func (w *worker) breaking(spec []byte) (bool, string, error) {
	head := filepath.Join(w.dir, "head.yaml")
	if err := os.WriteFile(head, spec, 0o644); err != nil {
		return false, "", err
	}
	cmd := exec.Command(w.r.bin("specdiff"), "breaking", "-base", w.r.basePath, "-head", head, "-format", "json")
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return false, "", nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		var rep struct {
			Breaking []struct{ ID string } `json:"breaking"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			return false, "", fmt.Errorf("specdiff's report: %w", err)
		}
		ids := make([]string, 0, len(rep.Breaking))
		for _, b := range rep.Breaking {
			ids = append(ids, b.ID)
		}
		slices.Sort(ids)
		return true, " [" + strings.Join(slices.Compact(ids), ", ") + "]", nil
	case errors.As(err, &exit):
		return true, " (bad input: " + shorten(lastLine(string(exit.Stderr)), 60) + ")", nil
	default:
		return false, "", fmt.Errorf("specdiff: %w", err)
	}
}

// failLine is a failed test or example in go test's output.
var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

// test runs one test binary against a mutant and reports whether it
// failed, naming the failed tests (the innermost ones).
func (w *worker) test(t testRun, m mutant) (bool, string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"-test.short", "-test.count=1", "-test.failfast", "-test.timeout=" + testTimeout}, t.args...)
	cmd := exec.CommandContext(ctx, w.r.bin(t.bin), args...)
	cmd.Dir = filepath.Join(w.r.root, t.dir)
	cmd.Env = testEnv()
	if m.spec != nil {
		path := filepath.Join(w.dir, "test-spec.yaml")
		if err := os.WriteFile(path, m.spec, 0o644); err != nil {
			return true, "cannot write the spec: " + err.Error(), ""
		}
		cmd.Env = append(cmd.Env, envSpec+"="+path)
	}
	if m.mock != "" {
		cmd.Env = append(cmd.Env, envMock+"="+m.mock)
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		return false, "", string(out)
	}
	// A kill must be repeatable: the failed tests run again, alone, and
	// must fail again (a test that is flaky under load would otherwise
	// kill any mutant).
	if top := topLevel(string(out)); len(top) > 0 && !t.confirming {
		again := testRun{bin: t.bin, dir: t.dir, args: []string{"-test.run", "^(" + strings.Join(top, "|") + ")$"}, confirming: true}
		if killed, _, _ := w.test(again, m); !killed {
			return false, "", "flaky, passed when run again: " + strings.Join(top, ", ") + "\n" + string(out)
		}
	}
	return true, failedTests(string(out)), string(out)
}

// topLevel lists the top-level tests and examples that failed.
func topLevel(out string) []string {
	var top []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		name, _, _ := strings.Cut(m[1], "/")
		if name = regexp.QuoteMeta(name); !slices.Contains(top, name) {
			top = append(top, name)
		}
	}
	return top
}

// testEnv is the environment without the variables that point the suite at
// a real server: every mode but the mock's skips.
func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "CONTRACT_BASE_URL", "PRISM_BASE_URL", "MERGE_API_KEY", "MERGE_REGION", envSpec, envMock:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// failedTests names the innermost failed tests of go test's output, or
// what else made it fail (a panic, a timeout).
func failedTests(out string) string {
	var names []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	var leaves []string
	for _, n := range names {
		inner := false
		for _, o := range names {
			if strings.HasPrefix(o, n+"/") {
				inner = true
				break
			}
		}
		if !inner && !slices.Contains(leaves, n) {
			leaves = append(leaves, n)
		}
	}
	switch {
	case strings.Contains(out, "panic: test timed out"):
		return "timeout"
	case len(leaves) == 0 && strings.Contains(out, "panic:"):
		return shorten(firstLineWith(out, "panic:"), 70)
	case len(leaves) == 0:
		return shorten(lastLine(out), 80)
	case len(leaves) > 2:
		return fmt.Sprintf("%s, %s and %d more", leaves[0], leaves[1], len(leaves)-2)
	}
	return strings.Join(leaves, ", ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shorten cuts s to n bytes on a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// genexportsFlags are the flags gen/generate.go's go:generate line gives
// genexports, but those naming its files (-gen, -spec, -out): the line is
// where they are written, so the check runs genexports as make generate
// does.
func genexportsFlags(root string) ([]string, error) {
	src, err := os.ReadFile(filepath.Join(root, "gen", "generate.go"))
	if err != nil {
		return nil, err
	}
	const directive = "//go:generate go run ../internal/genexports "
	for line := range strings.Lines(string(src)) {
		rest, ok := strings.CutPrefix(line, directive)
		if !ok {
			continue
		}
		var flags []string
		fields := strings.Fields(rest)
		for i := 0; i < len(fields); i++ {
			switch fields[i] {
			case "-gen", "-spec", "-out":
				i++ // and its value
			default:
				flags = append(flags, fields[i])
			}
		}
		return flags, nil
	}
	return nil, fmt.Errorf("gen/generate.go has no line %q", strings.TrimSpace(directive))
}
