// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the protocol version byte that starts every message.
const Version byte = 0x01

// MaxWireBytes is the largest message Decode accepts and the largest
// MaxMessageBytes a Reconciler uses.
const MaxWireBytes = 4 << 20

// maxIDsPerList is the most IDs one IdList range can hold in a message of
// MaxWireBytes.
const maxIDsPerList = MaxWireBytes / IDSize

// infiniteHeader is the bound header byte that stands for +∞.
const infiniteHeader = 0xFF

// Errors returned by Decode, Encode and the Reconciler. They are wrapped with
// details; test for them with errors.Is.
var (
	ErrTruncated    = errors.New("recon: truncated message")
	ErrTrailingData = errors.New("recon: data after the final range")
	ErrBoundOrder   = errors.New("recon: range bounds not strictly increasing")
	ErrVersion      = errors.New("recon: unsupported protocol version")
	ErrMode         = errors.New("recon: unknown range mode")
	ErrLimit        = errors.New("recon: limit exceeded")
	ErrMalformed    = errors.New("recon: malformed message")
	ErrState        = errors.New("recon: call not valid in this state")
)

// Mode says what a range's payload is.
type Mode uint8

// The range modes.
const (
	// ModeSkip: the sender has nothing to say about the range.
	ModeSkip Mode = 0
	// ModeFingerprint: the payload is the Fingerprint of the sender's
	// items in the range.
	ModeFingerprint Mode = 1
	// ModeIDList: the payload is the IDs of all the sender's items in the
	// range, in (Time, ID) order.
	ModeIDList Mode = 2
)

