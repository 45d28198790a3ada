package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"

	"github.com/mergelink/linktoken/internal/shared"
)

// The report of "specdiff breaking".

// entry is one change, as printed.
type entry struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	Operation string `json:"operation,omitempty"`
	Path      string `json:"path,omitempty"`
	Text      string `json:"text"`
	// Key names the change in an allow list (see allow.go).
	Key    string `json:"key"`
	Reason string `json:"acknowledged_because,omitempty"`
	// Until is the last day the allow-list entry acknowledges the change.
	Until string `json:"acknowledged_until,omitempty"`
	// Line is where -head writes what the change is about, when known.
	Line int `json:"line,omitempty"`
}

// unmatchedEntry is an allow-list entry that acknowledged no breaking
// change (stale, misspelt, or about a change that is no longer breaking),
// or whose date has passed.
type unmatchedEntry struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Entry  string `json:"entry"`
	Reason string `json:"reason"`
	Until  string `json:"until,omitempty"`
}

// breakingFormats are the outputs of "specdiff breaking".
var breakingFormats = []string{"text", "json", "markdown", "github"}

// report groups changes by level.
type report struct {
	Breaking     []entry          `json:"breaking"`
	Warnings     []entry          `json:"warnings"`
	Info         []entry          `json:"info"`
	Acknowledged []entry          `json:"acknowledged,omitempty"`
	Unmatched    []unmatchedEntry `json:"unmatched_allow_entries,omitempty"`
	Expired      []unmatchedEntry `json:"expired_allow_entries,omitempty"`

	// title names what was compared: "<base> -> <head>".
	title string
	// showKeys prints, under each breaking change, the allow-list entry
	// that would acknowledge it.
	showKeys bool
	// strict makes unmatched and expired entries fail: their annotations
	// are errors rather than warnings.
	strict bool
	// head is the file the annotations point into.
	head string
}

// newReport sorts changes into the report; breaking changes that allow
// names are moved to Acknowledged with the reason, and allow's entries that
// named none, or whose date has passed, are listed in Unmatched and Expired.
// head, when given, is where the changes' lines are looked for when oasdiff
// gives none (see locateIn).
func newReport(changes checker.Changes, allow *allowList, head *openapi3.T) *report {
	l := checker.NewDefaultLocalizer()
	r := &report{Breaking: []entry{}, Warnings: []entry{}, Info: []entry{}}
	for _, c := range changes {
		e := entry{ID: c.GetId(), Operation: c.GetOperation(), Path: c.GetPath(), Text: c.GetUncolorizedText(l), Key: changeKey(c)}
		if src := c.GetRevisionSource(); src != nil && src.Line > 0 {
			e.Line = src.Line
		} else if head != nil && head.Paths != nil {
			if item := head.Paths.Value(c.GetPath()); item != nil {
				op := item.GetOperation(c.GetOperation())
				e.Line = locateIn(op, c)
				if e.Line == 0 && op != nil && op.Origin != nil && op.Origin.Key != nil {
					e.Line = op.Origin.Key.Line
				}
			}
		}
		switch c.GetLevel() {
		case checker.ERR:
			e.Level = "breaking"
			if a, ok := allow.acknowledge(e.Key); ok {
				e.Reason, e.Until = a.reason, a.until
				r.Acknowledged = append(r.Acknowledged, e)
			} else {
				r.Breaking = append(r.Breaking, e)
			}
		case checker.WARN:
			e.Level = "warning"
			r.Warnings = append(r.Warnings, e)
		default:
			e.Level = "info"
			r.Info = append(r.Info, e)
		}
	}
	r.Unmatched = allow.unmatched()
	r.Expired = allow.expiredEntries()
	return r
}

// fails reports whether the run exits 1.
func (r *report) fails() bool {
	return len(r.Breaking) > 0 || (r.strict && (len(r.Unmatched) > 0 || len(r.Expired) > 0))
}

// headline is the report's first line. The title names files and a path of
// the upstream document: printed clean.
func (r *report) headline() string {
	title := r.title
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d breaking, %d warning, %d informational", shared.Printable(title), len(r.Breaking), len(r.Warnings), len(r.Info))
	if len(r.Acknowledged) > 0 {
		fmt.Fprintf(&b, ", %d acknowledged", len(r.Acknowledged))
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(&b, ", %d unmatched allow entries", len(r.Unmatched))
	}
	if len(r.Expired) > 0 {
		fmt.Fprintf(&b, ", %d expired allow entries", len(r.Expired))
	}
	return b.String()
}

// groups are the report's changes by heading, in order.
func (r *report) groups() []struct {
	name    string
	entries []entry
} {
	return []struct {
		name    string
		entries []entry
	}{{"breaking", r.Breaking}, {"warning", r.Warnings}, {"informational", r.Info}, {"acknowledged", r.Acknowledged}}
}

// acknowledgement is what the report says of an acknowledged change.
func (e entry) acknowledgement(expired bool) string {
	switch {
	case e.Until == "":
		return e.Reason // cleaned when the allow list was read
	case expired:
		return fmt.Sprintf("%s (until %s: expired)", e.Reason, e.Until)
	}
	return fmt.Sprintf("%s (until %s)", e.Reason, e.Until)
}

