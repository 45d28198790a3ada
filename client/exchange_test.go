package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/h2test"
)

// The secrets of the exchange's hostile cases.
const (
	hPublic  = "pt_Zq8v-Xw3RtY9pLm2NpUbLiC"
	hAccount = "at_SECRET_7c6b5a4d3e2f"
)

const accountBody = `{"account_token":"` + hAccount + `","id":"acc-1","integration":{"name":"BambooHR","slug":"bamboohr","categories":["hris"]}}`

// exchangeWith calls ExchangePublicToken with hPublic against a server
// whose handler is h, and returns the result, the error, how many requests
// the server read and the log.
func exchangeWith(t *testing.T, h http.HandlerFunc, opts ...client.Option) (tok *client.AccountToken, n int, logs string, err error) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	var sink syncWriter
	var buf strings.Builder
	sink.w = &buf
	var clock recorder
	c, cerr := client.New(hKey, append([]client.Option{client.WithBaseURL(srv.URL), clock.option(),
		client.WithLogger(slog.New(slog.NewTextHandler(&sink, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)...)
	require.NoError(t, cerr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	tok, err = c.ExchangePublicToken(ctx, hPublic)
	return tok, int(requests.Load()), buf.String(), err
}

// TestExchangePublicToken: the request the generated client builds (GET to
// <base>/account-token/<token>, the key, no body), and the decoded account.
func TestExchangePublicToken(t *testing.T) {
	t.Parallel()
	var got *http.Request
	tok, n, _, err := exchangeWith(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		writeJSON(w, 200, accountBody)
	})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/account-token/"+hPublic, got.URL.Path)
	assert.Equal(t, "Bearer "+hKey, got.Header.Get("Authorization"))
	assert.Zero(t, got.ContentLength, "a GET without a body")
	assert.Empty(t, got.TransferEncoding, "no chunked body either")
	assert.Equal(t, hAccount, tok.AccountToken)
	assert.Equal(t, "acc-1", tok.ID)
	assert.Equal(t, "BambooHR", tok.Integration.Name)
	assert.Equal(t, []client.Category{client.CategoryHRIS}, tok.Integration.Categories)
}

// TestExchangeRefusesBadPublicTokens: a public token that is empty, over
// 256 bytes, or holds what would change the URL's path (/, ?, #, %, space,
// control characters, a dot segment) or is not ASCII is refused before
// sending, and the error never shows it.
func TestExchangeRefusesBadPublicTokens(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	c, err := client.New(testKey, client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	for _, tc := range []struct{ name, token, rule string }{
		{"empty", "", "minLength"},
		{"257 bytes", strings.Repeat("p", 257), "maxLength"},
		{"a slash", "pt/../../link-token", "pattern"},
		{"a slash alone: one character is checked too", "/", "pattern"},
		{"a space alone", " ", "pattern"},
		{"a question mark", "pt?x=1", "pattern"},
		{"a hash", "pt#frag", "pattern"},
		{"a percent", "pt%2F", "pattern"},
		{"a space", "pt x", "pattern"},
		{"a tab", "pt\tx", "pattern"},
		{"a NUL", "pt\x00x", "pattern"},
		{"DEL", "pt\x7fx", "pattern"},
		{"not ASCII", "ptö", "pattern"},
		{"a dot segment", ".", "not"},
		{"two dots", "..", "not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.ExchangePublicToken(context.Background(), tc.token)
			var verr *client.ValidationError
			require.ErrorAs(t, err, &verr, "the token breaks the %s rule (whatever its length): it must be refused before sending", tc.rule)
			require.NotEmpty(t, verr.Violations)
			assert.Equal(t, tc.rule, verr.Violations[len(verr.Violations)-1].Rule)
			assert.Equal(t, "path", verr.Violations[0].In)
			if len(tc.token) > 2 {
				assert.NotContains(t, err.Error(), tc.token, "the public token is a credential")
			}
		})
	}
	assert.Zero(t, n.Load(), "nothing was sent")

	// What the pattern admits is sent, and reaches the path as it is.
	var paths []string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.EscapedPath())
		writeJSON(w, 404, `{"detail":"Not found."}`)
	}))
	t.Cleanup(ok.Close)
	c, err = client.New(testKey, client.WithBaseURL(ok.URL))
	require.NoError(t, err)
	for _, token := range []string{"p", strings.Repeat("p", 256), "AjBfL9bWx3JYf6JsXDIwAjM-yS_2x9sOBBTR7KbDtrGS", "...", "a.b"} {
		_, err := c.ExchangePublicToken(context.Background(), token)
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr, "%q is valid and sent", token)
		assert.Equal(t, 404, apiErr.StatusCode)
	}
	assert.Equal(t, []string{"/account-token/p", "/account-token/" + strings.Repeat("p", 256),
		"/account-token/AjBfL9bWx3JYf6JsXDIwAjM-yS_2x9sOBBTR7KbDtrGS", "/account-token/...", "/account-token/a.b"}, paths)
}

