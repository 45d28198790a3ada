package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/mergelink/linktoken/client"
)

// One client per region; US is the default.
func ExampleNew() {
	for _, r := range client.Regions() {
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
	// Output: linktoken.Client{region: eu, baseURL: https://api-eu.merge.dev/api/mktg/v1, maxRetries: 2, key: [redacted]}
}

func ExampleParseRegion() {
	r, err := client.ParseRegion(" APAC ")
	fmt.Println(r, err)
	_, err = client.ParseRegion("mars")
	fmt.Println(err)
	// Output:
	// apac <nil>
	// linktoken: unknown region "mars" (valid: us, eu, apac, sandbox)
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
		fmt.Println(apiErr.StatusCode, apiErr.RequestID, apiErr.Temporary())
		for _, p := range apiErr.Problems {
			fmt.Println(p.Field, "-", p.Detail)
		}
		fmt.Println(err)
	}
	// Output:
	// 400 req-42 false
	// end_user_origin_id - This origin id is already linked.
	// linktoken: 400 Bad Request (request id req-42): end_user_origin_id: This origin id is already linked.
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
	// Output: linktoken: invalid request: /link_expiry_mins: must be at least 30 (minimum; got 20)
}
