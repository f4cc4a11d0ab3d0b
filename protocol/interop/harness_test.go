// SPDX-License-Identifier: EUPL-1.2

package interop

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/internal/testkit"
)

// The two sides the tests drive: livinglab processes (goNode) and the
// JavaScript member (jsMember), each through its command line.

// goNode is a `livinglab run` process on its own home.
type goNode struct {
	*testkit.Daemon
	name string
	home string
}

func (g *goNode) cli(t *testing.T, args ...string) string {
	t.Helper()
	return testkit.MustRun(t, testkit.Livinglab(t), append(args, "--home", g.home)...)
}

// newGoNode initialises a home and starts the daemon on loopback.
func newGoNode(t *testing.T, name, region string, initArgs ...string) *goNode {
	t.Helper()
	g := &goNode{name: name, home: filepath.Join(t.TempDir(), name)}
	g.cli(t, append([]string{"init", "--region", region, "--country", "FI"}, initArgs...)...)
	g.Daemon = testkit.StartDaemon(t, name, testkit.ReadyWait, testkit.Livinglab(t),
		"run", "--home", g.home, "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0")
	return g
}

func (g *goNode) peerID(t *testing.T) string {
	var id struct {
		PeerID string `json:"peer_id"`
	}
	if err := json.Unmarshal([]byte(g.cli(t, "id", "--json")), &id); err != nil || id.PeerID == "" {
		t.Fatalf("id --json on %s: %v", g.name, err)
	}
	return id.PeerID
}

// api returns the base URL and token of the node's HTTP API.
func (g *goNode) api(t *testing.T) (string, string) {
	addr, err := os.ReadFile(filepath.Join(g.home, "api.addr"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(g.home, "api.token"))
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + strings.TrimSpace(string(addr)), strings.TrimSpace(string(tok))
}

func (g *goNode) invite(t *testing.T) string {
	lines := strings.Split(strings.TrimSpace(g.cli(t, "invite")), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

var cidRE = regexp.MustCompile(`baf[a-z2-7]{20,}`)

// publish publishes a practice from a file, as a user would.
func (g *goNode) publish(t *testing.T, topic, title string) string {
	t.Helper()
	p := map[string]any{"title": title, "summary": "Volunteers and nurses co-designed the service.",
		"approach": "Monthly meetings with residents.", "lessons": []string{"Start with the residents' routines."},
		"topics": []string{topic}, "language": "en"}
	b, _ := json.Marshal(p)
	f := filepath.Join(t.TempDir(), "practice.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := cidRE.FindString(g.cli(t, "practice", "publish", "--file", f))
	if c == "" {
		t.Fatalf("publish on %s printed no CID", g.name)
	}
	return c
}

// holds lists the CIDs of the practices the node holds.
func (g *goNode) holds(t *testing.T) map[string]bool {
	out := map[string]bool{}
	for _, c := range cidRE.FindAllString(g.cli(t, "practices", "list", "--json"), -1) {
		out[c] = true
	}
	return out
}

// waitHolds waits until the node holds c.
func (g *goNode) waitHolds(t *testing.T, c string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !g.holds(t)[c] {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not store %s in 30 s", g.name, c)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// jsMember is the JavaScript member process (member.mjs).
type jsMember struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	errs   *testkit.Buffer
	nextID int
	peer   string
	addrs  []string
}

func startJS(t *testing.T, args ...string) *jsMember {
	t.Helper()
	m := &jsMember{lines: make(chan string, 64), errs: &testkit.Buffer{}}
	m.cmd = exec.Command("node", append([]string{"member.mjs"}, args...)...)
	m.cmd.Env = testkit.CleanEnv()
	m.cmd.Stderr = m.errs
	var err error
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		close(m.lines)
	}()
	t.Cleanup(func() {
		m.in.Close()
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			m.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("--- JS member stderr ---\n%s", testkit.Tail(m.errs.String(), 40))
		}
	})
	var ready struct {
		Event string   `json:"event"`
		Peer  string   `json:"peer"`
		Addrs []string `json:"addrs"`
	}
	m.read(t, &ready, 30*time.Second)
	if ready.Event != "ready" || ready.Peer == "" {
		t.Fatalf("JS member did not start: %+v", ready)
	}
	m.peer, m.addrs = ready.Peer, ready.Addrs
	return m
}

func (m *jsMember) read(t *testing.T, v any, within time.Duration) {
	t.Helper()
	select {
	case line, ok := <-m.lines:
		if !ok {
			t.Fatalf("JS member exited: %s", testkit.Tail(m.errs.String(), 20))
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("JS member wrote %q: %v", line, err)
		}
	case <-time.After(within):
		t.Fatalf("JS member silent for %s: %s", within, testkit.Tail(m.errs.String(), 20))
	}
}

// call sends one command and decodes the answer into v; it returns the
// member's error message, if any.
func (m *jsMember) call(t *testing.T, v any, within time.Duration, cmd string, args map[string]any) string {
	t.Helper()
	m.nextID++
	req := map[string]any{"id": m.nextID, "cmd": cmd}
	for k, a := range args {
		req[k] = a
	}
	b, _ := json.Marshal(req)
	if _, err := m.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("JS member: %v", err)
	}
	var raw json.RawMessage
	m.read(t, &raw, within)
	var head struct {
		ID    int    `json:"id"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ID != m.nextID {
		t.Fatalf("JS member answered %s to %s", raw, cmd)
	}
	if !head.OK {
		return head.Error
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("JS member answered %s: %v", raw, err)
		}
	}
	return ""
}

func (m *jsMember) mustCall(t *testing.T, v any, within time.Duration, cmd string, args map[string]any) {
	t.Helper()
	if e := m.call(t, v, within, cmd, args); e != "" {
		t.Fatalf("JS member %s: %s", cmd, e)
	}
}

// servedSession is a sync session a Go node opened with the JS member.
type servedSession struct {
	Peer   string   `json:"peer"`
	Topic  string   `json:"topic"`
	Rounds int      `json:"rounds"`
	Sent   []string `json:"sent"`
	Got    []string `json:"got"`
	Error  string   `json:"error"`
}

type syncAnswer struct {
	Rounds   int      `json:"rounds"`
	Need     int      `json:"need"`
	Have     int      `json:"have"`
	Got      []string `json:"got"`
	Pushed   []string `json:"pushed"`
	Items    int      `json:"items"`
	BytesOut int      `json:"bytesOut"`
	BytesIn  int      `json:"bytesIn"`
}
