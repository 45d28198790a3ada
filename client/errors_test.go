package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
)

// answered returns the error of a call whose one attempt gets resp (its
// Request is filled in), through a RoundTripper: no network.
func answered(t *testing.T, resp *http.Response) error {
	t.Helper()
	c, err := client.New(testKey, client.WithBaseURL("https://api.example"), client.WithMaxRetries(0),
		client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp.Request = r
			if resp.Header == nil {
				resp.Header = http.Header{"Content-Type": {"application/json"}}
			}
			if resp.Body == nil {
				resp.Body = http.NoBody
			}
			return resp, nil
		})}))
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), validRequest())
	if err == nil {
		assert.NotEmpty(t, tok.LinkToken)
	}
	return err
}

func bodyOf(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

// apiErrorOf is the *APIError of a call answered with status, body and
// header pairs.
func apiErrorOf(t *testing.T, status int, body string, headers ...string) *client.APIError {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	err := answered(t, &http.Response{StatusCode: status, Header: h, Body: bodyOf(body)})
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	return apiErr
}

// TestStatusBoundaries: the edges of the status classes and of the body
// bound, through the path from response to error.
func TestStatusBoundaries(t *testing.T) {
	t.Parallel()
	token := func(n int) string { // a LinkToken body of exactly n bytes
		return `{"link_token":"` + strings.Repeat("a", n-len(`{"link_token":""}`)) + `"}`
	}
	t.Run("a body of exactly 1 MiB is read whole", func(t *testing.T) {
		t.Parallel()
		assert.NoError(t, answered(t, &http.Response{StatusCode: 200, Body: bodyOf(token(client.MaxBodyBytes))}))
	})
	t.Run("a body of 1 MiB and one byte is refused", func(t *testing.T) {
		t.Parallel()
		err := answered(t, &http.Response{StatusCode: 200, Body: bodyOf(token(client.MaxBodyBytes + 1))})
		assert.ErrorIs(t, err, client.ErrContractBroken)
		assert.ErrorContains(t, err, "response body exceeds 1048576 bytes")
	})
	t.Run("299 is a 2xx: the contract is broken and the body, which may hold a token, is dropped", func(t *testing.T) {
		t.Parallel()
		apiErr := apiErrorOf(t, 299, `{"link_token":"tok_secret"}`)
		assert.Equal(t, "response breaks the contract: status 299 is not the documented 200", apiErr.Reason)
		assert.Nil(t, apiErr.Body)
		assert.ErrorIs(t, apiErr, client.ErrContractBroken)
	})
	for _, status := range []int{300, 399} {
		t.Run(fmt.Sprintf("%d is a redirect that keeps its Location", status), func(t *testing.T) {
			t.Parallel()
			apiErr := apiErrorOf(t, status, `{}`, "Location", "/moved/link-token?key=x")
			assert.Equal(t, "https://api.example/moved/link-token", apiErr.Location)
			assert.Equal(t, "redirect not followed", apiErr.Reason)
		})
	}
	t.Run("400 keeps no Location", func(t *testing.T) {
		t.Parallel()
		assert.Empty(t, apiErrorOf(t, 400, `{}`, "Location", "/moved").Location)
	})
	t.Run("an answer without a body has no Body and no Problems", func(t *testing.T) {
		t.Parallel()
		apiErr := apiErrorOf(t, 503, "")
		assert.Nil(t, apiErr.Body)
		assert.Nil(t, apiErr.Problems)
	})
}

// TestErrorBody: a JSON error body is kept re-encoded compactly, in its
// order, its strings decoded and cleaned; any other body is kept as cleaned
// text, its JSON-style escapes decoded; either is cut at 64 KiB.
func TestErrorBody(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("s", 64<<10-len(`{"detail":""`))
	cases := []struct {
		name, body, want string
	}{
		{"JSON is re-encoded compactly, in its order",
			`{ "detail" : "x",  "n": [1, -2.5e3, true, false, null, {"k": "v"}, []], "e": {} }`,
			`{"detail":"x","n":[1,-2.5e3,true,false,null,{"k":"v"},[]],"e":{}}`},
		{"JSON escapes are decoded, HTML is left alone",
			`{"detail":"a\"b \u0041 \/ <tag> & \\"}`,
			`{"detail":"a\"b A / <tag> & \\"}`},
		{"a JSON string alone", ` "just text" `, `"just text"`},
		{"two JSON values are text", `{} {}`, `{} {}`},
		{"JSON nested 64 deep is re-encoded",
			strings.Repeat("[ ", 64) + strings.Repeat("]", 64),
			strings.Repeat("[", 64) + strings.Repeat("]", 64)},
		{"JSON nested 65 deep is text",
			strings.Repeat("[ ", 65) + strings.Repeat("]", 65),
			strings.Repeat("[ ", 65) + strings.Repeat("]", 65)},
		{"text ending in a backslash", `upstream failed \`, `upstream failed \`},
		{"text that is not JSON keeps its JSON escapes", `<p>caf\u00e9`, `<p>caf\u00e9`},
		{"text that is not JSON keeps its surrogate escapes", `<p>\ud83d\ude00 and \ud83d alone`, `<p>\ud83d\ude00 and \ud83d alone`},
		{"text that is not JSON has its HTML references decoded", `<p>caf&eacute; &#x1F600;`, "<p>café \U0001F600"},
		{"a re-encoded body that reaches 64 KiB and goes on is cut", manyStrings(70 << 10), manyStrings(70 << 10)[:64<<10-len("…")] + "…"},
		{"a re-encoded body of exactly 64 KiB is kept", manyStrings(64 << 10), manyStrings(64 << 10)},
		{"a re-encoded body whose last string ends at 64 KiB, before its closing brackets, is cut", manyStrings(64<<10 + 2), manyStrings(64<<10 + 2)[:64<<10-len("…")] + "…"},
		{"each string is cut to 4 KiB", `{"detail":"` + long + `"}`, `{"detail":"` + long[:4<<10-len("…")] + `…"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			apiErr := apiErrorOf(t, 400, tc.body)
			assert.Equal(t, tc.want, string(apiErr.Body))
			assert.LessOrEqual(t, len(apiErr.Body), 64<<10)
		})
	}
}

// TestErrorBodyReadsAStringOnlyAsFarAsTheBoundLeaves: near the end of the
// 64 KiB bound of a JSON error body, a string is read only as far as what
// is left of it, not its own 4 KiB: of 9000 bytes of percent escapes with
// 3000 bytes left, no more than 3000 (and a guard, which is dropped again)
// are decoded, which shows at most 1000 letters.
func TestErrorBodyReadsAStringOnlyAsFarAsTheBoundLeaves(t *testing.T) {
	t.Parallel()
	const left = 3000
	head := manyStrings(64<<10 - left + len(`]}`) - len(`,`))
	head = head[:len(head)-len(`]}`)] + `,`
	require.Len(t, head, 64<<10-left, "the body up to the string, as re-encoded")
	body := head + `"` + strings.Repeat("%41", 3*left) + `","after"]}`

	apiErr := apiErrorOf(t, 400, body)
	require.True(t, strings.HasPrefix(string(apiErr.Body), head+`"`), "the body up to the string is kept as it is")
	shown, _, ok := strings.Cut(string(apiErr.Body)[len(head)+1:], `"`)
	require.True(t, ok, "the string ends within the bound: %q", string(apiErr.Body)[len(head):])
	assert.LessOrEqual(t, len(strings.TrimSuffix(shown, "…")), left/3,
		"the string must be read only as far as the %d bytes left of the body's bound, not up to 4 KiB", left)
	assert.True(t, strings.HasSuffix(shown, "A…"), "the string is decoded, then cut and marked: %q", shown)
	assert.True(t, strings.HasSuffix(string(apiErr.Body), `,"after"]}`), "what follows fits, and is kept")
}

