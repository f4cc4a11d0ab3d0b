// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/livinglab/livinglab/knowledge"
)

// ErrDaemonRunning is returned by CheckHome when a daemon holds the home.
var ErrDaemonRunning = errors.New("a daemon is running on this home")

// CheckHomeOptions adjust CheckHome.
type CheckHomeOptions struct {
	// Repair drops what cannot be trusted so the daemon restores it: damaged
	// records are discarded (the daemon fetches them from the members at its
	// next sync) and index entries that point at nothing are removed; the
	// search index rebuilds itself at start when it no longer matches.
	Repair   bool
	Progress func(done, total int)
}

// CheckHome runs a full integrity check of a stopped node's store: every
// record against its CID and signature, every index entry against the
// records and tombstones. The daemon must not be running (it holds the
// store: ErrDaemonRunning); a running daemon checks itself daily and on
// `POST /api/v1/check`.
func CheckHome(ctx context.Context, dir string, o CheckHomeOptions) (knowledge.CheckReport, error) {
	h := Home{Dir: dir}
	if _, err := LoadConfig(h.Config()); err != nil {
		return knowledge.CheckReport{}, err
	}
	release, err := h.TakeLock()
	if err != nil {
		return knowledge.CheckReport{}, fmt.Errorf("%w: %w", ErrDaemonRunning, err)
	}
	defer release()
	st, err := knowledge.Open(h.Store(), knowledge.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return knowledge.CheckReport{}, err
	}
	defer st.Close()
	rep, err := st.Check(ctx, knowledge.CheckOptions{Signatures: true, FixIndex: o.Repair, Progress: o.Progress})
	if err != nil || !o.Repair {
		return rep, err
	}
	if damaged := rep.DamagedRecords(); len(damaged) > 0 {
		if err := st.Discard(damaged); err != nil {
			return rep, err
		}
		if _, err := st.Check(ctx, knowledge.CheckOptions{FixIndex: true}); err != nil {
			return rep, err
		}
		for i := range rep.Problems {
			rep.Problems[i].Fixed = true
		}
	}
	return rep, nil
}
