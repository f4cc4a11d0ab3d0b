// SPDX-License-Identifier: EUPL-1.2

// Command livinglab-release makes and checks what a release of livinglab
// ships: licence identifiers in the source files, the third-party notices,
// and the release itself (reproducible binaries for linux/amd64 and
// linux/arm64, SHA-256 checksums, CycloneDX SBOMs and Debian packages).
//
// Run it from the repository root:
//
//	go run ./cmd/livinglab-release spdx --fix      # add missing SPDX licence identifiers
//	go run ./cmd/livinglab-release notices         # regenerate THIRD_PARTY_NOTICES
//	go run ./cmd/livinglab-release build           # dist/: binaries, SHA256SUMS, SBOMs, .deb packages
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var root string
	c := &cobra.Command{
		Use:           "livinglab-release",
		Short:         "Licence identifiers, third-party notices and release artefacts of livinglab",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(root + "/go.mod"); err != nil {
				return fmt.Errorf("%s is not the repository root (no go.mod): run from the root or pass --root", root)
			}
			return nil
		},
	}
	c.PersistentFlags().StringVar(&root, "root", ".", "repository root")
	c.AddCommand(spdxCmd(&root), noticesCmd(&root), buildCmd(&root))
	return c
}
