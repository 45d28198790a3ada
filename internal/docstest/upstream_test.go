package docstest

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// explained names, for each difference specdiff upstream finds between our
// spec and Merge's seven documents (by the start of its key: change id,
// operation, arguments), the README decisions table's row that explains it.
var explained = []struct{ key, row string }{
	{"request-property-enum-value-removed POST /link-token knowledgebase", "categories"},
	{"response-property-min-length-unset GET /account-token/{public_token} account_token", "`link_token` and `account_token`"},
	{"response-property-min-length-unset POST /link-token link_token", "`link_token` and `account_token`"},
	{"request-parameter-max-length-unset GET /account-token/{public_token} path public_token", "the public token's bounds"},
	{"request-parameter-min-length-unset GET /account-token/{public_token} path public_token", "the public token's bounds"},
	{"request-parameter-pattern-removed GET /account-token/{public_token}", "the public token's bounds"},
	{"request-parameter-removed POST /link-token header Idempotency-Key", "`Idempotency-Key`"},
	{"request-property-became-not-enum POST /link-token language", "`language` in a request"},
	{"request-property-became-nullable POST /link-token language", "`language` in a request"},
	{"request-property-min-items-unset POST /link-token categories", "categories"},
	{"request-property-min-length-unset POST /link-token category_common_model_scopes/additionalProperties/items/field_permissions/", "`field_permissions` lists"},
	{"request-property-type-generalized POST /link-token category_common_model_scopes/additionalProperties/items/field_permissions/", "`field_permissions` lists"},
	{"request-property-removed POST /link-token category_common_model_scopes/additionalProperties/items/model_permissions/", "`model_permissions`"},
	{"request-property-type-generalized POST /link-token integration_specific_config/additionalProperties", "`integration_specific_config` values"},
	{"response-optional-property-removed GET /account-token/{public_token} id", "`AccountToken.id`"},
	{"response-property-became-required GET /account-token/{public_token} id", "`AccountToken.id`"},
	{"response-property-became-enum GET /account-token/{public_token} integration/categories/items", "categories in a response"},
	{"response-property-pattern-added GET /account-token/{public_token} integration/color", "`integration.color` in the exchange's answer"},
}

// TestUpstreamDifferencesExplained: every difference in the pinned upstream
// report (cmd/specdiff/testdata/upstream-matrix.json.golden, which
// TestMergeDocumentsReport keeps equal to what specdiff prints) is
// explained by a row of the README's decisions table, and every entry
// above still matches a difference.
func TestUpstreamDifferencesExplained(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../cmd/specdiff/testdata/upstream-matrix.json.golden")
	require.NoError(t, err)
	var report struct {
		Operations []struct {
			Cells []struct {
				Breaking, Narrower, Wider []struct{ Key string }
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &report))
	keys := map[string]bool{}
	for _, op := range report.Operations {
		for _, c := range op.Cells {
			for _, group := range [][]struct{ Key string }{c.Breaking, c.Narrower, c.Wider} {
				for _, d := range group {
					keys[d.Key] = true
				}
			}
		}
	}
	require.NotEmpty(t, keys, "the golden lists no difference: has its shape changed?")

	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	rows := decisionRows(string(readme))
	used := map[string]bool{}
	var unexplained []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		found := false
		for _, e := range explained {
			if strings.HasPrefix(k, e.key) {
				found, used[e.key] = true, true
				assert.True(t, rows[e.row], "the README's decisions table has no row %q, which explains %q: add it, or point the entry at the row that does", e.row, k)
				break
			}
		}
		if !found {
			unexplained = append(unexplained, k)
		}
	}
	assert.Empty(t, unexplained, "specdiff upstream reports differences no decision explains: make the spec agree with Merge, or write the decision in the README's decisions table (and an x-decision note) and add the difference to explained in this file")
	for _, e := range explained {
		assert.True(t, used[e.key], "no difference starts with %q any more: remove the entry", e.key)
	}
}

var rowStart = regexp.MustCompile(`(?m)^\| ([^|]+) \|`)

// decisionRows is the set of first cells of the README's decisions table.
func decisionRows(readme string) map[string]bool {
	_, table, _ := strings.Cut(readme, "## Decisions where the sources disagree")
	table, _, _ = strings.Cut(table, "\n## ")
	rows := map[string]bool{}
	for _, m := range rowStart.FindAllStringSubmatch(table, -1) {
		rows[m[1]] = true
	}
	return rows
}
