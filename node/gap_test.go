// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/ipfs/go-cid"
	dto "github.com/prometheus/client_model/go"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

func mustCID(t testing.TB, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}

// A node that follows one of an author's two topics receives that topic's
// records live without asking for anything: the author's records on the
// other topic are no gap. A record of the followed topic that gossip
// missed is fetched by its CID from the chain on that topic alone.
func TestGapsOnlyOnFollowedTopics(t *testing.T) {
	f := newHarness(t)
	a := f.addNode("A", true)
	b := f.initNode("B", InitOptions{Region: "Region B", Country: "SE"})
	bulkLimits(t, b.home)
	// No periodic sync on B: what it asks for, it asks because of a gap.
	changeConfig(t, b.home, func(cfg *Config) {
		cfg.Sync.Interval = Duration(time.Hour)
	})
	f.start(b)
	f.admit(a, b)
	f.waitMesh(a, b)
	const followed, other = catchupTopic, "transport"
	eventually(t, 15*time.Second, "A signs record format 2", func() error {
		if v := a.Node().recordVersion(); v != protocol.RecordV2 {
			return fmt.Errorf("A signs version %d", v)
		}
		return nil
	})
	f.subscribe(b, followed, a)
	eventually(t, 5*time.Second, "B's subscription syncs finish", func() error {
		if counterValue(b.Node().stats.syncRuns.WithLabelValues("ok")) == 0 {
			return fmt.Errorf("no sync session yet")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	bytesIn := func() float64 { return counterValue(b.Node().stats.syncBytes.WithLabelValues("in")) }
	before := bytesIn()

	// Live: every record on the followed topic follows one on the other.
	var got []string
	for i := range 6 {
		publish(t, a, fmt.Sprintf("Elsewhere %d", i), other)
		c := publish(t, a, fmt.Sprintf("Followed %d", i), followed)
		got = append(got, c.String())
		waitHas(t, b, c, 10*time.Second)
	}
	// Time for any gap fetch (they wait gapDelay) to have happened.
	time.Sleep(gapDelay + time.Second)
	if d := bytesIn() - before; d != 0 {
		t.Fatalf("B exchanged %.0f bytes by sync while gossip delivered every record of its topic", d)
	}
	rec, err := b.Node().store.Get(mustCID(t, got[len(got)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Record.Version != protocol.RecordV2 || rec.Record.Chain[followed].Seq != 6 || rec.Record.Chain[followed].Prev != got[len(got)-2] {
		t.Fatalf("last record: version %d, chain %+v", rec.Record.Version, rec.Record.Chain)
	}

	// A record on the followed topic that gossip missed: stored by A, never
	// gossiped. The next one on the followed topic names it.
	key, seq, prev := ownHead(t, a)
	heads, err := a.Node().store.OwnChains([]string{followed})
	if err != nil {
		t.Fatal(err)
	}
	r := protocol.Record{Version: protocol.RecordV2, Federation: testFederation, Author: a.ID().String(), Seq: seq + 1, Prev: prev,
		Created: time.Now().UnixMilli(), Topics: []string{followed}}
	r.Chain = map[string]protocol.ChainLink{followed: {Seq: heads[followed].Seq + 1, Prev: heads[followed].CID}}
	missed := testrec.Seal(t, r, &protocol.Practice{Version: 1, Title: "Missed by gossip", Summary: "Volunteers run the service.",
		Language: "en", Region: "Region A", Country: "FI", Licence: protocol.DefaultLicence}, key)
	if _, err := a.Node().store.PutOwn(missed); err != nil {
		t.Fatal(err)
	}
	runs := counterValue(b.Node().stats.syncRuns.WithLabelValues("ok"))
	publish(t, a, "Elsewhere again", other)
	next := publish(t, a, "Follows the missed one", followed)
	waitHas(t, b, next, 10*time.Second)
	waitHas(t, b, missed.CID, gapDelay+5*time.Second)
	if d := counterValue(b.Node().stats.syncRuns.WithLabelValues("ok")) - runs; d != 0 {
		t.Errorf("B ran %.0f topic sync sessions to fill a one-record gap", d)
	}
}

// A peer of the previous release puts its peer ID and a sequence number
// on every gossip message. On the previous gossip version's topic, which
// a node speaks while such a member exists, the node takes its messages;
// on this version's topic it refuses them, as StrictNoSign requires.
func TestGossipAuthorFieldsByVersion(t *testing.T) {
	f, nodes := newFederation(t, 1)
	a := nodes[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The previous release's gossip options: no signature, but an author.
	// The router exists before the member first connects, as on a running
	// node: A learns from the first identify that the member speaks
	// gossipsub, not from a later push.
	var ps *pubsub.PubSub
	_, key := rawMemberWith(t, f, rawOptions{previousRelease: true, setup: func(h host.Host) {
		var err error
		ps, err = pubsub.NewGossipSub(ctx, h, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
			pubsub.WithMessageIdFn(msgID), pubsub.WithFloodPublish(true))
		if err != nil {
			t.Fatal(err)
		}
	}}, a)
	if err := a.Node().Subscribe(context.Background(), catchupTopic); err != nil {
		t.Fatal(err)
	}
	join := func(version int) *pubsub.Topic {
		tp, err := ps.Join(protocol.GossipTopicVersion(version, testFederation, catchupTopic))
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tp.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.Cancel)
		return tp
	}
	old, cur := join(protocol.LegacyGossipVersion), join(protocol.GossipVersion)
	eventually(t, 15*time.Second, "A is on both gossip versions' topics", func() error {
		if !slices.Contains(old.ListPeers(), a.ID()) || !slices.Contains(cur.ListPeers(), a.ID()) {
			return fmt.Errorf("the member sees %v on version %d, %v on version %d", old.ListPeers(), protocol.LegacyGossipVersion, cur.ListPeers(), protocol.GossipVersion)
		}
		return nil
	})
	onCur := sealPractice(t, key, 1, "", protocol.Practice{Version: 1, Title: "Sent with an author on version 3",
		Summary: "Volunteers run the service.", Language: "en"}, catchupTopic)
	onOld := sealPractice(t, key, 2, onCur.CID.String(), protocol.Practice{Version: 1, Title: "Sent with an author on version 2",
		Summary: "Volunteers run the service.", Language: "en"}, catchupTopic)
	// In this order on one stream: by the time the second is stored, the
	// first was handled.
	if err := cur.Publish(ctx, onCur.Raw); err != nil {
		t.Fatal(err)
	}
	if err := old.Publish(ctx, onOld.Raw); err != nil {
		t.Fatal(err)
	}
	waitHas(t, a, onOld.CID, 10*time.Second)
	if a.Node().store.Has(onCur.CID) {
		t.Fatalf("A took a version 3 message that carried a sender and sequence number")
	}
}
