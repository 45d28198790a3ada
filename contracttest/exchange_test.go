package contracttest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/client/webhook"
	"github.com/mergelink/linktoken/contracttest"
)

// TestPublicTokenVerdictsAgree: the client's pre-flight rule for a public
// token gives the Validator's verdict (kin-openapi on the spec's path
// parameter) on thousands of generated tokens: printable ASCII and not,
// every character that would change a path, lengths around the bound, the
// dot segments.
func TestPublicTokenVerdictsAgree(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	sent := false
	c, err := client.New("key", client.WithBaseURL("https://api.example"), client.WithMaxRetries(0),
		client.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent = true
			return &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
		})}))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []rune(`aZ09-_.~!"$&'()*+,;=:@[]^{|}` + "`\\<>/?#% \t\x00\x7fé€\U0001F600")
	tokens := []string{"", ".", "..", "...", strings.Repeat("p", 255), strings.Repeat("p", 256), strings.Repeat("p", 257), strings.Repeat("é", 100)}
	for range 3000 {
		n := rng.IntN(12)
		if rng.IntN(20) == 0 {
			n = 250 + rng.IntN(10)
		}
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		tokens = append(tokens, b.String())
	}
	for _, tok := range tokens {
		sent = false
		_, err := c.ExchangePublicToken(context.Background(), tok)
		var verr *client.ValidationError
		clientRefuses := errors.As(err, &verr)
		require.Equal(t, !clientRefuses, sent, "%q: the client sends exactly what it does not refuse", tok)
		if strings.Contains(tok, "/") {
			// Another path altogether: the client refuses it, the spec has
			// no such operation.
			require.True(t, clientRefuses, "%q", tok)
			continue
		}

		req := httptest.NewRequest(http.MethodGet, "http://mock/account-token/x", nil)
		req.URL.Path = "/account-token/" + tok
		req.URL.RawPath = ""
		req.Header.Set("Authorization", "Bearer key")
		kinRefuses := v.ValidateRequest(req) != nil
		require.Equal(t, kinRefuses, clientRefuses, "%q: the client refuses exactly what the spec refuses (client: %v)", tok, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// linkFlow is a mock, its server and a client of it.
type linkFlow struct {
	mock *contracttest.Mock
	srv  *httptest.Server
	c    *client.Client
}

func newLinkFlow(t *testing.T, opts ...contracttest.Option) *linkFlow {
	t.Helper()
	m, err := contracttest.NewMock(append([]contracttest.Option{contracttest.WithCoverage(suiteCoverage)}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	c, err := client.New("sk-flow-test-0123", client.WithBaseURL(srv.URL), client.WithHTTPClient(&http.Client{Transport: contracttest.NewTransport(nil)}))
	require.NoError(t, err)
	return &linkFlow{m, srv, c}
}

func (f *linkFlow) linkToken(t *testing.T, mins int) string {
	t.Helper()
	req := ada()
	req.LinkExpiryMins = mins
	tok, err := f.c.CreateLinkToken(context.Background(), req)
	require.NoError(t, err)
	return tok.LinkToken
}

// TestMockPlaysTheLinkFlow: a link token the mock issued is completed once
// into a public token, which is exchanged once; unknown, expired and
// reused tokens get their errors.
func TestMockPlaysTheLinkFlow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newLinkFlow(t, contracttest.WithClock(clock))
	ctx := context.Background()

	lt := f.linkToken(t, 60)
	public, err := f.mock.CompleteLink(lt)
	require.NoError(t, err)
	_, err = f.mock.CompleteLink(lt)
	assert.ErrorIs(t, err, contracttest.ErrLinkCompleted, "a link token is completed once")
	acct, err := f.c.ExchangePublicToken(ctx, public)
	require.NoError(t, err)
	assert.NotEmpty(t, acct.AccountToken)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, acct.ID)
	var apiErr *client.APIError
	_, err = f.c.ExchangePublicToken(ctx, public)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode, "a public token is exchanged once")

	_, err = f.c.ExchangePublicToken(ctx, "never-issued")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	_, err = f.mock.CompleteLink("never-issued")
	assert.ErrorIs(t, err, contracttest.ErrUnknownLinkToken)

	expiring := f.linkToken(t, 30)
	advance(31 * time.Minute)
	_, err = f.mock.CompleteLink(expiring)
	assert.ErrorIs(t, err, contracttest.ErrLinkTokenExpired, "after link_expiry_mins")

	stale := f.linkToken(t, 60)
	public, err = f.mock.CompleteLink(stale)
	require.NoError(t, err)
	advance(31 * time.Minute)
	_, err = f.c.ExchangePublicToken(ctx, public)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode, "a public token expires")
}

