// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// corrupt overwrites a stored record's bytes the way a flipped bit on disk
// or a tampered backup would.
func corrupt(t *testing.T, s *Store, c cid.Cid, flip func([]byte)) {
	t.Helper()
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(cat(pfxRecord, c.Bytes()))
		if err != nil {
			return err
		}
		raw, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		flip(raw)
		return txn.Set(cat(pfxRecord, c.Bytes()), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDamagedRecordIsFoundAndRepaired(t *testing.T) {
	var reported []cid.Cid
	s := openTestStoreWith(t, Options{OnDamaged: func(c cid.Cid, err error) { reported = append(reported, c) }})
	key, _ := v1Key(t, 3)
	recs := v1Chain(t, key, 5, "transport", func(i int) string { return "Demand-responsive bus " + string(rune('A'+i)) })
	for _, rec := range recs {
		if _, err := s.Put(rec); err != nil {
			t.Fatal(err)
		}
	}
	body, sig := recs[1], recs[3]
	// Four bytes changed inside the body of one record (its title text)...
	corrupt(t, s, body.CID, func(raw []byte) {
		for i := len(raw) / 2; i < len(raw)/2+4; i++ {
			raw[i] ^= 0x20
		}
	})
	// ...and one byte of another record's signature, which its CID does
	// not cover.
	corrupt(t, s, sig.CID, func(raw []byte) {
		var env protocol.Envelope
		if err := protocol.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		raw[bytes.Index(raw, env.Sig)+5] ^= 0x01
	})

	if _, err := s.Get(body.CID); !errors.Is(err, ErrDamaged) {
		t.Fatalf("get of a damaged record: %v, want ErrDamaged", err)
	}
	list, err := s.List(ListOptions{Topic: "transport"})
	if err != nil {
		t.Fatalf("a damaged record must not break the listing: %v", err)
	}
	if len(list) != 4 {
		t.Fatalf("listed %d records, want the 4 whose content is intact by CID", len(list))
	}
	if len(reported) != 1 || !reported[0].Equals(body.CID) {
		t.Fatalf("reported %v, want %s once", reported, body.CID)
	}

	rep, err := s.Check(context.Background(), CheckOptions{Signatures: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 5 {
		t.Fatalf("checked %d records, want 5", rep.Records)
	}
	damaged := rep.DamagedRecords()
	if len(damaged) != 2 || !containsCID(damaged, body.CID) || !containsCID(damaged, sig.CID) {
		t.Fatalf("check found %v, want %s and %s", rep.Problems, body.CID, sig.CID)
	}
	if got := s.Damaged(); len(got) != 2 {
		t.Fatalf("damaged set %v, want 2", got)
	}
	if rep2, _ := s.Check(context.Background(), CheckOptions{}); len(rep2.DamagedRecords()) != 1 {
		t.Fatalf("without signatures the check finds %v, want only the body damage", rep2.Problems)
	}

	// A copy that does not verify is refused; the intact copies repair.
	if _, err := s.Repair(body.CID, sig.Raw); err == nil {
		t.Fatal("repair with another record's bytes succeeded")
	}
	for _, rec := range []*protocol.Signed{body, sig} {
		fixed, err := s.Repair(rec.CID, rec.Raw)
		if err != nil || !fixed {
			t.Fatalf("repair %s: %v %v", rec.CID, fixed, err)
		}
	}
	if fixed, err := s.Repair(recs[0].CID, recs[0].Raw); err != nil || fixed {
		t.Fatalf("repairing an intact record changed it: %v %v", fixed, err)
	}
	if got, err := s.Get(body.CID); err != nil || got.Record.Seq != body.Record.Seq {
		t.Fatalf("after repair: %v", err)
	}
	if rep, _ := s.Check(context.Background(), CheckOptions{Signatures: true}); len(rep.Problems) != 0 || len(s.Damaged()) != 0 {
		t.Fatalf("after repair the check still finds %v (damaged set %v)", rep.Problems, s.Damaged())
	}
}

func TestCheckFindsAndDropsDanglingIndexEntries(t *testing.T) {
	s := openTestStore(t)
	key, _ := v1Key(t, 4)
	rec := v1Seal(t, key, 1, nil, []string{"youth"}, v1Practice("Youth council budget"))
	if _, err := s.Put(rec); err != nil {
		t.Fatal(err)
	}
	// The content is lost (a partial restore) while its indexes remain: sync
	// would believe the record held and never fetch it again.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(cat(pfxRecord, rec.CID.Bytes())) }); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(context.Background(), CheckOptions{FixIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 3 { // topic, kind and author entries
		t.Fatalf("problems %+v, want 3 dangling entries", rep.Problems)
	}
	for _, p := range rep.Problems {
		if !p.Fixed || !p.CID.Equals(rec.CID) {
			t.Fatalf("problem %+v not fixed", p)
		}
	}
	n := 0
	if err := s.TopicItems("youth", func(TopicItem) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("topic still lists %d items (%v)", n, err)
	}
	if rep, _ := s.Check(context.Background(), CheckOptions{}); len(rep.Problems) != 0 {
		t.Fatalf("second check: %+v", rep.Problems)
	}
	// Now sync can store it again.
	if res, err := s.Put(rec); err != nil || !res.Added {
		t.Fatalf("put after fix: %+v %v", res, err)
	}
}

func containsCID(cs []cid.Cid, c cid.Cid) bool {
	for _, x := range cs {
		if x.Equals(c) {
			return true
		}
	}
	return false
}

// The daemon's scrub runs while records arrive: an index entry of a record
// stored during the scan is not dangling, and must survive the repair.
func TestCheckWhileStoring(t *testing.T) {
	s := openTestStore(t)
	key, _ := v1Key(t, 5)
	const n = 300
	done := make(chan error, 1)
	go func() {
		var prev *protocol.Signed
		for i := range n {
			rec := v1Seal(t, key, uint64(i+1), prev, []string{"transport"}, v1Practice(fmt.Sprintf("Shared taxi %d", i)))
			if _, err := s.Put(rec); err != nil {
				done <- err
				return
			}
			prev = rec
		}
		done <- nil
	}()
	scans := 0
	for running := true; running; scans++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		rep, err := s.Check(context.Background(), CheckOptions{FixIndex: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 0 {
			t.Fatalf("scan %d while storing found %+v", scans, rep.Problems)
		}
	}
	items := 0
	if err := s.TopicItems("transport", func(TopicItem) error { items++; return nil }); err != nil || items != n {
		t.Fatalf("topic index holds %d of %d records after %d scans (%v)", items, n, scans, err)
	}
}
