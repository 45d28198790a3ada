// Command gremlinscheck reads go-gremlins' JSON report of one package and the
// package's list of equivalent mutants, and fails when a mutant lived that
// the list does not explain, or when an entry of the list matches no mutant
// of the code any more (it went stale when the code changed).
//
//	go run ./internal/gremlinscheck -report bin/gremlins/client.json -dir client -list client/gremlins-equivalent.txt
//
// An entry of the list is two lines: where the mutant was and why it cannot
// be killed, then the source line it mutates, trimmed, with the column of
// the mutated operator in that trimmed text:
//
//	client/errors.go:565:30 CONDITIONALS_BOUNDARY -- <why no test can tell the mutant from the code>
//		at 27 of: if c := s[i]; c < ' ' || c > '~' {
//
// A survivor matches an entry by file, mutator, trimmed line and column in
// it, so entries survive code moving up or down or being re-indented; the
// line:col of the first line is for the reader and is reported when it has
// drifted. Lines starting with # and blank lines are comments.
//
// Exit status: 0 when every survivor is listed and every entry matches a
// mutant; 1 otherwise; 2 for bad input. An entry whose mutant was killed or
// timed out this run is reported but does not fail: a loaded machine can
// time a test out or fail a timing bound.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// report is the part of go-gremlins' --output JSON (v0.6.0) this reads.
type report struct {
	TestEfficacy      float64 `json:"test_efficacy"`
	MutationsCoverage float64 `json:"mutations_coverage"`
	MutantsKilled     int     `json:"mutants_killed"`
	MutantsLived      int     `json:"mutants_lived"`
	MutantsNotViable  int     `json:"mutants_not_viable"`
	MutantsNotCovered int     `json:"mutants_not_covered"`
	Files             []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// mutant is one mutation of the report, located in the source.
type mutant struct {
	file      string // relative to the module root, slash-separated
	line, col int
	mutator   string
	status    string
	key       key
}

// key identifies a mutant independently of its line number and indentation.
type key struct {
	file, mutator, code string
	col                 int // 1-based, in code
}

// entry is one listed equivalent mutant.
type entry struct {
	listLine  int // where it is in the list, for messages
	file      string
	line, col int
	mutator   string
	reason    string
	key       key
}

func main() {
	reportPath := flag.String("report", "", "go-gremlins' JSON report (unleash --output) of one package")
	dir := flag.String("dir", "", "the package's directory, relative to the module root (gremlins' file names are relative to it)")
	listPath := flag.String("list", "", "the list of equivalent mutants (default <dir>/gremlins-equivalent.txt)")
	flag.Parse()
	if *reportPath == "" || *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gremlinscheck -report file.json -dir pkgdir [-list file]")
		os.Exit(2)
	}
	if *listPath == "" {
		*listPath = path.Join(*dir, "gremlins-equivalent.txt")
	}
	ok, err := run(os.Stdout, *reportPath, *dir, *listPath, os.ReadFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gremlinscheck:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run checks one package's report against its list and writes what it
// finds to w. It reports whether the check passed.
func run(w io.Writer, reportPath, dir, listPath string, readFile func(string) ([]byte, error)) (bool, error) {
	raw, err := readFile(reportPath)
	if err != nil {
		return false, err
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return false, fmt.Errorf("%s: %w", reportPath, err)
	}
	src := sourceLines(readFile)
	mutants, err := locate(rep, dir, src)
	if err != nil {
		return false, err
	}
	listRaw, err := readFile(listPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	entries, err := parseList(listPath, string(listRaw))
	if err != nil {
		return false, err
	}
	res := match(mutants, entries)

	counts := map[string]int{}
	for _, m := range mutants {
		counts[m.status]++
	}
	fmt.Fprintf(w, "gremlinscheck: %s: efficacy %.2f%% (killed %d, lived %d), mutant coverage %.2f%% (not covered %d), timed out %d, not viable %d; %d survivors listed as equivalent in %s\n",
		dir, rep.TestEfficacy, counts["KILLED"], counts["LIVED"], rep.MutationsCoverage, counts["NOT COVERED"],
		counts["TIMED OUT"], counts["NOT VIABLE"], len(res.listed), listPath)
	for _, d := range res.drifted {
		fmt.Fprintf(w, "  moved: %s:%d %s:%d:%d %s is now at %d:%d\n", listPath, d.e.listLine, d.e.file, d.e.line, d.e.col, d.e.mutator, d.m.line, d.m.col)
	}
	for _, d := range res.notLived {
		fmt.Fprintf(w, "  note: %s:%d %s:%d:%d %s was %s this run (listed as equivalent)\n", listPath, d.e.listLine, d.e.file, d.m.line, d.m.col, d.e.mutator, d.m.status)
	}
	for _, e := range res.stale {
		fmt.Fprintf(w, "  stale: %s:%d %s:%d:%d %s matches no mutant of the code any more (the line changed?): update or remove the entry\n",
			listPath, e.listLine, e.file, e.line, e.col, e.mutator)
	}
	if len(res.unlisted) > 0 {
		fmt.Fprintf(w, "  %d survivors are not in %s: kill each with a test, or list it with the reason no test can kill it:\n", len(res.unlisted), listPath)
		for _, m := range res.unlisted {
			fmt.Fprintf(w, "%s:%d:%d %s -- TODO why no test can tell this mutant from the code\n\tat %d of: %s\n", m.file, m.line, m.col, m.mutator, m.key.col, m.key.code)
		}
	}
	return len(res.unlisted) == 0 && len(res.stale) == 0, nil
}

// sourceLines returns a cached reader of a file's lines.
func sourceLines(readFile func(string) ([]byte, error)) func(file string) ([]string, error) {
	cache := map[string][]string{}
	return func(file string) ([]string, error) {
		if lines, ok := cache[file]; ok {
			return lines, nil
		}
		raw, err := readFile(file)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(string(raw), "\n")
		cache[file] = lines
		return lines, nil
	}
}

// locate turns the report's mutations into mutants keyed by their source
// line, sorted by file and position.
func locate(rep report, dir string, src func(string) ([]string, error)) ([]mutant, error) {
	var out []mutant
	for _, f := range rep.Files {
		file := path.Join(dir, f.Name)
		lines, err := src(file)
		if err != nil {
			return nil, fmt.Errorf("the report names %s: %w", file, err)
		}
		for _, m := range f.Mutations {
			if m.Line < 1 || m.Line > len(lines) {
				return nil, fmt.Errorf("%s:%d: no such line (is the report of this code?)", file, m.Line)
			}
			code, col, ok := trimmed(lines[m.Line-1], m.Column)
			if !ok {
				return nil, fmt.Errorf("%s:%d:%d: no such column (is the report of this code?)", file, m.Line, m.Column)
			}
			out = append(out, mutant{file: file, line: m.Line, col: m.Column, mutator: m.Type, status: m.Status,
				key: key{file: file, mutator: m.Type, code: code, col: col}})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		if a.col != b.col {
			return a.col < b.col
		}
		return a.mutator < b.mutator
	})
	return out, nil
}

// trimmed returns a source line without its surrounding space, and col (a
// 1-based byte column of the line) as a column of the trimmed text.
func trimmed(line string, col int) (string, int, bool) {
	code := strings.TrimLeft(line, " \t")
	indent := len(line) - len(code)
	code = strings.TrimRight(code, " \t\r")
	c := col - indent
	return code, c, c >= 1 && c <= len(code)
}

var (
	entryLine = regexp.MustCompile(`^(\S+):(\d+):(\d+) ([A-Z_]+) -- (\S.*)$`)
	codeLine  = regexp.MustCompile(`^\s+at (\d+) of: (.*)$`)
)

// parseList reads the list of equivalent mutants.
func parseList(name, text string) ([]entry, error) {
	var out []entry
	var pending *entry
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if pending != nil {
			m := codeLine.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: want the mutated line, \"\\tat <column> of: <code>\", after the entry of line %d", name, n, pending.listLine)
			}
			col, _ := strconv.Atoi(m[1])
			code := strings.TrimSpace(m[2])
			if col < 1 || col > len(code) {
				return nil, fmt.Errorf("%s:%d: column %d is outside the code", name, n, col)
			}
			pending.key = key{file: pending.file, mutator: pending.mutator, code: code, col: col}
			out = append(out, *pending)
			pending = nil
			continue
		}
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := entryLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: want \"<file>:<line>:<col> <MUTATOR> -- <reason>\"", name, n)
		}
		l, _ := strconv.Atoi(m[2])
		c, _ := strconv.Atoi(m[3])
		pending = &entry{listLine: n, file: m[1], line: l, col: c, mutator: m[4], reason: m[5]}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if pending != nil {
		return nil, fmt.Errorf("%s:%d: the entry has no mutated line after it", name, pending.listLine)
	}
	return out, nil
}

