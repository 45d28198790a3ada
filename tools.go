//go:build tools

// Package tools pins the code generator "go generate" runs (oapi-codegen, by
// "go run" in gen/generate.go), so every developer and CI generate with the
// same version. Other tools (staticcheck, benchstat, govulncheck, gremlins)
// run pinned with "go run pkg@version" from the Makefile and are not in
// go.mod, so importers of this module never see them.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
