// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/node/server"
)

var homeDir string

func home() node.Home { return node.Home{Dir: homeDir} }

// command returns a command with its usage line, description, arguments
// and what it does.
func command(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: run}
}

// withJSON gives c the --json flag that prints the answer as JSON.
func withJSON(c *cobra.Command, asJSON *bool) *cobra.Command {
	c.Flags().BoolVar(asJSON, "json", false, "print JSON")
	return c
}

// call sends one API request to the daemon.
func call(method, path string, in, out any) error {
	cl, err := client()
	if err != nil {
		return err
	}
	cx, cancel := ctx()
	defer cancel()
	return cl.Do(cx, method, path, in, out)
}

// client talks to the home's daemon. A record refused by the region's
// publishing limit (a bulk import) is sent again when the daemon says
// there is room, with a note on standard error, for up to publishWait.
func client() (*node.Client, error) {
	c, err := node.NewClient(home())
	if err != nil {
		return nil, err
	}
	c.WaitPublishLimit = publishWait
	c.OnWait = func(d time.Duration, err error) {
		fmt.Fprintf(os.Stderr, "livinglab: %v; trying again in %s\n", err, d)
	}
	return c, nil
}

// publishWait bounds how long a command waits for the publishing limit.
const publishWait = 10 * time.Minute

func ctx() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readStrictJSON reads the JSON file at path into v, refusing fields v does
// not have; what names the expected content in the error.
func readStrictJSON(path string, v any, what string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := decodeStrict(b, v); err != nil {
		return fmt.Errorf("%s is not %s: %w", path, what, err)
	}
	return nil
}

// decodeStrict decodes JSON into v, refusing fields v does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// newTable starts a listing on w: rows of tab-separated cells, aligned in
// columns when it is flushed, under a header of the given column names.
func newTable(w io.Writer, columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(columns) > 0 {
		fmt.Fprintln(tw, strings.Join(columns, "\t"))
	}
	return tw
}

// apiPath is the API path of the item id of a collection ("drafts",
// "lab/initiatives"), followed by any further segments ("approve").
func apiPath(collection, id string, segments ...string) string {
	p := "/api/v1/" + collection + "/" + url.PathEscape(id)
	for _, s := range segments {
		p += "/" + s
	}
	return p
}

// withQuery adds to path the query parameters given as name, value pairs,
// leaving out those with an empty value.
func withQuery(path string, pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// ifSet is the value of a query flag: "true" when b is set, else none.
func ifSet(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "livinglab",
		Short:         "Node of a transnational living-lab federation",
		Long:          "livinglab runs one region's node: private lab data, anonymised practices published to topic channels,\nand the shared knowledge of the federation, searchable and kept in sync.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Everything a command prints may carry text from other regions'
		// records: it reaches the terminal escaped (see safetext.go).
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			cmd.SetOut(newSafeWriter(cmd.OutOrStdout()))
		},
	}
	root.PersistentFlags().StringVar(&homeDir, "home", node.DefaultHome(), "node home directory (env LIVINGLAB_HOME)")
	root.AddCommand(initCmd(), runCmd(), idCmd(), inviteCmd(), joinCmd(), membersCmd(), topicsCmd(),
		practiceCmd(), practicesCmd(), statusCmd(), versionCmd())
	root.AddCommand(labCmds()...)
	root.AddCommand(opsCmds()...)
	root.AddCommand(checkCmd())
	root.AddCommand(bundleCmd())
	root.AddCommand(searchCmds()...)
	root.AddCommand(uiCmds()...)
	return root
}

func initCmd() *cobra.Command {
	var o node.InitOptions
	c := command("init --region NAME [--country CC] [--federation FED]", "Create a node's home: identity, config, API token and store", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		if strings.TrimSpace(o.Region) == "" {
			return fmt.Errorf("--region is required, e.g. --region \"North Karelia\"")
		}
		id, err := node.Init(homeDir, o)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "Initialised node for %s in %s\n", o.Region, homeDir)
		fmt.Fprintf(w, "peer ID: %s\n", id)
		if o.Federation != "" {
			fmt.Fprintf(w, "founded federation %q\n", o.Federation)
		}
		fmt.Fprintf(w, "Next: livinglab run --home %s\n", homeDir)
		if o.Federation == "" {
			fmt.Fprintf(w, "Then join a federation with an invite from a member: livinglab join TOKEN --home %s\n", homeDir)
		}
		return nil
	})
	c.Flags().StringVar(&o.Region, "region", "", "region name, e.g. \"North Karelia\"")
	c.Flags().StringVar(&o.Country, "country", "", "ISO 3166 country code, e.g. FI")
	c.Flags().StringVar(&o.Federation, "federation", "", "found a new federation with this name (a lowercase slug)")
	return c
}

