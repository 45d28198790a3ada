package contracttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// HAR records the exchanges of a transport (RecordHAR) as an HTTP Archive
// 1.2, redacted as they are recorded: nothing secret is ever held, so
// nothing secret can be written. Redacted are the values of the
// Authorization, Proxy-Authorization, Cookie, Set-Cookie and
// X-Account-Token headers (a Bearer key keeps its scheme: "Bearer
// [redacted]"), the path parameters (the public token), and, in JSON
// bodies, the members end_user_email_address, link_token, magic_link_url,
// account_token and public_token (shared.SecretMembers, their names in any
// case), then any of those values wherever else they appear (an error
// echoing the email, a Location), in any case. A
// redacted HAR still validates against the spec, so "specdiff traffic" can
// check it.
//
// A JSON body is written re-encoded after redaction, its members in name
// order; another body as text. A body over the Validator's bound is
// recorded without its text, its size -1 (not available). A HAR keeps at most 10,000 exchanges and
// 64 MiB of bodies; past either, what is left out is counted in the
// archive's comment. The zero value is ready to use, and a HAR is safe for
// concurrent use.
type HAR struct {
	mu            sync.Mutex
	entries       []harEntry
	bodyBytes     int
	dropped       int
	bodiesOmitted int
}

const (
	maxHAREntries   = 10_000
	maxHARBodyBytes = 64 << 20
)

// harSecretHeaders are the headers whose values a HAR never holds.
var harSecretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Account-Token"}

// harSecretMember finds a secret member's (shared.SecretMembers, its name in
// any case) string value as written.
var harSecretMember = regexp.MustCompile(`(?i)"(?:` + strings.Join(shared.SecretMembers, "|") + `)"\s*:\s*"((?:[^"\\]|\\.)*)`)

// RecordHAR makes a transport record every exchange it sends in h, whether
// or not it keeps the contract. Transport only.
func RecordHAR(h *HAR) Option {
	return func(o *options) {
		o.har = h
		o.transportOnly = append(o.transportOnly, "RecordHAR")
	}
}

// The types below are the parts of HAR 1.2 that an exchange fills
// (http://www.softwareishard.com/blog/har-12-spec/).
type (
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
	}
	harRequest struct {
		Method      string      `json:"method"`
		URL         string      `json:"url"`
		HTTPVersion string      `json:"httpVersion"`
		Cookies     []struct{}  `json:"cookies"`
		Headers     []harNV     `json:"headers"`
		QueryString []harNV     `json:"queryString"`
		PostData    *harContent `json:"postData,omitempty"`
		HeadersSize int         `json:"headersSize"`
		BodySize    int         `json:"bodySize"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []struct{} `json:"cookies"`
		Headers     []harNV    `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
		Comment  string `json:"comment,omitempty"`
	}
	harNV struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harTimings struct {
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
)

// harExchange is one exchange as a transport saw it.
type harExchange struct {
	start time.Time
	req   *http.Request
	// route is the request's operation (nil when the spec has none), and
	// params its path parameters' values.
	route  *route
	params map[string]string
	// The bodies as read, and whether each was over the validator's bound
	// (and so not read).
	reqBody, respBody         []byte
	reqTooLarge, respTooLarge bool
	resp                      *http.Response
}

// record adds one exchange.
func (h *HAR) record(x harExchange) {
	req, resp, reqBody, respBody := x.req, x.resp, x.reqBody, x.respBody
	secrets := make([]string, 0, 8)
	for _, v := range x.params {
		secrets = append(secrets, v)
	}
	reqJSON, reqSecrets := harJSON(reqBody)
	respJSON, respSecrets := harJSON(respBody)
	secrets = append(append(secrets, reqSecrets...), respSecrets...)
	for _, name := range harSecretHeaders {
		for _, hv := range [][]string{req.Header.Values(name), resp.Header.Values(name)} {
			for _, v := range hv {
				secrets = append(secrets, v, shared.Credentials(v))
			}
		}
	}
	red := shared.NewRedactor(secrets...)
	u := *req.URL
	u.User = nil
	if x.route != nil {
		// Each path parameter's segment, found by its place from the end,
		// as the Validator matched it.
		segments := strings.Split(u.Path, "/")
		tail := segments[len(segments)-len(x.route.segments):]
		for i, s := range x.route.segments {
			if strings.HasPrefix(s, "{") {
				tail[i] = shared.Redacted
			}
		}
		u.Path = strings.Join(segments, "/")
	}
	u.RawPath = ""
	elapsed := float64(time.Since(x.start).Microseconds()) / 1000
	e := harEntry{
		StartedDateTime: x.start.UTC().Format(time.RFC3339Nano),
		Time:            elapsed,
		Request: harRequest{
			Method: req.Method, URL: harRedact(red, u.String()), HTTPVersion: harVersion(req.Proto),
			Cookies: []struct{}{}, Headers: harHeaders(req.Header, red), QueryString: []harNV{},
			HeadersSize: -1,
		},
		Response: harResponse{
			Status: resp.StatusCode, StatusText: strings.TrimSpace(strings.TrimPrefix(resp.Status, fmt.Sprint(resp.StatusCode))),
			HTTPVersion: harVersion(resp.Proto), Cookies: []struct{}{}, Headers: harHeaders(resp.Header, red),
			RedirectURL: harRedact(red, resp.Header.Get("Location")), HeadersSize: -1,
		},
		Timings: harTimings{Send: 0, Wait: elapsed, Receive: 0},
	}
	for name, vs := range u.Query() {
		for _, v := range vs {
			e.Request.QueryString = append(e.Request.QueryString, harNV{harRedact(red, name), harRedact(red, v)})
		}
	}
	slices.SortFunc(e.Request.QueryString, func(a, b harNV) int { return strings.Compare(a.Name, b.Name) })

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) >= maxHAREntries {
		h.dropped++
		return
	}
	reqText, respText := harText(reqBody, reqJSON, red), harText(respBody, respJSON, red)
	n := len(reqText) + len(respText)
	withBodies := h.bodyBytes+n <= maxHARBodyBytes
	if !withBodies {
		h.bodiesOmitted++
	}
	if len(reqBody) > 0 || x.reqTooLarge {
		e.Request.PostData = harBody(req.Header.Get("Content-Type"), reqBody, reqText, withBodies, x.reqTooLarge)
		e.Request.BodySize = e.Request.PostData.Size
	}
	e.Response.Content = *harBody(resp.Header.Get("Content-Type"), respBody, respText, withBodies, x.respTooLarge)
	e.Response.BodySize = e.Response.Content.Size
	if withBodies {
		h.bodyBytes += n
	}
	h.entries = append(h.entries, e)
}

