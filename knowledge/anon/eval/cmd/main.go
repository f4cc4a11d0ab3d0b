// SPDX-License-Identifier: EUPL-1.2

// Command cmd runs the anonymisation gate's evaluation and speed benchmark
// and writes the report, by default to bench/anon-eval.md:
//
//	go run ./knowledge/anon/eval/cmd [-out bench/anon-eval.md]
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livinglab/livinglab/knowledge/anon"
	"github.com/livinglab/livinglab/knowledge/anon/eval"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	out := flag.String("out", "bench/anon-eval.md", "report file")
	corpus := flag.String("practices", "knowledge/search/testdata/relevance/practices.txt", "practices without personal names")
	flag.Parse()
	set, err := eval.Load()
	if err != nil {
		slog.Error("loading the evaluation set", "err", err)
		os.Exit(1)
	}
	os0 := eval.Run(set)
	held, tune := eval.Summarise(os0, true), eval.Summarise(os0, false)

	text, reg := eval.BenchInput(set)
	g := anon.New(anon.Options{FailClosed: true, Registry: reg})
	start := time.Now()
	g.Scrub("cold", text)
	cold := time.Since(start)
	var cpuPerOp time.Duration
	res := testing.Benchmark(func(b *testing.B) {
		runtime.GC()
		c0 := cpuTime()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			g.Scrub("summary", text)
		}
		b.StopTimer()
		cpuPerOp = (cpuTime() - c0) / time.Duration(b.N)
	})
	words := len(strings.Fields(text))
	bench := fmt.Sprintf("A practice of %d words made of the passages above (denser in personal data than a real one:\n"+
		"%d findings) with %d registered stakeholders, gated in process on %s/%s with %d CPUs:\n\n"+
		"| measure | value |\n| --- | ---: |\n"+
		"| wall time per gate (testing.Benchmark, %d runs) | %.2f ms |\n"+
		"| CPU time per gate (user+system, includes GC) | %.2f ms |\n"+
		"| first gate of this text (word facts not yet cached; lexicons loaded) | %.0f ms |\n\n"+
		"Load average when measured: %s (the machine was shared). Target: under 10 ms. The wall time\n"+
		"depends on what else the machine runs; the CPU time less so.\n"+
		"Reproduce with `go test ./knowledge/anon/eval -run XXX -bench Gate5000Words`.\n",
		words, countFindings(g, text), len(reg.Names), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), res.N,
		float64(res.NsPerOp())/1e6, float64(cpuPerOp.Microseconds())/1e3, float64(cold.Milliseconds()), loadAvg())
	ps, err := eval.ReadPractices(*corpus)
	if err != nil {
		slog.Error("reading the practices without personal names", "err", err)
		os.Exit(1)
	}
	ord := eval.CheckOrdinary(ps)
	md := eval.Markdown(set, held, tune, eval.OrdinaryMarkdown(ord, *corpus), bench)
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		slog.Error("writing the report", "err", err)
		os.Exit(1)
	}
	fmt.Printf("held-out recall %.1f %%, altered %.1f %%; tuning recall %.1f %%, altered %.1f %%; %d ordinary words lost in %d of %d practices; %.2f ms/gate (CPU %.2f ms)\nwrote %s\n",
		100*held.Recall.Rate(), 100-100*held.Keep.Rate(), 100*tune.Recall.Rate(), 100-100*tune.Keep.Rate(),
		len(ord.Losses), ord.Damaged, ord.Practices,
		float64(res.NsPerOp())/1e6, float64(cpuPerOp.Microseconds())/1e3, *out)
}

func countFindings(g *anon.Gate, text string) int {
	_, fs, _ := g.Scrub("count", text)
	return len(fs)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
