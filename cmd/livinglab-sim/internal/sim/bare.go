// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// Names of the bare gossipsub systems.
const (
	BareDefaults = "gossipsub (defaults)"
	BareFlood    = "gossipsub (flood publish)"
	BareSame     = "gossipsub (livinglab's options)"
	BareStore    = "gossipsub (livinglab's options) + verify + store"
)

// BareVariants are the bare gossipsub configurations the steady scenario
// compares with: the library's defaults; flood publishing, as livinglab
// sets; every option livinglab sets that shapes delivery (flood
// publishing, unsigned messages with a content-hash ID, queue sizes), so
// that the remaining difference is livinglab's own work; and those options
// plus the least any node keeping signed records must do with each one
// before it counts as stored: a validator that opens the record (decode,
// canonical-encoding check, signature) and writes it to Badger under its
// CID, with the node's Badger options. The last gossips the very records
// livinglab published.
var BareVariants = []string{BareDefaults, BareFlood, BareSame, BareStore}

// BareConfig runs a publish schedule on plain go-libp2p-pubsub gossipsub.
type BareConfig struct {
	Nodes    int
	Latency  time.Duration
	Schedule []Pub
	// Records are livinglab's encoded records of the schedule (nil:
	// skipped). BareStore publishes them as they are; the other variants
	// publish random bytes of the same sizes.
	Records [][]byte
	Subs    [][]string // topics each host subscribes to
	Variant string     // one of BareVariants
	Settle  time.Duration
	Seed    uint64
	Dir     string // BareStore: a directory for the hosts' Badger databases
}

