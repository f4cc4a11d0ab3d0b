// SPDX-License-Identifier: EUPL-1.2

// This file is over 600 lines: it is the one template of BENCHMARKS.md,
// every section of the report in the order it is printed.

package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/livinglab/livinglab/node"
)

// ReportConfig sets every scenario of the full report.
type ReportConfig struct {
	Repo     string // module root
	Out      string // markdown file
	BenchDir string // plots, profile and raw results
	WorkDir  string // node homes (removed afterwards unless Keep)
	Keep     bool
	Seed     uint64
	Command  string // the command line, for the report
	Only     []string
	Log      Logf

	Steady    SteadyConfig
	Churn     ChurnConfig
	Partition PartitionConfig
	LateJoin  LateJoinConfig
	CatchUp   CatchUpConfig
	Ingest    IngestConfig
	Memory    MemoryConfig
	Attack    AttackConfig
	SearchQ   int // rounds of the search queries
	SkipFTS5  bool
	// QuietWait bounds the wait, before each timed phase, until on average
	// at most QuietRunnable other threads are runnable (0: no waiting).
	QuietWait     time.Duration
	QuietRunnable float64
}

// DefaultReportConfig is the configuration of the published report.
func DefaultReportConfig() ReportConfig {
	return ReportConfig{
		Repo: ".", Out: "BENCHMARKS.md", BenchDir: "bench", Seed: 1,
		Steady: SteadyConfig{Nodes: 50, Latency: 20 * time.Millisecond, Records: 200, Rate: 2, OverloadRate: 10,
			Settle: 5 * time.Second, Bare: true, Runs: 5},
		Churn:     ChurnConfig{Nodes: 20, Latency: 20 * time.Millisecond, Records: 200, Rate: 10, ChurnEvery: 2 * time.Second, Downtime: 3 * time.Second, Settle: 5 * time.Second},
		Partition: PartitionConfig{Nodes: 20, Latency: 20 * time.Millisecond, RecordsPerSide: 50, Rate: 10},
		LateJoin:  LateJoinConfig{Members: 4, Records: 1000, Latency: 20 * time.Millisecond},
		CatchUp:   CatchUpConfig{Total: 100_000, Missing: 1000, Latency: 20 * time.Millisecond},
		Ingest:    IngestConfig{Records: 20_000},
		Memory:    MemoryConfig{Peers: 50, Settle: 30 * time.Second, LimitMiB: 95},
		Attack:    DefaultAttackConfig(),
		SearchQ:   20,
		QuietWait: 5 * time.Minute,
	}
}

