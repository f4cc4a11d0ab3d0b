// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
)

// Set at release time with -ldflags "-X main.commit=... -X main.buildDate=...".
var (
	commit    = "unknown"
	buildDate = "unknown"
)

// errIncompatible makes `version --check-home` exit non-zero.
var errIncompatible = errors.New("home is not compatible with this release")

func versionCmd() *cobra.Command {
	var checkHome string
	c := command("version [--check-home DIR]", "Print the version, commit and build date; with --check-home, whether this release can run a home", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "livinglab %s\ncommit: %s\nbuilt: %s\ngo: %s %s/%s\n", node.Version, commit, buildDate,
			runtime.Version(), runtime.GOOS, runtime.GOARCH)
		fmt.Fprintf(w, "reads config up to version %d, store schema up to %d, search index schema %d\n",
			node.ConfigVersion, knowledge.SchemaVersion, search.SchemaVersion)
		if checkHome == "" {
			return nil
		}
		return checkHomeCompat(w, node.Home{Dir: checkHome})
	})
	c.Long = "version prints this release's version, commit and build date and the config and store versions it reads.\n" +
		"With --check-home DIR it reads the home's config and store without changing them and says whether this\n" +
		"release can run the home (an older home is migrated on the first start; a newer one is refused).\n" +
		"Stop the node first: a running node holds its store. The exit status is 1 when the home is not compatible."
	c.Flags().StringVar(&checkHome, "check-home", "", "say whether this release can run the node home DIR (reads only)")
	return c
}

// checkHomeCompat reports on each part of the home and returns
// errIncompatible when this release cannot run it.
func checkHomeCompat(w io.Writer, h node.Home) error {
	fmt.Fprintf(w, "home %s:\n", h.Dir)
	if _, err := os.Stat(h.Dir); err != nil {
		return fmt.Errorf("check home: %w", err)
	}
	if held, err := lockHeld(h.Lock()); err != nil {
		return fmt.Errorf("check home: %w", err)
	} else if held {
		return fmt.Errorf("a node is running on %s (lock %s held); stop it (systemctl stop livinglab) and check again", h.Dir, h.Lock())
	}
	ok := true

	raw, err := os.ReadFile(h.Config())
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w, "  config: none (the home is not initialised; run livinglab init)\n")
	case err != nil:
		return fmt.Errorf("check home: %w", err)
	default:
		var v struct {
			Version json.Number `json:"version"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("check home: config %s is not valid JSON: %w", h.Config(), err)
		}
		n, err := v.Version.Int64()
		switch {
		case err != nil || n < 1:
			fmt.Fprintf(w, "  config: no valid version: not compatible\n")
			ok = false
		case n > node.ConfigVersion:
			fmt.Fprintf(w, "  config: version %d, newer than this release reads (%d): not compatible\n", n, node.ConfigVersion)
			ok = false
		case n < node.ConfigVersion:
			fmt.Fprintf(w, "  config: version %d: compatible, migrated to %d on the first start (the old file is kept as config.json.v%d)\n", n, node.ConfigVersion, n)
		default:
			fmt.Fprintf(w, "  config: version %d: compatible\n", n)
		}
	}

	v, err := knowledge.ReadSchema(h.Store())
	switch {
	case errors.Is(err, knowledge.ErrStoreInUse):
		return fmt.Errorf("check home: %w; stop the node (systemctl stop livinglab) and check again", err)
	case err != nil:
		return fmt.Errorf("check home: %w", err)
	case v > knowledge.SchemaVersion:
		fmt.Fprintf(w, "  store: schema %d, newer than this release reads (%d): not compatible\n", v, knowledge.SchemaVersion)
		ok = false
	case v == 0:
		fmt.Fprintf(w, "  store: empty: compatible\n")
	case v < knowledge.SchemaVersion:
		fmt.Fprintf(w, "  store: schema %d: compatible, migrated to %d on the first start\n", v, knowledge.SchemaVersion)
	default:
		fmt.Fprintf(w, "  store: schema %d: compatible\n", v)
	}

	if !ok {
		fmt.Fprintf(w, "not compatible: keep the home and install the release that wrote it, or a newer one\n")
		return fmt.Errorf("%w: %s", errIncompatible, h.Dir)
	}
	fmt.Fprintf(w, "compatible: livinglab %s can run this home\n", node.Version)
	return nil
}

// lockHeld says whether a process holds the home's lock file.
func lockHeld(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true, nil
		}
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}
