// SPDX-License-Identifier: EUPL-1.2

package search

import "testing"

// The final merge takes one pass only where the segments fit in memory
// twice over; on a small server, or when the memory is not known to be
// short, the choice follows.
func TestMergeFanIn(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		name  string
		total int
		avail uint64
		known bool
		want  int
	}{
		{"100,000 records, 20 GiB free", 100000, 20 * gib, true, rebuildMergeMax},
		{"100,000 records in a 1 GiB unit", 100000, 1 * gib, true, rebuildMergeSmall},
		{"100,000 records in a 384 MiB unit", 100000, 384 << 20, true, rebuildMergeSmall},
		{"10,000 records in a 1 GiB unit", 10000, 1 * gib, true, rebuildMergeMax},
		{"memory unknown", 100000, 0, false, rebuildMergeMax},
		{"total unknown", 0, 384 << 20, true, rebuildMergeMax},
	} {
		if got := mergeFanIn(c.total, c.avail, c.known); got != c.want {
			t.Errorf("%s: fan-in %d, want %d", c.name, got, c.want)
		}
	}
}
