package contracttest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// A service's test of its own code, with the mock standing in for Merge:
// the first call is throttled, the client waits as Retry-After says and
// retries, and the transport checks every request and response against the
// spec.
func Example() {
	var calls atomic.Int32
	mock, err := contracttest.NewMock(
		contracttest.WithScript(contracttest.Step{Status: 429, RetryAfter: "0"}),
		contracttest.OnRequest(func(*http.Request, []byte) { calls.Add(1) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()

	c, err := client.New("test-key",
		client.WithBaseURL(srv.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:      "ada@example.com",
		EndUserOrganizationName:  "Acme",
		EndUserOriginID:          "42",
		Categories:               []client.Category{client.CategoryHRIS},
		LinkExpiryMins:           10080,
		ShouldCreateMagicLinkURL: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.LinkToken != "", strings.HasPrefix(tok.MagicLinkURL, "https://"), calls.Load(), "attempts")

	// A request that breaks the spec never reaches the mock.
	_, err = c.CreateLinkToken(context.Background(), client.LinkTokenRequest{})
	var verr *client.ValidationError
	fmt.Println(errors.As(err, &verr), verr.Fields(), calls.Load(), "attempts")
	// Output:
	// true true 2 attempts
	// true [categories end_user_email_address end_user_organization_name end_user_origin_id] 2 attempts
}

// A server whose answer breaks the spec: the transport fails the call after
// one attempt, naming the rule, and the client's error is ErrContractBroken.
func ExampleNewTransport() {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"integration_name":"BambooHR"}`) // no link_token
	}))
	defer broken.Close()

	c, err := client.New("test-key",
		client.WithBaseURL(broken.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	})
	var ce *contracttest.ContractError
	fmt.Println(errors.Is(err, client.ErrContractBroken), errors.As(err, &ce))
	fmt.Println(ce.Side, ce.Violations[0].Pointer, ce.Violations[0].Rule)
	// Output:
	// true true
	// response /link_token required
}

// Recording instead of failing, to audit a proxy or a staging run.
func ExampleRecordTo() {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"magic_link_url":"https://link.merge.dev/x"}`)
	}))
	defer broken.Close()

	rec := &contracttest.Recorder{}
	hc := &http.Client{Transport: contracttest.NewTransport(nil, contracttest.RecordTo(rec))}
	req, _ := http.NewRequest(http.MethodPost, broken.URL+"/link-token",
		strings.NewReader(`{"end_user_email_address":"a@b.c","end_user_organization_name":"Acme","end_user_origin_id":"1","categories":["crm"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test-key")
	resp, err := hc.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	for _, v := range rec.Violations() {
		fmt.Println(v)
	}
	// Output: contracttest: response breaks the spec: /link_token: property "link_token" is missing (required)
}

// Fault injection: the first answers are scripted, then the mock behaves.
func ExampleWithScript() {
	mock, err := contracttest.NewMock(contracttest.WithScript(
		contracttest.Step{Status: http.StatusTooManyRequests, RetryAfter: "0"},
		contracttest.Step{Status: http.StatusServiceUnavailable, RetryAfter: "0"},
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()

	c, _ := client.New("test-key", client.WithBaseURL(srv.URL), client.WithMaxRetries(1))
	_, err = c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryATS},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Attempts)
	}
	// Output: 503 2
}

func ExampleValidator_ValidateRequest() {
	v, err := contracttest.NewValidator()
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := http.NewRequest(http.MethodPost, "https://api.merge.dev/api/mktg/v1/link-token",
		strings.NewReader(`{"end_user_email_address":"a@b.c","end_user_organization_name":"Acme","end_user_origin_id":"1","categories":["crm"],"link_expiry_mins":1440}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test-key")
	fmt.Println(v.ValidateRequest(req))
	// Output: contracttest: request breaks the spec: /link_expiry_mins: must be at most 720 unless should_create_magic_link_url is true (not)
}

// A test asks the mock for one of the spec's answers, as it would ask
// Prism's mock: Prefer puts the preference in the call's context, and the
// transport sends it as the Prefer header.
func ExamplePrefer() {
	mock, err := contracttest.NewMock()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	c, err := client.New("test-key", client.WithBaseURL(srv.URL), client.WithMaxRetries(0),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := contracttest.Prefer(context.Background(), "code=429")
	_, err = c.CreateLinkToken(ctx, client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryHRIS},
	})
	var apiErr *client.APIError
	fmt.Println(errors.As(err, &apiErr), apiErr.StatusCode)
	// Output: true 429
}

// Record what a test run sent and received, redacted, as a HAR file that
// "specdiff traffic" checks against the spec.
func ExampleRecordHAR() {
	mock, err := contracttest.NewMock()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	var har contracttest.HAR
	c, err := client.New("test-key", client.WithBaseURL(srv.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil, contracttest.RecordHAR(&har))}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryHRIS},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out strings.Builder
	if _, err := har.WriteTo(&out); err != nil { // a file, in a real run: os.Create("run.har")
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(out.String(), `"version": "1.2"`), strings.Contains(out.String(), "ada@example.com"))
	// Output: true false
}

// Measure what a test exercised of the spec: the mock and the transport
// record into one Coverage, and its report says what no test reached. In a
// suite, Coverage.Main in TestMain prints it and fails under thresholds.
func ExampleCoverage() {
	cov, err := contracttest.NewCoverage()
	if err != nil {
		fmt.Println(err)
		return
	}
	mock, err := contracttest.NewMock(contracttest.WithCoverage(cov))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	c, err := client.New("test-key", client.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryHRIS},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ops, n := cov.Report().Ratio(contracttest.KindOperation)
	fmt.Printf("%.0f%% of %d operations\n", 100*ops, n)
	// Output: 50% of 2 operations
}
