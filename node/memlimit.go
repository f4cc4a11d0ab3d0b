// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"math"
	"runtime/debug"
	"sync"
)

// The Go runtime's soft memory limit (limits.go_memory_limit_mb) keeps an
// idle daemon small. A full rebuild of the search index cannot stay under
// it: its analysed documents, the segment being built and the final merge
// need a few hundred MiB of heap whatever the limit. Under the limit the
// collector runs without pause and the rebuild still uses that memory: a
// rebuild of 100,000 practices took 193 s and 371 s of CPU with a 64 MiB
// limit, 45 s and 79 s of CPU without (bench/cpu-per-delivery.md). So a
// rebuild lifts the limit while it runs.
var memLimit struct {
	sync.Mutex
	lifts int
	saved int64
}

// liftMemoryLimit removes the runtime's soft memory limit until the
// returned function is called. Lifts nest, because the limit belongs to
// the process and several nodes in one process (tests, the simulator) may
// rebuild at once: the limit that was set before the first comes back
// after the last.
func liftMemoryLimit() (restore func()) {
	memLimit.Lock()
	defer memLimit.Unlock()
	if memLimit.lifts == 0 {
		memLimit.saved = debug.SetMemoryLimit(math.MaxInt64)
	}
	memLimit.lifts++
	return sync.OnceFunc(func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		memLimit.lifts--
		if memLimit.lifts == 0 {
			debug.SetMemoryLimit(memLimit.saved)
		}
	})
}
