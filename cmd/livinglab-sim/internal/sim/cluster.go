// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// Federation is the name of the simulated federation.
const Federation = "sim"

var countries = []string{"FI", "SE", "NO", "DK", "IS", "IE", "EE", "GB"}

// Cluster is a set of real livinglab nodes in this process, on one
// libp2p mock network whose links all have the same latency.
type Cluster struct {
	Dir     string
	MN      mocknet.Mocknet
	Log     *slog.Logger
	Latency time.Duration
	delay   time.Duration // added by the metered hosts
	// SyncInterval is written into every node's config. It is long by
	// default so that what gossip delivers is measured apart from the
	// periodic catch-up.
	SyncInterval time.Duration

	mu      sync.Mutex
	nodes   []*SimNode
	port    int
	founder peer.ID
}

// SimNode is one node of a cluster. Its home persists across restarts;
// its host, node and event log are replaced on each start.
type SimNode struct {
	Name   string
	Index  int
	Home   node.Home
	ID     peer.ID
	Topics []string
	Meter  *Meter // cumulative over restarts

	c      *Cluster
	mu     sync.Mutex
	n      *node.Node
	host   host.Host
	cancel context.CancelFunc
	done   chan error
	stored map[cid.Cid]time.Time // first time each record was stored (any instance)
}

// MocknetLatency selects the mock network's own link latency instead of
// the pipelined latency the metered hosts add (see LinkModel).
var MocknetLatency = false

// LinkModel describes how link latency is simulated.
func LinkModel() string {
	if MocknetLatency {
		return "mocknet link latency (each write on a stream waits until the previous one arrived)"
	}
	return "pipelined: each write reaches the other end one latency later, writes do not wait for each other"
}

// newMocknet returns a mock network and the delay hosts must add.
func newMocknet(latency time.Duration) (mocknet.Mocknet, time.Duration) {
	mn := mocknet.New()
	if MocknetLatency {
		mn.SetLinkDefaults(mocknet.LinkOptions{Latency: latency})
		return mn, 0
	}
	return mn, latency
}

// NodeLog receives the logs of every node a cluster starts (nothing by
// default).
var NodeLog = slog.New(slog.DiscardHandler)

// newScenario makes a scenario's random generator (stream picks it out of
// those of the seed) and its cluster in dir/name.
func newScenario(dir, name string, latency time.Duration, seed, stream uint64) (*rand.Rand, *Cluster, error) {
	c, err := NewCluster(filepath.Join(dir, name), latency, nil)
	return rand.New(rand.NewPCG(seed, stream)), c, err
}

// NewCluster creates an empty cluster working in dir; log defaults to
// NodeLog.
func NewCluster(dir string, latency time.Duration, log *slog.Logger) (*Cluster, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if log == nil {
		log = NodeLog
	}
	mn, delay := newMocknet(latency)
	return &Cluster{Dir: dir, MN: mn, Log: log, Latency: latency, delay: delay, SyncInterval: time.Hour, port: 20000}, nil
}

