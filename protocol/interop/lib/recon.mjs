// SPDX-License-Identifier: EUPL-1.2
//
// Both sides of range-based set reconciliation, from the protocol
// description: items are (time, 32-byte ID) ordered by time then
// ID; messages are a version byte and ranges (bound, mode, payload).
// This implementation answers every differing range with the IDs it holds
// there, which is what a node with few records in a range does; it never
// splits a range into sub-range fingerprints (a valid answer, but one that
// costs more bytes on large sets).

import { createHash } from 'node:crypto'

export const VERSION = 0x01
const INFINITE = 0xff
export const MODE_SKIP = 0
export const MODE_FINGERPRINT = 1
export const MODE_IDLIST = 2

function compareBytes (a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  }
  return 0
}

export function compareItems (a, b) {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1
  return compareBytes(a.id, b.id)
}

// below reports whether item lies below bound.
function below (item, bound) {
  if (bound.infinite) return true
  if (item.time !== bound.time) return item.time < bound.time
  const padded = new Uint8Array(32)
  padded.set(bound.prefix)
  return compareBytes(item.id, padded) < 0
}

function uvarint (x) {
  x = BigInt(x)
  const out = []
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80)
    x >>= 7n
  }
  out.push(Number(x))
  return out
}

// fingerprint: the first 16 bytes of SHA-256 over the 256-bit
// little-endian sum of the IDs and the varint count.
export function fingerprint (items) {
  let sum = 0n
  for (const it of items) {
    let v = 0n
    for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(it.id[i])
    sum = (sum + v) & ((1n << 256n) - 1n)
  }
  const buf = new Uint8Array(32 + 10)
  for (let i = 0; i < 32; i++) {
    buf[i] = Number(sum & 0xffn)
    sum >>= 8n
  }
  const c = uvarint(items.length)
  buf.set(c, 32)
  return new Uint8Array(createHash('sha256').update(buf.subarray(0, 32 + c.length)).digest().subarray(0, 16))
}

class Reader {
  constructor (b) { this.b = b; this.off = 0; this.prevTime = 0n }
  byte () {
    if (this.off >= this.b.length) throw new Error('recon: truncated message')
    return this.b[this.off++]
  }

  bytes (n) {
    if (this.b.length - this.off < n) throw new Error('recon: truncated message')
    const p = this.b.subarray(this.off, this.off + n)
    this.off += n
    return p
  }

  uvarint () {
    let x = 0n
    for (let i = 0, s = 0n; i < 10; i++, s += 7n) {
      const c = this.byte()
      x |= BigInt(c & 0x7f) << s
      if (c < 0x80) {
        if (c === 0 && i > 0) throw new Error('recon: varint not minimally encoded')
        return x
      }
    }
    throw new Error('recon: varint overflows 64 bits')
  }
}

export function decode (b) {
  if (b.length === 0 || b[0] !== VERSION) throw new Error(`recon: version byte ${b[0]}, want ${VERSION}`)
  const r = new Reader(b)
  r.off = 1
  const ranges = []
  while (r.off < b.length) {
    const h = r.byte()
    let bound
    if (h === INFINITE) {
      bound = { infinite: true }
    } else {
      if (h > 32) throw new Error(`recon: bound header ${h}`)
      const t = r.prevTime + r.uvarint()
      bound = { infinite: false, time: t, prefix: Uint8Array.from(r.bytes(h)) }
      r.prevTime = t
    }
    const mode = r.byte()
    const range = { bound, mode }
    if (mode === MODE_FINGERPRINT) {
      range.fingerprint = Uint8Array.from(r.bytes(16))
    } else if (mode === MODE_IDLIST) {
      const n = Number(r.uvarint())
      range.ids = []
      for (let i = 0; i < n; i++) range.ids.push(Uint8Array.from(r.bytes(32)))
    } else if (mode !== MODE_SKIP) {
      throw new Error(`recon: unknown mode ${mode}`)
    }
    ranges.push(range)
    if (bound.infinite && r.off < b.length) throw new Error('recon: data after the range bounded by +inf')
  }
  return ranges
}

export function encode (ranges) {
  const out = [VERSION]
  let prevTime = 0n
  for (const r of ranges) {
    if (r.bound.infinite) {
      out.push(INFINITE)
    } else {
      out.push(r.bound.prefix.length, ...uvarint(r.bound.time - prevTime), ...r.bound.prefix)
      prevTime = r.bound.time
    }
    out.push(r.mode)
    if (r.mode === MODE_FINGERPRINT) out.push(...r.fingerprint)
    if (r.mode === MODE_IDLIST) {
      out.push(...uvarint(r.ids.length))
      for (const id of r.ids) out.push(...id)
    }
  }
  return Uint8Array.from(out)
}

const key = (id) => Buffer.from(id).toString('hex')

// answer goes through the ranges of a message: a range whose fingerprint
// differs from this side's is answered with this side's IDs in it; an
// IdList range is handed to onIdList, which says whether to answer it the
// same way. Ranges without an answer merge into Skip ranges; trailing ones
// are dropped. It returns null when there is nothing to answer.
function answer (items, ranges, onIdList) {
  const reply = []
  let lower = null // null: the lowest possible item
  let pendingSkip = null
  for (const r of ranges) {
    const inRange = items.filter((it) => (lower == null || !below(it, lower)) && below(it, r.bound))
    let ids = null
    if (r.mode === MODE_FINGERPRINT && compareBytes(fingerprint(inRange), r.fingerprint) !== 0) ids = inRange.map((it) => it.id)
    if (r.mode === MODE_IDLIST && onIdList(inRange, r.ids)) ids = inRange.map((it) => it.id)
    if (ids != null) {
      if (pendingSkip != null) reply.push({ bound: pendingSkip, mode: MODE_SKIP })
      pendingSkip = null
      reply.push({ bound: r.bound, mode: MODE_IDLIST, ids })
    } else {
      pendingSkip = r.bound
    }
    lower = r.bound
  }
  return reply.length === 0 ? null : encode(reply)
}

// respond is the responder's answer to a message for its items, or null
// when it has nothing to say. It answers with IDs wherever the initiator's
// view differs, which settles every range in one more message.
export function respond (items, msg) {
  return answer([...items].sort(compareItems), decode(msg), () => true)
}

// Initiator reconciles a set of {time: bigint, id: Uint8Array(32)} items.
export class Initiator {
  constructor (items) {
    this.items = [...items].sort(compareItems)
    this.have = []
    this.need = []
  }

  initiate () {
    return encode([{ bound: { infinite: true }, mode: MODE_FINGERPRINT, fingerprint: fingerprint(this.items) }])
  }

  // step takes the responder's message and returns the next one, or null
  // when the reconciliation is done.
  step (msg) {
    return answer(this.items, decode(msg), (inRange, ids) => {
      const theirs = new Set(ids.map(key))
      const mine = new Set(inRange.map((it) => key(it.id)))
      for (const it of inRange) if (!theirs.has(key(it.id))) this.have.push(it)
      for (const id of ids) if (!mine.has(key(id))) this.need.push(id)
      return false // settled: nothing to answer
    })
  }
}
