// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/livinglab/livinglab/internal/sysmem"
)

// Dist summarises a sample of durations in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	Min  float64 `json:"min_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Ms converts a duration to float milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarise computes a Dist from samples in milliseconds.
func Summarise(ms []float64) Dist {
	if len(ms) == 0 {
		return Dist{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Dist{N: len(s), Min: s[0], P50: Quantile(s, 0.50), P90: Quantile(s, 0.90), P99: Quantile(s, 0.99),
		Max: s[len(s)-1], Mean: sum / float64(len(s))}
}

// Quantile returns the nearest-rank q-quantile of sorted samples.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// Usage is the process's CPU time and memory at one moment.
type Usage struct {
	At        time.Time
	UserCPU   time.Duration
	SysCPU    time.Duration
	HeapInuse uint64
	VmRSS     uint64 // bytes
	VmHWM     uint64 // bytes, peak resident set since start
}

// ReadUsage samples getrusage, the Go heap and /proc/self/status.
func ReadUsage() Usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st, _ := ProcStatus(os.Getpid())
	return Usage{At: time.Now(), UserCPU: time.Duration(ru.Utime.Nano()), SysCPU: time.Duration(ru.Stime.Nano()),
		HeapInuse: ms.HeapInuse, VmRSS: st["VmRSS"], VmHWM: st["VmHWM"]}
}

// Resources is what a phase of a scenario cost the process.
type Resources struct {
	WallS        float64 `json:"wall_s"`
	CPUS         float64 `json:"cpu_s"`          // user + system
	CPUCores     float64 `json:"cpu_cores"`      // cpu_s / wall_s
	HeapInuseMiB float64 `json:"heap_inuse_mib"` // at the end of the phase
	RSSMiB       float64 `json:"rss_mib"`        // at the end of the phase
	PeakRSSMiB   float64 `json:"peak_rss_mib"`   // VmHWM: peak of the whole process so far
}

// Cost returns the resources used between two samples.
func Cost(a, b Usage) Resources {
	wall := b.At.Sub(a.At).Seconds()
	cpu := (b.UserCPU + b.SysCPU - a.UserCPU - a.SysCPU).Seconds()
	r := Resources{WallS: round(wall, 2), CPUS: round(cpu, 2), HeapInuseMiB: mib(b.HeapInuse), RSSMiB: mib(b.VmRSS),
		PeakRSSMiB: mib(b.VmHWM)}
	if wall > 0 {
		r.CPUCores = round(cpu/wall, 2)
	}
	return r
}

func mib(b uint64) float64 { return round(float64(b)/(1<<20), 1) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// ProcStatus reads the kB fields of /proc/PID/status, in bytes.
func ProcStatus(pid int) (map[string]uint64, error) {
	return sysmem.ReadKiBFields(fmt.Sprintf("/proc/%d/status", pid))
}

// Machine describes the computer the benchmarks ran on.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemoryGB string `json:"memory"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Date     string `json:"date"`
}

// ThisMachine reads /proc/cpuinfo and /proc/meminfo.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Date: time.Now().UTC().Format("2006-01-02 15:04 MST")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fs := strings.Fields(l)
				if len(fs) >= 2 {
					kb, _ := strconv.ParseFloat(fs[1], 64)
					m.MemoryGB = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
			}
		}
	}
	return m
}

// Contention is how busy the machine was while a scenario ran: other
// processes competing for the CPUs inflate latencies.
type Contention struct {
	Load1Mean   float64 `json:"load1_mean"`
	Load1Max    float64 `json:"load1_max"`
	CPUSomeMean float64 `json:"cpu_pressure_some_pct"` // /proc/pressure/cpu "some avg10", mean of samples
	Samples     int     `json:"samples"`
}

// Sampler samples the load average and CPU pressure every interval.
type Sampler struct {
	stop chan struct{}
	done chan Contention
}

// StartSampler begins sampling.
func StartSampler(interval time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan Contention, 1)}
	go func() {
		var c Contention
		var load, psi float64
		sample := func() {
			l, p := readLoad()
			load += l
			psi += p
			c.Load1Max = max(c.Load1Max, l)
			c.Samples++
		}
		sample()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sample()
			case <-s.stop:
				if c.Samples > 0 {
					c.Load1Mean = round(load/float64(c.Samples), 1)
					c.CPUSomeMean = round(psi/float64(c.Samples), 1)
				}
				s.done <- c
				return
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the summary.
func (s *Sampler) Stop() Contention {
	close(s.stop)
	return <-s.done
}

func readLoad() (load1, cpuSome float64) {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	if b, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "some ") {
				continue
			}
			for _, f := range strings.Fields(l) {
				if v, ok := strings.CutPrefix(f, "avg10="); ok {
					cpuSome, _ = strconv.ParseFloat(v, 64)
				}
			}
		}
	}
	return load1, cpuSome
}

// QuietWait is how long a measurement waited for the machine to calm down.
type QuietWait struct {
	WaitedS  float64 `json:"waited_s"`
	Runnable float64 `json:"other_runnable"` // mean runnable threads besides the sampler over the last window
	Quiet    bool    `json:"quiet"`          // false: gave up after the maximum wait
}

// WaitForQuiet waits until, over a window, on average at most maxRunnable
// other threads are runnable (/proc/loadavg), or maxWait passes.
func WaitForQuiet(maxRunnable float64, window, maxWait time.Duration) QuietWait {
	start := time.Now()
	for {
		sum, n := 0.0, 0
		for t0 := time.Now(); time.Since(t0) < window; time.Sleep(250 * time.Millisecond) {
			if r, ok := runnable(); ok {
				sum += r
				n++
			}
		}
		mean := 0.0
		if n > 0 {
			mean = sum / float64(n)
		}
		q := QuietWait{WaitedS: round(time.Since(start).Seconds(), 1), Runnable: round(mean, 2)}
		if n == 0 || mean <= maxRunnable {
			q.Quiet = true
			return q
		}
		if time.Since(start) >= maxWait {
			return q
		}
	}
}

// runnable returns the number of runnable threads minus the one reading.
func runnable() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0, false
	}
	r, _, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(r, 64)
	if err != nil {
		return 0, false
	}
	return max(0, v-1), true
}

// BeforeMeasure is called right before each timed phase of a scenario;
// the report uses it to wait for a quiet machine. It does nothing by
// default.
var BeforeMeasure = func(phase string) {}

// ProfileDir, when set, receives one CPU profile per measured steady
// window, named after the system (livinglab.pprof, floor.pprof...).
var ProfileDir string

// startProfile starts a CPU profile of the window of system when
// ProfileDir is set and returns the function that stops it.
func startProfile(system string) func() {
	if ProfileDir == "" {
		return func() {}
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(system))
	f, err := os.Create(filepath.Join(ProfileDir, name+".pprof"))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
