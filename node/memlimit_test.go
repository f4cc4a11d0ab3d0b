// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/livinglab/livinglab/protocol"
)

// A rebuild runs without the soft memory limit and puts it back after.
func TestReindexLiftsMemoryLimit(t *testing.T) {
	a := newLabAPI(t)
	publishV2(t, a.n, PracticeInput{Practice: protocol.Practice{Title: "Village telecare",
		Summary: "Volunteers check in on older neighbours.", Language: "en"}}, "elderly-care")
	const limit = 64 << 20
	prev := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

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
		if l != math.MaxInt64 {
			t.Fatalf("limit during the rebuild: %d, want none", l)
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
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit with one lift left: %d", got)
	}
	r2()
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("limit after both lifts: %d, want %d", got, limit)
	}
}