func (m Mode) String() string {
	switch m {
	case ModeSkip:
		return "Skip"
	case ModeFingerprint:
		return "Fingerprint"
	case ModeIDList:
		return "IdList"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Bound is an exclusive upper bound in the (Time, ID) order: a range holds
// the items at or above the previous range's bound and below its own.
//
// A finite bound is a time and an ID prefix of 0 to 32 bytes; the prefix is
// compared as if padded with zero bytes to 32, so Bound{Time: t} lies just
// below every item at time t. A canonical prefix does not end in a zero byte.
// The Infinite bound lies above every item, including Time = 2^64-1 with an
// all-0xFF ID.
type Bound struct {
	Time      uint64
	Prefix    [IDSize]byte // only the first PrefixLen bytes may be non-zero
	PrefixLen uint8
	Infinite  bool // +∞; Time, Prefix and PrefixLen are then zero
}

// InfiniteBound is the bound above every item.
var InfiniteBound = Bound{Infinite: true}

// Compare orders bounds. It returns -1, 0 or +1.
func (b Bound) Compare(c Bound) int {
	switch {
	case b.Infinite && c.Infinite:
		return 0
	case b.Infinite:
		return 1
	case c.Infinite:
		return -1
	}
	if r := cmp.Compare(b.Time, c.Time); r != 0 {
		return r
	}
	return bytes.Compare(b.Prefix[:], c.Prefix[:])
}

// above reports whether it lies below b.
func (b *Bound) above(it *Item) bool {
	if b.Infinite {
		return true
	}
	if it.Time != b.Time {
		return it.Time < b.Time
	}
	return bytes.Compare(it.ID[:], b.Prefix[:]) < 0
}

func (b *Bound) validate() error {
	if b.Infinite {
		if b.Time != 0 || b.PrefixLen != 0 || b.Prefix != [IDSize]byte{} {
			return fmt.Errorf("%w: infinite bound with time or prefix", ErrMalformed)
		}
		return nil
	}
	if b.PrefixLen > IDSize {
		return fmt.Errorf("%w: bound prefix length %d > %d", ErrMalformed, b.PrefixLen, IDSize)
	}
	for _, c := range b.Prefix[b.PrefixLen:] {
		if c != 0 {
			return fmt.Errorf("%w: bound prefix has non-zero bytes beyond its length", ErrMalformed)
		}
	}
	if b.PrefixLen > 0 && b.Prefix[b.PrefixLen-1] == 0 {
		return fmt.Errorf("%w: bound prefix ends in a zero byte (not canonical)", ErrMalformed)
	}
	return nil
}

// minimalBound returns the shortest bound b with prev < b <= curr, for
// prev < curr: curr's time alone when the times differ, otherwise curr's
// time and the shortest prefix of curr's ID that prev's ID does not share.
func minimalBound(prev, curr *Item) Bound {
	b := Bound{Time: curr.Time}
	if prev.Time != curr.Time {
		return b
	}
	n := 0
	for n < IDSize-1 && prev.ID[n] == curr.ID[n] {
		n++
	}
	b.PrefixLen = uint8(n + 1)
	copy(b.Prefix[:n+1], curr.ID[:n+1])
	return b
}

// Range is one element of a message: the sender's statement about the items
// between the previous range's upper bound (or the lowest possible item) and
// Upper.
type Range struct {
	Upper       Bound
	Mode        Mode
	Fingerprint Fingerprint    // ModeFingerprint only
	IDs         [][IDSize]byte // ModeIDList only
}

// Message is a decoded protocol message. Its ranges are contiguous and their
// bounds strictly increasing; the space above the last bound is implicitly
// skipped.
type Message struct {
	Ranges []Range
}

// Encode validates m and returns its wire form.
func Encode(m *Message) ([]byte, error) {
	e := encoder{buf: []byte{Version}}
	if m == nil {
		return e.buf, nil
	}
	var prev Bound
	for i := range m.Ranges {
		r := &m.Ranges[i]
		if err := r.Upper.validate(); err != nil {
			return nil, fmt.Errorf("range %d: %w", i, err)
		}
		if r.Upper.Compare(prev) <= 0 {
			return nil, fmt.Errorf("%w: range %d", ErrBoundOrder, i)
		}
		prev = r.Upper
		switch r.Mode {
		case ModeSkip:
			if r.Fingerprint != (Fingerprint{}) || len(r.IDs) != 0 {
				return nil, fmt.Errorf("%w: range %d: Skip range with a payload", ErrMalformed, i)
			}
			e.skip(&r.Upper)
		case ModeFingerprint:
			if len(r.IDs) != 0 {
				return nil, fmt.Errorf("%w: range %d: Fingerprint range with IDs", ErrMalformed, i)
			}
			e.fingerprint(&r.Upper, &r.Fingerprint)
		case ModeIDList:
			if r.Fingerprint != (Fingerprint{}) {
				return nil, fmt.Errorf("%w: range %d: IdList range with a fingerprint", ErrMalformed, i)
			}
			if len(r.IDs) > maxIDsPerList {
				return nil, fmt.Errorf("%w: range %d: %d IDs, at most %d", ErrLimit, i, len(r.IDs), maxIDsPerList)
			}
			e.idListHeader(&r.Upper, len(r.IDs))
			for j := range r.IDs {
				e.buf = append(e.buf, r.IDs[j][:]...)
			}
		default:
			return nil, fmt.Errorf("%w: range %d: %v", ErrMode, i, r.Mode)
		}
		if len(e.buf) > MaxWireBytes {
			return nil, fmt.Errorf("%w: message over %d bytes", ErrLimit, MaxWireBytes)
		}
	}
	return e.buf, nil
}

// Decode parses and validates a message. It rejects, with an error wrapping
// one of the package's sentinel errors, anything that Encode would not
// produce: a missing or unknown version byte, truncated fields, non-minimal
// varints, bound prefixes longer than 32 bytes or ending in a zero byte,
// timestamps that overflow, bounds that do not strictly increase (the first
// must lie above the lowest possible item), data after a range bounded by +∞,
// unknown modes, and ID counts beyond the bytes present. Messages over
// MaxWireBytes are refused before parsing. Nothing is allocated from a length
// field before it is checked against the input.
func Decode(b []byte) (*Message, error) {
	if len(b) > MaxWireBytes {
		return nil, fmt.Errorf("%w: message of %d bytes, at most %d", ErrLimit, len(b), MaxWireBytes)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: missing version byte", ErrTruncated)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w: 0x%02x, this side speaks 0x%02x", ErrVersion, b[0], Version)
	}
	d := decoder{buf: b, off: 1}
	m := &Message{}
	var prev Bound
	for d.off < len(b) {
		i := len(m.Ranges)
		start := d.off
		if prev.Infinite {
			return nil, fmt.Errorf("%w: %d bytes after the range bounded by +∞ (offset %d)", ErrTrailingData, len(b)-d.off, d.off)
		}
		var r Range
		var err error
		if r.Upper, err = d.bound(); err != nil {
			return nil, fmt.Errorf("range %d at offset %d: bound: %w", i, start, err)
		}
		if r.Upper.Compare(prev) <= 0 {
			return nil, fmt.Errorf("%w: range %d at offset %d", ErrBoundOrder, i, start)
		}
		prev = r.Upper
		mode, err := d.byte()
		if err != nil {
			return nil, fmt.Errorf("range %d at offset %d: mode: %w", i, start, err)
		}
		r.Mode = Mode(mode)
		switch r.Mode {
		case ModeSkip:
		case ModeFingerprint:
			fp, err := d.bytes(FingerprintSize)
			if err != nil {
				return nil, fmt.Errorf("range %d at offset %d: fingerprint: %w", i, start, err)
			}
			copy(r.Fingerprint[:], fp)
		case ModeIDList:
			n, err := d.uvarint()
			if err != nil {
				return nil, fmt.Errorf("range %d at offset %d: ID count: %w", i, start, err)
			}
			if n > maxIDsPerList {
				return nil, fmt.Errorf("%w: range %d at offset %d: %d IDs, at most %d", ErrLimit, i, start, n, maxIDsPerList)
			}
			if rest := uint64(len(b) - d.off); n*IDSize > rest {
				return nil, fmt.Errorf("%w: range %d at offset %d: %d IDs need %d bytes, %d left", ErrTruncated, i, start, n, n*IDSize, rest)
			}
			r.IDs = make([][IDSize]byte, n)
			for j := range r.IDs {
				copy(r.IDs[j][:], b[d.off:])
				d.off += IDSize
			}
		default:
			return nil, fmt.Errorf("%w: range %d at offset %d: mode %d", ErrMode, i, start, mode)
		}
		m.Ranges = append(m.Ranges, r)
	}
	return m, nil
}

// decoder reads a message. prevTime is the time of the previous finite bound,
// from which the next one is delta-encoded.
type decoder struct {
	buf      []byte
	off      int
	prevTime uint64
}

func (d *decoder) byte() (byte, error) {
	if d.off >= len(d.buf) {
		return 0, ErrTruncated
	}
	c := d.buf[d.off]
	d.off++
	return c, nil
}

func (d *decoder) bytes(n int) ([]byte, error) {
	if len(d.buf)-d.off < n {
		return nil, fmt.Errorf("%w: need %d bytes, %d left", ErrTruncated, n, len(d.buf)-d.off)
	}
	p := d.buf[d.off : d.off+n]
	d.off += n
	return p, nil
}

// uvarint reads a minimal LEB128 unsigned varint of at most 64 bits.
func (d *decoder) uvarint() (uint64, error) {
	var x uint64
	for i, s := 0, uint(0); i < binary.MaxVarintLen64; i, s = i+1, s+7 {
		c, err := d.byte()
		if err != nil {
			return 0, fmt.Errorf("%w: varint", ErrTruncated)
		}
		if i == binary.MaxVarintLen64-1 && c > 1 {
			return 0, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
		}
		x |= uint64(c&0x7f) << s
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, fmt.Errorf("%w: varint not minimally encoded", ErrMalformed)
			}
			return x, nil
		}
	}
	return 0, fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)
}

