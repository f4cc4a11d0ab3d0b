// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// MemoryConfig sets up the memory scenario.
type MemoryConfig struct {
	Home   string // a founder's home holding the records (from the catch-up scenario)
	Peers  int
	Repo   string // module root, to build ./cmd/livinglab
	Dir    string
	Settle time.Duration
	// LimitMiB, if set, runs the daemon a second time in a memory cgroup
	// limited to this much (needs root; skipped with the reason if not).
	LimitMiB int
	// HeapProfile, if set, is where the daemon's heap profile is written
	// at the end of the settle time (from its /debug/pprof/heap).
	HeapProfile string
}

// MemoryResult is the outcome of the memory scenario.
type MemoryResult struct {
	Records        int         `json:"records"`
	Peers          int         `json:"peers"`
	PeersConnected int         `json:"peers_connected"` // as the daemon's status reports
	StartS         float64     `json:"start_s"`
	RSSIdleMiB     float64     `json:"rss_before_peers_mib"`
	RSSMiB         float64     `json:"rss_mib"` // with the peers, at the end of the settle time
	RSSMinMiB      float64     `json:"rss_min_mib"`
	RSSMaxMiB      float64     `json:"rss_max_mib"`
	HWMMiB         float64     `json:"peak_rss_mib"` // VmHWM since the daemon started
	AnonMiB        float64     `json:"rss_anon_mib"` // anonymous memory (heap, stacks, Badger's tables)
	FileMiB        float64     `json:"rss_file_mib"` // file-backed pages (memory-mapped store and index files)
	HeapInuseMiB   float64     `json:"heap_inuse_mib"`
	Goroutines     float64     `json:"goroutines"`
	CPUPercent     float64     `json:"idle_cpu_percent"` // daemon CPU during the settle time
	Series         []float64   `json:"rss_series_mib"`   // one sample a second with the peers
	Limited        *LimitedRun `json:"limited,omitempty"`
}

