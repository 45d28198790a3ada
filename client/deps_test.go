package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientDependenciesStayLean: a service that imports the client builds
// neither kin-openapi (the contract suite's) nor oasdiff (specdiff's).
func TestClientDependenciesStayLean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := string(out)
	require.Contains(t, deps, "github.com/mergelink/linktoken/gen")
	for _, heavy := range []string{"github.com/getkin/kin-openapi", "github.com/oasdiff/", "github.com/stretchr/testify"} {
		assert.False(t, strings.Contains(deps, heavy), "the client depends on %s", heavy)
	}
}
