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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// harDoc is the part of a HAR 1.2 document the tests read.
type harDoc struct {
	Log struct {
		Version string `json:"version"`
		Creator struct {
			Name string `json:"name"`
		} `json:"creator"`
		Comment string `json:"comment"`
		Entries []struct {
			Request struct {
				Method   string `json:"method"`
				URL      string `json:"url"`
				Headers  []struct{ Name, Value string }
				PostData *struct {
					MimeType string `json:"mimeType"`
					Text     string `json:"text"`
				} `json:"postData"`
			} `json:"request"`
			Response struct {
				Status  int `json:"status"`
				Headers []struct{ Name, Value string }
				Content struct {
					Size    int    `json:"size"`
					Text    string `json:"text"`
					Comment string `json:"comment"`
				} `json:"content"`
			} `json:"response"`
		} `json:"entries"`
	} `json:"log"`
}

func writeHAR(t *testing.T, h *contracttest.HAR) (harDoc, string) {
	t.Helper()
	var buf bytes.Buffer
	n, err := h.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	var doc harDoc
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "a HAR is JSON")
	assert.Equal(t, "1.2", doc.Log.Version)
	return doc, buf.String()
}

// TestHARIsRedacted: the whole Link flow, recorded, holds none of its
// secrets in any case or escaped form, keeps every exchange, and still
// validates (a redacted token is still a token).
func TestHARIsRedacted(t *testing.T) {
	t.Parallel()
	f := newLinkFlow(t)
	var har contracttest.HAR
	const key = "sk-har-Secret-0123"
	c, err := client.New(key, client.WithBaseURL(f.srv.URL), client.WithMaxRetries(0),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil, contracttest.RecordHAR(&har))}))
	require.NoError(t, err)
	ctx := context.Background()
	req := ada()
	req.EndUserEmailAddress = "Ada.Lovelace@Example.com"
	req.LinkExpiryMins = 10080
	req.ShouldCreateMagicLinkURL = true
	lt, err := c.CreateLinkToken(ctx, req)
	require.NoError(t, err)
	public, err := f.mock.CompleteLink(lt.LinkToken)
	require.NoError(t, err)
	acct, err := c.ExchangePublicToken(ctx, public)
	require.NoError(t, err)
	_, err = c.ExchangePublicToken(ctx, public) // 404: exchanged once already
	require.Error(t, err)

	doc, text := writeHAR(t, &har)
	require.Len(t, doc.Log.Entries, 3, "every exchange sent is recorded")
	assert.Equal(t, "github.com/mergelink/linktoken/contracttest", doc.Log.Creator.Name)
	lower := strings.ToLower(text)
	for name, secret := range map[string]string{
		"API key": key, "email": req.EndUserEmailAddress, "link token": lt.LinkToken, "Magic Link URL": lt.MagicLinkURL,
		"public token": public, "account token": acct.AccountToken,
	} {
		require.NotEmpty(t, secret, name)
		assert.NotContains(t, lower, strings.ToLower(secret), "the HAR holds the %s", name)
		assert.NotContains(t, text, strings.TrimPrefix(strings.TrimPrefix(mustJSON(t, secret), `"`), `"`), "the HAR holds the %s JSON-escaped", name)
	}
	create, exchange := doc.Log.Entries[0], doc.Log.Entries[1]
	assert.Equal(t, http.MethodPost, create.Request.Method)
	assert.Contains(t, create.Request.PostData.Text, `"end_user_email_address":"[redacted]"`)
	assert.Contains(t, create.Response.Content.Text, `"link_token":"[redacted]"`)
	assert.Contains(t, create.Response.Content.Text, `"magic_link_url":"[redacted]"`)
	assert.Contains(t, create.Request.Headers, struct{ Name, Value string }{"Authorization", "Bearer [redacted]"})
	assert.True(t, strings.HasSuffix(exchange.Request.URL, "/account-token/%5Bredacted%5D"), "the public token's segment: %s", exchange.Request.URL)
	assert.Contains(t, exchange.Response.Content.Text, `"account_token":"[redacted]"`)
	assert.Equal(t, 404, doc.Log.Entries[2].Response.Status)

	// What the HAR holds still keeps the contract: replayed through the
	// Validator, the create and the exchange pass.
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	for i, e := range doc.Log.Entries[:2] {
		var body io.Reader
		if e.Request.PostData != nil {
			body = strings.NewReader(e.Request.PostData.Text)
		}
		r, err := http.NewRequest(e.Request.Method, e.Request.URL, body)
		require.NoError(t, err)
		for _, h := range e.Request.Headers {
			r.Header.Add(h.Name, h.Value)
		}
		assert.NoError(t, v.ValidateRequest(r), "entry %d's request", i)
		resp := &http.Response{StatusCode: e.Response.Status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(e.Response.Content.Text))}
		for _, h := range e.Response.Headers {
			resp.Header.Add(h.Name, h.Value)
		}
		assert.NoError(t, v.ValidateResponse(r, resp), "entry %d's response", i)
	}
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

