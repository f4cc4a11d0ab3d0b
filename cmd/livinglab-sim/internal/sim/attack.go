// SPDX-License-Identifier: EUPL-1.2

// This file is over 600 lines: each attack scenario and the check of its
// outcome sit together, so that what is attacked and what must hold read as one.

package sim

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// AttackConfig sets up the abuse scenario: honest regions publishing at a
// steady rate while one member floods and outsiders keep dialling in.
type AttackConfig struct {
	Nodes   int           // honest regions
	Latency time.Duration // of every link
	Records int           // honest practices published in each window
	Rate    float64       // honest publications per second
	// The federation's per-author limit (limits.publish_per_min and
	// limits.publish_burst in every node's config).
	PublishPerMin int
	PublishBurst  int
	// FloodFactor is the flooder's rate as a multiple of the limit. For
	// the first FloodValidS seconds it sends valid records only, then one
	// in InvalidEvery has a bad signature (0: never).
	FloodFactor  float64
	FloodValidS  float64
	InvalidEvery int
	// Outsiders are peers outside the federation with identities and
	// addresses of their own; each dials a random region every DialEvery.
	// The mock network has no connection gater, so each dial is first put
	// to the region's gate (Node.GateInbound, which applies its limits and
	// decisions exactly); a dial the gate accepts connects, publishes a
	// record signed by the outsider's own key and hangs up. With
	// OutsidersPastGate every dial connects, as if the gate let everyone in
	// (it does while a region has an invite open).
	Outsiders         int
	DialEvery         time.Duration
	OutsidersPastGate bool
	// SyncPush has the flooder, after the attack window, also push every
	// valid record of its flood to every region by the sync protocol.
	SyncPush bool
	Settle   time.Duration
	Seed     uint64
	Dir      string
	Log      Logf
}

// DefaultAttackConfig is the configuration of the published numbers.
func DefaultAttackConfig() AttackConfig {
	return AttackConfig{Nodes: 20, Latency: 20 * time.Millisecond, Records: 200, Rate: 10, PublishPerMin: 60,
		PublishBurst: 30, FloodFactor: 100, FloodValidS: 5, InvalidEvery: 4, Outsiders: 5,
		DialEvery: 200 * time.Millisecond, Settle: 5 * time.Second, Seed: 1, SyncPush: true}
}

// AttackResult is what the abuse scenario measured.
type AttackResult struct {
	Nodes         int     `json:"honest_nodes"`
	LinkMs        float64 `json:"link_latency_ms"`
	Records       int     `json:"records_per_window"`
	Rate          float64 `json:"rate_per_s"`
	PublishPerMin int     `json:"publish_per_min"`
	PublishBurst  int     `json:"publish_burst"`
	SetupS        float64 `json:"setup_s"`

	// Honest traffic without and with the attack.
	Baseline LatencyRun `json:"baseline"`
	Attack   LatencyRun `json:"attack"`
	// P99Ratio is the attack window's p99 over the baseline's.
	P99Ratio float64 `json:"p99_ratio"`
	// After one sync round, of the attack window's (record, subscriber) pairs.
	SyncedDelivered int     `json:"synced_delivered"`
	SyncedRatio     float64 `json:"synced_ratio"`
	SyncSessions    int     `json:"sync_sessions"`
	SyncErrors      int     `json:"sync_errors"`
	// MissingAfterSync counts, per region, deliveries still missing after
	// the sync round (regions missing none are left out).
	MissingAfterSync map[string]int `json:"missing_after_sync,omitempty"`

	// The flood.
	FloodRatePerS  float64 `json:"flood_rate_per_s"`
	FloodS         float64 `json:"flood_s"`
	FloodValid     int     `json:"flood_valid_sent"`
	FloodInvalid   int     `json:"flood_invalid_sent"`
	FloodAllowed   int     `json:"flood_allowed"` // burst + rate x duration: the most a node may store
	FloodStoredMax int     `json:"flood_stored_max"`
	FloodStoredMin int     `json:"flood_stored_min"`
	FloodUnion     int     `json:"flood_stored_union"`
	// The same after the sync round.
	FloodStoredMaxSynced int `json:"flood_stored_max_after_sync"`
	// With SyncPush: records the flooder pushed by sync, and the most of
	// the flood one node holds afterwards.
	FloodPushed          int `json:"flood_pushed,omitempty"`
	FloodStoredMaxPushed int `json:"flood_stored_max_after_push,omitempty"`
	// FloodAllowedPushed is the limit at the end of the push: burst +
	// rate x the time since the flood began (FloodPushS).
	FloodAllowedPushed int     `json:"flood_allowed_after_push,omitempty"`
	FloodPushS         float64 `json:"flood_push_s,omitempty"`
	// GraylistedAt is how many honest nodes score the flooder below the
	// graylist threshold at the end; GraylistS is when the last of them
	// did, from the first flood record (scores are read once a second).
	GraylistedAt  int     `json:"graylisted_at"`
	GraylistS     float64 `json:"graylist_s"`
	FlooderScores Dist    `json:"flooder_scores"` // across honest nodes (not ms)
	// HonestMinScore is the lowest score any honest node gave any other
	// honest member during the attack.
	HonestMinScore float64 `json:"honest_min_score"`

	// Outsiders.
	OutsiderDials       int64 `json:"outsider_dials"`
	OutsiderRefusedPre  int64 `json:"outsider_refused_before_handshake"`
	OutsiderRefusedPost int64 `json:"outsider_refused_after_handshake"`
	OutsiderConnected   int64 `json:"outsider_connected"`
	OutsiderSent        int64 `json:"outsider_records_sent"`
	OutsiderStored      int   `json:"outsider_records_stored"`

	Checks []string `json:"checks"`
	Pass   bool     `json:"pass"`
}

