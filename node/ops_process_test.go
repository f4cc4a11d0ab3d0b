// SPDX-License-Identifier: EUPL-1.2

// Long file: the operations scenarios (kill -9 during writes, backup while writing, restore from an
// older schema, config errors) share its process helpers (opsStart, opsKill, opsBurst); split, the
// helpers would travel with every part.

package node

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// Operations tests: crashes (kill -9) in the middle of writes, backup and
// restore while writes go on, store and config versions.

// opsWordRE matches the word planted in each test practice's title: seven
// letters ending in q, which no stemmer changes and which is too short for
// the search's stem-prefix fallback, so a search for it finds that practice
// and nothing else.
var opsWordRE = regexp.MustCompile(`\bkx[a-z]{4}q\b`)

func opsWord(i int) string {
	b := []byte("kxaaaaq")
	for p := 5; p >= 2; p-- {
		b[p] = byte('a' + i%26)
		i /= 26
	}
	return string(b)
}

var opsPeerIDRE = regexp.MustCompile(`peer ID: (\S+)`)

// opsInit runs livinglab init and returns the new node's peer ID. The
// config is tuned for tests: quick catch-up, no publishing limit, no mDNS,
// DHT or NAT traversal (the nodes find each other by address).
func opsInit(t *testing.T, home string, args ...string) string {
	t.Helper()
	out := mustCLI(t, "", append([]string{"init", "--home", home}, args...)...)
	m := opsPeerIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no peer ID: %s", out)
	}
	h := Home{Dir: home}
	changeConfig(t, h, func(cfg *Config) {
		cfg.Sync.Interval = Duration(2 * time.Second)
		cfg.Limits.PublishPerMin, cfg.Limits.PublishBurst = 100000, 100000
		cfg.Discovery = DiscoveryConfig{}
		cfg.NAT = NATConfig{}
	})
	return m[1]
}

// opsStart runs `livinglab run` on home, listening on a fixed port (port 0
// for any) so that the node keeps its address across restarts.
func opsStart(t *testing.T, name, home string, port int, bootstrap ...string) *daemon {
	t.Helper()
	return startWith(t, livinglabBin(t), name, home, port, bootstrap...)
}

// opsKill sends SIGKILL and waits for the process to be gone.
func opsKill(t *testing.T, d *daemon) {
	t.Helper()
	if err := d.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill %s: %v", d.Name, err)
	}
	var ee *exec.ExitError
	if err := d.Err(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("%s ended with %v before the kill", d.Name, err)
	}
}