// TestHARRedactsEchoes: a server that echoes the secrets elsewhere (an
// error detail, a header, re-cased) has them redacted there too, and a body
// that is not JSON is redacted as text.
func TestHARRedactsEchoes(t *testing.T) {
	t.Parallel()
	const key, email = "sk-echo-Key-7788", "grace.hopper@example.com"
	cases := []struct {
		name string
		ct   string
		body string
	}{
		{"JSON detail", "application/json", `{"detail":"GRACE.HOPPER@EXAMPLE.COM is taken; key SK-ECHO-KEY-7788"}`},
		{"text body", "text/plain", "grace.hopper@example.com rejected with sk-echo-key-7788"},
		{"JSON member name", "application/json", `{"grace.hopper@example.com":["taken"]}`},
		{"percent-encoded", "text/plain", "see /users?email=grace.hopper%40example.com"},
		{"HTML reference in JSON", "application/json", `{"detail":"grace.hopper&#64;example.com"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				w.Header().Set("X-Echo", "for "+strings.ToUpper(email))
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			var har contracttest.HAR
			c, err := client.New(key, client.WithBaseURL(srv.URL), client.WithMaxRetries(0),
				client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{}))}))
			require.NoError(t, err)
			req := ada()
			req.EndUserEmailAddress = email
			_, err = c.CreateLinkToken(context.Background(), req)
			require.Error(t, err)
			doc, text := writeHAR(t, &har)
			require.Len(t, doc.Log.Entries, 1)
			assert.NotContains(t, strings.ToLower(text), "grace.hopper")
			assert.NotContains(t, strings.ToLower(text), strings.ToLower(key))
			assert.Contains(t, text, "[redacted]")
		})
	}
}

// TestHARIsBounded: past 10,000 exchanges a HAR counts what it left out;
// a body over the Validator's bound is recorded without its text.
func TestHARIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20+1)
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := "{}"
		if r.URL.Path == "/big" {
			body = big
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	var har contracttest.HAR
	tr := contracttest.NewTransport(next, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{}))
	do := func(path string) {
		req, err := http.NewRequest(http.MethodGet, "http://in-memory"+path, nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	do("/big")
	for range 10_001 {
		do("/elsewhere")
	}
	doc, _ := writeHAR(t, &har)
	assert.Len(t, doc.Log.Entries, 10_000)
	assert.Equal(t, "2 exchanges not recorded: a HAR keeps at most 10000", doc.Log.Comment)
	first := doc.Log.Entries[0].Response.Content
	assert.Empty(t, first.Text)
	assert.Equal(t, "not recorded: the body exceeds 1048576 bytes", first.Comment)
}

// TestHARRedactsBodiesThatAreNotJSON: a request body cut short still has
// its secret members' values redacted, as written and escaped.
func TestHARRedactsBodiesThatAreNotJSON(t *testing.T) {
	t.Parallel()
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"detail":"not JSON"}`)), Request: r}, nil
	})
	var har contracttest.HAR
	tr := contracttest.NewTransport(next, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{}))
	for _, body := range []string{
		`{"end_user_email_address": "cut.short@example.com", "cat`,
		`{"end_user_email_address":"cut.short\u0040example.com",`,
		`{"link_token": "lt-cut-short-secret"`,
	} {
		req, err := http.NewRequest(http.MethodPost, "http://in-memory/link-token", strings.NewReader(body))
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	doc, text := writeHAR(t, &har)
	require.Len(t, doc.Log.Entries, 3)
	assert.NotContains(t, text, "cut.short")
	assert.NotContains(t, text, "lt-cut-short-secret")
}
