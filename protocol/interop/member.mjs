// SPDX-License-Identifier: EUPL-1.2
//
// A federation member built from standard js-libp2p parts (TCP, noise,
// yamux, identify, gossipsub with the StrictNoSign policy) and the written
// protocol: it joins with an invite, follows topics, checks every record it
// receives, publishes records it signs itself and runs sync sessions.
//
// It is driven over stdin/stdout by the test: one JSON command per line in
// ({"id": 1, "cmd": "join", ...}), one JSON answer per line out
// ({"id": 1, "ok": true, ...} or {"id": 1, "ok": false, "error": "..."}).

import './lib/node20.mjs'
import { createInterface } from 'node:readline'
import { createHash } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub, StrictNoSign, TopicValidatorResult } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { openEnvelope, seal, RecordError } from './lib/record.mjs'
import { Initiator, respond } from './lib/recon.mjs'

const CONTROL = '_federation'
const JOIN = '/livinglab/join/2'
const SYNC = '/livinglab/sync/1'
// Announced in identify: this member reads record version 2 and speaks
// gossip version 3.
const WIRE = '/livinglab/wire/3'

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const gossipVersion = Number(args['gossip-version'] ?? 2)
const recordVersion = Number(args['record-version'] ?? 1)
// The message ID: SHA-256 of the topic, a zero byte and the data
// ("topic"), or of the data alone ("data").
const msgIdMode = args['msg-id'] ?? 'topic'

const key = await generateKeyPair('Ed25519')
const node = await createLibp2p({
  privateKey: key,
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: gossipsub({
      globalSignaturePolicy: StrictNoSign,
      allowPublishToZeroTopicPeers: false,
      msgIdFn: (msg) => {
        const h = createHash('sha256')
        if (msgIdMode === 'topic') h.update(msg.topic).update(Uint8Array.of(0))
        return new Uint8Array(h.update(msg.data).digest())
      }
    })
  }
})
const me = node.peerId.toString()
const gs = node.services.pubsub

const state = {
  federation: '',
  founder: '',
  members: new Set(),
  seq: 0,
  prev: null, // CID of this member's last record
  chains: new Map(), // topic -> {seq, prev}: this member's chain on each topic
  held: new Map(), // CID string -> {raw, record, topics}
  received: new Map(), // topic -> [CID string] in order of arrival
  refused: [] // {topic, from, error}
}

// What gossipsub itself refused before any record was looked at (a
// message field the signature policy forbids, say), counted by reason.
// This only observes: the result is passed on unchanged.
const gossipRefused = {}
const validateReceived = gs.validateReceivedMessage.bind(gs)
gs.validateReceivedMessage = async (from, rpc) => {
  const res = await validateReceived(from, rpc)
  if (res.code === 'invalid' && res.error != null) {
    gossipRefused[res.error] = (gossipRefused[res.error] ?? 0) + 1
  }
  return res
}

const gossipTopic = (t) => `/livinglab/${gossipVersion}/${state.federation}/${t}`
const topicOf = (gt) => gt.slice(gt.lastIndexOf('/') + 1)

function decodeInvite (token) {
  const prefix = 'llinv1.'
  if (!token.startsWith(prefix)) throw new Error('not an invite token')
  return dagCbor.decode(Buffer.from(token.slice(prefix.length), 'base64url'))
}

// learn takes in a verified record: roster changes, and what is held.
function learn (cid, raw, rec) {
  if (rec.kind === 'membership') {
    const m = rec.payload
    if (m.action === 'found' || m.action === 'admit') state.members.add(m.member)
    if (m.action === 'remove') state.members.delete(m.member)
  }
  const topics = rec.kind === 'membership' || rec.kind === 'retraction' ? [CONTROL] : rec.topics
  state.held.set(cid.toString(), { raw, record: rec, topics })
}

