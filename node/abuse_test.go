// SPDX-License-Identifier: EUPL-1.2

// Long file: one place for the node's defences (publishing limits, removed and compromised members,
// floods, body limits, slow clients, headers, secrets in logs), each test short, sharing startLiveNode
// and liveMesh.

package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/bcrypt"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// rejectedBy returns how many records (or connections, queries) n refused
// for reason (a label of livinglab_records_rejected_total).
func rejectedBy(t testing.TB, n *Node, reason string) float64 {
	t.Helper()
	mfs, err := n.stats.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "livinglab_records_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// A member publishing by gossip at 100 times the federation's limit: the
// other node stores the burst and what the rate refills, no more, now or
// later; the excess it examines is counted as rate_limited, and the
// flooder ends up graylisted so that the rest is dropped unread.
func TestPublishLimitByGossip(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	const topic = "elderly-care"
	const perMin, burst = 60, 10
	if err := b.Node().updateConfig(func(c *Config) {
		c.Limits.PublishPerMin, c.Limits.PublishBurst = perMin, burst
	}); err != nil {
		t.Fatal(err)
	}
	f.subscribe(b, topic, a)
	waitScored(t, b, topic)
	key := mustKey(t, a.home)
	tp := rawTopic(t, a, topic)

	const rate = 100 * perMin / 60.0 // records per second
	const sent = 300
	start := time.Now()
	for i := range sent {
		if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		rec := signedPractice(t, key, uint64(100+i), fmt.Sprintf("Bulk %d", i), topic)
		if err := tp.Publish(context.Background(), rec.Raw); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	elapsed := time.Since(start)
	stored, _ := b.Node().store.CountTopic(topic)
	limited := rejectedBy(t, b.Node(), "rate_limited")
	allowed := burst + int(math.Ceil(elapsed.Seconds()*perMin/60))
	t.Logf("%d records in %s at %.0f/s (100x the limit): B stored %d (limit allows %d), refused %.0f as rate_limited, dropped %d unread",
		sent, elapsed.Round(time.Millisecond), rate, stored, allowed, limited, sent-stored-int(limited))
	if stored < burst || stored > allowed {
		t.Fatalf("B stored %d records of the flood, want between the burst %d and %d", stored, burst, allowed)
	}
	if limited < 7 || stored+int(limited) > sent {
		t.Fatalf("rate_limited refusals %.0f with %d stored of %d sent", limited, stored, sent)
	}
	eventually(t, 5*time.Second, "B graylists the flooding member", func() error {
		if s, ok := scoreOf(b, a.ID()); !ok || s >= ScoreGraylistThreshold {
			return fmt.Errorf("score %.0f", s)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	if later, _ := b.Node().store.CountTopic(topic); later != stored {
		t.Fatalf("B holds %d records of the flood later, %d right after it", later, stored)
	}

	// The side door: A pushes the whole flood to B by sync, then B itself
	// reconciles the topic with A and fetches what A offers. A's recent
	// records from A count against A's rate whichever way they come.
	var flood [][]byte
	for i := range sent {
		flood = append(flood, signedPractice(t, key, uint64(100+i), fmt.Sprintf("Bulk %d", i), topic).Raw)
	}
	s, err := a.host.NewStream(context.Background(), b.ID(), protocol.SyncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(s)
	for i := 0; i < len(flood); i += syncBatch {
		if err := protocol.WriteFrame(s, &SyncMsg{Op: "push", Topic: topic, Records: flood[i:min(i+syncBatch, len(flood))]}); err != nil {
			t.Fatal(err)
		}
		var ack SyncMsg
		if err := protocol.ReadFrame(br, &ack, maxSyncFrame); err != nil || ack.Op != "ack" {
			t.Fatalf("push: %+v, %v", ack, err)
		}
	}
	protocol.WriteFrame(s, &SyncMsg{Op: "done"})
	s.Close()
	if _, err := b.Node().SyncTopic(context.Background(), a.ID(), topic); err != nil {
		t.Fatalf("B syncing with A: %v", err)
	}
	elapsed = time.Since(start)
	allowed = burst + int(math.Ceil(elapsed.Seconds()*perMin/60))
	pushed, _ := b.Node().store.CountTopic(topic)
	t.Logf("after A pushed all %d by sync and B synced with A, %s after the flood began: B holds %d (limit allows %d)",
		sent, elapsed.Round(time.Millisecond), pushed, allowed)
	if pushed > allowed {
		t.Fatalf("B holds %d records of the flood after sync, the limit allows %d", pushed, allowed)
	}
}

// liveNode is a node on real loopback sockets, so that its connection
// gater runs (mocknet hosts have none).
type liveNode struct {
	t     *testing.T
	name  string
	home  Home
	n     *Node
	log   *testkit.Buffer
	base  string // API base URL, "" without the API
	token string
}

type liveOptions struct {
	found bool
	api   bool
	level slog.Level
	user  string // web UI account to create, with password pass
	pass  string
}

func startLiveNode(t *testing.T, name string, o liveOptions) *liveNode {
	t.Helper()
	dir := t.TempDir()
	iopts := InitOptions{Region: "Region " + name, Country: "DK"}
	if o.found {
		iopts.Federation = testFederation
	}
	if _, err := Init(dir, iopts); err != nil {
		t.Fatal(err)
	}
	h := Home{Dir: dir}
	changeConfig(t, h, func(cfg *Config) {
		cfg.Discovery = DiscoveryConfig{}
		cfg.NAT = NATConfig{}
	})
	ln := &liveNode{t: t, name: name, home: h, log: &testkit.Buffer{}}
	var addr string
	ln.n, addr = startLoopback(t, h, name, o.level, o.api, ln.log)
	if o.user != "" {
		knowledge.BcryptCost = bcrypt.MinCost
		if err := ln.n.store.AddUser(o.user, o.pass); err != nil {
			t.Fatal(err)
		}
	}
	ln.token, _ = h.LoadToken()
	if addr != "" {
		ln.base = "http://" + addr
	}
	return ln
}

func (ln *liveNode) addrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: ln.n.ID(), Addrs: ln.n.net.host.Addrs()}
}

func (ln *liveNode) connected(p peer.ID) bool {
	return ln.n.net.host.Network().Connectedness(p) == network.Connected
}

// join admits ln through inviter over the network.
func (ln *liveNode) join(inviter *liveNode) {
	ln.t.Helper()
	tok, _, err := inviter.n.Invite()
	if err != nil {
		ln.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ln.n.Join(ctx, tok); err != nil {
		ln.t.Fatalf("%s joins: %v", ln.name, err)
	}
}

// liveMesh waits until every node lists and is connected to every other.
func liveMesh(t *testing.T, nodes ...*liveNode) {
	t.Helper()
	eventually(t, 30*time.Second, "live federation connected", func() error {
		for _, x := range nodes {
			for _, y := range nodes {
				if !x.n.roster.IsMember(y.n.ID()) {
					return fmt.Errorf("%s does not list %s", x.name, y.name)
				}
				if x != y && !x.connected(y.n.ID()) {
					return fmt.Errorf("%s is not connected to %s", x.name, y.name)
				}
			}
		}
		return nil
	})
}

// A peer outside the federation completes the secure handshake (the node
// must learn who it is) and is refused right after it: no connection
// stays, no protocol can be spoken, the refusal is counted.
func TestNonMemberRefusedAfterHandshake(t *testing.T) {
	a := startLiveNode(t, "A", liveOptions{found: true, level: slog.LevelDebug})
	h, err := libp2p.New(libp2p.NoListenAddrs)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for try := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := h.Connect(network.WithForceDirectDial(ctx, "test"), a.addrInfo())
		if err == nil {
			// The dialer may finish its side of the upgrade before the
			// node's refusal reaches it; no stream gets through.
			if _, serr := h.NewStream(ctx, a.n.ID(), protocol.SyncProtocol); serr == nil {
				t.Fatalf("attempt %d: the outsider opened a sync stream", try)
			}
		}
		cancel()
	}
	eventually(t, 5*time.Second, "no connection with the outsider remains", func() error {
		if a.connected(h.ID()) || h.Network().Connectedness(a.n.ID()) == network.Connected {
			return errors.New("still connected")
		}
		return nil
	})
	if got := rejectedBy(t, a.n, "connection_not_member"); got < 3 {
		t.Fatalf("%.0f refusals of a non-member counted, want 3", got)
	}
	if !strings.Contains(a.log.String(), "refused connection from non-member") {
		t.Fatalf("the refusal is not logged")
	}
}

// A removed member: the remover closes its connections at once, the other
// members soon after they learn of the removal; its reconnections are
// refused; anything it signs from now on is refused everywhere, by sync and
// by gossip, while its records from before stay valid and stored.
func TestRemovedMemberCutOff(t *testing.T) {
	const topic = "elderly-care"
	a := startLiveNode(t, "A", liveOptions{found: true, level: slog.LevelDebug})
	b := startLiveNode(t, "B", liveOptions{level: slog.LevelDebug})
	c := startLiveNode(t, "C", liveOptions{level: slog.LevelDebug})
	b.join(a)
	c.join(a)
	liveMesh(t, a, b, c)
	for _, x := range []*liveNode{a, c} {
		if err := x.n.Subscribe(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
	}
	in := PracticeInput{Practice: protocol.Practice{Title: "Kept practice", Summary: "Shared rides.", Language: "en"}, Topics: []string{topic}}
	pub, err := b.n.PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	kept := pub.Record
	eventually(t, 15*time.Second, "A and C hold B's record", func() error {
		for _, x := range []*liveNode{a, c} {
			if !x.n.store.Has(kept.CID) {
				return fmt.Errorf("%s does not", x.name)
			}
		}
		return nil
	})

	removal, err := a.n.RemoveMember(context.Background(), b.n.ID().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := removal.Record.DecodePayload()
	keep := p.(*protocol.Membership).KeepUntilSeq
	if keep != kept.Record.Seq {
		t.Fatalf("KeepUntilSeq %d, B's last record has seq %d", keep, kept.Record.Seq)
	}
	eventually(t, 2*time.Second, "A closes B's connections", func() error {
		if a.connected(b.n.ID()) {
			return errors.New("still connected")
		}
		return nil
	})
	took := eventually(t, 15*time.Second, "C learns of the removal and closes B's connections", func() error {
		if m, _ := c.n.roster.Get(b.n.ID().String()); !m.Removed {
			return errors.New("C does not know yet")
		}
		if c.connected(b.n.ID()) {
			return errors.New("still connected")
		}
		return nil
	})
	t.Logf("C cut B off %s after the removal", took.Round(time.Millisecond))

	// B dials again: refused after the handshake, by both.
	for _, x := range []*liveNode{a, c} {
		before := rejectedBy(t, x.n, "connection_not_member")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b.n.net.host.Connect(network.WithForceDirectDial(ctx, "test"), x.addrInfo())
		cancel()
		eventually(t, 5*time.Second, x.name+" refuses B's reconnection", func() error {
			if rejectedBy(t, x.n, "connection_not_member") <= before {
				return errors.New("no refusal counted")
			}
			if x.connected(b.n.ID()) {
				return errors.New("connected")
			}
			return nil
		})
	}

	// Records B signs now are refused by sync and by gossip.
	key := mustKey(t, b.home)
	late := signedPractice(t, key, keep+1, "Signed after the removal", topic)
	for _, x := range []*liveNode{a, c} {
		if _, added, err := x.n.accept("", late.Raw, b.n.ID()); !errors.Is(err, protocol.ErrNotMember) || added {
			t.Fatalf("%s took a record B signed after its removal: added %v, err %v", x.name, added, err)
		}
	}
	c.n.net.mu.Lock()
	ct := c.n.net.topics[topic].cur.topic
	c.n.net.mu.Unlock()
	before := rejectedBy(t, a.n, "not_member")
	if err := ct.Publish(context.Background(), late.Raw); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "A refuses the relayed record", func() error {
		if rejectedBy(t, a.n, "not_member") <= before {
			return errors.New("not refused yet")
		}
		return nil
	})
	if a.n.store.Has(late.CID) || c.n.store.Has(late.CID) {
		t.Fatalf("a record B signed after its removal was stored")
	}
	// Its records from before stay, and stay valid.
	for _, x := range []*liveNode{a, c} {
		if !x.n.store.Has(kept.CID) {
			t.Fatalf("%s dropped B's record from before the removal", x.name)
		}
		if _, err := x.n.val.Check("", kept.Raw); err != nil {
			t.Fatalf("%s no longer accepts B's record from before the removal: %v", x.name, err)
		}
	}
}

// A region's key is compromised: the federation removes the member and
// admits the region again under a new key. Records the old key signed
// before the removal stay valid and stored, and a region joining later
// still receives them; anything the old key signs with a higher sequence
// number is refused everywhere; the new key publishes normally.
func TestCompromisedKeyReadmitted(t *testing.T) {
	const topic = "elderly-care"
	f, a, b, c := sharedTopicFederation(t, topic)
	f.subscribe(a, "transport", b)
	old1 := publish(t, b, "Before the compromise, one", topic)
	// Only A follows transport: C and D will hold no record of B's with
	// this sequence number.
	mid := publish(t, b, "Before the compromise, on another topic", "transport")
	old2 := publish(t, b, "Before the compromise, two", topic)
	for _, x := range []*testNode{a, c} {
		waitHas(t, x, old1, 5*time.Second)
		waitHas(t, x, old2, 5*time.Second)
	}
	waitHas(t, a, mid, 5*time.Second)
	oldKey := mustKey(t, b.home)
	oldID := b.ID()
	removal, err := a.Node().RemoveMember(context.Background(), oldID.String(), false)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := removal.Record.DecodePayload()
	keep := p.(*protocol.Membership).KeepUntilSeq
	if last := p.(*protocol.Membership).KeepUntil; last != old2.String() {
		t.Fatalf("the removal names %q as the last record kept, want %s", last, old2)
	}
	eventually(t, 10*time.Second, "C learns of the removal", func() error {
		if m, _ := c.Node().roster.Get(oldID.String()); !m.Removed || m.KeepUntilSeq != keep {
			return fmt.Errorf("C's entry %+v", m)
		}
		return nil
	})
	f.stop(b)

	// The region comes back with a new home and key.
	b2 := f.addNode("B2", false)
	if err := b2.Node().updateConfig(func(c *Config) { c.Region = "Region B" }); err != nil {
		t.Fatal(err)
	}
	f.admit(a, b2)
	d := f.addNode("D", false)
	f.admit(a, d)
	f.waitMesh(a, c, b2, d)
	f.subscribe(d, topic, a, c, b2)

	eventually(t, 15*time.Second, "the later region D receives the old key's records", func() error {
		for _, x := range []*testNode{a, c, d} {
			for _, r := range []cid.Cid{old1, old2} {
				if !x.Node().store.Has(r) {
					return fmt.Errorf("%s lacks %s", x.name, r)
				}
			}
		}
		return nil
	})

	// Below the kept sequence number, the stolen key can only make second
	// versions of numbers the regions already hold: refused.
	fork := signedPractice(t, oldKey, keep, "A second record at a kept sequence number", topic)
	for _, x := range []*testNode{a, c, d} {
		if _, held := x.Node().store.AuthorCID(oldID.String(), keep); !held {
			t.Fatalf("%s holds no record of the old key at sequence %d", x.name, keep)
		}
		if _, added, err := x.Node().accept("", fork.Raw, c.ID()); !errors.Is(err, protocol.ErrNotAuthorised) || added {
			t.Fatalf("%s took a second record of the old key at kept sequence %d: added %v, err %v", x.name, keep, added, err)
		}
	}

	late := signedPractice(t, oldKey, keep+1, "Signed with the stolen key", topic)
	for _, x := range []*testNode{a, c, d} {
		if _, added, err := x.Node().accept("", late.Raw, c.ID()); !errors.Is(err, protocol.ErrNotMember) || added {
			t.Fatalf("%s took a record of the old key with seq %d > %d: added %v, err %v", x.name, keep+1, keep, added, err)
		}
	}
	// The same by gossip, relayed by a member.
	tc := c.Node().net
	tc.mu.Lock()
	ct := tc.topics[topic].cur.topic
	tc.mu.Unlock()
	if err := ct.Publish(context.Background(), late.Raw); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	for _, x := range []*testNode{a, c, d} {
		if x.Node().store.Has(late.CID) {
			t.Fatalf("%s stored a record the old key signed after the removal", x.name)
		}
	}

	// The new key is the region now.
	if m, ok := a.Node().roster.Get(b2.ID().String()); !ok || m.Removed || m.Region != "Region B" {
		t.Fatalf("the new key's entry: %+v", m)
	}
	if m, _ := a.Node().roster.Get(oldID.String()); !m.Removed {
		t.Fatalf("the old key is not removed: %+v", m)
	}
	fresh := publish(t, b2, "After the new key", topic)
	for _, x := range []*testNode{a, c, d} {
		waitHas(t, x, fresh, 5*time.Second)
	}

	// Where a node holds no record for a kept number (C and D do not follow
	// transport), the chain back from the last kept record tells: each
	// node learns it from the others (A holds the transport record) and
	// refuses a record off it.
	midRec, err := a.Node().store.Get(mid)
	if err != nil {
		t.Fatal(err)
	}
	forkMid := signedPractice(t, oldKey, midRec.Record.Seq, "A second record where C and D hold none", topic)
	for _, x := range []*testNode{c, d} {
		if _, held := x.Node().store.AuthorCID(oldID.String(), midRec.Record.Seq); held {
			t.Fatalf("%s holds a record of the old key at sequence %d: the test tests nothing", x.name, midRec.Record.Seq)
		}
		eventually(t, 15*time.Second, x.name+" learns the records the removal kept", func() error {
			if done, _ := x.Node().store.KeptDone(oldID.String()); !done {
				return errors.New("not yet")
			}
			return nil
		})
		if kept, known := x.Node().KeptRecord(oldID.String(), midRec.Record.Seq, mid); !kept || !known {
			t.Fatalf("%s: the transport record kept %v, known %v", x.name, kept, known)
		}
		if _, added, err := x.Node().accept("", forkMid.Raw, c.ID()); !errors.Is(err, protocol.ErrNotAuthorised) || added {
			t.Fatalf("%s took a record of the old key off the kept chain at sequence %d: added %v, err %v", x.name, midRec.Record.Seq, added, err)
		}
		if x.Node().store.Has(mid) {
			t.Fatalf("%s stored a record of a topic it does not follow while learning the chain", x.name)
		}
	}
}

// One member sending search queries as fast as it can: beyond the per-peer
// burst the node answers "busy" without running them, and counts them.
func TestSearchFloodBusy(t *testing.T) {
	_, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	publish(t, a, "Village bus on demand", "transport")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, busy := 0, 0
	start := time.Now()
	const asked = 60
	bh := b.Node().net.host
	for range asked {
		s, err := bh.NewStream(ctx, a.ID(), protocol.SearchProtocol)
		if err != nil {
			t.Fatal(err)
		}
		var ans SearchAnswer
		exchange(t, s, &SearchRequest{Query: search.Query{Text: "bus"}}, &ans, maxSearchAnswer)
		switch ans.Status {
		case protocol.StatusOK:
			ok++
		case protocol.StatusBusy:
			busy++
		default:
			t.Fatalf("answer status %d: %s", ans.Status, ans.Error)
		}
	}
	elapsed := time.Since(start)
	allowed := 2*searchPerPeerRPS + int(math.Ceil(elapsed.Seconds()*searchPerPeerRPS))
	t.Logf("%d queries in %s: %d answered, %d busy (allowed %d)", asked, elapsed.Round(time.Millisecond), ok, busy, allowed)
	if ok < 2*searchPerPeerRPS || ok > allowed || ok+busy != asked {
		t.Fatalf("%d answered and %d busy of %d, want between %d and %d answered", ok, busy, asked, 2*searchPerPeerRPS, allowed)
	}
	if got := rejected(t, a, "search_rate_limited"); got != float64(busy) {
		t.Fatalf("%.0f refusals counted, %d answered busy", got, busy)
	}
	time.Sleep(time.Second)
	if _, err := b.Node().askSearch(ctx, a.ID(), search.Query{Text: "bus"}); err != nil {
		t.Fatalf("a query a second later: %v", err)
	}
}

// apiCall calls the node's API with the token and returns status and body.
func (ln *liveNode) apiCall(method, path, body string, hdr map[string]string) (int, string) {
	ln.t.Helper()
	req, err := http.NewRequest(method, ln.base+path, strings.NewReader(body))
	if err != nil {
		ln.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+ln.token)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ln.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The HTTP API refuses bodies over the limit with 413 before reading them
// to the end.
func TestAPIBodyLimit(t *testing.T) {
	ln := startLiveNode(t, "A", liveOptions{found: true, api: true, level: slog.LevelInfo})
	limit := ln.n.Config().Limits.MaxRequestKB << 10
	big := `{"title": "` + strings.Repeat("x", limit+1024) + `", "topics": ["transport"]}`
	code, body := ln.apiCall("POST", "/api/v1/practices", big, nil)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too_large") {
		t.Fatalf("a %d-byte practice: %d %s", len(big), code, testkit.Tail(body, 3))
	}
	code, body = ln.apiCall("POST", "/api/v1/join", `{"token": "`+strings.Repeat("y", 20<<10)+`"}`, nil)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 20 KiB join request: %d %s", code, testkit.Tail(body, 3))
	}
	// Headers over the server's limit are refused too.
	code, _ = ln.apiCall("GET", "/api/v1/status", "", map[string]string{"X-Padding": strings.Repeat("z", 128<<10)})
	if code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("128 KiB of headers: %d", code)
	}
	if code, _ := ln.apiCall("GET", "/api/v1/status", "", nil); code != http.StatusOK {
		t.Fatalf("status after the refusals: %d", code)
	}
}

// A client that sends its request headers a line at a time, slowly
// (slowloris), is cut off after the server's header timeout while other
// clients are served.
func TestAPISlowClientCutOff(t *testing.T) {
	t.Parallel()
	ln := startLiveNode(t, "A", liveOptions{found: true, api: true, level: slog.LevelInfo})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ln.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan time.Duration, 1)
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes
		closed <- time.Since(start)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case d := <-closed:
			t.Logf("the slow client was cut off after %s (%d header lines sent)", d.Round(100*time.Millisecond), i)
			if d < 2*time.Second {
				t.Fatalf("cut off after %s: too early to be the header timeout", d)
			}
			return
		case <-tick.C:
			if i == 5 {
				// Meanwhile a normal client is served.
				if code, _ := ln.apiCall("GET", "/api/v1/status", "", nil); code != http.StatusOK {
					t.Fatalf("a normal request during the slow one: %d", code)
				}
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("a client sending a header line a second was not cut off in 30 s")
			}
			// The write fails once the server closed the connection; the
			// read side reports it.
			io.WriteString(conn, fmt.Sprintf("X-Slow-%d: 1\r\n", i))
		}
	}
}

