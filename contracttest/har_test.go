package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

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
		Comment string     `json:"comment"`
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	Request         struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []struct{ Name, Value string }
		PostData    *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Comment  string `json:"comment"`
		} `json:"postData"`
		HeadersSize int `json:"headersSize"`
		BodySize    int `json:"bodySize"`
	} `json:"request"`
	Response struct {
		Status      int    `json:"status"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []struct{ Name, Value string }
		Content     struct {
			Size     int    `json:"size"`
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Comment  string `json:"comment"`
		} `json:"content"`
		HeadersSize int `json:"headersSize"`
		BodySize    int `json:"bodySize"`
	} `json:"response"`
	Timings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	} `json:"timings"`
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

// harServer serves h over real HTTP and returns a transport to it that
// records its exchanges in the returned HAR (violations are recorded, not
// returned, so any exchange can be sent).
func harServer(t *testing.T, h http.HandlerFunc) (*contracttest.HAR, http.RoundTripper, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var har contracttest.HAR
	return &har, contracttest.NewTransport(srv.Client().Transport, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{})), srv.URL
}

// harSend sends one request through tr and reads the whole answer.
func harSend(t *testing.T, tr http.RoundTripper, method, url, body string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
}

// TestHARRedactsBodiesThatAreNotJSON: a request body cut short still has
// its secret members' values redacted, every one of them, their names in
// any case, as written and decoded, wherever else the value appears.
func TestHARRedactsBodiesThatAreNotJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, echo string
		secrets          []string
	}{
		{"a value, the body cut after it", `{"end_user_email_address": "cut.short@example.com", "cat`, "rejected", []string{"cut.short"}},
		{"a value cut short", `{"link_token": "lt-cut-short-secret`, "rejected", []string{"lt-cut-short-secret"}},
		{"a value escaped, echoed decoded", `{"end_user_email_address":"cut.short\u0040example.com",`, "cut.short@example.com is taken", []string{"cut.short"}},
		{"every secret member, not only the first", `{"link_token":"lt-first-secret","end_user_email_address":"second.secret@example.com","cat`, "rejected", []string{"lt-first-secret", "second.secret"}},
		{"a member's name in another case", `{"End_User_Email_Address":"other.case@example.com","cat`, "other.case@example.com is taken", []string{"other.case"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			har, tr, url := harServer(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, tc.echo)
			})
			harSend(t, tr, http.MethodPost, url+"/link-token", tc.body)
			doc, text := writeHAR(t, har)
			require.Len(t, doc.Log.Entries, 1)
			for _, secret := range tc.secrets {
				assert.NotContains(t, text, secret, "the HAR holds a secret member's value of a body that is not JSON: find every secret member as written, and redact its value as written and decoded")
			}
			assert.Contains(t, text, "[redacted]")
		})
	}
}

// TestHARReencodesOnlyJSONBodies: a body that is one JSON value is written
// re-encoded, its members in name order; anything else (two values, text)
// as it was sent.
func TestHARReencodesOnlyJSONBodies(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, ct, body, want string }{
		{"one JSON value", "application/json", `{"z": "last", "a": ["first", 2]}`, `{"a":["first",2],"z":"last"}`},
		{"one JSON value and space", "application/json", "{\"b\": true}\n", `{"b":true}`},
		{"two JSON values", "application/json", `{"z": 1} {"a": 2}`, `{"z": 1} {"a": 2}`},
		{"text", "text/plain", "plain text, not JSON", "plain text, not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			har, tr, url := harServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				_, _ = io.WriteString(w, tc.body)
			})
			harSend(t, tr, http.MethodGet, url+"/anything", "")
			doc, _ := writeHAR(t, har)
			require.Len(t, doc.Log.Entries, 1)
			assert.Equal(t, tc.want, doc.Log.Entries[0].Response.Content.Text, "a body that is exactly one JSON value is re-encoded; any other is kept as text")
		})
	}
}