// expired reports whether the entry that acknowledged e has expired.
func (r *report) expired(e entry) bool {
	for _, x := range r.Expired {
		if x.Entry == e.Key {
			return true
		}
	}
	return false
}

func (r *report) writeText(w io.Writer) {
	fmt.Fprintln(w, r.headline())
	for _, g := range r.groups() {
		if len(g.entries) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g.name)
		for _, e := range g.entries {
			// The text quotes the documents, which may be a server's: printed clean.
			fmt.Fprintf(w, "  [%s] %s %s: %s\n", e.ID, e.Operation, shared.Printable(e.Path), shared.Printable(e.Text))
			switch {
			case e.Reason != "":
				fmt.Fprintf(w, "      acknowledged: %s\n", e.acknowledgement(r.expired(e)))
			case r.showKeys && e.Level == "breaking":
				fmt.Fprintf(w, "      to accept it, allow: %s -- <why>\n", shared.Printable(e.Key))
			}
		}
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(w, "\nunmatched allow entries (they acknowledge no breaking change):\n")
		for _, u := range r.Unmatched {
			fmt.Fprintf(w, "  %s:%d: %s\n", shared.Printable(u.File), u.Line, shared.Printable(u.Entry))
		}
	}
	if len(r.Expired) > 0 {
		fmt.Fprintf(w, "\nexpired allow entries (renew the date with a reason, or fix what breaks):\n")
		for _, u := range r.Expired {
			fmt.Fprintf(w, "  %s:%d: expired: its date, %s, has passed: %s\n", shared.Printable(u.File), u.Line, u.Until, shared.Printable(u.Entry))
		}
	}
}

func (r *report) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "## specdiff breaking\n\n%s\n", mdText(r.headline()))
	for _, g := range r.groups() {
		if len(g.entries) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s\n\n", strings.ToUpper(g.name[:1])+g.name[1:])
		for _, e := range g.entries {
			fmt.Fprintf(w, "- %s %s: %s\n", mdCode(e.ID), mdCode(e.Operation+" "+shared.Printable(e.Path)), shared.Printable(e.Text))
			switch {
			case e.Reason != "":
				fmt.Fprintf(w, "  - acknowledged: %s\n", mdText(e.acknowledgement(r.expired(e))))
			case r.showKeys && e.Level == "breaking":
				fmt.Fprintf(w, "  - to accept it, allow: %s\n", mdCode(shared.Printable(e.Key)+" -- <why>"))
			}
		}
	}
	for _, g := range []struct {
		name    string
		entries []unmatchedEntry
	}{{"Unmatched allow entries (they acknowledge no breaking change)", r.Unmatched}, {"Expired allow entries (renew the date with a reason, or fix what breaks)", r.Expired}} {
		if len(g.entries) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s\n\n", mdText(g.name))
		for _, u := range g.entries {
			note := ""
			if u.Until != "" {
				note = " (until " + u.Until + ")"
			}
			fmt.Fprintf(w, "- %s%s\n", mdCode(fmt.Sprintf("%s:%d: %s", shared.Printable(u.File), u.Line, shared.Printable(u.Entry))), note)
		}
	}
}

// writeGitHub writes a GitHub Actions annotation per change, at its line in
// -head when known: breaking changes are errors, warnings warnings, the
// others notices; an unmatched or expired allow-list entry is an error
// under -strict (it fails the run), else a warning, at its line.
func (r *report) writeGitHub(w io.Writer) {
	annotate := func(level, file string, line int, title, message string) {
		props := []string{"file=" + ghProperty(file)}
		if line > 0 {
			props = append(props, "line="+strconv.Itoa(line))
		}
		props = append(props, "title="+ghProperty(title))
		fmt.Fprintf(w, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(message))
	}
	levels := map[string]string{"breaking": "error", "warning": "warning", "informational": "notice", "acknowledged": "notice"}
	for _, g := range r.groups() {
		for _, e := range g.entries {
			message := fmt.Sprintf("%s %s: %s", e.Operation, shared.Printable(e.Path), shared.Printable(e.Text))
			switch {
			case e.Reason != "":
				message += "; acknowledged: " + e.acknowledgement(r.expired(e))
			case r.showKeys && e.Level == "breaking":
				message += "; to accept it, allow: " + shared.Printable(e.Key) + " -- <why>"
			}
			annotate(levels[g.name], r.head, e.Line, "specdiff breaking: "+e.ID, message)
		}
	}
	level := "warning"
	if r.strict {
		level = "error"
	}
	for _, u := range r.Unmatched {
		annotate(level, shared.Printable(u.File), u.Line, "specdiff breaking: unmatched allow entry", "acknowledges no breaking change: "+shared.Printable(u.Entry))
	}
	for _, u := range r.Expired {
		annotate(level, shared.Printable(u.File), u.Line, "specdiff breaking: expired allow entry", fmt.Sprintf("expired: its date, %s, has passed: %s", u.Until, shared.Printable(u.Entry)))
	}
	fmt.Fprintln(w, r.headline())
}