// RunMemory runs the real livinglab binary on a home holding the records,
// connects lightweight libp2p hosts that are federation members (admitted
// by records written into the store before start) and reads the daemon's
// resident memory from /proc.
func RunMemory(ctx context.Context, cfg MemoryConfig, log Logf) (*MemoryResult, error) {
	res := &MemoryResult{Peers: cfg.Peers}
	bin := filepath.Join(cfg.Dir, "livinglab")
	// Built as the release builds it (cmd/livinglab-release): static, trimmed,
	// without symbol tables, so that what is measured is what is shipped.
	log("memory: building ./cmd/livinglab as released (CGO_ENABLED=0, -trimpath, -ldflags \"-s -w\")")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/livinglab")
	build.Dir = cfg.Repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build livinglab: %v\n%s", err, out)
	}
	h := node.Home{Dir: cfg.Home}
	ncfg, err := node.LoadConfig(h.Config())
	if err != nil {
		return nil, err
	}
	// The daemon runs with the default settings, following the topic.
	def := node.DefaultConfig()
	ncfg.Discovery, ncfg.NAT, ncfg.Sync, ncfg.Store, ncfg.Limits = def.Discovery, def.NAT, def.Sync, def.Store, def.Limits
	ncfg.Topics = []string{CatchUpTopic}
	if err := node.SaveConfig(h.Config(), ncfg); err != nil {
		return nil, err
	}

	// Lightweight members: plain libp2p hosts with gossipsub on the
	// federation's topics.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var peers []host.Host
	defer func() {
		for _, p := range peers {
			p.Close()
		}
	}()
	for range cfg.Peers {
		k, _, err := crypto.GenerateEd25519Key(crand.Reader)
		if err != nil {
			return nil, err
		}
		ph, err := libp2p.New(libp2p.Identity(k), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
			libp2p.Transport(tcp.NewTCPTransport), libp2p.DisableRelay())
		if err != nil {
			return nil, err
		}
		peers = append(peers, ph)
		ps, err := pubsub.NewGossipSub(pctx, ph, node.GossipWireOptions()...)
		if err != nil {
			return nil, err
		}
		for _, t := range []string{protocol.ControlTopic, CatchUpTopic} {
			_, sub, err := subscribe(ps, t)
			if err != nil {
				return nil, err
			}
			go func() {
				for {
					if _, err := sub.Next(pctx); err != nil {
						return
					}
				}
			}()
		}
	}
	st, err := knowledge.Open(h.Store(), knowledge.Options{})
	if err != nil {
		return nil, err
	}
	a, err := NewAuthor(h, Federation, ncfg.Region, ncfg.Country, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	for i, ph := range peers {
		var addrs []string
		for _, x := range ph.Addrs() {
			addrs = append(addrs, x.String())
		}
		rec, err := a.Next(&protocol.Membership{Action: protocol.ActionAdmit, Member: ph.ID().String(),
			Region: fmt.Sprintf("Peer region %02d", i), Country: "SE", Role: protocol.RoleMember, Addrs: addrs}, nil, time.Now())
		if err == nil {
			_, err = st.PutOwn(rec)
		}
		if err != nil {
			st.Close()
			return nil, err
		}
	}
	res.Records, _ = st.CountTopic(CatchUpTopic)
	if err := st.Close(); err != nil {
		return nil, err
	}

	log("memory: starting the daemon on a store of %d practices", res.Records)
	ph, err := runDaemonPhase(ctx, bin, h, cfg, peers, "", log)
	if err != nil {
		return nil, err
	}
	res.StartS, res.RSSIdleMiB, res.Series = ph.startS, ph.rssIdle, ph.series
	res.RSSMiB, res.HWMMiB, res.AnonMiB, res.FileMiB = ph.rss, ph.hwm, ph.anon, ph.file
	res.CPUPercent, res.HeapInuseMiB, res.Goroutines, res.PeersConnected = ph.cpu, ph.heap, ph.goroutines, ph.peers
	if len(res.Series) > 0 {
		res.RSSMinMiB, res.RSSMaxMiB = res.Series[0], res.Series[0]
		for _, v := range res.Series {
			res.RSSMinMiB, res.RSSMaxMiB = min(res.RSSMinMiB, v), max(res.RSSMaxMiB, v)
		}
	}
	log("memory: %d members connected, %.1f MiB resident (peak %.1f MiB)", res.PeersConnected, res.RSSMiB, res.HWMMiB)

	if cfg.LimitMiB > 0 {
		cg, err := newMemoryCgroup(fmt.Sprintf("livinglab-sim-%d", os.Getpid()), cfg.LimitMiB)
		if err != nil {
			log("memory: no memory cgroup for the limited run: %v", err)
			res.Limited = &LimitedRun{LimitMiB: cfg.LimitMiB, Skipped: err.Error()}
			return res, nil
		}
		defer cg.remove()
		lr := &LimitedRun{LimitMiB: cfg.LimitMiB, Cgroup: cg.kind}
		// Pages of the binary, store and index still cached from the
		// first run would be charged to the cgroup that read them first,
		// not to this one: drop them so the daemon pays for all it uses.
		syscall.Sync()
		lr.ColdCache = os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200) == nil
		log("memory: restarting the daemon in a memory cgroup limited to %d MiB (%s, page cache dropped: %v)", cfg.LimitMiB, cg.kind, lr.ColdCache)
		res.Limited = lr
		ph, err := runDaemonPhase(ctx, bin, h, cfg, peers, cg.procs, log)
		if err != nil {
			lr.Error = err.Error()
			return res, nil
		}
		lr.RSSMiB, lr.AnonMiB, lr.FileMiB, lr.PeersConnected = ph.rss, ph.anon, ph.file, ph.peers
		lr.SearchOK, lr.Healthy, lr.Exit = ph.searchOK, ph.healthy, ph.exit
		lr.PeakMiB, lr.OOMKills = cg.stats()
		log("memory: limited to %d MiB: %.1f MiB resident, cgroup peak %.1f MiB, %d OOM kills, healthy %v, search %v",
			cfg.LimitMiB, lr.RSSMiB, lr.PeakMiB, lr.OOMKills, lr.Healthy, lr.SearchOK)
	}
	return res, nil
}

// LimitedRun is the daemon run again under a hard memory limit (a memory
// cgroup, as systemd's MemoryMax sets up): does it keep working?
type LimitedRun struct {
	LimitMiB       int     `json:"limit_mib"`
	Cgroup         string  `json:"cgroup,omitempty"` // "v1" or "v2"
	ColdCache      bool    `json:"cold_cache"`       // the page cache was dropped before the run
	Skipped        string  `json:"skipped,omitempty"`
	Error          string  `json:"error,omitempty"`
	RSSMiB         float64 `json:"rss_mib"`
	AnonMiB        float64 `json:"rss_anon_mib"`
	FileMiB        float64 `json:"rss_file_mib"`
	PeakMiB        float64 `json:"cgroup_peak_mib"` // the cgroup's peak charge (memory + page cache)
	OOMKills       int     `json:"oom_kills"`
	PeersConnected int     `json:"peers_connected"`
	Healthy        bool    `json:"healthy"`   // /api/v1/health answered 200 at the end
	SearchOK       bool    `json:"search_ok"` // a search over the 100,000 practices answered
	Exit           string  `json:"exit"`      // how the daemon ended on SIGTERM
}

