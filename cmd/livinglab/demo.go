// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/node/api"
	"github.com/livinglab/livinglab/node/web"
)

// The demo runs a small federation in one process: every region is a full
// node (libp2p on loopback, its own store, API and web UI), admitted by
// invite, subscribed to the common topics and seeded with sample lab data
// and practices written in the region's own language.

const demoFederation = "improve"

var demoTopics = []string{"elderly-care", "transport", "health", "digital-services", "youth"}

// The demo's sign-in, the same on every region and every run, and shown on
// the sign-in pages: the demo's nodes listen on loopback only and hold
// sample data. A node started with `livinglab run` never has it.
const (
	demoUser     = "demo"
	demoPassword = "living-lab-demo"
)

// demoPortsPerRegion: with --port-base N, region i (0 the founder) serves
// its web UI and API on N+i and listens for peers on N+demoP2POffset+i.
const demoP2POffset = 50

func demoCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo [--home DIR] [--port-base N]",
		Short: "Run a federation of four regions on this machine, with sample data, until Ctrl-C",
		Long: "Starts North Karelia (the founder), Västernorrland, Donegal and Vestland as separate nodes in one\n" +
			"process on 127.0.0.1, admits them by invite, subscribes them to common topics, seeds each with\n" +
			"sample lab data and practices in its own language (with translations), and prints each region's\n" +
			"web UI address. Every region takes the sign-in " + demoUser + " / " + demoPassword + ", shown on its sign-in page.\n" +
			"Without --home the data lives in a temporary folder removed on exit; with --home it is kept\n" +
			"there, and a later demo with the same --home starts the same regions again. With --port-base N\n" +
			"the addresses stay the same from run to run: region i (0 the founder) serves its web UI on port\n" +
			"N+i and meets its peers on port N+" + strconv.Itoa(demoP2POffset) + "+i; without it the ports are free ones chosen at start.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, keep := homeDir, true
			if f := cmd.Flag("home"); f == nil || !f.Changed {
				d, err := os.MkdirTemp("", "livinglab-demo-")
				if err != nil {
					return err
				}
				dir, keep = d, false
			}
			if portBase != 0 && (portBase < 1024 || portBase > 65535-demoP2POffset-16) {
				return fmt.Errorf("--port-base %d: choose a port between 1024 and %d", portBase, 65535-demoP2POffset-16)
			}
			cx, cancel := ctx()
			defer cancel()
			return runDemo(cx, cmd.OutOrStdout(), dir, keep, portBase)
		},
	}
	c.Flags().IntVar(&portBase, "port-base", 0, "first port of the regions' fixed addresses (0: free ports chosen at start)")
	return c
}

var portBase int

// demoAddrs returns region i's API address and libp2p listen address.
func demoAddrs(base, i int) (apiAddr, listen string) {
	if base == 0 {
		return "127.0.0.1:0", "/ip4/127.0.0.1/tcp/0"
	}
	return "127.0.0.1:" + strconv.Itoa(base+i), "/ip4/127.0.0.1/tcp/" + strconv.Itoa(base+demoP2POffset+i)
}

// demoNode is one region of the demo while it runs.
type demoNode struct {
	r        *demoRegion
	index    int // position in the demo, 0 the founder
	home     node.Home
	n        *node.Node
	fresh    bool
	api      string
	release  func()
	cancel   context.CancelFunc
	done     chan error // Serve's result
	portBase int        // 0: free ports
}

