// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

func practiceCmd() *cobra.Command {
	c := &cobra.Command{Use: "practice", Short: "Publish, show, retract and trace practices"}
	c.AddCommand(publishCmd(), showCmd(), retractCmd(), historyCmd(), draftCmd(), previewCmd())
	return c
}

func readPracticeFile(path string) (*node.PracticeInput, error) {
	var in node.PracticeInput
	if err := readStrictJSON(path, &in, "a valid practice file"); err != nil {
		return nil, err
	}
	return &in, nil
}

func publishCmd() *cobra.Command {
	var file, supersedes string
	var keep, redact, adapted []string
	var dryRun, asJSON bool
	c := command("publish (DRAFT-ID | --file practice.json [--keep WORD]... [--redact WORD]... [--adapted-from CID[:CHANGES]]...)", "Publish an approved draft, or anonymise, sign and publish a practice file", cobra.MaximumNArgs(1), func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			if file != "" {
				return fmt.Errorf("give either a DRAFT-ID or --file, not both")
			}
			return draftPublishCmd().RunE(cmd, args)
		}
		if file == "" {
			return fmt.Errorf("--file is required (or give an approved DRAFT-ID)")
		}
		in, err := readPracticeFile(file)
		if err != nil {
			return err
		}
		if supersedes != "" {
			in.Supersedes = supersedes
		}
		for _, a := range adapted {
			c, changes, _ := strings.Cut(a, ":")
			in.AdaptedFrom = append(in.AdaptedFrom, protocol.Adaptation{Practice: strings.TrimSpace(c), Changes: strings.TrimSpace(changes)})
		}
		in.Keep = append(in.Keep, keep...)
		in.Redact = append(in.Redact, redact...)
		return publishAndPrint(cmd.OutOrStdout(), "/api/v1/practices", in, dryRun, asJSON,
			func(out node.Published) outcome { return outcome{out.Report, out.Practice, out.Topics, out.CID} })
	})
	c.Long = "With DRAFT-ID, signs and publishes a draft exactly as approved after its preview (nothing is\n" +
		"published if it changed since). With --file, runs a complete practice through the anonymisation gate\n" +
		"in one step (failing closed: every finding and every uncertain name is redacted), prints the\n" +
		"redaction report, signs and publishes it and prints its CID. --keep and --redact carry a reviewer's\n" +
		"decisions on uncertain names, as for drafts (run with --dry-run first to see the candidates)."
	c.Flags().StringVar(&file, "file", "", "practice JSON file")
	c.Flags().StringVar(&supersedes, "supersedes", "", "CID of the version this one replaces")
	c.Flags().StringArrayVar(&adapted, "adapted-from", nil, "CID of a practice this one adapts, with what changed after a colon (repeatable)")
	c.Flags().StringArrayVar(&keep, "keep", nil, "a word or phrase that is not personal: kept (repeatable)")
	c.Flags().StringArrayVar(&redact, "redact", nil, "a word or phrase that is personal: always redacted (repeatable)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would leave")
	return withJSON(c, &asJSON)
}

func printReport(w interface{ Write([]byte) (int, error) }, r node.GateReport) {
	if len(r.Findings) == 0 && len(r.Candidates) == 0 {
		fmt.Fprintln(w, "Anonymisation: nothing to redact.")
		return
	}
	fmt.Fprintf(w, "Anonymisation: %d redaction(s)\n", len(r.Findings))
	tw := newTable(w)
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t[%d:%d]\t-> %s\t%s\t%s\n", f.Field, f.Type, f.Start, f.End, f.Replacement, f.Detector, f.Evidence)
	}
	tw.Flush()
	for _, c := range r.Candidates {
		fmt.Fprintf(w, "  to confirm: %q in %s (%s)\n", c.Text, c.Field, c.Reason)
	}
}

// outcome is what a publication's answer tells people: its redaction
// report, what leaves (or would leave), where it went and its CID.
type outcome struct {
	report  node.GateReport
	leaving any
	topics  []string
	cid     string
}

// publishAndPrint posts a publication (only its dry run with dryRun) to
// path and prints the answer as JSON or, through of, as its outcome.
func publishAndPrint[T any](w io.Writer, path string, in any, dryRun, asJSON bool, of func(T) outcome) error {
	if dryRun {
		path += "?dry_run=true"
	}
	var out T
	if err := call("POST", path, in, &out); err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, out)
	}
	return printOutcome(w, of(out), dryRun)
}

