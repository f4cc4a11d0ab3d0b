// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"math"
	"runtime/debug"
	"sync"

	"github.com/livinglab/livinglab/internal/sysmem"
)

// The Go runtime's soft memory limit (limits.go_memory_limit_mb) keeps an
// idle daemon small. A full rebuild of the search index cannot stay under
// it: its analysed documents, the segment being built and the final merge
// need a few hundred MiB of heap whatever the limit. Under the limit the
// collector runs without pause and the rebuild still uses that memory: a
// rebuild of 100,000 practices took 193 s and 371 s of CPU with a 64 MiB
// limit, 45 s and 79 s of CPU without (bench/cpu-per-delivery.md). So a
// rebuild raises the limit while it runs, to what the process may use, and
// so does a full batch of index changes (a catch-up): 20,000 practices
// came in at about 410 a second under the limit, 900-1,000 with it raised.
var memLimit struct {
	sync.Mutex
	lifts int
	saved int64
}

// availableMemory is how much memory the process may use (a variable so
// that tests can fix it: the system's figure changes from moment to moment).
var availableMemory = sysmem.Available

// liftMemoryLimit raises the runtime's soft memory limit until the
// returned function is called: to three quarters of the memory available
// to the process (raisedMemoryLimit), so that in a memory cgroup (a
// systemd unit's MemoryMax) the collector still works before the kernel's
// limit kills the process. Lifts nest, because the limit belongs to the
// process and several nodes in one process (tests, the simulator) may
// rebuild at once: the limit that was set before the first comes back
// after the last.
func liftMemoryLimit() (restore func()) {
	memLimit.Lock()
	defer memLimit.Unlock()
	if memLimit.lifts == 0 {
		avail, known := availableMemory()
		memLimit.saved = debug.SetMemoryLimit(-1)
		debug.SetMemoryLimit(raisedMemoryLimit(memLimit.saved, avail, known))
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

// raisedMemoryLimit is the soft memory limit while a rebuild or a full
// index batch runs, given the limit set (math.MaxInt64: none) and the
// memory available to the process: none if the memory is not known or
// there was none, else three quarters of what is available, but never
// below the limit set.
func raisedMemoryLimit(set int64, avail uint64, known bool) int64 {
	if set == math.MaxInt64 || !known || avail/4*3 >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(set, int64(avail/4*3))
}
