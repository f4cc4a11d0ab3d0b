// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// Record format version 2 is DAG-CBOR exactly: map keys sorted length
// first, then bytewise; no indefinite lengths, no floats, no null for an
// empty list or map; the only tag is 42, a CID link. References to other
// records are links: a record's prev and its per-topic prevs, a practice's
// practice_id, supersedes and adapted_from, a retraction's target and a
// removal's keep_until. PROTOCOL.md at the repository root specifies it
// byte by byte.

// RecordV2 is record format version 2.
const RecordV2 = 2

// LatestRecordVersion is the newest record version this code reads and
// writes.
const LatestRecordVersion = RecordV2

// signPrefixV2 separates version 2 record signatures from every other use
// of the key, version 1's included.
var signPrefixV2 = []byte("livinglab-record-v2:")

// ErrBadKey is returned for an author whose key is not Ed25519.
var ErrBadKey = errors.New("author key is not Ed25519")

// ChainLink is a record's place in its author's chain on one topic: the
// author's sequence number within that topic (from 1) and the CID of the
// author's previous record on it ("" for the first). A node following a
// topic sees from it exactly which of the author's records on that topic
// it lacks, whatever the author published elsewhere.
type ChainLink struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev,omitempty"`
}

// Adaptation names a practice that a practice adapts, and what changed.
type Adaptation struct {
	Practice string `json:"practice"` // CID of the practice (any version) adapted
	Changes  string `json:"changes"`
}

// MaxAdaptedFrom bounds a practice's adapted_from list.
const MaxAdaptedFrom = 32

var (
	encModeV2 = must(cbor.EncOptions{
		Sort:          cbor.SortLengthFirst,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
		TagsMd:        cbor.TagsAllowed,
	}.EncMode())
	decModeV2 = must(strictDecOptions(cbor.TagsAllowed).DecMode())
	peekMode  = must(cbor.DecOptions{
		MaxNestedLevels: 16, MaxArrayElements: 4096, MaxMapPairs: 4096,
		IndefLength: cbor.IndefLengthForbidden, TagsMd: cbor.TagsAllowed,
	}.DecMode())
)

// MarshalV2 encodes v as DAG-CBOR (version 2's encoding).
func MarshalV2(v any) ([]byte, error) { return encModeV2.Marshal(v) }

// Link is a DAG-CBOR link to a record: CBOR tag 42 around a byte string of
// 0x00 and the binary CID. Only record CIDs (CIDv1, dag-cbor, sha2-256)
// are valid links in a record.
type Link struct{ CID cid.Cid }

// MarshalCBOR writes the tag-42 form.
func (l Link) MarshalCBOR() ([]byte, error) {
	if !l.CID.Defined() {
		return nil, fmt.Errorf("%w: empty link", ErrInvalid)
	}
	b := append([]byte{0}, l.CID.Bytes()...)
	return encModeV2.Marshal(cbor.Tag{Number: 42, Content: b})
}

// UnmarshalCBOR reads the tag-42 form.
func (l *Link) UnmarshalCBOR(data []byte) error {
	var t cbor.RawTag
	if err := peekMode.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if t.Number != 42 {
		return fmt.Errorf("link: CBOR tag %d, want 42", t.Number)
	}
	var b []byte
	if err := decModeV2.Unmarshal(t.Content, &b); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if len(b) < 2 || b[0] != 0 {
		return errors.New("link: want a byte string of 0x00 and a binary CID")
	}
	c, err := cid.Cast(b[1:])
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	l.CID = c
	return nil
}

// recordCIDOK tells whether c addresses a record.
func recordCIDOK(c cid.Cid) bool {
	if c.Version() != 1 || c.Type() != cid.DagCBOR {
		return false
	}
	dm, err := multihash.Decode(c.Hash())
	return err == nil && dm.Code == multihash.SHA2_256 && dm.Length == 32
}

// linkOf turns a CID string of the in-memory record into a link ("" is no
// link).
func linkOf(name, s string) (*Link, error) {
	if s == "" {
		return nil, nil
	}
	c, err := cid.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %v", ErrInvalid, name, s, err)
	}
	if !recordCIDOK(c) {
		return nil, fmt.Errorf("%w: %s %s is not a record CID (CIDv1 dag-cbor sha2-256)", ErrInvalid, name, s)
	}
	return &Link{CID: c}, nil
}

