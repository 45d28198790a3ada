package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "sk-cli-test-KEY-42"

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, env(vars))
	return code, out.String(), errOut.String()
}

var base = []string{"create", "-email", "ada@example.com", "-org", "Acme", "-origin-id", "42"}

func args(extra ...string) []string { return append(append([]string{}, base...), extra...) }

func TestCreateWithTheMock(t *testing.T) {
	t.Parallel()
	scopes := filepath.Join(t.TempDir(), "scopes.json")
	require.NoError(t, os.WriteFile(scopes, []byte(`{"hris":[{"model_name":"Employee","model_permissions":{"READ":{"is_enabled":true}}}]}`), 0o600))
	cases := []struct {
		name  string
		args  []string
		lines int // lines on stdout
	}{
		{"README quick start", args("-mock", "-category", "hris"), 1},
		{"repeated categories", args("-mock", "-category", "hris", "-category", "ats"), 1},
		{"comma-separated categories", args("-mock", "-category", "hris,ats,crm"), 1},
		{"magic link", args("-mock", "-category", "hris", "-magic-link", "-expiry", "10080"), 2},
		{"every flag", args("-mock", "-category", "hris", "-integration", "bamboohr", "-expiry", "60",
			"-hide-admin-magic-link", "-language", "de", "-scopes", scopes, "-region", "eu", "-timeout", "5s"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, nil, tc.args...)
			require.Equal(t, exitOK, code, errOut)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			assert.Len(t, lines, tc.lines)
			assert.Regexp(t, `^[A-Za-z0-9_-]{20,}$`, lines[0])
			if tc.lines == 2 {
				assert.True(t, strings.HasPrefix(lines[1], "https://link.merge.dev/"))
			}
			assert.Empty(t, errOut, "nothing but the result")
		})
	}
}

func TestCreateJSON(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, nil, args("-mock", "-category", "ats", "-integration", "greenhouse", "-magic-link", "-json")...)
	require.Equal(t, exitOK, code)
	var tok map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &tok))
	assert.NotEmpty(t, tok["link_token"])
	assert.Equal(t, "Greenhouse", tok["integration_name"])
	assert.NotEmpty(t, tok["magic_link_url"])
}

// TestCreateUsageErrors: exit 2, the field and rule named, nothing sent.
func TestCreateUsageErrors(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	badScopes := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(badScopes, []byte(`{"hris":[{"model":"x"}]}`), 0o600))
	withKey := map[string]string{"MERGE_API_KEY": testKey}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no category", withKey, args("-base-url", srv.URL), []string{"categories: is required"}},
		{"unknown category", withKey, args("-base-url", srv.URL, "-category", "payroll"), []string{"/categories/0", "payroll"}},
		{"expiry 721", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "721"), []string{"link_expiry_mins", "720"}},
		{"expiry 10081 with magic link", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "10081", "-magic-link"), []string{"link_expiry_mins", "at most 10080"}},
		{"expiry 29", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "29"), []string{"link_expiry_mins", "at least 30"}},
		{"language", withKey, args("-base-url", srv.URL, "-category", "hris", "-language", "fr"), []string{"language"}},
		{"empty email", withKey, []string{"create", "-org", "Acme", "-origin-id", "1", "-category", "hris", "-base-url", srv.URL}, []string{"end_user_email_address"}},
		{"long org", withKey, []string{"create", "-email", "a@b.c", "-org", strings.Repeat("x", 101), "-origin-id", "1", "-category", "hris", "-base-url", srv.URL}, []string{"end_user_organization_name", "at most 100"}},
		{"bad scopes file", withKey, args("-base-url", srv.URL, "-category", "hris", "-scopes", badScopes), []string{"-scopes", "unknown field"}},
		{"missing scopes file", withKey, args("-category", "hris", "-scopes", "/no/such/file"), []string{"-scopes"}},
		{"bad region", withKey, args("-category", "hris", "-region", "mars"), []string{"valid: us, eu, apac"}},
		{"bad MERGE_REGION", map[string]string{"MERGE_API_KEY": testKey, "MERGE_REGION": "moon"}, args("-category", "hris"), []string{"valid: us, eu, apac"}},
		{"no key", nil, args("-category", "hris"), []string{"MERGE_API_KEY"}},
		{"http to a public host", withKey, args("-category", "hris", "-base-url", "http://example.com"), []string{"loopback"}},
		{"unknown flag", withKey, args("-api-key", "x"), []string{"flag provided but not defined"}},
		{"stray argument", withKey, args("-category", "hris", "extra"), []string{"unexpected argument"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, tc.env, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			for _, w := range tc.want {
				assert.Contains(t, errOut, w)
			}
			assert.NotContains(t, errOut, testKey)
		})
	}
	assert.Zero(t, hits.Load(), "nothing was sent")
}

func TestCreateAPIError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-cli-7")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"detail":"Invalid token."}`)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", srv.URL, "-category", "hris")...)
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "401")
	assert.Contains(t, errOut, "request id: req-cli-7")
	assert.Contains(t, errOut, "Invalid token.")
	assert.NotContains(t, errOut, testKey)
	assert.NotContains(t, errOut, "ada@example.com")

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	code, _, errOut = runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", url, "-category", "hris", "-timeout", "2s")...)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "connection refused")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, exitOK, "linktoken create -mock -email ada@example.com"},
		{[]string{"create", "-h"}, exitOK, "Example:"},
		{[]string{"mock", "-h"}, exitOK, "linktoken mock -addr 127.0.0.1:4010"},
		{nil, exitUsage, "Usage:"},
		{[]string{"serve"}, exitUsage, `unknown command "serve"`},
	}
	for _, tc := range cases {
		code, out, errOut := runCLI(t, nil, tc.args...)
		assert.Equal(t, tc.code, code, "%v", tc.args)
		assert.Contains(t, out+errOut, tc.want, "%v", tc.args)
	}
}

// TestMockCommand builds the binary, serves the mock on a free loopback
// port, sends a valid and an invalid request, and stops it with SIGINT.
func TestMockCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "linktoken")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin, "mock", "-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var url string
	select {
	case line := <-lines:
		m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(line)
		require.Len(t, m, 2, line)
		url = m[1]
	case <-time.After(10 * time.Second):
		t.Fatal("the mock did not start")
	}
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, post(`{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`))
	assert.Equal(t, 400, post(`{"end_user_email_address":"ada@example.com","categories":["hris"],"link_expiry_mins":9000}`))

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var logged []string
	for line := range lines {
		logged = append(logged, line)
	}
	select {
	case err := <-done:
		assert.NoError(t, err, "a clean exit on SIGINT")
	case <-time.After(10 * time.Second):
		t.Fatal("the mock did not stop on SIGINT")
	}
	all := strings.Join(logged, "\n")
	assert.Contains(t, all, "status=200")
	assert.Contains(t, all, "status=400")
	assert.Contains(t, all, "link_expiry_mins")
	assert.Contains(t, all, "mock stopped")
	assert.NotContains(t, all, testKey)
	assert.NotContains(t, all, "ada@example.com")
}
