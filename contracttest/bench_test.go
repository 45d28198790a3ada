package contracttest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/contracttest"
	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/benchdata"
	"github.com/mergelink/linktoken/openapi"
)

// The benchmarks compare sides as sub-benchmarks keyed "impl=<side>", the
// baseline first, so that "make bench" (which runs them interleaved, in
// alternating order, and summarises with benchstat -col /impl) prints each
// side's ratio to the baseline with its spread. Every side checks, inside
// its loop, that it did the same work: the same token decoded, or the same
// verdict.

// benchServer answers every POST with the benchmark token.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchdata.Token)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchTokenValue is the link token of benchdata.Token.
const benchTokenValue = "necdP7FtdASl1fQwm62be2_dM4wBG8_GactqoUV0"

// wantToken decodes and closes a success body, as a hand-written caller
// would, and fails unless it holds a token (the benchmark token, unless
// anyToken: the mock makes a fresh one each time).
func wantToken(b *testing.B, resp *http.Response, anyToken bool) {
	var tok gen.LinkToken
	err := json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	checkToken(b, tok.LinkToken, err, anyToken)
}

func checkToken(b *testing.B, token string, err error, anyToken bool) {
	if err != nil || token == "" || (!anyToken && token != benchTokenValue) {
		b.Fatal("no token:", err)
	}
}

// rawCall is the floor of net/http: json.Marshal, http.NewRequest, Do,
// decode. It is the baseline of BenchmarkCall and BenchmarkClientOverhead,
// and sends what the wrapper sends: the same body, and the same headers
// (Content-Type, Authorization, a User-Agent, and a fresh Idempotency-Key
// from crypto/rand, as CreateLinkToken promises one per call).
func rawCall(b *testing.B, url string, hc *http.Client, anyToken bool) func() {
	req := benchdata.Typical()
	return func() {
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		r, err := http.NewRequest(http.MethodPost, url+"/link-token", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+benchdata.Key)
		r.Header.Set("User-Agent", benchUserAgent)
		r.Header.Set("Idempotency-Key", rand.Text())
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		wantToken(b, resp, anyToken)
	}
}

// benchUserAgent has the form of the wrapper's User-Agent.
var benchUserAgent = "github.com/mergelink/linktoken/(devel) go/" + runtime.Version()

// generatedCall is CreateLinkToken through the generated client alone, with
// the same headers as rawCall, decoded as rawCall does.
func generatedCall(b *testing.B, url string, hc *http.Client) func() {
	c, err := gen.NewClient(url, gen.WithHTTPClient(hc), gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+benchdata.Key)
		r.Header.Set("User-Agent", benchUserAgent)
		return nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	req := benchdata.Typical()
	ctx := context.Background()
	return func() {
		key := rand.Text()
		resp, err := c.CreateLinkToken(ctx, &gen.CreateLinkTokenParams{IdempotencyKey: &key}, req)
		if err != nil {
			b.Fatal(err)
		}
		wantToken(b, resp, false)
	}
}

