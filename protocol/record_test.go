// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// testNow is the receiver's clock in these tests; records are created a
// minute before it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const testFed = "improve"

// testKey returns a deterministic Ed25519 key, one per seed byte.
func testKey(tb testing.TB, seed byte) crypto.PrivKey {
	tb.Helper()
	k, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func idOf(tb testing.TB, k crypto.PrivKey) string {
	tb.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return id.String()
}

func testPractice() *Practice {
	return &Practice{Version: 1, Title: "Night-time telecare with village volunteers",
		Summary:  "Volunteers and nurses co-designed a night-time telecare service with residents.",
		Language: "en", Licence: DefaultLicence, Stage: 3,
		Lessons: []string{"Start with the residents' own routines."},
		Links:   []string{"https://example.org/telecare"}}
}

// newRecord builds a record around p, authored by key, without signing it.
func newRecord(tb testing.TB, key crypto.PrivKey, p Payload, topics ...string) Record {
	tb.Helper()
	r := Record{Version: RecordVersion, Federation: testFed, Author: idOf(tb, key), Seq: 1,
		Created: testNow.Add(-time.Minute).UnixMilli(), Topics: topics}
	if err := r.SetPayload(p); err != nil {
		tb.Fatal(err)
	}
	return r
}

func practiceRecord(tb testing.TB, key crypto.PrivKey) Record {
	return newRecord(tb, key, testPractice(), "elderly-care")
}

// signBody wraps body in an envelope with a valid signature by key,
// whatever the body holds. It is how a hostile but key-holding peer would
// produce records that Seal refuses to make.
func signBody(tb testing.TB, key crypto.PrivKey, body []byte) []byte {
	tb.Helper()
	sig, err := key.Sign(append(append([]byte{}, signPrefix...), body...))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := Marshal(&Envelope{Body: body, Sig: sig})
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// signRecord encodes r canonically and signs it, skipping Seal's checks.
func signRecord(tb testing.TB, key crypto.PrivKey, r Record) []byte {
	tb.Helper()
	body, err := Marshal(&r)
	if err != nil {
		tb.Fatal(err)
	}
	return signBody(tb, key, body)
}

func mustSeal(tb testing.TB, r Record, key crypto.PrivKey) *Signed {
	tb.Helper()
	s, err := Seal(r, key)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return s
}

func envelopeOf(tb testing.TB, raw []byte) Envelope {
	tb.Helper()
	var env Envelope
	if err := Unmarshal(raw, &env); err != nil {
		tb.Fatal(err)
	}
	return env
}

func TestSealOpenRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	author := idOf(t, key)
	v1 := mustSeal(t, practiceRecord(t, key), key)
	v2p := testPractice()
	v2p.Version, v2p.PracticeID, v2p.Supersedes = 2, v1.CID.String(), v1.CID.String()
	cases := []struct {
		name   string
		rec    Record
		prev   string
		topics []string
	}{
		{name: "practice", rec: practiceRecord(t, key)},
		{name: "practice second version", rec: newRecord(t, key, v2p, "elderly-care", "transport")},
		{name: "practice with translations", rec: newRecord(t, key, func() *Practice {
			p := testPractice()
			p.Translations = map[string]Translation{"fi": {Title: "Yötelehoito", Summary: "Vapaaehtoiset."}, "sv": {Title: "Nattlig"}}
			return p
		}(), "elderly-care")},
		{name: "lesson", rec: newRecord(t, key, &Lesson{Insight: "Ask first.", Language: "fi", Country: "FI"}, "transport")},
		{name: "retraction", rec: newRecord(t, key, &Retraction{Target: v1.CID.String(), Reason: "duplicate"})},
		{name: "membership found", rec: newRecord(t, key, &Membership{Action: ActionFound, Member: author,
			Region: "North Karelia", Country: "FI", Role: RoleAdmin, Addrs: []string{"/ip4/127.0.0.1/tcp/4801"}})},
		{name: "with prev", rec: func() Record {
			r := practiceRecord(t, key)
			r.Seq, r.Prev = 2, v1.CID.String()
			return r
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSeal(t, tc.rec, key)
			env := envelopeOf(t, s.Raw)
			if !s.CID.Equals(RecordCID(env.Body)) {
				t.Fatalf("CID %s is not the hash of the body (%s)", s.CID, RecordCID(env.Body))
			}
			if s.CID.Version() != 1 || s.CID.Type() != cid.DagCBOR {
				t.Fatalf("CID %s: want CIDv1 dag-cbor", s.CID)
			}
			got, err := Open(s.Raw, testNow)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !got.CID.Equals(s.CID) || !bytes.Equal(got.Raw, s.Raw) {
				t.Fatalf("Open gave %s, Seal gave %s", got.CID, s.CID)
			}
			if !reflect.DeepEqual(got.Record, s.Record) {
				t.Fatalf("record changed in the round trip:\n got %+v\nwant %+v", got.Record, s.Record)
			}
			if got.Record.Author != author || got.Record.Version != RecordVersion {
				t.Fatalf("author %q version %d", got.Record.Author, got.Record.Version)
			}
			if _, err := OpenExpect(s.Raw, s.CID, testNow); err != nil {
				t.Fatalf("OpenExpect with its own CID: %v", err)
			}
			want, err := tc.rec.DecodePayload()
			if err != nil {
				t.Fatal(err)
			}
			p, err := got.Record.DecodePayload()
			if err != nil {
				t.Fatalf("DecodePayload: %v", err)
			}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("payload changed:\n got %+v\nwant %+v", p, want)
			}
			// Sealing is deterministic: one record, one address, one envelope.
			again := mustSeal(t, tc.rec, key)
			if !again.CID.Equals(s.CID) || !bytes.Equal(again.Raw, s.Raw) {
				t.Fatalf("sealing twice gave %s and %s", s.CID, again.CID)
			}
		})
	}
}

