package client

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mergelink/linktoken/gen"
)

// RequestIDHeader is the response header read into APIError.RequestID. Merge
// documents no request id header; this is the one its responses carry.
const RequestIDHeader = "X-Request-Id"

// Problem is one detail of Merge's error response, whichever form it came in:
// {"detail": "..."}, a field-keyed list of messages, or an entry of an
// "errors" list in Merge's ErrorValidationProblem shape.
type Problem struct {
	// Field is the request field the problem concerns, or "" for the whole
	// request.
	Field string
	// Title is a short summary, when Merge gave one.
	Title string
	// Detail is the message.
	Detail string
	// Type is Merge's machine-readable problem_type, when given.
	Type string
}

// String returns "field: detail", "detail" or "title: detail".
func (p Problem) String() string {
	switch {
	case p.Field != "":
		return p.Field + ": " + p.Detail
	case p.Title != "" && p.Detail != "":
		return p.Title + ": " + p.Detail
	case p.Detail != "":
		return p.Detail
	}
	return p.Title
}

// APIError is a response that was not a valid success: a non-2xx status, or a
// 2xx whose body breaks the contract (Reason says how). It never contains the
// API key or the end user's email address: both are replaced by "[redacted]"
// wherever the server echoed them.
type APIError struct {
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// RequestID is the RequestIDHeader of the response, if any.
	RequestID string
	// Problems are Merge's error details, parsed from the body.
	Problems []Problem
	// Body is the start of a non-2xx response body (at most 64 KiB),
	// redacted. It is empty for a 2xx, whose body may hold a link token.
	Body []byte
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
	// Attempts is how many requests were made, retries included.
	Attempts int
	// Reason is set when the client, not the server, found the response
	// wrong: a 2xx body that is not a valid LinkToken, or a body too large.
	Reason string
}

// Error returns one line: status, request id, attempts and the details.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("linktoken: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Attempts > 1 {
		b.WriteString(" after " + strconv.Itoa(e.Attempts) + " attempts")
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return oneLine(b.String())
}

// Format prints the error's one line for every verb, so %+v and %#v cannot
// expose more than Error does.
func (e *APIError) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(e.Error()))
}

// Temporary reports whether retrying later may succeed: a 429 or a 5xx.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// maxErrorBodyBytes bounds APIError.Body.
const maxErrorBodyBytes = 64 << 10

// parseProblems reads Merge's error details from an error body, in any of the
// spec's forms. A body that is none of them gives no problems.
func parseProblems(body []byte) []Problem {
	var e gen.Error
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	var out []Problem
	if e.Detail != "" {
		out = append(out, Problem{Detail: e.Detail})
	}
	for _, p := range e.Errors {
		out = append(out, Problem{
			Field:  strings.TrimPrefix(p.Source.Pointer, "/"),
			Title:  p.Title,
			Detail: p.Detail,
			Type:   p.ProblemType,
		})
	}
	for _, field := range slices.Sorted(maps.Keys(e.AdditionalProperties)) {
		for _, msg := range e.AdditionalProperties[field] {
			out = append(out, Problem{Field: field, Detail: msg})
		}
	}
	return out
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
