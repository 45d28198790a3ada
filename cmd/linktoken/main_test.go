package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/build"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
)

// modulePath is this module's path, in the User-Agent and import paths.
const modulePath = "github.com/mergelink/linktoken"

const testKey = "sk-cli-test-KEY-42"

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, env(vars))
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

// usageLine is what every usage error of create ends with.
const usageLine = "usage: linktoken create [flags] (run \"linktoken create -h\" for help)\n"

// TestCreateUsageErrors: exit 2, the flag and the field named, the usage
// line once, nothing sent.
func TestCreateUsageErrors(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	scopesFile := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	badScopes := scopesFile("bad.json", `{"hris":[{"model":"x"}]}`)
	trailing := scopesFile("trailing.json", `{"hris":[{"model_name":"Employee"}]} garbage`)
	twoValues := scopesFile("two.json", `{"hris":[]} {}`)
	emptyName := scopesFile("empty-name.json", `{"hris":[{"model_name":""}]}`)
	listScopes := scopesFile("list.json", `[{"model_name":"Employee"}]`)
	payrollScopes := scopesFile("payroll.json", `{"payroll":[{"model_name":"Employee"}]}`)
	withKey := map[string]string{"MERGE_API_KEY": testKey}
	categories := strings.Join(func() []string {
		var out []string
		for _, c := range client.CategoryValues() {
			out = append(out, string(c))
		}
		return out
	}(), ", ")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string // lines of stderr before the usage line
	}{
		{"no category", withKey, args("-base-url", srv.URL), []string{"linktoken: -category (categories) is required"}},
		{"unknown category", withKey, args("-base-url", srv.URL, "-category", "payroll"),
			[]string{`linktoken: -category (categories/0): must be one of ` + categories + ` (got "payroll")`}},
		{"second category unknown", withKey, args("-base-url", srv.URL, "-category", "HRIS,Payroll"),
			[]string{`linktoken: -category (categories/1): must be one of ` + categories + ` (got "Payroll")`}},
		{"expiry 721", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "721"),
			[]string{"linktoken: -expiry (link_expiry_mins): must be at most 720 unless should_create_magic_link_url is true (got 721)"}},
		{"expiry 10081 with magic link", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "10081", "-magic-link"),
			[]string{"linktoken: -expiry (link_expiry_mins): must be at most 10080 (got 10081)"}},
		{"expiry 29", withKey, args("-base-url", srv.URL, "-category", "hris", "-expiry", "29"),
			[]string{"linktoken: -expiry (link_expiry_mins): must be at least 30 (got 29)"}},
		{"language", withKey, args("-base-url", srv.URL, "-category", "hris", "-language", "fr"),
			[]string{`linktoken: -language (language): must be one of de, en (got "fr")`}},
		{"no email", withKey, []string{"create", "-org", "Acme", "-origin-id", "1", "-category", "hris", "-base-url", srv.URL},
			[]string{"linktoken: -email (end_user_email_address) is required"}},
		{"no org, no origin id", withKey, []string{"create", "-email", "a@b.c", "-category", "hris"},
			[]string{"linktoken: -org (end_user_organization_name) is required", "linktoken: -origin-id (end_user_origin_id) is required"}},
		{"long org", withKey, []string{"create", "-email", "a@b.c", "-org", strings.Repeat("x", 101), "-origin-id", "1", "-category", "hris", "-base-url", srv.URL},
			[]string{`linktoken: -org (end_user_organization_name): is 101 characters; at most 100 are allowed (got "` + strings.Repeat("x", 61) + `…")`}},
		{"empty model name in scopes", withKey, args("-category", "hris", "-scopes", emptyName),
			[]string{"linktoken: -scopes (category_common_model_scopes/hris/0/model_name): is required and must not be empty"}},
		{"bad scopes file", withKey, args("-base-url", srv.URL, "-category", "hris", "-scopes", badScopes),
			[]string{`linktoken: -scopes: "` + badScopes + `": unknown member "model" (see linktoken create -h)`}},
		{"a scopes file that is a list", withKey, args("-base-url", srv.URL, "-category", "hris", "-scopes", listScopes),
			[]string{`linktoken: -scopes: "` + listScopes + `": must be a JSON object of categories, each a list of model scopes (see linktoken create -h), not a JSON array`}},
		{"a scopes file keyed by what is not a category", withKey, args("-base-url", srv.URL, "-category", "hris", "-scopes", payrollScopes),
			[]string{`linktoken: -scopes: "` + payrollScopes + `": key "payroll" is not a category (valid: accounting, ats, crm, filestorage, hris, knowledgebase, mktg, ticketing)`}},
		{"scopes with trailing garbage", withKey, args("-category", "hris", "-scopes", trailing),
			[]string{`linktoken: -scopes: "` + trailing + `": data after the JSON value`}},
		{"scopes with two values", withKey, args("-category", "hris", "-scopes", twoValues),
			[]string{`linktoken: -scopes: "` + twoValues + `": data after the JSON value`}},
		{"missing scopes file", withKey, args("-category", "hris", "-scopes", "/no/such/file"),
			[]string{"linktoken: -scopes: open /no/such/file: no such file or directory"}},
		{"bad region", withKey, args("-category", "hris", "-region", "mars"),
			[]string{`linktoken: -region: unknown region "mars" (valid: us, eu, apac, sandbox)`}},
		{"bad MERGE_REGION", map[string]string{"MERGE_API_KEY": testKey, "MERGE_REGION": "moon"}, args("-category", "hris"),
			[]string{`linktoken: MERGE_REGION: unknown region "moon" (valid: us, eu, apac, sandbox)`}},
		{"http to a public host", withKey, args("-category", "hris", "-base-url", "http://example.com"),
			[]string{`linktoken: -base-url: "http://example.com": plain http is allowed only for loopback hosts; use https`}},
		{"base URL without a host", withKey, args("-category", "hris", "-base-url", "nonsense"),
			[]string{`linktoken: -base-url: "nonsense" has no host`}},
		{"timeout 0", withKey, args("-category", "hris", "-timeout", "0"), []string{"linktoken: -timeout: must be more than 0, got 0s"}},
		{"negative timeout", withKey, args("-category", "hris", "-timeout", "-1s"), []string{"linktoken: -timeout: must be more than 0, got -1s"}},
		{"unknown flag", withKey, args("-api-key", "x"), []string{"linktoken: flag provided but not defined: -api-key"}},
		{"bad flag value", withKey, args("-expiry", "soon"), []string{`linktoken: invalid value "soon" for flag -expiry: parse error`}},
		{"stray argument", withKey, args("-category", "hris", "extra"), []string{`linktoken: unexpected argument "extra"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, tc.env, tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Equal(t, strings.Join(tc.want, "\n")+"\n"+usageLine, errOut)
			assert.NotContains(t, errOut, testKey)
		})
	}
	t.Run("no key", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := runCLI(t, nil, args("-category", "hris")...)
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, "linktoken: set MERGE_API_KEY to your Merge production API key (or use -mock)\n", errOut)
	})
	t.Cleanup(func() { assert.Zero(t, hits.Load(), "nothing was sent") })
}

// TestEnumFlagsAnyCase: categories and languages are matched to the
// generated enums in any case, and sent as the spec spells them.
func TestEnumFlagsAnyCase(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		extra    []string
		wantBody string
	}{
		{"upper-case category", []string{"-category", "HRIS"}, `"categories":["hris"]`},
		{"mixed list", []string{"-category", "Hris, ATS", "-category", "FileStorage"}, `"categories":["hris","ats","filestorage"]`},
		{"upper-case language", []string{"-category", "hris", "-language", "DE"}, `"language":"de"`},
		{"language with spaces", []string{"-category", "hris", "-language", " En "}, `"language":"en"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"link_token":"tok"}`)
			}))
			t.Cleanup(srv.Close)
			code, out, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args(append(tc.extra, "-base-url", srv.URL)...)...)
			require.Equal(t, exitOK, code, errOut)
			assert.Equal(t, "tok\n", out)
			assert.Contains(t, string(body), tc.wantBody)
		})
	}
}

// TestDescribe: each violation names the flag the user typed and the
// field, through the one table.
func TestDescribe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    client.Violation
		want string
	}{
		{"required", client.Violation{In: "body", Pointer: "/categories", Rule: "required", Message: "is required"},
			"-category (categories) is required"},
		{"empty string", client.Violation{In: "body", Pointer: "/end_user_organization_name", Rule: "minLength", Message: "is required and must not be empty"},
			"-org (end_user_organization_name) is required"},
		{"enum with the value", client.Violation{In: "body", Pointer: "/categories/0", Rule: "enum", Value: `"payroll"`, Message: "must be one of a, b"},
			`-category (categories/0): must be one of a, b (got "payroll")`},
		{"nested, required wording kept", client.Violation{In: "body", Pointer: "/category_common_model_scopes/hris/0/model_name", Rule: "minLength", Message: "is required and must not be empty"},
			"-scopes (category_common_model_scopes/hris/0/model_name): is required and must not be empty"},
		{"escaped key", client.Violation{In: "body", Pointer: "/category_common_model_scopes/a~1b", Rule: "type", Value: "null", Message: "must be a list of model scopes"},
			"-scopes (category_common_model_scopes/a~1b): must be a list of model scopes (got null)"},
		{"a field no flag sets", client.Violation{In: "body", Pointer: "/common_models/0/model_id", Rule: "minLength", Message: "is required and must not be empty"},
			"common_models/0/model_id: is required and must not be empty"},
		{"no pointer", client.Violation{In: "body", Rule: "type", Message: "must be an object"},
			"body: must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, describe(tc.v))
		})
	}
}

// TestFlagFieldTable: the table names flags create defines and fields the
// request has, each once.
func TestFlagFieldTable(t *testing.T) {
	t.Parallel()
	jsonNames := map[string]bool{}
	typ := reflect.TypeFor[client.LinkTokenRequest]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		jsonNames[name] = true
	}
	// The flags create defines, read from its help.
	code, help, _ := runCLI(t, nil, "create", "-h")
	require.Equal(t, exitOK, code)
	seenFlag, seenField := map[string]bool{}, map[string]bool{}
	for _, f := range flagFields {
		assert.True(t, jsonNames[f.field], "%s is a field of the request", f.field)
		assert.Regexp(t, `(?m)^  -`+regexp.QuoteMeta(f.flag)+`\b`, help, "create defines -%s", f.flag)
		assert.False(t, seenFlag[f.flag], "-%s once", f.flag)
		assert.False(t, seenField[f.field], "%s once", f.field)
		seenFlag[f.flag], seenField[f.field] = true, true
	}
}

// TestCreateAPIError: an API error prints one short block, each fact once.
func TestCreateAPIError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-cli-7")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"detail":"Invalid token.","end_user_email_address":["ada@example.com is not allowed"]}`)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", srv.URL, "-category", "hris")...)
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Equal(t, `linktoken: create link token failed
status: 401 Unauthorized
request id: req-cli-7
problem: Invalid token.
problem: end_user_email_address: [redacted] is not allowed
`, errOut)

	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(flaky.Close)
	code, _, errOut = runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", flaky.URL, "-category", "hris")...)
	assert.Equal(t, exitError, code)
	assert.Equal(t, "linktoken: create link token failed after 3 attempts\nstatus: 503 Service Unavailable\n", errOut)

	// The deadline ends the call before the wait Merge asked for: the user
	// learns why it stopped and when to come back.
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"detail":"busy"}`)
	}))
	t.Cleanup(busy.Close)
	code, _, errOut = runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", busy.URL, "-category", "hris", "-timeout", "1s")...)
	assert.Equal(t, exitError, code)
	assert.Equal(t, "linktoken: create link token failed\nstatus: 503 Service Unavailable\nproblem: busy\n"+
		"retry after: 5s\ngave up: -timeout reached before the next attempt\n", errOut)

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	code, _, errOut = runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", url, "-category", "hris", "-timeout", "2s")...)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "connection refused")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
}

// TestCreateHostileServer: nothing a server sends can forge a line, move
// the cursor or reorder text on the user's terminal.
func TestCreateHostileServer(t *testing.T) {
	t.Parallel()
	const forged = "\r\nstatus: 200\n"
	cases := []struct {
		name      string
		status    int
		requestID string
		body      string
		json      bool
		want      string // the whole of stdout and stderr
	}{
		{"detail with a line break", 400, "r1", `{"detail":"bad` + jsonEscape(forged) + `"}`, false,
			"linktoken: create link token failed\nstatus: 400 Bad Request\nrequest id: r1\nproblem: bad  status: 200 \n"},
		{"escape sequences and OSC", 403, "r2", `{"detail":"` + jsonEscape("\x1b[2J\x1b]0;owned\x07no\u009b31m") + `"}`, false,
			"linktoken: create link token failed\nstatus: 403 Forbidden\nrequest id: r2\nproblem: [2J]0;ownedno31m\n"},
		{"line separator and bidi override", 429, "r3", `{"errors":[{"title":"t","detail":"` + jsonEscape("a\u2028status: 200\u202egnp.exe") + `","problem_type":"X"}]}`, false,
			"linktoken: create link token failed after 3 attempts\nstatus: 429 Too Many Requests\nrequest id: r3\nproblem: t: a status: 200gnp.exe\n"},
		{"field name with a vertical tab", 400, "r4", `{"` + jsonEscape("x\vstatus") + `":["200"]}`, false,
			"linktoken: create link token failed\nstatus: 400 Bad Request\nrequest id: r4\nproblem: x status: 200\n"},
		// net/http refuses ESC in a header; C1, bidi and U+2028 get through.
		{"request id with a line separator", 400, "r\u202e\u2028status: 200\u009b", `{}`, false,
			"linktoken: create link token failed\nstatus: 400 Bad Request\nrequest id: r status: 200\n"},
		{"token with control characters", 200, "r5", `{"link_token":"` + jsonEscape("tok\u009b\x1b[1A\rstatus: 200") + `"}`, false,
			"tok[1A status: 200\n"},
		{"token with control characters, as JSON", 200, "r6", `{"link_token":"` + jsonEscape("tok\u009b\u202e\x7f") + `"}`, true,
			"{\n  \"link_token\": \"tok\\u009b\\u202e\\u007f\"\n}\n"},
		{"token holding the key and the email", 200, "r7", `{"link_token":"tok-` + strings.ToUpper(testKey) + `-ada@example.com"}`, false,
			"tok-[redacted]-[redacted]\n"},
		{"integration name holding the email, as JSON", 200, "r8", `{"link_token":"tok","integration_name":"ADA@example.com"}`, true,
			"{\n  \"integration_name\": \"[redacted]\",\n  \"link_token\": \"tok\"\n}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Request-Id", tc.requestID)
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			extra := []string{"-base-url", srv.URL, "-category", "hris"}
			if tc.json {
				extra = append(extra, "-json")
			}
			_, out, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args(extra...)...)
			assert.Equal(t, tc.want, out+errOut)
			if tc.json {
				var tok map[string]string
				require.NoError(t, json.Unmarshal([]byte(out), &tok), "still valid JSON")
				if tc.requestID == "r6" {
					assert.Equal(t, "tok\u009b\u202e\x7f", tok["link_token"], "and the value intact")
				}
			}
		})
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // in stdout, exactly once
		stderr string // in stderr, exactly once
	}{
		{"top-level -h", []string{"-h"}, exitOK, "linktoken create -mock -email ada@example.com", ""},
		{"create -h", []string{"create", "-h"}, exitOK, "Usage: linktoken create [flags]", ""},
		{"create -help", []string{"create", "-help"}, exitOK, "Usage: linktoken create [flags]", ""},
		{"mock -h", []string{"mock", "-h"}, exitOK, "Usage: linktoken mock [flags]", ""},
		{"version -h", []string{"version", "-h"}, exitOK, "Usage: linktoken version", ""},
		{"no command", nil, exitUsage, "", "Usage:"},
		{"unknown command", []string{"serve"}, exitUsage, "", `unknown command "serve"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, nil, tc.args...)
			assert.Equal(t, tc.code, code)
			if tc.stdout != "" {
				assert.Equal(t, 1, strings.Count(out, tc.stdout), out)
				assert.Empty(t, errOut)
			}
			if tc.stderr != "" {
				assert.Equal(t, 1, strings.Count(errOut, tc.stderr), errOut)
				assert.Empty(t, out)
			}
		})
	}
}