// Results is everything one report run measured.
type Results struct {
	Machine   Machine           `json:"machine"`
	Command   string            `json:"command"`
	TookS     float64           `json:"took_s"`
	Steady    *SteadyResult     `json:"steady,omitempty"`
	Churn     *ChurnResult      `json:"churn,omitempty"`
	Partition *PartitionResult  `json:"partition,omitempty"`
	LateJoin  *LateJoinResult   `json:"late_join,omitempty"`
	CatchUp   *CatchUpResult    `json:"catch_up,omitempty"`
	Ingest    *IngestResult     `json:"ingest,omitempty"`
	Memory    *MemoryResult     `json:"memory,omitempty"`
	Attack    *AttackResult     `json:"attack,omitempty"`
	Search    *SearchResult     `json:"search,omitempty"`
	Reindex   *ReindexResult    `json:"reindex,omitempty"`
	Anon      *AnonResult       `json:"anon,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	// Contention of the machine while each scenario ran.
	Contention map[string]Contention `json:"contention"`
	// Waits for a quiet machine before each timed phase.
	Quiet     map[string]QuietWait `json:"quiet_waits"`
	Plots     []string             `json:"plots"`
	LinkModel string               `json:"link_model"`
}

func (cfg ReportConfig) want(name string) bool {
	if len(cfg.Only) == 0 {
		return true
	}
	for _, o := range cfg.Only {
		if o == name {
			return true
		}
	}
	return false
}

// RunReport runs every scenario, saves raw results and plots under
// BenchDir and writes the markdown report.
func RunReport(ctx context.Context, cfg ReportConfig) (*Results, error) {
	log := cfg.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	start := time.Now()
	if err := os.MkdirAll(cfg.BenchDir, 0o755); err != nil {
		return nil, err
	}
	work := cfg.WorkDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "livinglab-sim-"); err != nil {
			return nil, err
		}
	}
	if !cfg.Keep {
		defer os.RemoveAll(work)
	}
	for _, c := range []*uint64{&cfg.Steady.Seed, &cfg.Churn.Seed, &cfg.Partition.Seed, &cfg.LateJoin.Seed, &cfg.CatchUp.Seed, &cfg.Ingest.Seed} {
		if *c == 0 {
			*c = cfg.Seed
		}
	}
	cfg.Steady.Dir, cfg.Churn.Dir, cfg.Partition.Dir, cfg.LateJoin.Dir = work, work, work, work
	cfg.CatchUp.Dir, cfg.Ingest.Dir, cfg.Memory.Dir = work, work, work
	cfg.Memory.Repo = cfg.Repo
	res := &Results{Machine: ThisMachine(), Command: cfg.Command, Errors: map[string]string{},
		Contention: map[string]Contention{}, LinkModel: LinkModel(), Quiet: map[string]QuietWait{}}
	if cfg.QuietWait > 0 {
		prev := BeforeMeasure
		defer func() { BeforeMeasure = prev }()
		maxRun := cfg.QuietRunnable
		if maxRun <= 0 {
			maxRun = 0.75 * float64(runtime.NumCPU())
		}
		BeforeMeasure = func(phase string) {
			q := WaitForQuiet(maxRun, 10*time.Second, cfg.QuietWait)
			res.Quiet[phase] = q
			log("%s: waited %.0f s for a quiet machine (%.2f other runnable threads%s)", phase, q.WaitedS, q.Runnable,
				map[bool]string{true: "", false: ", gave up"}[q.Quiet])
		}
	}
	fail := func(name string, err error) {
		log("%s: FAILED: %v", name, err)
		res.Errors[name] = err.Error()
	}
	all := StartSampler(2 * time.Second)
	step := func(name string, f func() error) {
		s := StartSampler(2 * time.Second)
		err := f()
		c := s.Stop()
		res.Contention[name] = c
		log("%s: load average %.1f (max %.1f), CPU pressure %.0f %%", name, c.Load1Mean, c.Load1Max, c.CPUSomeMean)
		if err != nil {
			fail(name, err)
		}
	}
	var err error
	if cfg.want("steady") {
		step("steady", func() error { res.Steady, err = RunSteady(ctx, cfg.Steady, log); return err })
	}
	if cfg.want("churn") {
		step("churn", func() error { res.Churn, err = RunChurn(ctx, cfg.Churn, log); return err })
	}
	if cfg.want("partition") {
		step("partition", func() error { res.Partition, err = RunPartition(ctx, cfg.Partition, log); return err })
	}
	if cfg.want("latejoin") {
		step("latejoin", func() error { res.LateJoin, err = RunLateJoin(ctx, cfg.LateJoin, log); return err })
	}
	if cfg.want("ingest") {
		// Several runs, the median counts: the first run after the other
		// scenarios has measured up to 10 % slower than the next ones.
		var runs []*IngestResult
		for i := range ingestRuns {
			icfg := cfg.Ingest
			icfg.Dir = filepath.Join(work, fmt.Sprintf("ingest-%d", i+1))
			step("ingest", func() error {
				r, err := RunIngest(ctx, icfg, log)
				if r != nil {
					runs = append(runs, r)
				}
				return err
			})
		}
		if len(runs) > 0 {
			slices.SortFunc(runs, func(a, b *IngestResult) int { return cmp.Compare(a.PerSecond, b.PerSecond) })
			res.Ingest = runs[(len(runs)-1)/2]
			for _, r := range runs {
				res.Ingest.RunsPerSecond = append(res.Ingest.RunsPerSecond, r.PerSecond)
			}
		}
		// The CPU profile comes from one more run: sampling slows the
		// process, and the measured runs go without it.
		pcfg := cfg.Ingest
		pcfg.Dir = filepath.Join(work, "ingest-profiled")
		pcfg.Profile = filepath.Join(cfg.BenchDir, "ingest.cpu.pprof")
		step("ingest-profile", func() error {
			pr, err := RunIngest(ctx, pcfg, log)
			if pr != nil && res.Ingest != nil {
				res.Ingest.Profile, res.Ingest.TopProfile, res.Ingest.ProfiledPerSecond = pr.Profile, pr.TopProfile, pr.PerSecond
			}
			return err
		})
	}
	if cfg.want("catchup") || cfg.want("memory") || cfg.want("search") || cfg.want("reindex") {
		step("catchup", func() error { res.CatchUp, err = RunCatchUp(ctx, cfg.CatchUp, log); return err })
	}
	if res.CatchUp != nil && cfg.want("memory") {
		cfg.Memory.Home = res.CatchUp.homeA
		step("memory", func() error { res.Memory, err = RunMemory(ctx, cfg.Memory, log); return err })
	}
	if cfg.want("search") {
		step("search", func() error {
			if res.CatchUp != nil {
				if res.Search, err = RunSearch(ctx, res.CatchUp.homeA, cfg.SearchQ, log); err != nil {
					return err
				}
			}
			return nil
		})
		if res.Search == nil {
			res.Search = &SearchResult{}
		}
		if !cfg.SkipFTS5 {
			step("search-fts5", func() error { RunFTS5Comparison(ctx, cfg.Repo, work, res.Search, log); return nil })
		}
	}
	if res.CatchUp != nil && cfg.want("reindex") {
		// Last of the scenarios on the catch-up home: the rebuilt index
		// replaces the one the others used.
		step("reindex", func() error {
			res.Reindex, err = RunReindex(ctx, res.CatchUp.homeA, reindexRuns, log)
			return err
		})
	}
	if cfg.want("anon") {
		step("anon", func() error { res.Anon = RunAnonBench(ctx, cfg.Repo, log); return nil })
	}
	if cfg.want("attack") {
		cfg.Attack.Dir, cfg.Attack.Log = work, log
		step("attack", func() error { res.Attack, err = RunAttack(ctx, cfg.Attack); return err })
	}
	res.Contention["all"] = all.Stop()
	res.TookS = round(time.Since(start).Seconds(), 0)

	plot := func(name string, f func(path string) error) {
		p := filepath.Join(cfg.BenchDir, name)
		if err := f(p); err != nil {
			fail("plot "+name, err)
			return
		}
		if _, err := os.Stat(p); err == nil {
			res.Plots = append(res.Plots, name)
		}
	}
	if res.Steady != nil {
		plot("latency.png", func(p string) error { return PlotLatency(res.Steady, p) })
	}
	if res.CatchUp != nil || res.LateJoin != nil {
		plot("catchup.png", func(p string) error { return PlotCatchUp(res.CatchUp, res.LateJoin, p) })
	}
	if res.Search != nil && (len(res.Search.FTS5Rows) > 0 || len(res.Search.Samples) > 0) {
		plot("search.png", func(p string) error { return PlotSearch(res.Search, p) })
		if len(res.Search.Samples) > 0 && len(res.Search.FTS5Rows) > 0 {
			plot("search-node.png", func(p string) error { return PlotSearchCDF(res.Search, p) })
		}
	}
	if res.Memory != nil {
		plot("memory.png", func(p string) error { return PlotMemory(res.Memory, p) })
	}
	if res.Partition != nil {
		plot("partition.png", func(p string) error { return PlotPartition(res.Partition, p) })
	}
	if res.Attack != nil {
		plot("attack.png", func(p string) error { return PlotAttack(res.Attack, p) })
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(filepath.Join(cfg.BenchDir, "results.json"), b, 0o644); err != nil {
		return res, err
	}
	if cfg.Out != "" {
		rel, _ := filepath.Rel(filepath.Dir(cfg.Out), cfg.BenchDir)
		if rel == "" {
			rel = cfg.BenchDir
		}
		if err := os.WriteFile(cfg.Out, []byte(Markdown(res, filepath.ToSlash(rel))), 0o644); err != nil {
			return res, err
		}
	}
	return res, nil
}

// attackSection writes the abuse scenario.
func attackSection(w func(string, ...any), a *AttackResult, bench string) {
	w("## Abuse: a flooding member and outsiders\n\n")
	w("%d honest regions with %.0f ms links publish %d practices at %.0f/s, once without and once during an attack: ", a.Nodes, a.LinkMs, a.Records, a.Rate)
	w("one more member, whose key runs a modified node, floods valid records at %.0f/s (100 times the per-author limit of %d a minute with a burst of %d) for %.0f s, ",
		a.FloodRatePerS, a.PublishPerMin, a.PublishBurst, a.FloodS)
	w("then one in four with a bad signature, and afterwards pushes its whole flood to every region by sync; ")
	w("outsiders with identities of their own dial random regions all along (mocknet has no connection gater, so each dial is put to the region's gate, `Node.GateInbound`). ")
	w("All regions run in one process on this machine's CPUs, so the flood's validation and the allowed burst's storage and indexing cost every region's CPU at once.\n\n")
	w("| | without the attack | during the attack |\n|---|---:|---:|\n")
	w("| honest publish-to-stored p50 | %.1f ms | %.1f ms |\n| honest p99 | %.1f ms | %.1f ms |\n| honest delivered live | %s | %s |\n\n",
		a.Baseline.Latency.P50, a.Attack.Latency.P50, a.Baseline.Latency.P99, a.Attack.Latency.P99, pct(a.Baseline.LiveRatio), pct(a.Attack.LiveRatio))
	w("| flood | |\n|---|---|\n| valid / invalid records sent | %d / %d |\n| allowed per region (burst + rate x %.1f s) | %d |\n", a.FloodValid, a.FloodInvalid, a.FloodS, a.FloodAllowed)
	w("| held per region, live (min – max; union over regions) | %d – %d; %d |\n| most held by one region after a sync round | %d |\n", a.FloodStoredMin, a.FloodStoredMax, a.FloodUnion, a.FloodStoredMaxSynced)
	if a.FloodPushed > 0 {
		w("| most held by one region after the flooder pushed %d records by sync (allowed by then: %d) | %d |\n", a.FloodPushed, a.FloodAllowedPushed, a.FloodStoredMaxPushed)
	}
	w("| flooder graylisted (score below %.0f) | at %d of %d regions, the last %.1f s after the flood began |\n", node.ScoreGraylistThreshold, a.GraylistedAt, a.Nodes, a.GraylistS)
	w("| lowest score of an honest member at an honest region | %.2f |\n", a.HonestMinScore)
	w("| outsiders: dials; refused before / after the handshake; connected; records stored | %d; %d / %d; %d; %d of %d sent |\n\n",
		a.OutsiderDials, a.OutsiderRefusedPre, a.OutsiderRefusedPost, a.OutsiderConnected, a.OutsiderStored, a.OutsiderSent)
	w("Checks:\n\n")
	for _, c := range a.Checks {
		w("- %s\n", c)
	}
	w("\n![attack](%s/attack.png)\n\n", bench)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func pct(v float64) string { return fmt.Sprintf("%.2f %%", 100*v) }

func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }

// Markdown renders the report; bench is the plot folder relative to it.
func Markdown(r *Results, bench string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Benchmarks\n\n")
	w("Every number below was measured by `livinglab-sim`, which runs real livinglab nodes (the `node` package: gossipsub ")
	w("with its validators, the sync protocol, Badger stores and search indexes) in one process over libp2p's mock network ")
	w("(`p2p/net/mock`) with a fixed latency on every link, plus one scenario with the real `livinglab` binary. ")
	w("Regenerate this file, the plots and `%s/results.json` (raw numbers, latency samples included) with the one command\n\n", bench)
	w("```\ngo run ./cmd/livinglab-sim report --out BENCHMARKS.md\n```\n\n")
	w("It takes about %s on the machine below. Single scenarios run with `go run ./cmd/livinglab-sim run --scenario NAME` ", dur(r.TookS))
	w("(see `--help`).\n\n")

	m := r.Machine
	w("## Machine\n\n| | |\n|---|---|\n| CPUs (nproc) | %d |\n| CPU model | %s |\n| memory | %s |\n| Go | %s (%s) |\n| date | %s |\n| command | `%s` |\n\n",
		m.CPUs, m.CPUModel, m.MemoryGB, m.Go, m.OS, m.Date, r.Command)

	if len(r.Contention) > 0 {
		w("The machine was not idle: other processes shared its %d CPUs while the benchmarks ran, which inflates every latency and rate below. ", m.CPUs)
		w("Load average (1 minute) and CPU pressure (share of time some runnable thread waited for a CPU, `/proc/pressure/cpu` some avg10), sampled every 2 s:\n\n")
		w("| scenario | load average, mean | max | CPU pressure, mean |\n|---|---:|---:|---:|\n")
		for _, k := range []string{"steady", "churn", "partition", "latejoin", "ingest", "ingest-profile", "catchup", "memory", "search", "search-fts5", "anon", "all"} {
			if c, ok := r.Contention[k]; ok {
				w("| %s | %.1f | %.1f | %.0f %% |\n", k, c.Load1Mean, c.Load1Max, c.CPUSomeMean)
			}
		}
		w("\n")
	}
	if len(r.Quiet) > 0 {
		w("Before each timed phase the harness waited (at most a few minutes) until few other threads were runnable; ")
		w("what it found when it started measuring:\n\n| phase | waited | other runnable threads (mean over 10 s) | |\n|---|---:|---:|---|\n")
		var ks []string
		for k := range r.Quiet {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			q := r.Quiet[k]
			note := ""
			if !q.Quiet {
				note = "gave up waiting"
			}
			w("| %s | %.0f s | %.2f | %s |\n", k, q.WaitedS, q.Runnable, note)
		}
		w("\n")
	}
	if len(r.Errors) > 0 {
		w("## Scenarios that failed\n\n")
		for k, v := range r.Errors {
			w("- **%s**: %s\n", k, oneLine(v))
		}
		w("\n")
	}

	w("## Summary\n\n| scenario | measure | result | target | |\n|---|---|---|---|---|\n")
	if s := r.Steady; s != nil {
		steadySummaryRows(w, s)
	}
	if c := r.Churn; c != nil {
		w("| churn, %d nodes, %d restarts | delivered after sync | %s | 100 %% | %s |\n", c.Nodes, c.Restarts, pct(c.FinalRatio), verdict(c.FinalRatio == 1))
	}
	if p := r.Partition; p != nil {
		conv := "not converged"
		if p.Converged {
			conv = fmt.Sprintf("%.2f s", p.ConvergeS)
		}
		w("| partition heals, %d nodes | time to identical sets | %s | — | %s |\n", p.Nodes, conv, verdict(p.Converged))
	}
	if a := r.Attack; a != nil {
		w("| attack, %d regions, flood at 100x the limit | honest p99 with / without the attack | %.2fx (%.0f / %.0f ms) | ≤ 1.5x | %s |\n",
			a.Nodes, a.P99Ratio, a.Attack.Latency.P99, a.Baseline.Latency.P99, verdict(a.P99Ratio <= 1.5))
		held, allowed := max(a.FloodStoredMax, a.FloodStoredMaxSynced), a.FloodAllowed
		if a.FloodPushed > 0 {
			held, allowed = max(held, a.FloodStoredMaxPushed), a.FloodAllowedPushed
		}
		w("| attack | flood records held by one region (live, after sync, after the flooder pushed by sync) / allowed | %d / %d | ≤ allowed | %s |\n",
			held, allowed, verdict(held <= allowed))
		w("| attack | honest records live / after sync; flooder graylisted | %s / %s; %d of %d | ≥ 99.9 %% / 100 %%; all | %s |\n",
			pct(a.Attack.LiveRatio), pct(a.SyncedRatio), a.GraylistedAt, a.Nodes,
			verdict(a.Attack.LiveRatio >= 0.999 && a.SyncedRatio == 1 && a.GraylistedAt == a.Nodes))
	}
	if l := r.LateJoin; l != nil {
		w("| late join | records received of %d | %d in %.2f s | all | %s |\n", l.Records, l.Held, l.AllS, verdict(l.Held == l.Records))
	}
	if c := r.CatchUp; c != nil {
		limit := 1.5*float64(c.MissingBytes) + 100*1024
		w("| catch-up, %d missing of %d | bytes both ways / bytes of missing records | %.2f (%s for %s) | ≤ 1.5 × missing + 100 KiB | %s |\n",
			c.Missing, c.Total, c.Ratio, kib(int64(c.BytesIn+c.BytesOut)), kib(c.MissingBytes), verdict(float64(c.BytesIn+c.BytesOut) <= limit))
	}
	if in := r.Ingest; in != nil {
		runs := ""
		if n := len(in.RunsPerSecond); n > 1 {
			runs = fmt.Sprintf(", median of %d runs", n)
		}
		w("| ingest burst, %d practices | records per second (validate, store, index)%s | %.0f /s | ≥ 4,000 /s | %s |\n", in.Records, runs, in.PerSecond, verdict(in.PerSecond >= ingestTarget))
	}
	if mm := r.Memory; mm != nil {
		mb := mm.RSSMiB * (1 << 20) / 1e6
		w("| memory: daemon, %d practices, %d peers | resident memory (VmRSS), no memory pressure | %.1f MB (%.1f MiB; %.1f MiB anonymous) | < 100 MB | %s |\n",
			mm.Records, mm.PeersConnected, mb, mm.RSSMiB, mm.AnonMiB, verdict(mb < 100))
		if l := mm.Limited; l != nil && l.Skipped == "" && l.Error == "" {
			lmb := l.RSSMiB * (1 << 20) / 1e6
			ok := l.OOMKills == 0 && l.Healthy && l.SearchOK && l.PeersConnected == mm.PeersConnected && lmb < 100
			w("| memory: the same, in a %d MiB memory cgroup (cold page cache) | VmRSS; OOM kills; health and search answered | %.1f MB; %d; %v, %v | < 100 MB, works | %s |\n",
				l.LimitMiB, lmb, l.OOMKills, l.Healthy, l.SearchOK, verdict(ok))
		}
	}
	if s := r.Search; s != nil && s.All.N > 0 {
		w("| search, %d practices | query p50 / p99 on the node's index; p99 of the searches with facets | %.1f / %.1f ms; %.1f ms | p99 with facets < 20 ms | %s |\n",
			s.Docs, s.All.P50, s.All.P99, s.Facets.P99, verdict(s.Facets.N > 0 && s.Facets.P99 < 20))
	}
	if x := r.Reindex; x != nil && x.Wall.N > 0 {
		w("| reindex, %d practices | full rebuild of the search index from the store, median (range) of %d runs | %s s | ≤ %.0f s | %s |\n",
			x.Records, x.Wall.N, x.Wall.Format("%.1f"), reindexTarget.Seconds(), verdict(x.Wall.Median <= reindexTarget.Seconds()))
	}
	if a := r.Anon; a != nil && a.NsPerOp > 0 {
		w("| anonymisation gate | scrub a 5,000-word text | %.2f ms | < 10 ms | %s |\n", a.NsPerOp/1e6, verdict(a.NsPerOp < 10e6))
	}
	w("\n")

	if s := r.Steady; s != nil {
		steadySection(w, s, bench)
	}
	if c := r.Churn; c != nil {
		w("## Churn\n\n%d nodes (founded and admitted as above, %.0f ms links); %d practices published at %.0f/s by random running members ",
			c.Nodes, c.LinkMs, c.Records, c.Rate)
		w("while every %.0f s a random node (never the founder) stops — `Serve` cancelled, its mocknet host closed and unlinked — ", c.ChurnEveryS)
		w("and starts again %.0f s later on the same home with a fresh mocknet host carrying the same key.\n\n", c.DowntimeS)
		w("| | |\n|---|---|\n| published | %d |\n| restarts | %d (stop + start p50 %.0f ms, max %.0f ms) |\n| (record, subscriber) pairs | %d |\n",
			c.Published, c.Restarts, c.Restart.P50, c.Restart.Max, c.Expected)
		w("| held once all were back, before any explicit sync | %s |\n", pct(c.BeforeSyncRatio))
		for i, v := range c.AfterRounds {
			w("| after explicit sync round %d | %s |\n", i+1, pct(v))
		}
		w("\nWhat a restarted node missed while down reaches it through the sync exchange it runs with each member on reconnecting; ")
		w("a sync round is every node syncing each topic it follows with one random member.\n\n")
	}
	if p := r.Partition; p != nil {
		w("## Partition heals\n\n%d nodes (%.0f ms links) split into two halves (links removed and connections closed between them); the halves published %d practices in all; ",
			p.Nodes, p.LinkMs, p.Published)
		w("then the links came back and the harness connected every cross pair. Convergence = every subscriber of every topic holds all its records.\n\n")
		w("| | |\n|---|---|\n| (record, node) pairs missing at healing | %d |\n", p.MissingAtHeal)
		if p.Converged {
			w("| time to identical sets | %.2f s |\n", p.ConvergeS)
		} else {
			w("| time to identical sets | not within the bound |\n")
		}
		w("| sync bytes until then | %s |\n\n![partition](%s/partition.png)\n\n", kib(p.SyncBytes), bench)
	}
	if l := r.LateJoin; l != nil {
		w("## Late join\n\n%d members hold the same %d practices (%s encoded); a new node is invited and joins (Invite/Join over the mock network, %.0f ms links). ",
			l.Members, l.Records, kib(l.RecordBytes), l.LinkMs)
		w("It receives the control records in the join answer and the practices through the sync exchanges it opens with each member it connects to.\n\n")
		w("| | |\n|---|---|\n| Invite + Join call | %.0f ms |\n| first practice stored | %.2f s after the join call |\n| all %d stored | %.2f s |\n",
			l.JoinMs, l.FirstS, l.Records, l.AllS)
		w("| join + sync bytes in / out | %s / %s |\n| ratio to the records' size | %.2f |\n| sync exchanges | %d |\n\n",
			kib(l.BytesIn), kib(l.BytesOut), l.Ratio, l.SyncExchanges)
	}
	if c := r.CatchUp; c != nil {
		w("## Catch-up cost\n\nTwo nodes hold %d practices; the second lacks %d of them (written straight into both Badger stores before start, ", c.Total, c.Missing)
		w("sealed with the author's key exactly as the node seals). On connecting, the lagging node runs one sync exchange for the topic ")
		w("(range-based set reconciliation, then batched fetches).\n\n")
		w("| | |\n|---|---|\n| missing records' encoded size | %s |\n| exchange: bytes out / in | %d / %d B |\n| ratio (out + in) / missing | %.3f |\n",
			kib(c.MissingBytes), c.BytesOut, c.BytesIn, c.Ratio)
		w("| overhead beyond the records | %s |\n| exchange time (first frame to last record stored) | %.2f s |\n| connect to last record stored | %.2f s |\n",
			kib(c.Overhead), c.SpanS, c.ConnectS)
		w("| all sync traffic of both nodes | %s in %d exchanges |\n| a further exchange once identical | %.0f ms, %d B |\n",
			kib(c.AllSyncB), c.Exchanges, c.InSyncMs, c.InSyncB)
		w("| set-up: seal and store | %.0f s |\n| set-up: both nodes start (search index rebuilt from the store) | %.0f s |\n\n", c.PrefillS, c.StartS)
		w("![catch-up bytes](%s/catchup.png)\n\n", bench)
	}
	if in := r.Ingest; in != nil {
		w("## Ingest\n\nA node with an empty store connects to one holding %d practices and fetches them all in one sync exchange: each record is ", in.Records)
		w("decoded, verified (signature, canonical CBOR, membership), stored in Badger and indexed in bleve, as any record from a peer ")
		w("(the node indexes in batches behind the store; the rate counts until the index holds every record). ")
		w("Link latency 0. Both nodes share this process, so the CPU figures include the serving side.\n\n")
		w("| | |\n|---|---|\n| records | %d |\n| exchange start to the last record stored | %.2f s (%.0f records/s) |\n", in.Got, in.StoredS, in.StoredPerSecond)
		w("| exchange start to all of them in the search index | %.2f s |\n| rate, validated + stored + indexed | **%.0f records/s** |\n", in.SpanS, in.PerSecond)
		if len(in.RunsPerSecond) > 1 {
			w("| runs (records/s; the table shows the median run) | %s |\n", joinRates(in.RunsPerSecond))
		}
		w("| process CPU | %.1f s (%.0f µs per record, %.2f cores) |\n", in.Resources.CPUS, in.CPUPerRec, in.Resources.CPUCores)
		if in.Profile != "" {
			w("| CPU profile | `%s/ingest.cpu.pprof`, from one more run with the profiler on (%.0f records/s) |\n", bench, in.ProfiledPerSecond)
		}
		w("\n")
		if in.TopProfile != "" {
			w("Top functions (`go tool pprof -top %s/ingest.cpu.pprof`):\n\n```\n%s\n```\n\n", bench, in.TopProfile)
		}
	}
	if x := r.Reindex; x != nil && x.Wall.N > 0 {
		w("## Reindex\n\nThe catch-up scenario's node (%d practices) rebuilds its search index from its store with `Node.Reindex`, as `livinglab reindex` does ", x.Records)
		w("and as a node does at start when its index is missing, damaged or of an older schema. Runs one after the other on the same home:\n\n")
		w("| run | wall s | CPU s (user + system) |\n|---|---:|---:|\n")
		for i := range x.WallS {
			w("| %d | %.1f | %.1f |\n", i+1, x.WallS[i], x.CPUS[i])
		}
		w("| median (range) | %s | %s |\n\nPeak resident memory of the process: %.0f MiB.\n\n", x.Wall.Format("%.1f"), x.CPU.Format("%.1f"), x.PeakRSSMiB)
	}
	if mm := r.Memory; mm != nil {
		w("## Memory\n\nThe real daemon (built as released: `CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\" ./cmd/livinglab`; `livinglab run` on 127.0.0.1, default config: small Badger profile, DHT on) ")
		w("on a home holding %d practices (the catch-up scenario's store and index), with %d lightweight libp2p hosts ", mm.Records, mm.Peers)
		w("(TCP, gossipsub on the federation's topics) connected; they are members, admitted by records written into the store before start. ")
		w("Resident memory is VmRSS of the daemon's PID from /proc, so the peers (which live in the harness process) are not counted.\n\n")
		w("| | |\n|---|---|\n| start-up to ready | %.1f s |\n| RSS before the peers connect | %.1f MiB |\n| **RSS with %d peers, after %d s** | **%.1f MiB (%.1f MB)** |\n",
			mm.StartS, mm.RSSIdleMiB, mm.PeersConnected, len(mm.Series), mm.RSSMiB, mm.RSSMiB*(1<<20)/1e6)
		w("| of which anonymous (RssAnon) / file-backed (RssFile: memory-mapped Badger and index files) | %.1f / %.1f MiB |\n", mm.AnonMiB, mm.FileMiB)
		w("| RSS range over that time | %.1f – %.1f MiB |\n| peak RSS since start (VmHWM) | %.1f MiB |\n| Go heap in use (/metrics) | %.1f MiB |\n| goroutines | %.0f |\n| daemon CPU while idle with the peers | %.1f %% of one core |\n\n",
			mm.RSSMinMiB, mm.RSSMaxMiB, mm.HWMMiB, mm.HeapInuseMiB, mm.Goroutines, mm.CPUPercent)
		w("The daemon runs with its default soft Go memory limit (`limits.go_memory_limit_mb`, 64 MiB). ")
		w("The file-backed part is clean pages of the executable and of the memory-mapped index and store files: ")
		w("the kernel leaves them mapped while memory is plentiful (this machine has %s) and takes them back under pressure.\n\n", r.Machine.MemoryGB)
		if l := mm.Limited; l != nil {
			switch {
			case l.Skipped != "":
				w("The run under a memory limit was skipped: %s.\n\n", l.Skipped)
			case l.Error != "":
				w("The run under a memory limit of %d MiB failed: %s.\n\n", l.LimitMiB, l.Error)
			default:
				w("**Under a hard limit.** The daemon was then started again on the same home inside a memory cgroup (%s) limited to %d MiB, ", l.Cgroup, l.LimitMiB)
				w("what `MemoryMax=%dM` in the systemd unit sets up, after dropping the page cache (%v) so that every page it touches is charged to it, ", l.LimitMiB, l.ColdCache)
				w("and the same %d members connected:\n\n", l.PeersConnected)
				w("| | |\n|---|---|\n| RSS with %d peers, after the settle time | %.1f MiB (%.1f MB) |\n| of which anonymous / file-backed | %.1f / %.1f MiB |\n",
					l.PeersConnected, l.RSSMiB, l.RSSMiB*(1<<20)/1e6, l.AnonMiB, l.FileMiB)
				w("| cgroup's peak charge (memory and page cache) | %.1f MiB |\n| OOM kills | %d |\n| `/api/v1/health` and a search over the %d practices | %v, %v |\n| exit on SIGTERM | %s |\n\n",
					l.PeakMiB, l.OOMKills, mm.Records, l.Healthy, l.SearchOK, l.Exit)
			}
		}
		w("Go returns freed heap to the OS lazily, so RSS after the start-up peak settles slowly; ")
		w("the series in the plot shows it.\n\n![memory](%s/memory.png)\n\n", bench)
		w("Runs of the memory scenario on its own, between full reports, and what the resident memory is made of: [bench/memory.md](bench/memory.md).\n\n")
	}
	if s := r.Search; s != nil {
		w("## Search\n\n")
		if s.All.N > 0 {
			w("Queries on a node's own index (%d practices, the catch-up store), through `search.Index.Search`, first page of 20 hits with snippets, ", s.Docs)
			w("each query with and without facets, %d samples:\n\n| class | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n", s.All.N)
			for _, k := range []string{"one-term", "two-term", "phrase"} {
				d := s.Classes[k]
				w("| %s | %.2f | %.2f | %.2f | %.2f |\n", k, d.P50, d.P90, d.P99, d.Max)
			}
			w("| all | %.2f | %.2f | %.2f | %.2f |\n", s.All.P50, s.All.P90, s.All.P99, s.All.Max)
			if s.Facets.N > 0 {
				w("| with facets | %.2f | %.2f | %.2f | %.2f |\n", s.Facets.P50, s.Facets.P90, s.Facets.P99, s.Facets.Max)
			}
			w("\n")
		}
		if s.FTS5Markdown != "" {
			w("The baseline against SQLite FTS5 comes from knowledge/search's own benchmark (`LIVINGLAB_BENCH=1 go test -run TestSearchBenchReport ./knowledge/search/`, run by the report):\n\n")
			w("%s\n\n", demote(s.FTS5Markdown))
			w("![search](%s/search.png)\n\n", bench)
			if s.All.N > 0 {
				w("![search on the node index](%s/search-node.png)\n\n", bench)
			}
		} else {
			w("SQLite FTS5 baseline: not measured in this run (%s).\n\n", s.FTS5Error)
			if s.All.N > 0 {
				w("![search](%s/search.png)\n\n", bench)
			}
		}
	}
	if a := r.Anon; a != nil {
		w("## Anonymisation gate\n\n")
		if a.NsPerOp > 0 {
			w("`go test -bench Scrub5000 -run x -benchmem ./knowledge/anon/`: **%.2f ms** per 5,000-word text, %.0f B and %.0f allocations per run (target < 10 ms: %s).\n\n",
				a.NsPerOp/1e6, a.BytesPerOp, a.AllocsPerOp, verdict(a.NsPerOp < 10e6))
		} else {
			w("Not measured: %s\n\n", oneLine(a.Error))
		}
	}
	if a := r.Attack; a != nil {
		attackSection(w, a, bench)
	}
	w("%s", qualitySection)
	w("## Method and limits\n\n")
	w("- One process, %d cores: every node, the mock network and the measuring share the CPUs, so latency under load includes ", r.Machine.CPUs)
	w("scheduling delay that separate machines would not have: a record's receivers do their work at the same moment, on the same CPUs. ")
	w("The bare gossipsub runs pay the same cost for their hosts; three of them do nothing with a message, the fourth verifies and stores each record, none indexes.\n")
	w("- Link latency model: %s. ", r.LinkModel)
	w("The mock network's own latency makes each write on a stream wait until the previous write has arrived (one write per link latency per stream), ")
	w("which at 20 ms caps a gossipsub stream at 50 RPCs per second and queues messages for seconds at the publish rates used here; ")
	w("so the harness sets the mock links to zero latency and its host wrapper delivers every write one latency later without blocking the writer ")
	w("(`--mocknet-latency` switches back). Connection set-up and identify are not delayed. ")
	w("There is no bandwidth limit, no loss, no encryption and no stream multiplexing: ")
	w("byte counts are the payload written to libp2p streams (counted by the same wrapper), not bytes on a real wire.\n")
	w("- Gossip duplicates are counted by decoding every gossipsub RPC read from a node's streams: \"copies per delivery\" is ")
	w("the number of copies of a message a node reads, divided by the number of distinct messages it reads.\n")
	w("- Nodes run with periodic sync off (interval 1 h) and DHT/mDNS off so that live delivery measures gossip; the catch-up a node runs ")
	w("when a member connects, and the gap fetch when a record's predecessor is missing, stay on as in production.\n")
	w("- Federations of the steady, churn and partition scenarios are formed with real invites (`Invite`/`Join`); the late-join, catch-up, ingest ")
	w("and memory scenarios admit members by writing founder-signed admission records into the stores before start, which is what a join leaves behind.\n")
	return b.String()
}

