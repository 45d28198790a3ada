package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
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

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// newMock builds a mock with opts, failing the test if NewMock refuses them.
func newMock(tb testing.TB, opts ...contracttest.MockOption) *contracttest.Mock {
	tb.Helper()
	m, err := contracttest.NewMock(opts...)
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
