// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// previousRelease is the last commit of the release before record format
// 2 and gossip version 3: the nodes a federation upgrades from.
const previousRelease = "4ab3b8a"

// buildPrevious builds the previous release's livinglab from the
// repository's history.
func buildPrevious(t *testing.T) string {
	t.Helper()
	if err := exec.Command("git", "-C", "..", "rev-parse", "--verify", "--quiet", previousRelease+"^{commit}").Run(); err != nil {
		t.Skipf("the repository's history does not hold the previous release %s (a shallow clone?): %v", previousRelease, err)
	}
	dir := t.TempDir()
	arch := exec.Command("sh", "-c", fmt.Sprintf("git -C .. archive %s | tar -x -C %q", previousRelease, dir))
	if out, err := arch.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", previousRelease, err, out)
	}
	path := filepath.Join(dir, "livinglab-previous")
	build := exec.Command("go", "build", "-o", path, "./cmd/livinglab")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the previous release: %v\n%s", err, out)
	}
	return path
}

// changeRawConfig edits a home's config file as JSON, leaving every key
// the edit does not touch, and the version, as they are.
func changeRawConfig(t *testing.T, h Home, change func(raw map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	change(raw)
	if b, err = json.MarshalIndent(raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Config(), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// section is the object under key in raw, made if missing.
func section(raw map[string]any, key string) map[string]any {
	m, ok := raw[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		raw[key] = m
	}
	return m
}

// runWith runs a livinglab binary's command against home.
func runWith(t *testing.T, bin, home string, args ...string) string {
	t.Helper()
	return testkit.MustRun(t, bin, append(args, "--home", home)...)
}

// startWith starts the daemon bin on home, listening on port, and waits
// until it is ready.
func startWith(t *testing.T, bin, name, home string, port int, bootstrap ...string) *daemon {
	t.Helper()
	args := []string{"run", "--home", home, "--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port), "--api", "127.0.0.1:0"}
	for _, b := range bootstrap {
		args = append(args, "--bootstrap", b)
	}
	return &daemon{Daemon: testkit.StartDaemon(t, name, testkit.ReadyWait, bin, args...), t: t, home: home}
}

// A federation of three nodes of the previous release is upgraded, first
// one node, then the other two, with real processes. After every step each node
// publishes a practice and every node receives every practice by gossip
// (periodic sync is off): old nodes get the new nodes' records on the old
// gossip topics as records they verify, new nodes take the old nodes'
// messages. Once all three run this release they sign version 2 records,
// which every node verifies, and leave the old topics.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	start := time.Now()
	newBin := livinglabBin(t)
	oldBin := buildPrevious(t)
	t.Logf("built both releases (%s)", time.Since(start).Round(time.Second))
	start = time.Now()
	base := t.TempDir()
	names := []string{"a", "b", "c"}
	home := map[string]string{}
	port := map[string]int{}
	for _, n := range names {
		home[n] = filepath.Join(base, n)
		port[n] = freePort(t)
		args := []string{"init", "--region", "Region " + n, "--country", "FI"}
		if n == "a" {
			args = append(args, "--federation", testFederation)
		}
		runWith(t, oldBin, home[n], args...)
		// The file stays the previous release's: it refuses keys it does
		// not know and versions newer than its own.
		changeRawConfig(t, Home{Dir: home[n]}, func(raw map[string]any) {
			// No periodic sync: what arrives after the nodes connected came
			// by gossip.
			section(raw, "sync")["interval"] = "1h"
			limits := section(raw, "limits")
			limits["publish_per_min"], limits["publish_burst"] = 100000, 100000
			raw["discovery"] = map[string]any{"mdns": false, "dht": false}
			raw["nat"] = map[string]any{"port_mapping": false, "hole_punching": false}
		})
	}
	d := map[string]*daemon{}
	for _, n := range names {
		d[n] = startWith(t, oldBin, n+" (previous release)", home[n], port[n])
	}
	for _, n := range []string{"b", "c"} {
		joinVia(t, oldBin, home["a"], home[n])
	}
	for _, n := range names {
		runWith(t, oldBin, home[n], "topics", "subscribe", catchupTopic)
	}

	var published []string
	round := 0
	// deliver waits until every node sees both others on the topic, has
	// each node publish one practice, and waits until every node lists
	// every practice published so far.
	deliver := func(stage string) {
		t.Helper()
		pollEvery(t, 30*time.Second, 100*time.Millisecond, stage+": every node sees the others on the topic", func() error {
			for _, n := range names {
				var st Status
				if _, err := apiCall(t, d[n], "GET", "/api/v1/status", nil, &st); err != nil {
					return err
				}
				i := slices.IndexFunc(st.Topics, func(ts TopicStatus) bool { return ts.Topic == catchupTopic })
				if i < 0 || st.Topics[i].MeshPeers < 2 {
					return fmt.Errorf("%s: %+v", n, st.Topics)
				}
			}
			return nil
		})
		round++
		for _, n := range names {
			var out Published
			if _, err := apiCall(t, d[n], "POST", "/api/v1/practices",
				practiceFile(fmt.Sprintf("Practice %d of region %s on night-time care", round, n), catchupTopic), &out); err != nil || out.CID == "" {
				t.Fatalf("%s: publish on %s: %v", stage, n, err)
			}
			published = append(published, out.CID)
		}
		pollEvery(t, 30*time.Second, 100*time.Millisecond, stage+": every node holds every practice", func() error {
			for _, n := range names {
				got, err := apiTopicCIDs(t, d[n], catchupTopic)
				if err != nil {
					return err
				}
				for _, c := range published {
					if !slices.Contains(got, c) {
						return fmt.Errorf("%s lacks %s (holds %d of %d)", n, c, len(got), len(published))
					}
				}
			}
			return nil
		})
	}
	deliver("previous release only")
	t.Logf("three nodes of the previous release deliver (%s)", time.Since(start).Round(time.Second))
	// c first: one node of this release among two of the previous one
	// (the founder among them); then the other two.
	d["c"].stop(true)
	d["c"] = startWith(t, newBin, "c (this release)", home["c"], port["c"])
	deliver("c upgraded")
	mixedUntil := len(published)
	t.Logf("one node of this release and two of the previous one deliver (%s)", time.Since(start).Round(time.Second))
	for _, n := range []string{"a", "b"} {
		d[n].stop(true)
		d[n] = startWith(t, newBin, n+" (this release)", home[n], port[n])
	}
	deliver("all upgraded")
	// Every node now runs this release; once each has seen the others
	// announce it, they sign version 2 and leave the old topics.
	pollEvery(t, 30*time.Second, 200*time.Millisecond, "every node leaves the previous gossip version", func() error {
		for _, n := range names {
			if !strings.Contains(d[n].Errs.String(), "leaving the previous version's topic") {
				return fmt.Errorf("%s still on the previous gossip version", n)
			}
		}
		return nil
	})
	upgradedFrom := len(published)
	deliver("version 2 records")
	t.Logf("three nodes of this release deliver version 2 records (%s)", time.Since(start).Round(time.Second))
	for _, n := range names {
		d[n].stop(true)
	}
	for _, n := range names {
		st, err := knowledge.Open(Home{Dir: home[n]}.Store(), knowledge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range published {
			c, _ := cid.Decode(s)
			rec, err := st.Get(c)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if _, err := protocol.Open(rec.Raw, time.Now()); err != nil {
				t.Fatalf("%s holds %s, which does not verify: %v", n, s, err)
			}
			if (i < mixedUntil && rec.Record.Version != protocol.RecordVersion) || (i >= upgradedFrom && rec.Record.Version != protocol.RecordV2) {
				t.Errorf("%s: practice %d is record version %d (published while the previous release ran: %v)", n, i, rec.Record.Version, i < mixedUntil)
			}
		}
		st.Close()
	}
}
