package client

import "github.com/mergelink/linktoken/internal/shared"

// Violation is one rule of the spec that a request or a response breaks:
// the client's validation reports it in a *ValidationError, and the contract
// kit (package contracttest) in a *contracttest.ContractError. Its fields:
//
//   - In: where the problem is: "body", "path", "header", "security",
//     "status" or "operation";
//   - Pointer: the RFC 6901 JSON pointer of the offending value in the
//     body, such as "/link_expiry_mins" or "/categories/1" ("" for the body
//     as a whole or outside it); its tokens are the body's keys, map keys
//     such as a category or an integration slug included;
//   - Rule: the JSON Schema keyword that failed, such as "maxLength", "enum"
//     or "not";
//   - Value: the offending value, or "" where it is personal data or a
//     credential (the email address, a token), or absent;
//   - Message: what the rule requires.
//
// Field returns the top-level field a violation concerns, and String
// "pointer: message (rule; got value)".
type Violation = shared.Violation
