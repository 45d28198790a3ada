package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
)

// The report of "specdiff upstream": for each operation of ours and each
// document, the differences from ours to the document's, in three groups:
//
//   - breaking: our client would send something Merge rejects, or reject
//     something Merge returns (what oasdiff rates an error with ours as
//     the base: a change that breaks our client if Merge's document is
//     right). These, and only these, make the exit code 1.
//   - narrower: in a request, we refuse what Merge accepts (oasdiff's
//     warnings and informational changes to requests and parameters:
//     Merge's side accepts more, or as much).
//   - wider: in a response, we accept what Merge refuses, or never sends
//     (oasdiff's warnings and informational changes to responses).
//
// Documents are named by their category (categoryOf). Where the documents
// tell different things about one operation (a difference some hold and
// others not, or the operation in some and not in others), the report
// says so: "where the categories disagree".

// Groups of differences, in the order they are reported.
const (
	groupBreaking = "breaking"
	groupNarrower = "narrower"
	groupWider    = "wider"
)

var groupTitles = map[string]string{
	groupBreaking: "breaking for our callers (our client would send what Merge rejects, or reject what Merge returns)",
	groupNarrower: "narrower than Merge (we refuse what Merge accepts)",
	groupWider:    "wider than Merge (we accept what Merge refuses)",
}

// matrix is the whole report.
type matrix struct {
	Ours          string            `json:"ours"`
	OursFile      string            `json:"ours_file"`
	Documents     []documentInfo    `json:"documents"`
	Operations    []operationReport `json:"operations"`
	Disagreements []disagreement    `json:"disagreements"`
	Summary       summary           `json:"summary"`
}

// documentInfo is one upstream document.
type documentInfo struct {
	Category string `json:"category"`
	Source   string `json:"source"`
	Title    string `json:"title,omitempty"`
	// Prefix is what the document's paths hold before ours, such as
	// "/hris/v1"; RepeatsServers says its servers' URLs end with it too
	// (Merge's category documents write both).
	Prefix         string `json:"path_prefix,omitempty"`
	RepeatsServers bool   `json:"prefix_repeats_servers,omitempty"`
}

// operationReport is one row of operations: one operation of ours against
// every document.
type operationReport struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	OperationID string `json:"operation_id,omitempty"`
	Line        int    `json:"line,omitempty"`
	Cells       []cell `json:"cells"`
}

func (o operationReport) name() string { return o.Method + " " + o.Path }

// cell is one operation against one document.
type cell struct {
	Category string    `json:"category"`
	Absent   bool      `json:"absent,omitempty"` // the document does not hold the operation
	FoundAt  string    `json:"found_at,omitempty"`
	Breaking []finding `json:"breaking"`
	Narrower []finding `json:"narrower"`
	Wider    []finding `json:"wider"`
}

func (c cell) group(name string) []finding {
	switch name {
	case groupBreaking:
		return c.Breaking
	case groupNarrower:
		return c.Narrower
	}
	return c.Wider
}

// finding is one difference.
type finding struct {
	ID    string `json:"id"`
	Level string `json:"level"` // oasdiff's: error, warning or info
	Text  string `json:"text"`
	// Key names the change as an allow list does (see allow.go).
	Key string `json:"key"`
	// Line is where our spec writes what the difference is about.
	Line int `json:"line,omitempty"`
}

// disagreement is a difference some documents hold for an operation and
// others not, or an operation some hold and others not.
type disagreement struct {
	Operation string   `json:"operation"`
	Group     string   `json:"group"` // a group, or "absent"
	ID        string   `json:"id,omitempty"`
	Text      string   `json:"text"`
	Key       string   `json:"key,omitempty"`
	Line      int      `json:"line,omitempty"`
	In        []string `json:"in"`
	NotIn     []string `json:"not_in"`
}

