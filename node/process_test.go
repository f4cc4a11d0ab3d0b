// SPDX-License-Identifier: EUPL-1.2

// Long file: TestProcesses drives real daemons through the CLI end to end, one subtest per command
// group, over the shared helpers (startDaemon, cli, mustCLI) that the other process tests use too.

package node

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/protocol"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// livinglabBin builds the command once per test binary.
func livinglabBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the livinglab binary")
	}
	return testkit.Livinglab(t)
}

// daemon is a `livinglab run` process on a home.
type daemon struct {
	*testkit.Daemon
	t    *testing.T
	home string
}

// startDaemon runs `livinglab run` on home, on any free port, and waits
// until it prints ready.
func startDaemon(t *testing.T, name, home string) *daemon {
	t.Helper()
	return opsStart(t, name, home, 0)
}

// stop sends SIGTERM and waits; after 15 s it kills. With check set, it
// fails the test unless the daemon stopped cleanly.
func (d *daemon) stop(check bool) {
	d.t.Helper()
	select {
	case <-d.Done():
		return
	default:
	}
	if !d.Stop() {
		if check {
			d.t.Fatalf("daemon %s ignored SIGTERM for 15 s", d.Name)
		}
		return
	}
	if check {
		if err := d.Err(); err != nil {
			d.t.Fatalf("daemon %s exited with %v after SIGTERM: %s", d.Name, err, testkit.Tail(d.Errs.String(), 10))
		}
		if !strings.Contains(d.Out.String(), "stopped cleanly") {
			d.t.Fatalf("daemon %s did not print \"stopped cleanly\": %s", d.Name, d.Out.String())
		}
	}
}

// apiBase returns the daemon's API address and token, from its home.
func (d *daemon) apiBase() (string, string) {
	d.t.Helper()
	b, err := os.ReadFile(Home{Dir: d.home}.APIAddr())
	if err != nil {
		d.t.Fatal(err)
	}
	tok, err := Home{Dir: d.home}.LoadToken()
	if err != nil {
		d.t.Fatal(err)
	}
	return "http://" + strings.TrimSpace(string(b)), tok
}

// processHomes builds the command (skipping the test in short mode) and
// returns where the test's nodes keep their homes: home(name) is a
// directory in a temporary one.
func processHomes(t *testing.T) func(name string) string {
	t.Helper()
	livinglabBin(t)
	base := t.TempDir()
	return func(n string) string { return filepath.Join(base, n) }
}

// cli runs the command with args against home ("" for none).
func cli(t *testing.T, home string, args ...string) testkit.Result {
	t.Helper()
	if home != "" {
		args = append(args, "--home", home)
	}
	return testkit.Run(t, livinglabBin(t), args...)
}

// mustCLI runs the command and fails the test unless it succeeds.
func mustCLI(t *testing.T, home string, args ...string) string {
	t.Helper()
	r := cli(t, home, args...)
	if r.Code != 0 {
		t.Fatalf("livinglab %v: %s", args, r)
	}
	return r.Stdout
}

// wantCLIError checks a failed command: non-zero exit, an "Error:" line,
// no crash, and a message with one of the |-separated phrases in contains.
func wantCLIError(t *testing.T, r testkit.Result, contains string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("succeeded, want an error: %s", r)
	}
	if !strings.HasPrefix(r.Stderr, "Error: ") || len(strings.TrimSpace(strings.TrimPrefix(r.Stderr, "Error: "))) == 0 {
		t.Fatalf("stderr does not start with a message after \"Error: \": %s", r)
	}
	all := r.Stdout + r.Stderr
	if strings.Contains(all, "panic") || strings.Contains(all, "goroutine ") {
		t.Fatalf("crashed: %s", r)
	}
	if contains == "" {
		return
	}
	for _, alt := range strings.Split(contains, "|") {
		if strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(alt)) {
			return
		}
	}
	t.Fatalf("error should mention %q: %s", contains, r)
}

