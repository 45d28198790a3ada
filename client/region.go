package client

import (
	"fmt"
	"strings"

	"github.com/mergelink/linktoken/gen"
)

// Region is one of Merge's regions. Each maps to one of the spec's servers;
// the zero value means RegionUS.
type Region string

// The regions Merge serves. Their URLs are the servers of
// openapi/link-token.yaml, generated into gen/ as constants.
const (
	RegionUS   Region = "us"
	RegionEU   Region = "eu"
	RegionAPAC Region = "apac"
)

// DefaultRegion is the region used when none is chosen.
const DefaultRegion = RegionUS

// regionURLs maps each region to its generated server URL. Adding a region is
// a new server in the spec, "make generate", and one line here; a test fails
// when a server has no region.
var regionURLs = []struct {
	region Region
	url    string
}{
	{RegionUS, gen.ServerUrlUSRegion},
	{RegionEU, gen.ServerUrlEURegion},
	{RegionAPAC, gen.ServerUrlAPACRegion},
}

// Regions returns every region, in the order of the spec's servers.
func Regions() []Region {
	out := make([]Region, len(regionURLs))
	for i, r := range regionURLs {
		out[i] = r.region
	}
	return out
}

// BaseURL returns the region's API base URL, such as
// "https://api-eu.merge.dev/api/mktg/v1", or "" for an unknown region. The
// zero Region is RegionUS.
func (r Region) BaseURL() string {
	if r == "" {
		r = DefaultRegion
	}
	for _, x := range regionURLs {
		if x.region == r {
			return x.url
		}
	}
	return ""
}

// ParseRegion turns "us", "eu" or "apac" (in any case, with surrounding space)
// into a Region. Its error lists the valid values.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if r != "" && r.BaseURL() != "" {
		return r, nil
	}
	return "", fmt.Errorf("linktoken: unknown region %q (valid: %s)", s, validRegions())
}

func validRegions() string {
	names := make([]string, len(regionURLs))
	for i, r := range regionURLs {
		names[i] = string(r.region)
	}
	return strings.Join(names, ", ")
}