func TestSealFillsVersionAndAuthor(t *testing.T) {
	key := testKey(t, 1)
	r := practiceRecord(t, key)
	r.Version, r.Author = 0, ""
	s := mustSeal(t, r, key)
	if s.Record.Version != RecordVersion || s.Record.Author != idOf(t, key) {
		t.Fatalf("got version %d author %q", s.Record.Version, s.Record.Author)
	}
}

func TestSealRefuses(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 2)
	big := testPractice()
	big.Problem = strings.Repeat("p", MaxLongText)
	big.Approach = strings.Repeat("a", MaxLongText)
	big.Results = strings.Repeat("r", MaxLongText)
	big.Resources = strings.Repeat("s", MaxLongText)
	big.Difficulties = strings.Repeat("d", MaxLongText)
	cases := []struct {
		name string
		rec  func() Record
		want error // nil: any error
	}{
		{"author is not the key", func() Record {
			r := practiceRecord(t, key)
			r.Author = idOf(t, other)
			return r
		}, nil},
		{"unknown kind", func() Record { r := practiceRecord(t, key); r.Kind = "opinion"; return r }, ErrBadKind},
		{"no payload", func() Record { r := practiceRecord(t, key); r.Payload = nil; return r }, ErrMissing},
		{"missing title", func() Record {
			p := testPractice()
			p.Title = "  "
			return newRecord(t, key, p, "elderly-care")
		}, ErrMissing},
		{"no topics", func() Record { return newRecord(t, key, testPractice()) }, ErrMissing},
		{"bad topic", func() Record { return newRecord(t, key, testPractice(), "Elderly Care") }, ErrInvalid},
		{"future", func() Record {
			r := practiceRecord(t, key)
			r.Created = time.Now().Add(time.Hour).UnixMilli()
			return r
		}, ErrFuture},
		{"too large", func() Record { return newRecord(t, key, big, "elderly-care") }, ErrTooLarge},
		{"escape in title", func() Record {
			p := testPractice()
			p.Title = "Night\x1b[31m care"
			return newRecord(t, key, p, "elderly-care")
		}, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Seal(tc.rec(), key)
			if err == nil {
				t.Fatalf("Seal accepted it: %s", s.CID)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Seal: %v, want %v", err, tc.want)
			}
		})
	}
}