// TestHelpListsTheGeneratedEnums: the accepted values in the help are the
// generated enums'.
func TestHelpListsTheGeneratedEnums(t *testing.T) {
	t.Parallel()
	_, help, _ := runCLI(t, nil, "create", "-h")
	assert.Contains(t, help, "in any case: "+shared.JoinValues(client.CategoryValues())+" (required)")
	assert.Contains(t, help, "in any case: "+shared.JoinValues(client.LanguageValues())+"\n")
	assert.Contains(t, help, "the Merge region: "+shared.JoinValues(client.RegionValues()))
}

// TestMockUsageErrors: bad flags of mock exit 2 with the usage line, before
// anything listens.
func TestMockUsageErrors(t *testing.T) {
	t.Parallel()
	const mockUsage = "usage: linktoken mock [flags] (run \"linktoken mock -h\" for help)\n"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"address without a port", []string{"-addr", "nonsense"}, "linktoken: -addr: address nonsense: missing port in address\n"},
		{"port out of range", []string{"-addr", "127.0.0.1:99999"}, `linktoken: -addr: port "99999" is not a number from 0 to 65535` + "\n"},
		{"named port", []string{"-addr", "localhost:http"}, `linktoken: -addr: port "http" is not a number from 0 to 65535` + "\n"},
		{"negative latency", []string{"-latency", "-1s"}, "linktoken: -latency: must not be negative, got -1s\n"},
		{"stray argument", []string{"-addr", "127.0.0.1:0", "now"}, `linktoken: unexpected argument "now"` + "\n"},
		{"unknown flag", []string{"-port", "80"}, "linktoken: flag provided but not defined: -port\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, nil, append([]string{"mock"}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Equal(t, tc.want+mockUsage, errOut)
		})
	}
}

