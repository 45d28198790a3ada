package contracttest

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/mergelink/linktoken/internal/shared"
)

// The kinds of what a Coverage counts.
const (
	// KindOperation is an operation of the spec, called at least once.
	KindOperation = "operation"
	// KindStatus is a documented status of an operation, answered.
	KindStatus = "status"
	// KindPresent, KindAbsent and KindNull are a request property sent,
	// left out (where the spec allows it) and sent as null (where the spec
	// allows it).
	KindPresent = "present"
	KindAbsent  = "absent"
	KindNull    = "null"
	// KindEnum is a value of an enum of the request, sent.
	KindEnum = "enum value"
	// KindRule is a rule of the spec broken at least once: every
	// required, every bound (length, minimum, maximum, item count,
	// pattern), every not.
	KindRule = "rule"
)

// Coverage records what the requests and responses a mock or a transport
// saw exercised of the spec: each operation and documented status, each
// request property present, absent and null, each enum value sent, and
// each rule broken at least once. Give it to NewMock and NewTransport with
// WithCoverage; Report says what was and was not covered, and Main is the
// one line a TestMain needs. It is safe for concurrent use.
type Coverage struct {
	mu sync.Mutex
	// hits holds the counter of each item of the spec, so that what was
	// never hit shows. Nothing is added after NewCoverage.
	hits  map[coverageItem]*int
	plans map[*route]*plan
}

// coverageItem is one thing the spec lets a test exercise.
type coverageItem struct {
	Operation string // "POST /link-token"
	Kind      string
	Target    string // "/categories/*", "429", "path public_token maxLength", "/categories/* hris"
}

// plan is what an operation can exercise: its request schema (to name the
// items of its violations) compiled for walk, and its documented statuses.
type plan struct {
	name     string
	body     *openapi3.Schema
	root     *node
	statuses []string
}

// node is a schema compiled for walk: the counters of the items a value
// there can hit, so that recording a request builds no key and looks up
// nothing but the value's own members.
type node struct {
	allOf    []*node
	enum     map[string]*int // by the value as a string; nil without an enum
	items    *node           // an array's items
	props    []property      // an object's declared properties
	declared openapi3.Schemas
	extra    *node // additionalProperties
}

// property is a declared property of an object, with the counter of each
// item it has (nil where the spec has no such item).
type property struct {
	name                  string
	present, absent, null *int
	node                  *node
}

// NewCoverage returns an empty Coverage of the embedded spec.
func NewCoverage() (*Coverage, error) {
	v, err := defaultValidator()
	if err != nil {
		return nil, err
	}
	return newCoverage(v), nil
}

func newCoverage(v *Validator) *Coverage {
	c := &Coverage{hits: map[coverageItem]*int{}, plans: map[*route]*plan{}}
	for _, r := range v.routes {
		p := &plan{name: r.method + " " + r.path}
		c.plans[r] = p
		c.item(p.name, KindOperation, p.name)
		for status := range r.op.Responses.Map() {
			p.statuses = append(p.statuses, status)
			c.item(p.name, KindStatus, status)
		}
		for name, param := range r.params {
			// A path parameter cannot be absent or empty: the request
			// would be another path.
			c.paramRules(p.name, "path "+name, param, "required", "minLength")
		}
		for _, param := range r.headers {
			c.paramRules(p.name, "header "+param.Name, param)
		}
		if rb := r.op.RequestBody; rb != nil && rb.Value != nil {
			if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				p.body = mt.Schema.Value
				p.root = c.schemaItems(p.name, "", p.body)
			}
		}
	}
	return c
}

// item returns the counter of an item of the spec, adding it at zero the
// first time.
func (c *Coverage) item(op, kind, target string) *int {
	it := coverageItem{op, kind, target}
	n := c.hits[it]
	if n == nil {
		n = new(int)
		c.hits[it] = n
	}
	return n
}

// paramRules adds the rules of a parameter's schema, but those unreachable.
func (c *Coverage) paramRules(op, where string, p *openapi3.Parameter, unreachable ...string) {
	rules := []string{}
	if p.Required {
		rules = append(rules, "required")
	}
	if p.Schema != nil && p.Schema.Value != nil {
		rules = append(rules, bounds(p.Schema.Value)...)
	}
	for _, rule := range rules {
		if !slices.Contains(unreachable, rule) {
			c.item(op, KindRule, where+" "+rule)
		}
	}
}