// reencodeUnsorted encodes v with struct fields in declaration order, which
// is not the core deterministic (sorted) order.
func reencodeUnsorted(tb testing.TB, v any) []byte {
	tb.Helper()
	em, err := cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := em.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// replaceOnce replaces the single occurrence of old in b.
func replaceOnce(tb testing.TB, b, old, new []byte) []byte {
	tb.Helper()
	if n := bytes.Count(b, old); n != 1 {
		tb.Fatalf("%x occurs %d times in %x", old, n, b)
	}
	return bytes.Replace(b, old, new, 1)
}

func cborText(s string) []byte {
	if len(s) > 23 {
		panic("short strings only")
	}
	return append([]byte{0x60 | byte(len(s))}, s...)
}

func TestOpenRejects(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 2)
	valid := mustSeal(t, practiceRecord(t, key), key)
	validEnv := envelopeOf(t, valid.Raw)

	withRecord := func(fn func(*Record)) []byte {
		r := practiceRecord(t, key)
		fn(&r)
		return signRecord(t, key, r)
	}
	withPractice := func(fn func(*Practice), topics ...string) []byte {
		p := testPractice()
		fn(p)
		if len(topics) == 0 {
			topics = []string{"elderly-care"}
		}
		return signRecord(t, key, newRecord(t, key, p, topics...))
	}
	withTopics := func(ts ...string) []byte { return withRecord(func(r *Record) { r.Topics = ts }) }

	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		// Signatures and addresses.
		{"tampered signature", func() []byte {
			env := envelopeOf(t, valid.Raw)
			env.Sig[7] ^= 0x01
			b, _ := Marshal(&env)
			return b
		}(), ErrBadSig},
		{"signature by another key", func() []byte {
			env := envelopeOf(t, signBody(t, other, validEnv.Body))
			b, _ := Marshal(&env)
			return b
		}(), ErrBadSig},
		{"truncated signature", func() []byte {
			env := envelopeOf(t, valid.Raw)
			env.Sig = env.Sig[:32]
			b, _ := Marshal(&env)
			return b
		}(), ErrBadSig},
		{"tampered body, signature kept", func() []byte {
			env := envelopeOf(t, valid.Raw)
			env.Body = replaceOnce(t, env.Body, []byte("Night-time"), []byte("Night-tide"))
			b, _ := Marshal(&env)
			return b
		}(), ErrBadSig},
		{"author is another key", withRecord(func(r *Record) { r.Author = idOf(t, other) }), ErrBadSig},
		{"author not a peer ID", withRecord(func(r *Record) { r.Author = "region-a" }), ErrInvalid},

		// Text that would act on a reader's terminal or reorder what is shown.
		{"escape sequence in title", withPractice(func(p *Practice) { p.Title = "Telecare\x1b[2J\x1b]0;owned\x07" }), ErrInvalid},
		{"bell in summary", withPractice(func(p *Practice) { p.Summary = "Ring \a twice" }), ErrInvalid},
		{"NUL in a lesson", withPractice(func(p *Practice) { p.Lessons = []string{"one\x00two"} }), ErrInvalid},
		{"C1 control in approach", withPractice(func(p *Practice) { p.Approach = "a\u009bb" }), ErrInvalid},
		{"bidi override in a translation", withPractice(func(p *Practice) {
			p.Translations = map[string]Translation{"sv": {Title: "Natt", Summary: "\u202egnirts desrever"}}
		}), ErrInvalid},
		{"bidi isolate in region", withPractice(func(p *Practice) { p.Region = "Vestland\u2067x\u2069" }), ErrInvalid},

		// Versions and kinds.
		{"unknown version 3", withRecord(func(r *Record) { r.Version = 3 }), ErrBadVersion},
		{"version 2 field layout", withRecord(func(r *Record) { r.Version = 2 }), ErrMalformed},
		{"version 0", withRecord(func(r *Record) { r.Version = 0 }), ErrBadVersion},
		{"unknown kind", withRecord(func(r *Record) { r.Kind = "opinion" }), ErrBadKind},
		{"empty kind", withRecord(func(r *Record) { r.Kind = "" }), ErrBadKind},
		{"kind does not match payload", withRecord(func(r *Record) { r.Kind = KindLesson }), ErrMalformed},

		// Size.
		{"oversized record", func() []byte {
			p := testPractice()
			p.Problem = strings.Repeat("x", MaxRecordBytes)
			r := practiceRecord(t, key)
			r.Payload = mustMarshal(t, p)
			return signRecord(t, key, r)
		}(), ErrTooLarge},
		{"oversized garbage", bytes.Repeat([]byte{0xa2}, MaxRecordBytes+1), ErrTooLarge},

		// Time.
		{"created far in the future", withRecord(func(r *Record) { r.Created = testNow.Add(24 * time.Hour).UnixMilli() }), ErrFuture},
		{"created just past the skew", withRecord(func(r *Record) {
			r.Created = testNow.Add(MaxClockSkew + time.Second).UnixMilli()
		}), ErrFuture},
		{"created zero", withRecord(func(r *Record) { r.Created = 0 }), ErrMissing},
		{"created negative", withRecord(func(r *Record) { r.Created = -5 }), ErrMissing},

		// Required record fields.
		{"no federation", withRecord(func(r *Record) { r.Federation = "" }), ErrMissing},
		{"no author", withRecord(func(r *Record) { r.Author = "" }), ErrMissing},
		{"seq zero", withRecord(func(r *Record) { r.Seq = 0 }), ErrMissing},
		// A nil payload travels as CBOR null, which is no practice.
		{"null payload", withRecord(func(r *Record) { r.Payload = nil }), ErrMalformed},
		{"bad prev", withRecord(func(r *Record) { r.Prev = "not-a-cid" }), ErrInvalid},
		{"practice without topics", withTopics(), ErrMissing},
		{"empty envelope", mustMarshal(t, &Envelope{}), ErrMissing},
		{"envelope without signature", mustMarshal(t, &Envelope{Body: validEnv.Body}), ErrMissing},

		// Required payload fields.
		{"missing title", withPractice(func(p *Practice) { p.Title = "" }), ErrMissing},
		{"blank title", withPractice(func(p *Practice) { p.Title = " \t\n" }), ErrMissing},
		{"missing summary", withPractice(func(p *Practice) { p.Summary = "" }), ErrMissing},
		{"missing language", withPractice(func(p *Practice) { p.Language = "" }), ErrInvalid},
		{"language not ISO 639-1", withPractice(func(p *Practice) { p.Language = "English" }), ErrInvalid},
		{"upper-case language", withPractice(func(p *Practice) { p.Language = "EN" }), ErrInvalid},
		{"version 0 practice", withPractice(func(p *Practice) { p.Version = 0 }), ErrInvalid},
		{"first version with practice id", withPractice(func(p *Practice) { p.PracticeID = valid.CID.String() }), ErrInvalid},
		{"second version without practice id", withPractice(func(p *Practice) { p.Version = 2 }), ErrInvalid},
		{"stage 6", withPractice(func(p *Practice) { p.Stage = 6 }), ErrInvalid},
		{"title too long", withPractice(func(p *Practice) { p.Title = strings.Repeat("t", MaxTitle+1) }), ErrInvalid},
		{"invalid UTF-8", withPractice(func(p *Practice) { p.Summary = "bad \xff byte" }), ErrMalformed},
		{"javascript link", withPractice(func(p *Practice) { p.Links = []string{"javascript:alert(1)"} }), ErrInvalid},
		{"bad country", withPractice(func(p *Practice) { p.Country = "Finland" }), ErrInvalid},
		{"bad translation language", withPractice(func(p *Practice) {
			p.Translations = map[string]Translation{"finnish": {Title: "x"}}
		}), ErrInvalid},
		{"lesson without insight", signRecord(t, key, newRecord(t, key, &Lesson{Language: "en"}, "transport")), ErrMissing},
		{"retraction without reason", signRecord(t, key, newRecord(t, key, &Retraction{Target: valid.CID.String()})), ErrMissing},
		{"retraction of a non-CID", signRecord(t, key, newRecord(t, key, &Retraction{Target: "x", Reason: "y"})), ErrInvalid},
		{"membership with unknown action", signRecord(t, key, newRecord(t, key, &Membership{Action: "promote",
			Member: idOf(t, key), Region: "A", Role: RoleMember})), ErrInvalid},

		// Topic slugs.
		{"topic with space and capitals", withTopics("Elderly Care"), ErrInvalid},
		{"topic with underscore", withTopics("elderly_care"), ErrInvalid},
		{"topic with leading dash", withTopics("-care"), ErrInvalid},
		{"topic with trailing dash", withTopics("care-"), ErrInvalid},
		{"topic with double dash", withTopics("elderly--care"), ErrInvalid},
		{"empty topic", withTopics(""), ErrInvalid},
		{"topic with slash", withTopics("a/b"), ErrInvalid},
		{"non-ASCII topic", withTopics("äldre"), ErrInvalid},
		{"topic too long", withTopics(strings.Repeat("a", 65)), ErrInvalid},
		{"one bad topic among good", withTopics("transport", "Transport"), ErrInvalid},
		{"too many topics", withTopics("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12",
			"t13", "t14", "t15", "t16", "t17"), ErrInvalid},

		// Encoding.
		{"not CBOR", []byte("hello, world"), ErrMalformed},
		{"empty input", nil, ErrMalformed},
		{"envelope is an array", mustMarshal(t, []any{validEnv.Body, validEnv.Sig}), ErrMalformed},
		{"envelope with unknown field", mustMarshal(t, map[string]any{"body": validEnv.Body, "sig": validEnv.Sig, "x": 1}), ErrMalformed},
		{"envelope with trailing bytes", append(append([]byte{}, valid.Raw...), 0x00), ErrMalformed},
		{"body not CBOR", signBody(t, key, []byte("plain text")), ErrMalformed},
		{"body with unknown field", func() []byte {
			var m map[string]any
			if err := Unmarshal(validEnv.Body, &m); err != nil {
				t.Fatal(err)
			}
			m["extra"] = "x"
			return signBody(t, key, mustMarshal(t, m))
		}(), ErrMalformed},
		{"body with keys in declaration order", func() []byte {
			r := practiceRecord(t, key)
			return signBody(t, key, reencodeUnsorted(t, &r))
		}(), ErrMalformed},
		{"body with non-minimal integer", func() []byte {
			// seq 1 as a one-byte-argument integer (0x18 0x01) instead of 0x01.
			body := replaceOnce(t, validEnv.Body, append(cborText("seq"), 0x01), append(cborText("seq"), 0x18, 0x01))
			return signBody(t, key, body)
		}(), ErrMalformed},
		{"body with non-minimal length", func() []byte {
			// "fed" with a one-byte length argument.
			body := replaceOnce(t, validEnv.Body, cborText("fed"), append([]byte{0x78, 3}, "fed"...))
			return signBody(t, key, body)
		}(), ErrMalformed},
		{"body with duplicate key", func() []byte {
			// "fed" renamed to "seq": the key appears twice.
			body := replaceOnce(t, validEnv.Body, cborText("fed"), cborText("seq"))
			return signBody(t, key, body)
		}(), ErrMalformed},
		{"body with indefinite-length text", func() []byte {
			body := replaceOnce(t, validEnv.Body, append(cborText("fed"), cborText(testFed)...),
				append(cborText("fed"), append(append([]byte{0x7f}, cborText(testFed)...), 0xff)...))
			return signBody(t, key, body)
		}(), ErrMalformed},
		{"body with a tag", func() []byte {
			body := replaceOnce(t, validEnv.Body, append(cborText("seq"), 0x01), append(cborText("seq"), 0xc2, 0x41, 0x01))
			return signBody(t, key, body)
		}(), ErrMalformed},
		{"payload with keys in declaration order", func() []byte {
			r := practiceRecord(t, key)
			r.Payload = reencodeUnsorted(t, testPractice())
			return signRecord(t, key, r)
		}(), ErrMalformed},
		{"payload with unknown field", func() []byte {
			var m map[string]any
			r := practiceRecord(t, key)
			if err := Unmarshal(r.Payload, &m); err != nil {
				t.Fatal(err)
			}
			m["author_name"] = "Jane Doe"
			r.Payload = mustMarshal(t, m)
			return signRecord(t, key, r)
		}(), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.raw, testNow)
			if err == nil {
				t.Fatalf("Open accepted it as %s", s.CID)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v\nwant errors.Is %v", err, tc.want)
			}
		})
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestOpenClock(t *testing.T) {
	key := testKey(t, 1)
	r := practiceRecord(t, key)
	r.Created = testNow.Add(MaxClockSkew - time.Second).UnixMilli()
	raw := signRecord(t, key, r)
	if _, err := Open(raw, testNow); err != nil {
		t.Fatalf("a record within the clock skew is refused: %v", err)
	}
	if _, err := Open(raw, testNow.Add(-time.Hour)); !errors.Is(err, ErrFuture) {
		t.Fatalf("a receiver an hour behind: %v, want ErrFuture", err)
	}
	// Old records stay valid: sync delivers history.
	r.Created = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if _, err := Open(signRecord(t, key, r), testNow); err != nil {
		t.Fatalf("an old record is refused: %v", err)
	}
}

