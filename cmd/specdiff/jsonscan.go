package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// A minimal scanner over JSON text that json.Valid has accepted: it finds
// the members of an object without decoding or copying their values, which
// is what lets trimJSON look up one path and a few components in a
// document of megabytes. Its functions return errBadJSON rather than panic
// on text they did not expect.

var errBadJSON = errors.New("unexpected JSON")

// objectMembers returns the members of the JSON object raw by key, each
// value a subslice of raw. A key given twice is an error: kin-openapi
// rejects such documents, so they are not to be trimmed.
func objectMembers(raw []byte) (map[string][]byte, error) {
	members := map[string][]byte{}
	err := eachMember(raw, func(key string, value []byte) error {
		if _, ok := members[key]; ok {
			return errBadJSON
		}
		members[key] = value
		return nil
	})
	return members, err
}

// eachMember calls f with the key and value of each member of the JSON
// object raw, in order, until f returns an error.
func eachMember(raw []byte, f func(key string, value []byte) error) error {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errBadJSON
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return nil
	}
	for i < len(raw) {
		end, err := stringEnd(raw, i)
		if err != nil {
			return err
		}
		key, err := unquote(raw[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return errBadJSON
		}
		i = skipSpace(raw, i+1)
		end, err = valueEnd(raw, i)
		if err != nil {
			return err
		}
		if err := f(key, raw[i:end]); err != nil {
			return err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) {
			break
		}
		switch raw[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(raw, i+1)
		default:
			return errBadJSON
		}
	}
	return errBadJSON
}

// valueEnd returns the index just past the JSON value starting at raw[i].
func valueEnd(raw []byte, i int) (int, error) {
	if i >= len(raw) {
		return 0, errBadJSON
	}
	switch raw[i] {
	case '"':
		return stringEnd(raw, i)
	case '{', '[':
		depth := 0
		for i < len(raw) {
			switch raw[i] {
			case '"':
				end, err := stringEnd(raw, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errBadJSON
	}
	// A number, true, false or null.
	start := i
	for i < len(raw) && !endsLiteral(raw[i]) {
		i++
	}
	if i == start {
		return 0, errBadJSON
	}
	return i, nil
}

// stringEnd returns the index just past the JSON string starting at raw[i].
func stringEnd(raw []byte, i int) (int, error) {
	if i >= len(raw) || raw[i] != '"' {
		return 0, errBadJSON
	}
	for i++; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errBadJSON
}

// unquote decodes a JSON string as encoding/json does: escapes decoded,
// invalid UTF-8 replaced by U+FFFD.
func unquote(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 && utf8.Valid(quoted) {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errBadJSON
	}
	return s, nil
}

func endsLiteral(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	return i
}