// bounds are the keywords of a schema a test can break: its bounds, its
// pattern, its not.
func bounds(s *openapi3.Schema) []string {
	var out []string
	if s.MinLength > 0 {
		out = append(out, "minLength")
	}
	if s.MaxLength != nil {
		out = append(out, "maxLength")
	}
	if s.Min != nil {
		out = append(out, "minimum")
	}
	if s.Max != nil {
		out = append(out, "maximum")
	}
	if s.MinItems > 0 {
		out = append(out, "minItems")
	}
	if s.MaxItems != nil {
		out = append(out, "maxItems")
	}
	if s.Pattern != "" {
		out = append(out, "pattern")
	}
	if s.Not != nil {
		out = append(out, "not")
	}
	return out
}

// schemaItems adds what a body at ptr can exercise of schema s, and returns
// s compiled for walk.
func (c *Coverage) schemaItems(op, ptr string, s *openapi3.Schema) *node {
	if s == nil {
		return nil
	}
	n := &node{declared: s.Properties}
	for _, sub := range s.AllOf {
		if sub != nil {
			n.allOf = append(n.allOf, c.schemaItems(op, ptr, sub.Value))
		}
	}
	for _, rule := range bounds(s) {
		if rule == "not" && s.Not.Value != nil && len(s.Not.Value.Required) == 1 {
			// The request's not is about one property (the expiry rule).
			c.item(op, KindRule, ptr+"/"+s.Not.Value.Required[0]+" not")
			continue
		}
		c.item(op, KindRule, ptr+" "+rule)
	}
	if len(s.Enum) > 0 {
		n.enum = make(map[string]*int, len(s.Enum))
	}
	for _, v := range s.Enum {
		value := fmt.Sprint(v)
		n.enum[value] = c.item(op, KindEnum, ptr+" "+value)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		prop := s.Properties[name].Value
		p := ptr + "/" + name
		pr := property{name: name, present: c.item(op, KindPresent, p)}
		if slices.Contains(s.Required, name) {
			c.item(op, KindRule, p+" required")
		} else {
			pr.absent = c.item(op, KindAbsent, p)
		}
		if prop != nil && prop.Nullable {
			pr.null = c.item(op, KindNull, p)
		}
		pr.node = c.schemaItems(op, p, prop)
		n.props = append(n.props, pr)
	}
	if s.Items != nil {
		n.items = c.schemaItems(op, ptr+"/*", s.Items.Value)
	}
	if ap := s.AdditionalProperties.Schema; ap != nil {
		n.extra = c.schemaItems(op, ptr+"/*", ap.Value)
	}
	return n
}

// checkRequest checks a request of route r, as route.check does, and
// records it in cov, which may be nil.
func (r *route) checkRequest(h http.Header, params map[string]string, body []byte, cov *Coverage) *shared.ViolationList {
	l, value, decoded := r.check(h, params, body)
	if cov != nil {
		vs, _ := l.Result()
		cov.request(r, value, decoded, vs)
	}
	return l
}

// request records a request of route r: the operation, its body's
// properties and enum values, and the rules it broke.
func (c *Coverage) request(r *route, value any, decoded bool, violations []Violation) {
	c.record(r, func(p *plan) {
		c.requestOf(p, value, decoded, violations)
	})
}

// requestOf records a request of the operation of plan p, c locked.
func (c *Coverage) requestOf(p *plan, value any, decoded bool, violations []Violation) {
	c.hit(coverageItem{p.name, KindOperation, p.name})
	if decoded {
		p.root.walk(value)
	}
	for _, v := range violations {
		switch v.In {
		case "path", "header":
			// "path parameter public_token breaks its schema's pattern"
			if name, ok := strings.CutPrefix(v.Message, v.In+" parameter "); ok {
				name, _, _ = strings.Cut(name, " ")
				c.hit(coverageItem{p.name, KindRule, v.In + " " + name + " " + v.Rule})
			} else if name, ok := strings.CutPrefix(v.Message, "header "); ok {
				name, _, _ = strings.Cut(name, " ")
				c.hit(coverageItem{p.name, KindRule, "header " + name + " " + v.Rule})
			}
		case "body":
			c.hit(coverageItem{p.name, KindRule, schemaPointer(p.body, v.Pointer) + " " + v.Rule})
		}
	}
}

