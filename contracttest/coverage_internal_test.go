package contracttest

import (
	"net/http"
	"testing"
)

// TestCoverageWalkAllocatesNothing: recording a request walks the schema
// NewCoverage compiled, with a counter at each item: it builds no key and
// adds no item, so it allocates nothing, and a fuzzer's endless values
// (an enum value the spec lacks, a config key) do not grow a Coverage.
func TestCoverageWalkAllocatesNothing(t *testing.T) {
	// Not parallel: AllocsPerRun refuses to run in a parallel test.
	v, err := defaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	c := newCoverage(v)
	r, _ := v.match(http.MethodPost, "/link-token")
	if r == nil {
		t.Fatal("the Validator matches no POST /link-token: the spec's path changed; use its new path here")
	}
	value := map[string]any{
		"end_user_email_address": "ada@example.com",
		"categories":             []any{"hris", "not-a-category"},
		"language":               nil,
		"integration_specific_config": map[string]any{
			"bamboohr": map[string]any{"subdomain": "acme"},
		},
	}
	items := len(c.hits)
	const runs = 50
	allocs := testing.AllocsPerRun(runs, func() { c.request(r, value, true, nil) })
	if allocs != 0 {
		t.Errorf("recording a request allocated %.1f times: the walk should only follow the compiled schema's counters (node.walk), building no key", allocs)
	}
	if len(c.hits) != items {
		t.Errorf("recording a request grew the Coverage from %d to %d items: only NewCoverage adds items", items, len(c.hits))
	}
	// AllocsPerRun runs the function once more to warm up.
	for _, tc := range []struct {
		kind, target string
		want         int
	}{
		{KindOperation, "POST /link-token", runs + 1},
		{KindEnum, "/categories/* hris", runs + 1},
		{KindPresent, "/categories", runs + 1},
		{KindAbsent, "/integration", runs + 1},
		{KindPresent, "/integration_specific_config", runs + 1},
	} {
		n := c.hits[coverageItem{"POST /link-token", tc.kind, tc.target}]
		if n == nil || *n != tc.want {
			t.Errorf("%s %s: got %d hits, want %d: the compiled walk should count what the value holds", tc.kind, tc.target, deref(n), tc.want)
		}
	}
}

// deref is *n, or -1 when the spec has no such item.
func deref(n *int) int {
	if n == nil {
		return -1
	}
	return *n
}
