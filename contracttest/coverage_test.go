package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	assert.Equal(t, 1, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 0.5}), "nothing covered: under the threshold")
	assert.Equal(t, 0, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 0}))
	assert.Equal(t, 2, cov.Main(runner(2), nil), "the tests' own failure")
	assert.FileExists(t, filepath.Join(dir, "cov.json"))
	assert.FileExists(t, filepath.Join(dir, "cov.xml"))
	os.Args = []string{"contracttest.test", "-test.run=TestOne"}
	assert.Equal(t, 0, cov.Main(runner(0), contracttest.Thresholds{contracttest.KindStatus: 1}), "a partial run is not held to the thresholds")
}
