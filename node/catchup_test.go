// SPDX-License-Identifier: EUPL-1.2

// Long file: the catch-up scenarios (offline, partition heal, tombstones, late joiners, versions, gap
// fetch) share its mocknet helpers; each test reads best beside them.

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	dto "github.com/prometheus/client_model/go"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

const catchupTopic = "elderly-care"

// heldTopicCIDs returns the CIDs tn holds in topic, in the store's (time, CID)
// order.
func heldTopicCIDs(t testing.TB, tn *testNode, topic string) []string {
	t.Helper()
	var out []string
	err := tn.Node().store.TopicItems(topic, func(ti knowledge.TopicItem) error {
		out = append(out, ti.CID.String())
		return nil
	})
	if err != nil {
		t.Fatalf("%s: topic items of %s: %v", tn.name, topic, err)
	}
	return out
}

// countMissing counts the records of cids that tn does not hold.
func countMissing(tn *testNode, cids []cid.Cid) int {
	k := 0
	for _, c := range cids {
		if !tn.Node().store.Has(c) {
			k++
		}
	}
	return k
}

// halfHolds waits until every node of one half of a partition holds the
// records of cids, its half's records or probes (what).
func halfHolds(t testing.TB, what string, half []*testNode, cids []cid.Cid) {
	t.Helper()
	for _, tn := range half {
		eventually(t, 20*time.Second, tn.name+" holds its half's "+what, func() error {
			if k := countMissing(tn, cids); k > 0 {
				return fmt.Errorf("%d of %d missing", k, len(cids))
			}
			return nil
		})
	}
}

