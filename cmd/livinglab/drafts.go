// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// ---- drafts ----

// draftCmd is "draft --initiative ID [--out FILE]": assemble a draft
// practice from an initiative (for the practice command group).
func draftCmd() *cobra.Command { return newDraftCreateCmd("draft --initiative ID [--out FILE]") }

func newDraftCreateCmd(use string) *cobra.Command {
	var initiative, out string
	var asJSON bool
	c := command(use, "Assemble a draft practice from an initiative", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		if strings.TrimSpace(initiative) == "" {
			return fmt.Errorf("--initiative is required (see: livinglab lab initiative list)")
		}
		var d knowledge.Draft
		if err := call("POST", "/api/v1/drafts", map[string]string{"initiative": initiative}, &d); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if out != "" {
			var buf bytes.Buffer
			if err := printJSON(&buf, d); err != nil {
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
				return err
			}
		}
		if asJSON {
			return printJSON(w, d)
		}
		fmt.Fprintf(w, "Draft %s assembled from initiative %s.\n", d.ID, d.InitiativeID)
		if out != "" {
			fmt.Fprintf(w, "Wrote it to %s.\nNext: edit the file, then: livinglab draft edit %s --file %s\n", out, d.ID, out)
		} else {
			fmt.Fprintf(w, "Next: complete it (resources, difficulties, transferability): livinglab draft edit %s --file FILE\n", d.ID)
		}
		fmt.Fprintf(w, "Then review exactly what would leave: livinglab draft preview %s\n", d.ID)
		return nil
	})
	c.Long = "Builds a draft practice from an initiative and its activities, evaluations and lessons: only the fields\n" +
		"a public practice carries, stakeholder roles and never names. Nothing leaves the node."
	c.Flags().StringVar(&initiative, "initiative", "", "initiative ID")
	c.Flags().StringVar(&out, "out", "", "also write the draft JSON to FILE")
	return withJSON(c, &asJSON)
}

func draftState(d knowledge.Draft) string {
	switch {
	case d.Approval != nil:
		return "approved"
	case d.Published != "":
		return "published"
	}
	return "draft"
}

func printDraftList(w io.Writer, ds []knowledge.Draft) error {
	tw := newTable(w, "ID", "UPDATED", "STATE", "INITIATIVE", "TOPICS", "TITLE")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Updated.Local().Format("2006-01-02 15:04"), draftState(d),
			d.InitiativeID, strings.Join(d.Topics, ","), oneLine(d.Title, 60))
	}
	return tw.Flush()
}

func printDraftShow(w io.Writer, d knowledge.Draft) error {
	fmt.Fprintf(w, "%s\n%s · revision %d · %s · topics %s · language %s · stage %d\n", d.Title, d.ID, d.Rev, draftState(d),
		strings.Join(d.Topics, ", "), d.Language, d.Stage)
	if d.Published != "" {
		fmt.Fprintf(w, "last published as %s\n", d.Published)
	}
	fmt.Fprintln(w)
	for _, f := range []struct{ k, v string }{{"Summary", d.Summary}, {"Problem", d.Problem}, {"Approach", d.Approach},
		{"Stakeholder roles", strings.Join(d.StakeholderRoles, "; ")}, {"Results", d.Results}, {"Resources", d.Resources},
		{"Difficulties", d.Difficulties}, {"Transferability", d.Transferability}, {"Period", d.Period},
		{"Links", strings.Join(d.Links, " ")}} {
		if f.v != "" {
			fmt.Fprintf(w, "%s\n  %s\n", f.k, strings.ReplaceAll(f.v, "\n", "\n  "))
		}
	}
	if len(d.Lessons) > 0 {
		fmt.Fprintln(w, "Lessons")
		for _, l := range d.Lessons {
			fmt.Fprintf(w, "  - %s\n", l)
		}
	}
	return nil
}

func printDraftEdited(w io.Writer, d knowledge.Draft) error {
	fmt.Fprintf(w, "Updated draft %s (revision %d).\nNext: livinglab draft preview %s\n", d.ID, d.Rev, d.ID)
	return nil
}

// decisionFlags registers --confirm and --redact, a reviewer's decisions
// on uncertain names, and returns a function giving the body for them (nil
// when neither flag was given: the draft's stored decisions apply).
func decisionFlags(c *cobra.Command) func() *node.DraftDecisions {
	var confirm, redact []string
	c.Flags().StringArrayVar(&confirm, "confirm", nil, "an uncertain name that is not personal: keep it (repeatable)")
	c.Flags().StringArrayVar(&redact, "redact", nil, "an uncertain name that is personal: redact it (repeatable)")
	return func() *node.DraftDecisions {
		if !c.Flags().Changed("confirm") && !c.Flags().Changed("redact") {
			return nil
		}
		d := &node.DraftDecisions{Confirmed: confirm, Redact: redact}
		if d.Confirmed == nil {
			d.Confirmed = []string{}
		}
		if d.Redact == nil {
			d.Redact = []string{}
		}
		return d
	}
}