func linkString(name string, l *Link) (string, error) {
	if l == nil {
		return "", nil
	}
	if !recordCIDOK(l.CID) {
		return "", fmt.Errorf("%w: %s %s is not a record CID (CIDv1 dag-cbor sha2-256)", ErrInvalid, name, l.CID)
	}
	return l.CID.String(), nil
}

// envelopeV2 has the same fields as Envelope; the v2 encoder sorts its
// keys length first (sig, body).
type envelopeV2 = Envelope

// recordV2 is the version 2 body on the wire.
type recordV2 struct {
	Version    int                `cbor:"v"`
	Kind       Kind               `cbor:"kind"`
	Federation string             `cbor:"fed"`
	Author     string             `cbor:"author"`
	Seq        uint64             `cbor:"seq"`
	Prev       *Link              `cbor:"prev,omitempty"`
	Created    int64              `cbor:"created"`
	Topics     []string           `cbor:"topics"`
	Chain      map[string]chainV2 `cbor:"chain"`
	Payload    cbor.RawMessage    `cbor:"payload"`
}

type chainV2 struct {
	Seq  uint64 `cbor:"seq"`
	Prev *Link  `cbor:"prev,omitempty"`
}

func (r *Record) toV2() (*recordV2, error) {
	prev, err := linkOf("prev", r.Prev)
	if err != nil {
		return nil, err
	}
	w := &recordV2{Version: r.Version, Kind: r.Kind, Federation: r.Federation, Author: r.Author, Seq: r.Seq,
		Prev: prev, Created: r.Created, Topics: r.Topics, Chain: map[string]chainV2{}, Payload: r.Payload}
	for t, cl := range r.Chain {
		p, err := linkOf("chain prev", cl.Prev)
		if err != nil {
			return nil, err
		}
		w.Chain[t] = chainV2{Seq: cl.Seq, Prev: p}
	}
	return w, nil
}

func (w *recordV2) record() (Record, error) {
	prev, err := linkString("prev", w.Prev)
	if err != nil {
		return Record{}, err
	}
	r := Record{Version: w.Version, Kind: w.Kind, Federation: w.Federation, Author: w.Author, Seq: w.Seq,
		Prev: prev, Created: w.Created, Topics: w.Topics, Payload: w.Payload, Chain: map[string]ChainLink{}}
	for t, c := range w.Chain {
		p, err := linkString("chain prev", c.Prev)
		if err != nil {
			return Record{}, err
		}
		r.Chain[t] = ChainLink{Seq: c.Seq, Prev: p}
	}
	return r, nil
}

// ChainTopics returns the topics a record's per-topic chain runs on: its
// topics, or the control topic for membership records and retractions.
func (r *Record) ChainTopics() []string {
	if r.Kind == KindMembership || r.Kind == KindRetraction {
		return []string{ControlTopic}
	}
	return r.Topics
}

// validateChain checks a version 2 record's per-topic chain.
func (r *Record) validateChain() error {
	if (r.Seq == 1) != (r.Prev == "") {
		return fmt.Errorf("%w: prev is given exactly when seq is above 1 (seq %d)", ErrInvalid, r.Seq)
	}
	want := r.ChainTopics()
	if len(r.Chain) != len(want) {
		return fmt.Errorf("%w: chain has %d topics, the record is on %d", ErrInvalid, len(r.Chain), len(want))
	}
	for _, t := range want {
		cl, ok := r.Chain[t]
		if !ok {
			return fmt.Errorf("%w: chain lacks topic %q", ErrInvalid, t)
		}
		if cl.Seq == 0 || cl.Seq > r.Seq {
			return fmt.Errorf("%w: chain seq %d on %q, want 1 to %d", ErrInvalid, cl.Seq, t, r.Seq)
		}
		if (cl.Seq == 1) != (cl.Prev == "") {
			return fmt.Errorf("%w: chain prev on %q is given exactly when its seq is above 1", ErrInvalid, t)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(r.Topics)))) != len(r.Topics) {
		return fmt.Errorf("%w: a topic is named twice", ErrInvalid)
	}
	return nil
}

// Version 2 payloads on the wire: the same fields as the in-memory types,
// with links where those hold CID strings.

