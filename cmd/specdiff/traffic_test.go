package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/shared"
	"github.com/mergelink/linktoken/openapi"
)

// trafficDir holds the HAR fixtures, each named for what it shows, and the
// golden text report of one of them.
const trafficDir = "testdata/traffic"

// writeFile writes data to a file of a test's own and returns its path.
func writeFile(t testing.TB, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

// exchange is one entry of a generated archive.
type exchange struct {
	method, url string
	headers     [][2]string // the request's; Authorization defaults to Bearer testKey
	body        string      // the request's JSON body, "" for none
	status      int
	contentType string // the response's, application/json by default
	resp        string // the response's body
	base64      bool   // the response's body is written base64
}

// testKey is the API key of generated archives.
const testKey = "sk_test_Hx3Nq8Vr2Lz6Pw"

// harOf writes an archive of the exchanges, as a browser exports one: no
// secret redacted.
func harOf(t testing.TB, xs ...exchange) string {
	t.Helper()
	nv := func(name, value string) map[string]string { return map[string]string{"name": name, "value": value} }
	entries := []any{}
	for _, x := range xs {
		headers := []any{nv("Authorization", "Bearer "+testKey)}
		for _, h := range x.headers {
			headers = append(headers, nv(h[0], h[1]))
		}
		req := map[string]any{"method": x.method, "url": x.url, "headers": headers, "cookies": []any{}}
		if x.body != "" {
			req["headers"] = append(headers, nv("Content-Type", "application/json"))
			req["postData"] = map[string]any{"mimeType": "application/json", "text": x.body}
		}
		ct := x.contentType
		if ct == "" {
			ct = "application/json"
		}
		content := map[string]any{"size": len(x.resp), "mimeType": ct, "text": x.resp}
		if x.base64 {
			content["text"], content["encoding"] = base64.StdEncoding.EncodeToString([]byte(x.resp)), "base64"
		}
		entries = append(entries, map[string]any{"request": req, "response": map[string]any{
			"status": x.status, "headers": []any{nv("Content-Type", ct)}, "cookies": []any{}, "content": content}})
	}
	data, err := json.Marshal(map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]any{"name": "test"}, "entries": entries}})
	require.NoError(t, err)
	return string(data)
}

// The URLs of generated archives.
const (
	createURL   = "https://api.merge.dev/api/hris/v1/link-token"
	exchangeURL = "https://api.merge.dev/api/hris/v1/account-token/"
)

// createBody is a valid request to create a link token, with extra
// members (JSON, without braces) added at its end.
func createBody(email, extra string) string {
	b := `{"end_user_email_address":` + strconv.Quote(email) + `,"end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

// TestTrafficFixtures runs traffic on each fixture of testdata/traffic.
func TestTrafficFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture string
		code    int
		want    []string
	}{
		{"recorded-link-flow.har", exitOK, []string{"3 entries, 3 exchanges of our operations, 0 not ours: 0 failures, 0 notices",
			"GET /account-token/{public_token} (exchangePublicToken): 2 exchanges\n  no finding"}},
		{"undocumented-field-and-status.har", exitChanges, []string{"1 not ours: 2 failures, 1 notice",
			"response 200 /expires_at: no property of the schema names this member (1 entry, first log.entries[0])",
			"response 409: status 409 is not one the spec documents for POST /link-token",
			`response 200 /integration/categories/* "lms": not one of the values the open enum lists`}},
		{"violations.har", exitChanges, []string{
			"Exchanges of ours without a response (status 0: blocked, cancelled or failed): 1",
			"Bodies the archive does not hold (a size without a text): 1",
			"request /category_common_model_scopes/*/*/model_permissions/DELETE: no property",
			"response 200 /ttl_seconds: no property", // from a base64 body
			"response 400 /errors/*/code: no property",
			`request /categories/* "payroll": value is not one of the allowed values`,
			"nulls where the spec has no nullable:\n    request /language:",
			"response 200 /integration/slug: Value is not nullable [nullable]",
			"request /link_expiry_mins: number must be at most 10080 [maximum]",
			"response 200 /integration/color: maximum string length is 18 [maxLength]",
			"response 200: the body is not JSON: invalid character 'o'",
			"request: a request body is required [requestBody]", // no postData
		}},
		{"browser-export-with-secrets.har", exitChanges, []string{"6 entries, 5 exchanges of our operations, 1 not ours",
			"response 200 /x-[redacted]: no property", "response 410: status 410 is not one the spec documents"}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("traffic", filepath.Join(trafficDir, tc.fixture))
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Empty(t, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			for _, notWanted := range []string{"integration_specific_config", "api_endpoints_to_documentation_urls/", "rippling", `"properties"`} {
				assert.NotContains(t, out, notWanted, "a map's keys are data, not fields; a member additionalProperties: false forbids is listed once, as a field")
			}
		})
	}
}

