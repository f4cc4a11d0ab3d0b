// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// pfxInvite keys the invites this node issued: inv/<SHA-256 of the
// secret> -> Invite. Only the hash is kept, so the store (or a backup of
// it) does not hold tokens that anybody could use.
var pfxInvite = []byte("inv/")

// Invite is an invite this node issued.
type Invite struct {
	Hash    [32]byte `json:"-"`
	Expires int64    `json:"expires"` // Unix seconds
	Used    bool     `json:"used"`
}

// InviteHash is the key an invite secret is kept under.
func InviteHash(secret []byte) [32]byte { return sha256.Sum256(secret) }

func inviteKey(h [32]byte) []byte { return cat(pfxInvite, h[:]) }

// SaveInvite records an issued (or spent) invite; expired ones are
// deleted on the way, as they can no longer be used.
func (s *Store) SaveInvite(inv Invite) error {
	b, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	return s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(inviteKey(inv.Hash), b); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxInvite, PrefetchValues: true})
		defer it.Close()
		var stale [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			var old Invite
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &old) }); err != nil || old.Expires < now {
				stale = append(stale, it.Item().KeyCopy(nil))
			}
		}
		for _, k := range stale {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Invites lists the invites that are neither used nor expired.
func (s *Store) Invites() ([]Invite, error) {
	var out []Invite
	now := time.Now().Unix()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxInvite, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var inv Invite
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &inv) }); err != nil {
				return fmt.Errorf("invite %x: %w", it.Item().Key(), err)
			}
			k := it.Item().Key()[len(pfxInvite):]
			if len(k) != len(inv.Hash) {
				return errors.New("malformed invite key")
			}
			copy(inv.Hash[:], k)
			if !inv.Used && inv.Expires >= now {
				out = append(out, inv)
			}
		}
		return nil
	})
	return out, err
}
