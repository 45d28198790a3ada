package main

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/mergelink/linktoken/internal/shared"
)

// printableJSON escapes, as \uXXXX, every character shared.Printable would change
// that encoding/json leaves raw in strings (DEL, C1 controls, formatting
// characters): the JSON keeps every value intact and prints nothing a
// terminal would act on. Raw line breaks and tabs in js are encoding/json's
// own indentation, since it escapes those in strings.
func printableJSON(js []byte) []byte {
	var out bytes.Buffer
	for len(js) > 0 {
		r, size := utf8.DecodeRune(js)
		if c := string(js[:size]); r != '\n' && r != '\t' && r != utf8.RuneError && shared.Printable(c) != c {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(js[:size])
		}
		js = js[size:]
	}
	return out.Bytes()
}
