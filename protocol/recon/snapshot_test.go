// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"slices"
	"testing"
)

// TestSnapshot checks that a snapshot and its set never see each other's
// changes, whichever changes first, and that a snapshot reconciles as a
// copy of the set would.
func TestSnapshot(t *testing.T) {
	item := func(i int) Item { return Item{Time: uint64(i), ID: [IDSize]byte{byte(i)}} }
	var items []Item
	for i := range 10 {
		items = append(items, item(2*i))
	}
	s := NewSet(items)
	want := s.Items()

	snap := s.Snapshot()
	s.Insert(item(5)) // the set changes first: it copies
	s.Remove(item(0)) // and changes its own copy again
	snap2 := s.Snapshot()
	snap2.Insert(item(7)) // the snapshot changes first: it copies
	if got := snap.Items(); !slices.Equal(got, want) {
		t.Fatalf("first snapshot changed with its set: %v", got)
	}
	if s.Contains(item(7)) || !s.Contains(item(5)) || s.Contains(item(0)) || s.Len() != 10 {
		t.Fatalf("set after changes: %v", s.Items())
	}
	if !snap2.Contains(item(5)) || !snap2.Contains(item(7)) || snap2.Len() != 11 {
		t.Fatalf("second snapshot: %v", snap2.Items())
	}
	// A snapshot of a snapshot, changed on both sides.
	snap3 := snap.Snapshot()
	snap.Remove(item(2))
	snap3.Insert(item(1))
	if snap.Contains(item(1)) || snap3.Len() != 11 || !snap3.Contains(item(2)) || snap.Len() != 9 {
		t.Fatalf("snapshot of a snapshot: %v / %v", snap.Items(), snap3.Items())
	}

	// Reconciling over a snapshot finds what a copy would.
	other := NewSet(append(slices.Clone(want), item(101), item(103)))
	res := reconcile(t, s.Snapshot(), other, Options{}, Options{})
	ref := reconcile(t, NewSet(s.Items()), other, Options{}, Options{})
	if !slices.Equal(res.have, ref.have) || !slices.Equal(res.need, ref.need) {
		t.Fatalf("snapshot reconciled to have %v need %v, a copy to have %v need %v", res.have, res.need, ref.have, ref.need)
	}
}
