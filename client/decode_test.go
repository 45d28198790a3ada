package client_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/internal/benchdata"
)

// decodeAgrees fails unless decodeExact, which reads a usual body with
// json.Unmarshal alone, and decodeValue, its reading of any body, give the
// same value and the same reason on body. It reports whether decodeExact
// took its fast way.
func decodeAgrees[T any](t *testing.T, body []byte) bool {
	t.Helper()
	got, gotReason := client.DecodeExact[T](body)
	fast := client.DecodesFast(body, new(T))
	want, wantReason := client.DecodeReference[T](body)
	if gotReason != wantReason || !assert.ObjectsAreEqual(want, got) {
		t.Fatalf("decoding %s into %T: the fast way (fast=%t) gives %+v, %q; decodeValue gives %+v, %q.\n"+
			"Make plainJSON refuse such a body, so that decodeValue reads it.", body, *got, fast, *got, gotReason, *want, wantReason)
	}
	return fast
}

// TestDecodeExactFastWay: which bodies decodeExact reads with json.Unmarshal
// alone (the usual ones), and which it leaves to decodeValue; both agree.
func TestDecodeExactFastWay(t *testing.T) {
	const integration = `"integration":{"name":"BambooHR","slug":"bamboohr","categories":["hris"],"image":null,"category_beta_status":{"hris":null}}`
	var (
		link    = decodeAgrees[client.LinkToken]
		account = decodeAgrees[client.AccountToken]
		items   = decodeAgrees[withItems]
		again   = decodeAgrees[nameAgain]
	)
	tests := []struct {
		name string
		body string
		read func(*testing.T, []byte) bool // decodeAgrees of the type read
		fast bool
	}{
		{name: "typical link token", body: benchdata.Token, read: link, fast: true},
		{name: "with whitespace", body: "{ \"link_token\" :\t\"t\" ,\n\"integration_name\": \"B\" }", read: link, fast: true},
		{name: "unknown members, a null among them", body: `{"link_token":"t","extra":{"a":[1,true]},"x":null}`, read: link, fast: true},
		{name: "a value that spells a name", body: `{"link_token":"LINK_TOKEN","integration_name":"link_token"}`, read: link, fast: true},
		{name: "an empty string", body: `{"link_token":"t","integration_name":""}`, read: link, fast: true},
		{name: "typical account token", body: `{"account_token":"a","id":"i",` + integration + `}`, read: account, fast: true},
		{name: "null where a pointer is", body: `{"account_token":"a","integration":{"name":"n","square_image":null}}`, read: account, fast: true},
		{name: "an array of an object with its required member", body: `{"items":[{"a":"x"}]}`, read: items, fast: true},

		{name: "a name in another case", body: `{"LINK_TOKEN":"t"}`, read: link},
		{name: "both cases", body: `{"link_token":"a","Link_Token":"b"}`, read: link},
		{name: "a name with the Kelvin sign", body: `{"lin` + "\u212a" + `_token":"t"}`, read: link},
		{name: "a name with a byte outside ASCII", body: "{\"link_token\":\"t\",\"\x80\":1}", read: link},
		{name: "an escape", body: `{"link\u005ftoken":"t"}`, read: link},
		{name: "an escape in a value", body: `{"link_token":"a\"b"}`, read: link},
		{name: "a name twice", body: `{"link_token":"a","link_token":"b"}`, read: link},
		{name: "null where a string is", body: `{"link_token":null}`, read: link},
		{name: "missing required member", body: `{"integration_name":"B"}`, read: link},
		{name: "empty required member", body: `{"link_token":""}`, read: link},
		{name: "not an object", body: `["link_token"]`, read: link},
		{name: "a string for a number", body: `{"link_token":5}`, read: link},
		{name: "an object twice", body: `{"account_token":"a","integration":{"name":"n","slug":"s"},"integration":{"name":"m"}}`, read: account},
		{name: "null for json.RawMessage", body: `{"account_token":"a","integration":{"name":"n","category_beta_status":null}}`, read: account},
		{name: "a required member in another case within", body: `{"account_token":"a","integration":{"NAME":"n"}}`, read: account},
		{name: "null in an array of an unknown member", body: `{"link_token":"t","extra":[null]}`, read: link},
		{name: "null in an array", body: `{"account_token":"a","integration":{"name":"n","categories":[null]}}`, read: account},
		{name: "an array item without a required member", body: `{"items":[{}]}`, read: items},
		{name: "null where a name read twice is a string within", body: `{"b":{"a":null}}`, read: again},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast := tc.read(t, []byte(tc.body))
			assert.Equal(t, tc.fast, fast, "the fast way of decodeExact (plainJSON): update plainJSON, or this case if the change is meant")
		})
	}
}

