// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

// Gossip and sync deliver the same record, and a record races its
// retraction: concurrent puts must neither fail with Badger's transaction
// conflict nor store a record twice.
func TestConcurrentPutsOfTheSameRecords(t *testing.T) {
	s := openTestStore(t)
	key, _ := v1Key(t, 7)
	recs := v1Chain(t, key, 40, "elderly-care", func(i int) string { return "Practice " + string(rune('A'+i)) })
	const writers = 6
	added := make([]int, len(recs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers*len(recs))
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, rec := range recs {
				res, err := s.Put(rec)
				if err != nil {
					errs <- err
					continue
				}
				if res.Added {
					mu.Lock()
					added[i]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent put: %v", err)
	}
	for i, n := range added {
		if n != 1 {
			t.Errorf("record %d reported as added %d times, want once", i, n)
		}
	}
	if n, err := s.CountKind(protocol.KindPractice); err != nil || n != len(recs) {
		t.Fatalf("CountKind = %d, %v; want %d", n, err, len(recs))
	}
	if n, err := s.CountTopic("elderly-care"); err != nil || n != len(recs) {
		t.Fatalf("CountTopic = %d, %v; want %d", n, err, len(recs))
	}
}

// sealAt signs a practice by key created at ms.
func sealAt(t *testing.T, key crypto.PrivKey, seq uint64, ms int64) *protocol.Signed {
	t.Helper()
	r := protocol.Record{Federation: "improve", Seq: seq, Created: ms, Topics: []string{"transport"}}
	return testrec.Seal(t, r, v1Practice(fmt.Sprintf("Practice %d", seq)), key)
}

// The publishing limit counts records by the minute they were signed, so
// it holds whatever order records arrive in, and survives a reopen.
func TestAuthorLimit(t *testing.T) {
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	key, author := v1Key(t, 3)
	other, _ := v1Key(t, 4)
	minute := func(m int64) int64 { return v1Base + m*60_000 + 1000 }
	// A burst of 2 refilled at 1 a minute: one minute holds at most 3,
	// two consecutive minutes at most 4.
	lim := AuthorLimit{Burst: 2, PerMin: 1, Minutes: 2}
	seq := uint64(0)
	put := func(k crypto.PrivKey, m int64) (*protocol.Signed, error) {
		seq++
		rec := sealAt(t, k, seq, minute(m))
		_, err := s.PutLimited(rec, lim)
		return rec, err
	}
	mustPut := func(m int64) *protocol.Signed {
		t.Helper()
		rec, err := put(key, m)
		if err != nil {
			t.Fatalf("record at minute %d: %v", m, err)
		}
		return rec
	}
	refused := func(m int64, why string) {
		t.Helper()
		if _, err := put(key, m); !errors.Is(err, ErrAuthorLimit) {
			t.Fatalf("record at minute %d (%s): %v, want ErrAuthorLimit", m, why, err)
		}
	}
	mustPut(10)
	mustPut(10)
	mustPut(10)
	refused(10, "a fourth in one minute")
	mustPut(12)
	mustPut(12)
	// Minute 11 sits in [10,11] (3 held) and [11,12] (2 held).
	held := mustPut(11)
	refused(11, "[10,11] would hold 5")
	// Signed earlier but arriving later: [9,10] has room for one.
	mustPut(9)
	refused(9, "[9,10] would hold 5")
	mustPut(14)
	if _, err := put(other, 11); err != nil {
		t.Fatalf("another author: %v", err)
	}
	// A record already held is not counted again.
	if _, err := s.PutLimited(held, lim); err != nil {
		t.Fatalf("storing a held record again: %v", err)
	}
	if ok, err := s.AuthorRoom(author, minute(11), lim); err != nil || ok {
		t.Fatalf("AuthorRoom at minute 11 = %v, %v; want false", ok, err)
	}
	if ok, err := s.AuthorRoom(author, minute(17), lim); err != nil || !ok {
		t.Fatalf("AuthorRoom at minute 16 = %v, %v; want true", ok, err)
	}

	// A store of schema version 2 has no counts: the migration builds
	// them from the records it holds.
	err := s.db.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxWindow})
		var keys [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		it.Close()
		if len(keys) == 0 {
			return errors.New("no window counts written")
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(keySchema, binary.BigEndian.AppendUint32(nil, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopen(t, dir)
	defer s.Close()
	if v, err := s.SchemaOf(); err != nil || v != SchemaVersion {
		t.Fatalf("schema after migration %d, %v", v, err)
	}
	refused(11, "after the migration")
	mustPut(17)
}

// A burst of one author's records stored side by side (a catch-up, a
// prefilled store) all update that author's count of the publishing
// limit: none may fail with a transaction conflict.
func TestConcurrentPutsByOneAuthor(t *testing.T) {
	s := openTestStore(t)
	key, _ := v1Key(t, 9)
	const n, writers = 400, 8
	recs := make([]*protocol.Signed, n)
	for i := range recs {
		recs[i] = sealAt(t, key, uint64(i+1), v1Base+int64(i)) // all in one minute
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				if _, err := s.PutLimited(recs[i], AuthorLimit{Burst: n, PerMin: 1, Minutes: 2}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("put: %v", err)
	}
	if c, err := s.CountKind(protocol.KindPractice); err != nil || c != n {
		t.Fatalf("CountKind = %d, %v; want %d", c, err, n)
	}
}

// A practice's versions can arrive in any order. The put that stores an
// older version after a newer one says so (PutResult.Newer), so the node
// keeps the newer one in its search index without reading the store
// again; stored in order, neither names a newer version.
func TestPutReportsNewerVersion(t *testing.T) {
	key, _ := v1Key(t, 9)
	v1 := v1Seal(t, key, 1, nil, []string{"transport"}, v1Practice("Demand-responsive village bus"))
	p2 := v1Practice("Demand-responsive village bus, second year")
	p2.Version, p2.PracticeID, p2.Supersedes = 2, v1.CID.String(), v1.CID.String()
	v2 := v1Seal(t, key, 2, v1, []string{"transport"}, p2)
	for _, tc := range []struct {
		name      string
		order     []*protocol.Signed
		wantNewer []bool
	}{
		{"in order", []*protocol.Signed{v1, v2}, []bool{false, false}},
		{"newer first", []*protocol.Signed{v2, v1}, []bool{false, true}},
	} {
		s, err := Open(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range tc.order {
			res, err := s.Put(rec)
			if err != nil || !res.Added {
				t.Fatalf("%s: put %d: added %v, %v", tc.name, i, res.Added, err)
			}
			if got := res.Newer.Defined(); got != tc.wantNewer[i] || (got && !res.Newer.Equals(v2.CID)) {
				t.Fatalf("%s: put %d reports newer %v, want %v (%s)", tc.name, i, res.Newer, tc.wantNewer[i], v2.CID)
			}
		}
		s.Close()
	}
}

// A kill between Badger creating a memtable file and sizing it leaves an
// empty .mem file; the store must open again, with nothing lost.
func TestOpenAfterKillLeftEmptyMemtable(t *testing.T) {
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	key, _ := v1Key(t, 9)
	rec := v1Seal(t, key, 1, nil, []string{"transport"}, v1Practice("Ferry timetable"))
	if _, err := s.Put(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00099.mem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after an interrupted start: %v", err)
	}
	defer s.Close()
	if !s.Has(rec.CID) {
		t.Fatal("a record stored before was lost")
	}
}