// trafficGolden is the text report of trafficGoldenFixture.
const (
	trafficGoldenFixture = trafficDir + "/undocumented-field-and-status.har"
	trafficGolden        = trafficDir + "/undocumented-field-and-status.text.golden"
)

// TestTrafficReport pins the text report of one fixture, and checks that
// every format says the same: the JSON's counts, the exit code, the
// Markdown's rows and the annotations. After a deliberate change, rewrite
// the golden file with
//
//	go test -run TestTrafficReport -update
func TestTrafficReport(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCmd("traffic", trafficGoldenFixture)
	require.Empty(t, errOut)
	_, again, _ := runCmd("traffic", "-format", "text", trafficGoldenFixture)
	assert.Equal(t, out, again, "two runs print the same")
	if *update {
		require.NoError(t, os.WriteFile(trafficGolden, []byte(out), 0o644))
	} else {
		want, err := os.ReadFile(trafficGolden)
		require.NoError(t, err)
		assert.Equal(t, string(want), out, "run 'go test -run TestTrafficReport -update' to rewrite %s, and review the difference", trafficGolden)
	}

	jsonCode, js, _ := runCmd("traffic", "-format", "json", trafficGoldenFixture)
	var r trafficReport
	require.NoError(t, json.Unmarshal([]byte(js), &r))
	assert.Equal(t, code, jsonCode)
	assert.Equal(t, exitChanges, code, "the exit code follows the report: %d failures", r.Failures)
	assert.Equal(t, []int{4, 3, 1, 2, 1}, []int{r.Entries, r.Ours, r.NotOurs, r.Failures, r.Notices})
	require.Len(t, r.Operations, 2)
	assert.Equal(t, "GET", r.Operations[0].Method, "operations in our spec's order: by path")

	_, md, _ := runCmd("traffic", "-format", "markdown", trafficGoldenFixture)
	assert.Contains(t, md, "| undocumented field | `response 200 /expires_at` |  | no property of the schema names this member | 1 | 0 |")
	_, gh, _ := runCmd("traffic", "-format", "github", trafficGoldenFixture)
	assert.Equal(t, 2, strings.Count(gh, "::error "), gh)
	assert.Equal(t, 1, strings.Count(gh, "::notice "), gh)
	assert.True(t, strings.HasSuffix(gh, strings.SplitN(out, "\n", 2)[0]+"\n"), "the headline last: %s", gh)
}

// TestTrafficReadmeExample: the README's excerpt of the golden report is
// the command's output: each line it shows, in order, after the command
// it shows ("..." stands for lines it leaves out).
func TestTrafficReadmeExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	const command = "$ cd cmd/specdiff && go run . traffic " + trafficGoldenFixture + "\n"
	_, block, found := strings.Cut(string(readme), command)
	require.True(t, found, "the README shows %q: keep the example in step with the fixture", command)
	block, _, _ = strings.Cut(block, "```")
	want, err := os.ReadFile(trafficGolden)
	require.NoError(t, err)
	rest := string(want)
	for line := range strings.Lines(block) {
		if strings.TrimSpace(line) == "..." {
			continue
		}
		i := strings.Index(rest, line)
		require.GreaterOrEqual(t, i, 0, "the README shows %q, which %s does not have in that order: copy the lines from it", line, trafficGolden)
		rest = rest[i+len(line):]
	}
}

