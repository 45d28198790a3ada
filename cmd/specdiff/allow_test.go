package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	base := baseWithCategories(t, dir, "hris, ats, crm, knowledgebase")

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
			fields, reason, until, err := parseAllowLine(key + " -- why")
			require.NoError(t, err)
			assert.Equal(t, tc.fields, fields)
			assert.Equal(t, "why", reason)
			assert.Empty(t, until)
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
	base := baseWithCategories(t, dir, "hris, ats, crm")
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

func runCmdAt(now time.Time, args ...string) (int, string, string) {
	var out, errOut strings.Builder
	code := runAt(now, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestAllowExpiry runs the removal of crm with an entry that acknowledges
// it until a date, on a fixed clock: the entry works up to and including
// its day (UTC), and from the next day on it is reported, with its line and
// date, and fails under -strict.
func TestAllowExpiry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := baseWithCategories(t, dir, "hris, ats, crm")
	const (
		key   = "request-property-enum-value-removed POST /link-token crm categories/items"
		entry = "# a comment first\n" + key + " -- no CRM customers yet (until 2027-03-31)\n"
	)
	day := func(s string) time.Time {
		t.Helper()
		d, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return d
	}
	cases := []struct {
		name   string
		now    time.Time
		strict bool
		code   int
		want   []string // in stdout
		gh     string   // the annotation -format github prints for the entry, "" for none
	}{
		{"the day before", day("2027-03-30T12:00:00Z"), true, exitOK,
			[]string{"0 breaking, 0 warning, 0 informational, 1 acknowledged\n", "acknowledged: no CRM customers yet (until 2027-03-31)\n"}, ""},
		{"its last day", day("2027-03-31T23:59:59Z"), true, exitOK,
			[]string{"1 acknowledged\n", "acknowledged: no CRM customers yet (until 2027-03-31)\n"}, ""},
		{"the next day, strict", day("2027-04-01T00:00:00Z"), true, exitChanges,
			[]string{"1 acknowledged, 1 expired allow entries\n", "acknowledged: no CRM customers yet (until 2027-03-31: expired)\n",
				"expired allow entries (renew the date with a reason, or fix what breaks):\n  ALLOW:2: expired: its date, 2027-03-31, has passed: " + key + "\n"},
			"::error file=ALLOW,line=2,title=specdiff breaking%3A expired allow entry::expired: its date, 2027-03-31, has passed: " + key + "\n"},
		{"the next day, not strict: reported only", day("2027-04-01T00:00:00Z"), false, exitOK,
			[]string{"1 expired allow entries\n", "ALLOW:2: expired: its date, 2027-03-31, has passed"},
			"::warning file=ALLOW,line=2,title=specdiff breaking%3A expired allow entry::expired: its date, 2027-03-31, has passed: " + key + "\n"},
		{"the next day in UTC, still its day in New York", day("2027-03-31T23:30:00-05:00"), true, exitChanges,
			[]string{"1 expired allow entries\n"}, "::error file=ALLOW,line=2,"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			allow := filepath.Join(dir, fmt.Sprintf("allow%d.txt", i))
			require.NoError(t, os.WriteFile(allow, []byte(entry), 0o600))
			args := []string{"breaking", "-base", base, "-head", "testdata/ours.yaml", "-allow", allow}
			if tc.strict {
				args = append(args, "-strict")
			}
			code, out, errOut := runCmdAt(tc.now, args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tc.want {
				assert.Contains(t, out, strings.ReplaceAll(w, "ALLOW", allow))
			}

			code, out, _ = runCmdAt(tc.now, append(args, "-format", "json")...)
			assert.Equal(t, tc.code, code)
			var r report
			require.NoError(t, json.Unmarshal([]byte(out), &r))
			require.Len(t, r.Acknowledged, 1, "an expired entry acknowledges its change still")
			assert.Equal(t, "2027-03-31", r.Acknowledged[0].Until)
			if tc.gh == "" {
				assert.Empty(t, r.Expired)
			} else {
				require.Len(t, r.Expired, 1)
				assert.Equal(t, unmatchedEntry{File: allow, Line: 2, Entry: key, Reason: "no CRM customers yet", Until: "2027-03-31"}, r.Expired[0])
			}

			code, out, _ = runCmdAt(tc.now, append(args, "-format", "github")...)
			assert.Equal(t, tc.code, code)
			if tc.gh == "" {
				assert.NotContains(t, out, "expired allow entry")
			} else {
				assert.Contains(t, out, strings.ReplaceAll(tc.gh, "ALLOW", ghProperty(allow)), "the annotation names the allow list's line and the date")
			}
		})
	}
}

func TestAllowExpiryParsing(t *testing.T) {
	t.Parallel()
	const key = "request-property-enum-value-removed POST /link-token crm categories/items"
	cases := []struct {
		name   string
		line   string
		reason string
		until  string
		err    string
	}{
		{"no expiry", key + " -- no CRM customers yet", "no CRM customers yet", "", ""},
		{"an expiry", key + " -- no CRM customers yet (until 2027-03-31)", "no CRM customers yet", "2027-03-31", ""},
		{"spaces around it", key + " --   no CRM customers yet   (until 2027-03-31)  ", "no CRM customers yet", "2027-03-31", ""},
		{"a leap day", key + " -- why (until 2028-02-29)", "why", "2028-02-29", ""},
		{"parentheses that are not an expiry", key + " -- Merge dropped it (see issue 24)", "Merge dropped it (see issue 24)", "", ""},
		{"until inside the reason", key + " -- kept until Merge ships (until 2027-01-01)", "kept until Merge ships", "2027-01-01", ""},
		{"not a day of the calendar", key + " -- why (until 2027-02-30)", "", "",
			"gives 2027-02-30 as its expiry, which is not a date; write (until YYYY-MM-DD)"},
		{"another layout", key + " -- why (until 31/03/2027)", "", "",
			"ends with (until 31/03/2027); write the expiry as (until YYYY-MM-DD), such as (until 2027-03-31)"},
		{"capitalized", key + " -- why (Until 2027-03-31)", "", "",
			"ends with (Until 2027-03-31); write the expiry as (until YYYY-MM-DD)"},
		{"words", key + " -- why (until next release)", "", "", "ends with (until next release); write the expiry"},
		{"an expiry and no reason", key + " -- (until 2027-03-31)", "", "", "has no reason; write " + allowFormat},
		{"a placeholder and an expiry", key + " -- <why> (until 2027-03-31)", "", "",
			"gives the placeholder <why> as its reason"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, reason, until, err := parseAllowLine(tc.line)
			if tc.err != "" {
				require.Error(t, err, "an entry whose expiry is not exactly (until YYYY-MM-DD) must be refused: it would never expire")
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.reason, reason)
			assert.Equal(t, tc.until, until)
		})
	}
}