// Every answer, of the API and of the web UI, errors included, carries the
// security headers.
func TestSecurityHeaders(t *testing.T) {
	ln := startLiveNode(t, "A", liveOptions{found: true, api: true, level: slog.LevelInfo})
	for _, c := range []struct {
		path string
		auth bool
	}{{"/api/v1/health", false}, {"/api/v1/status", true}, {"/api/v1/status", false}, {"/api/v1/nothing", true},
		{"/", false}, {"/practices", false}, {"/static/nothing.css", false}} {
		req, _ := http.NewRequest("GET", ln.base+c.path, nil)
		if c.auth {
			req.Header.Set("Authorization", "Bearer "+ln.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s (%d): Content-Security-Policy %q", c.path, resp.StatusCode, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s (%d): X-Frame-Options %q, X-Content-Type-Options %q, Referrer-Policy %q", c.path, resp.StatusCode,
				h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

// No secret ends up in the node's log, at debug level, whatever the
// client does with it: the API token (as Bearer, as X-API-Key, a wrong
// one), the feed token, an invite token (created, used to join, garbled),
// a password and a session.
func TestNoSecretsInLogs(t *testing.T) {
	const user, pass = "aino", "kantele-2024-secret"
	a := startLiveNode(t, "A", liveOptions{found: true, api: true, level: slog.LevelDebug, user: user, pass: pass})
	b := startLiveNode(t, "B", liveOptions{api: true, level: slog.LevelDebug})
	secrets := map[string]string{"API token": a.token, "B's API token": b.token, "feed token": FeedToken(a.token),
		"password": pass}

	// API calls, right and wrong.
	pr := `{"title": "Village bus on demand", "summary": "Booked by phone.", "language": "en", "topics": ["transport"]}`
	if code, body := a.apiCall("POST", "/api/v1/practices", pr, nil); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("publish: %d %s", code, body)
	}
	a.apiCall("GET", "/api/v1/status", "", map[string]string{"Authorization": "", "X-API-Key": a.token})
	wrong := "wrong-" + a.token[:20]
	secrets["wrong token"] = wrong
	if code, _ := a.apiCall("GET", "/api/v1/members", "", map[string]string{"Authorization": "Bearer " + wrong}); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", code)
	}
	a.apiCall("GET", "/api/v1/search?q=bus", "", nil)
	a.apiCall("GET", "/feeds/transport.atom?token="+url.QueryEscape(FeedToken(a.token)), "", map[string]string{"Authorization": ""})
	a.apiCall("GET", "/feeds/transport.atom?token="+url.QueryEscape(wrong), "", map[string]string{"Authorization": ""})

	// An invite: created by A, garbled, then used by B to join.
	code, body := a.apiCall("POST", "/api/v1/invites", "", nil)
	if code != http.StatusCreated {
		t.Fatalf("invite: %d %s", code, body)
	}
	var inv struct{ Token string }
	if err := json.Unmarshal([]byte(body), &inv); err != nil || inv.Token == "" {
		t.Fatalf("invite answer %s: %v", body, err)
	}
	secrets["invite token"] = inv.Token
	garbled := inv.Token[:len(inv.Token)-4] + "AAAA"
	secrets["garbled invite"] = garbled
	if code, _ := b.apiCall("POST", "/api/v1/join", `{"token": "`+garbled+`"}`, nil); code == http.StatusOK {
		t.Fatalf("a garbled invite was accepted")
	}
	if code, body := b.apiCall("POST", "/api/v1/join", `{"token": "`+inv.Token+`"}`, nil); code != http.StatusOK {
		t.Fatalf("join: %d %s", code, body)
	}
	if code, _ := b.apiCall("POST", "/api/v1/join", `{"token": "`+inv.Token+`"}`, nil); code == http.StatusOK {
		t.Logf("joining again with the used invite answered 200 (already a member)")
	}

	// The web UI: a wrong password, then a session.
	br := newTestBrowser(t, a.base)
	_, page := br.get("/")
	br.post("/signin", url.Values{"csrf": {csrfOf(t, page)}, "username": {user}, "password": {pass + "x"}})
	secrets["wrong password"] = pass + "x"
	if code, _ := br.signIn(user, pass); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	u, _ := url.Parse(a.base)
	for _, ck := range br.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "livinglab_session_") {
			secrets["session"] = ck.Value
		}
	}
	if secrets["session"] == "" {
		t.Fatalf("no session cookie after signing in")
	}
	br.get("/practices")
	br.get("/federation")

	time.Sleep(500 * time.Millisecond)
	logs := a.log.String() + b.log.String()
	if !strings.Contains(logs, "signed in") || !strings.Contains(logs, "failed sign-in") || !strings.Contains(logs, "joined federation") {
		t.Fatalf("the log misses the events it should record:\n%s", testkit.Tail(logs, 30))
	}
	for what, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for: %q", what, s)
		}
		if i := strings.Index(logs, s); i >= 0 {
			line := logs[strings.LastIndex(logs[:i], "\n")+1:]
			line, _, _ = strings.Cut(line, "\n")
			t.Errorf("the %s appears in the log: %s", what, line)
		}
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
	}
	t.Logf("%d log lines checked for %d secrets", lines, len(secrets))
	if testing.Verbose() {
		t.Log(logs)
	}
}

