package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/mergelink/linktoken/openapi"
)

const jsonMedia = "application/json"

func runUpstream(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	var u upstreamRun
	fs.Var((*listFlag)(&u.specs), "spec", "one of Merge's published OpenAPI documents: a file, an https URL (plain http only to a loopback host), or a directory (its *.json, *.yaml and *.yml); repeat it for several")
	fs.Var((*listFlag)(&u.paths), "path", "in a document where several paths end with the path of one of our operations (a bundle of categories), the one to compare, such as /api/hris/v1/link-token; repeat it for several operations")
	fs.StringVar(&u.ours, "ours", "", "our spec (default: the one embedded in this module, "+openapi.SpecPath+")")
	fs.StringVar(&u.format, "format", "text", "output: "+strings.Join(upstreamFormats, ", "))
	if err := parseFlags(fs, upstreamSynopsis, args, stdout); err != nil {
		return 0, err
	}
	if len(u.specs) == 0 {
		return 0, usageError{upstreamSynopsis, "upstream needs -spec"}
	}
	if err := checkFormat(u.format, upstreamFormats, upstreamSynopsis); err != nil {
		return 0, err
	}
	return u.run(stdout)
}

// upstreamFormats are the outputs of "specdiff upstream".
var upstreamFormats = []string{"text", "json", "markdown", "github"}

// listFlag is a flag that may be repeated; each use adds a value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// upstreamRun is one "specdiff upstream", its flags parsed.
type upstreamRun struct {
	specs  []string
	paths  picks
	ours   string
	format string
	// whole loads JSON documents whole instead of trimming them first: the
	// slow way, kept for the tests that prove both give the same report.
	whole bool
}

func (u upstreamRun) run(stdout io.Writer) (int, error) {
	return u.compareAll(stdout, func() ([]string, error) { return expandSpecs(u.specs) },
		func(src string) ([]byte, error) { return readSource("-spec", src, true) })
}

// runData is run on one upstream document already read, named u.specs[0].
func (u upstreamRun) runData(data []byte, stdout io.Writer) (int, error) {
	return u.compareAll(stdout, func() ([]string, error) { return u.specs[:1], nil },
		func(string) ([]byte, error) { return data, nil })
}

// compareAll compares our spec with each document sources lists, read one
// at a time (a document's data is dropped once it is compared), and writes
// the matrix.
func (u upstreamRun) compareAll(stdout io.Writer, sources func() ([]string, error), read func(string) ([]byte, error)) (int, error) {
	ours, err := u.loadOurs()
	if err != nil {
		return 0, err
	}
	list, err := sources()
	if err != nil {
		return 0, err
	}
	m := newMatrix(ours)
	for _, src := range list {
		data, err := read(src)
		if err != nil {
			return 0, err
		}
		if err := m.add(ours, src, data, u.paths, u.whole); err != nil {
			return 0, err
		}
	}
	m.finish()
	return writeAs(stdout, u.format, m)
}

// ourSpec is our spec, loaded, its operations ready to compare.
type ourSpec struct {
	name string // as reports name it: "our spec" or the -ours file
	file string // as annotations name it: the -ours file or openapi.SpecPath
	ops  []*sideOperation
	pats []operationPattern
}

// loadOurs loads our spec whole, keeping where each element is written
// (for the annotations' line numbers), and normalizes its operations.
func (u upstreamRun) loadOurs() (*ourSpec, error) {
	data, name, file := openapi.Spec(), "our spec", openapi.SpecPath
	if u.ours != "" {
		var err error
		if data, err = readSource("-ours", u.ours, false); err != nil {
			return nil, err
		}
		name, file = u.ours, u.ours
	}
	if len(data) > maxUntrimmedBytes {
		return nil, fmt.Errorf("%s is loaded whole, which is done only up to %d bytes (1 MiB), and it has %d", shown(name), maxUntrimmedBytes, len(data))
	}
	info, err := loadSpecWith(data, name, true)
	if err != nil {
		return nil, err
	}
	ours := &ourSpec{name: name, file: file, pats: patternsOf(info.Spec)}
	if len(ours.pats) == 0 {
		return nil, fmt.Errorf("%s has no operation", shown(name))
	}
	if err := u.paths.check(ours.pats); err != nil {
		return nil, err
	}
	side := newSide()
	for _, p := range ours.pats {
		item := info.Spec.Paths.Value(p.path)
		ours.ops = append(ours.ops, side.operation(p, p.path, item, item.GetOperation(p.method)))
	}
	return ours, nil
}

