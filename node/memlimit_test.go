// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"fmt"
	"math"
	"runtime/debug"
	"testing"
	"time"

	"github.com/livinglab/livinglab/internal/sysmem"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// A rebuild raises the soft memory limit to what the process may use and
// puts it back after.
func TestReindexLiftsMemoryLimit(t *testing.T) {
	a := newLabAPI(t)
	publishV2(t, a.n, PracticeInput{Practice: protocol.Practice{Title: "Village telecare",
		Summary: "Volunteers check in on older neighbours.", Language: "en"}}, "elderly-care")
	const limit = 64 << 20
	prev := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	// As in a unit with MemoryMax=1G.
	availableMemory = func() (uint64, bool) { return 1 << 30, true }
	t.Cleanup(func() { availableMemory = sysmem.Available })
	const want = 768 << 20
	var during []int64
	if err := a.n.Reindex(func(done, total int) {
		during = append(during, debug.SetMemoryLimit(-1))
	}); err != nil {
		t.Fatal(err)
	}
	if len(during) == 0 {
		t.Fatal("no progress reported")
	}
	for _, l := range during {
		if l != want {
			t.Fatalf("limit during the rebuild: %d, want %d", l, want)
		}
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("limit after the rebuild: %d, want %d", got, limit)
	}

	// Nested lifts put the limit back only after the last.
	r1 := liftMemoryLimit()
	r2 := liftMemoryLimit()
	r1()
	r1() // a second call changes nothing
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Fatalf("limit with one lift left: %d, want %d", got, want)
	}
	r2()
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("limit after both lifts: %d, want %d", got, limit)
	}
}

func TestRaisedMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name  string
		set   int64
		avail uint64
		known bool
		want  int64
	}{
		{"daemon in a 384 MiB unit", 64 * mib, 384 * mib, true, 288 * mib},
		{"daemon on a machine with 20 GiB free", 64 * mib, 20 << 30, true, 15 << 30},
		{"no limit set", math.MaxInt64, 384 * mib, true, math.MaxInt64},
		{"memory not known", 64 * mib, 0, false, math.MaxInt64},
		{"limit set above three quarters", 512 * mib, 384 * mib, true, 512 * mib},
		{"no cgroup limit, no meminfo", 64 * mib, math.MaxUint64, true, math.MaxInt64},
	} {
		if got := raisedMemoryLimit(c.set, c.avail, c.known); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// A full index batch (a catch-up, a burst) is applied with the limit
// raised, like a rebuild, and the limit comes back after it.
func TestIndexBatchLiftsMemoryLimit(t *testing.T) {
	a := newLabAPI(t)
	n := a.n
	if err := n.openIndex(nil); err != nil {
		t.Fatal(err)
	}
	defer n.closeIndex()
	availableMemory = func() (uint64, bool) { return 1 << 30, true }
	t.Cleanup(func() { availableMemory = sysmem.Available })
	const limit, raised = 64 << 20, 768 << 20
	prev := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	ops := make([]indexOp, indexBatchMin)
	for i := range ops {
		ops[i] = indexOp{put: &search.Doc{CID: fmt.Sprintf("doc-%d", i), Kind: "practice", Language: "en",
			Title:   fmt.Sprintf("Village telecare round %d", i),
			Summary: "Volunteers check in on older neighbours by phone.", Created: time.Now()}}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.applyIndex(ops)
	}()
	seen := false
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
			if debug.SetMemoryLimit(-1) == raised {
				seen = true
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	if !seen {
		t.Errorf("the limit was never raised to %d while %d documents were indexed", raised, len(ops))
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("limit after the batch: %d, want %d", got, limit)
	}
	if got, err := n.searchIndex().Count(); err != nil || got != uint64(len(ops)) {
		t.Fatalf("index holds %d (%v), want %d", got, err, len(ops))
	}
}
