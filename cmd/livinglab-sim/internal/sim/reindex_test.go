// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"strings"
	"testing"
	"time"
)

// A kept catch-up home is rebuilt twice through the node's own Reindex,
// and the report shows both runs and the target row.
func TestReindexSmoke(t *testing.T) {
	ctx := smokeContext(t, "builds a catch-up store")
	dir := t.TempDir()
	cu, err := RunCatchUp(ctx, CatchUpConfig{Total: 300, Missing: 5, Latency: time.Millisecond, Seed: 1, Dir: dir}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunReindex(ctx, cu.homeA, 2, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 300 {
		t.Fatalf("reindexed %d records, want 300", res.Records)
	}
	if len(res.WallS) != 2 || res.Wall.N != 2 || res.Wall.Min <= 0 || res.CPU.Median <= 0 {
		t.Fatalf("runs not measured: %+v", res)
	}
	md := Markdown(&Results{Reindex: res}, "bench")
	for _, want := range []string{"| reindex, 300 practices |", "median (range) of 2 runs", "## Reindex"} {
		if !strings.Contains(md, want) {
			t.Fatalf("report lacks %q:\n%s", want, md)
		}
	}
}