// RunBare runs the schedule on bare gossipsub hosts: the same mock network
// (every host linked to and connected with every other, same latency), the
// same subscriptions, message sizes and timing; no validation or storage
// but BareStore's.
func RunBare(ctx context.Context, cfg BareConfig) (*LatencyRun, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mn, delay := newMocknet(cfg.Latency)
	defer mn.Close()
	type bhost struct {
		h      *MeteredHost
		ps     *pubsub.PubSub
		topics map[string]*pubsub.Topic
		mu     sync.Mutex
		recv   map[uint64]time.Time
	}
	hosts := make([]*bhost, cfg.Nodes)
	for i := range hosts {
		k, _, err := crypto.GenerateEd25519Key(crand.Reader)
		if err != nil {
			return nil, err
		}
		h, err := mn.AddPeer(k, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 30000+i)))
		if err != nil {
			return nil, err
		}
		hosts[i] = &bhost{h: NewMeteredHost(h, NewMeter(), delay), topics: map[string]*pubsub.Topic{}, recv: map[uint64]time.Time{}}
	}
	if err := mn.LinkAll(); err != nil {
		return nil, err
	}
	var opts []pubsub.Option
	switch cfg.Variant {
	case BareDefaults:
	case BareFlood:
		opts = append(opts, pubsub.WithFloodPublish(true))
	case BareSame, BareStore:
		opts = node.GossipDeliveryOptions()
	default:
		return nil, fmt.Errorf("bare gossipsub: unknown variant %q", cfg.Variant)
	}
	store := cfg.Variant == BareStore
	var index map[string]uint64 // BareStore: record CID -> schedule index
	if store {
		index = map[string]uint64{}
		for k, rec := range cfg.Records {
			if rec == nil {
				continue
			}
			s, err := protocol.Open(rec, time.Now())
			if err != nil {
				return nil, fmt.Errorf("bare gossipsub: record %d: %w", k, err)
			}
			index[s.CID.String()] = uint64(k)
		}
	}
	for i, bh := range hosts {
		ps, err := pubsub.NewGossipSub(ctx, bh.h, opts...)
		if err != nil {
			return nil, err
		}
		bh.ps = ps
		if store {
			db, err := knowledge.OpenRawKV(filepath.Join(cfg.Dir, fmt.Sprintf("h%d", i)), knowledge.Options{Logger: NodeLog})
			if err != nil {
				return nil, fmt.Errorf("bare gossipsub: %w", err)
			}
			defer db.Close()
			self := bh.h.ID()
			for _, t := range allTopics(cfg) {
				err := ps.RegisterTopicValidator(protocol.GossipTopic(Federation, t), func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
					s, err := protocol.Open(m.Data, time.Now())
					if err != nil {
						return pubsub.ValidationReject
					}
					if err := db.Set(s.CID.Bytes(), m.Data); err != nil {
						return pubsub.ValidationIgnore
					}
					if from != self {
						now := time.Now()
						bh.mu.Lock()
						if k, ok := index[s.CID.String()]; ok {
							if _, ok := bh.recv[k]; !ok {
								bh.recv[k] = now
							}
						}
						bh.mu.Unlock()
					}
					return pubsub.ValidationAccept
				})
				if err != nil {
					return nil, err
				}
			}
		}
		for _, t := range cfg.Subs[i] {
			tp, sub, err := subscribe(ps, t)
			if err != nil {
				return nil, err
			}
			bh.topics[t] = tp
			self := bh.h.ID()
			go func() {
				for {
					m, err := sub.Next(ctx)
					if err != nil {
						return
					}
					if store || m.ReceivedFrom == self || len(m.Data) < 8 {
						continue // BareStore: stored by the validator
					}
					now := time.Now()
					k := binary.BigEndian.Uint64(m.Data)
					bh.mu.Lock()
					if _, ok := bh.recv[k]; !ok {
						bh.recv[k] = now
					}
					bh.mu.Unlock()
				}
			}()
		}
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		return nil, err
	}
	// Wait until every host knows every other subscriber of its topics,
	// then for the mesh to form.
	count := map[string]int{}
	for _, s := range cfg.Subs {
		for _, t := range s {
			count[t]++
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for _, bh := range hosts {
			for t := range bh.topics {
				if len(bh.ps.ListPeers(protocol.GossipTopic(Federation, t))) < count[t]-1 {
					ok = false
				}
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bare gossipsub: subscriptions not known within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)

	name := cfg.Variant
	BeforeMeasure("steady: " + name)
	var all []*SimNode // only for MeterTotal
	for _, bh := range hosts {
		all = append(all, &SimNode{Meter: bh.h.M})
	}
	payloads := make([][]byte, len(cfg.Schedule))
	for k, rec := range cfg.Records {
		switch {
		case rec == nil:
		case store:
			payloads[k] = rec
		default:
			b := make([]byte, max(len(rec), 8))
			_, _ = crand.Read(b)
			binary.BigEndian.PutUint64(b, uint64(k))
			payloads[k] = b
		}
	}
	t0s := make([]time.Time, len(cfg.Schedule))
	errs := make([]error, len(cfg.Schedule))
	before := MeterTotal(all)
	stop := startProfile(name)
	u0 := ReadUsage()
	start := time.Now()
	var wg sync.WaitGroup
	for k, p := range cfg.Schedule {
		if payloads[k] == nil {
			continue
		}
		if d := time.Until(start.Add(p.At)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bh := hosts[p.Author]
			t0s[k] = time.Now()
			if tp, ok := bh.topics[p.Topic]; ok {
				errs[k] = tp.Publish(ctx, payloads[k])
				return
			}
			// Like livinglab: join the topic just to publish, then leave.
			tp, err := bh.ps.Join(protocol.GossipTopic(Federation, p.Topic))
			if err != nil {
				errs[k] = err
				return
			}
			errs[k] = tp.Publish(ctx, payloads[k])
			tp.Close()
		}()
	}
	wg.Wait()
	time.Sleep(cfg.Settle)
	cutoff := time.Now()
	u1 := ReadUsage()
	stop()
	window := MeterTotal(all).Sub(before)

	tl := tally{run: LatencyRun{System: name, Resources: Cost(u0, u1)}}
	for k, p := range cfg.Schedule {
		if payloads[k] == nil || errs[k] != nil {
			continue
		}
		for j, bh := range hosts {
			if j == p.Author || !slices.Contains(cfg.Subs[j], p.Topic) {
				continue
			}
			bh.mu.Lock()
			stored := bh.recv[uint64(k)]
			bh.mu.Unlock()
			got, _, _ := bh.h.M.Received(payloads[k])
			tl.add(t0s[k], cutoff, stored, got)
		}
	}
	run := tl.done(window)
	for _, bh := range hosts {
		bh.h.Close()
	}
	return &run, nil
}

// allTopics lists the topics the hosts of cfg publish or subscribe to.
func allTopics(cfg BareConfig) []string {
	var ts []string
	add := func(t string) {
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	for _, subs := range cfg.Subs {
		for _, t := range subs {
			add(t)
		}
	}
	for _, p := range cfg.Schedule {
		add(p.Topic)
	}
	return ts
}

// subscribe joins the federation's gossip topic t and subscribes to it.
func subscribe(ps *pubsub.PubSub, t string) (*pubsub.Topic, *pubsub.Subscription, error) {
	tp, err := ps.Join(protocol.GossipTopic(Federation, t))
	if err != nil {
		return nil, nil, err
	}
	sub, err := tp.Subscribe()
	if err != nil {
		return nil, nil, err
	}
	return tp, sub, nil
}
