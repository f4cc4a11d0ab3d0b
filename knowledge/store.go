// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// SchemaVersion is the version of the store layout this code writes.
const SchemaVersion = 4

// ErrNotFound is returned when a record or entity is not held.
var ErrNotFound = errors.New("not found")

// ErrSchemaTooNew is returned when the store was written by a newer release.
var ErrSchemaTooNew = errors.New("store schema is newer than this release")

// Key prefixes. Each family of keys has one byte-string prefix.
var (
	keySchema = []byte("m/schema")
	keySeq    = []byte("m/seq") // own last sequence number + CID
	pfxRecord = []byte("r/")    // r/<cid>                    -> envelope
	pfxTopic  = []byte("t/")    // t/<topic>\x00<ms><cid>     -> nil
	pfxKind   = []byte("k/")    // k/<kind>\x00<ms><cid>      -> nil
	pfxAuthor = []byte("a/")    // a/<author>\x00<seq>        -> cid
	pfxTomb   = []byte("x/")    // x/<cid>\x00<signer>         -> tombstone (v1: x/<cid>)
	pfxSuper  = []byte("s/")    // s/<cid>                    -> cid of the version superseding it
	pfxVers   = []byte("v/")    // v/<practice id>\x00<ver>   -> cid
	// l/<author>\x00<minute>: see limit.go
)

// Options tunes Badger. The zero value is the small-server profile.
type Options struct {
	MemTableMB     int64
	NumMemtables   int
	BlockCacheMB   int64
	IndexCacheMB   int64
	ValueLogFileMB int64
	NumCompactors  int
	SyncWrites     bool
	Logger         *slog.Logger
	// OnDamaged, if set, is called (at most once per record until it is
	// repaired) when a read finds a stored record whose bytes no longer
	// match its CID, so the node can count, log and repair it.
	OnDamaged func(c cid.Cid, err error)
}

func (o Options) withDefaults() Options {
	o.MemTableMB = cmp.Or(o.MemTableMB, 8)
	o.NumMemtables = cmp.Or(o.NumMemtables, 2)
	o.BlockCacheMB = cmp.Or(o.BlockCacheMB, 8)
	o.IndexCacheMB = cmp.Or(o.IndexCacheMB, 8)
	o.ValueLogFileMB = cmp.Or(o.ValueLogFileMB, 64)
	o.NumCompactors = cmp.Or(o.NumCompactors, 2)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is the node's Badger database.
type Store struct {
	db  *badger.DB
	log *slog.Logger
	// authorMu serialises the stores of one author's records (striped).
	authorMu [authorStripes]sync.Mutex

	onDamaged func(cid.Cid, error)
	damagedMu sync.Mutex
	damaged   map[cid.Cid]error // found on read, not yet repaired
}

// Badger returns the Badger options the store opens dir with (defaults
// applied), for tools that measure Badger as the node uses it.
//
// Level 0 holds up to four flushed memtables before they are compacted
// into level 1: with the small 8 MiB memtables, compacting every second
// flush cost a write burst 10-20 % of its records per second.
func (o Options) Badger(dir string) badger.Options {
	o = o.withDefaults()
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{o.Logger.With("component", "badger")}).
		WithMemTableSize(o.MemTableMB << 20).
		WithNumMemtables(o.NumMemtables).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(o.BlockCacheMB << 20).
		WithIndexCacheSize(o.IndexCacheMB << 20).
		WithValueLogFileSize(o.ValueLogFileMB << 20).
		WithNumCompactors(o.NumCompactors).
		WithCompression(options.ZSTD).
		WithSyncWrites(o.SyncWrites).
		WithValueThreshold(1 << 10)
}

// Open opens (or creates) the store in dir and runs pending migrations.
func Open(dir string, o Options) (*Store, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if err := removeEmptyMemtables(dir, o.Logger); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	bo := o.Badger(dir)
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, log: o.Logger.With("component", "store"), onDamaged: o.OnDamaged, damaged: map[cid.Cid]error{}}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes Badger for backup and maintenance.
func (s *Store) DB() *badger.DB { return s.db }

// RunGC runs value-log garbage collection until nothing is left to collect.
func (s *Store) RunGC() int {
	n := 0
	for s.db.RunValueLogGC(0.5) == nil {
		n++
	}
	return n
}

// Size returns the LSM and value-log sizes in bytes.
func (s *Store) Size() (lsm, vlog int64) { return s.db.Size() }

// migration moves the store from version From to From+1.
type migration struct {
	From int
	// Prepare, if set, does the bulk of the work in transactions of its
	// own before Run; it must be safe to run again after an interruption.
	Prepare func(db *badger.DB) error
	Run     func(txn *badger.Txn) error
}