// summary counts the findings of every cell.
type summary struct {
	Operations    int `json:"operations"`
	Documents     int `json:"documents"`
	Breaking      int `json:"breaking"`
	Narrower      int `json:"narrower"`
	Wider         int `json:"wider"`
	Absent        int `json:"absent"`
	Disagreements int `json:"disagreements"`
}

func newMatrix(ours *ourSpec) *matrix {
	m := &matrix{Ours: ours.name, OursFile: ours.file, Documents: []documentInfo{}, Disagreements: []disagreement{}}
	for _, o := range ours.ops {
		m.Operations = append(m.Operations, operationReport{
			Method: o.pattern.method, Path: o.pattern.path, Line: o.line, OperationID: shown(o.operationID), Cells: []cell{},
		})
	}
	return m
}

// add compares one document, read from source, with ours.
func (m *matrix) add(ours *ourSpec, source string, data []byte, ps picks, whole bool) error {
	doc, err := loadDocument(data, source, ours.pats, ps, whole)
	if err != nil {
		return err
	}
	changes, theirs, err := compareDocument(ours, doc, source)
	if err != nil {
		return err
	}
	info := documentInfo{Source: source, Prefix: prefixOf(ours.pats, doc.paths)}
	if doc.info.Spec.Info != nil {
		info.Title = shown(doc.info.Spec.Info.Title)
	}
	info.RepeatsServers = serversEndWith(doc.info.Spec.Servers, info.Prefix)
	info.Category = categoryOf(source, info.Prefix, doc.info.Spec.Servers)
	for n := 2; slices.ContainsFunc(m.Documents, func(d documentInfo) bool { return d.Category == info.Category }); n++ {
		// Two documents of one category: the next is named by its file
		// too (and, should that be taken as well, numbered).
		info.Category = categoryOf(source, info.Prefix, doc.info.Spec.Servers) + " (" + categoryOf(source, "", nil) + ")"
		if n > 2 {
			info.Category += fmt.Sprintf(" %d", n)
		}
	}
	info.Category = shown(info.Category)
	m.Documents = append(m.Documents, info)

	l := checker.NewDefaultLocalizer()
	for i := range m.Operations {
		c := cell{Category: info.Category, Breaking: []finding{}, Narrower: []finding{}, Wider: []finding{}}
		if theirs[i] == nil {
			c.Absent = true
			m.Operations[i].Cells = append(m.Operations[i].Cells, c)
			continue
		}
		c.FoundAt = shown(theirs[i].foundAt)
		for _, ch := range changes[i] {
			f := finding{ID: ch.GetId(), Level: ch.GetLevel().String(), Text: shown(ch.GetUncolorizedText(l)), Key: changeKey(ch)}
			f.Line = ours.ops[i].line
			if src := ch.GetBaseSource(); src != nil && src.Line > 0 {
				f.Line = src.Line
			} else if line := ours.ops[i].locate(ch); line > 0 {
				f.Line = line
			}
			if text, ok := enumText(ch, ours.ops[i], theirs[i]); ok {
				f.Text = text
			}
			switch group := groupOf(ch); group {
			case groupBreaking:
				c.Breaking = append(c.Breaking, f)
			case groupNarrower:
				c.Narrower = append(c.Narrower, f)
			default:
				c.Wider = append(c.Wider, f)
			}
		}
		for _, g := range [][]finding{c.Breaking, c.Narrower, c.Wider} {
			slices.SortFunc(g, compareFindings)
		}
		m.Operations[i].Cells = append(m.Operations[i].Cells, c)
	}
	return nil
}

func compareFindings(a, b finding) int {
	return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Text, b.Text))
}

// groupOf sorts a change into its group (see above).
func groupOf(c checker.Change) string {
	switch {
	case c.GetLevel() == checker.ERR:
		return groupBreaking
	case strings.Contains(c.GetId(), "response"):
		return groupWider
	}
	return groupNarrower
}