type practiceV2 struct {
	PracticeID       *Link                  `cbor:"practice_id,omitempty"`
	Supersedes       *Link                  `cbor:"supersedes,omitempty"`
	AdaptedFrom      []adaptationV2         `cbor:"adapted_from"`
	Version          int                    `cbor:"version"`
	Title            string                 `cbor:"title"`
	Summary          string                 `cbor:"summary"`
	Problem          string                 `cbor:"problem"`
	Approach         string                 `cbor:"approach"`
	Stage            int                    `cbor:"stage"`
	StakeholderRoles []string               `cbor:"stakeholder_roles"`
	Results          string                 `cbor:"results"`
	Resources        string                 `cbor:"resources"`
	Difficulties     string                 `cbor:"difficulties"`
	Lessons          []string               `cbor:"lessons"`
	Transferability  string                 `cbor:"transferability"`
	Language         string                 `cbor:"language"`
	Translations     map[string]Translation `cbor:"translations"`
	Licence          string                 `cbor:"licence"`
	Region           string                 `cbor:"region"`
	Country          string                 `cbor:"country"`
	Period           string                 `cbor:"period"`
	Links            []string               `cbor:"links"`
}

type adaptationV2 struct {
	Practice Link   `cbor:"practice"`
	Changes  string `cbor:"changes"`
}

type retractionV2 struct {
	Target Link   `cbor:"target"`
	Reason string `cbor:"reason"`
}

type membershipV2 struct {
	Action       string   `cbor:"action"`
	Member       string   `cbor:"member"`
	Region       string   `cbor:"region"`
	Country      string   `cbor:"country"`
	Role         string   `cbor:"role"`
	Addrs        []string `cbor:"addrs"`
	RetractAll   bool     `cbor:"retract_all"`
	KeepUntilSeq uint64   `cbor:"keep_until_seq"`
	KeepUntil    *Link    `cbor:"keep_until,omitempty"`
}

// payloadV2 returns the version 2 wire form of p.
func payloadV2(p Payload) (any, error) {
	switch p := p.(type) {
	case *Practice:
		pid, err := linkOf("practice_id", p.PracticeID)
		if err != nil {
			return nil, err
		}
		sup, err := linkOf("supersedes", p.Supersedes)
		if err != nil {
			return nil, err
		}
		w := &practiceV2{PracticeID: pid, Supersedes: sup, Version: p.Version, Title: p.Title, Summary: p.Summary,
			Problem: p.Problem, Approach: p.Approach, Stage: p.Stage, StakeholderRoles: p.StakeholderRoles,
			Results: p.Results, Resources: p.Resources, Difficulties: p.Difficulties, Lessons: p.Lessons,
			Transferability: p.Transferability, Language: p.Language, Translations: p.Translations,
			Licence: p.Licence, Region: p.Region, Country: p.Country, Period: p.Period, Links: p.Links}
		for _, a := range p.AdaptedFrom {
			l, err := linkOf("adapted_from", a.Practice)
			if err != nil {
				return nil, err
			}
			if l == nil {
				return nil, fmt.Errorf("%w: adapted_from names no practice", ErrMissing)
			}
			w.AdaptedFrom = append(w.AdaptedFrom, adaptationV2{Practice: *l, Changes: a.Changes})
		}
		return w, nil
	case *Retraction:
		l, err := linkOf("target", p.Target)
		if err != nil {
			return nil, err
		}
		if l == nil {
			return nil, fmt.Errorf("%w: retraction target", ErrMissing)
		}
		return &retractionV2{Target: *l, Reason: p.Reason}, nil
	case *Membership:
		ku, err := linkOf("keep_until", p.KeepUntil)
		if err != nil {
			return nil, err
		}
		return &membershipV2{Action: p.Action, Member: p.Member, Region: p.Region, Country: p.Country, Role: p.Role,
			Addrs: p.Addrs, RetractAll: p.RetractAll, KeepUntilSeq: p.KeepUntilSeq, KeepUntil: ku}, nil
	case *Lesson:
		return p, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrBadKind, p)
}