// TestTrafficSide: -side response checks only what the server answered
// (a contract suite sends bad requests on purpose), -side request only what
// was sent; both is every finding of either; another value is bad input.
func TestTrafficSide(t *testing.T) {
	t.Parallel()
	har := filepath.Join(trafficDir, "violations.har")
	sides := func(args ...string) (map[string]int, string) {
		t.Helper()
		code, js, errOut := runCmd(append(append([]string{"traffic", "-format", "json"}, args...), har)...)
		require.Empty(t, errOut)
		var r trafficReport
		require.NoError(t, json.Unmarshal([]byte(js), &r))
		count := map[string]int{}
		for _, op := range r.Operations {
			for _, f := range op.Findings {
				count[f.Side]++
			}
		}
		assert.Equal(t, r.fails(), code == exitChanges, "the exit code follows the findings")
		return count, r.Side
	}
	both, side := sides()
	assert.Equal(t, "both", side)
	require.Positive(t, both["request"], "violations.har has findings in requests")
	require.Positive(t, both["response"], "violations.har has findings in responses")
	responses, side := sides("-side", "response")
	assert.Equal(t, "response", side)
	assert.Equal(t, map[string]int{"response": both["response"]}, responses, "-side response: the responses' findings only")
	requests, _ := sides("-side", "request")
	assert.Equal(t, map[string]int{"request": both["request"]}, requests, "-side request: the requests' findings only")
	_, text, _ := runCmd("traffic", "-side", "response", har)
	assert.Contains(t, strings.SplitN(text, "\n", 2)[0], "against our spec (responses only):", "the headline says which side was checked")
	code, _, errOut := runCmd("traffic", "-side", "neither", har)
	assert.Equal(t, exitBadInput, code)
	assert.Contains(t, errOut, `-side "neither": use one of both, request, response`)
}

// TestTrafficAnnotationsPointIntoOurSpec: each annotation is at the line
// of our spec that writes the schema, the property or the operation it
// is about.
func TestTrafficAnnotationsPointIntoOurSpec(t *testing.T) {
	t.Parallel()
	_, out, errOut := runCmd("traffic", "-format", "github", filepath.Join(trafficDir, "violations.har"))
	require.Empty(t, errOut)
	lines := strings.Split(string(openapi.Spec()), "\n")
	want := map[string]string{
		"/integration/slug": "slug:", "/integration/color": "color:", "/ttl_seconds": "LinkToken:", "/errors/*/code": "ErrorValidationProblem:",
		"model_permissions/DELETE": "ModelPermissions:", "/link_expiry_mins": "link_expiry_mins:", "/language": "language:",
		"request: a request body": "post:", "response 200: the body": "get:",
	}
	seen := 0
	for _, l := range strings.Split(out, "\n") {
		m := annotation.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		assert.Equal(t, openapi.SpecPath, m[2])
		line, err := strconv.Atoi(m[3])
		require.NoError(t, err, l)
		for about, key := range want {
			if strings.Contains(m[5], about) {
				seen++
				assert.Equal(t, key, strings.TrimSpace(lines[line-1]), "%s: line %d", about, line)
			}
		}
	}
	assert.Equal(t, len(want), seen, "an annotation for each: %s", out)
}

// The secrets of browser-export-with-secrets.har, which none of its
// tools redacted.
var browserSecrets = []string{
	"sk_live_Q7mX2pL9vR4tW8yZ",                   // Authorization
	"Ada.Lovelace@Example.com",                   // end_user_email_address
	"lt_9fK3mQ7xP2vL8rT4wZ6y",                    // link_token
	"https://link.merge.dev/ml_4Hq8Zr2Vx6Tn",     // magic_link_url
	"pt_Jd83kS02lQm9Xz7Wc5",                      // the public token, in the path
	"at_R2d9Wq7Lm4Zx8Kp3Nv6",                     // account_token, in a base64 body
	"sess_8Vb3Nq6Zr1Tx4Wm",                       // a cookie of another host
	"csrf_Zt6Yq1Wx9Pv4Ks",                        // a Set-Cookie of another host
	"xk_P5n8Qz2Wr7Tv3Ls",                         // another host's X-Api-Key, and its URL's query
	"sessionid=sess_8Vb3Nq6Zr1Tx4Wm; theme=dark", // the Cookie header
}

// TestTrafficFindsUndocumentedFieldAndStatusShowingNoSecret is the
// issue's: a recorded archive's undocumented field and status are found,
// and no secret the archive holds shows, in any format, though they
// reappear escaped and re-cased where the report echoes the archive (a
// member's name is the email, JSON- and percent-encoded; an enum value is
// another exchange's account token, upper case; a member's name holds the
// link token; a Content-Type quotes the key, once cut short).
func TestTrafficFindsUndocumentedFieldAndStatusShowingNoSecret(t *testing.T) {
	t.Parallel()
	for _, format := range trafficFormats {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("traffic", "-format", format, filepath.Join(trafficDir, "browser-export-with-secrets.har"))
			assert.Equal(t, exitChanges, code, errOut)
			assert.Empty(t, errOut)
			assert.Contains(t, out, "/x-[redacted]", "the undocumented member holding the link token is found")
			assert.Regexp(t, `410\b.*\bnot one the spec documents`, out, "the undocumented status is found")
			assertNoSecret(t, out, browserSecrets...)
		})
	}
}

