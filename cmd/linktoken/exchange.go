package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/shared"
)

const exchangeHelp = `Usage: linktoken exchange [flags] < public-token

Exchanges a public token (from Merge Link's onSuccess, in your front end) for
the linked account's account token, and prints the account token and the
linked account's id on stdout, one per line (-json: the whole answer). The
public token is read from standard input (its first line), or from
-public-token; never from an argument, which would land in shell history. A
public token is exchanged once. The API key is read from MERGE_API_KEY.

With -mock, the command needs no key and no network: the in-process mock issues
a link token, completes the link as the end user would, and the command
exchanges the public token the mock issued (give no public token then).

Example:
  printf '%s\n' "$PUBLIC_TOKEN" | MERGE_API_KEY=... linktoken exchange -region eu
  linktoken exchange -mock

Exit codes: 0 success; 1 an API or transport error (404: the public token is
unknown, expired or already exchanged); 2 bad usage or an invalid public token.

Flags:
`

// maxPublicTokenLine bounds what is read of standard input.
const maxPublicTokenLine = 4 << 10

func runExchange(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := newCommand("exchange", "exchange [flags] < public-token", exchangeHelp)
	fs := cmd.flags
	var (
		publicToken = fs.String("public-token", "", "the public `token` to exchange (default: the first line of standard input)")
		asJSON      = fs.Bool("json", false, "print the whole answer as JSON")
		conn        = addConnectionFlags(fs, "run the whole flow on the in-process mock: it issues the public token (no key, no network)")
	)
	if code, ok := cmd.parse(args, stdout, stderr); !ok {
		return code
	}
	if *conn.useMock && *publicToken != "" {
		return cmd.usageError(stderr, "-public-token: with -mock, the mock issues the public token; give none")
	}
	c, key, mock, stop, code, ok := conn.connect(cmd, stderr, getenv)
	if !ok {
		return code
	}
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()

	token := *publicToken
	switch {
	case mock != nil:
		lt, err := c.CreateLinkToken(ctx, client.LinkTokenRequest{EndUserEmailAddress: "mock@example.com",
			EndUserOrganizationName: "Mock", EndUserOriginID: "mock", Categories: []client.Category{client.CategoryHRIS}})
		if err == nil {
			token, err = mock.CompleteLink(lt.LinkToken)
		}
		if err != nil {
			fmt.Fprintf(stderr, "linktoken: the mock's link flow: %s\n", shared.Printable(err.Error()))
			return exitError
		}
	case token == "":
		line, err := bufio.NewReader(io.LimitReader(stdin, maxPublicTokenLine)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "linktoken: read the public token from standard input: %s\n", shared.Printable(err.Error()))
			return exitError
		}
		token = strings.TrimSpace(line)
		if token == "" {
			return cmd.usageError(stderr, "no public token: give it on standard input or with -public-token")
		}
	}
	acct, err := c.ExchangePublicToken(ctx, token)
	var verr *client.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, v := range verr.Violations {
			fmt.Fprintf(stderr, "linktoken: the public token %s\n", strings.TrimPrefix(v.Message, "public_token "))
		}
		cmd.usageLine(stderr)
		return exitUsage
	case err != nil:
		return reportError(stderr, cmd, "exchange public token", err)
	}
	// The account token is printed: that is the command's job. Anything
	// else is the server's, cleaned, with the key and the public token
	// redacted wherever a server put them.
	red := shared.NewRedactor(key, token)
	if *asJSON {
		shown := *acct
		shown.ID = red.Redact(shown.ID)
		shown.Integration.Name = red.Redact(shown.Integration.Name)
		shown.Integration.Slug = red.Redact(shown.Integration.Slug)
		js, _ := json.MarshalIndent(shown, "", "  ")
		_, _ = stdout.Write(append(printableJSON(js), '\n'))
		return exitOK
	}
	fmt.Fprintln(stdout, shared.Printable(acct.AccountToken))
	fmt.Fprintln(stdout, shared.Printable(red.Redact(acct.ID)))
	return exitOK
}