// Nodes returns the cluster's nodes in creation order.
func (c *Cluster) Nodes() []*SimNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// AddNode initialises a home: founder founds the federation. The config
// subscribes topics and switches off LAN and DHT discovery (mocknet has
// neither) and periodic sync (see SyncInterval).
func (c *Cluster) AddNode(name string, founder bool, topics []string) (*SimNode, error) {
	c.mu.Lock()
	idx := len(c.nodes)
	c.mu.Unlock()
	dir := filepath.Join(c.Dir, name)
	o := node.InitOptions{Region: "Region " + name, Country: countries[idx%len(countries)]}
	if founder {
		o.Federation = Federation
	}
	id, err := node.Init(dir, o)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", name, err)
	}
	h := node.Home{Dir: dir}
	cfg, err := node.LoadConfig(h.Config())
	if err != nil {
		return nil, err
	}
	cfg.Topics = slices.Clone(topics)
	cfg.Discovery = node.DiscoveryConfig{}
	cfg.NAT = node.NATConfig{}
	cfg.Sync.Interval = node.Duration(c.SyncInterval)
	// Scenarios publish hundreds of records a second from one region and
	// prefill stores with a record a second: the simulated federation
	// sets its per-author limit far above that (the attack scenario sets
	// the default back on its nodes).
	cfg.Limits.PublishPerMin, cfg.Limits.PublishBurst = 1_000_000, 1_000_000
	if err := node.SaveConfig(h.Config(), cfg); err != nil {
		return nil, err
	}
	sn := &SimNode{Name: name, Index: idx, Home: h, ID: id, Topics: slices.Clone(topics), Meter: NewMeter(), c: c,
		stored: map[cid.Cid]time.Time{}}
	c.mu.Lock()
	c.nodes = append(c.nodes, sn)
	if founder {
		c.founder = id
	}
	c.mu.Unlock()
	return sn, nil
}

// Node returns the running node, nil when stopped.
func (sn *SimNode) Node() *node.Node {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.n
}

// Host returns the node's current mocknet host (unwrapped).
func (sn *SimNode) Host() host.Host {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.host
}

// Running tells whether the node serves.
func (sn *SimNode) Running() bool { return sn.Node() != nil }

// StoredAt returns when the node first stored c.
func (sn *SimNode) StoredAt(c cid.Cid) (time.Time, bool) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	t, ok := sn.stored[c]
	return t, ok
}

// StoredCount returns how many records the node's event log holds.
func (sn *SimNode) StoredCount() int {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return len(sn.stored)
}

// Subscribes tells whether the node follows topic.
func (sn *SimNode) Subscribes(topic string) bool { return slices.Contains(sn.Topics, topic) }

// StartOptions adjust one start of a node.
type StartOptions struct {
	// BeforeServe runs on the new node before it serves (prefill its store).
	BeforeServe func(*node.Node) error
	// NoLinks leaves the new host unlinked from the others.
	NoLinks bool
	// ReadyTimeout bounds start-up (index rebuilds of large stores).
	ReadyTimeout time.Duration
}

// Start runs the node with a fresh mocknet host carrying its key, linked
// to every running node.
func (c *Cluster) Start(sn *SimNode, so StartOptions) error {
	key, err := sn.Home.LoadKey()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.port++
	port := c.port
	c.mu.Unlock()
	h, err := c.MN.AddPeer(key, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)))
	if err != nil {
		return fmt.Errorf("mocknet host for %s: %w", sn.Name, err)
	}
	if !so.NoLinks {
		for _, o := range c.Nodes() {
			if o != sn && o.Running() {
				if _, err := c.MN.LinkPeers(h.ID(), o.Host().ID()); err != nil {
					h.Close()
					return err
				}
			}
		}
	}
	ready := make(chan struct{})
	n, err := node.New(sn.Home, node.Options{Host: NewMeteredHost(h, sn.Meter, c.delay), NoAPI: true,
		Logger: c.Log.With("node", sn.Name), Ready: func(string) { close(ready) }})
	if err != nil {
		h.Close()
		return fmt.Errorf("new node %s: %w", sn.Name, err)
	}
	if so.BeforeServe != nil {
		if err := so.BeforeServe(n); err != nil {
			n.Close()
			h.Close()
			return err
		}
	}
	evs, stopEvs := n.Events(1 << 16)
	go func() {
		for ev := range evs {
			if ev.Type != "record" || ev.Record == nil {
				continue
			}
			// When the node stored it, not when this goroutine got to
			// run: on a busy machine that can be milliseconds later.
			t := ev.At
			sn.mu.Lock()
			if _, ok := sn.stored[ev.Record.CID]; !ok {
				sn.stored[ev.Record.CID] = t
			}
			sn.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := n.Serve(ctx)
		stopEvs()
		done <- err
	}()
	timeout := so.ReadyTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	select {
	case <-ready:
	case err := <-done:
		cancel()
		h.Close()
		return fmt.Errorf("node %s stopped at start: %v", sn.Name, err)
	case <-time.After(timeout):
		cancel()
		h.Close()
		return fmt.Errorf("node %s not ready within %s", sn.Name, timeout)
	}
	sn.mu.Lock()
	sn.n, sn.host, sn.cancel, sn.done = n, h, cancel, done
	sn.mu.Unlock()
	return nil
}