// assertNoSecret fails when text holds any of secrets, or a part of one
// 10 characters long, in any case, percent-encoded, JSON-escaped (\u) or
// written with HTML references.
func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	lower := strings.ToLower(text)
	for _, s := range secrets {
		forms := []string{s, url.QueryEscape(s), url.PathEscape(s), escapeAll(s, `\u%04x`), escapeAll(s, "&#%d;")}
		for _, f := range forms {
			assert.NotContains(t, lower, strings.ToLower(f), "the report shows %q as %q", s, f)
		}
		for i := 0; i+10 <= len(s); i++ {
			assert.NotContains(t, lower, strings.ToLower(s[i:i+10]), "the report shows a part of %q", s)
		}
	}
}

// escapeAll writes every character of s but letters and digits with
// format.
func escapeAll(s, format string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, format, r)
		}
	}
	return b.String()
}

// TestTrafficSecretsNeverShow: wherever a report could echo the archive,
// a secret the archive holds is redacted, escaped or re-cased, from the
// same exchange or another.
func TestTrafficSecretsNeverShow(t *testing.T) {
	t.Parallel()
	const (
		email   = "Grace.Hopper@Example.org"
		link    = "lt_Kq7Wz2Xv9Rm4Tp8Ny"
		magic   = "https://link.merge.dev/ml_Vb6Hn2Jq8Zt4"
		public  = "pt_Fs9Lk3Dq7Wm2Xc5Bv"
		account = "at_Ty4Gh8Jk2Lp6Zx9Qw"
		cookie  = "sess_Mn3Bv7Cx1Zl5Kj"
	)
	created := `{"link_token":"` + link + `","magic_link_url":"` + magic + `"%s}`
	exchanged := `{"account_token":"` + account + `","integration":{"name":"BambooHR","categories":["hris"%s]}}`
	create := func(extra, respExtra string) exchange {
		return exchange{method: "POST", url: createURL, body: createBody(email, extra), status: 200, resp: fmt.Sprintf(created, respExtra)}
	}
	exchangeOf := func(extra string) exchange {
		return exchange{method: "GET", url: exchangeURL + public, status: 200, resp: fmt.Sprintf(exchanged, extra)}
	}
	cases := []struct {
		name string
		har  []exchange
		want string // in the text report
		code int
	}{
		{"a member named the email, JSON-escaped", []exchange{create(`"grace.hopper\u0040example.org":1`, "")}, "request /[redacted]: no property", exitChanges},
		{"a member named the email, percent-encoded and upper case", []exchange{create(`"GRACE.HOPPER%40EXAMPLE.ORG":1`, "")}, "request /[redacted]: no property", exitChanges},
		{"a member named the email with HTML references", []exchange{create(`"grace.hopper&#64;example&period;org":1`, "")}, "request /[redacted]: no property", exitChanges},
		{"a member named the magic link URL, / in a pointer token", []exchange{create("", `,"`+magic+`":1`)}, "response 200 /[redacted]: no property", exitChanges},
		{"a member named with the link token inside", []exchange{create("", `,"x-`+link+`-y":1`)}, "response 200 /x-[redacted]-y: no property", exitChanges},
		{"a member named the link token of an earlier exchange", []exchange{create("", ""), exchangeOf(`],"` + link + `":[`)}, "/integration/[redacted]: no property", exitChanges},
		{"an enum value: a later exchange's account token, upper case", []exchange{
			create(`"language":"`+strings.ToUpper(account)+`"`, ""), exchangeOf("")}, `request /language "[redacted]"`, exitChanges},
		{"an open enum's value: the public token", []exchange{exchangeOf(`,"` + public + `"`)}, `/integration/categories/* "[redacted]"`, exitOK},
		{"a member named an earlier entry's cookie", []exchange{
			{method: "GET", url: "https://app.example.com/", headers: [][2]string{{"Cookie", "sid=" + cookie}}, status: 200, contentType: "text/html", resp: "<p>"},
			exchangeOf(`],"` + cookie + `":[`)}, "/integration/[redacted]", exitChanges},
		{"a Content-Type quoting the email", []exchange{create("", ""), {method: "GET", url: exchangeURL + public, status: 404, contentType: "text/plain; for=" + email, resp: "x"}},
			`Content-Type "text/plain; for=[redacted]"`, exitChanges},
		{"a Content-Type quoting the key, cut short", []exchange{{method: "GET", url: exchangeURL + public, status: 404,
			contentType: "application/problem+json; charset=utf-8; trace=" + testKey, resp: "x"}}, `Content-Type "…"`, exitChanges},
		{"a member named the email, 600 bytes long", []exchange{create(`"`+email+strings.Repeat("x", 600)+`":1`, "")}, "/(a text over 512 bytes, not shown): no property", exitChanges},
		{"an enum value of 960 bytes made of the key", []exchange{create(`"language":"`+strings.Repeat(testKey, 40)+`"`, "")}, `request /language "(a text over 512 bytes, not shown)"`, exitChanges},
	}
	secrets := []string{testKey, email, link, magic, public, account, cookie}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "echo.har", harOf(t, tc.har...))
			for _, format := range trafficFormats {
				code, out, errOut := runCmd("traffic", "-format", format, path)
				assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
				if format == "text" {
					assert.Contains(t, out, tc.want)
				}
				assertNoSecret(t, out+errOut, secrets...)
			}
		})
	}
}

