package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// largeExtraEvery: one create in so many of writeLargeHAR's answers with
// an undocumented member.
const largeExtraEvery = 100

// writeLargeHAR writes an archive of at least size bytes to w, as a
// browser exports one (no secret redacted): cycles of a create, an
// exchange (each with its own email and tokens, so that the secrets
// remembered grow with the archive) and, unless scriptBytes is 0, another
// host's script of that size; one create in largeExtraEvery answers with
// an undocumented member. It returns how many cycles it wrote.
func writeLargeHAR(w io.Writer, size, scriptBytes int) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	script := quote(strings.Repeat("console.log('a large script, not ours');\n", scriptBytes/42))
	n, cycles := 0, 0
	write := func(s string) {
		if _, err := bw.WriteString(s); err == nil {
			n += len(s)
		}
	}
	write(`{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],"entries":[`)
	for n < size {
		if cycles > 0 {
			write(",")
		}
		extra := ""
		if cycles%largeExtraEvery == 0 {
			extra = `,"expires_in":1800`
		}
		email, link := fmt.Sprintf("user%07d@example.com", cycles), fmt.Sprintf("lt_%022d", cycles)
		public, account := fmt.Sprintf("pt_%022d", cycles), fmt.Sprintf("at_%022d", cycles)
		auth := `{"name":"authorization","value":"Bearer sk_live_0123456789abcdef"}`
		write(`{"_resourceType":"fetch","request":{"method":"POST","url":"https://api.merge.dev/api/hris/v1/link-token","headers":[` + auth +
			`,{"name":"content-type","value":"application/json"}],"cookies":[],"postData":{"mimeType":"application/json","text":` +
			quote(createBody(email, "")) + `}},"response":{"status":200,"headers":[{"name":"content-type","value":"application/json"}],"cookies":[],"content":{"mimeType":"application/json","text":` +
			quote(`{"link_token":"`+link+`"`+extra+`}`) + `}},"timings":{"wait":120}},`)
		write(`{"request":{"method":"GET","url":"https://api.merge.dev/api/hris/v1/account-token/` + public + `","headers":[` + auth +
			`],"cookies":[]},"response":{"status":200,"headers":[{"name":"content-type","value":"application/json"}],"cookies":[],"content":{"mimeType":"application/json","text":` +
			quote(`{"account_token":"`+account+`","integration":{"name":"BambooHR","categories":["hris"],"slug":"bamboohr"}}`) + `}}}`)
		if scriptBytes == 0 {
			cycles++
			continue
		}
		write(`,{"request":{"method":"GET","url":"https://cdn.example.com/app.js","headers":[],"cookies":[]},"response":{"status":200,"headers":[],"cookies":[],"content":{"mimeType":"text/javascript","text":` +
			script + `}}}`)
		cycles++
	}
	write(`]}}`)
	return cycles, bw.Flush()
}

// TestTrafficStreamsInBoundedMemory streams a 100 MB archive through a
// pipe, never whole in memory, and checks that the heap the run holds
// stays under 64 MiB. It takes about a second (seconds under the race
// detector, where it is skipped, as with -short).
func TestTrafficStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 100 MB: skipped with -short and under the race detector")
	}
	const size = 100 << 20
	pr, pw := io.Pipe()
	cycles := make(chan int, 1)
	go func() {
		n, err := writeLargeHAR(pw, size, 32<<10)
		cycles <- n
		pw.CloseWithError(err)
	}()
	peak := startHeapSampler(t)
	start := time.Now()
	var out bytes.Buffer
	code, err := trafficRun{format: "json", archive: "large.har"}.run(pr, &out)
	elapsed, high := time.Since(start), peak()
	require.NoError(t, err)
	n := <-cycles
	assert.Equal(t, exitChanges, code, "one create in %d answers with an undocumented member", largeExtraEvery)
	var r trafficReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, []int{3 * n, 2 * n, n, 1}, []int{r.Entries, r.Ours, r.NotOurs, r.Failures})
	require.Len(t, r.Operations[1].Findings, 1)
	assert.Equal(t, (n+largeExtraEvery-1)/largeExtraEvery, r.Operations[1].Findings[0].Entries)
	assert.Less(t, high, float64(64<<20), "the peak heap while streaming 100 MB")
	t.Logf("%d MB in %v (%.0f MB/s), %d entries, peak heap %.1f MiB", size>>20, elapsed.Round(time.Millisecond),
		float64(size)/(1<<20)/elapsed.Seconds(), r.Entries, high/(1<<20))
}
