package client

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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

// MaxViolations bounds how many violations one error lists; the rest are
// counted in Omitted.
const MaxViolations = 50

// Rule names used in Violation.Rule: the JSON Schema keyword that failed.
const (
	RuleRequired  = "required"
	RuleMinLength = "minLength"
	RuleMaxLength = "maxLength"
	RuleMinItems  = "minItems"
	RuleEnum      = "enum"
	RuleMinimum   = "minimum"
	RuleMaximum   = "maximum"
	RuleType      = "type"
	// RuleNot is the request schema's not: link_expiry_mins above 720
	// needs should_create_magic_link_url.
	RuleNot = "not"
	// RuleRequestBody is a value that would make the body as a whole
	// undecodable: invalid UTF-8 (JSON text is UTF-8, RFC 8259), or nesting
	// deeper than JSON decoders accept.
	RuleRequestBody = "requestBody"
)

// maxJSONDepth is the deepest nesting encoding/json decodes (and so
// kin-openapi and the contract suite's mock); an integration_specific_config
// value sits two levels inside the body.
const (
	maxJSONDepth   = 10000
	maxConfigDepth = maxJSONDepth - 2
)

// Violation is one rule of the spec that a request or a response breaks. The
// client's validation and the contract suite (package contracttest) report
// the same type.
type Violation struct {
	// In is where the problem is: "body", "header", "security", "status" or
	// "operation".
	In string
	// Pointer is the RFC 6901 JSON pointer of the offending value in the
	// body, such as "/link_expiry_mins" or "/categories/1"; "" for the body
	// as a whole or outside it.
	Pointer string
	// Rule is the spec's keyword that failed, such as "maxLength" or "not".
	Rule string
	// Value is the offending value, or "" where it is personal data (the
	// email address), too long or absent.
	Value string
	// Message says what the rule requires.
	Message string
}

// Field returns the top-level body field the violation concerns, or "".
func (v Violation) Field() string {
	p := strings.TrimPrefix(v.Pointer, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
}

// String returns "pointer: message (rule)", with the value when there is
// one: `/link_expiry_mins: must be at least 30 (minimum; got 5)`.
func (v Violation) String() string {
	where := v.Pointer
	if where == "" {
		where = v.In
	}
	if v.Value == "" {
		return fmt.Sprintf("%s: %s (%s)", where, v.Message, v.Rule)
	}
	return fmt.Sprintf("%s: %s (%s; got %s)", where, v.Message, v.Rule, v.Value)
}

// Violations is a list of violations in a deterministic order: by pointer,
// then rule, then message.
type Violations []Violation

// Fields returns the distinct top-level body fields named, sorted.
func (vs Violations) Fields() []string {
	var out []string
	for _, v := range vs {
		if f := v.Field(); f != "" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// String joins the violations with "; ".
func (vs Violations) String() string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// ViolationList collects violations as they are found and keeps those that
// will be shown: at most MaxViolations, each field's first ones before
// another field's repeats, so a request with thousands of bad categories
// still names its missing email. Memory stays bounded by MaxViolations per
// field whatever is added, and adding n costs O(n log MaxViolations). The
// zero value is ready to use; the client's validation and the contract
// suite collect with it, so both report the same violations in the same
// order.
type ViolationList struct {
	byField map[string]*boundedList
	n       int
}

// Add records one violation.
func (l *ViolationList) Add(v Violation) {
	if l.byField == nil {
		l.byField = map[string]*boundedList{}
	}
	f := v.Field()
	b := l.byField[f]
	if b == nil {
		b = &boundedList{}
		l.byField[f] = b
	}
	b.add(v)
	l.n++
}

// Len returns how many violations were added.
func (l *ViolationList) Len() int { return l.n }

// Result returns the violations kept, sorted by pointer, and how many were
// left out.
func (l *ViolationList) Result() (Violations, int) {
	var candidates []rankedViolation
	for _, b := range l.byField {
		slices.SortFunc(b.items, compareViolations)
		for rank, v := range b.items {
			candidates = append(candidates, rankedViolation{rank, v})
		}
	}
	slices.SortFunc(candidates, func(a, b rankedViolation) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), compareViolations(a.v, b.v))
	})
	keep := min(len(candidates), MaxViolations)
	var out Violations
	for _, c := range candidates[:keep] {
		out = append(out, c.v)
	}
	slices.SortFunc(out, compareViolations)
	return out, l.n - keep
}

