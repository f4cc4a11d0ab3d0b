// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	crypto_pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// RecordVersion is record format version 1, which every release reads:
// Seal writes it when a record names no version. A node writes version 2
// ([RecordV2]) once every member of its federation reads it.
const RecordVersion = 1

// MaxRecordBytes bounds an encoded envelope. It is well under gossipsub's
// 1 MiB message limit so a record always fits in one message.
const MaxRecordBytes = 256 << 10

// MaxClockSkew is how far in the future a record's creation time may lie.
const MaxClockSkew = 10 * time.Minute

// Kind names the type of a public record.
type Kind string

// The record kinds.
const (
	KindPractice   Kind = "practice"
	KindLesson     Kind = "lesson"
	KindRetraction Kind = "retraction"
	KindMembership Kind = "membership"
)

// Known reports whether k is a kind this version understands.
func (k Kind) Known() bool {
	switch k {
	case KindPractice, KindLesson, KindRetraction, KindMembership:
		return true
	}
	return false
}

// Errors returned by decoding and verification. They are wrapped with details.
var (
	ErrMalformed   = errors.New("malformed record")
	ErrTooLarge    = errors.New("record too large")
	ErrBadVersion  = errors.New("unknown record version")
	ErrBadKind     = errors.New("unknown record kind")
	ErrBadSig      = errors.New("bad signature")
	ErrCIDMismatch = errors.New("cid mismatch")
	ErrFuture      = errors.New("record created in the future")
	ErrMissing     = errors.New("missing required field")
	ErrInvalid     = errors.New("invalid field")
)

// Record is the signed body of every public record.
type Record struct {
	Version    int             `cbor:"v"`
	Kind       Kind            `cbor:"kind"`
	Federation string          `cbor:"fed"`
	Author     string          `cbor:"author"`  // peer ID of the signing node
	Seq        uint64          `cbor:"seq"`     // per-author sequence number, from 1
	Prev       string          `cbor:"prev"`    // CID of the author's previous record, "" for the first
	Created    int64           `cbor:"created"` // Unix milliseconds
	Topics     []string        `cbor:"topics"`
	Payload    cbor.RawMessage `cbor:"payload"`
	// Chain is the record's place in its author's chain on each topic it
	// is on (version 2; nil in version 1).
	Chain map[string]ChainLink `cbor:"-"`
}

// CreatedTime returns the record's creation time.
func (r *Record) CreatedTime() time.Time { return time.UnixMilli(r.Created).UTC() }

// Envelope is a record body together with its author's signature: the unit
// that travels on gossipsub and in the stream protocols.
type Envelope struct {
	Body []byte `cbor:"body"`
	Sig  []byte `cbor:"sig"`
}

// Signed is a decoded, verified record.
type Signed struct {
	CID    cid.Cid
	Record Record
	Raw    []byte // the encoded envelope
}

var (
	encMode = must(cbor.CoreDetEncOptions().EncMode())
	decMode = must(strictDecOptions(cbor.TagsForbidden).DecMode())
)

// strictDecOptions decode a record and nothing else: no duplicate keys, no
// unknown fields, no indefinite lengths, bounded sizes; tags as told.
func strictDecOptions(tags cbor.TagsMode) cbor.DecOptions {
	return cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:   16,
		MaxArrayElements:  4096,
		MaxMapPairs:       4096,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            tags,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}
}

// must returns v, panicking on err: for encoder and decoder modes built
// from constant options at start.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Marshal encodes v as deterministic (core deterministic) CBOR.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes strict CBOR: no duplicate keys, no unknown fields,
// no indefinite lengths, no tags.
func Unmarshal(b []byte, v any) error { return decMode.Unmarshal(b, v) }

// signPrefix separates record signatures from any other use of the key.
var signPrefix = []byte("livinglab-record-v1:")

// RecordCID computes the address of an encoded body.
func RecordCID(body []byte) cid.Cid {
	mh, _ := multihash.Sum(body, multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.DagCBOR, mh)
}

