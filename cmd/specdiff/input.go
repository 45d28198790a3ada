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
		return nil, fmt.Errorf("read %s: %w", flagName, err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > limit {
			return nil, fmt.Errorf("read %s %s: %w", flagName, path, tooBig(limit))
		}
	}
	data, err := readLimited(f, limit, size)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", flagName, path, err)
	}
	return data, nil
}

// readLimited reads r to its end, or fails once it has given more than
// limit bytes: the one bound on what specdiff reads. sizeHint, when known,
// sizes the buffer.
func readLimited(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= limit {
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, tooBig(limit)
	}
	return buf.Bytes(), nil
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
	return fmt.Errorf("refusing %s://%s: only https URLs are fetched (plain http only from a loopback host)", u.Scheme, u.Host)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", flagName, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", flagName, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s %s: status %d", flagName, u.Redacted(), resp.StatusCode) // the server's reason phrase is not shown
	}
	data, err := readLimited(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", flagName, u.Redacted(), err)
	}
	return data, nil
}
