// Command specdiff answers two questions about the link-token spec, with
// oasdiff doing the diffing:
//
//	specdiff breaking -base <git-ref or file> [-head file] [-allow file] [-strict] [-format text|json]
//	specdiff upstream -spec <file or https URL> [-path /api/<category>/v1/link-token] [-ours file] [-format text|json]
//
// "breaking" lists every change between two versions of the spec, grouped as
// breaking, warning and informational, and exits 1 when a breaking change is
// not acknowledged in the -allow file (or, with -strict, when an entry of
// that file acknowledges no breaking change). "upstream" compares the
// link-token operation of one of Merge's published documents with ours and
// exits 1 when a difference would make our client send something Merge
// rejects or reject something Merge returns. Both exit 2 on bad input, with a one-line error,
// and print their usage on stdout and exit 0 with -h.
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
	"strings"
)

// Exit codes.
const (
	exitOK       = 0
	exitChanges  = 1 // a breaking change, an upstream difference that matters, or an unmatched -allow entry under -strict
	exitBadInput = 2
)

// The synopsis of each subcommand, shown by -h and after a usage error.
const (
	breakingSynopsis = "specdiff breaking -base <git-ref or file> [-head file] [-allow file] [-strict] [-format text|json]"
	upstreamSynopsis = "specdiff upstream -spec <file or https URL> [-path /api/<category>/v1/link-token] [-ours file] [-format text|json]"
	commandSynopsis  = "specdiff breaking|upstream [flags]; specdiff -h for help"
)

const usage = `usage:
  ` + breakingSynopsis + `
  ` + upstreamSynopsis + `

Exit codes: 0 no breaking change or difference that matters; 1 one was found
(or, with -strict, an -allow entry acknowledged no breaking change); 2 bad input.
"specdiff breaking -h" and "specdiff upstream -h" describe the flags.
Example:
  specdiff breaking -base origin/main -allow openapi/allowed-breaking.txt -strict
  specdiff upstream -spec merge_mktg.oas.json
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, for tests: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadInput
	}
	var err error
	code := exitOK
	switch args[0] {
	case "breaking":
		code, err = runBreaking(args[1:], stdout)
	case "upstream":
		code, err = runUpstream(args[1:], stdout)
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

// parseFlags parses the arguments of a subcommand, the one way both do it.
// With -h it prints the synopsis and the flags on stdout, once, and returns
// errHelp; a flag it does not know, a bad value or an argument that is not a
// flag is a usageError. The flag package itself prints nothing.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "usage: %s\n\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return errHelp
	case err != nil:
		// The flag package quotes the flag or its value, unbounded.
		return usageError{synopsis, shown(err.Error())}
	case fs.NArg() > 0:
		return usageError{synopsis, fmt.Sprintf("unexpected argument %q", shown(fs.Arg(0)))}
	}
	return nil
}

func checkFormat(f, synopsis string) error {
	if f != "text" && f != "json" {
		return usageError{synopsis, fmt.Sprintf("-format must be text or json, not %q", f)}
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
