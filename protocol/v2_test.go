// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// v2Record builds a version 2 record around p with a consistent chain.
func v2Record(tb testing.TB, key crypto.PrivKey, p Payload, seq uint64, prev string, chainPrev string, topics ...string) Record {
	tb.Helper()
	r := Record{Version: RecordV2, Federation: testFed, Author: idOf(tb, key), Seq: seq, Prev: prev,
		Created: testNow.Add(-time.Minute).UnixMilli(), Topics: topics}
	if err := r.SetPayload(p); err != nil {
		tb.Fatal(err)
	}
	r.Chain = map[string]ChainLink{}
	cs := uint64(1)
	if chainPrev != "" {
		cs = 2
	}
	for _, t := range r.ChainTopics() {
		r.Chain[t] = ChainLink{Seq: cs, Prev: chainPrev}
	}
	return r
}

// dagRoundTrip decodes b with go-ipld-prime's DAG-CBOR codec and encodes
// it again: DAG-CBOR bytes come back unchanged.
func dagRoundTrip(tb testing.TB, b []byte) datamodel.Node {
	tb.Helper()
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagcbor.Decode(nb, bytes.NewReader(b)); err != nil {
		tb.Fatalf("dag-cbor decode: %v", err)
	}
	n := nb.Build()
	var out bytes.Buffer
	if err := dagcbor.Encode(n, &out); err != nil {
		tb.Fatalf("dag-cbor encode: %v", err)
	}
	if !bytes.Equal(out.Bytes(), b) {
		tb.Fatalf("not canonical DAG-CBOR:\n got %x\nwant %x", b, out.Bytes())
	}
	return n
}

func TestV2RoundTripIsDAGCBOR(t *testing.T) {
	key := testKey(t, 1)
	author := idOf(t, key)
	first := mustSeal(t, v2Record(t, key, testPractice(), 1, "", "", "elderly-care"), key)
	next := testPractice()
	next.Version, next.PracticeID, next.Supersedes = 2, first.CID.String(), first.CID.String()
	adapted := testPractice()
	adapted.AdaptedFrom = []Adaptation{{Practice: first.CID.String(), Changes: "Run by the library instead of the health centre."}}
	cases := []struct {
		name  string
		rec   Record
		links []string // map keys of the body or payload that must be IPLD links
	}{
		{"first practice", v2Record(t, key, testPractice(), 1, "", "", "elderly-care", "transport"), nil},
		{"second version", v2Record(t, key, next, 2, first.CID.String(), first.CID.String(), "elderly-care"),
			[]string{"prev", "practice_id", "supersedes"}},
		{"adapted", v2Record(t, key, adapted, 2, first.CID.String(), first.CID.String(), "elderly-care"), []string{"prev"}},
		{"lesson", v2Record(t, key, &Lesson{Insight: "Ask first.", Language: "fi", Country: "FI"}, 1, "", "", "transport"), nil},
		{"retraction", v2Record(t, key, &Retraction{Target: first.CID.String(), Reason: "duplicate"}, 2, first.CID.String(), "", ""), []string{"target"}},
		{"membership", v2Record(t, key, &Membership{Action: ActionFound, Member: author, Region: "North Karelia",
			Country: "FI", Role: RoleAdmin}, 1, "", ""), nil},
		{"removal keeping records", v2Record(t, key, &Membership{Action: ActionRemove, Member: idOf(t, testKey(t, 2)),
			KeepUntilSeq: 1, KeepUntil: first.CID.String()}, 2, first.CID.String(), first.CID.String()), []string{"keep_until"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rec.Kind == KindRetraction || tc.rec.Kind == KindMembership {
				tc.rec.Topics = nil
			}
			s := mustSeal(t, tc.rec, key)
			env := envelopeOf(t, s.Raw)
			dagRoundTrip(t, s.Raw)
			body := dagRoundTrip(t, env.Body)
			if !s.CID.Equals(RecordCID(env.Body)) {
				t.Fatalf("CID %s is not the body's", s.CID)
			}
			for _, k := range tc.links {
				n := findKey(body, k)
				if n == nil || n.Kind() != datamodel.Kind_Link {
					t.Fatalf("%s is not an IPLD link in %x", k, env.Body)
				}
			}
			got, err := Open(s.Raw, testNow)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.Record.Version != RecordV2 || !reflect.DeepEqual(got.Record.Chain, s.Record.Chain) || got.Record.Prev != s.Record.Prev {
				t.Fatalf("record changed: %+v", got.Record)
			}
			want, _ := tc.rec.DecodePayload()
			p, err := got.Record.DecodePayload()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("payload changed:\n got %+v\nwant %+v", p, want)
			}
			if err := VerifyStored(s.Raw, s.CID); err != nil {
				t.Fatalf("VerifyStored: %v", err)
			}
		})
	}
}