func runCmd() *cobra.Command {
	var listen, bootstrap []string
	var api, level string
	c := command("run", "Run the node in the foreground until SIGINT/SIGTERM", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		h := home()
		release, err := h.TakeLock()
		if err != nil {
			return err
		}
		defer release()
		cfg, err := node.LoadConfig(h.Config())
		if err != nil {
			return err
		}
		if !cmd.Flags().Changed("log-level") && os.Getenv("LIVINGLAB_LOG_LEVEL") == "" && cfg.Log.Level != "" {
			level = cfg.Log.Level
		}
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return fmt.Errorf("log level: %w", err)
		}
		hopts := &slog.HandlerOptions{Level: lv}
		var handler slog.Handler = slog.NewTextHandler(os.Stderr, hopts)
		if cfg.Log.Format == "json" {
			handler = slog.NewJSONHandler(os.Stderr, hopts)
		}
		log := slog.New(handler)
		if lim := cfg.Limits.GoMemoryLimitMB; lim > 0 && os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(int64(lim) << 20)
			log.Debug("Go memory limit set", "mib", lim)
		}
		out := cmd.OutOrStdout()
		var n *node.Node
		n, err = node.New(h, node.Options{Listen: listen, API: api, Bootstrap: bootstrap, Logger: log, Handler: server.Handler,
			Ready: func(apiAddr string) {
				fmt.Fprintf(out, "peer ID: %s\n", n.ID())
				for _, a := range n.Addrs() {
					fmt.Fprintf(out, "listening on %s\n", a)
				}
				fmt.Fprintf(out, "API and web UI at http://%s/\n", apiAddr)
				fmt.Fprintln(out, "ready")
				node.NotifySystemd("READY=1")
				if cfg.Limits.MapCodeSparsely {
					if freed, err := node.MapCodeSparsely(); err != nil {
						log.Warn("could not map the executable sparsely; it stays mapped as the kernel maps it", "err", err)
					} else {
						log.Debug("executable mapped sparsely", "unmapped_mib", freed>>20)
					}
				}
			}})
		if err != nil {
			return err
		}
		c, cancel := ctx()
		defer cancel()
		err = n.Serve(c)
		node.NotifySystemd("STOPPING=1")
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "stopped cleanly")
		return nil
	})
	c.Flags().StringArrayVar(&listen, "listen", nil, "libp2p listen multiaddr (repeatable; port 0 picks a free port)")
	c.Flags().StringVar(&api, "api", "", "HTTP API and web UI address HOST:PORT (port 0 picks a free port)")
	c.Flags().StringArrayVar(&bootstrap, "bootstrap", nil, "bootstrap peer multiaddr with /p2p/ID (repeatable)")
	c.Flags().StringVar(&level, "log-level", envOr("LIVINGLAB_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	return c
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func idCmd() *cobra.Command {
	var asJSON bool
	c := command("id [--json]", "Print this node's peer ID, region and addresses", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var id node.Identity
		cl, err := client()
		if err == nil {
			c, cancel := ctx()
			defer cancel()
			err = cl.Do(c, "GET", "/api/v1/id", nil, &id)
		}
		if err != nil {
			// No daemon: read the identity from the home.
			li, lerr := node.LocalIdentity(home())
			if lerr != nil {
				return lerr
			}
			id = li
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), id)
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "peer ID:    %s\nregion:     %s\n", id.PeerID, id.Region)
		if id.Federation != "" {
			fmt.Fprintf(w, "federation: %s\n", id.Federation)
		}
		for _, a := range id.Addrs {
			fmt.Fprintf(w, "address:    %s\n", a)
		}
		return nil
	})
	return withJSON(c, &asJSON)
}