// TestTrafficBadInput: an archive specdiff cannot read exits 2 with one
// line naming the entry (its index, and for one of our operations its
// method and URL, redacted), never a panic.
func TestTrafficBadInput(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(trafficGoldenFixture)
	require.NoError(t, err)
	deep := `{"log":{"entries":[{"request":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}}`
	cases := []struct {
		name, har, want string
	}{
		{"empty", "", "the archive is empty"},
		{"not JSON", "this is not a HAR", "the archive is not JSON: invalid character 'h' in literal true"},
		{"a top-level array", `[{"log":{"entries":[]}}]`, `the archive is not a JSON object: a HAR is {"log": {"entries": [...]}}`},
		{"no log", `{"version":"1.2"}`, "the archive has no log member"},
		{"no entries", `{"log":{"version":"1.2","pages":[]}}`, "log has no entries member"},
		{"entries not an array", `{"log":{"entries":{}}}`, "log.entries is not an array"},
		{"an entry not an object", `{"log":{"entries":[{"request":{"method":"GET","url":"/"}},7]}}`, "log.entries[1] is not an object"},
		{"an entry without a request", `{"log":{"entries":[{"response":{"status":200}}]}}`, "log.entries[0] has no request"},
		{"cut short", string(good[:len(good)/2]), "log.entries[1]: the archive ends in the middle of its JSON: is it cut short?"},
		{"data after the archive", string(good) + "{}", "the archive goes on after its JSON object ends"},
		{"nested deeper than encoding/json reads", deep, "log.entries[0]: the JSON is nested deeper than 10000 levels"},
		{"a status that is not a number", `{"log":{"entries":[{"request":{"method":"GET","url":"` + exchangeURL + `pt_Qw8Er4Ty6Ui2Op?api_key=xk_Zz9Yy8Xx7Ww"},"response":{"status":"200"}}]}}`,
			"log.entries[0] (GET https://api.merge.dev/api/hris/v1/account-token/{public_token}?…): response.status is a string, which a HAR does not write there"},
		{"base64 that does not decode", strings.Replace(harOf(t, exchange{method: "GET", url: exchangeURL + "pt_Qw8Er4Ty6Ui2Op", status: 200, resp: "{}", base64: true}), `"e30="`, `"e30*"`, 1),
			"log.entries[0] (GET https://api.merge.dev/api/hris/v1/account-token/{public_token}): response.content: its base64 text does not decode: illegal base64 data at input byte 3"},
		{"an encoding HAR does not know", strings.Replace(harOf(t, exchange{method: "GET", url: exchangeURL + "pt_Qw8Er4Ty6Ui2Op", status: 200, resp: "{}", base64: true}), `"base64"`, `"gzip"`, 1),
			`response.content: its encoding is "gzip", and a HAR's text is plain or base64`},
		{"another host's broken response, a secret in its URL", `{"log":{"entries":[{"request":{"method":"GET","url":"https://app.example.com/keys/` + testKey + `/x",` +
			`"headers":[{"name":"Authorization","value":"Bearer ` + testKey + `"}]},"response":{"status":200,]}]}}`,
			"log.entries[0] (GET https://app.example.com/keys/[redacted]/x): the archive is not JSON: invalid character ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd("traffic", writeFile(t, "bad.har", tc.har))
			assert.Equal(t, exitBadInput, code, "stdout: %s", out)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
			assertNoSecret(t, errOut, testKey, "pt_Qw8Er4Ty6Ui2Op", "xk_Zz9Yy8Xx7Ww")
		})
	}
}

