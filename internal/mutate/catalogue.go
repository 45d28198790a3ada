package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// mutant is one entry of the catalogue, ready to check.
type mutant struct {
	name     string
	category string
	spec     []byte // the mutated spec, for a spec mutant
	mock     string // the mock mutant's id, for a mock mutant
}

func (m mutant) kind() string {
	if m.mock != "" {
		return "mock"
	}
	return "spec"
}

// catalogue is every mutant, and the unmutated spec as the mutants are
// encoded (the baseline).
type catalogue struct {
	base    []byte
	mutants []mutant
}

// catMock is the category of every mock mutant.
const catMock = "mock"

// loadCatalogue generates the mutants of the spec at path and of the mock.
// A spec mutant that changes nothing is an error: the catalogue would count
// a mutant no check could ever kill.
func loadCatalogue(path string) (*catalogue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := parseSpec(data)
	if err != nil {
		return nil, err
	}
	base, err := encodeSpec(deepCopy(doc))
	if err != nil {
		return nil, err
	}
	specs, err := specMutants(doc)
	if err != nil {
		return nil, err
	}
	cat := &catalogue{base: base}
	for _, sm := range specs {
		mutated, err := sm.apply(doc)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(mutated, base) {
			return nil, fmt.Errorf("spec mutant %q changes nothing", sm.name)
		}
		cat.mutants = append(cat.mutants, mutant{name: sm.name, category: sm.category, spec: mutated})
	}
	mocks, err := mockMutants(doc)
	if err != nil {
		return nil, err
	}
	for _, mm := range mocks {
		cat.mutants = append(cat.mutants, mutant{name: mm.name, category: catMock, mock: mm.id})
	}
	return cat, nil
}

// equivSep separates a mutant's name from the reason in equivalent.txt.
const equivSep = " -- "

// readEquivalents reads the list of equivalent mutants: one per line,
// "<mutant name> -- <why no check can kill it>"; # starts a comment.
func readEquivalents(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseEquivalents(f, path)
}

func parseEquivalents(f io.Reader, path string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, equivSep)
		name, reason = strings.TrimSpace(name), strings.TrimSpace(reason)
		if !ok || name == "" || reason == "" {
			return nil, fmt.Errorf("%s:%d: want \"<mutant>%s<reason>\", got %q", path, n, equivSep, line)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s:%d: %q is listed twice", path, n, name)
		}
		out[name] = reason
	}
	return out, sc.Err()
}
