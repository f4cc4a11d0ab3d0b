package knowledge

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// The records a removal kept (protocol.Membership.KeepUntil names the last
// one, and each record its predecessor), as far as this node has walked
// the chain back:
//
//	c/<author>\x00<cid> -> the record's predecessor ("" for the author's first)
//	c/<author>\x00      -> nil, once the walk reached the first record
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

// SetKeptDone records that author's kept chain has been walked to its
// first record.
func (s *Store) SetKeptDone(author string) error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(chainDoneKey(author), nil) })
	if err != nil {
		return fmt.Errorf("store end of %s's kept records: %w", author, err)
	}
	return nil
}

// KeptDone tells whether author's kept chain has been walked to its first
// record.
func (s *Store) KeptDone(author string) bool {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(chainDoneKey(author))
		return err
	})
	return err == nil
}
