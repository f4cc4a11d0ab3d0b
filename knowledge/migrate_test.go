// SPDX-License-Identifier: EUPL-1.2

// Long file: every schema migration is tested from stores written in each earlier format, whose
// writers (v1, v2, ...) live here with the checks they share.

package knowledge

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

// The version 1 layout is spelled out here byte by byte rather than built
// with the store's own key helpers, so that a later change to those helpers
// cannot silently change what "a version 1 store" means in these tests.

var updateStoreV1 = flag.Bool("update-store-v1", false, "rewrite testdata/store-v1 with the version 1 generator")

const v1FixtureDir = "testdata/store-v1"

// v1Tombstone is the tombstone value version 1 wrote (no target_author).
type v1Tombstone struct {
	Target     string `cbor:"target"`
	By         string `cbor:"by"`
	Retraction string `cbor:"retraction"`
	Reason     string `cbor:"reason"`
	At         int64  `cbor:"at"`
}

// v1Store is the content of a version 1 store, built the way version 1's
// Put wrote it.
type v1Store struct {
	kv   map[string][]byte
	recs map[string]*protocol.Signed // every record ever put, by CID string
}

func newV1Store() *v1Store {
	return &v1Store{kv: map[string][]byte{}, recs: map[string]*protocol.Signed{}}
}

func v1BE64(v uint64) string { return string(binary.BigEndian.AppendUint64(nil, v)) }

// contentKeys are the keys version 1 wrote for a record, except the
// tombstone a retraction writes.
func (s *v1Store) contentKeys(t testing.TB, rec *protocol.Signed) map[string][]byte {
	t.Helper()
	r := rec.Record
	c := string(rec.CID.Bytes())
	out := map[string][]byte{"r/" + c: rec.Raw}
	topics := r.Topics
	if r.Kind == protocol.KindMembership || r.Kind == protocol.KindRetraction {
		topics = []string{protocol.ControlTopic}
	}
	for _, tp := range topics {
		out["t/"+tp+"\x00"+v1BE64(uint64(r.Created))+c] = nil
	}
	out["k/"+string(r.Kind)+"\x00"+v1BE64(uint64(r.Created))+c] = nil
	out["a/"+r.Author+"\x00"+v1BE64(r.Seq)] = []byte(c)
	p, err := r.DecodePayload()
	if err != nil {
		t.Fatal(err)
	}
	if pr, ok := p.(*protocol.Practice); ok {
		pid := rec.CID.String()
		if pr.Version > 1 {
			pid = pr.PracticeID
			prev, err := cid.Decode(pr.Supersedes)
			if err != nil {
				t.Fatal(err)
			}
			out["s/"+string(prev.Bytes())] = []byte(c)
		}
		out["v/"+pid+"\x00"+v1BE64(uint64(pr.Version))] = []byte(c)
	}
	return out
}

// put stores rec as version 1 did: content keys, and for a retraction a
// tombstone under x/<target> plus the deletion of the target's content.
func (s *v1Store) put(t testing.TB, rec *protocol.Signed, own bool) {
	t.Helper()
	s.recs[rec.CID.String()] = rec
	for k, v := range s.contentKeys(t, rec) {
		s.kv[k] = v
	}
	p, _ := rec.Record.DecodePayload()
	if rt, ok := p.(*protocol.Retraction); ok {
		target, err := cid.Decode(rt.Target)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := protocol.Marshal(&v1Tombstone{Target: rt.Target, By: rec.Record.Author, Retraction: rec.CID.String(),
			Reason: rt.Reason, At: rec.Record.Created})
		if err != nil {
			t.Fatal(err)
		}
		s.kv["x/"+string(target.Bytes())] = tb
		if old, ok := s.recs[rt.Target]; ok {
			if _, held := s.kv["r/"+string(target.Bytes())]; held {
				for k := range s.contentKeys(t, old) {
					if strings.HasPrefix(k, "s/") {
						continue // only a superseding version's own s/ key is removed, and only if it points to it
					}
					delete(s.kv, k)
				}
			}
		}
	}
	if own {
		s.kv["m/seq"] = []byte(v1BE64(rec.Record.Seq) + rec.CID.String())
	}
}

