// Command linktoken creates Merge link tokens and Magic Link URLs from the
// command line, and serves the contract suite's spec-validating mock.
//
//	linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
//	MERGE_API_KEY=... linktoken create -region eu -email ada@example.com -org Acme -origin-id 42 -category hris,ats -magic-link -expiry 10080
//	linktoken mock -addr 127.0.0.1:4010
//
// The API key is read from MERGE_API_KEY only, never from a flag, so it does
// not land in shell history or process lists.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // an API or transport error
	exitUsage = 2 // bad usage, or a request that breaks the spec (nothing was sent)
)

const usage = `linktoken creates Merge link tokens, and serves a mock of the endpoint.

Usage:
  linktoken create [flags]   create a link token (key from MERGE_API_KEY)
  linktoken mock [flags]     serve the spec-validating mock until interrupted

Run "linktoken create -h" or "linktoken mock -h" for their flags.

Example, with no account and no network:
  linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program; getenv reads the environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "create":
		return runCreate(ctx, args[1:], stdout, stderr, getenv)
	case "mock":
		return runMock(ctx, args[1:], stderr, defaultLimits)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "linktoken: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// parseFlags parses a subcommand's flags. It reports false, with the exit
// code, when the command should stop: after -h (0) or a bad flag (2).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}
