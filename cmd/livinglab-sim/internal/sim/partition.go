// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// PartitionConfig sets up the partition scenario.
type PartitionConfig struct {
	Nodes          int
	Latency        time.Duration
	RecordsPerSide int
	Rate           float64 // per side
	Seed           uint64
	Dir            string
	Wait           time.Duration // bound on convergence after healing
}

// PartitionResult is the outcome of the partition scenario.
type PartitionResult struct {
	Nodes     int         `json:"nodes"`
	LinkMs    float64     `json:"link_latency_ms"`
	Published int         `json:"published"`
	Setup     SetupResult `json:"setup"`
	// Records of the other half each node lacked when the halves healed.
	MissingAtHeal int `json:"missing_pairs_at_heal"`
	// Time from healing (links restored, connections made) until every
	// subscriber of each topic holds the same set of records.
	ConvergeS float64 `json:"converge_s"`
	Converged bool    `json:"converged"`
	SyncBytes int64   `json:"sync_bytes"` // sync traffic from healing to convergence
	// Series of the fraction of missing pairs filled over time after healing.
	Progress [][2]float64 `json:"progress"`
}

// RunPartition splits the federation into two halves, lets both publish,
// heals the split and measures the time until all sets are identical.
func RunPartition(ctx context.Context, cfg PartitionConfig, log Logf) (*PartitionResult, error) {
	rng, c, err := newScenario(cfg.Dir, "partition", cfg.Latency, cfg.Seed, 5)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &PartitionResult{Nodes: cfg.Nodes, LinkMs: Ms(cfg.Latency)}
	log("partition: forming a federation of %d nodes", cfg.Nodes)
	nodes, setup, err := SetupJoined(c, cfg.Nodes, DefaultTopics, "p")
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res.Setup = setup
	half := len(nodes) / 2
	a, b := nodes[:half], nodes[half:]
	BeforeMeasure("partition")
	for _, x := range a {
		for _, y := range b {
			if err := c.MN.UnlinkPeers(x.ID, y.ID); err != nil {
				return nil, err
			}
			_ = c.MN.DisconnectPeers(x.ID, y.ID)
		}
	}
	log("partition: split into %d + %d; both halves publish %d records", len(a), len(b), cfg.RecordsPerSide)
	var mu sync.Mutex
	var pubs []*protocol.Signed
	var wg sync.WaitGroup
	for side, group := range [][]*SimNode{a, b} {
		sched := Schedule(rng, cfg.RecordsPerSide, len(group), cfg.Rate, DefaultTopics)
		prs := make([]protocol.Practice, len(sched))
		for k := range prs {
			prs[k] = GenPractice(rng, 700_000+side*10_000+k)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := publishSchedule(ctx, group, sched, func(k int, p Pub) node.PracticeInput {
				return node.PracticeInput{Practice: prs[k], Topics: []string{p.Topic}}
			})
			mu.Lock()
			defer mu.Unlock()
			for _, o := range out {
				if o.err == nil {
					pubs = append(pubs, o.rec)
				}
			}
		}()
	}
	wg.Wait()
	res.Published = len(pubs)
	time.Sleep(3 * time.Second)

	// The target: each subscriber of a topic holds every record of it.
	want := map[string]map[cid.Cid]bool{}
	for _, r := range pubs {
		for _, t := range r.Record.Topics {
			if want[t] == nil {
				want[t] = map[cid.Cid]bool{}
			}
			want[t][r.CID] = true
		}
	}
	missing := func() int {
		m := 0
		for _, sn := range nodes {
			for _, t := range sn.Topics {
				have := map[cid.Cid]bool{}
				_ = sn.Node().TopicRecords(t, func(ti knowledge.TopicItem) error {
					have[ti.CID] = true
					return nil
				})
				for x := range want[t] {
					if !have[x] {
						m++
					}
				}
			}
		}
		return m
	}
	res.MissingAtHeal = missing()
	before := MeterTotal(nodes)
	log("partition: healing; %d (record, node) pairs missing", res.MissingAtHeal)
	heal := time.Now()
	for _, x := range a {
		for _, y := range b {
			if _, err := c.MN.LinkPeers(x.ID, y.ID); err != nil {
				return nil, err
			}
		}
	}
	var cw sync.WaitGroup
	for _, x := range a {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for _, y := range b {
				_, _ = c.MN.ConnectPeers(x.ID, y.ID)
			}
		}()
	}
	cw.Wait()
	wait := cfg.Wait
	if wait == 0 {
		wait = 2 * time.Minute
	}
	for time.Since(heal) < wait {
		m := missing()
		el := time.Since(heal).Seconds()
		frac := 1.0
		if res.MissingAtHeal > 0 {
			frac = 1 - float64(m)/float64(res.MissingAtHeal)
		}
		res.Progress = append(res.Progress, [2]float64{round(el, 2), round(frac, 4)})
		if m == 0 {
			res.Converged = true
			res.ConvergeS = round(el, 2)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.SyncBytes = MeterTotal(nodes).Sub(before).Out[CatSync]
	if res.Converged {
		log("partition: identical sets %.2f s after healing", res.ConvergeS)
	} else {
		log("partition: NOT converged within %s", wait)
	}
	return res, nil
}
