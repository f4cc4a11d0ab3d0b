// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
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
