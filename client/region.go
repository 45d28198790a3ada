package client

import (
	"fmt"
	"strings"

	"github.com/mergelink/linktoken/internal/shared"
)

// Region is one of Merge's regions, or its sandbox: one of the spec's
// servers. Its values (RegionUS, RegionEU, RegionAPAC, RegionSandbox) and
// RegionValues are generated from the spec's servers, so adding a region is
// a server in openapi/link-token.yaml and "make generate". The zero value is
// RegionUS.
type Region string

// BaseURL returns the region's base URL for the default category API
// (mktg), such as "https://api-eu.merge.dev/api/mktg/v1", or "" for an
// unknown region.
func (r Region) BaseURL() string {
	u, err := r.CategoryURL("")
	if err != nil {
		return ""
	}
	return u
}

// CategoryURL returns the region's base URL for one category's API, such as
// "https://api-eu.merge.dev/api/hris/v1" for CategoryHRIS (the default, mktg,
// when c is empty): every operation is the same under each. Its error names
// the valid values.
func (r Region) CategoryURL(c Category) (string, error) {
	if r == "" {
		r = RegionUS
	}
	u, ok, err := serverURL(r, c)
	switch {
	case !ok:
		return "", unknownRegion(string(r))
	case err != nil:
		return "", fmt.Errorf("client: unknown category API %s (valid: %s)", shared.Quote(string(c)), shared.JoinValues(CategoryValues()))
	}
	return u, nil
}

// ParseRegion turns "us", "eu", "apac" or "sandbox" (in any case, with
// surrounding space) into a Region. Its error lists the valid values.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if _, ok, _ := serverURL(r, ""); ok {
		return r, nil
	}
	return "", unknownRegion(s)
}

func unknownRegion(s string) error {
	return fmt.Errorf("client: unknown region %s (valid: %s)", shared.Quote(s), shared.JoinValues(RegionValues()))
}