// waitHoldsAll waits until tn holds every record of cids and returns how long
// that took. It polls every 100 ms so as not to compete with the node.
func waitHoldsAll(t testing.TB, tn *testNode, cids []cid.Cid, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		k := countMissing(tn, cids)
		if k == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s holds %d of %d records after %s", tn.name, len(cids)-k, len(cids), timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publishMany publishes n practices on each of nodes, on topic, the nodes
// side by side, and returns the CIDs in publishing order per node.
func publishMany(t testing.TB, topic string, n int, nodes ...*testNode) []cid.Cid {
	t.Helper()
	out := make([][]cid.Cid, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, tn := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				in := PracticeInput{Practice: protocol.Practice{Title: fmt.Sprintf("Practice %d from %s", k, tn.name),
					Summary:  "Volunteers and nurses co-designed the service with residents.",
					Approach: "Weekly co-design workshops in the village hall.", Language: "en"}, Topics: []string{topic}}
				p, err := tn.Node().PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
				if err != nil {
					errs[i] = fmt.Errorf("%s publishes record %d: %w", tn.name, k, err)
					return
				}
				out[i] = append(out[i], p.Record.CID)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return slices.Concat(out...)
}

// listedCIDSet returns the CIDs Store().List returns with default options.
func listedCIDSet(t testing.TB, tn *testNode) map[string]bool {
	t.Helper()
	recs, err := tn.Node().store.List(knowledge.ListOptions{})
	if err != nil {
		t.Fatalf("%s: list: %v", tn.name, err)
	}
	out := map[string]bool{}
	for _, r := range recs {
		out[r.CID.String()] = true
	}
	return out
}

// searchCIDs returns the CIDs tn's own index finds for text.
func searchCIDs(t testing.TB, tn *testNode, text string) ([]string, error) {
	t.Helper()
	res, err := tn.Node().Search(context.Background(), search.Query{Text: text, PageSize: 100}, false)
	if err != nil {
		return nil, err
	}
	return testkit.Map(res.Hits, func(h SearchHit) string { return h.CID }), nil
}

// searchSettles polls tn's index for text until check accepts the hits
// or timeout passes; the index follows the store a moment later.
func searchSettles(t testing.TB, tn *testNode, text string, timeout time.Duration, check func(hits []string) error) error {
	t.Helper()
	start := time.Now()
	for {
		hits, err := searchCIDs(t, tn, text)
		if err == nil {
			err = check(hits)
		}
		if err == nil || time.Since(start) > timeout {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// searchFinds is searchSettles until tn's index finds every record of find
// and none of drop for text.
func searchFinds(t testing.TB, tn *testNode, text string, timeout time.Duration, find, drop []cid.Cid) error {
	t.Helper()
	return searchSettles(t, tn, text, timeout, func(hits []string) error {
		for _, c := range drop {
			if slices.Contains(hits, c.String()) {
				return fmt.Errorf("it still finds %s", c)
			}
		}
		for _, c := range find {
			if !slices.Contains(hits, c.String()) {
				return fmt.Errorf("it does not find %s (hits %v)", c, hits)
			}
		}
		return nil
	})
}

func cidStrings(cs []cid.Cid) []string {
	return testkit.Map(cs, cid.Cid.String)
}

// A node offline while two members publish 500 records receives every one
// of them soon after it comes back.
func TestCatchUpOffline500(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	f.subscribe(b, catchupTopic, a, c)
	f.stop(b)

	// Nobody else follows the topic: A and C each keep their own records,
	// so B has to gather them from both.
	start := time.Now()
	cids := publishMany(t, catchupTopic, 250, a, c)
	t.Logf("A and C published %d records in %s", len(cids), time.Since(start).Round(time.Millisecond))

	back := time.Now()
	f.start(b)
	waitHoldsAll(t, b, cids, 60*time.Second)
	took := time.Since(back)
	t.Logf("B caught up on %d records %s after it came back (%s per record)", len(cids),
		took.Round(time.Millisecond), (took / time.Duration(len(cids))).Round(time.Microsecond))

	// B holds exactly the union of what A and C hold in the topic.
	want := slices.Concat(heldTopicCIDs(t, a, catchupTopic), heldTopicCIDs(t, c, catchupTopic))
	slices.Sort(want)
	got := heldTopicCIDs(t, b, catchupTopic)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("B holds %d records of %s, A and C together %d", len(got), catchupTopic, len(want))
	}
	if len(got) != len(cids) {
		t.Fatalf("B holds %d records of %s, want %d", len(got), catchupTopic, len(cids))
	}
	// What arrived is searchable on B.
	last := cids[len(cids)-1]
	if err := searchFinds(t, b, "\"Practice 249 from C\"", 5*time.Second, []cid.Cid{last}, nil); err != nil {
		t.Fatalf("B's index does not find the last record caught up on: %v", err)
	}
	// Every one of them: a burst is indexed in batches split over
	// several bleve batches at once.
	if err := b.Node().FlushIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range cids {
		if ok, err := b.Node().searchIndex().Has(c.String()); err != nil || !ok {
			t.Fatalf("B's index lacks %s (%v)", c, err)
		}
	}
	if n, err := b.Node().searchIndex().Count(); err != nil || n != uint64(len(cids)) {
		t.Fatalf("B's index holds %d documents (%v), want %d", n, err, len(cids))
	}
	for _, tn := range []*testNode{a, c} {
		res, err := b.Node().SyncTopic(context.Background(), tn.ID(), catchupTopic)
		if err != nil || !res.InSync || res.Got != 0 {
			t.Fatalf("B syncs with %s after the catch-up: %+v, %v", tn.name, res, err)
		}
	}
}

// Six members split into two halves that cannot reach each other; both
// halves publish and one retracts a record everybody held. Once the links
// are back every node holds the same set in every topic.
func TestPartitionHealConverges(t *testing.T) {
	f, nodes := newFederation(t, 6)
	topics := []string{catchupTopic, "transport"}
	for i, tn := range nodes {
		others := slices.Delete(slices.Clone(nodes), i, i+1)
		for _, tp := range topics {
			f.subscribe(tn, tp, others...)
		}
	}
	left, right := nodes[:3], nodes[3:]
	shared := publish(t, right[0], "Held by all before the split", catchupTopic)
	for _, tn := range nodes {
		waitHas(t, tn, shared, 10*time.Second)
	}

	// Cut every link between the halves: the connectors' redials fail.
	for _, l := range left {
		for _, r := range right {
			if err := f.mn.UnlinkPeers(l.ID(), r.ID()); err != nil {
				t.Fatal(err)
			}
			f.mn.DisconnectPeers(l.ID(), r.ID())
			f.mn.DisconnectPeers(r.ID(), l.ID())
		}
	}
	var leftRecs, rightRecs []cid.Cid
	// Prove the split with a probe from every node on every topic. A mock
	// connection being closed still accepts new streams for a moment, and
	// gossipsub reopens its stream at once, so a stream can outlive the
	// cut; if a probe crosses, the right half restarts on links of its own.
	if leaked := partitionLeaks(t, f, left, right, topics, &leftRecs, &rightRecs); leaked != "" {
		t.Logf("a probe crossed the cut (%s); restarting the right half on its own links", leaked)
		for _, r := range right {
			f.stop(r)
		}
		for i, r := range right {
			f.startLinkedTo(r, right[:i]...)
		}
		f.waitMesh(right...)
		for i, r := range right {
			others := slices.Delete(slices.Clone(right), i, i+1)
			for _, tp := range topics {
				f.subscribe(r, tp, others...)
			}
		}
		if leaked := partitionLeaks(t, f, left, right, topics, &leftRecs, &rightRecs); leaked != "" {
			t.Fatalf("the halves are still connected: %s", leaked)
		}
	}

	var leftMain, rightMain []cid.Cid
	for i := range 10 {
		for j, tn := range left {
			leftMain = append(leftMain, publish(t, tn, fmt.Sprintf("Left %s %d", tn.name, i), topics[(i+j)%2]))
		}
		for j, tn := range right {
			rightMain = append(rightMain, publish(t, tn, fmt.Sprintf("Right %s %d", tn.name, i), topics[(i+j)%2]))
		}
	}
	leftRecs = append(leftRecs, leftMain...)
	rightRecs = append(rightRecs, rightMain...)
	tomb, err := right[0].Node().Retract(context.Background(), shared, "withdrawn during the split")
	if err != nil {
		t.Fatal(err)
	}
	// Each half converges on its own records.
	halfHolds(t, "records", left, leftRecs)
	halfHolds(t, "records", right, rightRecs)
	eventually(t, 10*time.Second, "the right half applies the retraction", func() error {
		for _, tn := range right {
			if tn.Node().store.Has(shared) {
				return fmt.Errorf("%s still holds it", tn.name)
			}
		}
		return nil
	})
	// The split is real: nothing crossed it.
	for _, l := range left {
		if k := countMissing(l, rightMain); k != len(rightMain) {
			t.Fatalf("%s received %d records across the split", l.name, len(rightMain)-k)
		}
		if !l.Node().store.Has(shared) {
			t.Fatalf("the retraction crossed the split to %s", l.name)
		}
	}
	for _, r := range right {
		if k := countMissing(r, leftMain); k != len(leftMain) {
			t.Fatalf("%s received %d records across the split", r.name, len(leftMain)-k)
		}
	}

	healed := time.Now()
	for _, l := range left {
		for _, r := range right {
			if _, err := f.mn.LinkPeers(l.ID(), r.ID()); err != nil {
				t.Fatal(err)
			}
			if _, err := f.mn.ConnectPeers(l.ID(), r.ID()); err != nil {
				t.Fatalf("connect %s-%s: %v", l.name, r.name, err)
			}
		}
	}
	all := append(slices.Clone(leftRecs), rightRecs...)
	dt := eventually(t, 60*time.Second, "every node converges", func() error {
		for _, tn := range nodes {
			if k := countMissing(tn, all); k > 0 {
				return fmt.Errorf("%s misses %d of %d records", tn.name, k, len(all))
			}
			if tn.Node().store.Has(shared) {
				return fmt.Errorf("%s still holds the retracted record", tn.name)
			}
		}
		for _, tp := range append(slices.Clone(topics), protocol.ControlTopic) {
			ref := heldTopicCIDs(t, nodes[0], tp)
			for _, tn := range nodes[1:] {
				if got := heldTopicCIDs(t, tn, tp); !slices.Equal(got, ref) {
					return fmt.Errorf("%s: %s holds %d records, %s holds %d", tp, tn.name, len(got), nodes[0].name, len(ref))
				}
			}
		}
		return nil
	})
	t.Logf("6 nodes converged on %d records and a retraction %s after the links came back (%s since the heal began)",
		len(all), dt.Round(time.Millisecond), time.Since(healed).Round(time.Millisecond))
	for _, tn := range nodes {
		tb, err := tn.Node().store.Tomb(shared)
		if err != nil || tb.Retraction != tomb.CID.String() {
			t.Fatalf("%s: tombstone %+v, %v", tn.name, tb, err)
		}
	}
	perTopic := map[string]int{}
	for _, c := range all {
		rec, err := nodes[0].Node().store.Get(c)
		if err != nil {
			t.Fatal(err)
		}
		perTopic[rec.Record.Topics[0]]++
	}
	for _, tp := range topics {
		if n, _ := nodes[0].Node().store.CountTopic(tp); n != perTopic[tp] {
			t.Fatalf("%s: %d records, want %d", tp, n, perTopic[tp])
		}
	}
}

// A record retracted while a member is offline is gone there when it
// returns: content, listings and its search index.
func TestTombstoneWhileOffline(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, catchupTopic, a)
	doomed := publish(t, a, "Village zorbulant tide-pool volunteer rota", catchupTopic)
	kept := publish(t, a, "Village zorbulant harbour walking group", catchupTopic)
	waitHas(t, b, doomed, 5*time.Second)
	waitHas(t, b, kept, 5*time.Second)
	eventually(t, 5*time.Second, "B's index finds both", func() error {
		hits, err := searchCIDs(t, b, "zorbulant")
		if err != nil {
			return err
		}
		if !slices.Contains(hits, doomed.String()) || !slices.Contains(hits, kept.String()) {
			return fmt.Errorf("hits %v", hits)
		}
		return nil
	})

	f.stop(b)
	tomb, err := a.Node().Retract(context.Background(), doomed, "withdrawn by the region")
	if err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	f.start(b)
	eventually(t, 20*time.Second, "B applies the retraction", func() error {
		if b.Node().store.Has(doomed) {
			return errors.New("content still held")
		}
		tb, err := b.Node().store.Tomb(doomed)
		if err != nil {
			return fmt.Errorf("no tombstone: %w", err)
		}
		if tb.By != a.ID().String() || tb.Retraction != tomb.CID.String() || tb.Reason != "withdrawn by the region" {
			return fmt.Errorf("tombstone %+v", tb)
		}
		return nil
	})
	t.Logf("B applied the retraction %s after it came back", time.Since(back).Round(time.Millisecond))

	check := func(when string) {
		t.Helper()
		n := b.Node()
		if _, err := n.store.Get(doomed); !errors.Is(err, knowledge.ErrNotFound) {
			t.Fatalf("%s: Get of the retracted record: %v", when, err)
		}
		for _, o := range []knowledge.ListOptions{{}, {Kind: protocol.KindPractice}, {Topic: catchupTopic}, {IncludeOld: true}} {
			recs, err := n.store.List(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.CID.Equals(doomed) {
					t.Fatalf("%s: the retracted record is listed with %+v", when, o)
				}
			}
		}
		if slices.Contains(heldTopicCIDs(t, b, catchupTopic), doomed.String()) {
			t.Fatalf("%s: the retracted record is in the topic set", when)
		}
		if err := searchFinds(t, b, "zorbulant", 5*time.Second, []cid.Cid{kept}, []cid.Cid{doomed}); err != nil {
			t.Fatalf("%s: search, for the kept record and not the retracted one: %v", when, err)
		}
		if !n.store.Has(kept) {
			t.Fatalf("%s: B lost the record that was kept", when)
		}
	}
	check("after the catch-up")
	// The same holds once the node reopens its store and index.
	f.restart(b)
	check("after a restart")
}

// A record retracted by its author and offered again by a member, by sync
// push or by gossip, is refused and counted.
func TestRetractedRecordReoffered(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	// B must get the record by sync only, so that its gossip layer has
	// never seen the message and cannot drop the copy offered later as a
	// duplicate without checking it: B subscribes once the message has left
	// A's gossip history (5 heartbeats of 1 s), so no IHAVE announces it.
	x := publish(t, a, "Retracted later", catchupTopic)
	published := time.Now()
	h, _ := rawMember(t, f, a, b)
	time.Sleep(6*time.Second - time.Since(published))
	f.subscribe(b, catchupTopic, a)
	waitHas(t, b, x, 10*time.Second)
	rec, err := b.Node().store.Get(x)
	if err != nil {
		t.Fatal(err)
	}
	raw := rec.Raw
	if _, err := a.Node().Retract(context.Background(), x, "published by mistake"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "B applies the retraction", func() error {
		if b.Node().store.Has(x) {
			return errors.New("still held")
		}
		_, err := b.Node().store.Tomb(x)
		return err
	})

	t.Run("sync push", func(t *testing.T) {
		before := rejected(t, b, "retracted")
		resp := syncRequest(t, h, b.ID(), &SyncMsg{Op: "push", Topic: catchupTopic, Records: [][]byte{raw}})
		if resp.Status != protocol.StatusOK || resp.Op != "ack" {
			t.Fatalf("B answered %+v, want an ack", resp)
		}
		if after := rejected(t, b, "retracted"); after <= before {
			t.Fatalf("refusals for retracted records: %v, was %v", after, before)
		}
		if b.Node().store.Has(x) {
			t.Fatalf("B stored the retracted record again")
		}
	})

	t.Run("gossip", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tp, _ := joinTopic(t, gossipFor(t, h), catchupTopic)
		if err := h.Connect(ctx, peer.AddrInfo{ID: b.ID()}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the test member sees B on the topic", func() error {
			if !slices.Contains(tp.ListPeers(), b.ID()) {
				return errors.New("not yet")
			}
			return nil
		})
		before := rejected(t, b, "retracted")
		if err := tp.Publish(ctx, raw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "B refuses the gossiped copy", func() error {
			if rejected(t, b, "retracted") <= before {
				return errors.New("no refusal counted")
			}
			return nil
		})
		time.Sleep(500 * time.Millisecond)
		if b.Node().store.Has(x) || a.Node().store.Has(x) {
			t.Fatalf("the retracted record came back by gossip")
		}
	})
}

// A member admitted after 1,000 records were published gets all of them
// once it subscribes.
func TestLateJoinerCatchUp(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	start := time.Now()
	cids := publishMany(t, catchupTopic, 500, a, b)
	t.Logf("A and B published %d records in %s", len(cids), time.Since(start).Round(time.Millisecond))

	c := f.addNode("C", false)
	f.admit(a, c)
	joined := time.Now()
	if err := c.Node().Subscribe(context.Background(), catchupTopic); err != nil {
		t.Fatal(err)
	}
	waitHoldsAll(t, c, cids, 90*time.Second)
	took := time.Since(joined)
	t.Logf("C got %d records %s after subscribing (%s per record)", len(cids), took.Round(time.Millisecond),
		(took / time.Duration(len(cids))).Round(time.Microsecond))
	// C meets A and B at the same moment; its sessions for the topic run
	// one after the other, so it does not fetch every record from both
	// (A and B also push to C in sessions they start, which this does not
	// count: the bound catches records fetched again and again).
	raw, in := 0, 0
	for _, x := range cids {
		rec, err := c.Node().store.Get(x)
		if err != nil {
			t.Fatal(err)
		}
		raw += len(rec.Raw)
	}
	var m dto.Metric
	if err := c.Node().stats.syncBytes.WithLabelValues("in").Write(&m); err != nil {
		t.Fatal(err)
	}
	in = int(m.GetCounter().GetValue())
	t.Logf("C's sync sessions read %d bytes for %d bytes of records", in, raw)
	if in > raw*3/2 {
		t.Errorf("C's sync sessions read %d bytes for %d bytes of records (%.2fx): records fetched more than once", in, raw, float64(in)/float64(raw))
	}
	want := slices.Concat(heldTopicCIDs(t, a, catchupTopic), heldTopicCIDs(t, b, catchupTopic))
	slices.Sort(want)
	got := heldTopicCIDs(t, c, catchupTopic)
	slices.Sort(got)
	if !slices.Equal(got, want) || len(got) != len(cids) {
		t.Fatalf("C holds %d records of %s, A and B together %d, published %d", len(got), catchupTopic, len(want), len(cids))
	}
	f.waitMesh(a, b, c)
}

// Versions: a second version replaces the first in listings and keeps
// both in the history; nobody but the author region can add a version,
// neither through the node's own path nor with a forged record arriving
// by sync; retracting the latest version makes the previous one latest.
func TestVersionsSupersedeAndRetract(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	f.subscribe(b, catchupTopic, a, c)
	f.subscribe(c, catchupTopic, a, b)
	ctx := context.Background()

	v1 := publish(t, a, "Village quillwort telecare pilot", catchupTopic)
	in := PracticeInput{Practice: protocol.Practice{Title: "Village quillwort telecare service",
		Summary: "The pilot became a permanent service run with the volunteers.", Language: "en",
		Supersedes: v1.String()}, Topics: []string{catchupTopic}}
	out, err := a.Node().PublishPractice(ctx, in, Review{FailClosed: true}, false)
	if err != nil {
		t.Fatalf("publish version 2: %v", err)
	}
	v2 := out.Record.CID
	p2 := out.Practice
	if p2.Version != 2 || p2.PracticeID != v1.String() || p2.Supersedes != v1.String() {
		t.Fatalf("version 2 carries version %d, practice_id %q, supersedes %q", p2.Version, p2.PracticeID, p2.Supersedes)
	}
	for _, tn := range []*testNode{b, c} {
		waitHas(t, tn, v1, 5*time.Second)
		waitHas(t, tn, v2, 5*time.Second)
	}

	latestIs := func(tn *testNode, latest, old cid.Cid, versions ...cid.Cid) error {
		ls := listedCIDSet(t, tn)
		if !ls[latest.String()] {
			return fmt.Errorf("%s does not list %s", tn.name, latest)
		}
		if old.Defined() && ls[old.String()] {
			return fmt.Errorf("%s lists the superseded %s", tn.name, old)
		}
		vs, err := tn.Node().store.Versions(v1.String())
		if err != nil {
			return err
		}
		if !slices.Equal(cidStrings(vs), cidStrings(versions)) {
			return fmt.Errorf("%s: versions %v, want %v", tn.name, vs, versions)
		}
		return nil
	}
	for _, tn := range nodes {
		eventually(t, 5*time.Second, tn.name+" shows version 2 as the latest", func() error {
			return latestIs(tn, v2, v1, v1, v2)
		})
		rec, err := tn.Node().store.Get(v1)
		if err != nil {
			t.Fatalf("%s lost version 1: %v", tn.name, err)
		}
		if v, _ := tn.Node().ViewPractice(rec); v == nil || v.SupersededBy != v2.String() {
			t.Fatalf("%s: version 1 is not shown as superseded by %s: %+v", tn.name, v2, v)
		}
	}
	if err := searchSettles(t, b, "quillwort", 5*time.Second, func(hits []string) error {
		if !slices.Equal(hits, []string{v2.String()}) {
			return fmt.Errorf("hits %v, want only version 2 %s", hits, v2)
		}
		return nil
	}); err != nil {
		t.Fatalf("B's index: %v", err)
	}

	t.Run("another region publishes a version", func(t *testing.T) {
		seq, _, _ := c.Node().store.LastOwn()
		for _, target := range []cid.Cid{v1, v2} {
			in := PracticeInput{Practice: protocol.Practice{Title: "Taken over", Summary: "Another region's edit.",
				Language: "en", Supersedes: target.String()}, Topics: []string{catchupTopic}}
			_, err := c.Node().PublishPractice(ctx, in, Review{FailClosed: true}, false)
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("C superseding %s: %v, want an error wrapping ErrForbidden", target, err)
			}
		}
		if s, _, _ := c.Node().store.LastOwn(); s != seq {
			t.Fatalf("C signed a record (sequence %d, was %d)", s, seq)
		}
	})

	t.Run("forged version by sync", func(t *testing.T) {
		// C signs versions of A's practice itself and serves them by sync,
		// as a member running modified software would.
		seq, prev, _ := c.Node().store.LastOwn()
		forged := []*protocol.Signed{
			sealPractice(t, c.Node().key, seq+1, prev, protocol.Practice{Version: 3, PracticeID: v1.String(),
				Supersedes: v2.String(), Title: "Hijacked telecare", Summary: "Not by the author.", Language: "en"}, catchupTopic),
		}
		forged = append(forged, sealPractice(t, c.Node().key, seq+2, forged[0].CID.String(), protocol.Practice{Version: 2,
			PracticeID: v1.String(), Supersedes: v1.String(), Title: "Hijacked pilot", Summary: "Not by the author.", Language: "en"}, catchupTopic))
		for _, fr := range forged {
			res, err := c.Node().store.Put(fr)
			if err != nil {
				t.Fatal(err)
			}
			c.Node().afterStore(fr, res, "")
		}
		for _, tn := range []*testNode{a, b} {
			before := rejected(t, tn, "not_authorised")
			res, err := tn.Node().SyncTopic(ctx, c.ID(), catchupTopic)
			if err != nil {
				t.Fatalf("%s syncs with C: %v", tn.name, err)
			}
			if res.Got != 0 {
				t.Fatalf("%s took %d records from C: %+v", tn.name, res.Got, res)
			}
			if after := rejected(t, tn, "not_authorised"); after < before+float64(len(forged)) {
				t.Fatalf("%s counted %v refusals as not authorised, want %v more than %v", tn.name, after, len(forged), before)
			}
			for _, fr := range forged {
				if tn.Node().store.Has(fr.CID) {
					t.Fatalf("%s stored a version forged by another region", tn.name)
				}
			}
			if err := latestIs(tn, v2, v1, v1, v2); err != nil {
				t.Fatalf("after the forged versions: %v", err)
			}
		}
		// The same by push: C's validator is bypassed, B's is not.
		for _, fr := range forged {
			if _, _, err := b.Node().accept("", fr.Raw, c.ID()); !errors.Is(err, protocol.ErrNotAuthorised) {
				t.Fatalf("B accepting a forged version: %v, want ErrNotAuthorised", err)
			}
		}
	})

	t.Run("retracting the latest version", func(t *testing.T) {
		if _, err := a.Node().Retract(ctx, v2, "the service was not continued"); err != nil {
			t.Fatal(err)
		}
		for _, tn := range []*testNode{a, b} {
			eventually(t, 10*time.Second, tn.name+" shows version 1 as the latest again", func() error {
				if tn.Node().store.Has(v2) {
					return errors.New("version 2 still held")
				}
				return latestIs(tn, v1, cid.Undef, v1)
			})
			rec, err := tn.Node().store.Get(v1)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := tn.Node().ViewPractice(rec); v == nil || v.SupersededBy != "" {
				t.Fatalf("%s: version 1 still shown as superseded: %+v", tn.name, v)
			}
		}
		if err := searchFinds(t, b, "quillwort", 5*time.Second, nil, []cid.Cid{v2}); err != nil {
			t.Fatalf("B's index, after version 2 was retracted: %v", err)
		}
		if err := searchFinds(t, b, "quillwort", 3*time.Second, []cid.Cid{v1}, nil); err != nil {
			t.Errorf("B's index, for version 1, the latest again: %v", err)
		}
		// The author can supersede version 1 again.
		in := PracticeInput{Practice: protocol.Practice{Title: "Village quillwort telecare, second attempt",
			Summary: "A new second version.", Language: "en", Supersedes: v1.String()}, Topics: []string{catchupTopic}}
		out, err := a.Node().PublishPractice(ctx, in, Review{FailClosed: true}, false)
		if err != nil {
			t.Fatalf("a new version 2 after the retraction: %v", err)
		}
		waitHas(t, b, out.Record.CID, 5*time.Second)
		eventually(t, 5*time.Second, "B shows the new version 2", func() error {
			return latestIs(b, out.Record.CID, v1, v1, out.Record.CID)
		})
		// The start-up check counts what the index should hold from the
		// store's keys; after versions and a retraction it must agree
		// with the index, or every restart would rebuild it.
		for _, tn := range []*testNode{a, b} {
			eventually(t, 5*time.Second, tn.name+"'s key count agrees with its index", func() error {
				if err := tn.Node().FlushIndex(ctx); err != nil {
					return err
				}
				want, err := tn.Node().countIndexable()
				if err != nil {
					return err
				}
				got, err := tn.Node().searchIndex().Count()
				if err != nil {
					return err
				}
				listed := 0
				for _, k := range indexableKinds {
					recs, err := tn.Node().store.List(knowledge.ListOptions{Kind: k})
					if err != nil {
						return err
					}
					listed += len(recs)
				}
				if uint64(want) != got || want != listed {
					return fmt.Errorf("counted %d from keys, index holds %d, store lists %d", want, got, listed)
				}
				return nil
			})
		}
	})
}

