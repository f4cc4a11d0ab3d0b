// SPDX-License-Identifier: EUPL-1.2
//
// Checks what a node gives out with an implementation of its own:
//
//   node verify.mjs vectors DIR        the protocol's test vectors
//   node verify.mjs envelope FILE CID  an envelope's exact bytes
//   node verify.mjs block FILE CID SIG a raw block (a record body) and its
//                                      signature (standard base64)
//   node verify.mjs http BASE TOKEN CID...  records fetched from a node's API
//   node verify.mjs car FILE           a bundle: every block, signature and
//                                      link inside it
//
// It prints one JSON object and exits 0 when everything verified, 1 if not.

import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CarReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { openEnvelope, verifyBody, cidOf, decodeCanonical, links, linkPaths, hex, bytesEqual, RecordError } from './lib/record.mjs'

const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'))

// view turns a decoded value into the vectors' JSON view: links as CID
// text.
function view (v) {
  const c = CID.asCID(v)
  if (c != null) return c.toString()
  if (Array.isArray(v)) return v.map(view)
  if (v != null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, view(x)]))
  }
  return v
}

// stable writes a JSON view with its map keys sorted, to compare views.
function stable (v) {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`
  if (v != null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`
  return JSON.stringify(v)
}

// sameView compares a decoded map with its JSON view, where an absent
// link shows as "".
function sameView (got, want, path, errs) {
  for (const [k, w] of Object.entries(want)) {
    const g = got[k] === undefined && w === '' ? '' : view(got[k])
    if (stable(g) !== stable(w)) errs.push(`${path}.${k}: decoded ${stable(g)}, the vector says ${stable(w)}`)
  }
}

async function vector (file) {
  const vec = JSON.parse(await readFile(file, 'utf8'))
  const errs = []
  const body = fromHex(vec.body_hex)
  const sig = fromHex(vec.signature_hex)
  const env = fromHex(vec.envelope_hex)
  // The key: seed, raw public key, protobuf form, peer ID.
  const key = await generateKeyPairFromSeed('Ed25519', fromHex(vec.private_key_seed_hex))
  if (hex(key.publicKey.raw) !== vec.public_key_hex) errs.push('public key does not derive from the seed')
  if (hex(publicKeyToProtobuf(key.publicKey)) !== vec.libp2p_public_key_hex) errs.push('libp2p key encoding differs')
  if (peerIdFromPublicKey(key.publicKey).toString() !== vec.peer_id) errs.push('peer ID differs')
  if ((await cidOf(body)).toString() !== vec.cid) errs.push(`body hashes to ${await cidOf(body)}, vector says ${vec.cid}`)
  const domain = new TextEncoder().encode(vec.sign_domain)
  const msg = new Uint8Array([...domain, ...body])
  let outcome
  try {
    const opened = await openEnvelope(env, { wantCID: vec.cid })
    outcome = { ok: true, record: opened.record }
  } catch (err) {
    outcome = { ok: false, error: err.message }
  }
  if (vec.valid) {
    if (!outcome.ok) errs.push(`refused a valid vector: ${outcome.error}`)
    if (!bytesEqual(await key.sign(msg), sig)) errs.push('signing the body with the seed does not give the signature')
    const e = dagCbor.decode(env)
    if (!bytesEqual(e.body, body) || !bytesEqual(e.sig, sig)) errs.push('the envelope does not hold body and sig')
    if (!bytesEqual(dagCbor.encode(e), env)) errs.push('the envelope is not canonical')
    if (outcome.ok) {
      sameView(outcome.record, vec.record, 'record', errs)
      sameView(outcome.record.payload, vec.payload, 'payload', errs)
    }
    // Any flipped bit of the body breaks the CID or the signature.
    const want = await cidOf(body)
    for (let i = 0; i < body.length; i++) {
      const bad = Uint8Array.from(body)
      bad[i] ^= 0x01
      if ((await cidOf(bad)).equals(want)) errs.push(`flipping byte ${i} keeps the CID`)
      try {
        await verifyBody(bad, sig, {})
        errs.push(`flipping byte ${i} keeps a valid signature`)
      } catch (err) {
        if (!(err instanceof RecordError)) errs.push(`flipping byte ${i}: ${err.message}`)
      }
    }
  } else if (outcome.ok) {
    errs.push(`accepted an invalid vector (${vec.error})`)
  }
  return { name: vec.name, valid: vec.valid, result: outcome.ok ? 'accepted' : outcome.error, errors: errs }
}

async function vectors (dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
  const results = []
  for (const f of files) results.push(await vector(join(dir, f)))
  return { ok: results.length > 0 && results.every((r) => r.errors.length === 0), vectors: results }
}

async function envelope (file, cid) {
  const { cid: got, record } = await openEnvelope(await readFile(file), { wantCID: cid })
  return { ok: true, cid: got.toString(), version: record.v, kind: record.kind, author: record.author }
}

async function block (file, cid, sigB64) {
  const sig = Uint8Array.from(Buffer.from(sigB64, 'base64'))
  const { cid: got, record } = await verifyBody(Uint8Array.from(await readFile(file)), sig, { wantCID: cid })
  return { ok: true, cid: got.toString(), version: record.v, kind: record.kind, author: record.author }
}

