// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// ChurnConfig sets up the churn scenario.
type ChurnConfig struct {
	Nodes      int
	Latency    time.Duration
	Records    int
	Rate       float64
	ChurnEvery time.Duration // a node goes down this often
	Downtime   time.Duration // and comes back after this long
	Settle     time.Duration
	Seed       uint64
	Dir        string
}

// ChurnResult is the outcome of the churn scenario.
type ChurnResult struct {
	Nodes       int         `json:"nodes"`
	LinkMs      float64     `json:"link_latency_ms"`
	Rate        float64     `json:"rate_per_s"`
	ChurnEveryS float64     `json:"churn_every_s"`
	DowntimeS   float64     `json:"downtime_s"`
	Records     int         `json:"records"`
	Published   int         `json:"published"`
	Setup       SetupResult `json:"setup"`
	Restarts    int         `json:"restarts"`
	Expected    int         `json:"expected"`
	// Held once every node is back and the catch-up that reconnection
	// starts has run (gossip, connect-time sync and gap fetches), before
	// any explicit sync.
	BeforeSync      int       `json:"held_before_sync"`
	BeforeSyncRatio float64   `json:"ratio_before_sync"`
	AfterRounds     []float64 `json:"ratio_after_sync_rounds"`
	FinalRatio      float64   `json:"final_ratio"`
	Restart         Dist      `json:"restart"` // stop + start of one node
}

// RunChurn publishes while nodes stop and restart (a fresh mocknet host
// with the same key and home each time) and checks that catch-up delivers
// everything.
func RunChurn(ctx context.Context, cfg ChurnConfig, log Logf) (*ChurnResult, error) {
	rng, c, err := newScenario(cfg.Dir, "churn", cfg.Latency, cfg.Seed, 3)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &ChurnResult{Nodes: cfg.Nodes, Records: cfg.Records, LinkMs: Ms(cfg.Latency), Rate: cfg.Rate,
		ChurnEveryS: cfg.ChurnEvery.Seconds(), DowntimeS: cfg.Downtime.Seconds()}
	log("churn: forming a federation of %d nodes", cfg.Nodes)
	nodes, setup, err := SetupJoined(c, cfg.Nodes, DefaultTopics, "c")
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res.Setup = setup
	sched := Schedule(rng, cfg.Records, cfg.Nodes, cfg.Rate, DefaultTopics)
	prs := make([]protocol.Practice, len(sched))
	for k := range prs {
		prs[k] = GenPractice(rng, 500_000+k)
	}

	BeforeMeasure("churn")
	// The churner: every ChurnEvery one node (never the founder) that is up
	// goes down for Downtime. It picks at random with its own generator.
	var mu sync.Mutex // guards choices of authors against nodes going down
	down := map[int]bool{}
	var restarts []float64
	var churnErr error
	stopChurn := make(chan struct{})
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		crng := rand.New(rand.NewPCG(cfg.Seed, 4))
		var wg sync.WaitGroup
		tick := time.NewTicker(cfg.ChurnEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopChurn:
				wg.Wait()
				return
			case <-tick.C:
			}
			mu.Lock()
			i := 1 + crng.IntN(len(nodes)-1)
			if down[i] {
				mu.Unlock()
				continue
			}
			down[i] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.Now()
				err := c.Stop(nodes[i])
				time.Sleep(cfg.Downtime)
				if err == nil {
					err = c.Start(nodes[i], StartOptions{})
				}
				mu.Lock()
				down[i] = false
				if err != nil && churnErr == nil {
					churnErr = err
				}
				restarts = append(restarts, Ms(time.Since(t)-cfg.Downtime))
				mu.Unlock()
			}()
		}
	}()

	type pubRec struct {
		k      int
		author int
		rec    *protocol.Signed
	}
	var pmu sync.Mutex
	var pubs []pubRec
	start := time.Now()
	var wg sync.WaitGroup
	for k, p := range sched {
		if d := time.Until(start.Add(p.At)); d > 0 {
			time.Sleep(d)
		}
		mu.Lock()
		a := p.Author
		for down[a] {
			a = rng.IntN(len(nodes))
		}
		n := nodes[a].Node()
		mu.Unlock()
		if n == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub, err := publishPractice(ctx, n, node.PracticeInput{Practice: prs[k], Topics: []string{p.Topic}})
			if err != nil {
				return // the node went down under the publisher
			}
			pmu.Lock()
			pubs = append(pubs, pubRec{k, a, pub.Record})
			pmu.Unlock()
		}()
	}
	wg.Wait()
	close(stopChurn)
	<-churnDone
	if churnErr != nil {
		return nil, fmt.Errorf("churn: %w", churnErr)
	}
	res.Published = len(pubs)
	res.Restarts = len(restarts)
	res.Restart = Summarise(restarts)
	log("churn: %d published, %d restarts; waiting for reconnection catch-up", len(pubs), len(restarts))
	if _, err := c.WaitFederated(nodes, 30*time.Second); err != nil {
		return nil, err
	}
	time.Sleep(cfg.Settle)
	c.WaitQuiet(nodes, 2*time.Second, 60*time.Second)

	held := func() int {
		h := 0
		for _, p := range pubs {
			for j, sn := range nodes {
				if j != p.author && sn.Subscribes(sched[p.k].Topic) && sn.Node().Has(p.rec.CID) {
					h++
				}
			}
		}
		return h
	}
	for _, p := range pubs {
		for j, sn := range nodes {
			if j != p.author && sn.Subscribes(sched[p.k].Topic) {
				res.Expected++
			}
		}
	}
	res.BeforeSync = held()
	if res.Expected > 0 {
		res.BeforeSyncRatio = float64(res.BeforeSync) / float64(res.Expected)
	}
	res.FinalRatio = res.BeforeSyncRatio
	for round := 0; round < 5 && res.FinalRatio < 1; round++ {
		c.SyncRound(ctx, nodes, rng, 8)
		r := float64(held()) / float64(res.Expected)
		res.AfterRounds = append(res.AfterRounds, r)
		res.FinalRatio = r
	}
	log("churn: %.2f%% held before explicit sync, %.2f%% after %d round(s)", 100*res.BeforeSyncRatio,
		100*res.FinalRatio, len(res.AfterRounds))
	return res, nil
}
