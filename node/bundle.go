// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"github.com/multiformats/go-multihash"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// Offline bundles carry signed records where no network reaches: a CAR
// file (CARv1) whose blocks are record bodies, exactly the bytes their
// CIDs address, and beside each body one signature block,
// {record: link(body), sig: bytes}, in DAG-CBOR. The CAR's single root is
// the index block, written first:
//
//	{format: "livinglab-bundle", version: 1, federation: F, created: ms,
//	 topic: T or "", since: ms or 0, records: [link(signature block), ...]}
//
// records lists membership records first (the whole roster, so that the
// receiver can check every author), then practices and lessons, then
// retractions, each part oldest first. An envelope is rebuilt from a body
// and its signature block as {body, sig}, encoded as the body's record
// version encodes envelopes; the signature is over
// "livinglab-record-v1:" or "livinglab-record-v2:" (by that version)
// followed by the body.

// BundleFormat and BundleVersion name the index block's layout.
const (
	BundleFormat  = "livinglab-bundle"
	BundleVersion = 1
)

// MaxBundleBytes bounds a bundle that a node imports: it is verified whole
// before anything is stored, so it is held in memory.
const MaxBundleBytes = 512 << 20

// RecordBlock is a stored record as raw bytes: the body is the block its
// CID addresses; the signature and the whole envelope travel beside it.
type RecordBlock struct {
	CID      cid.Cid
	Kind     protocol.Kind
	Body     []byte
	Sig      []byte
	Envelope []byte
}

// RecordBlock returns the exact bytes of a stored record; a retracted one
// is a *RetractedError.
func (n *Node) RecordBlock(c cid.Cid) (*RecordBlock, error) {
	rec, err := n.held(c)
	if err != nil {
		return nil, err
	}
	return recordBlock(rec)
}

func recordBlock(rec *protocol.Signed) (*RecordBlock, error) {
	env, err := protocol.DecodeEnvelope(rec.Raw)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", rec.CID, err)
	}
	return &RecordBlock{CID: rec.CID, Kind: rec.Record.Kind, Body: env.Body, Sig: env.Sig, Envelope: rec.Raw}, nil
}

// envelope rebuilds a record's envelope from its body and signature, in
// the encoding of the body's record version.
func envelope(body, sig []byte) ([]byte, error) {
	v, err := protocol.BodyVersion(body)
	if err != nil {
		return nil, err
	}
	if v >= protocol.RecordV2 {
		return protocol.MarshalV2(&protocol.Envelope{Body: body, Sig: sig})
	}
	return protocol.Marshal(&protocol.Envelope{Body: body, Sig: sig})
}

// bundleIndex is the root block of a bundle.
type bundleIndex struct {
	Format     string     `cbor:"format"`
	Version    int        `cbor:"version"`
	Federation string     `cbor:"federation"`
	Created    int64      `cbor:"created"`
	Topic      string     `cbor:"topic"`
	Since      int64      `cbor:"since"`
	Records    []cbor.Tag `cbor:"records"`
}

// sigBlock carries a record's signature and links to its body.
type sigBlock struct {
	Record cbor.Tag `cbor:"record"`
	Sig    []byte   `cbor:"sig"`
}

// linkTag is the DAG-CBOR link (tag 42) to c.
func linkTag(c cid.Cid) cbor.Tag {
	return cbor.Tag{Number: 42, Content: append([]byte{0}, c.Bytes()...)}
}

// tagLink reads a DAG-CBOR link.
func tagLink(t cbor.Tag) (cid.Cid, error) {
	b, ok := t.Content.([]byte)
	if t.Number != 42 || !ok || len(b) < 2 || b[0] != 0 {
		return cid.Undef, fmt.Errorf("not a DAG-CBOR link (tag %d)", t.Number)
	}
	return cid.Cast(b[1:])
}

var (
	bundleEnc cbor.EncMode
	bundleDec cbor.DecMode
)

func init() {
	var err error
	// Length-first key order, shortest integers: DAG-CBOR's rules for
	// the maps, integers, strings and links these blocks hold.
	if bundleEnc, err = cbor.CanonicalEncOptions().EncMode(); err != nil {
		panic(err)
	}
	if bundleDec, err = (cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden,
		MaxArrayElements: 1 << 24, ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}).DecMode(); err != nil {
		panic(err)
	}
}