// wrapperCall is CreateLinkToken through the wrapper, validation on.
func wrapperCall(b *testing.B, anyToken bool, opts ...client.Option) func() {
	c, err := client.New(benchdata.Key, opts...)
	if err != nil {
		b.Fatal(err)
	}
	req := benchdata.Typical()
	ctx := context.Background()
	return func() {
		tok, err := c.CreateLinkToken(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		checkToken(b, tok.LinkToken, nil, anyToken)
	}
}

// tcpCall is the floor of the loopback round trip: a hand-written HTTP/1.1
// exchange of fixed bytes on one kept-alive connection to the same server.
func tcpCall(b *testing.B, url string) func() {
	body, _ := json.Marshal(benchdata.Typical())
	host := strings.TrimPrefix(url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	reqBytes := []byte("POST /link-token HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
		"Authorization: Bearer " + benchdata.Key + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
	rd := bufio.NewReader(conn)
	buf := make([]byte, 4096)
	return func() {
		if _, err := conn.Write(reqBytes); err != nil {
			b.Fatal(err)
		}
		length := -1
		for {
			line, err := rd.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if length != len(benchdata.Token) {
			b.Fatal("unexpected response length", length)
		}
		if _, err := io.ReadFull(rd, buf[:length]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall: one call over loopback to a server answering a fixed token,
// by the raw net/http floor, a hand-written TCP exchange, the generated
// client and the wrapper.
func BenchmarkCall(b *testing.B) {
	srv := benchServer(b)
	benchdata.Run(b, []benchdata.Impl{
		{Name: "raw", Setup: func(b *testing.B) func() { return rawCall(b, srv.URL, srv.Client(), false) }},
		{Name: "tcp", Setup: func(b *testing.B) func() { return tcpCall(b, srv.URL) }},
		{Name: "generated", Setup: func(b *testing.B) func() { return generatedCall(b, srv.URL, srv.Client()) }},
		{Name: "wrapper", Setup: func(b *testing.B) func() {
			return wrapperCall(b, false, client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.Client()))
		}},
	})
}

// memTransport answers every request in memory with the benchmark token:
// what remains is the client's own code.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(benchdata.Token)),
		ContentLength: int64(len(benchdata.Token)), Request: r,
	}, nil
}

// BenchmarkClientOverhead: the client's own code per call, with an
// in-memory transport, against the raw net/http code on the same transport.
func BenchmarkClientOverhead(b *testing.B) {
	hc := &http.Client{Transport: memTransport{}}
	benchdata.Run(b, []benchdata.Impl{
		{Name: "raw", Setup: func(b *testing.B) func() { return rawCall(b, "http://127.0.0.1:9", hc, false) }},
		{Name: "wrapper", Setup: func(b *testing.B) func() {
			return wrapperCall(b, false, client.WithBaseURL("http://127.0.0.1:9"), client.WithHTTPClient(hc))
		}},
	})
}

// BenchmarkValidatingTransport: the wrapper's call with and without
// contracttest.NewTransport under it, over loopback, as sub-benchmarks (for
// each side's allocations).
func BenchmarkValidatingTransport(b *testing.B) {
	benchdata.Run(b, validatingTransportSides(benchServer(b)))
}

// BenchmarkValidatingTransportPaired: the same two sides taking turns call
// by call (benchdata.Paired); its with/without ratio is the target's measure.
func BenchmarkValidatingTransportPaired(b *testing.B) {
	benchdata.Paired(b, validatingTransportSides(benchServer(b)))
}

// validatingTransportSides are the wrapper's call without and with the
// validating transport, against srv.
func validatingTransportSides(srv *httptest.Server) []benchdata.Impl {
	return []benchdata.Impl{
		{Name: "without", Setup: func(b *testing.B) func() {
			return wrapperCall(b, false, client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.Client()))
		}},
		{Name: "with", Setup: func(b *testing.B) func() {
			hc := &http.Client{Transport: contracttest.NewTransport(srv.Client().Transport)}
			return wrapperCall(b, false, client.WithBaseURL(srv.URL), client.WithHTTPClient(hc))
		}},
	}
}

func BenchmarkValidateRequest(b *testing.B) {
	req := benchdata.Typical()
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Validate(req); err != nil {
			b.Fatal(err)
		}
	}
}

// exchange is one request and its response, with fresh bodies each time.
type exchange struct {
	body []byte
	req  *http.Request
	resp *http.Response
}

func newExchange(body []byte) *exchange {
	req, _ := http.NewRequest(http.MethodPost, benchdata.URL, nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+benchdata.Key)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req-1"}}}
	return &exchange{body: body, req: req, resp: resp}
}

func (e *exchange) reset() {
	e.req.Body = io.NopCloser(bytes.NewReader(e.body))
	e.req.ContentLength = int64(len(e.body))
	e.resp.Body = io.NopCloser(strings.NewReader(benchdata.Token))
}

// BenchmarkExchange: validating one request and its response, by kin-openapi
// used plainly (openapi3filter with a gorillamux router built once, the
// Validator's options) and by the Validator, on each body of
// benchdata.Sizes. Both must accept every exchange. The peer validator
// (pb33f/libopenapi-validator) runs the same exchanges in
// internal/peerbench, a module of its own.
func BenchmarkExchange(b *testing.B) {
	for _, size := range benchdata.Sizes() {
		b.Run("size="+size.Name, func(b *testing.B) {
			benchdata.Run(b, []benchdata.Impl{
				{Name: "kin", Setup: func(b *testing.B) func() {
					doc, err := openapi.Load()
					if err != nil {
						b.Fatal(err)
					}
					router, err := gorillamux.NewRouter(doc)
					if err != nil {
						b.Fatal(err)
					}
					ref := newReference(b)
					ex := newExchange(size.Body)
					ctx := context.Background()
					return func() {
						ex.reset()
						route, params, err := router.FindRoute(ex.req)
						if err != nil {
							b.Fatal(err)
						}
						in := &openapi3filter.RequestValidationInput{Request: ex.req, PathParams: params, Route: route, Options: ref.opts}
						if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
							b.Fatal(err)
						}
						out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: 200, Header: ex.resp.Header, Options: ref.opts}
						out.SetBodyBytes([]byte(benchdata.Token))
						if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
							b.Fatal(err)
						}
					}
				}},
				{Name: "ours", Setup: func(b *testing.B) func() {
					v, err := contracttest.NewValidator()
					if err != nil {
						b.Fatal(err)
					}
					ex := newExchange(size.Body)
					return func() {
						ex.reset()
						if err := v.ValidateRequest(ex.req); err != nil {
							b.Fatal(err)
						}
						if err := v.ValidateResponse(ex.req, ex.resp); err != nil {
							b.Fatal(err)
						}
					}
				}},
			})
		})
	}
}

