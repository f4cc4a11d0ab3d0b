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
  checkStructure(rec)
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
export async function seal (record, privateKey, domain = record.v) {
  const body = dagCbor.encode(record)
  const prefix = SIG_PREFIX[domain] ?? SIG_PREFIX[2]
  const msg = new Uint8Array(prefix.length + body.length)
  msg.set(prefix, 0)
  msg.set(body, prefix.length)
  const sig = await privateKey.sign(msg)
  const raw = dagCbor.encode({ body, sig })
  return { raw, body, sig, cid: await cidOf(body) }
}

// links lists every CID link (CBOR tag 42) in a decoded value.
export function links (v) {
  return linkPaths(v).map((l) => l.cid)
}

// linkPaths lists every link with where it stands ("payload.target").
export function linkPaths (v, path = '', out = []) {
  const asCID = CID.asCID(v)
  if (asCID != null) {
    out.push({ path, cid: asCID })
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => linkPaths(x, `${path}[${i}]`, out))
  } else if (v != null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) linkPaths(x, path === '' ? k : `${path}.${k}`, out)
  }
  return out
}

// payloadOf returns a record's payload: a map inside the body.
export function payloadOf (rec) {
  return rec.payload
}

const CONTROL = '_federation'
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/

const BODY_KEYS = {
  1: ['v', 'fed', 'seq', 'kind', 'prev', 'author', 'topics', 'created', 'payload'],
  2: ['v', 'fed', 'seq', 'kind', 'chain', 'author', 'topics', 'created', 'payload']
}
// Payload keys every version has; the optional ones (links absent when
// there is no reference) and those of version 2 only are listed apart.
const PAYLOAD_KEYS = {
  practice: ['version', 'title', 'summary', 'problem', 'approach', 'stage', 'stakeholder_roles', 'results',
    'resources', 'difficulties', 'lessons', 'transferability', 'language', 'translations', 'licence',
    'region', 'country', 'period', 'links'],
  lesson: ['insight', 'context', 'stage', 'language', 'region', 'country'],
  retraction: ['target', 'reason'],
  membership: ['action', 'member', 'region', 'country', 'role', 'addrs', 'retract_all', 'keep_until_seq']
}

function isRecordLink (v) {
  const c = CID.asCID(v)
  return c != null && c.version === 1 && c.code === DAG_CBOR && c.multihash.code === 0x12 && c.multihash.size === 32
}

function isCIDText (v) {
  if (typeof v !== 'string') return false
  try {
    CID.parse(v)
    return true
  } catch {
    return false
  }
}

function noNull (v, path) {
  if (v === null) throw new RecordError(`${path}: null is not allowed in version 2`)
  if (CID.asCID(v) != null || v instanceof Uint8Array) return
  if (Array.isArray(v)) v.forEach((x, i) => noNull(x, `${path}[${i}]`))
  else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) noNull(x, `${path}.${k}`)
}

function sameKeys (obj, want, optional, what) {
  const have = Object.keys(obj)
  for (const k of want) if (!have.includes(k)) throw new RecordError(`${what}: missing key ${k}`)
  for (const k of have) if (!want.includes(k) && !optional.includes(k)) throw new RecordError(`${what}: unknown key ${k}`)
}

// A reference: a link in version 2 (absent when there is none, checked by
// the caller), a CID string or "" in version 1.
function ref (v, version, what, { required }) {
  if (version === 2) {
    if (v === undefined) {
      if (required) throw new RecordError(`${what}: missing link`)
      return
    }
    if (!isRecordLink(v)) throw new RecordError(`${what}: not a record link`)
    return
  }
  if (v === '' && !required) return
  if (!isCIDText(v)) throw new RecordError(`${what}: not a CID string`)
}

