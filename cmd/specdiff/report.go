package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/oasdiff/oasdiff/checker"
)

// entry is one change, as printed.
type entry struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	Operation string `json:"operation,omitempty"`
	Path      string `json:"path,omitempty"`
	Text      string `json:"text"`
	Reason    string `json:"acknowledged_because,omitempty"`
}

// report groups changes by level.
type report struct {
	Breaking     []entry `json:"breaking"`
	Warnings     []entry `json:"warnings"`
	Info         []entry `json:"info"`
	Acknowledged []entry `json:"acknowledged,omitempty"`
}

// newReport sorts changes into the report; breaking changes whose id is in
// allow are moved to Acknowledged with the reason.
func newReport(changes checker.Changes, allow map[string]string) *report {
	l := checker.NewDefaultLocalizer()
	r := &report{Breaking: []entry{}, Warnings: []entry{}, Info: []entry{}}
	for _, c := range changes {
		e := entry{ID: c.GetId(), Operation: c.GetOperation(), Path: c.GetPath(), Text: c.GetUncolorizedText(l)}
		switch c.GetLevel() {
		case checker.ERR:
			e.Level = "breaking"
			if reason, ok := allow[e.ID]; ok {
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
	return r
}

func (r *report) write(w io.Writer, format, title string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "%s: %d breaking, %d warning, %d informational", title, len(r.Breaking), len(r.Warnings), len(r.Info))
	if len(r.Acknowledged) > 0 {
		fmt.Fprintf(w, ", %d acknowledged", len(r.Acknowledged))
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
			fmt.Fprintf(w, "  [%s] %s %s: %s\n", e.ID, e.Operation, e.Path, e.Text)
			if e.Reason != "" {
				fmt.Fprintf(w, "      acknowledged: %s\n", e.Reason)
			}
		}
	}
	return nil
}
