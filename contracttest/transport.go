package contracttest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// defaultValidator is shared by transports and mocks that are not given one.
var defaultValidator = sync.OnceValues(NewValidator)

// TransportOption configures NewTransport.
type TransportOption func(*transport)

// WithTransportValidator makes the transport use v instead of the shared
// default validator.
func WithTransportValidator(v *Validator) TransportOption {
	return func(t *transport) { t.validator = v }
}

// RecordTo makes the transport record violations in rec instead of failing
// the round trip: for auditing a proxy or a staging run.
func RecordTo(rec *Recorder) TransportOption {
	return func(t *transport) { t.recorder = rec }
}

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

func (r *Recorder) record(err error) error {
	ce, ok := err.(*ContractError)
	if !ok {
		return err // not a violation: a failure to read the body
	}
	r.mu.Lock()
	r.errs = append(r.errs, ce)
	r.mu.Unlock()
	return nil
}

type transport struct {
	next      http.RoundTripper
	validator *Validator
	recorder  *Recorder
}

// NewTransport returns an http.RoundTripper that validates each request
// before sending it with next (http.DefaultTransport when nil) and each
// response after. A violation fails the round trip with a *ContractError
// whose Side says which side broke the contract, unless RecordTo is given.
// Put it under client.WithHTTPClient in a service's tests.
func NewTransport(next http.RoundTripper, opts ...TransportOption) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	t := &transport{next: next}
	for _, opt := range opts {
		opt(t)
	}
	return t
}

// RoundTrip implements http.RoundTripper. It does not modify req: it
// validates and sends a clone with a buffered body.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	v := t.validator
	if v == nil {
		var err error
		if v, err = defaultValidator(); err != nil {
			return nil, err
		}
	}
	body, err := requestBody(req)
	if err != nil {
		return nil, fmt.Errorf("contracttest: read request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	// ValidateRequest leaves out.Body readable from the start.
	if err := t.check(v.ValidateRequest(out)); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if err := t.check(v.ValidateResponse(out, resp)); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func (t *transport) check(err error) error {
	if err == nil || t.recorder == nil {
		return err
	}
	return t.recorder.record(err)
}

// requestBody reads the body of req without consuming it: through GetBody
// when it can, else by reading and replacing req.Body.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxBodyBytes+1))
	}
	return readBody(&req.Body)
}
