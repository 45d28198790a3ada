package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/internal/shared"
)

// Checking one exchange of the archive.

// maxWalkBytes is the largest body read for what the Validator lets pass,
// and for its secrets: the Validator's own bound (contracttest reads at
// most 1 MiB of a body and reports a larger one as too large).
const maxWalkBytes = 1 << 20

// entry checks one entry of the archive. Every entry's credential
// headers are remembered as secrets (a key sent elsewhere could be echoed
// by our operations); an entry that is not one of our operations is
// counted and left there.
func (c *trafficCheck) entry(e *harEntry) error {
	c.entries++
	c.tally.begin(e.index)
	req := e.request
	c.secrets.add(headerSecrets(req.Headers, req.Cookies)...)
	if e.response != nil {
		c.secrets.add(headerSecrets(e.response.Headers, e.response.Cookies)...)
	}
	// Built as the Validator will read it, its URL parsed as isOurs
	// parses it.
	hreq, err := http.NewRequest(req.Method, req.URL, nil)
	var op *trafficOp
	var params map[string]string
	if err == nil {
		op, params = c.spec.match(req.Method, hreq.URL.Path)
	}
	if op == nil {
		c.notOurs++
		return nil
	}
	op.exchanges++
	for _, v := range params {
		c.secrets.add(v)
	}
	addHeaders(hreq.Header, req.Headers)
	reqBody, err := c.readBody(req.PostData)
	if err != nil {
		return &entryError{entry: e, problem: "request.postData: " + err.Error()}
	}
	if reqBody.notRecorded {
		c.notRecorded++
	}
	if reqBody.present {
		if hreq.Header.Get("Content-Type") == "" && req.PostData.MimeType != "" {
			hreq.Header.Set("Content-Type", req.PostData.MimeType)
		}
		hreq.Body = io.NopCloser(reqBody.reader())
	}
	// A response's body is read even when its status is 0 (no response):
	// its secrets are remembered, whatever the archive says of it.
	var respBody sideBody
	resp := e.response
	if resp != nil {
		if respBody, err = c.readBody(&resp.Content); err != nil {
			return &entryError{entry: e, problem: "response.content: " + err.Error()}
		}
	}

	side := exchangeSide{op: op, name: "request", body: reqBody}
	if rb := op.op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get(hreq.Header.Get("Content-Type")); mt != nil {
			side.schemas = schemasOf(mt.Schema)
		}
	}
	if c.side != "response" {
		if err := c.check(e, side, c.v.ValidateRequest(hreq)); err != nil {
			return err
		}
	}
	if resp == nil || resp.Status == 0 {
		c.noResponse++ // blocked, cancelled or failed: nothing came back
		return nil
	}
	if respBody.notRecorded {
		c.notRecorded++
	}
	hresp := &http.Response{StatusCode: resp.Status, Header: http.Header{}, Body: io.NopCloser(respBody.reader())}
	addHeaders(hresp.Header, resp.Headers)
	if hresp.Header.Get("Content-Type") == "" && resp.Content.MimeType != "" {
		hresp.Header.Set("Content-Type", resp.Content.MimeType)
	}
	side = exchangeSide{op: op, name: "response", status: resp.Status, body: respBody}
	r := op.op.Responses.Status(resp.Status)
	if r == nil {
		r = op.op.Responses.Default() // as the Validator looks the status up
	}
	if r != nil && r.Value != nil {
		if mt := r.Value.Content.Get(hresp.Header.Get("Content-Type")); mt != nil {
			side.schemas = schemasOf(mt.Schema)
		}
	}
	if c.side == "request" {
		return nil
	}
	return c.check(e, side, c.v.ValidateResponse(hreq, hresp))
}

// addHeaders adds a HAR's headers to h, but HTTP/2's pseudo-headers
// (":authority"), which a browser lists.
func addHeaders(h http.Header, headers []harNV) {
	for _, nv := range headers {
		if nv.Name != "" && !strings.HasPrefix(nv.Name, ":") {
			h.Add(nv.Name, nv.Value)
		}
	}
}

// sideBody is a request's or a response's body, as the archive holds it.
type sideBody struct {
	// present is set when the archive holds a body (an empty one
	// included); notRecorded when it says there was one, without it.
	present, notRecorded bool
	// raw is the body, or its first maxWalkBytes+1 bytes when tooLarge;
	// rest is what follows them then.
	raw      string
	tooLarge bool
	rest     io.Reader
	// value is the body decoded, when it is JSON (isJSON).
	value  any
	isJSON bool
}

