// SPDX-License-Identifier: EUPL-1.2

// Command livinglab-sim runs livinglab nodes in one process over libp2p's
// mock network and measures them: latency against bare gossipsub, churn,
// partitions, late joins, catch-up cost, ingest rate, the daemon's memory
// and search latency. `livinglab-sim report` regenerates BENCHMARKS.md.
//
// The scenarios live in internal/sim.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/cmd/livinglab-sim/internal/sim"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "livinglab-sim:", err)
		os.Exit(1)
	}
}

var (
	pprofAddr string
	nodeLog   string
	workDir   string
	keep      bool
	seed      uint64
)

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func setup() (func(), error) {
	if pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(pprofAddr, nil); err != nil {
				logf("pprof: %v", err)
			}
		}()
	}
	if nodeLog == "" {
		return func() {}, nil
	}
	f, err := os.Create(nodeLog)
	if err != nil {
		return nil, err
	}
	sim.NodeLog = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return func() { f.Close() }, nil
}

// withSetup makes a command's run function: fn runs with the node log and
// pprof set up and a context that Ctrl-C or SIGTERM cancels.
func withSetup(fn func(ctx context.Context, cmd *cobra.Command) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		done, err := setup()
		if err != nil {
			return err
		}
		defer done()
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		return fn(ctx, cmd)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "livinglab-sim",
		Short:         "Benchmark livinglab nodes on an in-process mock network",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&nodeLog, "node-log", "", "write the nodes' warnings and errors to this file")
	root.PersistentFlags().StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060) while running")
	root.PersistentFlags().StringVar(&workDir, "work", "", "directory for node homes (default: a new temporary directory)")
	root.PersistentFlags().BoolVar(&keep, "keep", false, "keep the node homes afterwards")
	root.PersistentFlags().Uint64Var(&seed, "seed", 1, "random seed of schedules and generated records")
	root.PersistentFlags().BoolVar(&sim.MocknetLatency, "mocknet-latency", false,
		"use the mock network's link latency (each write on a stream waits for the previous one to arrive) instead of pipelined latency")
	root.AddCommand(reportCmd(), runCmd())
	return root
}

