package main

import (
	"strings"

	"github.com/mergelink/linktoken/internal/shared"
)

// The report of "specdiff traffic", as every format prints it.

// trafficReport is what an archive showed, every text from it cleaned and
// redacted.
type trafficReport struct {
	Archive string `json:"archive"`
	Spec    string `json:"spec"`
	// Side is -side's: which side of the exchanges was checked.
	Side string `json:"side"`
	// specFile is where annotations point.
	specFile string

	Entries int `json:"entries"`
	Ours    int `json:"ours"`
	NotOurs int `json:"not_ours"`
	// NoResponse counts exchanges of ours that got no response (blocked,
	// cancelled, failed: status 0); NotRecorded the bodies the archive
	// says were sent but does not hold.
	NoResponse  int `json:"without_response"`
	NotRecorded int `json:"bodies_not_recorded"`
	// Unlisted counts the violations the Validator found past the 50 it
	// lists for one side of an exchange; Omitted the occurrences of
	// findings past the maxFindings kept, OmittedNotices those of notices
	// among them.
	Unlisted       int `json:"violations_not_listed"`
	Omitted        int `json:"findings_omitted"`
	OmittedNotices int `json:"notices_omitted"`

	Failures   int               `json:"failures"`
	Notices    int               `json:"notices"`
	Operations []trafficOpReport `json:"operations"`
}

// trafficOpReport is what the archive showed of one operation.
type trafficOpReport struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	OperationID string            `json:"operation_id,omitempty"`
	Exchanges   int               `json:"exchanges"`
	Line        int               `json:"line,omitempty"`
	Findings    []*trafficFinding `json:"findings"`
}

// name is "POST /link-token".
func (o trafficOpReport) name() string { return o.Method + " " + o.Path }

// fails reports whether the run exits 1: the archive showed something
// the spec does not allow.
func (r *trafficReport) fails() bool {
	return r.Failures > 0 || r.Unlisted > 0 || r.Omitted > r.OmittedNotices
}

// The bounds of what a report shows of each text.
const (
	maxShownValue   = 64 // an enum value: shared.Quote's bound
	maxShownMessage = maxDataText
)

// report builds the report of what the check saw, its operations in our
// spec's order (by path, then method: patternsOf). Every text it holds
// that could come from the archive (and the spec's, alike) is shown as
// a Redactor shows it (decoded, printable, bounded), with the Redactor of
// the secrets those texts hold.
func (c *trafficCheck) report(archive string) *trafficReport {
	r := &trafficReport{Archive: shown(archive), Spec: shown(c.spec.name), Side: c.side, specFile: c.spec.file, Entries: c.entries,
		NotOurs: c.notOurs, NoResponse: c.noResponse, NotRecorded: c.notRecorded, Unlisted: c.unlisted,
		Omitted: c.tally.omitted, OmittedNotices: c.tally.omittedNotices, Operations: []trafficOpReport{}}
	var texts []string
	for _, o := range c.spec.ops {
		texts = append(texts, o.pattern.method, o.pattern.path, o.id)
		for _, f := range o.findings {
			texts = append(texts, f.Pointer, f.Rule, f.Value, f.Message)
			texts = append(texts, pointerTokens(f.Pointer)...)
		}
	}
	red := c.secrets.redactor(texts...)
	show := func(s string, n int) string { return red.Shown(s, n) }
	for _, o := range c.spec.ops {
		op := trafficOpReport{Method: show(o.pattern.method, maxShownBytes), Path: show(o.pattern.path, maxShownBytes),
			OperationID: show(o.id, maxShownBytes), Exchanges: o.exchanges, Line: o.line, Findings: []*trafficFinding{}}
		r.Ours += o.exchanges
		for _, f := range o.findings {
			g := *f
			g.Pointer, g.Rule = showPointer(red, f.Pointer), show(f.Rule, maxShownBytes)
			g.Value, g.Message = show(f.Value, maxShownValue), show(f.Message, maxShownMessage)
			op.Findings = append(op.Findings, &g)
			if g.notice() {
				r.Notices++
			} else {
				r.Failures++
			}
		}
		sortFindings(op.Findings)
		r.Operations = append(r.Operations, op)
	}
	return r
}

// pointerTokens splits an RFC 6901 pointer into its tokens, decoded.
func pointerTokens(p string) []string {
	if p == "" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, t := range tokens {
		tokens[i] = pointerToken.Replace(t)
	}
	return tokens
}

// showPointer is a schema pointer as a report shows it: each token shown
// by red (a secret in a member's name is redacted before the name is
// escaped as a token, where "/" becomes "~1"), then the whole.
func showPointer(red *shared.Redactor, p string) string {
	tokens := pointerTokens(p)
	for i, t := range tokens {
		tokens[i] = red.Shown(t, maxShownBytes)
	}
	return red.Shown(shared.Pointer(tokens...), maxShownBytes)
}
