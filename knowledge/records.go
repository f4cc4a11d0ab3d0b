// SPDX-License-Identifier: EUPL-1.2

// Long file: the public records' storage (put, get with CID checks, versions, tombstones, listing,
// limits) shares its key layout and decoding; each part leans on the others' invariants.

package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// Tombstone is what a node keeps of a retracted record.
type Tombstone struct {
	Target string `cbor:"target" json:"target"`
	By     string `cbor:"by" json:"by"`
	// TargetAuthor is the author of the retracted record when this node
	// held it at the time ("" when it never saw the record).
	TargetAuthor string `cbor:"target_author,omitempty" json:"target_author,omitempty"`
	Retraction   string `cbor:"retraction" json:"retraction"`
	Reason       string `cbor:"reason" json:"reason"`
	At           int64  `cbor:"at" json:"at"`
}

// PutResult says what storing a record changed.
type PutResult struct {
	Added   bool      // the record was new and is now held
	Removed []cid.Cid // records whose content a retraction deleted
	// RemovedFrom gives, for each removed record, its creation time and topics.
	RemovedFrom map[cid.Cid]RemovedRef
	// Superseded is the earlier version this record replaces, if held.
	Superseded cid.Cid
	// Newer is a later version of this practice that was already held
	// when this one arrived (Undef if none): this one is not the current
	// version.
	Newer cid.Cid
}

// RemovedRef locates a deleted record in the topic sets.
type RemovedRef struct {
	Created int64
	Topics  []string
	Author  string
	// Restored is the earlier version that is the latest again now that
	// the removed one is gone (Undef if none).
	Restored cid.Cid
}

// Put stores a verified record with its indexes. A retraction deletes the
// content of its target and keeps a tombstone; a new version marks the one
// it supersedes. Storing a record already held is a no-op; storing one that
// was retracted is refused with protocol.ErrRetracted.
func (s *Store) Put(rec *protocol.Signed) (PutResult, error) { return s.put(rec, false, AuthorLimit{}) }

// PutLimited is Put refusing, with ErrAuthorLimit, a practice or lesson
// that would put its author over lim (see AuthorLimit).
func (s *Store) PutLimited(rec *protocol.Signed, lim AuthorLimit) (PutResult, error) {
	return s.put(rec, false, lim)
}

func (s *Store) put(rec *protocol.Signed, own bool, lim AuthorLimit) (PutResult, error) {
	var res PutResult
	r := &rec.Record
	payload, err := r.DecodePayload()
	if err != nil {
		return res, err
	}
	// Records by one author update the same count of the publishing
	// limit: they are stored one at a time, so a burst from one author
	// does not turn into a storm of transaction conflicts.
	if limited(r.Kind) {
		mu := &s.authorMu[authorStripe(r.Author)]
		mu.Lock()
		defer mu.Unlock()
	}
	// Gossip and sync may deliver the same record, or a record and its
	// retraction, at the same moment: Badger then refuses the second
	// transaction with ErrConflict. Running it again sees what the first
	// one wrote (the record already held, a tombstone), so a conflict is
	// retried rather than reported.
	for attempt := 0; ; attempt++ {
		res, err = s.putTxn(rec, payload, own, lim)
		if !errors.Is(err, badger.ErrConflict) || attempt >= 8 {
			break
		}
	}
	if err != nil {
		return PutResult{}, fmt.Errorf("store %s: %w", rec.CID, err)
	}
	return res, nil
}

