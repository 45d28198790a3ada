package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/mergelink/linktoken/openapi"
)

const (
	operationPath = "/link-token"
	jsonMedia     = "application/json"
)

func runUpstream(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	var u upstreamRun
	fs.StringVar(&u.spec, "spec", "", "Merge's published OpenAPI document: a file, or an https URL (plain http only to a loopback host)")
	fs.StringVar(&u.path, "path", "", "the path of the operation in -spec, when several end in "+operationPath+" (default: "+operationPath+" itself, else the only path ending in it)")
	fs.StringVar(&u.ours, "ours", "", "our spec (default: the one embedded in this module)")
	fs.StringVar(&u.format, "format", "text", "output: text or json")
	if err := parseFlags(fs, upstreamSynopsis, args, stdout); err != nil {
		return 0, err
	}
	if u.spec == "" {
		return 0, usageError{upstreamSynopsis, "upstream needs -spec"}
	}
	if err := checkFormat(u.format, upstreamSynopsis); err != nil {
		return 0, err
	}
	if u.path != "" && !strings.HasPrefix(u.path, "/") {
		return 0, usageError{upstreamSynopsis, fmt.Sprintf("-path %q must start with /", shown(u.path))}
	}
	return u.run(stdout)
}

// upstreamRun is one "specdiff upstream", its flags parsed.
type upstreamRun struct {
	spec, path, ours, format string
	// whole loads JSON documents whole instead of trimming them first: the
	// slow way, kept for the tests that prove both give the same report.
	whole bool
}

func (u upstreamRun) run(stdout io.Writer) (int, error) {
	upData, err := readSource("-spec", u.spec, true)
	if err != nil {
		return 0, err
	}
	return u.runData(upData, stdout)
}

// runData is run on the upstream document already read.
func (u upstreamRun) runData(upData []byte, stdout io.Writer) (int, error) {
	var err error
	ourData, ourName := openapi.Spec(), "our spec"
	if u.ours != "" {
		if ourData, err = readSource("-ours", u.ours, false); err != nil {
			return 0, err
		}
		ourName = u.ours
	}
	upOp, err := loadOperation(upData, u.spec, u.path, u.whole)
	if err != nil {
		return 0, err
	}
	ourOp, err := loadOperation(ourData, ourName, "", u.whole)
	if err != nil {
		return 0, err
	}
	// Ours is the base: a change that breaks "clients of ours" when the API
	// is really upstream is one our client would trip over.
	changes, err := compare(upstreamDiffConfig(), trimmed(ourOp, ourName), trimmed(upOp, u.spec))
	if err != nil {
		return 0, err
	}
	r := newReport(changes, nil)
	title := fmt.Sprintf("POST %s: %s -> %s (found at %s)", operationPath, ourName, u.spec, upOp.path)
	if err := r.write(stdout, u.format, title); err != nil {
		return 0, err
	}
	if len(r.Breaking) > 0 {
		return exitChanges, nil
	}
	return exitOK, nil
}

// maxUntrimmedBytes bounds the documents loaded whole: YAML, and JSON that
// trimJSON cannot cut down (a "$ref" outside #/components/, say). kin-openapi
// parses them through its YAML parser, whose cost grows faster than the
// document: 0.93 MiB took 0.9 s and 280 MB allocated, 4.8 MiB 7 s and
// 1.6 GB (a 5.9 MB document took 25.7 s and 798 MB of memory, a 23.8 MB one
// was killed at 2.48 GB), so maxDocumentBytes alone bounds neither time nor
// memory. Merge's documents are trimmable JSON well under 1 MB (its
// marketing document is 0.4 MB) and our spec is YAML of 24 kB: 1 MiB
// refuses none of them, and what it refuses is refused before kin-openapi
// sees it, with the reason trimJSON gave.
const maxUntrimmedBytes = 1 << 20

// loadOperation loads a document and finds its link-token operation (see
// choosePath). A JSON document is trimmed to that operation first (see
// trimJSON) unless whole is set; one that trimJSON cannot cut down
// faithfully is loaded whole, when it is at most maxUntrimmedBytes long,
// and refused, saying why it could not be trimmed, when it is longer.
func loadOperation(data []byte, name, want string, whole bool) (foundOperation, error) {
	if !whole {
		small, _, err := trimJSON(data, name, want)
		switch {
		case err == nil:
			data = small
		case !errors.Is(err, errNotTrimmable):
			return foundOperation{}, err
		case len(data) > maxUntrimmedBytes:
			return foundOperation{}, fmt.Errorf("%s %w; a document that cannot be trimmed is loaded whole only up to %d bytes (1 MiB), and this one has %d",
				shown(name), err, maxUntrimmedBytes, len(data))
		}
	}
	info, err := loadSpec(data, name)
	if err != nil {
		return foundOperation{}, err
	}
	return linkTokenOperation(info, want)
}

