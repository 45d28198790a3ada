// Command linktoken creates Merge link tokens and Magic Link URLs from the
// command line, exchanges public tokens for account tokens, and serves the
// contract suite's spec-validating mock.
//
//	linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
//	MERGE_API_KEY=... linktoken create -region eu -email ada@example.com -org Acme -origin-id 42 -category hris,ats -magic-link -expiry 10080
//	printf '%s\n' "$PUBLIC_TOKEN" | MERGE_API_KEY=... linktoken exchange
//	linktoken mock -addr 127.0.0.1:4010
//	linktoken version
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

	"github.com/mergelink/linktoken/internal/shared"
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
  linktoken exchange [flags] exchange a public token (on stdin) for the account token
  linktoken mock [flags]     serve the spec-validating mock until interrupted
  linktoken version          print the version of linktoken and of Go

Run "linktoken <command> -h" for its flags.

Example, with no account and no network:
  linktoken create -mock -email ada@example.com -org Acme -origin-id 42 -category hris
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program; getenv reads the environment.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "create":
		return runCreate(ctx, args[1:], stdout, stderr, getenv)
	case "exchange":
		return runExchange(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "mock":
		return runMock(ctx, args[1:], stdout, stderr, getenv, defaultLimits)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "linktoken: unknown command %q\n\n%s", shared.Printable(args[0]), usage)
	return exitUsage
}

// command is a subcommand's flags and help, parsed the same way for every
// subcommand.
type command struct {
	name     string
	synopsis string // how to call it: "create [flags]"
	help     string // what -h prints before the flags
	flags    *flag.FlagSet
}

// newCommand returns a command whose flag set prints nothing by itself:
// parse prints -h's help, and each usage error, exactly once.
func newCommand(name, synopsis, help string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &command{name: name, synopsis: synopsis, help: help, flags: fs}
}

// parse parses args. It reports false, with the exit code, when the command
// should stop: after -h (the help on stdout, exit 0), or a usage error such
// as an unknown flag, a bad value or a positional argument (the error and
// the usage line on stderr, exit 2).
func (c *command) parse(args []string, stdout, stderr io.Writer) (int, bool) {
	err := c.flags.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, c.help)
		c.flags.SetOutput(stdout)
		c.flags.PrintDefaults()
		c.flags.SetOutput(io.Discard)
		return exitOK, false
	case err != nil:
		return c.usageError(stderr, "%v", err), false
	case c.flags.NArg() > 0:
		return c.usageError(stderr, "unexpected argument %q", c.flags.Arg(0)), false
	}
	return exitOK, true
}

// usageError prints one error and the command's usage line, and returns
// exitUsage.
func (c *command) usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "linktoken: %s\n", shared.Printable(fmt.Sprintf(format, args...)))
	c.usageLine(stderr)
	return exitUsage
}

// usageLine prints how to call the command and where its help is.
func (c *command) usageLine(w io.Writer) {
	fmt.Fprintf(w, "usage: linktoken %s (run \"linktoken %s -h\" for help)\n", c.synopsis, c.name)
}
