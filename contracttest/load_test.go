package contracttest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
)

const (
	loadCalls    = 10000 // calls fired at the mock
	loadInFlight = 64    // at most this many at once
)

// TestLoad fires 10,000 concurrent calls at the mock through one client with
// its default transport: every call succeeds, connections are reused, and no
// goroutine is left behind.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	before := runtime.NumGoroutine()
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(newMock(t))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	c, err := client.New("load-key", client.WithBaseURL(srv.URL))
	require.NoError(t, err)

	var wg sync.WaitGroup
	var failed atomic.Int32
	sem := make(chan struct{}, loadInFlight)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range loadCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			req := ada()
			req.ShouldCreateMagicLinkURL = i%2 == 0
			tok, err := c.CreateLinkToken(ctx, req)
			if err != nil || tok.LinkToken == "" || (tok.MagicLinkURL != "") != req.ShouldCreateMagicLinkURL {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, failed.Load(), "failed calls")
	assert.LessOrEqual(t, int(newConns.Load()), 2*loadInFlight, "connections are reused: %d new for %d calls", newConns.Load(), loadCalls)
	t.Logf("%d calls over %d connections", loadCalls, newConns.Load())

	srv.CloseClientConnections()
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2, "goroutines left behind")
}

// TestBurstKeepsItsConnections: 512 calls in flight at once, four times over,
// through the default transport: the pool opens at most one connection per
// call in flight and keeps them for the next burst, instead of closing and
// reopening them (net/http's default keeps 2 idle).
func TestBurstKeepsItsConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const inFlight, bursts = 512, 4
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"link_token":"tok"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := client.New("burst-key", client.WithBaseURL(srv.URL))
	require.NoError(t, err)
	for range bursts {
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.CreateLinkToken(context.Background(), ada()); err != nil {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Zero(t, failed.Load())
	}
	assert.LessOrEqual(t, int(newConns.Load()), inFlight, "%d new connections for %d bursts of %d calls", newConns.Load(), bursts, inFlight)
}
