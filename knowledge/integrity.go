// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// reportDamaged remembers a record found damaged on read and tells the
// node once, until it is repaired.
func (s *Store) reportDamaged(c cid.Cid, err error) {
	if !errors.Is(err, ErrDamaged) {
		return
	}
	s.damagedMu.Lock()
	_, known := s.damaged[c]
	s.damaged[c] = err
	s.damagedMu.Unlock()
	if known {
		return
	}
	s.log.Error("stored record is damaged", "cid", c, "err", err)
	if s.onDamaged != nil {
		s.onDamaged(c, err)
	}
}

// Damaged lists the records found damaged (on read or by Check) and not yet
// repaired.
func (s *Store) Damaged() []cid.Cid {
	s.damagedMu.Lock()
	defer s.damagedMu.Unlock()
	out := make([]cid.Cid, 0, len(s.damaged))
	for c := range s.damaged {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
	return out
}

// Repair replaces the stored bytes of a damaged record with a copy that
// verifies against its CID and signature (fetched from a member, or read
// from a bundle). The record's indexes were derived from the same content
// when it was first stored, so only the bytes change. A record that is not
// held, or held intact, is left alone: Repair never adds records.
func (s *Store) Repair(c cid.Cid, raw []byte) (repaired bool, err error) {
	if err := protocol.VerifyStored(raw, c); err != nil {
		return false, fmt.Errorf("repair %s: the copy does not verify: %w", c, err)
	}
	key := cat(pfxRecord, c.Bytes())
	err = s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		old, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if bytes.Equal(old, raw) {
			return nil
		}
		repaired = true
		return txn.Set(key, raw)
	})
	if err != nil {
		return false, fmt.Errorf("repair %s: %w", c, err)
	}
	s.damagedMu.Lock()
	delete(s.damaged, c)
	s.damagedMu.Unlock()
	if repaired {
		s.log.Info("repaired damaged record", "cid", c)
	}
	return repaired, nil
}

// Discard deletes the content of records that cannot be repaired here (a
// restore that keeps the rest of a damaged archive). Their index entries
// then point at nothing; Check with FixIndex drops them, and sync fetches
// the records again from the members.
func (s *Store) Discard(cs []cid.Cid) error {
	keys := make([][]byte, len(cs))
	for i, c := range cs {
		keys[i] = cat(pfxRecord, c.Bytes())
	}
	if err := s.dropKeys(keys); err != nil {
		return fmt.Errorf("discard damaged records: %w", err)
	}
	s.damagedMu.Lock()
	for _, c := range cs {
		delete(s.damaged, c)
	}
	s.damagedMu.Unlock()
	return nil
}

// CheckOptions selects what Check does.
type CheckOptions struct {
	// Signatures verifies every record's signature too. The CID covers a
	// record's body but not its signature, so only this finds damage in
	// the signature bytes; it costs one Ed25519 verification per record.
	Signatures bool
	// FixIndex deletes index entries that point at no held record and no
	// tombstone, so that the next sync fetches the records they name.
	FixIndex bool
	// Progress, if set, is called now and then with the number of keys
	// examined so far and an estimate of the total.
	Progress func(done, total int)
}

// Problem is one piece of damage found by Check.
type Problem struct {
	CID     cid.Cid `json:"cid"`
	Where   string  `json:"where"` // "record", "topic index", "kind index", "author index"
	Problem string  `json:"problem"`
	Fixed   bool    `json:"fixed,omitempty"`
}

// CheckReport is what a full scan found.
type CheckReport struct {
	Records    int           `json:"records"`
	IndexKeys  int           `json:"index_keys"`
	Tombstones int           `json:"tombstones"`
	Problems   []Problem     `json:"problems"`
	Took       time.Duration `json:"took_ns"`
}

// DamagedRecords lists the CIDs of records whose content is damaged.
func (r CheckReport) DamagedRecords() []cid.Cid {
	var out []cid.Cid
	for _, p := range r.Problems {
		if p.Where == "record" {
			out = append(out, p.CID)
		}
	}
	return out
}

