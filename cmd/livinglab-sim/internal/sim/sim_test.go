// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"strings"
	"testing"
	"time"
)

// smokeContext skips a smoke run in -short mode (why says what it starts)
// and otherwise bounds it to two minutes.
func smokeContext(t *testing.T, why string) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Four nodes admitted with invites publish a few practices; after one sync
// round every subscriber holds every record of its topics. The same
// schedule on every bare gossipsub variant delivers every message.
func TestSteadySmoke(t *testing.T) {
	ctx := smokeContext(t, "starts four nodes")
	res, err := RunSteady(ctx, SteadyConfig{Nodes: 4, Latency: 5 * time.Millisecond, Records: 12, Rate: 20,
		Settle: time.Second, Seed: 1, Dir: t.TempDir(), Bare: true, Runs: 2}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed > 0 {
		t.Fatalf("%d publishes failed", res.Failed)
	}
	run := res.Livinglab
	// 12 records, one topic each, followed by two of the three others... at
	// least one subscriber per record.
	if run.Expected < 12 {
		t.Fatalf("expected deliveries %d, want at least 12", run.Expected)
	}
	if res.SyncedRatio != 1 {
		t.Fatalf("after sync %d of %d deliveries (%.3f), want all", res.SyncedDelivered, run.Expected, res.SyncedRatio)
	}
	if run.Delivered == 0 || run.Latency.P50 <= 0 {
		t.Fatalf("no live deliveries measured: %+v", run.Latency)
	}
	if run.ByGossip == 0 || run.Copies < 1 {
		t.Fatalf("gossip meter saw nothing: by gossip %d, copies %.2f", run.ByGossip, run.Copies)
	}
	t.Logf("live %d/%d, p50 %.1f ms, p99 %.1f ms, %.2f copies, %.0f gossip bytes per delivery",
		run.Delivered, run.Expected, run.Latency.P50, run.Latency.P99, run.Copies, run.BytesPerDelivery)
	if len(res.Bare) != len(BareVariants) {
		t.Fatalf("%d bare runs, want %d", len(res.Bare), len(BareVariants))
	}
	for _, b := range res.Bare {
		if b.Expected != run.Expected || b.LiveRatio != 1 || b.Latency.P50 <= 0 {
			t.Fatalf("%s: %d of %d delivered (livinglab expected %d), p50 %.1f ms", b.System, b.Delivered, b.Expected, run.Expected, b.Latency.P50)
		}
	}
	if res.P99VsStore <= 0 || res.P99VsSame <= 0 {
		t.Fatalf("ratios not computed: vs same options %.2f, vs verify and store %.2f", res.P99VsSame, res.P99VsStore)
	}
	if len(res.Runs) != 2 || res.Summary.Runs != 2 {
		t.Fatalf("%d runs, summary of %d, want 2", len(res.Runs), res.Summary.Runs)
	}
	for _, r := range res.Runs {
		if len(r.Systems) != 1+len(BareVariants) || r.CPUVsStore <= 0 || r.P99VsStore <= 0 {
			t.Fatalf("run %d: %d systems, CPU ratio %.2f, p99 ratio %.2f", r.Run, len(r.Systems), r.CPUVsStore, r.P99VsStore)
		}
		for _, x := range r.Systems {
			if x.CPUPerDelivery <= 0 || x.Delivered == 0 {
				t.Fatalf("run %d, %s: CPU per delivery %.3f ms over %d deliveries", r.Run, x.System, x.CPUPerDelivery, x.Delivered)
			}
		}
	}
	if sp := res.Summary.CPUVsStore; sp.N != 2 || sp.Min > sp.Median || sp.Median > sp.Max {
		t.Fatalf("CPU ratio summary %+v", sp)
	}
	md := Markdown(&Results{Steady: res}, "bench")
	for _, want := range []string{"median (range) of 2 runs", "CPU ms per delivered record", "| 2 |"} {
		if !strings.Contains(md, want) {
			t.Fatalf("report lacks %q", want)
		}
	}
}

func TestSpanOf(t *testing.T) {
	s := SpanOf([]float64{3, 0, 1, 2, 10})
	if s.N != 4 || s.Median != 2.5 || s.Min != 1 || s.Max != 10 {
		t.Fatalf("%+v", s)
	}
	if got := s.Format("%.1f"); got != "2.5 (1.0–10.0)" {
		t.Fatalf("%q", got)
	}
	if got := SpanOf([]float64{4}).String(); got != "4.0" {
		t.Fatalf("%q", got)
	}
	if got := SpanOf(nil).String(); got != "—" {
		t.Fatalf("%q", got)
	}
}

func TestSummarise(t *testing.T) {
	var s []float64
	for i := 100; i >= 1; i-- {
		s = append(s, float64(i))
	}
	d := Summarise(s)
	if d.N != 100 || d.Min != 1 || d.P50 != 50 || d.P90 != 90 || d.P99 != 99 || d.Max != 100 || d.Mean != 50.5 {
		t.Fatalf("%+v", d)
	}
	if d := Summarise(nil); d.N != 0 {
		t.Fatalf("%+v", d)
	}
}

func TestParseFTS5Table(t *testing.T) {
	md := "| queries | facets | bleve p50 ms | bleve p99 ms | bleve CPU p99 ms | FTS5 p50 ms | FTS5 p99 ms | p99 bleve/FTS5 | mean |\n" +
		"|---|---|---:|---:|---:|---:|---:|---:|---:|\n| one-term | false | 1.50 | 3.00 | 9.00 | 0.50 | 1.00 | 3.00 | 10 / 10 |\n" +
		"| phrase | true | 1 | 2 | 3 | 4 | 5 | 6 | 7 |\n"
	rows := parseFTS5Table(md)
	if len(rows) != 2 || rows[0].Class != "one-term" || rows[0].Facets || rows[0].BleveP99 != 3 || rows[0].FTSP50 != 0.5 ||
		rows[0].FTSP99 != 1 || !rows[1].Facets || rows[1].FTSP99 != 5 {
		t.Fatalf("%+v", rows)
	}
}
