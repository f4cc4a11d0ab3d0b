// SPDX-License-Identifier: EUPL-1.2
//
// Records as an outside implementation sees them: a DAG-CBOR envelope
// {body, sig}, the body's CIDv1 (dag-cbor, sha2-256), and an Ed25519
// signature by the author's key over a version prefix and the body.
// Written from the protocol description, not from the Go code.

import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { peerIdFromString } from '@libp2p/peer-id'

export const DAG_CBOR = 0x71
export const SIG_PREFIX = {
  1: new TextEncoder().encode('livinglab-record-v1:'),
  2: new TextEncoder().encode('livinglab-record-v2:')
}

export class RecordError extends Error {}

export function bytesEqual (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function hex (b) { return Buffer.from(b).toString('hex') }

export async function cidOf (body) {
  return CID.createV1(DAG_CBOR, await sha256.digest(body))
}

// decodeCanonical decodes DAG-CBOR strictly and checks that encoding the
// value again gives the same bytes: one value, one encoding.
export function decodeCanonical (bytes, what) {
  let v
  try {
    v = dagCbor.decode(bytes)
  } catch (err) {
    throw new RecordError(`${what}: not DAG-CBOR: ${err.message}`)
  }
  const again = dagCbor.encode(v)
  if (!bytesEqual(again, bytes)) {
    throw new RecordError(`${what}: not canonical DAG-CBOR (${bytes.length} bytes, canonical form ${again.length} bytes)`)
  }
  return v
}

// authorKey returns the Ed25519 public key an author's peer ID carries.
export function authorKey (author) {
  let id
  try {
    id = peerIdFromString(author)
  } catch (err) {
    throw new RecordError(`author ${JSON.stringify(author)}: not a peer ID: ${err.message}`)
  }
  if (id.type !== 'Ed25519' || id.publicKey == null) {
    throw new RecordError(`author ${author}: key type ${id.type}, records are signed with Ed25519 keys only`)
  }
  return id.publicKey
}

// verifyBody checks a record body and its signature; it returns the
// decoded body and its CID.
export async function verifyBody (body, sig, { wantCID } = {}) {
  const rec = decodeCanonical(body, 'body')
  if (rec == null || typeof rec !== 'object' || Array.isArray(rec)) throw new RecordError('body: not a map')
  const prefix = SIG_PREFIX[rec.v]
  if (prefix == null) throw new RecordError(`body: unknown record version ${rec.v}`)
  const cid = await cidOf(body)
  if (wantCID != null && !cid.equals(typeof wantCID === 'string' ? CID.parse(wantCID) : wantCID)) {
    throw new RecordError(`cid mismatch: body hashes to ${cid}, expected ${wantCID}`)
  }
  const key = authorKey(rec.author)
  const msg = new Uint8Array(prefix.length + body.length)
  msg.set(prefix, 0)
  msg.set(body, prefix.length)
  if (!(sig instanceof Uint8Array) || !(await key.verify(msg, sig))) {
    throw new RecordError(`bad signature on ${cid} by ${rec.author}`)
  }
  return { cid, record: rec }
}

// openEnvelope checks an encoded envelope: canonical, body and sig only,
// body verified.
export async function openEnvelope (raw, opts = {}) {
  const env = decodeCanonical(raw, 'envelope')
  if (env == null || typeof env !== 'object') throw new RecordError('envelope: not a map')
  const keys = Object.keys(env).sort().join(',')
  if (keys !== 'body,sig') throw new RecordError(`envelope: fields ${keys}, want body,sig`)
  if (!(env.body instanceof Uint8Array)) throw new RecordError('envelope: body is not a byte string')
  return verifyBody(env.body, env.sig, opts)
}

// seal signs a record body built by this implementation and returns the
// envelope bytes and the CID.
export async function seal (record, privateKey) {
  const body = dagCbor.encode(record)
  const prefix = SIG_PREFIX[record.v]
  const msg = new Uint8Array(prefix.length + body.length)
  msg.set(prefix, 0)
  msg.set(body, prefix.length)
  const sig = await privateKey.sign(msg)
  const raw = dagCbor.encode({ body, sig })
  return { raw, body, sig, cid: await cidOf(body) }
}

// links lists every CID link (CBOR tag 42) in a decoded value.
export function links (v, out = []) {
  const asCID = CID.asCID(v)
  if (asCID != null) {
    out.push(asCID)
  } else if (Array.isArray(v)) {
    for (const x of v) links(x, out)
  } else if (v != null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const x of Object.values(v)) links(x, out)
  }
  return out
}

// payloadOf returns a record's payload: a map inside the body.
export function payloadOf (rec) {
  return rec.payload
}