// TestTrafficBoundsEachEntry: an entry over 32 MiB (a huge string) is an
// error naming it, read no further than the bound.
func TestTrafficBoundsEachEntry(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString(`{"log":{"entries":[{"request":{"method":"GET","url":"https://cdn.example.com/a.js"},"response":{"status":200},"x":"`)
	b.Write(bytes.Repeat([]byte("a"), maxEntryBytes))
	b.WriteString(`"}]}}`)
	code, out, errOut := runCmd("traffic", writeFile(t, "huge.har", b.String()))
	assert.Equal(t, exitBadInput, code, out)
	assert.Contains(t, errOut, "log.entries[0]: it is over 33554432 bytes (32 MiB), the most one entry may hold; remove other hosts' entries")
}

// TestTrafficBounds: a body with thousands of problems gives a bounded
// report that says what it left out, and still fails.
func TestTrafficBounds(t *testing.T) {
	t.Parallel()
	var members, categories []string
	for i := range maxFindings + 100 {
		members = append(members, fmt.Sprintf(`"extra_%04d":1`, i))
	}
	for i := range 80 {
		categories = append(categories, fmt.Sprintf(`"cat_%02d"`, i))
	}
	body := createBody("ada@example.com", strings.Join(members, ","))
	body = strings.Replace(body, `"categories":["hris"]`, `"categories":[`+strings.Join(categories, ",")+`]`, 1)
	path := writeFile(t, "many.har", harOf(t, exchange{method: "POST", url: createURL, body: body, status: 200, resp: `{"link_token":"x"}`}))
	code, js, errOut := runCmd("traffic", "-format", "json", path)
	require.Equal(t, exitChanges, code, errOut)
	var r trafficReport
	require.NoError(t, json.Unmarshal([]byte(js), &r))
	assert.Equal(t, maxFindings, r.Failures, "at most %d findings are kept", maxFindings)
	assert.Equal(t, 150, r.Omitted, "the 50 categories the Validator lists and 600 members: 650 findings, 500 kept")
	assert.Equal(t, 30, r.Unlisted, "the Validator lists 50 violations of 80")
	_, text, _ := runCmd("traffic", path)
	for _, want := range []string{"The Validator lists at most 50 violations for one side of an exchange: 30 more were found.",
		"The report keeps 500 findings: 150 more occurrences were left out, 0 of them notices."} {
		assert.True(t, strings.Contains(text, want), "the report says: %s", want)
	}
}

// TestTrafficMatchesAsTheValidator: an entry is one of our operations
// exactly when contracttest's Validator finds an operation for it.
func TestTrafficMatchesAsTheValidator(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	cases := []struct{ method, url string }{
		{"POST", "https://api.merge.dev/api/mktg/v1/link-token"}, {"POST", "http://127.0.0.1:9/link-token"}, {"POST", "/link-token"},
		{"POST", "https://x/link-token/"}, {"GET", "https://x/link-token"}, {"post", "https://x/link-token"}, {"POST", "https://x/a/link-tokens"},
		{"GET", "https://x/account-token/abc"}, {"GET", "https://x/v1/account-token/abc?x=1"}, {"GET", "https://x/account-token/"},
		{"GET", "https://x/account-token"}, {"GET", "https://x/account-token/a%2Fb"}, {"GET", "https://x/account-token/abc/"},
		{"GET", "https://x/account-tokens/abc"}, {"DELETE", "https://x/account-token/abc"}, {"GET", "data:text/plain,link-token"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, tc.url, nil)
			require.NoError(t, err)
			ours := true
			var ce *contracttest.ContractError
			if errors.As(v.ValidateRequest(req), &ce) {
				ours = ce.Violations[0].In != "operation"
			}
			path := writeFile(t, "one.har", harOf(t, exchange{method: tc.method, url: tc.url, status: 200, resp: "{}"}))
			_, js, errOut := runCmd("traffic", "-format", "json", path)
			var r trafficReport
			require.NoError(t, json.Unmarshal([]byte(js), &r), errOut)
			assert.Equal(t, map[bool]int{true: 1}[ours], r.Ours, "the Validator says ours: %v", ours)
		})
	}
}

