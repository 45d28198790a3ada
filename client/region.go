package client

import (
	"fmt"
	"strings"

	"github.com/mergelink/linktoken/gen"
)

// Region is one of Merge's regions, or its sandbox. Each maps to one of the
// spec's servers; the zero value means RegionUS.
type Region string

// The regions Merge serves, and its sandbox. Their URLs are the servers of
// openapi/link-token.yaml, generated into gen/ as URL builders.
const (
	RegionUS      Region = "us"
	RegionEU      Region = "eu"
	RegionAPAC    Region = "apac"
	RegionSandbox Region = "sandbox"
)

// DefaultRegion is the region used when none is chosen.
const DefaultRegion = RegionUS

// server is one of the spec's servers: its generated URL builder, which
// checks the category against the server variable's enum, and the
// variable's default.
type server struct {
	region          Region
	url             func(Category) (string, error)
	defaultCategory Category
}

// servers maps each region to its generated server, in the spec's order.
// Adding a region is a new server in the spec, "make generate", and one entry
// here; a test fails when a server has no region.
var servers = []server{
	{RegionUS, func(c Category) (string, error) {
		return gen.NewServerURLUSRegion(gen.ServerURLUSRegionCategoryVariable(c))
	}, Category(gen.ServerURLUSRegionCategoryVariableDefault)},
	{RegionEU, func(c Category) (string, error) {
		return gen.NewServerURLEURegion(gen.ServerURLEURegionCategoryVariable(c))
	}, Category(gen.ServerURLEURegionCategoryVariableDefault)},
	{RegionAPAC, func(c Category) (string, error) {
		return gen.NewServerURLAPACRegion(gen.ServerURLAPACRegionCategoryVariable(c))
	}, Category(gen.ServerURLAPACRegionCategoryVariableDefault)},
	{RegionSandbox, func(c Category) (string, error) {
		return gen.NewServerURLSandbox(gen.ServerURLSandboxCategoryVariable(c))
	}, Category(gen.ServerURLSandboxCategoryVariableDefault)},
}

// Regions returns every region, in the order of the spec's servers.
func Regions() []Region {
	out := make([]Region, len(servers))
	for i, s := range servers {
		out[i] = s.region
	}
	return out
}

func (r Region) server() (server, bool) {
	if r == "" {
		r = DefaultRegion
	}
	for _, s := range servers {
		if s.region == r {
			return s, true
		}
	}
	return server{}, false
}

// BaseURL returns the region's base URL for the default category API
// (mktg), such as "https://api-eu.merge.dev/api/mktg/v1", or "" for an
// unknown region. The zero Region is RegionUS.
func (r Region) BaseURL() string {
	s, ok := r.server()
	if !ok {
		return ""
	}
	u, err := s.url(s.defaultCategory)
	if err != nil {
		return ""
	}
	return u
}

// CategoryURL returns the region's base URL for one category's API, such as
// "https://api-eu.merge.dev/api/hris/v1" for CategoryHRIS: POST /link-token
// is the same under each. Its error names the valid values.
func (r Region) CategoryURL(c Category) (string, error) {
	s, ok := r.server()
	if !ok {
		return "", fmt.Errorf("linktoken: unknown region %q (valid: %s)", string(r), validRegions())
	}
	u, err := s.url(c)
	if err != nil {
		return "", fmt.Errorf("linktoken: unknown category API %q (valid: %s)", string(c), joinValues(CategoryValues()))
	}
	return u, nil
}

// ParseRegion turns "us", "eu", "apac" or "sandbox" (in any case, with
// surrounding space) into a Region. Its error lists the valid values.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := r.server(); ok && r != "" {
		return r, nil
	}
	return "", fmt.Errorf("linktoken: unknown region %q (valid: %s)", s, validRegions())
}

func validRegions() string {
	return joinValues(Regions())
}

// joinValues lists enum values for a message: "a, b, c".
func joinValues[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}