// http fetches records from a node's API as any HTTP client would, in
// both raw forms, and checks them: the body (application/vnd.ipld.dag-cbor)
// with its signature header, and the envelope.
async function http (base, token, ...cids) {
  const get = async (c, accept) => {
    const res = await fetch(`${base}/api/v1/records/${c}`, { headers: { Accept: accept, Authorization: `Bearer ${token}` } })
    if (res.status !== 200) throw new RecordError(`${c} as ${accept}: HTTP ${res.status}: ${await res.text()}`)
    const type = res.headers.get('content-type') ?? ''
    if (!type.startsWith(accept)) throw new RecordError(`${c}: asked for ${accept}, got ${type}`)
    return { bytes: new Uint8Array(await res.arrayBuffer()), sig: res.headers.get('x-livinglab-signature') }
  }
  const results = []
  for (const c of cids) {
    try {
      const raw = await get(c, 'application/vnd.ipld.dag-cbor')
      if (raw.sig == null || !/^[A-Za-z0-9+/]+=*$/.test(raw.sig)) throw new RecordError(`${c}: signature header ${raw.sig}`)
      const sig = Uint8Array.from(Buffer.from(raw.sig, 'base64'))
      const { record } = await verifyBody(raw.bytes, sig, { wantCID: c })
      const env = await get(c, 'application/vnd.livinglab.envelope+cbor')
      await openEnvelope(env.bytes, { wantCID: c })
      const e = dagCbor.decode(env.bytes)
      if (!bytesEqual(e.body, raw.bytes) || !bytesEqual(e.sig, sig)) throw new RecordError(`${c}: envelope and raw block differ`)
      results.push({ cid: c, ok: true, version: record.v, kind: record.kind })
    } catch (err) {
      results.push({ cid: c, ok: false, error: err.message })
    }
  }
  return { ok: results.length > 0 && results.every((r) => r.ok), records: results }
}

// car checks a bundle: every block hashes to its CID; the root index lists
// signature blocks {record: link, sig}; each names a record body in the
// bundle whose signature verifies; every link of every record resolves
// inside the bundle or is reported as outside it.
async function car (file) {
  const reader = await CarReader.fromBytes(await readFile(file))
  const blocks = new Map()
  for await (const { cid, bytes } of reader.blocks()) {
    if (cid.code !== 0x71 || cid.multihash.code !== 0x12) throw new RecordError(`block ${cid}: not a dag-cbor sha2-256 block`)
    if (!(await cidOf(bytes)).equals(cid)) throw new RecordError(`block ${cid}: bytes hash to ${await cidOf(bytes)}`)
    blocks.set(cid.toString(), bytes)
  }
  const roots = await reader.getRoots()
  if (roots.length !== 1) throw new RecordError(`${roots.length} roots, want one index block`)
  const index = decodeCanonical(blocks.get(roots[0].toString()) ?? fail(`root ${roots[0]} is not in the bundle`), 'index')
  if (index.format !== 'livinglab-bundle') throw new RecordError(`index format ${index.format}`)
  const sigLinks = links(index)
  const records = []
  const signed = new Set()
  for (const l of sigLinks) {
    const sb = decodeCanonical(blocks.get(l.toString()) ?? fail(`signature block ${l} is not in the bundle`), 'signature block')
    const rc = CID.asCID(sb.record) ?? fail(`signature block ${l}: record is not a link`)
    const body = blocks.get(rc.toString()) ?? fail(`record ${rc} is not in the bundle`)
    const { record } = await verifyBody(body, sb.sig, { wantCID: rc })
    records.push({ cid: rc.toString(), kind: record.kind, version: record.v, author: record.author, fed: record.fed, links: linkPaths(record).map((l) => ({ path: l.path, cid: l.cid.toString() })), record })
    signed.add(rc.toString())
  }
  // A link resolves to a block of the bundle, or to a record a tombstone
  // in it withdrew. In a bundle of one topic, a record's prev (the
  // author's previous record on any topic) may lie outside it; its chain
  // link on that topic may not.
  const retracted = new Set(records.filter((r) => r.kind === 'retraction').map((r) => String(CID.asCID(r.record.payload.target) ?? r.record.payload.target)))
  const unresolved = []
  const outside = []
  for (const r of records) {
    for (const l of r.links) {
      if (blocks.has(l.cid) || retracted.has(l.cid)) continue
      if (index.topic !== '' && l.path === 'prev') outside.push({ from: r.cid, path: l.path, to: l.cid })
      else unresolved.push({ from: r.cid, path: l.path, to: l.cid })
    }
  }
  const unsigned = [...blocks.keys()].filter((c) => !signed.has(c) && c !== roots[0].toString() && !sigLinks.some((l) => l.toString() === c))
  // Every author's admission (or the founding) is in the bundle, so that a
  // receiver can check who signed what.
  const admitted = new Set(records.filter((r) => r.kind === 'membership' && ['found', 'admit'].includes(r.record.payload.action)).map((r) => r.record.payload.member))
  const unadmitted = [...new Set(records.map((r) => r.author))].filter((a) => !admitted.has(a))
  const otherFed = records.filter((r) => r.fed !== index.federation).map((r) => r.cid)
  for (const r of records) delete r.record
  return {
    ok: unsigned.length === 0 && unadmitted.length === 0 && otherFed.length === 0,
    federation: index.federation,
    blocks: blocks.size,
    records,
    unresolved,
    outside,
    unsigned,
    unadmitted,
    otherFed
  }
}

function fail (msg) { throw new RecordError(msg) }

const [mode, ...rest] = process.argv.slice(2)
const modes = { vectors, envelope, block, http, car }
try {
  if (modes[mode] == null) throw new Error(`usage: verify.mjs ${Object.keys(modes).join('|')} ARGS`)
  const res = await modes[mode](...rest)
  process.stdout.write(JSON.stringify(res) + '\n')
  process.exit(res.ok ? 0 : 1)
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: err.message }) + '\n')
  process.exit(1)
}
