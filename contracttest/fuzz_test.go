package contracttest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mergelink/linktoken/contracttest"
)

// FuzzMock: any body and headers get a 200 or a 4xx from the mock, never a
// 5xx or a panic, and every answer matches the spec.
func FuzzMock(f *testing.F) {
	f.Add(minimalBody, "application/json", "Bearer k")
	f.Add(`{"categories":[]}`, "application/json", "Bearer k")
	f.Add(`{`, "application/json", "Bearer k")
	f.Add(minimalBody, "text/plain", "Bearer k")
	f.Add(minimalBody, "application/json", "")
	f.Add(`[1,2]`, "application/json; charset=utf-8", "bearer x")
	f.Add(`{"link_expiry_mins":1e308,"categories":null}`, "application/json", "Bearer k")
	v, err := contracttest.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	mock := newMock(f, contracttest.WithMockValidator(v))
	f.Fuzz(func(t *testing.T, body, contentType, auth string) {
		req := httptest.NewRequest(http.MethodPost, "http://mock/link-token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		resp := rec.Result()
		if resp.StatusCode != 200 && (resp.StatusCode < 400 || resp.StatusCode > 499) {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		check := httptest.NewRequest(http.MethodPost, "http://mock/link-token", nil)
		if err := v.ValidateResponse(check, resp); err != nil {
			t.Fatalf("the mock's answer breaks the spec: %v", err)
		}
	})
}
