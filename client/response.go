package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/shared"
)

const (
	// requestIDHeader is the response header read into APIError.RequestID.
	// Merge documents no request id header; this is the one its responses
	// carry.
	requestIDHeader = "X-Request-Id"
	// maxProblems bounds APIError.Problems.
	maxProblems = 20
)

// finish is the one place a call's outcome becomes its result or its error:
// a 200 whose body is the operation's JSON, decoded exactly (decodeExact)
// and checked by check (the spec's rules beyond names and types), is the
// result; any other response is an *APIError; a failure where no usable
// response arrived is a transport error; and when the context stopped the
// call after a failed attempt, the error is both that attempt's and the
// context's.
func finish[T any](c *call, resp *http.Response, err error, check func(*T) string) (*T, error) {
	defer c.fillInfo()
	if err != nil {
		status, class, e := c.failure(err)
		c.logOutcome(status, class)
		return nil, e
	}
	var v T
	ok, reason := c.success(resp, &v, func() string { return check(&v) })
	c.logOutcome(resp.StatusCode, "")
	if ok {
		return &v, nil
	}
	return nil, c.apiError(resp, reason)
}

// fillInfo fills in WithResponseInfo's ResponseInfo from the last response.
func (c *call) fillInfo() {
	info := c.s.info
	if info == nil {
		return
	}
	info.Attempts = c.attempts
	if c.last != nil {
		info.StatusCode = c.last.StatusCode
		info.RequestID = c.cleaner().text(c.last.Header.Get(requestIDHeader))
	}
}

// success decodes a 200's body into v and reports whether the response is
// the operation's success, or why not when the client, not the server,
// found it wrong: the Reason of its *APIError.
func (c *call) success(resp *http.Response, v any, check func() string) (bool, string) {
	success := resp.StatusCode >= 200 && resp.StatusCode <= 299
	var reason string
	switch {
	case c.tooLarge:
		reason = fmt.Sprintf("response body exceeds %d bytes", maxBodyBytes)
	case resp.StatusCode == http.StatusOK:
		if reason = c.decode(resp, v); reason == "" {
			if reason = check(); reason == "" {
				return true, ""
			}
		}
	case success:
		reason = fmt.Sprintf("status %d is not the documented 200", resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		reason = c.refused
	}
	if success {
		reason = "response breaks the contract: " + reason
	}
	return false, reason
}

// decode decodes a 200: JSON (its Content-Type says so), UTF-8, the
// operation's type with its members named exactly.
func (c *call) decode(resp *http.Response, v any) string {
	ct := resp.Header.Get("Content-Type")
	if !isJSON(ct) {
		if ct == "" {
			return "no Content-Type; the spec's is application/json"
		}
		return "Content-Type " + shared.Quote(c.cleaner().text(ct)) + " is not the spec's application/json"
	}
	body := bodyOf(resp)
	if !utf8.Valid(body) {
		// encoding/json would turn the bad bytes into U+FFFD: a credential
		// silently changed.
		return "body is not valid UTF-8"
	}
	return decodeExact(body, v)
}

// isJSON reports whether a Content-Type is the spec's application/json,
// with or without parameters.
func isJSON(ct string) bool {
	if ct == "application/json" {
		return true // the usual one, without a parse
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// apiError builds the *APIError of a response; every server string goes
// through the call's cleaner. The body of a 2xx is never kept: it may hold
// a credential.
func (c *call) apiError(resp *http.Response, reason string) *APIError {
	cl := c.cleaner()
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  cl.text(resp.Header.Get(requestIDHeader)),
		Attempts:   c.attempts,
		Reason:     reason,
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e.Location = cl.location(resp)
	}
	if after, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.s.clock.now()); ok {
		e.RetryAfter = after
	}
	if resp.StatusCode == http.StatusNotFound && c.op.singleUse && c.attempts > 1 {
		e.Reason = "an earlier attempt failed, and may have consumed what this call sends, which is single-use: the answer to it was lost"
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return e
	}
	if body := bodyOf(resp); len(body) > 0 {
		e.Problems = parseProblems(body, cl)
		e.Body = cl.body(body)
	}
	return e
}

// failure is what a call that ended without a usable response logs (the
// last status, or the class of failure) and returns.
func (c *call) failure(err error) (int, string, error) {
	var st *stopped
	if errors.As(err, &st) {
		// The context stopped the call between attempts: the last
		// attempt's outcome, and why it stopped.
		last := c.outcome(c.last, c.lastErr)
		return statusOf(c.last), "", &gaveUpError{last: last, cause: st.cause}
	}
	class, _ := safeToResend(err)
	e := c.transportError(err)
	if c.ctx.Err() != nil && c.attempts > 1 {
		// The context cut this attempt short after another had failed
		// (with a response or an error: an attempt returns one of them).
		return 0, class, &gaveUpError{last: c.outcome(c.prev, c.prevErr), cause: e}
	}
	return 0, class, e
}

// outcome is the error of one failed attempt.
func (c *call) outcome(resp *http.Response, err error) error {
	if err != nil {
		return c.transportError(err)
	}
	_, reason := c.success(resp, new(struct{}), func() string { return "" })
	return c.apiError(resp, reason)
}

// transportError wraps an error where no usable response arrived (or the
// generated client could not build the request), with the attempt count,
// cleaning its text: a URL in it may carry a public token.
func (c *call) transportError(err error) *transportError {
	msg := "client: " + c.op.name
	if c.attempts > 1 {
		msg = fmt.Sprintf("%s after %d attempts", msg, c.attempts)
	}
	return &transportError{msg: msg, text: c.cleaner().text(err.Error()), err: err}
}

// parseProblems reads Merge's error details from an error body, in any of
// the spec's forms, keeping what it understands: a key of an unexpected type
// is skipped, not a reason to drop the rest. Each string is cleaned; the
// cleaning stops when the call's context is done, so that a call never
// outlives it.
func parseProblems(body []byte, cl *cleaner) []Problem {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	var out []Problem
	add := func(p Problem) {
		if len(out) < maxProblems && cl.ctx.Err() == nil {
			out = append(out, Problem{Field: cl.text(p.Field), Title: cl.text(p.Title), Detail: cl.text(p.Detail), Type: cl.text(p.Type)})
		}
	}
	var detail string
	if json.Unmarshal(top["detail"], &detail) == nil && detail != "" {
		add(Problem{Detail: detail})
	}
	var list []json.RawMessage
	if json.Unmarshal(top["errors"], &list) == nil {
		for _, raw := range list[:min(len(list), maxProblems)] {
			var p gen.ErrorValidationProblem
			if json.Unmarshal(raw, &p) == nil {
				add(Problem{Field: strings.TrimPrefix(p.Source.Pointer, "/"), Title: p.Title, Detail: p.Detail, Type: p.ProblemType})
			}
		}
	}
	for _, field := range slices.Sorted(maps.Keys(top)) {
		if len(out) == maxProblems {
			break
		}
		if field == "detail" || field == "errors" || field == "warnings" {
			continue
		}
		var msgs []string
		if json.Unmarshal(top[field], &msgs) != nil {
			var msg string
			if json.Unmarshal(top[field], &msg) != nil {
				continue
			}
			msgs = []string{msg}
		}
		for _, msg := range msgs {
			add(Problem{Field: field, Detail: msg})
		}
	}
	return out
}
