package contracttest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mergelink/linktoken/contracttest"
)

// FuzzMock: any script step is refused by NewMock or answered without a
// panic, as the spec says unless the step is marked Undocumented; then any
// body and headers get a 200 or a 4xx, never a 5xx or a panic, and every
// answer matches the spec.
func FuzzMock(f *testing.F) {
	f.Add(minimalBody, "application/json", "Bearer k", 0, false)
	f.Add(`{"categories":[]}`, "application/json", "Bearer k", 429, false)
	f.Add(`{`, "application/json", "Bearer k", 503, false)
	f.Add(minimalBody, "text/plain", "Bearer k", 418, true)
	f.Add(minimalBody, "application/json", "", 204, true)
	f.Add(`[1,2]`, "application/json; charset=utf-8", "bearer x", 1000, false)
	f.Add(`{"link_expiry_mins":1e308,"categories":null}`, "application/json", "Bearer k", 200, false)
	v, err := contracttest.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	mock := newMock(f, contracttest.WithValidator(v))
	f.Fuzz(func(t *testing.T, body, contentType, auth string, status int, undocumented bool) {
		newRequest := func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", auth)
			return req
		}
		check := httptest.NewRequest(http.MethodPost, "http://mock/link-token", nil)

		step := contracttest.Step{Status: status, Undocumented: undocumented}
		if scripted, err := contracttest.NewMock(contracttest.WithValidator(v), contracttest.WithScript(step)); err == nil {
			rec := httptest.NewRecorder()
			scripted.ServeHTTP(rec, newRequest())
			resp := rec.Result()
			if resp.StatusCode != status && status != http.StatusOK {
				t.Fatalf("scripted %d, answered %d", status, resp.StatusCode)
			}
			if err := v.ValidateResponse(check, resp); err != nil && !undocumented {
				t.Fatalf("the scripted answer %d breaks the spec: %v", status, err)
			}
		}

		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, newRequest())
		resp := rec.Result()
		if resp.StatusCode != 200 && (resp.StatusCode < 400 || resp.StatusCode > 499) {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		if err := v.ValidateResponse(check, resp); err != nil {
			t.Fatalf("the mock's answer breaks the spec: %v", err)
		}
	})
}
