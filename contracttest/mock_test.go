package contracttest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/shared"
)

// validatedClient returns a client whose every request and response is
// checked against the spec: a mock answer that breaks the spec fails the call.
func validatedClient(t *testing.T, url string, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{
		client.WithBaseURL(url),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}),
	}, opts...)
	c, err := client.New("secret-key-for-mock", opts...)
	require.NoError(t, err)
	return c
}

func ada() client.LinkTokenRequest {
	return client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryHRIS},
	}
}

func TestMockAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	c := validatedClient(t, srv.URL)
	ctx := context.Background()

	magic := ada()
	magic.ShouldCreateMagicLinkURL, magic.LinkExpiryMins = true, 10080
	tok, err := c.CreateLinkToken(ctx, magic)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.MagicLinkURL, "https://link.merge.dev/"))
	assert.Empty(t, tok.IntegrationName)

	again, err := c.CreateLinkToken(ctx, ada())
	require.NoError(t, err)
	assert.NotEqual(t, tok.LinkToken, again.LinkToken, "a fresh token each time")
	assert.Empty(t, again.MagicLinkURL)

	// Keys are read as the spec spells them: re-cased ones are unknown
	// fields, ignored, so they neither ask for a Magic Link nor name an
	// integration.
	raw := strings.Replace(minimalBody, "}", `,"SHOULD_CREATE_MAGIC_LINK_URL":true,"Integration":"bamboohr"}`, 1)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/link-token", strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotContains(t, got, "magic_link_url")
	assert.NotContains(t, got, "integration_name")

	other := ada()
	other.Integration = "some-new-hris"
	tok, err = c.CreateLinkToken(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "some-new-hris", tok.IntegrationName)
}

func TestMockRejectsWhatTheSpecRejects(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	cases := []struct {
		name   string
		auth   string
		body   string
		status int
		fields []string
	}{
		{"no auth", "", minimalBody, 401, nil},
		{"basic auth", "Basic YTpi", minimalBody, 401, nil},
		{"721 without magic link", "Bearer k", strings.Replace(minimalBody, "}", `,"link_expiry_mins":721}`, 1), 400, []string{"link_expiry_mins"}},
		{"every field", "Bearer k", `{"categories":["x"],"language":"fr"}`, 400,
			[]string{"categories", "end_user_email_address", "end_user_organization_name", "end_user_origin_id", "language"}},
		{"not JSON", "Bearer k", `nope`, 400, nil},
		{"keys are case-sensitive: a re-cased magic link flag does not lift the bound", "Bearer k",
			strings.Replace(minimalBody, "}", `,"link_expiry_mins":10080,"Should_Create_Magic_Link_Url":true}`, 1), 400, []string{"link_expiry_mins"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/link-token", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.NoError(t, v.ValidateResponse(req, resp), "the mock's answer matches the spec")
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			keys := []string{}
			for k := range body {
				if k != "detail" {
					keys = append(keys, k)
				}
			}
			assert.ElementsMatch(t, tc.fields, keys)
			if tc.fields == nil {
				assert.NotEmpty(t, body["detail"])
			} else {
				assert.NotContains(t, body, "detail", "no empty detail beside the fields")
			}
		})
	}
}

func TestMockScriptDrivesTheClientsRetries(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t, contracttest.WithScript(
		contracttest.Step{Status: 429, RetryAfter: "0"},
		contracttest.Step{Status: 503, RetryAfter: "0"},
	)))
	t.Cleanup(srv.Close)
	c := validatedClient(t, srv.URL)
	tok, err := c.CreateLinkToken(context.Background(), ada())
	require.NoError(t, err, "429, 503, then 200 within two retries")
	assert.NotEmpty(t, tok.LinkToken)

	srv2 := httptest.NewServer(newMock(t, contracttest.WithScript(
		contracttest.Step{Status: 500}, contracttest.Step{Status: 502, RetryAfter: "0"}, contracttest.Step{Status: 401})))
	t.Cleanup(srv2.Close)
	_, err = validatedClient(t, srv2.URL, client.WithMaxRetries(1)).CreateLinkToken(context.Background(), ada())
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Equal(t, 2, apiErr.Attempts)
	assert.Equal(t, "A server error occurred.", apiErr.Problems[0].Detail)
	assert.True(t, strings.HasPrefix(apiErr.RequestID, "mock-"))
}

func TestMockLatencyAndHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(newMock(t,
		contracttest.WithLatency(300*time.Millisecond),
		contracttest.OnRequest(func(r *http.Request, body []byte) {
			mu.Lock()
			seen = append(seen, r.Header.Get("User-Agent")+" "+string(body))
			mu.Unlock()
		})))
	t.Cleanup(srv.Close)
	c := validatedClient(t, srv.URL, client.WithMaxRetries(0), client.WithUserAgent("hook-test"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.CreateLinkToken(ctx, ada())
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	start := time.Now()
	_, err = c.CreateLinkToken(context.Background(), ada())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	assert.Contains(t, seen[1], "hook-test")
	assert.Contains(t, seen[1], `"end_user_origin_id":"42"`)
}

func TestMockLogsNoSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	srv := httptest.NewServer(newMock(t, contracttest.WithLogger(logger)))
	t.Cleanup(srv.Close)
	c := validatedClient(t, srv.URL)
	_, err := c.CreateLinkToken(context.Background(), ada())
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/link-token",
		strings.NewReader(`{"end_user_email_address":"ada@example.com","categories":[]}`))
	req.Header.Set("Authorization", "Bearer secret-key-for-mock")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, "one line per request")
	assert.Contains(t, lines[0], "status=200")
	assert.Contains(t, lines[1], "status=400")
	assert.Contains(t, lines[1], "categories")
	assert.Contains(t, lines[1], "end_user_organization_name")
	assert.NotContains(t, buf.String(), "secret-key-for-mock")
	assert.NotContains(t, buf.String(), "ada@example.com")
}

// TestMockLogRedactsEveryForm: the key and the email stay out of the log
// line wherever a request puts them (path, method), however they are cased
// or escaped, and however the body spells the email.
func TestMockLogRedactsEveryForm(t *testing.T) {
	t.Parallel()
	const key, email = "secret-key-for-mock", "ada@example.com"
	withEmail := func(k, v string) string {
		return strings.Replace(minimalBody, `"end_user_email_address":"ada@example.com"`, `"`+k+`":"`+v+`"`, 1)
	}
	cases := []struct {
		name   string
		method string
		target string
		auth   string
		body   string
		status int
	}{
		{"email in the path", "POST", "/ada@example.com/link-token", "Bearer " + key, minimalBody, 404},
		{"email percent-encoded", "POST", "/ada%40example.com/link-token", "Bearer " + key, minimalBody, 404},
		{"email encoded twice", "POST", "/ada%2540example.com/link-token", "Bearer " + key, minimalBody, 404},
		{"email encoded three times", "POST", "/ada%252540example.com/link-token", "Bearer " + key, minimalBody, 404},
		{"email re-cased", "POST", "/ADA@Example.COM/link-token", "Bearer " + key, minimalBody, 404},
		{"email JSON-escaped in the body", "POST", "/ada@example.com/link-token", "Bearer " + key,
			withEmail("end_user_email_address", `ada\u0040example.com`), 404},
		{"email under a re-cased key", "POST", "/ada@example.com/link-token", "Bearer " + key,
			withEmail("End_User_Email_Address", email), 404},
		{"email on another path", "POST", "/users/ada@example.com", "Bearer " + key, minimalBody, 404},
		{"key in the path", "POST", "/secret-key-for-mock/link-token", "Bearer " + key, minimalBody, 404},
		{"key re-cased, scheme re-cased", "POST", "/SECRET-KEY-FOR-MOCK/link-token", "bEARER " + key, minimalBody, 404},
		{"key as the method", "SECRET-KEY-FOR-MOCK", "/link-token", "Bearer " + key, minimalBody, 405},
		{"key in a query-escaped form", "POST", "/secret%2Dkey%2Dfor%2Dmock/link-token", "Bearer " + key, minimalBody, 404},
		{"key encoded after an invalid escape", "POST", "/%25zz/%2573%2565cret-key-for-mock/link-token", "Bearer " + key, minimalBody, 404},
		{"key after Bearer and a tab", "POST", "/secret-key-for-mock/x", "Bearer\t" + key, minimalBody, 404},
		{"email under a repeated key", "POST", "/ada@example.com/x", "Bearer " + key,
			strings.Replace(minimalBody, `{`, `{"end_user_email_address":"other@example.com",`, 1), 404},
		{"email in a body cut short", "POST", "/ada@example.com/x", "Bearer " + key, `{"end_user_email_address":"ada@example.com","categ`, 404},
		{"email in an HTML reference", "POST", "/ada&#64;example.com/x", "Bearer " + key, minimalBody, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			m := newMock(t, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
			req := httptest.NewRequest(tc.method, "http://mock"+tc.target, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tc.auth)
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			line := buf.String()
			require.Equal(t, 1, strings.Count(line, "\n"), "one line per request: %s", line)
			assert.Contains(t, line, "status="+strconv.Itoa(tc.status))
			assert.Contains(t, line, "[redacted]")
			for _, secret := range []string{key, email} {
				for _, form := range []string{secret, url.PathEscape(secret), url.QueryEscape(secret), "ada%2540example.com"} {
					assert.NotContains(t, strings.ToLower(line), strings.ToLower(form))
				}
			}
		})
	}
}

