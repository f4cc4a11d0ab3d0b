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
}

// MemoryResult is the outcome of the memory scenario.
type MemoryResult struct {
	Records        int       `json:"records"`
	Peers          int       `json:"peers"`
	PeersConnected int       `json:"peers_connected"` // as the daemon's status reports
	StartS         float64   `json:"start_s"`
	RSSIdleMiB     float64   `json:"rss_before_peers_mib"`
	RSSMiB         float64   `json:"rss_mib"` // with the peers, at the end of the settle time
	RSSMinMiB      float64   `json:"rss_min_mib"`
	RSSMaxMiB      float64   `json:"rss_max_mib"`
	HWMMiB         float64   `json:"peak_rss_mib"` // VmHWM since the daemon started
	AnonMiB        float64   `json:"rss_anon_mib"` // anonymous memory (heap, stacks, Badger's tables)
	FileMiB        float64   `json:"rss_file_mib"` // file-backed pages (memory-mapped store and index files)
	HeapInuseMiB   float64   `json:"heap_inuse_mib"`
	Goroutines     float64   `json:"goroutines"`
	CPUPercent     float64   `json:"idle_cpu_percent"` // daemon CPU during the settle time
	Series         []float64 `json:"rss_series_mib"`   // one sample a second with the peers
}

// RunMemory runs the real livinglab binary on a home holding the records,
// connects lightweight libp2p hosts that are federation members (admitted
// by records written into the store before start) and reads the daemon's
// resident memory from /proc.
func RunMemory(ctx context.Context, cfg MemoryConfig, log Logf) (*MemoryResult, error) {
	res := &MemoryResult{Peers: cfg.Peers}
	bin := filepath.Join(cfg.Dir, "livinglab")
	log("memory: building ./cmd/livinglab")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/livinglab")
	build.Dir = cfg.Repo
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
		ps, err := pubsub.NewGossipSub(pctx, ph)
		if err != nil {
			return nil, err
		}
		for _, t := range []string{protocol.ControlTopic, CatchUpTopic} {
			tp, err := ps.Join(protocol.GossipTopic(Federation, t))
			if err != nil {
				return nil, err
			}
			sub, err := tp.Subscribe()
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
	errLog, err := os.Create(filepath.Join(cfg.Dir, "daemon.log"))
	if err != nil {
		return nil, err
	}
	defer errLog.Close()
	cmd := exec.Command(bin, "run", "--home", cfg.Home, "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0",
		"--log-level", "warn")
	cmd.Stderr = errLog
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
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
	res.StartS = round(time.Since(t0).Seconds(), 1)
	if daemon == nil {
		return nil, errors.New("the daemon printed no TCP listen address")
	}
	pid := cmd.Process.Pid
	time.Sleep(5 * time.Second)
	if s, err := ProcStatus(pid); err == nil {
		res.RSSIdleMiB = mib(s["VmRSS"])
	}
	log("memory: daemon up in %.1f s, %.1f MiB resident; connecting %d members", res.StartS, res.RSSIdleMiB, cfg.Peers)
	var wg sync.WaitGroup
	for _, ph := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			defer ccancel()
			_ = ph.Connect(cctx, *daemon)
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
			res.Series = append(res.Series, mib(s["VmRSS"]))
		}
	}
	if cpu1, err := procCPU(pid); err == nil {
		res.CPUPercent = round(100*(cpu1-cpu0).Seconds()/time.Since(c0).Seconds(), 1)
	}
	if s, err := ProcStatus(pid); err == nil {
		res.RSSMiB, res.HWMMiB = mib(s["VmRSS"]), mib(s["VmHWM"])
		res.AnonMiB, res.FileMiB = mib(s["RssAnon"]), mib(s["RssFile"])
	}
	if len(res.Series) > 0 {
		res.RSSMinMiB, res.RSSMaxMiB = res.Series[0], res.Series[0]
		for _, v := range res.Series {
			res.RSSMinMiB, res.RSSMaxMiB = min(res.RSSMinMiB, v), max(res.RSSMaxMiB, v)
		}
	}
	if m, err := scrapeMetrics("http://" + apiAddr + "/metrics"); err == nil {
		res.HeapInuseMiB = round(m["go_memstats_heap_inuse_bytes"]/(1<<20), 1)
		res.Goroutines = m["go_goroutines"]
	}
	if tok, err := h.LoadToken(); err == nil {
		if st, err := apiStatus("http://"+apiAddr+"/api/v1/status", tok); err == nil {
			res.PeersConnected = st.Peers
		}
	}
	connected := 0
	for _, ph := range peers {
		if ph.Network().Connectedness(daemon.ID) == network.Connected {
			connected++
		}
	}
	if res.PeersConnected == 0 {
		res.PeersConnected = connected
	}
	log("memory: %d members connected, %.1f MiB resident (peak %.1f MiB)", res.PeersConnected, res.RSSMiB, res.HWMMiB)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	stopped = true
	return res, nil
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
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var st node.Status
	return &st, json.NewDecoder(resp.Body).Decode(&st)
}
