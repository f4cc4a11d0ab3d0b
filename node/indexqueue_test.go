// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livinglab/livinglab/protocol"
)

// While the index falls behind, a record's writer waits for room in the
// queue instead of the queue growing with every record stored; once the
// indexer catches up, every record is indexed.
func TestIndexQueueHoldsWritersBack(t *testing.T) {
	a := newLabAPI(t)
	n := a.n
	const limit, total = 5, 20
	if err := n.openIndex(nil); err != nil {
		t.Fatal(err)
	}
	defer n.closeIndex()
	n.idxq.mu.Lock()
	n.idxq.maxPending = limit
	n.idxq.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = n.indexer(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()
	for {
		n.idxq.mu.Lock()
		running := n.idxq.running
		n.idxq.mu.Unlock()
		if running {
			break
		}
		time.Sleep(time.Millisecond)
	}

	// The index is busy (a rebuild holds it): the indexer takes a batch
	// and waits.
	n.idxMu.Lock()
	var published atomic.Int32
	type seen struct {
		stalledAt, after int32
		pending          int
		full             bool
	}
	obs := make(chan seen, 1)
	go func() {
		var s seen
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			n.idxq.mu.Lock()
			s.full = len(n.idxq.pending) >= limit
			n.idxq.mu.Unlock()
			if s.full {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		s.stalledAt = published.Load()
		time.Sleep(300 * time.Millisecond)
		s.after = published.Load()
		n.idxq.mu.Lock()
		s.pending = len(n.idxq.pending)
		n.idxq.mu.Unlock()
		n.idxMu.Unlock()
		obs <- s
	}()
	for i := range total {
		publishV2(t, n, PracticeInput{Practice: protocol.Practice{
			Title:    fmt.Sprintf("Village telecare round %d", i),
			Summary:  "Volunteers check in on older neighbours by phone.",
			Language: "en"}}, fmt.Sprintf("care-%d", i))
		published.Add(1)
	}
	s := <-obs
	if !s.full {
		t.Fatalf("the queue never filled up to %d changes", limit)
	}
	if s.after != s.stalledAt || s.after >= total {
		t.Errorf("the writer went on while the queue was full: %d records stored when it filled, %d later (of %d)", s.stalledAt, s.after, total)
	}
	if s.pending > limit {
		t.Errorf("%d changes queued, limit %d", s.pending, limit)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), time.Minute)
	defer fcancel()
	if err := n.FlushIndex(fctx); err != nil {
		t.Fatal(err)
	}
	if got, err := n.searchIndex().Count(); err != nil || got != total {
		t.Fatalf("index holds %d records (%v), want %d", got, err, total)
	}
}
