// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The test vectors of PROTOCOL.md: records with their exact bytes, CIDs,
// signatures and the key that signed them, for other implementations to
// check against. Regenerate with: go test ./protocol -run TestVectors -update-vectors

var updateVectors = flag.Bool("update-vectors", false, "rewrite protocol/testdata/vectors")

const vectorDir = "testdata/vectors"

// Vector is one test vector file.
type Vector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int    `json:"version"`
	// Key: the Ed25519 private key seed (32 bytes), the raw public key, the
	// libp2p protobuf public key and the peer ID (identity multihash of it).
	Seed          string `json:"private_key_seed_hex"`
	PublicKey     string `json:"public_key_hex"`
	Libp2pPubKey  string `json:"libp2p_public_key_hex"`
	PeerID        string `json:"peer_id"`
	SignDomain    string `json:"sign_domain"`
	Body          string `json:"body_hex"`
	Signature     string `json:"signature_hex"`
	Envelope      string `json:"envelope_hex"`
	CID           string `json:"cid"`
	Valid         bool   `json:"valid"`
	Error         string `json:"error,omitempty"` // for invalid vectors: which rule it breaks
	ErrorSentinel string `json:"-"`
	// Record is the decoded body (valid vectors).
	Record  map[string]any `json:"record,omitempty"`
	Payload any            `json:"payload,omitempty"`
}

// vectorNow is the receiver clock the vectors are checked with; any later
// clock works too.
var vectorNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func vectorKey(tb testing.TB, b byte) (crypto.PrivKey, []byte) {
	tb.Helper()
	seed := bytes.Repeat([]byte{b}, ed25519.SeedSize)
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		tb.Fatal(err)
	}
	return k, seed
}

type vectorCase struct {
	name, desc string
	raw        []byte
	seed       []byte
	key        crypto.PrivKey
	valid      bool
	sentinel   error
	errText    string
}