// webhookReceiver serves webhook.Handler with key, for the test's
// duration, and passes each event it verifies to the channel.
func webhookReceiver(t *testing.T, key string) (string, <-chan *webhook.Event) {
	t.Helper()
	got := make(chan *webhook.Event, 1)
	receiver := httptest.NewServer(webhook.Handler(func(_ context.Context, e *webhook.Event) error {
		got <- e
		return nil
	}, key))
	t.Cleanup(receiver.Close)
	return receiver.URL, got
}

// TestMockDeliversTheSignedWebhook: with WithWebhook, completing a link
// POSTs the linked-account webhook, signed as Merge signs it, describing
// the end user of the link token.
func TestMockDeliversTheSignedWebhook(t *testing.T) {
	t.Parallel()
	const key = "whsec-test"
	hookURL, got := webhookReceiver(t, key)
	f := newLinkFlow(t, contracttest.WithWebhook(hookURL, key))
	public, err := f.mock.CompleteLink(f.linkToken(t, 0))
	require.NoError(t, err)
	e := <-got
	assert.True(t, webhook.SameEvent(webhook.EventLinked, e.Hook.Event))
	assert.Equal(t, "ada@example.com", e.LinkedAccount.EndUserEmailAddress)
	assert.Equal(t, "42", e.LinkedAccount.EndUserOriginID)
	assert.Equal(t, "hris", e.LinkedAccount.Category)
	acct, err := f.c.ExchangePublicToken(context.Background(), public)
	require.NoError(t, err)
	assert.Equal(t, acct.ID, e.LinkedAccount.ID, "the webhook names the linked account the exchange returns")

	// A receiver that refuses (a wrong key) is an error of CompleteLink.
	f2 := newLinkFlow(t, contracttest.WithWebhook(hookURL, "another-key"))
	_, err = f2.mock.CompleteLink(f2.linkToken(t, 0))
	assert.ErrorContains(t, err, "answered 401")
}