// write creates a Badger database in dir holding the keys and the given
// schema number.
func (s *v1Store) write(t testing.TB, dir string, schema uint32) {
	t.Helper()
	// The options version 1 opened its store with, with a small value log.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithMemTableSize(16 << 20).
		WithValueThreshold(1 << 10).WithValueLogFileSize(1 << 20).WithBlockCacheSize(1 << 20).WithIndexCacheSize(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	wb := db.NewWriteBatch()
	keys := make([]string, 0, len(s.kv))
	for k := range s.kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := wb.Set([]byte(k), s.kv[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Set([]byte("m/schema"), binary.BigEndian.AppendUint32(nil, schema)); err != nil {
		t.Fatal(err)
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// v1Key is a deterministic signing key, so the fixture's CIDs are stable.
func v1Key(t testing.TB, seed byte) (crypto.PrivKey, string) {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id.String()
}

// v1Base is 2025-01-01T00:00:00Z in Unix milliseconds.
const v1Base = int64(1735689600000)

// v1Chain seals n version 1 practices by key on topic, each following the
// one before, titled by title.
func v1Chain(t testing.TB, key crypto.PrivKey, n int, topic string, title func(i int) string) []*protocol.Signed {
	t.Helper()
	var recs []*protocol.Signed
	var prev *protocol.Signed
	for i := range n {
		prev = v1Seal(t, key, uint64(i+1), prev, []string{topic}, v1Practice(title(i)))
		recs = append(recs, prev)
	}
	return recs
}

func v1Seal(t testing.TB, key crypto.PrivKey, seq uint64, prev *protocol.Signed, topics []string, p protocol.Payload) *protocol.Signed {
	t.Helper()
	r := protocol.Record{Federation: "improve", Seq: seq, Created: v1Base + int64(seq)*60_000 + int64(len(topics)), Topics: topics}
	if prev != nil {
		r.Prev = prev.CID.String()
	}
	return testrec.Seal(t, r, p, key)
}

func v1Practice(title string) *protocol.Practice {
	text := "Volunteers and nurses co-designed the service with residents."
	return &protocol.Practice{Version: 1, Title: title, Summary: text, Approach: text, Language: "en",
		Licence: protocol.DefaultLicence, Region: "North Karelia", Country: "FI", Lessons: []string{"Start small."}}
}

// v1Fixture is a small federation's history as a version 1 node stored it.
type v1Fixture struct {
	store      *v1Store
	own, other string
	found      *protocol.Signed // own: founds the federation
	admit      *protocol.Signed // own: admits other
	retracted  *protocol.Signed // own: practice A, later retracted by own
	b1, b2     *protocol.Signed // own: practice B and its second version
	retraction *protocol.Signed // own: retracts A
	c          *protocol.Signed // other: practice C in two topics
	lesson     *protocol.Signed // other: a lesson
	ghostRetr  *protocol.Signed // other: retracts a record this node never held
	ghost      cid.Cid
	held       []*protocol.Signed // records whose content the store holds
}

func newV1Fixture(t testing.TB) *v1Fixture {
	t.Helper()
	ownKey, own := v1Key(t, 1)
	otherKey, other := v1Key(t, 2)
	f := &v1Fixture{store: newV1Store(), own: own, other: other,
		ghost: protocol.RecordCID([]byte("a record this node never saw"))}
	f.found = v1Seal(t, ownKey, 1, nil, nil, &protocol.Membership{Action: protocol.ActionFound, Member: own,
		Region: "North Karelia", Country: "FI", Role: protocol.RoleAdmin})
	f.admit = v1Seal(t, ownKey, 2, f.found, nil, &protocol.Membership{Action: protocol.ActionAdmit, Member: other,
		Region: "Västerbotten", Country: "SE", Role: protocol.RoleMember})
	f.retracted = v1Seal(t, ownKey, 3, f.admit, []string{"elderly-care"}, v1Practice("Night-time telecare with village volunteers"))
	f.b1 = v1Seal(t, ownKey, 4, f.retracted, []string{"transport"}, v1Practice("Demand-responsive village bus"))
	p2 := v1Practice("Demand-responsive village bus, second year")
	p2.Version, p2.PracticeID, p2.Supersedes = 2, f.b1.CID.String(), f.b1.CID.String()
	f.b2 = v1Seal(t, ownKey, 5, f.b1, []string{"transport"}, p2)
	f.retraction = v1Seal(t, ownKey, 6, f.b2, nil, &protocol.Retraction{Target: f.retracted.CID.String(), Reason: "Published by mistake"})
	f.c = v1Seal(t, otherKey, 1, nil, []string{"elderly-care", "transport"}, func() *protocol.Practice {
		p := v1Practice("Shared rides to the health centre")
		p.Region, p.Country = "Västerbotten", "SE"
		return p
	}())
	f.lesson = v1Seal(t, otherKey, 2, f.c, []string{"transport"}, &protocol.Lesson{Insight: "Drivers need a fixed weekly slot.",
		Context: "Volunteer drivers", Language: "en", Region: "Västerbotten", Country: "SE"})
	f.ghostRetr = v1Seal(t, otherKey, 3, f.lesson, nil, &protocol.Retraction{Target: f.ghost.String(), Reason: "Withdrawn"})
	for _, r := range []*protocol.Signed{f.found, f.admit, f.retracted, f.b1, f.b2, f.retraction} {
		f.store.put(t, r, true)
	}
	for _, r := range []*protocol.Signed{f.c, f.lesson, f.ghostRetr} {
		f.store.put(t, r, false)
	}
	f.held = []*protocol.Signed{f.found, f.admit, f.b1, f.b2, f.retraction, f.c, f.lesson, f.ghostRetr}
	return f
}

func cidStrings[T interface{ String() string }](xs []T) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, x.String())
	}
	slices.Sort(out)
	return out
}

func recCIDs(recs []*protocol.Signed) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.CID.String())
	}
	slices.Sort(out)
	return out
}