// Stop cancels the node, waits for Serve to return, closes its host and
// removes its links, as if the machine went offline.
func (c *Cluster) Stop(sn *SimNode) error {
	sn.mu.Lock()
	cancel, done, h := sn.cancel, sn.done, sn.host
	sn.cancel, sn.n = nil, nil
	sn.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("node %s: Serve did not return within 60 s of cancel", sn.Name)
	}
	h.Close()
	for _, o := range c.MN.Peers() {
		for _, l := range c.MN.LinksBetweenPeers(h.ID(), o) {
			c.MN.Unlink(l)
		}
	}
	return err
}

// Close stops every node and the mock network.
func (c *Cluster) Close() error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, sn := range c.Nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Stop(sn); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.MN.Close()
	return errors.Join(errs...)
}

// Join admits sn through inviter with an invite token, as a person would.
func (c *Cluster) Join(inviter, sn *SimNode) error {
	tok, _, err := inviter.Node().Invite()
	if err != nil {
		return fmt.Errorf("invite from %s: %w", inviter.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sn.Node().Join(ctx, tok); err != nil {
		return fmt.Errorf("%s joins: %w", sn.Name, err)
	}
	return nil
}

// PreAdmit admits members offline: the founder signs their admissions into
// its own store, every member's store receives the federation's control
// records and its config names the federation. No node may be running.
func (c *Cluster) PreAdmit(founder *SimNode, members []*SimNode) error {
	fst, err := knowledge.Open(founder.Home.Store(), knowledge.Options{})
	if err != nil {
		return err
	}
	defer fst.Close()
	a, err := HomeAuthor(founder.Home, fst)
	if err != nil {
		return err
	}
	for _, m := range members {
		mcfg, err := node.LoadConfig(m.Home.Config())
		if err != nil {
			return err
		}
		rec, err := a.Next(&protocol.Membership{Action: protocol.ActionAdmit, Member: m.ID.String(), Region: mcfg.Region,
			Country: mcfg.Country, Role: protocol.RoleMember}, nil, time.Now())
		if err != nil {
			return err
		}
		if _, err := fst.PutOwn(rec); err != nil {
			return err
		}
	}
	ctl, err := fst.List(knowledge.ListOptions{Topic: protocol.ControlTopic, IncludeOld: true})
	if err != nil {
		return err
	}
	for _, m := range members {
		st, err := knowledge.Open(m.Home.Store(), knowledge.Options{})
		if err != nil {
			return err
		}
		for _, rec := range ctl {
			if _, err := st.Put(rec); err != nil {
				st.Close()
				return err
			}
		}
		if err := st.Close(); err != nil {
			return err
		}
		cfg, err := node.LoadConfig(m.Home.Config())
		if err != nil {
			return err
		}
		cfg.Federation = node.FederationConfig{Name: Federation, Founder: founder.ID.String()}
		if err := node.SaveConfig(m.Home.Config(), cfg); err != nil {
			return err
		}
	}
	return nil
}

// Connected tells whether a and b have a live connection.
func Connected(a, b *SimNode) bool {
	h := a.Host()
	return h != nil && h.Network().Connectedness(b.ID) == network.Connected
}

// WaitFederated waits until every node lists every other as a member and
// is connected to it. After wait, pairs still unconnected are connected
// explicitly; it returns how many were.
func (c *Cluster) WaitFederated(nodes []*SimNode, wait time.Duration) (int, error) {
	missing := func() ([][2]*SimNode, error) {
		var out [][2]*SimNode
		for _, a := range nodes {
			for _, b := range nodes {
				if a == b {
					continue
				}
				if !a.Node().IsMember(b.ID) {
					return nil, fmt.Errorf("%s does not list %s as a member", a.Name, b.Name)
				}
				if a.Index < b.Index && !Connected(a, b) {
					out = append(out, [2]*SimNode{a, b})
				}
			}
		}
		return out, nil
	}
	deadline := time.Now().Add(wait)
	for {
		m, err := missing()
		if err == nil && len(m) == 0 {
			return 0, nil
		}
		// Membership must spread by itself (gossip, sync); connections
		// are made explicitly once the bounded wait is over.
		if err != nil && time.Now().After(deadline.Add(wait)) {
			return 0, err
		}
		if err == nil && time.Now().After(deadline) {
			for _, p := range m {
				if _, err := c.MN.ConnectPeers(p[0].ID, p[1].ID); err != nil {
					return 0, fmt.Errorf("connect %s-%s: %w", p[0].Name, p[1].Name, err)
				}
			}
			return len(m), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitSubscriptions waits until every node's gossipsub knows every other
// subscriber of each topic it follows.
func (c *Cluster) WaitSubscriptions(nodes []*SimNode, wait time.Duration) error {
	subs := map[string]int{}
	for _, sn := range nodes {
		for _, t := range sn.Topics {
			subs[t]++
		}
	}
	deadline := time.Now().Add(wait)
	for {
		var bad error
		for _, sn := range nodes {
			for _, ts := range sn.Node().Status().Topics {
				want := subs[ts.Topic] - 1
				if ts.Topic == protocol.ControlTopic {
					want = len(nodes) - 1
				}
				if ts.MeshPeers < want {
					bad = fmt.Errorf("%s knows %d of %d subscribers of %s", sn.Name, ts.MeshPeers, want, ts.Topic)
				}
			}
		}
		if bad == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return bad
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitQuiet waits until no node opened a sync stream for quiet, at most
// wait.
func (c *Cluster) WaitQuiet(nodes []*SimNode, quiet, wait time.Duration) time.Duration {
	count := func() int64 {
		var s int64
		for _, sn := range nodes {
			s += sn.Meter.Snapshot().Opened[CatSync]
		}
		return s
	}
	start := time.Now()
	last, lastChange := count(), time.Now()
	for time.Since(start) < wait {
		time.Sleep(100 * time.Millisecond)
		if n := count(); n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) >= quiet {
			break
		}
	}
	return time.Since(start)
}

// SyncRound makes every running node sync each topic it follows with a
// random running member, par exchanges at a time. It returns the exchanges'
// results.
func (c *Cluster) SyncRound(ctx context.Context, nodes []*SimNode, rng *rand.Rand, par int) []node.SyncResult {
	type job struct {
		sn    *SimNode
		topic string
		p     peer.ID
	}
	var jobs []job
	var running []*SimNode
	for _, sn := range nodes {
		if sn.Running() {
			running = append(running, sn)
		}
	}
	for _, sn := range running {
		for _, t := range sn.Topics {
			if len(running) < 2 {
				continue
			}
			o := sn
			for o == sn {
				o = running[rng.IntN(len(running))]
			}
			jobs = append(jobs, job{sn, t, o.ID})
		}
	}
	out := make([]node.SyncResult, len(jobs))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n := j.sn.Node()
			if n == nil {
				return
			}
			// A busy peer answers "try again later": retry a few times.
			for try := 0; try < 5; try++ {
				res, err := n.SyncTopic(ctx, j.p, j.topic)
				out[i] = res
				if err == nil {
					return
				}
				time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	return out
}

// MeterTotal sums the nodes' meters.
func MeterTotal(nodes []*SimNode) MeterSnapshot {
	var t MeterSnapshot
	for _, sn := range nodes {
		t = t.Add(sn.Meter.Snapshot())
	}
	return t
}
