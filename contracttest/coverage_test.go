package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// coverageOf is the report of a fresh Coverage after fn's exchanges through
// a client with a validating transport against a mock, both recording.
func coverageOf(t *testing.T, fn func(c *client.Client)) contracttest.CoverageReport {
	t.Helper()
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	m, err := contracttest.NewMock(contracttest.WithCoverage(cov))
	require.NoError(t, err)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	c, err := client.New("sk-coverage-test", client.WithBaseURL(srv.URL), client.WithMaxRetries(0),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil, contracttest.WithCoverage(cov))}))
	require.NoError(t, err)
	fn(c)
	return cov.Report()
}

// hits is the count of one item of POST /link-token, or -1 if the report
// has no such item.
func hits(r contracttest.CoverageReport, kind, target string) int {
	return hitsOf(r, "POST /link-token", kind, target)
}

func hitsOf(r contracttest.CoverageReport, op, kind, target string) int {
	for _, it := range r.Items {
		if it.Operation == op && it.Kind == kind && it.Target == target {
			return it.Hits
		}
	}
	return -1
}

// TestCoverageRecords: one valid create records the operation, its status,
// the properties sent and left out, and the enum value sent; an invalid
// request records the rule it broke. The transport and the mock both
// record, so each exchange counts twice.
func TestCoverageRecords(t *testing.T) {
	t.Parallel()
	r := coverageOf(t, func(c *client.Client) {
		_, err := c.CreateLinkToken(context.Background(), ada())
		require.NoError(t, err)
	})
	assert.Equal(t, 2, hits(r, contracttest.KindOperation, "POST /link-token"))
	assert.Equal(t, 0, hitsOf(r, "GET /account-token/{public_token}", contracttest.KindOperation, "GET /account-token/{public_token}"))
	assert.Equal(t, 0, hitsOf(r, "GET /account-token/{public_token}", contracttest.KindStatus, "200"))
	assert.Equal(t, 2, hits(r, contracttest.KindStatus, "200"))
	assert.Equal(t, 2, hits(r, contracttest.KindPresent, "/end_user_email_address"))
	assert.Equal(t, 2, hits(r, contracttest.KindAbsent, "/integration"))
	assert.Equal(t, 2, hits(r, contracttest.KindEnum, "/categories/* hris"))
	assert.Equal(t, 0, hits(r, contracttest.KindEnum, "/categories/* ats"))
	assert.Equal(t, -1, hits(r, contracttest.KindRule, "/link_expiry_mins required"), "an optional property has no required rule")
	assert.Equal(t, 0, hits(r, contracttest.KindRule, "/link_expiry_mins not"))
	ratio, n := r.Ratio("")
	assert.Greater(t, n, 90)
	assert.Less(t, ratio, 0.5)

	// The mock alone records a request the client would refuse.
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	m, err := contracttest.NewMock(contracttest.WithCoverage(cov))
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(
		`{"end_user_email_address":"a@b.c","end_user_organization_name":"A","end_user_origin_id":"1","categories":["hris"],"link_expiry_mins":800}`))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	m.ServeHTTP(httptest.NewRecorder(), req)
	r = cov.Report()
	assert.Equal(t, 1, hits(r, contracttest.KindRule, "/link_expiry_mins not"), "the expiry rule, broken")
	assert.Equal(t, 1, hits(r, contracttest.KindStatus, "400"))
}

// TestCoverageReportFormats: text, JSON and JUnit XML say the same.
func TestCoverageReportFormats(t *testing.T) {
	t.Parallel()
	r := coverageOf(t, func(c *client.Client) { _, _ = c.CreateLinkToken(context.Background(), ada()) })
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	assert.Contains(t, text.String(), "contracttest coverage of the spec: ")
	assert.Contains(t, text.String(), "not covered: GET /account-token/{public_token}: operation GET /account-token/{public_token}")

	var js bytes.Buffer
	require.NoError(t, r.WriteJSON(&js))
	var back contracttest.CoverageReport
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, r, back)

	var junit bytes.Buffer
	require.NoError(t, r.WriteJUnit(&junit))
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(junit.Bytes(), &doc))
	total, failures := 0, 0
	for _, s := range doc.Suites {
		total += s.Tests
		failures += s.Failures
	}
	ratio, n := r.Ratio("")
	assert.Equal(t, n, total)
	assert.Equal(t, n-int(ratio*float64(n)+0.5), failures)
}

