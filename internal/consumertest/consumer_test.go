// Package consumertest checks the module as a company adopting it meets it:
// a consumer module that requires this one and imports the client.
package consumertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const consumerMain = `package main

import (
	"fmt"

	"github.com/mergelink/linktoken/client"
)

func main() { fmt.Println(client.RegionEU.BaseURL()) }
`

// TestConsumerModule builds a consumer module that requires this one (with a
// replace to the checkout), for each go line a consumer may have: go mod tidy
// leaves the line alone, and the consumer's binary builds the standard
// library, gen and client only, no tool or test module.
func TestConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	for _, goLine := range []string{"1.25.0", "1.26", "1.26.0"} {
		t.Run("go "+goLine, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mod := "module example.com/consumer\n\ngo " + goLine + "\n\nrequire github.com/mergelink/linktoken v0.0.0\n\nreplace github.com/mergelink/linktoken => " + root + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o600))

			goCmd(t, dir, "mod", "tidy")
			after, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			require.NoError(t, err)
			assert.Contains(t, string(after), "\ngo "+goLine+"\n", "go mod tidy rewrote the consumer's go line:\n%s", after)

			deps := strings.Fields(goCmd(t, dir, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
			assert.Equal(t, []string{"github.com/mergelink/linktoken/gen", "github.com/mergelink/linktoken/internal/shared", "github.com/mergelink/linktoken/client", "example.com/consumer"}, deps)
			out := goCmd(t, dir, "run", ".")
			assert.Equal(t, "https://api-eu.merge.dev/api/mktg/v1\n", out)
		})
	}
}

// goCmd runs the go command offline (the module cache holds what is needed
// after "go mod download"), with no toolchain switch.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// GOSUMDB=off: the module cache's checksums were verified when the
	// modules were downloaded; this test runs with no network at all.
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s: %s", strings.Join(args, " "), out)
	return string(out)
}