// findKey returns the value of the first map entry named k, searching
// maps depth first.
func findKey(n datamodel.Node, k string) datamodel.Node {
	switch n.Kind() {
	case datamodel.Kind_Map:
		it := n.MapIterator()
		for !it.Done() {
			key, v, _ := it.Next()
			if s, _ := key.AsString(); s == k {
				return v
			}
			if f := findKey(v, k); f != nil {
				return f
			}
		}
	case datamodel.Kind_List:
		it := n.ListIterator()
		for !it.Done() {
			_, v, _ := it.Next()
			if f := findKey(v, k); f != nil {
				return f
			}
		}
	}
	return nil
}

func TestV2Refuses(t *testing.T) {
	key := testKey(t, 1)
	first := mustSeal(t, v2Record(t, key, testPractice(), 1, "", "", "elderly-care"), key)
	good := func() Record { return v2Record(t, key, testPractice(), 1, "", "", "elderly-care") }
	cases := []struct {
		name string
		rec  func() Record
	}{
		{"chain misses a topic", func() Record { r := good(); r.Topics = []string{"elderly-care", "transport"}; return r }},
		{"chain names another topic", func() Record { r := good(); r.Chain = map[string]ChainLink{"transport": {Seq: 1}}; return r }},
		{"chain seq zero", func() Record { r := good(); r.Chain["elderly-care"] = ChainLink{}; return r }},
		{"chain seq above seq", func() Record {
			r := good()
			r.Chain["elderly-care"] = ChainLink{Seq: 2, Prev: first.CID.String()}
			return r
		}},
		{"chain prev on a first record", func() Record {
			r := good()
			r.Chain["elderly-care"] = ChainLink{Seq: 1, Prev: first.CID.String()}
			return r
		}},
		{"prev without seq", func() Record { r := good(); r.Prev = first.CID.String(); return r }},
		{"link to a non-record CID", func() Record {
			r := v2Record(t, key, testPractice(), 2, first.CID.String(), "", "elderly-care")
			r.Prev = "bafkqaaa" // identity CID, raw codec
			return r
		}},
		{"chain in a version 1 record", func() Record { r := practiceRecord(t, key); r.Chain = good().Chain; return r }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := Seal(tc.rec(), key); err == nil {
				t.Fatalf("Seal accepted it: %s", s.CID)
			}
		})
	}
	t.Run("adapted_from in version 1", func(t *testing.T) {
		p := testPractice()
		p.AdaptedFrom = []Adaptation{{Practice: first.CID.String(), Changes: "x"}}
		r := Record{Federation: testFed}
		if err := r.SetPayload(p); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SetPayload: %v, want ErrInvalid", err)
		}
	})
}

// TestV2RefusesNonCanonical re-encodes a valid version 2 body in other
// valid CBOR forms (bytewise key order as in version 1, null for an absent
// link) and signs it: every one is refused.
func TestV2RefusesNonCanonical(t *testing.T) {
	key := testKey(t, 1)
	s := mustSeal(t, v2Record(t, key, testPractice(), 1, "", "", "elderly-care"), key)
	env := envelopeOf(t, s.Raw)
	w, err := s.Record.toV2()
	if err != nil {
		t.Fatal(err)
	}
	body1 := reencodeUnsorted(t, w)
	var generic map[string]any
	if err := peekMode.Unmarshal(env.Body, &generic); err != nil {
		t.Fatal(err)
	}
	generic["prev"] = nil
	body2, _ := encModeV2.Marshal(generic)
	for name, body := range map[string][]byte{"struct field order": body1, "null prev": body2} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(body, env.Body) {
				t.Fatal("re-encoding gave the same bytes")
			}
			sig, _ := key.Sign(append(append([]byte{}, signPrefixV2...), body...))
			raw, _ := encModeV2.Marshal(&Envelope{Body: body, Sig: sig})
			if _, err := Open(raw, testNow); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Open: %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("signed in the version 1 domain", func(t *testing.T) {
		sig, _ := key.Sign(append(append([]byte{}, signPrefix...), env.Body...))
		raw, _ := encModeV2.Marshal(&Envelope{Body: env.Body, Sig: sig})
		if _, err := Open(raw, testNow); !errors.Is(err, ErrBadSig) {
			t.Fatalf("Open: %v, want ErrBadSig", err)
		}
	})
}

// TestOnlyEd25519Authors: a record by a secp256k1 key, correctly signed,
// is refused in both versions.
func TestOnlyEd25519Authors(t *testing.T) {
	k, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{RecordVersion, RecordV2} {
		r := v2Record(t, k, testPractice(), 1, "", "", "elderly-care")
		if v == RecordVersion {
			r = practiceRecord(t, k)
		}
		if _, err := Seal(r, k); !errors.Is(err, ErrBadKey) {
			t.Fatalf("version %d: Seal: %v, want ErrBadKey", v, err)
		}
		body, err := encodeBody(&r)
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := k.Sign(append(append([]byte{}, signPrefixFor(v)...), body...))
		raw, _ := encodeEnvelope(v, &Envelope{Body: body, Sig: sig})
		if _, err := Open(raw, testNow); !errors.Is(err, ErrBadKey) {
			t.Fatalf("version %d: Open: %v, want ErrBadKey", v, err)
		}
	}
}
