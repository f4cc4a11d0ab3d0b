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
	for _, r := range regions {
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
}
