package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client/webhook"
)

const (
	key  = "whsec_primary"
	old  = "whsec_previous"
	body = `{"hook":{"id":"h1","event":"LinkedAccount.linked","target":"https://svc.example/hooks"},` +
		`"linked_account":{"id":"acc-1","integration":"BambooHR","category":"hris","end_user_origin_id":"42","end_user_email_address":"ada@example.com"},` +
		`"data":{"is_initial_link":true}}`
)

// TestVerify: the signature of the raw bytes under any of the keys, with or
// without padding; nothing else.
func TestVerify(t *testing.T) {
	t.Parallel()
	sig := webhook.Sign([]byte(body), key)
	require.True(t, strings.HasSuffix(sig, "="), "Sign pads, as Base64url of 32 bytes does")
	reencoded, _ := json.Marshal(json.RawMessage(body)) // compact, same value
	var v any
	_ = json.Unmarshal([]byte(body), &v)
	reordered, _ := json.Marshal(v)
	changed := []byte(body)
	changed[len(changed)-3] ^= 1
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		keys []string
		want error
	}{
		{"the signature", []byte(body), sig, []string{key}, nil},
		{"without padding", []byte(body), strings.TrimRight(sig, "="), []string{key}, nil},
		{"surrounded by space", []byte(body), " " + sig + "\t", []string{key}, nil},
		{"the old key during a rotation", []byte(body), webhook.Sign([]byte(body), old), []string{key, old}, nil},
		{"the new key during a rotation", []byte(body), sig, []string{old, key}, nil},
		{"a signature over the re-encoded JSON", []byte(body), webhook.Sign(reordered, key), []string{key}, webhook.ErrBadSignature},
		{"one byte of the body changed", changed, sig, []string{key}, webhook.ErrBadSignature},
		{"truncated", []byte(body), sig[:20], []string{key}, webhook.ErrBadSignature},
		{"doubled", []byte(body), sig + sig, []string{key}, webhook.ErrBadSignature},
		{"another key", []byte(body), sig, []string{old}, webhook.ErrBadSignature},
		{"no signature", []byte(body), "", []string{key}, webhook.ErrNoSignature},
		{"no key", []byte(body), sig, nil, webhook.ErrNoKey},
		{"only an empty key", []byte(body), webhook.Sign([]byte(body), ""), []string{""}, webhook.ErrNoKey},
		{"not Base64", []byte(body), "!!!!", []string{key}, webhook.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.Verify(tc.body, tc.sig, tc.keys...)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
	assert.NotEqual(t, reencoded, reordered, "the re-encoded body is another byte string")
}

// TestHandler: each hostile request gets its documented status, and the
// caller's function is called only for a verified, well-formed webhook.
func TestHandler(t *testing.T) {
	t.Parallel()
	sig := webhook.Sign([]byte(body), key)
	huge := strings.Repeat("x", 10<<20)
	notJSON := "this is not JSON"
	listBody := `[{"hook":{},"linked_account":{}}]`
	noAccount := `{"hook":{"event":"LinkedAccount.linked"}}`
	for _, tc := range []struct {
		name   string
		method string
		body   string
		sig    string
		fnErr  error
		status int
		called bool
	}{
		{"a verified webhook", "POST", body, sig, nil, 204, true},
		{"the function fails: Merge retries", "POST", body, sig, errors.New("db down"), 500, true},
		{"GET", "GET", body, sig, nil, 405, false},
		{"no signature", "POST", body, "", nil, 401, false},
		{"a bad signature", "POST", body, webhook.Sign([]byte(body), old), nil, 401, false},
		{"one byte changed", "POST", strings.Replace(body, "acc-1", "acc-2", 1), sig, nil, 401, false},
		{"10 MiB", "POST", huge, webhook.Sign([]byte(huge), key), nil, 413, false},
		{"signed, not JSON", "POST", notJSON, webhook.Sign([]byte(notJSON), key), nil, 400, false},
		{"signed, a list", "POST", listBody, webhook.Sign([]byte(listBody), key), nil, 400, false},
		{"signed, no linked_account", "POST", noAccount, webhook.Sign([]byte(noAccount), key), nil, 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			called := false
			var got *webhook.Event
			h := webhook.Handler(func(_ context.Context, e *webhook.Event) error {
				called, got = true, e
				return tc.fnErr
			}, key)
			req := httptest.NewRequest(tc.method, "/hooks/merge", strings.NewReader(tc.body))
			if tc.sig != "" {
				req.Header.Set(webhook.SignatureHeader, tc.sig)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Equal(t, tc.called, called, "the function is called only for a verified webhook")
			assert.NotContains(t, rec.Body.String(), "ada@example.com", "nothing of the body is echoed")
			if tc.called {
				assert.Equal(t, "acc-1", got.LinkedAccount.ID)
				assert.True(t, webhook.SameEvent("linked_account.linked", got.Hook.Event))
				assert.JSONEq(t, `{"is_initial_link":true}`, string(got.Data))
			}
		})
	}
}

// TestHandlerBoundsASlowClient: a client that trickles its body is cut off
// by the read deadline, and the function is not called.
func TestHandlerBoundsASlowClient(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the read deadline")
	}
	t.Parallel()
	called := false
	srv := httptest.NewServer(webhook.Handler(func(context.Context, *webhook.Event) error { called = true; return nil }, key))
	t.Cleanup(srv.Close)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(body[:10]))
		time.Sleep(webhook.ReadTimeout + 2*time.Second)
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(body), key))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	}
	assert.Less(t, time.Since(start), webhook.ReadTimeout+2*time.Second, "cut off at the deadline")
	assert.False(t, called)
}

// TestSameEvent: Merge's spellings of one event are one event.
func TestSameEvent(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"LinkedAccount.linked", "linked_account.linked", "LINKEDACCOUNT.LINKED", " linked-account.linked "} {
		assert.True(t, webhook.SameEvent(webhook.EventLinked, a), a)
	}
	assert.False(t, webhook.SameEvent(webhook.EventLinked, "LinkedAccount.synced"))
}
