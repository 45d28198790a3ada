package main

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/mergelink/linktoken/contracttest"
)

// What "specdiff traffic" finds, grouped, each finding once per operation.

// The groups of findings, in the order a report lists them.
const (
	groupField    = "field"
	groupStatus   = "status"
	groupEnum     = "enum"
	groupNull     = "null"
	groupBound    = "bound"
	groupOther    = "other"
	groupUnlisted = "unlisted"
)

// trafficGroups are the groups, in order, with their titles. Every group
// but groupUnlisted is something the spec does not allow, and fails the
// run; a value an open enum does not list is allowed (the enum is open so
// that Merge can add values), so it is a notice: worth knowing, as the
// spec may want to list it.
var trafficGroups = []trafficGroup{
	{groupField, "undocumented field", "undocumented fields (members no property of the schema names)"},
	{groupStatus, "undocumented status", "undocumented statuses"},
	{groupEnum, "value outside an enum", "values outside an enum"},
	{groupNull, "null not allowed", "nulls where the spec has no nullable"},
	{groupBound, "out of bounds", "outside the spec's bounds (lengths, item counts, minimum, maximum, body size)"},
	{groupOther, "rule broken", "other rules broken"},
	{groupUnlisted, "not listed in an open enum", "values an open enum does not list (allowed: notices, not failures)"},
}

// trafficGroup names a group: label for one finding, title for a list.
type trafficGroup struct{ id, label, title string }

// trafficGroupOf returns a group by its id.
func trafficGroupOf(id string) trafficGroup {
	i := slices.IndexFunc(trafficGroups, func(g trafficGroup) bool { return g.id == id })
	return trafficGroups[i]
}

// boundRules are the schema keywords of groupBound.
var boundRules = []string{"minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
	"exclusiveMinimum", "exclusiveMaximum", "minProperties", "maxProperties", "multipleOf", "uniqueItems"}

// classify returns the group of a violation the Validator reported, or
// "" for one walk reports itself: a member additionalProperties: false
// forbids is an undocumented field. tooLarge says the body was over the
// Validator's bound.
func classify(v contracttest.Violation, tooLarge bool) string {
	switch {
	case v.In == "status":
		return groupStatus
	case v.Rule == "properties" && strings.HasSuffix(v.Message, "is unsupported"):
		return ""
	case v.Rule == "enum":
		return groupEnum
	case v.Rule == "nullable":
		return groupNull
	case slices.Contains(boundRules, v.Rule), tooLarge && v.In == "body" && (v.Rule == "requestBody" || v.Rule == "responseBody"):
		return groupBound
	}
	return groupOther
}

// findingKey is what makes two findings of an operation the same.
type findingKey struct {
	group   string
	side    string // "request" or "response"
	status  int    // the response's
	pointer string // a schema pointer: array indexes and map keys are "*"
	rule    string
	value   string
}

// trafficFinding is one thing real traffic showed, as a report lists it.
type trafficFinding struct {
	Group   string `json:"group"`
	Side    string `json:"side"`
	Status  int    `json:"status,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
	// Entries counts the entries that showed it; FirstEntry is the index
	// of the first, in log.entries.
	Entries    int `json:"entries"`
	FirstEntry int `json:"first_entry"`
	// Line is where the spec writes the schema or operation concerned.
	Line int `json:"line,omitempty"`
}

// notice reports whether the finding is allowed by the spec.
func (f *trafficFinding) notice() bool { return f.Group == groupUnlisted }

// where names the side of the exchange and the place in its body:
// "response 200 /integration/categories/*".
func (f *trafficFinding) where() string {
	s := f.Side
	if f.Status != 0 {
		s += " " + strconv.Itoa(f.Status)
	}
	if f.Pointer != "" {
		s += " " + f.Pointer
	}
	return s
}

// maxFindings bounds the findings a report keeps, all operations
// together: past it, what else is found is counted.
const maxFindings = 500

// tally collects the findings of a run.
type tally struct {
	kept int
	// omitted counts the occurrences of findings not kept, and
	// omittedNotices those of notices among them.
	omitted, omittedNotices int
	// entry is the entry being checked, and inEntry the findings it
	// showed already: an entry counts once per finding.
	entry   int
	inEntry map[*trafficFinding]bool
}

// begin starts counting an entry's findings.
func (t *tally) begin(entry int) {
	t.entry = entry
	clear(t.inEntry)
	if t.inEntry == nil {
		t.inEntry = map[*trafficFinding]bool{}
	}
}

// add counts a finding of op.
func (t *tally) add(op *trafficOp, k findingKey, message string, line int) {
	f := op.findings[k]
	if f == nil {
		if t.kept == maxFindings {
			t.omitted++
			if k.group == groupUnlisted {
				t.omittedNotices++
			}
			return
		}
		t.kept++
		f = &trafficFinding{Group: k.group, Side: k.side, Status: k.status, Pointer: k.pointer, Rule: k.rule, Value: k.value,
			Message: dataText(message), FirstEntry: t.entry, Line: line}
		op.findings[k] = f
	}
	if !t.inEntry[f] {
		t.inEntry[f] = true
		f.Entries++
	}
}

// valueText is a JSON value from a body as a finding keeps it: a string
// as it is, anything else as JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return dataText(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return dataText(string(b))
}

// sortFindings orders an operation's findings as a report lists them: by
// group, side, status, pointer, rule and value.
func sortFindings(fs []*trafficFinding) {
	rank := func(id string) int {
		return slices.IndexFunc(trafficGroups, func(g trafficGroup) bool { return g.id == id })
	}
	slices.SortFunc(fs, func(a, b *trafficFinding) int {
		return cmp.Or(cmp.Compare(rank(a.Group), rank(b.Group)), cmp.Compare(a.Side, b.Side), cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Value, b.Value))
	})
}
