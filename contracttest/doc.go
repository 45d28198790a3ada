// Package contracttest checks requests to and responses from Merge's Link
// API against the spec of this module (openapi/link-token.yaml, embedded by
// package openapi), every operation of it, so a service can test its
// integration without Merge, and a pipeline can tell when the spec and the
// server drift apart.
//
// # Pieces
//
//   - Validator (NewValidator): every rule of the spec, checked by
//     kin-openapi's JSON Schema validation, prepared once. ValidateRequest and
//     ValidateResponse return nil or a *ContractError listing each
//     client.Violation with its RFC 6901 JSON pointer and the rule that broke,
//     at most 50 of them. It never quotes a value from a body or a path
//     parameter; a pointer's tokens are the body's keys, so a map key (a
//     category, an integration slug) can appear in one.
//   - NewTransport: an http.RoundTripper that validates each request before
//     sending it and each response after. A violation fails the round trip with
//     a *ContractError (errors.Is(err, client.ErrContractBroken) is true), or is
//     recorded with RecordTo. Put it under client.WithHTTPClient in tests.
//   - NewMock: the operations as the spec describes them, at the spec's paths
//     under the mock's root, for httptest.NewServer or the standalone
//     "linktoken mock": 401 without a Bearer key, 400 naming the fields that
//     break the spec, 200 with a fresh token. WithScript plays a
//     sequence of statuses (429 with Retry-After, 503, ...) to drive a client's
//     retries; it refuses, when the mock is built, a step the spec does not
//     document unless the step says so. A request's Prefer header
//     ("code=429", "example=magicLink", "dynamic=false") asks for one of the
//     spec's answers, with Prism's meaning, so one test drives either mock.
//   - Coverage (WithCoverage): which operations, statuses, request
//     properties, enum values and rules the tests exercised, recorded by
//     the mock and the transport, reported as text, JSON or JUnit XML, with
//     thresholds that fail the run (Coverage.Main).
//
// One Option type configures both NewTransport and NewMock: WithValidator
// applies to either, RecordTo to a transport only, and WithScript,
// WithLatency, OnRequest and WithLogger to a mock only.
//
// # The same verdicts as other tools
//
// The Validator gives openapi3filter's verdict and names the same fields on
// every exchange TestValidatorAgreesWithOpenapi3filter generates; it is
// stricter in two documented ways (trailing data after the JSON value, bytes
// that are not UTF-8). The client's own pre-flight validation gives the same
// verdicts (TestGeneratedCases, FuzzVerdictsAgree), and Prism's mock of the
// spec answers every case of the suite with the same status ("make oracles").
//
// # The suite
//
// TestContract runs the cases of testdata/cases against the mock, against any
// server (CONTRACT_BASE_URL), against Prism (PRISM_BASE_URL) and against
// Merge's live API (MERGE_API_KEY, MERGE_REGION), validating every response.
package contracttest