// A region's own node does not sign records beyond the federation's
// publishing limit: the others would refuse them, and the sequence of own
// records has no gap.
func TestOwnPublishingLimit(t *testing.T) {
	_, nodes := newFederation(t, 1)
	a := nodes[0]
	if err := a.Node().updateConfig(func(c *Config) { c.Limits.PublishPerMin, c.Limits.PublishBurst = 1, 2 }); err != nil {
		t.Fatal(err)
	}
	// A burst of 2 refilled at 1 a minute: at most 3 signed in one minute.
	// The three may straddle a minute boundary, which leaves room for
	// one more; four in a row never fit.
	var last cid.Cid
	refused := false
	for i := range 5 {
		in := PracticeInput{Practice: protocol.Practice{Title: fmt.Sprintf("Limited %d", i), Summary: "Volunteers co-designed it.",
			Language: "en"}, Topics: []string{"transport"}}
		out, err := a.Node().PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
		if errors.Is(err, ErrPublishLimit) {
			if i < 3 {
				t.Fatalf("record %d refused: %v", i, err)
			}
			refused = true // the API's answer to it: node/api's TestErrorAnswers
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if last.Defined() && out.Record.Record.Prev != last.String() {
			t.Fatalf("record %d follows %s, want %s", i, out.Record.Record.Prev, last)
		}
		last = out.Record.CID
	}
	if !refused {
		t.Fatal("five records in a row were all signed under a limit of 2 at once and 1 a minute")
	}
}

// A member that publishes more than the burst at once reaches the others
// all the same: what their arrival rate refused live is fetched from the
// author once the rate allows it, well before the next periodic sync.
func TestBurstBeyondArrivalRateFollowedUp(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, catchupTopic, a)
	// B: 5 records at once, then 10 a second, from any author; no
	// periodic sync within the test.
	if err := b.Node().updateConfig(func(c *Config) {
		c.Limits.PublishBurst, c.Limits.PublishPerMin = 5, 600
		c.Sync.Interval = Duration(time.Hour)
	}); err != nil {
		t.Fatal(err)
	}
	before := rejectedBy(t, b.Node(), "rate_limited")
	cids := publishMany(t, catchupTopic, 30, a)
	took := waitHoldsAll(t, b, cids, 15*time.Second)
	refused := rejectedBy(t, b.Node(), "rate_limited") - before
	t.Logf("B holds all %d records %s after A published them; %v refused on the way", len(cids), took.Round(time.Millisecond), refused)
	if refused == 0 {
		t.Fatalf("B's arrival rate refused none of a burst of %d (burst 5): the test tests nothing", len(cids))
	}
}