func runDemo(ctx context.Context, out io.Writer, dir string, keep bool, portBase int) (err error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(out, "Demo data in %s (kept after exit)\n", dir)
	} else {
		fmt.Fprintf(out, "Demo data in %s (a temporary folder, removed on exit; use --home DIR to keep it)\n", dir)
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	demoRegions, err := loadDemoRegions()
	if err != nil {
		return err
	}
	nodes := make([]*demoNode, len(demoRegions))
	defer stopDemo(nodes)
	var prep errgroup.Group
	for i := range demoRegions {
		prep.Go(func() error {
			dn, err := prepareDemoNode(dir, &demoRegions[i])
			if err != nil {
				return fmt.Errorf("%s: %w", demoRegions[i].Name, err)
			}
			dn.index, dn.portBase = i, portBase
			nodes[i] = dn
			return nil
		})
	}
	if err := prep.Wait(); err != nil {
		return err
	}

	// The founder first: the others bootstrap from it.
	if err := nodes[0].serve(nil); err != nil {
		return err
	}
	boot := nodes[0].n.Addrs()
	var g errgroup.Group
	for _, dn := range nodes[1:] {
		g.Go(func() error { return dn.serve(boot) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	founder := nodes[0]
	for _, dn := range nodes[1:] {
		if !dn.fresh && dn.n.Federation() != "" {
			continue
		}
		tok, _, err := founder.n.Invite()
		if err != nil {
			return fmt.Errorf("invite %s: %w", dn.r.Name, err)
		}
		jctx, jcancel := context.WithTimeout(ctx, 30*time.Second)
		err = dn.n.Join(jctx, tok)
		jcancel()
		if err != nil {
			return fmt.Errorf("%s joins the federation: %w", dn.r.Name, err)
		}
	}
	for _, dn := range nodes {
		for _, t := range demoTopics {
			if err := dn.n.Subscribe(ctx, t); err != nil {
				return fmt.Errorf("%s subscribes to %s: %w", dn.r.Name, t, err)
			}
		}
	}
	// Seed every fresh region in parallel, but do not keep the user waiting
	// for it: the addresses are printed after at most 20 s.
	seeded := make(chan error, 1)
	go func() {
		sg, sctx := errgroup.WithContext(ctx)
		for _, dn := range nodes {
			if dn.fresh {
				sg.Go(func() error { return dn.seed(sctx) })
			}
		}
		seeded <- sg.Wait()
	}()
	var seedErr error
	seedDone := false
	select {
	case seedErr = <-seeded:
		seedDone = true
	case <-time.After(20 * time.Second):
	case <-ctx.Done():
		<-seeded
		return nil
	}
	fmt.Fprintln(out)
	for _, dn := range nodes {
		fmt.Fprintf(out, "%s: http://%s/\n", dn.r.Name, dn.api)
	}
	fmt.Fprintf(out, "\nSign in to any region as %s with the password %s.\n\n", demoUser, demoPassword)
	if !seedDone {
		fmt.Fprintln(out, "Still adding the sample data; pages fill up in a moment.")
		select {
		case seedErr = <-seeded:
		case <-ctx.Done():
			<-seeded
			return nil
		}
	}
	if seedErr != nil {
		fmt.Fprintf(out, "Some sample data could not be added: %v\n", seedErr)
	}
	fmt.Fprintf(out, "Federation %q with %d regions ready in %s. Logs: %s\n", demoFederation, len(nodes),
		time.Since(start).Round(100*time.Millisecond), filepath.Join(dir, "*.log"))
	fmt.Fprintln(out, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping the regions…")
	if err := stopDemo(nodes); err != nil {
		return err
	}
	fmt.Fprintln(out, "stopped cleanly")
	return nil
}

// prepareDemoNode initialises (or reopens) a region's home and takes its
// lock.
func prepareDemoNode(dir string, r *demoRegion) (*demoNode, error) {
	h := node.Home{Dir: filepath.Join(dir, r.Slug)}
	dn := &demoNode{r: r, home: h, done: make(chan error, 1)}
	if _, err := os.Stat(h.Config()); err != nil {
		o := node.InitOptions{Region: r.Name, Country: r.Country}
		if r.Founder {
			o.Federation = demoFederation
		}
		if _, err := node.Init(h.Dir, o); err != nil {
			return nil, err
		}
		dn.fresh = true
	}
	release, err := h.TakeLock()
	if err != nil {
		return nil, err
	}
	dn.release = release
	return dn, nil
}

// serve opens the node, sets the demo account's password, starts the node
// and waits until its API answers.
func (dn *demoNode) serve(bootstrap []string) error {
	lf, err := os.OpenFile(filepath.Join(filepath.Dir(dn.home.Dir), dn.r.Slug+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo})).With("region", dn.r.Name)
	ready := make(chan string, 1)
	apiAddr, listen := demoAddrs(dn.portBase, dn.index)
	n, err := node.New(dn.home, node.Options{Listen: []string{listen}, API: apiAddr,
		Bootstrap: bootstrap, Logger: log, Handler: demoHandler, Ready: func(a string) { ready <- a }})
	if err != nil {
		lf.Close()
		return fmt.Errorf("%s: %w", dn.r.Name, err)
	}
	dn.n = n
	if n.HasUser(demoUser) {
		err = n.SetPassword(demoUser, demoPassword)
	} else {
		err = n.AddUser(demoUser, demoPassword)
	}
	if err != nil {
		return fmt.Errorf("%s: demo account: %w", dn.r.Name, err)
	}
	cx, cancel := context.WithCancel(context.Background())
	dn.cancel = cancel
	go func() {
		err := n.Serve(cx)
		lf.Close()
		dn.done <- err
	}()
	select {
	case a := <-ready:
		dn.api = a
		return nil
	case err := <-dn.done:
		dn.cancel, dn.n = nil, nil
		return fmt.Errorf("%s stopped at start: %w", dn.r.Name, err)
	case <-time.After(40 * time.Second):
		return fmt.Errorf("%s did not start in 40 s", dn.r.Name)
	}
}

var stopMu sync.Mutex

// stopDemo stops every running region and releases the homes.
func stopDemo(nodes []*demoNode) error {
	stopMu.Lock()
	defer stopMu.Unlock()
	var errs []error
	for _, dn := range nodes {
		if dn == nil || dn.release == nil {
			continue
		}
		switch {
		case dn.n == nil: // never opened
		case dn.cancel != nil:
			dn.cancel()
			select {
			case err := <-dn.done:
				if err != nil && !errors.Is(err, context.Canceled) {
					errs = append(errs, fmt.Errorf("%s: %w", dn.r.Name, err))
				}
			case <-time.After(20 * time.Second):
				errs = append(errs, fmt.Errorf("%s did not stop in 20 s", dn.r.Name))
			}
		default:
			dn.n.Close()
		}
		dn.release()
		dn.n, dn.release = nil, nil
	}
	return errors.Join(errs...)
}

// demoHandler serves a demo region's API and web UI; the sign-in page
// shows the demo's sign-in.
func demoHandler(n *node.Node, bound string) http.Handler {
	return api.Handler(n, bound, web.New(n).WithDemoSignIn(demoUser, demoPassword))
}

// seed adds the region's sample lab data and publishes its practices
// through its own API, as a local champion's tools would.
func (dn *demoNode) seed(ctx context.Context) error {
	tok, err := dn.home.LoadToken()
	if err != nil {
		return err
	}
	cl := &node.Client{Base: "http://" + dn.api, Token: tok, HTTP: &http.Client{Timeout: time.Minute}}
	if err := dn.seedLab(ctx, cl); err != nil {
		return fmt.Errorf("%s lab data: %w", dn.r.Name, err)
	}
	for _, p := range dn.r.Practices {
		if err := dn.publish(ctx, p); err != nil {
			return fmt.Errorf("%s publishes %q: %w", dn.r.Name, p.Title, err)
		}
	}
	return nil
}

// publish publishes a sample practice the way a reviewer would: the sample
// texts name no people, so every word the gate is unsure of (a capitalised
// noun, a place) is confirmed as not personal; everything the detectors
// find is still redacted.
func (dn *demoNode) publish(ctx context.Context, p node.PracticeInput) error {
	preview, err := dn.n.PublishPractice(ctx, p, node.Review{}, true)
	if err != nil {
		return err
	}
	var keep []string
	for _, c := range preview.Report.Candidates {
		keep = append(keep, c.Text)
	}
	_, err = dn.n.PublishPractice(ctx, p, node.Review{Confirmed: keep, FailClosed: true}, false)
	return err
}

func (dn *demoNode) seedLab(ctx context.Context, cl *node.Client) error {
	lab := dn.r.Lab
	var ini struct {
		ID string `json:"id"`
	}
	if err := cl.Do(ctx, "POST", "/api/v1/lab/initiatives", lab.Initiative, &ini); err != nil {
		var ae *node.APIErrorResponse
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil // a node without the lab API
		}
		return err
	}
	for _, s := range lab.Stakeholders {
		s["initiative_ids"] = []string{ini.ID}
		if err := cl.Do(ctx, "POST", "/api/v1/lab/stakeholders", s, nil); err != nil {
			return err
		}
	}
	for _, a := range lab.Activities {
		a["initiative_id"] = ini.ID
		if err := cl.Do(ctx, "POST", "/api/v1/lab/activities", a, nil); err != nil {
			return err
		}
	}
	for _, e := range lab.Evaluations {
		e["initiative_id"] = ini.ID
		if err := cl.Do(ctx, "POST", "/api/v1/lab/evaluations", e, nil); err != nil {
			return err
		}
	}
	// A draft assembled from the initiative, left for a person to review.
	return cl.Do(ctx, "POST", "/api/v1/drafts", map[string]string{"initiative": ini.ID}, nil)
}

// ---- sample data ----

type demoRegion struct {
	Slug      string               `json:"slug"`
	Name      string               `json:"name"`
	Country   string               `json:"country"`
	Founder   bool                 `json:"founder,omitempty"`
	Practices []node.PracticeInput `json:"practices"`
	Lab       demoLab              `json:"lab"`
}

// demoLab is a region's sample lab data, in the lab API's JSON.
type demoLab struct {
	Initiative   map[string]any   `json:"initiative"`
	Stakeholders []map[string]any `json:"stakeholders"`
	Activities   []map[string]any `json:"activities"`
	Evaluations  []map[string]any `json:"evaluations"`
}

// demoFS holds the demo's regions, one JSON file each, read in the order
// of their names (the founder first). The sample practices are written for
// this demo in each region's language, after the kinds of pilots the
// regions of the co-production methodology ran; edit them there.
//
//go:embed demo/*.json
var demoFS embed.FS

// loadDemoRegions reads the demo's regions.
func loadDemoRegions() ([]demoRegion, error) {
	names, err := fs.Glob(demoFS, "demo/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []demoRegion
	for _, name := range names {
		b, err := demoFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var r demoRegion
		if err := decodeStrict(b, &r); err != nil {
			return nil, fmt.Errorf("demo data %s: %w", name, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 || !out[0].Founder {
		return nil, errors.New("demo data: no regions, or the first is not the founder")
	}
	return out, nil
}