// migrations is the ordered list of store migrations. Version 0 is an empty,
// fresh store.
var migrations = []migration{
	{From: 0, Run: func(*badger.Txn) error { return nil }},
	{From: 1, Prepare: func(db *badger.DB) error {
		for {
			n := 0
			err := db.Update(func(txn *badger.Txn) error {
				var err error
				n, err = migrateTombKeysN(txn, 1000)
				return err
			})
			if err != nil || n == 0 {
				return err
			}
		}
	}, Run: migrateTombKeys},
	// Version 3 counts each author's practices and lessons per minute of
	// signing time, for the publishing limit.
	{From: 2, Prepare: migrateWindowCounts, Run: func(*badger.Txn) error { return nil }},
	// Version 4 keeps the head of this node's own chain on each topic
	// (record format 2 names the author's previous record per topic).
	{From: 3, Run: migrateOwnChains},
}

// migrateTombKeys moves version 1's single tombstone per target
// (x/<cid>) to version 2's one per target and signer (x/<cid>\x00<signer>).
func migrateTombKeys(txn *badger.Txn) error {
	_, err := migrateTombKeysN(txn, 0)
	return err
}

// migrateTombKeysN moves up to limit tombstones (0: all) and returns how
// many it moved.
func migrateTombKeysN(txn *badger.Txn, limit int) (int, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxTomb, PrefetchValues: true})
	type move struct{ old, new, val []byte }
	var moves []move
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		c, err := cid.Cast(k[len(pfxTomb):])
		if err != nil {
			continue // already in the version 2 form
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return 0, err
		}
		var t struct {
			By string `cbor:"by"`
		}
		if err := cbor.Unmarshal(v, &t); err != nil || t.By == "" {
			it.Close()
			return 0, fmt.Errorf("tombstone %s: unreadable: %v", c, err)
		}
		moves = append(moves, move{k, cat(pfxTomb, c.Bytes(), []byte{0}, []byte(t.By)), v})
		if limit > 0 && len(moves) >= limit {
			break
		}
	}
	it.Close()
	for _, m := range moves {
		if err := txn.Set(m.new, m.val); err != nil {
			return 0, err
		}
		if err := txn.Delete(m.old); err != nil {
			return 0, err
		}
	}
	return len(moves), nil
}

// valueIfHeld calls fn with the value under key, when there is one.
func valueIfHeld(txn *badger.Txn, key []byte, fn func([]byte) error) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return item.Value(fn)
}

// SchemaOf reads the schema version of a store.
func (s *Store) SchemaOf() (int, error) {
	v := 0
	err := s.db.View(func(txn *badger.Txn) error {
		return valueIfHeld(txn, keySchema, func(b []byte) error {
			if len(b) != 4 {
				return fmt.Errorf("schema key has %d bytes", len(b))
			}
			v = int(binary.BigEndian.Uint32(b))
			return nil
		})
	})
	return v, err
}

func (s *Store) migrate() error {
	v, err := s.SchemaOf()
	if err != nil {
		return fmt.Errorf("read store schema: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: the store is version %d and this release knows up to %d; run a newer livinglab or restore a backup", ErrSchemaTooNew, v, SchemaVersion)
	}
	fresh := v == 0
	for _, m := range migrations {
		if m.From < v {
			continue
		}
		if m.Prepare != nil {
			if err := m.Prepare(s.db); err != nil {
				return fmt.Errorf("migrate store from version %d: %w", m.From, err)
			}
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			if err := m.Run(txn); err != nil {
				return err
			}
			return txn.Set(keySchema, binary.BigEndian.AppendUint32(nil, uint32(m.From+1)))
		})
		if err != nil {
			return fmt.Errorf("migrate store from version %d: %w", m.From, err)
		}
		if !fresh {
			s.log.Info("migrated store", "from", m.From, "to", m.From+1)
		}
		v = m.From + 1
	}
	return nil
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Infof(f string, a ...any)    { b.l.Debug(fmt.Sprintf(f, a...)) }
func (b badgerLogger) Debugf(f string, a ...any)   {}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func topicKey(topic string, ms int64, c cid.Cid) []byte {
	return cat(pfxTopic, []byte(topic), []byte{0}, u64(uint64(ms)), c.Bytes())
}

func kindKey(kind protocol.Kind, ms int64, c cid.Cid) []byte {
	return cat(pfxKind, []byte(kind), []byte{0}, u64(uint64(ms)), c.Bytes())
}

func authorKey(author string, seq uint64) []byte {
	return cat(pfxAuthor, []byte(author), []byte{0}, u64(seq))
}

var _ = time.Now

// removeEmptyMemtables deletes zero-length memtable files. Badger creates a
// memtable's write-ahead file, then sizes it; a process killed in between
// leaves an empty file, which holds no writes but which Badger refuses to
// open ("Create a new file"), so the node could not start again.
func removeEmptyMemtables(dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".mem" {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.Size() != 0 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err != nil {
			return err
		}
		log.Warn("removed an empty memtable file left by an interrupted start", "file", path)
	}
	return nil
}
