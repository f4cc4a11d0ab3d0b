// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/livinglab/livinglab/node"
)

// ReindexResult is the full rebuild of a node's search index from its
// store (what `livinglab reindex` does, and a node after an upgrade that
// changes the index schema), run several times on the same home.
type ReindexResult struct {
	Records    int       `json:"records"`
	WallS      []float64 `json:"wall_s"` // each run, in order
	CPUS       []float64 `json:"cpu_s"`  // user + system of each run
	Wall       Span      `json:"wall"`   // median and range of the runs
	CPU        Span      `json:"cpu"`
	PeakRSSMiB float64   `json:"peak_rss_mib"` // of the whole process
}

// RunReindex rebuilds the search index of home (not in use by a daemon)
// runs times, through the node's own Reindex.
func RunReindex(ctx context.Context, home string, runs int, log Logf) (*ReindexResult, error) {
	n, err := node.New(node.Home{Dir: home}, node.Options{})
	if err != nil {
		return nil, fmt.Errorf("reindex: open %s: %w", home, err)
	}
	defer n.Close()
	res := &ReindexResult{}
	for i := range max(runs, 1) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		BeforeMeasure("reindex")
		u0 := ReadUsage()
		records := 0
		if err := n.Reindex(func(done, _ int) { records = done }); err != nil {
			return nil, fmt.Errorf("reindex run %d: %w", i+1, err)
		}
		u1 := ReadUsage()
		wall := u1.At.Sub(u0.At).Seconds()
		cpu := (u1.UserCPU + u1.SysCPU - u0.UserCPU - u0.SysCPU).Seconds()
		res.Records = records
		res.WallS = append(res.WallS, round(wall, 1))
		res.CPUS = append(res.CPUS, round(cpu, 1))
		res.PeakRSSMiB = round(float64(u1.VmHWM)/(1<<20), 1)
		log("reindex: run %d: %d records in %.1f s (CPU %.1f s)", i+1, records, wall, cpu)
	}
	res.Wall, res.CPU = SpanOf(res.WallS), SpanOf(res.CPUS)
	return res, nil
}

// reindexRuns is how many rebuilds a report takes the median of.
const reindexRuns = 3

// reindexTarget is the longest a full rebuild of the report's catch-up
// store (100,000 practices) may take.
const reindexTarget = 30 * time.Second
