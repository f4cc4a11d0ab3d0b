// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// prefill seals n practices by author sn (continuing its own sequence) and
// returns them. The node must not be running.
func prefillAuthor(sn *SimNode, n int, topics func(i int) []string, seed uint64) ([]*protocol.Signed, error) {
	st, err := knowledge.Open(sn.Home.Store(), knowledge.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	a, err := HomeAuthor(sn.Home, st)
	if err != nil {
		return nil, err
	}
	return SealPractices(a, n, topics, seed)
}

// storeInto writes records into a stopped node's store; own marks records
// the node authored.
func storeInto(sn *SimNode, recs []*protocol.Signed, own bool) error {
	st, err := knowledge.Open(sn.Home.Store(), knowledge.Options{})
	if err != nil {
		return err
	}
	if err := PutAll(st, recs, own); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

// LateJoinConfig sets up the late-join scenario.
type LateJoinConfig struct {
	Members int
	Records int
	Latency time.Duration
	Seed    uint64
	Dir     string
}

// LateJoinResult is the outcome of the late-join scenario.
type LateJoinResult struct {
	Members       int     `json:"members"`
	LinkMs        float64 `json:"link_latency_ms"`
	Records       int     `json:"records"`
	RecordBytes   int64   `json:"record_bytes"`   // encoded size of the records it lacked
	JoinMs        float64 `json:"join_ms"`        // Invite + Join call
	FirstS        float64 `json:"first_record_s"` // from the join call
	AllS          float64 `json:"all_records_s"`  // from the join call
	Held          int     `json:"held"`
	BytesIn       int64   `json:"bytes_in"`  // join + sync, received by the newcomer
	BytesOut      int64   `json:"bytes_out"` // join + sync, sent by the newcomer
	GossipIn      int64   `json:"gossip_bytes_in"`
	Ratio         float64 `json:"ratio"` // (in + out) / record bytes
	SyncExchanges int64   `json:"sync_exchanges"`
}

// RunLateJoin builds a federation whose members hold the same records,
// then admits a new node and measures how long and how many bytes it takes
// to receive them all.
func RunLateJoin(ctx context.Context, cfg LateJoinConfig, log Logf) (*LateJoinResult, error) {
	rng, c, err := newScenario(cfg.Dir, "latejoin", cfg.Latency, cfg.Seed, 6)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var members []*SimNode
	for i := range cfg.Members {
		sn, err := c.AddNode(fmt.Sprintf("j%02d", i), i == 0, DefaultTopics)
		if err != nil {
			return nil, err
		}
		members = append(members, sn)
	}
	if err := c.PreAdmit(members[0], members[1:]); err != nil {
		return nil, err
	}
	log("late join: %d members, prefilling %d records", cfg.Members, cfg.Records)
	var all []*protocol.Signed
	per := cfg.Records / cfg.Members
	byAuthor := make([][]*protocol.Signed, cfg.Members)
	for i, sn := range members {
		k := per
		if i == 0 {
			k += cfg.Records - per*cfg.Members
		}
		topics := make([]string, k)
		for j := range topics {
			topics[j] = DefaultTopics[rng.IntN(len(DefaultTopics))]
		}
		recs, err := prefillAuthor(sn, k, func(j int) []string { return []string{topics[j]} }, cfg.Seed*100+uint64(i))
		if err != nil {
			return nil, err
		}
		byAuthor[i] = recs
		all = append(all, recs...)
	}
	for i, sn := range members {
		for j, recs := range byAuthor {
			if err := storeInto(sn, recs, i == j); err != nil {
				return nil, err
			}
		}
	}
	for _, sn := range members {
		if err := c.Start(sn, StartOptions{ReadyTimeout: 5 * time.Minute}); err != nil {
			return nil, err
		}
	}
	if _, err := c.WaitFederated(members, 30*time.Second); err != nil {
		return nil, err
	}
	c.WaitQuiet(members, 2*time.Second, 60*time.Second)

	nw, err := c.AddNode("j-new", false, DefaultTopics)
	if err != nil {
		return nil, err
	}
	if err := c.Start(nw, StartOptions{}); err != nil {
		return nil, err
	}
	res := &LateJoinResult{Members: cfg.Members, LinkMs: Ms(cfg.Latency), Records: len(all), RecordBytes: RawBytes(all)}
	want := map[cid.Cid]bool{}
	for _, r := range all {
		want[r.CID] = true
	}
	BeforeMeasure("late join")
	before := nw.Meter.Snapshot()
	t0 := time.Now()
	if err := c.Join(members[0], nw); err != nil {
		return nil, err
	}
	res.JoinMs = round(Ms(time.Since(t0)), 1)
	deadline := t0.Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		held := 0
		var first time.Time
		for x := range want {
			if t, ok := nw.StoredAt(x); ok {
				held++
				if first.IsZero() || t.Before(first) {
					first = t
				}
			}
		}
		res.Held = held
		if !first.IsZero() {
			res.FirstS = round(first.Sub(t0).Seconds(), 3)
		}
		if held == len(want) {
			var last time.Time
			for x := range want {
				if t, _ := nw.StoredAt(x); t.After(last) {
					last = t
				}
			}
			res.AllS = round(last.Sub(t0).Seconds(), 3)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.WaitQuiet(append(members, nw), time.Second, 30*time.Second)
	d := nw.Meter.Snapshot().Sub(before)
	res.BytesIn = d.In[CatSync] + d.In[CatJoin]
	res.BytesOut = d.Out[CatSync] + d.Out[CatJoin]
	res.GossipIn = d.In[CatGossip]
	res.SyncExchanges = d.Opened[CatSync]
	if res.RecordBytes > 0 {
		res.Ratio = round(float64(res.BytesIn+res.BytesOut)/float64(res.RecordBytes), 3)
	}
	log("late join: %d/%d records in %.2f s, %.2f x their bytes", res.Held, res.Records, res.AllS, res.Ratio)
	return res, nil
}

// CatchUpConfig sets up the catch-up scenario.
type CatchUpConfig struct {
	Total   int
	Missing int
	Latency time.Duration
	Seed    uint64
	Dir     string
}

// CatchUpResult is the outcome of the catch-up scenario.
type CatchUpResult struct {
	Total        int     `json:"total"`
	Missing      int     `json:"missing"`
	MissingBytes int64   `json:"missing_bytes"`
	PrefillS     float64 `json:"prefill_s"` // seal and store both sides
	StartS       float64 `json:"start_s"`   // both nodes up (search index rebuilt from the stores)
	// The catch-up exchange the lagging node starts when it connects.
	SpanS     float64 `json:"span_s"`    // exchange start to last missing record stored
	ConnectS  float64 `json:"connect_s"` // connection to last missing record stored
	Got       int     `json:"got"`
	BytesOut  int     `json:"bytes_out"`
	BytesIn   int     `json:"bytes_in"`
	Ratio     float64 `json:"ratio"`          // (out + in) / missing bytes
	Overhead  int64   `json:"overhead_bytes"` // out + in - missing bytes
	AllSyncB  int64   `json:"all_sync_bytes"` // every sync stream of both nodes, connect to done
	Exchanges int64   `json:"sync_exchanges"`
	InSyncMs  float64 `json:"in_sync_check_ms"`    // one more exchange once identical
	InSyncB   int     `json:"in_sync_check_bytes"` // its bytes, both ways
	homeA     string
}

// CatchUpTopic is the topic the catch-up and memory scenarios fill.
const CatchUpTopic = "open-data"

// catchUpPair builds a cluster in dir with the two nodes of a catch-up:
// src founds the federation and will hold the records but follows no
// topic, so connecting starts exactly one exchange, the one run by dst, an
// admitted member following CatchUpTopic. The caller closes the cluster.
func catchUpPair(dir string, latency time.Duration, src, dst string) (c *Cluster, a, b *SimNode, err error) {
	if c, err = NewCluster(dir, latency, nil); err != nil {
		return nil, nil, nil, err
	}
	if a, err = c.AddNode(src, true, nil); err == nil {
		if b, err = c.AddNode(dst, false, []string{CatchUpTopic}); err == nil {
			err = c.PreAdmit(a, []*SimNode{b})
		}
	}
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return c, a, b, nil
}

// RunCatchUp builds two nodes that share total records except missing ones
// the second lacks (written straight into the stores), connects them and
// measures the catch-up exchange. The first node's home is kept for the
// memory scenario.
func RunCatchUp(ctx context.Context, cfg CatchUpConfig, log Logf) (*CatchUpResult, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 8))
	c, a, b, err := catchUpPair(filepath.Join(cfg.Dir, "catchup"), cfg.Latency, "a", "b")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	log("catch-up: sealing %d records", cfg.Total)
	t := time.Now()
	recs, err := prefillAuthor(a, cfg.Total, func(int) []string { return []string{CatchUpTopic} }, cfg.Seed)
	if err != nil {
		return nil, err
	}
	miss := map[int]bool{}
	for len(miss) < cfg.Missing {
		miss[rng.IntN(len(recs)-1)] = true
	}
	var bRecs, missing []*protocol.Signed
	for i, r := range recs {
		if miss[i] {
			missing = append(missing, r)
		} else {
			bRecs = append(bRecs, r)
		}
	}
	log("catch-up: storing %d records on A and %d on B", len(recs), len(bRecs))
	if err := storeInto(a, recs, true); err != nil {
		return nil, err
	}
	if err := storeInto(b, bRecs, false); err != nil {
		return nil, err
	}
	res := &CatchUpResult{Total: cfg.Total, Missing: len(missing), MissingBytes: RawBytes(missing),
		PrefillS: round(time.Since(t).Seconds(), 1), homeA: a.Home.Dir}
	recs, bRecs = nil, nil
	log("catch-up: starting both nodes (each rebuilds its search index)")
	t = time.Now()
	errs := make(chan error, 2)
	for _, sn := range []*SimNode{a, b} {
		go func() { errs <- c.Start(sn, StartOptions{NoLinks: true, ReadyTimeout: 30 * time.Minute}) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	res.StartS = round(time.Since(t).Seconds(), 1)
	BeforeMeasure("catch-up")
	before := MeterTotal([]*SimNode{a, b})
	if _, err := c.MN.LinkPeers(a.ID, b.ID); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := c.MN.ConnectPeers(b.ID, a.ID); err != nil {
		return nil, err
	}
	log("catch-up: connected; B fetches %d missing records", len(missing))
	deadline := t0.Add(10 * time.Minute)
	var last time.Time
	for time.Now().Before(deadline) {
		done := true
		last = time.Time{}
		for _, r := range missing {
			st, ok := b.StoredAt(r.CID)
			if !ok {
				done = false
				break
			}
			if st.After(last) {
				last = st
			}
		}
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if last.IsZero() {
		return nil, fmt.Errorf("catch-up: B did not receive the missing records within 10 minutes")
	}
	c.WaitQuiet([]*SimNode{a, b}, time.Second, 30*time.Second)
	d := MeterTotal([]*SimNode{a, b}).Sub(before)
	res.AllSyncB = d.Out[CatSync]
	res.Exchanges = d.Opened[CatSync] / 2
	res.ConnectS = round(last.Sub(t0).Seconds(), 3)
	for _, ts := range b.Node().Status().Topics {
		if ts.Topic != CatchUpTopic {
			continue
		}
		for _, p := range ts.Peers {
			if p.Peer == a.ID.String() {
				res.Got, res.BytesOut, res.BytesIn = p.Got, p.BytesOut, p.BytesIn
				res.SpanS = round(last.Sub(p.At).Seconds(), 3)
			}
		}
	}
	tot := int64(res.BytesOut + res.BytesIn)
	if res.MissingBytes > 0 {
		res.Ratio = round(float64(tot)/float64(res.MissingBytes), 3)
	}
	res.Overhead = tot - res.MissingBytes
	t = time.Now()
	sr, err := b.Node().SyncTopic(ctx, a.ID, CatchUpTopic)
	if err != nil {
		return nil, fmt.Errorf("in-sync check: %w", err)
	}
	res.InSyncMs = round(Ms(time.Since(t)), 1)
	res.InSyncB = sr.BytesIn + sr.BytesOut
	log("catch-up: %d records (%.0f KiB) in %.2f s, %d B out + %d B in = %.2f x", res.Got,
		float64(res.MissingBytes)/1024, res.SpanS, res.BytesOut, res.BytesIn, res.Ratio)
	if err := c.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// IngestConfig sets up the ingest scenario.
type IngestConfig struct {
	Records int
	Latency time.Duration
	Seed    uint64
	Dir     string
	Profile string // CPU profile path, "" for none
}

// IngestResult is the outcome of the ingest scenario.
type IngestResult struct {
	Records int `json:"records"`
	Got     int `json:"got"`
	// Exchange start to the last record stored, and to the search index
	// holding them all (the node indexes in batches behind the store).
	StoredS         float64   `json:"stored_s"`
	StoredPerSecond float64   `json:"stored_per_s"`
	SpanS           float64   `json:"indexed_s"`
	PerSecond       float64   `json:"records_per_s"`     // validated, stored and indexed
	CPUPerRec       float64   `json:"cpu_us_per_record"` // whole process (both nodes)
	Resources       Resources `json:"resources"`
	Profile         string    `json:"profile,omitempty"`
	// RunsPerSecond are the rates of every measured run of a report,
	// lowest first; the result is the median run.
	RunsPerSecond []float64 `json:"runs_records_per_s,omitempty"`
	// ProfiledPerSecond is the rate of the run that took the profile.
	ProfiledPerSecond float64 `json:"profiled_records_per_s,omitempty"`
	TopProfile        string  `json:"top_profile,omitempty"`
}

// RunIngest measures how fast a node takes in a burst of valid practices
// through the sync path (validate, store, index each record): a node with
// an empty store connects to one holding Records practices.
func RunIngest(ctx context.Context, cfg IngestConfig, log Logf) (*IngestResult, error) {
	c, a, b, err := catchUpPair(filepath.Join(cfg.Dir, "ingest"), cfg.Latency, "src", "dst")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	recs, err := prefillAuthor(a, cfg.Records, func(int) []string { return []string{CatchUpTopic} }, cfg.Seed+11)
	if err != nil {
		return nil, err
	}
	if err := storeInto(a, recs, true); err != nil {
		return nil, err
	}
	for _, sn := range []*SimNode{a, b} {
		if err := c.Start(sn, StartOptions{NoLinks: true, ReadyTimeout: 10 * time.Minute}); err != nil {
			return nil, err
		}
	}
	log("ingest: %d practices into an empty node through sync", cfg.Records)
	BeforeMeasure("ingest")
	res := &IngestResult{Records: cfg.Records}
	var pf *os.File
	if cfg.Profile != "" {
		if pf, err = os.Create(cfg.Profile); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return nil, err
		}
	}
	u0 := ReadUsage()
	if _, err := c.MN.LinkPeers(a.ID, b.ID); err != nil {
		return nil, err
	}
	if _, err := c.MN.ConnectPeers(b.ID, a.ID); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Minute)
	for b.StoredCount() < len(recs) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// The node indexes in batches behind the store: wait for the index too.
	fctx, fcancel := context.WithDeadline(ctx, deadline)
	ferr := b.Node().FlushIndex(fctx)
	fcancel()
	indexed := time.Now()
	u1 := ReadUsage()
	if pf != nil {
		pprof.StopCPUProfile()
		pf.Close()
		res.Profile = cfg.Profile
	}
	res.Got = b.StoredCount()
	var first, last time.Time
	for _, r := range recs {
		if t, ok := b.StoredAt(r.CID); ok {
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
	}
	start := first
	for _, ts := range b.Node().Status().Topics {
		for _, p := range ts.Peers {
			if ts.Topic == CatchUpTopic && p.Peer == a.ID.String() {
				start = p.At
			}
		}
	}
	if !last.IsZero() {
		res.StoredS = round(last.Sub(start).Seconds(), 2)
		if res.StoredS > 0 {
			res.StoredPerSecond = round(float64(res.Got)/last.Sub(start).Seconds(), 0)
		}
		if ferr != nil {
			return nil, fmt.Errorf("ingest: waiting for the search index: %w", ferr)
		}
		res.SpanS = round(indexed.Sub(start).Seconds(), 2)
		if res.SpanS > 0 {
			res.PerSecond = round(float64(res.Got)/indexed.Sub(start).Seconds(), 0)
		}
	}
	res.Resources = Cost(u0, u1)
	if res.Got > 0 {
		res.CPUPerRec = round(res.Resources.CPUS*1e6/float64(res.Got), 0)
	}
	if res.Profile != "" {
		res.TopProfile = pprofTop(res.Profile)
	}
	log("ingest: %d records stored in %.2f s (%.0f/s), indexed in %.2f s (%.0f/s)", res.Got, res.StoredS,
		res.StoredPerSecond, res.SpanS, res.PerSecond)
	return res, nil
}

// pprofTop lists the heaviest functions of a CPU profile with go tool pprof.
func pprofTop(path string) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", path).CombinedOutput()
	if err != nil {
		return "go tool pprof failed: " + err.Error()
	}
	// Drop pprof's header lines about the file and build.
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") ||
			strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}
