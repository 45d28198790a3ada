package main

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/mergelink/linktoken/client"
)

// printable returns s safe to print as part of one terminal line, for
// anything a server controls (error details, request ids, tokens): the
// client's own rule, client.Printable (line breaks become spaces, so a
// server cannot start a line of its own such as "status: 200"; escape
// sequences, bidi and other formatting characters are dropped; invalid UTF-8
// becomes U+FFFD).
func printable(s string) string { return client.Printable(s) }

// printableJSON escapes, as \uXXXX, every character printable would change
// that encoding/json leaves raw in strings (DEL, C1 controls, formatting
// characters): the JSON keeps every value intact and prints nothing a
// terminal would act on. Raw line breaks and tabs in js are encoding/json's
// own indentation, since it escapes those in strings.
func printableJSON(js []byte) []byte {
	var out bytes.Buffer
	for len(js) > 0 {
		r, size := utf8.DecodeRune(js)
		if c := string(js[:size]); r != '\n' && r != '\t' && r != utf8.RuneError && printable(c) != c {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(js[:size])
		}
		js = js[size:]
	}
	return out.Bytes()
}
