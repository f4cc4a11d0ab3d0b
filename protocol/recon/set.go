// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"bytes"
	"cmp"
	"slices"
)

// IDSize is the size of an item ID: a SHA-256 digest.
const IDSize = 32

// Item is one element of a reconciled set: a record's ID placed at the
// record's time. Items are ordered by (Time, ID).
type Item struct {
	Time uint64       // milliseconds since the Unix epoch
	ID   [IDSize]byte // SHA-256 digest of the record
}

// Compare orders items by Time, then by ID bytes. It returns -1, 0 or +1.
func (a Item) Compare(b Item) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// Set is a sorted set of items with range fingerprints.
//
// The zero value is an empty set. A Set is not safe for concurrent use, and it
// must not be modified while a [Reconciler] is processing a message over it.
// Insert and Remove shift the backing slice (O(n)); build large sets with
// [NewSet].
type Set struct {
	items []Item // sorted by Item.Compare, no duplicates
	// shared says that items is also held by a snapshot (or is one): the
	// first change copies it, so that neither side sees the other's.
	shared bool
}

// NewSet returns a set holding items, sorted and without duplicates. The
// slice is copied.
func NewSet(items []Item) *Set {
	s := slices.Clone(items)
	slices.SortFunc(s, Item.Compare)
	s = slices.Compact(s)
	return &Set{items: s}
}

// Snapshot returns a set with the same items that later changes to s do
// not reach (nor changes to the snapshot s). It copies nothing: the items
// are copied by whichever of the two changes first, so that a node with a
// large set can hand every sync session its own view without allocating
// the set again for each. Snapshot changes s (it marks the items shared),
// so it needs the same exclusion as Insert and Remove.
func (s *Set) Snapshot() *Set {
	s.shared = true
	return &Set{items: s.items, shared: true}
}

// own gives s items of its own before a change.
func (s *Set) own() {
	if s.shared {
		s.items = slices.Clone(s.items)
		s.shared = false
	}
}

// Len returns the number of items in the set.
func (s *Set) Len() int { return len(s.items) }

// Insert adds it to the set and reports whether it was absent.
func (s *Set) Insert(it Item) bool {
	i, found := slices.BinarySearchFunc(s.items, it, Item.Compare)
	if found {
		return false
	}
	s.own()
	s.items = slices.Insert(s.items, i, it)
	return true
}

// Remove deletes it from the set and reports whether it was present.
func (s *Set) Remove(it Item) bool {
	i, found := slices.BinarySearchFunc(s.items, it, Item.Compare)
	if !found {
		return false
	}
	s.own()
	s.items = slices.Delete(s.items, i, i+1)
	return true
}

// Contains reports whether it is in the set.
func (s *Set) Contains(it Item) bool {
	_, found := slices.BinarySearchFunc(s.items, it, Item.Compare)
	return found
}

// Items returns a copy of the items in (Time, ID) order.
func (s *Set) Items() []Item { return slices.Clone(s.items) }

// Fingerprint returns the fingerprint of the whole set. Two sets with the
// same fingerprint are, barring a deliberately constructed collision, equal.
func (s *Set) Fingerprint() Fingerprint { return s.fingerprint(0, len(s.items)) }

// fingerprint returns the fingerprint of items[lo:hi]. It costs O(hi-lo).
func (s *Set) fingerprint(lo, hi int) Fingerprint {
	var acc accumulator
	for i := lo; i < hi; i++ {
		acc.add(&s.items[i].ID)
	}
	return acc.sum(hi - lo)
}

// lowerBound returns the index of the first item at or after from that is
// not below b (len when there is none).
func (s *Set) lowerBound(from int, b *Bound) int {
	if b.Infinite {
		return len(s.items)
	}
	lo, hi := from, len(s.items)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.above(&s.items[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
