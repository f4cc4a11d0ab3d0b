// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	dto "github.com/prometheus/client_model/go"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// Three regions: B follows elderly-care, C transport. What A publishes on
// elderly-care reaches B and never C.
func TestTopicChannels(t *testing.T) {
	_, a, b, c := channelFederation(t)

	care := publish(t, a, "Night-time telecare with village volunteers", "elderly-care")
	dt := waitHas(t, b, care, 5*time.Second)
	t.Logf("elderly-care record reached B in %s", dt)
	bus := publish(t, a, "On-demand village bus", "transport")
	waitHas(t, c, bus, 5*time.Second)
	syncedIn := func(tn *testNode) float64 {
		var m dto.Metric
		if err := tn.Node().stats.syncRecs.WithLabelValues("in").Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	before := syncedIn(c)
	both := publish(t, a, "Volunteer drivers for hospital visits", "elderly-care", "transport")
	waitHas(t, b, both, 5*time.Second)
	waitHas(t, c, both, 5*time.Second)
	// A record in two topics is a gossip message in each: C, following only
	// the second, has it by gossip, not from a later sync.
	if got := syncedIn(c); got != before {
		t.Errorf("C received %v records by sync while the two-topic record was published, want none", got-before)
	}

	time.Sleep(2 * time.Second)
	if c.Node().store.Has(care) {
		t.Errorf("C stored %s, a record of a topic it does not follow", care)
	}
	if b.Node().store.Has(bus) {
		t.Errorf("B stored %s, a record of a topic it does not follow", bus)
	}
	// Of elderly-care, C holds only the record that is also on transport.
	c.Node().store.TopicItems("elderly-care", func(ti knowledge.TopicItem) error {
		if !ti.CID.Equals(both) {
			t.Errorf("C holds elderly-care record %s", ti.CID)
		}
		return nil
	})
	// The publisher keeps its own records, though it follows neither topic.
	for _, x := range []cid.Cid{care, bus, both} {
		if !a.Node().store.Has(x) {
			t.Errorf("A lost its own record %s", x)
		}
	}
	// What B received is the record A signed, byte for byte.
	ra, _ := a.Node().store.Get(care)
	rb, err := b.Node().store.Get(care)
	if err != nil || string(ra.Raw) != string(rb.Raw) || rb.Record.Author != a.ID().String() {
		t.Fatalf("B's copy differs from A's: %v", err)
	}
	v, err := b.Node().ViewPractice(rb)
	if err != nil || v.Region != "Region A" || v.Licence != protocol.DefaultLicence || !slices.Equal(v.Topics, []string{"elderly-care"}) {
		t.Fatalf("B's view: %+v, %v", v, err)
	}

	// Unsubscribing stops the flow; what is held stays.
	if err := b.Node().Unsubscribe("elderly-care"); err != nil {
		t.Fatal(err)
	}
	later := publish(t, a, "Meals on wheels by e-bike", "elderly-care")
	time.Sleep(1500 * time.Millisecond)
	if b.Node().store.Has(later) {
		t.Errorf("B stored %s after unsubscribing", later)
	}
	if !b.Node().store.Has(care) {
		t.Errorf("B dropped %s when unsubscribing", care)
	}
}

// A record published the moment two members connect arrives all the same:
// gossip may not know the new peer's subscriptions yet, catch-up sync does.
func TestPublishRightAfterJoin(t *testing.T) {
	f := newHarness(t)
	a := f.addNode("A", true)
	b := f.addNode("B", false)
	// B chooses its topic before it is in a federation; it takes effect on joining.
	if err := b.Node().Subscribe(context.Background(), "elderly-care"); err != nil {
		t.Fatal(err)
	}
	f.admit(a, b)
	arrivesRightAway(t, a, b, "join")
}

// arrivesRightAway publishes a record on elderly-care from a the moment
// after what happened and waits for b to store it.
func arrivesRightAway(t *testing.T, a, b *testNode, after string) {
	t.Helper()
	c := publish(t, a, "Published right after the "+after, "elderly-care")
	dt := waitHas(t, b, c, 5*time.Second)
	t.Logf("record published right after the %s reached B in %s", after, dt)
}

// The same after a reconnection: B was offline, comes back, A publishes at
// once.
func TestPublishRightAfterReconnect(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, "elderly-care", a)
	f.stop(b)
	f.start(b)
	if _, err := f.mn.ConnectPeers(b.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	arrivesRightAway(t, a, b, "reconnection")
}

// An outsider that publishes a validly signed record under the right gossip
// topic, pushes it by sync or tries to join without an invite gets nothing
// stored.
func TestOutsiderIsRefused(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, "elderly-care", a)

	h, key, ps := newOutsider(t, f)
	if _, err := f.mn.LinkPeers(h.ID(), b.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mn.ConnectPeers(h.ID(), b.ID()); err != nil {
		t.Fatal(err)
	}
	topic, _ := joinTopic(t, ps, "elderly-care")
	eventually(t, 10*time.Second, "the outsider sees B on the topic", func() error {
		if !slices.Contains(topic.ListPeers(), b.ID()) {
			return errors.New("not yet")
		}
		return nil
	})

	t.Run("gossip", func(t *testing.T) {
		rec := sealAs(t, key, 1, "elderly-care")
		if _, err := protocol.Open(rec.Raw, time.Now()); err != nil {
			t.Fatalf("the outsider's record should be well-formed: %v", err)
		}
		// B drops whatever a non-member sends unread: its gossipsub score
		// is far below the graylist threshold.
		eventually(t, 5*time.Second, "B graylists the outsider", func() error {
			if s, ok := b.Node().PeerScores()[h.ID()]; !ok || s >= ScoreGraylistThreshold {
				return fmt.Errorf("score %.0f (tracked %v)", s, ok)
			}
			return nil
		})
		if err := topic.Publish(context.Background(), rec.Raw); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if b.Node().store.Has(rec.CID) {
			t.Fatalf("B stored a record by an outsider")
		}
		if a.Node().store.Has(rec.CID) {
			t.Fatalf("A stored a record by an outsider")
		}
	})

	t.Run("sync push", func(t *testing.T) {
		rec := sealAs(t, key, 2, "elderly-care")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := h.NewStream(ctx, b.ID(), protocol.SyncProtocol)
		if err != nil {
			t.Fatal(err)
		}
		var resp SyncMsg
		exchange(t, s, &SyncMsg{Op: "push", Topic: "elderly-care", Records: [][]byte{rec.Raw}}, &resp, maxSyncFrame)
		if resp.Status != protocol.StatusNotMember {
			t.Fatalf("B answered %+v, want status not-member", resp)
		}
		if b.Node().store.Has(rec.CID) {
			t.Fatalf("B stored a record pushed by an outsider")
		}
	})

	t.Run("join without invite", func(t *testing.T) {
		secret := make([]byte, 16)
		rand.Read(secret)
		resp := outsiderJoin(t, h, b.ID(), secret)
		if resp.Status != protocol.StatusForbidden || len(resp.Records) != 0 {
			t.Fatalf("B answered status %d (%s) with %d records", resp.Status, resp.Error, len(resp.Records))
		}
		if b.Node().roster.IsMember(h.ID()) || a.Node().roster.IsMember(h.ID()) {
			t.Fatalf("the outsider became a member")
		}
	})

	t.Run("used invite", func(t *testing.T) {
		tok, inv := mustInvite(t, a)
		c := f.addNode("C", false)
		if err := c.Node().Join(context.Background(), tok); err != nil {
			t.Fatalf("C joins: %v", err)
		}
		if _, err := f.mn.LinkPeers(h.ID(), a.ID()); err != nil {
			t.Fatal(err)
		}
		resp := outsiderJoin(t, h, a.ID(), inv.Secret)
		if resp.Status != protocol.StatusForbidden {
			t.Fatalf("a used invite was honoured: status %d", resp.Status)
		}
		// Joining again with the used token fails for another node too.
		d := f.addNode("D", false)
		err := d.Node().Join(context.Background(), tok)
		if err == nil || d.Node().roster.IsMember(d.ID()) {
			t.Fatalf("a second node joined with a used token (err %v)", err)
		}
		if a.Node().roster.IsMember(h.ID()) || a.Node().roster.IsMember(d.ID()) {
			t.Fatalf("a refused node is on the roster")
		}
	})
}

// A node restarted on its home keeps its identity, the roster, its topics
// and its records, and reconnects.
func TestRestartKeepsState(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	f.subscribe(b, "elderly-care", a, c)
	f.subscribe(b, "transport", a, c)
	f.subscribe(c, "housing", a, b)
	care := publish(t, a, "Night-time telecare", "elderly-care")
	waitHas(t, b, care, 5*time.Second)
	own := publish(t, b, "B's own practice", "housing")

	id := b.ID()
	members := func(n *Node) []string {
		var out []string
		for _, m := range n.roster.List(false) {
			out = append(out, m.PeerID+"/"+m.Role+"/"+m.Region)
		}
		return out
	}
	before := members(b.Node())
	if len(before) != 3 {
		t.Fatalf("B lists %d members before the restart", len(before))
	}
	seq, _, _ := b.Node().store.LastOwn()

	f.restart(b)
	n := b.Node()
	if n.ID() != id {
		t.Fatalf("identity changed: %s, was %s", n.ID(), id)
	}
	if got := members(n); !slices.Equal(got, before) {
		t.Fatalf("roster after restart:\n%v\nbefore:\n%v", got, before)
	}
	if cfg := n.Config(); !slices.Equal(cfg.Topics, []string{"elderly-care", "transport"}) || cfg.Federation.Name != testFederation ||
		cfg.Federation.Founder != a.ID().String() {
		t.Fatalf("config after restart: topics %v federation %+v", cfg.Topics, cfg.Federation)
	}
	for _, x := range []cid.Cid{care, own} {
		if !n.store.Has(x) {
			t.Fatalf("record %s lost across the restart", x)
		}
	}
	if s, _, _ := n.store.LastOwn(); s != seq {
		t.Fatalf("own sequence number %d after restart, was %d", s, seq)
	}
	// It reconnects by itself and goes on receiving and publishing.
	f.waitMesh(a, b, c)
	f.subscribe(b, "elderly-care", a) // already subscribed: waits until A knows
	next := publish(t, a, "After the restart", "elderly-care")
	waitHas(t, b, next, 5*time.Second)
	waitHas(t, c, own, 5*time.Second)
	f.subscribe(c, "housing", b)
	mine := publish(t, b, "B after the restart", "housing")
	rec, _ := n.store.Get(mine)
	if rec.Record.Seq != seq+1 || rec.Record.Prev != own.String() {
		t.Fatalf("B's next record has seq %d prev %s, want %d and %s", rec.Record.Seq, rec.Record.Prev, seq+1, own)
	}
	waitHas(t, c, mine, 5*time.Second)
}

// B goes offline; A publishes 200 records and retracts one B holds; when B
// comes back, sync delivers all of them and the retraction.
func TestOfflineCatchUp(t *testing.T) {
	f, a, b, c := channelFederation(t)
	doomed := publish(t, a, "To be withdrawn", "elderly-care")
	kept := publish(t, a, "To be kept", "elderly-care")
	waitHas(t, b, doomed, 5*time.Second)
	waitHas(t, b, kept, 5*time.Second)

	doomedRec, err := a.Node().store.Get(doomed)
	if err != nil {
		t.Fatal(err)
	}

	f.stop(b)
	const count = 200
	var cids []cid.Cid
	for i := range count {
		cids = append(cids, publish(t, a, fmt.Sprintf("Practice %d", i), "elderly-care"))
	}
	tomb, err := a.Node().Retract(context.Background(), doomed, "published by mistake")
	if err != nil {
		t.Fatal(err)
	}
	if a.Node().store.Has(doomed) {
		t.Fatalf("A still holds the record it retracted")
	}
	bus := publish(t, a, "On-demand bus", "transport")
	waitHas(t, c, bus, 5*time.Second)

	start := time.Now()
	f.start(b)
	// The bound is generous: the receiver writes every record to its store
	// and its search index one at a time, and index writes wait for the disk.
	eventually(t, 45*time.Second, "B catches up", func() error {
		missing := 0
		for _, x := range cids {
			if !b.Node().store.Has(x) {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d missing", missing, count)
		}
		return nil
	})
	took := time.Since(start)
	t.Logf("B caught up on %d records in %s (%s per record)", count, took.Round(time.Millisecond), (took / count).Round(time.Microsecond))
	eventually(t, 10*time.Second, "B drops the retracted record", func() error {
		if b.Node().store.Has(doomed) {
			return errors.New("still held")
		}
		tb, err := b.Node().store.Tomb(doomed)
		if err != nil {
			return err
		}
		if tb.By != a.ID().String() || tb.Retraction != tomb.CID.String() {
			return fmt.Errorf("tombstone %+v", tb)
		}
		return nil
	})
	if !b.Node().store.Has(kept) {
		t.Fatalf("B lost %s", kept)
	}
	if _, err := b.Node().store.Get(doomed); !errors.Is(err, knowledge.ErrNotFound) {
		t.Fatalf("Get of a retracted record: %v", err)
	}
	n, _ := b.Node().store.CountTopic("elderly-care")
	if n != count+1 {
		t.Fatalf("B holds %d elderly-care records, want %d", n, count+1)
	}
	// C follows transport only: none of the 200 reached it, the tombstone did.
	if n, _ := c.Node().store.CountTopic("elderly-care"); n != 0 {
		t.Fatalf("C holds %d elderly-care records", n)
	}
	eventually(t, 5*time.Second, "C holds the tombstone", func() error {
		_, err := c.Node().store.Tomb(doomed)
		return err
	})
	// B and A now agree on the topic.
	eventually(t, 10*time.Second, "B and A in sync", func() error {
		res, err := b.Node().SyncTopic(context.Background(), a.ID(), "elderly-care")
		if err != nil {
			return err
		}
		if !res.InSync || res.Got != 0 || res.Sent != 0 {
			return fmt.Errorf("%+v", res)
		}
		return nil
	})
	// Neither takes the retracted record back from anyone.
	for _, tn := range []*testNode{a, b} {
		if _, added, err := tn.Node().accept("", doomedRec.Raw, c.ID()); !errors.Is(err, protocol.ErrRetracted) || added {
			t.Fatalf("%s re-accepting a retracted record: added %v, err %v", tn.name, added, err)
		}
		if tn.Node().store.Has(doomed) {
			t.Fatalf("the retracted record came back to %s", tn.name)
		}
	}
}
