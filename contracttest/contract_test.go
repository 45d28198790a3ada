package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// contractCase is one file of testdata/cases.
type contractCase struct {
	Name string `json:"name"`
	// Method and Path are the operation's (POST /link-token when empty);
	// a {public_token} in Path is replaced by PublicToken: "issued" (a
	// fresh one: a link token the target issued, completed), "exchanged"
	// (one already exchanged once), or the token itself.
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	PublicToken string            `json:"public_token"`
	Headers     map[string]string `json:"headers"` // override the defaults; "" removes a header
	Body        json.RawMessage   `json:"body"`
	RawBody     *string           `json:"raw_body"`
	Live        *bool             `json:"live"` // false: the live API decides this case differently
	WhyNotLive  string            `json:"why_not_live"`
	Prism       *prismDifference  `json:"prism"` // set where Prism's mock answers another status
	Expect      struct {
		Status  int      `json:"status"`
		Fields  []string `json:"fields"`  // fields the error body must name
		Present []string `json:"present"` // fields a 200 body must have
		Absent  []string `json:"absent"`  // fields a 200 body must not have
		// OutsideSpec is true for an answer the spec does not allow, such
		// as Prism's 404 to a Prefer code the operation does not document:
		// the response must fail validation.
		OutsideSpec bool `json:"outside_spec"`
	} `json:"expect"`
	// Then, when set, is a second request sent after the first, with the
	// same headers (a "{run}" in a header is one value per run of the
	// suite, the same in both requests), its own body (the first's when
	// empty), and its own expectations: Same names the members whose values
	// must equal the first answer's.
	Then *struct {
		Body   json.RawMessage  `json:"body"`
		Prism  *prismDifference `json:"prism"`
		Expect struct {
			Status int      `json:"status"`
			Same   []string `json:"same"`
		} `json:"expect"`
	} `json:"then"`
}

func loadCases(t *testing.T) []contractCase {
	t.Helper()
	files, err := filepath.Glob("testdata/cases/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40, "the suite has at least 40 cases")
	cases := make([]contractCase, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var c contractCase
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&c), f)
		require.NotEmpty(t, c.Name, f)
		require.NotZero(t, c.Expect.Status, f)
		if c.Prism != nil {
			require.NotZero(t, c.Prism.Status, "%s: prism.status", f)
			require.NotEmpty(t, c.Prism.Why, "%s: prism.why", f)
			require.Equal(t, accepted(c.Prism.Status) != accepted(c.Expect.Status), c.Prism.VerdictDiffers,
				"%s: prism.verdict_differs must say whether prism.status and expect.status disagree on accepting the request", f)
		}
		cases = append(cases, c)
	}
	return cases
}

// prismDifference records why Prism's mock of the spec answers a case with
// another status than our mock.
type prismDifference struct {
	Status int    `json:"status"` // what Prism answers
	Why    string `json:"why"`    // why Prism answers so
	// VerdictDiffers must be true exactly when Status accepts the request and
	// the case's expected status rejects it, or the reverse: Prism cannot
	// tell, and Why says why.
	VerdictDiffers bool `json:"verdict_differs"`
}

// target is where one mode of the suite sends its cases.
type target struct {
	baseURL string
	key     string
	live    bool
	// complete stands in for the end user finishing Merge Link with a link
	// token the target issued; nil where no end user can (Prism, Merge's
	// live API).
	complete func(linkToken string) (string, error)
	// prism is true for Prism, which keeps no state: any public token is
	// one it answers.
	prism bool
	// har, when set, records every exchange (CONTRACT_HAR).
	har *contracttest.HAR
}

// harFromEnv returns a HAR that is written, redacted, to the file
// CONTRACT_HAR names when the test ends, or nil when it names none: the
// weekly live run keeps the HAR and checks it with specdiff traffic.
func harFromEnv(t *testing.T) *contracttest.HAR {
	path := os.Getenv("CONTRACT_HAR")
	if path == "" {
		return nil
	}
	har := new(contracttest.HAR)
	t.Cleanup(func() {
		f, err := os.Create(path)
		require.NoError(t, err, "CONTRACT_HAR")
		_, err = har.WriteTo(f)
		require.NoError(t, errors.Join(err, f.Close()), "CONTRACT_HAR")
		t.Logf("the exchanges, redacted, are in %s", path)
	})
	return har
}

