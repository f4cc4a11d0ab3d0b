// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

// An invite is kept in the store: the inviter may restart before the new
// region uses it.
func TestInviteSurvivesRestart(t *testing.T) {
	f, nodes := newFederation(t, 1)
	a := nodes[0]
	tok, _, err := a.Node().Invite()
	if err != nil {
		t.Fatal(err)
	}
	f.restart(a)
	c := f.addNode("C", false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Node().Join(ctx, tok); err != nil {
		t.Fatalf("join with an invite issued before the inviter restarted: %v", err)
	}
	f.waitMesh(a, c)
	// Spent, and still spent after another restart.
	f.restart(a)
	d := f.addNode("D", false)
	if err := d.Node().Join(ctx, tok); err == nil {
		t.Fatal("a used invite was honoured after a restart")
	}
	if a.Node().hasOpenInvites() {
		t.Fatal("the used invite is still counted as open")
	}
}

// A token whose federation was altered on the way is refused by the
// inviter before it admits anybody: no half-joined member on the roster,
// and the invite stays usable with the genuine token.
func TestAlteredTokenDoesNotHalfJoin(t *testing.T) {
	f, nodes := newFederation(t, 1)
	a := nodes[0]
	tok, inv := mustInvite(t, a)
	inv.Federation = "another-federation"
	altered, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c := f.addNode("C", false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Node().Join(ctx, altered)
	if err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("join with an altered token: %v", err)
	}
	if a.Node().roster.IsMember(c.ID()) {
		t.Fatal("the inviter admitted a node whose join failed")
	}
	if c.Node().Config().Federation.Name != "" {
		t.Fatal("the joiner half-joined")
	}
	if err := c.Node().Join(ctx, tok); err != nil {
		t.Fatalf("the genuine token after a refused altered one: %v", err)
	}
	f.waitMesh(a, c)
}

// While an invite is open, a stranger may connect to join, but it gets no
// gossip; a removed member is refused whatever invites are open.
func TestOpenInviteOpensOnlyTheJoinProtocol(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	f.subscribe(a, "elderly-care", b)
	f.subscribe(b, "elderly-care", a)
	if _, _, err := a.Node().Invite(); err != nil {
		t.Fatal(err)
	}

	h, _, ps := newOutsider(t, f)
	if _, err := f.mn.LinkPeers(h.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mn.ConnectPeers(h.ID(), a.ID()); err != nil {
		t.Fatalf("a stranger could not connect while an invite is open: %v", err)
	}
	_, sub := joinTopic(t, ps, "elderly-care")
	time.Sleep(2 * time.Second) // heartbeats: a would graft a peer it accepts
	published := publish(t, a, "Meals on wheels with the village shop", "elderly-care")
	waitHas(t, b, published, 20*time.Second)
	rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer rcancel()
	if m, err := sub.Next(rctx); err == nil {
		t.Fatalf("a stranger received gossip (%d bytes)", len(m.Data))
	}
	if st := a.Node().Status(); len(st.Topics) > 1 {
		for _, ts := range st.Topics {
			if ts.Topic == "elderly-care" && ts.MeshPeers > 1 {
				t.Fatalf("the stranger is counted as a topic peer: %d", ts.MeshPeers)
			}
		}
	}

	// C is removed; it cannot come back in through the open invite.
	if _, err := a.Node().RemoveMember(context.Background(), c.ID().String(), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "C's connection to A closed", func() error {
		if a.host.Network().Connectedness(c.ID()) == network.Connected {
			return errors.New("still connected")
		}
		return nil
	})
	// Mocknet hosts run no connection gater: ask the gater itself, as a
	// real inbound connection from C would.
	if !a.Node().hasOpenInvites() {
		t.Fatal("the invite is no longer open")
	}
	if (gater{a.Node()}).InterceptSecured(network.DirInbound, c.ID(), loopbackConn{}) {
		t.Fatal("A's gater lets a removed member back in while an invite is open")
	}
	if !(gater{a.Node()}).InterceptSecured(network.DirInbound, h.ID(), loopbackConn{}) {
		t.Fatal("A's gater refuses a stranger coming to join while an invite is open")
	}
}

// loopbackConn is the addresses of an inbound connection on loopback.
type loopbackConn struct{}

func (loopbackConn) LocalMultiaddr() ma.Multiaddr  { return ma.StringCast("/ip4/127.0.0.1/tcp/4801") }
func (loopbackConn) RemoteMultiaddr() ma.Multiaddr { return ma.StringCast("/ip4/127.0.0.1/tcp/51234") }
