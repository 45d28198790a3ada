// Command specdiff answers two questions about the link-token spec, with
// oasdiff doing the diffing:
//
//	specdiff breaking -base <git-ref or file> [-head openapi/link-token.yaml] [-format text|json] [-allow file]
//	specdiff upstream -spec <file or https URL> [-ours file] [-format text|json]
//
// "breaking" lists every change between two versions of the spec, grouped as
// breaking, warning and informational, and exits 1 when a breaking change is
// not acknowledged in the -allow file. "upstream" compares the link-token
// operation of one of Merge's published documents with ours and exits 1 when
// a difference would make our client send something Merge rejects or reject
// something Merge returns. Both exit 2 on bad input, with a one-line error.
//
// specdiff is its own module so that importers of the client never download
// oasdiff's dependencies.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK       = 0
	exitChanges  = 1 // a breaking change, or an upstream difference that matters
	exitBadInput = 2
)

const usage = `usage:
  specdiff breaking -base <git-ref or file> [-head openapi/link-token.yaml] [-format text|json] [-allow file]
  specdiff upstream -spec <file or https URL> [-ours file] [-format text|json]

Exit codes: 0 no breaking change or difference that matters; 1 one was found; 2 bad input.
Example:
  specdiff breaking -base origin/main
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
		code, err = runBreaking(args[1:], stdout, stderr)
	case "upstream":
		code, err = runUpstream(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usageError(fmt.Sprintf("unknown command %q", args[0]))
	}
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "specdiff: %s\n%s", u, usage)
		} else {
			fmt.Fprintf(stderr, "specdiff: %s\n", oneLine(err.Error()))
		}
		return exitBadInput
	}
	return code
}

type usageError string

func (e usageError) Error() string { return string(e) }

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
