// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/knowledge/search"
)

// A member that holds nothing searches the network: records held by two
// members count once in the total and the facets, pages are honoured, and
// a member that does not answer is reported.
func TestFederatedSearchLikeLocal(t *testing.T) {
	f, nodes := newFederation(t, 4)
	a, b, c, d := nodes[0], nodes[1], nodes[2], nodes[3]
	if err := a.Node().updateConfig(func(c *Config) { c.Limits.PublishBurst = 1000 }); err != nil {
		t.Fatal(err)
	}
	f.subscribe(b, "elderly-care", a, c, d)
	var cids []string
	for i := 0; i < 5; i++ {
		cc := publish(t, a, fmt.Sprintf("Night-time telecare with village volunteers %d", i), "elderly-care")
		waitHas(t, b, cc, 10*time.Second)
		cids = append(cids, cc.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	res, err := c.Node().Search(ctx, search.Query{Text: "telecare volunteers", Facets: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 || !res.TotalExact || len(res.Hits) != 5 {
		t.Fatalf("total %d (exact %v), %d hits, want 5 once each", res.Total, res.TotalExact, len(res.Hits))
	}
	if got := res.Facets["topic"]; len(got) != 1 || got[0].Value != "elderly-care" || got[0].Count != 5 {
		t.Fatalf("topic facet %+v, want elderly-care 5", got)
	}
	for _, h := range res.Hits {
		if len(h.Source) != 2 {
			t.Fatalf("hit %s from %v, want both holders", h.CID, h.Source)
		}
	}
	if res.Answered != 3 || res.Asked != 3 || res.Coverage != "4 of 4 regions answered" {
		t.Fatalf("answered %d of %d, coverage %q", res.Answered, res.Asked, res.Coverage)
	}

	// Pages of two: three pages, no record twice, the same total.
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		r, err := c.Node().Search(ctx, search.Query{Text: "telecare", Page: page, PageSize: 2}, true)
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if page == 3 {
			want = 1
		}
		if r.Total != 5 || len(r.Hits) != want || r.Page != page || r.PageSize != 2 {
			t.Fatalf("page %d: total %d, %d hits, page %d size %d", page, r.Total, len(r.Hits), r.Page, r.PageSize)
		}
		for _, h := range r.Hits {
			if seen[h.CID] {
				t.Fatalf("page %d repeats %s", page, h.CID)
			}
			seen[h.CID] = true
		}
	}

	// The JSON names are snake_case.
	raw, _ := json.Marshal(res)
	for _, k := range []string{`"cid":`, `"title":`, `"score":`, `"value":`, `"count":`, `"coverage":`} {
		if !strings.Contains(string(raw), k) {
			t.Fatalf("JSON lacks %s: %s", k, raw)
		}
	}

	// Unknown filters are refused; case does not matter for known ones.
	if _, err := c.Node().Search(ctx, search.Query{Text: "telecare", Regions: []string{"Atlantis"}}, true); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("unknown region: %v", err)
	}
	if _, err := c.Node().Search(ctx, search.Query{Text: "telecare", Languages: []string{"xx"}}, true); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("unknown language: %v", err)
	}
	if _, err := c.Node().Search(ctx, search.Query{Text: "telecare", Topics: []string{"no-such-topic"}}, false); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("unknown topic locally: %v", err)
	}
	if r, err := b.Node().Search(ctx, search.Query{Text: "telecare", Topics: []string{"Elderly-Care"}}, false); err != nil || r.Total != 5 {
		t.Fatalf("topic in capitals: %v %+v", err, r)
	}
	if _, err := c.Node().Search(ctx, search.Query{Text: "the of"}, true); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("stop words only: %v", err)
	}

	// A member that stops answering is reported, not silently dropped.
	f.stop(d)
	eventually(t, 10*time.Second, "D gone", func() error {
		for _, p := range c.Node().connectedMembers() {
			if p == d.ID() {
				return errors.New("still connected")
			}
		}
		return nil
	})
	res, err = c.Node().Search(ctx, search.Query{Text: "telecare"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 || res.Coverage != "3 of 4 regions answered" || len(res.Unanswered) != 1 || res.Unanswered[0].Peer != d.ID().String() {
		t.Fatalf("after D stopped: total %d coverage %q unanswered %+v", res.Total, res.Coverage, res.Unanswered)
	}
}
