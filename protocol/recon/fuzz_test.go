// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// fuzzSeeds returns real protocol messages to start fuzzing from.
func fuzzSeeds(tb testing.TB) [][]byte {
	a, b := fuzzSets()
	ra, rb := NewReconciler(a, Options{MaxMessageBytes: 2048}), NewReconciler(b, Options{})
	var seeds [][]byte
	msg, _ := ra.Initiate()
	for range 20 {
		seeds = append(seeds, msg)
		reply, err := rb.Respond(msg)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, reply)
		next, done, err := ra.Step(reply)
		if err != nil {
			tb.Fatal(err)
		}
		if done {
			break
		}
		msg = next
	}
	return append(seeds, []byte{Version}, []byte{Version, infiniteHeader, byte(ModeIDList), 0})
}

// fuzzSets returns two overlapping sets with clustered times, so that
// bounds carry ID prefixes.
func fuzzSets() (*Set, *Set) {
	r := rand.New(rand.NewPCG(3, 4))
	return sets(400, 30, 30, func() Item { return randItem(r, 0, 20) })
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		// The encoding is canonical: what decodes re-encodes to the
		// same bytes.
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(Decode(%x)): %v", data, err)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("Encode(Decode(%x)) = %x", data, b)
		}
	})
}

func FuzzRespond(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(0))
	}
	a, b := fuzzSets()
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		opts := Options{MaxMessageBytes: int(limit), Branching: int(limit % 7), IDListThreshold: int(limit % 23)}
		norm := opts.normalize()
		for _, set := range []*Set{a, b, NewSet(nil)} {
			// As responder.
			reply, err := NewReconciler(set, opts).Respond(data)
			if err == nil && reply != nil {
				if len(reply) > norm.MaxMessageBytes {
					t.Fatalf("reply of %d bytes, limit %d", len(reply), norm.MaxMessageBytes)
				}
				if _, err := Decode(reply); err != nil {
					t.Fatalf("reply does not decode: %v", err)
				}
			}
			// As initiator receiving data as the reply.
			r := NewReconciler(set, opts)
			if _, err := r.Initiate(); err != nil {
				t.Fatal(err)
			}
			next, _, err := r.Step(data)
			if err == nil && next != nil {
				if len(next) > norm.MaxMessageBytes {
					t.Fatalf("message of %d bytes, limit %d", len(next), norm.MaxMessageBytes)
				}
				if _, err := Decode(next); err != nil {
					t.Fatalf("message does not decode: %v", err)
				}
			}
			for _, id := range r.Need() {
				_ = id
			}
			for _, it := range r.Have() {
				if !set.Contains(it) {
					t.Fatalf("Have lists %v, which is not in the set", it)
				}
			}
		}
	})
}