type runner int

func (r runner) Run() int { return int(r) }

// TestCoverageMain: the hook fails a run under a threshold, passes one over
// it, keeps the tests' own failure, writes the files asked for, and applies
// no threshold to a run of some tests only.
func TestCoverageMain(t *testing.T) {
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	dir := t.TempDir()
	t.Setenv(contracttest.EnvCoverageJSON, filepath.Join(dir, "cov.json"))
	t.Setenv(contracttest.EnvCoverageJUnit, filepath.Join(dir, "cov.xml"))
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	os.Args = []string{"contracttest.test"}
	captureOutput(t)
	assert.Equal(t, 1, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 0.5}), "nothing covered: under the threshold")
	assert.Equal(t, 0, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 0}))
	assert.Equal(t, 2, cov.Main(runner(2), nil), "the tests' own failure")
	assert.FileExists(t, filepath.Join(dir, "cov.json"))
	assert.FileExists(t, filepath.Join(dir, "cov.xml"))
	os.Args = []string{"contracttest.test", "-test.run=TestOne"}
	assert.Equal(t, 0, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 1}), "a partial run is not held to the thresholds")
}

// TestCoverageItems: a Coverage lists what the spec lets a suite exercise,
// before anything is sent: the rules of each parameter's schema (but those a
// request cannot break), the enum values of a schema reached through allOf,
// null for a nullable property only, and the properties inside a map's
// values.
func TestCoverageItems(t *testing.T) {
	t.Parallel()
	const exchange = "GET /account-token/{public_token}"
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	r := cov.Report()
	for _, c := range []struct {
		name, op, kind, target string
		listed                 bool
	}{
		{"a path parameter's pattern", exchange, contracttest.KindRule, "path public_token pattern", true},
		{"a path parameter's maxLength", exchange, contracttest.KindRule, "path public_token maxLength", true},
		{"a path parameter's not", exchange, contracttest.KindRule, "path public_token not", true},
		{"a path parameter cannot be absent", exchange, contracttest.KindRule, "path public_token required", false},
		{"a path parameter cannot be empty", exchange, contracttest.KindRule, "path public_token minLength", false},
		{"a header's minLength", "POST /link-token", contracttest.KindRule, "header Idempotency-Key minLength", true},
		{"a header's pattern", "POST /link-token", contracttest.KindRule, "header Idempotency-Key pattern", true},
		{"an optional header has no required rule", "POST /link-token", contracttest.KindRule, "header Idempotency-Key required", false},
		{"an enum value through allOf", "POST /link-token", contracttest.KindEnum, "/language en", true},
		{"another enum value through allOf", "POST /link-token", contracttest.KindEnum, "/language de", true},
		{"null of a nullable property", "POST /link-token", contracttest.KindNull, "/integration", true},
		{"no null of a property that is not nullable", "POST /link-token", contracttest.KindNull, "/language", false},
		{"a property of a map's values", "POST /link-token", contracttest.KindPresent, "/category_common_model_scopes/*/*/model_name", true},
		{"a rule of a map's values", "POST /link-token", contracttest.KindRule, "/category_common_model_scopes/*/*/model_name required", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := hitsOf(r, c.op, c.kind, c.target)
			if c.listed {
				assert.Equal(t, 0, n, "a fresh Coverage should list %s: %s %s, not yet hit; newCoverage (paramRules, schemaItems) no longer reaches it", c.op, c.kind, c.target)
			} else {
				assert.Equal(t, -1, n, "%s: %s %s cannot be exercised, so a Coverage should not list it", c.op, c.kind, c.target)
			}
		})
	}
}

