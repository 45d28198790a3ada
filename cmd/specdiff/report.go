package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/oasdiff/oasdiff/checker"

	"github.com/mergelink/linktoken/internal/shared"
)

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
}

// unmatchedEntry is an allow-list entry that acknowledged no breaking
// change: stale, misspelt, or about a change that is no longer breaking.
type unmatchedEntry struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Entry  string `json:"entry"`
	Reason string `json:"reason"`
}

// report groups changes by level.
type report struct {
	Breaking     []entry          `json:"breaking"`
	Warnings     []entry          `json:"warnings"`
	Info         []entry          `json:"info"`
	Acknowledged []entry          `json:"acknowledged,omitempty"`
	Unmatched    []unmatchedEntry `json:"unmatched_allow_entries,omitempty"`

	// showKeys prints, under each breaking change, the allow-list entry
	// that would acknowledge it.
	showKeys bool
}

// newReport sorts changes into the report; breaking changes that allow
// names are moved to Acknowledged with the reason, and allow's entries that
// named none are listed in Unmatched.
func newReport(changes checker.Changes, allow *allowList) *report {
	l := checker.NewDefaultLocalizer()
	r := &report{Breaking: []entry{}, Warnings: []entry{}, Info: []entry{}}
	for _, c := range changes {
		e := entry{ID: c.GetId(), Operation: c.GetOperation(), Path: c.GetPath(), Text: c.GetUncolorizedText(l), Key: changeKey(c)}
		switch c.GetLevel() {
		case checker.ERR:
			e.Level = "breaking"
			if reason, ok := allow.acknowledge(e.Key); ok {
				e.Reason = reason
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
	return r
}

func (r *report) write(w io.Writer, format, title string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	// The title names files and a path of the upstream document: printed clean.
	fmt.Fprintf(w, "%s: %d breaking, %d warning, %d informational", shared.Printable(title), len(r.Breaking), len(r.Warnings), len(r.Info))
	if len(r.Acknowledged) > 0 {
		fmt.Fprintf(w, ", %d acknowledged", len(r.Acknowledged))
	}
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(w, ", %d unmatched allow entries", len(r.Unmatched))
	}
	fmt.Fprintln(w)
	for _, g := range []struct {
		name    string
		entries []entry
	}{{"breaking", r.Breaking}, {"warning", r.Warnings}, {"informational", r.Info}, {"acknowledged", r.Acknowledged}} {
		if len(g.entries) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g.name)
		for _, e := range g.entries {
			// The text quotes the documents, which may be a server's: printed clean.
			fmt.Fprintf(w, "  [%s] %s %s: %s\n", e.ID, e.Operation, shared.Printable(e.Path), shared.Printable(e.Text))
			switch {
			case e.Reason != "":
				fmt.Fprintf(w, "      acknowledged: %s\n", e.Reason) // cleaned when the allow list was read
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
	return nil
}
