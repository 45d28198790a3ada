package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mergelink/linktoken/internal/shared"
)

// The formats of "specdiff traffic"'s report, as upstream's: text for
// people, json for programs, markdown for a job summary, github for
// GitHub Actions' annotations (at the line of our spec that writes the
// schema concerned). Every text in the report was cleaned and redacted
// when it was built (trafficCheck.report); findings are sorted.

// headline is the report's first line.
func (r *trafficReport) headline() string {
	against := r.Spec
	if r.Side != "both" {
		against += " (" + r.Side + "s only)"
	}
	return fmt.Sprintf("%s against %s: %s, %s of our operations, %d not ours: %s, %s",
		r.Archive, against, counted(r.Entries, "entry", "entries"), plural(r.Ours, "exchange"), r.NotOurs,
		plural(r.Failures, "failure"), plural(r.Notices, "notice"))
}

// counted is plural for a noun whose plural is not its singular and an s:
// counted(2, "entry", "entries") is "2 entries".
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// notes are what the counts say beside the findings, one sentence each.
func (r *trafficReport) notes() []string {
	var out []string
	if r.NoResponse > 0 {
		out = append(out, fmt.Sprintf("Exchanges of ours without a response (status 0: blocked, cancelled or failed): %d; only their requests were checked.", r.NoResponse))
	}
	if r.NotRecorded > 0 {
		out = append(out, fmt.Sprintf("Bodies the archive does not hold (a size without a text): %d; the statuses and headers of their exchanges were checked, not the bodies.", r.NotRecorded))
	}
	if r.Unlisted > 0 {
		out = append(out, fmt.Sprintf("The Validator lists at most 50 violations for one side of an exchange: %d more were found.", r.Unlisted))
	}
	if r.Omitted > 0 {
		out = append(out, fmt.Sprintf("The report keeps %d findings: %d more occurrences were left out, %d of them notices.", maxFindings, r.Omitted, r.OmittedNotices))
	}
	return out
}

const trafficReading = "Each finding is listed once per operation, with how many entries show it and the first of them (its index in log.entries)."

// entriesText is "(2 entries, first log.entries[3])".
func (f *trafficFinding) entriesText() string {
	return fmt.Sprintf("(%s, first log.entries[%d])", counted(f.Entries, "entry", "entries"), f.FirstEntry)
}

// text is a finding on one line, without its group.
func (f *trafficFinding) text() string {
	var b strings.Builder
	b.WriteString(f.where())
	if f.Value != "" {
		b.WriteString(" " + shared.Quote(f.Value))
	}
	b.WriteString(": " + f.Message)
	if f.Rule != "" {
		b.WriteString(" [" + f.Rule + "]")
	}
	return b.String()
}

func (r *trafficReport) writeText(w io.Writer) {
	fmt.Fprintln(w, r.headline())
	fmt.Fprintln(w, trafficReading)
	for _, n := range r.notes() {
		fmt.Fprintln(w, n)
	}
	for _, op := range r.Operations {
		fmt.Fprintf(w, "\n%s", op.name())
		if op.OperationID != "" {
			fmt.Fprintf(w, " (%s)", op.OperationID)
		}
		fmt.Fprintf(w, ": %s\n", plural(op.Exchanges, "exchange"))
		if len(op.Findings) == 0 {
			fmt.Fprintln(w, "  no finding")
		}
		group := ""
		for _, f := range op.Findings {
			if f.Group != group {
				group = f.Group
				fmt.Fprintf(w, "  %s:\n", trafficGroupOf(group).title)
			}
			fmt.Fprintf(w, "    %s %s\n", f.text(), f.entriesText())
		}
	}
}

func (r *trafficReport) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "## specdiff traffic: %s against %s\n\n", mdCode(r.Archive), mdText(r.Spec))
	fmt.Fprintf(w, "**%s**, %s: %s, %s of our operations, %d not ours. %s\n",
		plural(r.Failures, "failure"), plural(r.Notices, "notice"), counted(r.Entries, "entry", "entries"), plural(r.Ours, "exchange"), r.NotOurs, trafficReading)
	for _, n := range r.notes() {
		fmt.Fprintf(w, "\n%s\n", mdText(n))
	}
	for _, op := range r.Operations {
		fmt.Fprintf(w, "\n### %s", mdCode(op.name()))
		if op.OperationID != "" {
			fmt.Fprintf(w, " (%s)", mdCode(op.OperationID))
		}
		fmt.Fprintf(w, ": %s\n\n", plural(op.Exchanges, "exchange"))
		if len(op.Findings) == 0 {
			fmt.Fprintln(w, "No finding.")
			continue
		}
		fmt.Fprintln(w, "| group | where | value | finding | entries | first entry |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | ---: | ---: |")
		for _, f := range op.Findings {
			value := ""
			if f.Value != "" {
				value = mdCell(mdCode(shared.Quote(f.Value)))
			}
			message := mdText(f.Message)
			if f.Rule != "" {
				message += " " + mdCode(f.Rule)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %d |\n", trafficGroupOf(f.Group).label, mdCell(mdCode(f.where())), value, message, f.Entries, f.FirstEntry)
		}
	}
}

// writeGitHub writes an annotation per finding, at the line of our spec
// that writes the schema or the operation concerned: an error for what
// the spec does not allow, a notice for a value an open enum does not
// list. The notes and the headline follow, as plain lines.
func (r *trafficReport) writeGitHub(w io.Writer) {
	for _, op := range r.Operations {
		for _, f := range op.Findings {
			props := []string{"file=" + ghProperty(r.specFile)}
			if f.Line > 0 {
				props = append(props, "line="+strconv.Itoa(f.Line))
			}
			props = append(props, "title="+ghProperty("specdiff traffic: "+trafficGroupOf(f.Group).label))
			level := "error"
			if f.notice() {
				level = "notice"
			}
			fmt.Fprintf(w, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(op.name()+" "+f.text()+" "+f.entriesText()))
		}
	}
	for _, n := range r.notes() {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w, r.headline())
}