// BenchmarkConcurrent: calls per second with N calls in flight against the
// spec-validating mock, answering at once (loopback) or after 20 ms (an API
// across a network), and the new TCP connections the run opened
// ("newconns", for the whole run: without churn it stays at most N). Sides:
// raw net/http with a pool sized to the calls in flight, raw net/http capped
// at 64 connections, and the wrapper with its default transport.
func BenchmarkConcurrent(b *testing.B) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run("latency="+latency.String(), func(b *testing.B) {
			for _, inflight := range []int{1, 8, 64, 512} {
				b.Run("inflight="+strconv.Itoa(inflight), func(b *testing.B) {
					benchConcurrent(b, latency, inflight)
				})
			}
		})
	}
}

func benchConcurrent(b *testing.B, latency time.Duration, inflight int) {
	pooled := func(idle, max int) *http.Client {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = 0, idle, max
		return &http.Client{Transport: t}
	}
	for _, side := range benchdata.Order([]string{"raw-pool", "raw-cap64", "wrapper"}) {
		b.Run("impl="+side, func(b *testing.B) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(newMock(b, contracttest.WithLatency(latency)))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			var call func()
			switch side {
			case "raw-pool":
				call = rawCall(b, srv.URL, pooled(inflight, 0), true)
			case "raw-cap64":
				call = rawCall(b, srv.URL, pooled(64, 64), true)
			default:
				call = wrapperCall(b, true, client.WithBaseURL(srv.URL))
			}
			call() // once before timing: a failure shows up here
			b.ReportAllocs()
			b.ResetTimer()
			start := conns.Load()
			if inflight == 1 {
				for b.Loop() {
					call()
				}
			} else {
				b.SetParallelism(max(1, inflight/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						call()
					}
				})
			}
			b.ReportMetric(float64(conns.Load()-start), "newconns")
		})
	}
}

// BenchmarkMockCoverage: the mock answering a typical valid request, in
// process (no network, so the recording's share is as large as it gets),
// without and with a Coverage recording it, as sub-benchmarks (for each
// side's allocations). Both must answer 200.
func BenchmarkMockCoverage(b *testing.B) {
	benchdata.Run(b, mockCoverageSides(b))
}

// BenchmarkMockCoveragePaired: the same two sides taking turns call by call
// (benchdata.Paired); its with/without ratio is the target's measure.
func BenchmarkMockCoveragePaired(b *testing.B) {
	benchdata.Paired(b, mockCoverageSides(b))
}

// mockCoverageSides are the mock answering a typical request without and
// with a Coverage recording it.
func mockCoverageSides(b *testing.B) []benchdata.Impl {
	body, err := json.Marshal(benchdata.Typical())
	if err != nil {
		b.Fatal(err)
	}
	serve := func(b *testing.B, opts ...contracttest.Option) func() {
		m, err := contracttest.NewMock(opts...)
		if err != nil {
			b.Fatal(err)
		}
		return func() {
			req := httptest.NewRequest(http.MethodPost, "/link-token", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+benchdata.Key)
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}
	return []benchdata.Impl{
		{Name: "without", Setup: func(b *testing.B) func() { return serve(b) }},
		{Name: "with", Setup: func(b *testing.B) func() {
			cov, err := contracttest.NewCoverage()
			if err != nil {
				b.Fatal(err)
			}
			return serve(b, contracttest.WithCoverage(cov))
		}},
	}
}

// BenchmarkCallPaired: the raw, generated and wrapper sides of BenchmarkCall
// taking turns call by call in one loop against the same server and
// connection pool (benchdata.Paired). Its wrapper/raw ratio is the time
// target's measure: the separate runs of BenchmarkCall, under the machine's
// changing load, cannot resolve a few percent.
func BenchmarkCallPaired(b *testing.B) {
	srv := benchServer(b)
	benchdata.Paired(b, []benchdata.Impl{
		{Name: "raw", Setup: func(b *testing.B) func() { return rawCall(b, srv.URL, srv.Client(), false) }},
		{Name: "generated", Setup: func(b *testing.B) func() { return generatedCall(b, srv.URL, srv.Client()) }},
		{Name: "wrapper", Setup: func(b *testing.B) func() {
			return wrapperCall(b, false, client.WithBaseURL(srv.URL), client.WithHTTPClient(srv.Client()))
		}},
	})
}
