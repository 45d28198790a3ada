package main

import (
	"strings"

	"github.com/mergelink/linktoken/client"
)

// flagFields is the one table between the flags of create and the request
// fields they set, named as in the spec: messages about a field name the
// flag the user typed.
var flagFields = []struct{ flag, field string }{
	{"email", "end_user_email_address"},
	{"org", "end_user_organization_name"},
	{"origin-id", "end_user_origin_id"},
	{"category", "categories"},
	{"integration", "integration"},
	{"expiry", "link_expiry_mins"},
	{"magic-link", "should_create_magic_link_url"},
	{"hide-admin-magic-link", "hide_admin_magic_link"},
	{"language", "language"},
	{"scopes", "category_common_model_scopes"},
}

// flagFor returns the flag that sets a request field, or "".
func flagFor(field string) string {
	for _, f := range flagFields {
		if f.field == field {
			return f.flag
		}
	}
	return ""
}

// describe words a violation of the request for the user, naming the flag
// and the field: `-org (end_user_organization_name) is required`,
// `-category (categories/0): must be one of accounting, ... (got "payroll")`.
func describe(v client.Violation) string {
	pointer := strings.TrimPrefix(v.Pointer, "/")
	where := pointer
	if where == "" {
		where = v.In
	}
	flag := flagFor(v.Field())
	if flag != "" {
		where = "-" + flag + " (" + pointer + ")"
	}
	// A missing or empty top-level field is a flag not given.
	if flag != "" && pointer == v.Field() &&
		(v.Rule == "required" || v.Rule == "minLength" && strings.HasPrefix(v.Message, "is required")) {
		return where + " is required"
	}
	msg := where + ": " + v.Message
	if v.Value != "" {
		msg += " (got " + v.Value + ")"
	}
	return msg
}

// enumValue returns the value of values that s names in any case, or s as
// given when none does, for validation to report with the accepted values.
func enumValue[T ~string](s string, values []T) T {
	s = strings.TrimSpace(s)
	for _, v := range values {
		if strings.EqualFold(string(v), s) {
			return v
		}
	}
	return T(s)
}
