package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/mergelink/linktoken/internal/shared"
)

// The spec's limits, mirrored here for a validation that costs nanoseconds.
// TestLimitsMatchSpec proves each equals the value in openapi/link-token.yaml,
// and contracttest's TestGeneratedCases and FuzzVerdictsAgree prove Validate
// gives kin-openapi's verdict, naming the same fields, on thousands of
// generated requests.
const (
	minStringLen           = 1     // minLength of the three end-user strings and of names in scopes
	maxStringLen           = 100   // maxLength of the three end-user strings
	minCategories          = 1     // minItems of categories
	defaultExpiryMins      = 30    // default of link_expiry_mins
	minExpiryMins          = 30    // minimum of link_expiry_mins
	maxExpiryMins          = 720   // the request's not: link_expiry_mins minimum 721, less one
	maxExpiryMinsMagicLink = 10080 // maximum of link_expiry_mins, reached with should_create_magic_link_url
)

// The public token's rules: the schema of the path parameter public_token
// of GET /account-token/{public_token}. TestLimitsMatchSpec proves each
// equals the spec's.
const (
	maxPublicTokenLen = 256 // maxLength
	// publicTokenPattern is the schema's pattern: printable ASCII but
	// '#', '%', '/' and '?', what may go into a URL path as it is.
	publicTokenPattern = `^[!"$&-.0->@-~]+$`
)

// publicTokenRE is publicTokenPattern, compiled.
var publicTokenRE = regexp.MustCompile(publicTokenPattern)

// publicTokenDotSegments are the values the schema's not refuses: a path
// segment "." or ".." would move the request to another path.
var publicTokenDotSegments = []string{".", ".."}

// The JSON Schema keywords a Violation of the client's validation names.
const (
	ruleRequired  = "required"
	ruleMinLength = "minLength"
	ruleMaxLength = "maxLength"
	ruleMinItems  = "minItems"
	ruleEnum      = "enum"
	ruleMinimum   = "minimum"
	ruleMaximum   = "maximum"
	ruleType      = "type"
	rulePattern   = "pattern"
	// ruleNot is the request schema's not: link_expiry_mins above 720
	// needs should_create_magic_link_url.
	ruleNot = "not"
	// ruleRequestBody is a value that would make the body as a whole
	// undecodable: invalid UTF-8 (JSON text is UTF-8, RFC 8259), or nesting
	// deeper than JSON decoders accept.
	ruleRequestBody = "requestBody"
)

// maxConfigDepth is how deep an integration_specific_config value may
// nest: it sits two levels inside the body, which JSON decoders (and so
// kin-openapi and the contract kit's mock) take up to shared.MaxJSONDepth.
const maxConfigDepth = shared.MaxJSONDepth - 2

// Validate reports whether req, as CreateLinkToken would send it (with
// link_expiry_mins 0 sent as 30), keeps every rule of the spec. It returns
// nil or a *ValidationError listing every violation. It does no I/O.
func Validate(req LinkTokenRequest) error {
	return prepare(&req)
}

// validatePublicToken checks a public token against the schema of the path
// parameter: nil or a *ValidationError. The token is a credential: no
// violation quotes it.
func validatePublicToken(tok string) error {
	var v validator
	add := func(rule, msg string) {
		v.violations.Add(Violation{In: "path", Rule: rule, Message: "public_token " + msg})
	}
	n := utf8.RuneCountInString(tok)
	switch {
	case n < minStringLen:
		add(ruleMinLength, "is required and must not be empty")
	case n > maxPublicTokenLen:
		add(ruleMaxLength, fmt.Sprintf("is %d characters; at most %d are allowed", n, maxPublicTokenLen))
	}
	if n >= minStringLen && !publicTokenRE.MatchString(tok) {
		add(rulePattern, "may hold printable ASCII only, and none of / ? # % or space")
	}
	if slices.Contains(publicTokenDotSegments, tok) {
		add(ruleNot, `must not be "." or ".."`)
	}
	return v.err()
}

// prepare fills in what the client always sends, then validates the result:
// the one path shared by Validate and CreateLinkToken.
func prepare(req *LinkTokenRequest) error {
	if req.LinkExpiryMins == 0 {
		req.LinkExpiryMins = defaultExpiryMins
	}
	var v validator
	v.request(req)
	return v.err()
}

// validator collects the violations of one request.
type validator struct {
	violations shared.ViolationList
}

// err is nil, or the *ValidationError of what was collected.
func (v *validator) err() error {
	if v.violations.Len() == 0 {
		return nil
	}
	vs, n := v.violations.Result()
	return &ValidationError{Violations: vs, Omitted: n}
}

func (v *validator) add(pointer, rule, value, msg string) {
	v.violations.Add(Violation{In: "body", Pointer: pointer, Rule: rule, Value: value, Message: msg})
}

