// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/knowledge/search/relevance"
	"github.com/livinglab/livinglab/protocol"
)

// TestNetworkRelevance measures network-wide search as a region uses it:
// two members publish the relevance set's practices through the one-step
// route (the gate redacting what it is unsure of), and a third member that
// holds nothing searches the network. nDCG@10 over all the graded queries
// must stay at or above 0.80, and above 0.5 on the cross-language ones,
// as on one node's own index.
func TestNetworkRelevance(t *testing.T) {
	practices, queries, err := relevance.Load(filepath.Join("..", relevance.Dir))
	if err != nil {
		t.Fatal(err)
	}
	_, nodes := newFederation(t, 3)
	holders, searcher := nodes[:2], nodes[2]
	for _, h := range holders {
		if err := h.Node().updateConfig(func(c *Config) { c.Limits.PublishBurst = 1000 }); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	ids := map[string]string{} // record CID -> practice ID
	for i, p := range practices {
		in := PracticeInput{Practice: protocol.Practice{Title: p.Title, Summary: p.Summary, Approach: p.Body,
			Language: p.Language}, Topics: p.Topics}
		for code, tr := range p.Translations {
			if in.Translations == nil {
				in.Translations = map[string]protocol.Translation{}
			}
			in.Translations[code] = protocol.Translation{Title: tr.Title, Summary: tr.Summary}
		}
		out, err := holders[i%2].Node().PublishPractice(ctx, in, Review{FailClosed: true}, false)
		if err != nil {
			t.Fatalf("publish %s: %v", p.ID, err)
		}
		ids[out.Record.CID.String()] = p.ID
	}

	var all, cross relevance.Metrics
	// Members answer a peer's searches at searchPerPeerRPS a second.
	pace := time.NewTicker(time.Second / (searchPerPeerRPS - 1))
	defer pace.Stop()
	for _, q := range queries {
		<-pace.C
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := searcher.Node().Search(qctx, search.Query{Text: q.Text, PageSize: relevance.Cutoff}, true)
		cancel()
		if err != nil {
			t.Fatalf("%s %q: %v", q.ID, q.Text, err)
		}
		if res.Answered != res.Asked || res.Asked != 2 {
			t.Fatalf("%s %q: %d of %d members answered (%v)", q.ID, q.Text, res.Answered, res.Asked, res.Unanswered)
		}
		var ranked []string
		for _, h := range res.Hits {
			ranked = append(ranked, ids[h.CID])
		}
		all.Add(q, ranked)
		if q.Kind == "cross" {
			cross.Add(q, ranked)
		}
	}
	nd, rc, mrr := all.Mean()
	cnd, crc, cmrr := cross.Mean()
	t.Logf("network search from a member that holds nothing, %d practices on two members: "+
		"all %d queries nDCG@10 %.3f recall@10 %.3f MRR %.3f; cross-language %d: %.3f %.3f %.3f",
		len(practices), all.N(), nd, rc, mrr, cross.N(), cnd, crc, cmrr)
	if nd < 0.80 || cnd < 0.5 {
		t.Fatalf("nDCG@10 %.3f (cross-language %.3f), want at least 0.80 (0.5)", nd, cnd)
	}
}