// TestCoverageCountsOnce: each recorder (here the transport and the mock)
// counts an exchange once per item, for an enum value reached through
// allOf as for one in a map's values.
func TestCoverageCountsOnce(t *testing.T) {
	t.Parallel()
	r := coverageOf(t, func(c *client.Client) {
		req := ada()
		req.Language = client.LanguageEnglish
		req.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"hris": {{ModelName: "Employee"}}}
		_, err := c.CreateLinkToken(context.Background(), req)
		require.NoError(t, err)
	})
	for _, c := range []struct {
		name, kind, target string
		want               int
	}{
		{"the enum value sent through allOf", contracttest.KindEnum, "/language en", 2},
		{"the enum value not sent", contracttest.KindEnum, "/language de", 0},
		{"the property holding it", contracttest.KindPresent, "/language", 2},
		{"a property of a map's value", contracttest.KindPresent, "/category_common_model_scopes/*/*/model_name", 2},
		{"a property left out of a map's value", contracttest.KindAbsent, "/category_common_model_scopes/*/*/model_permissions", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, hits(r, c.kind, c.target), "one exchange seen by two recorders: %s %s should count %d (walk counts each item once per recorder, allOf included)", c.kind, c.target, c.want)
		})
	}
}

// TestCoverageReportSorted: a report lists its items by operation, then
// kind, then target, whatever order they were hit in.
func TestCoverageReportSorted(t *testing.T) {
	t.Parallel()
	r := coverageOf(t, func(c *client.Client) { _, _ = c.CreateLinkToken(context.Background(), ada()) })
	require.NotEmpty(t, r.Items)
	for i := 1; i < len(r.Items); i++ {
		a, b := r.Items[i-1], r.Items[i]
		require.Truef(t, a.Operation < b.Operation || a.Operation == b.Operation && (a.Kind < b.Kind || a.Kind == b.Kind && a.Target < b.Target),
			"item %d (%v) should come after item %d (%v): Report sorts by operation, kind, target", i-1, a, i, b)
	}
}

// smallReport is a report of two operations, some items covered.
func smallReport() contracttest.CoverageReport {
	return contracttest.CoverageReport{Items: []contracttest.CoverageItem{
		{Operation: "GET /a", Kind: contracttest.KindOperation, Target: "GET /a"},
		{Operation: "POST /b", Kind: contracttest.KindOperation, Target: "POST /b", Hits: 3},
		{Operation: "POST /b", Kind: contracttest.KindStatus, Target: "200", Hits: 1},
		{Operation: "POST /b", Kind: contracttest.KindStatus, Target: "400"},
		{Operation: "POST /b", Kind: contracttest.KindStatus, Target: "500"},
	}}
}

// TestCoverageReportText: the text report, exactly: the share of every item,
// of each kind, then each item not covered, and nothing more when all are.
func TestCoverageReportText(t *testing.T) {
	t.Parallel()
	covered := smallReport()
	for i := range covered.Items {
		covered.Items[i].Hits++
	}
	for _, c := range []struct {
		name   string
		report contracttest.CoverageReport
		want   string
	}{
		{"some covered", smallReport(), `contracttest coverage of the spec: 40.0% of 5 items
  operation     50.0% of 2
  status        33.3% of 3
  not covered: GET /a: operation GET /a
  not covered: POST /b: status 400
  not covered: POST /b: status 500
`},
		{"all covered", covered, `contracttest coverage of the spec: 100.0% of 5 items
  operation    100.0% of 2
  status       100.0% of 3
`},
		{"no items", contracttest.CoverageReport{}, "contracttest coverage of the spec: 100.0% of 0 items\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, c.report.WriteText(&b))
			assert.Equal(t, c.want, b.String(), "WriteText's output changed: if on purpose, update this expected text (and README's example if it shows one)")
		})
	}
}

