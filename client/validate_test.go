package client_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/openapi"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	type edit func(*client.LinkTokenRequest)
	expiry := func(mins int, magic bool) edit {
		return func(r *client.LinkTokenRequest) { r.LinkExpiryMins, r.ShouldCreateMagicLinkUrl = mins, magic }
	}
	cases := []struct {
		name  string
		edit  edit
		field string // "" means valid
		rule  string
	}{
		{"valid", func(*client.LinkTokenRequest) {}, "", ""},
		{"expiry 0 is the default 30", expiry(0, false), "", ""},
		{"expiry 29", expiry(29, false), "link_expiry_mins", client.RuleMinimum},
		{"expiry 29 with magic link", expiry(29, true), "link_expiry_mins", client.RuleMinimum},
		{"expiry -1", expiry(-1, false), "link_expiry_mins", client.RuleMinimum},
		{"expiry 30", expiry(30, false), "", ""},
		{"expiry 720", expiry(720, false), "", ""},
		{"expiry 721", expiry(721, false), "link_expiry_mins", client.RuleMaxWithoutMagicLink},
		{"expiry 721 with magic link", expiry(721, true), "", ""},
		{"expiry 10080", expiry(10080, false), "link_expiry_mins", client.RuleMaxWithoutMagicLink},
		{"expiry 10080 with magic link", expiry(10080, true), "", ""},
		{"expiry 10081 with magic link", expiry(10081, true), "link_expiry_mins", client.RuleMaximum},
		{"expiry 10081", expiry(10081, false), "link_expiry_mins", client.RuleMaximum},
		{"empty email", func(r *client.LinkTokenRequest) { r.EndUserEmailAddress = "" }, "end_user_email_address", client.RuleRequired},
		{"empty organization", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = "" }, "end_user_organization_name", client.RuleRequired},
		{"empty origin id", func(r *client.LinkTokenRequest) { r.EndUserOriginId = "" }, "end_user_origin_id", client.RuleRequired},
		{"organization of 100 runes", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = strings.Repeat("é", 100) }, "", ""},
		{"organization of 101 runes", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = strings.Repeat("é", 101) }, "end_user_organization_name", client.RuleMaxLength},
		{"email of 101 characters", func(r *client.LinkTokenRequest) { r.EndUserEmailAddress = strings.Repeat("a", 89) + "@example.com" }, "end_user_email_address", client.RuleMaxLength},
		{"no categories", func(r *client.LinkTokenRequest) { r.Categories = nil }, "categories", client.RuleRequired},
		{"empty categories", func(r *client.LinkTokenRequest) { r.Categories = []client.Category{} }, "categories", client.RuleMinItems},
		{"unknown category", func(r *client.LinkTokenRequest) { r.Categories = []client.Category{"hris", "payroll"} }, "categories[1]", client.RuleEnum},
		{"every category", func(r *client.LinkTokenRequest) {
			r.Categories = []client.Category{client.CategoryHRIS, client.CategoryATS, client.CategoryAccounting, client.CategoryTicketing,
				client.CategoryCRM, client.CategoryMktg, client.CategoryFileStorage, client.CategoryKnowledgeBase}
		}, "", ""},
		{"language de", func(r *client.LinkTokenRequest) { r.Language = client.LanguageGerman }, "", ""},
		{"unknown language", func(r *client.LinkTokenRequest) { r.Language = "fr" }, "language", client.RuleEnum},
		{"scopes", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"hris": {{
				ModelName:        "Employee",
				ModelPermissions: gen.ModelPermissions{READ: &gen.ModelPermission{IsEnabled: true}},
				FieldPermissions: gen.FieldPermissions{DisabledFields: []string{"ssn"}},
			}}}
		}, "", ""},
		{"scope without a model name", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"hris": {{}}}
		}, "category_common_model_scopes.hris[0].model_name", client.RuleRequired},
		{"scope with an empty field name", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"ats": {{ModelName: "Job",
				FieldPermissions: gen.FieldPermissions{EnabledFields: []string{"name", ""}}}}}
		}, "category_common_model_scopes.ats[0].field_permissions.enabled_fields[1]", client.RuleMinLength},
		{"scope list that is null", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]gen.CommonModelScope{"ats": nil}
		}, "category_common_model_scopes.ats", client.RuleType},
		{"common models", func(r *client.LinkTokenRequest) {
			r.CommonModels = []gen.CommonModelScopesBody{{ModelId: "hris.Employee", EnabledActions: []gen.EnabledActionsEnum{gen.READ}, DisabledFields: []string{}}}
		}, "", ""},
		{"common model with an unknown action", func(r *client.LinkTokenRequest) {
			r.CommonModels = []gen.CommonModelScopesBody{{ModelId: "hris.Employee", EnabledActions: []gen.EnabledActionsEnum{"DELETE"}, DisabledFields: []string{}}}
		}, "common_models[0].enabled_actions[0]", client.RuleEnum},
		{"common model without actions", func(r *client.LinkTokenRequest) {
			r.CommonModels = []gen.CommonModelScopesBody{{ModelId: "hris.Employee", DisabledFields: []string{}}}
		}, "common_models[0].enabled_actions", client.RuleRequired},
		{"integration config", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`{"oauth_code":"x"}`)}
		}, "", ""},
		{"integration config that is not an object", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`[1]`)}
		}, "integration_specific_config.rippling", client.RuleType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := validRequest()
			tc.edit(&req)
			err := client.Validate(req)
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var verr *client.ValidationError
			require.True(t, errors.As(err, &verr), "want a *ValidationError, got %v", err)
			require.Len(t, verr.Violations, 1, "%v", err)
			assert.Equal(t, tc.field, verr.Violations[0].Field)
			assert.Equal(t, tc.rule, verr.Violations[0].Rule)
			assert.Contains(t, err.Error(), tc.field)
			assert.NotContains(t, err.Error(), "@example.com", "the email is never quoted")
		})
	}
}

