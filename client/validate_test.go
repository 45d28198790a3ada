package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
	"github.com/mergelink/linktoken/openapi"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	type edit func(*client.LinkTokenRequest)
	expiry := func(mins int, magic bool) edit {
		return func(r *client.LinkTokenRequest) { r.LinkExpiryMins, r.ShouldCreateMagicLinkURL = mins, magic }
	}
	cases := []struct {
		name  string
		edit  edit
		field string // the JSON pointer; "" means valid
		rule  string
	}{
		{"valid", func(*client.LinkTokenRequest) {}, "", ""},
		{"expiry 0 is the default 30", expiry(0, false), "", ""},
		{"expiry 29", expiry(29, false), "/link_expiry_mins", "minimum"},
		{"expiry 29 with magic link", expiry(29, true), "/link_expiry_mins", "minimum"},
		{"expiry -1", expiry(-1, false), "/link_expiry_mins", "minimum"},
		{"expiry 30", expiry(30, false), "", ""},
		{"expiry 720", expiry(720, false), "", ""},
		{"expiry 721", expiry(721, false), "/link_expiry_mins", "not"},
		{"expiry 721 with magic link", expiry(721, true), "", ""},
		{"expiry 10080", expiry(10080, false), "/link_expiry_mins", "not"},
		{"expiry 10080 with magic link", expiry(10080, true), "", ""},
		{"expiry 10081 with magic link", expiry(10081, true), "/link_expiry_mins", "maximum"},
		{"expiry 10081", expiry(10081, false), "/link_expiry_mins", "maximum"},
		{"empty email", func(r *client.LinkTokenRequest) { r.EndUserEmailAddress = "" }, "/end_user_email_address", "minLength"},
		{"empty organization", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = "" }, "/end_user_organization_name", "minLength"},
		{"empty origin id", func(r *client.LinkTokenRequest) { r.EndUserOriginID = "" }, "/end_user_origin_id", "minLength"},
		{"organization of 1 rune", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = "A" }, "", ""},
		{"organization of 100 runes", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = strings.Repeat("é", 100) }, "", ""},
		{"organization of 101 runes", func(r *client.LinkTokenRequest) { r.EndUserOrganizationName = strings.Repeat("é", 101) }, "/end_user_organization_name", "maxLength"},
		{"email of 101 characters", func(r *client.LinkTokenRequest) { r.EndUserEmailAddress = strings.Repeat("a", 89) + "@example.com" }, "/end_user_email_address", "maxLength"},
		{"no categories", func(r *client.LinkTokenRequest) { r.Categories = nil }, "/categories", "required"},
		{"empty categories", func(r *client.LinkTokenRequest) { r.Categories = []client.Category{} }, "/categories", "minItems"},
		{"unknown category", func(r *client.LinkTokenRequest) { r.Categories = []client.Category{"hris", "payroll"} }, "/categories/1", "enum"},
		{"every category", func(r *client.LinkTokenRequest) {
			r.Categories = []client.Category{client.CategoryHRIS, client.CategoryATS, client.CategoryAccounting, client.CategoryTicketing,
				client.CategoryCRM, client.CategoryMktg, client.CategoryFileStorage, client.CategoryKnowledgeBase}
		}, "", ""},
		{"language de", func(r *client.LinkTokenRequest) { r.Language = client.LanguageGerman }, "", ""},
		{"unknown language", func(r *client.LinkTokenRequest) { r.Language = "fr" }, "/language", "enum"},
		{"scopes", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"hris": {{
				ModelName:        "Employee",
				ModelPermissions: client.ModelPermissions{READ: &client.ModelPermission{IsEnabled: true}},
				FieldPermissions: client.FieldPermissions{DisabledFields: []string{"ssn"}},
			}}}
		}, "", ""},
		{"scope without a model name", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"hris": {{}}}
		}, "/category_common_model_scopes/hris/0/model_name", "minLength"},
		{"scope with one-rune names", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"ats": {{ModelName: "J",
				FieldPermissions: client.FieldPermissions{EnabledFields: []string{"n"}, DisabledFields: []string{"x"}}}}}
		}, "", ""},
		{"scope with an empty field name", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"ats": {{ModelName: "Job",
				FieldPermissions: client.FieldPermissions{EnabledFields: []string{"name", ""}}}}}
		}, "/category_common_model_scopes/ats/0/field_permissions/enabled_fields/1", "minLength"},
		{"scope list that is null", func(r *client.LinkTokenRequest) {
			r.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"ats": nil}
		}, "/category_common_model_scopes/ats", "type"},
		{"common models", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "hris.Employee", EnabledActions: []client.EnabledAction{client.EnabledActionRead}, DisabledFields: []string{}}}
		}, "", ""},
		{"common model with a one-rune id", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "E", EnabledActions: []client.EnabledAction{}, DisabledFields: []string{"f"}}}
		}, "", ""},
		{"common model with an empty disabled field", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "E", EnabledActions: []client.EnabledAction{}, DisabledFields: []string{""}}}
		}, "/common_models/0/disabled_fields/0", "minLength"},
		{"common model without an id", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{EnabledActions: []client.EnabledAction{}, DisabledFields: []string{}}}
		}, "/common_models/0/model_id", "minLength"},
		{"common model without disabled fields", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "E", EnabledActions: []client.EnabledAction{}}}
		}, "/common_models/0/disabled_fields", "required"},
		{"common model with an unknown action", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "hris.Employee", EnabledActions: []client.EnabledAction{"DELETE"}, DisabledFields: []string{}}}
		}, "/common_models/0/enabled_actions/0", "enum"},
		{"common model without actions", func(r *client.LinkTokenRequest) {
			r.CommonModels = []client.CommonModelScopesBody{{ModelID: "hris.Employee", DisabledFields: []string{}}}
		}, "/common_models/0/enabled_actions", "required"},
		{"integration config", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`{"oauth_code":"x"}`)}
		}, "", ""},
		{"integration config that is empty", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(" ")}
		}, "/integration_specific_config/rippling", "type"},
		{"integration config with 10,000 sibling arrays", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`{"a":[` + strings.Repeat("[],", 9999) + `[]]}`)}
		}, "", ""},
		{"integration config that is not an object", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`[1]`)}
		}, "/integration_specific_config/rippling", "type"},
		// The body nests the value two levels deep; encoding/json (and so
		// kin-openapi and the mock) decodes at most 10,000 levels.
		{"integration config nested 9,998 deep", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": nested(9998)}
		}, "", ""},
		{"integration config nested 9,999 deep", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": nested(9999)}
		}, "/integration_specific_config/rippling", "requestBody"},
		{"integration config nested 10,001 deep", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": nested(10001)}
		}, "/integration_specific_config/rippling", "requestBody"},
		{"integration config with brackets in strings", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage(`{"a":"` + strings.Repeat(`[{\"`, 10000) + `"}`)}
		}, "", ""},
		{"integration config with invalid UTF-8", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"rippling": json.RawMessage("{\"a\":\"\xff\"}")}
		}, "/integration_specific_config/rippling", "requestBody"},
		{"integration slug with invalid UTF-8", func(r *client.LinkTokenRequest) {
			r.IntegrationSpecificConfig = map[string]json.RawMessage{"ripp\xffling": json.RawMessage(`{}`)}
		}, "/integration_specific_config/ripp\xffling", "requestBody"},
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
			assert.Equal(t, tc.field, verr.Violations[0].Pointer)
			assert.Equal(t, "body", verr.Violations[0].In)
			assert.Equal(t, tc.rule, verr.Violations[0].Rule)
			assert.Contains(t, err.Error(), shared.Printable(tc.field))
			assert.NotContains(t, err.Error(), "@example.com", "the email is never quoted")
		})
	}
}

