package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientDependenciesStayLean: a service that imports the client builds
// the standard library and package gen, nothing else: no kin-openapi (the
// contract suite's), no oasdiff (specdiff's), no oapi-codegen runtime.
func TestClientDependenciesStayLean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	assert.Equal(t, []string{"github.com/mergelink/linktoken/gen", "github.com/mergelink/linktoken/internal/shared", "github.com/mergelink/linktoken/client"}, deps,
		"package client may import only the standard library and this module's gen and internal/shared")
}