// dagCBORBlock encodes v and addresses it.
func dagCBORBlock(v any) (cid.Cid, []byte, error) {
	b, err := bundleEnc.Marshal(v)
	if err != nil {
		return cid.Undef, nil, err
	}
	return protocol.RecordCID(b), b, nil
}

// BundleOptions select what a bundle holds.
type BundleOptions struct {
	Topic string    // "" for every topic this node holds
	Since time.Time // zero for all; practices and lessons created at or after
}

// Bundle is a bundle ready to be written: the records are chosen and the
// root is known before the first byte goes out.
type Bundle struct {
	n     *Node
	root  cid.Cid
	index []byte
	cids  []cid.Cid
	// Records counts the records by kind.
	Records map[protocol.Kind]int
}

// Root is the CID of the bundle's index block.
func (b *Bundle) Root() cid.Cid { return b.root }

// Bundle chooses the records of an offline bundle: every membership
// record, the practices and lessons of o, every retraction.
func (n *Node) Bundle(o BundleOptions) (*Bundle, error) {
	fed := n.Federation()
	if fed == "" {
		return nil, ErrNotInFederation
	}
	if o.Topic != "" {
		if err := protocol.ValidTopic(o.Topic); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	since := int64(0)
	if !o.Since.IsZero() {
		since = o.Since.UnixMilli()
	}
	seen := map[cid.Cid]bool{}
	var members, content, tombs []*protocol.Signed
	add := func(rec *protocol.Signed) error {
		if seen[rec.CID] {
			return nil
		}
		switch rec.Record.Kind {
		case protocol.KindMembership:
			members = append(members, rec)
		case protocol.KindRetraction:
			tombs = append(tombs, rec)
		default:
			if rec.Record.Created < since || (o.Topic != "" && !slices.Contains(rec.Record.Topics, o.Topic)) {
				return nil
			}
			content = append(content, rec)
		}
		seen[rec.CID] = true
		return nil
	}
	for _, k := range []protocol.Kind{protocol.KindMembership, protocol.KindRetraction, protocol.KindPractice, protocol.KindLesson} {
		if err := n.store.Each(knowledge.ListOptions{Kind: k, IncludeOld: true}, add); err != nil {
			return nil, fmt.Errorf("bundle: list %s records: %w", k, err)
		}
	}
	b := &Bundle{n: n, Records: map[protocol.Kind]int{}}
	idx := bundleIndex{Format: BundleFormat, Version: BundleVersion, Federation: fed, Created: time.Now().UnixMilli(),
		Topic: o.Topic, Since: since, Records: []cbor.Tag{}}
	for _, part := range [][]*protocol.Signed{members, content, tombs} {
		sort.SliceStable(part, func(i, j int) bool {
			if part[i].Record.Created != part[j].Record.Created {
				return part[i].Record.Created < part[j].Record.Created
			}
			return part[i].CID.String() < part[j].CID.String()
		})
		for _, rec := range part {
			rb, err := recordBlock(rec)
			if err != nil {
				return nil, err
			}
			sc, _, err := dagCBORBlock(&sigBlock{Record: linkTag(rec.CID), Sig: rb.Sig})
			if err != nil {
				return nil, err
			}
			idx.Records = append(idx.Records, linkTag(sc))
			b.cids = append(b.cids, rec.CID)
			b.Records[rec.Record.Kind]++
		}
	}
	var err error
	if b.root, b.index, err = dagCBORBlock(&idx); err != nil {
		return nil, fmt.Errorf("bundle: encode index: %w", err)
	}
	return b, nil
}

// WriteCAR writes the bundle as a CARv1 stream: the index block, then each
// record's body and signature block.
func (b *Bundle) WriteCAR(ctx context.Context, w io.Writer) error {
	car, err := storage.NewWritable(w, []cid.Cid{b.root}, carv2.WriteAsCarV1(true), carv2.AllowDuplicatePuts(false))
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if err := car.Put(ctx, b.root.KeyString(), b.index); err != nil {
		return fmt.Errorf("bundle: write index: %w", err)
	}
	for _, c := range b.cids {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := b.n.store.Get(c)
		if err != nil {
			return fmt.Errorf("bundle: record %s: %w", c, err)
		}
		rb, err := recordBlock(rec)
		if err != nil {
			return err
		}
		sc, sb, err := dagCBORBlock(&sigBlock{Record: linkTag(c), Sig: rb.Sig})
		if err != nil {
			return err
		}
		if err := car.Put(ctx, c.KeyString(), rb.Body); err != nil {
			return fmt.Errorf("bundle: write %s: %w", c, err)
		}
		if err := car.Put(ctx, sc.KeyString(), sb); err != nil {
			return fmt.Errorf("bundle: write signature of %s: %w", c, err)
		}
	}
	return nil
}

// BundleReport says what importing a bundle did.
type BundleReport struct {
	Federation string `json:"federation"`
	Topic      string `json:"topic,omitempty"`
	Records    int    `json:"records"`
	Added      int    `json:"added"`
	// Skipped: already held, or of a topic this node does not follow.
	Skipped     int             `json:"skipped"`
	NotFollowed []string        `json:"not_followed,omitempty"`
	Refused     []BundleRefusal `json:"refused"`
}

// BundleRefusal is a record of a bundle that the federation's rules
// refuse (its author not a member, a removed member's record...).
type BundleRefusal struct {
	CID    string `json:"cid"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// ErrBadBundle refuses a whole bundle: nothing of it is stored.
var ErrBadBundle = errors.New("bundle refused")

func badBundle(format string, a ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrBadRequest, ErrBadBundle, fmt.Sprintf(format, a...))
}

// importLedger is the node's ledger with a roster that also knows the
// bundle's membership records, so that records are checked against the
// members the bundle proves before anything is stored.
type importLedger struct {
	*Node
	roster *Roster
}

func (l importLedger) MemberStatus(author string, seq uint64) (bool, bool) {
	return l.roster.MemberStatus(author, seq)
}

// ImportBundle reads a CAR bundle and stores its records. It verifies the
// whole bundle first (every block against its CID, every signature, the
// federation, each author's membership); a damaged, truncated or foreign
// bundle is refused with ErrBadBundle and nothing is stored. Records held
// already are skipped, so importing twice adds nothing.
func (n *Node) ImportBundle(ctx context.Context, r io.Reader) (*BundleReport, error) {
	fed, founder := n.Federation(), n.Config().Federation.Founder
	if fed == "" {
		return nil, ErrNotInFederation
	}
	// Every block is hashed below, with a message that says what it means.
	br, err := carv2.NewBlockReader(io.LimitReader(r, MaxBundleBytes+1), carv2.MaxAllowedSectionSize(2*protocol.MaxRecordBytes),
		carv2.MaxAllowedHeaderSize(1<<16), carv2.WithTrustedCAR(true))
	if err != nil {
		return nil, badBundle("not a CAR file: %v", err)
	}
	if len(br.Roots) != 1 {
		return nil, badBundle("a bundle has one root (its index), this CAR has %d", len(br.Roots))
	}
	blocks := map[cid.Cid][]byte{}
	size := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blk, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badBundle("damaged or truncated after %d blocks: %v", len(blocks), err)
		}
		c := blk.Cid()
		if p := c.Prefix(); p.Version != 1 || p.Codec != cid.DagCBOR || p.MhType != multihash.SHA2_256 {
			return nil, badBundle("block %s is not a CIDv1 dag-cbor sha2-256 block", c)
		}
		if got := protocol.RecordCID(blk.RawData()); !got.Equals(c) {
			return nil, badBundle("block %s does not match its CID (it hashes to %s)", c, got)
		}
		size += len(blk.RawData())
		if size > MaxBundleBytes {
			return nil, badBundle("over %d bytes", MaxBundleBytes)
		}
		blocks[c] = blk.RawData()
	}
	root := br.Roots[0]
	raw, ok := blocks[root]
	if !ok {
		return nil, badBundle("the index block %s is missing (truncated file?)", root)
	}
	var idx bundleIndex
	if err := bundleDec.Unmarshal(raw, &idx); err != nil {
		return nil, badBundle("index block: %v", err)
	}
	if idx.Format != BundleFormat || idx.Version != BundleVersion {
		return nil, badBundle("index is %q version %d, this node reads %q version %d", idx.Format, idx.Version, BundleFormat, BundleVersion)
	}
	if idx.Federation != fed {
		return nil, badBundle("it is a bundle of federation %q, this node is in %q", idx.Federation, fed)
	}
	used := map[cid.Cid]bool{root: true}
	recs := make([]*protocol.Signed, 0, len(idx.Records))
	now := time.Now()
	for i, l := range idx.Records {
		sc, err := tagLink(l)
		if err != nil {
			return nil, badBundle("index entry %d: %v", i, err)
		}
		sraw, ok := blocks[sc]
		if !ok {
			return nil, badBundle("signature block %s is missing (truncated file?)", sc)
		}
		var sb sigBlock
		if err := bundleDec.Unmarshal(sraw, &sb); err != nil {
			return nil, badBundle("signature block %s: %v", sc, err)
		}
		bc, err := tagLink(sb.Record)
		if err != nil {
			return nil, badBundle("signature block %s: %v", sc, err)
		}
		body, ok := blocks[bc]
		if !ok {
			return nil, badBundle("record %s is missing (truncated file?)", bc)
		}
		used[sc], used[bc] = true, true
		env, err := envelope(body, sb.Sig)
		if err != nil {
			return nil, badBundle("record %s: %v", bc, err)
		}
		rec, err := protocol.Open(env, now)
		if err != nil {
			return nil, badBundle("record %s: %v", bc, err)
		}
		if !rec.CID.Equals(bc) {
			return nil, badBundle("record %s addresses as %s", bc, rec.CID)
		}
		if rec.Record.Federation != fed {
			return nil, badBundle("record %s belongs to federation %q, this node is in %q", bc, rec.Record.Federation, fed)
		}
		// A federation is its name and its founder: another one of the
		// same name has another founding record.
		if rec.Record.Kind == protocol.KindMembership {
			if p, err := rec.Record.DecodePayload(); err == nil {
				if m, ok := p.(*protocol.Membership); ok && m.Action == protocol.ActionFound && rec.Record.Author != founder {
					return nil, badBundle("it is a bundle of another federation named %q: founded by %s, this node's by %s", fed, rec.Record.Author, founder)
				}
			}
		}
		recs = append(recs, rec)
	}
	for c := range blocks {
		if !used[c] {
			return nil, badBundle("block %s is not listed in the index", c)
		}
	}

	// Membership: the roster this node has, with the bundle's records.
	roster := NewRoster(founder)
	held, err := n.store.List(knowledge.ListOptions{Kind: protocol.KindMembership, IncludeOld: true})
	if err != nil {
		return nil, err
	}
	roster.Add(held...)
	for _, rec := range recs {
		if rec.Record.Kind == protocol.KindMembership {
			roster.Add(rec)
		}
	}
	val := &protocol.Validator{Federation: fed, Founder: founder, Ledger: importLedger{Node: n, roster: roster}}
	rep := &BundleReport{Federation: fed, Topic: idx.Topic, Records: len(recs), Refused: []BundleRefusal{}}
	var store []*protocol.Signed
	notFollowed := map[string]bool{}
	for _, rec := range recs {
		if n.store.Has(rec.CID) {
			rep.Skipped++
			continue
		}
		if err := val.CheckSigned("", rec); err != nil {
			rep.Refused = append(rep.Refused, BundleRefusal{CID: rec.CID.String(), Kind: string(rec.Record.Kind), Reason: err.Error()})
			continue
		}
		if !n.keeps(rec) {
			rep.Skipped++
			for _, t := range rec.Record.Topics {
				notFollowed[t] = true
			}
			continue
		}
		store = append(store, rec)
	}
	for t := range notFollowed {
		rep.NotFollowed = append(rep.NotFollowed, t)
	}
	sort.Strings(rep.NotFollowed)

	// Everything is verified: store, memberships first (the index lists
	// them first).
	for _, rec := range store {
		res, err := n.storeReceived(rec, "")
		if errors.Is(err, protocol.ErrRetracted) {
			rep.Refused = append(rep.Refused, BundleRefusal{CID: rec.CID.String(), Kind: string(rec.Record.Kind), Reason: err.Error()})
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("store %s: %w", rec.CID, err)
		}
		if res.Added {
			rep.Added++
		} else {
			rep.Skipped++
		}
	}
	n.log.Info("bundle imported", "records", rep.Records, "added", rep.Added, "skipped", rep.Skipped, "refused", len(rep.Refused))
	return rep, nil
}
