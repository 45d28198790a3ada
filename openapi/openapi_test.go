package openapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/openapi"
)

func TestSpecLoads(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	again, err := openapi.Load()
	require.NoError(t, err)
	assert.Same(t, doc, again, "Load parses once and caches")
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	assert.NotEmpty(t, doc.Info.Title)
	assert.NotEmpty(t, doc.Info.Version)
	assert.NotEmpty(t, doc.Info.Description)
	require.NotNil(t, doc.Info.Contact)
	require.NotNil(t, doc.Info.License)
	assert.NotEmpty(t, doc.Info.License.Name)

	raw := openapi.Spec()
	raw[0] = '#'
	assert.NotEqual(t, raw[0], openapi.Spec()[0], "Spec returns a copy")
}

func TestSpecRejectsBrokenDocuments(t *testing.T) {
	t.Parallel()
	good := string(openapi.Spec())
	cases := []struct {
		name string
		edit func(string) string
	}{
		{"example that breaks its schema", func(s string) string {
			return strings.Replace(s, "link_expiry_mins: 10080", "link_expiry_mins: 99999", 1)
		}},
		{"dangling reference", func(s string) string {
			return strings.Replace(s, "#/components/schemas/LinkToken'", "#/components/schemas/NoSuchThing'", 1)
		}},
		{"not YAML", func(string) string { return "openapi: [" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broken := tc.edit(good)
			require.NotEqual(t, good, broken, "the edit must change the spec")
			_, err := openapi.Parse([]byte(broken))
			assert.Error(t, err)
		})
	}
}

// TestSpecServers pins the region and sandbox URLs, in order, each with the
// category API as a server variable (default mktg, one value per category).
func TestSpecServers(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	want := []struct{ url, name string }{
		{"https://api.merge.dev/api/{category}/v1", "US"},
		{"https://api-eu.merge.dev/api/{category}/v1", "EU"},
		{"https://api-ap.merge.dev/api/{category}/v1", "APAC"},
		{"https://api-sandbox.merge.dev/api/{category}/v1", "Sandbox"},
	}
	require.Len(t, doc.Servers, len(want))
	categories := doc.Components.Schemas["CategoriesEnum"].Value.Enum
	for i, w := range want {
		assert.Equal(t, w.url, doc.Servers[i].URL)
		assert.Contains(t, doc.Servers[i].Description, w.name)
		v := doc.Servers[i].Variables["category"]
		require.NotNil(t, v, w.url)
		assert.Equal(t, "mktg", v.Default, "the page's endpoint is the marketing-automation API")
		assert.ElementsMatch(t, categories, v.Enum)
	}
}

// TestSpecDescriptionsAreUsersDocs: descriptions become Go doc, so the
// maintainers' reasoning lives in x-decision notes, never in a description.
func TestSpecDescriptionsAreUsersDocs(t *testing.T) {
	t.Parallel()
	raw := string(openapi.Spec())
	for _, word := range []string{"Decision", "this module", "this client", "Merge's document", "documentation page"} {
		for _, line := range strings.Split(raw, "\n") {
			if strings.Contains(line, word) && !strings.Contains(line, "x-") {
				// Allowed only inside an x- note: find the key the line belongs to.
				assert.True(t, insideExtension(raw, line), "%q outside an x- note: %s", word, strings.TrimSpace(line))
			}
		}
	}
	s := requestSchema(t)
	assert.NotEmpty(t, s.Properties["link_expiry_mins"].Value.Extensions["x-decision"])
	assert.NotEmpty(t, s.Extensions["x-decision"], "the expiry rule's reasoning")
}

// insideExtension reports whether line sits in the block of an x- key.
func insideExtension(doc, line string) bool {
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if l != line {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		for j := i - 1; j >= 0; j-- {
			k := lines[j]
			ind := len(k) - len(strings.TrimLeft(k, " "))
			if strings.TrimSpace(k) != "" && ind < indent {
				return strings.HasPrefix(strings.TrimSpace(k), "x-")
			}
		}
	}
	return false
}

func requestSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	doc, err := openapi.Load()
	require.NoError(t, err)
	op := doc.Paths.Find("/link-token").Post
	require.NotNil(t, op)
	return op.RequestBody.Value.Content.Get("application/json").Schema.Value
}

