package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Matching our operations with a document's. An operation of ours is found
// in a document by its method and by the last segments of its path: Merge's
// category documents repeat their server's "/<category>/v1" in every path
// (POST /hris/v1/link-token below https://api.merge.dev/api/hris/v1), and a
// bundle of several categories puts each below its own prefix. A path
// parameter matches any path parameter in the same position, whatever its
// name: /account-token/{public_token} matches /hris/v1/account-token/{token}.

// methods are the operation keys of a path item, in the order operations of
// one path are listed.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operationPattern is an operation of ours, as it is looked for in a
// document.
type operationPattern struct {
	method string   // upper case: "POST"
	path   string   // ours: "/account-token/{public_token}"
	segs   []string // its segments, each parameter written "{}"
	params []string // the names of its path parameters, in order
}

func newPattern(method, path string) operationPattern {
	segs, params := splitPath(path)
	return operationPattern{method: strings.ToUpper(method), path: path, segs: segs, params: params}
}

// String names the operation as the reports do: "POST /link-token".
func (p operationPattern) String() string { return p.method + " " + p.path }

// key is the method in lower case, as a path item's member is named.
func (p operationPattern) key() string { return strings.ToLower(p.method) }

// splitPath splits a path into its segments, each template expression
// written "{}" so that parameters match by position, and returns the names
// of the parameters in order.
func splitPath(path string) (segs, params []string) {
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if !strings.Contains(seg, "{") {
			segs = append(segs, seg)
			continue
		}
		var b strings.Builder
		for {
			open := strings.IndexByte(seg, '{')
			if open < 0 {
				break
			}
			end := strings.IndexByte(seg[open:], '}')
			if end < 0 {
				break
			}
			b.WriteString(seg[:open])
			b.WriteString("{}")
			params = append(params, seg[open+1:open+end])
			seg = seg[open+end+1:]
		}
		b.WriteString(seg)
		segs = append(segs, b.String())
	}
	return segs, params
}

// matches reports whether a document's path ends with the pattern's
// segments, parameters matching by position. It reads the path from its
// end, allocating nothing unless a segment holds a template expression:
// trimJSON asks it of every path of documents of thousands.
func (p operationPattern) matches(path string) bool {
	rest, more := strings.Trim(path, "/"), true
	for i := len(p.segs) - 1; i >= 0; i-- {
		if !more {
			return false // the path has fewer segments
		}
		seg := rest
		if j := strings.LastIndexByte(rest, '/'); j >= 0 {
			seg, rest = rest[j+1:], rest[:j]
		} else {
			more = false
		}
		if !strings.Contains(seg, "{") {
			if seg != p.segs[i] {
				return false
			}
			continue
		}
		if segs, _ := splitPath(seg); len(segs) != 1 || segs[0] != p.segs[i] {
			return false
		}
	}
	return true
}

// prefix is what a matching path holds before the pattern's segments:
// "/hris/v1" for /hris/v1/link-token and /link-token.
func (p operationPattern) prefix(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := len(segs) - len(p.segs)
	if n <= 0 {
		return ""
	}
	return "/" + strings.Join(segs[:n], "/")
}

// patternsOf lists the operations of a document, sorted by path and then in
// the order of methods.
func patternsOf(doc *openapi3.T) []operationPattern {
	var out []operationPattern
	if doc.Paths == nil {
		return nil
	}
	for _, path := range sortedPaths(doc.Paths) {
		item := doc.Paths.Value(path)
		for _, m := range methods {
			if item.GetOperation(strings.ToUpper(m)) != nil {
				out = append(out, newPattern(m, path))
			}
		}
	}
	return out
}

func sortedPaths(paths *openapi3.Paths) []string {
	out := make([]string, 0, paths.Len())
	for path := range paths.Map() {
		out = append(out, path)
	}
	slices.Sort(out)
	return out
}

// picks are the -path values: each chooses, in a document, the path of the
// operation of ours it ends with, when several paths could be chosen.
type picks []string

// check refuses a -path that does not start with / or that ends with none
// of our operations' paths.
func (ps picks) check(ours []operationPattern) error {
	for _, p := range ps {
		if !strings.HasPrefix(p, "/") {
			return usageError{upstreamSynopsis, fmt.Sprintf("-path %q must start with /", shown(p))}
		}
		if !slices.ContainsFunc(ours, func(o operationPattern) bool { return o.matches(p) }) {
			return usageError{upstreamSynopsis, fmt.Sprintf("-path %q ends with the path of none of our operations (%s)", shown(p), listOperations(ours))}
		}
	}
	return nil
}

// forPattern returns the -path values that end with the pattern's path.
func (ps picks) forPattern(p operationPattern) []string {
	var out []string
	for _, v := range ps {
		if p.matches(v) {
			out = append(out, v)
		}
	}
	return out
}

// choosePath picks the path of an operation of ours among candidates, the
// paths of the document name that hold the operation's method and end with
// its path: a -path value that ends with it, which must then be there; else
// the operation's own path; else the one candidate. No candidate is "" (the
// document does not hold the operation); several, with no -path, are an
// error that lists them, sorted (the first maxListedPaths).
func choosePath(name string, p operationPattern, candidates []string, ps picks) (string, error) {
	slices.Sort(candidates)
	name = shown(name)
	if wanted := ps.forPattern(p); len(wanted) > 0 {
		for _, w := range wanted {
			if slices.Contains(candidates, w) {
				return w, nil
			}
		}
		if len(candidates) > 0 {
			return "", fmt.Errorf("%s has no %s %s operation; %s is at %s", name, p.method, listPaths(wanted), p, listPaths(candidates))
		}
		return "", fmt.Errorf("%s has no %s %s operation", name, p.method, listPaths(wanted))
	}
	switch {
	case slices.Contains(candidates, p.path):
		return p.path, nil
	case len(candidates) == 0:
		return "", nil
	case len(candidates) > 1:
		return "", fmt.Errorf("%s has %d %s operations, choose one with -path: %s", name, len(candidates), p, listPaths(candidates))
	}
	return candidates[0], nil
}

// noOperation is the error for a document holding none of our operations.
func noOperation(name string, ours []operationPattern) error {
	return fmt.Errorf("%s has none of our operations (%s): is it one of Merge's category documents?", shown(name), listOperations(ours))
}

// listOperations joins the operations' names with commas, the first
// maxListedPaths of them.
func listOperations(ops []operationPattern) string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.String()
	}
	return listPaths(names)
}

// maxListedPaths is how many paths an error lists at most.
const maxListedPaths = 8

// listPaths joins paths with commas, each shown, the first maxListedPaths
// of them and how many more there are.
func listPaths(paths []string) string {
	var b strings.Builder
	for i, p := range paths {
		if i == maxListedPaths {
			fmt.Fprintf(&b, " and %d more", len(paths)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(shown(p))
	}
	return b.String()
}
