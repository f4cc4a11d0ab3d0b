// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// DefaultTopics are the topic channels of the simulated federation.
var DefaultTopics = []string{"elderly-care", "rural-transport", "energy-communities"}

// SubsFor gives node i every topic but one: with three topics each node
// follows two and each topic has two thirds of the nodes.
func SubsFor(topics []string, i int) []string {
	if len(topics) < 2 {
		return topics
	}
	var out []string
	for j, t := range topics {
		if j != i%len(topics) {
			out = append(out, t)
		}
	}
	return out
}

// Pub is one entry of a publish schedule.
type Pub struct {
	At     time.Duration `json:"at"`
	Author int           `json:"author"`
	Topic  string        `json:"topic"`
}

// Schedule spreads n publications evenly at rate per second over random
// authors and topics.
func Schedule(rng *rand.Rand, n, nodes int, rate float64, topics []string) []Pub {
	out := make([]Pub, n)
	for k := range out {
		out[k] = Pub{At: time.Duration(float64(k) / rate * float64(time.Second)), Author: rng.IntN(nodes),
			Topic: topics[rng.IntN(len(topics))]}
	}
	return out
}

// SetupResult is what forming a federation took.
type SetupResult struct {
	Nodes     int     `json:"nodes"`
	TotalS    float64 `json:"total_s"`
	Join      Dist    `json:"join"`              // one Invite + Join, as the joiner sees it
	MeshS     float64 `json:"mesh_s"`            // all connected and subscriptions known, after the last join
	Connected int     `json:"explicit_connects"` // pairs the harness had to connect after the bounded wait
}

// SetupJoined founds a federation on node 0 and admits the others one by
// one with Invite and Join, then waits (bounded) until everyone is
// connected to everyone and every subscription is known.
func SetupJoined(c *Cluster, n int, topics []string, prefix string) ([]*SimNode, SetupResult, error) {
	start := time.Now()
	res := SetupResult{Nodes: n}
	f, err := c.AddNode(fmt.Sprintf("%s00", prefix), true, SubsFor(topics, 0))
	if err != nil {
		return nil, res, err
	}
	if err := c.Start(f, StartOptions{}); err != nil {
		return nil, res, err
	}
	nodes := []*SimNode{f}
	var joins []float64
	for i := 1; i < n; i++ {
		sn, err := c.AddNode(fmt.Sprintf("%s%02d", prefix, i), false, SubsFor(topics, i))
		if err != nil {
			return nil, res, err
		}
		if err := c.Start(sn, StartOptions{}); err != nil {
			return nil, res, err
		}
		t := time.Now()
		if err := c.Join(f, sn); err != nil {
			return nil, res, err
		}
		joins = append(joins, Ms(time.Since(t)))
		nodes = append(nodes, sn)
	}
	res.Join = Summarise(joins)
	meshStart := time.Now()
	k, err := c.WaitFederated(nodes, 60*time.Second)
	if err != nil {
		return nil, res, err
	}
	res.Connected = k
	if err := c.WaitSubscriptions(nodes, 60*time.Second); err != nil {
		return nil, res, err
	}
	res.MeshS = round(time.Since(meshStart).Seconds(), 2)
	// Let the catch-up exchanges that every connection starts finish, and
	// the gossipsub mesh form (heartbeat 1 s).
	c.WaitQuiet(nodes, 2*time.Second, 90*time.Second)
	time.Sleep(2 * time.Second)
	res.TotalS = round(time.Since(start).Seconds(), 2)
	return nodes, res, nil
}

// LatencyRun is one system's delivery of one publish schedule.
type LatencyRun struct {
	System string `json:"system"`
	// Latency is publish call to stored (livinglab: record validated,
	// stored and indexed; bare gossipsub: message handed to the
	// subscriber), over every (record, subscriber) pair delivered live.
	Latency Dist `json:"latency"`
	// Arrival is publish call to the first gossip copy read off a stream.
	Arrival   Dist    `json:"arrival"`
	Expected  int     `json:"expected"`  // (record, subscriber) pairs
	Delivered int     `json:"delivered"` // stored within the settle window
	LiveRatio float64 `json:"live_ratio"`
	ByGossip  int     `json:"by_gossip"` // pairs whose subscriber read a gossip copy
	// Copies is gossip copies received per (record, receiving node): 1 means
	// no duplicates.
	Copies      float64 `json:"copies_per_delivery"`
	GossipBytes int64   `json:"gossip_bytes"` // all gossipsub stream bytes sent during the window
	// BytesPerDelivery is GossipBytes per delivered pair (control traffic
	// included).
	BytesPerDelivery float64   `json:"gossip_bytes_per_delivery"`
	IHaveIDs         int64     `json:"ihave_ids"`
	IWantIDs         int64     `json:"iwant_ids"`
	IDontWantIDs     int64     `json:"idontwant_ids"`
	Resources        Resources `json:"resources"`
	Samples          []float64 `json:"latency_samples_ms"`
}

