// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// wire builds a message from raw pieces.
func wire(parts ...[]byte) []byte {
	b := []byte{Version}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func uv(x uint64) []byte { return binary.AppendUvarint(nil, x) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// bnd encodes a finite bound: prefix length, time delta, prefix.
func bnd(delta uint64, prefix ...byte) []byte {
	return cat([]byte{byte(len(prefix))}, uv(delta), prefix)
}

var (
	inf  = []byte{infiniteHeader}
	skip = []byte{byte(ModeSkip)}
	fpm  = []byte{byte(ModeFingerprint)}
	idsm = []byte{byte(ModeIDList)}
	fp16 = bytes.Repeat([]byte{0xAB}, FingerprintSize)
	id32 = bytes.Repeat([]byte{0x11}, IDSize)
)

func TestDecodeValid(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  []byte
		want Message
	}{
		{"empty", wire(), Message{}},
		{"whole fingerprint", wire(inf, fpm, fp16), Message{Ranges: []Range{{Upper: InfiniteBound, Mode: ModeFingerprint, Fingerprint: Fingerprint(fp16)}}}},
		{"skip then ids", wire(bnd(5), skip, bnd(0, 7), idsm, uv(1), id32, inf, idsm, uv(0)), Message{Ranges: []Range{
			{Upper: Bound{Time: 5}, Mode: ModeSkip},
			{Upper: Bound{Time: 5, Prefix: [IDSize]byte{7}, PrefixLen: 1}, Mode: ModeIDList, IDs: [][IDSize]byte{[IDSize]byte(id32)}},
			{Upper: InfiniteBound, Mode: ModeIDList, IDs: [][IDSize]byte{}},
		}}},
		{"max time", wire(bnd(math.MaxUint64), skip, bnd(0, bytes.Repeat([]byte{0xFF}, 32)...), skip), Message{Ranges: []Range{
			{Upper: Bound{Time: math.MaxUint64}, Mode: ModeSkip},
			{Upper: Bound{Time: math.MaxUint64, Prefix: [IDSize]byte(bytes.Repeat([]byte{0xFF}, 32)), PrefixLen: 32}, Mode: ModeSkip},
		}}},
		{"prefix then time", wire(bnd(0, 1), skip, bnd(1), skip), Message{Ranges: []Range{
			{Upper: Bound{Prefix: [IDSize]byte{1}, PrefixLen: 1}, Mode: ModeSkip},
			{Upper: Bound{Time: 1}, Mode: ModeSkip},
		}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Ranges) != len(c.want.Ranges) {
				t.Fatalf("got %d ranges, want %d", len(m.Ranges), len(c.want.Ranges))
			}
			for i := range m.Ranges {
				g, w := m.Ranges[i], c.want.Ranges[i]
				if g.Upper != w.Upper || g.Mode != w.Mode || g.Fingerprint != w.Fingerprint || len(g.IDs) != len(w.IDs) {
					t.Fatalf("range %d: got %+v, want %+v", i, g, w)
				}
			}
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, c.msg) {
				t.Fatalf("re-encoded as %x, want %x", b, c.msg)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"empty input", nil, ErrTruncated},
		{"unknown version", []byte{0x61, infiniteHeader, 1}, ErrVersion},
		{"version zero", []byte{0x00}, ErrVersion},
		{"bound header only", wire([]byte{0}), ErrTruncated},
		{"missing mode", wire(bnd(1)), ErrTruncated},
		{"truncated varint", wire([]byte{0, 0x80}), ErrTruncated},
		{"truncated prefix", wire([]byte{3}, uv(1), []byte{1, 2}), ErrTruncated},
		{"truncated fingerprint", wire(inf, fpm, fp16[:15]), ErrTruncated},
		{"truncated id list", wire(inf, idsm, uv(3), id32), ErrTruncated},
		{"truncated id", wire(inf, idsm, uv(1), id32[:31]), ErrTruncated},
		{"missing id count", wire(inf, idsm), ErrTruncated},
		{"prefix longer than an ID", wire([]byte{33}, uv(1), bytes.Repeat([]byte{1}, 33), skip), ErrMalformed},
		{"bad bound header", wire([]byte{0x80}, uv(1), skip), ErrMalformed},
		{"prefix ending in zero", wire(bnd(1, 5, 0), skip), ErrMalformed},
		{"non-minimal varint", wire([]byte{0, 0x81, 0x00}, skip), ErrMalformed},
		{"varint over 64 bits", wire([]byte{0}, bytes.Repeat([]byte{0xFF}, 9), []byte{0x02}, skip), ErrMalformed},
		{"varint of 11 bytes", wire([]byte{0}, bytes.Repeat([]byte{0xFF}, 11), skip), ErrMalformed},
		{"time overflow", wire(bnd(math.MaxUint64), skip, bnd(1), skip), ErrMalformed},
		{"unknown mode", wire(inf, []byte{3}), ErrMode},
		{"mode as big varint", wire(inf, []byte{0x81, 0x00}), ErrMode},
		{"id count beyond any message", wire(inf, idsm, uv(1<<60)), ErrLimit},
		{"id count beyond the input", wire(inf, idsm, uv(maxIDsPerList)), ErrTruncated},
		{"first bound at the bottom", wire(bnd(0), skip), ErrBoundOrder},
		{"equal bounds", wire(bnd(5), skip, bnd(0), skip), ErrBoundOrder},
		{"decreasing prefix", wire(bnd(5, 9), skip, bnd(0, 8), skip), ErrBoundOrder},
		{"shorter prefix below", wire(bnd(5, 9, 1), skip, bnd(0, 9), skip), ErrBoundOrder},
		{"data after infinity", wire(inf, skip, bnd(1), skip), ErrTrailingData},
		{"garbage after infinity", wire(inf, fpm, fp16, []byte{0xde, 0xad}), ErrTrailingData},
		{"two infinities", wire(inf, skip, inf, skip), ErrTrailingData},
		{"too large", append(wire(inf, idsm, uv(maxIDsPerList)), make([]byte, MaxWireBytes)...), ErrLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.msg)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v (message %v), want %v", err, m, c.want)
			}
			t.Log(err)
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	b1 := Bound{Time: 1}
	for _, c := range []struct {
		name string
		m    Message
		want error
	}{
		{"bottom bound", Message{Ranges: []Range{{Mode: ModeSkip}}}, ErrBoundOrder},
		{"not increasing", Message{Ranges: []Range{{Upper: b1}, {Upper: b1}}}, ErrBoundOrder},
		{"prefix too long", Message{Ranges: []Range{{Upper: Bound{Time: 1, PrefixLen: 33}}}}, ErrMalformed},
		{"bytes beyond prefix", Message{Ranges: []Range{{Upper: Bound{Time: 1, Prefix: [IDSize]byte{1, 2}, PrefixLen: 1}}}}, ErrMalformed},
		{"prefix ending in zero", Message{Ranges: []Range{{Upper: Bound{Time: 1, Prefix: [IDSize]byte{1}, PrefixLen: 2}}}}, ErrMalformed},
		{"infinite with time", Message{Ranges: []Range{{Upper: Bound{Time: 1, Infinite: true}}}}, ErrMalformed},
		{"unknown mode", Message{Ranges: []Range{{Upper: b1, Mode: 7}}}, ErrMode},
		{"skip with ids", Message{Ranges: []Range{{Upper: b1, IDs: make([][IDSize]byte, 1)}}}, ErrMalformed},
		{"fingerprint with ids", Message{Ranges: []Range{{Upper: b1, Mode: ModeFingerprint, IDs: make([][IDSize]byte, 1)}}}, ErrMalformed},
		{"id list with fingerprint", Message{Ranges: []Range{{Upper: b1, Mode: ModeIDList, Fingerprint: Fingerprint{1}}}}, ErrMalformed},
		{"too many ids", Message{Ranges: []Range{{Upper: b1, Mode: ModeIDList, IDs: make([][IDSize]byte, maxIDsPerList+1)}}}, ErrLimit},
		{"too large", Message{Ranges: []Range{{Upper: b1, Mode: ModeIDList, IDs: make([][IDSize]byte, maxIDsPerList)}}}, ErrLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Encode(&c.m); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestMinimalBound(t *testing.T) {
	a := Item{Time: 10, ID: [IDSize]byte{1, 2, 3}}
	for _, c := range []struct {
		b    Item
		want Bound
	}{
		{Item{Time: 11}, Bound{Time: 11}},
		{Item{Time: 10, ID: [IDSize]byte{1, 2, 4}}, Bound{Time: 10, Prefix: [IDSize]byte{1, 2, 4}, PrefixLen: 3}},
		{Item{Time: 10, ID: [IDSize]byte{2}}, Bound{Time: 10, Prefix: [IDSize]byte{2}, PrefixLen: 1}},
		{Item{Time: 10, ID: [IDSize]byte{1, 2, 3, 0, 0, 1}}, Bound{Time: 10, Prefix: [IDSize]byte{1, 2, 3, 0, 0, 1}, PrefixLen: 6}},
	} {
		got := minimalBound(&a, &c.b)
		if got != c.want {
			t.Errorf("minimalBound(%v, %v) = %+v, want %+v", a, c.b, got, c.want)
		}
		if got.validate() != nil || !got.above(&a) || got.above(&c.b) {
			t.Errorf("bound %+v does not separate %v and %v", got, a, c.b)
		}
	}
}

func TestFingerprint(t *testing.T) {
	// The sum wraps modulo 2^256 and the count is part of the hash.
	var ones, max [IDSize]byte
	ones[0] = 1
	for i := range max {
		max[i] = 0xFF
	}
	wrap := NewSet([]Item{{Time: 1, ID: max}, {Time: 2, ID: ones}})
	empty := NewSet(nil)
	if wrap.Fingerprint() == empty.Fingerprint() {
		t.Fatal("count not hashed")
	}
	var acc accumulator
	acc.add(&max)
	acc.add(&ones)
	if acc != (accumulator{}) {
		t.Fatalf("sum does not wrap: %x", acc)
	}
	// Order does not matter; the same IDs at other times give the same
	// fingerprint.
	other := NewSet([]Item{{Time: 5, ID: ones}, {Time: 6, ID: max}})
	if wrap.Fingerprint() != other.Fingerprint() {
		t.Fatal("fingerprint depends on order")
	}
	// Known answer: SHA-256 of 32 zero bytes and uvarint(0) = 0x00.
	want := [16]byte{0x7f, 0x9c, 0x9e, 0x31, 0xac, 0x82, 0x56, 0xca, 0x2f, 0x25, 0x85, 0x83, 0xdf, 0x26, 0x2d, 0xbc}
	if empty.Fingerprint() != want {
		t.Fatalf("empty fingerprint %x, want %x", empty.Fingerprint(), want)
	}
}

func TestSet(t *testing.T) {
	a := Item{Time: 2, ID: [IDSize]byte{1}}
	b := Item{Time: 1, ID: [IDSize]byte{9}}
	s := NewSet([]Item{a, b, a})
	if s.Len() != 2 || s.items[0] != b {
		t.Fatalf("NewSet: %v", s.items)
	}
	if s.Insert(a) || !s.Insert(Item{Time: 2}) || s.Len() != 3 || s.items[1] != (Item{Time: 2}) {
		t.Fatalf("Insert: %v", s.items)
	}
	if !s.Remove(a) || s.Remove(a) || s.Contains(a) || !s.Contains(b) || s.Len() != 2 {
		t.Fatalf("Remove: %v", s.items)
	}
}

// TestDocExample checks the examples in the package documentation.
func TestDocExample(t *testing.T) {
	r := NewReconciler(NewSet([]Item{{Time: 5}}), Options{})
	first, err := r.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 19 || !bytes.Equal(first[:3], []byte{0x01, 0xFF, 0x01}) {
		t.Fatalf("first message %x", first)
	}
	const t0 = 1_700_000_000_000
	b, err := Encode(&Message{Ranges: []Range{
		{Upper: Bound{Time: t0}},
		{Upper: Bound{Time: t0 + 10000, Prefix: [IDSize]byte{0x3a}, PrefixLen: 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte{0x01}, bnd(t0), skip, []byte{0x01, 0x90, 0x4e, 0x3a}, skip)
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x, want %x", b, want)
	}
}
