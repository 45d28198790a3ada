package contracttest

import (
	"strconv"
	"testing"
	"unsafe"
)

// TestCoverageTargetsBounded: target interns what it builds, so a walk
// allocates nothing for targets it saw before, but holds at most
// maxTargets of them, so a fuzzer's endless enum values do not grow a
// Coverage without bound; past the bound it still builds the right target.
func TestCoverageTargetsBounded(t *testing.T) {
	t.Parallel()
	c := &Coverage{targets: map[[3]string]string{}}
	for i := range maxTargets + 10 {
		name := strconv.Itoa(i)
		if got := c.target("/categories/*", " ", name); got != "/categories/* "+name {
			t.Fatalf("target(%q, %q, %q) = %q, want their concatenation", "/categories/*", " ", name, got)
		}
	}
	if len(c.targets) != maxTargets {
		t.Fatalf("a Coverage holds %d interned targets after %d distinct ones, want maxTargets (%d): it should intern up to the bound and no further", len(c.targets), maxTargets+10, maxTargets)
	}
	first, again := c.target("/categories/*", " ", "0"), c.target("/categories/*", " ", "0")
	if unsafe.StringData(first) != unsafe.StringData(again) {
		t.Fatal("target built the same target twice: it should return the interned string, allocating nothing")
	}
}
