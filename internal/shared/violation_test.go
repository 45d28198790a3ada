package shared_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mergelink/linktoken/internal/shared"
)

// TestViolationField: the first token of the pointer, decoded; "" for the
// body as a whole or outside it.
func TestViolationField(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, pointer, want string }{
		{"a top-level member", "/link_expiry_mins", "link_expiry_mins"},
		{"an array item", "/categories/1", "categories"},
		{"a map key", "/integration_specific_config/slug/x", "integration_specific_config"},
		{"the body as a whole", "", ""},
		{"an escaped token is decoded", "/a~1b~0c/0", "a/b~c"},
		{"an empty first token", shared.Pointer("", "x"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.Violation{In: "body", Pointer: tc.pointer}.Field(), "Field of pointer %q", tc.pointer)
		})
	}
}

// TestViolationString: "pointer: message (rule)", the place when there is
// no pointer, the value when there is one.
func TestViolationString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    shared.Violation
		want string
	}{
		{"pointer and value", shared.Violation{In: "body", Pointer: "/link_expiry_mins", Rule: "minimum", Value: "5", Message: "must be at least 30"},
			"/link_expiry_mins: must be at least 30 (minimum; got 5)"},
		{"no value", shared.Violation{In: "body", Pointer: "/end_user_email_address", Rule: "required", Message: "is required"},
			"/end_user_email_address: is required (required)"},
		{"no pointer: the place", shared.Violation{In: "header", Rule: "required", Message: "Authorization is required"},
			"header: Authorization is required (required)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.v.String())
		})
	}
	vs := shared.Violations{cases[0].v, cases[2].v}
	assert.Equal(t, cases[0].want+"; "+cases[2].want, vs.String(), "Violations.String joins with \"; \"")
	assert.Equal(t, "", shared.Violations(nil).String())
}

// TestViolationsFields: the distinct top-level fields, sorted, without the
// violations outside the body's members.
func TestViolationsFields(t *testing.T) {
	t.Parallel()
	vs := shared.Violations{
		{In: "body", Pointer: "/categories/1"},
		{In: "header"},
		{In: "body", Pointer: "/categories/0"},
		{In: "body", Pointer: "/end_user_email_address"},
	}
	assert.Equal(t, []string{"categories", "end_user_email_address"}, vs.Fields())
	assert.Empty(t, shared.Violations{{In: "status"}}.Fields(), "a violation outside the body names no field")
}

// TestPointer: each token escaped (RFC 6901).
func TestPointer(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "/a~1b/0/~0x", shared.Pointer("a/b", "0", "~x"))
	assert.Equal(t, "", shared.Pointer())
	assert.Equal(t, "/", shared.Pointer(""))
}

// TestCompareViolations: by pointer token by token, array indexes (digits
// without a leading zero) by number, a prefix first; then place, rule,
// message and value.
func TestCompareViolations(t *testing.T) {
	t.Parallel()
	at := func(p string) shared.Violation { return shared.Violation{In: "body", Pointer: p} }
	cases := []struct {
		name string
		a, b shared.Violation
		want int
	}{
		{"equal", at("/categories/1"), at("/categories/1"), 0},
		{"by name", at("/a"), at("/b"), -1},
		{"indexes by number", at("/categories/2"), at("/categories/10"), -1},
		{"single-digit indexes", at("/categories/3"), at("/categories/4"), -1},
		{"zero is an index", at("/categories/0"), at("/categories/1"), -1},
		{"a leading zero is not an index: by text", at("/categories/007"), at("/categories/10"), -1},
		{"a token with a letter is not an index: by text", at("/x/10a"), at("/x/9"), -1},
		{"equal indexes, then the next token", at("/1/b"), at("/1/a"), 1},
		{"equal names, then the next token", at("/a/y"), at("/a/x"), 1},
		{"an empty token, then indexes by number", at("//10"), at("//9"), 1},
		{"a prefix first", at("/categories"), at("/categories/0"), -1},
		{"the body first", at(""), at("/a"), -1},
		{"then the place", shared.Violation{In: "body"}, shared.Violation{In: "header"}, -1},
		{"then the rule", shared.Violation{Rule: "maxLength"}, shared.Violation{Rule: "enum"}, 1},
		{"then the message", shared.Violation{Message: "a"}, shared.Violation{Message: "b"}, -1},
		{"then the value", shared.Violation{Value: "2"}, shared.Violation{Value: "1"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, shared.CompareViolations(tc.a, tc.b), "CompareViolations(%+v, %+v)", tc.a, tc.b)
			assert.Equal(t, -tc.want, shared.CompareViolations(tc.b, tc.a), "CompareViolations(%+v, %+v), the other way", tc.b, tc.a)
		})
	}
}

// TestViolationList: the zero value is ready; it counts every violation
// added and keeps MaxViolations, each field's first ones before another
// field's repeats, sorted.
func TestViolationList(t *testing.T) {
	t.Parallel()
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		var l shared.ViolationList
		got, omitted := l.Result()
		assert.Empty(t, got)
		assert.Zero(t, omitted)
		assert.Zero(t, l.Len())
	})
	t.Run("a few, sorted", func(t *testing.T) {
		t.Parallel()
		var l shared.ViolationList
		email := shared.Violation{In: "body", Pointer: "/end_user_email_address", Rule: "required"}
		cat := shared.Violation{In: "body", Pointer: "/categories/0", Rule: "enum"}
		auth := shared.Violation{In: "header", Rule: "required"}
		l.Add(email)
		l.Add(cat)
		l.Add(auth)
		got, omitted := l.Result()
		assert.Equal(t, []shared.Violation{auth, cat, email}, got)
		assert.Zero(t, omitted)
		assert.Equal(t, 3, l.Len())
	})
	t.Run("many: each field's first before another's repeats", func(t *testing.T) {
		t.Parallel()
		var l shared.ViolationList
		email := shared.Violation{In: "body", Pointer: "/end_user_email_address", Rule: "required"}
		category := func(i int) shared.Violation {
			return shared.Violation{In: "body", Pointer: fmt.Sprintf("/categories/%d", i), Rule: "enum"}
		}
		for i := 199; i >= 0; i-- {
			l.Add(category(i))
		}
		l.Add(email)
		var want []shared.Violation
		for i := range shared.MaxViolations - 1 {
			want = append(want, category(i))
		}
		want = append(want, email)
		got, omitted := l.Result()
		assert.Equal(t, want, got, "Result must keep the email's violation and the first categories' ones, sorted")
		assert.Equal(t, 201-shared.MaxViolations, omitted, "Result must count what it left out")
		assert.Equal(t, 201, l.Len(), "Len must count every violation added")
		assert.True(t, slices.IsSortedFunc(got, shared.CompareViolations))
	})
}

// TestViolationListMemoryIsBounded: a field keeps at most 2×MaxViolations
// violations whatever is added, so adding 100000 to one field allocates a
// few bytes each, not a list of 100000 (8 MB). (Not parallel: MemStats
// counts every goroutine's allocations.)
func TestViolationListMemoryIsBounded(t *testing.T) {
	const n = 100_000
	v := shared.Violation{In: "body", Rule: "type", Message: "must be an object"}
	var l shared.ViolationList
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		l.Add(v)
	}
	runtime.ReadMemStats(&after)
	perAdd := (after.TotalAlloc - before.TotalAlloc) / n
	assert.Less(t, perAdd, uint64(80), "adding a violation allocated %d bytes on average: ViolationList must cut a field's list when it reaches 2×MaxViolations", perAdd)
	assert.Equal(t, n, l.Len())
}
