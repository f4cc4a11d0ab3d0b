// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"testing"

	"github.com/livinglab/livinglab/protocol"
)

// The demo's data files load, the founder first, and every sample practice
// is one the network accepts.
func TestDemoData(t *testing.T) {
	regions, err := loadDemoRegions()
	if err != nil {
		t.Fatal(err)
	}
	if len(regions) < 2 || !regions[0].Founder {
		t.Fatalf("%d regions, first founder %v", len(regions), len(regions) > 0 && regions[0].Founder)
	}
	for _, r := range regions[1:] {
		if r.Founder {
			t.Errorf("%s: a second founder", r.Name)
		}
	}
	translated := map[string]bool{}
	for _, r := range regions {
		for _, p := range r.Practices {
			for lang := range p.Translations {
				translated[lang] = true
			}
		}
		if r.Slug == "" || r.Name == "" || len(r.Country) != 2 || len(r.Practices) == 0 || r.Lab.Initiative == nil {
			t.Errorf("region %+v incomplete", r.Name)
		}
		for _, p := range r.Practices {
			p.Region, p.Country, p.Version = r.Name, r.Country, 1 // as publishing sets them
			if err := p.Practice.Validate(); err != nil {
				t.Errorf("%s: %q: %v", r.Name, p.Title, err)
			}
			for _, tp := range p.Topics {
				if err := protocol.ValidTopic(tp); err != nil {
					t.Errorf("%s: %q: %v", r.Name, p.Title, err)
				}
			}
		}
	}
	// Readers in several languages find translations, not only in English.
	for _, lang := range []string{"en", "sv", "fi", "ga"} {
		if !translated[lang] {
			t.Errorf("no sample practice is translated into %s", lang)
		}
	}
}

// With --port-base every region has fixed, distinct addresses.
func TestDemoAddrs(t *testing.T) {
	if a, l := demoAddrs(0, 2); a != "127.0.0.1:0" || l != "/ip4/127.0.0.1/tcp/0" {
		t.Errorf("without a base: %s %s", a, l)
	}
	seen := map[string]bool{}
	for i := range 4 {
		a, l := demoAddrs(7100, i)
		if seen[a] || seen[l] {
			t.Errorf("region %d reuses %s or %s", i, a, l)
		}
		seen[a], seen[l] = true, true
	}
	if a, l := demoAddrs(7100, 1); a != "127.0.0.1:7101" || l != "/ip4/127.0.0.1/tcp/7151" {
		t.Errorf("region 1: %s %s", a, l)
	}
}