// withItems has an array of objects with a required member.
type withItems struct {
	Items []struct {
		A string `json:"a"`
	} `json:"items,omitempty"`
}

// TestDecodeExactArrays: decodeExact reads every item of an array of
// objects, and names the first item that breaks a rule by its index.
func TestDecodeExactArrays(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   []string // the a of each item
		reason string
	}{
		{name: "two good items", body: `{"items":[{"a":"x"},{"a":"y"}]}`, want: []string{"x", "y"}},
		{name: "a good item, then one without its required member", body: `{"items":[{"a":"x"},{}]}`, reason: "items/1/a is missing"},
		{name: "an item that is not an object", body: `{"items":[{"a":"x"},3]}`, reason: "items/1 is not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := client.DecodeExact[withItems]([]byte(tc.body))
			require.Equal(t, tc.reason, reason, "the reason decodeExact gives for %s", tc.body)
			if tc.reason != "" {
				return
			}
			var as []string
			for _, it := range got.Items {
				as = append(as, it.A)
			}
			assert.Equal(t, tc.want, as, "every item of %s, decoded", tc.body)
		})
	}
}

// nameAgain reads the name "a" twice: as a pointer, which holds null, and
// within b as a string, which does not.
type nameAgain struct {
	A *string `json:"a,omitempty"`
	B struct {
		A string `json:"a,omitempty"`
	} `json:"b,omitzero"`
}

// TestDecodeExactNameBound: plainJSON keeps one bit a name in a uint64, so
// a type with up to 64 member names is read the fast way, and one with
// more never is.
func TestDecodeExactNameBound(t *testing.T) {
	for _, tc := range []struct {
		names int
		fast  bool
	}{{63, true}, {64, true}, {65, false}} {
		t.Run(fmt.Sprintf("names=%d", tc.names), func(t *testing.T) {
			fields := make([]reflect.StructField, tc.names)
			for i := range fields {
				fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeFor[string](), Tag: reflect.StructTag(fmt.Sprintf(`json:"f%d,omitempty"`, i))}
			}
			v := reflect.New(reflect.StructOf(fields)).Interface()
			fast := client.DecodesFast([]byte(fmt.Sprintf(`{"f0":"x","f%d":"y"}`, tc.names-1)), v)
			assert.Equal(t, tc.fast, fast, "a body of a type with %d member names: plainJSON's bound (64, the bits of its seen set) moved", tc.names)
		})
	}
}

// TestDecodeExactAgreesOnGeneratedBodies: on 20,000 bodies built from the
// members of both types, their names in other cases and spellings, nulls,
// escapes, duplicates and unknown members, decodeExact and decodeValue agree;
// and the fast way reads a good share of them.
func TestDecodeExactAgreesOnGeneratedBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	fast := 0
	for i := range n {
		account := i%2 == 1
		body := genBody(rng, account)
		if !json.Valid([]byte(body)) || !utf8.ValidString(body) {
			t.Fatalf("generated an invalid body: %s", body)
		}
		if account {
			if decodeAgrees[client.AccountToken](t, []byte(body)) {
				fast++
			}
		} else if decodeAgrees[client.LinkToken](t, []byte(body)) {
			fast++
		}
	}
	require.Greater(t, fast, n/10, "the fast way read %d of %d bodies: the generator or plainJSON changed; it should read the usual ones", fast, n)
}

var (
	genNames = []string{
		"link_token", "integration_name", "magic_link_url",
		"account_token", "id", "integration", "name", "slug", "categories", "image", "square_image", "category_beta_status", "api_endpoints_to_documentation_urls",
		"extra",
	}
	// genSpellings turns a name into another spelling that encoding/json may
	// match to it.
	genSpellings = []func(string) string{
		strings.ToUpper,
		func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
		func(s string) string { return strings.Replace(s, "k", "\u212a", 1) },
		func(s string) string { return strings.Replace(s, "s", "\u017f", 1) },
		func(s string) string { return strings.Replace(s, "_", `\u005f`, 1) },
	}
)

