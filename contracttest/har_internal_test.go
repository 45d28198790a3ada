package contracttest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHARBodyBound: a HAR keeps bodies up to maxHARBodyBytes, both bodies
// of an exchange counted, the bound itself included; past it, an exchange
// is recorded without its bodies, and only kept bodies count toward it.
// (Filling 64 MiB through a transport would take 64 exchanges of 1 MiB; the
// archive starts near its bound instead.)
func TestHARBodyBound(t *testing.T) {
	t.Parallel()
	type exchange struct {
		req, resp string
		kept      bool
	}
	cases := []struct {
		name  string
		start int // bytes of bodies the HAR holds already
		sends []exchange
	}{
		{"reaching the bound exactly is kept", maxHARBodyBytes - 10, []exchange{{"aaaaa", "bbbbb", true}}},
		{"one byte over it, request and response together, is not", maxHARBodyBytes - 9, []exchange{{"aaaaa", "bbbbb", false}}},
		{"one byte over it by the request alone is not", maxHARBodyBytes - 5, []exchange{{"aaaaaa", "", false}}},
		{"one byte over it by the response alone is not", maxHARBodyBytes - 5, []exchange{{"", "bbbbbb", false}}},
		{"kept bodies count toward it", maxHARBodyBytes - 20, []exchange{{"aaaaa", "bbbbb", true}, {"aaaaa", "bbbbbb", false}, {"aaaaa", "bbbbb", true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &HAR{bodyBytes: tc.start}
			omitted := 0
			for i, x := range tc.sends {
				req := &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "http", Host: "in-memory", Path: "/p"}, Header: http.Header{}}
				resp := &http.Response{StatusCode: 200, Header: http.Header{}}
				h.record(harExchange{start: time.Now(), req: req, reqBody: []byte(x.req), resp: resp, respBody: []byte(x.resp)})
				require.Len(t, h.entries, i+1)
				e := h.entries[i]
				if !x.kept {
					omitted++
				}
				if x.kept {
					assert.Equal(t, x.resp, e.Response.Content.Text, "exchange %d: bodies within the bound are kept", i)
					assert.Empty(t, e.Response.Content.Comment, "exchange %d", i)
					if x.req != "" {
						assert.Equal(t, x.req, e.Request.PostData.Text, "exchange %d: bodies within the bound are kept", i)
					}
				} else {
					assert.Empty(t, e.Response.Content.Text, "exchange %d: bodies past the bound (%d bytes of bodies) are not kept", i, maxHARBodyBytes)
					assert.Contains(t, e.Response.Content.Comment, "the archive holds", "exchange %d: a body not kept says why", i)
					if x.req != "" {
						assert.Empty(t, e.Request.PostData.Text, "exchange %d: bodies past the bound are not kept", i)
					}
				}
			}
			assert.Equal(t, omitted, h.bodiesOmitted, "every exchange recorded without its bodies is counted")
		})
	}
}