func TestValidateReportsEveryViolation(t *testing.T) {
	t.Parallel()
	err := client.Validate(client.LinkTokenRequest{LinkExpiryMins: 5000, Language: "xx"})
	var verr *client.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []string{
		"end_user_email_address", "end_user_organization_name", "end_user_origin_id",
		"categories", "language", "link_expiry_mins",
	}, verr.Fields())
	assert.Equal(t, "linktoken: invalid request: end_user_email_address: is required and must not be empty; "+
		"end_user_organization_name: is required and must not be empty; end_user_origin_id: is required and must not be empty; "+
		`categories: is required; language: must be en or de (got "xx"); `+
		`link_expiry_mins: must be at most 720 unless should_create_magic_link_url is true (then 10080) (got "5000")`, err.Error())
}

// TestLimitsMatchSpec proves the constants of the fast validation equal the
// spec's values, so editing the spec without the client fails here.
func TestLimitsMatchSpec(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	props := doc.Components.Schemas["EndUserDetailsRequest"].Value.Properties
	expiry := props["link_expiry_mins"].Value
	for _, f := range []string{"end_user_email_address", "end_user_organization_name", "end_user_origin_id"} {
		assert.EqualValues(t, client.Limits["minLength"], props[f].Value.MinLength, f)
		assert.EqualValues(t, client.Limits["maxLength"], *props[f].Value.MaxLength, f)
	}
	assert.EqualValues(t, client.Limits["minItems"], props["categories"].Value.MinItems)
	assert.EqualValues(t, client.Limits["default"], expiry.Default)
	assert.EqualValues(t, client.Limits["minimum"], *expiry.Min)
	assert.EqualValues(t, client.Limits["maximum"], *expiry.Max)
	assert.EqualValues(t, client.Limits["x-max-without-magic-link"], expiry.Extensions["x-max-without-magic-link"])

	// The generated enums' Valid methods carry the spec's enums.
	for _, v := range props["categories"].Value.Items.Value.Enum {
		assert.True(t, gen.CategoriesEnum(v.(string)).Valid(), v)
	}
	for _, v := range props["language"].Value.AllOf[0].Value.Enum {
		assert.True(t, gen.LanguageEnum(v.(string)).Valid(), v)
	}
}