// TestMockCommandLogs: `linktoken mock` logs one line per request on
// stderr, and never the key or the email.
func TestMockCommandLogs(t *testing.T) {
	t.Parallel()
	m := startMockCommand(t, fastLimits)
	requests := []struct{ method, path, auth, body string }{
		{"POST", "/link-token", "Bearer " + testKey, validBody},
		{"POST", "/api/mktg/v1/link-token", "Bearer " + testKey, `{"end_user_email_address":"ada@example.com"}`},
		{"POST", "/ada@example.com/link-token", "bearer " + testKey, validBody},
		{"POST", "/" + strings.ToUpper(testKey) + "/link-token", "Bearer " + testKey, validBody},
		{"GET", "/link-token", "Bearer " + testKey, ""},
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, "http://"+m.addr+r.path, strings.NewReader(r.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", r.auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	m.stop()
	assert.Equal(t, exitOK, <-m.done)
	m.done <- exitOK
	log := m.log.String()
	assert.Equal(t, len(requests), strings.Count(log, `msg=request `), log)
	assert.Equal(t, len(requests)+2, strings.Count(log, "\n"), "listening, one line per request, stopped: %s", log)
	for _, secret := range []string{testKey, "ada@example.com"} {
		assert.NotContains(t, strings.ToLower(log), strings.ToLower(secret))
	}
}

// TestVersion: the module version as the build recorded it, the Go
// version, and the revision when there is one.
func TestVersion(t *testing.T) {
	t.Parallel()
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "5acc1861b2c3"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		name   string
		info   *debug.BuildInfo
		ok     bool
		module string
		want   string
	}{
		{"go install @v0.1.0", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, "v0.1.0",
			"linktoken v0.1.0\ngo1.26.8\n"},
		{"built in a checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: vcs}, true, "(devel)",
			"linktoken (devel)\ngo1.26.8\nrevision 5acc1861b2c3 (modified)\n"},
		{"no build info", nil, false, "(devel)", "linktoken (devel)\n" + runtime.Version() + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, readBuildVersion(tc.info, tc.ok, tc.module).String())
		})
	}

	code, out, errOut := runCLI(t, nil, "version")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `^linktoken (\(devel\)|v\S+)\n`+regexp.QuoteMeta(runtime.Version())+`\n(revision [0-9a-f]+( \(modified\))?\n)?$`, out)
	code, _, errOut = runCLI(t, nil, "version", "extra")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, "linktoken: unexpected argument \"extra\"\nusage: linktoken version (run \"linktoken version -h\" for help)\n", errOut)
}