// TestMockLogRedactsTheKeysAndEightEmails: a body with many emails gives the
// log's redactor its first eight, however many Authorization headers the
// request has, and every key stays redacted; the bound (eight passes over
// the logged text) leaves a ninth email as it is.
func TestMockLogRedactsTheKeysAndEightEmails(t *testing.T) {
	t.Parallel()
	var body strings.Builder
	body.WriteString("{")
	for i := range 12 {
		fmt.Fprintf(&body, `"end_user_email_address":"user%d@example.com",`, i)
	}
	body.WriteString(`"categories":["hris"]}`)
	cases := []struct {
		name string
		keys []string
	}{
		{"no key", nil},
		{"one key", []string{"sk-one-0001"}},
		{"three keys", []string{"sk-one-0001", "sk-two-0002", "sk-three-0003"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			m := newMock(t, contracttest.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
			path := "/" + strings.Join(append(slices.Clone(tc.keys), "user7@example.com", "user8@example.com"), "/")
			req := httptest.NewRequest(http.MethodPost, "http://mock"+path, strings.NewReader(body.String()))
			for _, k := range tc.keys {
				req.Header.Add("Authorization", "Bearer "+k)
			}
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
			var line struct{ Path string }
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
			want := strings.Repeat("/[redacted]", len(tc.keys)+1) + "/user8@example.com"
			assert.Equal(t, want, line.Path,
				"each key and the body's first eight emails (user0 to user7) are redacted, and no more emails: count the emails apart from the keys, up to maxLoggedEmails")
		})
	}
}

// TestMockLogDecodesThePath: the logged path is decoded until no escape is
// left; every hex digit, in either case, counts, and a '%' that does not
// start two hex digits (at the end of the path too) is kept as it is.
func TestMockLogDecodesThePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, target, want string
	}{
		{"digits at their ends", "/%2530%2539", "/09"},
		{"lower-case letters at their ends", "/%253a%253f", "/:?"},
		{"upper-case letters at their ends", "/%253A%253F", "/:?"},
		{"the first digit at its ends", "/%2540%2539%2561%2546%2541", "/@9aFA"},
		{"just outside the digits", "/%25/0%25:0%253/%253:", "/%/0%:0%3/%3:"},
		{"just outside the letters", "/%25`0%25g0%25@0%25G0%253g%253G%253@%253`", "/%`0%g0%@0%G0%3g%3G%3@%3`"},
		{"a percent at the end", "/x%25", "/x%"},
		{"one digit at the end", "/x%254", "/x%4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			m := newMock(t, contracttest.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
			req := httptest.NewRequest(http.MethodPost, "http://mock"+tc.target, strings.NewReader(minimalBody))
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusNotFound, rec.Code)
			var line struct{ Path string }
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
			assert.Equal(t, tc.want, line.Path)
		})
	}
}