func (v *validator) request(r *LinkTokenRequest) {
	// The email is personal data: its value is never quoted.
	v.boundedString("/end_user_email_address", r.EndUserEmailAddress, true)
	v.boundedString("/end_user_organization_name", r.EndUserOrganizationName, false)
	v.boundedString("/end_user_origin_id", r.EndUserOriginID, false)

	switch {
	case r.Categories == nil:
		v.add("/categories", ruleRequired, "", "is required")
	case len(r.Categories) < minCategories:
		v.add("/categories", ruleMinItems, "", fmt.Sprintf("needs at least %d category", minCategories))
	}
	for i, c := range r.Categories {
		if !c.Valid() {
			v.add(index("/categories", i), ruleEnum, shared.Quote(string(c)), "must be one of "+shared.JoinValues(CategoryValues()))
		}
	}

	// integration and language are omitted when empty, so "" is "absent".
	if r.Language != "" && !r.Language.Valid() {
		v.add("/language", ruleEnum, shared.Quote(string(r.Language)), "must be one of "+shared.JoinValues(LanguageValues()))
	}
	v.expiry(r.LinkExpiryMins, r.ShouldCreateMagicLinkURL)

	for category, scopes := range r.CategoryCommonModelScopes {
		pointer := shared.Pointer("category_common_model_scopes", category)
		if scopes == nil {
			v.add(pointer, ruleType, "null", "must be a list of model scopes")
		}
		for i := range scopes {
			v.modelScope(index(pointer, i), &scopes[i])
		}
	}
	for i := range r.CommonModels {
		v.commonModel(index("/common_models", i), &r.CommonModels[i])
	}
	for slug, raw := range r.IntegrationSpecificConfig {
		pointer := shared.Pointer("integration_specific_config", slug)
		switch {
		case !utf8.Valid(raw) || !utf8.ValidString(slug):
			v.add(pointer, ruleRequestBody, "", "must be valid UTF-8")
		case deeperThan(raw, maxConfigDepth):
			v.add(pointer, ruleRequestBody, "", fmt.Sprintf("is nested more than %d levels deep", maxConfigDepth))
		case !isJSONObject(raw):
			v.add(pointer, ruleType, "", "must be a JSON object")
		}
	}
}

func (v *validator) boundedString(pointer, s string, personal bool) {
	n := utf8.RuneCountInString(s)
	if n < minStringLen {
		v.add(pointer, ruleMinLength, "", "is required and must not be empty")
		return
	}
	if n > maxStringLen {
		value := ""
		if !personal {
			value = shared.Quote(s)
		}
		v.add(pointer, ruleMaxLength, value, fmt.Sprintf("is %d characters; at most %d are allowed", n, maxStringLen))
	}
}

func (v *validator) expiry(mins int, magicLink bool) {
	value := strconv.Itoa(mins)
	switch {
	case mins < minExpiryMins:
		v.add("/link_expiry_mins", ruleMinimum, value, fmt.Sprintf("must be at least %d", minExpiryMins))
	case mins > maxExpiryMinsMagicLink:
		v.add("/link_expiry_mins", ruleMaximum, value, fmt.Sprintf("must be at most %d", maxExpiryMinsMagicLink))
	case mins > maxExpiryMins && !magicLink:
		v.add("/link_expiry_mins", ruleNot, value,
			fmt.Sprintf("must be at most %d unless should_create_magic_link_url is true", maxExpiryMins))
	}
}

func (v *validator) modelScope(pointer string, s *CommonModelScope) {
	if utf8.RuneCountInString(s.ModelName) < minStringLen {
		v.add(pointer+"/model_name", ruleMinLength, "", "is required and must not be empty")
	}
	v.names(pointer+"/field_permissions/enabled_fields", s.FieldPermissions.EnabledFields)
	v.names(pointer+"/field_permissions/disabled_fields", s.FieldPermissions.DisabledFields)
}

func (v *validator) commonModel(pointer string, m *CommonModelScopesBody) {
	if utf8.RuneCountInString(m.ModelID) < minStringLen {
		v.add(pointer+"/model_id", ruleMinLength, "", "is required and must not be empty")
	}
	if m.EnabledActions == nil {
		v.add(pointer+"/enabled_actions", ruleRequired, "", "is required")
	}
	for i, a := range m.EnabledActions {
		if !a.Valid() {
			v.add(index(pointer+"/enabled_actions", i), ruleEnum, shared.Quote(string(a)), "must be one of "+shared.JoinValues(EnabledActionValues()))
		}
	}
	if m.DisabledFields == nil {
		v.add(pointer+"/disabled_fields", ruleRequired, "", "is required")
	}
	v.names(pointer+"/disabled_fields", m.DisabledFields)
}

// names checks a list of field names, each of which must not be empty.
func (v *validator) names(pointer string, list []string) {
	for i, s := range list {
		if utf8.RuneCountInString(s) < minStringLen {
			v.add(index(pointer, i), ruleMinLength, "", "must not be empty")
		}
	}
}

func index(pointer string, i int) string {
	return pointer + "/" + strconv.Itoa(i)
}

// isJSONObject reports whether raw is one valid JSON object.
func isJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(raw)
}

// deeperThan reports whether raw nests objects and arrays more than n
// levels deep before it ends or stops being JSON.
func deeperThan(raw []byte, n int) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > n {
				return true
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
