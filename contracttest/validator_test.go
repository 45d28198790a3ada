package contracttest_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

const minimalBody = `{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`

func newRequest(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4010/link-token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key")
	return req
}

func response(status int, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {contentType}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := []struct {
		name   string
		req    func() *http.Request
		want   []contracttest.Violation // nil means valid
		fields []string
	}{
		{"valid", func() *http.Request { return newRequest(minimalBody) }, nil, nil},
		{"valid at a region's path", func() *http.Request {
			r := newRequest(minimalBody)
			r.URL.Path = "/api/mktg/v1/link-token"
			return r
		}, nil, nil},
		{"every violation reported", func() *http.Request {
			return newRequest(`{"end_user_email_address":"","end_user_organization_name":"Acme","categories":["payroll"],"link_expiry_mins":800}`)
		}, []contracttest.Violation{
			{In: "body", Pointer: "/categories/0", Rule: "enum"},
			{In: "body", Pointer: "/end_user_email_address", Rule: "minLength"},
			{In: "body", Pointer: "/end_user_origin_id", Rule: "required"},
			{In: "body", Pointer: "/link_expiry_mins", Rule: "not"},
		}, []string{"categories", "end_user_email_address", "end_user_origin_id", "link_expiry_mins"}},
		{"expiry 721 without magic link", func() *http.Request {
			return newRequest(strings.Replace(minimalBody, `}`, `,"link_expiry_mins":721,"should_create_magic_link_url":false}`, 1))
		}, []contracttest.Violation{{In: "body", Pointer: "/link_expiry_mins", Rule: "not"}}, []string{"link_expiry_mins"}},
		{"keys are case-sensitive: a re-cased magic link flag is an unknown field", func() *http.Request {
			return newRequest(strings.Replace(minimalBody, `}`, `,"link_expiry_mins":10080,"Should_Create_Magic_Link_Url":true}`, 1))
		}, []contracttest.Violation{{In: "body", Pointer: "/link_expiry_mins", Rule: "not"}}, []string{"link_expiry_mins"}},
		{"keys are case-sensitive: an unknown upper-case key is ignored", func() *http.Request {
			return newRequest(strings.Replace(minimalBody, `}`, `,"LINK_EXPIRY_MINS":99999}`, 1))
		}, nil, nil},
		{"expiry with magic link", func() *http.Request {
			return newRequest(strings.Replace(minimalBody, `}`, `,"link_expiry_mins":10080,"should_create_magic_link_url":true}`, 1))
		}, nil, nil},
		{"nested location", func() *http.Request {
			return newRequest(strings.Replace(minimalBody, `}`, `,"category_common_model_scopes":{"hris":[{"model_name":""}]}}`, 1))
		}, []contracttest.Violation{{In: "body", Pointer: "/category_common_model_scopes/hris/0/model_name", Rule: "minLength"}},
			[]string{"category_common_model_scopes"}},
		{"no auth", func() *http.Request {
			r := newRequest(minimalBody)
			r.Header.Del("Authorization")
			return r
		}, []contracttest.Violation{{In: "security", Rule: "security"}}, nil},
		{"not JSON", func() *http.Request { return newRequest(`{`) }, []contracttest.Violation{{In: "body", Rule: "requestBody"}}, nil},
		{"wrong method", func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "http://x/link-token", nil)
		}, []contracttest.Violation{{In: "operation", Rule: "operation"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := tc.req()
			err := v.ValidateRequest(req)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				var ce *contracttest.ContractError
				require.True(t, errors.As(err, &ce), "%v", err)
				assert.Equal(t, "request", ce.Side)
				got := make([]contracttest.Violation, len(ce.Violations))
				for i, x := range ce.Violations {
					assert.NotEmpty(t, x.Message)
					got[i] = contracttest.Violation{In: x.In, Pointer: x.Pointer, Rule: x.Rule}
				}
				assert.Equal(t, tc.want, got, "every violation, in pointer order")
				assert.Equal(t, tc.fields, ce.Fields())
				if slices.ContainsFunc(tc.want, func(v contracttest.Violation) bool { return v.Rule == "not" }) {
					assert.Contains(t, err.Error(), "/link_expiry_mins: must be at most 720 unless should_create_magic_link_url is true (not)",
						"the rule is named, with the bound read from the spec")
				}
				assert.NotContains(t, err.Error(), "ada@example.com", "values are not quoted")
			}
			if req.Body != nil && req.Method == http.MethodPost {
				rest, _ := io.ReadAll(req.Body)
				assert.NotEmpty(t, rest, "the body stays readable")
			}
		})
	}
}