func buildVectors(tb testing.TB) []vectorCase {
	key, seed := vectorKey(tb, 0x01)
	author := idOf(tb, key)
	created := vectorNow.Add(-24 * time.Hour).UnixMilli()
	practice := func() *Practice {
		return &Practice{Version: 1, Title: "Night-time telecare with village volunteers",
			Summary:  "Volunteers and nurses co-designed a night-time telecare service with residents.",
			Language: "en", Licence: DefaultLicence, Stage: 3, Region: "North Karelia", Country: "FI",
			Lessons: []string{"Start with the residents' own routines."},
			Links:   []string{"https://example.org/telecare"},
			Translations: map[string]Translation{"fi": {Title: "Yöajan etähoiva kylän vapaaehtoisten kanssa",
				Summary: "Vapaaehtoiset ja hoitajat suunnittelivat palvelun yhdessä asukkaiden kanssa."}}}
	}
	seal := func(r Record) *Signed {
		s, err := Seal(r, key)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	rec := func(v int, seq uint64, prev string, p Payload, chain map[string]ChainLink, topics ...string) Record {
		r := Record{Version: v, Federation: "improve", Author: author, Seq: seq, Prev: prev, Created: created + int64(seq)*1000, Topics: topics}
		if err := r.SetPayload(p); err != nil {
			tb.Fatal(err)
		}
		r.Chain = chain
		return r
	}
	found := seal(rec(RecordV2, 1, "", &Membership{Action: ActionFound, Member: author, Region: "North Karelia",
		Country: "FI", Role: RoleAdmin, Addrs: []string{"/ip4/192.0.2.10/tcp/4801"}},
		map[string]ChainLink{ControlTopic: {Seq: 1}}))
	first := seal(rec(RecordV2, 2, found.CID.String(), practice(), map[string]ChainLink{"elderly-care": {Seq: 1}, "transport": {Seq: 1}},
		"elderly-care", "transport"))
	p2 := practice()
	p2.Version, p2.PracticeID, p2.Supersedes = 2, first.CID.String(), first.CID.String()
	p2.Results = "Night calls to the ambulance fell by a third in the first year."
	second := seal(rec(RecordV2, 3, first.CID.String(), p2, map[string]ChainLink{"elderly-care": {Seq: 2, Prev: first.CID.String()}}, "elderly-care"))
	adapted := practice()
	adapted.Title = "Evening telecare run by the village library"
	adapted.AdaptedFrom = []Adaptation{{Practice: first.CID.String(), Changes: "The library, not the health centre, recruits the volunteers."}}
	adapt := seal(rec(RecordV2, 4, second.CID.String(), adapted, map[string]ChainLink{"elderly-care": {Seq: 3, Prev: second.CID.String()}}, "elderly-care"))
	lesson := seal(rec(RecordV2, 5, adapt.CID.String(), &Lesson{Insight: "Ask the residents first.", Context: "Two villages.", Stage: 2,
		Language: "en", Region: "North Karelia", Country: "FI"}, map[string]ChainLink{"transport": {Seq: 2, Prev: first.CID.String()}}, "transport"))
	retract := seal(rec(RecordV2, 6, lesson.CID.String(), &Retraction{Target: lesson.CID.String(), Reason: "Published twice."},
		map[string]ChainLink{ControlTopic: {Seq: 2, Prev: found.CID.String()}}))
	v1 := seal(rec(RecordVersion, 1, "", practice(), nil, "elderly-care"))

	out := []vectorCase{
		{name: "v2-membership-found", desc: "Version 2: the founder's membership record, first record of its author, on the control topic's chain.", raw: found.Raw, valid: true},
		{name: "v2-practice-first", desc: "Version 2: a first practice version on two topics; a chain starts on each; prev links to the author's previous record (the founding).", raw: first.Raw, valid: true},
		{name: "v2-practice-second-version", desc: "Version 2: a second version: practice_id and supersedes are links to the first version; the chain on elderly-care links to it too.", raw: second.Raw, valid: true},
		{name: "v2-practice-adapted", desc: "Version 2: a practice with adapted_from.", raw: adapt.Raw, valid: true},
		{name: "v2-lesson", desc: "Version 2: a lesson; its chain on transport skips the author's records on other topics.", raw: lesson.Raw, valid: true},
		{name: "v2-retraction", desc: "Version 2: a retraction; target is a link; on the control topic's chain.", raw: retract.Raw, valid: true},
		{name: "v1-practice", desc: "Version 1 (read and served forever): CID strings instead of links, no chain, domain livinglab-record-v1:.", raw: v1.Raw, valid: true},
	}
	env := envelopeOf(tb, first.Raw)
	flipped := bytes.Clone(env.Sig)
	flipped[0] ^= 1
	badSig, _ := encodeEnvelope(RecordV2, &Envelope{Body: env.Body, Sig: flipped})
	out = append(out, vectorCase{name: "invalid-v2-bad-signature", desc: "The practice above with one bit of the signature flipped.",
		raw: badSig, sentinel: ErrBadSig, errText: "signature does not verify"})
	v1sig, _ := key.Sign(append(append([]byte{}, signPrefix...), env.Body...))
	wrongDomain, _ := encodeEnvelope(RecordV2, &Envelope{Body: env.Body, Sig: v1sig})
	out = append(out, vectorCase{name: "invalid-v2-v1-domain", desc: "A version 2 body signed over livinglab-record-v1: + body.",
		raw: wrongDomain, sentinel: ErrBadSig, errText: "signature does not verify: version 2 bodies are signed in the domain livinglab-record-v2:"})
	// One topic: the chain map has one key, so the unsorted encoding is
	// the same on every run.
	w, _ := second.Record.toV2()
	unsorted := reencodeUnsorted(tb, w)
	us, _ := key.Sign(append(append([]byte{}, signPrefixV2...), unsorted...))
	notCanon, _ := encodeEnvelope(RecordV2, &Envelope{Body: unsorted, Sig: us})
	out = append(out, vectorCase{name: "invalid-v2-key-order", desc: "The second version's body with its map keys in another order, validly signed.",
		raw: notCanon, sentinel: ErrMalformed, errText: "body is not canonical DAG-CBOR"})
	for i := range out {
		out[i].seed, out[i].key = seed, key
	}
	return out
}

func vectorOf(tb testing.TB, vc vectorCase) Vector {
	tb.Helper()
	env := envelopeOf(tb, vc.raw)
	pub := vc.key.GetPublic()
	rawPub, _ := pub.Raw()
	pb, _ := crypto.MarshalPublicKey(pub)
	id, _ := peer.IDFromPublicKey(pub)
	v := Vector{Name: vc.name, Description: vc.desc, Seed: hex.EncodeToString(vc.seed), PublicKey: hex.EncodeToString(rawPub),
		Libp2pPubKey: hex.EncodeToString(pb), PeerID: id.String(), Body: hex.EncodeToString(env.Body),
		Signature: hex.EncodeToString(env.Sig), Envelope: hex.EncodeToString(vc.raw), CID: RecordCID(env.Body).String(),
		Valid: vc.valid, Error: vc.errText}
	v.Version, _ = BodyVersion(env.Body)
	v.SignDomain = string(signPrefixFor(v.Version))
	if vc.valid {
		s, err := Open(vc.raw, vectorNow)
		if err != nil {
			tb.Fatalf("%s: %v", vc.name, err)
		}
		r := s.Record
		v.Record = map[string]any{"v": r.Version, "kind": r.Kind, "fed": r.Federation, "author": r.Author,
			"seq": r.Seq, "prev": r.Prev, "created": r.Created, "topics": r.Topics}
		if r.Chain != nil {
			v.Record["chain"] = r.Chain
		}
		v.Payload, _ = s.Record.DecodePayload()
	}
	return v
}

func TestVectors(t *testing.T) {
	cases := buildVectors(t)
	if *updateVectors {
		os.RemoveAll(vectorDir)
		if err := os.MkdirAll(vectorDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, vc := range cases {
			b, err := json.MarshalIndent(vectorOf(t, vc), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(vectorDir, vc.name+".json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	if len(files) != len(cases) {
		t.Fatalf("%d vector files, want %d (go test ./protocol -run TestVectors -update-vectors)", len(files), len(cases))
	}
	for _, vc := range cases {
		t.Run(vc.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(vectorDir, vc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var v Vector
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			// Signing is deterministic (Ed25519), so today's code makes
			// the very bytes of the file.
			if want := vectorOf(t, vc); v.Envelope != want.Envelope || v.CID != want.CID || v.Signature != want.Signature {
				t.Fatalf("the code no longer produces the committed vector (CID %s, file %s)", want.CID, v.CID)
			}
			// And the file checks on its own terms.
			seed, _ := hex.DecodeString(v.Seed)
			priv := ed25519.NewKeyFromSeed(seed)
			if hex.EncodeToString(priv.Public().(ed25519.PublicKey)) != v.PublicKey {
				t.Fatal("public key is not the seed's")
			}
			body, _ := hex.DecodeString(v.Body)
			sig, _ := hex.DecodeString(v.Signature)
			raw, _ := hex.DecodeString(v.Envelope)
			if c := RecordCID(body); c.String() != v.CID {
				t.Fatalf("CID %s, body hashes to %s", v.CID, c)
			}
			if c, err := cid.Decode(v.CID); err != nil || c.Version() != 1 || c.Type() != cid.DagCBOR {
				t.Fatalf("CID %s is not CIDv1 dag-cbor", v.CID)
			}
			sigOK := ed25519.Verify(priv.Public().(ed25519.PublicKey), append([]byte(v.SignDomain), body...), sig)
			s, err := Open(raw, vectorNow)
			if v.Valid {
				if err != nil || !sigOK {
					t.Fatalf("valid vector: Open %v, signature ok %v", err, sigOK)
				}
				if !strings.HasPrefix(v.PeerID, "12D3KooW") || s.Record.Author != v.PeerID {
					t.Fatalf("author %s, peer ID %s", s.Record.Author, v.PeerID)
				}
				if v.Version == RecordV2 {
					dagRoundTrip(t, raw)
					dagRoundTrip(t, body)
				}
				return
			}
			if err == nil || !errors.Is(err, vc.sentinel) {
				t.Fatalf("invalid vector: Open gave %v, want %v", err, vc.sentinel)
			}
		})
	}
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name + ".json"
	}
	for _, f := range files {
		if !slices.Contains(names, filepath.Base(f)) {
			t.Errorf("stray vector file %s", f)
		}
	}
}