// RunAttack runs the abuse scenario. Honest regions and one more member,
// all admitted with invites and linked to each other over the mock
// network, each node with the configured per-author limit. The extra
// member's node is then replaced by a bare gossipsub host with the same
// key: a compromised or modified node. Honest regions publish one window
// of records undisturbed (the baseline), then a second one while the
// flooder publishes at FloodFactor times the limit and outsiders dial in
// (through the regions' connection gate, see AttackConfig.Outsiders).
// Deliveries, latency, what of the flood each region holds and the
// gossipsub scores are measured; then one sync round, measured again.
func RunAttack(ctx context.Context, cfg AttackConfig) (*AttackResult, error) {
	log := cfg.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	rng, c, err := newScenario(cfg.Dir, "attack", cfg.Latency, cfg.Seed, 3)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &AttackResult{Nodes: cfg.Nodes, LinkMs: Ms(cfg.Latency), Records: cfg.Records, Rate: cfg.Rate,
		PublishPerMin: cfg.PublishPerMin, PublishBurst: cfg.PublishBurst}

	log("attack: forming a federation of %d regions and one more member (limit %d/min, burst %d)",
		cfg.Nodes, cfg.PublishPerMin, cfg.PublishBurst)
	t0 := time.Now()
	nodes, flooderNode, err := setupLimited(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res.SetupS = round(time.Since(t0).Seconds(), 1)

	// The flooder: the member's key on a bare gossipsub host.
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	fl, err := startFlooder(fctx, c, flooderNode, nodes)
	if err != nil {
		return nil, fmt.Errorf("flooder: %w", err)
	}
	defer fl.h.Close()
	log("attack: federation ready in %.1f s; baseline window: %d records at %.0f/s", res.SetupS, cfg.Records, cfg.Rate)

	settleForWindow(ctx, c, nodes)
	base, err := publishWindow(ctx, c, nodes, cfg, rng, 0)
	if err != nil {
		return nil, err
	}
	res.Baseline = base.run
	log("attack: baseline p50 %.1f ms p99 %.1f ms, live %.2f%%", base.run.Latency.P50, base.run.Latency.P99, 100*base.run.LiveRatio)
	settleForWindow(ctx, c, nodes)

	// The attack window.
	floodRate := cfg.FloodFactor * float64(cfg.PublishPerMin) / 60
	res.FloodRatePerS = floodRate
	log("attack: attack window: flood at %.0f/s (valid only for %.0f s, then 1 in %d invalid), %d outsiders dialling every %s",
		floodRate, cfg.FloodValidS, cfg.InvalidEvery, cfg.Outsiders, cfg.DialEvery)
	actx, acancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	floodStart := time.Now()
	var floodErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		floodErr = fl.flood(actx, floodRate, cfg, rng.Uint64())
	}()
	out, err := startOutsiders(actx, c, nodes, cfg, &wg)
	if err != nil {
		acancel()
		wg.Wait()
		return nil, err
	}
	mon := monitorScores(actx, nodes, fl.id, floodStart, &wg)
	att, err := publishWindow(ctx, c, nodes, cfg, rng, 1)
	acancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if floodErr != nil {
		return nil, fmt.Errorf("flood: %w", floodErr)
	}
	res.Attack = att.run
	res.FloodS = round(fl.lastAt.Sub(floodStart).Seconds(), 2)
	res.FloodValid, res.FloodInvalid = len(fl.valid), fl.invalid
	res.FloodAllowed = cfg.PublishBurst + int(math.Ceil(res.FloodS*float64(cfg.PublishPerMin)/60))
	res.OutsiderDials, res.OutsiderSent = out.dials.Load(), out.sent.Load()
	res.OutsiderRefusedPre, res.OutsiderRefusedPost = out.refusedPre.Load(), out.refusedPost.Load()
	res.OutsiderConnected = out.connected.Load()
	if b := res.Baseline.Latency.P99; b > 0 {
		res.P99Ratio = round(res.Attack.Latency.P99/b, 2)
	}
	log("attack: attack p50 %.1f ms p99 %.1f ms (%.2fx the baseline), live %.2f%%",
		att.run.Latency.P50, att.run.Latency.P99, res.P99Ratio, 100*att.run.LiveRatio)

	res.GraylistS = mon.allAt
	if !math.IsInf(mon.honestMin, 0) {
		res.HonestMinScore = mon.honestMin
	}
	var fs []float64
	for _, sn := range nodes {
		s, ok := sn.Node().PeerScores()[fl.id]
		if !ok {
			continue
		}
		fs = append(fs, s)
		if s < node.ScoreGraylistThreshold {
			res.GraylistedAt++
		}
	}
	res.FlooderScores = Summarise(fs)
	res.FloodStoredMin, res.FloodStoredMax, res.FloodUnion = floodHeld(nodes, fl.valid)
	res.OutsiderStored = outsiderHeld(nodes, out.records())

	// One sync round: what gossip missed arrives, and what the flood left
	// spreads no further than the limit.
	for _, r := range c.SyncRound(ctx, nodes, rng, 16) {
		res.SyncSessions++
		if r.Error != "" {
			res.SyncErrors++
		}
	}
	for _, p := range att.pairs {
		if nodes[p.sub].Node().Has(p.cid) {
			res.SyncedDelivered++
		} else {
			if res.MissingAfterSync == nil {
				res.MissingAfterSync = map[string]int{}
			}
			res.MissingAfterSync[nodes[p.sub].Name]++
		}
	}
	if len(att.pairs) > 0 {
		res.SyncedRatio = float64(res.SyncedDelivered) / float64(len(att.pairs))
	}
	_, res.FloodStoredMaxSynced, _ = floodHeld(nodes, fl.valid)
	if k := outsiderHeld(nodes, out.records()); k > res.OutsiderStored {
		res.OutsiderStored = k
	}
	if cfg.SyncPush {
		if res.FloodPushed, err = fl.push(ctx, nodes); err != nil {
			log("attack: sync push: %v", err)
		}
		_, res.FloodStoredMaxPushed, _ = floodHeld(nodes, fl.valid)
		// The limit refills while the sync round and the push run.
		res.FloodPushS = round(time.Since(floodStart).Seconds(), 2)
		res.FloodAllowedPushed = cfg.PublishBurst + int(math.Ceil(res.FloodPushS*float64(cfg.PublishPerMin)/60))
		log("attack: the flooder pushed %d records by sync; a node now holds up to %d", res.FloodPushed, res.FloodStoredMaxPushed)
	}

	check := func(ok bool, format string, a ...any) {
		res.Checks = append(res.Checks, fmt.Sprintf("%s: %s", verdict(ok), fmt.Sprintf(format, a...)))
		res.Pass = res.Pass && ok
	}
	res.Pass = true
	check(res.Attack.LiveRatio >= 0.999, "honest records delivered live during the attack %.2f %% (target >= 99.9 %%)", 100*res.Attack.LiveRatio)
	check(res.SyncedRatio == 1, "after one sync round %.2f %% (target 100 %%)", 100*res.SyncedRatio)
	check(res.P99Ratio <= 1.5, "honest p99 %.1f ms under attack, %.2fx the %.1f ms without (target <= 1.5x)",
		res.Attack.Latency.P99, res.P99Ratio, res.Baseline.Latency.P99)
	check(res.FloodStoredMax <= res.FloodAllowed && res.FloodStoredMaxSynced <= res.FloodAllowed,
		"flood records held by any node: %d live, %d after sync, limit %d (burst %d + %.1f s at %d/min) of %d valid sent",
		res.FloodStoredMax, res.FloodStoredMaxSynced, res.FloodAllowed, cfg.PublishBurst, res.FloodS, cfg.PublishPerMin, res.FloodValid)
	if cfg.SyncPush {
		check(res.FloodStoredMaxPushed <= res.FloodAllowedPushed, "flood records held by any node after the flooder pushed %d by sync: %d, limit %d (burst + %.1f s since the flood began)",
			res.FloodPushed, res.FloodStoredMaxPushed, res.FloodAllowedPushed, res.FloodPushS)
	}
	check(res.GraylistedAt == len(nodes), "flooder graylisted at %d of %d honest nodes (score %.0f to %.0f; threshold %.0f), all within %.1f s",
		res.GraylistedAt, len(nodes), res.FlooderScores.Min, res.FlooderScores.Max, node.ScoreGraylistThreshold, res.GraylistS)
	check(res.HonestMinScore >= 0, "lowest score of an honest member at an honest node during the attack %.2f (target >= 0)", res.HonestMinScore)
	check(res.OutsiderStored == 0, "outsider records stored: %d of %d sent; %d dials: %d refused before the handshake, %d after it, %d connected",
		res.OutsiderStored, res.OutsiderSent, res.OutsiderDials, res.OutsiderRefusedPre, res.OutsiderRefusedPost, res.OutsiderConnected)
	for _, s := range res.Checks {
		log("attack: %s", s)
	}
	return res, nil
}

