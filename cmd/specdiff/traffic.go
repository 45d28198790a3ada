package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/shared"
	"github.com/mergelink/linktoken/openapi"
)

// "specdiff traffic": what recorded traffic shows that the spec does not
// allow. Each exchange of the archive that is one of our operations is
// checked by contracttest's Validator, and its bodies are read for what
// the Validator lets pass (bodywalk.go); the findings are counted once per
// operation (findings.go) and reported with no secret of the archive in
// them (secrets.go).

// trafficFormats are the outputs of "specdiff traffic".
var trafficFormats = []string{"text", "json", "markdown", "github"}

// trafficSides are the values of -side: the requests, the responses, or
// both are checked (the secrets of both are remembered whichever it is).
var trafficSides = []string{"both", "request", "response"}

func runTraffic(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("traffic", flag.ContinueOnError)
	var t trafficRun
	fs.StringVar(&t.ours, "ours", "", "our spec (default: the one embedded in this module, "+openapi.SpecPath+"); it must be the spec specdiff was built with, the one contracttest's Validator checks")
	fs.StringVar(&t.format, "format", "text", "output: "+strings.Join(trafficFormats, ", "))
	fs.StringVar(&t.side, "side", "both", "which side of each exchange to check: "+strings.Join(trafficSides, ", ")+" (response for a run that sends bad requests on purpose, as the contract suite does)")
	files, err := parseArgs(fs, trafficSynopsis, args, stdout)
	if err != nil {
		return 0, err
	}
	switch {
	case len(files) == 0:
		return 0, usageError{trafficSynopsis, "traffic needs a HAR file"}
	case len(files) > 1:
		return 0, usageError{trafficSynopsis, fmt.Sprintf("traffic reads one HAR file, not %d", len(files))}
	}
	if err := checkFormat(t.format, trafficFormats, trafficSynopsis); err != nil {
		return 0, err
	}
	if !slices.Contains(trafficSides, t.side) {
		return 0, usageError{trafficSynopsis, fmt.Sprintf("-side %q: use one of %s", shown(t.side), strings.Join(trafficSides, ", "))}
	}
	t.archive = files[0]
	f, err := os.Open(t.archive)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // it would repeat the name, unbounded
		}
		return 0, fmt.Errorf("read %s: %w", shown(t.archive), err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return 0, fmt.Errorf("read %s: it is a directory, not a HAR file", shown(t.archive))
	}
	return t.run(f, stdout)
}

// trafficRun is one "specdiff traffic", its flags parsed.
type trafficRun struct {
	ours, format, side string
	// archive names the HAR in the report.
	archive string
}

// run reads the archive from r, one entry at a time, and writes the
// report.
func (t trafficRun) run(r io.Reader, stdout io.Writer) (int, error) {
	if t.side == "" {
		t.side = "both"
	}
	spec, err := t.loadOurs()
	if err != nil {
		return 0, err
	}
	v, err := contracttest.NewValidator()
	if err != nil {
		return 0, err
	}
	c := &trafficCheck{spec: spec, v: v, secrets: newSecretIndex(), side: t.side}
	har, err := newHARReader(r, c.isOurs)
	if err != nil {
		return 0, c.fail(err)
	}
	for {
		e, err := har.Next()
		if err == nil && e != nil {
			err = c.entry(e)
		}
		if err == nil && c.secrets.full {
			err = fmt.Errorf("the archive holds more than %d distinct secrets, the most one run remembers: split it", maxSecrets)
		}
		if err != nil {
			return 0, c.fail(err)
		}
		if e == nil {
			break
		}
	}
	rep := c.report(t.archive)
	return writeAs(stdout, t.format, rep)
}

// ourTraffic is our spec, as traffic matches and reads exchanges with it.
type ourTraffic struct {
	name string // as reports name it: "our spec" or the -ours file
	file string // as annotations name it: the -ours file or openapi.SpecPath
	ops  []*trafficOp
}

// trafficOp is one of our operations, and what the archive showed of it.
type trafficOp struct {
	pattern operationPattern
	id      string
	op      *openapi3.Operation
	line    int
	// segments are its path's, as contracttest.Validator matches them.
	segments []string

	exchanges int
	findings  map[findingKey]*trafficFinding
}

