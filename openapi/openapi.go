// Package openapi embeds the OpenAPI document of Merge's POST /link-token
// endpoint, the contract from which gen/ is generated and against which the
// contract suite validates requests and responses.
package openapi

import (
	"context"
	_ "embed"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed link-token.yaml
var spec []byte

// SpecPath is the path of the spec inside the repository, for tools that read
// it from a checkout (such as a git ref) rather than from the embedded copy.
const SpecPath = "openapi/link-token.yaml"

// Spec returns the raw bytes of the embedded spec. The slice is a copy, so
// callers may modify it.
func Spec() []byte {
	return append([]byte(nil), spec...)
}

var load = sync.OnceValues(func() (*openapi3.T, error) {
	return Parse(spec)
})

// Load returns the embedded spec parsed and validated by kin-openapi. It does
// the work once and returns the same document on every call, so callers must
// treat it as read-only; use Parse for a copy they may change.
func Load() (*openapi3.T, error) {
	return load()
}

// Parse parses and validates a spec, with the same loader settings as Load:
// no external references are followed, and examples are validated against
// their schemas.
func Parse(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse spec: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi: invalid spec: %w", err)
	}
	return doc, nil
}