// previewCmd is "preview DRAFT-ID": print exactly what publishing the draft
// would send, every redaction, the uncertain names and the hash to approve.
func previewCmd() *cobra.Command {
	var decisions func() *node.DraftDecisions
	var approve, asJSON bool
	var by string
	c := command("preview DRAFT-ID [--confirm NAME]... [--redact NAME]... [--approve]", "Show exactly what publishing a draft would send, every redaction, and approve it", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		id := args[0]
		dec := decisions()
		var body any
		if dec != nil {
			body = dec
		}
		var pv node.DraftPreview
		if err := call("POST", apiPath("drafts", id, "preview"), body, &pv); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if asJSON && !approve {
			return printJSON(w, pv)
		}
		if !asJSON {
			printPreview(w, pv)
		}
		if !approve {
			if !pv.Approved {
				fmt.Fprintf(w, "\nTo approve exactly this, run the same command with --approve.\n")
			} else {
				fmt.Fprintf(w, "\nThis is approved. Publish it with: livinglab draft publish %s\n", id)
			}
			return nil
		}
		req := node.ApproveRequest{Hash: pv.Hash, By: by}
		if dec != nil {
			req.DraftDecisions = *dec
		}
		var ap node.DraftPreview
		if err := call("POST", apiPath("drafts", id, "approve"), req, &ap); err != nil {
			return err
		}
		if asJSON {
			return printJSON(w, ap)
		}
		fmt.Fprintf(w, "\nApproved %s.\nPublish it with: livinglab draft publish %s\n", ap.Hash, id)
		return nil
	})
	c.Long = "Prints the public record exactly as it would leave this node, the anonymisation report, the uncertain\n" +
		"names to decide and the hash of the public bytes. Uncertain names are redacted unless confirmed:\n" +
		"--confirm NAME keeps one (not personal), --redact NAME removes one. With --approve the previewed hash\n" +
		"is approved, with these decisions; publishing then sends exactly this, or nothing."
	decisions = decisionFlags(c)
	c.Flags().BoolVar(&approve, "approve", false, "approve the previewed hash (with these decisions)")
	c.Flags().StringVar(&by, "by", "", "who approves (kept on this node)")
	return withJSON(c, &asJSON)
}

func printPreview(w io.Writer, pv node.DraftPreview) {
	fmt.Fprintf(w, "This is exactly what would leave this node, to the topics %s:\n", strings.Join(pv.Topics, ", "))
	printJSON(w, pv.Practice)
	fmt.Fprintln(w)
	printReport(w, pv.Report)
	if len(pv.Report.Candidates) > 0 {
		fmt.Fprintln(w, "\nUncertain names (redacted above unless confirmed):")
		seen := map[string]bool{}
		for _, c := range pv.Report.Candidates {
			if !seen[c.Text] {
				seen[c.Text] = true
				fmt.Fprintf(w, "  %q  (%s, %s)\n", c.Text, c.Field, c.Reason)
			}
		}
		fmt.Fprintln(w, "Keep a name that is not personal with --confirm NAME; remove one that is with --redact NAME.")
	}
	if len(pv.Confirmed) > 0 {
		fmt.Fprintf(w, "Confirmed as not personal: %s\n", strings.Join(pv.Confirmed, "; "))
	}
	if len(pv.Redact) > 0 {
		fmt.Fprintf(w, "Redacted as personal: %s\n", strings.Join(pv.Redact, "; "))
	}
	fmt.Fprintf(w, "\nHash: %s\n", pv.Hash)
}

func draftApproveCmd() *cobra.Command {
	var hash, by string
	var decisions func() *node.DraftDecisions
	c := command("approve DRAFT-ID --hash HASH [--confirm NAME]... [--redact NAME]...", "Approve a previewed draft by the hash its preview showed", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		if hash == "" {
			return fmt.Errorf("--hash is required: the hash livinglab draft preview %s shows", args[0])
		}
		req := node.ApproveRequest{Hash: hash, By: by}
		if dec := decisions(); dec != nil {
			req.DraftDecisions = *dec
		}
		var ap node.DraftPreview
		if err := call("POST", apiPath("drafts", args[0], "approve"), req, &ap); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Approved %s.\nPublish it with: livinglab draft publish %s\n", ap.Hash, args[0])
		return nil
	})
	c.Flags().StringVar(&hash, "hash", "", "the hash the preview showed")
	decisions = decisionFlags(c)
	c.Flags().StringVar(&by, "by", "", "who approves (kept on this node)")
	return c
}

func draftPublishCmd() *cobra.Command {
	var asJSON bool
	c := command("publish DRAFT-ID", "Sign and publish an approved draft, exactly as approved", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		var out node.Published
		if err := call("POST", apiPath("drafts", args[0], "publish"), nil, &out); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if asJSON {
			return printJSON(w, out)
		}
		printReport(w, out.Report)
		fmt.Fprintf(w, "Published version %d to %s\n%s\n", out.Practice.Version, strings.Join(out.Topics, ", "), out.CID)
		return nil
	})
	c.Long = "Publishes the draft only if it is approved and what would leave is still exactly what was approved;\n" +
		"otherwise nothing is sent. A draft published before is published as a new version."
	return withJSON(c, &asJSON)
}
