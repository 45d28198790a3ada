package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/client/webhook"
	"github.com/mergelink/linktoken/contracttest"
)

// The whole flow of a service: build the client once, create a token per
// end user, and branch on the error's kind. (The server here stands in for
// Merge; in production, leave WithBaseURL out, or pick WithRegion.)
func Example() {
	merge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"link_token":"tok_123","magic_link_url":"https://link.merge.dev/abc"}`)
	}))
	defer merge.Close()

	c, err := client.New("your-production-api-key", // os.Getenv("MERGE_API_KEY"), or client.NewFromEnv()
		client.WithRegion(client.RegionEU),
		client.WithBaseURL(merge.URL))
	if err != nil {
		fmt.Println("configuration:", err) // a bad option or an empty key: nothing was sent
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // retries included
	defer cancel()
	tok, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{
		EndUserEmailAddress:      "ada@example.com",
		EndUserOrganizationName:  "Acme",
		EndUserOriginID:          "42",
		Categories:               []client.Category{client.CategoryHRIS, client.CategoryATS},
		LinkExpiryMins:           10080, // a week: allowed with a Magic Link only
		ShouldCreateMagicLinkURL: true,
	})
	var verr *client.ValidationError
	var apiErr *client.APIError
	switch {
	case errors.As(err, &verr):
		fmt.Println("fix the request:", verr.Fields()) // nothing was sent
	case errors.As(err, &apiErr):
		fmt.Println("Merge answered", apiErr.StatusCode, "request id", apiErr.RequestID)
	case err != nil:
		fmt.Println("no answer:", err) // connection, deadline
	default:
		fmt.Println(tok.LinkToken, tok.MagicLinkURL)
	}
	// Output: tok_123 https://link.merge.dev/abc
}

// One client per region; US is the default.
func ExampleNew() {
	for _, r := range client.RegionValues() {
		c, err := client.New("your-production-api-key", client.WithRegion(r))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Region(), c.BaseURL())
	}
	// Output:
	// us https://api.merge.dev/api/mktg/v1
	// eu https://api-eu.merge.dev/api/mktg/v1
	// apac https://api-ap.merge.dev/api/mktg/v1
	// sandbox https://api-sandbox.merge.dev/api/mktg/v1
}

// One category's API, in one region: POST /link-token is the same under each.
func ExampleWithCategoryAPI() {
	c, err := client.New("your-production-api-key",
		client.WithRegion(client.RegionEU), client.WithCategoryAPI(client.CategoryHRIS))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.BaseURL())
	// Output: https://api-eu.merge.dev/api/hris/v1
}

func ExampleNewFromEnv() {
	os.Setenv("MERGE_API_KEY", "your-production-api-key")
	os.Setenv("MERGE_REGION", "EU")
	defer os.Unsetenv("MERGE_API_KEY")
	defer os.Unsetenv("MERGE_REGION")

	c, err := client.NewFromEnv()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c)
	// Output: client.Client{region: eu, baseURL: https://api-eu.merge.dev/api/mktg/v1, maxRetries: 2, key: [redacted]}
}

func ExampleParseRegion() {
	r, err := client.ParseRegion(" APAC ")
	fmt.Println(r, err)
	_, err = client.ParseRegion("mars")
	fmt.Println(err)
	// Output:
	// apac <nil>
	// client: unknown region "mars" (valid: us, eu, apac, sandbox)
}

// Creating a token against a local test server, as a service's own tests would.
func ExampleClient_CreateLinkToken() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"link_token":"tok_123","magic_link_url":"https://link.merge.dev/abc"}`)
	}))
	defer srv.Close()

	c, err := client.New("your-production-api-key", client.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:      "ada@example.com",
		EndUserOrganizationName:  "Acme",
		EndUserOriginID:          "42",
		Categories:               []client.Category{client.CategoryHRIS, client.CategoryATS},
		LinkExpiryMins:           10080, // a week: allowed with a Magic Link
		ShouldCreateMagicLinkURL: true,
		Language:                 client.LanguageGerman,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.LinkToken, tok.MagicLinkURL)
	// Output: tok_123 https://link.merge.dev/abc
}

