// Command specdiff answers three questions about the link-token spec, with
// oasdiff doing the diffing and contracttest's Validator the validating:
//
//	specdiff breaking -base <git-ref or file> [-head file] [-allow file] [-strict] [-format text|json|markdown|github]
//	specdiff upstream -spec <file, directory or https URL>... [-path <path in the document>]... [-ours file] [-format text|json|markdown|github]
//	specdiff traffic [-ours file] [-side both|request|response] [-format text|json|markdown|github] FILE.har
//
// "breaking" lists every change between two versions of the spec, grouped as
// breaking, warning and informational, and exits 1 when a breaking change is
// not acknowledged in the -allow file (or, with -strict, when an entry of
// that file acknowledges no breaking change or has expired). "upstream"
// compares every operation of our spec with the same operation in each of
// Merge's published documents (-spec may be repeated, and may name a
// directory), reports the matrix of operations and documents, and exits 1
// when a difference would make our client send something Merge rejects or
// reject something Merge returns. "traffic" reads an HTTP Archive (HAR 1.2:
// contracttest.RecordHAR's, a browser's or a proxy's), checks each exchange
// of our operations against the spec, reports once per operation what the
// spec does not allow (undocumented fields and statuses, values outside an
// enum, nulls, bounds), with no secret of the archive in the report, and
// exits 1 when it found any. All three exit 2 on bad input, with a one-line
// error, and print their usage on stdout and exit 0 with -h.
//
// specdiff is its own module so that importers of the client never download
// oasdiff's dependencies.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Exit codes.
const (
	exitOK       = 0
	exitChanges  = 1 // a breaking change, an upstream difference that matters, an unmatched or expired -allow entry under -strict, or traffic the spec does not allow
	exitBadInput = 2
)

// The synopsis of each subcommand, shown by -h and after a usage error.
const (
	breakingSynopsis = "specdiff breaking -base <git-ref or file> [-head file] [-allow file] [-strict] [-format text|json|markdown|github]"
	upstreamSynopsis = "specdiff upstream -spec <file, directory or https URL>... [-path <path in the document>]... [-ours file] [-format text|json|markdown|github]"
	trafficSynopsis  = "specdiff traffic [-ours file] [-side both|request|response] [-format text|json|markdown|github] FILE.har"
	commandSynopsis  = "specdiff breaking|upstream|traffic [flags]; specdiff -h for help"
)

const usage = `usage:
  ` + breakingSynopsis + `
  ` + upstreamSynopsis + `
  ` + trafficSynopsis + `

Exit codes: 0 no breaking change, difference that matters or traffic the
spec does not allow; 1 one was found (or, with -strict, an -allow entry
acknowledged no breaking change or has expired); 2 bad input.
"specdiff breaking -h", "specdiff upstream -h" and "specdiff traffic -h"
describe the flags.
Example:
  specdiff breaking -base origin/main -allow openapi/allowed-breaking.txt -strict
  specdiff upstream -spec cmd/specdiff/testdata/upstream/ -format markdown
  specdiff traffic bin/live.har
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, for tests: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runAt(time.Now(), args, stdout, stderr)
}

// runAt is run on the day now falls on (UTC), which decides whether an
// allow-list entry has expired: the tests' clock.
func runAt(now time.Time, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	var err error
	code := exitOK
	switch args[0] {
	case "breaking":
		code, err = runBreaking(args[1:], stdout, now)
	case "upstream":
		code, err = runUpstream(args[1:], stdout)
	case "traffic":
		code, err = runTraffic(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usageError{commandSynopsis, fmt.Sprintf("unknown command %q", shown(args[0]))}
	}
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case err != nil:
		// Every value an error quotes is shown already (bounded, cleaned);
		// the line as a whole is too, for what kin-openapi or git wrote.
		fmt.Fprintf(stderr, "specdiff: %s\n", oneLine(clip(err.Error(), maxErrorBytes)))
		return exitBadInput
	}
	return code
}

// errHelp reports that -h printed the usage: nothing else is to be done.
var errHelp = errors.New("help requested")

// usageError is a command line specdiff cannot run; it prints on one line
// with the synopsis of the command concerned.
type usageError struct {
	synopsis, problem string
}

func (e usageError) Error() string { return e.problem + "; usage: " + e.synopsis }

// parseFlags parses the arguments of a subcommand that takes flags only:
// an argument that is not a flag is a usageError (see parseArgs).
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) error {
	rest, err := parseArgs(fs, synopsis, args, stdout)
	if err == nil && len(rest) > 0 {
		return usageError{synopsis, fmt.Sprintf("unexpected argument %q", shown(rest[0]))}
	}
	return err
}

// parseArgs parses the arguments of a subcommand, the one way all do it,
// and returns those that are not flags, in order; flags may come before
// and after them ("--" ends the flags). With -h it prints the synopsis and
// the flags on stdout, once, and returns errHelp; a flag it does not know
// or a bad value is a usageError. The flag package itself prints nothing.
func parseArgs(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var rest []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			fmt.Fprintf(stdout, "usage: %s\n\n", synopsis)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil, errHelp
		case err != nil:
			// The flag package quotes the flag or its value, unbounded.
			return nil, usageError{synopsis, shown(err.Error())}
		}
		left := fs.Args()
		switch consumed := args[:len(args)-len(left)]; {
		case len(left) == 0:
			return rest, nil
		case len(consumed) > 0 && consumed[len(consumed)-1] == "--":
			return append(rest, left...), nil
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// checkFormat refuses a -format that is not one of formats.
func checkFormat(f string, formats []string, synopsis string) error {
	if !slices.Contains(formats, f) {
		return usageError{synopsis, fmt.Sprintf("-format must be %s or %s, not %q",
			strings.Join(formats[:len(formats)-1], ", "), formats[len(formats)-1], shown(f))}
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
