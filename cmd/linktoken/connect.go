package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/shared"
)

// connection is where a command sends its calls: the flags every calling
// command shares (-region, -base-url, -timeout, -mock), read the same way.
type connection struct {
	region  *string
	baseURL *string
	timeout *time.Duration
	useMock *bool
}

// addConnectionFlags defines the shared flags on fs; mockHelp says what
// -mock does for the command.
func addConnectionFlags(fs *flag.FlagSet, mockHelp string) connection {
	return connection{
		region:  fs.String("region", "", "the Merge `region`: "+shared.JoinValues(client.RegionValues())+" (default: $"+envRegion+", else us)"),
		baseURL: fs.String("base-url", "", "send to this base `URL` (a proxy, a staging host, linktoken mock) instead of the region's"),
		timeout: fs.Duration("timeout", defaultTimeout, "give up after this long, retries included"),
		useMock: fs.Bool("mock", false, mockHelp),
	}
}

// connect checks the flags and the environment and returns the client, the
// key it authenticates with (to redact what is printed), the in-process
// mock when -mock is given, and what stops it. It reports false, with the
// exit code, when the command should stop: a usage error names the flag or
// the variable.
func (cn connection) connect(cmd *command, stderr io.Writer, getenv func(string) string) (c *client.Client, key string, mock *contracttest.Mock, stop func(), code int, ok bool) {
	stop = func() {}
	if *cn.timeout <= 0 {
		return nil, "", nil, stop, cmd.usageError(stderr, "-timeout: must be more than 0, got %s", *cn.timeout), false
	}
	opts := []client.Option{client.WithUserAgent("linktoken-cli")}
	regionName, regionFrom := *cn.region, "-region"
	if regionName == "" {
		regionName, regionFrom = getenv(envRegion), envRegion
	}
	if regionName != "" {
		r, err := client.ParseRegion(regionName)
		if err != nil {
			return nil, "", nil, stop, cmd.usageError(stderr, "%s: %s", regionFrom, optionReason(err)), false
		}
		opts = append(opts, client.WithRegion(r))
	}
	if *cn.baseURL != "" {
		opt := client.WithBaseURL(*cn.baseURL)
		// Check the URL alone, so that its error names the flag.
		if _, err := client.New(mockKey, opt); err != nil {
			return nil, "", nil, stop, cmd.usageError(stderr, "-base-url: %s", optionReason(err)), false
		}
		opts = append(opts, opt)
	}
	key = getenv(envAPIKey)
	if *cn.useMock {
		var url string
		var err error
		url, mock, stop, err = startMock()
		if err != nil {
			fmt.Fprintf(stderr, "linktoken: start the mock: %v\n", err)
			return nil, "", nil, func() {}, exitError, false
		}
		opts = append(opts, client.WithBaseURL(url))
		key = mockKey
	}
	if strings.TrimSpace(key) == "" {
		fmt.Fprintf(stderr, "linktoken: set %s to your Merge production API key (or use -mock)\n", envAPIKey)
		return nil, "", nil, stop, exitUsage, false
	}
	c, err := client.New(key, opts...)
	if err != nil {
		stop()
		fmt.Fprintln(stderr, shared.Printable(err.Error()))
		return nil, "", nil, func() {}, exitUsage, false
	}
	return c, key, mock, stop, exitOK, true
}

// startMock serves the contract suite's mock on a loopback port, with the
// same limits as `linktoken mock`.
func startMock() (url string, mock *contracttest.Mock, stop func(), err error) {
	mock, err = contracttest.NewMock()
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv := defaultLimits.newServer(mock, 0)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), mock, func() { _ = srv.Close() }, nil
}
