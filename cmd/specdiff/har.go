package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mergelink/linktoken/internal/shared"
)

// Reading an HTTP Archive (HAR 1.2, http://www.softwareishard.com/blog/har-12-spec/)
// one entry at a time, whoever wrote it: contracttest.RecordHAR, a
// browser's devtools, mitmproxy, Charles.
//
// The archive is streamed with encoding/json: Decoder.Token walks the
// levels above log.entries, and Decoder.Decode reads one member of an entry
// at a time, so what is held is one entry, never the archive. An entry's
// request is read before its response (every tool writes them in that
// order), so the response of an entry that is not ours is skipped
// without being decoded. go-json-experiment/jsontext would stream the same
// way (its ReadValue holds a whole value too) for a dependency more; and
// encoding/json refuses nesting deeper than 10,000 levels with an error,
// the bound kin-openapi and the Validator live with.

// maxEntryBytes bounds one entry of the archive, and any other value
// skipped on the way to the entries (log.pages): what a decoder holds at
// once. A browser's archive holds whole scripts and images, a few MB each;
// a body over the Validator's own bound (1 MiB) is reported as too large.
// The decoder holds an entry and its decoded strings, so the memory one
// entry costs is a few times its size.
const maxEntryBytes = 32 << 20

// errEntryTooBig is what boundedReader returns past its limit.
var errEntryTooBig = fmt.Errorf("it is over %d bytes (32 MiB), the most one entry may hold", maxEntryBytes)

