package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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

const mockHelp = `Usage: linktoken mock [flags]

Serves the spec-validating mock of Merge's Link API until interrupted, logging
one line per request on stderr (never the key, the email, a token or any body
value). It plays the whole flow, so a service in any language can test it:
POST /link-token issues a link token; POST /_mock/complete-link with
{"link_token": "..."} stands in for the end user finishing Merge Link and
answers {"public_token": "..."}; GET /account-token/{public_token} exchanges
it, once. A request's Prefer header asks for one of the spec's answers, as
Prism's mock does: "code=429" (a documented status), "example=magicLink" (a
named example), "dynamic=false" (the first example).

Example:
  linktoken mock -addr 127.0.0.1:4010
  curl -s -X POST http://127.0.0.1:4010/link-token -H 'Authorization: Bearer any' \
      -H 'Content-Type: application/json' \
      -d '{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}'
  curl -s -X POST http://127.0.0.1:4010/_mock/complete-link -d '{"link_token":"<link_token>"}'
  curl -s http://127.0.0.1:4010/account-token/<public_token> -H 'Authorization: Bearer any'
  curl -s http://127.0.0.1:4010/account-token/any -H 'Authorization: Bearer any' -H 'Prefer: code=404'

Flags:
`

// runMock serves the mock until ctx is done (SIGINT or SIGTERM in main).
func runMock(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, limits serverLimits) int {
	cmd := newCommand("mock", "mock [flags]", mockHelp)
	addr := cmd.flags.String("addr", defaultMockAddr, "`host:port` to listen on (loopback unless you say otherwise; port 0 picks a free one)")
	latency := cmd.flags.Duration("latency", 0, "delay every answer by this much")
	webhookURL := cmd.flags.String("webhook-url", "", "deliver the signed linked-account webhook to this `URL` when a link completes")
	webhookKeyEnv := cmd.flags.String("webhook-key-env", "MERGE_WEBHOOK_KEY", "the environment `variable` holding the webhook signature key (with -webhook-url)")
	if code, ok := cmd.parse(args, stdout, stderr); !ok {
		return code
	}
	if err := checkAddr(*addr); err != nil {
		return cmd.usageError(stderr, "-addr: %v", err)
	}
	if *latency < 0 {
		return cmd.usageError(stderr, "-latency: must not be negative, got %s", *latency)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts := []contracttest.Option{contracttest.WithLogger(logger), contracttest.WithLatency(*latency)}
	if *webhookURL != "" {
		key := getenv(*webhookKeyEnv)
		if key == "" {
			return cmd.usageError(stderr, "-webhook-url: set %s to the webhook signature key", *webhookKeyEnv)
		}
		opts = append(opts, contracttest.WithWebhook(*webhookURL, key))
	}
	mock, err := contracttest.NewMock(opts...)
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

// checkAddr accepts host:port with a numeric port, the host optional (all
// interfaces), as net.Listen takes it.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}
