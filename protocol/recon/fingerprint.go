// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// FingerprintSize is the size of a range fingerprint in bytes.
const FingerprintSize = 16

// Fingerprint summarises a range of items: the first 16 bytes of
// SHA-256(sum || uvarint(count)), where sum is the sum of the IDs read as
// little-endian 256-bit integers, modulo 2^256, written as 32 little-endian
// bytes, and count is the number of items.
type Fingerprint [FingerprintSize]byte

// accumulator is a 256-bit sum of IDs, least significant limb first.
type accumulator [4]uint64

func (a *accumulator) add(id *[IDSize]byte) {
	var c uint64
	a[0], c = bits.Add64(a[0], binary.LittleEndian.Uint64(id[0:8]), 0)
	a[1], c = bits.Add64(a[1], binary.LittleEndian.Uint64(id[8:16]), c)
	a[2], c = bits.Add64(a[2], binary.LittleEndian.Uint64(id[16:24]), c)
	a[3], _ = bits.Add64(a[3], binary.LittleEndian.Uint64(id[24:32]), c)
}

func (a *accumulator) sum(count int) Fingerprint {
	var buf [32 + binary.MaxVarintLen64]byte
	for i, limb := range a {
		binary.LittleEndian.PutUint64(buf[8*i:], limb)
	}
	n := binary.PutUvarint(buf[32:], uint64(count))
	h := sha256.Sum256(buf[:32+n])
	var fp Fingerprint
	copy(fp[:], h[:FingerprintSize])
	return fp
}
