package contracttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/gen"
)

// generatedCount is how many valid requests, and as many single-fault
// mutations, TestGeneratedCases checks.
const generatedCount = 1500

var (
	allCategories = []client.Category{client.CategoryHRIS, client.CategoryATS, client.CategoryAccounting, client.CategoryTicketing,
		client.CategoryCRM, client.CategoryMktg, client.CategoryFileStorage, client.CategoryKnowledgeBase}
	letters = []rune("abcdefghijklmnopqrstuvwxyzÄéß中 0123456789@.-_")
)

func randString(r *rand.Rand, minLen, maxLen int) string {
	n := minLen + r.IntN(maxLen-minLen+1)
	out := make([]rune, n)
	for i := range out {
		out[i] = letters[r.IntN(len(letters))]
	}
	return string(out)
}

// randomValid builds a request the spec accepts, using every field.
func randomValid(r *rand.Rand) client.LinkTokenRequest {
	req := client.LinkTokenRequest{
		EndUserEmailAddress:     randString(r, 1, 100),
		EndUserOrganizationName: randString(r, 1, 100),
		EndUserOriginID:         randString(r, 1, 100),
	}
	for _, i := range r.Perm(len(allCategories))[:1+r.IntN(len(allCategories))] {
		req.Categories = append(req.Categories, allCategories[i])
	}
	if r.IntN(2) == 0 {
		req.Integration = randString(r, 1, 30)
	}
	req.ShouldCreateMagicLinkURL = r.IntN(2) == 0
	req.HideAdminMagicLink = r.IntN(2) == 0
	req.AreSyncsDisabled = r.IntN(4) == 0
	switch r.IntN(3) {
	case 0: // left out: the default
	case 1:
		req.LinkExpiryMins = 30 + r.IntN(720-30+1)
	default:
		if req.ShouldCreateMagicLinkURL {
			req.LinkExpiryMins = 30 + r.IntN(10080-30+1)
		} else {
			req.LinkExpiryMins = []int{30, 720}[r.IntN(2)]
		}
	}
	if r.IntN(2) == 0 {
		req.Language = []client.Language{client.LanguageEnglish, client.LanguageGerman}[r.IntN(2)]
	}
	if r.IntN(2) == 0 {
		scope := gen.CommonModelScope{ModelName: randString(r, 1, 20)}
		if r.IntN(2) == 0 {
			scope.ModelPermissions.READ = &gen.ModelPermission{IsEnabled: r.IntN(2) == 0}
		}
		if r.IntN(2) == 0 {
			scope.FieldPermissions.EnabledFields = []string{randString(r, 1, 10)}
			scope.FieldPermissions.DisabledFields = []string{randString(r, 1, 10), randString(r, 1, 10)}
		}
		req.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{string(req.Categories[0]): {scope}}
	}
	if r.IntN(3) == 0 {
		req.CommonModels = []gen.CommonModelScopesBody{{
			ModelID: "hris." + randString(r, 1, 10), EnabledActions: []gen.EnabledAction{gen.EnabledActionRead}, DisabledFields: []string{},
		}}
	}
	if r.IntN(3) == 0 {
		req.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`{"oauth_code":"x"}`)}
	}
	return req
}

// mutation breaks exactly one field of a valid request.
type mutation struct {
	field string
	apply func(r *rand.Rand, req *client.LinkTokenRequest) bool // false: not applicable
}

