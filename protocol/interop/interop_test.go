// SPDX-License-Identifier: EUPL-1.2

// Package interop checks the protocol against a second, independent
// implementation written in JavaScript from npm's libp2p and IPLD
// libraries (see README.md): a member that joins a federation of real
// livinglab processes, and a verifier of records, raw blocks and bundles.
package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/protocol"
)

// requireJS skips the test when Node.js or the installed npm packages are
// missing on a developer's machine; in CI (CI=true) .ci/run installs them,
// and their absence is a failure.
func requireJS(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Node.js and livinglab processes")
	}
	miss := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; .ci/run installs it (npm ci in protocol/interop)", what)
		}
		t.Skipf("%s: install Node.js 20 or later and run `npm ci` in protocol/interop", what)
	}
	if _, err := exec.LookPath("node"); err != nil {
		miss("Node.js is not installed")
	}
	for _, dep := range []string{"libp2p", "@libp2p/gossipsub", "@ipld/dag-cbor", "@ipld/car"} {
		if _, err := os.Stat(filepath.Join("node_modules", dep, "package.json")); err != nil {
			miss("the npm packages are not installed (" + dep + ")")
		}
	}
}

func TestMain(m *testing.M) { testkit.Main(m) }

// TestJSMember admits a js-libp2p member into a federation of two livinglab
// processes. It follows a topic on which both publish; it publishes a
// record it built and signed itself, which both store; and it runs the
// sync protocol against a Go node, fetching what it lacks and pushing what
// the node lacks.
func TestJSMember(t *testing.T) {
	requireJS(t)
	const topic = "elderly-care"
	const perNode = 10
	a := newGoNode(t, "a", "North Karelia", "--federation", "interop")
	b := newGoNode(t, "b", "Region B")
	b.cli(t, "join", a.invite(t))
	for _, g := range []*goNode{a, b} {
		g.cli(t, "topics", "subscribe", topic)
	}
	aID, bID := a.peerID(t), b.peerID(t)

	js := startJS(t, fmt.Sprintf("--gossip-version=%d", protocol.GossipVersion),
		fmt.Sprintf("--record-version=%d", protocol.RecordVersion))
	var joined struct {
		Federation string   `json:"federation"`
		Members    []string `json:"members"`
	}
	js.mustCall(t, &joined, 60*time.Second, "join", map[string]any{"token": a.invite(t), "region": "Interop Region", "country": "DE"})
	if joined.Federation != "interop" || !slices.Contains(joined.Members, aID) || !slices.Contains(joined.Members, js.peer) {
		t.Fatalf("joined %+v, want federation interop with a and the JS member", joined)
	}
	// b learns of the admission by gossip and then connects.
	js.mustCall(t, nil, 10*time.Second, "follow", map[string]any{"topic": topic})
	js.mustCall(t, nil, 60*time.Second, "mesh", map[string]any{"topic": topic, "peers": []string{aID, bID}})

	var goCIDs, jsCIDs []string
	for i := range perNode {
		goCIDs = append(goCIDs, a.publish(t, topic, fmt.Sprintf("Practice %d from a", i)))
		goCIDs = append(goCIDs, b.publish(t, topic, fmt.Sprintf("Practice %d from b", i)))
	}

	t.Run("publishes records Go nodes store", func(t *testing.T) {
		// One record in each version this release reads: the version it
		// writes today, then the latest.
		versions := []int{protocol.RecordVersion}
		if protocol.LatestRecordVersion != protocol.RecordVersion {
			versions = append(versions, protocol.LatestRecordVersion)
		}
		for _, v := range versions {
			title := fmt.Sprintf("Kitchen-table meetings, record version %d", v)
			var pub struct {
				CID        string `json:"cid"`
				Recipients int    `json:"recipients"`
			}
			js.mustCall(t, &pub, 30*time.Second, "publish", map[string]any{"topic": topic, "title": title, "version": v})
			if pub.Recipients == 0 {
				t.Fatalf("published to no peer")
			}
			a.waitHolds(t, pub.CID)
			b.waitHolds(t, pub.CID)
			var shown struct {
				Title string `json:"title"`
			}
			if err := json.Unmarshal([]byte(a.cli(t, "practice", "show", pub.CID, "--json")), &shown); err != nil || shown.Title != title {
				t.Fatalf("a shows %+v (%v)", shown, err)
			}
			jsCIDs = append(jsCIDs, pub.CID)
		}
	})

	t.Run("receives every practice published live", func(t *testing.T) {
		var got struct {
			CIDs          []string         `json:"cids"`
			Refused       []map[string]any `json:"refused"`
			GossipRefused map[string]int   `json:"gossipRefused"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			js.mustCall(t, &got, 10*time.Second, "received", map[string]any{"topic": topic})
			refused := len(got.Refused)
			for _, n := range got.GossipRefused {
				refused += n
			}
			// Every practice arrives from a and from b: once as many
			// copies were refused as there are practices, none is coming.
			if len(got.CIDs) >= len(goCIDs) || refused >= 2*len(goCIDs) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if protocol.GossipVersion < 3 && len(got.CIDs) == 0 && got.GossipRefused["seqno_present"] > 0 {
			t.Skipf("gossip version %d puts a sender and sequence number on every message, which a StrictNoSign "+
				"peer refuses (%v); the JS member receives live gossip from gossip version 3 on", protocol.GossipVersion, got.GossipRefused)
		}
		for _, c := range goCIDs {
			if !slices.Contains(got.CIDs, c) {
				t.Errorf("JS member did not receive %s", c)
			}
		}
		if len(got.Refused) > 0 || len(got.GossipRefused) > 0 {
			t.Errorf("JS member refused records: %v %v", got.Refused, got.GossipRefused)
		}
		t.Logf("received %d of %d practices live", len(got.CIDs), len(goCIDs))
	})

	t.Run("sync exchange with a Go node", func(t *testing.T) {
		// The member forgets some of what it holds, so the session has to
		// fetch them; and it holds one record that was never gossiped, so
		// the session has to push it.
		var held struct {
			CIDs []string `json:"cids"`
		}
		js.mustCall(t, &held, 10*time.Second, "received", map[string]any{"topic": topic})
		forget := []string{}
		for i, c := range held.CIDs {
			if i%3 == 0 {
				forget = append(forget, c)
			}
		}
		var quiet struct {
			CID string `json:"cid"`
		}
		js.mustCall(t, &quiet, 30*time.Second, "publish", map[string]any{"topic": topic, "title": "A practice that travels by sync", "gossip": false})
		if a.holds(t)[quiet.CID] {
			t.Fatalf("a holds %s before the sync", quiet.CID)
		}
		var res syncAnswer
		js.mustCall(t, &res, 60*time.Second, "sync", map[string]any{"peer": aID, "topic": topic, "forget": forget})
		lacked := map[string]bool{}
		for _, c := range goCIDs {
			if !slices.Contains(held.CIDs, c) || slices.Contains(forget, c) {
				lacked[c] = true
			}
		}
		if len(res.Got) != len(lacked) {
			t.Errorf("sync fetched %d records, the member lacked %d", len(res.Got), len(lacked))
		}
		for _, c := range res.Got {
			if !lacked[c] {
				t.Errorf("sync fetched %s, which the member held", c)
			}
		}
		// a may have fetched the record first, in a session it opened
		// itself (every member runs sync with the others periodically).
		var st struct {
			Served []servedSession `json:"served"`
		}
		js.mustCall(t, &st, 10*time.Second, "received", map[string]any{"topic": topic})
		fetched := slices.ContainsFunc(st.Served, func(s servedSession) bool { return s.Peer == aID && slices.Contains(s.Sent, quiet.CID) })
		if !slices.Equal(res.Pushed, []string{quiet.CID}) && !(len(res.Pushed) == 0 && fetched) {
			t.Errorf("sync pushed %v, want %s", res.Pushed, quiet.CID)
		}
		a.waitHolds(t, quiet.CID)
		t.Logf("first session: %d rounds, fetched %d, pushed %d, %d bytes out, %d in", res.Rounds, len(res.Got), len(res.Pushed), res.BytesOut, res.BytesIn)

		// Now both sides hold the same set: one round settles it.
		var again syncAnswer
		js.mustCall(t, &again, 60*time.Second, "sync", map[string]any{"peer": aID, "topic": topic})
		if again.Need != 0 || again.Have != 0 || again.Rounds != 1 {
			t.Errorf("second session: %+v, want nothing to exchange after one round", again)
		}
		if want := len(goCIDs) + len(jsCIDs) + 1; again.Items != want {
			t.Errorf("second session reconciled %d items, want %d", again.Items, want)
		}

		// The Go nodes run sync with every member, this one included, on
		// connection and periodically: sessions it served.
		deadline := time.Now().Add(90 * time.Second)
		for {
			js.mustCall(t, &st, 10*time.Second, "received", map[string]any{"topic": topic})
			ok := slices.ContainsFunc(st.Served, func(s servedSession) bool { return s.Topic == topic && s.Rounds > 0 && s.Error == "" })
			if ok || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		peers := map[string]int{}
		for _, s := range st.Served {
			if s.Error != "" {
				t.Errorf("a sync session %s opened on %q failed on the JS side: %s", s.Peer, s.Topic, s.Error)
			}
			if s.Topic == topic && s.Rounds > 0 {
				peers[s.Peer]++
			}
		}
		if len(peers) == 0 {
			t.Errorf("no Go node reconciled %s with the JS member (sessions: %+v)", topic, st.Served)
		}
		t.Logf("sessions served to Go nodes: %d (on %s, by peer: %v)", len(st.Served), topic, peers)
	})

	t.Run("Go nodes refuse what the protocol forbids", func(t *testing.T) {
		// Each probe breaks one rule of PROTOCOL.md; they are pushed by sync
		// with one valid record, and the node acknowledges the push after
		// checking every record.
		probes := []string{"v2-null-list", "v2-missing-payload-key", "v2-unknown-payload-key", "v2-unknown-body-key",
			"v2-float-stage", "v2-prev-on-first", "v2-no-prev-after-first", "v2-chain-seq-above-seq", "v2-chain-missing-topic",
			"v2-duplicate-topic", "v2-control-topic", "v2-link-not-a-record", "v2-first-version-with-link", "v2-unknown-version",
			"v2-future", "v2-bad-language", "v2-control-character", "v2-other-federation", "v2-bad-signature", "v2-v1-domain",
			"v1-with-link", "v1-adapted-from"}
		var res struct {
			Control string `json:"control"`
			Probes  []struct {
				Name  string `json:"name"`
				CID   string `json:"cid"`
				Local string `json:"local"`
			} `json:"probes"`
		}
		js.mustCall(t, &res, 60*time.Second, "push", map[string]any{"peer": aID, "topic": topic, "names": probes})
		held := a.holds(t)
		if !held[res.Control] {
			t.Errorf("a did not store the valid record pushed with the probes")
		}
		for _, p := range res.Probes {
			if held[p.CID] {
				t.Errorf("%s: a stored a record the protocol forbids (the JavaScript checks say: %s)", p.Name, p.Local)
			}
			if p.Local == "accepted" {
				t.Errorf("%s: the JavaScript checks accept it", p.Name)
			}
		}
		if len(res.Probes) != len(probes) {
			t.Errorf("%d probes built, want %d", len(res.Probes), len(probes))
		}
		jsCIDs = append(jsCIDs, res.Control)
	})

	t.Run("raw records and a bundle verify", func(t *testing.T) {
		// A tombstone, so that the bundle carries one.
		a.cli(t, "practice", "retract", goCIDs[0], "--reason", "Published twice.")
		held := a.holds(t)
		if held[goCIDs[0]] {
			t.Fatalf("a still lists %s after retracting it", goCIDs[0])
		}
		var cids []string
		for c := range held {
			cids = append(cids, c)
		}
		slices.Sort(cids)
		base, token := a.api(t)
		var raw struct {
			OK      bool `json:"ok"`
			Records []struct {
				CID     string `json:"cid"`
				OK      bool   `json:"ok"`
				Version int    `json:"version"`
				Error   string `json:"error"`
			} `json:"records"`
		}
		verifyJS(t, &raw, append([]string{"http", base, token}, cids...)...)
		versions := map[int]int{}
		for _, r := range raw.Records {
			if !r.OK {
				t.Errorf("raw record %s: %s", r.CID, r.Error)
			}
			versions[r.Version]++
		}
		if len(raw.Records) != len(cids) || !raw.OK {
			t.Errorf("verified %d raw records of %d", len(raw.Records), len(cids))
		}
		t.Logf("raw records verified: %d (by record version: %v)", len(raw.Records), versions)

		car := filepath.Join(t.TempDir(), "bundle.car")
		a.cli(t, "bundle", "export", "--topic", topic, "--out", car)
		var bundle struct {
			OK         bool   `json:"ok"`
			Error      string `json:"error"`
			Federation string `json:"federation"`
			Blocks     int    `json:"blocks"`
			Records    []struct {
				CID     string              `json:"cid"`
				Kind    string              `json:"kind"`
				Version int                 `json:"version"`
				Links   []map[string]string `json:"links"`
			} `json:"records"`
			Unresolved []map[string]string `json:"unresolved"`
			Unsigned   []string            `json:"unsigned"`
			Unadmitted []string            `json:"unadmitted"`
		}
		verifyJS(t, &bundle, "car", car)
		if !bundle.OK || bundle.Federation != "interop" {
			t.Fatalf("bundle: %+v", bundle)
		}
		kinds := map[string]int{}
		inBundle := map[string]bool{}
		for _, r := range bundle.Records {
			kinds[r.Kind]++
			inBundle[r.CID] = true
		}
		for _, c := range cids {
			if !inBundle[c] {
				t.Errorf("the bundle lacks %s", c)
			}
		}
		if kinds["membership"] < 3 || kinds["retraction"] != 1 {
			t.Errorf("bundle holds %v, want the three members' admissions and the tombstone", kinds)
		}
		if len(bundle.Unresolved) > 0 {
			t.Errorf("links that do not resolve inside the bundle: %v", bundle.Unresolved)
		}
		t.Logf("bundle: %d blocks, records by kind %v", bundle.Blocks, kinds)

		// One flipped byte anywhere in a block and the bundle is refused.
		b, err := os.ReadFile(car)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-40] ^= 0x01
		if err := os.WriteFile(car, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var tampered struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if verifyJS(t, &tampered, "car", car) || tampered.OK {
			t.Errorf("a tampered bundle verified: %+v", tampered)
		} else {
			t.Logf("tampered bundle refused: %s", tampered.Error)
		}
	})
}

// verifyJS runs verify.mjs with args and decodes its answer into v; it
// returns whether it exited 0.
func verifyJS(t *testing.T, v any, args ...string) bool {
	t.Helper()
	cmd := exec.Command("node", append([]string{"verify.mjs"}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if jerr := json.Unmarshal(out, v); jerr != nil {
		t.Fatalf("verify.mjs %s printed %q (%v): %v %s", args[0], out, jerr, err, errb.String())
	}
	return err == nil
}

// TestVectorsJS checks the protocol's test vectors with the JavaScript
// implementation: addresses, keys, signatures, canonical encoding, the
// decoded fields, and that every invalid vector is refused for its reason.
func TestVectorsJS(t *testing.T) {
	requireJS(t)
	files, err := filepath.Glob("../testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors in protocol/testdata/vectors (%v)", err)
	}
	out, _ := exec.Command("node", "verify.mjs", "vectors", "../testdata/vectors").Output()
	type checked struct {
		Name   string   `json:"name"`
		Valid  bool     `json:"valid"`
		Result string   `json:"result"`
		Errors []string `json:"errors"`
	}
	var res struct {
		OK      bool      `json:"ok"`
		Error   string    `json:"error"`
		Vectors []checked `json:"vectors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("verify.mjs printed %q: %v", out, err)
	}
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if len(res.Vectors) != len(files) {
		t.Errorf("checked %d vectors, the directory holds %d", len(res.Vectors), len(files))
	}
	for _, f := range files {
		var vec struct {
			Name  string `json:"name"`
			Valid bool   `json:"valid"`
			Error string `json:"error"`
		}
		b, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(b, &vec) != nil {
			t.Fatalf("%s: %v", f, err)
		}
		i := slices.IndexFunc(res.Vectors, func(v checked) bool { return v.Name == vec.Name })
		if i < 0 {
			t.Errorf("%s: not checked", vec.Name)
			continue
		}
		got := res.Vectors[i]
		for _, e := range got.Errors {
			t.Errorf("%s: %s", vec.Name, e)
		}
		if !vec.Valid {
			// The JavaScript side's reason names the same rule.
			for _, word := range []string{"signature", "canonical", "Ed25519", "null", "link", "unknown record version"} {
				if strings.Contains(vec.Error, word) && !strings.Contains(got.Result, word) {
					t.Errorf("%s: refused with %q, the vector's reason is %q", vec.Name, got.Result, vec.Error)
				}
			}
		}
	}
}

// TestNPMLicences keeps the npm packages the tests install to licences
// compatible with the project's (package-lock.json records each one's).
func TestNPMLicences(t *testing.T) {
	b, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			License string `json:"license"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	allowed := []string{"MIT", "Apache-2.0", "Apache-2.0 OR MIT", "MIT OR Apache-2.0", "ISC", "BSD-2-Clause", "BSD-3-Clause", "0BSD"}
	for name, p := range lock.Packages {
		if name == "" {
			continue
		}
		if !slices.Contains(allowed, p.License) {
			t.Errorf("%s: licence %q is not one of %v", name, p.License, allowed)
		}
	}
	if len(lock.Packages) < 10 {
		t.Errorf("package-lock.json lists %d packages; is it complete?", len(lock.Packages))
	}
}