// checkRecord applies what a receiver must check beyond the signature:
// federation, topic and membership of the author.
async function checkRecord (raw, topic) {
  const { cid, record } = await openEnvelope(raw)
  if (record.created > Date.now() + 10 * 60 * 1000) throw new RecordError('created more than 10 minutes ahead of this clock')
  if (record.fed !== state.federation) throw new RecordError(`record of federation ${record.fed}`)
  if (topic != null) {
    const control = record.kind === 'membership' || record.kind === 'retraction'
    if (control !== (topic === CONTROL) || (!control && !record.topics.includes(topic))) {
      throw new RecordError(`a ${record.kind} record does not travel on ${topic}`)
    }
  }
  const founding = record.kind === 'membership' && record.payload.action === 'found' && record.author === state.founder
  if (!founding && !state.members.has(record.author)) throw new RecordError(`author ${record.author} is not a member`)
  return { cid, record }
}

async function frame (lp) {
  return dagCbor.decode((await lp.read()).subarray())
}

async function join ({ token, region, country }) {
  const inv = decodeInvite(token)
  state.federation = inv.fed
  state.founder = inv.founder
  const addrs = inv.addrs.map((a) => multiaddr(`${a}/p2p/${inv.inviter}`))
  const stream = await node.dialProtocol(addrs, JOIN)
  const lp = lpStream(stream, { maxDataLength: 16 << 20 })
  const myAddrs = node.getMultiaddrs().map((a) => a.decapsulateCode(421).toString())
  await lp.write(dagCbor.encode({ secret: inv.secret, region, country, addrs: myAddrs, fed: inv.fed, founder: inv.founder }))
  const offer = await frame(lp)
  if (offer.status !== 0) throw new Error(`inviter refused: ${offer.error}`)
  if (offer.fed !== inv.fed || offer.founder !== inv.founder) throw new Error('offer names another federation')
  // The founder's record first, then the roster in the order given.
  const opened = []
  for (const raw of offer.records ?? []) opened.push({ raw, ...(await openEnvelope(raw)) })
  if (!opened.some((o) => o.record.kind === 'membership' && o.record.author === inv.founder && o.record.payload.action === 'found')) {
    await lp.write(dagCbor.encode({ ok: false, error: 'no founding record' }))
    throw new Error('the offer lacks the founding record')
  }
  for (const o of opened) learn(o.cid, o.raw, o.record)
  if (!state.members.has(inv.inviter)) {
    await lp.write(dagCbor.encode({ ok: false, error: 'the roster does not name the inviter' }))
    throw new Error('the offered roster does not name the inviter')
  }
  await lp.write(dagCbor.encode({ ok: true, error: '' }))
  const final = await frame(lp)
  if (final.status !== 0) throw new Error(`admission refused: ${final.error}`)
  for (const raw of final.records ?? []) {
    const { cid, record } = await checkRecord(raw, null)
    learn(cid, raw, record)
  }
  await stream.close()
  if (!state.members.has(me)) throw new Error('the answer did not admit this member')
  await follow({ topic: CONTROL })
  return { federation: state.federation, members: [...state.members], offered: opened.length }
}

async function follow ({ topic }) {
  const gt = gossipTopic(topic)
  gs.topicValidators.set(gt, async (from, msg) => {
    try {
      const { cid, record } = await checkRecord(msg.data, topic)
      learn(cid, msg.data, record)
      if (!state.received.has(topic)) state.received.set(topic, [])
      state.received.get(topic).push(cid.toString())
      return TopicValidatorResult.Accept
    } catch (err) {
      state.refused.push({ topic, from: from.toString(), error: err.message })
      return TopicValidatorResult.Reject
    }
  })
  gs.subscribe(gt)
  return { topic: gt }
}