type daemonPhase struct {
	startS, rssIdle, rss, hwm, anon, file, cpu, heap, goroutines float64
	series                                                       []float64
	peers                                                        int
	healthy, searchOK                                            bool
	exit                                                         string
}

// runDaemonPhase starts the daemon on home (inside the cgroup whose
// cgroup.procs file is procs, if set), connects the peers, samples its
// memory for the settle time, checks that it still answers, and stops it.
func runDaemonPhase(ctx context.Context, bin string, h node.Home, cfg MemoryConfig, peers []host.Host, procs string, log Logf) (*daemonPhase, error) {
	ph := &daemonPhase{}
	logName := "daemon.log"
	if procs != "" {
		logName = "daemon-limited.log"
	}
	errLog, err := os.Create(filepath.Join(cfg.Dir, logName))
	if err != nil {
		return nil, err
	}
	defer errLog.Close()
	args := []string{"run", "--home", h.Dir, "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--log-level", "warn"}
	cmd := exec.Command(bin, args...)
	if procs != "" {
		// Join the cgroup before exec, so that everything the daemon
		// allocates is charged to it.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ > "$LL_CGROUP_PROCS" && exec "$@"`, "sh", bin}, args...)...)
		cmd.Env = append(os.Environ(), "LL_CGROUP_PROCS="+procs)
	}
	cmd.Stderr = errLog
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
	}()
	var apiAddr string
	var daemon *peer.AddrInfo
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			l := sc.Text()
			if a, ok := strings.CutPrefix(l, "listening on "); ok && daemon == nil && strings.Contains(a, "/tcp/") {
				if info, err := peer.AddrInfoFromString(a); err == nil {
					daemon = info
				}
			}
			if a, ok := strings.CutPrefix(l, "API and web UI at http://"); ok {
				apiAddr = strings.TrimSuffix(a, "/")
			}
			if l == "ready" && !sent {
				ready <- nil
				sent = true
			}
		}
		if !sent {
			ready <- errors.New("the daemon exited before it was ready (see daemon.log)")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case <-time.After(15 * time.Minute):
		return nil, errors.New("the daemon was not ready within 15 minutes")
	}
	ph.startS = round(time.Since(t0).Seconds(), 1)
	if daemon == nil {
		return nil, errors.New("the daemon printed no TCP listen address")
	}
	pid := cmd.Process.Pid
	time.Sleep(5 * time.Second)
	if s, err := ProcStatus(pid); err == nil {
		ph.rssIdle = mib(s["VmRSS"])
	}
	log("memory: daemon up in %.1f s, %.1f MiB resident; connecting %d members", ph.startS, ph.rssIdle, len(peers))
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			defer ccancel()
			_ = p.Connect(cctx, *daemon)
		}()
	}
	wg.Wait()
	cpu0, _ := procCPU(pid)
	c0 := time.Now()
	settle := cfg.Settle
	if settle == 0 {
		settle = 30 * time.Second
	}
	for time.Since(c0) < settle {
		time.Sleep(time.Second)
		if s, err := ProcStatus(pid); err == nil {
			ph.series = append(ph.series, mib(s["VmRSS"]))
		}
	}
	if cpu1, err := procCPU(pid); err == nil {
		ph.cpu = round(100*(cpu1-cpu0).Seconds()/time.Since(c0).Seconds(), 1)
	}
	if s, err := ProcStatus(pid); err == nil {
		ph.rss, ph.hwm = mib(s["VmRSS"]), mib(s["VmHWM"])
		ph.anon, ph.file = mib(s["RssAnon"]), mib(s["RssFile"])
	}
	if m, err := scrapeMetrics("http://" + apiAddr + "/metrics"); err == nil {
		ph.heap = round(m["go_memstats_heap_inuse_bytes"]/(1<<20), 1)
		ph.goroutines = m["go_goroutines"]
	}
	tok, _ := h.LoadToken()
	if cfg.HeapProfile != "" && procs == "" {
		if err := fetchProfile("http://"+apiAddr+"/debug/pprof/heap?gc=1", tok, cfg.HeapProfile); err != nil {
			log("memory: no heap profile: %v", err)
		}
	}
	if st, err := apiStatus("http://"+apiAddr+"/api/v1/status", tok); err == nil {
		ph.peers = st.Peers
	}
	if ph.peers == 0 {
		for _, p := range peers {
			if p.Network().Connectedness(daemon.ID) == network.Connected {
				ph.peers++
			}
		}
	}
	if resp, err := http.Get("http://" + apiAddr + "/api/v1/health"); err == nil {
		ph.healthy = resp.StatusCode == http.StatusOK
		resp.Body.Close()
	}
	ph.searchOK = apiSearchWorks("http://"+apiAddr+"/api/v1/search?q=volunteers", tok)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		ph.exit = "clean"
		if err != nil {
			ph.exit = err.Error()
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		ph.exit = "killed after 60 s"
	}
	stopped = true
	return ph, nil
}

