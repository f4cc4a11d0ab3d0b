package knowledge

import (
	"testing"

	"github.com/livinglab/livinglab/protocol"
)

// The links of a removed member's kept chain survive a restart, are kept
// apart per author, and "done" is per author too.
func TestKeptChainPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, second := protocol.RecordCID([]byte("first")), protocol.RecordCID([]byte("second"))
	if err := s.PutKeptLink("alice", second, first.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeptLink("alice", first, ""); err != nil {
		t.Fatal(err)
	}
	if s.KeptDone("alice") {
		t.Fatal("done before SetKeptDone")
	}
	if err := s.SetKeptDone("alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if prev, ok := s.KeptLink("alice", second); !ok || prev != first.String() {
		t.Fatalf("second link after a restart: %q, %v", prev, ok)
	}
	if prev, ok := s.KeptLink("alice", first); !ok || prev != "" {
		t.Fatalf("first link after a restart: %q, %v", prev, ok)
	}
	if !s.KeptDone("alice") {
		t.Fatal("alice's chain not done after a restart")
	}
	if _, ok := s.KeptLink("bob", second); ok || s.KeptDone("bob") {
		t.Fatal("bob shares alice's chain")
	}
	// An author whose ID extends another's does not see its links.
	if _, ok := s.KeptLink("alic", second); ok || s.KeptDone("alic") {
		t.Fatal("a prefix of alice's ID shares her chain")
	}
}
