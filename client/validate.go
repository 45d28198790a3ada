package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/mergelink/linktoken/gen"
)

// The spec's limits, mirrored here for a validation that costs nanoseconds.
// TestLimitsMatchSpec proves each equals the value in openapi/link-token.yaml,
// and TestValidateAgreesWithSpec proves Validate gives kin-openapi's verdict
// on thousands of generated requests.
const (
	minStringLen           = 1     // minLength of the three end-user strings and of names in scopes
	maxStringLen           = 100   // maxLength of the three end-user strings
	minCategories          = 1     // minItems of categories
	defaultExpiryMins      = 30    // default of link_expiry_mins
	minExpiryMins          = 30    // minimum of link_expiry_mins
	maxExpiryMins          = 720   // x-max-without-magic-link of link_expiry_mins
	maxExpiryMinsMagicLink = 10080 // maximum of link_expiry_mins, only with should_create_magic_link_url
)

// Rule names used in Violation.Rule.
const (
	RuleRequired  = "required"
	RuleMinLength = "minLength"
	RuleMaxLength = "maxLength"
	RuleMinItems  = "minItems"
	RuleEnum      = "enum"
	RuleMinimum   = "minimum"
	RuleMaximum   = "maximum"
	RuleType      = "type"
	// RuleMaxWithoutMagicLink is the spec's x-max-without-magic-link rule:
	// link_expiry_mins above 720 needs should_create_magic_link_url.
	RuleMaxWithoutMagicLink = "x-max-without-magic-link"
)

// Validate reports whether req, as CreateLinkToken would send it (with
// link_expiry_mins 0 sent as 30), keeps every rule of the spec. It returns
// nil or a *ValidationError listing every violation. It does no I/O.
func Validate(req LinkTokenRequest) error {
	return prepare(&req)
}

// prepare fills in what the client always sends, then validates the result:
// the one path shared by Validate and CreateLinkToken.
func prepare(req *LinkTokenRequest) error {
	if req.LinkExpiryMins == 0 {
		req.LinkExpiryMins = defaultExpiryMins
	}
	var v validator
	v.request(req)
	if len(v.violations) == 0 {
		return nil
	}
	return &ValidationError{Violations: v.violations}
}

type validator struct {
	violations []Violation
}

func (v *validator) add(field, rule, value, msg string) {
	v.violations = append(v.violations, Violation{Field: field, Rule: rule, Value: value, Message: msg})
}

func (v *validator) request(r *LinkTokenRequest) {
	// The email is personal data: its value is never quoted.
	v.boundedString("end_user_email_address", r.EndUserEmailAddress, true)
	v.boundedString("end_user_organization_name", r.EndUserOrganizationName, false)
	v.boundedString("end_user_origin_id", r.EndUserOriginId, false)

	switch {
	case r.Categories == nil:
		v.add("categories", RuleRequired, "", "is required")
	case len(r.Categories) < minCategories:
		v.add("categories", RuleMinItems, "", "needs at least one category")
	}
	for i, c := range r.Categories {
		if !c.Valid() {
			v.add(index("categories", i), RuleEnum, string(c), "is not a known category")
		}
	}

	// integration and language are omitted when empty, so "" is "absent".
	if r.Language != "" && !r.Language.Valid() {
		v.add("language", RuleEnum, string(r.Language), "must be en or de")
	}
	v.expiry(r.LinkExpiryMins, r.ShouldCreateMagicLinkUrl)

	for category, scopes := range r.CategoryCommonModelScopes {
		field := "category_common_model_scopes." + category
		if scopes == nil {
			v.add(field, RuleType, "null", "must be a list of model scopes")
		}
		for i := range scopes {
			v.modelScope(index(field, i), &scopes[i])
		}
	}
	for i := range r.CommonModels {
		v.commonModel(index("common_models", i), &r.CommonModels[i])
	}
	for slug, raw := range r.IntegrationSpecificConfig {
		if !isJSONObject(raw) {
			v.add("integration_specific_config."+slug, RuleType, "", "must be a JSON object")
		}
	}
}

func (v *validator) boundedString(field, s string, personal bool) {
	n := utf8.RuneCountInString(s)
	if n < minStringLen {
		v.add(field, RuleRequired, "", "is required and must not be empty")
		return
	}
	if n > maxStringLen {
		value := ""
		if !personal {
			value = truncate(s)
		}
		v.add(field, RuleMaxLength, value, fmt.Sprintf("is %d characters; at most %d are allowed", n, maxStringLen))
	}
}

func (v *validator) expiry(mins int, magicLink bool) {
	value := strconv.Itoa(mins)
	switch {
	case mins < minExpiryMins:
		v.add("link_expiry_mins", RuleMinimum, value, fmt.Sprintf("must be at least %d", minExpiryMins))
	case mins > maxExpiryMinsMagicLink:
		v.add("link_expiry_mins", RuleMaximum, value, fmt.Sprintf("must be at most %d", maxExpiryMinsMagicLink))
	case mins > maxExpiryMins && !magicLink:
		v.add("link_expiry_mins", RuleMaxWithoutMagicLink, value,
			fmt.Sprintf("must be at most %d unless should_create_magic_link_url is true (then %d)", maxExpiryMins, maxExpiryMinsMagicLink))
	}
}

func (v *validator) modelScope(field string, s *gen.CommonModelScope) {
	if utf8.RuneCountInString(s.ModelName) < minStringLen {
		v.add(field+".model_name", RuleRequired, "", "is required and must not be empty")
	}
	v.names(field+".field_permissions.enabled_fields", s.FieldPermissions.EnabledFields)
	v.names(field+".field_permissions.disabled_fields", s.FieldPermissions.DisabledFields)
}

func (v *validator) commonModel(field string, m *gen.CommonModelScopesBody) {
	if utf8.RuneCountInString(m.ModelId) < minStringLen {
		v.add(field+".model_id", RuleRequired, "", "is required and must not be empty")
	}
	if m.EnabledActions == nil {
		v.add(field+".enabled_actions", RuleRequired, "", "is required")
	}
	for i, a := range m.EnabledActions {
		if !a.Valid() {
			v.add(index(field+".enabled_actions", i), RuleEnum, string(a), "must be READ or WRITE")
		}
	}
	if m.DisabledFields == nil {
		v.add(field+".disabled_fields", RuleRequired, "", "is required")
	}
	v.names(field+".disabled_fields", m.DisabledFields)
}

// names checks a list of field names, each of which must not be empty.
func (v *validator) names(field string, list []string) {
	for i, s := range list {
		if utf8.RuneCountInString(s) < minStringLen {
			v.add(index(field, i), RuleMinLength, "", "must not be empty")
		}
	}
}

func index(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// isJSONObject reports whether raw is one valid JSON object.
func isJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(raw)
}

// maxQuotedValue bounds how much of an offending value a Violation quotes.
const maxQuotedValue = 40

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxQuotedValue {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxQuotedValue]) + "…"
}