// Seal encodes, signs and addresses a record. The payload must already be
// set (see [Record.SetPayload]).
func Seal(r Record, key crypto.PrivKey) (*Signed, error) {
	if r.Version == 0 {
		r.Version = RecordVersion
	}
	author, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if r.Author == "" {
		r.Author = author.String()
	}
	if r.Author != author.String() {
		return nil, fmt.Errorf("seal: author %s is not the signing key %s", r.Author, author)
	}
	if err := ed25519Author(r.Author); err != nil {
		return nil, err
	}
	if err := r.validate(time.Now()); err != nil {
		return nil, err
	}
	body, err := encodeBody(&r)
	if err != nil {
		return nil, fmt.Errorf("seal: encode: %w", err)
	}
	sig, err := key.Sign(append(append([]byte{}, signPrefixFor(r.Version)...), body...))
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	raw, err := encodeEnvelope(r.Version, &Envelope{Body: body, Sig: sig})
	if err != nil {
		return nil, fmt.Errorf("seal: encode envelope: %w", err)
	}
	if len(raw) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxRecordBytes)
	}
	return &Signed{CID: RecordCID(body), Record: r, Raw: raw}, nil
}

// Open decodes and verifies an encoded envelope of either record version:
// size, canonical encoding, version, kind, required fields, creation time,
// an Ed25519 author key, signature and payload. now is the receiver's
// clock.
func Open(raw []byte, now time.Time) (*Signed, error) {
	if len(raw) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxRecordBytes)
	}
	env, err := DecodeEnvelope(raw)
	if err != nil {
		return nil, err
	}
	if len(env.Body) == 0 || len(env.Sig) == 0 {
		return nil, fmt.Errorf("%w: envelope needs body and sig", ErrMissing)
	}
	version, err := BodyVersion(env.Body)
	if err != nil {
		return nil, err
	}
	if version != RecordVersion && version != RecordV2 {
		return nil, fmt.Errorf("%w: %d (this node knows 1 to %d)", ErrBadVersion, version, LatestRecordVersion)
	}
	if canon, err := encodeEnvelope(version, &env); err != nil || !bytes.Equal(canon, raw) {
		// One record, one encoding: otherwise the same record could travel
		// as different bytes and slip past gossip de-duplication.
		return nil, fmt.Errorf("%w: envelope is not canonical CBOR", ErrMalformed)
	}
	r, err := DecodeBody(env.Body)
	if err != nil {
		return nil, err
	}
	canon, err := encodeBody(&r)
	if err != nil || !bytes.Equal(canon, env.Body) {
		return nil, fmt.Errorf("%w: body is not canonical CBOR", ErrMalformed)
	}
	if err := r.validate(now); err != nil {
		return nil, err
	}
	if err := verifySig(&r, env); err != nil {
		return nil, err
	}
	return &Signed{CID: RecordCID(env.Body), Record: r, Raw: raw}, nil
}

// ed25519Author checks that an author's peer ID holds an Ed25519 key.
func ed25519Author(author string) error {
	id, err := peer.Decode(author)
	if err != nil {
		return fmt.Errorf("%w: author %q: %v", ErrInvalid, author, err)
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("%w: author key of %s: %v", ErrInvalid, author, err)
	}
	if pub.Type() != crypto_pb.KeyType_Ed25519 {
		return fmt.Errorf("%w: author %s has a %s key; records are signed with Ed25519 keys only", ErrBadKey, author, pub.Type())
	}
	return nil
}

// verifySig checks the envelope's signature: an Ed25519 key, over the
// record version's signature domain and the body.
func verifySig(r *Record, env Envelope) error {
	if err := ed25519Author(r.Author); err != nil {
		return err
	}
	id, _ := peer.Decode(r.Author)
	pub, _ := id.ExtractPublicKey()
	ok, err := pub.Verify(append(append([]byte{}, signPrefixFor(r.Version)...), env.Body...), env.Sig)
	if err != nil || !ok {
		return fmt.Errorf("%w: record by %s", ErrBadSig, r.Author)
	}
	return nil
}

// VerifyStored checks that stored bytes are the record want: the envelope
// decodes, the body hashes to want and the signature verifies under the
// author's key. Unlike Open it does not apply today's validation rules to
// the content, so a record that was valid when it was stored stays so.
func VerifyStored(raw []byte, want cid.Cid) error {
	env, err := DecodeEnvelope(raw)
	if err != nil {
		return err
	}
	if got := RecordCID(env.Body); !got.Equals(want) {
		return fmt.Errorf("%w: body hashes to %s, expected %s", ErrCIDMismatch, got, want)
	}
	r, err := DecodeBody(env.Body)
	if err != nil {
		return err
	}
	author, err := peer.Decode(r.Author)
	if err != nil {
		return fmt.Errorf("%w: author %q: %v", ErrInvalid, r.Author, err)
	}
	pub, err := author.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("%w: author key: %v", ErrInvalid, err)
	}
	if ok, err := pub.Verify(append(append([]byte{}, signPrefixFor(r.Version)...), env.Body...), env.Sig); err != nil || !ok {
		return fmt.Errorf("%w: record by %s", ErrBadSig, r.Author)
	}
	return nil
}

