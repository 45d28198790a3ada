package contracttest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// referenceDecode is what decodeJSON must equal: encoding/json's Decoder
// with UseNumber, as openapi3filter decodes bodies, and no trailing data.
func referenceDecode(body []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, false
	}
	return v, true
}

var decodeSeeds = []string{
	``, ` `, `null`, `true`, `false`, `0`, `-0`, `1.5e-3`, `1E+400`, `01`, `-`, `1.`, `.5`, `1e`, `"\u00e9"`,
	`"a\"b\\c\/d\b\f\n\r\t"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\uZZZZ"`, `"\x"`,
	"\"\xff\xfe\"", "\"caf\xc3\xa9\"", "\"a\x01b\"", `{"a":1,"a":2}`, `{"a":[1,{"b":null}],"c":"d"}`, `{"a" 1}`,
	`{"a":1,}`, `[1,]`, `[1 2]`, `{}`, `[]`, `{"a":1} x`, `{"a":1}   `, `  [true]`, `tru`, `nul`, `[`, `{`, `"abc`,
	minimalRequest,
	// Values cut short after the first byte, where a bound off by one
	// reads past the end.
	`[tru`, `{"a":nul`, `{"a"`, `{"a":1`, `[1`, `"\`, `"\n`, `"\u12`, `"\u1234`, `"\ud83d\`, `"\ud83d\u`,
	// Digits at the ends of their ranges, and numbers that end the body.
	`1.9`, `1.5`, `1.59`, `1e0`, `1e9`, `1e19`, `-0.09e-09`, `[9.0,0.9e+9]`,
}

const minimalRequest = `{"end_user_email_address":"ada@example.com","end_user_organization_name":"Acme","end_user_origin_id":"42","categories":["hris"]}`

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	deeper := strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1)
	deepObject := strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth)
	deeperObject := strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1)
	for _, seed := range append(decodeSeeds, deep, deeper, deepObject, deeperObject) {
		checkDecode(t, []byte(seed))
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range decodeSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

func checkDecode(t *testing.T, body []byte) {
	t.Helper()
	want, wantOK := referenceDecode(body)
	// Without spare capacity, a read past the end of the body panics
	// instead of reading what a reused buffer holds there.
	got, err := decodeJSON(body[:len(body):len(body)])
	if wantOK != (err == nil) {
		t.Fatalf("%q: encoding/json accepts: %v; decodeJSON: %v", body, wantOK, err)
	}
	if wantOK && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q: decoded differently:\nencoding/json: %#v\ndecodeJSON:    %#v", body, want, got)
	}
}