// TestVersionMatchesUserAgent: the client's User-Agent carries the version
// `linktoken version` prints.
func TestVersionMatchesUserAgent(t *testing.T) {
	t.Parallel()
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"link_token":"tok"}`)
	}))
	t.Cleanup(srv.Close)
	code, _, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", srv.URL, "-category", "hris")...)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, modulePath+"/"+shared.Version()+" go/"+runtime.Version()+" linktoken-cli", ua)
}

// TestImports: the command uses the client and the contract suite only,
// never the generated package.
func TestImports(t *testing.T) {
	t.Parallel()
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	var ours []string
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, modulePath+"/") {
			ours = append(ours, imp)
		}
	}
	assert.ElementsMatch(t, []string{modulePath + "/client", modulePath + "/contracttest", modulePath + "/internal/shared"}, ours)
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
	post := func(body string, prefer ...string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testKey)
		for _, p := range prefer {
			req.Header.Add("Prefer", p)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, post(`{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`))
	assert.Equal(t, 400, post(`{"end_user_email_address":"ada@example.com","categories":["hris"],"link_expiry_mins":9000}`))
	assert.Equal(t, 429, post(`{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`, "code=429"),
		"Prism's Prefer control, served by the command too")

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	// Read stderr to its end before Wait, which closes the pipe: waiting
	// first could lose the last lines.
	var logged []string
	timeout := time.After(10 * time.Second)
read:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break read
			}
			logged = append(logged, line)
		case <-timeout:
			t.Fatal("the mock did not stop on SIGINT")
		}
	}
	assert.NoError(t, cmd.Wait(), "a clean exit on SIGINT")
	all := strings.Join(logged, "\n")
	assert.Contains(t, all, "status=200")
	assert.Contains(t, all, "status=400")
	assert.Contains(t, all, "status=429")
	assert.Contains(t, all, "link_expiry_mins")
	assert.Contains(t, all, "mock stopped")
	assert.NotContains(t, all, testKey)
	assert.NotContains(t, all, "ada@example.com")
}

// TestCreateMagicLinkMissing: a Magic Link asked for and not returned is an
// error, not an empty line.
func TestCreateMagicLinkMissing(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"link_token":"tok"}`)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-base-url", srv.URL, "-category", "hris", "-magic-link", "-expiry", "10080")...)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, "linktoken: asked for a Magic Link (-magic-link), and the response has no magic_link_url\n", errOut)
}

// TestCreateBoundsWhatItEchoes: a flag value of 100 KB is echoed cut, and a
// base URL whose empty query or fragment would drop its path is refused.
func TestCreateBoundsWhatItEchoes(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-category", "hris", "-region", strings.Repeat("r", 100_000))...)
	assert.Equal(t, 2, code)
	assert.Less(t, len(errOut), 400, "the error line is bounded: %.200s", errOut)
	assert.Contains(t, errOut, `unknown region "`+strings.Repeat("r", 61)+`…"`)
	for _, u := range []string{"https://h.example/api?", "https://h.example/api#", "https://h.example/api?#"} {
		code, _, errOut := runCLI(t, map[string]string{"MERGE_API_KEY": testKey}, args("-category", "hris", "-base-url", u)...)
		assert.Equal(t, 2, code, u)
		assert.Contains(t, errOut, "must not have a query or fragment", u)
	}
}