// checkStructure applies the body rules a receiver checks before the
// signature: keys, types, references and the per-topic chain.
export function checkStructure (rec) {
  const v = rec.v
  if (v === 2) noNull(rec, 'body')
  sameKeys(rec, BODY_KEYS[v], v === 2 ? ['prev'] : [], 'body')
  if (typeof rec.fed !== 'string' || !SLUG.test(rec.fed)) throw new RecordError(`body: federation ${rec.fed}`)
  if (!Number.isInteger(rec.seq) || rec.seq < 1) throw new RecordError(`body: seq ${rec.seq}`)
  if (!Number.isInteger(rec.created) || rec.created <= 0) throw new RecordError(`body: created ${rec.created}`)
  if (!(rec.kind in PAYLOAD_KEYS)) throw new RecordError(`body: unknown kind ${rec.kind}`)
  authorKey(rec.author)
  ref(rec.prev, v, 'body.prev', { required: v === 2 && rec.seq > 1 })
  if (v === 2 && rec.seq === 1 && rec.prev !== undefined) throw new RecordError('body.prev: present in a first record')
  const control = rec.kind === 'membership' || rec.kind === 'retraction'
  const topics = rec.topics ?? []
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || !SLUG.test(t))) {
    throw new RecordError(`body.topics: ${JSON.stringify(rec.topics)}`)
  }
  if (control ? topics.length > 0 : topics.length === 0 || topics.length > 16 || new Set(topics).size !== topics.length) {
    throw new RecordError(`body.topics: ${topics.length} topics for a ${rec.kind} record`)
  }
  if (v === 2) {
    const chainTopics = control ? [CONTROL] : topics
    sameKeys(rec.chain, chainTopics, [], 'body.chain')
    for (const t of chainTopics) {
      const e = rec.chain[t]
      sameKeys(e, ['seq'], ['prev'], `body.chain.${t}`)
      if (!Number.isInteger(e.seq) || e.seq < 1 || e.seq > rec.seq) throw new RecordError(`body.chain.${t}.seq ${e.seq}`)
      ref(e.prev, 2, `body.chain.${t}.prev`, { required: e.seq > 1 })
      if (e.seq === 1 && e.prev !== undefined) throw new RecordError(`body.chain.${t}.prev: present for the first record on the topic`)
    }
  }
  const p = rec.payload
  if (p == null || typeof p !== 'object' || Array.isArray(p)) throw new RecordError('body.payload: not a map')
  const optional = {
    practice: v === 2 ? ['practice_id', 'supersedes'] : [],
    membership: ['keep_until']
  }[rec.kind] ?? []
  const extra = {
    practice: v === 2 ? ['adapted_from'] : ['practice_id', 'supersedes'],
    retraction: []
  }[rec.kind] ?? []
  sameKeys(p, [...PAYLOAD_KEYS[rec.kind], ...extra], optional, `${rec.kind} payload`)
  if (rec.kind === 'practice') {
    const later = p.version > 1
    ref(p.practice_id, v, 'practice_id', { required: later })
    ref(p.supersedes, v, 'supersedes', { required: later })
    if (!later && (v === 2 ? p.practice_id !== undefined || p.supersedes !== undefined : p.practice_id !== '' || p.supersedes !== '')) {
      throw new RecordError('a first version names no practice_id or supersedes')
    }
    for (const a of p.adapted_from ?? []) {
      sameKeys(a, ['changes', 'practice'], [], 'adapted_from entry')
      ref(a.practice, 2, 'adapted_from.practice', { required: true })
    }
  }
  if (rec.kind === 'retraction') ref(p.target, v, 'target', { required: true })
  for (const k of ['stage', 'version', 'keep_until_seq']) {
    if (k in p && !Number.isInteger(p[k])) throw new RecordError(`${k}: ${p[k]} is not an integer`)
  }
  if ('stage' in p && (p.stage < 0 || p.stage > 5)) throw new RecordError(`stage ${p.stage}: want 0 to 5`)
  if ((rec.kind === 'practice' || rec.kind === 'lesson') && !/^[a-z]{2}$/.test(p.language)) {
    throw new RecordError(`language ${JSON.stringify(p.language)}: not an ISO 639-1 code`)
  }
  texts(p, 'payload')
  if (rec.kind === 'membership' && p.keep_until !== undefined) ref(p.keep_until, v, 'keep_until', { required: true })
}

// Characters that act on a terminal or reorder text: C0 controls but tab,
// newline and carriage return, DEL, C1 controls, bidirectional
// embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

function texts (v, path) {
  if (typeof v === 'string') {
    if (UNSAFE.test(v)) throw new RecordError(`${path}: contains a control character`)
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => texts(x, `${path}[${i}]`))
  } else if (v != null && typeof v === 'object' && CID.asCID(v) == null && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) texts(x, `${path}.${k}`)
  }
}