// maxUntrimmedBytes bounds the documents loaded whole: YAML, and JSON that
// trimJSON cannot cut down (a "$ref" outside #/components/, say), and our
// spec. kin-openapi parses them through its YAML parser, whose cost grows
// faster than the document: 0.93 MiB took 0.9 s and 280 MB allocated,
// 4.8 MiB 7 s and 1.6 GB (a 5.9 MB document took 25.7 s and 798 MB of
// memory, a 23.8 MB one was killed at 2.48 GB), so maxDocumentBytes alone
// bounds neither time nor memory. Merge's documents are trimmable JSON well
// under 1 MB (its marketing document is 0.4 MB) and our spec is YAML of
// 30 kB: 1 MiB refuses none of them, and what it refuses is refused before
// kin-openapi sees it, with the reason trimJSON gave.
const maxUntrimmedBytes = 1 << 20

// foundDocument is an upstream document, loaded, with the path at which it
// holds each of our operations ("" where it does not).
type foundDocument struct {
	info  *load.SpecInfo
	paths []string
}

// loadDocument loads an upstream document and finds our operations in it
// (see choosePath). A JSON document is trimmed to them first (see trimJSON)
// unless whole is set; one that trimJSON cannot cut down faithfully is
// loaded whole, when it is at most maxUntrimmedBytes long, and refused,
// saying why it could not be trimmed, when it is longer.
func loadDocument(data []byte, name string, ours []operationPattern, ps picks, whole bool) (foundDocument, error) {
	if !whole {
		small, _, err := trimJSON(data, name, ours, ps)
		switch {
		case err == nil:
			data = small
		case !errors.Is(err, errNotTrimmable):
			return foundDocument{}, err
		case len(data) > maxUntrimmedBytes:
			return foundDocument{}, fmt.Errorf("%s %w; a document that cannot be trimmed is loaded whole only up to %d bytes (1 MiB), and this one has %d",
				shown(name), err, maxUntrimmedBytes, len(data))
		}
	}
	info, err := loadSpec(data, name)
	if err != nil {
		return foundDocument{}, err
	}
	return findOperations(info, name, ours, ps)
}

// findOperations finds our operations in a loaded document, as trimJSON
// does in a JSON one: see choosePath.
func findOperations(info *load.SpecInfo, name string, ours []operationPattern, ps picks) (foundDocument, error) {
	var err error
	found := foundDocument{info: info, paths: make([]string, len(ours))}
	paths := info.Spec.Paths
	if paths == nil {
		paths = openapi3.NewPaths()
	}
	for i, p := range ours {
		var candidates []string
		for path, item := range paths.Map() {
			if p.matches(path) && item.GetOperation(p.method) != nil {
				candidates = append(candidates, path)
			}
		}
		if found.paths[i], err = choosePath(name, p, candidates, ps); err != nil {
			return foundDocument{}, err
		}
	}
	if !slices.ContainsFunc(found.paths, func(path string) bool { return path != "" }) {
		return foundDocument{}, noOperation(name, ours)
	}
	return found, nil
}

// upstreamDiffConfig leaves out what the two documents word differently on
// purpose: descriptions, examples, titles, summaries, extensions (Fern's
// x-fern-* among them) and tags.
func upstreamDiffConfig() *diff.Config {
	return diff.NewConfig(diff.WithExcludeElements([]string{
		diff.ExcludeDescriptionOption, diff.ExcludeExamplesOption, diff.ExcludeTitleOption,
		diff.ExcludeSummaryOption, diff.ExcludeExtensionsOption, diff.ExcludeTagsOption,
	}))
}

