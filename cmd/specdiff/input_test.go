package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOversizedInputs gives every flag that names a file more than
// maxDocumentBytes: /dev/zero, which never ends, for -spec, and a sparse
// file one byte over the bound for the others (refused before reading).
func TestOversizedInputs(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxDocumentBytes+1))
	require.NoError(t, f.Close())
	cases := []struct {
		name string
		args []string
		flag string
		file string
	}{
		{"upstream -spec /dev/zero", []string{"upstream", "-spec", "/dev/zero", "-ours", "testdata/ours.yaml"}, "-spec", "/dev/zero"},
		{"upstream -ours", []string{"upstream", "-spec", "testdata/identical.json", "-ours", big}, "-ours", big},
		{"breaking -base", []string{"breaking", "-base", big, "-head", "testdata/ours.yaml"}, "-base", big},
		{"breaking -head", []string{"breaking", "-base", "testdata/ours.yaml", "-head", big}, "-head", big},
		{"breaking -allow", []string{"breaking", "-base", "testdata/ours.yaml", "-allow", big}, "-allow", big},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(tc.file); err != nil {
				t.Skipf("no %s here", tc.file)
			}
			code, out, errOut := runCmd(tc.args...)
			assert.Equal(t, exitBadInput, code)
			assert.Empty(t, out)
			assert.Equal(t, "specdiff: read "+tc.flag+" "+tc.file+": document too big: exceeds 67108864 bytes\n", errOut)
		})
	}
}

func TestReadBounds(t *testing.T) {
	t.Parallel()
	const limit = 100
	dir := t.TempDir()
	write := func(name string, n int) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("x"), n), 0o600))
		return path
	}
	atLimit, overLimit := write("at.json", limit), write("over.json", limit+1)
	cases := []struct {
		name string
		read func() ([]byte, error)
		want string // error text; empty when the read succeeds
	}{
		{"file at the limit", func() ([]byte, error) { return readFile("-spec", atLimit, limit) }, ""},
		{"file over the limit", func() ([]byte, error) { return readFile("-spec", overLimit, limit) }, "read -spec " + overLimit + ": document too big: exceeds 100 bytes"},
		{"stream at the limit", func() ([]byte, error) { return readLimited(strings.NewReader(strings.Repeat("x", limit)), limit, 0) }, ""},
		{"stream over the limit", func() ([]byte, error) {
			return readLimited(strings.NewReader(strings.Repeat("x", limit+1)), limit, limit)
		}, "document too big: exceeds 100 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := tc.read()
			if tc.want == "" {
				require.NoError(t, err)
				assert.Len(t, data, limit)
				return
			}
			assert.ErrorIs(t, err, errTooBig)
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://raw.githubusercontent.com/x/merge_mktg.oas.json", true},
		{"http://127.0.0.1:8080/x.json", true},
		{"http://127.9.9.9/x.json", true},
		{"http://[::1]:8080/x.json", true},
		{"http://localhost:8080/x.json", true},
		{"http://LocalHost/x.json", true},
		{"http://example.com/x.json", false},
		{"http://10.0.0.1/x.json", false},
		{"http://0.0.0.0/x.json", false},
		{"http://localhost.example.com/x.json", false},
		{"http://127.0.0.1.example.com/x.json", false},
		{"ftp://example.com/x.json", false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			if err := checkURL(u); tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "only https URLs are fetched")
			}
		})
	}
}

// recordingTransport passes requests to loopback hosts on and records the
// host of every request it is given.
type recordingTransport struct {
	mu    sync.Mutex
	hosts []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.URL.Host)
	r.mu.Unlock()
	if !isLoopback(req.URL.Hostname()) {
		return nil, assert.AnError
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestFetchRefusesPlainHTTPWithoutConnecting(t *testing.T) {
	t.Parallel()
	redirector := httptest.NewServer(http.RedirectHandler("http://example.com/merge_mktg.oas.json", http.StatusFound))
	t.Cleanup(redirector.Close)
	redirectorHost := strings.TrimPrefix(redirector.URL, "http://")
	cases := []struct {
		name  string
		url   string
		hosts []string // the requests the transport was given
	}{
		{"plain http to another host", "http://example.com/merge_mktg.oas.json", nil},
		{"redirect from loopback to plain http", redirector.URL + "/x.json", []string{redirectorHost}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			rt := &recordingTransport{}
			_, err = fetch(rt, "-spec", u, maxDocumentBytes)
			assert.ErrorContains(t, err, "refusing http://example.com: only https URLs are fetched")
			assert.Equal(t, tc.hosts, rt.hosts)
		})
	}

	code, out, errOut := runCmd("upstream", "-spec", "http://example.com/merge_mktg.oas.json")
	assert.Equal(t, exitBadInput, code)
	assert.Empty(t, out)
	assert.Equal(t, "specdiff: fetch -spec: refusing http://example.com: only https URLs are fetched (plain http only from a loopback host)\n", errOut)
}

// endless is a stream that never ends, as /dev/zero.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestReadAllocates: what readLimited allocates stays near what it must
// keep, however much the input offers (/dev/zero peaked at 278 MB before
// its refusal when the bound was 64 MiB). Not parallel, so that no other
// test allocates while it measures.
func TestReadAllocates(t *testing.T) {
	const limit = 16 << 20
	const size = 10 << 20 // a document under the bound
	dir := t.TempDir()
	file := filepath.Join(dir, "doc.json")
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("x"), size), 0o600))
	cases := []struct {
		name    string
		read    func() ([]byte, error)
		tooBig  bool
		atMost  uint64 // bytes allocated
		because string
	}{
		{"an endless stream", func() ([]byte, error) { return readLimited(endless{}, limit, 0) }, true,
			limit + 64<<10, "an endless stream must be refused having read no more than the bound"},
		{"/dev/zero", func() ([]byte, error) { return readFile("-spec", "/dev/zero", limit) }, true,
			limit + 64<<10, "/dev/zero must be refused having read no more than the bound"},
		{"an endless stream claiming a size", func() ([]byte, error) { return readLimited(endless{}, limit, size) }, true,
			limit + 64<<10, "a size hint must not let a stream past the bound"},
		{"a file of known size", func() ([]byte, error) { return readFile("-spec", file, limit) }, false,
			size + 64<<10, "a file of known size must be read into one buffer of its size"},
		{"a stream of unknown size", func() ([]byte, error) {
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			return readLimited(struct{ io.Reader }{f}, limit, 0)
		}, false, 2*size + maxChunk, "a stream must cost at most its chunks and their join"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat("/dev/zero"); err != nil && tc.name == "/dev/zero" {
				t.Skip("no /dev/zero here")
			}
			var data []byte
			var err error
			allocated := allocatedBy(func() { data, err = tc.read() })
			if tc.tooBig {
				assert.ErrorIs(t, err, errTooBig)
			} else {
				require.NoError(t, err)
				assert.Len(t, data, size)
			}
			assert.LessOrEqual(t, allocated, tc.atMost, "%s: allocated %d bytes", tc.because, allocated)
		})
	}
}