// Text in every script, tabs, line breaks and the directional marks
// that right-to-left names need stay allowed.
func TestSafeTextKeepsOrdinaryText(t *testing.T) {
	for _, v := range []string{
		"Þjónusta við aldraða í Borgarbyggð", "Äldreomsorg i Timrå\n\tsteg 2", "Ó Dónaill’s café\r\n",
		"Kotihoito – yöpäivystys", "مرحبا \u200fعربي\u200e", "Москва", "emoji 👵🏽",
	} {
		if err := SafeText("title", v); err != nil {
			t.Errorf("%q refused: %v", v, err)
		}
	}
}

func TestOpenExpect(t *testing.T) {
	key := testKey(t, 1)
	orig := mustSeal(t, practiceRecord(t, key), key)

	// The author (or anybody holding the key) alters the body and signs it
	// again: the signature is fine, the address is not the one asked for.
	env := envelopeOf(t, orig.Raw)
	body := replaceOnce(t, env.Body, []byte("Night-time"), []byte("Night-tide"))
	forged := signBody(t, key, body)
	if _, err := Open(forged, testNow); err != nil {
		t.Fatalf("the re-signed body should open on its own: %v", err)
	}
	other := mustSeal(t, newRecord(t, key, &Lesson{Insight: "x", Language: "en"}, "transport"), key)
	cases := []struct {
		name string
		raw  []byte
		want cid.Cid
		err  error
	}{
		{"own address", orig.Raw, orig.CID, nil},
		{"tampered and re-signed body", forged, orig.CID, ErrCIDMismatch},
		{"another record", other.Raw, orig.CID, ErrCIDMismatch},
		{"tampered body, old signature", func() []byte {
			e := envelopeOf(t, orig.Raw)
			e.Body = body
			return mustMarshal(t, &e)
		}(), orig.CID, ErrBadSig},
		{"other codec, same hash", orig.Raw, cid.NewCidV1(cid.Raw, orig.CID.Hash()), ErrCIDMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenExpect(tc.raw, tc.want, testNow)
			if tc.err == nil && err != nil {
				t.Fatalf("OpenExpect: %v", err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("OpenExpect: %v, want %v", err, tc.err)
			}
		})
	}
}

