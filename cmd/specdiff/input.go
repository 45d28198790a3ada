package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// maxDocumentBytes bounds every document specdiff reads: a file, a
	// download or the output of git show. Merge's documents are well under
	// 1 MB each; a bundle of every category stays under 10 MB.
	maxDocumentBytes = 64 << 20
	// fetchTimeout bounds downloading an upstream document.
	fetchTimeout = 30 * time.Second
	// maxRedirects bounds the redirects followed when downloading.
	maxRedirects = 5
)

// readSource reads a document named by a flag: a file, or, when allowURL is
// set and src is a URL, a download. Either way at most maxDocumentBytes are
// read.
func readSource(flagName, src string, allowURL bool) ([]byte, error) {
	if u, ok := asURL(src); ok && allowURL {
		return fetch(http.DefaultTransport, flagName, u, maxDocumentBytes)
	}
	return readFile(flagName, src, maxDocumentBytes)
}

// readFile reads a file of at most limit bytes. A regular file that is too
// big fails before it is read; anything else (a pipe, a device such as
// /dev/zero) fails once limit+1 bytes have arrived.
func readFile(flagName, path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		// The *PathError would repeat path, unbounded.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read %s %s: %w", flagName, shown(path), err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > limit {
			return nil, fmt.Errorf("read %s %s: %w", flagName, shown(path), tooBig(limit))
		}
	}
	data, err := readLimited(f, limit, size)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", flagName, shown(path), err)
	}
	return data, nil
}

// The chunks readLimited reads a stream of unknown size in: the first is
// firstChunk bytes, each next one twice the last, up to maxChunk.
const (
	firstChunk = 64 << 10
	maxChunk   = 4 << 20
)

// readLimited reads r to its end, or fails once it has given more than
// limit bytes: the one bound on what specdiff reads. sizeHint, when known
// (a file's size, a Content-Length), sizes the first read.
//
// It reads into chunks no bigger than what is left of the bound, and joins
// them at the end, so that what it allocates stays within limit plus one
// byte however much r offers (/dev/zero): a growing buffer would hold twice
// the bound, plus the copy it grew from.
func readLimited(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	next := int64(firstChunk)
	if sizeHint > 0 && sizeHint <= limit {
		next = sizeHint + 1 // one more byte, to see the end without another chunk
	}
	var chunks [][]byte
	var total int64
	for {
		chunk := make([]byte, min(next, limit+1-total))
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		if total > limit {
			return nil, tooBig(limit)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		next = min(2*int64(len(chunk)), maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// errTooBig is what a read over the bound wraps.
var errTooBig = errors.New("document too big")

func tooBig(limit int64) error {
	return fmt.Errorf("%w: exceeds %d bytes", errTooBig, limit)
}

// asURL reports whether src names a download rather than a file: it has a
// scheme and a host.
func asURL(src string) (*url.URL, bool) {
	u, err := url.Parse(src)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, false
	}
	return u, true
}

// checkURL accepts https, and plain http to a loopback host only (for tests
// and local mirrors): a document fetched over plain http from elsewhere could
// have been changed on the way.
func checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("refusing %s://%s: only https URLs are fetched (plain http only from a loopback host)", shown(u.Scheme), shown(u.Host))
}

// isLoopback reports whether host is localhost or a loopback IP address
// (127.0.0.0/8, ::1). Names other than localhost are not resolved.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fetch downloads u through rt, checking u and every redirect against
// checkURL before any connection is made, and reads at most limit bytes.
func fetch(rt http.RoundTripper, flagName string, u *url.URL, limit int64) ([]byte, error) {
	if err := checkURL(u); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", flagName, err)
	}
	client := &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return checkURL(req.URL)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	name := shown(u.Redacted())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", flagName, name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// The *url.Error would repeat the URL (or a redirect's), unbounded.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch %s %s: %w", flagName, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s %s: status %d", flagName, name, resp.StatusCode) // the server's reason phrase is not shown
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("fetch %s %s: %w", flagName, name, tooBig(limit))
	}
	data, err := readLimited(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", flagName, name, err)
	}
	return data, nil
}

// maxDocuments bounds how many documents one "specdiff upstream" compares:
// Merge publishes one per category, a dozen.
const maxDocuments = 64

// expandSpecs lists the documents the -spec values name, in order: a URL
// or a file as it is, a directory as its regular *.json, *.yaml and *.yml
// files (not those whose name starts with a dot), sorted by name. Whether
// a file can be read is found out when it is read.
func expandSpecs(specs []string) ([]string, error) {
	var out []string
	for _, spec := range specs {
		if _, ok := asURL(spec); ok {
			out = append(out, spec)
			continue
		}
		st, err := os.Stat(spec)
		if err != nil || !st.IsDir() {
			out = append(out, spec)
			continue
		}
		entries, err := os.ReadDir(spec)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("read -spec %s: %w", shown(spec), err)
		}
		n := len(out)
		for _, e := range entries {
			name := e.Name()
			switch strings.ToLower(filepath.Ext(name)) {
			case ".json", ".yaml", ".yml":
			default:
				continue
			}
			path := filepath.Join(spec, name)
			if strings.HasPrefix(name, ".") {
				continue
			}
			if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
				continue
			}
			out = append(out, path)
		}
		if len(out) == n {
			return nil, fmt.Errorf("-spec %s is a directory with no .json, .yaml or .yml document", shown(spec))
		}
	}
	if len(out) > maxDocuments {
		return nil, fmt.Errorf("-spec names %d documents; at most %d are compared in one run", len(out), maxDocuments)
	}
	seen := map[string]bool{}
	for _, src := range out {
		key := src
		if _, ok := asURL(src); !ok {
			key = filepath.Clean(src)
		}
		if seen[key] {
			return nil, fmt.Errorf("-spec names %s twice", shown(src))
		}
		seen[key] = true
	}
	return out, nil
}