// enumText words a change between an open enum and another enum, or a
// string, as what the two documents say ("the request property `language`
// is an open enum (`en`, `de`, or any other string) in Merge's document,
// a closed enum (`en`, `de`) in ours"); oasdiff, which sees the open enum
// as the string it accepts, says "removed the enum constraint".
func enumText(c checker.Change, ours, theirs *sideOperation) (string, bool) {
	args := c.GetArgs()
	arg := func(i int) string {
		if i < len(args) {
			if s, ok := args[i].(string); ok {
				return s
			}
		}
		return ""
	}
	var section, key, subject string
	switch c.GetId() {
	case "request-property-became-enum", "request-property-became-not-enum":
		section, key, subject = "request", arg(0), "the request property `"+shown(arg(0))+"`"
	case "response-property-became-enum", "response-property-became-not-enum":
		section, key, subject = "response", arg(0), "the response property `"+shown(arg(0))+"`"
	case "request-body-became-enum", "request-body-became-not-enum":
		section, subject = "request", "the request body"
	case "response-mediatype-became-enum", "response-mediatype-became-not-enum":
		section, subject = "response", "the response body"
	case "request-parameter-became-enum", "request-parameter-became-not-enum":
		section, key, subject = "parameter", arg(0)+" "+arg(1), "the "+shown(arg(0))+" parameter `"+shown(arg(1))+"`"
	default:
		return "", false
	}
	mine, inOurs := ours.shapes[section][key]
	other, inTheirs := theirs.shapes[section][key]
	if !mine.open && !other.open {
		return "", false
	}
	describe := func(e enumShape, ok bool) string {
		if !ok {
			return "any string"
		}
		return e.describe()
	}
	return fmt.Sprintf("%s is %s in Merge's document, %s in ours", subject, describe(other, inTheirs), describe(mine, inOurs)), true
}

// finish sorts what add gathered, finds where the documents disagree and
// counts.
func (m *matrix) finish() {
	order := make([]int, len(m.Documents))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(m.Documents[a].Category, m.Documents[b].Category) })
	docs := make([]documentInfo, len(order))
	for i, j := range order {
		docs[i] = m.Documents[j]
	}
	m.Documents = docs
	for i := range m.Operations {
		cells := make([]cell, len(order))
		for k, j := range order {
			cells[k] = m.Operations[i].Cells[j]
		}
		m.Operations[i].Cells = cells
	}

	m.Summary = summary{Operations: len(m.Operations), Documents: len(m.Documents)}
	for _, op := range m.Operations {
		for _, c := range op.Cells {
			m.Summary.Breaking += len(c.Breaking)
			m.Summary.Narrower += len(c.Narrower)
			m.Summary.Wider += len(c.Wider)
			if c.Absent {
				m.Summary.Absent++
			}
		}
		m.Disagreements = append(m.Disagreements, disagreementsOf(op)...)
	}
	m.Summary.Disagreements = len(m.Disagreements)
}

// disagreementsOf lists, for one operation, each difference some documents
// that hold the operation have and others not, and the operation itself
// when some documents hold it and others not.
func disagreementsOf(op operationReport) []disagreement {
	var out []disagreement
	holding, absent := holdersOf(op)
	if len(holding) > 0 && len(absent) > 0 {
		out = append(out, disagreement{Operation: op.name(), Group: "absent", Text: "the operation is not in every document", Line: op.Line, In: holding, NotIn: absent})
	}
	for _, s := range spreadOf(op, holding) {
		if len(s.notIn) > 0 {
			out = append(out, disagreement{Operation: op.name(), Group: s.group, ID: s.f.ID, Text: s.f.Text, Key: s.f.Key, Line: s.f.Line, In: s.in, NotIn: s.notIn})
		}
	}
	return out
}

// holdersOf splits the documents of an operation's cells into those that
// hold the operation and those that do not, in the cells' order.
func holdersOf(op operationReport) (holding, absent []string) {
	for _, c := range op.Cells {
		if c.Absent {
			absent = append(absent, c.Category)
		} else {
			holding = append(holding, c.Category)
		}
	}
	return holding, absent
}