func TestValidTopic(t *testing.T) {
	for _, ok := range []string{"elderly-care", "transport", "a", "x1", "1-2-3", ControlTopic, strings.Repeat("a", 64)} {
		if err := ValidTopic(ok); err != nil {
			t.Errorf("ValidTopic(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Elderly Care", "elderly care", "Elderly-care", "elderly_care", "-a", "a-", "a--b",
		"a.b", "ä", strings.Repeat("a", 65), "_other", "a\n"} {
		if err := ValidTopic(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidTopic(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := ValidFederation(ControlTopic); err == nil {
		t.Errorf("the control topic is not a federation name")
	}
	if g := GossipTopic(testFed, "elderly-care"); g != "/livinglab/3/improve/elderly-care" || GossipTopicVersion(LegacyGossipVersion, testFed, "elderly-care") != "/livinglab/2/improve/elderly-care" {
		t.Errorf("GossipTopic = %q", g)
	}
	if GossipTopic("a", "b") == GossipTopic("b", "a") {
		t.Errorf("gossip topics of two federations collide")
	}
}

// fakeLedger is node state for the validator.
type fakeLedger struct {
	members   map[string]fakeMember
	retracted map[cid.Cid]string
	authors   map[cid.Cid]string
	seqs      map[cid.Cid]uint64 // sequence numbers of the records in authors
	asked     []uint64           // seq numbers MemberStatus was asked about
	// chains: the records removals kept, by author; chainKnown: whether
	// the whole chain is known. An author without a chain: kept.
	chains     map[string]map[cid.Cid]bool
	chainKnown map[string]bool
}

func (l *fakeLedger) KeptRecord(author string, _ uint64, c cid.Cid) (bool, bool) {
	chain, ok := l.chains[author]
	if !ok || chain[c] {
		return true, true
	}
	return false, l.chainKnown[author]
}

type fakeMember struct {
	admin     bool
	removed   bool
	keepUntil uint64
}

func (l *fakeLedger) MemberStatus(author string, seq uint64) (bool, bool) {
	l.asked = append(l.asked, seq)
	m, ok := l.members[author]
	if !ok {
		return false, false
	}
	if m.removed {
		return seq > 0 && seq <= m.keepUntil, false
	}
	return true, m.admin
}

func (l *fakeLedger) RetractedBy(c cid.Cid) []string {
	if by, ok := l.retracted[c]; ok {
		return []string{by}
	}
	return nil
}

func (l *fakeLedger) AuthorCID(author string, seq uint64) (cid.Cid, bool) {
	for c, a := range l.authors {
		if a == author && l.seqs[c] == seq {
			return c, true
		}
	}
	return cid.Undef, false
}

func (l *fakeLedger) AuthorOf(c cid.Cid) (string, bool) {
	a, ok := l.authors[c]
	return a, ok
}

func TestValidator(t *testing.T) {
	founder, admin, alice, bob, outsider, gone := testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4), testKey(t, 5), testKey(t, 6)
	F, A, Al, B, O, G := idOf(t, founder), idOf(t, admin), idOf(t, alice), idOf(t, bob), idOf(t, outsider), idOf(t, gone)

	alicePractice := mustSeal(t, practiceRecord(t, alice), alice)
	bobPractice := mustSeal(t, func() Record { r := practiceRecord(t, bob); r.Seq = 3; return r }(), bob)
	unknownTarget := RecordCID([]byte("never seen"))
	retracted := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 2; return r }(), alice)
	voidTomb := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 4; return r }(), alice)
	adminTomb := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 5; return r }(), alice)

	newLedger := func() *fakeLedger {
		return &fakeLedger{
			members: map[string]fakeMember{F: {admin: true}, A: {admin: true}, Al: {}, B: {},
				G: {removed: true, keepUntil: 3}},
			retracted: map[cid.Cid]string{retracted.CID: Al, voidTomb.CID: B, adminTomb.CID: A},
			authors: map[cid.Cid]string{alicePractice.CID: Al, bobPractice.CID: B, retracted.CID: Al,
				voidTomb.CID: Al, adminTomb.CID: Al},
		}
	}

	seal := func(key crypto.PrivKey, p Payload, topics ...string) *Signed {
		return mustSeal(t, newRecord(t, key, p, topics...), key)
	}
	retraction := func(by crypto.PrivKey, target cid.Cid) *Signed {
		return seal(by, &Retraction{Target: target.String(), Reason: "withdrawn"})
	}
	version := func(by crypto.PrivKey, pid, sup cid.Cid) *Signed {
		p := testPractice()
		p.Version, p.PracticeID, p.Supersedes = 2, pid.String(), sup.String()
		return seal(by, p, "elderly-care")
	}
	member := func(by crypto.PrivKey, m *Membership) *Signed { return seal(by, m) }
	withSeq := func(key crypto.PrivKey, seq uint64) *Signed {
		r := practiceRecord(t, key)
		r.Seq = seq
		return mustSeal(t, r, key)
	}

	cases := []struct {
		name  string
		topic string
		rec   *Signed
		fed   string
		want  error // nil: accepted
	}{
		{name: "member's practice on its topic", topic: "elderly-care", rec: alicePractice},
		{name: "member's practice by sync", rec: alicePractice},
		{name: "non-member author", topic: "elderly-care", rec: seal(outsider, testPractice(), "elderly-care"), want: ErrNotMember},
		{name: "non-member author by sync", rec: seal(outsider, testPractice(), "elderly-care"), want: ErrNotMember},
		{name: "removed member's old record", rec: withSeq(gone, 3)},
		{name: "removed member's later record", rec: withSeq(gone, 4), want: ErrNotMember},
		{name: "wrong federation", topic: "elderly-care", rec: alicePractice, fed: "other-fed", want: ErrWrongFed},
		{name: "wrong federation by sync", rec: alicePractice, fed: "other-fed", want: ErrWrongFed},
		{name: "practice on another topic", topic: "transport", rec: alicePractice, want: ErrWrongTopic},
		{name: "practice on the control topic", topic: ControlTopic, rec: alicePractice, want: ErrWrongTopic},
		{name: "retraction on a topic channel", topic: "elderly-care", rec: retraction(alice, alicePractice.CID), want: ErrWrongTopic},
		{name: "membership on a topic channel", topic: "transport", rec: member(admin, &Membership{Action: ActionAdmit,
			Member: O, Region: "X", Role: RoleMember}), want: ErrWrongTopic},
		{name: "record retracted by its author", topic: "elderly-care", rec: retracted, want: ErrRetracted},
		{name: "record retracted by an administrator", topic: "elderly-care", rec: adminTomb, want: ErrRetracted},
		{name: "tombstone by a non-author non-admin is void", topic: "elderly-care", rec: voidTomb},
		{name: "author retracts own record", topic: ControlTopic, rec: retraction(alice, alicePractice.CID)},
		{name: "admin retracts another's record", topic: ControlTopic, rec: retraction(admin, alicePractice.CID)},
		{name: "non-author non-admin retraction", topic: ControlTopic, rec: retraction(bob, alicePractice.CID), want: ErrNotAuthorised},
		{name: "non-author non-admin retraction by sync", rec: retraction(bob, alicePractice.CID), want: ErrNotAuthorised},
		{name: "retraction by a non-member", topic: ControlTopic, rec: retraction(outsider, alicePractice.CID), want: ErrNotMember},
		{name: "retraction of a record not held", topic: ControlTopic, rec: retraction(bob, unknownTarget)},
		{name: "author publishes a new version", topic: "elderly-care", rec: version(alice, alicePractice.CID, alicePractice.CID)},
		{name: "version of another's practice", topic: "elderly-care", rec: version(bob, alicePractice.CID, alicePractice.CID), want: ErrNotAuthorised},
		{name: "version superseding another's record", topic: "elderly-care", rec: version(bob, bobPractice.CID, alicePractice.CID), want: ErrNotAuthorised},
		{name: "version claiming another's practice id", topic: "elderly-care", rec: version(bob, alicePractice.CID, bobPractice.CID), want: ErrNotAuthorised},
		{name: "version of a practice not held", topic: "elderly-care", rec: version(bob, unknownTarget, unknownTarget)},
		{name: "founder founds", topic: ControlTopic, rec: member(founder, &Membership{Action: ActionFound, Member: F, Region: "F", Role: RoleAdmin})},
		{name: "another founds", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionFound, Member: A, Region: "A", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "outsider founds", topic: ControlTopic, rec: member(outsider, &Membership{Action: ActionFound, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "founder's record naming another member", topic: ControlTopic, rec: member(founder, &Membership{Action: ActionFound, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "member admits", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleMember})},
		{name: "outsider admits itself", topic: ControlTopic, rec: member(outsider, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleMember}), want: ErrNotMember},
		{name: "member grants admin", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "admin grants admin", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleAdmin})},
		{name: "member removes", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionRemove, Member: B}), want: ErrNotAuthorised},
		{name: "admin removes", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionRemove, Member: B})},
		{name: "admin removes the founder", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionRemove, Member: F}), want: ErrNotAuthorised},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fed := testFed
			if tc.fed != "" {
				fed = tc.fed
			}
			v := &Validator{Federation: fed, Founder: F, Ledger: newLedger(), Now: func() time.Time { return testNow }}
			err := v.CheckSigned(tc.topic, tc.rec)
			if tc.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckSigned: %v, want %v", err, tc.want)
			}
			// Check must agree with CheckSigned on the encoded form.
			s, cerr := v.Check(tc.topic, tc.rec.Raw)
			if (cerr == nil) != (err == nil) || (err != nil && !errors.Is(cerr, tc.want)) {
				t.Fatalf("Check: %v, CheckSigned: %v", cerr, err)
			}
			if cerr == nil && !s.CID.Equals(tc.rec.CID) {
				t.Fatalf("Check gave %s, want %s", s.CID, tc.rec.CID)
			}
		})
	}

	t.Run("seq is passed to the ledger", func(t *testing.T) {
		l := newLedger()
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		if err := v.CheckSigned("", withSeq(alice, 42)); err != nil {
			t.Fatal(err)
		}
		if len(l.asked) == 0 || l.asked[len(l.asked)-1] != 42 {
			t.Fatalf("MemberStatus asked about seq %v, want 42", l.asked)
		}
	})
	t.Run("a removed member's second record for a held sequence number", func(t *testing.T) {
		l := newLedger()
		held := withSeq(gone, 2)
		l.authors[held.CID] = G
		l.seqs = map[cid.Cid]uint64{held.CID: 2}
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		if err := v.CheckSigned("", held); err != nil {
			t.Fatalf("the held record: %v", err)
		}
		fork := mustSeal(t, func() Record { r := practiceRecord(t, gone); r.Seq, r.Created = 2, r.Created+1; return r }(), gone)
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrNotAuthorised) {
			t.Fatalf("a second record with the held sequence number: %v, want ErrNotAuthorised", err)
		}
		if err := v.CheckSigned("", withSeq(gone, 3)); err != nil {
			t.Fatalf("a kept sequence number with no record held: %v", err)
		}
	})
	t.Run("a removed member's record off the chain its removal kept", func(t *testing.T) {
		l := newLedger()
		genuine, fork := withSeq(gone, 2), mustSeal(t, func() Record { r := practiceRecord(t, gone); r.Seq, r.Created = 2, r.Created+1; return r }(), gone)
		l.chains = map[string]map[cid.Cid]bool{G: {genuine.CID: true}}
		l.chainKnown = map[string]bool{}
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		// Neither is held here: only the chain tells them apart.
		if err := v.CheckSigned("", genuine); err != nil {
			t.Fatalf("the kept record: %v", err)
		}
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrUnverified) {
			t.Fatalf("a record not on the part of the chain known so far: %v, want ErrUnverified", err)
		}
		l.chainKnown[G] = true
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrNotAuthorised) {
			t.Fatalf("a record off the whole chain: %v, want ErrNotAuthorised", err)
		}
		// A current member's records are not judged by any chain.
		l.chains[Al] = map[cid.Cid]bool{}
		l.chainKnown[Al] = true
		if err := v.CheckSigned("", withSeq(alice, 7)); err != nil {
			t.Fatalf("a current member's record: %v", err)
		}
	})
	t.Run("Check opens before judging", func(t *testing.T) {
		v := &Validator{Federation: testFed, Founder: F, Ledger: newLedger(), Now: func() time.Time { return testNow }}
		env := envelopeOf(t, alicePractice.Raw)
		env.Sig[0] ^= 0xff
		if _, err := v.Check("elderly-care", mustMarshal(t, &env)); !errors.Is(err, ErrBadSig) {
			t.Fatalf("Check: %v, want ErrBadSig", err)
		}
		r := practiceRecord(t, alice)
		r.Created = testNow.Add(time.Hour).UnixMilli()
		if _, err := v.Check("elderly-care", signRecord(t, alice, r)); !errors.Is(err, ErrFuture) {
			t.Fatalf("Check with the validator's clock: %v, want ErrFuture", err)
		}
	})
}