var mutations = []mutation{
	{"end_user_email_address", func(_ *rand.Rand, q *client.LinkTokenRequest) bool { q.EndUserEmailAddress = ""; return true }},
	{"end_user_email_address", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.EndUserEmailAddress = randString(r, 101, 300)
		return true
	}},
	{"end_user_organization_name", func(_ *rand.Rand, q *client.LinkTokenRequest) bool { q.EndUserOrganizationName = ""; return true }},
	{"end_user_organization_name", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.EndUserOrganizationName = randString(r, 101, 5000)
		return true
	}},
	{"end_user_origin_id", func(_ *rand.Rand, q *client.LinkTokenRequest) bool { q.EndUserOriginID = ""; return true }},
	{"end_user_origin_id", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.EndUserOriginID = randString(r, 101, 200)
		return true
	}},
	{"categories", func(_ *rand.Rand, q *client.LinkTokenRequest) bool { q.Categories = nil; return true }},
	{"categories", func(_ *rand.Rand, q *client.LinkTokenRequest) bool { q.Categories = []client.Category{}; return true }},
	{"categories", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.Categories = append(q.Categories, client.Category(randString(r, 1, 12)+"x"))
		return true
	}},
	{"language", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.Language = client.Language([]string{"fr", "EN", "de-DE", "xx"}[r.IntN(4)])
		return true
	}},
	{"link_expiry_mins", func(r *rand.Rand, q *client.LinkTokenRequest) bool { q.LinkExpiryMins = 1 + r.IntN(29); return true }},
	{"link_expiry_mins", func(r *rand.Rand, q *client.LinkTokenRequest) bool { q.LinkExpiryMins = -1 - r.IntN(1000); return true }},
	{"link_expiry_mins", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.LinkExpiryMins, q.ShouldCreateMagicLinkURL = 721+r.IntN(10080-720), false
		return true
	}},
	{"link_expiry_mins", func(r *rand.Rand, q *client.LinkTokenRequest) bool {
		q.LinkExpiryMins = 10081 + r.IntN(100000)
		return true
	}},
	{"category_common_model_scopes", func(_ *rand.Rand, q *client.LinkTokenRequest) bool {
		q.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"hris": {{ModelName: ""}}}
		return true
	}},
	{"category_common_model_scopes", func(_ *rand.Rand, q *client.LinkTokenRequest) bool {
		q.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"ats": {{ModelName: "Job",
			FieldPermissions: gen.FieldPermissions{DisabledFields: []string{""}}}}}
		return true
	}},
	{"common_models", func(_ *rand.Rand, q *client.LinkTokenRequest) bool {
		q.CommonModels = []gen.CommonModelScopesBody{{ModelID: "hris.Employee", DisabledFields: []string{}}}
		return true
	}},
	{"common_models", func(_ *rand.Rand, q *client.LinkTokenRequest) bool {
		q.CommonModels = []gen.CommonModelScopesBody{{ModelID: "hris.Employee", EnabledActions: []gen.EnabledAction{"DELETE"}, DisabledFields: []string{}}}
		return true
	}},
	{"integration_specific_config", func(_ *rand.Rand, q *client.LinkTokenRequest) bool {
		q.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`"x"`)}
		return true
	}},
}

// topField cuts a client field path ("categories[1]", "a.b") to its top-level field.
func topField(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// verdicts runs one request through the client's validation, the validator
// and the mock, and returns the fields each named ("" entries: accepted).
func verdicts(t *testing.T, v *contracttest.Validator, mockURL string, req client.LinkTokenRequest) (clientFields, validatorFields, mockFields []string) {
	t.Helper()
	var verr *client.ValidationError
	if err := client.Validate(req); err != nil {
		require.True(t, errors.As(err, &verr), "%v", err)
		for _, f := range verr.Fields() {
			clientFields = appendOnce(clientFields, topField(f))
		}
	}
	body, err := json.Marshal(req)
	require.NoError(t, err)

	httpReq := newRequest(string(body))
	if err := v.ValidateRequest(httpReq); err != nil {
		var ce *contracttest.ContractError
		require.True(t, errors.As(err, &ce), "%v", err)
		validatorFields = ce.Fields()
	}

	resp, err := http.Post(mockURL+"/link-token?auth", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		var e map[string]json.RawMessage
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		for k := range e {
			if k != "detail" {
				mockFields = append(mockFields, k)
			}
		}
		if len(mockFields) == 0 {
			mockFields = []string{"(no field)"}
		}
	}
	sort.Strings(clientFields)
	sort.Strings(mockFields)
	return clientFields, validatorFields, mockFields
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// authMock is the mock behind a handler that adds the Authorization header,
// so that http.Post can be used for the generated cases.
func authMock(t *testing.T) string {
	t.Helper()
	mock := newMock(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer generated")
		mock.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestGeneratedCases: random valid requests pass the client's validation, the
// spec's validator and the mock; each single-fault mutation is rejected by
// all three, each naming the mutated field and nothing else.
func TestGeneratedCases(t *testing.T) {
	t.Parallel()
	v, err := contracttest.NewValidator()
	require.NoError(t, err)
	url := authMock(t)
	r := rand.New(rand.NewPCG(20261125, 1))
	for i := range generatedCount {
		valid := randomValid(r)
		c, vf, m := verdicts(t, v, url, valid)
		if !assert.Empty(t, c, "client rejects valid #%d", i) || !assert.Empty(t, vf, "validator rejects valid #%d", i) ||
			!assert.Empty(t, m, "mock rejects valid #%d", i) {
			body, _ := json.Marshal(valid)
			t.Fatalf("valid request #%d: %s", i, body)
		}

		mut := mutations[i%len(mutations)]
		bad := randomValid(r)
		require.True(t, mut.apply(r, &bad))
		want := []string{mut.field}
		c, vf, m = verdicts(t, v, url, bad)
		if !assert.Equal(t, want, c, "client") || !assert.Equal(t, want, vf, "validator") || !assert.Equal(t, want, m, "mock") {
			body, _ := json.Marshal(bad)
			t.Fatalf("mutation #%d of %s: %.500s", i, mut.field, body)
		}
	}
}

// TestWireCheck: for generated valid requests, the generated client and the
// wrapper, run over the validating transport against the mock, send requests
// the validator accepts (the transport fails the call otherwise).
func TestWireCheck(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newMock(t))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: contracttest.NewTransport(nil)}
	wrapper, err := client.New("wire-key", client.WithBaseURL(srv.URL), client.WithHTTPClient(hc), client.WithMaxRetries(0))
	require.NoError(t, err)
	raw, err := gen.NewClient(srv.URL, gen.WithHTTPClient(hc), gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer wire-key")
		return nil
	}))
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 300 {
		req := randomValid(r)
		tok, err := wrapper.CreateLinkToken(context.Background(), req)
		require.NoError(t, err, "wrapper, request #%d", i)
		assert.Equal(t, req.ShouldCreateMagicLinkURL, tok.MagicLinkURL != "")

		if req.LinkExpiryMins == 0 {
			req.LinkExpiryMins = 30 // the generated client sends what it is given
		}
		resp, err := raw.CreateLinkToken(context.Background(), nil, req)
		require.NoError(t, err, "generated client, request #%d", i)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	}
}