// TestExchangeSecretsNeverShow: a server that echoes the public token (raw,
// percent-encoded, re-cased, in a header, in a Location) or answers a
// broken 200 holding the account token: neither shows in the error, any
// verb of it, or the log; the log names the spec's path, never the real
// one.
func TestExchangeSecretsNeverShow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		status  int
	}{
		{"public token echoed in a 404", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 404, `{"detail":"no public token `+hPublic+` nor `+strings.ToUpper(hPublic)+`"}`)
		}, 404},
		{"public token percent-encoded twice and as HTML references", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, `{"detail":"`+url.PathEscape(url.PathEscape(hPublic))+` `+strings.ReplaceAll(hPublic, "-", "&#45;")+`"}`)
		}, 400},
		{"public token in the request id", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "req-"+hPublic)
			writeJSON(w, 403, `{}`)
		}, 403},
		{"public token in a redirect's Location", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://elsewhere.example/"+hPublic+"?t="+hPublic)
			w.WriteHeader(307)
		}, 307},
		{"account token in a 201", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, accountBody) }, 201},
		{"account token in a 200 that breaks the contract", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"account_token":"`+hAccount+`","integration":{"NAME":"x"}}`)
		}, 200},
		{"public token in a 500, retried", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 500, `{"detail":"lost the account of `+hPublic+`"}`)
		}, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, _, logs, err := exchangeWith(t, tc.handler)
			require.Error(t, err)
			assert.Nil(t, tok)
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			shown := []string{logs, err.Error(), string(apiErr.Body), apiErr.RequestID, apiErr.Location}
			for _, verb := range []string{"%v", "%+v", "%#v", "%q"} {
				shown = append(shown, fmt.Sprintf(verb, err))
			}
			for _, p := range apiErr.Problems {
				shown = append(shown, p.String())
			}
			for _, s := range shown {
				lower := strings.ToLower(s)
				assert.NotContains(t, lower, strings.ToLower(hPublic))
				assert.NotContains(t, lower, strings.ToLower(hAccount))
				assert.NotContains(t, lower, strings.ToLower(hKey))
			}
			assert.Contains(t, logs, "path=/account-token/{public_token}", "the log names the spec's path")
		})
	}
}

// TestAccountTokenPrintsWithoutItsToken: under every verb, as a value, a
// pointer or inside a struct, and through slog, an AccountToken shows its
// id and integration, never its account token.
func TestAccountTokenPrintsWithoutItsToken(t *testing.T) {
	t.Parallel()
	tok := client.AccountToken{AccountToken: hAccount, ID: "acc-1", Integration: client.AccountIntegration{Name: "BambooHR"}}
	type stored struct {
		Account client.AccountToken
		Ptr     *client.AccountToken
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("linked", "account", tok, "ptr", &tok)
	shown := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		shown = append(shown, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, &tok), fmt.Sprintf(verb, stored{tok, &tok}))
	}
	for _, s := range shown {
		assert.NotContains(t, s, hAccount)
		assert.NotContains(t, s, fmt.Sprintf("%x", hAccount))
	}
	assert.Contains(t, fmt.Sprint(tok), `ID: "acc-1"`)
	assert.Contains(t, logs.String(), `"integration":"BambooHR"`)
}

// TestExchangeRetries pins the exchange's retry policy: it is the
// package's (429 and 5xx, and what never reached Merge), and a 404 after a
// failed attempt says that attempt may have consumed the public token; a
// failure after the request was written is not retried.
func TestExchangeRetries(t *testing.T) {
	t.Parallel()
	t.Run("503 then 200", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		tok, requests, _, err := exchangeWith(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeJSON(w, 503, `{}`)
				return
			}
			writeJSON(w, 200, accountBody)
		})
		require.NoError(t, err)
		assert.Equal(t, hAccount, tok.AccountToken)
		assert.Equal(t, 2, requests)
	})
	t.Run("502 then 404: the first may have consumed the token", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		_, requests, _, err := exchangeWith(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeJSON(w, 502, `{}`)
				return
			}
			writeJSON(w, 404, `{"detail":"Not found."}`)
		})
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.StatusCode)
		assert.Equal(t, 2, requests)
		assert.Contains(t, apiErr.Reason, "an earlier attempt failed, and may have consumed")
	})
	t.Run("404 alone says nothing more", func(t *testing.T) {
		t.Parallel()
		_, requests, _, err := exchangeWith(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 404, `{"detail":"Not found."}`) })
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 1, requests)
		assert.Empty(t, apiErr.Reason)
	})
	t.Run("hang up after reading the request: one attempt", func(t *testing.T) {
		t.Parallel()
		_, requests, _, err := exchangeWith(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := http.NewResponseController(w).Hijack()
			_ = conn.Close()
		})
		require.Error(t, err)
		assert.Equal(t, 1, requests)
	})
}

// TestExchangeNeverSentTwiceOverHTTP2: net/http resends a request without
// a body by itself (a GET), as it would a POST with a GetBody; the
// exchange's attempts carry an empty body of their own, so every resend is
// the policy's.
func TestExchangeNeverSentTwiceOverHTTP2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		action          h2test.Action
		requests, waits int
	}{
		{"PROTOCOL_ERROR: one attempt", h2test.ResetProtocol, 1, 0},
		{"GOAWAY below the stream: the policy's retries", h2test.GoAwayBelow, 3, 2},
		{"REFUSED_STREAM: the policy's retries", h2test.RefuseStream, 3, 2},
		{"hang up: one attempt", h2test.Hangup, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := h2test.NewServer(t, accountBody, func(int) h2test.Action { return tc.action })
			var clock recorder
			c, err := client.New(testKey, client.WithBaseURL(srv.URL), clock.option(), client.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = c.ExchangePublicToken(ctx, hPublic)
			require.Error(t, err)
			assert.Equal(t, tc.requests, srv.Requests(), "whole GETs the server read (err: %v)", err)
			assert.Len(t, clock.recorded(), tc.waits)
			for _, p := range srv.Paths() {
				assert.Equal(t, "/account-token/"+hPublic, p)
			}
		})
	}
}

// TestExchangeAgainstTheMock: the flow the mock plays: a link token it
// issued, completed as the end user would, exchanged once; a second
// exchange is a 404.
func TestExchangeAgainstTheMock(t *testing.T) {
	t.Parallel()
	mock, err := contracttest.NewMock()
	require.NoError(t, err)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	c, err := client.New(testKey, client.WithBaseURL(srv.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
	require.NoError(t, err)
	ctx := context.Background()
	lt, err := c.CreateLinkToken(ctx, validRequest())
	require.NoError(t, err)
	public, err := mock.CompleteLink(lt.LinkToken)
	require.NoError(t, err)
	acct, err := c.ExchangePublicToken(ctx, public)
	require.NoError(t, err)
	assert.NotEmpty(t, acct.AccountToken)
	assert.NotEmpty(t, acct.ID)
	assert.Equal(t, "BambooHR", acct.Integration.Name)
	_, err = c.ExchangePublicToken(ctx, public)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode, "a public token is exchanged once")
}