// decodePayloadV2 decodes a version 2 payload into the in-memory type.
func decodePayloadV2(kind Kind, b []byte) (Payload, error) {
	bad := func(err error) (Payload, error) {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrMalformed, kind, err)
	}
	switch kind {
	case KindPractice:
		var w practiceV2
		if err := decModeV2.Unmarshal(b, &w); err != nil {
			return bad(err)
		}
		p := &Practice{Version: w.Version, Title: w.Title, Summary: w.Summary,
			Problem: w.Problem, Approach: w.Approach, Stage: w.Stage, StakeholderRoles: w.StakeholderRoles,
			Results: w.Results, Resources: w.Resources, Difficulties: w.Difficulties, Lessons: w.Lessons,
			Transferability: w.Transferability, Language: w.Language, Translations: w.Translations,
			Licence: w.Licence, Region: w.Region, Country: w.Country, Period: w.Period, Links: w.Links}
		var err error
		if p.PracticeID, err = linkString("practice_id", w.PracticeID); err != nil {
			return nil, err
		}
		if p.Supersedes, err = linkString("supersedes", w.Supersedes); err != nil {
			return nil, err
		}
		for _, a := range w.AdaptedFrom {
			s, err := linkString("adapted_from", &a.Practice)
			if err != nil {
				return nil, err
			}
			p.AdaptedFrom = append(p.AdaptedFrom, Adaptation{Practice: s, Changes: a.Changes})
		}
		return p, nil
	case KindLesson:
		var l Lesson
		if err := decModeV2.Unmarshal(b, &l); err != nil {
			return bad(err)
		}
		return &l, nil
	case KindRetraction:
		var w retractionV2
		if err := decModeV2.Unmarshal(b, &w); err != nil {
			return bad(err)
		}
		s, err := linkString("target", &w.Target)
		if err != nil {
			return nil, err
		}
		return &Retraction{Target: s, Reason: w.Reason}, nil
	case KindMembership:
		var w membershipV2
		if err := decModeV2.Unmarshal(b, &w); err != nil {
			return bad(err)
		}
		ku, err := linkString("keep_until", w.KeepUntil)
		if err != nil {
			return nil, err
		}
		return &Membership{Action: w.Action, Member: w.Member, Region: w.Region, Country: w.Country, Role: w.Role,
			Addrs: w.Addrs, RetractAll: w.RetractAll, KeepUntilSeq: w.KeepUntilSeq, KeepUntil: ku}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrBadKind, kind)
}

// encodeBody encodes a record's body in its version's encoding.
func encodeBody(r *Record) ([]byte, error) {
	if r.Version == RecordV2 {
		w, err := r.toV2()
		if err != nil {
			return nil, err
		}
		return encModeV2.Marshal(w)
	}
	if len(r.Chain) > 0 {
		return nil, fmt.Errorf("%w: a per-topic chain needs record version 2", ErrInvalid)
	}
	return encMode.Marshal(r)
}

// encodeEnvelope encodes an envelope in the encoding of its body's version.
func encodeEnvelope(version int, env *Envelope) ([]byte, error) {
	if version == RecordV2 {
		return encModeV2.Marshal((*envelopeV2)(env))
	}
	return encMode.Marshal(env)
}

// signPrefixFor returns the signature domain of a record version.
func signPrefixFor(version int) []byte {
	if version == RecordV2 {
		return signPrefixV2
	}
	return signPrefix
}

// BodyVersion reads the version field of an encoded body without
// decoding the rest.
func BodyVersion(body []byte) (int, error) {
	var v struct {
		V int `cbor:"v"`
	}
	if err := peekMode.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	return v.V, nil
}

// DecodeBody decodes an encoded body of any known version into a Record,
// checking only that it decodes: the content rules are Open's. Stored
// records are read with it.
func DecodeBody(body []byte) (Record, error) {
	v, err := BodyVersion(body)
	if err != nil {
		return Record{}, err
	}
	switch v {
	case RecordVersion:
		var r Record
		if err := Unmarshal(body, &r); err != nil {
			return Record{}, fmt.Errorf("%w: body: %v", ErrMalformed, err)
		}
		return r, nil
	case RecordV2:
		var w recordV2
		if err := decModeV2.Unmarshal(body, &w); err != nil {
			return Record{}, fmt.Errorf("%w: body: %v", ErrMalformed, err)
		}
		return w.record()
	}
	return Record{}, fmt.Errorf("%w: %d (this node knows 1 to %d)", ErrBadVersion, v, LatestRecordVersion)
}

// DecodeEnvelope decodes an envelope of any version without checking it.
func DecodeEnvelope(raw []byte) (Envelope, error) {
	var env Envelope
	if err := decModeV2.Unmarshal(raw, &env); err != nil {
		return env, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	return env, nil
}

// canonicalPayload checks that a payload's bytes are its canonical
// encoding in version v.
func canonicalPayload(v int, raw []byte, p Payload) error {
	var canon []byte
	var err error
	if v == RecordV2 {
		var w any
		if w, err = payloadV2(p); err == nil {
			canon, err = encModeV2.Marshal(w)
		}
	} else {
		canon, err = Marshal(p)
	}
	if err != nil || !bytes.Equal(canon, raw) {
		return fmt.Errorf("%w: payload is not canonical", ErrMalformed)
	}
	return nil
}