// A version forged by another region that reaches a node before the
// original does must not stay: once the original arrives, the node knows
// the author and the forged version neither hides the original nor is
// listed as a version of it.
func TestVersionForgedBeforeOriginal(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, c, d := nodes[0], nodes[1], nodes[2]
	ctx := context.Background()
	v1 := publish(t, a, "Village sedgeberry telecare pilot", catchupTopic)

	// C signs a second version of A's practice and keeps it as its own.
	seq, prev, _ := c.Node().store.LastOwn()
	forged := sealPractice(t, c.Node().key, seq+1, prev, protocol.Practice{Version: 2, PracticeID: v1.String(),
		Supersedes: v1.String(), Title: "Hijacked telecare", Summary: "Not by the author.", Language: "en"}, catchupTopic)
	res, err := c.Node().store.Put(forged)
	if err != nil {
		t.Fatal(err)
	}
	c.Node().afterStore(forged, res, "")

	// D follows the topic but reaches only C at first.
	f.mn.UnlinkPeers(a.ID(), d.ID())
	f.mn.DisconnectPeers(a.ID(), d.ID())
	f.mn.DisconnectPeers(d.ID(), a.ID())
	if err := d.Node().Subscribe(ctx, catchupTopic); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Node().SyncTopic(ctx, c.ID(), catchupTopic); err != nil {
		t.Fatal(err)
	}
	if !d.Node().store.Has(forged.CID) {
		t.Fatalf("D did not receive C's record: the scenario needs it to arrive first")
	}
	// Then A is back and D gets the original.
	if _, err := f.mn.LinkPeers(a.ID(), d.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mn.ConnectPeers(d.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	waitHas(t, d, v1, 10*time.Second)
	ls := listedCIDSet(t, d)
	if !ls[v1.String()] {
		t.Errorf("D does not list A's practice: a version forged by C hides it")
	}
	if ls[forged.CID.String()] || d.Node().store.Has(forged.CID) {
		t.Errorf("D keeps C's forged version of A's practice after receiving the original")
	}
	if vs, _ := d.Node().store.Versions(v1.String()); !slices.Equal(cidStrings(vs), []string{v1.String()}) {
		t.Errorf("D's versions of A's practice: %v, want only %s", vs, v1)
	}
}

// partitionLeaks publishes a probe from every node on every topic, waits
// until each half holds its own probes and reports the first probe held
// across the split ("" if none). The probes join the halves' records.
func partitionLeaks(t *testing.T, f *federation, left, right []*testNode, topics []string, leftRecs, rightRecs *[]cid.Cid) string {
	t.Helper()
	var lp, rp []cid.Cid
	for _, tp := range topics {
		for _, l := range left {
			lp = append(lp, publish(t, l, "Probe from the left "+l.name, tp))
		}
		for _, r := range right {
			rp = append(rp, publish(t, r, "Probe from the right "+r.name, tp))
		}
	}
	*leftRecs = append(*leftRecs, lp...)
	*rightRecs = append(*rightRecs, rp...)
	halfHolds(t, "probes", left, lp)
	halfHolds(t, "probes", right, rp)
	time.Sleep(300 * time.Millisecond)
	for _, l := range left {
		if k := countMissing(l, rp); k < len(rp) {
			return fmt.Sprintf("%s holds %d probes of the right half", l.name, len(rp)-k)
		}
	}
	for _, r := range right {
		if k := countMissing(r, lp); k < len(lp) {
			return fmt.Sprintf("%s holds %d probes of the left half", r.name, len(lp)-k)
		}
	}
	return ""
}

// startLinkedTo is federation.start with the new host linked only to
// peers (running nodes), not to every running node.
func (f *federation) startLinkedTo(tn *testNode, peers ...*testNode) {
	f.t.Helper()
	f.run(tn, f.mockHost(tn, nil, peers))
}

// A record that gossip did not bring is fetched by its CID as soon as its
// successor arrives, long before the next periodic sync.
func TestGapFetchedByCID(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	if err := b.Node().updateConfig(func(c *Config) { c.Sync.Interval = Duration(time.Hour) }); err != nil {
		t.Fatal(err)
	}
	f.subscribe(b, catchupTopic, a)
	// Let the sessions that subscribing starts finish.
	eventually(t, 5*time.Second, "B's subscription syncs finish", func() error {
		var m dto.Metric
		b.Node().stats.syncRuns.WithLabelValues("ok").Write(&m)
		if m.GetCounter().GetValue() == 0 {
			return errors.New("no sync session yet")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	// X is stored by A but never gossiped (as if B missed it).
	key, seq, prev := ownHead(t, a)
	x := sealPractice(t, key, seq+1, prev, protocol.Practice{Version: 1, Title: "Missed by gossip",
		Summary: "Volunteers run the service.", Language: "en", Region: "Region A", Country: "FI"}, catchupTopic)
	if _, err := a.Node().store.PutOwn(x); err != nil {
		t.Fatal(err)
	}
	var before dto.Metric
	b.Node().stats.syncRuns.WithLabelValues("ok").Write(&before)
	y := publish(t, a, "Follows the missed one", catchupTopic)
	waitHas(t, b, y, 5*time.Second)
	waitHas(t, b, x.CID, 6*time.Second)
	var after dto.Metric
	b.Node().stats.syncRuns.WithLabelValues("ok").Write(&after)
	if d := after.GetCounter().GetValue() - before.GetCounter().GetValue(); d != 0 {
		t.Errorf("B ran %.0f topic sync sessions to fill a one-record gap", d)
	}
}