// TestValidationErrorIsOneCleanLine: a request's map keys reach the error's
// pointers, so a key with line breaks or escape sequences is shown
// printable, on one line, under every verb and in slog.
func TestValidationErrorIsOneCleanLine(t *testing.T) {
	t.Parallel()
	req := validRequest()
	req.CategoryCommonModelScopes = map[string][]client.CommonModelScope{"hris\n\x1b[31mstatus: 200\u2028": nil}
	err := client.Validate(req)
	require.Error(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Error("create", "err", err)
	for _, shown := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), buf.String()} {
		assert.NotContains(t, shown, "\x1b")
		assert.NotContains(t, shown, "\u2028")
		assert.Equal(t, 1, strings.Count(strings.TrimSuffix(shown, "\n"), "\n")+1, "one line: %q", shown)
		assertOneCleanLine(t, strings.TrimSuffix(shown, "\n"))
	}
	assert.Contains(t, err.Error(), "/category_common_model_scopes/hris [31mstatus: 200")
	assert.Contains(t, buf.String(), "fields=[category_common_model_scopes]")
}

func TestValidateReportsEveryViolation(t *testing.T) {
	t.Parallel()
	err := client.Validate(client.LinkTokenRequest{LinkExpiryMins: 5000, Language: "xx"})
	var verr *client.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []string{
		"categories", "end_user_email_address", "end_user_organization_name", "end_user_origin_id",
		"language", "link_expiry_mins",
	}, verr.Fields(), "sorted, each once")
	assert.Equal(t, "client: invalid request: /categories: is required (required); "+
		"/end_user_email_address: is required and must not be empty (minLength); "+
		"/end_user_organization_name: is required and must not be empty (minLength); "+
		"/end_user_origin_id: is required and must not be empty (minLength); "+
		`/language: must be one of de, en (enum; got "xx"); `+
		`/link_expiry_mins: must be at most 720 unless should_create_magic_link_url is true (not; got 5000)`, err.Error())
}