// reader returns the whole body again.
func (b sideBody) reader() io.Reader {
	if b.rest != nil {
		return io.MultiReader(strings.NewReader(b.raw), b.rest)
	}
	return strings.NewReader(b.raw)
}

// readBody reads a body of the archive, up to maxWalkBytes, decodes it
// when it is JSON, and remembers its secret members' values.
func (c *trafficCheck) readBody(d *harBodyData) (sideBody, error) {
	switch {
	case d == nil:
		return sideBody{}, nil
	case !d.recorded():
		return sideBody{notRecorded: true}, nil
	}
	b := sideBody{present: true}
	if d.Encoding == "" && d.Text != nil {
		// The text is the body: no copy.
		text := *d.Text
		b.raw = text[:min(len(text), maxWalkBytes+1)]
		if len(text) > len(b.raw) {
			b.rest = strings.NewReader(text[len(b.raw):])
		}
	} else {
		r, err := d.open()
		if err != nil {
			return sideBody{}, err
		}
		raw, err := io.ReadAll(io.LimitReader(r, maxWalkBytes+1))
		if err != nil {
			return sideBody{}, fmt.Errorf("its %s text does not decode: %w", d.Encoding, err)
		}
		b.raw, b.rest = string(raw), r
	}
	if len(b.raw) > maxWalkBytes {
		b.tooLarge = true
		return b, nil
	}
	b.rest = nil
	b.value, b.isJSON = decodeJSON(b.raw)
	c.secrets.add(bodySecrets(b.value)...)
	return b, nil
}

// decodeJSON decodes a body as the Validator does: UTF-8, one JSON value
// and nothing after it, numbers kept as written.
func decodeJSON(body string) (any, bool) {
	if !utf8.ValidString(body) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// exchangeSide is one side of an exchange, as its findings name it.
type exchangeSide struct {
	op     *trafficOp
	name   string // "request" or "response"
	status int    // the response's
	body   sideBody
	// schemas are those of the body's media type, when the spec has one.
	schemas schemas
}

// check counts what the Validator said of one side of an exchange (err,
// from ValidateRequest or ValidateResponse) and what its body holds that
// the spec does not document.
func (c *trafficCheck) check(e *harEntry, s exchangeSide, err error) error {
	var ce *contracttest.ContractError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		c.unlisted += ce.Omitted
		for _, v := range ce.Violations {
			if v.In == "body" && s.body.notRecorded {
				continue // the archive does not hold the body: nothing to say of it
			}
			group := classify(v, s.body.tooLarge)
			if group == "" {
				continue
			}
			k := findingKey{group: group, side: s.name, status: s.status, rule: v.Rule}
			line := s.op.line
			if group == groupStatus {
				k.rule = ""
			}
			if v.Pointer != "" && s.body.isJSON {
				ptr, value, found, l := c.walker.locate(s.schemas, s.body.value, v.Pointer)
				k.pointer = pointerOf(ptr)
				if l > 0 {
					line = l
				}
				switch {
				case found && value == nil && group != groupBound:
					// A null the schema refuses, whichever keyword kin
					// names (an enum refuses null too, unless nullable).
					k.group = groupNull
				case found && group == groupEnum:
					k.value = valueText(value)
				}
			}
			c.tally.add(s.op, k, v.Message, line)
		}
	default:
		return &entryError{entry: e, problem: s.name + ": " + err.Error()}
	}
	if s.body.isJSON {
		c.walker.walk(s.schemas, s.body.value, nil, func(n bodyNote) {
			k := findingKey{group: n.group, side: s.name, status: s.status, pointer: pointerOf(n.pointer), value: dataText(n.value)}
			message := "no property of the schema names this member"
			if n.group == groupUnlisted {
				message = "not one of the values the open enum lists"
			}
			c.tally.add(s.op, k, message, n.line)
		})
	}
	return nil
}

// pointerOf is a schema pointer's text; each token is bounded as a text
// from the archive (an undocumented member's name is one).
func pointerOf(tokens []string) string {
	bounded := make([]string, len(tokens))
	for i, t := range tokens {
		bounded[i] = dataText(t)
	}
	return shared.Pointer(bounded...)
}