// TestHARRecordsEachExchange: every exchange is an entry, in order, with
// its method, URL, bodies and sizes (a request without a body has no
// postData and a bodySize of 0; headers' sizes are not available, -1),
// and a HAR that left nothing out has no comment.
func TestHARRecordsEachExchange(t *testing.T) {
	t.Parallel()
	har, tr, url := harServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"got":`+strconv.Quote(string(body))+`}`)
	})
	cases := []struct {
		name, method, path, body string
		wantResponse             string
	}{
		{"GET without a body", http.MethodGet, "/accounts", "", `{"got":""}`},
		{"POST with a body", http.MethodPost, "/things", `{"n":1}`, `{"got":"{\"n\":1}"}`},
		{"no response body", http.MethodDelete, "/empty", "", ""},
	}
	for _, tc := range cases {
		harSend(t, tr, tc.method, url+tc.path, tc.body)
	}
	doc, _ := writeHAR(t, har)
	require.Len(t, doc.Log.Entries, len(cases), "every exchange is recorded")
	assert.Empty(t, doc.Log.Comment, "a HAR that left nothing out has no comment")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := doc.Log.Entries[i]
			assert.Equal(t, tc.method, e.Request.Method)
			assert.Equal(t, url+tc.path, e.Request.URL)
			assert.Equal(t, -1, e.Request.HeadersSize, "a request's headersSize is not available: -1")
			assert.Equal(t, -1, e.Response.HeadersSize, "a response's headersSize is not available: -1")
			if tc.body == "" {
				assert.Nil(t, e.Request.PostData, "a request without a body has no postData")
				assert.Equal(t, 0, e.Request.BodySize, "a request without a body has a bodySize of 0: its size is known (HAR 1.2 keeps -1 for a size not available)")
			} else {
				require.NotNil(t, e.Request.PostData, "a request with a body has postData")
				assert.Equal(t, tc.body, e.Request.PostData.Text)
				assert.Equal(t, len(tc.body), e.Request.BodySize, "a request's bodySize is its body's length")
			}
			assert.Equal(t, tc.wantResponse, e.Response.Content.Text)
			assert.Equal(t, len(tc.wantResponse), e.Response.Content.Size, "a response's content size is its body's length")
			assert.Equal(t, len(tc.wantResponse), e.Response.BodySize, "a response's bodySize is its body's length")
		})
	}
}

// TestHARRecordsTheProtocolSpoken: httpVersion is the response's protocol,
// HTTP/1.1 when the transport gave none.
func TestHARRecordsTheProtocolSpoken(t *testing.T) {
	t.Parallel()
	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") }))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	cases := []struct {
		name, url string
		next      http.RoundTripper
		want      string
	}{
		{"HTTP/2", h2.URL, h2.Client().Transport, "HTTP/2.0"},
		{"none given", "http://in-memory", roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
		}), "HTTP/1.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var har contracttest.HAR
			harSend(t, contracttest.NewTransport(tc.next, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{})), http.MethodGet, tc.url+"/v", "")
			doc, _ := writeHAR(t, &har)
			require.Len(t, doc.Log.Entries, 1)
			assert.Equal(t, tc.want, doc.Log.Entries[0].Response.HTTPVersion, "httpVersion is the protocol the response came in, HTTP/1.1 when it has none")
		})
	}
}

// TestHARTimesTheExchange: an entry starts when the request is sent and
// lasts until the response's body is read, in milliseconds; its time is
// the sum of its timings, none negative.
func TestHARTimesTheExchange(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Millisecond
	har, tr, url := harServer(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		_, _ = io.WriteString(w, "{}")
	})
	before := time.Now()
	harSend(t, tr, http.MethodGet, url+"/slow", "")
	outer := time.Since(before)
	doc, _ := writeHAR(t, har)
	require.Len(t, doc.Log.Entries, 1)
	e := doc.Log.Entries[0]
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	assert.GreaterOrEqual(t, e.Time, ms(delay), "time is in milliseconds and covers the server's %v", delay)
	assert.LessOrEqual(t, e.Time, ms(outer), "time is in milliseconds and within the %v the round trip took", outer)
	for name, v := range map[string]float64{"send": e.Timings.Send, "wait": e.Timings.Wait, "receive": e.Timings.Receive} {
		assert.GreaterOrEqual(t, v, 0.0, "timings.%s is never negative", name)
	}
	assert.InDelta(t, e.Time, e.Timings.Send+e.Timings.Wait+e.Timings.Receive, 1e-9, "time is the sum of the timings (HAR 1.2)")
	started, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	require.NoError(t, err, "startedDateTime is RFC 3339")
	assert.True(t, strings.HasSuffix(e.StartedDateTime, "Z"), "startedDateTime is in UTC: %s", e.StartedDateTime)
	assert.False(t, started.Before(before) || started.After(before.Add(outer)),
		"startedDateTime %v is within the round trip, %v to %v", started, before, before.Add(outer))
}

// TestHAROmitsBodiesOverTheBound: a body over the Validator's bound (1 MiB)
// is recorded without its text, with a comment, and with its sizes -1 (not
// available, HAR 1.2); the other body of the exchange is recorded whole.
func TestHAROmitsBodiesOverTheBound(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20+1)
	const comment = "not recorded: the body exceeds 1048576 bytes"
	har, tr, url := harServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, big)
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	})
	harSend(t, tr, http.MethodPost, url+"/upload", big)
	harSend(t, tr, http.MethodPost, url+"/big", "small")
	doc, _ := writeHAR(t, har)
	require.Len(t, doc.Log.Entries, 2)

	up := doc.Log.Entries[0]
	require.NotNil(t, up.Request.PostData, "a request body over the bound still has postData, saying why it has no text")
	assert.Empty(t, up.Request.PostData.Text)
	assert.Equal(t, comment, up.Request.PostData.Comment)
	assert.Equal(t, -1, up.Request.BodySize, "a request body over the bound has a bodySize of -1 (not available), not 0")
	assert.Equal(t, strconv.Itoa(len(big)), up.Response.Content.Text, "the server got the whole body, and its answer is recorded")

	down := doc.Log.Entries[1]
	assert.Equal(t, "small", down.Request.PostData.Text)
	assert.Equal(t, len("small"), down.Request.BodySize)
	assert.Empty(t, down.Response.Content.Text)
	assert.Equal(t, comment, down.Response.Content.Comment)
	assert.Equal(t, -1, down.Response.Content.Size, "a response body over the bound has a content size of -1 (not available)")
	assert.Equal(t, -1, down.Response.BodySize, "a response body over the bound has a bodySize of -1 (not available), not 0")
}

// TestHARRedactsAKeyAfterATab: the key of an Authorization header whose
// scheme is followed by a tab (or several spaces) is a secret on its own,
// so a server echoing it has it redacted, as the mock's log does.
func TestHARRedactsAKeyAfterATab(t *testing.T) {
	t.Parallel()
	const key = "sk-tab-Key-4455"
	for _, auth := range []string{"Bearer\t" + key, "Bearer   " + key, " Bearer " + key + " "} {
		t.Run(strings.ReplaceAll(auth, "\t", `\t`), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, "unknown key "+key)
			}))
			t.Cleanup(srv.Close)
			var har contracttest.HAR
			hc := &http.Client{Transport: contracttest.NewTransport(nil, contracttest.RecordHAR(&har), contracttest.RecordTo(&contracttest.Recorder{}))}
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/link-token", strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", auth)
			resp, err := hc.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			_, text := writeHAR(t, &har)
			assert.NotContains(t, strings.ToLower(text), strings.ToLower(key), "the key after the scheme must be a secret of its own, whatever space comes before it")
		})
	}
}
