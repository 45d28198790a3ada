package peerbench

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/mergelink/linktoken/internal/benchdata"
	"github.com/mergelink/linktoken/openapi"
)

func newPeer(t testing.TB) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.Spec())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return v
}

// exchange validates one request and its response with the peer and
// reports its verdict.
func exchange(v validator.Validator, body []byte) (bool, string) {
	// The peer's router does not resolve the servers' {category} variable,
	// so the request is addressed to the operation's path alone.
	req, _ := http.NewRequest(http.MethodPost, "https://api.merge.dev/link-token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+benchdata.Key)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req-1"}},
		Body: io.NopCloser(strings.NewReader(benchdata.Token)), Request: req}
	ok, errs := v.ValidateHttpRequestResponse(req, resp)
	var msg []string
	for _, e := range errs {
		msg = append(msg, e.Error())
	}
	return ok, strings.Join(msg, "; ")
}

// TestPeerAcceptsTheBenchmarkExchanges: the peer does the same work as the
// Validator in the benchmark, accepting every exchange, and rejects a broken
// one (so its verdict is not vacuous).
func TestPeerAcceptsTheBenchmarkExchanges(t *testing.T) {
	v := newPeer(t)
	for _, size := range benchdata.Sizes() {
		if ok, msg := exchange(v, size.Body); !ok {
			t.Errorf("%s: the peer rejects a valid exchange: %s", size.Name, msg)
		}
	}
	if ok, _ := exchange(v, []byte(`{"categories":[]}`)); ok {
		t.Error("the peer accepts a request without the required fields")
	}
}

// BenchmarkExchange is contracttest's BenchmarkExchange for the peer: the
// same bodies, keyed the same way, so benchstat puts the three side by side.
func BenchmarkExchange(b *testing.B) {
	v := newPeer(b)
	for _, size := range benchdata.Sizes() {
		b.Run("size="+size.Name, func(b *testing.B) {
			b.Run("impl=libopenapi", func(b *testing.B) {
				if ok, msg := exchange(v, size.Body); !ok {
					b.Fatal(msg)
				}
				b.ReportAllocs()
				for b.Loop() {
					if ok, msg := exchange(v, size.Body); !ok {
						b.Fatal(msg)
					}
				}
			})
		})
	}
}
