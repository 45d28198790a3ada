package contracttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth is encoding/json's limit on nesting.
const maxJSONDepth = 10000

// decodeJSON decodes one JSON value into the values kin-openapi validates
// (map[string]any, []any, string, json.Number, bool, nil), as
// encoding/json's Decoder with UseNumber does, numbers kept as json.Number so
// one too large for a float64 is reported on its field, and refuses trailing
// data after the value, which openapi3filter ignores. It is a hand-written
// single pass, about twice as fast as encoding/json on request bodies;
// FuzzDecodeJSON proves it accepts, refuses and decodes exactly as
// encoding/json does.
//
// Strings and numbers without escapes share body's memory instead of being
// copied: body must not change while the result is in use. The Validator
// owns the buffers it decodes, reads them only, and keeps nothing of the
// result after validating (a violation's pointer is built anew).
func decodeJSON(body []byte) (any, error) {
	p := parser{data: body}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.data) {
		return nil, fmt.Errorf("trailing data at byte %d", p.i)
	}
	return v, nil
}

type parser struct {
	data []byte
	i    int
}

func (p *parser) fail() error {
	if p.i >= len(p.data) {
		return errors.New("invalid JSON: unexpected end")
	}
	return fmt.Errorf("invalid JSON at byte %d", p.i)
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.i >= len(p.data) {
		return nil, p.fail()
	}
	switch c := p.data[p.i]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, errors.New("invalid JSON: nested too deeply")
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, errors.New("invalid JSON: nested too deeply")
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	}
	return nil, p.fail()
}

func (p *parser) literal(word string, v any) (any, error) {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return nil, p.fail()
	}
	p.i += len(word)
	return v, nil
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, p.fail()
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, p.fail()
		}
		p.i++
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v // the last of duplicate keys wins, as in encoding/json
		if more, err := p.more('}'); !more {
			return m, err
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	p.space()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if more, err := p.more(']'); !more {
			return a, err
		}
	}
}

// more steps past what follows a member or an element: a comma (another
// comes) or the closing bracket (the container ends); anything else, or the
// end of the data, is an error.
func (p *parser) more(closing byte) (bool, error) {
	p.space()
	if p.i < len(p.data) {
		switch p.data[p.i] {
		case ',':
			p.i++
			p.space()
			return true, nil
		case closing:
			p.i++
			return false, nil
		}
	}
	return false, p.fail()
}

func (p *parser) number() (any, error) {
	start := p.i
	d := p.data
	if p.i < len(d) && d[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(d) && d[p.i] == '0':
		p.i++
	case p.i < len(d) && d[p.i] >= '1' && d[p.i] <= '9':
		for p.i < len(d) && d[p.i] >= '0' && d[p.i] <= '9' {
			p.i++
		}
	default:
		return nil, p.fail()
	}
	if p.i < len(d) && d[p.i] == '.' {
		p.i++
		if p.i >= len(d) || d[p.i] < '0' || d[p.i] > '9' {
			return nil, p.fail()
		}
		for p.i < len(d) && d[p.i] >= '0' && d[p.i] <= '9' {
			p.i++
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if p.i >= len(d) || d[p.i] < '0' || d[p.i] > '9' {
			return nil, p.fail()
		}
		for p.i < len(d) && d[p.i] >= '0' && d[p.i] <= '9' {
			p.i++
		}
	}
	return json.Number(view(d[start:p.i])), nil
}

// view is b as a string without a copy; b must not change afterwards.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// str reads a string at p.i, the opening quote included. A string without
// escapes or bytes to replace shares p.data's memory (see decodeJSON);
// otherwise it is unquoted into a new string as encoding/json does: invalid
// UTF-8 and lone surrogates become U+FFFD.
func (p *parser) str() (string, error) {
	p.i++ // "
	start := p.i
	d := p.data
	for p.i < len(d) {
		c := d[p.i]
		switch {
		case c == '"':
			s := view(d[start:p.i])
			p.i++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return p.strSlow(start)
		case c < 0x20:
			return "", p.fail()
		}
		p.i++
	}
	return "", p.fail()
}

func (p *parser) strSlow(start int) (string, error) {
	d := p.data
	out := make([]byte, 0, p.i-start+16)
	out = append(out, d[start:p.i]...)
	for p.i < len(d) {
		c := d[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.fail()
		case c == '\\':
			if p.i+1 >= len(d) {
				return "", p.fail()
			}
			p.i++
			switch e := d[p.i]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := p.hex4(p.i + 1)
				if !ok {
					return "", p.fail()
				}
				p.i += 4
				if utf16.IsSurrogate(r) {
					// A pair: the next escape must be its other half.
					if p.i+6 < len(d) && d[p.i+1] == '\\' && d[p.i+2] == 'u' {
						if r2, ok := p.hex4(p.i + 3); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								p.i += 6
								out = utf8.AppendRune(out, dec)
								break
							}
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", p.fail()
			}
			p.i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(d[p.i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d[p.i:p.i+size]...)
			}
			p.i += size
		}
	}
	return "", p.fail()
}

// hex4 reads the four hex digits of a \u escape starting at i.
func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[i:i+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