// setupLimited founds the federation on the first honest region, admits
// the others and the flooder-to-be with invites, every node with the
// configured limit, and waits until all are connected and subscribed.
func setupLimited(c *Cluster, cfg AttackConfig) ([]*SimNode, *SimNode, error) {
	add := func(name string, founder bool, topics []string) (*SimNode, error) {
		sn, err := c.AddNode(name, founder, topics)
		if err != nil {
			return nil, err
		}
		nc, err := node.LoadConfig(sn.Home.Config())
		if err != nil {
			return nil, err
		}
		nc.Limits.PublishPerMin, nc.Limits.PublishBurst = cfg.PublishPerMin, cfg.PublishBurst
		if err := node.SaveConfig(sn.Home.Config(), nc); err != nil {
			return nil, err
		}
		return sn, c.Start(sn, StartOptions{})
	}
	f, err := add("h00", true, SubsFor(DefaultTopics, 0))
	if err != nil {
		return nil, nil, err
	}
	nodes := []*SimNode{f}
	for i := 1; i < cfg.Nodes; i++ {
		sn, err := add(fmt.Sprintf("h%02d", i), false, SubsFor(DefaultTopics, i))
		if err != nil {
			return nil, nil, err
		}
		if err := c.Join(f, sn); err != nil {
			return nil, nil, err
		}
		nodes = append(nodes, sn)
	}
	fm, err := add("flooder", false, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Join(f, fm); err != nil {
		return nil, nil, err
	}
	if _, err := c.WaitFederated(append(slices.Clone(nodes), fm), 60*time.Second); err != nil {
		return nil, nil, err
	}
	if err := c.WaitSubscriptions(nodes, 60*time.Second); err != nil {
		return nil, nil, err
	}
	return nodes, fm, nil
}

// flooder is a member's key on a bare gossipsub host that publishes what
// it likes, unchecked.
type flooder struct {
	h        host.Host
	id       peer.ID
	author   *Author
	topics   map[string]*pubsub.Topic
	valid    []cid.Cid
	validRaw [][]byte
	invalid  int
	lastAt   time.Time
}

func startFlooder(ctx context.Context, c *Cluster, sn *SimNode, honest []*SimNode) (*flooder, error) {
	a, err := HomeAuthor(sn.Home, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Stop(sn); err != nil {
		return nil, err
	}
	a.Seq = 1000 // well past anything the node signed
	c.mu.Lock()
	c.port++
	port := c.port
	c.mu.Unlock()
	h, err := c.MN.AddPeer(a.Key, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)))
	if err != nil {
		return nil, err
	}
	mh := NewMeteredHost(h, NewMeter(), c.delay)
	ps, err := pubsub.NewGossipSub(ctx, mh, append(node.GossipWireOptions(), pubsub.WithFloodPublish(true), pubsub.WithPeerOutboundQueueSize(1024))...)
	if err != nil {
		h.Close()
		return nil, err
	}
	fl := &flooder{h: h, id: h.ID(), author: a, topics: map[string]*pubsub.Topic{}}
	for _, t := range DefaultTopics {
		tp, err := ps.Join(protocol.GossipTopic(Federation, t))
		if err != nil {
			h.Close()
			return nil, err
		}
		fl.topics[t] = tp
	}
	for _, o := range honest {
		if _, err := c.MN.LinkPeers(h.ID(), o.ID); err != nil {
			h.Close()
			return nil, err
		}
		if _, err := c.MN.ConnectPeers(h.ID(), o.ID); err != nil {
			h.Close()
			return nil, err
		}
	}
	// Wait until the flooder knows every subscriber: flood publishing then
	// reaches all of them directly.
	deadline := time.Now().Add(30 * time.Second)
	for _, t := range DefaultTopics {
		want := 0
		for _, o := range honest {
			if o.Subscribes(t) {
				want++
			}
		}
		for len(fl.topics[t].ListPeers()) < want {
			if time.Now().After(deadline) {
				h.Close()
				return nil, fmt.Errorf("the flooder sees %d of %d subscribers of %s", len(fl.topics[t].ListPeers()), want, t)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return fl, nil
}

// flood publishes valid practices by the flooder's key at rate per second
// over every topic until ctx ends; after cfg.FloodValidS one record in
// cfg.InvalidEvery carries a bad signature.
func (fl *flooder) flood(ctx context.Context, rate float64, cfg AttackConfig, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 5))
	start := time.Now()
	for k := 0; ; k++ {
		at := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(at)):
		}
		topic := DefaultTopics[k%len(DefaultTopics)]
		rec, err := fl.author.Practice(GenPractice(r, 9_000_000+k), []string{topic}, time.Now())
		if err != nil {
			return err
		}
		raw := rec.Raw
		bad := cfg.InvalidEvery > 0 && time.Since(start).Seconds() >= cfg.FloodValidS && k%cfg.InvalidEvery == 0
		if bad {
			if raw, err = corruptSignature(rec.Raw); err != nil {
				return err
			}
			fl.invalid++
		} else {
			fl.valid = append(fl.valid, rec.CID)
			fl.validRaw = append(fl.validRaw, rec.Raw)
		}
		if err := fl.topics[topic].Publish(ctx, raw); err != nil && ctx.Err() == nil {
			return err
		}
		fl.lastAt = time.Now()
	}
}