// SteadyConfig sets up the steady-state scenario.
type SteadyConfig struct {
	Nodes   int
	Latency time.Duration
	Records int
	Rate    float64 // publications per second
	// OverloadRate, if set, publishes Records more at this rate after the
	// main phase (livinglab only) to show where the nodes saturate.
	OverloadRate float64
	Settle       time.Duration
	Seed         uint64
	Bare         bool // also run bare gossipsub on the same schedule
	Dir          string
	// Runs repeats the whole scenario (livinglab and every bare system on
	// the same schedule) so that each figure is a median with a range;
	// the overload phase runs in the first run only. 0 means 1.
	Runs int
	// BareSystems, if set, limits the bare systems to these (names of
	// BareVariants).
	BareSystems []string
	// FlushIndex applies every node's queued search-index changes before
	// the window closes, so that its CPU holds the whole indexing of the
	// window's records rather than the batches that happened to fall in
	// it (a node indexes in batches every 30-90 s).
	FlushIndex bool
}

// SteadyResult is the outcome of the steady-state scenario.
type SteadyResult struct {
	Nodes       int         `json:"nodes"`
	Records     int         `json:"records"`
	LinkMs      float64     `json:"link_latency_ms"`
	Rate        float64     `json:"rate_per_s"`
	Topics      []string    `json:"topics"`
	Setup       SetupResult `json:"setup"`
	RecordBytes Dist        `json:"record_bytes"` // sizes of the encoded records (not ms)
	PublishCall Dist        `json:"publish_call"` // PublishPractice: gate, sign, store, send
	Failed      int         `json:"publish_failed"`
	Livinglab   LatencyRun  `json:"livinglab"`
	// Sync traffic during the publish window: gap-triggered catch-up.
	WindowSyncExchanges int64 `json:"window_sync_exchanges"`
	WindowSyncBytes     int64 `json:"window_sync_bytes"`
	// Sync rounds (every node, every topic it follows, one random member
	// each), repeated until every pair is held or five rounds.
	SyncedDelivered int       `json:"synced_delivered"`
	SyncedRatio     float64   `json:"synced_ratio"` // after the last round
	RoundRatios     []float64 `json:"ratio_after_each_round"`
	SyncRoundS      float64   `json:"sync_round_s"` // first round
	SyncRoundBytes  int64     `json:"sync_round_bytes"`
	SyncExchanges   int       `json:"sync_exchanges"`
	SyncErrors      int       `json:"sync_errors"`
	// The overload phase (OverloadRate).
	Overload              *LatencyRun  `json:"overload,omitempty"`
	OverloadRate          float64      `json:"overload_rate_per_s,omitempty"`
	OverloadPublishCall   Dist         `json:"overload_publish_call"`
	OverloadSyncExchanges int64        `json:"overload_window_sync_exchanges"`
	Bare                  []LatencyRun `json:"bare,omitempty"`
	P99VsFlood            float64      `json:"p99_ratio_vs_flood_publish"`
	P99VsDefault          float64      `json:"p99_ratio_vs_defaults"`
	P99VsSame             float64      `json:"p99_ratio_vs_same_options"`
	P99VsStore            float64      `json:"p99_ratio_vs_verify_and_store"`
	P99OverLink           float64      `json:"p99_over_link_latency"`
	// Runs has every run's figures and ratios; Summary their medians and
	// ranges. The fields above are the first run's.
	Runs    []SteadyRun   `json:"runs"`
	Summary SteadySummary `json:"summary"`
}

type pubOutcome struct {
	rec  *protocol.Signed // nil when err is not
	t0   time.Time
	call time.Duration
	err  error
}

// phase is one publish schedule run on the federation.
type phase struct {
	sched  []Pub
	out    []pubOutcome
	run    LatencyRun
	window MeterSnapshot
	calls  Dist
	sizes  Dist
	failed int
}

