package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// The bounds of Handler.
const (
	// MaxBodyBytes is the largest body Handler reads; a larger one is
	// answered 413. Merge's webhooks are a few kilobytes.
	MaxBodyBytes = 1 << 20
	// ReadTimeout bounds how long Handler waits for a body, so that a slow
	// client cannot hold it: Merge sends the whole body at once.
	ReadTimeout = 10 * time.Second
)

// Handler returns an http.Handler that receives Merge's webhooks and calls
// fn with each event whose signature verifies under one of keys. It
// answers:
//
//   - 405 to anything but POST;
//   - 413 to a body over MaxBodyBytes, and 408 to one that takes longer
//     than ReadTimeout to arrive;
//   - 401 to a missing or wrong signature;
//   - 400 to a body that is not a JSON object with hook and linked_account
//     objects;
//   - 500 when fn returns an error, so that Merge sends the webhook again
//     later (it retries with backoff, about 5 times over an hour);
//   - 204 when fn returns nil.
//
// fn is never called for a request that is not answered 204 or 500. fn
// gets the request's context; it should return quickly (Merge counts an
// answer slower than about 10 seconds as a failure), handing long work to
// a queue. Handler logs nothing: what to log of an event is fn's choice,
// and the event holds the end user's email.
func Handler(fn func(ctx context.Context, e *Event) error, keys ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "webhook: POST only", http.StatusMethodNotAllowed)
			return
		}
		// A slow client cannot hold the handler: the body must arrive in
		// time (where the server lets a handler set a deadline).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(ReadTimeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, "webhook: body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "webhook: body not read in time", http.StatusRequestTimeout)
			return
		}
		if err := Verify(body, r.Header.Get(SignatureHeader), keys...); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		e, err := Decode(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := fn(r.Context(), e); err != nil {
			http.Error(w, "webhook: not handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// ErrBadBody is the error of Decode.
var ErrBadBody = errors.New("webhook: the body is not a webhook: a JSON object with hook and linked_account objects")

// Decode decodes a verified webhook body. The envelope's members are read by
// their exact names (hook, linked_account, data); event names are kept as
// sent.
func Decode(body []byte) (*Event, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, ErrBadBody
	}
	var e Event
	for name, dst := range map[string]any{"hook": &e.Hook, "linked_account": &e.LinkedAccount} {
		raw := bytes.TrimSpace(members[name])
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, dst) != nil {
			return nil, ErrBadBody
		}
	}
	if data, ok := members["data"]; ok {
		e.Data = data
	}
	return &e, nil
}
