package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The formats of "specdiff upstream"'s matrix, modelled on oasdiff's own:
// text for people, json for programs, markdown for a pull request's comment
// or a job summary, github for GitHub Actions' annotations. Everything in
// them is sorted (operations by path and method, documents by category,
// differences by their allow-list key), so that two runs print the same.
// Every value quoted from a document was cleaned when it was read (shown).

// printable is a subcommand's report: JSON of itself, or what its
// writers write; fails says whether the run exits 1.
type printable interface {
	fails() bool
	writeText(io.Writer)
	writeMarkdown(io.Writer)
	writeGitHub(io.Writer)
}

// writeAs writes a report in format (text, json, markdown or github),
// buffered, and returns the exit code it calls for: the one way every
// subcommand ends.
func writeAs(w io.Writer, format string, r printable) (int, error) {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return 0, err
		}
	case "markdown":
		r.writeMarkdown(bw)
	case "github":
		r.writeGitHub(bw)
	default:
		r.writeText(bw)
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if r.fails() {
		return exitChanges, nil
	}
	return exitOK, nil
}

// fails reports whether the run exits 1: a difference would make our
// client send something Merge rejects, or reject something it returns.
func (m *matrix) fails() bool { return m.Summary.Breaking > 0 }

// headline is the report's first line.
func (m *matrix) headline() string {
	return fmt.Sprintf("%s against %s (%s), %s: %d breaking, %d narrower, %d wider, %d absent; the categories disagree on %d",
		m.Ours, plural(len(m.Documents), "document"), strings.Join(m.categories(), ", "), plural(len(m.Operations), "operation"),
		m.Summary.Breaking, m.Summary.Narrower, m.Summary.Wider, m.Summary.Absent, m.Summary.Disagreements)
}

const readingNote = "Each difference reads from our spec to Merge's document."

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (m *matrix) categories() []string {
	out := make([]string, len(m.Documents))
	for i, d := range m.Documents {
		out[i] = d.Category
	}
	return out
}

// where says where a document holds our operations.
func (d documentInfo) where() string {
	switch {
	case d.Prefix == "":
		return "our paths"
	case d.RepeatsServers:
		return "paths below " + d.Prefix + ", which its servers end with too: read as ours"
	}
	return "paths below " + d.Prefix
}

// cellGroup is the documents whose cells for one operation say the same.
type cellGroup struct {
	categories []string
	cell       cell
}

// sameCells groups an operation's cells by what they hold, in the order
// of their first category.
func sameCells(op operationReport) []cellGroup {
	var out []cellGroup
	signature := func(c cell) string {
		var b strings.Builder
		fmt.Fprint(&b, c.Absent)
		for _, g := range []string{groupBreaking, groupNarrower, groupWider} {
			for _, f := range c.group(g) {
				fmt.Fprintf(&b, "\x00%s\x01%s\x01%s", g, f.Key, f.Text)
			}
		}
		return b.String()
	}
	index := map[string]int{}
	for _, c := range op.Cells {
		s := signature(c)
		if i, ok := index[s]; ok {
			out[i].categories = append(out[i].categories, c.Category)
			continue
		}
		index[s] = len(out)
		out = append(out, cellGroup{categories: []string{c.Category}, cell: c})
	}
	return out
}

func (m *matrix) writeText(w io.Writer) {
	fmt.Fprintln(w, m.headline())
	fmt.Fprintln(w, readingNote)
	fmt.Fprintln(w, "\ndocuments:")
	width := len("category")
	for _, d := range m.Documents {
		width = max(width, len(d.Category))
	}
	for _, d := range m.Documents {
		fmt.Fprintf(w, "  %-*s  %s (%s; %s)\n", width, d.Category, shown(d.Source), cmpOr(d.Title, "untitled"), d.where())
	}
	for _, op := range m.Operations {
		fmt.Fprintf(w, "\n%s", op.name())
		if op.OperationID != "" {
			fmt.Fprintf(w, " (%s)", op.OperationID)
		}
		fmt.Fprintf(w, "\n  %-*s  breaking  narrower  wider  found at\n", width, "category")
		for _, c := range op.Cells {
			if c.Absent {
				fmt.Fprintf(w, "  %-*s  %8s  %8s  %5s  not in this document\n", width, c.Category, "-", "-", "-")
				continue
			}
			fmt.Fprintf(w, "  %-*s  %8d  %8d  %5d  %s\n", width, c.Category, len(c.Breaking), len(c.Narrower), len(c.Wider), c.FoundAt)
		}
		for _, g := range sameCells(op) {
			fmt.Fprintf(w, "\n  %s:\n", strings.Join(g.categories, ", "))
			if g.cell.Absent {
				fmt.Fprintf(w, "    not in this document\n")
				continue
			}
			if len(g.cell.Breaking)+len(g.cell.Narrower)+len(g.cell.Wider) == 0 {
				fmt.Fprintf(w, "    no difference\n")
				continue
			}
			for _, name := range []string{groupBreaking, groupNarrower, groupWider} {
				findings := g.cell.group(name)
				if len(findings) == 0 {
					continue
				}
				fmt.Fprintf(w, "    %s:\n", groupTitles[name])
				for _, f := range findings {
					fmt.Fprintf(w, "      [%s] %s\n", f.ID, f.Text)
				}
			}
		}
	}
	if len(m.Disagreements) > 0 {
		fmt.Fprintln(w, "\nwhere the categories disagree:")
		for _, d := range m.Disagreements {
			if d.Group == "absent" {
				fmt.Fprintf(w, "  %s: %s\n", d.Operation, d.Text)
			} else {
				fmt.Fprintf(w, "  %s, %s: [%s] %s\n", d.Operation, d.Group, d.ID, d.Text)
			}
			fmt.Fprintf(w, "      in %s; not in %s\n", strings.Join(d.In, ", "), strings.Join(d.NotIn, ", "))
		}
	}
}