// push offers every valid flood record to every region with the sync
// protocol's push frames, as a member's node may. It returns how many
// records were acknowledged.
func (fl *flooder) push(ctx context.Context, nodes []*SimNode) (int, error) {
	acked := 0
	for _, sn := range nodes {
		s, err := fl.h.NewStream(ctx, sn.ID, protocol.SyncProtocol)
		if err != nil {
			return acked, err
		}
		br := bufio.NewReader(s)
		for i := 0; i < len(fl.validRaw); i += 256 {
			batch := fl.validRaw[i:min(i+256, len(fl.validRaw))]
			s.SetDeadline(time.Now().Add(30 * time.Second))
			if err := protocol.WriteFrame(s, &node.SyncMsg{Op: "push", Topic: DefaultTopics[0], Records: batch}); err != nil {
				s.Reset()
				return acked, err
			}
			var ack node.SyncMsg
			if err := protocol.ReadFrame(br, &ack, 1<<20); err != nil {
				s.Reset()
				return acked, err
			}
			if ack.Status != protocol.StatusOK || ack.Op != "ack" {
				s.Reset()
				return acked, fmt.Errorf("%s answered status %d %q: %s", sn.Name, ack.Status, ack.Op, ack.Error)
			}
			acked += len(batch)
		}
		protocol.WriteFrame(s, &node.SyncMsg{Op: "done"})
		s.Close()
	}
	return acked, nil
}

