// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// The records a removal kept (protocol.Membership.KeepUntil names the last
// one, and each record its predecessor), as far as this node has walked
// the chain back:
//
//	c/<author>\x00<cid> -> the record's predecessor ("" for the author's first)
//	c/<author>\x00      -> the floor (8 bytes), once the walk ended: 0 when it
//	                       reached the first record, else the sequence number
//	                       of a retracted record no node holds any more, below
//	                       which the chain cannot be followed
var pfxChain = []byte("c/")

func chainKey(author string, c cid.Cid) []byte {
	return cat(pfxChain, []byte(author), []byte{0}, c.Bytes())
}

func chainDoneKey(author string) []byte { return cat(pfxChain, []byte(author), []byte{0}) }

// PutKeptLink records that c is on the chain of author's kept records and
// that prev precedes it.
func (s *Store) PutKeptLink(author string, c cid.Cid, prev string) error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(chainKey(author, c), []byte(prev)) })
	if err != nil {
		return fmt.Errorf("store kept record %s of %s: %w", c, author, err)
	}
	return nil
}

// KeptLink tells whether c is on the part of author's kept chain walked so
// far, and returns its predecessor.
func (s *Store) KeptLink(author string, c cid.Cid) (prev string, ok bool) {
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(chainKey(author, c))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		prev = string(v)
		return err
	})
	return prev, err == nil
}

// SetKeptDone records that the walk of author's kept chain ended: at its
// first record (floor 0), or at the retracted record with sequence number
// floor.
func (s *Store) SetKeptDone(author string, floor uint64) error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(chainDoneKey(author), u64(floor)) })
	if err != nil {
		return fmt.Errorf("store end of %s's kept records: %w", author, err)
	}
	return nil
}

// KeptDone tells whether the walk of author's kept chain has ended, and
// at which floor (see SetKeptDone).
func (s *Store) KeptDone(author string) (done bool, floor uint64) {
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(chainDoneKey(author))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) == 8 {
				floor = binary.BigEndian.Uint64(v)
			}
			return nil
		})
	})
	return err == nil, floor
}