// genBody is a body for a LinkToken or an AccountToken: its members, and
// often some of the others, in a random order; each member may be spelled
// otherwise, repeated, or given a value of another kind.
func genBody(rng *rand.Rand, account bool) string {
	members := []string{"link_token", "integration_name"}
	if account {
		members = []string{"account_token", "id", "integration"}
	}
	return genObject(rng, members, 0)
}

func genObject(rng *rand.Rand, members []string, depth int) string {
	members = slices.Clone(members)
	for range rng.IntN(3) {
		members = append(members, genNames[rng.IntN(len(genNames))])
	}
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	var b strings.Builder
	b.WriteString("{")
	for i, name := range members {
		if i > 0 {
			b.WriteString(",")
		}
		if rng.IntN(16) == 0 {
			name = genSpellings[rng.IntN(len(genSpellings))](name)
		}
		fmt.Fprintf(&b, "%q:%s", name, genValue(rng, name, depth))
		if rng.IntN(16) == 0 { // the same member again
			fmt.Fprintf(&b, ",%q:%s", name, genValue(rng, name, depth))
		}
	}
	b.WriteString("}")
	return strings.ReplaceAll(b.String(), `\\u005f`, `\u005f`)
}

// genValue is a value for the member name: mostly one of its kind, else
// null, an empty string, a number, an escape, an array, an object or a
// string outside ASCII.
func genValue(rng *rand.Rand, name string, depth int) string {
	if r := rng.IntN(24); r < 8 {
		switch r {
		case 0:
			return "null"
		case 1:
			return `""`
		case 2:
			return "5"
		case 3:
			return `"a\"b"`
		case 4:
			return `["hris",null]`
		case 5:
			return `"é"`
		case 6:
			if depth < 3 {
				return genObject(rng, nil, depth+1)
			}
		}
		return "true"
	}
	switch name {
	case "integration":
		if depth < 3 {
			return genObject(rng, []string{"name", "slug", "categories"}, depth+1)
		}
	case "categories":
		return `["hris","ats"]`
	case "image", "square_image":
		if rng.IntN(2) == 0 {
			return "null"
		}
	case "category_beta_status", "extra":
		return `{"hris":null,"ats":[1]}`
	}
	return fmt.Sprintf(`"v%d"`, rng.IntN(100))
}

// FuzzDecodeExact: on any body, decodeExact and decodeValue agree.
func FuzzDecodeExact(f *testing.F) {
	f.Add([]byte(benchdata.Token))
	f.Add([]byte(`{"link_token":"a","Link_Token":"b"}`))
	f.Add([]byte(`{"account_token":"a","integration":{"name":"n","image":null,"category_beta_status":{"x":null}}}`))
	f.Add([]byte(`{"account_token":"a","integration":{"name":"n"},"integration":{"slug":"s"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return // refused before decoding
		}
		decodeAgrees[client.LinkToken](t, body)
		decodeAgrees[client.AccountToken](t, body)
	})
}

// BenchmarkDecodeExact: decoding the benchmark token by json.Unmarshal alone
// (not exact: the floor), by decodeValue (exact, with the standard library
// alone: a map of members, then each member) and by decodeExact (the fast
// way on this body).
func BenchmarkDecodeExact(b *testing.B) {
	body := []byte(benchdata.Token)
	check := func(b *testing.B, tok *client.LinkToken, reason string) {
		if reason != "" || tok.LinkToken == "" {
			b.Fatal("no token:", reason)
		}
	}
	benchdata.Run(b, []benchdata.Impl{
		{Name: "unmarshal", Setup: func(b *testing.B) func() {
			return func() {
				var tok client.LinkToken
				if err := json.Unmarshal(body, &tok); err != nil {
					b.Fatal(err)
				}
				check(b, &tok, "")
			}
		}},
		{Name: "reference", Setup: func(b *testing.B) func() {
			return func() {
				tok, reason := client.DecodeReference[client.LinkToken](body)
				check(b, tok, reason)
			}
		}},
		{Name: "exact", Setup: func(b *testing.B) func() {
			return func() {
				tok, reason := client.DecodeExact[client.LinkToken](body)
				check(b, tok, reason)
			}
		}},
	})
}
