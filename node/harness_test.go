// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/protocol"
)

const testFederation = "improve"

// testNode is one in-process node on the mock network.
type testNode struct {
	name string
	home Home
	log  *testkit.Buffer
	f    *federation

	mu     sync.Mutex
	n      *Node
	host   host.Host
	cancel context.CancelFunc
	done   chan error
}

// Node returns the running node (it changes on restart).
func (tn *testNode) Node() *Node {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.n
}

func (tn *testNode) ID() peer.ID { return tn.Node().ID() }

// federation is a set of in-process nodes on one mock network.
type federation struct {
	t     *testing.T
	dir   string
	mn    mocknet.Mocknet
	nodes []*testNode
	port  int
}

// newHarness creates an empty mock network; nodes are added with addNode.
func newHarness(t *testing.T) *federation {
	t.Helper()
	// The directory is made before the cleanup below is registered, so
	// nodes stop before their homes are removed.
	f := &federation{t: t, dir: t.TempDir(), mn: mocknet.New(), port: 41000}
	t.Cleanup(func() {
		for _, tn := range f.nodes {
			f.stop(tn)
		}
		f.mn.Close()
		if t.Failed() {
			for _, tn := range f.nodes {
				t.Logf("--- log of %s ---\n%s", tn.name, testkit.Tail(tn.log.String(), 60))
			}
		}
	})
	return f
}

// addNode initialises a home (founding the federation when found is set)
// and starts a node on it.
func (f *federation) addNode(name string, found bool) *testNode {
	f.t.Helper()
	o := InitOptions{Region: "Region " + name, Country: "SE"}
	if found {
		o.Federation, o.Country = testFederation, "FI"
	}
	tn := f.initNode(name, o)
	bulkLimits(f.t, tn.home)
	f.start(tn)
	return tn
}

// initNode initialises a home for a node of the federation, not started.
func (f *federation) initNode(name string, o InitOptions) *testNode {
	f.t.Helper()
	dir := filepath.Join(f.dir, name)
	if _, err := Init(dir, o); err != nil {
		f.t.Fatalf("init %s: %v", name, err)
	}
	tn := &testNode{name: name, home: Home{Dir: dir}, log: &testkit.Buffer{}, f: f}
	f.nodes = append(f.nodes, tn)
	return tn
}

// start runs a node on its home with a fresh mocknet host that carries the
// home's identity, linked to every other running node.
func (f *federation) start(tn *testNode) {
	f.t.Helper()
	f.run(tn, f.mockHost(tn, nil, f.othersRunning(tn)))
}

// othersRunning lists the running nodes other than tn.
func (f *federation) othersRunning(tn *testNode) []*testNode {
	var out []*testNode
	for _, o := range f.nodes {
		if o != tn && o.running() {
			out = append(out, o)
		}
	}
	return out
}

// mockHost adds a mocknet host with tn's identity at addr (nil: the next
// loopback port) and links it to peers.
func (f *federation) mockHost(tn *testNode, addr ma.Multiaddr, peers []*testNode) host.Host {
	f.t.Helper()
	key, err := tn.home.LoadKey()
	if err != nil {
		f.t.Fatal(err)
	}
	if addr == nil {
		f.port++
		addr = ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", f.port))
	}
	h, err := f.mn.AddPeer(key, addr)
	if err != nil {
		f.t.Fatalf("mocknet host for %s: %v", tn.name, err)
	}
	for _, o := range peers {
		if _, err := f.mn.LinkPeers(h.ID(), o.host.ID()); err != nil {
			f.t.Fatal(err)
		}
	}
	return h
}