// Handling Merge's error answers.
func ExampleAPIError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"end_user_origin_id":["This origin id is already linked."]}`)
	}))
	defer srv.Close()

	c, _ := client.New("your-production-api-key", client.WithBaseURL(srv.URL))
	_, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.RequestID, errors.Is(err, client.ErrRateLimited))
		for _, p := range apiErr.Problems {
			fmt.Println(p.Field, "-", p.Detail)
		}
		fmt.Println(err)
	}
	// Output:
	// 400 req-42 false
	// end_user_origin_id - This origin id is already linked.
	// client: 400 Bad Request (request id req-42): end_user_origin_id: This origin id is already linked.
}

// A request that breaks the spec is refused before anything is sent.
func ExampleValidationError() {
	c, _ := client.New("your-production-api-key")
	_, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{"payroll"},
		LinkExpiryMins:          1440, // a day needs a Magic Link
	})
	var verr *client.ValidationError
	if errors.As(err, &verr) {
		for _, v := range verr.Violations {
			fmt.Println(v.Pointer, v.Rule)
		}
	}
	// Output:
	// /categories/0 enum
	// /link_expiry_mins not
}

func ExampleValidate() {
	err := client.Validate(client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryCRM},
		LinkExpiryMins:          20,
	})
	fmt.Println(err)
	// Output: client: invalid request: /link_expiry_mins: must be at least 30 (minimum; got 20)
}

// Branching on the class of an error, without reading its text.
func ExampleAPIError_Is() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120") // over 30s: not waited for
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"detail":"Request was throttled."}`)
	}))
	defer srv.Close()

	c, _ := client.New("your-production-api-key", client.WithBaseURL(srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	})
	var apiErr *client.APIError
	switch {
	case errors.Is(err, client.ErrRateLimited) && errors.As(err, &apiErr):
		fmt.Println("rate limited; come back in", apiErr.RetryAfter)
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden):
		fmt.Println("check the API key")
	case errors.Is(err, client.ErrServerError), errors.Is(err, context.DeadlineExceeded):
		fmt.Println("Merge is unavailable; try later")
	case errors.Is(err, client.ErrContractBroken):
		fmt.Println("Merge's answer broke the contract; report it")
	}
	// Output: rate limited; come back in 2m0s
}

// Logging retries and outcomes at debug level: never the key, the email or
// the token.
func ExampleWithLogger() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"link_token":"tok_123"}`)
	}))
	defer srv.Close()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "host", "latency": // they vary from run to run
				return slog.Attr{}
			}
			return a
		},
	}))
	c, _ := client.New("your-production-api-key", client.WithBaseURL(srv.URL), client.WithLogger(logger))
	_, err := c.CreateLinkToken(context.Background(), client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	})
	fmt.Println(err)
	// Output:
	// level=DEBUG msg="client: retrying" method=POST path=/link-token attempt=1 status=503 wait=0s
	// level=DEBUG msg="client: create link token" method=POST path=/link-token status=200 attempts=2
	// <nil>
}

// The whole backend side of Merge Link, against the contract kit's mock:
// create a link token for the front end, receive the linked-account
// webhook, exchange the public token Merge Link hands the front end, and
// store the account token.
func Example_linkFlow() {
	const webhookKey = "whsec-example" // the webhook signature key from Merge's dashboard

	// Your webhook endpoint: verified, bounded, decoded.
	linked := make(chan string, 1)
	hooks := httptest.NewServer(webhook.Handler(func(_ context.Context, e *webhook.Event) error {
		if webhook.SameEvent(e.Hook.Event, webhook.EventLinked) {
			linked <- e.LinkedAccount.EndUserOriginID // which of your users finished linking
		}
		return nil
	}, webhookKey))
	defer hooks.Close()

	// Merge, played by the mock, which delivers the webhook when a link
	// completes.
	mock, _ := contracttest.NewMock(contracttest.WithWebhook(hooks.URL, webhookKey))
	merge := httptest.NewServer(mock)
	defer merge.Close()
	c, _ := client.New("your-production-api-key", client.WithBaseURL(merge.URL))
	ctx := context.Background()

	// 1. Your backend creates a link token; your front end opens Merge Link
	// with it.
	lt, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme",
		EndUserOriginID:         "42",
		Categories:              []client.Category{client.CategoryHRIS},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// 2. The end user finishes Merge Link, which hands your front end a
	// public token (here, the mock stands in for the end user), and Merge
	// sends the webhook.
	publicToken, err := mock.CompleteLink(lt.LinkToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("webhook: user", <-linked, "linked an account")

	// 3. Your backend exchanges the public token, once, for the account
	// token, and stores it as a secret.
	acct, err := c.ExchangePublicToken(ctx, publicToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	store := map[string]string{"42": acct.AccountToken} // your secrets store
	fmt.Println("linked", acct.Integration.Name, "for user 42; account token stored:", store["42"] != "")
	fmt.Println(acct.Integration.Name == "BambooHR", strings.Contains(fmt.Sprint(acct), acct.AccountToken))

	// A public token is exchanged once.
	_, err = c.ExchangePublicToken(ctx, publicToken)
	var apiErr *client.APIError
	fmt.Println(errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound)
	// Output:
	// webhook: user 42 linked an account
	// linked BambooHR for user 42; account token stored: true
	// true false
	// true
}
