// Command mutate measures what the contract suite catches: it applies a
// catalogue of single mutations, one at a time, to the spec and to the
// mock's behaviour, runs the checks that can notice each one, and prints a
// table (mutant, killed by) and a score.
//
//	go run ./internal/mutate [-j 2] [-run regexp] [-all] [-v]
//
// Spec mutants are generated from openapi/link-token.yaml's own structure
// (spec.go); mock mutants are behaviours of the mock that break the spec or
// its documentation (mockmutants.go). The checks, cheapest first: the spec
// still loads (openapi.Parse), check-generated (gen/ and
// client/models.gen.go are what the mutated spec generates), the breaking
// check (cmd/specdiff against the unmutated spec, as "make breaking"),
// then the tests of openapi, client, contracttest and cmd/linktoken.
//
// The test binaries are built once, through go's -overlay (nothing on disk
// changes): package openapi gets an init that replaces the embedded spec
// with the file named by LINKTOKEN_MUTATE_SPEC, and package contracttest a
// ServeHTTP that plays the mock mutant named by LINKTOKEN_MUTATE_MOCK around
// the real one (hooks/). A baseline run with neither set, and with the spec
// as this program re-encodes it, must pass every check first.
//
// A mutant no check kills must be listed in equivalent.txt with the reason
// it cannot be killed; mutate exits 1 when one is not, or when an entry
// there is no longer produced or is now killed, and 2 when it cannot run.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const (
	exitOK      = 0
	exitSurvive = 1
	exitError   = 2
)

func main() {
	os.Exit(run())
}

func run() int {
	jobs := flag.Int("j", 2, "mutants checked at once")
	filter := flag.String("run", "", "check only the mutants whose name matches this regexp")
	all := flag.Bool("all", false, "run every check on every mutant and list every killer (slower)")
	verbose := flag.Bool("v", false, "print each mutant's result as it comes, and a survivor's check output")
	list := flag.Bool("list", false, "print the catalogue and exit")
	equivFile := flag.String("equivalent", "internal/mutate/equivalent.txt", "the committed list of equivalent mutants")
	flag.Parse()

	start := time.Now()
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return exitError
	}
	cat, err := loadCatalogue(filepath.Join(root, "openapi", "link-token.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return exitError
	}
	var re *regexp.Regexp
	if *filter != "" {
		if re, err = regexp.Compile(*filter); err != nil {
			fmt.Fprintln(os.Stderr, "mutate: -run:", err)
			return exitError
		}
	}
	mutants := cat.mutants
	if re != nil {
		mutants = mutants[:0:0]
		for _, m := range cat.mutants {
			if re.MatchString(m.name) {
				mutants = append(mutants, m)
			}
		}
	}
	if *list {
		for _, m := range mutants {
			fmt.Printf("%-8s %-32s %s\n", m.kind(), m.category, m.name)
		}
		return exitOK
	}
	equiv, err := readEquivalents(filepath.Join(root, *equivFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return exitError
	}

	tmp, err := os.MkdirTemp("", "linktoken-mutate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return exitError
	}
	defer os.RemoveAll(tmp)
	r := &runner{root: root, tmp: tmp, all: *all, verbose: *verbose, base: cat.base}
	if err := r.build(); err != nil {
		fmt.Fprintln(os.Stderr, "mutate: build:", err)
		return exitError
	}
	built := time.Since(start)
	if err := r.baseline(); err != nil {
		fmt.Fprintln(os.Stderr, "mutate: baseline:", err)
		return exitError
	}
	fmt.Fprintf(os.Stderr, "mutate: built and checked the baseline in %s; %d mutants on %d workers\n",
		time.Since(start).Round(time.Second), len(mutants), *jobs)

	results, err := r.runAll(mutants, *jobs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return exitError
	}
	rep := newReport(mutants, results, equiv, re == nil)
	rep.write(os.Stdout)
	fmt.Printf("\nran %d mutants in %s (build and baseline %s)\n", len(mutants), time.Since(start).Round(time.Second), built.Round(time.Second))
	if rep.failed() {
		return exitSurvive
	}
	return exitOK
}

// moduleRoot is the directory of the root module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the module github.com/mergelink/linktoken")
	}
	return filepath.Dir(gomod), nil
}
