package main

import (
	"unicode/utf8"

	"github.com/mergelink/linktoken/internal/shared"
)

const (
	// maxShownBytes bounds each value an error message quotes from the
	// command line, a file or a document (a path, a $ref, an allow-list
	// line): a 30 MB line in an -allow file must not become a 30 MB error.
	maxShownBytes = 200
	// maxErrorBytes bounds the whole error line specdiff prints, which may
	// hold several shown values and text from kin-openapi or git.
	maxErrorBytes = 2048
	// cutMark marks where shown or clip cut a value.
	cutMark = shared.Ellipsis
)

// shown returns s as an error message may quote it: on one line, without
// control or formatting characters, invalid UTF-8 replaced (see
// shared.Printable), and at most maxShownBytes long, "…" marking a cut.
func shown(s string) string { return clip(s, maxShownBytes) }

// clip is shown with a bound of max bytes, the mark included.
func clip(s string, max int) string {
	// Printable's work, and what it allocates, stay bounded too: a rune
	// of up to 4 bytes can become a 3-byte U+FFFD, so 4*max bytes of s are
	// more than any cut keeps.
	if len(s) > 4*max {
		// Cut before cleaning, so marked as cut whatever cleaning drops.
		s = shared.Printable(s[:runeStart(s, 4*max)])
		return s[:runeStart(s, max-len(cutMark))] + cutMark
	}
	return shared.Truncate(shared.Printable(s), max)
}

// runeStart moves n back to where the rune around s[n] starts, so that
// s[:n] does not split a rune; never more than 3 bytes back, as a rune is
// at most 4 bytes (invalid UTF-8 then splits where it is already invalid).
func runeStart(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for i := 1; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return n
}
