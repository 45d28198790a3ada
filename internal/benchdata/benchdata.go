// Package benchdata holds the inputs the benchmarks of this module share, so
// that compared benchmarks (in contracttest and in the peer-validator module
// internal/peerbench) validate the same exchanges.
package benchdata

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mergelink/linktoken/client"
)

// URL is the endpoint the in-memory exchanges are addressed to: the US
// region's, so that routers matching the spec's servers find the operation.
const URL = "https://api.merge.dev/api/mktg/v1/link-token"

// Token is the success body every benchmark server answers with.
const Token = `{"link_token":"necdP7FtdASl1fQwm62be2_dM4wBG8_GactqoUV0","integration_name":"BambooHR"}`

// Key is the API key the benchmarks send.
const Key = "bench-key"

// Typical is a typical request: the required fields, an integration, an
// expiry and a language.
func Typical() client.LinkTokenRequest {
	return client.LinkTokenRequest{
		EndUserEmailAddress:     "ada@example.com",
		EndUserOrganizationName: "Acme Corporation",
		EndUserOriginID:         "user-4242",
		Categories:              []client.Category{client.CategoryHRIS, client.CategoryATS},
		Integration:             "bamboohr",
		LinkExpiryMins:          60,
		Language:                client.LanguageEnglish,
	}
}

// Size names one request body of the exchange benchmarks.
type Size struct {
	// Name is the sub-benchmark key: "size=<Name>".
	Name string
	// Body is the JSON request body, valid by the spec.
	Body []byte
}

// Sizes returns the request bodies the exchange benchmarks compare on: a
// typical request, one with 1,000 Common Model scopes (about 200 KB) and one
// with 1,000 integration config keys.
func Sizes() []Size {
	typical := Typical()

	scopes := Typical()
	scopes.CategoryCommonModelScopes = map[string][]client.CommonModelScope{}
	for i := range 1000 {
		c := string(client.CategoryValues()[i%len(client.CategoryValues())])
		scopes.CategoryCommonModelScopes[c] = append(scopes.CategoryCommonModelScopes[c], client.CommonModelScope{
			ModelName:        fmt.Sprintf("Model%04d", i),
			ModelPermissions: client.ModelPermissions{READ: &client.ModelPermission{IsEnabled: true}, WRITE: &client.ModelPermission{IsEnabled: i%2 == 0}},
			FieldPermissions: client.FieldPermissions{
				EnabledFields:  []string{"first_name", "last_name", "work_email", "manager"},
				DisabledFields: []string{"ssn", "date_of_birth", "home_location"},
			},
		})
	}

	config := Typical()
	config.IntegrationSpecificConfig = map[string]json.RawMessage{}
	for i := range 1000 {
		config.IntegrationSpecificConfig[fmt.Sprintf("integration-%04d", i)] = json.RawMessage(fmt.Sprintf(`{"oauth_code":"code-%04d","sandbox":%t,"scopes":["read","write"]}`, i, i%2 == 0))
	}
	return []Size{{"typical", mustJSON(typical)}, {"scopes1000", mustJSON(scopes)}, {"config1000", mustJSON(config)}}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Reversed reports whether this run should take the compared sides in
// reverse order: "make bench" alternates the order between rounds (through
// BENCH_ORDER=reverse), so drift in the machine's speed hits every side
// alike.
func Reversed() bool { return os.Getenv("BENCH_ORDER") == "reverse" }

// Order returns impls in this run's order.
func Order[T any](impls []T) []T {
	if !Reversed() {
		return impls
	}
	out := make([]T, len(impls))
	for i, x := range impls {
		out[len(impls)-1-i] = x
	}
	return out
}

// Impl is one side of a comparison: Setup returns the operation to time.
type Impl struct {
	Name  string
	Setup func(b *testing.B) func()
}

// Run runs impls as sub-benchmarks keyed "impl=<Name>", in this run's
// order: "make bench" runs them interleaved and summarises them with
// benchstat -col /impl, the first as the baseline. Each operation runs once
// before timing, so that a failure shows up there.
func Run(b *testing.B, impls []Impl) {
	for _, im := range Order(impls) {
		b.Run("impl="+im.Name, func(b *testing.B) {
			op := im.Setup(b)
			op()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				op()
			}
		})
	}
}

// Paired times impls in one loop: each iteration runs every side once, the
// first side to run turning with the iteration, and times each call alone.
// It reports each side's mean time per call ("<Name>-ns/call") and, for
// each side after the first, the median over the iterations of its call's
// time over the first side's call in the same iteration ("<Name>/<first
// Name>").
//
// Sides measured call by call see the same load on the machine, where
// sub-benchmarks run seconds apart do not; and the median of the ratios is
// not moved by the stalls a shared machine puts into a few calls (a
// preempted vCPU, a GC pause), which move a ratio of total times by several
// percent from round to round. So the ratio resolves the few percent that
// separate sub-benchmarks, tens of percent apart from round to round,
// cannot. The time.Now calls around each call cost every side the same.
func Paired(b *testing.B, impls []Impl) {
	ops := make([]func(), len(impls))
	for i, im := range impls {
		ops[i] = im.Setup(b)
		ops[i]()
	}
	took := make([][]time.Duration, len(ops)) // took[side][iteration]
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for j := range ops {
			k := (n + j) % len(ops)
			start := time.Now()
			ops[k]()
			took[k] = append(took[k], time.Since(start))
		}
	}
	b.StopTimer()
	for i, im := range impls {
		var sum time.Duration
		for _, d := range took[i] {
			sum += d
		}
		b.ReportMetric(float64(sum.Nanoseconds())/float64(len(took[i])), im.Name+"-ns/call")
		if i == 0 {
			continue
		}
		ratios := make([]float64, len(took[i]))
		for n, d := range took[i] {
			ratios[n] = float64(d) / float64(max(took[0][n], 1))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], im.Name+"/"+impls[0].Name)
	}
}
