package contracttest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
)

func TestTransport(t *testing.T) {
	t.Parallel()
	good := httptest.NewServer(newMock(t))
	t.Cleanup(good.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"integration_name":"Lever"}`) // no link_token
	}))
	t.Cleanup(broken.Close)

	cases := []struct {
		name    string
		server  string
		body    string
		record  bool
		wantErr string // "" means success
		records []string
	}{
		{"valid exchange", good.URL, minimalBody, false, "", nil},
		{"request breaks the spec", good.URL, `{"categories":[]}`, false, "request breaks the spec", nil},
		{"response breaks the spec", broken.URL, minimalBody, false, "response breaks the spec: /link_token", nil},
		{"recording, request", good.URL, `{"categories":[]}`, true, "", []string{"request"}},
		{"recording, response", broken.URL, minimalBody, true, "", []string{"response"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &contracttest.Recorder{}
			v, err := contracttest.NewValidator()
			require.NoError(t, err)
			opts := []contracttest.Option{contracttest.WithValidator(v)}
			if tc.record {
				opts = append(opts, contracttest.RecordTo(rec))
			}
			hc := &http.Client{Transport: contracttest.NewTransport(nil, opts...)}
			req, err := http.NewRequest(http.MethodPost, tc.server+"/link-token", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key")
			resp, err := hc.Do(req)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				var ce *contracttest.ContractError
				require.ErrorAs(t, err, &ce)
				assert.ErrorIs(t, err, client.ErrContractBroken, "a service branches on it as on the client's own")
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.NotEmpty(t, body, "the response body reaches the caller")
			var sides []string
			for _, ce := range rec.Violations() {
				sides = append(sides, ce.Side)
			}
			assert.Equal(t, tc.records, sides)
		})
	}
}

// TestTransportUnderTheClient is how a downstream service uses it: the
// wrapper's requests and the mock's responses are checked on every call.
func TestTransportUnderTheClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	c, err := client.New("key",
		client.WithBaseURL(srv.URL),
		client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(http.DefaultTransport)}))
	require.NoError(t, err)
	tok, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress: "ada@example.com", EndUserOrganizationName: "Acme", EndUserOriginID: "42",
		Categories: []client.Category{client.CategoryATS}, Integration: "greenhouse",
	})
	require.NoError(t, err)
	assert.NotEmpty(t, tok.LinkToken)
	assert.Equal(t, "Greenhouse", tok.IntegrationName)
	assert.Empty(t, tok.MagicLinkURL)
}

func TestTransportDoesNotModifyTheRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/link-token", io.NopCloser(strings.NewReader(minimalBody)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key")
	headers := req.Header.Clone()
	resp, err := contracttest.NewTransport(nil).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, headers, req.Header)
}

// closeRecorder is a request body that records how much was read of it
// and whether it was closed.
type closeRecorder struct {
	r      io.Reader
	read   int
	closed bool
}

func (c *closeRecorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestTransportClosesTheRequestBody: like every http.RoundTripper, the
// transport closes the caller's request body, whether the request is sent,
// refused for breaking the spec, or fails.
func TestTransportClosesTheRequestBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	cases := []struct {
		name, url, body string
		wantErr         bool
	}{
		{"sent", srv.URL, minimalBody, false},
		{"refused for breaking the spec", srv.URL, `{"categories":[]}`, true},
		{"refused for exceeding 1 MiB, unread past it", srv.URL, `{"categories":["` + strings.Repeat("x", 1<<20) + `"]}`, true},
		{"connection refused", gone.URL, minimalBody, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := &closeRecorder{r: strings.NewReader(tc.body)}
			req, err := http.NewRequest(http.MethodPost, tc.url+"/link-token", body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key")
			resp, err := contracttest.NewTransport(nil).RoundTrip(req)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				resp.Body.Close()
			}
			assert.True(t, body.closed, "the caller's body was closed")
			assert.LessOrEqual(t, body.read, 1<<20+1, "read no further than the bound")
			assert.Same(t, body, req.Body, "the caller's request is not modified")
		})
	}
}

// TestTransportRefusesARequestWithoutBody: a request without a body breaks
// the spec (the body is required) and is refused, with nothing to close.
func TestTransportRefusesARequestWithoutBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	for _, body := range []io.Reader{nil, http.NoBody} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/link-token", body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer key")
		req.Header.Set("Content-Type", "application/json")
		_, err = contracttest.NewTransport(nil).RoundTrip(req)
		var ce *contracttest.ContractError
		require.ErrorAs(t, err, &ce, "%T", body)
		assert.Equal(t, "request", ce.Side)
		require.Len(t, ce.Violations, 1)
		assert.Equal(t, "a request body is required", ce.Violations[0].Message)
	}
}