// TestLimitsMatchSpec proves the constants of the fast validation equal the
// spec's values, so editing the spec without the client fails here.
func TestLimitsMatchSpec(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	schema := doc.Components.Schemas["EndUserDetailsRequest"].Value
	props := schema.Properties
	expiry := props["link_expiry_mins"].Value
	for _, f := range []string{"end_user_email_address", "end_user_organization_name", "end_user_origin_id"} {
		assert.EqualValues(t, client.Limits["minLength"], props[f].Value.MinLength, f)
		assert.EqualValues(t, client.Limits["maxLength"], *props[f].Value.MaxLength, f)
	}
	assert.EqualValues(t, client.Limits["minItems"], props["categories"].Value.MinItems)
	assert.EqualValues(t, client.Limits["default"], expiry.Default)
	assert.EqualValues(t, client.Limits["minimum"], *expiry.Min)
	assert.EqualValues(t, client.Limits["maximum"], *expiry.Max)
	// The 720 bound is the request's not: link_expiry_mins of 721 or more,
	// with should_create_magic_link_url anything but true, is refused.
	require.NotNil(t, schema.Not, "the request schema holds the expiry rule")
	not := schema.Not.Value
	assert.Equal(t, []string{"link_expiry_mins"}, not.Required)
	assert.EqualValues(t, client.Limits["not"]+1, *not.Properties["link_expiry_mins"].Value.Min)
	assert.Equal(t, []any{true}, not.Properties["should_create_magic_link_url"].Value.Not.Value.Enum)

	// The public token's path parameter.
	param := doc.Paths.Find("/account-token/{public_token}").Get.Parameters.GetByInAndName("path", "public_token")
	require.NotNil(t, param, "the exchange's public_token parameter")
	pt := param.Schema.Value
	assert.EqualValues(t, client.Limits["minLength"], pt.MinLength)
	assert.EqualValues(t, client.PublicToken["maxLength"], *pt.MaxLength)
	assert.Equal(t, client.PublicToken["pattern"], pt.Pattern)
	assert.ElementsMatch(t, client.PublicToken["not"], pt.Not.Value.Enum)
}

