// Package h2test serves HTTP/2 over TLS that misbehaves on purpose, for the
// tests of what net/http's HTTP/2 transport does below the client: it reads
// each request whole, then answers, resets the stream, sends a GOAWAY or
// hangs up, as the test says. Go's own HTTP/2 server cannot be made to do
// most of these, so this one speaks the frames itself, with
// golang.org/x/net/http2's Framer and hpack encoder.
package h2test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Action is what the server does once it has read a whole request (its
// headers and its body, up to END_STREAM).
type Action int

const (
	// Respond answers 200 with the server's JSON body.
	Respond Action = iota
	// Redirect answers 307 to the same path on the same origin.
	Redirect
	// RefuseStream resets the stream with REFUSED_STREAM: by RFC 9113
	// section 8.7, the request was not processed.
	RefuseStream
	// ResetProtocol resets the stream with PROTOCOL_ERROR: the request
	// may have been processed.
	ResetProtocol
	// ResetInternal resets the stream with INTERNAL_ERROR.
	ResetInternal
	// GoAwayBelow sends GOAWAY with NO_ERROR and a last-stream-id below
	// the stream's (so the stream was not processed), then closes the
	// connection.
	GoAwayBelow
	// GoAwayBelowError is GoAwayBelow with PROTOCOL_ERROR as the GOAWAY's
	// code.
	GoAwayBelowError
	// GoAwayAfter sends GOAWAY with NO_ERROR and the stream's own id as the
	// last-stream-id (the stream was received and may have been
	// processed), then closes the connection without answering.
	GoAwayAfter
	// Hangup closes the connection without a word.
	Hangup
)

// Server is an HTTP/2-only TLS server on loopback. Its handler decides an
// Action for the n-th whole request it reads (n counts from 1 across
// connections).
type Server struct {
	// URL is https://127.0.0.1:port.
	URL string

	ln       net.Listener
	cert     *httptest.Server
	decide   func(n int) Action
	body     []byte
	requests atomic.Int32
	conns    atomic.Int32

	mu     sync.Mutex
	bodies [][]byte
	paths  []string
	open   map[net.Conn]bool
	wg     sync.WaitGroup
}

// NewServer starts a server that answers the n-th request as decide says;
// Respond sends body with Content-Type application/json. It stops when the
// test ends.
func NewServer(t testing.TB, body string, decide func(n int) Action) *Server {
	t.Helper()
	// httptest's certificate, which its client trusts.
	cert := httptest.NewUnstartedServer(http.NotFoundHandler())
	cert.EnableHTTP2 = true
	cert.StartTLS()
	cfg := &tls.Config{Certificates: cert.TLS.Certificates, NextProtos: []string{http2.NextProtoTLS}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "https://" + ln.Addr().String(), ln: ln, cert: cert, decide: decide, body: []byte(body), open: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// Transport is a clone of http.DefaultTransport (HTTP/2 enabled, as every
// client's default) that trusts the server's certificate.
func (s *Server) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = s.cert.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return t
}

// Requests is how many whole requests the server read.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Conns is how many connections the server accepted.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// Bodies returns the body of each whole request, in the order read.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// Paths returns the :path of each whole request, in the order read.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func (s *Server) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for conn := range s.open {
		_ = conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.cert.Close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[conn] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(conn)
			s.mu.Lock()
			delete(s.open, conn)
			s.mu.Unlock()
			_ = conn.Close()
		}()
	}
}

// stream is a request being read.
type stream struct {
	path string
	body bytes.Buffer
}

// serve speaks HTTP/2 on one connection until the client or an Action
// closes it.
func (s *Server) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(conn, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if fr.WriteSettings() != nil {
		return
	}
	streams := map[uint32]*stream{}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var done uint32
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && fr.WriteSettingsAck() != nil {
				return
			}
		case *http2.PingFrame:
			if !f.IsAck() && fr.WritePing(true, f.Data) != nil {
				return
			}
		case *http2.MetaHeadersFrame:
			streams[f.StreamID] = &stream{path: f.PseudoValue("path")}
			if f.StreamEnded() {
				done = f.StreamID
			}
		case *http2.DataFrame:
			st := streams[f.StreamID]
			if st == nil {
				continue
			}
			st.body.Write(f.Data())
			if n := len(f.Data()); n > 0 {
				// Give the window back, so a large body keeps coming.
				_ = fr.WriteWindowUpdate(0, uint32(n))
				_ = fr.WriteWindowUpdate(f.StreamID, uint32(n))
			}
			if f.StreamEnded() {
				done = f.StreamID
			}
		}
		if done == 0 {
			continue
		}
		st := streams[done]
		delete(streams, done)
		if !s.act(fr, done, st) {
			return
		}
	}
}

// act does what decide says for a whole request; it reports whether the
// connection stays open.
func (s *Server) act(fr *http2.Framer, id uint32, st *stream) bool {
	n := int(s.requests.Add(1))
	s.mu.Lock()
	s.bodies = append(s.bodies, bytes.Clone(st.body.Bytes()))
	s.paths = append(s.paths, st.path)
	s.mu.Unlock()
	switch s.decide(n) {
	case Respond:
		return s.answer(fr, id, "200", "application/json", "", s.body) == nil
	case Redirect:
		return s.answer(fr, id, "307", "", st.path, nil) == nil
	case RefuseStream:
		return fr.WriteRSTStream(id, http2.ErrCodeRefusedStream) == nil
	case ResetProtocol:
		return fr.WriteRSTStream(id, http2.ErrCodeProtocol) == nil
	case ResetInternal:
		return fr.WriteRSTStream(id, http2.ErrCodeInternal) == nil
	case GoAwayBelow:
		s.goAway(fr, id-2, http2.ErrCodeNo)
	case GoAwayBelowError:
		s.goAway(fr, id-2, http2.ErrCodeProtocol)
	case GoAwayAfter:
		s.goAway(fr, id, http2.ErrCodeNo)
	}
	return false // Hangup, and after a GOAWAY
}

// goAway sends GOAWAY and lets the client read it before the connection
// closes. Client stream ids are odd, so id-2 is the stream before (0 for
// the first).
func (s *Server) goAway(fr *http2.Framer, last uint32, code http2.ErrCode) {
	if last > 1<<31 {
		last = 0
	}
	_ = fr.WriteGoAway(last, code, nil)
	time.Sleep(50 * time.Millisecond)
}

// answer writes a response's headers and, when body is not nil, its body.
func (s *Server) answer(fr *http2.Framer, id uint32, status, contentType, location string, body []byte) error {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := []hpack.HeaderField{{Name: ":status", Value: status}, {Name: "x-request-id", Value: "h2-" + strconv.Itoa(int(id))}}
	if contentType != "" {
		fields = append(fields, hpack.HeaderField{Name: "content-type", Value: contentType})
	}
	if location != "" {
		fields = append(fields, hpack.HeaderField{Name: "location", Value: location})
	}
	for _, f := range fields {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: body == nil}); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	return fr.WriteData(id, true, body)
}
