// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"

	"github.com/livinglab/livinglab/protocol"
)

// signedPractice seals a practice by key; title makes it unique.
func signedPractice(t testing.TB, key crypto.PrivKey, seq uint64, title string, topics ...string) *protocol.Signed {
	t.Helper()
	return sealPractice(t, key, seq, "", protocol.Practice{Version: 1, Title: title, Summary: "Weekly workshops in the village hall.",
		Language: "en"}, topics...)
}

// badSignature returns rec's envelope with one bit of the signature
// flipped: canonical, well-formed, and refused by every node. rec itself
// is left as it was.
func badSignature(t testing.TB, rec *protocol.Signed) []byte {
	t.Helper()
	var env protocol.Envelope
	if err := protocol.Unmarshal(rec.Raw, &env); err != nil {
		t.Fatal(err)
	}
	env.Sig = bytes.Clone(env.Sig)
	env.Sig[len(env.Sig)/2] ^= 0x10
	raw, err := protocol.Marshal(&env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.Open(raw, time.Now()); !errors.Is(err, protocol.ErrBadSig) {
		t.Fatalf("tampered record: %v, want a bad signature", err)
	}
	return raw
}

// rawTopic returns a handle on tn's gossipsub for a topic tn does not
// subscribe to: what is published on it skips tn's own validator, as a
// modified node's would.
func rawTopic(t *testing.T, tn *testNode, topic string) *pubsub.Topic {
	t.Helper()
	tp, err := tn.Node().net.ps.Join(protocol.GossipTopic(testFederation, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	return tp
}

// waitScored waits until tn scores its topic channel (parameters are set
// within a second of joining).
func waitScored(t *testing.T, tn *testNode, topic string) {
	t.Helper()
	eventually(t, 5*time.Second, tn.name+" scores "+topic, func() error {
		n := tn.Node()
		n.net.mu.Lock()
		tc := n.net.topics[topic]
		n.net.mu.Unlock()
		if tc == nil {
			return errors.New("not joined")
		}
		g := n.guard()
		g.scoreMu.Lock()
		defer g.scoreMu.Unlock()
		if !g.scored[tc.cur.topic] {
			return errors.New("not scored yet")
		}
		return nil
	})
}

// scoreOf returns the score tn gives p in its last snapshot.
func scoreOf(tn *testNode, p peer.ID) (float64, bool) {
	s, ok := tn.Node().PeerScores()[p]
	return s, ok
}

// A member that floods records with bad signatures is graylisted within a
// few invalid records: the rest are dropped unread and so is anything it
// sends afterwards, valid or not. An honest member publishing meanwhile
// keeps a score of at least 0 and its records arrive.
func TestInvalidFloodGraylisted(t *testing.T) {
	f, nodes := newFederation(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	const topic = "elderly-care"
	f.subscribe(a, topic, b, c)
	waitScored(t, a, topic)
	key := mustKey(t, c.home)
	flood := rawTopic(t, c, topic)
	eventually(t, 10*time.Second, "the flooder sees A on the topic", func() error {
		for _, p := range flood.ListPeers() {
			if p == a.ID() {
				return nil
			}
		}
		return errors.New("not yet")
	})

	const sent = 300
	start := time.Now()
	honest := make(chan error, 1)
	go func() {
		// B publishes while C floods.
		time.Sleep(300 * time.Millisecond)
		in := PracticeInput{Practice: protocol.Practice{Title: "Honest practice during a flood", Summary: "Shared rides.",
			Language: "en"}, Topics: []string{topic}}
		_, err := b.Node().PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
		honest <- err
	}()
	for i := range sent {
		rec := signedPractice(t, key, uint64(1000+i), fmt.Sprintf("Flood %d", i), topic)
		if err := flood.Publish(context.Background(), badSignature(t, rec)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := <-honest; err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, "A graylists the flooder", func() error {
		if s, ok := scoreOf(a, c.ID()); !ok || s >= ScoreGraylistThreshold {
			return fmt.Errorf("score %.0f (tracked %v)", s, ok)
		}
		return nil
	})
	t.Logf("flooder graylisted %s after the flood began (%s after it ended)", time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
	if time.Since(start) > 8*time.Second {
		t.Errorf("graylisting took %s", time.Since(start))
	}
	// Most of the flood was never even validated.
	time.Sleep(500 * time.Millisecond)
	checked := rejected(t, a, "bad_signature")
	t.Logf("A validated and refused %.0f of %d invalid records; the rest were dropped unread", checked, sent)
	if checked < 7 || checked > sent/2 {
		t.Errorf("A refused %.0f invalid records by validation, want between 7 and %d", checked, sent/2)
	}

	// Anything the graylisted member sends now is ignored, valid or not.
	valid := signedPractice(t, key, 5000, "Valid record from a graylisted member", topic)
	if err := flood.Publish(context.Background(), valid.Raw); err != nil {
		t.Fatal(err)
	}
	if err := flood.Publish(context.Background(), badSignature(t, signedPractice(t, key, 5001, "One more", topic))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if a.Node().store.Has(valid.CID) {
		t.Errorf("A stored a record sent by a graylisted member")
	}
	if got := rejected(t, a, "bad_signature"); got != checked {
		t.Errorf("A validated records of a graylisted member: %.0f refusals, was %.0f", got, checked)
	}

	// The honest member: its record arrived, its score is not negative.
	eventually(t, 5*time.Second, "A holds B's record", func() error {
		if n, _ := a.Node().store.CountTopic(topic); n < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	if s, ok := scoreOf(a, b.ID()); !ok || s < 0 {
		t.Errorf("A scores the honest member B at %.2f (tracked %v), want >= 0", s, ok)
	}
	if s, ok := scoreOf(b, a.ID()); !ok || s < 0 {
		t.Errorf("B scores A at %.2f (tracked %v), want >= 0", s, ok)
	}
}

// startAt runs tn like the harness does, but on a mocknet host with the
// given address.
func startAt(f *federation, tn *testNode, addr ma.Multiaddr) {
	f.t.Helper()
	f.run(tn, f.mockHost(tn, addr, f.othersRunning(tn)))
}

// addNodeAt initialises a home and starts it on addr.
func addNodeAt(f *federation, name string, found bool, addr ma.Multiaddr) *testNode {
	f.t.Helper()
	o := InitOptions{Region: "Region " + name, Country: "NO"}
	if found {
		o.Federation = testFederation
	}
	tn := f.initNode(name, o)
	startAt(f, tn, addr)
	return tn
}

// Six regions behind one public address (a shared data centre): gossipsub
// sees five peers on that address at every node, over its colocation
// threshold, yet no member's score drops below 0. An outsider on the same
// address is far below the graylist threshold. After a restart the
// members' address is on the colocation whitelist.
func TestColocatedMembersNotPenalised(t *testing.T) {
	const ip = "203.0.113.7"
	at := func(port int) ma.Multiaddr { return ma.StringCast(fmt.Sprintf("/ip4/%s/tcp/%d", ip, port)) }
	f := newHarness(t)
	nodes := []*testNode{addNodeAt(f, "A", true, at(4001))}
	for i := 1; i < 6; i++ {
		tn := addNodeAt(f, string(rune('A'+i)), false, at(4001+i))
		f.admit(nodes[0], tn)
		nodes = append(nodes, tn)
	}
	f.waitMesh(nodes...)
	for _, tn := range nodes[1:] {
		f.subscribe(tn, "rural-transport", nodes[0])
	}

	// An outsider on the same address connects to A.
	okey, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	oh, err := f.mn.AddPeer(okey, at(4999))
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(context.Background())
	t.Cleanup(func() { ocancel(); oh.Close() })
	if _, err := pubsub.NewGossipSub(octx, oh, GossipWireOptions()...); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mn.LinkPeers(oh.ID(), nodes[0].ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mn.ConnectPeers(oh.ID(), nodes[0].ID()); err != nil {
		t.Fatal(err)
	}

	time.Sleep(3 * time.Second) // a few score snapshots
	eventually(t, 10*time.Second, "colocated members score at least 0", func() error {
		for _, x := range nodes {
			g := x.Node().guard()
			g.scoreMu.Lock()
			snap := g.snap
			g.scoreMu.Unlock()
			for _, y := range nodes {
				if x == y {
					continue
				}
				s := snap[y.ID()]
				if s == nil {
					return fmt.Errorf("%s has no score for %s", x.name, y.name)
				}
				if s.IPColocationFactor <= 0 {
					return fmt.Errorf("%s sees no colocation for %s (P6 %.1f)", x.name, y.name, s.IPColocationFactor)
				}
				if s.Score < 0 {
					return fmt.Errorf("%s scores %s at %.1f (P6 %.1f, app %.1f)", x.name, y.name, s.Score, s.IPColocationFactor, s.AppSpecificScore)
				}
			}
		}
		return nil
	})
	eventually(t, 5*time.Second, "A graylists the colocated outsider", func() error {
		if s, ok := scoreOf(nodes[0], oh.ID()); !ok || s >= ScoreGraylistThreshold {
			return fmt.Errorf("score %.0f (tracked %v)", s, ok)
		}
		return nil
	})

	// Members admitted before a start are whitelisted from the start.
	b := nodes[1]
	f.stop(b)
	startAt(f, b, at(4002))
	found := false
	for _, w := range b.Node().colocationWhitelist() {
		if w.Contains(net.ParseIP(ip)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("after a restart %s is not on the colocation whitelist: %v", ip, b.Node().colocationWhitelist())
	}
}

// The verdict on gossiped records: invalid for every node alike means
// reject (and blame the sender), refused by this node's own state means
// ignore; over-limit records charge their author, whose score falls below
// the graylist threshold after enough of them.
func TestGossipVerdict(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Region: "Verdict", Federation: testFederation}); err != nil {
		t.Fatal(err)
	}
	n, err := New(Home{Dir: dir}, Options{NoAPI: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	key, _, _ := crypto.GenerateEd25519Key(nil)
	author, _ := peer.IDFromPrivateKey(key)
	relay := peer.ID("relay")
	rec := signedPractice(t, key, 1, "Verdict", "elderly-care")
	for _, c := range []struct {
		err  error
		from peer.ID
		want pubsub.ValidationResult
	}{
		{nil, relay, pubsub.ValidationAccept},
		{protocol.ErrBadSig, relay, pubsub.ValidationReject},
		{protocol.ErrMalformed, relay, pubsub.ValidationReject},
		{protocol.ErrWrongTopic, relay, pubsub.ValidationReject},
		{protocol.ErrCIDMismatch, relay, pubsub.ValidationReject},
		{protocol.ErrRetracted, relay, pubsub.ValidationIgnore},
		{protocol.ErrFuture, relay, pubsub.ValidationIgnore},
		{protocol.ErrBadVersion, relay, pubsub.ValidationIgnore},
		{protocol.ErrNotMember, relay, pubsub.ValidationIgnore},
		{protocol.ErrNotMember, author, pubsub.ValidationReject},
		{protocol.ErrNotAuthorised, author, pubsub.ValidationReject},
		{errRateLimited, relay, pubsub.ValidationIgnore},
		{errRateLimited, author, pubsub.ValidationIgnore},
	} {
		if got := n.gossipVerdict(c.from, rec, c.err); got != c.want {
			t.Errorf("verdict on %v from %s: %v, want %v", c.err, c.from, got, c.want)
		}
	}
	g := n.guard()
	if c := g.flood[author.String()]; c == nil || c.value(time.Now()) < 1.9 {
		t.Fatalf("over-limit records not charged to their author: %+v", c)
	}
	g.flood = map[string]*decayingCounter{}
	// A member's score: 1 at first, untouched by a few over-limit records,
	// below the graylist threshold well before a 100-fold flood ends.
	if s := g.appScore(true, author); s != scoreMember {
		t.Fatalf("member app score %.1f", s)
	}
	if s := g.appScore(false, author); s >= ScoreGraylistThreshold {
		t.Fatalf("non-member app score %.1f, want below %.0f", s, ScoreGraylistThreshold)
	}
	for range floodSlack {
		n.gossipVerdict(author, rec, errRateLimited)
	}
	if s := g.appScore(true, author); s < 0 {
		t.Fatalf("after %d over-limit records (the slack) the app score is %.1f", floodSlack, s)
	}
	k := floodSlack
	for g.appScore(true, author) >= ScoreGraylistThreshold {
		n.gossipVerdict(relay, rec, errRateLimited)
		k++
	}
	t.Logf("graylisted after %d over-limit records", k)
	if k > 30 {
		t.Fatalf("graylisted only after %d over-limit records", k)
	}
	// It stays graylisted for floodBox although its count decays.
	c0 := g.flood[author.String()]
	if s := g.floodPenalty(c0, time.Now().Add(floodBox-time.Minute)); s > 1.5*ScoreGraylistThreshold {
		t.Fatalf("flood penalty %.0f shortly before the end of the graylisting", s)
	}
	if s := g.floodPenalty(c0, time.Now().Add(floodBox+time.Minute)); s != 0 {
		t.Fatalf("flood penalty %.0f after the graylisting and three half-lives", s)
	}
	// Half-life: after ten minutes half the count remains.
	c := g.flood[author.String()]
	v := c.value(time.Now())
	if h := c.value(time.Now().Add(floodHalfLife)); h < v/2-0.5 || h > v/2+0.5 {
		t.Fatalf("after one half-life %.1f of %.1f remain", h, v)
	}
}

// fakeConn is the pair of addresses a connection gate sees.
type fakeConn struct{ local, remote ma.Multiaddr }

func (c fakeConn) LocalMultiaddr() ma.Multiaddr  { return c.local }
func (c fakeConn) RemoteMultiaddr() ma.Multiaddr { return c.remote }

func dialFrom(addr string) fakeConn {
	return fakeConn{ma.StringCast("/ip4/10.0.0.1/tcp/4801"), ma.StringCast(addr)}
}

// Before its handshake an inbound connection is refused when its address
// already holds limits.max_conns_per_ip connections or dials faster than
// the per-address rate; refusals after the handshake make an address wait
// longer; IPv6 addresses count per /64; limits.max_conns_per_ip 0 switches
// the limits off.
func TestAcceptAddrLimits(t *testing.T) {
	f, nodes := newFederation(t, 1)
	a := nodes[0]
	n := a.Node()
	const perIP = 3
	if err := n.updateConfig(func(c *Config) { c.Limits.MaxConnsPerIP = perIP }); err != nil {
		t.Fatal(err)
	}
	if n.loopbackExempt() {
		t.Fatalf("a node listening on every interface exempts loopback")
	}
	// perIP peers on one address connected to A.
	for i := range perIP {
		key, _, _ := crypto.GenerateEd25519Key(nil)
		h, err := f.mn.AddPeer(key, ma.StringCast(fmt.Sprintf("/ip4/198.51.100.9/tcp/%d", 5000+i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		if _, err := f.mn.LinkPeers(h.ID(), a.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.mn.ConnectPeers(h.ID(), a.ID()); err != nil {
			t.Fatal(err)
		}
	}
	if k := n.connsFrom("198.51.100.9"); k != perIP {
		t.Fatalf("A counts %d connections from the address, want %d", k, perIP)
	}
	if n.acceptAddr(dialFrom("/ip4/198.51.100.9/tcp/6000")) {
		t.Fatalf("a connection over the per-address limit was accepted")
	}
	if !n.acceptAddr(dialFrom("/ip4/198.51.100.10/tcp/6000")) {
		t.Fatalf("a connection from another address was refused")
	}
	if rejected(t, a, "connection_per_ip") != 1 {
		t.Fatalf("per-address refusals counted: %.0f", rejected(t, a, "connection_per_ip"))
	}

	// Dial rate: a burst of max(2 x limit, 8), then one a second.
	burst := max(2*perIP, dialMinBurst)
	ok := 0
	for range 3 * burst {
		if n.acceptAddr(dialFrom("/ip4/192.0.2.50/tcp/7000")) {
			ok++
		}
	}
	if ok != burst {
		t.Fatalf("%d of %d quick dials accepted, want the burst %d", ok, 3*burst, burst)
	}
	time.Sleep(1100 * time.Millisecond)
	if !n.acceptAddr(dialFrom("/ip4/192.0.2.50/tcp/7000")) {
		t.Fatalf("a dial a second later was refused")
	}
	if got := rejected(t, a, "connection_rate_limited"); got != float64(2*burst) {
		t.Fatalf("rate refusals counted: %.0f, want %d", got, 2*burst)
	}

	// Refused after the handshake: each refusal costs the address more.
	ok = 0
	for range burst {
		if n.acceptAddr(dialFrom("/ip4/192.0.2.77/tcp/7000")) {
			ok++
			n.refusedAfterHandshake(dialFrom("/ip4/192.0.2.77/tcp/7000"))
		}
	}
	if want := (burst + dialStrike) / (1 + dialStrike); ok > want {
		t.Fatalf("an address refused at every handshake got %d handshakes in a row, want at most %d", ok, want)
	}

	// IPv6: one /64 is one address.
	ok = 0
	for i := range 2 * burst {
		if n.acceptAddr(dialFrom(fmt.Sprintf("/ip6/2001:db8:1:2::%x/tcp/7000", i+1))) {
			ok++
		}
	}
	if ok != burst {
		t.Fatalf("%d dials from one /64 accepted, want %d", ok, burst)
	}
	if !n.acceptAddr(dialFrom("/ip6/2001:db8:1:3::1/tcp/7000")) {
		t.Fatalf("a dial from another /64 was refused")
	}
	// Not an IP transport: left to the later gates.
	if !n.acceptAddr(fakeConn{ma.StringCast("/ip4/10.0.0.1/tcp/1"), ma.StringCast("/dns4/example.org/tcp/1")}) {
		t.Fatalf("a non-IP address was refused")
	}
	// Limits off.
	if err := n.updateConfig(func(c *Config) { c.Limits.MaxConnsPerIP = 0 }); err != nil {
		t.Fatal(err)
	}
	for range 3 * burst {
		if !n.acceptAddr(dialFrom("/ip4/198.51.100.9/tcp/6000")) {
			t.Fatalf("refused with limits.max_conns_per_ip 0")
		}
	}
}

// GateInbound applies the gate's decisions, in order: per-address limits
// before the handshake, membership after it.
func TestGateInbound(t *testing.T) {
	_, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	n := a.Node()
	key, _, _ := crypto.GenerateEd25519Key(nil)
	outsider, _ := peer.IDFromPrivateKey(key)
	addr := ma.StringCast("/ip4/198.51.100.20/tcp/4001")
	if v := n.GateInbound(addr, b.ID()); v != GateAccepted {
		t.Fatalf("a member: %v", v)
	}
	before := rejected(t, a, "connection_not_member")
	if v := n.GateInbound(addr, outsider); v != GateRefusedAfterHandshake {
		t.Fatalf("an outsider: %v", v)
	}
	if rejected(t, a, "connection_not_member") != before+1 {
		t.Fatalf("the refusal was not counted")
	}
	refused := 0
	for range 40 {
		if n.GateInbound(addr, outsider) == GateRefusedBeforeHandshake {
			refused++
		}
	}
	if refused == 0 {
		t.Fatalf("an address dialling 40 times at once was never refused before the handshake")
	}
	if _, _, err := n.Invite(); err != nil {
		t.Fatal(err)
	}
	if v := n.GateInbound(ma.StringCast("/ip4/198.51.100.21/tcp/4001"), outsider); v != GateAccepted {
		t.Fatalf("a newcomer while an invite is open: %v", v)
	}
}

// The dial table stays bounded: past its size newcomers share one bucket,
// and idle entries are forgotten.
func TestDialTableBounded(t *testing.T) {
	g := &guardState{dials: map[string]*dialEntry{}, overflow: rate.NewLimiter(4*dialRate, 4*dialMinBurst)}
	now := time.Now()
	for i := range dialTableMax {
		g.allowDial(fmt.Sprintf("k%d", i), 8, 1, now)
	}
	if len(g.dials) != dialTableMax {
		t.Fatalf("%d entries", len(g.dials))
	}
	ok := 0
	for i := range 1000 {
		if g.allowDial(fmt.Sprintf("new%d", i), 8, 1, now) {
			ok++
		}
	}
	if len(g.dials) != dialTableMax || ok != 4*dialMinBurst {
		t.Fatalf("full table: %d entries, %d newcomers accepted", len(g.dials), ok)
	}
	if !g.allowDial("fresh", 8, 1, now.Add(dialIdleForget+time.Second)) || len(g.dials) != 1 {
		t.Fatalf("idle entries not forgotten: %d entries", len(g.dials))
	}
}
