package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s safe to print as part of one terminal line, for
// anything a server controls (error details, request ids, tokens): tabs,
// line breaks (\n, \r, \v, \f, NEL, U+2028, U+2029) become spaces, so a
// server cannot start a line of its own such as "status: 200"; other
// control characters (ESC, and with it every ESC or OSC sequence, DEL, C1
// such as CSI) and bidirectional controls (U+202A-U+202E, U+2066-U+2069,
// LRM, RLM, ALM) are dropped; invalid UTF-8 becomes U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case breaksLine(r):
			return ' '
		case unprintable(r):
			return -1
		}
		return r
	}, s)
}

func breaksLine(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x85, '\u2028', '\u2029':
		return true
	}
	return false
}

func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// printableJSON escapes, as \uXXXX, the characters printable drops or
// replaces that encoding/json leaves raw in strings (DEL, C1 controls,
// bidirectional controls): the JSON keeps every value intact and prints
// nothing a terminal would act on. Raw line breaks in js are encoding/json's
// own indentation, since it escapes those in strings.
func printableJSON(js []byte) []byte {
	var out bytes.Buffer
	for len(js) > 0 {
		r, size := utf8.DecodeRune(js)
		if r != '\n' && r != '\t' && (breaksLine(r) || unprintable(r)) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(js[:size])
		}
		js = js[size:]
	}
	return out.Bytes()
}