// run starts a node on tn's home over h and waits until it is ready.
func (f *federation) run(tn *testNode, h host.Host, ps ...pubsub.Option) {
	f.t.Helper()
	log := slog.New(slog.NewTextHandler(tn.log, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", tn.name)
	ready := make(chan struct{})
	n, err := New(tn.home, Options{Host: h, NoAPI: true, Logger: log, Ready: func(string) { close(ready) }, PubsubOptions: ps})
	if err != nil {
		h.Close()
		f.t.Fatalf("new node %s: %v", tn.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		h.Close()
		f.t.Fatalf("node %s stopped at start: %v", tn.name, err)
	case <-time.After(15 * time.Second):
		cancel()
		h.Close()
		f.t.Fatalf("node %s not ready in 15 s", tn.name)
	}
	tn.mu.Lock()
	tn.n, tn.host, tn.cancel, tn.done = n, h, cancel, done
	tn.mu.Unlock()
}

func (tn *testNode) running() bool {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.cancel != nil
}

// stop cancels the node, waits for Serve to return, closes its host and
// cuts its links, as if the machine went offline.
func (f *federation) stop(tn *testNode) {
	f.t.Helper()
	tn.mu.Lock()
	cancel, done, h := tn.cancel, tn.done, tn.host
	tn.cancel = nil
	tn.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			f.t.Errorf("node %s: Serve returned %v", tn.name, err)
		}
	case <-time.After(20 * time.Second):
		f.t.Errorf("node %s: Serve did not return within 20 s of cancel", tn.name)
	}
	h.Close()
	for _, o := range f.mn.Peers() {
		for _, l := range f.mn.LinksBetweenPeers(h.ID(), o) {
			f.mn.Unlink(l)
		}
	}
}

// restart stops a node and starts it again on the same home.
func (f *federation) restart(tn *testNode) {
	f.t.Helper()
	f.stop(tn)
	f.start(tn)
}

// admit invites tn through the inviter and joins it.
func (f *federation) admit(inviter, tn *testNode) {
	f.t.Helper()
	tok, exp, err := inviter.Node().Invite()
	if err != nil {
		f.t.Fatalf("invite from %s: %v", inviter.name, err)
	}
	if time.Until(exp) < time.Hour {
		f.t.Fatalf("invite expires at %s", exp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tn.Node().Join(ctx, tok); err != nil {
		f.t.Fatalf("%s joins: %v", tn.name, err)
	}
}

// newFederation starts n nodes: node 0 founds the federation and admits
// the others; it returns once every node lists every member and every two
// nodes are connected.
func newFederation(t *testing.T, n int) (*federation, []*testNode) {
	t.Helper()
	f := newHarness(t)
	names := "ABCDEFGH"
	nodes := []*testNode{f.addNode(names[:1], true)}
	for i := 1; i < n; i++ {
		tn := f.addNode(names[i:i+1], false)
		f.admit(nodes[0], tn)
		nodes = append(nodes, tn)
	}
	f.waitMesh(nodes...)
	return f, nodes
}

// waitMesh waits until each of nodes lists all of them as members and is
// connected to the others.
func (f *federation) waitMesh(nodes ...*testNode) {
	f.t.Helper()
	eventually(f.t, 20*time.Second, "federation fully connected", func() error {
		for _, a := range nodes {
			for _, b := range nodes {
				if !a.Node().roster.IsMember(b.ID()) {
					return fmt.Errorf("%s does not list %s as a member", a.name, b.name)
				}
				if a != b && a.host.Network().Connectedness(b.ID()) != network.Connected {
					return fmt.Errorf("%s is not connected to %s", a.name, b.name)
				}
			}
		}
		return nil
	})
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// subscribe subscribes tn to topic and waits until every other running
// node in others has heard of the subscription (so gossip reaches it).
func (f *federation) subscribe(tn *testNode, topic string, others ...*testNode) {
	f.t.Helper()
	if err := tn.Node().Subscribe(context.Background(), topic); err != nil {
		f.t.Fatalf("%s subscribes %s: %v", tn.name, topic, err)
	}
	gt := protocol.GossipTopic(testFederation, topic)
	// Usually milliseconds; after a node restarted with the same identity
	// the others' gossipsub may first write to the old connection's dead
	// stream and announce subscriptions only after its backoff, which on
	// a loaded machine has taken over 10 s.
	eventually(f.t, 30*time.Second, tn.name+"'s subscription to "+topic+" is known", func() error {
		for _, o := range others {
			if !slices.Contains(o.Node().net.ps.ListPeers(gt), tn.ID()) {
				return fmt.Errorf("%s does not know", o.name)
			}
		}
		return nil
	})
}

var practiceCounter struct {
	sync.Mutex
	n int
}

// publish publishes a practice on tn and returns its CID.
func publish(t testing.TB, tn *testNode, title string, topics ...string) cid.Cid {
	t.Helper()
	practiceCounter.Lock()
	practiceCounter.n++
	k := practiceCounter.n
	practiceCounter.Unlock()
	in := PracticeInput{Practice: protocol.Practice{Title: fmt.Sprintf("%s (%d)", title, k),
		Summary:  "Volunteers and nurses co-designed the service with residents.",
		Approach: "Weekly co-design workshops in the village hall.", Language: "en"}, Topics: topics}
	out, err := tn.Node().PublishPractice(context.Background(), in, Review{FailClosed: true}, false)
	if err != nil {
		t.Fatalf("%s publishes %q: %v", tn.name, title, err)
	}
	c, err := cid.Decode(out.CID)
	if err != nil || !c.Equals(out.Record.CID) {
		t.Fatalf("published CID %q: %v", out.CID, err)
	}
	return c
}

// waitHas waits until tn holds c.
func waitHas(t testing.TB, tn *testNode, c cid.Cid, timeout time.Duration) time.Duration {
	t.Helper()
	return eventually(t, timeout, tn.name+" holds "+c.String(), func() error {
		if !tn.Node().store.Has(c) {
			return fmt.Errorf("not held")
		}
		return nil
	})
}

// rejected returns how many records tn refused for reason (a label of
// livinglab_records_rejected_total).
func rejected(t testing.TB, tn *testNode, reason string) float64 {
	t.Helper()
	return rejectedBy(t, tn.Node(), reason)
}

// bulkLimits raises a home's publishing limit far above the default, for
// tests that publish hundreds of records in a second; the tests of the
// limit itself set their own.
func bulkLimits(t testing.TB, h Home) {
	t.Helper()
	changeConfig(t, h, func(cfg *Config) {
		cfg.Limits.PublishPerMin, cfg.Limits.PublishBurst = 100_000, 100_000
	})
}

// changeConfig changes the configuration in home h.
func changeConfig(t testing.TB, h Home, change func(*Config)) {
	t.Helper()
	cfg, err := LoadConfig(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	change(&cfg)
	if err := SaveConfig(h.Config(), cfg); err != nil {
		t.Fatal(err)
	}
}

// channelFederation starts three regions: B follows elderly-care, C
// transport, and A may publish beyond the federation's per-author limit,
// so that its later records still go out live.
func channelFederation(t *testing.T) (f *federation, a, b, c *testNode) {
	t.Helper()
	f, nodes := newFederation(t, 3)
	a, b, c = nodes[0], nodes[1], nodes[2]
	if err := a.Node().updateConfig(func(c *Config) { c.Limits.PublishBurst = 1000 }); err != nil {
		t.Fatal(err)
	}
	f.subscribe(b, "elderly-care", a, c)
	f.subscribe(c, "transport", a, b)
	return f, a, b, c
}

// sharedTopicFederation starts three regions of which A and C follow topic.
func sharedTopicFederation(t *testing.T, topic string) (f *federation, a, b, c *testNode) {
	t.Helper()
	f, nodes := newFederation(t, 3)
	a, b, c = nodes[0], nodes[1], nodes[2]
	f.subscribe(a, topic, b, c)
	f.subscribe(c, topic, a, b)
	return f, a, b, c
}

// mustInvite has tn issue an invite and returns the token and what it says.
func mustInvite(t testing.TB, tn *testNode) (string, *protocol.Invite) {
	t.Helper()
	tok, _, err := tn.Node().Invite()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := protocol.ParseInvite(tok, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok, inv
}

// mustKey reads the private key of the node whose home is h.
func mustKey(t testing.TB, h Home) crypto.PrivKey {
	t.Helper()
	key, err := h.LoadKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// ownHead returns what tn's next own record continues: its key, the last
// sequence number it signed and that record's CID.
func ownHead(t testing.TB, tn *testNode) (crypto.PrivKey, uint64, string) {
	t.Helper()
	key := mustKey(t, tn.home)
	seq, prev, err := tn.Node().store.LastOwn()
	if err != nil {
		t.Fatal(err)
	}
	return key, seq, prev
}

// startLoopback makes a node on h that listens on real loopback sockets,
// with the API when api is set, logging at level into log, and serves it
// until the test ends. It returns the node and the API address ("" without
// the API).
func startLoopback(t *testing.T, h Home, name string, level slog.Level, api bool, log *testkit.Buffer) (*Node, string) {
	t.Helper()
	ready := make(chan string, 1)
	opts := Options{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Ready: func(a string) { ready <- a },
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: level})).With("node", name)}
	if api {
		opts.API = "127.0.0.1:0"
	} else {
		opts.NoAPI = true
	}
	n, err := New(h, opts)
	if err != nil {
		t.Fatal(err)
	}
	return n, serveUntilCleanup(t, n, name, ready, log)
}

// serveUntilCleanup serves n on real sockets until the test ends and
// returns the address its Ready reported ("" without the API). When the
// test fails, the end of the node's log is printed.
func serveUntilCleanup(t *testing.T, n *Node, name string, ready <-chan string, log *testkit.Buffer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("node %s stopped: %v", name, err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("node %s not ready in 60 s", name)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node %s: Serve: %v", name, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("node %s did not stop in 20 s", name)
		}
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, testkit.Tail(log.String(), 40))
		}
	})
	return addr
}