// TestTrafficUsage: the command line of traffic.
func TestTrafficUsage(t *testing.T) {
	t.Parallel()
	fixture := filepath.Join(trafficDir, "recorded-link-flow.har")
	other := writeFile(t, "other.yaml", strings.Replace(string(openapi.Spec()), "Merge Link Token API", "Another API", 1))
	same := writeFile(t, "link-token.yaml", string(openapi.Spec()))
	cases := []struct {
		name string
		args []string
		code int
		want string // in stdout when the code is not 2, else in stderr
	}{
		{"-h", []string{"traffic", "-h"}, exitOK, "usage: " + trafficSynopsis},
		{"no file", []string{"traffic"}, exitBadInput, "traffic needs a HAR file; usage: specdiff traffic"},
		{"two files", []string{"traffic", fixture, fixture}, exitBadInput, "traffic reads one HAR file, not 2"},
		{"a bad format", []string{"traffic", "-format", "xml", fixture}, exitBadInput, `-format must be text, json, markdown or github, not "xml"`},
		{"flags after the file", []string{"traffic", fixture, "-format", "json"}, exitOK, `"ours": 3`},
		{"a file after --", []string{"traffic", "--", fixture}, exitOK, "0 failures"},
		{"a missing file", []string{"traffic", "testdata/traffic/missing.har"}, exitBadInput, "read testdata/traffic/missing.har: no such file or directory"},
		{"a directory", []string{"traffic", trafficDir}, exitBadInput, "it is a directory, not a HAR file"},
		{"-ours the embedded spec", []string{"traffic", "-ours", same, "-format", "github", filepath.Join(trafficDir, "violations.har")}, exitChanges, "::error file=" + same},
		{"-ours another spec", []string{"traffic", "-ours", other, fixture}, exitBadInput, "is not the spec specdiff was built with, the only one contracttest's Validator checks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.code == exitBadInput {
				assert.Contains(t, errOut, tc.want)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
				return
			}
			assert.Contains(t, out, tc.want)
			assert.Empty(t, errOut)
		})
	}
}

// TestFoldIsRegexpFolding: fold gives every case variant of a rune (its
// orbit under unicode.SimpleFold, as regexp's (?i) matches) one form, so
// secretIndex finds in a text what a Redactor would replace.
func TestFoldIsRegexpFolding(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if fold(string(f)) != fold(string(r)) {
				t.Fatalf("fold(%q) = %q, fold(%q) = %q: case variants must fold alike", f, fold(string(f)), r, fold(string(r)))
			}
		}
	}
	for _, pair := range [][2]string{{"K", "\u212A"}, {"s", "\u017F"}, {"ǅ", "ǆ"}, {"Σ", "ς"}} {
		assert.Equal(t, fold(pair[0]), fold(pair[1]))
		assert.True(t, regexp.MustCompile("(?i)"+regexp.QuoteMeta(pair[0])).MatchString(pair[1]))
	}
	assert.NotEqual(t, fold("ß"), fold("ss"), "simple folding, as regexp's: ß is not ss")
}

