package benchdata_test

import (
	"testing"
	"time"

	"github.com/mergelink/linktoken/internal/benchdata"
)

// TestPaired: Paired runs every side once per iteration and reports each
// side's time per call and its ratio to the first side's.
func TestPaired(t *testing.T) {
	if testing.Short() {
		t.Skip("times sleeps: not in -short")
	}
	var calls [2]int
	side := func(i int, d time.Duration) benchdata.Impl {
		return benchdata.Impl{Name: []string{"fast", "slow"}[i], Setup: func(*testing.B) func() {
			return func() { calls[i]++; time.Sleep(d) }
		}}
	}
	r := testing.Benchmark(func(b *testing.B) {
		calls = [2]int{}
		benchdata.Paired(b, []benchdata.Impl{side(0, 2*time.Millisecond), side(1, 8*time.Millisecond)})
	})
	if calls[0] != calls[1] || calls[0] != r.N+1 {
		t.Errorf("calls = %v over %d iterations, want %d of each side (one untimed, then one an iteration)", calls, r.N, r.N+1)
	}
	ratio := r.Extra["slow/fast"]
	// A sleep overshoots by up to a few milliseconds on a busy machine.
	if ratio < 1.5 || ratio > 4.5 {
		t.Errorf("slow/fast = %.2f, want about 4 (sides sleeping 2 ms and 8 ms): Paired must report the second side's time over the first's; metrics %v", ratio, r.Extra)
	}
	if ns := r.Extra["slow-ns/call"]; ns < float64(8*time.Millisecond) {
		t.Errorf("slow-ns/call = %.0f, want at least 8e6 (the side sleeps 8 ms); metrics %v", ns, r.Extra)
	}
	if _, ok := r.Extra["fast/fast"]; ok {
		t.Errorf("the first side has no ratio to itself; metrics %v", r.Extra)
	}
}
