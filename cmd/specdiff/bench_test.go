package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fiveMBModels is how many extra schemas and paths largeDocument needs to
// reach about 5 MB (288 bytes each).
const fiveMBModels = 17500

// BenchmarkUpstreamWholeRun is "specdiff upstream" on a generated 5 MB
// document, from reading the file to writing the report: what a CI job
// waits for. It reports the document's size and the peak heap seen while it
// ran, sampled every millisecond (peak-heap-MiB), besides -benchmem's B/op.
// "trimmed" is what specdiff does; "whole" loads the whole document with
// kin-openapi, as specdiff did before trimJSON (seconds and gigabytes per
// run: skipped with -short).
func BenchmarkUpstreamWholeRun(b *testing.B) {
	data := largeDocument(b, fiveMBModels)
	path := filepath.Join(b.TempDir(), "large.json")
	require.NoError(b, os.WriteFile(path, data, 0o600))
	for _, whole := range []bool{false, true} {
		name := map[bool]string{false: "trimmed", true: "whole"}[whole]
		b.Run(name, func(b *testing.B) {
			if whole && testing.Short() {
				b.Skip("loads 5 MB with kin-openapi: seconds per run")
			}
			u := upstreamRun{specs: []string{path}, ours: "testdata/ours.yaml", format: "text", whole: whole}
			peak := startHeapSampler(b)
			b.ReportAllocs()
			for b.Loop() {
				if code, err := u.run(io.Discard); code != exitOK || err != nil {
					b.Fatalf("exit %d: %v", code, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(len(data))/(1<<20), "doc-MiB")
			b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		})
	}
}

// startHeapSampler samples the bytes held by live and not yet swept heap
// objects until the returned function is called (or the test or benchmark
// ends), which returns the highest sample minus the heap held when sampling
// started.
func startHeapSampler(tb testing.TB) func() float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() float64 {
		metrics.Read(sample)
		return float64(sample[0].Value.Uint64())
	}
	base, high := read(), 0.0
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				high = max(high, read())
			}
		}
	}()
	var once sync.Once
	stop := func() float64 {
		once.Do(func() { close(done); <-stopped })
		return max(high-base, 0)
	}
	tb.Cleanup(func() { stop() })
	return stop
}

// BenchmarkTraffic is "specdiff traffic" on a generated 16 MB archive, from
// reading the file to writing the report: "browser" has a 32 KiB script of
// another host after each create and exchange (writeLargeHAR), "ours" only
// creates and exchanges, each with its own secrets. It reports MB/s of
// archive and the peak heap seen while it ran (peak-heap-MiB), sampled
// every millisecond. The archive is read from a file, as the command
// reads it, so that it is not on the heap, where the garbage collector
// would let the heap grow by as much again.
func BenchmarkTraffic(b *testing.B) {
	for _, bench := range []struct {
		name   string
		script int
	}{{"browser", 32 << 10}, {"ours", 0}} {
		b.Run(bench.name, func(b *testing.B) {
			var archive bytes.Buffer
			_, err := writeLargeHAR(&archive, 16<<20, bench.script)
			require.NoError(b, err)
			path := filepath.Join(b.TempDir(), "large.har")
			require.NoError(b, os.WriteFile(path, archive.Bytes(), 0o600))
			b.SetBytes(int64(archive.Len()))
			archive = bytes.Buffer{}
			peak := startHeapSampler(b)
			b.ReportAllocs()
			for b.Loop() {
				if code, err := runTraffic([]string{path}, io.Discard); err != nil || code != exitChanges {
					b.Fatalf("exit %d: %v", code, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
		})
	}
}