// manyStrings is a compact JSON object of n bytes whose strings are at most
// 4 KiB: {"d":["zz…","zz…",…]}.
func manyStrings(n int) string {
	var b strings.Builder
	b.WriteString(`{"d":[`)
	for b.Len()+len(`"",""]}`)+4000 < n {
		b.WriteString(`"` + strings.Repeat("z", 4000) + `",`)
	}
	b.WriteString(`"` + strings.Repeat("z", n-b.Len()-len(`""]}`)) + `"]}`)
	return b.String()
}

// TestErrorLine: Error lists problems until the line passes 4 KiB, then
// counts the rest.
func TestErrorLine(t *testing.T) {
	t.Parallel()
	const prefix = "client: 400 Bad Request: "
	problems := func(first int) []client.Problem {
		return []client.Problem{{Detail: strings.Repeat("d", first)}, {Field: "f", Detail: "second"}, {Title: "t", Detail: "third"}}
	}
	// The first problem ends the line at exactly 4 KiB: the next is listed.
	fits := 4<<10 - len(prefix)
	err := &client.APIError{StatusCode: 400, Problems: problems(fits)}
	assert.Equal(t, prefix+strings.Repeat("d", fits)+"; f: second; and 1 more", err.Error())
	err = &client.APIError{StatusCode: 400, Problems: problems(fits + 1)}
	assert.Equal(t, prefix+strings.Repeat("d", fits+1)+"; and 2 more", err.Error())

	err = &client.APIError{StatusCode: 502, RequestID: "r1", Attempts: 1, Problems: []client.Problem{{Title: "t"}, {Title: "t", Detail: "d"}}}
	assert.Equal(t, "client: 502 Bad Gateway (request id r1): t; t: d", err.Error(), "one attempt is not counted")
}

