package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/openapi"
)

// TestRegionsAreTheSpecServers: one region per server of the spec, in order,
// with the same URL; a server added to the spec without a region fails here.
func TestRegionsAreTheSpecServers(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	regions := client.Regions()
	require.Len(t, regions, len(doc.Servers))
	for i, r := range regions {
		assert.Equal(t, doc.Servers[i].URL, r.BaseURL(), r)
	}
	cases := []struct {
		region client.Region
		url    string
	}{
		{client.RegionUS, "https://api.merge.dev/api/mktg/v1"},
		{client.RegionEU, "https://api-eu.merge.dev/api/mktg/v1"},
		{client.RegionAPAC, "https://api-ap.merge.dev/api/mktg/v1"},
		{"", "https://api.merge.dev/api/mktg/v1"},
		{"mars", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.url, tc.region.BaseURL(), "region %q", tc.region)
	}
}

func TestParseRegion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want client.Region
		ok   bool
	}{
		{"us", client.RegionUS, true},
		{"EU", client.RegionEU, true},
		{" Apac\n", client.RegionAPAC, true},
		{"", "", false},
		{"ap", "", false},
		{"us-east-1", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := client.ParseRegion(tc.in)
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "valid: us, eu, apac")
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999", 0, false},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 11:00:00 GMT", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := client.ParseRetryAfter(tc.in, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	huge, ok := client.ParseRetryAfter("9223372036", now)
	assert.True(t, ok)
	assert.Greater(t, huge, client.MaxRetryAfter, "a huge value stays above the cap instead of overflowing")
}
