// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/livinglab/livinglab/node"
)

func searchCmds() []*cobra.Command { return []*cobra.Command{searchCmd(), reindexCmd()} }

var markRE = regexp.MustCompile(`</?mark>`)

func searchCmd() *cobra.Command {
	var topic, region, lang, country, sort, reader string
	var page, pageSize int
	var network, asJSON bool
	c := &cobra.Command{
		Use:   `search [flags] [--] "QUERY"`,
		Short: "Search the practices and lessons this node holds (or, with --network, the federation's)",
		Long: `Search the practices and lessons this node holds (or, with --network, the federation's).

Records matching more of the query's words rank first; a record need not
contain all of them. "a phrase" and +word are required, -word excludes.
A query that starts with '-' must come after '--', so that it is not read
as a flag:

  livinglab search -- "-pilot telecare"
  livinglab search --lang fi --reader en kotihoito`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if len(args) == 1 {
				q.Set("q", args[0])
			}
			for k, v := range map[string]string{"topic": topic, "region": region, "lang": lang, "country": country, "sort": sort, "reader": reader} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if page > 0 {
				q.Set("page", fmt.Sprint(page))
			}
			if pageSize > 0 {
				q.Set("page_size", fmt.Sprint(pageSize))
			}
			if network {
				q.Set("network", "true")
			}
			var res node.SearchResult
			if err := call("GET", "/api/v1/search?"+q.Encode(), nil, &res); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, res)
			}
			fmt.Fprintf(w, "%d results (%s)", res.Total, res.Took)
			if res.Network && res.Coverage != "" {
				fmt.Fprintf(w, ", %s", res.Coverage)
			}
			fmt.Fprintln(w)
			for _, p := range res.Unanswered {
				fmt.Fprintf(w, "No answer from %s: %s\n", p.Region, p.Reason)
			}
			if res.Warning != "" {
				fmt.Fprintf(w, "Note: %s\n", res.Warning)
			}
			for i, h := range res.Hits {
				fmt.Fprintf(w, "\n%d. %s [%s, %s, %s]\n   %s · from %s\n", i+1+(res.Page-1)*res.PageSize, h.Title, h.Region, h.Language,
					strings.Join(h.Topics, ","), h.CID, strings.Join(h.Source, ", "))
				for _, frags := range h.Snippets {
					for _, f := range frags {
						fmt.Fprintf(w, "   … %s …\n", html.UnescapeString(markRE.ReplaceAllString(f, "*")))
					}
					break
				}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&topic, "topic", "", "only this topic (comma-separated for several)")
	f.StringVar(&region, "region", "", "only this region")
	f.StringVar(&country, "country", "", "only this country code")
	f.StringVar(&lang, "lang", "", "only this language (ISO 639-1)")
	f.StringVar(&sort, "sort", "", "relevance (default) or date")
	f.StringVar(&reader, "reader", "", "show titles translated into this language where a translation exists")
	f.IntVar(&page, "page", 0, "result page")
	f.IntVar(&pageSize, "page-size", 0, "results per page (1-100)")
	f.BoolVar(&network, "network", false, "also ask the other members (federated search)")
	return withJSON(c, &asJSON)
}

func reindexCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cl, err := client(); err == nil {
				cx, cancel := ctx()
				defer cancel()
				var out map[string]any
				err := cl.Do(cx, "POST", "/api/v1/reindex", nil, &out)
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "Reindexed %v records in %v.\n", out["records"], out["took"])
					return nil
				}
				if !errors.Is(err, node.ErrNoDaemon) {
					return err
				}
				// The address file of a daemon that did not stop
				// cleanly: taking the home's lock below tells whether
				// one still runs.
			} else if !errors.Is(err, node.ErrNoDaemon) {
				return err
			}
			// No daemon: rebuild locally, holding the home's lock.
			release, err := home().TakeLock()
			if err != nil {
				return err
			}
			defer release()
			n, err := node.New(home(), node.Options{})
			if err != nil {
				return err
			}
			defer n.Close()
			var bar *progressbar.ProgressBar
			err = n.Reindex(func(done, total int) {
				if !term.IsTerminal(int(os.Stderr.Fd())) {
					return
				}
				if bar == nil {
					bar = progressbar.Default(int64(total), "reindexing")
				}
				bar.Set(done)
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Search index rebuilt.")
			return nil
		},
	}
}