// side normalizes the operations of one document (see normalizer), its
// request and response schemas apart.
type side struct {
	request, response *normalizer
}

func newSide() *side {
	return &side{request: newNormalizer(false), response: newNormalizer(true)}
}

// sideOperation is one operation as the comparison reads it: its
// parameters, its JSON request body and its 200 response's JSON body,
// normalized, at our path (path parameters renamed to ours, by position).
// Servers, security, other media types, error responses and headers are
// left out: the documents model those differently on purpose.
type sideOperation struct {
	pattern     operationPattern
	operationID string
	foundAt     string // the document's path
	op          *openapi3.Operation
	line        int // where the operation is written, when known
	// shapes holds the enums of the request body ("request"), the 200
	// body ("response") and the parameters ("parameter", keyed
	// "<in> <name>"), by property path.
	shapes map[string]map[string]enumShape
}

func (s *side) operation(p operationPattern, foundAt string, item *openapi3.PathItem, src *openapi3.Operation) *sideOperation {
	out := &sideOperation{pattern: p, operationID: src.OperationID, foundAt: foundAt, shapes: map[string]map[string]enumShape{}}
	if src.Origin != nil && src.Origin.Key != nil {
		out.line = src.Origin.Key.Line
	}
	op := &openapi3.Operation{OperationID: p.String(), Responses: openapi3.NewResponses()}

	// Parameters: the path item's, overridden by the operation's.
	_, docParams := splitPath(foundAt)
	rename := map[string]string{}
	for i, name := range docParams {
		if i < len(p.params) {
			rename[name] = p.params[i]
		}
	}
	var params []*openapi3.Parameter
	for _, list := range []openapi3.Parameters{item.Parameters, src.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			param := *ref.Value
			if to, ok := rename[param.Name]; ok && param.In == openapi3.ParameterInPath {
				param.Name = to
			}
			params = slices.DeleteFunc(params, func(q *openapi3.Parameter) bool { return q.In == param.In && q.Name == param.Name })
			params = append(params, &param)
		}
	}
	paramShapes := map[string]enumShape{}
	for _, param := range params {
		param.Schema = s.request.ref(param.Schema)
		if shape, ok := enumShapes(param.Schema, s.request.open)[""]; ok {
			paramShapes[param.In+" "+param.Name] = shape
		}
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: param})
	}
	out.shapes["parameter"] = paramShapes

	if src.RequestBody != nil && src.RequestBody.Value != nil {
		if mt := src.RequestBody.Value.Content.Get(jsonMedia); mt != nil {
			schema := s.request.ref(mt.Schema)
			out.shapes["request"] = enumShapes(schema, s.request.open)
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
				WithRequired(src.RequestBody.Value.Required).
				WithContent(openapi3.Content{jsonMedia: &openapi3.MediaType{Schema: schema}})}
		}
	}
	if ok := src.Responses.Value("200"); ok != nil && ok.Value != nil {
		resp := openapi3.NewResponse().WithDescription("success")
		if mt := ok.Value.Content.Get(jsonMedia); mt != nil {
			schema := s.response.ref(mt.Schema)
			out.shapes["response"] = enumShapes(schema, s.response.open)
			resp.Content = openapi3.Content{jsonMedia: &openapi3.MediaType{Schema: schema}}
		}
		op.Responses.Set("200", &openapi3.ResponseRef{Value: resp})
	}
	out.op = op
	return out
}

// comparable is a document holding only the given operations, at our
// paths: what oasdiff compares.
func comparable(ops []*sideOperation, name string) *load.SpecInfo {
	paths := openapi3.NewPaths()
	for _, o := range ops {
		item := paths.Value(o.pattern.path)
		if item == nil {
			item = &openapi3.PathItem{}
			paths.Set(o.pattern.path, item)
		}
		item.SetOperation(o.pattern.method, o.op)
	}
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: name, Version: "compared"}, Paths: paths}
	return &load.SpecInfo{Url: name, Spec: doc, Version: "compared"}
}