func testInvite(t testing.TB, ttl time.Duration) (*Invite, crypto.PrivKey) {
	t.Helper()
	inviter := testKey(t, 7)
	id, _ := peer.IDFromPrivateKey(inviter)
	addrs := []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4801"), ma.StringCast("/ip4/127.0.0.1/udp/4801/quic-v1")}
	inv, err := NewInvite(testFed, idOf(t, testKey(t, 1)), id, addrs, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return inv, inviter
}

func TestInviteRoundTrip(t *testing.T) {
	inv, inviter := testInvite(t, time.Hour)
	tok, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, InvitePrefix) || strings.ContainsAny(tok, " \n\t") || len(tok) > MaxInviteBytes {
		t.Fatalf("token %q is not one short line with the prefix", tok)
	}
	got, err := ParseInvite("  "+tok+"\n", time.Now())
	if err != nil {
		t.Fatalf("ParseInvite: %v", err)
	}
	if !reflect.DeepEqual(got, inv) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, inv)
	}
	if len(inv.Secret) != 16 {
		t.Fatalf("secret has %d bytes", len(inv.Secret))
	}
	info, err := got.AddrInfo()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := peer.IDFromPrivateKey(inviter); info.ID != want || len(info.Addrs) != 2 || info.Addrs[0].String() != "/ip4/127.0.0.1/tcp/4801" {
		t.Fatalf("AddrInfo = %v", info)
	}
	other, _ := testInvite(t, time.Hour)
	if bytes.Equal(other.Secret, inv.Secret) {
		t.Fatalf("two invites share a secret")
	}
	// Too many addresses are cut to the limit.
	var many []ma.Multiaddr
	for i := 0; i < MaxAddrs+8; i++ {
		many = append(many, ma.StringCast("/ip4/127.0.0.1/tcp/4801"))
	}
	big, err := NewInvite(testFed, inv.Founder, info.ID, many, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(big.Addrs) != MaxAddrs {
		t.Fatalf("%d addresses kept, want %d", len(big.Addrs), MaxAddrs)
	}
	btok, _ := big.Encode()
	if _, err := ParseInvite(btok, time.Now()); err != nil {
		t.Fatalf("an invite with %d addresses: %v", MaxAddrs, err)
	}
}