var cidRE = regexp.MustCompile(`baf[a-z2-7]{20,}`)

func peerIDOfHome(t *testing.T, home string) string {
	t.Helper()
	var id Identity
	if err := json.Unmarshal([]byte(mustCLI(t, home, "id", "--json")), &id); err != nil {
		t.Fatal(err)
	}
	return id.PeerID
}

func memberIDs(t *testing.T, home string) []string {
	t.Helper()
	var ms []Member
	if err := json.Unmarshal([]byte(mustCLI(t, home, "members", "--json")), &ms); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.PeerID)
	}
	return out
}

func listedCIDs(t *testing.T, home string) []string {
	t.Helper()
	var vs []PracticeView
	if err := json.Unmarshal([]byte(mustCLI(t, home, "practices", "list", "--json")), &vs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.CID)
	}
	return out
}

func writeJSONFile(t *testing.T, dir, name string, v any) string {
	t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func practiceFile(title, topic string) map[string]any {
	text := "Volunteers and nurses co-designed the service with residents."
	return map[string]any{"title": title, "summary": text, "problem": text, "approach": text,
		"results": "Fewer emergency visits.", "lessons": []string{"Start with the residents' own routines."},
		"topics": []string{topic}, "language": "en"}
}

// forgeInvite makes a well-formed token naming inviter (with its listen
// addresses) that no node ever issued.
func forgeInvite(t *testing.T, founder, inviter string, addrs []string, expires time.Time) string {
	t.Helper()
	secret := make([]byte, 16)
	rand.Read(secret)
	inv := &protocol.Invite{V: 1, Federation: testFederation, Founder: founder, Inviter: inviter, Secret: secret,
		Expires: expires.Unix()}
	for _, a := range addrs {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			t.Fatal(err)
		}
		if tr, _ := peer.SplitAddr(m); tr != nil {
			m = tr
		}
		inv.Addrs = append(inv.Addrs, m.String())
	}
	tok, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Three real processes: invites, topics, publishing, refusal of outsiders,
// bad input, the HTTP API's errors, clean shutdown and restart.
func TestProcesses(t *testing.T) {
	home := processHomes(t)
	mustCLI(t, "", "init", "--home", home("a"), "--region", "North Karelia", "--country", "FI", "--federation", testFederation)
	for _, n := range []string{"b", "c", "o"} {
		mustCLI(t, "", "init", "--home", home(n), "--region", "Region "+n, "--country", "SE")
	}
	a := startDaemon(t, "a", home("a"))
	b := startDaemon(t, "b", home("b"))
	c := startDaemon(t, "c", home("c"))
	o := startDaemon(t, "o", home("o")) // an outsider, never invited

	tokens := map[string]string{}
	for _, n := range []string{"b", "c"} {
		out := mustCLI(t, home("a"), "invite")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		tokens[n] = strings.TrimSpace(lines[len(lines)-1])
		if !strings.HasPrefix(tokens[n], protocol.InvitePrefix) {
			t.Fatalf("invite printed no token: %s", out)
		}
		if out := mustCLI(t, home(n), "join", tokens[n]); !strings.Contains(out, testFederation) {
			t.Fatalf("join output: %s", out)
		}
	}
	mustCLI(t, home("b"), "topics", "subscribe", "elderly-care")
	mustCLI(t, home("c"), "topics", "subscribe", "transport")
	idA, idB, idC, idO := peerIDOfHome(t, home("a")), peerIDOfHome(t, home("b")), peerIDOfHome(t, home("c")), peerIDOfHome(t, home("o"))
	eventually(t, 20*time.Second, "every member lists every member", func() error {
		for _, n := range []string{"a", "b", "c"} {
			ids := memberIDs(t, home(n))
			for _, id := range []string{idA, idB, idC} {
				if !slices.Contains(ids, id) {
					return fmt.Errorf("%s does not list %s", n, id)
				}
			}
		}
		return nil
	})

	pfile := writeJSONFile(t, t.TempDir(), "practice.json", practiceFile("Night-time telecare with village volunteers", "elderly-care"))
	out := mustCLI(t, home("a"), "practice", "publish", "--file", pfile)
	practice := cidRE.FindString(out)
	if practice == "" {
		t.Fatalf("publish printed no CID: %s", out)
	}
	dt := eventually(t, 15*time.Second, "b lists the practice", func() error {
		if !slices.Contains(listedCIDs(t, home("b")), practice) {
			return errors.New("not listed")
		}
		return nil
	})
	t.Logf("practice reached b in %s", dt.Round(time.Millisecond))
	var view PracticeView
	if err := json.Unmarshal([]byte(mustCLI(t, home("b"), "practice", "show", practice, "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.Title != "Night-time telecare with village volunteers" || view.Author != idA || view.Region != "North Karelia" {
		t.Fatalf("b shows %+v", view)
	}

	t.Run("outsider", func(t *testing.T) {
		// A used token: the inviter no longer has an open invite, so its
		// gate drops the connection (or, had it one open, it refuses).
		r := cli(t, home("o"), "join", tokens["b"])
		wantCLIError(t, r, "inviter|join stream")
		t.Logf("joining with a used token: %s", strings.TrimSpace(r.Stderr))
		// A forged token naming b as inviter: b's gate refuses the connection.
		bAddrs := func() []string {
			var id Identity
			json.Unmarshal([]byte(mustCLI(t, home("b"), "id", "--json")), &id)
			return id.Addrs
		}()
		before := metricValue(t, b, "livinglab_records_rejected_total", `reason="connection_not_member"`)
		r = cli(t, home("o"), "join", forgeInvite(t, idA, idB, bAddrs, time.Now().Add(time.Hour)))
		wantCLIError(t, r, "inviter|join stream")
		t.Logf("joining with a forged token: %s", strings.TrimSpace(r.Stderr))
		if after := metricValue(t, b, "livinglab_records_rejected_total", `reason="connection_not_member"`); after <= before {
			t.Fatalf("b's gate counted no refused connection (%v, before %v)", after, before)
		}
		// A forged token naming the founder: the secret is unknown.
		r = cli(t, home("o"), "join", forgeInvite(t, idA, idA, func() []string {
			var id Identity
			json.Unmarshal([]byte(mustCLI(t, home("a"), "id", "--json")), &id)
			return id.Addrs
		}(), time.Now().Add(time.Hour)))
		wantCLIError(t, r, "")
		for _, n := range []string{"a", "b", "c"} {
			if slices.Contains(memberIDs(t, home(n)), idO) {
				t.Fatalf("%s lists the outsider as a member", n)
			}
		}
		var id Identity
		json.Unmarshal([]byte(mustCLI(t, home("o"), "id", "--json")), &id)
		if id.Federation != "" {
			t.Fatalf("the outsider believes it is in federation %q", id.Federation)
		}
		if slices.Contains(listedCIDs(t, home("o")), practice) {
			t.Fatalf("the outsider holds the federation's practice")
		}
	})

	t.Run("topic isolation", func(t *testing.T) {
		time.Sleep(2 * time.Second)
		if slices.Contains(listedCIDs(t, home("c")), practice) {
			t.Fatalf("c stored a practice of a topic it does not follow")
		}
	})

	t.Run("second daemon on a home", func(t *testing.T) {
		r := cli(t, "", "run", "--home", home("b"), "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0")
		wantCLIError(t, r, "another livinglab daemon is running")
		// The running daemon is unaffected.
		mustCLI(t, home("b"), "status")
	})

	t.Run("bad input", func(t *testing.T) {
		dir := t.TempDir()
		fresh := filepath.Join(dir, "fresh")
		mustCLI(t, "", "init", "--home", fresh, "--region", "Fresh")
		unknownCID := protocol.RecordCID([]byte("nothing")).String()
		files := map[string]string{
			"garbage":  writeJSONFile(t, dir, "garbage.json", "{this is not json"),
			"empty":    writeJSONFile(t, dir, "empty.json", ""),
			"array":    writeJSONFile(t, dir, "array.json", "[1, 2, 3]"),
			"unknown":  writeJSONFile(t, dir, "unknown.json", `{"title": "x", "summary": "y", "language": "en", "topics": ["transport"], "author_email": "x@example.org"}`),
			"notitle":  writeJSONFile(t, dir, "notitle.json", func() map[string]any { p := practiceFile("", "transport"); return p }()),
			"badtopic": writeJSONFile(t, dir, "badtopic.json", practiceFile("Bus", "Elderly Care")),
			"notopics": writeJSONFile(t, dir, "notopics.json", func() map[string]any {
				p := practiceFile("Bus", "transport")
				delete(p, "topics")
				return p
			}()),
			"badlang": writeJSONFile(t, dir, "badlang.json", func() map[string]any {
				p := practiceFile("Bus", "transport")
				p["language"] = "English"
				return p
			}()),
		}
		expired := forgeInvite(t, idA, idA, []string{"/ip4/127.0.0.1/tcp/4801"}, time.Now().Add(-time.Hour))
		cases := []struct {
			name     string
			home     string
			args     []string
			contains string
		}{
			{"show bad CID", home("b"), []string{"practice", "show", "not-a-cid"}, "not a CID"},
			{"show unknown CID", home("b"), []string{"practice", "show", unknownCID}, "not found"},
			{"show without CID", home("b"), []string{"practice", "show"}, "arg"},
			{"history bad CID", home("b"), []string{"practice", "history", "zzz"}, "not a CID"},
			{"retract bad CID", home("b"), []string{"practice", "retract", "not-a-cid", "--reason", "x"}, "not a CID"},
			{"retract without reason", home("b"), []string{"practice", "retract", practice}, "--reason"},
			{"retract another region's practice", home("b"), []string{"practice", "retract", practice, "--reason", "mine now"}, "only the author"},
			{"subscribe topic with space", home("b"), []string{"topics", "subscribe", "Elderly Care"}, "slug"},
			{"subscribe control topic", home("b"), []string{"topics", "subscribe", protocol.ControlTopic}, "slug"},
			{"subscribe without topic", home("b"), []string{"topics", "subscribe"}, "arg"},
			{"unsubscribe topic not followed", home("b"), []string{"topics", "unsubscribe", "housing"}, "not subscribed"},
			{"list bad topic", home("b"), []string{"practices", "list", "--topic", "Elderly Care"}, "topic"},
			{"list extra argument", home("b"), []string{"practices", "list", "extra"}, "unknown command"},
			{"publish without --file", home("b"), []string{"practice", "publish"}, "--file"},
			{"publish missing file", home("b"), []string{"practice", "publish", "--file", filepath.Join(dir, "nope.json")}, "no such file"},
			{"publish garbage JSON", home("b"), []string{"practice", "publish", "--file", files["garbage"]}, "not a valid practice file"},
			{"publish empty file", home("b"), []string{"practice", "publish", "--file", files["empty"]}, "not a valid practice file"},
			{"publish JSON array", home("b"), []string{"practice", "publish", "--file", files["array"]}, "not a valid practice file"},
			{"publish unknown field", home("b"), []string{"practice", "publish", "--file", files["unknown"]}, "author_email"},
			{"publish without title", home("b"), []string{"practice", "publish", "--file", files["notitle"]}, "title"},
			{"publish bad topic slug", home("b"), []string{"practice", "publish", "--file", files["badtopic"]}, "topic"},
			{"publish without topics", home("b"), []string{"practice", "publish", "--file", files["notopics"]}, "topic"},
			{"publish bad language", home("b"), []string{"practice", "publish", "--file", files["badlang"]}, "language"},
			{"publish superseding a non-CID", home("b"), []string{"practice", "publish", "--file", pfile, "--supersedes", "v1"}, "not a CID"},
			{"publish superseding another's practice", home("b"), []string{"practice", "publish", "--file", pfile, "--supersedes", practice}, "author"},
			{"join garbage", home("o"), []string{"join", "garbage"}, "invite"},
			{"join bad base64", home("o"), []string{"join", protocol.InvitePrefix + "!!!"}, "invite"},
			{"join wrong prefix", home("o"), []string{"join", "llinv9.AAAA"}, "invite"},
			{"join expired", home("o"), []string{"join", expired}, "expired"},
			{"join without token", home("o"), []string{"join"}, "arg"},
			{"join two tokens", home("o"), []string{"join", "a", "b"}, "arg"},
			{"remove non-peer", home("a"), []string{"members", "remove", "not-a-peer"}, "not a peer ID"},
			{"remove as non-admin", home("b"), []string{"members", "remove", idC}, "administrator"},
			{"remove the founder", home("a"), []string{"members", "remove", idA}, ""},
			{"members extra argument", home("b"), []string{"members", "extra"}, "unknown command"},
			{"invite extra argument", home("a"), []string{"invite", "extra"}, "unknown command"},
			{"invite outside a federation", home("o"), []string{"invite"}, "not in a federation"},
			{"status extra argument", home("b"), []string{"status", "extra"}, "unknown command"},
			{"unknown flag", home("b"), []string{"id", "--bogus"}, "unknown flag"},
			{"version extra argument", "", []string{"version", "extra"}, "unknown command"},
			{"unknown command", "", []string{"frobnicate"}, "unknown command"},
			{"init existing home", home("b"), []string{"init", "--region", "Again"}, "already initialised"},
			{"init without region", filepath.Join(dir, "x1"), []string{"init"}, "--region"},
			{"init bad country", filepath.Join(dir, "x2"), []string{"init", "--region", "X", "--country", "Finland"}, "country"},
			{"init bad federation", filepath.Join(dir, "x3"), []string{"init", "--region", "X", "--federation", "Bad Fed"}, "federation"},
			{"run bad listen address", fresh, []string{"run", "--listen", "127.0.0.1:4801", "--api", "127.0.0.1:0"}, ""},
			{"run bad log level", fresh, []string{"run", "--log-level", "loud", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"}, "log"},
			{"run bad API address", fresh, []string{"run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:99999"}, "API"},
			{"command without daemon", fresh, []string{"topics", "list"}, "no livinglab daemon"},
			{"command on no home", filepath.Join(dir, "nowhere"), []string{"practices", "list"}, "not a livinglab home"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantCLIError(t, cli(t, tc.home, tc.args...), tc.contains)
			})
		}
		// None of it changed b.
		if out := mustCLI(t, home("b"), "topics", "list"); strings.TrimSpace(out) != "elderly-care" {
			t.Fatalf("b's topics after bad input: %q", out)
		}
	})

	t.Run("HTTP API errors", func(t *testing.T) {
		testAPIErrors(t, b, practice)
	})

	t.Run("shutdown and restart", func(t *testing.T) {
		o.stop(true)
		c.stop(true)
		a.stop(true)
		b.stop(true)
		for _, d := range []*daemon{a, b, c, o} {
			if _, err := os.Stat(Home{Dir: d.home}.APIAddr()); !os.IsNotExist(err) {
				t.Fatalf("%s left its api.addr behind (%v)", d.Name, err)
			}
		}
		wantCLIError(t, cli(t, home("b"), "status"), "no livinglab daemon")
		// Alone, b shows what it keeps on disk.
		startDaemon(t, "b again", home("b"))
		if !slices.Contains(listedCIDs(t, home("b")), practice) {
			t.Fatalf("b lost the practice across the restart")
		}
		if out := mustCLI(t, home("b"), "topics", "list"); strings.TrimSpace(out) != "elderly-care" {
			t.Fatalf("b's topics after restart: %q", out)
		}
		ids := memberIDs(t, home("b"))
		for _, id := range []string{idA, idB, idC} {
			if !slices.Contains(ids, id) {
				t.Fatalf("b forgot member %s across the restart", id)
			}
		}
		if got := peerIDOfHome(t, home("b")); got != idB {
			t.Fatalf("b's peer ID changed: %s, was %s", got, idB)
		}
	})
}

// metricValue reads one sample from the daemon's /metrics (0 if absent).
func metricValue(t *testing.T, d *daemon, name, labels string) float64 {
	t.Helper()
	base, _ := d.apiBase()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if (strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ")) && strings.Contains(line, labels) {
			var v float64
			fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			return v
		}
	}
	return 0
}

func testAPIErrors(t *testing.T, d *daemon, held string) {
	base, token := d.apiBase()
	unknown := protocol.RecordCID([]byte("nothing")).String()
	big := `{"title": "` + strings.Repeat("a", 1100<<10) + `"}`
	cases := []struct {
		name, method, path, body string
		header                   map[string]string // nil: the right token
		status                   int
		code                     string
	}{
		{name: "malformed JSON", method: "POST", path: "/api/v1/practices", body: `{"title": `, status: 400, code: "bad_request"},
		{name: "not an object", method: "POST", path: "/api/v1/practices", body: `"hello"`, status: 400, code: "bad_request"},
		{name: "unknown field", method: "POST", path: "/api/v1/practices", body: `{"title": "x", "author_email": "x@example.org"}`, status: 400, code: "bad_request"},
		{name: "wrong type", method: "POST", path: "/api/v1/practices", body: `{"title": 5}`, status: 400, code: "bad_request"},
		{name: "trailing data", method: "POST", path: "/api/v1/practices", body: `{} {}`, status: 400, code: "bad_request"},
		{name: "empty body", method: "POST", path: "/api/v1/practices", body: "", status: 400, code: "bad_request"},
		{name: "invalid practice", method: "POST", path: "/api/v1/practices", body: `{"title": "x", "topics": ["transport"], "language": "en"}`, status: 400, code: "bad_request"},
		{name: "oversized body", method: "POST", path: "/api/v1/practices", body: big, status: 413, code: "too_large"},
		{name: "join with bad token", method: "POST", path: "/api/v1/join", body: `{"token": "garbage"}`, status: 400, code: "bad_request"},
		{name: "join with unknown field", method: "POST", path: "/api/v1/join", body: `{"token": "x", "admin": true}`, status: 400, code: "bad_request"},
		{name: "retract without reason", method: "POST", path: "/api/v1/practices/" + held + "/retract", body: `{"reason": " "}`, status: 400, code: "bad_request"},
		{name: "retract malformed JSON", method: "POST", path: "/api/v1/practices/" + held + "/retract", body: `reason=x`, status: 400, code: "bad_request"},
		{name: "bad CID", method: "GET", path: "/api/v1/practices/not-a-cid", status: 400, code: "bad_request"},
		{name: "unknown CID", method: "GET", path: "/api/v1/practices/" + unknown, status: 404, code: "not_found"},
		{name: "unknown record", method: "GET", path: "/api/v1/records/" + unknown, status: 404, code: "not_found"},
		{name: "bad limit", method: "GET", path: "/api/v1/practices?limit=abc", status: 400, code: "bad_request"},
		{name: "zero limit", method: "GET", path: "/api/v1/practices?limit=0", status: 400, code: "bad_request"},
		{name: "bad topic filter", method: "GET", path: "/api/v1/practices?topic=Elderly%20Care", status: 400, code: "bad_request"},
		{name: "subscribe bad slug", method: "PUT", path: "/api/v1/topics/Elderly%20Care", status: 400, code: "bad_request"},
		{name: "remove non-peer", method: "DELETE", path: "/api/v1/members/not-a-peer", status: 400, code: "bad_request"},
		{name: "retract another's record", method: "POST", path: "/api/v1/practices/" + held + "/retract", body: `{"reason": "x"}`, status: 403, code: "forbidden"},
		{name: "unknown endpoint", method: "GET", path: "/api/v1/nope", status: 404, code: "not_found"},
		{name: "unknown version", method: "GET", path: "/api/v2/practices", status: 404, code: "not_found"},
		{name: "unknown method", method: "PATCH", path: "/api/v1/practices", status: 404},
		{name: "missing token", method: "GET", path: "/api/v1/practices", header: map[string]string{}, status: 401, code: "unauthorised"},
		{name: "missing token on publish", method: "POST", path: "/api/v1/practices", body: `{}`, header: map[string]string{}, status: 401, code: "unauthorised"},
		{name: "missing token on invite", method: "POST", path: "/api/v1/invites", header: map[string]string{}, status: 401, code: "unauthorised"},
		{name: "wrong token", method: "GET", path: "/api/v1/members", header: map[string]string{"Authorization": "Bearer " + strings.Repeat("0", len(token))}, status: 401, code: "unauthorised"},
		{name: "token prefix", method: "GET", path: "/api/v1/members", header: map[string]string{"Authorization": "Bearer " + token[:len(token)-1]}, status: 401, code: "unauthorised"},
		{name: "basic auth", method: "GET", path: "/api/v1/members", header: map[string]string{"Authorization": "Basic " + token}, status: 401, code: "unauthorised"},
		{name: "foreign Host header", method: "GET", path: "/api/v1/id", header: map[string]string{"Authorization": "Bearer " + token, "Host": "evil.example"}, status: 403, code: "bad_host"},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" || tc.method == "POST" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, base+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			hdr := tc.header
			if hdr == nil {
				hdr = map[string]string{"Authorization": "Bearer " + token}
			}
			for k, v := range hdr {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q: %s", ct, raw)
			}
			var e map[string]any
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, raw)
			}
			msg, _ := e["error"].(string)
			code, _ := e["code"].(string)
			if msg == "" || code == "" {
				t.Fatalf("error body lacks error or code: %s", raw)
			}
			if tc.code != "" && code != tc.code {
				t.Fatalf("code %q, want %q: %s", code, tc.code, raw)
			}
			if strings.Contains(string(raw), "goroutine ") || strings.Contains(string(raw), "panic") {
				t.Fatalf("error body leaks a crash: %s", raw)
			}
		})
	}
	// The public health check needs no token.
	resp, err := http.Get(base + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

// apiCall sends one request to a daemon's HTTP API with its token and
// decodes the JSON answer into out. It returns the status code.
func apiCall(t *testing.T, d *daemon, method, path string, body, out any) (int, error) {
	t.Helper()
	code, b, err := opsAPIOf(d).do(method, path, body)
	if err != nil {
		return code, err
	}
	if code >= 300 {
		return code, fmt.Errorf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return code, fmt.Errorf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return code, nil
}

// joinVia admits the node on home into the federation of the node on
// inviter: `invite` there, `join` with its token here, both run with the
// livinglab binary bin.
func joinVia(t *testing.T, bin, inviter, home string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(runWith(t, bin, inviter, "invite")), "\n")
	runWith(t, bin, home, "join", strings.TrimSpace(lines[len(lines)-1]))
}

// apiTopicCIDs returns the CIDs of the practices a daemon lists on topic,
// through its API.
func apiTopicCIDs(t *testing.T, d *daemon, topic string) ([]string, error) {
	t.Helper()
	var vs []PracticeView
	if _, err := apiCall(t, d, "GET", "/api/v1/practices?topic="+topic, nil, &vs); err != nil {
		return nil, err
	}
	return testkit.Map(vs, func(v PracticeView) string { return v.CID }), nil
}

// pollEvery calls cond every interval until it returns nil or timeout
// passes, and returns how long it took.
func pollEvery(t *testing.T, timeout, interval time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
