// SPDX-License-Identifier: EUPL-1.2

package node

// Bare peers for the defence and protocol tests: members and outsiders
// that are plain libp2p hosts driven frame by frame, and the records they
// sign, beside the in-process federation of harness_test.go.

import (
	"bufio"
	"context"
	"fmt"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

// rawMember adds a bare libp2p host with a fresh identity to the mock
// network, links it to inviter and to others, and has it admitted through
// inviter's join protocol by hand. It returns once inviter and every node
// of others list it as a member. The host speaks no protocol by itself:
// tests drive its streams frame by frame.
func rawMember(t *testing.T, f *federation, inviter *testNode, others ...*testNode) (host.Host, crypto.PrivKey) {
	t.Helper()
	return rawMemberWith(t, f, rawOptions{}, inviter, others...)
}

// rawOptions shape the member rawMemberWith makes.
type rawOptions struct {
	// previousRelease leaves out this release's wire announcement.
	previousRelease bool
	// setup runs on the host before it first connects, so that what it
	// sets up (a gossipsub router, say) is in the first identify.
	setup func(host.Host)
}

// rawMemberWith is rawMember for a member shaped by o.
func rawMemberWith(t *testing.T, f *federation, o rawOptions, inviter *testNode, others ...*testNode) (host.Host, crypto.PrivKey) {
	t.Helper()
	key := testrec.Key(t)
	f.port++
	h, err := f.mn.AddPeer(key, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", f.port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	// A member of this release announces the wire it reads.
	if !o.previousRelease {
		h.SetStreamHandler(protocol.WireProtocol, func(s network.Stream) { s.Close() })
	}
	if o.setup != nil {
		o.setup(h)
	}
	all := append([]*testNode{inviter}, others...)
	for _, tn := range all {
		if _, err := f.mn.LinkPeers(h.ID(), tn.ID()); err != nil {
			t.Fatal(err)
		}
	}
	_, inv := mustInvite(t, inviter)
	if resp := outsiderJoin(t, h, inviter.ID(), inv.Secret); resp.Status != protocol.StatusOK {
		t.Fatalf("%s refused the test member: status %d (%s)", inviter.name, resp.Status, resp.Error)
	}
	eventually(t, 15*time.Second, "the test member is on every roster", func() error {
		for _, tn := range all {
			if !tn.Node().roster.IsMember(h.ID()) {
				return fmt.Errorf("%s does not list it", tn.name)
			}
		}
		return nil
	})
	return h, key
}

// openSync opens a sync stream from h to p, allowing within for it.
func openSync(t *testing.T, h host.Host, p peer.ID, within time.Duration) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	s, err := h.NewStream(ctx, p, protocol.SyncProtocol)
	if err != nil {
		t.Fatalf("open sync stream: %v", err)
	}
	return s
}

// syncRequest opens a sync stream from h to p, sends req and reads one
// answer frame, within 10 s.
func syncRequest(t *testing.T, h host.Host, p peer.ID, req *SyncMsg) *SyncMsg {
	t.Helper()
	s := openSync(t, h, p, 10*time.Second)
	var resp SyncMsg
	exchange(t, s, req, &resp, maxSyncFrame)
	return &resp
}

// sealPractice signs a practice record by key with the given sequence number.
func sealPractice(t testing.TB, key crypto.PrivKey, seq uint64, prev string, p protocol.Practice, topics ...string) *protocol.Signed {
	t.Helper()
	if p.Licence == "" {
		p.Licence = protocol.DefaultLicence
	}
	r := protocol.Record{Federation: testFederation, Seq: seq, Prev: prev, Created: time.Now().UnixMilli(), Topics: topics}
	return testrec.Seal(t, r, &p, key)
}

// newOutsider is a libp2p peer with its own identity, never admitted, that
// speaks the federation's protocols with its own gossipsub.
func newOutsider(t *testing.T, f *federation) (host.Host, crypto.PrivKey, *pubsub.PubSub) {
	t.Helper()
	key := testrec.Key(t)
	h, err := f.mn.AddPeer(key, ma.StringCast("/ip4/127.0.0.1/tcp/41999"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, key, gossipFor(t, h)
}

// gossipFor runs a gossipsub of the federation's wire options on the bare
// host h, flooding what it publishes, until the test ends.
func gossipFor(t *testing.T, h host.Host) *pubsub.PubSub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h, append(GossipWireOptions(), pubsub.WithFloodPublish(true))...)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// joinTopic joins and subscribes ps to the test federation's gossip topic
// for topic, until the test ends.
func joinTopic(t *testing.T, ps *pubsub.PubSub, topic string) (*pubsub.Topic, *pubsub.Subscription) {
	t.Helper()
	tp, err := ps.Join(protocol.GossipTopic(testFederation, topic))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sub.Cancel()
		tp.Close()
	})
	return tp, sub
}

// sealAs builds a valid, signed practice record by key.
func sealAs(t *testing.T, key crypto.PrivKey, seq uint64, topics ...string) *protocol.Signed {
	t.Helper()
	return sealPractice(t, key, seq, "", protocol.Practice{Version: 1, Title: "Free money for everybody",
		Summary: "Click the link.", Language: "en"}, topics...)
}

func outsiderJoin(t *testing.T, h host.Host, to peer.ID, secret []byte) JoinResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Connect(ctx, peer.AddrInfo{ID: to}); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(ctx, to, protocol.JoinProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var resp JoinResponse
	exchange(t, s, &JoinRequest{Secret: secret, Region: "Nowhere"}, &resp, maxJoinFrame)
	return resp
}

// exchange sends one frame and reads the answer. Writing and reading run
// side by side: a mocknet stream delivers a write only as the other side
// reads it, and a peer may answer without reading the request.
func exchange(t *testing.T, s network.Stream, req, resp any, max int) {
	t.Helper()
	defer s.Reset()
	go protocol.WriteFrame(s, req)
	read := make(chan error, 1)
	go func() { read <- protocol.ReadFrame(bufio.NewReader(s), resp, max) }()
	select {
	case err := <-read:
		if err != nil {
			t.Fatalf("read answer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no answer in 10 s")
	}
}