// BenchmarkMockLogHugeEmail: a logged request whose email is 1 MB. The log
// redacts a secret only where it can occur, so this costs what validating
// the body costs (it took 10 s of CPU per request when every secret went
// into a regular expression).
func BenchmarkMockLogHugeEmail(b *testing.B) {
	huge := strings.Repeat("é", 500_000)
	body := strings.Replace(minimalBody, "ada@example.com", huge, 1)
	var buf bytes.Buffer
	m := newMock(b, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		req := httptest.NewRequest(http.MethodPost, "http://mock/a/b/c/link-token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		// A key of one letter would be redacted from "link-token" itself.
		req.Header.Set("Authorization", "Bearer test-key-0123456789")
		m.ServeHTTP(httptest.NewRecorder(), req)
		if !strings.Contains(buf.String(), "path=/a/b/c/link-token") {
			b.Fatal(buf.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// newMock builds a mock with opts, failing the test if NewMock refuses them.
func newMock(tb testing.TB, opts ...contracttest.Option) *contracttest.Mock {
	tb.Helper()
	m, err := contracttest.NewMock(append([]contracttest.Option{contracttest.WithCoverage(suiteCoverage)}, opts...)...)
	require.NoError(tb, err)
	return m
}

// TestNewMockRejectsBadScripts: a step that would panic the mock, or answer
// what the spec does not document without saying so, fails NewMock.
func TestNewMockRejectsBadScripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		step contracttest.Step
		want string
	}{
		{"zero step", contracttest.Step{}, "status 0 is not a final HTTP status"},
		{"status 1000", contracttest.Step{Status: 1000}, "status 1000 is not a final HTTP status"},
		{"negative status", contracttest.Step{Status: -1}, "status -1"},
		{"informational", contracttest.Step{Status: 100, Undocumented: true}, "status 100 is not a final HTTP status"},
		{"undocumented 418", contracttest.Step{Status: 418}, "status 418 is not documented for POST /link-token (documented: 200, 400, 401, 403, 429, 5XX); set Undocumented"},
		{"undocumented 201", contracttest.Step{Status: 201}, "status 201 is not documented"},
		{"undocumented 404", contracttest.Step{Status: 404}, "status 404 is not documented"},
		{"Undocumented on a documented status", contracttest.Step{Status: 503, Undocumented: true}, "status 503 is documented for POST /link-token; remove Undocumented"},
		{"Undocumented on 200", contracttest.Step{Status: 200, Undocumented: true}, "status 200 is documented"},
		{"Retry-After with 200", contracttest.Step{Status: 200, RetryAfter: "1"}, "RetryAfter is sent only with an error status"},
		{"Retry-After with a line break", contracttest.Step{Status: 429, RetryAfter: "1\r\nX-Evil: 1"}, `RetryAfter "1\r\nX-Evil: 1" is not a valid header value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := contracttest.NewMock(contracttest.WithScript(contracttest.Step{Status: 429}, tc.step))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), "contracttest: NewMock: script step 2: "+tc.want)
		})
	}
}

// TestMockScriptedAnswers: every documented status is answered as the spec
// says, and an undocumented one only when the step is marked so.
func TestMockScriptedAnswers(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := []struct {
		name       string
		step       contracttest.Step
		valid      bool // the answer matches the spec
		detail     string
		retryAfter string
	}{
		{"400", contracttest.Step{Status: 400}, true, "Bad Request", ""},
		{"401", contracttest.Step{Status: 401}, true, "Invalid token.", ""},
		{"403", contracttest.Step{Status: 403}, true, "You do not have permission to perform this action.", ""},
		{"429 with Retry-After", contracttest.Step{Status: 429, RetryAfter: "7"}, true, "Request was throttled.", "7"},
		{"500", contracttest.Step{Status: 500}, true, "A server error occurred.", ""},
		{"599", contracttest.Step{Status: 599}, true, "A server error occurred.", ""},
		{"undocumented 418", contracttest.Step{Status: 418, Undocumented: true}, false, "I'm a teapot", ""},
		{"undocumented 201", contracttest.Step{Status: 201, Undocumented: true}, false, "Created", ""},
		{"undocumented 204 has no body", contracttest.Step{Status: 204, Undocumented: true}, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMock(t, contracttest.WithScript(tc.step))
			req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(minimalBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer k")
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			resp := rec.Result()
			assert.Equal(t, tc.step.Status, resp.StatusCode)
			assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			err := v.ValidateResponse(req, resp)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "status")
			}
			if tc.detail == "" {
				assert.Zero(t, rec.Body.Len())
			} else {
				assert.JSONEq(t, `{"detail":`+jsonString(tc.detail)+`}`, rec.Body.String())
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			}

			// The script is used up: the next answer is the normal one.
			rec = httptest.NewRecorder()
			req = httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(minimalBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer k")
			m.ServeHTTP(rec, req)
			assert.Equal(t, 200, rec.Code)
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestMockOtherPathsAndMethods: what is not POST .../link-token gets the
// spec's error form, {"detail": "..."}, as JSON.
func TestMockOtherPathsAndMethods(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	cases := []struct {
		name   string
		method string
		path   string
		status int
		allow  string
	}{
		{"other path", http.MethodPost, "/link-tokens", 404, ""},
		{"root", http.MethodGet, "/", 404, ""},
		{"GET", http.MethodGet, "/link-token", 405, "POST"},
		{"PUT", http.MethodPut, "/link-token", 405, "POST"},
		{"the operation under a prefix: only the spec's paths are served", http.MethodPost, "/api/mktg/v1/link-token", 404, ""},
		{"a base URL that already ends in /link-token", http.MethodPost, "/link-token/link-token", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, httptest.NewRequest(tc.method, "http://mock"+tc.path, strings.NewReader(minimalBody)))
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
			assert.NotEmpty(t, rec.Header().Get("X-Request-Id"))
			var body map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			assert.Len(t, body, 1)
			assert.Contains(t, body["detail"], "POST /link-token")
		})
	}
}

// badCategories is how many categories outside the enum fit in a body of
// 1 MiB, the validator's cap: 262,139.
const badCategories = (1<<20 - len(`{"categories":[]}`)) / len(`"x",`)

// manyBadCategories is a body of just under 1 MiB holding badCategories
// categories that are not in the enum.
func manyBadCategories() string {
	return `{"categories":[` + strings.Repeat(`"x",`, badCategories-1) + `"x"]}`
}

// maxMockAnswer bounds any 400 of the mock: shared.MaxViolations messages
// of at most a few hundred bytes each.
const maxMockAnswer = 32 << 10

// TestMockBoundsItsAnswer: however many violations or however long the
// offending keys, the 400 lists at most shared.MaxViolations messages, each
// cut short, and says how many were left out.
func TestMockBoundsItsAnswer(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	m := newMock(t, contracttest.WithValidator(v))
	longKey := strings.Repeat("K", 300<<10)
	cases := []struct {
		name     string
		body     string
		field    string
		messages int
		detail   string
	}{
		// The three required end-user fields are missing too: each field's
		// first violation is listed before another field's repeats.
		{"262k bad categories", manyBadCategories(), "categories", shared.MaxViolations - 3,
			fmt.Sprintf("%d more violations were not listed", badCategories+3-shared.MaxViolations)},
		{"a 300 KiB unknown key", strings.Replace(minimalBody, "}",
			`,"category_common_model_scopes":{"hris":[{"model_name":"E","model_permissions":{"`+longKey+`":{}}}]}}`, 1),
			"category_common_model_scopes", 1, ""},
		{"3 x 300 KiB keys of scopes", strings.Replace(minimalBody, "}",
			`,"category_common_model_scopes":{"a`+longKey+`":[{}],"b`+longKey+`":[{}],"c`+longKey+`":[{}]}}`, 1),
			"category_common_model_scopes", 3, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.LessOrEqual(t, len(tc.body), 1<<20)
			req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer k")
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			resp := rec.Result()
			require.Equal(t, 400, resp.StatusCode)
			assert.Less(t, rec.Body.Len(), maxMockAnswer)
			check := httptest.NewRequest(http.MethodPost, "http://mock/link-token", nil)
			require.NoError(t, v.ValidateResponse(check, resp))
			var body map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			var msgs []string
			require.NoError(t, json.Unmarshal(body[tc.field], &msgs))
			assert.Len(t, msgs, tc.messages)
			if tc.name == "262k bad categories" {
				for _, f := range []string{"end_user_email_address", "end_user_organization_name", "end_user_origin_id"} {
					assert.Contains(t, body, f, "the missing %s is named despite 262k bad categories", f)
				}
			}
			for _, msg := range msgs {
				assert.LessOrEqual(t, len(msg), 300, "each message is cut short")
			}
			_, hasDetail := body["detail"]
			if tc.detail == "" {
				assert.False(t, hasDetail, "no empty detail")
				return
			}
			var detail string
			require.NoError(t, json.Unmarshal(body["detail"], &detail))
			assert.Contains(t, detail, tc.detail)
		})
	}
}

// BenchmarkMockManyViolations measures one answer to a 1 MiB body of
// 262,139 bad categories: bytes answered (resp-bytes) and, with -benchmem,
// what the mock allocates; "validator" is the Validator alone on the same
// body, so the difference is the mock's own share.
func BenchmarkMockManyViolations(b *testing.B) {
	body := manyBadCategories()
	newRequest := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer k")
		return req
	}
	b.Run("mock", func(b *testing.B) {
		m := newMock(b)
		b.ReportAllocs()
		var answered int
		for b.Loop() {
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, newRequest())
			answered = rec.Body.Len()
		}
		b.ReportMetric(float64(answered), "resp-bytes")
	})
	b.Run("validator", func(b *testing.B) {
		v, err := contracttest.NewValidator()
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			_ = v.ValidateRequest(newRequest())
		}
	})
}

// TestMockLogRedactsTheLongerSecretFirst: a key that starts the email does
// not leave the rest of the email in the log line.
func TestMockLogRedactsTheLongerSecretFirst(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := newMock(t, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	req := httptest.NewRequest(http.MethodPost, "http://mock/ada@example.com/nowhere", strings.NewReader(minimalBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ada")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	require.Equal(t, 404, rec.Code)
	assert.Contains(t, buf.String(), " path=/[redacted]/nowhere ")
	assert.NotContains(t, buf.String(), "example.com")
}

// TestNewMockAcceptsValidScripts: any header value a server may send is a
// valid RetryAfter, spaces and tabs included.
func TestNewMockAcceptsValidScripts(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []string{"120", "Wed, 21 Oct 2015 07:28:00 GMT", "1\t2", "~"} {
		_, err := contracttest.NewMock(contracttest.WithScript(contracttest.Step{Status: 429, RetryAfter: retryAfter}))
		assert.NoError(t, err, "%q", retryAfter)
	}
}

// answer is the mock's answer to a POST of body to /link-token.
func answer(t *testing.T, m *contracttest.Mock, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	return rec
}

// TestMockMessages: each message of a 400 is keyed by its top-level field,
// starts with the rest of its pointer when there is one, and is cut to 200
// bytes on a rune boundary.
func TestMockMessages(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	missingModel := func(key string) string {
		return strings.Replace(minimalBody, "}", `,"category_common_model_scopes":{"`+key+`":[{}]}}`, 1)
	}
	const missing = `/0/model_name: property "model_name" is missing`
	cases := []struct {
		name, body, field, want string
	}{
		{"a field's own message", strings.Replace(minimalBody, `"end_user_origin_id":"42",`, "", 1),
			"end_user_origin_id", `property "end_user_origin_id" is missing`},
		{"an item's message starts with its index", strings.Replace(minimalBody, `"hris"`, `"payroll"`, 1),
			"categories", `/0: value is not one of the allowed values ["hris","ats","accounting","ticketing","crm","mktg","filestorage","knowledgebase"]`},
		{"a message of exactly 200 bytes is kept", missingModel(strings.Repeat("k", 200-1-len(missing))),
			"category_common_model_scopes", "/" + strings.Repeat("k", 200-1-len(missing)) + missing},
		{"a longer one is cut", missingModel(strings.Repeat("k", 300)),
			"category_common_model_scopes", "/" + strings.Repeat("k", 196) + "…"},
		{"a cut inside a rune backs up to its start", missingModel("a" + strings.Repeat("é", 150)),
			"category_common_model_scopes", "/a" + strings.Repeat("é", 97) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := answer(t, m, tc.body)
			require.Equal(t, 400, rec.Code)
			var body map[string][]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			assert.Equal(t, map[string][]string{tc.field: {tc.want}}, body)
		})
	}
}

// TestMockRefusesBodiesOver1MiB: a body the Validator would not read whole
// gets a 400 saying so; one of exactly 1 MiB is answered.
func TestMockRefusesBodiesOver1MiB(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	pad := paddedBody
	require.Len(t, pad(1<<20), 1<<20)
	assert.Equal(t, 200, answer(t, m, pad(1<<20)).Code)
	rec := answer(t, m, pad(1<<20+1))
	assert.Equal(t, 400, rec.Code)
	assert.JSONEq(t, `{"detail":"the body exceeds 1048576 bytes, more than the contract kit reads"}`, rec.Body.String())
}

// TestMockWithoutLatencyAnswersAtOnce: only WithLatency makes the mock wait
// (and give up on a client that went away); without it, every request is
// answered, even one whose context is already done.
func TestMockWithoutLatencyAnswersAtOnce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := newMock(t, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 40 {
		buf.Reset()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://mock/link-token", strings.NewReader(minimalBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer k")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		require.Contains(t, rec.Body.String(), "link_token", "request %d", i)
		require.Contains(t, buf.String(), "status=200", "request %d", i)
	}
}

// brokenBody is a request body that yields its bytes, then fails as a
// connection that ends early does (or, with ctx, blocks until ctx ends).
type brokenBody struct {
	data []byte
	ctx  context.Context
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	if b.ctx != nil {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	return 0, io.ErrUnexpectedEOF
}

func (b *brokenBody) Close() error { return nil }

// TestMockNeverAnswers200ToABodyItCouldNotRead: a complete JSON body whose
// Content-Length promised 50 bytes more is answered 400, with a logger as
// without one (the logger once made the mock answer 200).
func TestMockNeverAnswers200ToABodyItCouldNotRead(t *testing.T) {
	t.Parallel()
	for _, logged := range []bool{false, true} {
		var opts []contracttest.Option
		var buf bytes.Buffer
		if logged {
			opts = append(opts, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
		}
		m := newMock(t, opts...)
		req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", &brokenBody{data: []byte(minimalBody)})
		req.ContentLength = int64(len(minimalBody) + 50)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer key")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "logger: %v; the verdict never depends on the log", logged)
		assert.Contains(t, rec.Body.String(), "could not be read whole")
	}
	// Over a real connection: the client sends the whole JSON, promises 50
	// bytes more, and stops writing.
	srv := httptest.NewServer(newMock(t, contracttest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /link-token HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer key\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(minimalBody)+50, minimalBody)
	require.NoError(t, err)
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil { // or no answer at all: the client has gone
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "a body that could not be read is never answered 200")
	}
}

// TestMockAnswersNothingToAClientThatWentAway: a client that goes away while
// its body trickles in, or during WithLatency, gets no answer, never an
// implicit 200; the log says status 0.
func TestMockAnswersNothingToAClientThatWentAway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		latency time.Duration
		trickle bool
	}{
		{"during the latency", time.Minute, false},
		{"while the body trickles in", 0, true},
		{"while the body trickles in, with latency", time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			m := newMock(t, contracttest.WithLatency(tc.latency), contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			var body io.Reader = strings.NewReader(minimalBody)
			if tc.trickle {
				body = &brokenBody{data: []byte(minimalBody[:10]), ctx: ctx}
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://mock/link-token", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key")
			rec := httptest.NewRecorder()
			assert.PanicsWithValue(t, http.ErrAbortHandler, func() { m.ServeHTTP(rec, req) }, "net/http closes the connection without an answer")
			assert.False(t, rec.Flushed)
			assert.Empty(t, rec.Body.String(), "nothing was written")
			assert.Contains(t, buf.String(), "status=0")
		})
	}
}

// TestMockLogRedactionIsBounded: a body with 2,000 case variants of the
// email key gives the log's redactor at most a few secrets, so the request
// costs what validating it costs.
func TestMockLogRedactionIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("{")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		key := []byte("end_user_email_address")
		for j := range key {
			if rng.IntN(2) == 0 {
				key[j] = byte(unicode.ToUpper(rune(key[j])))
			}
		}
		fmt.Fprintf(&b, `"%s":"user%d@example.com",`, key, i)
	}
	b.WriteString(`"categories":["hris"]}`)
	var buf bytes.Buffer
	m := newMock(t, contracttest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	req := httptest.NewRequest(http.MethodPost, "http://mock/user0@example.com/x", strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer key")
	rec := httptest.NewRecorder()
	start := time.Now()
	m.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Contains(t, buf.String(), "path=/[redacted]/x", "the first emails are secrets")
	assert.Less(t, time.Since(start), 5*time.Second, "bounded: it took 9 s of CPU with every variant a secret")
}