// TestClientExportsEveryEnumValue fails when a value of an enum in the spec
// is missing from what package client exports, or the client has one the
// spec does not.
func TestClientExportsEveryEnumValue(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	specValues := func(schema string) []string {
		var out []string
		for _, v := range doc.Components.Schemas[schema].Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	strs := func(vs ...string) []string { return vs }
	assert.ElementsMatch(t, specValues("CategoriesEnum"), strs(stringsOf(client.CategoryValues())...))
	assert.ElementsMatch(t, specValues("LanguageEnum"), strs(stringsOf(client.LanguageValues())...))
	assert.ElementsMatch(t, specValues("EnabledActionsEnum"), strs(stringsOf(client.EnabledActionValues())...))
	for _, server := range doc.Servers {
		assert.ElementsMatch(t, specValues("CategoriesEnum"), server.Variables["category"].Enum,
			"the category API of %s is one per category", server.URL)
	}
}

func stringsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestViolationsAreOrderedAndCapped: the same request gives the same error
// every time, whatever the map order, and a huge one lists at most
// MaxViolations.
func TestViolationsAreOrderedAndCapped(t *testing.T) {
	t.Parallel()
	req := validRequest()
	req.CategoryCommonModelScopes = map[string][]client.CommonModelScope{}
	for _, c := range []string{"hris", "ats", "crm", "mktg", "ticketing", "accounting"} {
		req.CategoryCommonModelScopes[c] = []client.CommonModelScope{{}}
	}
	first := client.Validate(req).Error()
	for range 50 {
		require.Equal(t, first, client.Validate(req).Error())
	}

	huge := validRequest()
	huge.EndUserEmailAddress = ""
	for range 10000 {
		huge.Categories = append(huge.Categories, "payroll")
	}
	var verr *client.ValidationError
	require.ErrorAs(t, client.Validate(huge), &verr)
	assert.Len(t, verr.Violations, shared.MaxViolations)
	assert.Equal(t, 10001-shared.MaxViolations, verr.Omitted)
	assert.Equal(t, "/categories/1", verr.Violations[0].Pointer, "in pointer order, indexes by number")
	assert.Equal(t, "/categories/2", verr.Violations[1].Pointer)
	assert.Equal(t, "/end_user_email_address", verr.Violations[shared.MaxViolations-1].Pointer,
		"a field's first violation is kept before another field's repeats")
	assert.Contains(t, verr.Error(), fmt.Sprintf("and %d more", verr.Omitted))
	assert.Less(t, len(verr.Error()), 10000, "the message stays short")
}

// nested is a JSON object nesting depth levels: {"a":{"a":...1...}}.
func nested(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth))
}

// TestViolationField: the top-level field of a pointer, its escapes decoded.
func TestViolationField(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                                "",
		"/categories":                     "categories",
		"/categories/1":                   "categories",
		"/a~1b/c":                         "a/b",
		"/~0x":                            "~x",
		"//x":                             "",
		"/integration_specific_config//a": "integration_specific_config",
	}
	for pointer, want := range cases {
		assert.Equal(t, want, client.Violation{Pointer: pointer}.Field(), "%q", pointer)
	}
}