// compareDocument compares our operations with a document's, returning for
// each of ours the changes from ours to the document's, or nil where the
// document does not hold it.
func compareDocument(ours *ourSpec, doc foundDocument, name string) ([]checker.Changes, []*sideOperation, error) {
	theirs := make([]*sideOperation, len(ours.ops))
	var mine, others []*sideOperation
	s := newSide()
	for i, p := range ours.pats {
		if doc.paths[i] == "" {
			continue
		}
		item := doc.info.Spec.Paths.Value(doc.paths[i])
		theirs[i] = s.operation(p, doc.paths[i], item, item.GetOperation(p.method))
		mine = append(mine, ours.ops[i])
		others = append(others, theirs[i])
	}
	// Ours is the base: a change that breaks "clients of ours" when the API
	// is really upstream is one our client would trip over.
	changes, err := compare(upstreamDiffConfig(), comparable(mine, ours.name), comparable(others, name))
	if err != nil {
		return nil, nil, err
	}
	byOperation := make([]checker.Changes, len(ours.ops))
	for i := range byOperation {
		if theirs[i] != nil {
			byOperation[i] = checker.Changes{}
		}
	}
	for _, c := range changes {
		// Both documents hold the same operations and nothing else, so
		// every change is about one of them.
		for i, p := range ours.pats {
			if theirs[i] != nil && c.GetOperation() == p.method && c.GetPath() == p.path {
				byOperation[i] = append(byOperation[i], c)
				break
			}
		}
	}
	return byOperation, theirs, nil
}

// Naming a document by its category.

// categoryPattern is what a category name may be: "hris", "filestorage".
var categoryPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// categoryOf names a document by the category its paths or servers are
// under: the segment after "api" (/api/hris/v1), else the first one
// (/hris/v1). The paths' prefix is read first, as in a bundle it is the
// one that tells; then the servers, when they all agree; then the file's
// name without its extension.
func categoryOf(source string, prefix string, servers openapi3.Servers) string {
	if c := categoryFromPath(prefix); c != "" {
		return c
	}
	var fromServers string
	for i, s := range servers {
		c := ""
		if s != nil {
			if u, err := url.Parse(s.URL); err == nil {
				c = categoryFromPath(u.Path)
			}
		}
		if c == "" || (i > 0 && c != fromServers) {
			fromServers = ""
			break
		}
		fromServers = c
	}
	if fromServers != "" {
		return fromServers
	}
	base := filepath.Base(source)
	if u, ok := asURL(source); ok {
		base = pathBase(u.Path)
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(strings.TrimRight(p, "/"), '/'); i >= 0 {
		return strings.TrimRight(p, "/")[i+1:]
	}
	return p
}

func categoryFromPath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	c := segs[0]
	if i := slices.Index(segs, "api"); i >= 0 && i+1 < len(segs) {
		c = segs[i+1]
	}
	c = strings.ToLower(c)
	if !categoryPattern.MatchString(c) {
		return ""
	}
	return c
}

// prefixOf is what the document's paths of our operations hold before
// ours ("/hris/v1"), when they all hold the same; else "".
func prefixOf(pats []operationPattern, paths []string) string {
	prefix, seen := "", false
	for i, path := range paths {
		if path == "" {
			continue
		}
		p := pats[i].prefix(path)
		if seen && p != prefix {
			return ""
		}
		prefix, seen = p, true
	}
	return prefix
}

// serversEndWith reports whether every server's URL path ends with prefix:
// the paths repeat what the servers already hold.
func serversEndWith(servers openapi3.Servers, prefix string) bool {
	if prefix == "" || len(servers) == 0 {
		return false
	}
	for _, s := range servers {
		u, err := url.Parse(s.URL)
		if err != nil || !strings.HasSuffix(strings.TrimRight(u.Path, "/"), prefix) {
			return false
		}
	}
	return true
}
