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
// Every public record is an [Envelope]: the encoded body of a [Record] plus
// the author's Ed25519 signature over that body. The record's address is a
// CIDv1 (codec dag-cbor, sha2-256) of the body bytes, so any node can relay
// any record and every receiver can check both the address and the
// signature without trusting the relay. Decoding re-encodes the body and
// refuses anything that is not byte-for-byte canonical, so one record has
// exactly one address.
//
// Two record versions exist. Version 1 is deterministic CBOR with
// references as CID strings; it is read, verified and served forever.
// Version 2 is DAG-CBOR exactly, references are IPLD links (tag 42), and
// every record carries its place in its author's chain on each of its
// topics ([ChainLink]), so a node following a topic knows exactly which
// records of that topic it lacks. PROTOCOL.md at the repository root is the
// byte-level specification; testdata/vectors holds its test vectors.
package protocol