// TestViolationOrder: pointers are ordered token by token, array indexes by
// number (digits without a leading zero), everything else as text.
func TestViolationOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		first Violation
		then  Violation
	}{
		{"indexes by number, whatever the values", Violation{Pointer: "/categories/2", Value: "b"}, Violation{Pointer: "/categories/10", Value: "a"}},
		{"indexes after an empty key", Violation{Pointer: "/s//9/m"}, Violation{Pointer: "/s//10/m"}},
		{"a leading zero is text, not an index", Violation{Pointer: "/c/01"}, Violation{Pointer: "/c/2"}},
		{"zero sorts first", Violation{Pointer: "/c/0"}, Violation{Pointer: "/c/10"}},
		{"a prefix first", Violation{Pointer: "/c"}, Violation{Pointer: "/c/0"}},
		{"then where", Violation{Pointer: "/c", In: "body", Rule: "z", Message: "z", Value: "z"},
			Violation{Pointer: "/c", In: "header", Rule: "a", Message: "a", Value: "a"}},
		{"then rule", Violation{Pointer: "/c", In: "body", Rule: "b", Message: "z", Value: "z"},
			Violation{Pointer: "/c", In: "body", Rule: "c", Message: "a", Value: "a"}},
		{"then message", Violation{Pointer: "/c", In: "body", Rule: "b", Message: "m", Value: "z"},
			Violation{Pointer: "/c", In: "body", Rule: "b", Message: "n", Value: "a"}},
		{"then value", Violation{Pointer: "/c", In: "body", Rule: "b", Message: "m", Value: "2"},
			Violation{Pointer: "/c", In: "body", Rule: "b", Message: "m", Value: "3"}},
	}
	for _, tc := range cases {
		for _, in := range [][]client.Violation{{tc.first, tc.then}, {tc.then, tc.first}} {
			got, omitted := limit(in)
			assert.Equal(t, []client.Violation{tc.first, tc.then}, got, tc.name)
			assert.Zero(t, omitted)
		}
	}
	vs := []client.Violation{{Pointer: "/categories/1"}}
	for i := 2; i <= 20; i++ {
		vs = append([]client.Violation{{Pointer: fmt.Sprintf("/categories/%d", i)}}, vs...)
	}
	got, _ := limit(vs)
	assert.Equal(t, "/categories/1", got[0].Pointer)
	assert.Equal(t, "/categories/2", got[1].Pointer)
	assert.Equal(t, "/categories/10", got[9].Pointer)
}

// limit passes vs through a ViolationList, in order.
func limit(vs []client.Violation) ([]client.Violation, int) {
	var l shared.ViolationList
	for _, v := range vs {
		l.Add(v)
	}
	return l.Result()
}

// Violation is client.Violation, shorter in tables.
type Violation = client.Violation

// TestViolationListKeepsTheSmallest: whatever the order violations are
// added in, a field keeps its MaxViolations smallest, a field's first
// violations come before another field's repeats, and the rest are counted.
func TestViolationListKeepsTheSmallest(t *testing.T) {
	t.Parallel()
	const n = 300
	pointers := func(field string, idx []int) []Violation {
		out := make([]Violation, len(idx))
		for i, x := range idx {
			out[i] = Violation{In: "body", Pointer: fmt.Sprintf("/%s/%d", field, x), Rule: "enum"}
		}
		return out
	}
	ascending := make([]int, n)
	for i := range ascending {
		ascending[i] = i
	}
	descending := slices.Clone(ascending)
	slices.Reverse(descending)
	orders := map[string][]int{"ascending": ascending, "descending": descending}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 5 {
		shuffled := slices.Clone(ascending)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		orders[fmt.Sprintf("shuffled %d", i)] = shuffled
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var l shared.ViolationList
			for _, v := range pointers("f", order) {
				l.Add(v)
			}
			got, omitted := l.Result()
			assert.Equal(t, []client.Violation(pointers("f", ascending[:shared.MaxViolations])), got)
			assert.Equal(t, n-shared.MaxViolations, omitted)
			assert.Equal(t, n, l.Len())

			// Another field's one violation displaces this field's last.
			l.Add(Violation{In: "body", Pointer: "/g", Rule: "required"})
			got, omitted = l.Result()
			assert.Equal(t, "/f/48", got[shared.MaxViolations-2].Pointer)
			assert.Equal(t, "/g", got[shared.MaxViolations-1].Pointer)
			assert.Equal(t, n+1-shared.MaxViolations, omitted)
		})
	}
}

// TestViolationValues: an offending value is quoted, and cut after 40 runes.
func TestViolationValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ category, value string }{
		{strings.Repeat("é", 32), `"` + strings.Repeat("é", 32) + `"`},  // 64 bytes: shown whole
		{strings.Repeat("é", 33), `"` + strings.Repeat("é", 30) + `…"`}, // cut to 64 bytes, on a rune boundary
		{"a\nb", `"a\nb"`}, // control characters are escaped
	} {
		req := validRequest()
		req.Categories = []client.Category{client.Category(tc.category)}
		var verr *client.ValidationError
		require.ErrorAs(t, client.Validate(req), &verr)
		assert.Equal(t, tc.value, verr.Violations[0].Value)
	}
}