// loadOurs loads our spec with where each element is written (for the
// annotations' lines). -ours must be the embedded spec itself: the
// Validator checks that one, and nothing else.
func (t trafficRun) loadOurs() (*ourTraffic, error) {
	name, file := "our spec", openapi.SpecPath
	if t.ours != "" {
		data, err := readSource("-ours", t.ours, false)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(data, openapi.Spec()) {
			return nil, fmt.Errorf("-ours %s is not the spec specdiff was built with, the only one contracttest's Validator checks: build specdiff in the checkout that holds it (make bin/specdiff), or leave -ours out", shown(t.ours))
		}
		name, file = t.ours, t.ours
	}
	doc, err := embeddedSpec()
	if err != nil {
		return nil, err
	}
	ours := &ourTraffic{name: name, file: file}
	for _, p := range patternsOf(doc) {
		op := doc.Paths.Value(p.path).GetOperation(p.method)
		o := &trafficOp{pattern: p, id: op.OperationID, op: op, segments: strings.Split(strings.Trim(p.path, "/"), "/"), findings: map[findingKey]*trafficFinding{}}
		if op.Origin != nil && op.Origin.Key != nil {
			o.line = op.Origin.Key.Line
		}
		ours.ops = append(ours.ops, o)
	}
	if len(ours.ops) == 0 {
		return nil, fmt.Errorf("%s has no operation", shown(name))
	}
	return ours, nil
}

// embeddedSpec is the embedded spec, loaded once with where each element
// is written; it is only read.
var embeddedSpec = sync.OnceValues(func() (*openapi3.T, error) {
	info, err := loadSpecWith(openapi.Spec(), "our spec", true)
	if err != nil {
		return nil, err
	}
	return info.Spec, nil
})

// match finds the operation of a request as contracttest.Validator's
// match does: the method, and the path's last segments those of the
// operation's path, a {parameter} matching any non-empty segment, whatever
// base path comes before. It returns the path parameters' values.
func (s *ourTraffic) match(method, path string) (*trafficOp, map[string]string) {
	for _, o := range s.ops {
		if o.pattern.method != method {
			continue
		}
		if values, _, ok := shared.MatchPath(o.segments, path); ok {
			return o, values
		}
	}
	return nil, nil
}

// trafficCheck is the state of a run: what the archive showed so far.
type trafficCheck struct {
	// side is -side's: "request" or "response" checks that side only.
	side    string
	spec    *ourTraffic
	v       *contracttest.Validator
	secrets *secretIndex
	tally   tally
	walker  bodyWalker

	entries, notOurs, noResponse, notRecorded int
	// unlisted counts the violations the Validator found beyond the 50
	// it lists for one side of an exchange.
	unlisted int
}

// isOurs reports whether a request is to one of our operations. A URL
// that does not parse is not: no request could have been sent to it.
func (c *trafficCheck) isOurs(method, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	op, _ := c.spec.match(method, u.Path)
	return op != nil
}

// fail is the one-line error for a problem with the archive. An entry's
// URL is shown without its query, its userinfo and, for one of our
// operations, its path parameters; whatever the line quotes from the
// archive is redacted of every secret seen so far, the entry's included.
func (c *trafficCheck) fail(err error) error {
	var ee *entryError
	if !errors.As(err, &ee) {
		msg := oneLine(clip(err.Error(), maxErrorBytes))
		return errors.New(c.secrets.redactor(msg).Shown(msg, maxErrorBytes))
	}
	req := ee.entry.request
	c.secrets.add(headerSecrets(req.Headers, req.Cookies)...)
	where := "an unreadable URL"
	if u, err := url.Parse(req.URL); err == nil {
		path := u.Path
		if op, params := c.spec.match(req.Method, u.Path); op != nil {
			for _, v := range params {
				c.secrets.add(v)
			}
			segments := strings.Split(path, "/")
			path = strings.Join(append(segments[:len(segments)-len(op.segments)], op.segments...), "/")
		}
		where = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}).String()
		if u.RawQuery != "" {
			where += "?" + cutMark
		}
	}
	msg := oneLine(clip(fmt.Sprintf("%s (%s %s): %s", ee.entry.label(), req.Method, where, ee.problem), maxErrorBytes))
	return errors.New(c.secrets.redactor(msg).Shown(msg, maxErrorBytes))
}