// FuzzTraffic reads any bytes as an archive: the run ends with exit 0 or 1
// and a report, or with a one-line error (exit 2), never a panic, and no
// secret of the archive (an Authorization header's credentials, a secret
// member of one of our operations' bodies, a public token) shows, in any
// case. The format follows the input's length.
func FuzzTraffic(f *testing.F) {
	// Small seeds: the fuzzer minimizes each new input it finds, for as
	// long as a minute with a fixture of 10 kB.
	for _, seed := range []string{``, `{}`, `{"log":{"entries":[]}}`, `[1]`, `{"log":{"entries":[{"request":{}}]}}`,
		`{"log":{"entries":[{"request":{"method":"GET","url":"https://x/account-token/pt_Fz8Qm2Wn5Rx9"},"response":{"status":0}}]}}`,
		`{"log":{"entries":[{"request":{"method":"POST","url":"/link-token","postData":{"size":-1}},"response":{"status":200,"content":{"size":-1}}}]}}`,
		harOf(f, exchange{method: "POST", url: createURL, body: createBody("eve.example@example.com", `"eve.example@example.com":1,"language":null`), status: 418, resp: `{"link_token":"lt_Fz8Qm2Wn5Rx9"}`}),
		harOf(f, exchange{method: "POST", url: createURL, body: createBody("eve.example@example.com", `"categories":["LT_FZ8QM2WN5RX9"],"link_expiry_mins":5`), status: 200,
			resp: `{"link_token":"lt_Fz8Qm2Wn5Rx9","x-lt_Fz8Qm2Wn5Rx9":1}`}),
		harOf(f, exchange{method: "GET", url: exchangeURL + "pt_Fz8Qm2Wn5Rx9", status: 200, base64: true,
			resp: `{"account_token":"at_Fz8Qm2Wn5Rx9","integration":{"name":"X","categories":["AT_FZ8QM2WN5RX9"],"pt_Fz8Qm2Wn5Rx9":1,"slug":null}}`}),
		harOf(f, exchange{method: "GET", url: exchangeURL + "pt_Fz8Qm2Wn5Rx9", status: 404, contentType: "text/plain; k=" + testKey, resp: "no"},
			exchange{method: "GET", url: "https://cdn.example.com/a.js", headers: [][2]string{{"Cookie", "sid=sess_Fz8Qm2Wn5Rx9"}}, status: 200, resp: "x"}),
	} {
		f.Add([]byte(seed))
	}
	// What a report says in its own words, or quotes from the spec, is
	// not a secret the archive could make show.
	_, words, _ := runCmd("traffic", "-format", "markdown", filepath.Join(trafficDir, "violations.har"))
	vocabulary := strings.ToLower(string(openapi.Spec()) + words + trafficReading + fmt.Sprint(trafficGroups))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		code, err := trafficRun{format: trafficFormats[len(data)%len(trafficFormats)], archive: "fuzz.har"}.run(bytes.NewReader(data), &out)
		text := out.String()
		switch {
		case err != nil:
			text = err.Error()
			require.Empty(t, out.String(), "an error, and nothing on stdout")
			require.NotContains(t, text, "\n")
		default:
			require.Contains(t, []int{exitOK, exitChanges}, code)
			require.NotEmpty(t, text)
		}
		for _, s := range fuzzSecrets(data) {
			// A secret that starts or ends with what the report writes
			// beside the texts it shows (": ", a quote, a pointer's /)
			// can be completed by it: the report then shows all of the
			// secret but that, which a Redactor, matching whole secrets,
			// does not redact.
			if len(s) < 8 || strings.Contains(vocabulary, strings.ToLower(s)) || strings.ContainsAny(s[:1]+s[len(s)-1:], reportPunctuation) {
				continue
			}
			if regexp.MustCompile("(?i)" + regexp.QuoteMeta(s)).MatchString(text) {
				t.Fatalf("the report shows the secret %q:\n%s", s, text)
			}
		}
	})
}

// reportPunctuation is what the report writes beside a text it shows.
const reportPunctuation = " :\"/[]()|`*,;\\"

// fuzzSecrets finds the secrets of an archive as a reader of it would, on
// its own (json.Unmarshal, not the streaming reader): each Authorization
// header's value and credentials, and in the exchanges that look like
// ours, the public token and the string values of the secret members of
// JSON bodies.
func fuzzSecrets(data []byte) []string {
	var doc struct {
		Log struct {
			Entries []struct {
				Request struct {
					Method, URL string
					Headers     []harNV
					PostData    *struct{ Text string }
				}
				Response struct {
					Content struct{ Text, Encoding string }
				}
			}
		}
	}
	_ = json.Unmarshal(data, &doc) // what it could read
	var out []string
	for _, e := range doc.Log.Entries {
		for _, h := range e.Request.Headers {
			if strings.EqualFold(h.Name, "Authorization") {
				_, credentials, _ := strings.Cut(strings.TrimSpace(h.Value), " ")
				out = append(out, h.Value, strings.TrimSpace(credentials))
			}
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil {
			continue
		}
		segments := strings.Split(u.Path, "/")
		switch last := segments[len(segments)-1]; {
		case e.Request.Method == "GET" && len(segments) > 1 && segments[len(segments)-2] == "account-token":
			out = append(out, last)
		case e.Request.Method == "POST" && last == "link-token":
		default:
			continue
		}
		bodies := []string{e.Response.Content.Text}
		if e.Request.PostData != nil {
			bodies = append(bodies, e.Request.PostData.Text)
		}
		if strings.EqualFold(e.Response.Content.Encoding, "base64") {
			decoded, _ := base64.StdEncoding.DecodeString(e.Response.Content.Text)
			bodies[0] = string(decoded)
		}
		for _, b := range bodies {
			var v any
			if json.Unmarshal([]byte(b), &v) == nil {
				out = append(out, secretValues(v)...)
			}
		}
	}
	return out
}

// secretValues returns the string values of members named as
// shared.SecretMembers, at any depth.
func secretValues(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, m := range x {
			if s, ok := m.(string); ok && slices.Contains(shared.SecretMembers, k) {
				out = append(out, s)
			}
			out = append(out, secretValues(m)...)
		}
	case []any:
		for _, m := range x {
			out = append(out, secretValues(m)...)
		}
	}
	return out
}
