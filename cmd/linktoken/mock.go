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

const (
	defaultMockAddr = "127.0.0.1:4010"
	// shutdownGrace is how long in-flight requests get after a signal.
	shutdownGrace = 5 * time.Second
)

// runMock serves the mock until ctx is done (SIGINT or SIGTERM in main).
func runMock(ctx context.Context, args []string, stderr io.Writer) int {
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
	srv := &http.Server{
		Handler:           mock,
		ReadHeaderTimeout: 5 * time.Second,
	}
	logger.Info("mock listening", "url", "http://"+ln.Addr().String()+"/link-token")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "linktoken: mock: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "linktoken: mock: shutdown: %v\n", err)
		return exitError
	}
	logger.Info("mock stopped")
	return exitOK
}
