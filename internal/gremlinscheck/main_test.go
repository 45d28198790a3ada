package main

import (
	"bytes"
	"io/fs"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const source = "package p\n\nfunc f(a, b int) bool {\n\treturn a < b || a > b\n}\n"

// moved is source with the function two lines lower and indented once more.
const moved = "package p\n\n// f compares.\n//\nfunc f(a, b int) bool {\n\t{\n\t\treturn a < b || a > b\n\t}\n}\n"

// reportOf is a gremlins report of p/f.go with mutants on the return line.
func reportOf(line int, statuses map[int]string) string {
	out := `{"test_efficacy":50,"mutations_coverage":100,"files":[{"file_name":"f.go","mutations":[`
	first := true
	for _, col := range []int{11, 18} {
		if !first {
			out += ","
		}
		first = false
		out += `{"type":"CONDITIONALS_BOUNDARY","status":"` + statuses[col] + `","line":` + strconv.Itoa(line) + `,"column":` + strconv.Itoa(col) + `}`
	}
	return out + `]}]}`
}

const entry18 = "p/f.go:4:18 CONDITIONALS_BOUNDARY -- a equals b never reaches it\n\tat 17 of: return a < b || a > b\n"

func TestRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		src      string
		report   string
		list     string
		ok       bool
		contains []string
	}{
		{"every survivor listed", source, reportOf(4, map[int]string{11: "KILLED", 18: "LIVED"}), entry18, true,
			[]string{"efficacy 50.00% (killed 1, lived 1)", "1 survivors listed"}},
		{"an unlisted survivor", source, reportOf(4, map[int]string{11: "LIVED", 18: "LIVED"}), entry18, false,
			[]string{"1 survivors are not in", "p/f.go:4:11 CONDITIONALS_BOUNDARY -- TODO", "\tat 10 of: return a < b || a > b"}},
		{"no list at all", source, reportOf(4, map[int]string{11: "KILLED", 18: "LIVED"}), "", false,
			[]string{"p/f.go:4:18 CONDITIONALS_BOUNDARY -- TODO"}},
		{"a report of other code", source, reportOf(9, map[int]string{11: "KILLED", 18: "LIVED"}), entry18, false, nil},
		{"an entry whose line changed is stale", "package p\n\nfunc f(a, b int) bool {\n\treturn a < b || a >= b\n}\n",
			reportOf(4, map[int]string{11: "KILLED", 18: "KILLED"}), entry18, false,
			[]string{"stale: list.txt:1 p/f.go:4:18 CONDITIONALS_BOUNDARY matches no mutant"}},
		{"an entry killed this run is noted", source, reportOf(4, map[int]string{11: "KILLED", 18: "KILLED"}), entry18, true,
			[]string{"note: list.txt:1 p/f.go:4:18 CONDITIONALS_BOUNDARY was KILLED this run"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"p/f.go": tc.src, "report.json": tc.report, "list.txt": tc.list}
			if tc.list == "" {
				delete(files, "list.txt")
			}
			var out bytes.Buffer
			ok, err := run(&out, "report.json", "p", "list.txt", readFrom(files))
			if tc.contains == nil {
				assert.Error(t, err, "a report whose lines are not in the code is refused")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.ok, ok, out.String())
			for _, s := range tc.contains {
				assert.Contains(t, out.String(), s)
			}
		})
	}
}

// TestEntriesFollowTheCode: an entry matches its mutant after the code moved
// down and was indented again, and the new position is reported.
func TestEntriesFollowTheCode(t *testing.T) {
	t.Parallel()
	// In moved, the return line is line 7, indented by two tabs: columns 12 and 19.
	report := `{"files":[{"file_name":"f.go","mutations":[` +
		`{"type":"CONDITIONALS_BOUNDARY","status":"KILLED","line":7,"column":12},` +
		`{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":7,"column":19}]}]}`
	var out bytes.Buffer
	ok, err := run(&out, "report.json", "p", "list.txt", readFrom(map[string]string{"p/f.go": moved, "report.json": report, "list.txt": entry18}))
	require.NoError(t, err)
	assert.True(t, ok, out.String())
	assert.Contains(t, out.String(), "moved: list.txt:1 p/f.go:4:18 CONDITIONALS_BOUNDARY is now at 7:19")
}

func TestParseListErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"no code line":        "p/f.go:4:18 CONDITIONALS_BOUNDARY -- reason\n",
		"no reason":           "p/f.go:4:18 CONDITIONALS_BOUNDARY --\n\tat 1 of: x\n",
		"code line malformed": "p/f.go:4:18 CONDITIONALS_BOUNDARY -- reason\nreturn a\n",
		"column outside":      "p/f.go:4:18 CONDITIONALS_BOUNDARY -- reason\n\tat 40 of: return a\n",
	}
	for name, list := range cases {
		_, err := parseList("list.txt", list)
		assert.Error(t, err, name)
	}
	entries, err := parseList("list.txt", "# a comment\n\n"+entry18)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, key{file: "p/f.go", mutator: "CONDITIONALS_BOUNDARY", code: "return a < b || a > b", col: 17}, entries[0].key)
}

func readFrom(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		s, ok := files[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(s), nil
	}
}
