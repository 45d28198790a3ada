package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// report is the table, the summary and the verdict of one run.
type report struct {
	rows []row
	// newSurvivors survived and are not listed as equivalent; stale are
	// listed but were killed or are no longer produced.
	newSurvivors []string
	stale        []string
	killed       int
	equivalent   int
	byCategory   map[string][2]int // killed, total
	categories   []string
}

type row struct {
	name, killedBy string
}

// newReport classifies the results. full says the whole catalogue ran, so
// that an equivalent entry naming no mutant is stale.
func newReport(mutants []mutant, results []result, equiv map[string]string, full bool) *report {
	rep := &report{byCategory: map[string][2]int{}}
	produced := map[string]bool{}
	for i, m := range mutants {
		produced[m.name] = true
		res := results[i]
		c := rep.byCategory[m.category]
		if c[1] == 0 {
			rep.categories = append(rep.categories, m.category)
		}
		c[1]++
		reason, isEquiv := equiv[m.name]
		var verdict string
		switch {
		case len(res.killedBy) > 0:
			c[0]++
			rep.killed++
			verdict = strings.Join(res.killedBy, "; ")
			if isEquiv {
				rep.stale = append(rep.stale, m.name+" (listed as equivalent, but killed by "+verdict+")")
			}
		case isEquiv:
			rep.equivalent++
			verdict = "survived (equivalent: " + reason + ")"
		default:
			rep.newSurvivors = append(rep.newSurvivors, m.name)
			verdict = "**survived**"
		}
		rep.byCategory[m.category] = c
		rep.rows = append(rep.rows, row{m.name, verdict})
	}
	if full {
		var names []string
		for name := range equiv {
			if !produced[name] {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			rep.stale = append(rep.stale, name+" (listed as equivalent, but no longer produced)")
		}
	}
	return rep
}

func (rep *report) failed() bool { return len(rep.newSurvivors) > 0 || len(rep.stale) > 0 }

// score is killed / (total - equivalent), in percent.
func (rep *report) score() float64 {
	den := len(rep.rows) - rep.equivalent
	if den == 0 {
		return 100
	}
	return 100 * float64(rep.killed) / float64(den)
}

func (rep *report) write(w io.Writer) {
	fmt.Fprintln(w, "| mutant | killed by |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, r := range rep.rows {
		fmt.Fprintf(w, "| %s | %s |\n", escapeCell(r.name), escapeCell(r.killedBy))
	}
	fmt.Fprintln(w)
	for _, c := range rep.categories {
		k := rep.byCategory[c]
		fmt.Fprintf(w, "%-32s killed %3d of %3d\n", c, k[0], k[1])
	}
	fmt.Fprintln(w)
	for _, s := range rep.newSurvivors {
		fmt.Fprintf(w, "new survivor: %s (kill it with a test, or list it in internal/mutate/equivalent.txt with the reason it cannot be killed)\n", s)
	}
	for _, s := range rep.stale {
		fmt.Fprintf(w, "stale equivalent: %s\n", s)
	}
	fmt.Fprintf(w, "killed %d of %d (equivalent %d): score %.1f%%\n", rep.killed, len(rep.rows), rep.equivalent, rep.score())
}

func escapeCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