// rawKeys lists the store's keys with a prefix.
func rawKeys(t testing.TB, s *Store, prefix string) []string {
	t.Helper()
	var out []string
	err := s.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().KeyCopy(nil)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkMigrated asserts that s holds f's history in the current layout.
func checkMigrated(t *testing.T, s *Store, f *v1Fixture) {
	t.Helper()
	if v, err := s.SchemaOf(); err != nil || v != SchemaVersion {
		t.Fatalf("schema after migration: %d, %v; want %d", v, err, SchemaVersion)
	}
	if SchemaVersion != 4 {
		t.Logf("SchemaVersion is %d: extend these tests with the new version's layout", SchemaVersion)
	}

	// Own chain heads (version 4): the last own record held on each topic,
	// counted in sequence order; a record retracted before the migration
	// is not held and does not count.
	heads, err := s.OwnChains([]string{protocol.ControlTopic, "transport", "elderly-care"})
	if err != nil {
		t.Fatal(err)
	}
	wantHeads := map[string]ChainHead{protocol.ControlTopic: {Seq: 3, CID: f.retraction.CID.String()},
		"transport": {Seq: 2, CID: f.b2.CID.String()}, "elderly-care": {}}
	if !maps.Equal(heads, wantHeads) {
		t.Fatalf("own chain heads after migration: %v, want %v", heads, wantHeads)
	}

	// Tombstones: one per target and signer, readable, none left in the old form.
	a := f.retracted.CID
	wantKeys := []string{"x/" + string(a.Bytes()) + "\x00" + f.own, "x/" + string(f.ghost.Bytes()) + "\x00" + f.other}
	slices.Sort(wantKeys)
	if got := rawKeys(t, s, "x/"); !slices.Equal(got, wantKeys) {
		t.Fatalf("tombstone keys after migration:\n got %q\nwant %q", got, wantKeys)
	}
	ts, err := s.Tombs(a)
	if err != nil {
		t.Fatalf("Tombs(%s): %v", a, err)
	}
	want := Tombstone{Target: a.String(), By: f.own, Retraction: f.retraction.CID.String(), Reason: "Published by mistake",
		At: f.retraction.Record.Created}
	if len(ts) != 1 || ts[0] != want {
		t.Fatalf("Tombs(retracted) = %+v, want [%+v]", ts, want)
	}
	tb, err := s.Tomb(a)
	if err != nil || *tb != want {
		t.Fatalf("Tomb(retracted) = %+v, %v; want %+v", tb, err, want)
	}
	gt, err := s.Tomb(f.ghost)
	if err != nil || gt.By != f.other || gt.Target != f.ghost.String() || gt.Retraction != f.ghostRetr.CID.String() || gt.Reason != "Withdrawn" {
		t.Fatalf("Tomb(never held) = %+v, %v", gt, err)
	}
	if _, err := s.Tomb(f.b1.CID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tomb of a record never retracted: %v, want ErrNotFound", err)
	}

	// The retracted record stays out.
	if _, err := s.Put(f.retracted); !errors.Is(err, protocol.ErrRetracted) {
		t.Fatalf("Put(retracted record) = %v, want ErrRetracted", err)
	}
	if s.Has(a) {
		t.Fatalf("the retracted record is held after Put")
	}
	if _, err := s.Get(a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(retracted) = %v, want ErrNotFound", err)
	}

	// Every other record intact, byte for byte.
	for _, r := range f.held {
		got, err := s.Get(r.CID)
		if err != nil {
			t.Fatalf("Get(%s): %v", r.CID, err)
		}
		if !bytes.Equal(got.Raw, r.Raw) || got.Record.Seq != r.Record.Seq || got.Record.Kind != r.Record.Kind {
			t.Fatalf("record %s changed in migration", r.CID)
		}
		if _, err := protocol.OpenExpect(got.Raw, r.CID, got.Record.CreatedTime()); err != nil {
			t.Fatalf("record %s no longer verifies: %v", r.CID, err)
		}
	}
	all, err := s.List(ListOptions{IncludeOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recCIDs(all), recCIDs(f.held); !slices.Equal(got, want) {
		t.Fatalf("records held:\n got %v\nwant %v", got, want)
	}
	latest, err := s.List(ListOptions{Kind: protocol.KindPractice})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recCIDs(latest), recCIDs([]*protocol.Signed{f.b2, f.c}); !slices.Equal(got, want) {
		t.Fatalf("latest practices:\n got %v\nwant %v", got, want)
	}
	withOld, err := s.List(ListOptions{Kind: protocol.KindPractice, IncludeOld: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recCIDs(withOld), recCIDs([]*protocol.Signed{f.b1, f.b2, f.c}); !slices.Equal(got, want) {
		t.Fatalf("all practice versions:\n got %v\nwant %v", got, want)
	}
	if vs, err := s.Versions(f.b1.CID.String()); err != nil || !slices.Equal(cidStrings(vs), recCIDs([]*protocol.Signed{f.b1, f.b2})) {
		t.Fatalf("Versions(B) = %v, %v", vs, err)
	}
	if next, ok := s.SupersededBy(f.b1.CID); !ok || !next.Equals(f.b2.CID) {
		t.Fatalf("SupersededBy(B1) = %v, %v; want B2", next, ok)
	}
	if seq, prev, err := s.LastOwn(); err != nil || seq != 6 || prev != f.retraction.CID.String() {
		t.Fatalf("LastOwn = %d, %q, %v; want 6, %s", seq, prev, err, f.retraction.CID)
	}
	if c, ok := s.AuthorCID(f.own, 4); !ok || !c.Equals(f.b1.CID) {
		t.Fatalf("AuthorCID(own, 4) = %v, %v", c, ok)
	}
	if _, ok := s.AuthorCID(f.own, 3); ok {
		t.Fatalf("the retracted record's author key survived")
	}
	if a, ok := s.AuthorOf(f.c.CID); !ok || a != f.other {
		t.Fatalf("AuthorOf(C) = %q, %v", a, ok)
	}
	for topic, want := range map[string]int{"transport": 4, "elderly-care": 1, protocol.ControlTopic: 4} {
		if n, err := s.CountTopic(topic); err != nil || n != want {
			t.Fatalf("CountTopic(%s) = %d, %v; want %d", topic, n, err, want)
		}
	}

	// Version 3: every held practice and lesson counted in its author's
	// minute of signing (the retracted practice A was deleted before).
	if got := rawKeys(t, s, "l/"); len(got) != 4 {
		t.Fatalf("window counts after migration: %q, want 4 (B1, B2, C, the lesson)", got)
	}
	one := AuthorLimit{Burst: 1, Minutes: 1}
	for _, c := range []struct {
		author string
		rec    *protocol.Signed
	}{{f.own, f.b1}, {f.own, f.b2}, {f.other, f.c}, {f.other, f.lesson}} {
		if ok, err := s.AuthorRoom(c.author, c.rec.Record.Created, one); err != nil || ok {
			t.Fatalf("AuthorRoom at %s's minute = %v, %v; want it counted", c.rec.CID, ok, err)
		}
	}
	if ok, err := s.AuthorRoom(f.own, f.retracted.Record.Created, one); err != nil || !ok {
		t.Fatalf("AuthorRoom at the retracted record's minute = %v, %v; want room", ok, err)
	}

	// New writes after the migration use the new layout alongside the old data.
	ownKey, _ := v1Key(t, 1)
	p := v1Practice("Library bus on Saturdays")
	fresh := v1Seal(t, ownKey, 7, f.retraction, []string{"transport"}, p)
	if res, err := s.PutOwn(fresh); err != nil || !res.Added {
		t.Fatalf("PutOwn after migration: %+v, %v", res, err)
	}
	retr := v1Seal(t, ownKey, 8, fresh, nil, &protocol.Retraction{Target: fresh.CID.String(), Reason: "Duplicate"})
	if res, err := s.PutOwn(retr); err != nil || len(res.Removed) != 1 {
		t.Fatalf("retraction after migration: %+v, %v", res, err)
	}
	if tb, err := s.Tomb(fresh.CID); err != nil || tb.By != f.own || tb.TargetAuthor != f.own {
		t.Fatalf("new tombstone: %+v, %v", tb, err)
	}
}

// reopen opens the store in dir again.
func reopen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	return s
}

func TestMigrateV1Store(t *testing.T) {
	f := newV1Fixture(t)
	dir := t.TempDir()
	f.store.write(t, dir, 1)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open a version 1 store: %v", err)
	}
	checkMigrated(t, s, f)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A second open finds nothing to migrate and changes nothing.
	s = reopen(t, dir)
	defer s.Close()
	if v, _ := s.SchemaOf(); v != SchemaVersion {
		t.Fatalf("schema after reopen: %d", v)
	}
	ts, err := s.Tombs(f.retracted.CID)
	if err != nil || len(ts) != 1 || ts[0].By != f.own {
		t.Fatalf("tombstone after reopen: %+v, %v", ts, err)
	}
	if n := len(rawKeys(t, s, "x/")); n != 3 {
		t.Fatalf("%d tombstone keys after reopen, want 3 (two migrated, one new)", n)
	}
}

// A version 1 store in which some tombstones already have the version 2
// form (a migration that stopped part way) still migrates completely.
func TestMigrateV1StorePartlyMigrated(t *testing.T) {
	f := newV1Fixture(t)
	old := "x/" + string(f.ghost.Bytes())
	f.store.kv[old+"\x00"+f.other] = f.store.kv[old]
	delete(f.store.kv, old)
	dir := t.TempDir()
	f.store.write(t, dir, 1)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open a partly migrated store: %v", err)
	}
	defer s.Close()
	checkMigrated(t, s, f)
}

// A store whose retraction history is long (a member removed with all its
// records retracted leaves one tombstone per record) must still migrate.
func TestMigrateManyTombstones(t *testing.T) {
	const n = 20000
	_, by := v1Key(t, 3)
	s1 := newV1Store()
	targets := make([]cid.Cid, n)
	for i := range targets {
		targets[i] = protocol.RecordCID([]byte(fmt.Sprintf("removed member's record %d", i)))
		tb, err := protocol.Marshal(&v1Tombstone{Target: targets[i].String(), By: by,
			Retraction: protocol.RecordCID([]byte(fmt.Sprintf("retraction %d", i))).String(), Reason: "Member removed", At: v1Base})
		if err != nil {
			t.Fatal(err)
		}
		s1.kv["x/"+string(targets[i].Bytes())] = tb
	}
	dir := t.TempDir()
	s1.write(t, dir, 1)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open a version 1 store with %d tombstones: %v", n, err)
	}
	defer s.Close()
	if v, _ := s.SchemaOf(); v != SchemaVersion {
		t.Fatalf("schema %d", v)
	}
	if got := len(rawKeys(t, s, "x/")); got != n {
		t.Fatalf("%d tombstone keys after migration, want %d", got, n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if tb, err := s.Tomb(targets[i]); err != nil || tb.By != by {
			t.Fatalf("Tomb(target %d) = %+v, %v", i, tb, err)
		}
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	f := newV1Fixture(t)
	dir := t.TempDir()
	f.store.write(t, dir, 99)
	for range 2 { // the refusal releases the database: a second try gives the same answer
		s, err := Open(dir, Options{})
		if err == nil {
			s.Close()
			t.Fatal("a version 99 store opened")
		}
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("error %v does not wrap ErrSchemaTooNew", err)
		}
		for _, w := range []string{"version 99", fmt.Sprintf("up to %d", SchemaVersion), "newer livinglab"} {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not say %q", err, w)
			}
		}
	}
	// Nothing was changed.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte("m/schema"))
		if err != nil {
			return err
		}
		v, _ := it.ValueCopy(nil)
		if binary.BigEndian.Uint32(v) != 99 {
			return fmt.Errorf("schema rewritten to %d", binary.BigEndian.Uint32(v))
		}
		if _, err := txn.Get([]byte("x/" + string(f.retracted.CID.Bytes()))); err != nil {
			return fmt.Errorf("tombstone moved by a refused open: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFreshStore(t *testing.T) {
	dir := t.TempDir()
	s := openStoreIn(t, dir)
	if v, err := s.SchemaOf(); err != nil || v != SchemaVersion {
		t.Fatalf("fresh store schema %d, %v", v, err)
	}
	s.Close()
	s = reopen(t, dir)
	defer s.Close()
	if v, _ := s.SchemaOf(); v != SchemaVersion {
		t.Fatalf("fresh store schema after reopen %d", v)
	}
}

// The committed fixture is a version 1 store made by the generator above
// (go test ./knowledge -run MigrateCommittedFixture -update-store-v1). It
// pins the on-disk form: the generator may drift, the files do not.
func TestMigrateCommittedFixture(t *testing.T) {
	f := newV1Fixture(t)
	if *updateStoreV1 {
		if err := os.RemoveAll(v1FixtureDir); err != nil {
			t.Fatal(err)
		}
		f.store.write(t, v1FixtureDir, 1)
		// Badger recreates its preallocated discard-statistics file; it
		// holds nothing for a store this small.
		os.Remove(filepath.Join(v1FixtureDir, "DISCARD"))
	}
	if _, err := os.Stat(v1FixtureDir); err != nil {
		t.Fatalf("fixture missing (regenerate with -update-store-v1): %v", err)
	}
	dir := t.TempDir()
	err := filepath.WalkDir(v1FixtureDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(v1FixtureDir, p)
		return os.WriteFile(filepath.Join(dir, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open the committed version 1 store: %v", err)
	}
	defer s.Close()
	checkMigrated(t, s, f)
}
