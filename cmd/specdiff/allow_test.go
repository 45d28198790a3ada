package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAllowList compares a base whose categories enum has four values with
// testdata/ours.yaml, which has two: two removals, crm and knowledgebase.
func TestAllowList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ours, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	base := filepath.Join(dir, "base.yaml")
	require.NoError(t, os.WriteFile(base, []byte(strings.Replace(string(ours), "enum: [hris, ats]", "enum: [hris, ats, crm, knowledgebase]", 1)), 0o600))

	const (
		ackKnowledgebase = "request-property-enum-value-removed POST /link-token knowledgebase categories/items -- Merge dropped the category\n"
		ackCRM           = "request-property-enum-value-removed POST /link-token crm categories/items -- no CRM customers yet\n"
		keyCRM           = "request-property-enum-value-removed POST /link-token crm categories/items"
		stale            = "request-property-enum-value-removed POST /link-token hris categories/items -- not removed at all\n"
		misspelt         = "request-property-enum-value-removed POST /link-token knowledgbase categories/items -- Merge dropped the category\n"
	)
	cases := []struct {
		name      string
		allow     string
		strict    bool
		code      int
		want      []string // in stdout (stderr when the code is 2)
		breaking  []string // keys of the changes left breaking
		unmatched []int    // lines of the allow entries that matched nothing
	}{
		{"no allow list", "", false, exitChanges,
			[]string{"2 breaking", "to accept it, allow: " + keyCRM + " -- <why>"},
			[]string{keyCRM, "request-property-enum-value-removed POST /link-token knowledgebase categories/items"}, nil},
		{"one of two removals acknowledged", "# comment\n\n" + ackKnowledgebase, false, exitChanges,
			[]string{"1 breaking, 0 warning, 0 informational, 1 acknowledged", "acknowledged: Merge dropped the category", "to accept it, allow: " + keyCRM},
			[]string{keyCRM}, nil},
		{"both acknowledged", ackKnowledgebase + ackCRM, true, exitOK,
			[]string{"0 breaking, 0 warning, 0 informational, 2 acknowledged"}, nil, nil},
		{"quoted fields and extra spaces", `request-property-enum-value-removed  "POST" /link-token "crm"	categories/items  --  quoted` + "\n" + ackKnowledgebase, true, exitOK,
			[]string{"acknowledged: quoted"}, nil, nil},
		{"stale entry, not strict", ackKnowledgebase + ackCRM + stale, false, exitOK,
			[]string{"2 acknowledged, 1 unmatched allow entries", "unmatched allow entries (they acknowledge no breaking change):\n  ALLOW:3: request-property-enum-value-removed POST /link-token hris categories/items\n"},
			nil, []int{3}},
		{"stale entry, strict", ackKnowledgebase + ackCRM + stale, true, exitChanges,
			[]string{"1 unmatched allow entries", "ALLOW:3: request-property-enum-value-removed POST /link-token hris"}, nil, []int{3}},
		{"misspelt entry, strict", misspelt + ackCRM, true, exitChanges,
			[]string{"1 breaking", "ALLOW:1: request-property-enum-value-removed POST /link-token knowledgbase categories/items"},
			[]string{"request-property-enum-value-removed POST /link-token knowledgebase categories/items"}, []int{1}},
		{"the id alone, as the old format had it", "request-property-enum-value-removed Merge dropped the category\n", false, exitBadInput,
			[]string{"ALLOW:1: has no reason; write <change id> <METHOD> <path> [<argument>...] -- <why"}, nil, nil},
		{"id and reason but no place", "request-property-enum-value-removed -- Merge dropped the category\n", false, exitBadInput,
			[]string{`ALLOW:1: names "request-property-enum-value-removed" only`}, nil, nil},
		{"no reason after --", "request-property-enum-value-removed POST /link-token crm categories/items --  \n", false, exitBadInput,
			[]string{"ALLOW:1: has no reason"}, nil, nil},
		{"the same change twice", ackCRM + "\n" + strings.Replace(ackCRM, "no CRM", "still no CRM", 1), false, exitBadInput,
			[]string{"ALLOW:3: names the same change as line 1"}, nil, nil},
		{"bad quoting", `request-property-enum-value-removed POST /link-token "crm categories/items -- x` + "\n", false, exitBadInput,
			[]string{"ALLOW:1: unterminated or invalid quoted field"}, nil, nil},
		{"the suggested entry pasted with its placeholder", ackKnowledgebase + keyCRM + " -- <why>\n", false, exitBadInput,
			[]string{"ALLOW:2: gives the placeholder <why> as its reason; replace it with why this breaking change is intended"}, nil, nil},
		{"the documented form's placeholder", keyCRM + " --   <why the break is intended> \n", false, exitBadInput,
			[]string{"ALLOW:1: gives the placeholder <why the break is intended> as its reason"}, nil, nil},
		{"a reason that quotes a placeholder", keyCRM + " -- replaces the <why> left in by mistake\n" + ackKnowledgebase, true, exitOK,
			[]string{"acknowledged: replaces the <why> left in by mistake"}, nil, nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"breaking", "-base", base, "-head", "testdata/ours.yaml"}
			allow := filepath.Join(dir, "allow"+string(rune('a'+i))+".txt")
			if tc.allow != "" {
				require.NoError(t, os.WriteFile(allow, []byte(tc.allow), 0o600))
				args = append(args, "-allow", allow)
			}
			if tc.strict {
				args = append(args, "-strict")
			}
			code, out, errOut := runCmd(args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.code == exitBadInput {
				assert.Empty(t, out)
				assert.Equal(t, 1, strings.Count(errOut, "\n"), "a one-line error: %q", errOut)
			}
			for _, w := range tc.want {
				assert.Contains(t, out+errOut, strings.ReplaceAll(w, "ALLOW", allow))
			}
			if tc.code == exitBadInput {
				return
			}

			// The same run as JSON.
			code, out, _ = runCmd(append(args, "-format", "json")...)
			assert.Equal(t, tc.code, code)
			var r report
			require.NoError(t, json.Unmarshal([]byte(out), &r))
			var breaking []string
			for _, e := range r.Breaking {
				breaking = append(breaking, e.Key)
			}
			assert.ElementsMatch(t, tc.breaking, breaking)
			var unmatched []int
			for _, u := range r.Unmatched {
				assert.Equal(t, allow, u.File)
				unmatched = append(unmatched, u.Line)
			}
			assert.Equal(t, tc.unmatched, unmatched)
		})
	}
}

func TestAllowEntryFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields []string
		want   string // formatKey's form
	}{
		{"plain words", []string{"request-property-enum-value-removed", "POST", "/link-token", "knowledgebase", "categories/items"},
			"request-property-enum-value-removed POST /link-token knowledgebase categories/items"},
		{"a space", []string{"request-property-pattern-added", "POST", "/link-token", "^[a-z ]+$", "name"},
			`request-property-pattern-added POST /link-token "^[a-z ]+$" name`},
		{"quotes and backslashes", []string{"id", "POST", "/p", `say "hi"`, `a\b`}, `id POST /p "say \"hi\"" "a\\b"`},
		{"empty and --", []string{"id", "-", "-", "", "--"}, `id - - "" "--"`},
		{"not ASCII", []string{"id", "POST", "/p", "größe", "tab\there"}, `id POST /p größe "tab\there"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := formatKey(tc.fields)
			assert.Equal(t, tc.want, key)
			fields, reason, err := parseAllowLine(key + " -- why")
			require.NoError(t, err)
			assert.Equal(t, tc.fields, fields)
			assert.Equal(t, "why", reason)
		})
	}
}

func TestArgString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		arg  any
		want string
	}{
		{"string", "knowledgebase", "knowledgebase"},
		{"whole float", 10080.0, "10080"},
		{"fraction", 0.5, "0.5"},
		{"int", 720, "720"},
		{"uint64", uint64(1), "1"},
		{"bool", true, "true"},
		{"nil", nil, "null"},
		{"strings", []string{"a", "b"}, "a,b"},
		{"pointer", func() *float64 { f := 1.5; return &f }(), "1.5"},
		{"map", map[string]any{"b": 1, "a": 2}, `{"a":2,"b":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, argString(tc.arg))
		})
	}
}

// TestAllowReasonIsPrintedClean: a reason is printed, as text and as JSON,
// without control or formatting characters and with invalid UTF-8 replaced,
// on one line.
func TestAllowReasonIsPrintedClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ours, err := os.ReadFile("testdata/ours.yaml")
	require.NoError(t, err)
	base := filepath.Join(dir, "base.yaml")
	require.NoError(t, os.WriteFile(base, []byte(strings.Replace(string(ours), "enum: [hris, ats]", "enum: [hris, ats, crm]", 1)), 0o600))
	const entry = "request-property-enum-value-removed POST /link-token crm categories/items -- "
	cases := []struct {
		name, reason, printed string
	}{
		{"plain", "no CRM customers yet", "no CRM customers yet"},
		{"a NUL byte", "no CRM\x00 customers", "no CRM customers"},
		{"invalid UTF-8", "no CRM \xff\xfe customers", "no CRM \ufffd\ufffd customers"},
		{"an escape sequence", "\x1b[31mno CRM\x1b[0m customers", "[31mno CRM[0m customers"},
		{"line breaks other than LF", "no CRM\rcustomers\u2028yet\vor\u0085ever", "no CRM customers yet or ever"},
		{"a bidi override and a zero-width space", "no \u202eCRM\u200b customers", "no CRM customers"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			allow := filepath.Join(dir, fmt.Sprintf("allow%d.txt", i))
			require.NoError(t, os.WriteFile(allow, []byte(entry+tc.reason+"\n"), 0o600))
			args := []string{"breaking", "-base", base, "-head", "testdata/ours.yaml", "-allow", allow, "-strict"}
			code, out, errOut := runCmd(args...)
			require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, out, "\n      acknowledged: "+tc.printed+"\n", "the reason must be printed cleaned, on one line")
			assert.True(t, utf8.ValidString(out), "the output must be valid UTF-8: %q", out)
			assert.Equal(t, -1, strings.IndexFunc(out, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }), "no control character in %q", out)

			code, out, _ = runCmd(append(args, "-format", "json")...)
			require.Equal(t, exitOK, code)
			var r report
			require.NoError(t, json.Unmarshal([]byte(out), &r))
			require.Len(t, r.Acknowledged, 1)
			assert.Equal(t, tc.printed, r.Acknowledged[0].Reason, "the JSON report must give the reason cleaned too")
		})
	}
}