// TestContract runs every case against the in-process mock, against
// CONTRACT_BASE_URL when set, and against Merge's live API when
// MERGE_API_KEY is set. Every response, in every mode, must match the spec.
func TestContract(t *testing.T) {
	cases := loadCases(t)
	validator, err := contracttest.NewValidator()
	require.NoError(t, err)

	t.Run("mock", func(t *testing.T) {
		t.Parallel()
		m := newMock(t)
		srv := httptest.NewServer(m)
		t.Cleanup(srv.Close)
		runCases(t, cases, validator, target{baseURL: srv.URL, key: "mock-key", complete: m.CompleteLink})
	})
	t.Run("server", func(t *testing.T) {
		base := os.Getenv("CONTRACT_BASE_URL")
		if base == "" {
			t.Skip("set CONTRACT_BASE_URL (and MERGE_API_KEY for its key) to run the suite against a server, e.g. `linktoken mock` or a staging proxy")
		}
		key := os.Getenv("MERGE_API_KEY")
		if key == "" {
			key = "contract-test-key"
		} else if err := keySafeFor(base); err != nil {
			t.Fatalf("CONTRACT_BASE_URL: %v; MERGE_API_KEY is sent only over https or to a loopback host", err)
		}
		t.Parallel()
		base = strings.TrimRight(base, "/")
		// A server that is linktoken mock completes links at its own
		// endpoint; another server cannot, and the cases that need it fail.
		runCases(t, cases, validator, target{baseURL: base, key: key, complete: completeOver(base), har: harFromEnv(t)})
	})
	t.Run("prism", func(t *testing.T) {
		base := os.Getenv("PRISM_BASE_URL")
		if base == "" {
			t.Skip("set PRISM_BASE_URL to run the suite against Prism's mock of the spec: npm ci --prefix .ci/oracles, then .ci/oracles/prism.sh go test -run TestContract/prism ./contracttest")
		}
		t.Parallel()
		runPrismCases(t, cases, strings.TrimRight(base, "/"))
	})
	t.Run("live", func(t *testing.T) {
		key := os.Getenv("MERGE_API_KEY")
		if key == "" || os.Getenv("CONTRACT_BASE_URL") != "" {
			t.Skip("set MERGE_API_KEY (and MERGE_REGION: us, eu or apac) without CONTRACT_BASE_URL to run the suite against Merge's live API: make contract-live")
		}
		region := client.RegionUS
		if v := os.Getenv("MERGE_REGION"); v != "" {
			region, err = client.ParseRegion(v)
			require.NoError(t, err)
		}
		t.Parallel()
		runCases(t, cases, validator, target{baseURL: region.BaseURL(), key: key, live: true, har: harFromEnv(t)})
	})
}

// runThen sends a case's second request, with the first's headers.
func (c contractCase) runThen(t *testing.T, hc *http.Client, v *contracttest.Validator, first *http.Request, firstAnswer map[string]json.RawMessage) {
	t.Helper()
	body := c.Then.Body
	if len(body) == 0 {
		body = c.Body
	}
	req, err := http.NewRequest(first.Method, first.URL.String(), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = first.Header.Clone()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.NoError(t, v.ValidateResponse(req, resp), "the second response breaks the spec")
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, c.Then.Expect.Status, resp.StatusCode, "the second request's status; %s", describeBody(resp.StatusCode, raw))
	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &got))
	for _, f := range c.Then.Expect.Same {
		// Compared without showing them: they are credentials.
		assert.True(t, bytes.Equal(firstAnswer[f], got[f]), "the second answer's %s is not the first's (values not shown)", f)
	}
}

// run is one value per run of the suite, for the "{run}" of a case's
// headers: an Idempotency-Key of one run is never another's.
var run = strconv.FormatInt(time.Now().UnixNano(), 36)