// spread is one difference of an operation, once for all the documents
// that show it: in are those, notIn those that hold the operation and do
// not show it.
type spread struct {
	group     string
	f         finding
	in, notIn []string
}

// spreadOf lists each difference of an operation once, by group
// (breaking, narrower, wider), then by key and text, with where it is and
// is not among holding (holdersOf's).
func spreadOf(op operationReport, holding []string) []spread {
	var out []spread
	for _, g := range []string{groupBreaking, groupNarrower, groupWider} {
		byKey := map[string]*spread{}
		var keys []string
		for _, c := range op.Cells {
			if c.Absent {
				continue
			}
			for _, f := range c.group(g) {
				k := f.Key + "\x00" + f.Text
				if byKey[k] == nil {
					byKey[k] = &spread{group: g, f: f}
					keys = append(keys, k)
				}
				byKey[k].in = append(byKey[k].in, c.Category)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := byKey[k]
			for _, c := range holding {
				if !slices.Contains(s.in, c) {
					s.notIn = append(s.notIn, c)
				}
			}
			out = append(out, *s)
		}
	}
	return out
}

// locate finds where our spec writes what a change is about when oasdiff
// does not say (it gives no place for some changes, such as a property
// that became required): the property or parameter one of the change's
// arguments names, looked up in the request body, the 200 body or the
// parameters, as the change's id says. 0 when none is found.
func (o *sideOperation) locate(c checker.Change) int { return locateIn(o.op, c) }

// locateIn is locate in any operation.
func locateIn(op *openapi3.Operation, c checker.Change) int {
	if op == nil {
		return 0
	}
	id := c.GetId()
	var root *openapi3.SchemaRef
	switch {
	case strings.Contains(id, "parameter"):
		for _, arg := range c.GetArgs() {
			name, _ := arg.(string)
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == name && p.Value.Origin != nil && p.Value.Origin.Key != nil {
					return p.Value.Origin.Key.Line
				}
			}
		}
		return 0
	case strings.Contains(id, "response"):
		if op.Responses == nil {
			return 0
		}
		if r := op.Responses.Value("200"); r != nil && r.Value != nil {
			if mt := r.Value.Content.Get(jsonMedia); mt != nil {
				root = mt.Schema
			}
		}
	case op.RequestBody != nil && op.RequestBody.Value != nil:
		if mt := op.RequestBody.Value.Content.Get(jsonMedia); mt != nil {
			root = mt.Schema
		}
	}
	if root == nil || root.Value == nil {
		return 0
	}
	for _, arg := range c.GetArgs() {
		path, _ := arg.(string)
		if path == "" {
			continue
		}
		if s := schemaAt(root.Value, path); s != nil && s.Origin != nil && s.Origin.Key != nil {
			return s.Origin.Key.Line
		}
	}
	return 0
}

// schemaAt follows a property path as oasdiff writes it
// ("integration/categories/items") from s, into allOf, anyOf and oneOf
// members where s itself lacks a step.
func schemaAt(s *openapi3.Schema, path string) *openapi3.Schema {
	for _, seg := range strings.Split(path, "/") {
		if s = schemaChild(s, seg, 0); s == nil {
			return nil
		}
	}
	return s
}

func schemaChild(s *openapi3.Schema, seg string, depth int) *openapi3.Schema {
	if s == nil || depth > maxShapeDepth {
		return nil
	}
	switch {
	case seg == "items" && s.Items != nil:
		return s.Items.Value
	case seg == "additionalProperties" && s.AdditionalProperties.Schema != nil:
		return s.AdditionalProperties.Schema.Value
	}
	if p := s.Properties[seg]; p != nil {
		return p.Value
	}
	for _, members := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, m := range members {
			if m == nil {
				continue
			}
			if c := schemaChild(m.Value, seg, depth+1); c != nil {
				return c
			}
		}
	}
	return nil
}
