// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/node"
)

func bundleCmd() *cobra.Command {
	c := command("bundle", "Carry signed records offline: export them to a CAR file, import one", nil, nil)
	c.Long = "A bundle is a CAR file of signed records with the membership records that prove their authors,\n" +
		"for sites that a network reaches seldom or never. Anyone can check it: every block is addressed by\n" +
		"its hash and every record carries its author's signature."
	c.AddCommand(bundleExportCmd(), bundleImportCmd())
	return c
}

func bundleExportCmd() *cobra.Command {
	var topic, since, out string
	c := command("export [--topic T] [--since DATE] --out FILE.car", "Write the records this node holds to a bundle", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		if out == "" {
			return fmt.Errorf("give the bundle's file with --out FILE.car")
		}
		n, err := download(withQuery("/api/v1/bundle", "topic", topic, "since", since), out)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Bundle written to %s (%d bytes).\n", out, n)
		return nil
	})
	c.Flags().StringVar(&topic, "topic", "", "only practices and lessons of this topic")
	c.Flags().StringVar(&since, "since", "", "only practices and lessons created on or after this date (2026-05-01)")
	c.Flags().StringVar(&out, "out", "", "the bundle file to write")
	return c
}

func bundleImportCmd() *cobra.Command {
	var asJSON bool
	c := command("import FILE.car", "Verify a bundle and store its records", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		cx, cancel := ctx()
		defer cancel()
		resp, err := rawCall(cx, nil, "POST", "/api/v1/bundle",
			&progressReader{r: f, total: st.Size(), label: "importing"}, st.Size(), "application/vnd.ipld.car")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return err
		}
		var rep node.BundleReport
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), rep)
		}
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "Bundle of %s: %d records, %d added, %d skipped, %d refused.\n", rep.Federation, rep.Records,
			rep.Added, rep.Skipped, len(rep.Refused))
		for _, r := range rep.Refused {
			fmt.Fprintf(w, "  refused %s %s: %s\n", r.Kind, r.CID, r.Reason)
		}
		if len(rep.NotFollowed) > 0 {
			fmt.Fprintf(w, "Skipped records of topics this node does not follow: %s (livinglab topics subscribe NAME, then import again).\n",
				strings.Join(rep.NotFollowed, ", "))
		}
		return nil
	})
	c.Long = "Checks every block against its CID, every signature, the federation and each author's membership\n" +
		"before storing anything: a damaged, truncated or foreign bundle is refused whole. Importing a\n" +
		"bundle again adds nothing."
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}
