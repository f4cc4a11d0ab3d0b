// SPDX-License-Identifier: EUPL-1.2

// Package protocol defines what travels between livinglab nodes: the signed,
// content-addressed record envelope and its payloads, gossipsub topic names,
// the validators every receiver runs, invite tokens, and the framing of the
// stream protocols (join, sync, search).
//
// Nothing here touches storage or HTTP. The rules that need node state (is
// the author a member? was the record retracted?) are expressed against small
// interfaces that the node implements.
//
// It imports no other package of this module: knowledge and node build on
// it (layers_test.go at the module root checks the layers).
//
// # Records
//
// Every public record is an [Envelope]: the deterministic CBOR encoding of a
// [Record] (the body) plus the author's Ed25519 signature over that body. The
// record's address is a CIDv1 (codec dag-cbor, sha2-256) of the body bytes, so
// any node can relay any record and every receiver can check both the address
// and the signature without trusting the relay. Decoding re-encodes the body
// and refuses anything that is not byte-for-byte canonical, so one record has
// exactly one address.
package protocol