// publishSchedule publishes sched's practices (input gives each one) from
// their authors at their times, and returns how each publication went
// once all have returned.
func publishSchedule(ctx context.Context, nodes []*SimNode, sched []Pub, input func(k int, p Pub) node.PracticeInput) []pubOutcome {
	out := make([]pubOutcome, len(sched))
	start := time.Now()
	var wg sync.WaitGroup
	for k, p := range sched {
		if d := time.Until(start.Add(p.At)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			pub, err := publishPractice(ctx, nodes[p.Author].Node(), input(k, p))
			o := pubOutcome{t0: t0, call: time.Since(t0), err: err}
			if err == nil {
				o.rec = pub.Record
			}
			out[k] = o
		}()
	}
	wg.Wait()
	return out
}

func publishPhase(ctx context.Context, nodes []*SimNode, sched []Pub, prs []protocol.Practice, settle time.Duration, system string, flush bool) *phase {
	ph := &phase{sched: sched}
	BeforeMeasure("steady: " + system)
	before := MeterTotal(nodes)
	stop := startProfile(system)
	u0 := ReadUsage()
	ph.out = publishSchedule(ctx, nodes, sched, func(k int, p Pub) node.PracticeInput {
		return node.PracticeInput{Practice: prs[k], Topics: []string{p.Topic}}
	})
	time.Sleep(settle)
	cutoff := time.Now()
	if flush {
		for _, sn := range nodes {
			if n := sn.Node(); n != nil {
				_ = n.FlushIndex(ctx)
			}
		}
	}
	u1 := ReadUsage()
	stop()
	ph.window = MeterTotal(nodes).Sub(before)
	var sizes, calls []float64
	for _, o := range ph.out {
		if o.err != nil {
			ph.failed++
			continue
		}
		sizes = append(sizes, float64(len(o.rec.Raw)))
		calls = append(calls, Ms(o.call))
	}
	ph.sizes, ph.calls = Summarise(sizes), Summarise(calls)
	t := tally{run: LatencyRun{System: system, Resources: Cost(u0, u1)}}
	for k, p := range sched {
		o := ph.out[k]
		if o.err != nil {
			continue
		}
		for j, sn := range nodes {
			if j != p.Author && sn.Subscribes(p.Topic) {
				t.addNode(sn, o, cutoff)
			}
		}
	}
	ph.run = t.done(ph.window)
	return ph
}

// held counts the (record, subscriber) pairs of the phases that are stored.
func held(nodes []*SimNode, phases ...*phase) int {
	h := 0
	for _, ph := range phases {
		for k, p := range ph.sched {
			o := ph.out[k]
			if o.err != nil {
				continue
			}
			for j, sn := range nodes {
				if j != p.Author && sn.Subscribes(p.Topic) && sn.Node().Has(o.rec.CID) {
					h++
				}
			}
		}
	}
	return h
}

// RunSteady runs the steady-state scenario cfg.Runs times and summarises
// the runs. Every run uses the same schedule and records.
func RunSteady(ctx context.Context, cfg SteadyConfig, log Logf) (*SteadyResult, error) {
	n := max(cfg.Runs, 1)
	var first *SteadyResult
	var runs []SteadyRun
	for r := range n {
		c := cfg
		if r > 0 {
			c.OverloadRate = 0
			c.Dir = filepath.Join(cfg.Dir, fmt.Sprintf("run%d", r+1))
		}
		if n > 1 {
			log("steady: run %d of %d", r+1, n)
		}
		res, err := runSteadyOnce(ctx, c, log)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", r+1, err)
		}
		if r > 0 {
			_ = os.RemoveAll(c.Dir)
		}
		run := steadyRunOf(r+1, res)
		log("steady: run %d: livinglab / verify+store floor: p99 %.2f, CPU per delivery %.2f; %d catch-up exchanges in the window",
			r+1, run.P99VsStore, run.CPUVsStore, run.WindowSyncExchanges)
		runs = append(runs, run)
		if first == nil {
			first = res
		}
	}
	first.Runs = runs
	first.Summary = summariseSteadyRuns(runs)
	return first, nil
}