func (d *decoder) bound() (Bound, error) {
	var b Bound
	h, err := d.byte()
	if err != nil {
		return b, err
	}
	if h == infiniteHeader {
		b.Infinite = true
		return b, nil
	}
	if h > IDSize {
		return b, fmt.Errorf("%w: header 0x%02x is neither a prefix length (0-%d) nor +∞ (0x%02x)", ErrMalformed, h, IDSize, infiniteHeader)
	}
	delta, err := d.uvarint()
	if err != nil {
		return b, fmt.Errorf("time: %w", err)
	}
	if delta > ^uint64(0)-d.prevTime {
		return b, fmt.Errorf("%w: time overflows 64 bits", ErrMalformed)
	}
	b.Time = d.prevTime + delta
	p, err := d.bytes(int(h))
	if err != nil {
		return b, fmt.Errorf("prefix: %w", err)
	}
	b.PrefixLen = h
	copy(b.Prefix[:], p)
	if err := b.validate(); err != nil {
		return b, err
	}
	d.prevTime = b.Time
	return b, nil
}

// encoder writes a message. Bounds must be written in increasing order.
type encoder struct {
	buf      []byte
	prevTime uint64
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func (e *encoder) boundSize(b *Bound) int {
	if b.Infinite {
		return 1
	}
	return 1 + uvarintLen(b.Time-e.prevTime) + int(b.PrefixLen)
}

func (e *encoder) bound(b *Bound) {
	if b.Infinite {
		e.buf = append(e.buf, infiniteHeader)
		return
	}
	e.buf = append(e.buf, b.PrefixLen)
	e.buf = binary.AppendUvarint(e.buf, b.Time-e.prevTime)
	e.buf = append(e.buf, b.Prefix[:b.PrefixLen]...)
	e.prevTime = b.Time
}

func (e *encoder) skip(b *Bound) {
	e.bound(b)
	e.buf = append(e.buf, byte(ModeSkip))
}

func (e *encoder) fingerprint(b *Bound, fp *Fingerprint) {
	e.bound(b)
	e.buf = append(e.buf, byte(ModeFingerprint))
	e.buf = append(e.buf, fp[:]...)
}

func (e *encoder) idListHeader(b *Bound, n int) {
	e.bound(b)
	e.buf = append(e.buf, byte(ModeIDList))
	e.buf = binary.AppendUvarint(e.buf, uint64(n))
}