// FuzzVerdictsAgree: any JSON that decodes into the request type gets the
// same verdict from the client's fast validation and from kin-openapi.
func FuzzVerdictsAgree(f *testing.F) {
	for _, seed := range []string{
		minimalBody,
		`{"end_user_email_address":"a","end_user_organization_name":"b","end_user_origin_id":"c","categories":["hris"],"link_expiry_mins":721}`,
		`{"end_user_email_address":"a","end_user_organization_name":"b","end_user_origin_id":"c","categories":["crm"],"link_expiry_mins":10080,"should_create_magic_link_url":true}`,
		`{"categories":[],"language":"fr","link_expiry_mins":-3}`,
		`{"end_user_email_address":"a","end_user_organization_name":"b","end_user_origin_id":"c","categories":["ats"],"category_common_model_scopes":{"ats":[{"model_name":"","field_permissions":{"enabled_fields":[""]}}]}}`,
		`{"end_user_email_address":"a","end_user_organization_name":"b","end_user_origin_id":"c","categories":["ats"],"common_models":[{"model_id":"x","enabled_actions":null,"disabled_fields":[]}],"integration_specific_config":{"a":null}}`,
	} {
		f.Add([]byte(seed))
	}
	v, err := contracttest.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req client.LinkTokenRequest
		if json.Unmarshal(data, &req) != nil {
			return
		}
		clientErr := client.Validate(req)
		if req.LinkExpiryMins == 0 {
			req.LinkExpiryMins = 30 // what the client sends for "unset"
		}
		body, err := json.Marshal(req)
		if err != nil {
			if clientErr == nil {
				t.Fatalf("client accepts a request that cannot be encoded: %v", err)
			}
			return
		}
		specErr := v.ValidateRequest(newRequest(string(body)))
		if (clientErr == nil) != (specErr == nil) {
			t.Fatalf("verdicts differ on %s\nclient: %v\nspec:   %v", body, clientErr, specErr)
		}
		if clientErr != nil {
			var verr *client.ValidationError
			var ce *contracttest.ContractError
			if !errors.As(clientErr, &verr) || !errors.As(specErr, &ce) {
				t.Fatalf("unexpected error types: %T, %T", clientErr, specErr)
			}
			if slices.ContainsFunc(ce.Violations, func(v contracttest.Violation) bool {
				return v.Rule == "requestBody" && v.Pointer == ""
			}) {
				return // the body as a whole is refused (not UTF-8, nested too deep); the client names the field that made it so
			}
			var fields []string
			for _, f := range verr.Fields() {
				fields = appendOnce(fields, topField(f))
			}
			sort.Strings(fields)
			if fmt.Sprint(fields) != fmt.Sprint(ce.Fields()) {
				t.Fatalf("fields differ on %s\nclient: %v\nspec:   %v", body, fields, ce.Fields())
			}
		}
	})
}
