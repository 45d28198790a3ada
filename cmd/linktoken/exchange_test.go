package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

// runWithStdin runs the program with stdin.
func runWithStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, env(vars))
	return code, out.String(), errOut.String()
}

// publicTokenFrom runs the flow's first half against the mock served at
// srv: a link token, completed.
func publicTokenFrom(t *testing.T, mock *contracttest.Mock, srv *httptest.Server) string {
	t.Helper()
	c, err := client.New(testKey, client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	lt, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{EndUserEmailAddress: "ada@example.com",
		EndUserOrganizationName: "Acme", EndUserOriginID: "42", Categories: []client.Category{client.CategoryHRIS}})
	require.NoError(t, err)
	public, err := mock.CompleteLink(lt.LinkToken)
	require.NoError(t, err)
	return public
}

func TestExchange(t *testing.T) {
	t.Parallel()
	mock, err := contracttest.NewMock()
	require.NoError(t, err)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	withKey := map[string]string{"MERGE_API_KEY": testKey}

	public := publicTokenFrom(t, mock, srv)
	code, out, errOut := runWithStdin(t, withKey, public+"\n", "exchange", "-base-url", srv.URL)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "the account token, then the linked account's id")
	assert.NotEmpty(t, lines[0])
	assert.Regexp(t, `^[0-9a-f-]{36}$`, lines[1])
	assert.Empty(t, errOut)

	code, out, errOut = runWithStdin(t, withKey, public, "exchange", "-base-url", srv.URL)
	assert.Equal(t, 1, code, "a public token is exchanged once")
	assert.Empty(t, out)
	assert.Contains(t, errOut, "linktoken: exchange public token failed\nstatus: 404 Not Found\n")
	assert.NotContains(t, errOut, public)

	code, out, errOut = runWithStdin(t, withKey, "", "exchange", "-base-url", srv.URL, "-json", "-public-token", publicTokenFrom(t, mock, srv))
	require.Equal(t, 0, code, errOut)
	var acct map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &acct))
	assert.Contains(t, acct, "account_token")
	assert.Contains(t, acct, "integration")
}

func TestExchangeWithTheMock(t *testing.T) {
	t.Parallel()
	code, out, errOut := runWithStdin(t, nil, "", "exchange", "-mock")
	require.Equal(t, 0, code, errOut)
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2)
}

// TestExchangeUsageErrors: a bad public token is refused before anything
// is sent, and never echoed; the token comes from stdin or a flag, never an
// argument.
func TestExchangeUsageErrors(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	withKey := map[string]string{"MERGE_API_KEY": testKey}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"nothing on stdin", "", nil, "linktoken: no public token: give it on standard input or with -public-token\n"},
		{"a blank line", "  \n", nil, "linktoken: no public token: give it on standard input or with -public-token\n"},
		{"a positional argument", "", []string{"pt_positional"}, `linktoken: unexpected argument "pt_positional"` + "\n"},
		{"a slash", "pt/../link-token-SECRET\n", nil, "linktoken: the public token may hold printable ASCII only, and none of / ? # % or space\n"},
		{"too long", strings.Repeat("p", 300) + "\n", nil, "linktoken: the public token is 300 characters; at most 256 are allowed\n"},
		{"-mock with a token", "", []string{"-mock", "-public-token", "x"}, "linktoken: -public-token: with -mock, the mock issues the public token; give none\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runWithStdin(t, withKey, tc.stdin, append([]string{"exchange", "-base-url", srv.URL}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errOut, tc.want), "got %q", errOut)
			assert.NotContains(t, errOut, "SECRET")
		})
	}
	assert.Zero(t, hits.Load(), "nothing was sent")
}

// TestMockWebhookNeedsAKey: -webhook-url without the key's variable is a
// usage error naming the variable.
func TestMockWebhookNeedsAKey(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := runMock(context.Background(), []string{"-addr", "127.0.0.1:0", "-webhook-url", "http://127.0.0.1:1/hooks"}, &out, &errOut, env(nil), defaultLimits)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut.String(), "-webhook-url: set MERGE_WEBHOOK_KEY to the webhook signature key")
}