// OpenExpect is Open that also checks the record has the expected address.
func OpenExpect(raw []byte, want cid.Cid, now time.Time) (*Signed, error) {
	s, err := Open(raw, now)
	if err != nil {
		return nil, err
	}
	if !s.CID.Equals(want) {
		return nil, fmt.Errorf("%w: got %s, expected %s", ErrCIDMismatch, s.CID, want)
	}
	return s, nil
}

func (r *Record) validate(now time.Time) error {
	if !r.Kind.Known() {
		return fmt.Errorf("%w: %q", ErrBadKind, r.Kind)
	}
	if r.Federation == "" {
		return fmt.Errorf("%w: federation", ErrMissing)
	}
	if r.Author == "" {
		return fmt.Errorf("%w: author", ErrMissing)
	}
	if r.Seq == 0 {
		return fmt.Errorf("%w: seq", ErrMissing)
	}
	if r.Created <= 0 {
		return fmt.Errorf("%w: created", ErrMissing)
	}
	if t := r.CreatedTime(); t.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: %s is more than %s ahead of this node's clock", ErrFuture, t.Format(time.RFC3339), MaxClockSkew)
	}
	if r.Prev != "" {
		if _, err := cid.Decode(r.Prev); err != nil {
			return fmt.Errorf("%w: prev %q: %v", ErrInvalid, r.Prev, err)
		}
	}
	switch r.Version {
	case RecordVersion:
		if len(r.Chain) > 0 {
			return fmt.Errorf("%w: a per-topic chain needs record version 2", ErrInvalid)
		}
	case RecordV2:
		if err := r.validateChain(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %d (this node knows 1 to %d)", ErrBadVersion, r.Version, LatestRecordVersion)
	}
	if len(r.Payload) == 0 {
		return fmt.Errorf("%w: payload", ErrMissing)
	}
	switch r.Kind {
	case KindPractice, KindLesson:
		if len(r.Topics) == 0 {
			return fmt.Errorf("%w: topics", ErrMissing)
		}
		for _, t := range r.Topics {
			if t == ControlTopic {
				return fmt.Errorf("%w: %s records cannot carry the control topic", ErrInvalid, r.Kind)
			}
		}
	case KindMembership, KindRetraction:
		if len(r.Topics) > 0 {
			return fmt.Errorf("%w: %s records carry no topics", ErrInvalid, r.Kind)
		}
	}
	for _, t := range r.Topics {
		if err := ValidTopic(t); err != nil {
			return err
		}
	}
	if len(r.Topics) > MaxTopics {
		return fmt.Errorf("%w: %d topics, at most %d", ErrInvalid, len(r.Topics), MaxTopics)
	}
	p, err := r.DecodePayload()
	if err != nil {
		return err
	}
	if err := canonicalPayload(r.Version, r.Payload, p); err != nil {
		return err
	}
	if pr, ok := p.(*Practice); ok && len(pr.AdaptedFrom) > 0 && r.Version < RecordV2 {
		return fmt.Errorf("%w: adapted_from needs record version 2", ErrInvalid)
	}
	return p.Validate()
}

// SetPayload encodes p into the record, in the encoding of the record's
// version (version 1 if none is set yet), and sets its kind.
func (r *Record) SetPayload(p Payload) error {
	if r.Version == 0 {
		r.Version = RecordVersion
	}
	var b []byte
	var err error
	if r.Version == RecordV2 {
		var w any
		if w, err = payloadV2(p); err == nil {
			b, err = encModeV2.Marshal(w)
		}
	} else {
		if pr, ok := p.(*Practice); ok && len(pr.AdaptedFrom) > 0 {
			return fmt.Errorf("%w: adapted_from needs record version 2", ErrInvalid)
		}
		b, err = Marshal(p)
	}
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	r.Kind = p.Kind()
	r.Payload = b
	return nil
}

// DecodePayload decodes the payload according to the record's kind.
func (r *Record) DecodePayload() (Payload, error) {
	if r.Version == RecordV2 {
		return decodePayloadV2(r.Kind, r.Payload)
	}
	var p Payload
	switch r.Kind {
	case KindPractice:
		p = new(Practice)
	case KindLesson:
		p = new(Lesson)
	case KindRetraction:
		p = new(Retraction)
	case KindMembership:
		p = new(Membership)
	default:
		return nil, fmt.Errorf("%w: %q", ErrBadKind, r.Kind)
	}
	if err := Unmarshal(r.Payload, p); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrMalformed, r.Kind, err)
	}
	return p, nil
}