func steadySection(w func(string, ...any), s *SteadyResult, bench string) {
	w("## Steady state: livinglab vs bare gossipsub\n\n")
	w("%d regions on the mock network, every host linked to and connected with every other, %.0f ms per link. Topics: %s; each node follows two of the three. ",
		s.Nodes, s.LinkMs, strings.Join(s.Topics, ", "))
	w("%d practices (encoded %.0f–%.0f bytes, mean %.0f) published at %.1f/s by random members, each to one random topic. ",
		s.Records, s.RecordBytes.Min, s.RecordBytes.Max, s.RecordBytes.Mean, s.Rate)
	w("Latency is from the `PublishPractice` call to the record being stored at each subscriber (validated and written to Badger; ")
	w("taken from the node's event feed, which reports a record once stored, while the search index follows in batches); ")
	w("for bare gossipsub, from `Publish` to `Subscription.Next` returning the message. ")
	w("The bare runs use the same mock network, the same number of hosts, links and connections, the same subscriptions, message sizes and schedule, ")
	w("in the same process after the livinglab nodes were stopped and their memory released, with go-libp2p-pubsub v0.19 defaults; with `WithFloodPublish(true)`, which livinglab sets; with every option livinglab sets that shapes delivery (flood publishing, unsigned messages identified by a hash of topic and record, livinglab's queue sizes; not its peer scoring, validators or storage), so that the ratio is livinglab's own work; ")
	w("and with those options plus the least any node that keeps signed records must do before a record counts as stored: a validator that opens each record (decode, canonical-encoding check, Ed25519 signature) and writes it to Badger under its CID (one key, the node's Badger options). ")
	w("That last run gossips the very records livinglab published, and its latency is from `Publish` to the validator having written the record; ")
	w("it is the floor for this machine, where all %d nodes share the same CPUs, and the part of livinglab's latency above it is what livinglab does beyond verifying and storing (membership, sequence and limit checks, the store's indexes, peer scoring, the search index, gap checks).\n\n", s.Nodes)
	w("Federation set-up (Invite/Join one by one, then waiting until all are connected and all subscriptions known): %.1f s; Join p50 %.0f ms, max %.0f ms; ",
		s.Setup.TotalS, s.Setup.Join.P50, s.Setup.Join.Max)
	w("%d pairs had to be connected by the harness after the bounded wait.\n\n", s.Setup.Connected)
	steadyRunsSection(w, s)
	w("| system | p50 ms | p90 ms | p99 ms | max ms | delivered live | copies per delivery | gossip bytes per delivery | CPU s (cores) |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range append([]LatencyRun{s.Livinglab}, s.Bare...) {
		w("| %s | %.1f | %.1f | %.1f | %.1f | %s | %.2f | %.0f | %.1f (%.2f) |\n", r.System, r.Latency.P50, r.Latency.P90, r.Latency.P99,
			r.Latency.Max, pct(r.LiveRatio), r.Copies, r.BytesPerDelivery, r.Resources.CPUS, r.Resources.CPUCores)
	}
	w("\nFirst gossip copy read off a stream (before validation), publish call to arrival: ")
	for i, r := range append([]LatencyRun{s.Livinglab}, s.Bare...) {
		if i > 0 {
			w("; ")
		}
		w("%s p50 %.1f / p99 %.1f ms", r.System, r.Arrival.P50, r.Arrival.P99)
	}
	w(".\n\n")
	w("- p99 ratio livinglab / gossipsub with flood publish: **%.2f**; / gossipsub defaults: **%.2f**; / gossipsub with livinglab's options: **%.2f**; / gossipsub with livinglab's options + verify + store: **%.2f**; livinglab p99 / link latency: **%.2f**.\n",
		s.P99VsFlood, s.P99VsDefault, s.P99VsSame, s.P99VsStore, s.P99OverLink)
	if st, same := bareP99(s, BareStore), bareP99(s, BareSame); st > 0 && same > 0 {
		w("- Verifying and storing alone (the fourth bare run) take p99 from %.1f to %.1f ms, %.2f times; ", same, st, st/same)
		if st/same > 1.1 {
			w("on this machine a ratio of 1.1 to gossipsub with the same options is out of reach of any node that checks a signature and writes each record before counting it stored. ")
		}
		w("livinglab's p99 is %.2f times that floor.\n", s.P99VsStore)
	}
	w("- `PublishPractice` call (gate, sign, store, hand to gossipsub): p50 %.1f ms, p99 %.1f ms. Failed publishes: %d.\n",
		s.PublishCall.P50, s.PublishCall.P99, s.Failed)
	w("- Sync traffic during the publishing window (exchanges started by gap detection, see below): %d exchanges, %s.\n",
		s.WindowSyncExchanges, kib(s.WindowSyncBytes))
	w("- Sync rounds afterwards, each node syncing every topic it follows with one random member (first round: %d exchanges, %d failed, %.1f s, %s): ",
		s.SyncExchanges, s.SyncErrors, s.SyncRoundS, kib(s.SyncRoundBytes))
	for i, r := range s.RoundRatios {
		if i > 0 {
			w(", ")
		}
		w("%s after round %d", pct(r), i+1)
	}
	w(" of the (record, subscriber) pairs of all phases.\n")
	if o := s.Overload; o != nil {
		w("- Overload phase on the same federation, livinglab only: %d more practices at %.0f/s: p50 %.0f ms, p99 %.0f ms, delivered live %s, ",
			s.Records, s.OverloadRate, o.Latency.P50, o.Latency.P99, pct(o.LiveRatio))
		w("`PublishPractice` p50 %.0f ms; %.1f CPU s (%.2f cores); %d gap-triggered sync exchanges.\n",
			s.OverloadPublishCall.P50, o.Resources.CPUS, o.Resources.CPUCores, s.OverloadSyncExchanges)
	}
	w("- livinglab process resources during the publishing window: %.1f CPU s (%.2f cores), heap in use %.0f MiB, RSS %.0f MiB for all %d nodes; peak RSS of the process so far %.0f MiB.\n\n",
		s.Livinglab.Resources.CPUS, s.Livinglab.Resources.CPUCores, s.Livinglab.Resources.HeapInuseMiB, s.Livinglab.Resources.RSSMiB,
		s.Nodes, s.Livinglab.Resources.PeakRSSMiB)
	w("![latency distributions](%s/latency.png)\n\n", bench)
}