type rankedViolation struct {
	rank int
	v    Violation
}

// boundedList keeps the MaxViolations smallest violations added, in a max
// heap on compareViolations.
type boundedList struct{ items []Violation }

func (l *boundedList) add(v Violation) {
	if len(l.items) < MaxViolations {
		l.items = append(l.items, v)
		l.up(len(l.items) - 1)
		return
	}
	if compareViolations(v, l.items[0]) >= 0 {
		return // not among the smallest
	}
	l.items[0] = v
	l.down(0)
}

func (l *boundedList) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if compareViolations(l.items[i], l.items[p]) <= 0 {
			return
		}
		l.items[i], l.items[p] = l.items[p], l.items[i]
		i = p
	}
}

func (l *boundedList) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(l.items) {
			return
		}
		if c+1 < len(l.items) && compareViolations(l.items[c+1], l.items[c]) > 0 {
			c++
		}
		if compareViolations(l.items[c], l.items[i]) <= 0 {
			return
		}
		l.items[i], l.items[c] = l.items[c], l.items[i]
		i = c
	}
}

// compareViolations orders violations by pointer (array indexes by number),
// then where, rule, message and value.
func compareViolations(a, b Violation) int {
	return cmp.Or(comparePointers(a.Pointer, b.Pointer), cmp.Compare(a.In, b.In),
		cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message), cmp.Compare(a.Value, b.Value))
}

// comparePointers orders JSON pointers token by token, array indexes by
// number, so /categories/2 comes before /categories/10. It allocates
// nothing.
func comparePointers(a, b string) int {
	for a != "" && b != "" {
		var x, y string
		x, a = nextToken(a)
		y, b = nextToken(b)
		if isIndex(x) && isIndex(y) {
			if c := cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(x, y)); c != 0 {
				return c
			}
			continue
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b)) // a prefix comes first
}