// runSteadyOnce runs the steady-state scenario once: N regions, everyone
// linked to everyone, R practices published at a steady rate from random
// members. The bare gossipsub runs follow once the livinglab nodes are
// stopped and their memory released.
func runSteadyOnce(ctx context.Context, cfg SteadyConfig, log Logf) (*SteadyResult, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	res := &SteadyResult{Nodes: cfg.Nodes, Records: cfg.Records, LinkMs: Ms(cfg.Latency), Rate: cfg.Rate, Topics: DefaultTopics}
	sched := Schedule(rng, cfg.Records, cfg.Nodes, cfg.Rate, DefaultTopics)
	raws, err := runSteadyLivinglab(ctx, cfg, rng, sched, res, log)
	if err != nil {
		return nil, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	if cfg.Bare {
		var subs [][]string
		for i := range cfg.Nodes {
			subs = append(subs, SubsFor(DefaultTopics, i))
		}
		for _, v := range BareVariants {
			if len(cfg.BareSystems) > 0 && !slices.Contains(cfg.BareSystems, v) {
				continue
			}
			br, err := RunBare(ctx, BareConfig{Nodes: cfg.Nodes, Latency: cfg.Latency, Schedule: sched, Records: raws,
				Subs: subs, Variant: v, Settle: cfg.Settle, Seed: cfg.Seed, Dir: filepath.Join(cfg.Dir, "bare")})
			if err != nil {
				return nil, fmt.Errorf("bare gossipsub: %w", err)
			}
			log("steady: %s p50 %.1f ms p99 %.1f ms, live %.2f%%", br.System, br.Latency.P50, br.Latency.P99, 100*br.LiveRatio)
			res.Bare = append(res.Bare, *br)
			runtime.GC()
			debug.FreeOSMemory()
		}
		for _, b := range res.Bare {
			if b.Latency.P99 <= 0 {
				continue
			}
			r := round(res.Livinglab.Latency.P99/b.Latency.P99, 2)
			switch b.System {
			case BareFlood:
				res.P99VsFlood = r
			case BareDefaults:
				res.P99VsDefault = r
			case BareSame:
				res.P99VsSame = r
			case BareStore:
				res.P99VsStore = r
			}
		}
	}
	if cfg.Latency > 0 {
		res.P99OverLink = round(res.Livinglab.Latency.P99/Ms(cfg.Latency), 2)
	}
	return res, nil
}

// runSteadyLivinglab runs the livinglab phases and returns the encoded
// records of the main schedule (nil for failed publishes).
func runSteadyLivinglab(ctx context.Context, cfg SteadyConfig, rng *rand.Rand, sched []Pub, res *SteadyResult, log Logf) ([][]byte, error) {
	c, err := NewCluster(filepath.Join(cfg.Dir, "steady"), cfg.Latency, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	log("steady: forming a federation of %d nodes (Invite/Join)", cfg.Nodes)
	nodes, setup, err := SetupJoined(c, cfg.Nodes, DefaultTopics, "r")
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res.Setup = setup
	log("steady: federation formed in %.1f s (join p50 %.0f ms); publishing %d records at %.1f/s",
		setup.TotalS, setup.Join.P50, cfg.Records, cfg.Rate)
	prs := make([]protocol.Practice, len(sched))
	for k := range prs {
		prs[k] = GenPractice(rng, k)
	}
	if err := warmGate(ctx, nodes[0].Node()); err != nil {
		return nil, err
	}
	ph := publishPhase(ctx, nodes, sched, prs, cfg.Settle, "livinglab", cfg.FlushIndex)
	res.Livinglab, res.PublishCall, res.RecordBytes, res.Failed = ph.run, ph.calls, ph.sizes, ph.failed
	res.WindowSyncExchanges = ph.window.Opened[CatSync] / 2 // each exchange is counted by both ends
	res.WindowSyncBytes = ph.window.Out[CatSync]
	run := ph.run
	log("steady: livinglab p50 %.1f ms p99 %.1f ms, live %.2f%%, %.1f copies per delivery",
		run.Latency.P50, run.Latency.P99, 100*run.LiveRatio, run.Copies)

	phases := []*phase{ph}
	expected := run.Expected
	if cfg.OverloadRate > 0 {
		osched := Schedule(rng, cfg.Records, cfg.Nodes, cfg.OverloadRate, DefaultTopics)
		oprs := make([]protocol.Practice, len(osched))
		for k := range oprs {
			oprs[k] = GenPractice(rng, 100_000+k)
		}
		log("steady: overload phase, %d records at %.0f/s", cfg.Records, cfg.OverloadRate)
		oph := publishPhase(ctx, nodes, osched, oprs, cfg.Settle, fmt.Sprintf("livinglab at %.0f/s", cfg.OverloadRate), cfg.FlushIndex)
		res.Overload, res.OverloadRate, res.OverloadPublishCall = &oph.run, cfg.OverloadRate, oph.calls
		res.OverloadSyncExchanges = oph.window.Opened[CatSync] / 2
		log("steady: overload p50 %.1f ms p99 %.1f ms, live %.2f%%", oph.run.Latency.P50, oph.run.Latency.P99, 100*oph.run.LiveRatio)
		phases = append(phases, oph)
		expected += oph.run.Expected
	}

	// Sync rounds until every pair of every phase is held.
	for round := 0; round < 5; round++ {
		b := MeterTotal(nodes)
		t := time.Now()
		results := c.SyncRound(ctx, nodes, rng, 16)
		if round == 0 {
			res.SyncRoundS = round2(time.Since(t).Seconds())
			res.SyncRoundBytes = MeterTotal(nodes).Sub(b).Out[CatSync]
			res.SyncExchanges = len(results)
			for _, r := range results {
				if r.Error != "" {
					res.SyncErrors++
				}
			}
		}
		h := held(nodes, phases...)
		r := float64(h) / float64(max(1, expected))
		res.RoundRatios = append(res.RoundRatios, r)
		res.SyncedDelivered, res.SyncedRatio = h, r
		if h == expected {
			break
		}
	}
	log("steady: after %d sync round(s) %.2f%% delivered (%.2f%% after the first)", len(res.RoundRatios),
		100*res.SyncedRatio, 100*res.RoundRatios[0])
	if err := c.Close(); err != nil {
		log("steady: stopping nodes: %v", err)
	}
	raws := make([][]byte, len(sched))
	for k := range sched {
		if ph.out[k].err == nil {
			raws[k] = ph.out[k].rec.Raw
		}
	}
	return raws, nil
}

func round2(v float64) float64 { return round(v, 2) }

// tally counts how a schedule's publications reached their subscribers.
type tally struct {
	run LatencyRun
	lat []float64 // ms from publishing to stored, for those stored by the cutoff
	arr []float64 // ms from publishing to first received by gossip
}

// add counts one expected delivery of a record published at t0, stored at
// stored and first received by gossip at got (zero times: not yet).
func (t *tally) add(t0, cutoff, stored, got time.Time) {
	t.run.Expected++
	if !stored.IsZero() && !stored.After(cutoff) {
		t.run.Delivered++
		t.lat = append(t.lat, Ms(stored.Sub(t0)))
	}
	if !got.IsZero() {
		t.run.ByGossip++
		t.arr = append(t.arr, Ms(got.Sub(t0)))
	}
}

// addNode counts the delivery of publication o to the livinglab node sn.
func (t *tally) addNode(sn *SimNode, o pubOutcome, cutoff time.Time) {
	stored, _ := sn.StoredAt(o.rec.CID)
	got, _, _ := sn.Meter.Received(o.rec.Raw)
	t.add(o.t0, cutoff, stored, got)
}

// done returns the run with its summaries filled in from what was counted
// and the traffic of its window.
func (t *tally) done(window MeterSnapshot) LatencyRun {
	fillRun(&t.run, t.lat, t.arr, window)
	return t.run
}

func fillRun(run *LatencyRun, lat, arr []float64, window MeterSnapshot) {
	run.Latency = Summarise(lat)
	run.Arrival = Summarise(arr)
	run.Samples = roundAll(lat)
	if run.Expected > 0 {
		run.LiveRatio = float64(run.Delivered) / float64(run.Expected)
	}
	if window.MsgsUnique > 0 {
		run.Copies = round(float64(window.MsgsReceived)/float64(window.MsgsUnique), 2)
	}
	run.GossipBytes = window.Out[CatGossip]
	if run.Delivered > 0 {
		run.BytesPerDelivery = round(float64(run.GossipBytes)/float64(run.Delivered), 0)
	}
	run.IHaveIDs, run.IWantIDs, run.IDontWantIDs = window.IHaveIDs, window.IWantIDs, window.IDontWantIDs
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = round(x, 2)
	}
	return out
}

// Logf reports progress.
type Logf func(format string, args ...any)