// boundedReader counts what it reads, and fails once the count would
// pass limit: set before each value the decoder reads, it bounds what
// the decoder buffers for that value.
type boundedReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n >= b.limit {
		return 0, errEntryTooBig
	}
	if int64(len(p)) > b.limit-b.n {
		p = p[:b.limit-b.n]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// The parts of a HAR entry that traffic reads. Unknown members (timings,
// cache, Chrome's _initiator) are skipped.
type (
	harEntry struct {
		index    int
		request  *harRequest
		response *harResponse // nil when the entry has none, or it was skipped
	}
	harRequest struct {
		Method   string       `json:"method"`
		URL      string       `json:"url"`
		Headers  []harNV      `json:"headers"`
		Cookies  []harNV      `json:"cookies"`
		PostData *harBodyData `json:"postData"`
	}
	harResponse struct {
		Status  int         `json:"status"`
		Headers []harNV     `json:"headers"`
		Cookies []harNV     `json:"cookies"`
		Content harBodyData `json:"content"`
	}
	// harBodyData is a request's postData or a response's content.
	// contracttest.RecordHAR gives postData a size too, and leaves the
	// text out of a body it did not record.
	harBodyData struct {
		Size     *int64  `json:"size"`
		MimeType string  `json:"mimeType"`
		Text     *string `json:"text"`
		Encoding string  `json:"encoding"`
	}
	// harNV is a header or a cookie.
	harNV struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

// recorded reports whether the archive holds the body: a text, or a size
// of 0 (an empty body needs no text). A text left out of a body that had
// one (a size of -1 or more than 0, or no size) was not recorded.
func (b *harBodyData) recorded() bool {
	return b.Text != nil || (b.Size != nil && *b.Size == 0)
}

// open returns a reader of the body's bytes: the text, decoded when its
// encoding is base64 (read as it is decoded, so that only what is read
// is decoded).
func (b *harBodyData) open() (io.Reader, error) {
	text := ""
	if b.Text != nil {
		text = *b.Text
	}
	switch strings.ToLower(b.Encoding) {
	case "":
		return strings.NewReader(text), nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, strings.NewReader(text)), nil
	}
	return nil, fmt.Errorf("its encoding is %s, and a HAR's text is plain or base64", shared.Quote(b.Encoding))
}

// harReader reads the entries of an archive in order.
type harReader struct {
	in  *boundedReader
	dec *json.Decoder
	// next is the index of the next entry; done is set once the entries
	// array is closed.
	next int
	done bool
	// ours tells whether a request is to one of our operations; the
	// response of an entry whose request is not is skipped.
	ours func(method, url string) bool
}

// newHARReader reads an archive up to its first entry.
func newHARReader(r io.Reader, ours func(method, url string) bool) (*harReader, error) {
	in := &boundedReader{r: r}
	h := &harReader{in: in, dec: json.NewDecoder(in), ours: ours}
	steps := []func() error{
		func() error {
			return h.open('{', "the archive is not a JSON object: a HAR is {\"log\": {\"entries\": [...]}}")
		},
		func() error { return h.seek("log", "the archive") },
		func() error { return h.open('{', "log is not an object") },
		func() error { return h.seek("entries", "log") },
		func() error { return h.open('[', "log.entries is not an array") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// bound lets the decoder read at most maxEntryBytes more than where it
// is: set before each value it reads.
func (h *harReader) bound() { h.in.limit = h.dec.InputOffset() + maxEntryBytes }

// token reads the next token, within the bound.
func (h *harReader) token() (json.Token, error) {
	h.bound()
	return h.dec.Token()
}

// open reads the opening delimiter want, or fails with problem.
func (h *harReader) open(want json.Delim, problem string) error {
	tok, err := h.token()
	switch {
	case err == io.EOF && h.dec.InputOffset() == 0:
		return errors.New("the archive is empty")
	case err != nil:
		return h.syntax("", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return errors.New(problem)
	}
	return nil
}

// seek reads the members of the object it is in until the one named
// name, skipping the others; where names the object for the error.
func (h *harReader) seek(name, where string) error {
	for {
		tok, err := h.token()
		if err != nil {
			return h.syntax("", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%s has no %s member: a HAR is {\"log\": {\"entries\": [...]}}", where, name)
		}
		if key == name {
			return nil
		}
		if err := h.skip(); err != nil {
			return h.syntax("", err)
		}
	}
}

// skipValue decodes any JSON value into nothing: the decoder still checks
// it, and allocates nothing for it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

func (h *harReader) skip() error {
	h.bound()
	return h.dec.Decode(&skipValue{})
}

// Next returns the next entry, or nil at the end of the entries, after
// checking that the archive ends as JSON does (whatever follows the
// entries is skipped).
func (h *harReader) Next() (*harEntry, error) {
	if h.done {
		return nil, nil
	}
	e := &harEntry{index: h.next}
	tok, err := h.token()
	if err != nil {
		return nil, h.syntax(e.label(), err)
	}
	if tok == json.Delim(']') {
		h.done = true
		return nil, h.finish()
	}
	h.next++
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("%s is not an object", e.label())
	}
	for {
		tok, err := h.token()
		if err != nil {
			return nil, h.syntax(e.label(), err)
		}
		if tok == json.Delim('}') {
			break
		}
		switch tok {
		case "request":
			e.request = new(harRequest)
			err = h.decode(e.request)
		case "response":
			if e.request != nil && !h.ours(e.request.Method, e.request.URL) {
				err = h.skip()
				break
			}
			e.response = new(harResponse)
			err = h.decode(e.response)
		default:
			err = h.skip()
		}
		if err != nil {
			return nil, h.member(e, tok, err)
		}
	}
	if e.request == nil {
		return nil, fmt.Errorf("%s has no request", e.label())
	}
	return e, nil
}

func (h *harReader) decode(v any) error {
	h.bound()
	return h.dec.Decode(v)
}

// finish reads what follows the entries: the rest of log and of the
// archive, then nothing.
func (h *harReader) finish() error {
	for depth := 2; depth > 0; {
		tok, err := h.token()
		if err != nil {
			return h.syntax("after log.entries", err)
		}
		if tok == json.Delim('}') {
			depth--
			continue
		}
		if err := h.skip(); err != nil {
			return h.syntax("after log.entries", err)
		}
	}
	if _, err := h.token(); err != io.EOF {
		return errors.New("the archive goes on after its JSON object ends")
	}
	return nil
}

// label names an entry for an error by its place in the archive; an
// entryError adds its method and URL.
func (e *harEntry) label() string {
	return fmt.Sprintf("log.entries[%d]", e.index)
}

// member is the error for a member of an entry that could not be read:
// an entryError when it is the response of a request already read.
func (h *harReader) member(e *harEntry, name json.Token, err error) error {
	problem := h.syntax("", err)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		// Its Value may quote a number from the archive: only its kind
		// is said.
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		field := fmt.Sprint(name)
		if typeErr.Field != "" {
			field += "." + typeErr.Field
		}
		problem = fmt.Errorf("%s is a %s, which a HAR does not write there", shown(field), kind)
	}
	if name == "response" && e.request != nil {
		return &entryError{entry: e, problem: problem.Error()}
	}
	return fmt.Errorf("%s: %w", e.label(), problem)
}

// syntax words an error of the decoder: where the archive stops being
// JSON, and why.
func (h *harReader) syntax(where string, err error) error {
	if where != "" {
		where += ": "
	}
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, errEntryTooBig):
		return fmt.Errorf("%s%w; remove other hosts' entries (devtools and proxies filter an export by domain), or record with contracttest.RecordHAR", where, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%sthe archive ends in the middle of its JSON: is it cut short?", where)
	case errors.As(err, &syntaxErr) && strings.Contains(syntaxErr.Error(), "exceeded max depth"):
		return fmt.Errorf("%sthe JSON is nested deeper than %d levels, at byte %d", where, shared.MaxJSONDepth, syntaxErr.Offset)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%sthe archive is not JSON: %s, at byte %d", where, shown(syntaxErr.Error()), syntaxErr.Offset)
	}
	return fmt.Errorf("%sreading the archive: %w", where, err)
}

// entryError is a problem with one entry of ours, once its request is
// known: it names the entry with its method and URL, redacted (see
// trafficRun.fail).
type entryError struct {
	entry   *harEntry
	problem string
}

func (e *entryError) Error() string { return e.entry.label() + ": " + e.problem }