// harJSON decodes a JSON body and replaces the values of its secret
// members, returning the value (nil when body is not JSON) and the
// secrets it held.
func harJSON(body []byte) (any, []string) {
	if len(body) == 0 {
		return nil, nil
	}
	// A body that is not JSON (cut short, say) may still hold a secret
	// member's value: found as it is written, and decoded.
	var secrets []string
	for _, m := range harSecretMember.FindAllSubmatch(body, -1) {
		var v string
		if json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &v) == nil {
			secrets = append(secrets, v)
		}
		secrets = append(secrets, string(m[1]))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, secrets
	}
	shared.EachSecret(v, func(obj map[string]any, name, value string) {
		secrets = append(secrets, value)
		obj[name] = shared.Redacted
	})
	return v, secrets
}

// harRedact redacts s, and when s still holds a secret behind an escape
// (percent-encoding, an HTML reference), gives it decoded and redacted.
func harRedact(red *shared.Redactor, s string) string {
	t := red.Redact(s)
	if u := shared.Unescape(t); u != t {
		if r := red.Redact(u); r != u {
			return r
		}
	}
	return t
}

// harText is a body as a HAR holds it: a JSON value re-encoded with every
// string and member name redacted, or the text redacted.
func harText(body []byte, value any, red *shared.Redactor) string {
	if len(body) == 0 {
		return ""
	}
	if value == nil {
		return harRedact(red, string(body))
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return harRedact(red, x)
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, m := range x {
				out[harRedact(red, k)] = walk(m)
			}
			return out
		case []any:
			for i, m := range x {
				x[i] = walk(m)
			}
		}
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(walk(value)) // decoded from JSON: it encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// harBody is a body's content record: its text when kept, or a comment
// saying why not.
func harBody(contentType string, body []byte, text string, kept, tooLarge bool) *harContent {
	c := &harContent{Size: len(body), MimeType: contentType, Text: text}
	switch {
	case tooLarge:
		c.Size = -1
		c.Comment = fmt.Sprintf("not recorded: the body exceeds %d bytes", maxBodyBytes)
	case !kept:
		c.Text = ""
		c.Comment = fmt.Sprintf("not recorded: the archive holds %d bytes of bodies already", maxHARBodyBytes)
	}
	return c
}

func harHeaders(h http.Header, red *shared.Redactor) []harNV {
	out := make([]harNV, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		secret := slices.Contains(harSecretHeaders, http.CanonicalHeaderKey(name))
		for _, v := range h[name] {
			if secret {
				if scheme, _, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
					v = scheme + " " + shared.Redacted
				} else {
					v = shared.Redacted
				}
			}
			out = append(out, harNV{name, harRedact(red, v)})
		}
	}
	return out
}

func harVersion(proto string) string {
	if proto == "" {
		return "HTTP/1.1"
	}
	return proto
}

// WriteTo writes the archive recorded so far as HAR 1.2 JSON.
func (h *HAR) WriteTo(w io.Writer) (int64, error) {
	h.mu.Lock()
	doc := struct {
		Log struct {
			Version string `json:"version"`
			Creator struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"creator"`
			Entries []harEntry `json:"entries"`
			Comment string     `json:"comment,omitempty"`
		} `json:"log"`
	}{}
	doc.Log.Version = "1.2"
	doc.Log.Creator.Name = shared.ModulePath + "/contracttest"
	doc.Log.Creator.Version = shared.Version()
	doc.Log.Entries = append([]harEntry{}, h.entries...)
	var notes []string
	if h.dropped > 0 {
		notes = append(notes, fmt.Sprintf("%d exchanges not recorded: a HAR keeps at most %d", h.dropped, maxHAREntries))
	}
	if h.bodiesOmitted > 0 {
		notes = append(notes, fmt.Sprintf("%d exchanges recorded without their bodies: a HAR keeps at most %d bytes of bodies", h.bodiesOmitted, maxHARBodyBytes))
	}
	doc.Log.Comment = strings.Join(notes, "; ")
	h.mu.Unlock()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return 0, err
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}