// A record the removed member retracted before its removal is gone from
// every node, so the chain of kept records cannot be followed past it:
// the records below it stay valid (a node that joins later still gets
// them), judged only by the held-record rule.
func TestKeptChainBelowRetraction(t *testing.T) {
	const topic = "elderly-care"
	f, a, b, c := sharedTopicFederation(t, topic)
	first := publish(t, b, "Kept, below the retraction", topic)
	gone := publish(t, b, "Retracted before the removal", topic)
	last := publish(t, b, "Kept, the last one", topic)
	for _, x := range []*testNode{a, c} {
		waitHas(t, x, last, 5*time.Second)
	}
	tomb, err := b.Node().Retract(context.Background(), gone, "withdrawn by the region")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the retraction reaches A and C", func() error {
		for _, x := range []*testNode{a, c} {
			if x.Node().store.Has(gone) {
				return fmt.Errorf("%s still holds it", x.name)
			}
		}
		return nil
	})
	firstRec, err := c.Node().store.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	goneSeq := firstRec.Record.Seq + 1
	removal, err := a.Node().RemoveMember(context.Background(), b.ID().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	// B's last record is its retraction; the chain runs back through the
	// retracted record.
	if p, _ := removal.Record.DecodePayload(); p.(*protocol.Membership).KeepUntil != tomb.CID.String() {
		t.Fatalf("the removal names %+v, want the retraction %s last", p, tomb.CID)
	}
	f.stop(b)

	d := f.addNode("D", false)
	f.admit(a, d)
	f.waitMesh(a, c, d)
	f.subscribe(d, topic, a, c)
	// Usually at once; a record or a chain walk refused while D was still
	// learning the roster comes with the next periodic sync (at most 30 s).
	const within = 45 * time.Second
	for _, x := range []*testNode{a, c, d} {
		eventually(t, within, x.name+" walks the kept chain", func() error {
			if done, floor := x.Node().store.KeptDone(b.ID().String()); !done || floor != goneSeq {
				return fmt.Errorf("done %v, floor %d (want %d)", done, floor, goneSeq)
			}
			return nil
		})
	}
	// D joined after the removal and still gets the record below the gap.
	waitHas(t, d, first, within)
	waitHas(t, d, last, within)
	// A second record for the held number below the gap is refused.
	key := mustKey(t, b.home)
	fork := signedPractice(t, key, firstRec.Record.Seq, "A second record below the gap", topic)
	if _, added, err := d.Node().accept("", fork.Raw, c.ID()); !errors.Is(err, protocol.ErrNotAuthorised) || added {
		t.Fatalf("D took a second record for a held number below the gap: added %v, err %v", added, err)
	}
}