// mesh waits until every named peer is in this member's mesh for topic.
async function mesh ({ topic, peers }) {
  const gt = gossipTopic(topic)
  for (;;) {
    const have = new Set(gs.getMeshPeers(gt).map(String))
    const subs = new Set(gs.getSubscribers(gt).map(String))
    if (peers.every((p) => have.has(p) && subs.has(p))) return { mesh: [...have] }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function received ({ topic }) {
  return { cids: state.received.get(topic) ?? [], refused: state.refused, gossipRefused, served }
}

// practice builds a practice record as the protocol describes it, in
// record version 1 (references as CID text, "" when absent) or 2
// (references as links, absent when there is none; a chain entry per
// topic).
function practice ({ topic, title, version }) {
  state.seq++
  const prevTopic = state.chains.get(topic) ?? { seq: 0, prev: null }
  const payload = {
    version: 1,
    title,
    summary: 'Written and signed by an independent implementation of the protocol.',
    problem: '',
    approach: 'Residents and volunteers meet monthly.',
    stage: 0,
    stakeholder_roles: [],
    results: '',
    resources: '',
    difficulties: '',
    lessons: ['Ask the residents first.'],
    transferability: '',
    language: 'en',
    translations: {},
    licence: 'CC-BY-4.0',
    region: 'Interop Region',
    country: 'DE',
    period: '',
    links: []
  }
  const rec = {
    v: version,
    kind: 'practice',
    fed: state.federation,
    author: me,
    seq: state.seq,
    created: Date.now(),
    topics: [topic],
    payload
  }
  if (version === 1) {
    Object.assign(payload, { practice_id: '', supersedes: '' })
    rec.prev = state.prev?.toString() ?? ''
  } else {
    payload.adapted_from = []
    if (state.prev != null) rec.prev = state.prev
    rec.chain = { [topic]: prevTopic.prev == null ? { seq: prevTopic.seq + 1 } : { seq: prevTopic.seq + 1, prev: prevTopic.prev } }
  }
  return rec
}

async function publish ({ topic, title, gossip = true, version = recordVersion }) {
  const s = await seal(practice({ topic, title, version }), key)
  state.prev = s.cid
  state.chains.set(topic, { seq: (state.chains.get(topic)?.seq ?? 0) + 1, prev: s.cid })
  // Checked as any received record would be, before it leaves.
  await openEnvelope(s.raw, { wantCID: s.cid })
  learn(s.cid, s.raw, dagCbor.decode(s.body))
  let recipients = 0
  if (gossip) {
    const res = await gs.publish(gossipTopic(topic), s.raw)
    recipients = res.recipients.length
  }
  return { cid: s.cid.toString(), recipients, bytes: s.raw.length, version }
}

// itemsOf is the reconciliation set of a topic: every record held on it.
function itemsOf (topic, leaveOut = []) {
  const items = []
  for (const [c, h] of state.held) {
    if (!h.topics.includes(topic) || leaveOut.includes(c)) continue
    items.push({ time: BigInt(h.record.created), id: CID.parse(c).multihash.digest })
  }
  return items
}

// serveSync answers a sync session another member opened: reconciliation,
// get, push and done. What it served is kept for the test to read.
const served = []
async function serveSync (stream, connection) {
  const lp = lpStream(stream, { maxDataLength: 4 << 20 })
  const peer = connection.remotePeer.toString()
  const session = { peer, topic: '', rounds: 0, sent: [], got: [], error: '' }
  served.push(session)
  const send = (m) => lp.write(dagCbor.encode(m))
  try {
    if (!state.members.has(peer)) {
      await send({ op: '', status: 2, error: 'not a member of this federation' })
      return
    }
    for (;;) {
      const m = await frame(lp)
      if (m.op === 'done') return
      if (m.op === 'recon') {
        if (session.topic === '') session.topic = m.topic
        if (m.topic !== session.topic) {
          await send({ op: '', status: 1, error: 'one topic per session' })
          return
        }
        session.rounds++
        await send({ op: 'recon', recon: respond(itemsOf(session.topic), m.recon) })
      } else if (m.op === 'get') {
        const records = []
        for (const b of m.want ?? []) {
          const h = state.held.get(CID.decode(b).toString())
          if (h != null) {
            records.push(h.raw)
            session.sent.push(CID.decode(b).toString())
          }
        }
        await send({ op: 'records', records })
      } else if (m.op === 'push') {
        for (const raw of m.records ?? []) {
          try {
            const { cid, record } = await checkRecord(raw, null)
            learn(cid, raw, record)
            session.got.push(cid.toString())
          } catch (err) {
            state.refused.push({ topic: session.topic, from: peer, error: err.message })
          }
        }
        await send({ op: 'ack' })
      } else {
        await send({ op: '', status: 1, error: `unknown op ${JSON.stringify(m.op)}` })
        return
      }
    }
  } catch (err) {
    session.error = err.message
  } finally {
    await stream.close().catch(() => {})
  }
}

// sync runs one session of the sync protocol as initiator for topic.
// Records listed in forget are left out of this side's set, so that the
// session has to fetch them again.
async function sync ({ peer, topic, forget }) {
  const items = itemsOf(topic, forget ?? [])
  const ini = new Initiator(items)
  const stream = await node.dialProtocol(peerIdFromString(peer), SYNC)
  const lp = lpStream(stream, { maxDataLength: 4 << 20 })
  let bytesOut = 0
  let bytesIn = 0
  const send = async (m) => {
    const b = dagCbor.encode(m)
    bytesOut += b.length
    await lp.write(b)
  }
  const recv = async (op) => {
    const b = (await lp.read()).subarray()
    bytesIn += b.length
    const m = dagCbor.decode(b)
    if ((m.status ?? 0) !== 0) throw new Error(`peer answered status ${m.status}: ${m.error}`)
    if (m.op !== op) throw new Error(`expected ${op}, got ${m.op}`)
    return m
  }
  await send({ op: 'recon', topic, recon: ini.initiate() })
  let rounds = 0
  for (;;) {
    const m = await recv('recon')
    rounds++
    const next = m.recon == null || m.recon.length === 0 ? null : ini.step(m.recon)
    if (next == null) break
    await send({ op: 'recon', topic, recon: next })
  }
  const got = []
  if (ini.need.length > 0) {
    const want = ini.need.map((id) => CID.createV1(0x71, Digest.create(0x12, id)))
    await send({ op: 'get', topic, want: want.map((c) => c.bytes) })
    const m = await recv('records')
    for (const raw of m.records ?? []) {
      const { cid, record } = await checkRecord(raw, null)
      if (!want.some((w) => w.equals(cid))) throw new Error(`sent ${cid}, which was not asked for`)
      learn(cid, raw, record)
      got.push(cid.toString())
    }
  }
  const pushed = []
  if (ini.have.length > 0) {
    const records = []
    for (const it of ini.have) {
      const c = CID.createV1(0x71, Digest.create(0x12, it.id)).toString()
      records.push(state.held.get(c).raw)
      pushed.push(c)
    }
    await send({ op: 'push', topic, records })
    await recv('ack')
  }
  await send({ op: 'done' })
  await stream.close()
  return {
    rounds,
    need: ini.need.length,
    have: ini.have.length,
    got,
    pushed,
    items: items.length,
    bytesOut,
    bytesIn
  }
}

// Ways to break a record, each against a rule the protocol states. A
// probe is built like the next record of this member, then broken and
// signed; a probe may instead ask for the signature to be broken.
const probes = {
  'v2-null-list': (r) => { r.payload.stakeholder_roles = null },
  'v2-missing-payload-key': (r) => { delete r.payload.period },
  'v2-unknown-payload-key': (r) => { r.payload.budget = 'none' },
  'v2-unknown-body-key': (r) => { r.extra = 1 },
  'v2-float-stage': (r) => { r.payload.stage = 1.5 },
  'v2-prev-on-first': (r) => { r.seq = 1; r.prev = state.prev; r.chain = { [r.topics[0]]: { seq: 1 } } },
  'v2-no-prev-after-first': (r) => { delete r.prev },
  'v2-chain-seq-above-seq': (r) => { r.chain[r.topics[0]].seq = r.seq + 1 },
  'v2-chain-missing-topic': (r) => { r.chain = {} },
  'v2-duplicate-topic': (r) => { r.topics = [r.topics[0], r.topics[0]] },
  'v2-control-topic': (r) => { r.topics.push('_federation'); r.chain._federation = { seq: 1 } },
  'v2-link-not-a-record': (r) => { r.payload.version = 2; r.payload.practice_id = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32))); r.payload.supersedes = state.prev },
  'v2-first-version-with-link': (r) => { r.payload.supersedes = state.prev },
  'v2-unknown-version': (r) => { r.v = 3 },
  'v2-future': (r) => { r.created = Date.now() + 3600 * 1000 },
  'v2-bad-language': (r) => { r.payload.language = 'english' },
  'v2-control-character': (r) => { r.payload.title = 'Bell \u0007 rings' },
  'v2-other-federation': (r) => { r.fed = 'elsewhere' },
  'v2-bad-signature': () => ({ flipSig: true }),
  'v2-v1-domain': () => ({ domain: 1 }),
  'v1-with-link': (r) => { r.v = 1; delete r.chain; delete r.payload.adapted_from; r.payload.practice_id = ''; r.payload.supersedes = ''; r.prev = state.prev },
  'v1-adapted-from': (r) => { r.v = 1; delete r.chain; r.payload.practice_id = ''; r.payload.supersedes = ''; r.prev = state.prev.toString(); r.payload.adapted_from = [] }
}