// TestCoverageReportJUnit: the JUnit XML, exactly: one suite per operation,
// in order, a failure for each item not covered.
func TestCoverageReportJUnit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, smallReport().WriteJUnit(&b))
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="contracttest coverage">
  <testsuite name="GET /a" tests="1" failures="1">
    <testcase name="operation GET /a" classname="GET /a">
      <failure message="not covered by any exchange"></failure>
    </testcase>
  </testsuite>
  <testsuite name="POST /b" tests="4" failures="2">
    <testcase name="operation POST /b" classname="POST /b"></testcase>
    <testcase name="status 200" classname="POST /b"></testcase>
    <testcase name="status 400" classname="POST /b">
      <failure message="not covered by any exchange"></failure>
    </testcase>
    <testcase name="status 500" classname="POST /b">
      <failure message="not covered by any exchange"></failure>
    </testcase>
  </testsuite>
</testsuites>
`, b.String(), "WriteJUnit's output changed: if on purpose, update this expected XML and check a CI system still reads it")
}

// captureOutput points os.Stdout and os.Stderr at files until the test ends
// and returns a function that reads what was written to each. Only a test
// that is not parallel may call it.
func captureOutput(t *testing.T) func() (stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	require.NoError(t, err)
	errs, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = out, errs
	t.Cleanup(func() {
		os.Stdout, os.Stderr = stdout, stderr
		_ = out.Close()
		_ = errs.Close()
	})
	return func() (string, string) {
		o, err := os.ReadFile(out.Name())
		require.NoError(t, err)
		e, err := os.ReadFile(errs.Name())
		require.NoError(t, err)
		return string(o), string(e)
	}
}

// TestCoverageMainThresholdMessage: a kind under its threshold is named
// on standard error with its share and the share required; "" is all items.
func TestCoverageMainThresholdMessage(t *testing.T) {
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	n := len(cov.Report().Items)
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	os.Args = []string{"contracttest.test"}
	output := captureOutput(t)
	assert.Equal(t, 1, cov.Main(runner(0), contracttest.Thresholds{"": 0.5, contracttest.KindStatus: 0.25}), "nothing covered: under both thresholds")
	_, stderr := output()
	_, statuses := cov.Report().Ratio(contracttest.KindStatus)
	assert.Equal(t,
		"contracttest: coverage of all items is 0.0% of "+strconv.Itoa(n)+", under the 50.0% required: add cases that exercise what is listed as not covered\n"+
			"contracttest: coverage of status is 0.0% of "+strconv.Itoa(statuses)+", under the 25.0% required: add cases that exercise what is listed as not covered\n",
		stderr, "Main's message for a kind under its threshold changed: it should name the kind (all items for \"\"), its share and the share required")
}

// TestCoverageMainPartialRun: only a -run or -skip flag (either spelling,
// with its value joined or apart) makes a run partial, which no threshold
// applies to; any other flag leaves the thresholds in force.
func TestCoverageMainPartialRun(t *testing.T) {
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	for _, c := range []struct {
		name    string
		args    []string
		partial bool
	}{
		{"no flag", nil, false},
		{"-test.v", []string{"-test.v"}, false},
		{"-test.v=true", []string{"-test.v=true"}, false},
		{"-test.count=1", []string{"-test.count=1"}, false},
		{"-test.runner, another flag", []string{"-test.runner=x"}, false},
		{"-test.run=X", []string{"-test.run=X"}, true},
		{"-test.run X", []string{"-test.run", "X"}, true},
		{"-test.skip=X", []string{"-test.v", "-test.skip=X"}, true},
		{"-run=X", []string{"-run=X"}, true},
		{"-skip X", []string{"-skip", "X"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Args = append([]string{"contracttest.test"}, c.args...)
			output := captureOutput(t)
			code := cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 1})
			stdout, _ := output()
			if c.partial {
				assert.Equal(t, 0, code, "a run with %v is of some tests only: no threshold applies", c.args)
				assert.Equal(t, "contracttest coverage of the spec: 0.0% of "+strconv.Itoa(len(cov.Report().Items))+" items (only some tests ran: no threshold applies)\n", stdout,
					"a partial run prints the headline only, saying no threshold applies")
			} else {
				assert.Equal(t, 1, code, "a run with %v is of every test: the thresholds apply (nothing is covered)", c.args)
				assert.Contains(t, stdout, "  not covered: ", "a full run prints the whole text report")
			}
		})
	}
}

// TestCoverageMainWritesFiles: the files the environment names hold the
// report in each format, as the Write methods write it.
func TestCoverageMainWritesFiles(t *testing.T) {
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	os.Args = []string{"contracttest.test"}
	dir := t.TempDir()
	r := cov.Report()
	for _, c := range []struct {
		env   string
		write func(io.Writer) error
	}{
		{contracttest.EnvCoverageText, r.WriteText},
		{contracttest.EnvCoverageJSON, r.WriteJSON},
		{contracttest.EnvCoverageJUnit, r.WriteJUnit},
	} {
		t.Run(c.env, func(t *testing.T) {
			path := filepath.Join(dir, c.env)
			t.Setenv(c.env, path)
			captureOutput(t)
			assert.Equal(t, 0, cov.Main(runner(0), nil))
			var want bytes.Buffer
			require.NoError(t, c.write(&want))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, want.String(), string(got), "the file %s names should hold the whole report, as written to any writer", c.env)
		})
	}
}

// TestCoverageMainUnwritableFile: a report Main cannot write fails the run,
// and says which variable named the file, in every format.
func TestCoverageMainUnwritableFile(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full, where every write fails:", err)
	}
	cov, err := contracttest.NewCoverage()
	require.NoError(t, err)
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	os.Args = []string{"contracttest.test"}
	for _, env := range []string{contracttest.EnvCoverageText, contracttest.EnvCoverageJSON, contracttest.EnvCoverageJUnit} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "/dev/full")
			output := captureOutput(t)
			assert.Equal(t, 1, cov.Main(runner(0), nil), "a report that could not be written must fail the run, or CI reads a truncated file")
			_, stderr := output()
			assert.Contains(t, stderr, "contracttest: "+env+": ", "the message should name the variable to fix")
		})
	}
}

// TestCoverageReportWriteError: each format returns its writer's error.
func TestCoverageReportWriteError(t *testing.T) {
	t.Parallel()
	r := smallReport()
	for _, c := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"text", r.WriteText},
		{"JSON", r.WriteJSON},
		{"JUnit", r.WriteJUnit},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorIs(t, c.write(failingWriter{}), errWrite, "a %s report that could not be written must say so", c.name)
		})
	}
}

var errWrite = errors.New("write refused")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// TestCoverageRecordsMockRequests: the mock alone records what a request
// the client would not send exercises: a property sent as null, and a rule
// broken inside an array or a map, under the schema's pointer ("*" for an
// index or a key).
func TestCoverageRecordsMockRequests(t *testing.T) {
	t.Parallel()
	const base = `"end_user_email_address":"a@b.c","end_user_organization_name":"A","end_user_origin_id":"1","categories":["hris"]`
	for _, c := range []struct {
		name, body, kind, target string
	}{
		{"a property sent as null", `{` + base + `,"integration":null}`, contracttest.KindNull, "/integration"},
		{"a rule broken in a map's array", `{` + base + `,"category_common_model_scopes":{"hris":[{"model_name":""}]}}`, contracttest.KindRule, "/category_common_model_scopes/*/*/model_name minLength"},
		{"a rule broken in an array", `{"end_user_email_address":"a@b.c","end_user_organization_name":"A","end_user_origin_id":"1","categories":[]}`, contracttest.KindRule, "/categories minItems"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cov, err := contracttest.NewCoverage()
			require.NoError(t, err)
			m, err := contracttest.NewMock(contracttest.WithCoverage(cov))
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer k")
			req.Header.Set("Content-Type", "application/json")
			m.ServeHTTP(httptest.NewRecorder(), req)
			assert.Equal(t, 1, hits(cov.Report(), c.kind, c.target), "one request to the mock should record %s %s once", c.kind, c.target)
		})
	}
}