// apiGet asks the daemon's API with its token; an answer other than 200 is
// an error.
func apiGet(url, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: status %d: %s", url, resp.StatusCode, b)
	}
	return resp, nil
}

// fetchProfile saves a profile from the daemon's API.
func fetchProfile(url, token, path string) error {
	resp, err := apiGet(url, token)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// apiSearchWorks tells whether a search answers with hits.
func apiSearchWorks(url, token string) bool {
	resp, err := apiGet(url, token)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r struct {
		Total uint64 `json:"total"`
	}
	return json.NewDecoder(resp.Body).Decode(&r) == nil && r.Total > 0
}

// memoryCgroup is a memory cgroup made for one limited run.
type memoryCgroup struct {
	dir, procs, kind string
}

// newMemoryCgroup creates a memory cgroup limited to limitMiB, with
// cgroup v2 where its memory controller is available, else v1. It needs
// root (or a delegated cgroup); the caller reports why when it fails.
func newMemoryCgroup(name string, limitMiB int) (*memoryCgroup, error) {
	limit := strconv.Itoa(limitMiB << 20)
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		ctl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
		if err != nil || !slices.Contains(strings.Fields(string(ctl)), "memory") {
			continue
		}
		cg, err := makeCgroup(filepath.Join(root, name), "v2", "memory.max", limit)
		if err != nil {
			return nil, err
		}
		os.WriteFile(filepath.Join(cg.dir, "memory.swap.max"), []byte("0"), 0o644)
		return cg, nil
	}
	root := "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
		return nil, errors.New("no cgroup memory controller (v1 or v2) on this machine")
	}
	return makeCgroup(filepath.Join(root, name), "v1", "memory.limit_in_bytes", limit)
}

// makeCgroup creates the cgroup dir and writes limit to its limitFile.
func makeCgroup(dir, kind, limitFile, limit string) (*memoryCgroup, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	cg := &memoryCgroup{dir: dir, procs: filepath.Join(dir, "cgroup.procs"), kind: kind}
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(limit), 0o644); err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

// stats reads the cgroup's peak charge and its count of OOM kills.
func (cg *memoryCgroup) stats() (peakMiB float64, oomKills int) {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(cg.dir, name))
		return string(b)
	}
	field := func(text, key string) int {
		for _, l := range strings.Split(text, "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == key {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
		return 0
	}
	peak := "memory.peak"
	if cg.kind == "v1" {
		peak = "memory.max_usage_in_bytes"
		oomKills = field(read("memory.oom_control"), "oom_kill")
	} else {
		oomKills = field(read("memory.events"), "oom_kill")
	}
	if v, err := strconv.ParseUint(strings.TrimSpace(read(peak)), 10, 64); err == nil {
		peakMiB = mib(v)
	}
	return peakMiB, oomKills
}

func (cg *memoryCgroup) remove() {
	// The daemon has exited; a cgroup without processes can be removed.
	for range 50 {
		if err := os.Remove(cg.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procCPU returns the user + system CPU time of a process (clock ticks of
// 1/100 s, the Linux default).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+sy) * 10 * time.Millisecond, nil
}

func scrapeMetrics(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, sc.Err()
}

func apiStatus(url, token string) (*node.Status, error) {
	resp, err := apiGet(url, token)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st node.Status
	return &st, json.NewDecoder(resp.Body).Decode(&st)
}