// push builds the named probes and one valid record, pushes them to peer
// in one sync session, and reports what this side's own checks say of
// each. The peer acknowledges a push after it has checked every record.
async function push ({ peer, topic, names }) {
  const built = []
  for (const name of names) {
    const rec = practice({ topic, title: `Probe ${name}`, version: 2 })
    state.seq-- // a probe does not take a sequence number
    const probe = probes[name]
    if (probe == null) throw new Error(`unknown probe ${name}`)
    const after = probe(rec) ?? {}
    const s = await seal(rec, key, after.domain)
    let raw = s.raw
    if (after.flipSig) {
      s.sig[0] ^= 1
      raw = dagCbor.encode({ body: s.body, sig: s.sig })
    }
    let local = 'accepted'
    try {
      await checkRecord(raw, null)
    } catch (err) {
      local = err.message
    }
    built.push({ name, cid: s.cid.toString(), raw, local })
  }
  const control = await publish({ topic, title: 'Pushed with the probes', gossip: false, version: 2 })
  const records = [...built.map((b) => b.raw), state.held.get(control.cid).raw]
  const stream = await node.dialProtocol(peerIdFromString(peer), SYNC)
  const lp = lpStream(stream, { maxDataLength: 4 << 20 })
  await lp.write(dagCbor.encode({ op: 'push', topic, records }))
  const ack = await frame(lp)
  if (ack.op !== 'ack') throw new Error(`push answered ${JSON.stringify(ack)}`)
  await lp.write(dagCbor.encode({ op: 'done' }))
  await stream.close()
  return { control: control.cid, probes: built.map(({ name, cid, local }) => ({ name, cid, local })) }
}

const commands = { join, follow, mesh, received, publish, sync, push, quit: async () => ({}) }

await node.handle(WIRE, (stream) => { stream.close().catch(() => {}) })
await node.handle(SYNC, serveSync)
await node.start()
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n')
out({ event: 'ready', peer: me, addrs: node.getMultiaddrs().map(String) })

const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  if (line.trim() === '') continue
  let req
  try {
    req = JSON.parse(line)
  } catch (err) {
    out({ ok: false, error: `bad command: ${err.message}` })
    continue
  }
  const fn = commands[req.cmd]
  try {
    if (fn == null) throw new Error(`unknown command ${req.cmd}`)
    out({ id: req.id, ok: true, ...(await fn(req)) })
  } catch (err) {
    out({ id: req.id, ok: false, error: err.message })
  }
  if (req.cmd === 'quit') break
}
await node.stop()
process.exit(0)