func (s *Store) putTxn(rec *protocol.Signed, payload protocol.Payload, own bool, lim AuthorLimit) (PutResult, error) {
	var res PutResult
	r := &rec.Record
	err := s.db.Update(func(txn *badger.Txn) error {
		res = PutResult{}
		ck := rec.CID.Bytes()
		if _, err := txn.Get(cat(pfxRecord, ck)); err == nil {
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		tombs, err := getTombs(txn, rec.CID)
		if err != nil {
			return err
		}
		for _, t := range tombs {
			if t.By == r.Author {
				return fmt.Errorf("%w: %s", protocol.ErrRetracted, rec.CID)
			}
		}
		if limited(r.Kind) {
			ok, err := windowRoom(txn, r.Author, r.Created, lim)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: %d records in %d minute(s)", ErrAuthorLimit, lim.Burst, lim.Minutes)
			}
			if err := countRecord(txn, r); err != nil {
				return err
			}
		}
		set := func(k, v []byte) error { return txn.Set(k, v) }
		if err := set(cat(pfxRecord, ck), rec.Raw); err != nil {
			return err
		}
		topics := r.Topics
		if r.Kind == protocol.KindMembership || r.Kind == protocol.KindRetraction {
			topics = []string{protocol.ControlTopic}
		}
		for _, t := range topics {
			if err := set(topicKey(t, r.Created, rec.CID), nil); err != nil {
				return err
			}
		}
		if err := set(kindKey(r.Kind, r.Created, rec.CID), nil); err != nil {
			return err
		}
		if err := set(authorKey(r.Author, r.Seq), ck); err != nil {
			return err
		}
		switch p := payload.(type) {
		case *protocol.Practice:
			pid := rec.CID.String()
			if p.Version > 1 {
				pid = p.PracticeID
				prev, _ := cid.Decode(p.Supersedes)
				if err := set(cat(pfxSuper, prev.Bytes()), ck); err != nil {
					return err
				}
				if _, err := txn.Get(cat(pfxRecord, prev.Bytes())); err == nil {
					res.Superseded = prev
				}
			}
			if err := set(cat(pfxVers, []byte(pid), []byte{0}, u64(uint64(p.Version))), ck); err != nil {
				return err
			}
			if newer, ok, err := heldSuccessor(txn, ck); err != nil {
				return err
			} else if ok {
				res.Newer = newer
			}
			if p.Version == 1 {
				// Versions of this practice signed by another region may
				// have arrived before it, when nobody could tell they were
				// forged. Now the author is known: drop them.
				forged, err := forgedVersions(txn, rec.CID, r.Author)
				if err != nil {
					return err
				}
				for _, fc := range forged {
					ref, removed, err := deleteContent(txn, fc)
					if err != nil {
						return err
					}
					if removed {
						res.Removed = append(res.Removed, fc)
						if res.RemovedFrom == nil {
							res.RemovedFrom = map[cid.Cid]RemovedRef{}
						}
						res.RemovedFrom[fc] = ref
					}
				}
			}
		case *protocol.Retraction:
			target, _ := cid.Decode(p.Target)
			ref, removed, err := deleteContent(txn, target)
			if err != nil {
				return err
			}
			t := Tombstone{Target: p.Target, By: r.Author, Retraction: rec.CID.String(), Reason: p.Reason, At: r.Created, TargetAuthor: ref.Author}
			tb, err := protocol.Marshal(&t)
			if err != nil {
				return err
			}
			if err := set(tombKey(target, r.Author), tb); err != nil {
				return err
			}
			if removed {
				res.Removed = append(res.Removed, target)
				res.RemovedFrom = map[cid.Cid]RemovedRef{target: ref}
			}
		}
		if own {
			if err := set(keySeq, append(u64(r.Seq), rec.CID.String()...)); err != nil {
				return err
			}
			if err := advanceOwnChains(txn, r, rec.CID); err != nil {
				return err
			}
		}
		res.Added = true
		return nil
	})
	return res, err
}

// heldSuccessor returns the version that supersedes the record ck, if
// that version is held.
func heldSuccessor(txn *badger.Txn, ck []byte) (cid.Cid, bool, error) {
	next, ok, err := successor(txn, ck)
	if !ok || err != nil {
		return cid.Undef, false, err
	}
	if _, err := txn.Get(cat(pfxRecord, next.Bytes())); errors.Is(err, badger.ErrKeyNotFound) {
		return cid.Undef, false, nil
	} else if err != nil {
		return cid.Undef, false, err
	}
	return next, true, nil
}

// successor returns the version that supersedes the record ck, if the
// store names one (held or not); an unreadable entry counts as none. err
// reports a failed read.
func successor(txn *badger.Txn, ck []byte) (cid.Cid, bool, error) {
	item, err := txn.Get(cat(pfxSuper, ck))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return cid.Undef, false, nil
	}
	if err != nil {
		return cid.Undef, false, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return cid.Undef, false, err
	}
	next, err := cid.Cast(v)
	if err != nil {
		return cid.Undef, false, nil
	}
	return next, true, nil
}