// printOutcome prints a publication's redaction report, then what would
// leave (a dry run) or where it went.
func printOutcome(w io.Writer, o outcome, dryRun bool) error {
	printReport(w, o.report)
	if dryRun {
		fmt.Fprintln(w, "Dry run: nothing was signed or sent. This is what would leave:")
		return printJSON(w, o.leaving)
	}
	fmt.Fprintf(w, "Published to %s\n%s\n", strings.Join(o.topics, ", "), o.cid)
	return nil
}

func showCmd() *cobra.Command {
	var asJSON bool
	c := command("show CID [--json]", "Show one practice", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		var v node.PracticeView
		if err := call("GET", apiPath("practices", args[0]), nil, &v); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if asJSON {
			return printJSON(w, v)
		}
		fmt.Fprintf(w, "%s\n%s, %s · %s · version %d · %s\nCID %s\n\n", v.Title, v.Region, v.Country, strings.Join(v.Topics, ", "), v.Version, v.Created.Format("2006-01-02"), v.CID)
		for _, f := range []struct{ k, v string }{{"Summary", v.Summary}, {"Problem", v.Problem}, {"Approach", v.Approach},
			{"Results", v.Results}, {"Resources", v.Resources}, {"Difficulties", v.Difficulties}, {"Transferability", v.Transferability}} {
			if f.v != "" {
				fmt.Fprintf(w, "%s\n  %s\n", f.k, f.v)
			}
		}
		if len(v.Lessons) > 0 {
			fmt.Fprintln(w, "Lessons")
			for _, l := range v.Lessons {
				fmt.Fprintf(w, "  - %s\n", l)
			}
		}
		if v.SupersededBy != "" {
			fmt.Fprintf(w, "\nSuperseded by %s\n", v.SupersededBy)
		}
		return nil
	})
	return withJSON(c, &asJSON)
}

func retractCmd() *cobra.Command {
	var reason string
	c := command("retract CID --reason TEXT", "Withdraw a practice everywhere (a signed tombstone)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		if strings.TrimSpace(reason) == "" {
			return fmt.Errorf("--reason is required")
		}
		var out map[string]string
		if err := call("POST", apiPath("practices", args[0], "retract"), map[string]string{"reason": reason}, &out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Retracted %s (tombstone %s).\nNodes drop its content when they receive the tombstone; a hostile node can still keep a copy.\n", out["retracted"], out["tombstone"])
		return nil
	})
	c.Flags().StringVar(&reason, "reason", "", "why the record is withdrawn")
	return c
}

func historyCmd() *cobra.Command {
	var asJSON bool
	c := command("history CID [--json]", "List every version of a practice", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		var vs []node.PracticeView
		if err := call("GET", apiPath("practices", args[0], "history"), nil, &vs); err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), vs)
		}
		tw := newTable(cmd.OutOrStdout(), "VERSION", "CREATED", "CID", "TITLE")
		for _, v := range vs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.Created.Format("2006-01-02 15:04"), v.CID, v.Title)
		}
		return tw.Flush()
	})
	return withJSON(c, &asJSON)
}

func practicesCmd() *cobra.Command {
	c := &cobra.Command{Use: "practices", Short: "List practices held by this node"}
	var topic string
	var asJSON, all bool
	list := command("list [--topic T] [--json]", "List the latest version of every practice held", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var raw json.RawMessage
		if err := call("GET", withQuery("/api/v1/practices", "topic", topic, "all", ifSet(all)), nil, &raw); err != nil {
			return err
		}
		if asJSON {
			_, err := cmd.OutOrStdout().Write(raw)
			return err
		}
		var vs []node.PracticeView
		if err := json.Unmarshal(raw, &vs); err != nil {
			return err
		}
		tw := newTable(cmd.OutOrStdout(), "CREATED", "REGION", "LANG", "TOPICS", "TITLE", "CID")
		for _, v := range vs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Created.Format("2006-01-02"), v.Region, v.Language, strings.Join(v.Topics, ","), v.Title, v.CID)
		}
		return tw.Flush()
	})
	list.Flags().StringVar(&topic, "topic", "", "only this topic")
	withJSON(list, &asJSON)
	list.Flags().BoolVar(&all, "all", false, "include superseded versions")
	c.AddCommand(list)
	return c
}