type pair struct {
	e entry
	m mutant
}

type result struct {
	listed   []pair   // survivors explained by an entry
	drifted  []pair   // entries whose mutant is at another line:col now
	notLived []pair   // entries whose mutant did not survive this run
	stale    []entry  // entries that match no mutant
	unlisted []mutant // survivors no entry explains
}

// match pairs entries with mutants of the same key. Several mutants can share
// a key (identical lines in one file): entries and mutants of one key pair
// up in order, survivors first, so n entries explain n survivors.
func match(mutants []mutant, entries []entry) result {
	byKey := map[key][]mutant{}
	for _, m := range mutants {
		byKey[m.key] = append(byKey[m.key], m)
	}
	for k, ms := range byKey {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].status == "LIVED" && ms[j].status != "LIVED" })
		byKey[k] = ms
	}
	var res result
	for _, e := range entries {
		ms := byKey[e.key]
		if len(ms) == 0 {
			res.stale = append(res.stale, e)
			continue
		}
		m := ms[0]
		byKey[e.key] = ms[1:]
		p := pair{e, m}
		if m.line != e.line || m.col != e.col {
			res.drifted = append(res.drifted, p)
		}
		if m.status == "LIVED" {
			res.listed = append(res.listed, p)
		} else {
			res.notLived = append(res.notLived, p)
		}
	}
	for _, m := range mutants {
		if m.status != "LIVED" {
			continue
		}
		if !containsMutant(res.listed, m) {
			res.unlisted = append(res.unlisted, m)
		}
	}
	return res
}

func containsMutant(ps []pair, m mutant) bool {
	for _, p := range ps {
		if p.m.file == m.file && p.m.line == m.line && p.m.col == m.col && p.m.mutator == m.mutator {
			return true
		}
	}
	return false
}
