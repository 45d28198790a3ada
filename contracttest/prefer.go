package contracttest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/mergelink/linktoken/internal/shared"
	"github.com/mergelink/linktoken/openapi"
)

// preferKey is the context key of Prefer's preferences.
type preferKey struct{}

// Prefer returns a copy of ctx that carries Prism's preferences, such as
// "code=429", "example=magicLink" or "dynamic=false" (several separated by
// commas): a transport made by NewTransport sends them as the Prefer header
// of each request made with that context. A call through the client can so
// ask the mock, or Prism's mock, for one of the spec's answers, and the same
// test drives either.
func Prefer(ctx context.Context, preferences string) context.Context {
	return context.WithValue(ctx, preferKey{}, preferences)
}

// preferences is what Prefer put in ctx, or "".
func preferences(ctx context.Context) string {
	p, _ := ctx.Value(preferKey{}).(string)
	return p
}

// preference is what a request's Prefer headers ask of the mock, read as
// Prism reads them: "code=NNN", "example=NAME" and "dynamic=true|false",
// names in any case, values optionally quoted, other preferences ignored.
type preference struct {
	code    int    // 0: none asked for
	example string // "": none asked for
	dynamic string // "true", "false", or "": not asked
}

// parsePrefer reads every Prefer header of h (several are one list, as
// RFC 7240 says). A code that is not a status (100 to 599) or a dynamic
// that is not a boolean is a problem, named as Prism names it.
func parsePrefer(h http.Header) (p preference, problem string) {
	for _, line := range h.Values("Prefer") {
		for _, item := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(item, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.TrimSpace(value)
			if uq, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
				value = uq
			}
			switch name {
			case "code":
				n, err := strconv.Atoi(value)
				if err != nil || n < 100 || n > 599 {
					return p, fmt.Sprintf("optional property \"code\"\n└─ cannot decode %s, should be a number", shared.Quote(shared.Truncate(value, 100)))
				}
				p.code = n
			case "example":
				p.example = value
			case "dynamic":
				if value != "true" && value != "false" {
					return p, fmt.Sprintf("optional property \"dynamic\"\n└─ cannot decode %s, should be a boolean", shared.Quote(shared.Truncate(value, 100)))
				}
				p.dynamic = value
			}
		}
	}
	return p, ""
}

// canned reports whether p asks for one of the spec's answers rather than
// the mock's own: a code, an example, or dynamic=false. dynamic=true alone
// asks for an answer made for the request, which the mock's own is.
func (p preference) canned() bool {
	return p.code != 0 || p.example != "" || p.dynamic == "false"
}

// answerPreferred answers a valid request as p asks, as Prism's mock does:
// the documented response for the code (200 when none), with the example
// named, or the response's first; 404 for a code the operation does not
// document or an example it does not have (500 when a code was asked for
// too), as Prism's problem+json. It returns the status sent.
func (m *Mock) answerPreferred(w http.ResponseWriter, r *route, p preference) int {
	status := p.code
	if status == 0 {
		status = http.StatusOK
	}
	ref := r.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return writeProblem(w, http.StatusNotFound, "NOT_FOUND", "The server cannot find the requested content",
			fmt.Sprintf("Requested status code %d is not defined in the document.", status))
	}
	key := strconv.Itoa(status)
	if r.op.Responses.Value(key) == nil {
		key = key[:1] + "XX"
	}
	if _, ok := ref.Value.Headers["Retry-After"]; ok {
		w.Header().Set("Retry-After", "1")
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil {
		w.WriteHeader(status)
		return status
	}
	name := cmp.Or(p.example, firstExamples()[r.method+" "+r.path+" "+key])
	ex := mt.Examples[name]
	if ex == nil || ex.Value == nil {
		if p.code != 0 {
			// Prism falls back to the default response, which the spec does
			// not have, and says so in a 500.
			return writeProblem(w, http.StatusInternalServerError, "UNKNOWN",
				"https://stoplight.io/prism/errors#NOT_FOUND: The server cannot find the requested content. We tried default response, but we got https://stoplight.io/prism/errors#NOT_FOUND: The server cannot find the requested content", "")
		}
		return writeProblem(w, http.StatusNotFound, "NOT_FOUND", "The server cannot find the requested content",
			fmt.Sprintf("Response for contentType: application/json and exampleKey: %s does not exist.", shared.Truncate(shared.Printable(name), 100)))
	}
	writeJSON(w, status, ex.Value.Value)
	return status
}

// writeProblem writes Prism's application/problem+json error.
func writeProblem(w http.ResponseWriter, status int, kind, title, detail string) int {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{"https://stoplight.io/prism/errors#" + kind, title, status, detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// firstExamples maps "METHOD /path status" (the spec's status key, such as
// 200 or 5XX) to the name of that response's first JSON example in the
// spec's order: Prism answers it, and kin-openapi keeps examples in a map.
var firstExamples = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	var doc yaml.Node
	if yaml.Unmarshal(openapi.Spec(), &doc) != nil || len(doc.Content) == 0 {
		return out // the Validator loaded the same bytes; this cannot happen
	}
	root := doc.Content[0]
	for path, item := range pairs(member(root, "paths")) {
		for method, op := range pairs(item) {
			for status, resp := range pairs(member(op, "responses")) {
				if ref := member(resp, "$ref"); ref != nil {
					resp = member(member(member(root, "components"), "responses"), strings.TrimPrefix(ref.Value, "#/components/responses/"))
				}
				for name := range pairs(member(member(member(resp, "content"), "application/json"), "examples")) {
					out[strings.ToUpper(method.Value)+" "+path.Value+" "+status.Value] = name.Value
					break // the first
				}
			}
		}
	}
	return out
})

// member is the value of a YAML mapping's key, or nil.
func member(n *yaml.Node, key string) *yaml.Node {
	for k, v := range pairs(n) {
		if k.Value == key {
			return v
		}
	}
	return nil
}

// pairs yields the keys and values of a YAML mapping, in order: none when n
// is nil or not a mapping.
func pairs(n *yaml.Node) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(k, v *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for kv := range slices.Chunk(n.Content, 2) { // a mapping's content alternates keys and values
			if !yield(kv[0], kv[1]) {
				return
			}
		}
	}
}