// upstreamDiffConfig leaves out what the two documents word differently on
// purpose: descriptions, examples, titles, summaries, extensions and tags.
func upstreamDiffConfig() *diff.Config {
	return diff.NewConfig(diff.WithExcludeElements([]string{
		diff.ExcludeDescriptionOption, diff.ExcludeExamplesOption, diff.ExcludeTitleOption,
		diff.ExcludeSummaryOption, diff.ExcludeExtensionsOption, diff.ExcludeTagsOption,
	}))
}

type foundOperation struct {
	path string
	op   *openapi3.Operation
}

// linkTokenOperation finds the POST operation of a document that choosePath
// picks.
func linkTokenOperation(info *load.SpecInfo, want string) (foundOperation, error) {
	paths := info.Spec.Paths
	if paths == nil {
		paths = openapi3.NewPaths()
	}
	// The exact path wins; Paths.Map copies the map, so look it up first.
	exact := cmp.Or(want, operationPath)
	if item := paths.Value(exact); item != nil && item.Post != nil {
		return foundOperation{exact, item.Post}, nil
	}
	var posts []string
	for path, item := range paths.Map() {
		if item.Post != nil && strings.HasSuffix(path, operationPath) {
			posts = append(posts, path)
		}
	}
	path, err := choosePath(info.Url, posts, want)
	if err != nil {
		return foundOperation{}, err
	}
	return foundOperation{path, paths.Value(path).Post}, nil
}

// choosePath picks the link-token operation among the paths of the document
// name that have a POST operation (those that are neither want nor end in
// /link-token may be left out): want when it is set; else /link-token
// itself; else the one path ending in /link-token. Several such paths and no
// want is an error that lists them, sorted (the first maxListedPaths).
func choosePath(name string, posts []string, want string) (string, error) {
	var candidates []string
	for _, p := range posts {
		if p == want || (want == "" && p == operationPath) {
			return p, nil
		}
		if strings.HasSuffix(p, operationPath) {
			candidates = append(candidates, p)
		}
	}
	slices.Sort(candidates)
	name = shown(name)
	switch {
	case want != "" && len(candidates) > 0:
		return "", fmt.Errorf("%s has no POST %s operation; POST %s is at %s", name, shown(want), operationPath, listPaths(candidates))
	case want != "":
		return "", fmt.Errorf("%s has no POST %s operation", name, shown(want))
	case len(candidates) == 0:
		return "", fmt.Errorf("%s has no POST %s operation: is it one of Merge's category documents?", name, operationPath)
	case len(candidates) > 1:
		return "", fmt.Errorf("%s has %d POST %s operations, choose one with -path: %s", name, len(candidates), operationPath, listPaths(candidates))
	}
	return candidates[0], nil
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

// trimmed is a document holding only what the comparison is about: the
// operation's JSON request body and its 200 response body, reached schemas
// included (kin-openapi resolved them). Servers, security, other media types,
// error responses and headers are left out: the two documents model those
// differently on purpose.
func trimmed(found foundOperation, name string) *load.SpecInfo {
	src := found.op
	op := &openapi3.Operation{OperationID: "createLinkToken", Responses: openapi3.NewResponses()}
	if src.RequestBody != nil && src.RequestBody.Value != nil {
		if mt := src.RequestBody.Value.Content.Get(jsonMedia); mt != nil {
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
				WithRequired(src.RequestBody.Value.Required).
				WithContent(openapi3.Content{jsonMedia: &openapi3.MediaType{Schema: mt.Schema}})}
		}
	}
	if ok := src.Responses.Value("200"); ok != nil && ok.Value != nil {
		resp := openapi3.NewResponse().WithDescription("success")
		if mt := ok.Value.Content.Get(jsonMedia); mt != nil {
			resp.Content = openapi3.Content{jsonMedia: &openapi3.MediaType{Schema: mt.Schema}}
		}
		op.Responses.Set("200", &openapi3.ResponseRef{Value: resp})
	}
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info:    &openapi3.Info{Title: name, Version: "link-token"},
		Paths:   openapi3.NewPaths(openapi3.WithPath(operationPath, &openapi3.PathItem{Post: op})),
	}
	return &load.SpecInfo{Url: name, Spec: doc, Version: "link-token"}
}