// Check scans the whole store: every record against its CID (and with
// o.Signatures its signature), and every topic, kind and author index entry
// against the records and tombstones it should point at. Damaged records
// are remembered (see Damaged) for repair.
func (s *Store) Check(ctx context.Context, o CheckOptions) (CheckReport, error) {
	start := time.Now()
	rep := CheckReport{Problems: []Problem{}}
	total := 0
	if o.Progress != nil {
		// An estimate for the progress bar: records are about a quarter
		// of the keys (record, topic, kind and author entries).
		if n, err := s.CountKind(protocol.KindPractice); err == nil {
			total = 4 * n
		}
	}
	done := 0
	tick := func() {
		done++
		if o.Progress != nil && done%1000 == 0 {
			o.Progress(done, max(total, done))
		}
	}
	// step counts one item checked, or stops the check when ctx is done.
	step := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		tick()
		return nil
	}
	held := map[string]bool{} // CID bytes of intact or damaged records
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxRecord, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := step(); err != nil {
				return err
			}
			rep.Records++
			c, err := cid.Cast(it.Item().KeyCopy(nil)[len(pfxRecord):])
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{Where: "record", Problem: fmt.Sprintf("key is not a CID: %v", err)})
				continue
			}
			held[string(c.Bytes())] = true
			raw, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			_, err = decodeStored(c, raw)
			if err == nil && o.Signatures {
				if verr := protocol.VerifyStored(raw, c); verr != nil {
					err = fmt.Errorf("%w: record %s: %v", ErrDamaged, c, verr)
				}
			}
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{CID: c, Where: "record", Problem: err.Error()})
				s.reportDamaged(c, err)
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check records: %w", err)
	}
	tombed := map[string]bool{}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxTomb})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			tick()
			k := it.Item().Key()[len(pfxTomb):]
			if i := bytes.IndexByte(k, 0); i >= 0 {
				k = k[:i]
			}
			if c, err := cid.Cast(k); err == nil {
				if !tombed[string(c.Bytes())] {
					rep.Tombstones++
				}
				tombed[string(c.Bytes())] = true
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check tombstones: %w", err)
	}
	var stale []danglingEntry
	for _, ix := range []struct {
		pfx   []byte
		where string
	}{{pfxTopic, "topic index"}, {pfxKind, "kind index"}, {pfxAuthor, "author index"}} {
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: ix.pfx, PrefetchValues: ix.where == "author index"})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := step(); err != nil {
					return err
				}
				rep.IndexKeys++
				k := it.Item().KeyCopy(nil)
				var c cid.Cid
				var err error
				if ix.where == "author index" {
					var v []byte
					if v, err = it.Item().ValueCopy(nil); err == nil {
						c, err = cid.Cast(v)
					}
				} else {
					i := bytes.IndexByte(k[len(ix.pfx):], 0)
					if i < 0 || len(k) < len(ix.pfx)+i+1+8 {
						err = errors.New("short key")
					} else {
						c, err = cid.Cast(k[len(ix.pfx)+i+1+8:])
					}
				}
				if err != nil {
					rep.Problems = append(rep.Problems, Problem{Where: ix.where, Problem: fmt.Sprintf("entry %q does not name a CID: %v", k, err)})
					stale = append(stale, danglingEntry{key: k})
					continue
				}
				if held[string(c.Bytes())] || tombed[string(c.Bytes())] {
					continue
				}
				// Stored after the records were scanned? This snapshot is
				// newer, and a record's content and indexes are written in
				// one transaction.
				if _, err := txn.Get(cat(pfxRecord, c.Bytes())); err == nil {
					continue
				}
				rep.Problems = append(rep.Problems, Problem{CID: c, Where: ix.where, Problem: "points at a record that is not held"})
				stale = append(stale, danglingEntry{key: k, cid: c})
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("check %s: %w", ix.where, err)
		}
	}
	if o.FixIndex && len(stale) > 0 {
		if err := s.dropDangling(stale); err != nil {
			return rep, fmt.Errorf("fix index: %w", err)
		}
		for i := range rep.Problems {
			if rep.Problems[i].Where != "record" {
				rep.Problems[i].Fixed = true
			}
		}
	}
	if o.Progress != nil {
		o.Progress(done, done)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// danglingEntry is an index entry that points at no held record (cid is
// Undef for an entry that names none).
type danglingEntry struct {
	key []byte
	cid cid.Cid
}

// dropDangling deletes dangling index entries, each only if its record is
// still neither held nor tombstoned when the deletion commits: a record
// stored meanwhile (sync fetching it again) conflicts with the deletion,
// which is then retried and finds the record held.
func (s *Store) dropDangling(entries []danglingEntry) error {
	const batch = 500
	for start := 0; start < len(entries); start += batch {
		part := entries[start:min(start+batch, len(entries))]
		err := s.retryUpdate(func(txn *badger.Txn) error {
			for _, e := range part {
				if e.cid.Defined() {
					if _, err := txn.Get(cat(pfxRecord, e.cid.Bytes())); err == nil {
						continue
					}
					if ts, err := getTombs(txn, e.cid); err != nil {
						return err
					} else if len(ts) > 0 {
						continue
					}
				}
				if err := txn.Delete(e.key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dropKeys deletes keys in batches that fit one transaction.
func (s *Store) dropKeys(keys [][]byte) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	return wb.Flush()
}
