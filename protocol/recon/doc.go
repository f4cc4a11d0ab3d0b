// SPDX-License-Identifier: EUPL-1.2

// Package recon finds the difference between two nodes' record sets with
// range-based set reconciliation, in the style of Negentropy (Aljoscha
// Meyer, "Range-Based Set Reconciliation"; Nostr NIP-77). It is pure: it
// neither stores nor sends anything. The caller carries its messages over a
// stream, then fetches what it lacks and pushes what the peer lacks.
//
// # Why range-based reconciliation
//
// Gossip is best-effort. A node that was offline or joined late, or that
// lost a message while the mesh was forming, never sees that message again.
// So nodes reconcile their sets per topic on every connection and
// periodically.
//
// The usual alternative is a vector of per-author sequence numbers, as in
// Secure Scuttlebutt's EBT: each side announces the highest sequence number
// it holds for each author and streams the rest. That works only when a
// node holds every record of an author. Here a record carries several
// topics, and each topic is reconciled on its own. Within one topic, an
// author's sequence numbers therefore have gaps, and a vector cannot tell
// "not in this topic" from "missing". Nor can a vector express a deletion: a
// record that was dropped, or replaced by a tombstone, leaves a hole that
// the vector keeps trying to refill.
//
// Range-based reconciliation compares the sets directly, whatever their
// origin. Both sides order their items by (Time, ID) and exchange
// fingerprints of ranges of that order. Equal fingerprints settle a whole
// range at once. A range whose fingerprints differ is split into Branching
// sub-ranges with about equal item counts, and these are compared in turn.
// Small ranges are settled by exchanging their IDs. For d differences in a
// set of n items, the bytes exchanged grow as O(d·log n), not with n. The
// number of round trips grows as O(log n). Neither side keeps any state
// between reconciliations. Any set, including one from which items have been
// removed, can be reconciled with any other at any time.
//
// Measured with the defaults (Branching 16, IDListThreshold 16, 256 KiB
// messages), 100,000 items with 1,000 differences at random positions cost
// about 480 KB in total (about 116·d·log16(n) bytes) over 5 round trips.
// Identical sets cost one 19-byte message and an empty reply. Most of the
// cost is localising each difference: that takes a split into 16
// fingerprint ranges of about 21 bytes each at every level of the search.
// Narrower splits cost fewer bytes but need more round trips. For the same
// sets, Branching 8 with IDListThreshold 4 took about 385 KB in 4 round
// trips, and Branching 4 about 313 KB in 6. With 1 to 100 differences, the
// defaults saved one or two round trips.
//
// # Items
//
// An [Item] is a record's ID (the SHA-256 digest of the record) placed at a
// time in milliseconds. All nodes must derive an item's Time from the record
// itself, such as its signed creation time. An ID placed at different times
// on the two sides shows up as a difference on both sides.
//
// # Protocol
//
// The initiator sends the fingerprint of its whole set ([Reconciler.Initiate]).
// Each side then answers every range of the message it received, in order:
//
//   - Skip: the sender has nothing to say about the range, so nothing is
//     answered.
//   - Fingerprint equal to the receiver's own: the range is settled, so
//     nothing is answered.
//   - Fingerprint that differs: if the receiver holds fewer than
//     IDListThreshold items in the range, it answers with an IdList of them.
//     Otherwise it answers with the Fingerprints of Branching sub-ranges.
//   - IdList, received by the responder: the responder answers with an
//     IdList of its own items in the range.
//   - IdList, received by the initiator: the range is settled. The
//     initiator's items that are not in the list go to Have, and the listed
//     IDs it lacks go to Need. Nothing is answered.
//
// Consecutive ranges with nothing to answer merge into one Skip range.
// Trailing ones are dropped. A message that would contain nothing is not
// sent: the responder returns nil, and the initiator reports done.
//
// If an answer would exceed MaxMessageBytes, the sender stops at the last
// range that fits. An IdList may be cut part-way, under a bound just above
// the last ID written. The sender then closes the message with one
// Fingerprint range, bounded by +∞, over everything above that point. The
// peer takes that range up again in the next round, as with Negentropy's
// frameSizeLimit. Each message takes at least one range a step further, so
// the exchange converges whatever the limit.
//
// # Message format
//
// A message has no length field: the caller frames it. Varints are unsigned LEB128 (encoding/binary's Uvarint) and must be
// minimally encoded.
//
//	message  = version range*
//	version  = 0x01
//	range    = bound mode payload
//	bound    = 0xFF                  +∞, above every item
//	         | n Δtime prefix        a finite bound
//	n        = 1 byte, 0..32         length of the prefix
//	Δtime    = varint                the bound's time minus the time of the previous
//	                                 finite bound in this message (0 before the first)
//	prefix   = n bytes               leading bytes of an ID, not ending in 0x00
//	mode     = 0x00                  Skip; no payload
//	         | 0x01                  Fingerprint; payload = 16 bytes
//	         | 0x02                  IdList; payload = count:varint, then count 32-byte IDs
//
// For example, the initiator's first message is 19 bytes: 01 (version), FF
// (+∞), 01 (Fingerprint) and the 16-byte fingerprint of its whole set. A
// bound 10,000 ms after the previous one, with the one-byte prefix 3a, is
// written 01 90 4e 3a.
//
// A range covers the items at or above the previous range's bound (the first
// range starts at the lowest possible item) and below its own bound. A
// finite bound (t, p) compares with an item (Time, ID) as the pair (t, p
// padded with zero bytes to 32 bytes). It lies below every item at a later
// time, and at equal time below exactly the IDs that sort at or above the
// padded prefix. Between two neighbouring items, the encoder writes the
// shortest bound that separates them. When their times differ, that is the
// upper item's time with an empty prefix. Otherwise it is the shortest prefix
// of the upper item's ID that the lower item's ID does not share. Items at
// every time, including 0 and 2^64−1, therefore lie below +∞. Negentropy
// instead writes +∞ as time 0 and shifts every other time by one, which
// would leave no room for 2^64−1.
//
// Bounds must strictly increase, and nothing may follow a range bounded by
// +∞. The space above the last bound is implicitly skipped. [Decode]
// enforces all of this and accepts exactly what [Encode] produces, so every
// message has one encoding.
//
// # Fingerprints
//
// The fingerprint of a range is the first 16 bytes of SHA-256(s ‖
// varint(c)). Here s is the sum of the range's IDs read as little-endian
// 256-bit integers, modulo 2^256 and written as 32 little-endian bytes, and
// c is the number of items. Such a sum is not collision-resistant against
// someone who chooses the IDs. An author who mints many records could craft
// two different batches with equal sums and counts, and hand one batch to
// each of two nodes. Ranges that differ only by those batches would then
// look equal, which hides only the records that author crafted. Ranges that
// differ by chance have equal fingerprints with probability about 2^−128.
package recon