// TestAPIErrorLogValue: the logged fields; retry_after only when the server
// asked for a wait.
func TestAPIErrorLogValue(t *testing.T) {
	t.Parallel()
	keys := func(e *client.APIError) []string {
		var out []string
		for _, a := range e.LogValue().Group() {
			out = append(out, a.Key)
		}
		return out
	}
	assert.Equal(t, []string{"error", "status", "attempts"}, keys(&client.APIError{StatusCode: 503}))
	assert.Equal(t, []string{"error", "status", "attempts", "request_id", "retry_after"},
		keys(&client.APIError{StatusCode: 429, RequestID: "r", RetryAfter: time.Second}))
}

// TestShownTextIsCutOnARuneBoundary: a server string of 1 KiB is kept
// whole; a longer one is cut to at most 1 KiB, on a rune boundary, and
// marked.
func TestShownTextIsCutOnARuneBoundary(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, id, want string }{
		{"exactly 1 KiB", strings.Repeat("r", 1024), strings.Repeat("r", 1024)},
		{"1 KiB and a byte", strings.Repeat("r", 1025), strings.Repeat("r", 1021) + "…"},
		{"two-byte runes", strings.Repeat("ö", 600), strings.Repeat("ö", 510) + "…"},
		{"three-byte runes", strings.Repeat("€", 400), strings.Repeat("€", 340) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			apiErr := apiErrorOf(t, 400, `{}`, "X-Request-Id", tc.id)
			assert.Equal(t, tc.want, apiErr.RequestID)
			assert.True(t, utf8.ValidString(apiErr.RequestID))
			assert.LessOrEqual(t, len(apiErr.RequestID), 1024)
		})
	}
}