// response records a status answered to a request of route r.
func (c *Coverage) response(r *route, status int) {
	c.record(r, func(p *plan) {
		code := strconv.Itoa(status)
		for _, s := range p.statuses {
			if s == code || (len(s) == 3 && s[1:] == "XX" && s[0] == code[0]) || s == "default" {
				c.hit(coverageItem{p.name, KindStatus, s})
				return
			}
		}
	})
}

// record calls fn with the plan of route r, c locked; it does nothing when
// c is nil (no coverage asked for) or r is not of c's spec.
func (c *Coverage) record(r *route, fn func(p *plan)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.plans[r]; p != nil {
		fn(p)
	}
}

// hit counts an item, if the spec has it.
func (c *Coverage) hit(it coverageItem) { count(c.hits[it]) }

// count counts the item of counter n, if the spec has it (n is not nil).
func count(n *int) {
	if n != nil {
		*n++
	}
}

// walk records the properties and enum values of a decoded value against
// its compiled schema.
func (n *node) walk(value any) {
	if n == nil {
		return
	}
	for _, sub := range n.allOf {
		sub.walk(value)
	}
	switch v := value.(type) {
	case string:
		count(n.enum[v])
	case []any:
		if n.items != nil {
			for _, item := range v {
				n.items.walk(item)
			}
		}
	case map[string]any:
		for _, p := range n.props {
			member, ok := v[p.name]
			switch {
			case !ok:
				count(p.absent)
			case member == nil:
				count(p.null)
			default:
				count(p.present)
				p.node.walk(member)
			}
		}
		if n.extra != nil {
			// A null member is walked too: walk records nothing of a null.
			for name, member := range v {
				if _, declared := n.declared[name]; !declared {
					n.extra.walk(member)
				}
			}
		}
	}
}

// schemaPointer turns a value's pointer into its schema's: array indexes
// and map keys become "*".
func schemaPointer(s *openapi3.Schema, pointer string) string {
	if pointer == "" {
		return ""
	}
	var out strings.Builder
	for _, token := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		var next *openapi3.Schema
		switch {
		case s == nil:
			out.WriteString("/" + token)
			continue
		case s.Properties[token] != nil:
			out.WriteString("/" + token)
			next = s.Properties[token].Value
		case s.Items != nil:
			out.WriteString("/*")
			next = s.Items.Value
		case s.AdditionalProperties.Schema != nil:
			out.WriteString("/*")
			next = s.AdditionalProperties.Schema.Value
		default:
			out.WriteString("/" + token)
		}
		s = next
	}
	return out.String()
}

// CoverageItem is one thing the spec lets a test exercise, and how many
// exchanges exercised it.
type CoverageItem struct {
	Operation string `json:"operation"`
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	Hits      int    `json:"hits"`
}

// CoverageReport is what a Coverage recorded, item by item, sorted.
type CoverageReport struct {
	Items []CoverageItem `json:"items"`
}

// Report returns what was recorded so far.
func (c *Coverage) Report() CoverageReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	var r CoverageReport
	for it, n := range c.hits {
		r.Items = append(r.Items, CoverageItem{it.Operation, it.Kind, it.Target, *n})
	}
	slices.SortFunc(r.Items, func(a, b CoverageItem) int {
		return cmp.Or(strings.Compare(a.Operation, b.Operation), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Target, b.Target))
	})
	return r
}

// Ratio returns the share of the items of a kind ("" for every item) that
// were covered, and how many there are.
func (r CoverageReport) Ratio(kind string) (float64, int) {
	covered, total := 0, 0
	for _, it := range r.Items {
		if kind != "" && it.Kind != kind {
			continue
		}
		total++
		if it.Hits > 0 {
			covered++
		}
	}
	if total == 0 {
		return 1, 0
	}
	return float64(covered) / float64(total), total
}

// kinds lists the kinds of a report, sorted.
func (r CoverageReport) kinds() []string {
	var out []string
	for _, it := range r.Items {
		if !slices.Contains(out, it.Kind) {
			out = append(out, it.Kind)
		}
	}
	slices.Sort(out)
	return out
}

