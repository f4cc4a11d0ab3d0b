// SPDX-License-Identifier: EUPL-1.2

// Package knowledge holds the node's data: the signed public records it has
// received or published (the shared knowledge), the region's private lab
// data, the anonymisation gate between the two, and the search index.
//
// Badger is the source of truth. Everything else (the full-text index, the
// per-topic reconciliation sets) is derived from it and can be rebuilt.
//
// It is the only package that imports Badger; it may import protocol, never
// node or the programs (layers_test.go at the module root checks this).
package knowledge