// completeOver completes a link at the /_mock/complete-link endpoint of a
// server that is linktoken mock.
func completeOver(base string) func(string) (string, error) {
	return func(linkToken string) (string, error) {
		body, _ := json.Marshal(map[string]string{"link_token": linkToken})
		resp, err := http.Post(base+"/_mock/complete-link", "application/json", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var out struct {
			PublicToken string `json:"public_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("complete-link answered %d (is the server linktoken mock?)", resp.StatusCode)
		}
		return out.PublicToken, nil
	}
}

func runCases(t *testing.T, cases []contractCase, v *contracttest.Validator, tg target) {
	hc := suiteClient()
	if tg.har != nil {
		// Recording only: the cases check each response themselves, and
		// send some requests that break the spec on purpose.
		hc.Transport = contracttest.NewTransport(nil, contracttest.RecordHAR(tg.har), contracttest.RecordTo(&contracttest.Recorder{}))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if tg.live && c.Live != nil && !*c.Live {
				t.Skipf("not run live: %s", c.WhyNotLive)
			}
			if tg.live && (c.PublicToken == "issued" || c.PublicToken == "exchanged") {
				t.Skip("not run live: a public token needs an end user to finish Merge Link")
			}
			if !tg.live {
				t.Parallel()
			}
			req := c.request(t, tg)
			resp, err := hc.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()

			// The drift check: whatever the server answered must match the
			// spec, but for an answer the case says is outside it.
			if err := v.ValidateResponse(req, resp); c.Expect.OutsideSpec {
				assert.Error(t, err, "the case expects an answer outside the spec (outside_spec), and this one matches it")
			} else {
				assert.NoError(t, err, "the response breaks the spec")
			}
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, c.Expect.Status, resp.StatusCode, "status; %s", describeBody(resp.StatusCode, body))
			var got map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(body, &got), "a JSON object")
			if c.Then != nil {
				c.runThen(t, hc, v, req, got)
			}
			for _, f := range c.Expect.Present {
				assert.Contains(t, got, f)
			}
			for _, f := range c.Expect.Absent {
				assert.NotContains(t, got, f)
			}
			if !tg.live { // the live API words its errors its own way; the status is its verdict
				for _, f := range c.Expect.Fields {
					assert.Contains(t, got, f, "the error names %s", f)
				}
			}
		})
	}
}

// keySafeFor reports whether a real key may be sent to base: the client's
// own rule for WithBaseURL, https or http to a loopback host only.
func keySafeFor(base string) error {
	_, err := client.New("probe", client.WithBaseURL(base))
	return err
}

// suiteClient is the suite's HTTP client: it follows a redirect only within
// the first request's scheme, host and port, so the key it carries goes
// nowhere else.
func suiteClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			first := via[0].URL
			if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host || len(via) > 3 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// describeBody says what a failing case's response held without its
// values: a 2xx body holds a link token and a Magic Link URL, both
// credentials, and an error body may echo what was sent. Only the JSON
// keys are named.
func describeBody(status int, body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return fmt.Sprintf("a %d-byte body that is not a JSON object", len(body))
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, strconv.Quote(k))
	}
	sort.Strings(keys)
	return fmt.Sprintf("a %d body with the fields [%s] (values not shown)", status, strings.Join(keys, " "))
}

// runPrismCases sends every case to Prism's mock of the spec, a reading of
// openapi/link-token.yaml that shares no code with ours, and checks that it
// answers the case's status, or the one the case's "prism" entry names and
// explains. Prism answers with the spec's fixed examples, so bodies and the
// named fields are not compared, and neither are Prism's answers validated:
// its examples are the spec's own, which Spectral checks against the schemas.
func runPrismCases(t *testing.T, cases []contractCase, base string) {
	hc := suiteClient()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			// Prism serves the operation at /link-token: it drops the path of
			// the spec's servers (/api/mktg/v1) as request() does.
			req := c.request(t, target{baseURL: base, key: "prism-key", prism: true})
			resp, err := hc.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			want := c.Expect.Status
			if c.Prism != nil {
				want = c.Prism.Status
				t.Logf("Prism answers %d where our mock answers %d: %s", c.Prism.Status, c.Expect.Status, c.Prism.Why)
			}
			require.Equal(t, want, resp.StatusCode, "Prism's status; body: %.300s", body)
			if accepted(resp.StatusCode) != accepted(c.Expect.Status) {
				t.Logf("the verdicts differ, as the case declares")
			}
			if c.Then == nil {
				return
			}
			thenBody := c.Then.Body
			if len(thenBody) == 0 {
				thenBody = c.Body
			}
			second, err := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(thenBody))
			require.NoError(t, err)
			second.Header = req.Header.Clone()
			resp2, err := hc.Do(second)
			require.NoError(t, err)
			defer resp2.Body.Close()
			want = c.Then.Expect.Status
			if c.Then.Prism != nil {
				want = c.Then.Prism.Status
				t.Logf("Prism answers the second request %d where our mock answers %d: %s", c.Then.Prism.Status, c.Then.Expect.Status, c.Then.Prism.Why)
			}
			assert.Equal(t, want, resp2.StatusCode, "Prism's status for the second request")
		})
	}
}

// accepted is a status's verdict on the request: accepted or rejected.
func accepted(status int) bool { return status >= 200 && status < 300 }

func (c contractCase) request(t *testing.T, tg target) *http.Request {
	t.Helper()
	body := []byte(c.Body)
	if c.RawBody != nil {
		body = []byte(*c.RawBody)
	}
	method, path := c.Method, c.Path
	if path == "" {
		method, path = http.MethodPost, "/link-token"
	}
	if method == "" {
		method = http.MethodGet
	}
	if strings.Contains(path, "{public_token}") {
		path = strings.ReplaceAll(path, "{public_token}", url.PathEscape(c.publicToken(t, tg)))
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, tg.baseURL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tg.key)
	for k, v := range c.Headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, strings.ReplaceAll(v, "{run}", run))
		}
	}
	return req
}

// publicToken is the public token a case sends: for "issued" and
// "exchanged", one the target issued for a fresh link token (exchanged once
// already for "exchanged"); Prism keeps no state, so any token will do.
func (c contractCase) publicToken(t *testing.T, tg target) string {
	t.Helper()
	if c.PublicToken != "issued" && c.PublicToken != "exchanged" {
		return c.PublicToken
	}
	if tg.prism {
		return "prism-public-token"
	}
	require.NotNil(t, tg.complete, "this target cannot complete a link")
	cl, err := client.New(tg.key, client.WithBaseURL(tg.baseURL))
	require.NoError(t, err)
	lt, err := cl.CreateLinkToken(context.Background(), client.LinkTokenRequest{EndUserEmailAddress: "ada@example.com",
		EndUserOrganizationName: "Acme", EndUserOriginID: "42", Categories: []client.Category{client.CategoryHRIS}})
	require.NoError(t, err)
	public, err := tg.complete(lt.LinkToken)
	require.NoError(t, err)
	if c.PublicToken == "exchanged" {
		_, err := cl.ExchangePublicToken(context.Background(), public)
		require.NoError(t, err)
	}
	return public
}

// TestIdempotencyLive measures, against Merge's live API, whether it
// honours the Idempotency-Key on POST /link-token (a beta it documents
// without naming the endpoint): two creates with one key, and whether the
// link tokens are equal. It reports the finding (in the log, and in the
// GitHub step summary when there is one) rather than failing on it; it
// fails when a create fails.
func TestIdempotencyLive(t *testing.T) {
	key := os.Getenv("MERGE_API_KEY")
	if key == "" || os.Getenv("CONTRACT_BASE_URL") != "" {
		t.Skip("set MERGE_API_KEY (and MERGE_REGION) to measure whether Merge honours the Idempotency-Key: make contract-live")
	}
	region := client.RegionUS
	if v := os.Getenv("MERGE_REGION"); v != "" {
		var err error
		region, err = client.ParseRegion(v)
		require.NoError(t, err)
	}
	c, err := client.New(key, client.WithRegion(region))
	require.NoError(t, err)
	req := client.LinkTokenRequest{EndUserEmailAddress: "contract-test@example.com", EndUserOrganizationName: "linktoken contract suite",
		EndUserOriginID: "linktoken-idempotency-" + run, Categories: []client.Category{client.CategoryHRIS}}
	idem := client.WithIdempotencyKey("linktoken-idempotency-" + run)
	first, err := c.CreateLinkToken(context.Background(), req, idem)
	require.NoError(t, err)
	second, err := c.CreateLinkToken(context.Background(), req, idem)
	require.NoError(t, err)
	finding := fmt.Sprintf("%s: Merge (%s) honours the Idempotency-Key on POST /link-token: %v (two creates with one key got %s)",
		time.Now().UTC().Format("2006-01-02"), region, first.LinkToken == second.LinkToken,
		map[bool]string{true: "one link token", false: "two link tokens"}[first.LinkToken == second.LinkToken])
	t.Log(finding)
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		defer f.Close()
		_, err = fmt.Fprintln(f, "- "+finding)
		require.NoError(t, err)
	}
}

// TestContractSuiteKeepsSecrets: the suite never prints a success body (it
// holds credentials) or any value of an error body, and sends a real key
// only over https or to loopback.
func TestContractSuiteKeepsSecrets(t *testing.T) {
	t.Parallel()
	msg := describeBody(200, []byte(`{"link_token":"tok_SECRET","magic_link_url":"https://link.merge.dev/SECRET"}`))
	assert.NotContains(t, msg, "SECRET")
	assert.Contains(t, msg, `"link_token" "magic_link_url"`)
	msg = describeBody(400, []byte(`{"end_user_email_address":["ada@example.com is taken"]}`))
	assert.NotContains(t, msg, "ada@example.com")
	assert.Contains(t, describeBody(502, []byte("<html>gateway SECRET</html>")), "not a JSON object")
	assert.NotContains(t, describeBody(502, []byte("<html>gateway SECRET</html>")), "SECRET")

	cases := []struct {
		base string
		ok   bool
	}{
		{"https://staging.example.com/api/hris/v1", true},
		{"http://127.0.0.1:4010", true},
		{"http://[::1]:4010", true},
		{"http://localhost:4010", true},
		{"http://staging.example.com", false},
		{"http://10.0.0.5:4010", false},
		{"ftp://example.com", false},
		{"staging.example.com", false},
	}
	for _, tc := range cases {
		err := keySafeFor(tc.base)
		assert.Equal(t, tc.ok, err == nil, "%s: %v", tc.base, err)
	}

	// A redirect to another scheme or host is not followed: the key stays.
	var other atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { other.Add(1) }))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/link-token", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	req, err := http.NewRequest(http.MethodPost, redirecting.URL+"/link-token", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer SECRET")
	resp, err := suiteClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Zero(t, other.Load(), "the other host got nothing")
}