func TestParseInviteRejects(t *testing.T) {
	valid, _ := testInvite(t, time.Hour)
	tok, _ := valid.Encode()
	encode := func(fn func(*Invite)) string {
		inv := *valid
		inv.Addrs = append([]string{}, valid.Addrs...)
		fn(&inv)
		s, err := inv.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b64 := func(b []byte) string { return InvitePrefix + base64.RawURLEncoding.EncodeToString(b) }
	cases := []struct {
		name, tok string
		now       time.Time
		contains  string
	}{
		{name: "expired", tok: encode(func(i *Invite) { i.Expires = time.Now().Add(-time.Minute).Unix() }), contains: "expired"},
		{name: "expired by the clock", tok: tok, now: time.Now().Add(2 * time.Hour), contains: "expired"},
		{name: "empty", tok: ""},
		{name: "garbage", tok: "hello world"},
		{name: "only the prefix", tok: InvitePrefix},
		{name: "bad base64", tok: InvitePrefix + "!!!not base64!!!"},
		{name: "padded base64", tok: InvitePrefix + base64.URLEncoding.EncodeToString(mustMarshal(t, valid))},
		{name: "not CBOR", tok: b64([]byte("just some text"))},
		{name: "CBOR of another shape", tok: b64(mustMarshal(t, []int{1, 2, 3}))},
		{name: "unknown field", tok: b64(mustMarshal(t, map[string]any{"v": 1, "fed": testFed, "x": true}))},
		{name: "trailing bytes", tok: b64(append(mustMarshal(t, valid), 0))},
		{name: "wrong prefix", tok: "llinv2." + strings.TrimPrefix(tok, InvitePrefix), contains: InvitePrefix},
		{name: "no prefix", tok: strings.TrimPrefix(tok, InvitePrefix)},
		{name: "upper-case prefix", tok: strings.ToUpper(InvitePrefix) + strings.TrimPrefix(tok, InvitePrefix)},
		{name: "too long", tok: InvitePrefix + strings.Repeat("A", MaxInviteBytes), contains: "too long"},
		{name: "version 2", tok: encode(func(i *Invite) { i.V = 2 })},
		{name: "bad federation", tok: encode(func(i *Invite) { i.Federation = "Bad Fed" })},
		{name: "no federation", tok: encode(func(i *Invite) { i.Federation = "" })},
		{name: "bad inviter", tok: encode(func(i *Invite) { i.Inviter = "someone" })},
		{name: "bad founder", tok: encode(func(i *Invite) { i.Founder = "" })},
		{name: "short secret", tok: encode(func(i *Invite) { i.Secret = i.Secret[:15] })},
		{name: "no secret", tok: encode(func(i *Invite) { i.Secret = nil })},
		{name: "no addresses", tok: encode(func(i *Invite) { i.Addrs = nil })},
		{name: "too many addresses", tok: encode(func(i *Invite) {
			for len(i.Addrs) <= MaxAddrs {
				i.Addrs = append(i.Addrs, "/ip4/127.0.0.1/tcp/1")
			}
		})},
		{name: "bad address", tok: encode(func(i *Invite) { i.Addrs = []string{"127.0.0.1:4801"} })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = time.Now()
			}
			inv, err := ParseInvite(tc.tok, now)
			if err == nil {
				t.Fatalf("accepted: %+v", inv)
			}
			if !errors.Is(err, ErrBadInvite) {
				t.Fatalf("ParseInvite: %v, want ErrBadInvite", err)
			}
			if tc.contains != "" && !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("error %q should mention %q", err, tc.contains)
			}
		})
	}
}

