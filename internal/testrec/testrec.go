// SPDX-License-Identifier: EUPL-1.2

// Package testrec makes signed records for tests: a fresh identity key and
// a record sealed with it, failing the test on any error.
package testrec

import (
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/livinglab/livinglab/protocol"
)

// Key returns a new Ed25519 identity key.
func Key(t testing.TB) crypto.PrivKey {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// Seal sets p as r's payload and signs r with key.
func Seal(t testing.TB, r protocol.Record, p protocol.Payload, key crypto.PrivKey) *protocol.Signed {
	t.Helper()
	if err := r.SetPayload(p); err != nil {
		t.Fatal(err)
	}
	rec, err := protocol.Seal(r, key)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
