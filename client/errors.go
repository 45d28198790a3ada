package client

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mergelink/linktoken/internal/shared"
)

// The classes of failure a service handles differently. Test with errors.Is:
// an *APIError matches the class of its status, and an error from a
// RoundTripper given with WithHTTPClient may match ErrContractBroken too
// (contracttest's *ContractError does).
var (
	// ErrUnauthorized: Merge answered 401; the API key is wrong or revoked.
	ErrUnauthorized = errors.New("client: unauthorized")
	// ErrForbidden: Merge answered 403; the key may not do this.
	ErrForbidden = errors.New("client: forbidden")
	// ErrRateLimited: Merge answered 429 after the retries; APIError.RetryAfter
	// says when to come back, if Merge said.
	ErrRateLimited = errors.New("client: rate limited")
	// ErrServerError: Merge answered 5xx after the retries.
	ErrServerError = errors.New("client: server error")
	// ErrContractBroken: a 2xx arrived that breaks the spec (a 2xx other
	// than 200, or a 200 whose body is not the operation's JSON, with its
	// members named exactly as the spec names them), or a validating
	// RoundTripper refused an exchange. It is never retried.
	ErrContractBroken = errors.New("client: contract broken")
)

// Problem is one detail of Merge's error response, whichever form it came in:
// {"detail": "..."}, a field-keyed list of messages, or an entry of an
// "errors" list in Merge's ErrorValidationProblem shape. Every field is
// server text, cleaned like the rest of an APIError.
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

// APIError is a response that was not a valid success: a status other than
// the operation's 200, or a 200 whose body breaks the contract (Reason says
// how). Everything in it that came from the server has been cleaned: decoded
// (JSON escapes, percent-encoding, HTML character references), stripped of
// control and formatting characters, every secret of the call (the API key,
// the end user's email, the public token) replaced by "[redacted]" in any
// case, then bounded. Match its class with errors.Is and ErrUnauthorized,
// ErrForbidden, ErrRateLimited, ErrServerError or ErrContractBroken.
type APIError struct {
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// RequestID is the X-Request-Id header of the response, if any.
	RequestID string
	// Problems are Merge's error details, parsed from the body (at most 20).
	Problems []Problem
	// Body is the start of a non-2xx response body: a JSON body re-encoded
	// with its strings cleaned (at most 64 KiB, each string at most 4 KiB),
	// any other body as cleaned text (at most 16 KiB). It is empty for a
	// 2xx, whose body may hold a credential.
	Body []byte
	// Location is where a redirect that was not followed pointed: scheme,
	// host and path only, or the cleaned header when it is not a URL.
	Location string
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
	// Attempts is how many requests were made, retries included.
	Attempts int
	// Reason is set when the client, not the server, found the response
	// wrong: a 2xx that breaks the contract, a body too large, a redirect
	// not followed.
	Reason string
}

// maxErrorLine is the length past which Error stops listing problems.
const maxErrorLine = 4 << 10

// Error returns one line: status, request id, attempts, the reason, the
// redirect's location and the details.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Location != "" {
		b.WriteString(" (location " + e.Location + ")")
	}
	for i, p := range e.Problems {
		if b.Len() > maxErrorLine {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	// The fields are clean when this package made e; this keeps the line
	// one line when a caller made it.
	return shared.Printable(b.String())
}

// Format prints the error's one line for every verb, so %+v and %#v cannot
// expose more than Error does.
func (e *APIError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log the error's line and its fields, nothing more.
func (e *APIError) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("error", e.Error()),
		slog.Int("status", e.StatusCode),
		slog.Int("attempts", e.Attempts),
	}
	if e.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", e.RequestID))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return slog.GroupValue(attrs...)
}

// Is reports whether the error belongs to target's class: ErrUnauthorized
// (401), ErrForbidden (403), ErrRateLimited (429), ErrServerError (5xx) or
// ErrContractBroken (a 2xx: any 2xx that is an error broke the contract).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrContractBroken:
		return e.StatusCode >= 200 && e.StatusCode <= 299
	}
	return false
}

// ValidationError reports a request that breaks the spec. Nothing was sent.
type ValidationError struct {
	// Violations lists the rules broken, in pointer order, at most 50 of
	// them.
	Violations []Violation
	// Omitted counts the violations found beyond those listed.
	Omitted int
}

// Error names each offending field and its rule, on one line. A map key of
// the request (a category, an integration slug) goes into a pointer, so the
// line is made printable.
func (e *ValidationError) Error() string {
	msg := shared.Violations(e.Violations).String()
	if e.Omitted > 0 {
		msg += fmt.Sprintf("; and %d more", e.Omitted)
	}
	return "client: invalid request: " + shared.Printable(msg)
}

// Format prints the error's one line for every verb.
func (e *ValidationError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log the error's line and the fields named.
func (e *ValidationError) LogValue() slog.Value {
	return slog.GroupValue(slog.String("error", e.Error()), slog.Any("fields", e.Fields()))
}

// Fields returns the distinct top-level fields that break the spec, sorted.
func (e *ValidationError) Fields() []string { return shared.Violations(e.Violations).Fields() }

// OptionError is an option that New or a call refused: which option, and
// why. Its message is "client: <Option>: <reason>"; a program that took the
// value from elsewhere (a flag, a variable) names that instead, with
// errors.As and Err.
type OptionError struct {
	// Option is the option's name, such as "WithBaseURL".
	Option string
	// Err says why, without the option's name.
	Err error
}

// Error returns "client: <Option>: <reason>".
func (e *OptionError) Error() string { return "client: " + e.Option + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *OptionError) Unwrap() error { return e.Err }

// LogValue makes slog log the error's line.
func (e *OptionError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

func optionError(option, format string, args ...any) error {
	return &OptionError{Option: option, Err: fmt.Errorf(format, args...)}
}

// usageError is a call the client refuses before anything is sent, for a
// reason that is no option's: a nil context, a Client not made by New, an
// empty API key.
type usageError string

func (e usageError) Error() string        { return "client: " + string(e) }
func (e usageError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// transportError is a failure where no usable response arrived: the
// RoundTripper's error, or a body that could not be read. Its text is the
// package's words followed by the cleaned text of the wrapped error, which
// stays reachable with errors.Is and errors.As.
type transportError struct {
	msg  string // ours
	text string // the wrapped error's, cleaned
	err  error
}

func (e *transportError) Error() string { return e.msg + ": " + e.text }
func (e *transportError) Unwrap() error { return e.err }

// Format prints Error for every verb.
func (e *transportError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log Error, nothing more.
func (e *transportError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// gaveUpError is the error of a call whose context ended, or whose deadline
// left no room for the wait before the next attempt, after an attempt had
// failed: last is that attempt's error (an *APIError with its status,
// request id and RetryAfter, or a transport error) and cause what stopped
// the call (the context's error, or the error of the attempt it cut short).
// errors.As finds the *APIError and errors.Is the context's error.
type gaveUpError struct {
	last  error
	cause error
}

func (e *gaveUpError) Error() string {
	return e.last.Error() + "; then gave up: " + strings.TrimPrefix(e.cause.Error(), "client: ")
}
func (e *gaveUpError) Unwrap() []error { return []error{e.last, e.cause} }

// Format prints Error for every verb.
func (e *gaveUpError) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.Error()) }

// LogValue makes slog log Error, nothing more.
func (e *gaveUpError) LogValue() slog.Value { return slog.StringValue(e.Error()) }