func cmpOr(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// Markdown, for a pull request's comment or a job summary ($GITHUB_STEP_SUMMARY).

// mdCell escapes text for a table cell: a pipe would end the cell.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// mdCode is s as inline code; a backtick in s would end it.
func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// mdText escapes what markdown would read as markup inside a line of
// plain text (a file name, a title, a category): emphasis, code, links,
// HTML, table pipes and entities.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
			continue
		case strings.ContainsRune("\\`*_[]<|~", r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m *matrix) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "## specdiff upstream: %s against Merge's documents\n\n", mdText(m.Ours))
	fmt.Fprintf(w, "**%d breaking**, %d narrower, %d wider, %d absent; the categories disagree on %d. %s, %s: %s.\n\n",
		m.Summary.Breaking, m.Summary.Narrower, m.Summary.Wider, m.Summary.Absent, m.Summary.Disagreements,
		plural(len(m.Operations), "operation"), plural(len(m.Documents), "document"), mdText(strings.Join(m.categories(), ", ")))
	fmt.Fprintf(w, "%s **Breaking**: our client would send what Merge rejects, or reject what Merge returns. "+
		"**Narrower**: we refuse what Merge accepts. **Wider**: we accept what Merge refuses.\n\n", readingNote)
	fmt.Fprintln(w, "| category | document | title | where |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, d := range m.Documents {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdText(d.Category), mdCell(mdCode(d.Source)), mdText(d.Title), mdText(d.where()))
	}
	for _, op := range m.Operations {
		fmt.Fprintf(w, "\n### %s", mdCode(op.name()))
		if op.OperationID != "" {
			fmt.Fprintf(w, " (%s)", mdCode(op.OperationID))
		}
		fmt.Fprintln(w, "\n\n| category | breaking | narrower | wider | found at |")
		fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- |")
		for _, c := range op.Cells {
			if c.Absent {
				fmt.Fprintf(w, "| %s | – | – | – | not in this document |\n", mdText(c.Category))
				continue
			}
			fmt.Fprintf(w, "| %s | %d | %d | %d | %s |\n", mdText(c.Category), len(c.Breaking), len(c.Narrower), len(c.Wider), mdCell(mdCode(c.FoundAt)))
		}
		for _, g := range sameCells(op) {
			c := g.cell
			if c.Absent || len(c.Breaking)+len(c.Narrower)+len(c.Wider) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n<details><summary>%s: %d breaking, %d narrower, %d wider</summary>\n",
				mdText(strings.Join(g.categories, ", ")), len(c.Breaking), len(c.Narrower), len(c.Wider))
			for _, name := range []string{groupBreaking, groupNarrower, groupWider} {
				findings := c.group(name)
				if len(findings) == 0 {
					continue
				}
				fmt.Fprintf(w, "\n**%s**\n\n", mdText(groupTitles[name]))
				for _, f := range findings {
					fmt.Fprintf(w, "- %s %s\n", mdCode(f.ID), f.Text)
				}
			}
			fmt.Fprintln(w, "\n</details>")
		}
	}
	if len(m.Disagreements) > 0 {
		fmt.Fprintln(w, "\n### Where the categories disagree")
		fmt.Fprintln(w, "\n| operation | group | difference | in | not in |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		for _, d := range m.Disagreements {
			text := d.Text
			if d.ID != "" {
				text = mdCode(d.ID) + " " + text
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCell(mdCode(d.Operation)), d.Group, mdCell(text),
				mdText(strings.Join(d.In, ", ")), mdText(strings.Join(d.NotIn, ", ")))
		}
	}
}

// GitHub Actions' workflow commands: one annotation per difference of an
// operation, naming the documents that hold it, at the line of our spec
// that writes what it is about (else on the file). Breaking differences
// are errors; a difference only some of the documents holding the
// operation have, and an operation some documents lack, warnings (the
// categories disagree); the others notices.

// ghData escapes an annotation's message (GitHub's workflow-command rules,
// as oasdiff's githubactions format does); % first.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes an annotation's property value (file, title).
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func (m *matrix) writeGitHub(w io.Writer) {
	annotate := func(level string, line int, title, message string) {
		props := []string{"file=" + ghProperty(m.OursFile)}
		if line > 0 {
			props = append(props, "line="+strconv.Itoa(line))
		}
		props = append(props, "title="+ghProperty(title))
		fmt.Fprintf(w, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(message))
	}
	for _, op := range m.Operations {
		holding, absent := holdersOf(op)
		if len(absent) > 0 {
			annotate("warning", op.Line, "specdiff upstream: absent", fmt.Sprintf("%s is not in the documents of %s", op.name(), strings.Join(absent, ", ")))
		}
		for _, s := range spreadOf(op, holding) {
			level, where := "notice", "in "+strings.Join(s.in, ", ")
			if len(s.notIn) > 0 {
				level = "warning"
				where += "; not in " + strings.Join(s.notIn, ", ") + ": the categories disagree"
			}
			if s.group == groupBreaking {
				level = "error"
			}
			annotate(level, s.f.Line, "specdiff upstream: "+s.group+": "+s.f.ID, fmt.Sprintf("%s: %s (%s)", op.name(), s.f.Text, where))
		}
	}
	fmt.Fprintf(w, "%s\n", m.headline())
}
