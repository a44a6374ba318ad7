// Clients that misbehave cost only their own connection (issue: memory that never runs away).
// Connections that send many Fetch requests and never read the responses, and connections that
// send 100 MB frames, keep the broker's resident set bounded while another client is answered
// throughout; a client that stops reading gets every response, in order, once it reads again.
// The broker runs in its own process so its resident set is its own (read from /proc on Linux).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {Writer} from '../../src/core/protocol/io.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {encodeRequestHeader, requestHeaderVersion} from '../../src/core/protocol/header.js'
import {KafkaConnection} from '../../src/core/protocol/client.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {waitFor} from '../helpers/util.js'
import {startApacheZooKeeper, startBrokerProc, exec, KCAT, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

const linux = process.platform === 'linux'
let zk: ApacheZooKeeper
let broker: BrokerProc
const TOPIC = 'backpressure'

/** The broker's resident set (VmRSS) or its high-water mark (VmHWM), in MB. */
function brokerMb(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${broker.proc.child.pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

before(async () => {
  zk = await startApacheZooKeeper()
  // A small budget for large frames, so that large requests here wait for one another.
  broker = await startBrokerProc(zk.connect, ['queued.max.request.bytes=4000000'])
  // 2,000 records of 1 KiB: every fetch below gets a full 1 MB answer.
  const line = 'x'.repeat(1023) + '\n'
  const r = await exec(KCAT, ['-P', '-b', broker.bootstrap, '-t', TOPIC, '-X', 'linger.ms=5'], {input: line.repeat(2000)})
  assert.equal(r.code, 0, r.stderr)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

/** Samples the broker's resident set every 20 ms until stopped; returns the highest, in MB. */
function rssSampler(): {stop(): number} {
  let max = brokerMb('VmRSS')
  const t = setInterval(() => { max = Math.max(max, brokerMb('VmRSS')) }, 20)
  return {stop() { clearInterval(t); return Math.max(max, brokerMb('VmRSS')) }}
}

function fetchFrame(correlationId: number): Buffer {
  const w = new Writer()
  const size = w.markInt32()
  encodeRequestHeader(w, Apis.Fetch.apiKey, 11, correlationId, 'unread', requestHeaderVersion(Apis.Fetch.apiKey, 11))
  Apis.Fetch.encodeRequest(w, 11, {replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1048576, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{topic: TOPIC, partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1048576}]}],
    forgottenTopicsData: [], rackId: ''})
  w.patchInt32(size, w.length - 4)
  return w.toBuffer()
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(broker.port, '127.0.0.1')
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
}

/** Writes what the socket takes within the deadline; the rest is dropped (the broker stopped reading). */
async function writeAll(s: Socket, frames: Buffer[], deadlineMs: number): Promise<number> {
  const end = Date.now() + deadlineMs
  let n = 0
  for (const f of frames) {
    if (Date.now() > end || s.destroyed) break
    n++
    if (!s.write(f)) {
      await new Promise<void>(r => {
        const done = () => { clearTimeout(t); s.off('drain', done); s.off('close', done); r() }
        const t = setTimeout(done, Math.max(1, end - Date.now()))
        s.on('drain', done)
        s.on('close', done)
      })
    }
  }
  return n
}

/** Another client: Metadata every 25 ms until stopped; the worst answer time and any failure. */
function probe(): {answers(): number; stop(): Promise<{count: number; worstMs: number; failures: string[]}>} {
  let stopped = false
  let worst = 0
  let count = 0
  const failures: string[] = []
  const done = (async () => {
    const c = await KafkaConnection.connect('127.0.0.1', broker.port, {timeoutMs: 10000})
    try {
      while (!stopped) {
        const t0 = performance.now()
        try {
          await c.send(Apis.Metadata, 1, {topics: []}, 10000)
          count++
        } catch (error) {
          failures.push((error as Error).message)
          break
        }
        worst = Math.max(worst, performance.now() - t0)
        await new Promise(r => setTimeout(r, 25))
      }
    } finally {
      await c.close()
    }
  })()
  return {answers: () => failures.length > 0 ? -1 : count, async stop() { stopped = true; await done; return {count, worstMs: worst, failures} }}
}

test('connections that never read their fetch responses cost their own connection only', {skip: !linux && 'reads /proc', timeout: 120000}, async () => {
  const socks = await Promise.all(Array.from({length: 4}, () => open()))
  for (const s of socks) s.pause() // never read
  const rss = rssSampler()
  const p = probe()
  const frames = Array.from({length: 2000}, (_, i) => fetchFrame(i + 1))
  const written = await Promise.all(socks.map(s => writeAll(s, frames, 4000)))
  // The broker answers what it can send and stops reading the rest; meanwhile the other client
  // keeps being answered (80 answers take about 2 s; a broker busy with the unread fetches
  // answers none).
  await waitFor(() => { const n = p.answers(); if (n < 0) throw new Error('the other client failed'); return n >= 80 }, 30000, 'the other client to get 80 answers')
  const seen = await p.stop()
  const peak = rss.stop()
  assert.deepEqual(seen.failures, [], 'the other client was answered throughout')
  assert.ok(seen.count > 10, `the other client got ${seen.count} answers (worst ${seen.worstMs.toFixed(0)} ms)`)
  assert.ok(peak < 256, `broker peak RSS ${peak.toFixed(0)} MB with ${written.join('+')} unread 1 MB fetches (bound: 256 MB)`)
  // A client that reads again gets every response, in order: nothing was dropped.
  const s = socks[0]
  const ids: number[] = []
  let buf = Buffer.alloc(0)
  const wantIds = written[0]
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${ids.length} of ${wantIds} responses arrived`)), 60000)
    s.on('data', d => {
      buf = buf.length ? Buffer.concat([buf, d]) : d
      while (buf.length >= 8 && buf.length >= 4 + buf.readInt32BE(0)) {
        ids.push(buf.readInt32BE(4))
        buf = buf.subarray(4 + buf.readInt32BE(0))
      }
      if (ids.length === wantIds) { clearTimeout(t); resolve() }
    })
    s.resume()
    // The frames the broker had not taken yet are written now that it reads again.
    void writeAll(s, frames.slice(written[0]), 0)
  })
  assert.deepEqual(ids, Array.from({length: wantIds}, (_, i) => i + 1))
  for (const x of socks) x.destroy()
})

test('large frames are received within a memory budget, one after another', {skip: !linux && 'reads /proc', timeout: 120000}, async () => {
  const SIZE = 100 * 1024 * 1024 - 64 // just under socket.request.max.bytes
  const chunk = Buffer.alloc(1024 * 1024, 0x41) // api key 0x4141: not an API; the broker closes after reading the frame
  const before = brokerMb('VmRSS')
  const rss = rssSampler()
  const p = probe()
  const closed = await Promise.all(Array.from({length: 4}, async () => {
    const s = await open()
    const head = Buffer.alloc(4)
    head.writeInt32BE(SIZE)
    const closedP = new Promise<true>(r => s.once('close', () => r(true)))
    s.on('error', () => {})
    s.write(head)
    const frames = Array.from({length: 100}, () => chunk)
    await writeAll(s, frames, 60000)
    return closedP
  }))
  await waitFor(() => p.answers() >= 40 || p.answers() < 0, 30000, 'the other client to get 40 answers')
  const seen = await p.stop()
  const peak = rss.stop()
  assert.deepEqual(closed, [true, true, true, true], 'each garbage frame was read whole, then its connection closed')
  assert.deepEqual(seen.failures, [])
  assert.ok(peak - before < 200, `broker RSS grew by ${(peak - before).toFixed(0)} MB for four 100 MB frames (bound: one frame plus 100 MB)`)
})

test('large valid requests wait for the budget in turn and are all served', {timeout: 120000}, async () => {
  // Four 3 MB produce requests (30 batches of 100 KB each) at once: the 4 MB budget takes one at a time.
  const value = Buffer.alloc(1000, 0x61)
  const batches = Array.from({length: 30}, () => buildBatch({records: Array.from({length: 100}, () => ({key: null, value}))}))
  const records = Buffer.concat(batches)
  const conns = await Promise.all([0, 1, 2, 3].map(() => KafkaConnection.connect('127.0.0.1', broker.port, {timeoutMs: 60000})))
  const before = (await conns[0].send(Apis.ListOffsets, 1, {replicaId: -1, topics: [{name: TOPIC, partitions: [{partitionIndex: 0, timestamp: -1}]}]})).topics[0].partitions[0].offset
  const results = await Promise.all(conns.map(c => c.send(Apis.Produce, 7, {acks: 1, timeoutMs: 30000, transactionalId: null, topicData: [{name: TOPIC, partitionData: [{index: 0, records}]}]}, 60000)))
  for (const r of results) assert.equal(r.responses[0].partitionResponses[0].errorCode, 0)
  const after = (await conns[0].send(Apis.ListOffsets, 1, {replicaId: -1, topics: [{name: TOPIC, partitions: [{partitionIndex: 0, timestamp: -1}]}]})).topics[0].partitions[0].offset
  assert.equal(after - before, 4 * 30 * 100, 'every record of the four requests appended')
  for (const c of conns) await c.close()
})

test('a frame that never completes holds no more memory than what arrived', {skip: !linux && 'reads /proc', timeout: 60000}, async () => {
  const before = brokerMb('VmRSS')
  const s = await open()
  const head = Buffer.alloc(4)
  head.writeInt32BE(100 * 1024 * 1024 - 64)
  s.write(Buffer.concat([head, Buffer.alloc(1000)]))
  // A whole small request on another connection is still served.
  const c = await KafkaConnection.connect('127.0.0.1', broker.port, {timeoutMs: 10000})
  const md = await c.send(Apis.Metadata, 1, {topics: []}, 10000)
  assert.ok(md.brokers.length === 1)
  await c.close()
  assert.ok(brokerMb('VmRSS') - before < 50, `RSS grew by ${(brokerMb('VmRSS') - before).toFixed(0)} MB for a half-sent 100 MB frame`)
  s.destroy()
})