// TestSpecHasEveryDocumentedField checks each body parameter of Merge's
// documentation page with the type, requiredness, default and range it gives.
func TestSpecHasEveryDocumentedField(t *testing.T) {
	t.Parallel()
	s := requestSchema(t)
	cases := []struct {
		field    string
		typ      string
		required bool
		def      any
	}{
		{"end_user_email_address", "string", true, nil},
		{"end_user_organization_name", "string", true, nil},
		{"end_user_origin_id", "string", true, nil},
		{"categories", "array", true, nil},
		{"integration", "string", false, nil},
		// The page says "Required" and "Defaults to 30": the spec decides optional, default 30.
		{"link_expiry_mins", "integer", false, float64(30)},
		{"should_create_magic_link_url", "boolean", false, false},
		{"hide_admin_magic_link", "boolean", false, false},
		{"category_common_model_scopes", "object", false, nil},
		{"language", "string", false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			ref := s.Properties[tc.field]
			require.NotNil(t, ref, "field missing from the spec")
			p := ref.Value
			typ := p.Type
			if len(p.AllOf) == 1 { // language wraps its enum in allOf to carry a description
				typ = p.AllOf[0].Value.Type
			}
			assert.True(t, typ.Is(tc.typ), "type %v, want %s", typ, tc.typ)
			assert.Equal(t, tc.required, contains(s.Required, tc.field), "required")
			assert.Equal(t, tc.def, p.Default, "default")
			assert.NotEmpty(t, p.Description)
		})
	}

	expiry := s.Properties["link_expiry_mins"].Value
	assert.Equal(t, 30.0, *expiry.Min)
	assert.Equal(t, 10080.0, *expiry.Max)
	// The 720 bound without a Magic Link is the request's not, which every
	// JSON Schema validator enforces.
	require.NotNil(t, s.Not)
	assert.Equal(t, []string{"link_expiry_mins"}, s.Not.Value.Required)
	assert.EqualValues(t, 721, *s.Not.Value.Properties["link_expiry_mins"].Value.Min)
	for _, tc := range []struct {
		mins  float64
		magic any
		ok    bool
	}{{720, nil, true}, {721, nil, false}, {721, false, false}, {721, true, true}, {10080, true, true}, {10080, nil, false}} {
		body := map[string]any{"end_user_email_address": "a@b.c", "end_user_organization_name": "A",
			"end_user_origin_id": "1", "categories": []any{"hris"}, "link_expiry_mins": tc.mins}
		if tc.magic != nil {
			body["should_create_magic_link_url"] = tc.magic
		}
		err := s.VisitJSON(body)
		assert.Equal(t, tc.ok, err == nil, "%v minutes, magic link %v: %v", tc.mins, tc.magic, err)
	}

	for _, f := range []string{"end_user_email_address", "end_user_organization_name", "end_user_origin_id"} {
		p := s.Properties[f].Value
		assert.EqualValues(t, 1, p.MinLength, f)
		require.NotNil(t, p.MaxLength, f)
		assert.EqualValues(t, 100, *p.MaxLength, f)
	}
	cat := s.Properties["categories"].Value
	assert.EqualValues(t, 1, cat.MinItems)
	assert.ElementsMatch(t,
		[]any{"hris", "ats", "accounting", "ticketing", "crm", "mktg", "filestorage", "knowledgebase"},
		cat.Items.Value.Enum)
	assert.ElementsMatch(t, []any{"en", "de"}, s.Properties["language"].Value.AllOf[0].Value.Enum)

	for _, extra := range []string{"are_syncs_disabled", "integration_specific_config", "common_models"} {
		assert.Contains(t, s.Properties, extra)
	}
	assert.Equal(t, true, s.Properties["category_common_model_scopes"].Value.Extensions["x-beta"])
}

func TestSpecResponses(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	op := doc.Paths.Find("/link-token").Post
	assert.Equal(t, "createLinkToken", op.OperationID)
	assert.NotEmpty(t, op.Summary)
	assert.NotEmpty(t, op.Tags)
	require.NotNil(t, op.Security)
	assert.Contains(t, (*op.Security)[0], "bearerAuth")
	assert.Equal(t, "bearer", doc.Components.SecuritySchemes["bearerAuth"].Value.Scheme)

	for _, code := range []string{"200", "400", "401", "403", "429", "5XX"} {
		assert.NotNil(t, op.Responses.Value(code), code)
	}
	assert.Nil(t, op.Responses.Value("201"), "Merge answers 200, not 201")
	assert.NotNil(t, op.Responses.Value("429").Value.Headers["Retry-After"])
	token := op.Responses.Value("200").Value.Content.Get("application/json").Schema.Value
	assert.Equal(t, []string{"link_token"}, token.Required)
}