// corruptSignature flips one bit of an envelope's signature.
func corruptSignature(raw []byte) ([]byte, error) {
	var env protocol.Envelope
	if err := protocol.Unmarshal(raw, &env); err != nil {
		return nil, err
	}
	env.Sig[len(env.Sig)/2] ^= 0x10
	return protocol.Marshal(&env)
}

type outsiders struct {
	dials, sent, refusedPre, refusedPost, connected atomic.Int64

	mu   sync.Mutex
	recs []cid.Cid
}

func (o *outsiders) records() []cid.Cid {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.recs)
}

// startOutsiders starts cfg.Outsiders peers with identities and addresses
// of their own that dial a random region every cfg.DialEvery until ctx
// ends; past the region's gate they publish a validly signed record on one
// of its topics and hang up.
func startOutsiders(ctx context.Context, c *Cluster, nodes []*SimNode, cfg AttackConfig, wg *sync.WaitGroup) (*outsiders, error) {
	out := &outsiders{}
	for i := range cfg.Outsiders {
		key, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			return nil, err
		}
		id, _ := peer.IDFromPrivateKey(key)
		addr := ma.StringCast(fmt.Sprintf("/ip4/198.51.100.%d/tcp/4001", 10+i))
		h, err := c.MN.AddPeer(key, addr)
		if err != nil {
			return nil, err
		}
		ps, err := pubsub.NewGossipSub(ctx, NewMeteredHost(h, NewMeter(), c.delay), append(node.GossipWireOptions(), pubsub.WithFloodPublish(true))...)
		if err != nil {
			h.Close()
			return nil, err
		}
		topics := map[string]*pubsub.Topic{}
		for _, t := range DefaultTopics {
			if topics[t], err = ps.Join(protocol.GossipTopic(Federation, t)); err != nil {
				h.Close()
				return nil, err
			}
		}
		for _, o := range nodes {
			if _, err := c.MN.LinkPeers(h.ID(), o.ID); err != nil {
				h.Close()
				return nil, err
			}
		}
		a := &Author{Key: key, ID: id, Fed: Federation, Region: fmt.Sprintf("Outside %d", i), Country: "ZZ"}
		r := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 9))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer h.Close()
			for k := 0; ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-time.After(cfg.DialEvery):
				}
				target := nodes[r.IntN(len(nodes))]
				out.dials.Add(1)
				if !cfg.OutsidersPastGate {
					switch target.Node().GateInbound(addr, id) {
					case node.GateRefusedBeforeHandshake:
						out.refusedPre.Add(1)
						continue
					case node.GateRefusedAfterHandshake:
						out.refusedPost.Add(1)
						continue
					}
				}
				if _, err := c.MN.ConnectPeers(h.ID(), target.ID); err != nil {
					continue
				}
				out.connected.Add(1)
				topic := target.Topics[r.IntN(len(target.Topics))]
				rec, err := a.Practice(GenPractice(r, 7_000_000+1000*i+k), []string{topic}, time.Now())
				if err == nil {
					// Give the hello (subscriptions) a moment, publish, hang up.
					time.Sleep(20 * time.Millisecond)
					if topics[topic].Publish(ctx, rec.Raw) == nil {
						out.sent.Add(1)
						out.mu.Lock()
						out.recs = append(out.recs, rec.CID)
						out.mu.Unlock()
					}
				}
				time.Sleep(20 * time.Millisecond)
				h.Network().ClosePeer(target.ID)
			}
		}()
	}
	return out, nil
}

