// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"testing"

	"github.com/livinglab/livinglab/protocol"
)

// The links of a removed member's kept chain survive a restart, are kept
// apart per author, and "done" is per author too.
func TestKeptChainPersists(t *testing.T) {
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	first, second := protocol.RecordCID([]byte("first")), protocol.RecordCID([]byte("second"))
	if err := s.PutKeptLink("alice", second, first.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeptLink("alice", first, ""); err != nil {
		t.Fatal(err)
	}
	if done, _ := s.KeptDone("alice"); done {
		t.Fatal("done before SetKeptDone")
	}
	if err := s.SetKeptDone("alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStoreIn(t, dir)
	defer s.Close()
	if prev, ok := s.KeptLink("alice", second); !ok || prev != first.String() {
		t.Fatalf("second link after a restart: %q, %v", prev, ok)
	}
	if prev, ok := s.KeptLink("alice", first); !ok || prev != "" {
		t.Fatalf("first link after a restart: %q, %v", prev, ok)
	}
	if done, floor := s.KeptDone("alice"); !done || floor != 0 {
		t.Fatalf("alice's chain after a restart: done %v floor %d", done, floor)
	}
	// Another author, and one whose ID is a prefix of alice's.
	for _, other := range []string{"bob", "alic"} {
		if _, ok := s.KeptLink(other, second); ok {
			t.Fatalf("%s shares alice's chain", other)
		}
		if done, _ := s.KeptDone(other); done {
			t.Fatalf("%s shares alice's end of walk", other)
		}
	}
	if err := s.SetKeptDone("bob", 7); err != nil {
		t.Fatal(err)
	}
	if done, floor := s.KeptDone("bob"); !done || floor != 7 {
		t.Fatalf("bob's walk: done %v floor %d, want 7", done, floor)
	}
}
