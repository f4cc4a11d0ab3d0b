// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"

	badger "github.com/dgraph-io/badger/v4"
)

// ErrStoreInUse is returned by ReadSchema for a store that a running
// process holds open.
var ErrStoreInUse = errors.New("store is in use by another process")

// ReadSchema reads the schema version of the store in dir without migrating
// or writing anything, so that a newer release can tell before it starts
// whether it can open the store. A missing or empty dir is a fresh store
// (version 0).
func ReadSchema(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read store %s: %w", dir, err)
	}
	o := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	db, err := badger.Open(o.Badger(dir).WithReadOnly(true).WithBlockCacheSize(1 << 20).WithIndexCacheSize(1 << 20))
	// Badger flattens the flock error into its message.
	if err != nil && (errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "Another process is using this Badger database")) {
		return 0, fmt.Errorf("read store %s: %w", dir, ErrStoreInUse)
	}
	if err != nil {
		return 0, fmt.Errorf("read store %s: %w", dir, err)
	}
	defer db.Close()
	s := &Store{db: db}
	v, err := s.SchemaOf()
	if err != nil {
		return 0, fmt.Errorf("read store schema %s: %w", dir, err)
	}
	return v, nil
}