// deleteContent removes a record's content and indexes, keeping nothing but
// what the caller writes (the tombstone).
func deleteContent(txn *badger.Txn, c cid.Cid) (RemovedRef, bool, error) {
	var ref RemovedRef
	item, err := txn.Get(cat(pfxRecord, c.Bytes()))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ref, false, nil
	}
	if err != nil {
		return ref, false, err
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return ref, false, err
	}
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		return ref, false, err
	}
	r, err := protocol.DecodeBody(env.Body)
	if err != nil {
		return ref, false, err
	}
	ref = RemovedRef{Created: r.Created, Topics: r.Topics, Author: r.Author}
	del := [][]byte{cat(pfxRecord, c.Bytes()), kindKey(r.Kind, r.Created, c), authorKey(r.Author, r.Seq)}
	for _, t := range r.Topics {
		del = append(del, topicKey(t, r.Created, c))
	}
	if r.Kind == protocol.KindPractice {
		if p, err := r.DecodePayload(); err == nil {
			pr := p.(*protocol.Practice)
			pid := c.String()
			if pr.Version > 1 {
				pid = pr.PracticeID
				prev, _ := cid.Decode(pr.Supersedes)
				// The superseded version becomes the latest again.
				if it, err := txn.Get(cat(pfxSuper, prev.Bytes())); err == nil {
					if v, _ := it.ValueCopy(nil); bytes.Equal(v, c.Bytes()) {
						del = append(del, cat(pfxSuper, prev.Bytes()))
						if _, err := txn.Get(cat(pfxRecord, prev.Bytes())); err == nil {
							ref.Restored = prev
						}
					}
				}
			}
			vk := cat(pfxVers, []byte(pid), []byte{0}, u64(uint64(pr.Version)))
			if it, err := txn.Get(vk); err == nil {
				if v, _ := it.ValueCopy(nil); bytes.Equal(v, c.Bytes()) {
					del = append(del, vk)
				}
			}
		}
	}
	for _, k := range del {
		if err := txn.Delete(k); err != nil {
			return ref, false, err
		}
	}
	return ref, true, nil
}

// tombKey is x/<target cid>\x00<signer>: one tombstone per target and
// signer, so a tombstone that does not count (signed by neither the author
// nor an administrator) can never hide or replace one that does.
func tombKey(target cid.Cid, by string) []byte {
	return cat(pfxTomb, target.Bytes(), []byte{0}, []byte(by))
}

func getTombs(txn *badger.Txn, c cid.Cid) ([]Tombstone, error) {
	pfx := cat(pfxTomb, c.Bytes(), []byte{0})
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
	defer it.Close()
	var out []Tombstone
	for it.Rewind(); it.Valid(); it.Next() {
		var t Tombstone
		if err := it.Item().Value(func(b []byte) error { return protocol.Unmarshal(b, &t) }); err != nil {
			return nil, fmt.Errorf("tombstone %s: %w", c, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Tombs returns every tombstone held for c, in signer order.
func (s *Store) Tombs(c cid.Cid) ([]Tombstone, error) {
	var out []Tombstone
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = getTombs(txn, c)
		return err
	})
	return out, err
}

// Tomb returns the tombstone that withdrew c: the one signed by the
// record's author if there is one, else the first held.
func (s *Store) Tomb(c cid.Cid) (*Tombstone, error) {
	ts, err := s.Tombs(c)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, ErrNotFound
	}
	for _, t := range ts {
		if t.TargetAuthor != "" && t.By == t.TargetAuthor {
			return &t, nil
		}
	}
	return &ts[0], nil
}

// Get returns a held record. Records are verified before they are stored;
// Get checks that the stored bytes still hash to the record's CID (a
// damaged value is ErrDamaged, and reported to Options.OnDamaged) but does
// not check the signature again: [Store.Check] does.
func (s *Store) Get(c cid.Cid) (*protocol.Signed, error) {
	var raw []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(cat(pfxRecord, c.Bytes()))
		if err != nil {
			return err
		}
		raw, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("record %s: %w", c, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", c, err)
	}
	rec, err := decodeStored(c, raw)
	if err != nil {
		s.reportDamaged(c, err)
	}
	return rec, err
}

// eachIndexedCID calls fn with the CID each entry under pfx holds as its
// value, in key order.
func eachIndexedCID(txn *badger.Txn, pfx []byte, fn func(cid.Cid) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		c, err := valueCID(it.Item())
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// valueCID reads the CID an index entry holds as its value.
func valueCID(item *badger.Item) (cid.Cid, error) {
	v, err := item.ValueCopy(nil)
	if err != nil {
		return cid.Undef, err
	}
	return cid.Cast(v)
}

// storedRecord reads record c in txn (badger.ErrKeyNotFound when it is not
// held) and decodes it as decodeStored does.
func storedRecord(txn *badger.Txn, c cid.Cid) (*protocol.Signed, error) {
	item, err := txn.Get(cat(pfxRecord, c.Bytes()))
	if err != nil {
		return nil, err
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	return decodeStored(c, raw)
}

// decodeStored decodes a stored envelope and checks that its body still
// hashes to the CID it is stored under: the CID is the record's checksum,
// so damage on disk (a flipped bit, a torn write, a tampered backup) is
// found on every read instead of being served, indexed or relayed.
func decodeStored(c cid.Cid, raw []byte) (*protocol.Signed, error) {
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: record %s: %v", ErrDamaged, c, err)
	}
	if got := protocol.RecordCID(env.Body); !got.Equals(c) {
		return nil, fmt.Errorf("%w: record %s: content hashes to %s", ErrDamaged, c, got)
	}
	r, err := protocol.DecodeBody(env.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: record %s: %v", ErrDamaged, c, err)
	}
	return &protocol.Signed{CID: c, Record: r, Raw: raw}, nil
}

// Has tells whether a record's content is held.
func (s *Store) Has(c cid.Cid) bool {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(cat(pfxRecord, c.Bytes()))
		return err
	})
	return err == nil
}