// TestSpecErrorBodyAdmitsEveryKnownForm checks the error schema against the
// three forms Merge's API is known to return, and that it still rejects junk.
func TestSpecErrorBodyAdmitsEveryKnownForm(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	schema := doc.Components.Schemas["Error"].Value
	cases := []struct {
		name  string
		body  any
		valid bool
	}{
		{"detail", map[string]any{"detail": "Invalid token."}, true},
		{"field messages", map[string]any{"end_user_email_address": []any{"This field is required."}}, true},
		{"problems", map[string]any{"errors": []any{map[string]any{
			"title": "Invalid", "detail": "bad", "problem_type": "INVALID", "source": map[string]any{"pointer": "/x"},
		}}}, true},
		{"empty", map[string]any{}, true},
		{"problem without title", map[string]any{"errors": []any{map[string]any{"detail": "bad", "problem_type": "X"}}}, false},
		{"detail not a string", map[string]any{"detail": 5.0}, false},
		{"not an object", "boom", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := schema.VisitJSON(tc.body)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// TestSpecExamplesValidate checks every example in the spec against its
// schema, on top of the loader's own example validation.
func TestSpecExamplesValidate(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	op := doc.Paths.Find("/link-token").Post
	media := map[string]*openapi3.MediaType{"request": op.RequestBody.Value.Content.Get("application/json")}
	for code, r := range op.Responses.Map() {
		media["response "+code] = r.Value.Content.Get("application/json")
	}
	n := 0
	for where, mt := range media {
		for name, ex := range mt.Examples {
			assert.NoError(t, mt.Schema.Value.VisitJSON(ex.Value.Value), "%s example %s", where, name)
			n++
		}
	}
	assert.GreaterOrEqual(t, n, 9, "examples checked")
	for name, s := range doc.Components.Schemas {
		for pname, p := range s.Value.Properties {
			if p.Value.Example != nil {
				assert.NoError(t, p.Value.VisitJSON(p.Value.Example), "%s.%s example", name, pname)
			}
		}
	}
}

// TestSpecEverySchemaDescribed: every component schema and property has a description.
func TestSpecEverySchemaDescribed(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	var missing []string
	for name, s := range doc.Components.Schemas {
		if s.Value.Description == "" {
			missing = append(missing, name)
		}
		for pname, p := range s.Value.Properties {
			if p.Value.Description == "" {
				missing = append(missing, name+"."+pname)
			}
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing)
}

// TestSpecCheckGeneratedFailsOnStaleCode runs "make check-generated" against
// a copy of the spec with a renamed property: gen/ no longer matches, so the
// check must fail with a diff and the command that fixes it. The unmodified
// spec must pass.
func TestSpecCheckGeneratedFailsOnStaleCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	t.Parallel()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	// Rename the schema property (indented eight spaces), not an example's key.
	spec := strings.Replace(string(openapi.Spec()),
		"\n        end_user_organization_name:\n", "\n        end_user_company_name:\n", 1)
	require.NotEqual(t, string(openapi.Spec()), spec)
	stale := filepath.Join(t.TempDir(), "link-token.yaml")
	require.NoError(t, os.WriteFile(stale, []byte(spec), 0o600))

	cases := []struct {
		name    string
		spec    string
		fails   bool
		outputs []string
	}{
		{"renamed property", stale, true, []string{"+\tEndUserCompanyName string `json:\"end_user_company_name,omitempty,omitzero\"`", "gen/linktoken.gen.go",
			"client/models.gen.go", "EndUserCompanyName (end_user_company_name, optional)", "make generate"}},
		{"committed spec", filepath.Join(root, openapi.SpecPath), false, []string{"match"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := gitStatus(t, root)
			cmd := exec.Command("make", "-s", "--no-print-directory", "check-generated", "OURS="+tc.spec)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if tc.fails {
				assert.Error(t, err, "check-generated passed on a stale gen/:\n%s", out)
			} else {
				assert.NoError(t, err, "%s", out)
			}
			for _, want := range tc.outputs {
				assert.Contains(t, string(out), want)
			}
			assert.Equal(t, before, gitStatus(t, root), "check-generated changed the working tree")
		})
	}
}

func gitStatus(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("git", "status", "--porcelain", "--", "gen", "openapi", "client")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "" // not a git checkout: nothing to compare
	}
	return out.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSpecResponseBounds: the bounds of what Merge returns, at their
// edges, as kin-openapi reads them. Our client decodes these members
// without checking them (they are decoration, or are checked elsewhere),
// so the spec alone keeps each bound; a bound moved by one, or a null
// allowed, fails here.
func TestSpecResponseBounds(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	cases := []struct {
		name             string
		schema, property string
		value            any
		valid            bool
	}{
		{"a one-character account token", "AccountToken", "account_token", "a", true},
		{"an empty account token", "AccountToken", "account_token", "", false},
		{"a color of 18 characters", "AccountIntegration", "color", strings.Repeat("a", 18), true},
		{"a color of 19 characters", "AccountIntegration", "color", strings.Repeat("a", 19), false},
		{"a webhook's data, an object", "LinkedAccountWebhook", "data", map[string]any{"id": "x"}, true},
		{"a webhook's data, null", "LinkedAccountWebhook", "data", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := doc.Components.Schemas[tc.schema]
			require.NotNil(t, s, "the spec has no schema %s: update this test", tc.schema)
			p := s.Value.Properties[tc.property]
			require.NotNil(t, p, "%s has no property %s: update this test", tc.schema, tc.property)
			err := p.Value.VisitJSON(tc.value)
			if tc.valid {
				assert.NoError(t, err, "%s.%s must accept %v: a bound of the spec moved", tc.schema, tc.property, tc.value)
			} else {
				assert.Error(t, err, "%s.%s must refuse %v: a bound of the spec moved, or a null became allowed", tc.schema, tc.property, tc.value)
			}
		})
	}
}