type scoreMonitor struct {
	allAt     float64 // seconds from the flood's start until every honest node graylisted the flooder; -1 if never
	honestMin float64
}

// monitorScores watches the honest nodes' scores until ctx ends; the
// result is complete once wg is done.
func monitorScores(ctx context.Context, nodes []*SimNode, flooder peer.ID, start time.Time, wg *sync.WaitGroup) *scoreMonitor {
	m := &scoreMonitor{allAt: -1, honestMin: math.Inf(1)}
	honest := map[peer.ID]bool{}
	for _, sn := range nodes {
		honest[sn.ID] = true
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			all := true
			for _, sn := range nodes {
				sc := sn.Node().PeerScores()
				if s, ok := sc[flooder]; !ok || s >= node.ScoreGraylistThreshold {
					all = false
				}
				for p, s := range sc {
					if honest[p] && s < m.honestMin {
						m.honestMin = s
					}
				}
			}
			if all && m.allAt < 0 {
				m.allAt = round(time.Since(start).Seconds(), 2)
			}
		}
	}()
	return m
}

// floodHeld counts the flood's records held by each node: the fewest, the
// most, and how many distinct ones in all.
func floodHeld(nodes []*SimNode, recs []cid.Cid) (lo, hi, union int) {
	lo = math.MaxInt
	seen := map[cid.Cid]bool{}
	for _, sn := range nodes {
		k := 0
		for _, c := range recs {
			if sn.Node().Has(c) {
				k++
				seen[c] = true
			}
		}
		lo, hi = min(lo, k), max(hi, k)
	}
	return lo, hi, len(seen)
}

