package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mergelink/linktoken/contracttest"
)

const defaultMockAddr = "127.0.0.1:4010"

// What one client may hold of `linktoken mock`: without these, a client
// that trickles its body or keeps an idle keep-alive connection holds it
// forever, and a signal then waits out the whole grace period.
const (
	// mockReadHeaderTimeout bounds how long a client may take to send a
	// request's headers.
	mockReadHeaderTimeout = 5 * time.Second
	// mockReadTimeout bounds reading a whole request, body included.
	mockReadTimeout = 10 * time.Second
	// mockWriteTimeout bounds writing the answer once the request is read
	// and -latency has passed; the server's WriteTimeout, which counts from
	// the request's headers, is mockReadTimeout + latency + this.
	mockWriteTimeout = 10 * time.Second
	// mockIdleTimeout closes a keep-alive connection that sends no new
	// request.
	mockIdleTimeout = 30 * time.Second
	// mockMaxHeaderBytes caps a request's headers (net/http allows 1 MiB).
	mockMaxHeaderBytes = 64 << 10
	// shutdownGrace is how long in-flight requests get after a signal;
	// then the connections still open are closed and the mock exits 0.
	shutdownGrace = 5 * time.Second
)

// serverLimits are the timeouts and caps of the mock's server; tests
// shorten them.
type serverLimits struct {
	readHeader, read, write, idle, grace time.Duration
	maxHeaderBytes                       int
}

var defaultLimits = serverLimits{
	readHeader: mockReadHeaderTimeout, read: mockReadTimeout, write: mockWriteTimeout,
	idle: mockIdleTimeout, grace: shutdownGrace, maxHeaderBytes: mockMaxHeaderBytes,
}

// newServer returns the server for h; latency is the mock's -latency, which
// the write timeout must leave room for.
func (l serverLimits) newServer(h http.Handler, latency time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.read + latency + l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeaderBytes,
	}
}

// runMock serves the mock until ctx is done (SIGINT or SIGTERM in main).
func runMock(ctx context.Context, args []string, stderr io.Writer, limits serverLimits) int {
	fs := flag.NewFlagSet("mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultMockAddr, "address to listen on (loopback unless you say otherwise)")
	latency := fs.Duration("latency", 0, "delay every answer by this much")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: linktoken mock [flags]

Serves the spec-validating mock of POST /link-token until interrupted, logging
one line per request (never the key or any body value).

Example:
  linktoken mock -addr 127.0.0.1:4010
  curl -s -X POST http://127.0.0.1:4010/link-token -H 'Authorization: Bearer any' \
      -H 'Content-Type: application/json' \
      -d '{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}'

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	mock, err := contracttest.NewMock(contracttest.WithLogger(logger), contracttest.WithLatency(*latency))
	if err != nil {
		fmt.Fprintf(stderr, "linktoken: mock: %v\n", err)
		return exitError
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "linktoken: mock: %v\n", err)
		return exitError
	}
	srv := limits.newServer(mock, *latency)
	logger.Info("mock listening", "url", "http://"+ln.Addr().String()+"/link-token")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "linktoken: mock: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), limits.grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests still in flight after the grace period: cut them off.
		// Stopping is what was asked, so this is not a failure.
		logger.Info("mock closing open connections", "grace", limits.grace, "reason", err.Error())
		_ = srv.Close()
	}
	logger.Info("mock stopped")
	return exitOK
}