// nextToken splits "/a/b" into "a" and "/b".
func nextToken(p string) (string, string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// isIndex reports whether a pointer token is an array index: digits without
// a leading zero.
func isIndex(t string) bool {
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// ValidationError reports a request that breaks the spec. Nothing was sent.
type ValidationError struct {
	// Violations lists the rules broken, in pointer order, at most
	// MaxViolations of them.
	Violations Violations
	// Omitted counts the violations found beyond MaxViolations.
	Omitted int
}

// Error names each offending field and its rule, on one line: a map key of
// the request (a category, an integration slug) goes into a pointer, so the
// line goes through Printable.
func (e *ValidationError) Error() string {
	return "linktoken: invalid request: " + Printable(e.Violations.String()+omitted(e.Omitted))
}

// Format prints the error's one line for every verb.
func (e *ValidationError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log the error's line and the fields named.
func (e *ValidationError) LogValue() slog.Value {
	return slog.GroupValue(slog.String("error", e.Error()), slog.Any("fields", e.Fields()))
}

// Fields returns the distinct top-level fields that break the spec, sorted.
func (e *ValidationError) Fields() []string { return e.Violations.Fields() }

// omitted describes violations left out of a message.
func omitted(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; and %d more", n)
}

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
	if v.violations.Len() == 0 {
		return nil
	}
	vs, n := v.violations.Result()
	return &ValidationError{Violations: vs, Omitted: n}
}

type validator struct {
	violations ViolationList
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
		v.add("/categories", RuleRequired, "", "is required")
	case len(r.Categories) < minCategories:
		v.add("/categories", RuleMinItems, "", fmt.Sprintf("needs at least %d category", minCategories))
	}
	for i, c := range r.Categories {
		if !c.Valid() {
			v.add(index("/categories", i), RuleEnum, quote(string(c)), "must be one of "+joinValues(CategoryValues()))
		}
	}

	// integration and language are omitted when empty, so "" is "absent".
	if r.Language != "" && !r.Language.Valid() {
		v.add("/language", RuleEnum, quote(string(r.Language)), "must be one of "+joinValues(LanguageValues()))
	}
	v.expiry(r.LinkExpiryMins, r.ShouldCreateMagicLinkURL)

	for category, scopes := range r.CategoryCommonModelScopes {
		pointer := "/category_common_model_scopes/" + escape(category)
		if scopes == nil {
			v.add(pointer, RuleType, "null", "must be a list of model scopes")
		}
		for i := range scopes {
			v.modelScope(index(pointer, i), &scopes[i])
		}
	}
	for i := range r.CommonModels {
		v.commonModel(index("/common_models", i), &r.CommonModels[i])
	}
	for slug, raw := range r.IntegrationSpecificConfig {
		pointer := "/integration_specific_config/" + escape(slug)
		switch {
		case !utf8.Valid(raw) || !utf8.ValidString(slug):
			v.add(pointer, RuleRequestBody, "", "must be valid UTF-8")
		case jsonDepth(raw) > maxConfigDepth:
			v.add(pointer, RuleRequestBody, "", fmt.Sprintf("is nested more than %d levels deep", maxConfigDepth))
		case !isJSONObject(raw):
			v.add(pointer, RuleType, "", "must be a JSON object")
		}
	}
}

func (v *validator) boundedString(pointer, s string, personal bool) {
	n := utf8.RuneCountInString(s)
	if n < minStringLen {
		v.add(pointer, RuleMinLength, "", "is required and must not be empty")
		return
	}
	if n > maxStringLen {
		value := ""
		if !personal {
			value = quote(s)
		}
		v.add(pointer, RuleMaxLength, value, fmt.Sprintf("is %d characters; at most %d are allowed", n, maxStringLen))
	}
}

func (v *validator) expiry(mins int, magicLink bool) {
	value := strconv.Itoa(mins)
	switch {
	case mins < minExpiryMins:
		v.add("/link_expiry_mins", RuleMinimum, value, fmt.Sprintf("must be at least %d", minExpiryMins))
	case mins > maxExpiryMinsMagicLink:
		v.add("/link_expiry_mins", RuleMaximum, value, fmt.Sprintf("must be at most %d", maxExpiryMinsMagicLink))
	case mins > maxExpiryMins && !magicLink:
		v.add("/link_expiry_mins", RuleNot, value,
			fmt.Sprintf("must be at most %d unless should_create_magic_link_url is true", maxExpiryMins))
	}
}

func (v *validator) modelScope(pointer string, s *CommonModelScope) {
	if utf8.RuneCountInString(s.ModelName) < minStringLen {
		v.add(pointer+"/model_name", RuleMinLength, "", "is required and must not be empty")
	}
	v.names(pointer+"/field_permissions/enabled_fields", s.FieldPermissions.EnabledFields)
	v.names(pointer+"/field_permissions/disabled_fields", s.FieldPermissions.DisabledFields)
}

func (v *validator) commonModel(pointer string, m *CommonModelScopesBody) {
	if utf8.RuneCountInString(m.ModelID) < minStringLen {
		v.add(pointer+"/model_id", RuleMinLength, "", "is required and must not be empty")
	}
	if m.EnabledActions == nil {
		v.add(pointer+"/enabled_actions", RuleRequired, "", "is required")
	}
	for i, a := range m.EnabledActions {
		if !a.Valid() {
			v.add(index(pointer+"/enabled_actions", i), RuleEnum, quote(string(a)), "must be one of "+joinValues(EnabledActionValues()))
		}
	}
	if m.DisabledFields == nil {
		v.add(pointer+"/disabled_fields", RuleRequired, "", "is required")
	}
	v.names(pointer+"/disabled_fields", m.DisabledFields)
}

// names checks a list of field names, each of which must not be empty.
func (v *validator) names(pointer string, list []string) {
	for i, s := range list {
		if utf8.RuneCountInString(s) < minStringLen {
			v.add(index(pointer, i), RuleMinLength, "", "must not be empty")
		}
	}
}

func index(pointer string, i int) string {
	return pointer + "/" + strconv.Itoa(i)
}

// escape encodes a key as one JSON pointer token (RFC 6901).
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

// isJSONObject reports whether raw is one valid JSON object.
func isJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(raw)
}

// jsonDepth returns how deeply raw nests objects and arrays, without
// decoding it: brackets inside strings do not count.
func jsonDepth(raw []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// maxQuotedValue bounds how much of an offending value a Violation quotes.
const maxQuotedValue = 40

// quote is a value as a Violation shows it: Go-quoted (so control characters
// are escaped) and cut to maxQuotedValue runes.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuotedValue {
		s = string([]rune(s)[:maxQuotedValue]) + "…"
	}
	return strconv.Quote(s)
}
