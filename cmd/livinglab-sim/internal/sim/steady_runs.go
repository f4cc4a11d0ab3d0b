// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"fmt"
	"slices"
)

// SteadySystemRun is one system's figures in one run of the steady
// scenario.
type SteadySystemRun struct {
	System    string  `json:"system"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	LiveRatio float64 `json:"live_ratio"`
	Delivered int     `json:"delivered"`
	CPUS      float64 `json:"cpu_s"`
	// CPUPerDelivery is the process CPU time of the publishing window
	// divided by the (record, subscriber) pairs delivered in it.
	CPUPerDelivery float64 `json:"cpu_per_delivery_ms"`
}

// SteadyRun is one run of the steady scenario: every system on the same
// schedule, and the ratios between them within the run.
type SteadyRun struct {
	Run     int               `json:"run"`
	Systems []SteadySystemRun `json:"systems"`
	// Ratios of livinglab to the bare systems, within this run.
	P99VsFlood   float64 `json:"p99_ratio_vs_flood_publish"`
	P99VsDefault float64 `json:"p99_ratio_vs_defaults"`
	P99VsSame    float64 `json:"p99_ratio_vs_same_options"`
	P99VsStore   float64 `json:"p99_ratio_vs_verify_and_store"`
	P99OverLink  float64 `json:"p99_over_link_latency"`
	// CPUVsStore is livinglab's CPU per delivered record over the verify
	// + store floor's.
	CPUVsStore          float64 `json:"cpu_ratio_vs_verify_and_store"`
	WindowSyncExchanges int64   `json:"window_sync_exchanges"`
	SyncedRatio         float64 `json:"synced_ratio"`
}

// Span is the median and range of one figure over several runs.
type Span struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// SpanOf summarises values (zeros, meaning not measured, are left out).
func SpanOf(vs []float64) Span {
	var s []float64
	for _, v := range vs {
		if v != 0 {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return Span{}
	}
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Span{N: len(s), Median: med, Min: s[0], Max: s[len(s)-1]}
}

// String prints the median and the range: "34.5 (30.1–41.0)".
func (s Span) String() string { return s.Format("%.1f") }

// Format prints the median and range with the verb f.
func (s Span) Format(f string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return fmt.Sprintf(f, s.Median)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median, s.Min, s.Max)
}

// SteadySystemSummary is one system over every run.
type SteadySystemSummary struct {
	System         string `json:"system"`
	P50            Span   `json:"p50_ms"`
	P90            Span   `json:"p90_ms"`
	P99            Span   `json:"p99_ms"`
	Max            Span   `json:"max_ms"`
	LiveRatio      Span   `json:"live_ratio"`
	CPUPerDelivery Span   `json:"cpu_per_delivery_ms"`
}

// SteadySummary is the median and range of every figure over the runs.
type SteadySummary struct {
	Runs                int                   `json:"runs"`
	Systems             []SteadySystemSummary `json:"systems"`
	P99VsFlood          Span                  `json:"p99_ratio_vs_flood_publish"`
	P99VsDefault        Span                  `json:"p99_ratio_vs_defaults"`
	P99VsSame           Span                  `json:"p99_ratio_vs_same_options"`
	P99VsStore          Span                  `json:"p99_ratio_vs_verify_and_store"`
	P99OverLink         Span                  `json:"p99_over_link_latency"`
	CPUVsStore          Span                  `json:"cpu_ratio_vs_verify_and_store"`
	WindowSyncExchanges Span                  `json:"window_sync_exchanges"`
}

// steadyRunOf extracts one run's figures from its full result.
func steadyRunOf(n int, res *SteadyResult) SteadyRun {
	r := SteadyRun{Run: n, P99VsFlood: res.P99VsFlood, P99VsDefault: res.P99VsDefault, P99VsSame: res.P99VsSame,
		P99VsStore: res.P99VsStore, P99OverLink: res.P99OverLink, WindowSyncExchanges: res.WindowSyncExchanges,
		SyncedRatio: res.SyncedRatio}
	var llCPU, floorCPU float64
	for _, lr := range append([]LatencyRun{res.Livinglab}, res.Bare...) {
		s := SteadySystemRun{System: lr.System, P50: lr.Latency.P50, P90: lr.Latency.P90, P99: lr.Latency.P99,
			Max: lr.Latency.Max, LiveRatio: lr.LiveRatio, Delivered: lr.Delivered, CPUS: lr.Resources.CPUS}
		if lr.Delivered > 0 {
			s.CPUPerDelivery = round(1000*lr.Resources.CPUS/float64(lr.Delivered), 3)
		}
		switch lr.System {
		case res.Livinglab.System:
			llCPU = s.CPUPerDelivery
		case BareStore:
			floorCPU = s.CPUPerDelivery
		}
		r.Systems = append(r.Systems, s)
	}
	if floorCPU > 0 {
		r.CPUVsStore = round(llCPU/floorCPU, 2)
	}
	return r
}

// summariseSteadyRuns gives the median and range of every figure.
func summariseSteadyRuns(runs []SteadyRun) SteadySummary {
	s := SteadySummary{Runs: len(runs)}
	pick := func(f func(SteadyRun) float64) Span {
		vs := make([]float64, len(runs))
		for i, r := range runs {
			vs[i] = f(r)
		}
		return SpanOf(vs)
	}
	s.P99VsFlood = pick(func(r SteadyRun) float64 { return r.P99VsFlood })
	s.P99VsDefault = pick(func(r SteadyRun) float64 { return r.P99VsDefault })
	s.P99VsSame = pick(func(r SteadyRun) float64 { return r.P99VsSame })
	s.P99VsStore = pick(func(r SteadyRun) float64 { return r.P99VsStore })
	s.P99OverLink = pick(func(r SteadyRun) float64 { return r.P99OverLink })
	s.CPUVsStore = pick(func(r SteadyRun) float64 { return r.CPUVsStore })
	// Zero exchanges is a result here, not a missing figure.
	ex := make([]float64, len(runs))
	for i, r := range runs {
		ex[i] = float64(r.WindowSyncExchanges)
	}
	slices.Sort(ex)
	if len(ex) > 0 {
		s.WindowSyncExchanges = Span{N: len(ex), Median: ex[len(ex)/2], Min: ex[0], Max: ex[len(ex)-1]}
	}
	if len(runs) == 0 {
		return s
	}
	for _, sys := range runs[0].Systems {
		name := sys.System
		get := func(f func(SteadySystemRun) float64) Span {
			var vs []float64
			for _, r := range runs {
				for _, x := range r.Systems {
					if x.System == name {
						vs = append(vs, f(x))
					}
				}
			}
			return SpanOf(vs)
		}
		s.Systems = append(s.Systems, SteadySystemSummary{System: name,
			P50:            get(func(x SteadySystemRun) float64 { return x.P50 }),
			P90:            get(func(x SteadySystemRun) float64 { return x.P90 }),
			P99:            get(func(x SteadySystemRun) float64 { return x.P99 }),
			Max:            get(func(x SteadySystemRun) float64 { return x.Max }),
			LiveRatio:      get(func(x SteadySystemRun) float64 { return x.LiveRatio }),
			CPUPerDelivery: get(func(x SteadySystemRun) float64 { return x.CPUPerDelivery }),
		})
	}
	return s
}

// system returns the summary of one system, if it ran.
func (s SteadySummary) system(name string) (SteadySystemSummary, bool) {
	for _, x := range s.Systems {
		if x.System == name {
			return x, true
		}
	}
	return SteadySystemSummary{}, false
}

// steadySummary returns the summary of s, made from its one run for
// results written before runs were repeated.
func steadySummary(s *SteadyResult) (SteadySummary, []SteadyRun) {
	if len(s.Runs) > 0 {
		return s.Summary, s.Runs
	}
	runs := []SteadyRun{steadyRunOf(1, s)}
	return summariseSteadyRuns(runs), runs
}

func scaled(sp Span, k float64) Span {
	return Span{N: sp.N, Median: sp.Median * k, Min: sp.Min * k, Max: sp.Max * k}
}

// steadySummaryRows writes the steady scenario's lines of the summary
// table: medians and ranges over the runs, ratios taken within each run.
func steadySummaryRows(w func(string, ...any), s *SteadyResult) {
	sum, runs := steadySummary(s)
	ll, _ := sum.system(s.Livinglab.System)
	floor, hasFloor := sum.system(BareStore)
	of := fmt.Sprintf("median (range) of %d runs", sum.Runs)
	if hasFloor {
		w("| steady, %d nodes | p99 publish-to-stored / p99 of bare gossipsub (livinglab's options) + verify + store, the floor, in the same run; %s | %s (livinglab %s ms, floor %s ms) | ≤ 1.15 | %s |\n",
			s.Nodes, of, sum.P99VsStore.Format("%.2f"), ll.P99, floor.P99, verdict(sum.P99VsStore.N > 0 && sum.P99VsStore.Median <= 1.15))
		w("| steady | CPU per delivered record / the floor's, in the same run | %s (livinglab %s ms, floor %s ms) | ≤ 1.25 | %s |\n",
			sum.CPUVsStore.Format("%.2f"), ll.CPUPerDelivery.Format("%.2f"), floor.CPUPerDelivery.Format("%.2f"),
			verdict(sum.CPUVsStore.N > 0 && sum.CPUVsStore.Median <= 1.25))
	}
	w("| steady | catch-up exchanges started during the publishing window, while gossip delivered live | %s | 0 | %s |\n",
		sum.WindowSyncExchanges.Format("%.0f"), verdict(sum.WindowSyncExchanges.Max == 0))
	for _, b := range []struct {
		name string
		sp   Span
	}{{BareFlood, sum.P99VsFlood}, {BareDefaults, sum.P99VsDefault}, {BareSame, sum.P99VsSame}} {
		if x, ok := sum.system(b.name); ok {
			w("| steady | p99 publish-to-stored / bare %s p99, same run | %s (%s ms) | ≤ 1.1 | %s |\n",
				b.name, b.sp.Format("%.2f"), x.P99, verdict(b.sp.N > 0 && b.sp.Median <= 1.1))
		}
	}
	w("| steady | p99 publish-to-stored / link latency | %s (%s / %.0f ms) | ≤ 3 | %s |\n",
		sum.P99OverLink.Format("%.2f"), ll.P99, s.LinkMs, verdict(sum.P99OverLink.Median <= 3))
	w("| steady | delivered live (gossip, before any sync round), %% | %s | — | |\n", scaled(ll.LiveRatio, 100).Format("%.2f"))
	minSynced := 1.0
	for _, r := range runs {
		minSynced = min(minSynced, r.SyncedRatio)
	}
	w("| steady | delivered after sync rounds, lowest of the runs | %s | 100 %% | %s |\n", pct(minSynced), verdict(minSynced == 1))
}

// steadyRunsSection writes the per-system medians and the per-run ratios.
func steadyRunsSection(w func(string, ...any), s *SteadyResult) {
	sum, runs := steadySummary(s)
	w("The scenario ran %d times (the same schedule and records each time, every system in every run, one after the other). ", sum.Runs)
	w("Each figure is the median of the runs with the range in brackets; ratios are taken within each run, then summarised. ")
	w("CPU per delivered record is the process's CPU time (user + system, all nodes) during the publishing window divided by the (record, subscriber) pairs delivered: ")
	w("it measures what each system does per record, and unlike latency it hardly depends on how busy the machine's two cores were.\n\n")
	w("| system | p50 ms | p90 ms | p99 ms | max ms | delivered live %% | CPU ms per delivered record |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range sum.Systems {
		w("| %s | %s | %s | %s | %s | %s | %s |\n", x.System, x.P50, x.P90, x.P99, x.Max, scaled(x.LiveRatio, 100).Format("%.2f"),
			x.CPUPerDelivery.Format("%.2f"))
	}
	w("\nPer run (ratios of livinglab to the bare systems within the run):\n\n")
	w("| run | livinglab p99 ms | floor p99 ms | p99 / floor | livinglab CPU ms per delivery | floor CPU ms per delivery | CPU / floor | p99 / flood publish | p99 / livinglab's options | p99 / defaults | catch-up exchanges in the window |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range runs {
		var ll, fl SteadySystemRun
		for _, x := range r.Systems {
			switch x.System {
			case s.Livinglab.System:
				ll = x
			case BareStore:
				fl = x
			}
		}
		w("| %d | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n", r.Run, ll.P99, fl.P99, r.P99VsStore,
			ll.CPUPerDelivery, fl.CPUPerDelivery, r.CPUVsStore, r.P99VsFlood, r.P99VsSame, r.P99VsDefault, r.WindowSyncExchanges)
	}
	w("\nThe rest of this section and the plot are the first run's.\n\n")
}
