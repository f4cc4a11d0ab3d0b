// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Dump writes the store's entries changed after version since (0: all of
// them) as one stream, and returns the version a later incremental dump
// starts from. Backups carry this stream; LoadDumps reads it back.
func (s *Store) Dump(w io.Writer, since uint64) (uint64, error) { return s.db.Backup(w, since) }

// Loader fills a new store directory from dumps, a full one first and then
// incremental ones in order. Close it, then Open the store: the store
// migrates from the dumps' schema if needed.
type Loader struct{ db *badger.DB }

// NewLoader opens dir for loading dumps.
func NewLoader(dir string) (*Loader, error) {
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).
		WithMemTableSize(16 << 20).WithNumMemtables(2).WithBlockCacheSize(16 << 20).WithIndexCacheSize(16 << 20))
	if err != nil {
		return nil, err
	}
	return &Loader{db: db}, nil
}

// Load adds one dump.
func (l *Loader) Load(r io.Reader) error { return l.db.Load(r, 256) }

// Close finishes loading.
func (l *Loader) Close() error { return l.db.Close() }

// RawKV is a bare key-value database with the store's Badger settings and
// none of its layout, for measurements that compare the node with
// gossipsub and a plain write alone.
type RawKV struct{ db *badger.DB }

// OpenRawKV opens dir as a RawKV.
func OpenRawKV(dir string, o Options) (*RawKV, error) {
	db, err := badger.Open(o.Badger(dir))
	if err != nil {
		return nil, err
	}
	return &RawKV{db: db}, nil
}

// Set writes one entry.
func (kv *RawKV) Set(k, v []byte) error {
	return kv.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) })
}

// Close closes the database.
func (kv *RawKV) Close() error { return kv.db.Close() }