// WriteText writes the report for a person: the share of each kind, then
// every item not covered.
func (r CoverageReport) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeHeadline(&b, "")
	for _, k := range r.kinds() {
		ratio, n := r.Ratio(k)
		fmt.Fprintf(&b, "  %-12s %5.1f%% of %d\n", k, 100*ratio, n)
	}
	for _, it := range r.Items {
		if it.Hits == 0 {
			fmt.Fprintf(&b, "  not covered: %s: %s %s\n", it.Operation, it.Kind, it.Target)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeadline writes the first line of the text report, with a note
// after it.
func (r CoverageReport) writeHeadline(w io.Writer, note string) {
	all, n := r.Ratio("")
	fmt.Fprintf(w, "contracttest coverage of the spec: %.1f%% of %d items%s\n", 100*all, n, note)
}

// WriteJSON writes the report as JSON: every item with its hits.
func (r CoverageReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJUnit writes the report as the JUnit XML that CI systems read: a
// test suite per operation, a test case per item, failed when not covered.
func (r CoverageReport) WriteJUnit(w io.Writer) error {
	type failure struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
	}
	type testsuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Name    string      `xml:"name,attr"`
		Suites  []testsuite `xml:"testsuite"`
	}
	out := testsuites{Name: "contracttest coverage"}
	for _, it := range r.Items {
		if len(out.Suites) == 0 || out.Suites[len(out.Suites)-1].Name != it.Operation {
			out.Suites = append(out.Suites, testsuite{Name: it.Operation})
		}
		s := &out.Suites[len(out.Suites)-1]
		tc := testcase{Name: it.Kind + " " + it.Target, Classname: it.Operation}
		if it.Hits == 0 {
			tc.Failure = &failure{Message: "not covered by any exchange"}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Thresholds are the least share, from 0 to 1, of each kind of item a run
// must cover (KindRule, KindStatus, ...; "" is every item). A kind not named
// has no threshold.
type Thresholds map[string]float64

// The environment variables Main reads: where to write the report as JSON
// and as JUnit XML, besides the text on standard output.
const (
	EnvCoverageText  = "CONTRACT_COVERAGE_TEXT"
	EnvCoverageJSON  = "CONTRACT_COVERAGE_JSON"
	EnvCoverageJUnit = "CONTRACT_COVERAGE_JUNIT"
)

// Main is the one line a TestMain needs: it runs the tests, then prints the
// coverage report on standard output (which go test shows with -v, or when
// the package fails), and writes it as text, JSON and JUnit XML to the
// files CONTRACT_COVERAGE_TEXT, CONTRACT_COVERAGE_JSON and
// CONTRACT_COVERAGE_JUNIT name,
// and returns a failing exit code when the tests failed or a kind is under
// its threshold:
//
//	var cov, _ = contracttest.NewCoverage()
//
//	func TestMain(m *testing.M) {
//		os.Exit(cov.Main(m, contracttest.Thresholds{contracttest.KindStatus: 1}))
//	}
//
// A run of only some tests (go test -run) covers less: the thresholds apply
// only when every test ran, that is, when no -run or -skip flag was given
// (as the caller's own check of os.Args, run says).
func (c *Coverage) Main(m interface{ Run() int }, min Thresholds) int {
	code := m.Run()
	r := c.Report()
	partial := partialRun()
	if partial {
		r.writeHeadline(os.Stdout, " (only some tests ran: no threshold applies)")
	} else {
		_ = r.WriteText(os.Stdout)
	}
	for env, write := range map[string]func(io.Writer) error{EnvCoverageText: r.WriteText, EnvCoverageJSON: r.WriteJSON, EnvCoverageJUnit: r.WriteJUnit} {
		if path := os.Getenv(env); path != "" {
			if err := writeFile(path, write); err != nil {
				fmt.Fprintf(os.Stderr, "contracttest: %s: %v\n", env, err)
				code = max(code, 1)
			}
		}
	}
	if code != 0 || partial {
		return code
	}
	for _, kind := range slices.Sorted(maps.Keys(min)) {
		if ratio, n := r.Ratio(kind); ratio < min[kind] {
			name := cmp.Or(kind, "all items")
			fmt.Fprintf(os.Stderr, "contracttest: coverage of %s is %.1f%% of %d, under the %.1f%% required: add cases that exercise what is listed as not covered\n",
				name, 100*ratio, n, 100*min[kind])
			code = 1
		}
	}
	return code
}

// partialRun reports whether go test was asked to run only some tests.
func partialRun() bool {
	for _, arg := range os.Args[1:] {
		for _, flag := range []string{"-test.run", "-test.skip", "-run", "-skip"} {
			if arg == flag || strings.HasPrefix(arg, flag+"=") {
				return true
			}
		}
	}
	return false
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