func reportCmd() *cobra.Command {
	cfg := sim.DefaultReportConfig()
	var only string
	var quick bool
	c := &cobra.Command{
		Use:   "report [--out BENCHMARKS.md] [--bench bench]",
		Short: "Run every scenario and write the benchmark report, its plots and raw results",
		Long: "Runs every scenario (20-30 minutes on 2 cores) and writes the markdown report, PNG plots, the ingest CPU\n" +
			"profile and results.json (raw numbers). Run it from the module root: the memory scenario builds\n" +
			"./cmd/livinglab and the search and anonymisation baselines run `go test` in ./knowledge/...",
		Args: cobra.NoArgs,
		RunE: withSetup(func(ctx context.Context, cmd *cobra.Command) error {
			cfg.WorkDir, cfg.Keep, cfg.Seed, cfg.Log = workDir, keep, seed, logf
			cfg.Command = "livinglab-sim " + strings.Join(os.Args[1:], " ")
			if only != "" {
				cfg.Only = strings.Split(only, ",")
			}
			if quick {
				cfg.Steady.Nodes, cfg.Steady.Records, cfg.Steady.Rate = 12, 40, 4
				if !cmd.Flags().Changed("steady-runs") {
					cfg.Steady.Runs = 2
				}
				cfg.Churn.Nodes, cfg.Churn.Records = 8, 60
				cfg.Partition.Nodes, cfg.Partition.RecordsPerSide = 8, 20
				cfg.LateJoin.Records = 300
				cfg.CatchUp.Total, cfg.CatchUp.Missing = 5000, 200
				cfg.Ingest.Records = 2000
				cfg.Memory.Peers, cfg.Memory.Settle = 10, 10*time.Second
				cfg.SearchQ = 3
				cfg.SkipFTS5 = true
				cfg.QuietWait = 0
			}
			res, err := sim.RunReport(ctx, cfg)
			if err != nil {
				return err
			}
			logf("wrote %s, %s/results.json and %d plots in %.0f s", cfg.Out, cfg.BenchDir, len(res.Plots), res.TookS)
			if len(res.Errors) > 0 {
				return fmt.Errorf("%d scenario(s) failed: see the report", len(res.Errors))
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&cfg.Out, "out", cfg.Out, "markdown report to write")
	f.StringVar(&cfg.BenchDir, "bench", cfg.BenchDir, "folder for plots, the CPU profile and results.json")
	f.StringVar(&cfg.Repo, "repo", cfg.Repo, "module root")
	f.StringVar(&only, "only", "", "comma-separated scenarios: steady,churn,partition,latejoin,ingest,catchup,memory,search,anon,attack")
	f.IntVar(&cfg.Steady.Runs, "steady-runs", cfg.Steady.Runs, "repeat the steady scenario this many times (medians and ranges in the report)")
	f.BoolVar(&quick, "quick", false, "small sizes everywhere (a smoke run, not for publishing)")
	f.BoolVar(&cfg.SkipFTS5, "skip-fts5", false, "do not run knowledge/search's SQLite FTS5 comparison")
	f.DurationVar(&cfg.QuietWait, "quiet-wait", cfg.QuietWait, "before each timed phase, wait at most this long for a quiet machine (0: do not wait)")
	f.Float64Var(&cfg.QuietRunnable, "quiet-runnable", 0, "quiet means at most this many other runnable threads on average (default: three quarters of the CPUs)")
	return c
}

func runCmd() *cobra.Command {
	var scenario, out, profDir, fromHome, heapProfile string
	var nodes, records, missing, peers, runs, cgroupMiB int
	var latency, settle time.Duration
	var rate, overload float64
	var bare, floorOnly, flushIndex bool
	c := &cobra.Command{
		Use:   "run --scenario NAME",
		Short: "Run one scenario and print its results as JSON",
		Long: "Scenarios: steady (with --bare: plus bare gossipsub on the same schedule), churn, partition, latejoin,\n" +
			"catchup (--records total, --missing), ingest (--records), memory (catch-up store, then the daemon with --peers),\n" +
			"search (catch-up store, then queries on its index), reindex (catch-up store, then full rebuilds of its index).\n\n" +
			"Example: livinglab-sim run --scenario steady --nodes 50 --latency 20ms --records 200 --bare",
		Args: cobra.NoArgs,
		RunE: withSetup(func(ctx context.Context, cmd *cobra.Command) error {
			var err error
			dir := workDir
			if dir == "" {
				if dir, err = os.MkdirTemp("", "livinglab-sim-"); err != nil {
					return err
				}
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			if profDir != "" {
				if err := os.MkdirAll(profDir, 0o755); err != nil {
					return err
				}
				sim.ProfileDir = profDir
			}
			def := sim.DefaultReportConfig()
			fs := cmd.Flags()
			// sizes sets the fields of a scenario's configuration that
			// --nodes, --records, --latency and --rate name (nil: the
			// scenario has none), where the flag was given.
			sizes := func(n, r *int, l *time.Duration, rt *float64) {
				flagInto(fs, "nodes", n, nodes)
				flagInto(fs, "records", r, records)
				flagInto(fs, "latency", l, latency)
				flagInto(fs, "rate", rt, rate)
			}
			// onKeptHome runs a scenario that needs a catch-up store on
			// a copy of the home given with --home (the daemon and the
			// scenarios write to it, and the home stays as it was), or
			// builds the store first without one.
			onKeptHome := func(run func(home string) (any, error)) (any, error) {
				if fromHome == "" {
					return runReportScenario(ctx, scenario, dir, def, fs, records, missing, latency, peers)
				}
				home, err := copyHome(ctx, fromHome, dir)
				if err != nil {
					return nil, err
				}
				return run(home)
			}
			var res any
			switch scenario {
			case "steady":
				c := def.Steady
				c.Dir, c.Seed, c.Bare, c.OverloadRate, c.Runs = dir, seed, bare, overload, 1
				sizes(&c.Nodes, &c.Records, &c.Latency, &c.Rate)
				flagInto(fs, "settle", &c.Settle, settle)
				flagInto(fs, "runs", &c.Runs, runs)
				if floorOnly {
					c.BareSystems = []string{sim.BareStore}
				}
				c.FlushIndex = flushIndex
				res, err = sim.RunSteady(ctx, c, logf)
			case "churn":
				c := def.Churn
				c.Dir, c.Seed = dir, seed
				sizes(&c.Nodes, &c.Records, &c.Latency, &c.Rate)
				res, err = sim.RunChurn(ctx, c, logf)
			case "partition":
				c := def.Partition
				c.Dir, c.Seed = dir, seed
				sizes(&c.Nodes, nil, &c.Latency, nil)
				flagInto(fs, "records", &c.RecordsPerSide, records/2)
				res, err = sim.RunPartition(ctx, c, logf)
			case "latejoin":
				c := def.LateJoin
				c.Dir, c.Seed = dir, seed
				sizes(&c.Members, &c.Records, &c.Latency, nil)
				res, err = sim.RunLateJoin(ctx, c, logf)
			case "memory":
				res, err = onKeptHome(func(home string) (any, error) {
					c := def.Memory
					c.Repo, c.Dir, c.HeapProfile, c.Home = ".", dir, heapProfile, home
					flagInto(fs, "peers", &c.Peers, peers)
					flagInto(fs, "cgroup-mib", &c.LimitMiB, cgroupMiB)
					return sim.RunMemory(ctx, c, logf)
				})
			case "search":
				res, err = onKeptHome(func(home string) (any, error) { return sim.RunSearch(ctx, home, def.SearchQ, logf) })
			case "reindex":
				res, err = onKeptHome(func(home string) (any, error) {
					n := 3
					flagInto(fs, "runs", &n, runs)
					return sim.RunReindex(ctx, home, n, logf)
				})
			case "catchup":
				res, err = runReportScenario(ctx, scenario, dir, def, fs, records, missing, latency, peers)
			case "ingest":
				c := def.Ingest
				c.Dir, c.Seed = dir, seed
				if profDir != "" {
					c.Profile = filepath.Join(profDir, "ingest.cpu.pprof")
				}
				sizes(nil, &c.Records, &c.Latency, nil)
				res, err = sim.RunIngest(ctx, c, logf)
			case "attack":
				c := def.Attack
				c.Dir, c.Seed, c.Log = dir, seed, logf
				sizes(&c.Nodes, &c.Records, &c.Latency, &c.Rate)
				res, err = sim.RunAttack(ctx, c)
			default:
				return fmt.Errorf("unknown scenario %q (steady, churn, partition, latejoin, catchup, ingest, memory, search, reindex, attack)", scenario)
			}
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			if out != "" {
				return os.WriteFile(out, b, 0o644)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		}),
	}
	f := c.Flags()
	f.StringVar(&scenario, "scenario", "steady", "scenario to run")
	f.IntVar(&nodes, "nodes", 0, "number of nodes (late join: members before the newcomer)")
	f.IntVar(&records, "records", 0, "records published (catch-up, ingest: records held)")
	f.IntVar(&runs, "runs", 0, "steady: repeat the scenario this many times (default 1) and summarise the runs; reindex: rebuilds (default 3)")
	f.IntVar(&missing, "missing", 0, "catch-up: records the lagging node lacks")
	f.IntVar(&peers, "peers", 0, "memory: lightweight peers connected to the daemon")
	f.StringVar(&fromHome, "home", "", "memory, search, reindex: measure on a copy of this home (one kept by an earlier catch-up run, catchup/a under its --work folder) instead of building the catch-up store first")
	f.IntVar(&cgroupMiB, "cgroup-mib", 0, "memory, with --home: then run the daemon again in a memory cgroup of this many MiB (default: the report's; 0: not at all)")
	f.StringVar(&heapProfile, "heap-profile", "", "memory, with --home: write the daemon's heap profile at the end of the settle time to this file")
	f.DurationVar(&latency, "latency", 0, "latency of every link")
	f.DurationVar(&settle, "settle", 0, "steady: wait after the last publication before counting")
	f.Float64Var(&rate, "rate", 0, "publications per second")
	f.Float64Var(&overload, "overload-rate", 0, "steady: then publish as many records again at this rate (livinglab only)")
	f.BoolVar(&bare, "bare", true, "steady: also run bare gossipsub on the same schedule (defaults; flood publish; livinglab's options; those plus verifying and storing each record)")
	f.BoolVar(&floorOnly, "floor-only", false, "steady: of the bare systems run only the verify + store floor")
	f.BoolVar(&flushIndex, "flush-index", false, "steady: apply every node's queued search-index changes before the window closes, so that its CPU holds all the indexing of its records")
	f.StringVar(&profDir, "cpuprofile", "", "steady: write a CPU profile of each system's publishing window into this folder; ingest: of the exchange and indexing")
	f.StringVar(&out, "json", "", "write the results to this file instead of standard output")
	return c
}

// runReportScenario runs the catch-up, memory or search scenario through the
// report's sequence (the memory and search scenarios run on the catch-up
// scenario's store).
func runReportScenario(ctx context.Context, scenario, dir string, def sim.ReportConfig, fs interface{ Changed(string) bool },
	records, missing int, latency time.Duration, peers int) (any, error) {
	r := def
	r.Repo, r.Out, r.WorkDir, r.Keep, r.Seed, r.Log = ".", "", dir, true, seed, logf
	r.BenchDir = filepath.Join(dir, "bench")
	r.Only = []string{scenario}
	r.SkipFTS5 = true
	r.QuietWait = 0
	flagInto(fs, "records", &r.CatchUp.Total, records)
	flagInto(fs, "missing", &r.CatchUp.Missing, missing)
	flagInto(fs, "latency", &r.CatchUp.Latency, latency)
	flagInto(fs, "peers", &r.Memory.Peers, peers)
	return sim.RunReport(ctx, r)
}

// flagInto sets *dst to v when the flag name was given on the command line,
// leaving the scenario's default otherwise; a nil dst takes nothing.
func flagInto[T any](fs interface{ Changed(string) bool }, name string, dst *T, v T) {
	if dst != nil && fs.Changed(name) {
		*dst = v
	}
}

// copyHome copies a kept home to dir/home and returns that path.
func copyHome(ctx context.Context, from, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	home := filepath.Join(dir, "home")
	if out, err := exec.CommandContext(ctx, "cp", "-a", from, home).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy %s: %v: %s", from, err, out)
	}
	return home, nil
}
