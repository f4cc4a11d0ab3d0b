// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// publishV2 signs a practice as a record of format 2 (the one that
// carries adapted_from) by n, through the gate, and stores it there; it
// is the author's first record on topic.
func publishV2(t *testing.T, n *Node, in PracticeInput, topic string) *protocol.Signed {
	t.Helper()
	cfg := n.Config()
	in.Region, in.Country, in.Version = cfg.Region, cfg.Country, 1
	if in.Licence == "" {
		in.Licence = protocol.DefaultLicence
	}
	p, _, err := n.gatePractice(&in.Practice, Review{FailClosed: true})
	if err != nil {
		t.Fatal(err)
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	seq, prev, err := n.store.LastOwn()
	if err != nil {
		t.Fatal(err)
	}
	r := protocol.Record{Version: protocol.RecordV2, Federation: n.Federation(), Author: n.id.String(), Seq: seq + 1, Prev: prev,
		Created: time.Now().UnixMilli(), Topics: []string{topic}, Chain: map[string]protocol.ChainLink{topic: {Seq: 1}}}
	rec := testrec.Seal(t, r, p, n.key)
	if err := n.val.CheckSigned("", rec); err != nil {
		t.Fatal(err)
	}
	res, err := n.store.PutOwn(rec)
	if err != nil {
		t.Fatal(err)
	}
	n.afterStore(rec, res, "")
	return rec
}

func TestAdaptationsAndTransfers(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(a, "mobility")
	f.subscribe(b, "mobility", a)
	origin := publish(t, a, "Village bus on demand", "mobility")
	waitHas(t, b, origin, 20*time.Second)

	in := PracticeInput{Practice: protocol.Practice{Title: "Island bus on demand", Summary: "Booked by phone, run by the ferry company.",
		Language: "en", AdaptedFrom: []protocol.Adaptation{{Practice: origin.String(), Changes: "Booked by phone instead of an app."}}}}
	adapted := publishV2(t, b.Node(), in, "mobility")
	// A reaches it as any member's record: by validation, then its store.
	if _, added, err := a.Node().accept("", adapted.Raw, b.ID()); err != nil || !added {
		t.Fatalf("A accepts the adapting practice: added %v, %v", added, err)
	}

	ad, err := a.Node().Adaptations(origin)
	if err != nil {
		t.Fatal(err)
	}
	if len(ad.AdaptedFrom) != 0 || len(ad.AdaptedBy) != 1 || ad.AdaptedBy[0].Practice.CID != adapted.CID.String() ||
		ad.AdaptedBy[0].Practice.Region != "Region B" || ad.AdaptedBy[0].Changes != "Booked by phone instead of an app." {
		t.Fatalf("adaptations of the origin: %+v", ad)
	}
	ad, err = a.Node().Adaptations(adapted.CID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ad.AdaptedFrom) != 1 || ad.AdaptedFrom[0].Practice.CID != origin.String() || !ad.AdaptedFrom[0].Practice.Held ||
		ad.AdaptedFrom[0].Practice.Region != "Region A" || len(ad.AdaptedBy) != 0 {
		t.Fatalf("adaptations of the adapting practice: %+v", ad)
	}

	tm, err := a.Node().Transfers()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Transfers) != 1 || tm.Transfers[0].From.CID != origin.String() || tm.Transfers[0].To.CID != adapted.CID.String() {
		t.Fatalf("transfers: %+v", tm.Transfers)
	}
	if len(tm.Routes) != 1 || tm.Routes[0] != (TransferRoute{FromRegion: "Region A", FromCountry: "FI", ToRegion: "Region B", ToCountry: "SE", Practices: 1}) {
		t.Fatalf("routes: %+v", tm.Routes)
	}

	// Search finds the adapted practice, and only it, with the filter.
	eventually(t, 20*time.Second, "the index holds both practices", func() error {
		res, err := a.Node().Search(context.Background(), search.Query{Topics: []string{"mobility"}}, false)
		if err != nil {
			return err
		}
		if res.Total != 2 {
			return fmt.Errorf("%d indexed", res.Total)
		}
		return nil
	})
	res, err := a.Node().Search(context.Background(), search.Query{Adapted: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].CID != adapted.CID.String() {
		t.Fatalf("adapted practices: %+v", res)
	}

	// The catalogue names the practice it adapts as its source.
	cat, err := a.Node().Catalog(CatalogQuery{Base: "https://data.region.example"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range cat["dcat:dataset"].([]any) {
		m := d.(map[string]any)
		if src, ok := m["dct:source"]; ok {
			found = src.([]any)[0].(map[string]any)["@id"] == "https://data.region.example/practices/"+origin.String()
		}
	}
	if !found {
		t.Fatal("no dataset names the adapted practice as its source")
	}
	if _, err := a.Node().Adaptations(cid.Undef); err == nil {
		t.Fatal("adaptations of no practice")
	}
}
