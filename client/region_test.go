package client_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/client"
	"github.com/mergelink/linktoken/openapi"
)

// TestRegionsAreTheSpecServers: one region per server of the spec, in order,
// with the same URL for every category API; a server added to the spec
// without a region fails here.
func TestRegionsAreTheSpecServers(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Load()
	require.NoError(t, err)
	regions := client.RegionValues()
	require.Len(t, regions, len(doc.Servers))
	for i, r := range regions {
		server := doc.Servers[i]
		category := server.Variables["category"]
		require.NotNil(t, category, server.URL)
		assert.Equal(t, strings.ReplaceAll(server.URL, "{category}", category.Default), r.BaseURL(), r)
		for _, c := range category.Enum {
			got, err := r.CategoryURL(client.Category(c))
			require.NoError(t, err)
			assert.Equal(t, strings.ReplaceAll(server.URL, "{category}", c), got, "%s %s", r, c)
		}
	}
	cases := []struct {
		region client.Region
		url    string
	}{
		{client.RegionUS, "https://api.merge.dev/api/mktg/v1"},
		{client.RegionEU, "https://api-eu.merge.dev/api/mktg/v1"},
		{client.RegionAPAC, "https://api-ap.merge.dev/api/mktg/v1"},
		{client.RegionSandbox, "https://api-sandbox.merge.dev/api/mktg/v1"},
		{"", "https://api.merge.dev/api/mktg/v1"},
		{"mars", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.url, tc.region.BaseURL(), "region %q", tc.region)
	}
	_, err = client.RegionEU.CategoryURL("payroll")
	assert.ErrorContains(t, err, `unknown category API "payroll" (valid: accounting, ats, crm, filestorage, hris, knowledgebase, mktg, ticketing)`)
	_, err = client.Region("mars").CategoryURL(client.CategoryHRIS)
	assert.ErrorContains(t, err, `unknown region "mars"`)
}

// TestWithCategoryAPI: the client calls the chosen category's API of the
// chosen region, and refuses an unknown one.
func TestWithCategoryAPI(t *testing.T) {
	t.Parallel()
	c, err := client.New("k", client.WithRegion(client.RegionEU), client.WithCategoryAPI(client.CategoryHRIS))
	require.NoError(t, err)
	assert.Equal(t, "https://api-eu.merge.dev/api/hris/v1", c.BaseURL())
	c, err = client.New("k", client.WithRegion(client.RegionSandbox))
	require.NoError(t, err)
	assert.Equal(t, "https://api-sandbox.merge.dev/api/mktg/v1", c.BaseURL())
	_, err = client.New("k", client.WithCategoryAPI("payroll"))
	assert.ErrorContains(t, err, `WithCategoryAPI: unknown category "payroll"`)
	c, err = client.New("k", client.WithCategoryAPI(client.CategoryATS), client.WithBaseURL("http://127.0.0.1:9"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9", c.BaseURL(), "WithBaseURL wins")
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
		{"SANDBOX", client.RegionSandbox, true},
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
			assert.Contains(t, err.Error(), "valid: us, eu, apac, sandbox")
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
		{"+5", 0, false},
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", time.Duration(math.MaxInt64), true},
		{"9223372036854775807", time.Duration(math.MaxInt64), true},
		{"99999999999999999999", time.Duration(math.MaxInt64), true},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 11:00:00 GMT", 0, true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", time.Duration(math.MaxInt64), true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := client.ParseRetryAfter(tc.in, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
