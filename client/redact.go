package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/mergelink/linktoken/internal/shared"
)

const (
	// maxShownText bounds every string taken from a response and kept in an
	// error, but the body: RequestID, Location, each field of a Problem,
	// the text of a wrapped transport error.
	maxShownText = 1 << 10
	// maxErrorBodyBytes bounds APIError.Body.
	maxErrorBodyBytes = 64 << 10
	// maxBodyStringBytes bounds each string of a JSON error body, and
	// maxBodyTextBytes an error body that is not JSON: what is scrubbed in
	// one piece, whose cost grows with its length times a secret's.
	maxBodyStringBytes = 4 << 10
	maxBodyTextBytes   = 16 << 10
	// maxJSONCleanDepth bounds the nesting of an error body re-encoded for
	// APIError.Body; a deeper body is kept as text.
	maxJSONCleanDepth = 64
)

// cleaner is the one way server text gets into an error. For each string
// it takes a bounded part of the input, decodes what a reader would decode
// (JSON escapes, by decoding the JSON; percent-encoding and HTML character
// references, until nothing changes), strips control and formatting
// characters, replaces the call's secrets (the API key, the end user's
// email, the public token, as given and trimmed, in any case under Unicode
// simple case folding), then cuts the result to its bound. The package's
// own words never go through it, so a short key cannot garble them.
//
// Its cost is bounded whatever a server sends: it reads at most the bound
// of a string (plus a guard), and stops cleaning problems and the body when
// the call's context is done.
type cleaner struct {
	ctx context.Context
	red *shared.Redactor
}

// cleaner returns the call's cleaner, built on first use: a call that
// succeeds never pays for it.
func (c *call) cleaner() *cleaner {
	if c.clean == nil {
		c.clean = &cleaner{ctx: c.ctx, red: shared.NewRedactor(append([]string{c.client.apiKey()}, c.secrets...)...)}
	}
	return c.clean
}

// text cleans one server string, bounded by maxShownText.
func (cl *cleaner) text(s string) string { return cl.bounded(s, maxShownText) }

// bounded cleans s and cuts the result to n bytes.
func (cl *cleaner) bounded(s string, n int) string { return cl.red.Shown(s, n) }

// location cleans a response's Location: a URL (resolved against the
// request's) keeps its scheme, host and path (no credentials, query or
// fragment, which may carry anything); anything else is cleaned as text.
func (cl *cleaner) location(resp *http.Response) string {
	raw := resp.Header.Get("Location")
	if u, err := resp.Location(); err == nil && u.Host != "" {
		raw = u.Scheme + "://" + u.Host + u.EscapedPath()
	}
	return cl.text(raw)
}

// body cleans an error body: a JSON body is re-encoded with each key and
// string cleaned, so an escape such as \u0040 cannot hide a secret; any
// other body is cleaned as text. A JSON body is cut to maxErrorBodyBytes,
// each of its strings to maxBodyStringBytes; text to maxBodyTextBytes.
func (cl *cleaner) body(raw []byte) []byte {
	if cl.ctx.Err() != nil {
		return nil // the call is over: nothing more is cleaned
	}
	if out, ok := cl.json(raw); ok {
		return []byte(shared.Truncate(string(out), maxErrorBodyBytes))
	}
	return []byte(cl.bounded(string(raw), maxBodyTextBytes))
}

// json re-encodes one JSON value compactly, in its order, with every string
// and key cleaned; it reports false for anything that is not one JSON value
// nested at most maxJSONCleanDepth deep. It stops once the output passes
// maxErrorBodyBytes, or when the call's context is done: only the start is
// kept anyway.
func (cl *cleaner) json(raw []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	// counts holds, per open container, how many keys and values it has had.
	var counts []int
	var objects []bool
	values := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out.Bytes(), values == 1
		}
		if err != nil || (len(counts) == 0 && values > 0) {
			return nil, false
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			counts, objects = counts[:len(counts)-1], objects[:len(objects)-1]
			out.WriteByte(byte(d))
			continue
		}
		if n := len(counts); n > 0 {
			switch {
			case objects[n-1] && counts[n-1]%2 == 1:
				out.WriteByte(':')
			case counts[n-1] > 0:
				out.WriteByte(',')
			}
			counts[n-1]++
		} else {
			values++
		}
		switch v := tok.(type) {
		case json.Delim:
			if len(counts) == maxJSONCleanDepth {
				return nil, false
			}
			out.WriteByte(byte(v))
			counts, objects = append(counts, 0), append(objects, v == '{')
		case string:
			// At most maxBodyStringBytes, and what is left of the bound.
			_ = enc.Encode(cl.bounded(v, max(16, min(maxBodyStringBytes, maxErrorBodyBytes-out.Len()))))
			out.Truncate(out.Len() - 1) // Encode's newline
		case json.Number:
			out.WriteString(string(v))
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
		if out.Len() > maxErrorBodyBytes || cl.ctx.Err() != nil {
			return out.Bytes(), true
		}
	}
}