func first(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// ingestRuns is how many measured ingest runs a report takes the median of.
const ingestRuns = 3

// ingestTarget is the ingest rate (records per second: validated, stored
// and indexed) a node should sustain.
const ingestTarget = 4000

// joinRates lists rates as "1940, 2169, 2201".
func joinRates(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, ", ")
}

func bareP99(s *SteadyResult, name string) float64 {
	for _, b := range s.Bare {
		if b.System == name {
			return b.Latency.P99
		}
	}
	return 0
}

// demote turns the fragment's headings into subheadings of this page.
func demote(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func dur(s float64) string {
	if s < 90 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.0f minutes", s/60)
}

// qualitySection points to the evaluations that other commands write.
const qualitySection = "## Quality of anonymisation and search\n" +
	"\n" +
	"Measured on the project's own evaluation sets, each with a part held aside from tuning, by their own\n" +
	"commands (not by this report, which measures speed and delivery):\n" +
	"\n" +
	"- [bench/anon-eval.md](bench/anon-eval.md): the anonymisation gate's recall of planted personal data and\n" +
	"  the share of public facts it alters, per kind and language, and the gate's time for a 5,000-word\n" +
	"  practice with 100 registered stakeholders (`go run ./knowledge/anon/eval/cmd`).\n" +
	"- [bench/search-eval.md](bench/search-eval.md): search relevance (nDCG@10, recall@10, MRR) beside plain\n" +
	"  BM25 and SQLite FTS5, cross-language queries included\n" +
	"  (`LIVINGLAB_EVAL_OUT=$PWD/bench/search-eval.md go test ./knowledge/search -run TestRelevance -count=1`),\n" +
	"  and [bench/search-perf.md](bench/search-perf.md) for the latency and indexing cost of the ranking.\n" +
	"\n"