// SupersededBy returns the CID of the version that supersedes c, if any.
func (s *Store) SupersededBy(c cid.Cid) (cid.Cid, bool) {
	var out cid.Cid
	var ok bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		out, ok, err = successor(txn, c.Bytes())
		return err
	})
	return out, ok && err == nil
}

// Versions returns the CIDs of a practice's versions, oldest first.
func (s *Store) Versions(practiceID string) ([]cid.Cid, error) {
	var out []cid.Cid
	pfx := cat(pfxVers, []byte(practiceID), []byte{0})
	err := s.db.View(func(txn *badger.Txn) error {
		return eachIndexedCID(txn, pfx, func(c cid.Cid) error {
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// ListOptions selects records to list.
type ListOptions struct {
	Kind        protocol.Kind
	Topic       string // "" for all topics
	Author      string
	IncludeOld  bool // include superseded versions
	Limit       int  // 0 = no limit
	NewestFirst bool
}

// List returns held records, oldest first unless NewestFirst.
func (s *Store) List(o ListOptions) ([]*protocol.Signed, error) {
	var out []*protocol.Signed
	err := s.Each(o, func(rec *protocol.Signed) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// errStopEach ends an Each walk early without an error.
var errStopEach = errors.New("stop")

// Each calls fn for every record List would return, one at a time, so a
// caller walking the whole store (reindexing, exporting) does not hold
// every record in memory at once. An error from fn ends the walk and is
// returned.
func (s *Store) Each(o ListOptions, fn func(*protocol.Signed) error) error {
	pfx := s.listPrefix(o)
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, Reverse: o.NewestFirst})
		defer it.Close()
		start := pfx
		if o.NewestFirst {
			start = append(append([]byte{}, pfx...), 0xff)
		}
		for it.Seek(start); it.Valid(); it.Next() {
			c, err := listKeyCID(pfx, it.Item().Key())
			if err != nil {
				return err
			}
			if !o.IncludeOld {
				if _, err := txn.Get(cat(pfxSuper, c.Bytes())); err == nil {
					continue
				}
			}
			rec, err := storedRecord(txn, c)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if errors.Is(err, ErrDamaged) {
				// One damaged record must not hide every other one: it
				// is reported for repair and left out of the listing.
				s.reportDamaged(c, err)
				continue
			}
			if err != nil {
				return err
			}
			if o.Kind != "" && rec.Record.Kind != o.Kind {
				continue
			}
			if o.Author != "" && rec.Record.Author != o.Author {
				continue
			}
			if err := fn(rec); err != nil {
				return err
			}
			n++
			if o.Limit > 0 && n >= o.Limit {
				return errStopEach
			}
		}
		return nil
	})
	if errors.Is(err, errStopEach) {
		return nil
	}
	return err
}

func (s *Store) listPrefix(o ListOptions) []byte {
	switch {
	case o.Topic != "":
		return cat(pfxTopic, []byte(o.Topic), []byte{0})
	case o.Kind != "":
		return cat(pfxKind, []byte(o.Kind), []byte{0})
	default:
		return pfxRecord
	}
}

// listKeyCID reads the record CID out of a key under one of List's
// prefixes: records are keyed by CID, the kind and topic indexes by
// (creation time, CID).
func listKeyCID(pfx, k []byte) (cid.Cid, error) {
	var c cid.Cid
	var err error
	if bytes.Equal(pfx, pfxRecord) {
		c, err = cid.Cast(k[len(pfx):])
	} else if len(k) >= len(pfx)+8 {
		c, err = cid.Cast(k[len(pfx)+8:])
	} else {
		err = errors.New("short key")
	}
	if err != nil {
		return cid.Undef, fmt.Errorf("bad index key %x: %w", k, err)
	}
	return c, nil
}

// CountKind counts the current (not superseded) records of a kind from the
// keys alone, without reading or decoding a record: the start-up check that
// the search index is in step with the store must not load the store.
func (s *Store) CountKind(kind protocol.Kind) (int, error) {
	pfx := cat(pfxKind, []byte(kind), []byte{0})
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			c, err := listKeyCID(pfx, it.Item().Key())
			if err != nil {
				return err
			}
			if _, err := txn.Get(cat(pfxSuper, c.Bytes())); err == nil {
				continue
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// TopicItem is one entry of a topic's record set, as reconciled by sync.
type TopicItem struct {
	Created int64 // Unix milliseconds
	CID     cid.Cid
}

// TopicItems calls fn for every record held in a topic, in (time, CID) order.
func (s *Store) TopicItems(topic string, fn func(TopicItem) error) error {
	pfx := cat(pfxTopic, []byte(topic), []byte{0})
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(pfx):]
			if len(k) < 8 {
				continue
			}
			c, err := cid.Cast(k[8:])
			if err != nil {
				return err
			}
			if err := fn(TopicItem{Created: int64(beU64(k[:8])), CID: c}); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountTopic counts the records held in a topic.
func (s *Store) CountTopic(topic string) (int, error) {
	n := 0
	err := s.TopicItems(topic, func(TopicItem) error { n++; return nil })
	return n, err
}

// AuthorCID returns the CID of an author's record with sequence number seq.
func (s *Store) AuthorCID(author string, seq uint64) (cid.Cid, bool) {
	var out cid.Cid
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(authorKey(author, seq))
		if err != nil {
			return err
		}
		out, err = valueCID(item)
		return err
	})
	return out, err == nil
}

// AuthorOf returns the author of a held record, or of a retracted record
// this node held when it was retracted. The signer of a tombstone is never
// taken for the author.
func (s *Store) AuthorOf(c cid.Cid) (string, bool) {
	if rec, err := s.Get(c); err == nil {
		return rec.Record.Author, true
	}
	ts, _ := s.Tombs(c)
	for _, t := range ts {
		if t.TargetAuthor != "" {
			return t.TargetAuthor, true
		}
	}
	return "", false
}

// LastOwn returns the sequence number and CID of this node's last own record.
func (s *Store) LastOwn() (seq uint64, prev string, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		return valueIfHeld(txn, keySeq, func(b []byte) error {
			if len(b) < 8 {
				return fmt.Errorf("bad sequence key")
			}
			seq = beU64(b[:8])
			prev = string(b[8:])
			return nil
		})
	})
	return seq, prev, err
}

// PutOwn stores a record this node signed and advances its sequence number
// in the same transaction.
func (s *Store) PutOwn(rec *protocol.Signed) (PutResult, error) {
	return s.put(rec, true, AuthorLimit{})
}

// PutOwnLimited is PutOwn refusing, with ErrAuthorLimit, a practice or
// lesson over lim; the own sequence number then does not advance.
func (s *Store) PutOwnLimited(rec *protocol.Signed, lim AuthorLimit) (PutResult, error) {
	return s.put(rec, true, lim)
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

var _ = time.Now

// forgedVersions lists held records that claim to be later versions of the
// practice orig but were signed by someone other than its author.
func forgedVersions(txn *badger.Txn, orig cid.Cid, author string) ([]cid.Cid, error) {
	var cands []cid.Cid
	if it, err := txn.Get(cat(pfxSuper, orig.Bytes())); err == nil {
		v, err := it.ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		if c, err := cid.Cast(v); err == nil {
			cands = append(cands, c)
		}
	}
	pfx := cat(pfxVers, []byte(orig.String()), []byte{0})
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true})
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return nil, err
		}
		if c, err := cid.Cast(v); err == nil && !c.Equals(orig) {
			cands = append(cands, c)
		}
	}
	it.Close()
	var out []cid.Cid
	for _, c := range cands {
		item, err := txn.Get(cat(pfxRecord, c.Bytes()))
		if err != nil {
			continue
		}
		raw, err := item.ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		rec, err := decodeStored(c, raw)
		if errors.Is(err, ErrDamaged) {
			continue // reported by the scrub; it cannot prove a forgery
		}
		if err != nil {
			return nil, err
		}
		if rec.Record.Author != author && !slices.ContainsFunc(out, c.Equals) {
			out = append(out, c)
		}
	}
	return out, nil
}
