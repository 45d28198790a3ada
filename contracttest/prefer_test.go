package contracttest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

const preferBody = `{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`

// TestMockHonoursPrefer: Prism's Prefer controls, read as Prism reads them
// (names in any case, quoted values, several headers, other preferences
// ignored), answer the spec's examples in the spec's order. The contract
// cases prefer-*.json run the same against Prism (make oracles).
func TestMockHonoursPrefer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	cases := []struct {
		name       string
		prefer     []string
		status     int
		has        string // a member the body must have
		linkToken  string // the link token the body must carry, when set
		retryAfter bool
	}{
		{name: "no preference: a fresh token", status: 200, has: "link_token"},
		{name: "code with its first example", prefer: []string{"code=400"}, status: 400, has: "end_user_email_address"},
		{name: "name in capitals", prefer: []string{"CODE=429"}, status: 429, has: "detail", retryAfter: true},
		{name: "quoted value and spaces", prefer: []string{`  code = "403" `}, status: 403, has: "detail"},
		{name: "a code in a range", prefer: []string{"code=502"}, status: 502, has: "detail"},
		{name: "code and example named", prefer: []string{"code=400, example=problems"}, status: 400, has: "errors"},
		{name: "several headers are one list", prefer: []string{"code=400", "example=problems"}, status: 400, has: "errors"},
		{name: "dynamic=false: the first example", prefer: []string{"dynamic=false"}, status: 200, linkToken: "necdP7FtdASl1fQwm62be2_dM4wBG8_GactqoUV0"},
		{name: "an example by name", prefer: []string{"example=magicLink"}, status: 200, has: "magic_link_url"},
		{name: "other preferences are ignored", prefer: []string{"respond-async, wait=5"}, status: 200, has: "link_token"},
		{name: "undocumented code", prefer: []string{"code=418"}, status: 404, has: "type"},
		{name: "unknown example", prefer: []string{"example=nope"}, status: 404, has: "type"},
		{name: "code below 100", prefer: []string{"code=99"}, status: 422, has: "type"},
		{name: "code 100, the lowest status, undocumented", prefer: []string{"code=100"}, status: 404, has: "type"},
		{name: "code 599, the highest status, in the 5XX range", prefer: []string{"code=599"}, status: 599, has: "detail"},
		{name: "code above 599", prefer: []string{"code=600"}, status: 422, has: "type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/link-token", strings.NewReader(preferBody))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer k")
			req.Header.Set("Content-Type", "application/json")
			for _, p := range tc.prefer {
				req.Header.Add("Prefer", p)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var got map[string]json.RawMessage
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			assert.Equal(t, tc.status, resp.StatusCode, "status for Prefer %q", tc.prefer)
			if tc.has != "" {
				assert.Contains(t, got, tc.has)
			}
			if tc.linkToken != "" {
				assert.JSONEq(t, `"`+tc.linkToken+`"`, string(got["link_token"]), "the spec's first example of the 200")
			} else if tc.status == 200 && tc.has == "link_token" {
				assert.NotContains(t, string(got["link_token"]), "necdP7FtdASl1fQwm62be2", "the mock's own answer, not an example")
			}
			if tc.retryAfter {
				assert.Equal(t, "1", resp.Header.Get("Retry-After"))
			}
		})
	}
}

// TestPreferredAnswersAreCanned: a Prefer answer starts no Link flow, is not
// remembered under its Idempotency-Key, and consumes no scripted step, which
// plays first.
func TestPreferredAnswersAreCanned(t *testing.T) {
	t.Parallel()
	m := newMock(t, contracttest.WithScript(contracttest.Step{Status: 503}))
	post := func(prefer string) (int, map[string]string) {
		req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(preferBody))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "canned-1")
		if prefer != "" {
			req.Header.Set("Prefer", prefer)
		}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		var got map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		return rec.Code, got
	}
	status, _ := post("code=200")
	assert.Equal(t, 503, status, "the scripted step plays before Prefer is read")
	status, canned := post("code=200")
	require.Equal(t, 200, status)
	_, err := m.CompleteLink(canned["link_token"])
	assert.ErrorIs(t, err, contracttest.ErrUnknownLinkToken, "an example's token was never issued")
	status, own := post("")
	require.Equal(t, 200, status)
	assert.NotEqual(t, canned["link_token"], own["link_token"], "the key did not remember the canned answer")
	_, err = m.CompleteLink(own["link_token"])
	assert.NoError(t, err)
}

// TestPreferThroughTheClient: the same calls, with the same Prefer in their
// context, get the same outcome from the mock and from Prism's mock of the
// spec (when PRISM_BASE_URL is set: make oracles).
func TestPreferThroughTheClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	targets := map[string]string{"mock": srv.URL}
	if base := os.Getenv("PRISM_BASE_URL"); base != "" {
		targets["prism"] = strings.TrimRight(base, "/")
	}
	cases := []struct {
		name, prefer string
		status       int  // the APIError's status; 0 for success
		contract     bool // the answer is outside the spec: ErrContractBroken
		// magicLink says whether the token has a Magic Link URL: "yes",
		// "no", or "" for either (Prism's dynamic answer fills optional
		// members at random).
		magicLink string
	}{
		{name: "throttled", prefer: "code=429", status: 429},
		{name: "a server error in the 5XX range", prefer: "code=503", status: 503},
		{name: "forbidden", prefer: "code=403", status: 403},
		{name: "an example by name", prefer: "example=magicLink", magicLink: "yes"},
		{name: "the first example", prefer: "dynamic=false", magicLink: "no"},
		{name: "dynamic", prefer: "dynamic=true"},
		{name: "a code the operation does not document", prefer: "code=418", contract: true},
	}
	for target, base := range targets {
		for _, tc := range cases {
			t.Run(target+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c, err := client.New("prefer-key", client.WithBaseURL(base), client.WithMaxRetries(0),
					client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
				require.NoError(t, err)
				tok, err := c.CreateLinkToken(contracttest.Prefer(context.Background(), tc.prefer), ada())
				var apiErr *client.APIError
				switch {
				case tc.contract:
					assert.ErrorIs(t, err, client.ErrContractBroken)
				case tc.status != 0:
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, tc.status, apiErr.StatusCode)
				default:
					require.NoError(t, err)
					assert.NotEmpty(t, tok.LinkToken)
					if tc.magicLink != "" {
						assert.Equal(t, tc.magicLink == "yes", tok.MagicLinkURL != "", "magic_link_url")
					}
				}
			})
		}
	}
}
