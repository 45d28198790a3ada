package contracttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// defaultValidator is shared by transports and mocks that are not given one.
var defaultValidator = sync.OnceValues(NewValidator)

// Recorder collects the violations a recording transport saw. It is safe for
// concurrent use.
type Recorder struct {
	mu   sync.Mutex
	errs []*ContractError
}

// Violations returns what was recorded, in order.
func (r *Recorder) Violations() []*ContractError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*ContractError(nil), r.errs...)
}

func (r *Recorder) record(ce *ContractError) {
	r.mu.Lock()
	r.errs = append(r.errs, ce)
	r.mu.Unlock()
}

type transport struct {
	next      http.RoundTripper
	validator *Validator
	recorder  *Recorder
	har       *HAR
	coverage  *Coverage
	// misused names an option only a mock takes, given to the transport.
	misused []string
}

// NewTransport returns an http.RoundTripper that validates each request
// before sending it with next (http.DefaultTransport when nil) and each
// response after. A violation fails the round trip with a *ContractError
// whose Side says which side broke the contract, unless RecordTo is given.
// Put it under client.WithHTTPClient in a service's tests.
func NewTransport(next http.RoundTripper, opts ...Option) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	o := newOptions(opts)
	return &transport{next: next, validator: o.validator, recorder: o.recorder, har: o.har, coverage: o.coverage, misused: o.mockOnly}
}

// RoundTrip implements http.RoundTripper. It reads the request body once,
// closes it (as every RoundTripper must), validates the request from that
// buffer, sends a shallow copy carrying the buffer (req itself is not
// modified), and validates the response from its buffered body, which the
// caller then reads.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.misused) > 0 {
		closeBody(req)
		return nil, fmt.Errorf("contracttest: NewTransport was given %s, which only NewMock takes", strings.Join(t.misused, ", "))
	}
	v := t.validator
	if v == nil {
		var err error
		if v, err = defaultValidator(); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	rc := req.Body // readBody closes it (unless it is too large); req keeps its own field
	body, err := readBody(&rc)
	reqTooLarge := errors.Is(err, errBodyTooLarge)
	route, params := v.match(req.Method, req.URL.Path)
	var l *shared.ViolationList
	switch {
	case route == nil:
		l = listOf(v.noOperation(req.Method))
	case errors.Is(err, errBodyTooLarge):
		l = listOf(tooLarge("requestBody"))
	case err != nil:
		return nil, fmt.Errorf("contracttest: read request body: %w", err)
	default:
		l = route.checkRequest(req.Header, params, body, t.coverage)
	}
	if err := t.check("request", l); err != nil {
		if rc != nil {
			_ = rc.Close()
		}
		return nil, err
	}
	out := new(http.Request)
	*out = *req
	if p := preferences(req.Context()); p != "" {
		out.Header = req.Header.Clone()
		out.Header.Set("Prefer", p)
	}
	switch {
	case body != nil:
		// GetBody stays the request's own: under the client it is nil, so
		// that net/http never sends the body again by itself.
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
	case rc != nil:
		out.Body = rc // recorded as too large: sent whole
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	respBody, err := readBody(&resp.Body)
	if t.har != nil && (err == nil || errors.Is(err, errBodyTooLarge)) {
		t.har.record(harExchange{start: start, req: out, route: route, params: params, reqBody: body, reqTooLarge: reqTooLarge,
			resp: resp, respBody: respBody, respTooLarge: err != nil})
	}
	var rl *shared.ViolationList
	switch {
	case route == nil:
		rl = listOf()
	case errors.Is(err, errBodyTooLarge):
		rl = listOf(tooLarge("responseBody"))
	case err != nil:
		_ = resp.Body.Close()
		return nil, fmt.Errorf("contracttest: read response body: %w", err)
	default:
		rl = route.responseViolations(resp.StatusCode, resp.Header, respBody)
		t.coverage.response(route, resp.StatusCode)
	}
	if err := t.check("response", rl); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// check turns violations into a *ContractError, or records them and returns
// nil when the transport records.
func (t *transport) check(side string, l *shared.ViolationList) error {
	ce := newContractError(side, l)
	if ce == nil {
		return nil
	}
	if t.recorder == nil {
		return ce
	}
	t.recorder.record(ce)
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