func outsiderHeld(nodes []*SimNode, recs []cid.Cid) int {
	k := 0
	for _, sn := range nodes {
		for _, c := range recs {
			if sn.Node().Has(c) {
				k++
			}
		}
	}
	return k
}

type deliveryPair struct {
	cid cid.Cid
	sub int
}

type windowResult struct {
	run   LatencyRun
	pairs []deliveryPair
}

// settleForWindow brings the federation to the same state before each
// window: nothing queued for the search indexes (a node builds its queue
// into a segment 30-90 s after the first change, so without this the
// second window would pay for the first window's index work) and no sync
// under way.
func settleForWindow(ctx context.Context, c *Cluster, nodes []*SimNode) {
	for _, sn := range nodes {
		if n := sn.Node(); n != nil {
			fctx, cancel := context.WithTimeout(ctx, time.Minute)
			n.FlushIndex(fctx)
			cancel()
		}
	}
	c.WaitQuiet(nodes, time.Second, 30*time.Second)
	time.Sleep(2 * time.Second)
}

// publishWindow publishes cfg.Records practices from random honest regions
// at cfg.Rate and measures their live delivery after cfg.Settle.
func publishWindow(ctx context.Context, c *Cluster, nodes []*SimNode, cfg AttackConfig, rng *rand.Rand, window int) (*windowResult, error) {
	sched := Schedule(rng, cfg.Records, len(nodes), cfg.Rate, DefaultTopics)
	prs := make([]node.PracticeInput, len(sched))
	for k, p := range sched {
		prs[k] = node.PracticeInput{Practice: GenPractice(rng, 1_000_000*(window+1)+k), Topics: []string{p.Topic}}
	}
	before := MeterTotal(nodes)
	u0 := ReadUsage()
	out := publishSchedule(ctx, nodes, sched, func(k int, _ Pub) node.PracticeInput { return prs[k] })
	time.Sleep(cfg.Settle)
	cutoff := time.Now()
	t := tally{run: LatencyRun{System: fmt.Sprintf("livinglab window %d", window), Resources: Cost(u0, ReadUsage())}}
	res := &windowResult{}
	for k, p := range sched {
		o := out[k]
		if o.err != nil {
			return nil, fmt.Errorf("publish %d: %w", k, o.err)
		}
		for j, sn := range nodes {
			if j == p.Author || !sn.Subscribes(p.Topic) {
				continue
			}
			res.pairs = append(res.pairs, deliveryPair{o.rec.CID, j})
			t.addNode(sn, o, cutoff)
		}
	}
	res.run = t.done(MeterTotal(nodes).Sub(before))
	return res, nil
}
