// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// defaultScrubInterval is how often the whole store is checked when the
// config names no interval.
const defaultScrubInterval = 24 * time.Hour

// repairDelay lets a burst of damage found on read gather before the
// members are asked for copies.
const repairDelay = 5 * time.Second

// integrity is the repairer's state.
type integrity struct {
	wake   chan struct{}
	mu     sync.Mutex
	status IntegrityStatus
}

// IntegrityStatus is what the node knows of its store's integrity.
type IntegrityStatus struct {
	Damaged   int       `json:"damaged_records"`
	Repaired  int64     `json:"repaired_records"`
	LastScrub time.Time `json:"last_scrub,omitzero"`
	// LastScrubProblems counts what the last full check found (records
	// and index entries), repaired or not.
	LastScrubProblems int `json:"last_scrub_problems"`
}

// Integrity reports the store's integrity as last seen.
func (n *Node) Integrity() IntegrityStatus {
	n.integ.mu.Lock()
	defer n.integ.mu.Unlock()
	st := n.integ.status
	st.Damaged = len(n.store.Damaged())
	return st
}

// damageFound is the store's OnDamaged hook: it wakes the repairer.
func (n *Node) damageFound(cid.Cid, error) {
	n.stats.damageFound.Inc()
	select {
	case n.integ.wake <- struct{}{}:
	default:
	}
}

// scrubLoop checks the whole store now and then, and repairs damaged
// records from the members as soon as damage is found (on read, by a
// scrub, or by `livinglab check`).
func (n *Node) scrubLoop(ctx context.Context) error {
	iv := time.Duration(n.Config().Store.ScrubInterval)
	if iv <= 0 {
		iv = defaultScrubInterval
	}
	// The first scrub comes soon after start (a crash is when damage is
	// most likely), spread over nodes so that a restarted federation does
	// not check all at once.
	first := min(iv, 10*time.Minute)
	next := time.NewTimer(first + time.Duration(rand.Int64N(int64(first)/4+1)))
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.integ.wake:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(repairDelay):
			}
			n.RepairDamaged(ctx)
		case <-next.C:
			if _, err := n.Scrub(ctx, nil); err != nil && ctx.Err() == nil {
				n.log.Warn("scrub failed", "err", err)
			}
			next.Reset(iv/2 + time.Duration(rand.Int64N(int64(iv))))
		}
	}
}

// Scrub checks every stored record against its CID and signature and every
// index entry against the records, drops index entries that point at
// nothing (so sync fetches those records again), and repairs damaged
// records from the connected members.
func (n *Node) Scrub(ctx context.Context, progress func(done, total int)) (knowledge.CheckReport, error) {
	rep, err := n.store.Check(ctx, knowledge.CheckOptions{Signatures: true, FixIndex: true, Progress: progress})
	if err != nil {
		return rep, err
	}
	n.integ.mu.Lock()
	n.integ.status.LastScrub = time.Now().UTC()
	n.integ.status.LastScrubProblems = len(rep.Problems)
	n.integ.mu.Unlock()
	if len(rep.Problems) > 0 {
		n.log.Error("store check found damage", "records", rep.Records, "problems", len(rep.Problems),
			"damaged_records", len(rep.DamagedRecords()))
	} else {
		n.log.Info("store check found no damage", "records", rep.Records, "took", rep.Took.Round(time.Millisecond))
	}
	if len(rep.DamagedRecords()) > 0 {
		n.RepairDamaged(ctx)
	}
	return rep, nil
}

// RepairDamaged asks the connected members for intact copies of the
// records this node found damaged and stores those that verify against
// their CIDs and signatures. It returns how many were repaired and the
// records still damaged (none of the members had them, or none is
// connected: a later sync round tries again).
func (n *Node) RepairDamaged(ctx context.Context) (int, []cid.Cid) {
	todo := n.store.Damaged()
	repaired := 0
	for _, p := range n.connectedMembers() {
		if len(todo) == 0 {
			break
		}
		for start := 0; start < len(todo); start += syncBatch {
			batch := todo[start:min(start+syncBatch, len(todo))]
			got, err := n.repairFrom(ctx, p, batch)
			if err != nil {
				n.log.Debug("repair: member did not answer", "peer", p, "err", err)
				break
			}
			repaired += got
		}
		todo = n.store.Damaged()
	}
	if repaired > 0 {
		n.integ.mu.Lock()
		n.integ.status.Repaired += int64(repaired)
		n.integ.mu.Unlock()
		n.stats.repaired.Add(float64(repaired))
	}
	if len(todo) > 0 && ctx.Err() == nil {
		n.log.Warn("damaged records not yet repaired", "count", len(todo), "members_asked", len(n.connectedMembers()))
	}
	return repaired, todo
}

func (n *Node) repairFrom(ctx context.Context, p peer.ID, batch []cid.Cid) (int, error) {
	raws, err := n.fetchRaw(ctx, p, batch)
	if err != nil {
		return 0, err
	}
	got := 0
	for _, raw := range raws {
		env, err := protocol.DecodeEnvelope(raw)
		if err != nil {
			continue
		}
		c := protocol.RecordCID(env.Body)
		if !slices.ContainsFunc(batch, c.Equals) {
			continue
		}
		ok, err := n.store.Repair(c, raw)
		if err != nil {
			if !errors.Is(err, protocol.ErrBadSig) && !errors.Is(err, protocol.ErrCIDMismatch) {
				n.log.Warn("repair", "cid", c, "peer", p, "err", err)
			}
			continue
		}
		if ok {
			got++
		}
	}
	return got, nil
}