func inviteCmd() *cobra.Command {
	return command("invite", "Print a one-time invite token for a new region (the daemon must run)", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var out struct {
			Token   string    `json:"token"`
			Expires time.Time `json:"expires"`
		}
		if err := call("POST", "/api/v1/invites", nil, &out); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "Invite valid once, until %s. On the new region's node run:\n  livinglab join TOKEN\nToken:\n", out.Expires.Local().Format(time.RFC1123))
		fmt.Fprintln(w, out.Token)
		return nil
	})
}

func joinCmd() *cobra.Command {
	return command("join TOKEN", "Join a federation with an invite token (the daemon must run)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		var out struct {
			Federation string `json:"federation"`
			Members    int    `json:"members"`
		}
		if err := call("POST", "/api/v1/join", map[string]string{"token": args[0]}, &out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Joined federation %q (%d members).\nNext: livinglab topics subscribe TOPIC\n", out.Federation, out.Members)
		return nil
	})
}

func membersCmd() *cobra.Command {
	var asJSON, all bool
	c := command("members [--json]", "List the federation's members", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var raw json.RawMessage
		q := ""
		if all {
			q = "?all=true"
		}
		if err := call("GET", "/api/v1/members"+q, nil, &raw); err != nil {
			return err
		}
		if asJSON {
			_, err := cmd.OutOrStdout().Write(raw)
			return err
		}
		var ms []struct {
			node.Member
			Connected bool `json:"connected"`
			Self      bool `json:"self"`
		}
		if err := json.Unmarshal(raw, &ms); err != nil {
			return err
		}
		tw := newTable(cmd.OutOrStdout(), "REGION", "COUNTRY", "ROLE", "STATE", "PEER ID")
		for _, m := range ms {
			state := "offline"
			switch {
			case m.Removed:
				state = "removed"
			case m.Self:
				state = "this node"
			case m.Connected:
				state = "connected"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Region, m.Country, m.Role, state, m.PeerID)
		}
		return tw.Flush()
	})
	withJSON(c, &asJSON)
	c.Flags().BoolVar(&all, "all", false, "include removed members")
	var retractAll bool
	rm := command("remove PEERID", "Expel a member from the federation everywhere (administrators)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		if err := call("DELETE", withQuery(apiPath("members", args[0]), "retract_all", ifSet(retractAll)), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Removed %s from the federation.\n", args[0])
		return nil
	})
	rm.Flags().BoolVar(&retractAll, "retract-all", false, "also withdraw every record the member signed")
	c.AddCommand(rm)
	return c
}

func topicsCmd() *cobra.Command {
	c := &cobra.Command{Use: "topics", Short: "Subscribe to, unsubscribe from and list topic channels"}
	list := &cobra.Command{Use: "list", Short: "List subscribed topics", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts []string
			if err := call("GET", "/api/v1/topics", nil, &ts); err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Fprintln(cmd.OutOrStdout(), t)
			}
			return nil
		}}
	mk := func(use, method, verb string) *cobra.Command {
		return command(use+" NAME", verb+" a topic channel", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
			if err := call(method, apiPath("topics", args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%sd %s\n", verb, args[0])
			return nil
		})
	}
	c.AddCommand(list, mk("subscribe", "PUT", "Subscribe"), mk("unsubscribe", "DELETE", "Unsubscribe"))
	return c
}

func statusCmd() *cobra.Command {
	var asJSON bool
	c := command("status [--json]", "Show per topic and per member what this node holds and whether it is in sync", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var st node.Status
		if err := call("GET", "/api/v1/status", nil, &st); err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), st)
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "%s (%s) in federation %q, %d peers connected, up %s\n\n", st.Region, st.PeerID, st.Federation, st.Peers, st.Uptime)
		tw := newTable(w, "TOPIC", "RECORDS", "MESH", "IN SYNC")
		for _, t := range st.Topics {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%v\n", t.Topic, t.Records, t.MeshPeers, t.InSync)
		}
		tw.Flush()
		fmt.Fprintln(w)
		tw = newTable(w, "MEMBER", "CONNECTED", "LAST SYNC", "IN SYNC")
		for _, m := range st.Members {
			last := "-"
			if !m.LastSync.IsZero() {
				last = time.Since(m.LastSync).Round(time.Second).String() + " ago"
			}
			name := m.Region
			if m.Self {
				name += " (this node)"
			}
			fmt.Fprintf(tw, "%s\t%v\t%s\t%v\n", name, m.Connected || m.Self, last, m.InSync)
		}
		return tw.Flush()
	})
	return withJSON(c, &asJSON)
}