// opsErrorLines returns the daemon's log lines at level ERROR.
func opsErrorLines(d *daemon) []string {
	var out []string
	for _, l := range strings.Split(d.Errs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// opsAPI is a client of one daemon's HTTP API.
type opsAPI struct {
	base, token string
	hc          *http.Client
}

func opsAPIOf(d *daemon) *opsAPI {
	base, tok := d.apiBase()
	return &opsAPI{base: base, token: tok, hc: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a request; a transport error (the daemon is gone) returns code 0.
func (a *opsAPI) do(method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, raw, nil
}

// get decodes a 200 answer into out.
func (a *opsAPI) get(path string, out any) error {
	code, raw, err := a.do("GET", path, nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, code, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

// opsAck is a publish the API acknowledged (201 with a CID).
type opsAck struct {
	CID, Word, Supersedes string
}

// publish publishes a practice whose title carries word. A transport
// error returns code 0.
func (a *opsAPI) publish(word, supersedes string) (opsAck, int, error) {
	body := practiceFile("Crash drill "+word+" for the village bus", "transport")
	if supersedes != "" {
		body["supersedes"] = supersedes
	}
	code, raw, err := a.do("POST", "/api/v1/practices", body)
	if err != nil {
		return opsAck{}, 0, err
	}
	if code != http.StatusCreated {
		return opsAck{}, code, fmt.Errorf("publish: %d %s", code, bytes.TrimSpace(raw))
	}
	var out struct {
		CID      string `json:"cid"`
		Practice struct {
			Title string `json:"title"`
		} `json:"practice"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.CID == "" {
		return opsAck{}, code, fmt.Errorf("publish answered 201 without a CID: %v: %s", err, raw)
	}
	if !strings.Contains(out.Practice.Title, word) {
		return opsAck{}, code, fmt.Errorf("the published title %q lost its word %q", out.Practice.Title, word)
	}
	return opsAck{CID: out.CID, Word: word, Supersedes: supersedes}, code, nil
}

func (a *opsAPI) mustPublish(t *testing.T, word, supersedes string) opsAck {
	t.Helper()
	ack, _, err := a.publish(word, supersedes)
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

// opsLedger keeps what the API acknowledged across bursts and restarts.
type opsLedger struct {
	mu    sync.Mutex
	words int
	acked []opsAck
	open  []string // acknowledged versions not yet picked to be superseded
}

func (l *opsLedger) word() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.words++
	return opsWord(l.words)
}

func (l *opsLedger) add(a opsAck) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked = append(l.acked, a)
	l.open = append(l.open, a.CID)
}

// claim picks an acknowledged version for superseding, at most once.
func (l *opsLedger) claim() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.open) == 0 {
		return ""
	}
	c := l.open[0]
	l.open = l.open[1:]
	return c
}

func (l *opsLedger) snapshot() []opsAck {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

// opsBurst publishes up to n practices on api from several goroutines,
// every third a new version of an earlier one when supersede is set. after
// runs after each acknowledgement with the number acknowledged so far in
// this burst. A worker stops at its first transport error (the node is
// gone). It returns the number acknowledged.
func opsBurst(t *testing.T, api *opsAPI, l *opsLedger, n, workers int, supersede bool, after func(k int, a opsAck)) int {
	t.Helper()
	var issued, acked atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := issued.Add(1)
				if i > int64(n) {
					return
				}
				sup := ""
				if supersede && i%3 == 0 {
					sup = l.claim()
				}
				ack, code, err := api.publish(l.word(), sup)
				switch {
				case code == 0 && err != nil:
					return // the node was killed
				case code == http.StatusBadRequest && sup != "":
					continue // that version was superseded by a publish lost in a crash
				case err != nil:
					t.Errorf("publish %d: %v", i, err)
					return
				}
				l.add(ack)
				after(int(acked.Add(1)), ack)
			}
		}()
	}
	wg.Wait()
	return int(acked.Load())
}

// opsCheckNode checks a node against what the API acknowledged: every
// acknowledged record is held and served, the search index holds exactly
// the latest version of every practice held, and a search for the word in
// a practice's title finds that practice, or nothing once it is superseded.
func opsCheckNode(api *opsAPI, acked []opsAck) error {
	var all, latest []PracticeView
	if err := api.get("/api/v1/practices?all=true", &all); err != nil {
		return err
	}
	if err := api.get("/api/v1/practices", &latest); err != nil {
		return err
	}
	held := map[string]bool{}
	for _, v := range all {
		held[v.CID] = true
	}
	for _, a := range acked {
		if !held[a.CID] {
			return fmt.Errorf("acknowledged practice %s (%s) is not listed (%d held)", a.CID, a.Word, len(all))
		}
		var rec struct {
			CID string `json:"cid"`
		}
		if err := api.get("/api/v1/records/"+a.CID, &rec); err != nil || rec.CID != a.CID {
			return fmt.Errorf("acknowledged record %s not served: %v", a.CID, err)
		}
	}
	isLatest := map[string]bool{}
	for _, v := range latest {
		isLatest[v.CID] = true
	}
	var res SearchResult
	if err := api.get("/api/v1/search?page_size=1&facets=false", &res); err != nil {
		return err
	}
	if res.Total != uint64(len(latest)) {
		return fmt.Errorf("the search index holds %d documents, the store %d latest practices", res.Total, len(latest))
	}
	for _, v := range all {
		w := opsWordRE.FindString(v.Title)
		if w == "" {
			return fmt.Errorf("practice %s has no planted word in %q", v.CID, v.Title)
		}
		if err := api.get("/api/v1/search?facets=false&q="+url.QueryEscape(w), &res); err != nil {
			return err
		}
		switch {
		case isLatest[v.CID] && (res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].CID != v.CID):
			return fmt.Errorf("search for %q (in held practice %s) found %d: %v", w, v.CID, res.Total, opsHitCIDs(res))
		case !isLatest[v.CID] && res.Total != 0:
			return fmt.Errorf("search for %q (in superseded version %s) found %d: %v", w, v.CID, res.Total, opsHitCIDs(res))
		}
	}
	return nil
}

func opsHitCIDs(r SearchResult) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.CID)
	}
	return out
}

// Kill -9 a publishing node, and in another round its subscriber, in the
// middle of a burst of publishes; after each restart every acknowledged
// record is there and the search index agrees with the store.
func TestOpsKill9DuringPublishing(t *testing.T) {
	livinglabBin(t)
	start := time.Now()
	base := t.TempDir()
	ha, hb := filepath.Join(base, "a"), filepath.Join(base, "b")
	idA := opsInit(t, ha, "--region", "North Karelia", "--country", "FI", "--federation", testFederation)
	idB := opsInit(t, hb, "--region", "Västerbotten", "--country", "SE")
	pa, pb := freePort(t), freePort(t)
	addrA := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", pa, idA)
	addrB := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", pb, idB)
	a := opsStart(t, "a", ha, pa, addrB)
	b := opsStart(t, "b", hb, pb, addrA)
	joinVia(t, livinglabBin(t), ha, hb)
	mustCLI(t, hb, "topics", "subscribe", "transport")
	apiA, apiB := opsAPIOf(a), opsAPIOf(b)

	l := &opsLedger{}
	probe := apiA.mustPublish(t, l.word(), "")
	l.add(probe)
	eventually(t, 30*time.Second, "b receives a's practice", func() error {
		return apiB.get("/api/v1/records/"+probe.CID, &struct{}{})
	})
	t.Logf("federation of two ready in %s", time.Since(start).Round(time.Millisecond))

	rounds := []struct {
		name         string
		victim       string // "a" publishes, "b" receives
		n, killAt    int
		supersede    bool
		onNewVersion bool // kill on the first new version acknowledged at or after killAt
	}{
		{name: "publisher early in the burst", victim: "a", n: 40, killAt: 3},
		{name: "subscriber while receiving", victim: "b", n: 30, killAt: 12},
		{name: "publisher mid-burst with new versions", victim: "a", n: 80, killAt: 20, supersede: true},
		{name: "publisher right after a new version", victim: "a", n: 80, killAt: 6, supersede: true, onNewVersion: true},
		{name: "subscriber while receiving new versions", victim: "b", n: 60, killAt: 25, supersede: true},
	}
	for _, r := range rounds {
		rs := time.Now()
		victim := a
		if r.victim == "b" {
			victim = b
		}
		var once sync.Once
		killed := make(chan struct{})
		n := opsBurst(t, apiA, l, r.n, 3, r.supersede, func(k int, ack opsAck) {
			if k < r.killAt || (r.onNewVersion && ack.Supersedes == "") {
				return
			}
			once.Do(func() {
				opsKill(t, victim)
				close(killed)
			})
		})
		select {
		case <-killed:
		default:
			t.Fatalf("round %q: the burst ended (%d acknowledged) before the kill", r.name, n)
		}
		acked := l.snapshot()
		if r.victim == "a" {
			a = opsStart(t, "a", ha, pa, addrB)
			apiA = opsAPIOf(a)
			// Nothing else writes to a: its state must be right at once.
			if err := opsCheckNode(apiA, acked); err != nil {
				t.Fatalf("round %q: after restart: %v", r.name, err)
			}
			if errs := opsErrorLines(a); len(errs) > 0 {
				t.Fatalf("round %q: a logged errors after restart:\n%s", r.name, strings.Join(errs, "\n"))
			}
		} else {
			b = opsStart(t, "b", hb, pb, addrA)
			apiB = opsAPIOf(b)
			eventually(t, 40*time.Second, "b holds every acknowledged record after its restart", func() error {
				return opsCheckNode(apiB, acked)
			})
		}
		restarted := a
		if r.victim == "b" {
			restarted = b
		}
		t.Logf("round %q: %d acknowledged in the burst (%d in all), killed %s, restarted and checked in %s (index rebuilt at start: %v)",
			r.name, n, len(acked), r.victim, time.Since(rs).Round(time.Millisecond), strings.Contains(restarted.Errs.String(), "rebuilding"))
	}
	// A kill while the node starts: opening the store, checking or
	// rebuilding its index.
	opsKill(t, a)
	early := exec.Command(livinglabBin(t), "run", "--home", ha, "--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", pa), "--api", "127.0.0.1:0")
	early.Env = testkit.CleanEnv()
	earlyLog := &testkit.Buffer{}
	early.Stderr = earlyLog
	if err := early.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if l := earlyLog.String(); strings.Contains(l, "rebuilding") || strings.Contains(l, "node started") {
			break
		}
	}
	early.Process.Signal(syscall.SIGKILL)
	early.Wait()
	t.Logf("killed a while starting, after: %q", testkit.Tail(earlyLog.String(), 1))
	a = opsStart(t, "a", ha, pa, addrB)
	apiA = opsAPIOf(a)
	acked := l.snapshot()
	if err := opsCheckNode(apiA, acked); err != nil {
		t.Fatalf("after a kill at start-up: %v", err)
	}

	// b ends up with everything a acknowledged, its index in step.
	eventually(t, 40*time.Second, "b holds every acknowledged record", func() error { return opsCheckNode(apiB, acked) })
	if err := opsCheckNode(apiA, acked); err != nil {
		t.Fatal(err)
	}
	a.stop(true)
	b.stop(true)
	t.Logf("%d practices acknowledged over %d kills in %s", len(acked), len(rounds)+2, time.Since(start).Round(time.Millisecond))
}

// opsCopyDir copies a directory tree.
func opsCopyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The search index is updated after the store commits and is persisted in
// the background, so a crash can leave it behind the store. Here it lags by a
// new version, a retraction and a new practice: as many documents as the
// store has latest practices, but the wrong ones. After the restart the
// index must agree with the store all the same.
func TestOpsKill9IndexBehindStore(t *testing.T) {
	livinglabBin(t)
	home := filepath.Join(t.TempDir(), "a")
	opsInit(t, home, "--region", "North Karelia", "--country", "FI", "--federation", testFederation)
	port := freePort(t)
	d := opsStart(t, "a", home, port)
	api := opsAPIOf(d)
	w := func(i int) string { return opsWord(300000 + i) }
	v1 := api.mustPublish(t, w(1), "")
	gone := api.mustPublish(t, w(2), "")
	// Let the index persist what it holds, then keep a copy of it as it is
	// on disk while the node runs.
	time.Sleep(1500 * time.Millisecond)
	snap := filepath.Join(t.TempDir(), "index")
	opsCopyDir(t, Home{Dir: home}.Index(), snap)

	v2 := api.mustPublish(t, w(3), v1.CID)
	if code, raw, err := api.do("POST", "/api/v1/practices/"+gone.CID+"/retract", map[string]string{"reason": "Published by mistake"}); err != nil || code != 200 {
		t.Fatalf("retract: %d %s %v", code, raw, err)
	}
	p3 := api.mustPublish(t, w(4), "")
	opsKill(t, d)
	// The crash lost the index's last writes.
	if err := os.RemoveAll(Home{Dir: home}.Index()); err != nil {
		t.Fatal(err)
	}
	opsCopyDir(t, snap, Home{Dir: home}.Index())

	d = opsStart(t, "a again", home, port)
	api = opsAPIOf(d)
	if err := opsCheckNode(api, []opsAck{v1, v2, p3}); err != nil {
		t.Errorf("after the restart: %v", err)
	}
	var res SearchResult
	if err := api.get("/api/v1/search?facets=false&q="+w(2), &res); err != nil || res.Total != 0 {
		t.Errorf("search finds the retracted practice after the restart: %v %v", opsHitCIDs(res), err)
	}
}

// A backup and an incremental backup taken while records are being
// written restore into a node with the same identity, config and records.
func TestOpsBackupWhileWriting(t *testing.T) {
	livinglabBin(t)
	base := t.TempDir()
	home := filepath.Join(base, "a")
	idA := opsInit(t, home, "--region", "North Karelia", "--country", "FI", "--federation", testFederation)
	d := opsStart(t, "a", home, 0)
	api := opsAPIOf(d)
	l := &opsLedger{words: 200000}
	retracted := api.mustPublish(t, l.word(), "")
	oldVersion := api.mustPublish(t, l.word(), "")
	l.add(oldVersion)

	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ack, _, err := api.publish(l.word(), "")
			if err != nil {
				t.Errorf("publish during backups: %v", err)
				return
			}
			l.add(ack)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitAcked := func(n int) {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("%d records acknowledged", n), func() error {
			if got := len(l.snapshot()); got < n {
				return fmt.Errorf("%d", got)
			}
			return nil
		})
	}
	waitAcked(10)
	f1, f2 := filepath.Join(base, "full.tar"), filepath.Join(base, "incr.tar")
	t1 := time.Now()
	out1 := mustCLI(t, home, "backup", f1)
	t.Logf("full backup during writes in %s: %s", time.Since(t1).Round(time.Millisecond), strings.SplitN(out1, "\n", 2)[0])
	n1 := len(l.snapshot())
	waitAcked(n1 + 10)
	// Between the backups: a retraction (deletes) and a new version.
	if code, raw, err := api.do("POST", "/api/v1/practices/"+retracted.CID+"/retract", map[string]string{"reason": "Published by mistake"}); err != nil || code != 200 {
		t.Fatalf("retract: %d %s %v", code, raw, err)
	}
	newVersion := api.mustPublish(t, l.word(), oldVersion.CID)
	l.add(newVersion)
	waitAcked(len(l.snapshot()) + 5)
	before := l.snapshot() // acknowledged before the incremental backup started
	t2 := time.Now()
	out2 := mustCLI(t, home, "backup", f2, "--incremental")
	t.Logf("incremental backup during writes in %s: %s", time.Since(t2).Round(time.Millisecond), strings.SplitN(out2, "\n", 2)[0])
	waitAcked(len(before) + 3)
	close(stop)
	writer.Wait()
	all := l.snapshot()
	d.stop(true)

	m1, m2 := opsManifest(t, f1), opsManifest(t, f2)
	if m1.Since != 0 || m2.Since != m1.Until || m2.Until < m2.Since || m1.PeerID != idA || m2.PeerID != idA || m2.Schema != knowledge.SchemaVersion {
		t.Fatalf("manifests do not chain: %+v then %+v", m1, m2)
	}

	restored := filepath.Join(base, "restored")
	mustCLI(t, restored, "restore", f1, f2)
	for _, f := range []string{fileKey, fileConfig, fileToken} {
		a, errA := os.ReadFile(filepath.Join(home, f))
		r, errR := os.ReadFile(filepath.Join(restored, f))
		if errA != nil || errR != nil || !bytes.Equal(a, r) {
			t.Fatalf("restored %s differs from the original (%v, %v)", f, errA, errR)
		}
	}

	// Compare the stores record by record.
	orig := opsRecords(t, Home{Dir: home}.Store())
	rest := opsRecords(t, Home{Dir: restored}.Store())
	for c, raw := range rest {
		if o, ok := orig[c]; !ok || !bytes.Equal(o, raw) {
			t.Fatalf("restored record %s is not the original's (held there: %v)", c, ok)
		}
	}
	for _, a := range before {
		if _, ok := rest[a.CID]; !ok {
			t.Fatalf("record %s, acknowledged before the incremental backup started, is not restored", a.CID)
		}
	}
	late := 0
	for _, a := range all[len(before):] {
		if _, ok := rest[a.CID]; ok {
			late++
		}
	}
	t.Logf("original holds %d records, restore %d; %d acknowledged before the incremental backup, %d of %d later ones restored",
		len(orig), len(rest), len(before), late, len(all)-len(before))
	st, err := knowledge.Open(Home{Dir: restored}.Store(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := cid.Decode(retracted.CID)
	tomb, terr := st.Tomb(rc)
	seq, prev, serr := st.LastOwn()
	maxSeq, maxCID := uint64(0), ""
	recs, lerr := st.List(knowledge.ListOptions{Author: idA, IncludeOld: true})
	for _, r := range recs {
		if r.Record.Seq > maxSeq {
			maxSeq, maxCID = r.Record.Seq, r.CID.String()
		}
	}
	st.Close()
	if terr != nil || tomb.By != idA {
		t.Fatalf("the retraction made between the backups is not restored: %+v %v", tomb, terr)
	}
	if _, ok := rest[retracted.CID]; ok {
		t.Fatalf("the record retracted between the backups is restored")
	}
	if serr != nil || lerr != nil || seq != maxSeq || prev != maxCID {
		t.Fatalf("restored sequence %d %s, newest own record %d %s (%v %v)", seq, prev, maxSeq, maxCID, serr, lerr)
	}

	// The restored node starts with the same identity and serves the records.
	r := opsStart(t, "restored", restored, 0)
	rapi := opsAPIOf(r)
	var id Identity
	if err := rapi.get("/api/v1/id", &id); err != nil || id.PeerID != idA {
		t.Fatalf("restored node is %q (%v), want %s", id.PeerID, err, idA)
	}
	var restoredAcks []opsAck
	for _, a := range all {
		if _, ok := rest[a.CID]; ok {
			restoredAcks = append(restoredAcks, a)
		}
	}
	if err := opsCheckNode(rapi, restoredAcks); err != nil {
		t.Fatalf("restored node: %v", err)
	}
	code, _, _ := rapi.do("GET", "/api/v1/practices/"+retracted.CID, nil)
	if code != http.StatusGone {
		t.Fatalf("restored node answers %d for the retracted practice, want 410", code)
	}
	next := rapi.mustPublish(t, l.word(), "")
	var rec struct {
		Seq  uint64 `json:"seq"`
		Prev string `json:"prev"`
	}
	if err := rapi.get("/api/v1/records/"+next.CID, &rec); err != nil || rec.Seq != maxSeq+1 || rec.Prev != maxCID {
		t.Fatalf("first record after restore has seq %d prev %s (%v), want %d %s", rec.Seq, rec.Prev, err, maxSeq+1, maxCID)
	}
	r.stop(true)

	// Wrong uses of restore are refused, and leave no half-restored home
	// behind that would stand in the way of the right restore.
	wantCLIError(t, cli(t, home, "restore", f1, f2), "empty")
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"incremental only", []string{f2}, "full backup"},
		{"reversed", []string{f2, f1}, "full backup|does not follow"},
		{"incremental twice", []string{f1, f2, f2}, "does not follow"},
	} {
		dir := filepath.Join(base, "refused-"+strings.ReplaceAll(c.name, " ", "-"))
		wantCLIError(t, cli(t, dir, append([]string{"restore"}, c.files...)...), c.want)
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("refused restore (%s) left %v in %s", c.name, names, dir)
		}
	}
}

func opsManifest(t *testing.T, path string) BackupManifest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// opsRecords opens a stopped node's store and returns every record held.
func opsRecords(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	st, err := knowledge.Open(dir, knowledge.Options{})
	if err != nil {
		t.Fatalf("open store %s: %v", dir, err)
	}
	defer st.Close()
	recs, err := st.List(knowledge.ListOptions{IncludeOld: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, r := range recs {
		out[r.CID.String()] = r.Raw
	}
	return out
}

// A backup made by a release whose store is one schema version older
// restores into a store that the current release migrates: its tombstones
// (version 1 keys, x/<cid>) stay in force.
func TestBackupRestoreFromPreviousSchema(t *testing.T) {
	priv := testrec.Key(t)
	id, _ := peer.IDFromPrivateKey(priv)
	seal := func(seq uint64, p protocol.Payload, topics ...string) *protocol.Signed {
		r := protocol.Record{Federation: testFederation, Seq: seq, Created: time.Now().Add(-time.Hour).UnixMilli() + int64(seq), Topics: topics}
		return testrec.Seal(t, r, p, priv)
	}
	practice := func(title string) *protocol.Practice {
		return &protocol.Practice{Version: 1, Title: title, Summary: "Volunteer drivers.", Language: "en", Licence: protocol.DefaultLicence}
	}
	kept := seal(1, practice("Shared rides to the health centre"), "transport")
	gone := seal(2, practice("Village bus timetable"), "transport")
	retr := seal(3, &protocol.Retraction{Target: gone.CID.String(), Reason: "Published by mistake"})

	// The version 1 store, key by key.
	be := func(v uint64) string { return string(binary.BigEndian.AppendUint64(nil, v)) }
	kv := map[string][]byte{"m/schema": binary.BigEndian.AppendUint32(nil, 1), "m/seq": []byte(be(3) + retr.CID.String())}
	for _, r := range []*protocol.Signed{kept, retr} {
		c := string(r.CID.Bytes())
		topic := "transport"
		if r.Record.Kind == protocol.KindRetraction {
			topic = protocol.ControlTopic
		}
		kv["r/"+c] = r.Raw
		kv["t/"+topic+"\x00"+be(uint64(r.Record.Created))+c] = nil
		kv["k/"+string(r.Record.Kind)+"\x00"+be(uint64(r.Record.Created))+c] = nil
		kv["a/"+id.String()+"\x00"+be(r.Record.Seq)] = []byte(c)
	}
	kv["v/"+kept.CID.String()+"\x00"+be(1)] = kept.CID.Bytes()
	tomb, err := protocol.Marshal(map[string]any{"target": gone.CID.String(), "by": id.String(), "retraction": retr.CID.String(),
		"reason": "Published by mistake", "at": retr.Record.Created})
	if err != nil {
		t.Fatal(err)
	}
	kv["x/"+string(gone.CID.Bytes())] = tomb
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "old-store")).WithLogger(nil).WithMemTableSize(16 << 20).WithValueThreshold(1 << 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error {
		for k, v := range kv {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	until, err := db.Backup(&stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The archive as the previous release wrote it.
	cfg := DefaultConfig()
	cfg.Region, cfg.Federation = "North Karelia", FederationConfig{Name: testFederation, Founder: id.String()}
	cb, _ := json.MarshalIndent(cfg, "", "  ")
	keyb, _ := crypto.MarshalPrivateKey(priv)
	mb, _ := json.Marshal(BackupManifest{Format: 1, PeerID: id.String(), Region: cfg.Region, Created: time.Now().UTC(), Until: until, Schema: 1})
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, f := range []struct {
		name string
		b    []byte
	}{{fileConfig, cb}, {fileKey, keyb}, {fileToken, []byte("0123456789abcdef\n")}, {"store.badger", stream.Bytes()}, {"manifest.json", mb}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.b)
	}
	tw.Close()

	home := filepath.Join(dir, "restored")
	if _, err := Restore(home, []io.Reader{&archive}, nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	st, err := knowledge.Open(Home{Dir: home}.Store(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.SchemaOf(); v != knowledge.SchemaVersion {
		t.Fatalf("restored store schema %d", v)
	}
	if !st.Has(kept.CID) {
		t.Fatalf("restored store lacks the kept record")
	}
	ts, err := st.Tombs(gone.CID)
	if err != nil || len(ts) != 1 || ts[0].By != id.String() {
		t.Fatalf("the tombstone from the version 1 backup is not in force after restore: %+v, %v", ts, err)
	}
	if _, err := st.Put(gone); !errors.Is(err, protocol.ErrRetracted) {
		t.Fatalf("the record retracted before the backup is accepted again after restore: %v", err)
	}
}

// A config written by a newer release is refused, naming the version.
func TestOpsConfigTooNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	body := []byte(`{"version": 99, "region": "North Karelia", "some_future_setting": {"x": 1}}`)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if !errors.Is(err, ErrConfigTooNew) {
		t.Fatalf("LoadConfig(version 99) = %v, want ErrConfigTooNew", err)
	}
	for _, w := range []string{"version 99", fmt.Sprintf("up to %d", ConfigVersion), "newer livinglab"} {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, body) {
		t.Fatalf("the refused config was rewritten: %s", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("refusing the config left files behind: %v", entries)
	}
	// The next version up is refused the same way.
	os.WriteFile(path, []byte(fmt.Sprintf(`{"version": %d, "region": "X"}`, ConfigVersion+1)), 0o600)
	if _, err := LoadConfig(path); !errors.Is(err, ErrConfigTooNew) {
		t.Fatalf("LoadConfig(version %d) = %v, want ErrConfigTooNew", ConfigVersion+1, err)
	}
}

// Unknown fields, a missing version and bad values give errors that say
// what is wrong; the current version loads without being rewritten.
func TestOpsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	cases := []struct{ name, body, want string }{
		{"unknown top-level field", `{"version": 1, "region": "X", "frobnicate": true}`, `unknown field "frobnicate"`},
		{"unknown nested field", `{"version": 1, "region": "X", "store": {"memtable": 64}}`, `unknown field "memtable"`},
		{"no version", `{"region": "X"}`, "no valid version"},
		{"version as text", `{"version": "1", "region": "X"}`, "no valid version"},
		{"not JSON", `{"version": 1,`, "not valid JSON"},
		{"bad duration", `{"version": 1, "region": "X", "sync": {"interval": "soon"}}`, "soon"},
		{"empty region", `{"version": 1, "region": " "}`, "region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(path, []byte(c.body), 0o600)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("loaded %s", c.body)
			}
			if errors.Is(err, ErrConfigTooNew) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q should say %q", err, c.want)
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Region = "North Karelia"
	if err := SaveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	got, err := LoadConfig(path)
	if err != nil || got.Region != "North Karelia" || got.Version != ConfigVersion {
		t.Fatalf("current config: %+v, %v", got, err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatalf("loading a current config rewrote it")
	}
	if _, err := os.Stat(fmt.Sprintf("%s.v%d", path, ConfigVersion)); !os.IsNotExist(err) {
		t.Fatalf("loading a current config kept a copy of it: %v", err)
	}
}

// `livinglab run` on a home whose config or store is newer than the
// release exits non-zero with a clear message and leaves the home alone.
func TestOpsRunRefusesNewerHome(t *testing.T) {
	livinglabBin(t)
	base := t.TempDir()
	run := func(home string) testkit.Result {
		return cli(t, "", "run", "--home", home, "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0")
	}

	t.Run("config version", func(t *testing.T) {
		home := filepath.Join(base, "config")
		mustCLI(t, "", "init", "--home", home, "--region", "North Karelia")
		path := Home{Dir: home}.Config()
		var raw map[string]any
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &raw)
		raw["version"] = 99
		b, _ = json.Marshal(raw)
		os.WriteFile(path, b, 0o600)
		r := run(home)
		wantCLIError(t, r, "newer")
		if !strings.Contains(r.Stderr, "version 99") {
			t.Fatalf("the error does not name the config's version: %s", r)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
			t.Fatalf("the refused config was rewritten")
		}
		if _, err := os.Stat(Home{Dir: home}.APIAddr()); !os.IsNotExist(err) {
			t.Fatalf("a refused run left an api.addr behind")
		}
	})

	t.Run("config unknown field", func(t *testing.T) {
		home := filepath.Join(base, "unknown")
		mustCLI(t, "", "init", "--home", home, "--region", "North Karelia")
		path := Home{Dir: home}.Config()
		b, _ := os.ReadFile(path)
		b = bytes.Replace(b, []byte(`"region":`), []byte(`"regoin": "typo", "region":`), 1)
		os.WriteFile(path, b, 0o600)
		wantCLIError(t, run(home), `unknown field "regoin"`)
	})

	t.Run("store schema", func(t *testing.T) {
		home := filepath.Join(base, "store")
		mustCLI(t, "", "init", "--home", home, "--region", "North Karelia")
		db, err := badger.Open(badger.DefaultOptions(Home{Dir: home}.Store()).WithLogger(nil).WithMemTableSize(16 << 20).WithValueThreshold(1 << 10))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(txn *badger.Txn) error {
			return txn.Set([]byte("m/schema"), binary.BigEndian.AppendUint32(nil, 99))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		r := run(home)
		wantCLIError(t, r, "newer")
		if !strings.Contains(r.Stderr, "99") {
			t.Fatalf("the error does not name the store's version: %s", r)
		}
		// The release's own commands that open the store refuse it too.
		wantCLIError(t, cli(t, home, "reindex"), "newer")
	})
}
