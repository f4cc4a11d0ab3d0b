// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// onStoppedStore runs fn in a read-write transaction on the Badger
// database of a stopped node's store.
func onStoppedStore(t *testing.T, h Home, fn func(txn *badger.Txn) error) error {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(h.Store()).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Update(fn)
}

// damageOnDisk changes the stored body of record c in a stopped node's
// store with flip, as a failing disk or a tampered backup would.
func damageOnDisk(t *testing.T, h Home, c cid.Cid, flip func(raw []byte)) {
	t.Helper()
	key := append([]byte("r/"), c.Bytes()...)
	err := onStoppedStore(t, h, func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		raw, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		flip(raw)
		return txn.Set(key, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flipTail changes four bytes near the end of a stored record, inside its
// body.
func flipTail(raw []byte) {
	for i := len(raw) - 40; i < len(raw)-36; i++ {
		raw[i] ^= 0x5a
	}
}

// A record damaged on one node's disk is not served or counted as in sync,
// and is repaired from a member that holds it intact.
func TestDamagedRecordRepairedFromMember(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(a, "transport", b)
	f.subscribe(b, "transport", a)
	var cids []cid.Cid
	for i := range 3 {
		cids = append(cids, publish(t, a, fmt.Sprintf("Demand-responsive minibus %d", i), "transport"))
	}
	for _, c := range cids {
		waitHas(t, b, c, 20*time.Second)
	}
	victim := cids[1]
	f.stop(b)
	damageOnDisk(t, b.home, victim, flipTail)
	f.start(b)
	f.waitMesh(a, b)

	if _, err := b.Node().store.Get(victim); !errors.Is(err, knowledge.ErrDamaged) {
		t.Fatalf("reading the damaged record: %v, want ErrDamaged", err)
	}
	// Serving it would spread the damage: a fetch from b returns nothing.
	raws, err := a.Node().fetchRaw(context.Background(), b.ID(), []cid.Cid{victim})
	if err != nil || len(raws) != 0 {
		t.Fatalf("b served %d copies of a damaged record (%v)", len(raws), err)
	}
	if st := b.Node().Status(); st.Integrity.Damaged == 0 {
		t.Fatalf("status does not report the damaged record: %+v", st.Integrity)
	} else {
		for _, ts := range st.Topics {
			if ts.Topic == "transport" && ts.InSync {
				t.Fatal("status says the topic is in sync while a record is damaged")
			}
		}
	}

	// The repairer, woken by the read, fetches an intact copy from a.
	eventually(t, 30*time.Second, "damaged record repaired", func() error {
		if len(b.Node().store.Damaged()) > 0 {
			return errors.New("still damaged")
		}
		return nil
	})
	rec, err := b.Node().store.Get(victim)
	if err != nil {
		t.Fatalf("after repair: %v", err)
	}
	if err := protocol.VerifyStored(rec.Raw, victim); err != nil {
		t.Fatalf("repaired copy: %v", err)
	}
	if got := b.Node().Integrity().Repaired; got != 1 {
		t.Fatalf("repaired count %d, want 1", got)
	}

	// A full scrub finds nothing left.
	rep, err := b.Node().Scrub(context.Background(), nil)
	if err != nil || len(rep.Problems) != 0 || rep.Records < 3 {
		t.Fatalf("scrub after repair: %+v %v", rep, err)
	}
}

// A scrub finds damage that no read has touched yet and repairs it.
func TestScrubFindsAndRepairsUnreadDamage(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(a, "elderly-care", b)
	f.subscribe(b, "elderly-care", a)
	c := publish(t, a, "Village volunteers and night-time telecare", "elderly-care")
	waitHas(t, b, c, 20*time.Second)
	f.stop(b)
	damageOnDisk(t, b.home, c, flipTail)
	f.start(b)
	f.waitMesh(a, b)

	rep, err := b.Node().Scrub(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.DamagedRecords(); len(d) != 1 || !d[0].Equals(c) {
		t.Fatalf("scrub found %+v, want the damaged %s", rep.Problems, c)
	}
	if len(b.Node().store.Damaged()) != 0 {
		t.Fatalf("scrub did not repair: %v", b.Node().store.Damaged())
	}
	if _, err := b.Node().store.Get(c); err != nil {
		t.Fatalf("after scrub: %v", err)
	}
}