// TestValidateResponseCatchesBrokenResponses: the drift check sees responses
// that break the spec, with their location.
func TestValidateResponseCatchesBrokenResponses(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := []struct {
		name string
		resp *http.Response
		want []contracttest.Violation
	}{
		{"valid token", response(200, "application/json", `{"link_token":"t","magic_link_url":"https://link.merge.dev/x"}`), nil},
		{"valid error", response(400, "application/json", `{"end_user_email_address":["required"]}`), nil},
		{"valid 5xx", response(503, "application/json", `{"detail":"down"}`), nil},
		{"token without link_token", response(200, "application/json", `{"integration_name":"Lever"}`),
			[]contracttest.Violation{{In: "body", Pointer: "/link_token", Rule: "required"}}},
		{"wrong type", response(200, "application/json", `{"link_token":"t","magic_link_url":5}`),
			[]contracttest.Violation{{In: "body", Pointer: "/magic_link_url", Rule: "type"}}},
		{"problem without title", response(400, "application/json", `{"errors":[{"detail":"x","problem_type":"X"}]}`),
			[]contracttest.Violation{{In: "body", Pointer: "/errors/0/title", Rule: "required"}}},
		{"undocumented status", response(418, "application/json", `{}`),
			[]contracttest.Violation{{In: "status", Rule: "responses"}}},
		{"HTML", response(200, "text/html", `<html></html>`),
			[]contracttest.Violation{{In: "header", Rule: "header"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.ValidateResponse(newRequest(minimalBody), tc.resp)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				var ce *contracttest.ContractError
				require.True(t, errors.As(err, &ce), "%v", err)
				assert.Equal(t, "response", ce.Side)
				assert.Contains(t, err.Error(), "response breaks the spec")
				got := make([]contracttest.Violation, len(ce.Violations))
				for i, x := range ce.Violations {
					got[i] = contracttest.Violation{In: x.In, Pointer: x.Pointer, Rule: x.Rule}
				}
				assert.Equal(t, tc.want, got)
			}
			rest, _ := io.ReadAll(tc.resp.Body)
			assert.NotEmpty(t, rest, "the body stays readable")
		})
	}
}

func TestValidatorIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := minimalBody
			if i%2 == 1 {
				body = `{"categories":[]}`
			}
			req := newRequest(body)
			err := v.ValidateRequest(req)
			assert.Equal(t, i%2 == 1, err != nil)
			assert.NoError(t, v.ValidateResponse(req, response(200, "application/json", `{"link_token":"t"}`)))
		}()
	}
	wg.Wait()
}

// TestOversizedBodiesStayReadable: a body over the 1 MiB the suite reads is
// a contract violation, and stays whole for whoever reads it next: the
// request's own body, the recorded round trip's response.
func TestOversizedBodiesStayReadable(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	big := `{"end_user_email_address":"` + strings.Repeat("a", 2<<20) + `"}`

	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4010/link-token", strings.NewReader(big))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key")
	err = v.ValidateRequest(req)
	var ce *contracttest.ContractError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "requestBody", ce.Violations[0].Rule)
	assert.Contains(t, err.Error(), "exceeds 1048576 bytes")
	rest, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, big, string(rest), "the request body is whole")
	require.NotNil(t, req.GetBody)
	again, err := req.GetBody()
	require.NoError(t, err)
	all, _ := io.ReadAll(again)
	assert.Len(t, all, len(big), "GetBody is left as it was")

	resp := response(200, "application/json", big)
	err = v.ValidateResponse(newRequest(minimalBody), resp)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "response", ce.Side)
	rest, _ = io.ReadAll(resp.Body)
	assert.Equal(t, big, string(rest), "the response body is whole")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, big)
	}))
	t.Cleanup(srv.Close)
	rec := &contracttest.Recorder{}
	got, err := contracttest.NewTransport(nil, contracttest.RecordTo(rec)).RoundTrip(newRequestTo(srv.URL, minimalBody))
	require.NoError(t, err, "recorded, not failed")
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Len(t, body, len(big), "the caller reads the whole response")
	require.Len(t, rec.Violations(), 1)
	assert.Equal(t, "responseBody", rec.Violations()[0].Violations[0].Rule)
	_, err = contracttest.NewTransport(nil).RoundTrip(newRequestTo(srv.URL, minimalBody))
	assert.ErrorIs(t, err, client.ErrContractBroken, "failing mode: a contract error like any other")
}

func newRequestTo(url, body string) *http.Request {
	req := newRequest(body)
	req.URL, _ = req.URL.Parse(url + "/link-token")
	req.Host = req.URL.Host
	req.RequestURI = ""
	return req
}

// TestValidatorSaysWhyABodyIsNotJSON: the violation names where the JSON
// breaks, or that it ended too soon.
func TestValidatorSaysWhyABodyIsNotJSON(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := map[string]string{
		`{"a":`:   "unexpected EOF",
		`{"a" x}`: "invalid character 'x' after object key, at byte 6",
		`"\u1234`: "unexpected EOF",
		`"\u12`:   "unexpected EOF",
		`[1] x`:   "data after the value, at byte 4",
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001): "invalid character '{' exceeded max depth, at byte 50001",
	}
	for body, want := range cases {
		var ce *contracttest.ContractError
		require.ErrorAs(t, v.ValidateRequest(newRequest(body)), &ce, "%.20q", body)
		require.Len(t, ce.Violations, 1)
		assert.Equal(t, "the body is not JSON: "+want, ce.Violations[0].Message, "%.20q", body)
	}
}

// TestValidatorReadsAtMost1MiB: a body of exactly 1 MiB is validated whole;
// one byte more is refused before validation.
func TestValidatorReadsAtMost1MiB(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	body := paddedBody
	require.Len(t, body(1<<20), 1<<20)
	assert.NoError(t, v.ValidateRequest(newRequest(body(1<<20))))
	err = v.ValidateRequest(newRequest(body(1<<20 + 1)))
	var ce *contracttest.ContractError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Violations, 1)
	assert.Equal(t, "requestBody", ce.Violations[0].Rule)
	assert.Contains(t, ce.Violations[0].Message, "exceeds 1048576 bytes")
	assert.NoError(t, v.ValidateResponse(newRequest(minimalBody), response(200, "application/json", `{"link_token":"`+strings.Repeat("t", 1<<20-17)+`"}`)))
}

// paddedBody is minimalBody padded to n bytes with a "pad" member first.
func paddedBody(n int) string {
	return `{"pad":"` + strings.Repeat("p", n-len(minimalBody)-len(`"pad":"",`)) + `",` + minimalBody[1:]
}