// TestProblemsAreBounded: at most 20 problems, whichever forms they come in.
func TestProblemsAreBounded(t *testing.T) {
	t.Parallel()
	var list []string
	for i := range 25 {
		list = append(list, fmt.Sprintf(`{"title":"t","detail":"e%d","problem_type":"P","source":{"pointer":"/f"}}`, i))
	}
	apiErr := apiErrorOf(t, 400, `{"detail":"d","errors":[`+strings.Join(list, ",")+`],"field":["m"]}`)
	require.Len(t, apiErr.Problems, 20)
	assert.Equal(t, client.Problem{Detail: "d"}, apiErr.Problems[0])
	assert.Equal(t, "e18", apiErr.Problems[19].Detail)
}

// TestTransportErrorLine: a failure where no response arrived says how many
// attempts were made only when there were several.
func TestTransportErrorLine(t *testing.T) {
	t.Parallel()
	c, err := client.New(testKey, client.WithBaseURL("https://api.example"),
		client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("boom")
		})}))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	assert.EqualError(t, err, `client: create link token: Post "https://api.example/link-token": boom`)
}

// TestScrubbing: the key and the email are replaced whole, in any case
// under Unicode simple folding, the longer first, and nothing else is.
func TestScrubbing(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, key, email, text, want string }{
		{"case swapped at the ends of the alphabet", "AZaz-key-09", "ada@example.com",
			"key azAZ-KEY-09 and AZAZ-KEY-09", "key [redacted] and [redacted]"},
		{"the Kelvin sign folds to k", "kelvin-key", "ada@example.com", "key \u212Aelvin-\u212Aey", "key [redacted]"},
		{"s folds to the long s of the email", "sk-key", "\u017Fam@example.com", "user sam@example.com and SAM@EXAMPLE.COM",
			"user [redacted] and [redacted]"},
		{"a key inside the email: the email goes first", "lovelace", "ada.lovelace@example.com",
			"user ada.lovelace@example.com, key lovelace", "user [redacted], key [redacted]"},
		{"a text ending in the start of the email keeps it", "sk-key", "ada@example.co\xff",
			"no such user: ada@example.co", "no such user: ada@example.co"},
		{"non-ASCII text next to ASCII secrets", "sk-key", "ada@example.com", "ünïcödé ada@exämple.com", "ünïcödé ada@exämple.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, client.CleanText(tc.key, tc.email, tc.text))
		})
	}
}

// TestDefaultBackoffIsJittered: with the default random source, the wait
// before a retry is random in [0, 250ms), not zero.
func TestDefaultBackoffIsJittered(t *testing.T) {
	t.Parallel()
	var logs syncWriter
	var buf strings.Builder
	logs.w = &buf
	n := 0
	c, err := client.New(testKey, client.WithBaseURL("https://api.example"),
		client.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n++
			if n == 1 {
				return &http.Response{StatusCode: 503, Header: http.Header{}, Body: bodyOf(`{}`), Request: r}, nil
			}
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: bodyOf(okBody), Request: r}, nil
		})}))
	require.NoError(t, err)
	_, err = c.CreateLinkToken(context.Background(), validRequest())
	require.NoError(t, err)
	var wait time.Duration
	for _, f := range strings.Fields(buf.String()) {
		if v, ok := strings.CutPrefix(f, "wait="); ok {
			wait, err = time.ParseDuration(v)
			require.NoError(t, err)
		}
	}
	assert.Greater(t, wait, time.Duration(0), buf.String())
	assert.Less(t, wait, 250*time.Millisecond)
}

// TestCanceledDuringAZeroWait: a context canceled before a wait of zero
// (Retry-After: 0) stops the call; no attempt follows.
func TestCanceledDuringAZeroWait(t *testing.T) {
	t.Parallel()
	for i := range 40 {
		ctx, cancel := context.WithCancel(context.Background())
		trips := 0
		c, err := client.New(testKey, client.WithBaseURL("https://api.example"),
			client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				trips++
				cancel()
				return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"0"}}, Body: bodyOf(`{}`), Request: r}, nil
			})}))
		require.NoError(t, err)
		_, err = c.CreateLinkToken(ctx, validRequest())
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, client.ErrServerError)
		require.Equal(t, 1, trips, "call %d", i)
	}
}