// TestMockLinkFlowOverHTTP: the flow from any language, against the mock
// served over HTTP: POST /_mock/complete-link stands in for the end user.
func TestMockLinkFlowOverHTTP(t *testing.T) {
	t.Parallel()
	f := newLinkFlow(t)
	post := func(body string) (int, map[string]string) {
		resp, err := http.Post(f.srv.URL+"/_mock/complete-link", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	lt := f.linkToken(t, 0)
	status, out := post(`{"link_token":"` + lt + `"}`)
	require.Equal(t, 200, status)
	require.NotEmpty(t, out["public_token"])
	status, _ = post(`{"link_token":"` + lt + `"}`)
	assert.Equal(t, 409, status)
	status, _ = post(`{"link_token":"nope"}`)
	assert.Equal(t, 404, status)
	status, _ = post(`{}`)
	assert.Equal(t, 400, status)

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/account-token/"+url.PathEscape(out["public_token"]), nil)
	req.Header.Set("Authorization", "Bearer any")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

// TestMockLinkFlowConcurrently: 100 goroutines run the whole flow at once
// against one mock; none loses its account.
func TestMockLinkFlowConcurrently(t *testing.T) {
	t.Parallel()
	f := newLinkFlow(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			req := ada()
			req.EndUserOriginID = fmt.Sprint(i)
			lt, err := f.c.CreateLinkToken(ctx, req)
			if err != nil {
				errs <- err
				return
			}
			public, err := f.mock.CompleteLink(lt.LinkToken)
			if err != nil {
				errs <- err
				return
			}
			acct, err := f.c.ExchangePublicToken(ctx, public)
			if err == nil && acct.AccountToken == "" {
				err = errors.New("no account token")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestMockScriptsTheExchange: a script plays the exchange's documented
// error statuses, as it does the link token's.
func TestMockScriptsTheExchange(t *testing.T) {
	t.Parallel()
	const path = "/account-token/{public_token}"
	f := newLinkFlow(t, contracttest.WithScript(
		contracttest.Step{Path: path, Status: 403},
		contracttest.Step{Path: path, Status: 429, RetryAfter: "0"},
		contracttest.Step{Path: path, Status: 503},
	))
	var apiErr *client.APIError
	_, err := f.c.ExchangePublicToken(context.Background(), "pt-1", client.WithMaxRetries(0))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 403, apiErr.StatusCode)
	_, err = f.c.ExchangePublicToken(context.Background(), "pt-1", client.WithMaxRetries(0))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 429, apiErr.StatusCode)
	_, err = f.c.ExchangePublicToken(context.Background(), "pt-1", client.WithMaxRetries(0))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	_, err = contracttest.NewMock(contracttest.WithScript(contracttest.Step{Path: path, Status: 409}))
	assert.ErrorContains(t, err, "status 409 is not documented for GET /account-token/{public_token}")
}

// TestMockLinksTheRequestedIntegration: the linked account, in the exchange's
// answer and in the webhook, is of the integration the link token asked
// for, else of its first category's usual one.
func TestMockLinksTheRequestedIntegration(t *testing.T) {
	t.Parallel()
	const key = "whsec-integration"
	cases := []struct {
		name        string
		integration string
		categories  []client.Category
		wantSlug    string
	}{
		{"the requested integration, not the category's", "greenhouse", []client.Category{client.CategoryHRIS}, "greenhouse"},
		{"the first category's usual one", "", []client.Category{client.CategoryATS, client.CategoryHRIS}, "greenhouse"},
		{"another first category", "", []client.Category{client.CategoryHRIS, client.CategoryATS}, "bamboohr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hookURL, got := webhookReceiver(t, key)
			f := newLinkFlow(t, contracttest.WithWebhook(hookURL, key))
			req := ada()
			req.Integration, req.Categories = tc.integration, tc.categories
			lt, err := f.c.CreateLinkToken(context.Background(), req)
			require.NoError(t, err)
			public, err := f.mock.CompleteLink(lt.LinkToken)
			require.NoError(t, err)
			acct, err := f.c.ExchangePublicToken(context.Background(), public)
			require.NoError(t, err)
			assert.Equal(t, tc.wantSlug, acct.Integration.Slug,
				"the exchange links the request's integration, else the usual one of its first category (defaultIntegrations)")
			e := <-got
			assert.Equal(t, tc.wantSlug, e.LinkedAccount.IntegrationSlug, "the webhook names the same integration")
			assert.Equal(t, string(tc.categories[0]), e.LinkedAccount.Category, "the webhook's category is the request's first")
		})
	}
}

// TestMockWebhookDeliveryStatuses: CompleteLink succeeds when the receiver
// answers any 2xx, and fails, naming the status, on anything else.
func TestMockWebhookDeliveryStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		ok     bool
	}{
		{"200, the first success", 200, true},
		{"204", 204, true},
		{"299, the last success", 299, true},
		{"300, the first after the successes", 300, false},
		{"500", 500, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(receiver.Close)
			f := newLinkFlow(t, contracttest.WithWebhook(receiver.URL, "whsec-statuses"))
			_, err := f.mock.CompleteLink(f.linkToken(t, 0))
			if tc.ok {
				assert.NoError(t, err, "a 2xx (200-299) from the receiver is a delivery")
			} else {
				assert.ErrorContains(t, err, fmt.Sprintf("answered %d", tc.status), "only a 2xx (200-299) is a delivery")
			}
		})
	}
}