func TestFrames(t *testing.T) {
	type msg struct {
		Op   string `cbor:"op"`
		Data []byte `cbor:"data"`
	}
	var buf bytes.Buffer
	for _, m := range []msg{{"a", []byte{1}}, {"b", bytes.Repeat([]byte{2}, 1000)}} {
		if err := WriteFrame(&buf, &m); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(bytes.NewReader(buf.Bytes()))
	var got msg
	if err := ReadFrame(br, &got, 4096); err != nil || got.Op != "a" {
		t.Fatalf("first frame: %+v, %v", got, err)
	}
	got = msg{}
	if err := ReadFrame(br, &got, 4096); err != nil || got.Op != "b" || len(got.Data) != 1000 {
		t.Fatalf("second frame: %v", err)
	}

	// A frame over the limit is refused before it is read.
	br = bufio.NewReader(bytes.NewReader(buf.Bytes()))
	if err := ReadFrame(br, &got, 4); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("over the limit: %v, want ErrFrameTooLarge", err)
	}
	// A length prefix announcing gigabytes does not allocate them.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	if err := ReadFrame(bufio.NewReader(bytes.NewReader(huge)), &got, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge prefix: %v, want ErrFrameTooLarge", err)
	}
	// Garbage and unknown fields are malformed.
	for name, payload := range map[string][]byte{
		"not CBOR":      []byte("garbage!"),
		"unknown field": mustMarshal(t, map[string]any{"op": "a", "zzz": 1}),
	} {
		var b bytes.Buffer
		b.WriteByte(byte(len(payload)))
		b.Write(payload)
		if err := ReadFrame(bufio.NewReader(&b), &got, 4096); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A truncated frame is an error, not a hang or a short value.
	if err := ReadFrame(bufio.NewReader(bytes.NewReader(buf.Bytes()[:3])), &got, 4096); err == nil {
		t.Fatalf("truncated frame accepted")
	}
}
