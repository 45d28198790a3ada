package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/openapi"
)

// The benchmarks share one loopback server that answers every POST with a
// fixed token, so that the ratios between them hold on a noisy machine.
// "make bench" runs them and prints the ratio table.

const benchToken = `{"link_token":"necdP7FtdASl1fQwm62be2_dM4wBG8_GactqoUV0","integration_name":"BambooHR"}`

func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchToken)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchRequest is a typical request: the required fields, an integration,
// an expiry and a language.
func benchRequest() client.LinkTokenRequest {
	return client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme Corporation",
		EndUserOriginID:         "user-4242",
		Categories:              []client.Category{client.CategoryHRIS, client.CategoryATS},
		Integration:             "bamboohr",
		LinkExpiryMins:          60,
		Language:                client.LanguageEnglish,
	}
}

// decodeToken decodes and closes a success body, as a hand-written caller would.
func decodeToken(b *testing.B, resp *http.Response) {
	var tok gen.LinkToken
	err := json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.LinkToken == "" {
		b.Fatal("no token:", err)
	}
}

func BenchmarkRawNetHTTP(b *testing.B) {
	srv := benchServer(b)
	hc := srv.Client()
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		r, err := http.NewRequest(http.MethodPost, srv.URL+"/link-token", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer bench-key")
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		decodeToken(b, resp)
	}
}

func BenchmarkGeneratedClient(b *testing.B) {
	srv := benchServer(b)
	c, err := gen.NewClient(srv.URL, gen.WithHTTPClient(srv.Client()), gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer bench-key")
		return nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.CreateLinkToken(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		decodeToken(b, resp)
	}
}

func BenchmarkCreateLinkToken(b *testing.B) {
	srv := benchServer(b)
	benchWrapper(b, srv.URL, srv.Client())
}

// benchWrapper measures CreateLinkToken through the wrapper sending with hc.
func benchWrapper(b *testing.B, url string, hc *http.Client) {
	c, err := client.New("bench-key", client.WithBaseURL(url), client.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CreateLinkToken(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateRequest(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Validate(req); err != nil {
			b.Fatal(err)
		}
	}
}

// exchange is one request and its response, ready to validate repeatedly.
type exchange struct {
	body []byte
	req  *http.Request
	resp *http.Response
}

func newExchange(b *testing.B, url string) *exchange {
	body, err := json.Marshal(benchRequest())
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer bench-key")
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}}
	return &exchange{body: body, req: req, resp: resp}
}

// reset gives the request and response fresh bodies.
func (e *exchange) reset() {
	e.req.Body = io.NopCloser(bytes.NewReader(e.body))
	e.resp.Body = io.NopCloser(strings.NewReader(benchToken))
}

func BenchmarkValidatorExchange(b *testing.B) {
	v, err := contracttest.NewValidator()
	if err != nil {
		b.Fatal(err)
	}
	ex := newExchange(b, "http://127.0.0.1:4010/link-token")
	b.ReportAllocs()
	for b.Loop() {
		ex.reset()
		if err := v.ValidateRequest(ex.req); err != nil {
			b.Fatal(err)
		}
		if err := v.ValidateResponse(ex.req, ex.resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidatorExchangeNaive is the baseline a user would write by hand:
// load the spec, build a router and validate, on every call.
func BenchmarkValidatorExchangeNaive(b *testing.B) {
	raw := openapi.Spec()
	ex := newExchange(b, "http://127.0.0.1:4010/link-token")
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, IncludeResponseStatus: true}
	b.ReportAllocs()
	for b.Loop() {
		ex.reset()
		doc, err := openapi.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1:4010"}}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			b.Fatal(err)
		}
		route, params, err := router.FindRoute(ex.req)
		if err != nil {
			b.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: ex.req, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			b.Fatal(err)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: 200, Header: ex.resp.Header, Options: opts}
		out.SetBodyBytes([]byte(benchToken))
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransport(b *testing.B) {
	srv := benchServer(b)
	benchWrapper(b, srv.URL, &http.Client{Transport: contracttest.NewTransport(srv.Client().Transport)})
}
