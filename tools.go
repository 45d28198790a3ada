//go:build tools

// Package tools pins the code generators and linters this module runs with
// "go run", so every developer and CI use the same versions.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
