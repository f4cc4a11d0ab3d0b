// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

func checkCmd() *cobra.Command {
	var repair, asJSON bool
	c := command("check [--repair] --home DIR", "Check the store: every record against its CID and signature, every index entry", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var bar *progressbar.ProgressBar
		progress := func(done, total int) {
			if !term.IsTerminal(int(os.Stderr.Fd())) {
				return
			}
			if bar == nil {
				bar = progressbar.Default(int64(total), "checking")
			}
			bar.ChangeMax(total)
			bar.Set(done)
		}
		rep, err := node.CheckHome(cmd.Context(), homeDir, node.CheckHomeOptions{Repair: repair, Progress: progress})
		running := errors.Is(err, node.ErrDaemonRunning)
		if running {
			// The daemon holds the store: it scans and repairs itself.
			cl, cerr := client()
			if cerr != nil {
				return cerr
			}
			cx, cancel := ctx()
			defer cancel()
			rep = knowledge.CheckReport{}
			err = cl.Do(cx, "POST", "/api/v1/check", struct{}{}, &rep)
		}
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(os.Stderr)
		}
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(out, "Checked %d records, %d index entries and %d tombstones in %s.\n",
				rep.Records, rep.IndexKeys, rep.Tombstones, rep.Took.Round(1e6))
			for _, p := range rep.Problems {
				fixed := ""
				if p.Fixed {
					fixed = " (repaired)"
				}
				fmt.Fprintf(out, "  %s %s: %s%s\n", p.Where, p.CID, p.Problem, fixed)
			}
		}
		if len(rep.Problems) == 0 {
			if !asJSON {
				fmt.Fprintln(out, "No damage found.")
			}
			return nil
		}
		if running {
			return fmt.Errorf("%d problems found; the daemon repaired what the members could supply (see status and /metrics)", len(rep.Problems))
		}
		if repair {
			if !asJSON {
				fmt.Fprintln(out, "Repaired: start the node and it fetches the discarded records from the members.")
			}
			return nil
		}
		return fmt.Errorf("%d problems found; run with --repair to repair them", len(rep.Problems))
	})
	c.Long = "Scans the whole store. Exit status 0: nothing damaged; 1: damage found.\n" +
		"On a stopped node, --repair discards damaged records and index entries that point at nothing;\n" +
		"the node fetches those records from the members at its next sync and rebuilds its search index\n" +
		"at start. A running daemon is asked to scan itself now (it also does so daily) and repairs\n" +
		"what it can from the connected members at once; what is left is reported."
	c.Flags().BoolVar(&repair, "repair", false, "discard damaged records and dangling index entries for the node to restore")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}
