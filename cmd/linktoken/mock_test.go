package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastLimits are the mock's limits shortened so that the tests run fast.
var fastLimits = serverLimits{
	readHeader: 300 * time.Millisecond, read: 400 * time.Millisecond, write: 400 * time.Millisecond,
	idle: 400 * time.Millisecond, grace: 300 * time.Millisecond, maxHeaderBytes: 4 << 10,
}

// slack is how much later than its limit a connection may close on a busy
// machine; a server without the limit keeps it open past slowClientWait.
const (
	slack          = 1500 * time.Millisecond
	slowClientWait = 5 * time.Second
)

// syncBuffer is a bytes.Buffer safe for the mock's logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningMock is `linktoken mock` run in-process on a free loopback port.
type runningMock struct {
	addr string // host:port
	log  *syncBuffer
	stop context.CancelFunc
	done chan int // the exit code
}

func startMockCommand(t *testing.T, limits serverLimits, args ...string) *runningMock {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &runningMock{log: &syncBuffer{}, stop: cancel, done: make(chan int, 1)}
	go func() {
		m.done <- runMock(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, m.log, env(nil), limits)
	}()
	t.Cleanup(func() {
		cancel()
		<-m.done
	})
	listening := regexp.MustCompile(`url=http://(\S+)/link-token`)
	require.Eventually(t, func() bool {
		match := listening.FindStringSubmatch(m.log.String())
		if match != nil {
			m.addr = match[1]
		}
		return match != nil
	}, 10*time.Second, 10*time.Millisecond, "the mock did not start: %s", m.log.String())
	return m
}

const validBody = `{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`

// trickle writes the start of a request, then one byte at a time until the
// server closes the connection or stop is closed.
func trickle(conn net.Conn, head string, stop <-chan struct{}) {
	if _, err := io.WriteString(conn, head); err != nil {
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

// closedAfter reads conn until the server closes it and returns how long
// that took since start and what was read, or fails after slowClientWait.
func closedAfter(t *testing.T, conn net.Conn, start time.Time) (time.Duration, string) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(slowClientWait)))
	got, err := io.ReadAll(conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("the server kept the connection open for %s", slowClientWait)
	}
	return time.Since(start), string(got)
}

// TestMockServerLimits: slow and idle clients are cut off within the
// server's limits, and oversized headers are refused.
func TestMockServerLimits(t *testing.T) {
	t.Parallel()
	m := startMockCommand(t, fastLimits)
	post := "POST /link-token HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n"
	cases := []struct {
		name  string
		limit time.Duration
		run   func(t *testing.T, conn net.Conn, stop <-chan struct{})
		want  string // in what the server sent back, if anything
	}{
		{"trickled headers", fastLimits.readHeader, func(_ *testing.T, conn net.Conn, stop <-chan struct{}) {
			go trickle(conn, "POST /link-token HTTP/1.1\r\nX-Slow: ", stop)
		}, ""},
		{"trickled body", fastLimits.read, func(_ *testing.T, conn net.Conn, stop <-chan struct{}) {
			go trickle(conn, post+"Content-Length: 100000\r\n\r\n", stop)
		}, ""},
		{"idle keep-alive connection", fastLimits.idle, func(t *testing.T, conn net.Conn, _ <-chan struct{}) {
			_, err := io.WriteString(conn, post+"Content-Length: "+strconv.Itoa(len(validBody))+"\r\n\r\n"+validBody)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(t, 200, resp.StatusCode)
		}, ""},
		{"oversized headers", fastLimits.readHeader, func(t *testing.T, conn net.Conn, _ <-chan struct{}) {
			_, err := io.WriteString(conn, post+"X-Big: "+strings.Repeat("b", 2*fastLimits.maxHeaderBytes)+"\r\n\r\n")
			require.NoError(t, err)
		}, "431 Request Header Fields Too Large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", m.addr)
			require.NoError(t, err)
			defer conn.Close()
			stop := make(chan struct{})
			defer close(stop)
			tc.run(t, conn, stop)
			elapsed, got := closedAfter(t, conn, time.Now())
			assert.Less(t, elapsed, tc.limit+slack, "closed within its limit")
			assert.Contains(t, got, tc.want)
		})
	}
}

// TestMockInterruptWithSlowClients: a signal with a slow client connected
// stops the mock within the grace period, with exit 0.
func TestMockInterruptWithSlowClients(t *testing.T) {
	t.Parallel()
	// Limits long enough that only the grace period can end the wait.
	limits := fastLimits
	limits.readHeader, limits.read, limits.idle = time.Minute, time.Minute, time.Minute
	m := startMockCommand(t, limits)

	stop := make(chan struct{})
	defer close(stop)
	trickler, err := net.Dial("tcp", m.addr)
	require.NoError(t, err)
	defer trickler.Close()
	go trickle(trickler, "POST /link-token HTTP/1.1\r\nHost: mock\r\nContent-Length: 100000\r\n\r\n", stop)
	idle, err := net.Dial("tcp", m.addr)
	require.NoError(t, err)
	defer idle.Close()
	time.Sleep(100 * time.Millisecond) // let the server read the trickler's headers

	start := time.Now()
	m.stop()
	select {
	case code := <-m.done:
		m.done <- code // for the cleanup
		assert.Equal(t, exitOK, code, m.log.String())
		assert.Less(t, time.Since(start), limits.grace+slack)
	case <-time.After(slowClientWait):
		t.Fatalf("the mock did not stop: %s", m.log.String())
	}
	assert.Contains(t, m.log.String(), "mock stopped")
	assert.NotContains(t, m.log.String(), "linktoken: mock: shutdown")
}
