// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// Keys of this node's own chains and of what other members announced.
var (
	// m/chain/<topic> -> own last sequence number on the topic + its CID
	pfxOwnChain = []byte("m/chain/")
	// m/wire/<peer ID> -> the wire version the member announced (one byte)
	pfxWire = []byte("m/wire/")
)

// ChainHead is this node's last own record on one topic.
type ChainHead struct {
	Seq uint64
	CID string
}

// OwnChains returns this node's last own record on each of topics (a zero
// head where it has none yet): the next record on a topic continues the
// chain from there.
func (s *Store) OwnChains(topics []string) (map[string]ChainHead, error) {
	out := make(map[string]ChainHead, len(topics))
	err := s.db.View(func(txn *badger.Txn) error {
		for _, t := range topics {
			h, err := ownChainHead(txn, t)
			if err != nil {
				return err
			}
			out[t] = h
		}
		return nil
	})
	return out, err
}

func ownChainHead(txn *badger.Txn, topic string) (ChainHead, error) {
	item, err := txn.Get(cat(pfxOwnChain, []byte(topic)))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ChainHead{}, nil
	}
	if err != nil {
		return ChainHead{}, err
	}
	var h ChainHead
	err = item.Value(func(b []byte) error {
		if len(b) < 8 {
			return fmt.Errorf("%w: own chain head of %q has %d bytes", ErrDamaged, topic, len(b))
		}
		h = ChainHead{Seq: beU64(b[:8]), CID: string(b[8:])}
		return nil
	})
	return h, err
}

// advanceOwnChains moves this node's chain heads to its new record r:
// version 2 records say their place on each topic, version 1 records
// follow the head.
func advanceOwnChains(txn *badger.Txn, r *protocol.Record, c cid.Cid) error {
	for _, t := range r.ChainTopics() {
		seq := r.Chain[t].Seq
		if seq == 0 {
			h, err := ownChainHead(txn, t)
			if err != nil {
				return err
			}
			seq = h.Seq + 1
		}
		if err := txn.Set(cat(pfxOwnChain, []byte(t)), append(u64(seq), c.String()...)); err != nil {
			return err
		}
	}
	return nil
}

// migrateOwnChains (store version 4) sets the chain heads of this node's
// own records, walking them in sequence order: the author of the last own
// record is this node.
func migrateOwnChains(txn *badger.Txn) error {
	item, err := txn.Get(keySeq)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil // no own record yet
	}
	if err != nil {
		return err
	}
	var last string
	if err := item.Value(func(b []byte) error {
		if len(b) < 8 {
			return fmt.Errorf("bad sequence key")
		}
		last = string(b[8:])
		return nil
	}); err != nil {
		return err
	}
	lc, err := cid.Decode(last)
	if err != nil {
		return fmt.Errorf("own last record %q: %w", last, err)
	}
	author := ""
	if rec, err := storedRecord(txn, lc); err == nil {
		author = rec.Record.Author
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	} else {
		// The last own record was retracted: its tombstone names the author.
		ts, err := getTombs(txn, lc)
		if err != nil {
			return err
		}
		for _, t := range ts {
			author = t.TargetAuthor
		}
	}
	if author == "" {
		return nil
	}
	pfx := cat(pfxAuthor, []byte(author), []byte{0})
	return eachIndexedCID(txn, pfx, func(c cid.Cid) error {
		rec, err := storedRecord(txn, c)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return advanceOwnChains(txn, &rec.Record, c)
	})
}

// MarkWire records that member peer announced wire version v (kept
// across restarts, so a member offline now still counts as upgraded).
func (s *Store) MarkWire(peer string, v int) error {
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(cat(pfxWire, []byte(peer)), []byte{byte(v)})
	})
}

// WireVersions returns the wire version every member that announced one
// announced.
func (s *Store) WireVersions() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxWire, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			err := it.Item().Value(func(b []byte) error {
				if len(b) == 1 {
					out[string(k[len(pfxWire):])] = int(b[0])
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
