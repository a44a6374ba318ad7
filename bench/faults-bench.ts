// `npm run bench:faults`: the broker under clients that misbehave, beside Apache Kafka 3.9
// (when installed), each broker in its own process on kafkit's ZooKeeper:
//  - unread fetches: C connections each send N Fetch requests for 1 MB back to back and never
//    read a byte of the responses;
//  - oversized frames: F connections each declare a 100 MB request and send its bytes;
//  - a produce flood: librdkafka sends R x 1 KiB records in 1 MB batches (acks=1).
// For each: the broker's RSS before, at its peak, and 10 s after the load stops, and the latency
// of another client's Metadata requests throughout (p50 / p99 / max). Not a test: it prints.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {KafkaConnection} from '../src/core/protocol/client.js'
import {Apis} from '../src/core/protocol/messages.js'
import {Writer} from '../src/core/protocol/io.js'
import {encodeRequestHeader, requestHeaderVersion} from '../src/core/protocol/header.js'
import {tempDir, removeDir, repoRoot} from '../test/helpers/util.js'
import {APACHE, apacheInstalled, printTable, rss, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const CONNS = Number(process.env.FAULTS_CONNS ?? 10)
const FETCHES = Number(process.env.FAULTS_FETCHES ?? 2000)
const FRAMES = Number(process.env.FAULTS_FRAMES ?? 4)
const FLOOD = Number(process.env.FAULTS_FLOOD_RECORDS ?? 1000000)
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const LOAD = join(repoRoot, 'bench', 'py', 'rdkafka_load.py')
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

function frame(api: typeof Apis.Fetch | typeof Apis.Metadata, version: number, body: object, id: number): Buffer {
  const w = new Writer()
  const size = w.markInt32()
  encodeRequestHeader(w, api.apiKey, version, id, 'faults', requestHeaderVersion(api.apiKey, version))
  ;(api.encodeRequest as (w: Writer, v: number, r: object) => void)(w, version, body)
  w.patchInt32(size, w.length - 4)
  return w.toBuffer()
}

/** Another client's view: a Metadata request every 20 ms, latencies kept (a timeout counts as its time). */
class Probe {
  lat: number[] = []
  failures = 0
  private stopped = false
  private done: Promise<void>
  constructor(private readonly port: number) {
    this.done = this.loop()
  }
  private async loop(): Promise<void> {
    let conn: KafkaConnection | undefined
    while (!this.stopped) {
      const t0 = performance.now()
      try {
        conn ??= await KafkaConnection.connect('127.0.0.1', this.port, {timeoutMs: 5000})
        await conn.send(Apis.Metadata, 1, {topics: []}, 5000)
        this.lat.push(performance.now() - t0)
      } catch {
        this.failures++
        this.lat.push(performance.now() - t0)
        await conn?.close()
        conn = undefined
      }
      await sleep(20)
    }
    await conn?.close()
  }
  async stop(): Promise<{p50: number; p99: number; max: number; failures: number}> {
    this.stopped = true
    await this.done
    const s = [...this.lat].sort((a, b) => a - b)
    const pct = (p: number) => s.length ? s[Math.min(s.length - 1, Math.round(p / 100 * (s.length - 1)))] : NaN
    return {p50: pct(50), p99: pct(99), max: s.length ? s[s.length - 1] : NaN, failures: this.failures}
  }
}

interface Scenario {before: number | null; peak: number | null; after10s: number | null; p50: number; p99: number; max: number; failures: number; note: string}

/** Runs load() while sampling the broker's RSS and probing it; then waits 10 s and samples again. */
async function scenario(broker: Started, load: () => Promise<string>): Promise<Scenario> {
  const pid = broker.child.pid
  const before = rss(pid)
  let peak = before ?? 0
  const sampler = setInterval(() => { const r = rss(pid); if (r !== null && r > peak) peak = r }, 50)
  const probe = new Probe(broker.port)
  let note = ''
  try {
    note = await load()
  } catch (error) {
    note = `load failed: ${(error as Error).message}`
  }
  const lat = await probe.stop()
  await sleep(10000)
  clearInterval(sampler)
  return {before, peak, after10s: rss(pid), ...lat, note}
}

async function unreadFetches(broker: Started, topic: string): Promise<string> {
  const socks: Socket[] = []
  let sent = 0
  await Promise.all(Array.from({length: CONNS}, () => new Promise<void>((resolve) => {
    const s = connect(broker.port, '127.0.0.1')
    socks.push(s)
    s.on('error', () => resolve())
    s.on('connect', async () => {
      s.pause() // never read
      for (let i = 0; i < FETCHES; i++) {
        const f = frame(Apis.Fetch, 11, {replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1048576, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{topic, partitions: [{partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1048576}]}], forgottenTopicsData: [], rackId: ''}, i + 1)
        sent++
        if (!s.write(f)) await new Promise<void>(r => {
          const done = () => { clearTimeout(t); s.off('drain', done); r() }
          const t = setTimeout(done, 200)
          s.on('drain', done)
        })
        if (s.destroyed) break
      }
      resolve()
    })
  })))
  // Keep them open (unread) for 20 s, as an idle client would, then close.
  await sleep(20000)
  for (const s of socks) s.destroy()
  return `${sent} fetches written on ${CONNS} connections`
}

async function oversizedFrames(broker: Started): Promise<string> {
  const SIZE = 100 * 1024 * 1024
  const chunk = Buffer.alloc(1024 * 1024, 1)
  let written = 0
  await Promise.all(Array.from({length: FRAMES}, () => new Promise<void>(resolve => {
    const s = connect(broker.port, '127.0.0.1')
    s.on('error', () => resolve())
    s.on('close', () => resolve())
    s.on('connect', async () => {
      const head = Buffer.alloc(4)
      head.writeInt32BE(SIZE - 1) // under socket.request.max.bytes (104857600)
      s.write(head)
      for (let i = 0; i < 100 && !s.destroyed; i++) {
        written += chunk.length
        if (!s.write(chunk)) await new Promise<void>(r => {
          const done = () => { clearTimeout(t); s.off('drain', done); s.off('close', done); r() }
          const t = setTimeout(done, 30000)
          s.on('drain', done)
          s.on('close', done)
        })
      }
      setTimeout(() => { s.destroy(); resolve() }, 2000)
    })
  })))
  return `${Math.round(written / 1048576)} MB sent on ${FRAMES} connections`
}

async function produceFlood(broker: Started, topic: string): Promise<string> {
  // Asynchronous, so that the RSS sampler and the probe keep running meanwhile.
  const child = spawn(PY, [LOAD, 'produce', `127.0.0.1:${broker.port}`, topic, String(FLOOD), '1024', '1'], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { err += d })
  const code = await new Promise<number | null>(r => child.on('close', r))
  if (code !== 0) throw new Error(err.slice(-300))
  const res = JSON.parse(out.trim().split('\n').pop()!)
  return `${res.records_per_s?.toFixed?.(0)} records/s`
}

async function fill(broker: Started, topic: string): Promise<void> {
  const boot = `127.0.0.1:${broker.port}`
  for (const [t, n] of [[topic, 2000], ['faults-flood', 0]] as const) {
    const c = spawnSync(PY, [LOAD, 'create', boot, t, '1', '1'], {encoding: 'utf8'})
    if (c.status !== 0) throw new Error(c.stderr)
    if (n > 0) {
      const p = spawnSync(PY, [LOAD, 'produce', boot, t, String(n), '1024', '1'], {encoding: 'utf8'})
      if (p.status !== 0) throw new Error(p.stderr)
    }
  }
}

type Load = (broker: Started) => Promise<string>

/** Each scenario on a fresh ZooKeeper and broker, so that one's leftovers do not count in the next. */
async function measure(start: (dir: string, zkPort: number) => Promise<Started>): Promise<Record<string, Scenario>> {
  const out: Record<string, Scenario> = {}
  const loads: [string, Load][] = [
    ['unread', b => unreadFetches(b, 'faults-data')],
    ['frames', b => oversizedFrames(b)],
    ['flood', b => produceFlood(b, 'faults-flood')],
  ]
  for (const [key, load] of loads) {
    const dir = tempDir('kafkit-faults-')
    try {
      const zk = await startZooKeeper(dir)
      try {
        const broker = await start(dir, zk.port)
        try {
          await fill(broker, 'faults-data')
          out[key] = await scenario(broker, () => load(broker))
        } finally {
          await broker.stop()
        }
      } finally {
        await zk.stop()
      }
    } finally {
      removeDir(dir)
    }
  }
  return out
}

async function main(): Promise<void> {
  const names: string[] = []
  const results: Record<string, Scenario>[] = []
  if (!process.env.FAULTS_APACHE_ONLY) { names.push('kafkit'); results.push(await measure(startKafkitBroker)) }
  if (apacheInstalled() && !process.env.BENCH_KAFKIT_ONLY) { names.push('apache-kafka-3.9'); results.push(await measure(startApacheBroker)) }
  else if (!apacheInstalled()) console.log(`(Apache Kafka 3.9 not installed at ${APACHE})`)
  console.log(`\nbroker under misbehaving clients: ${CONNS} x ${FETCHES} unread 1 MB fetches; ${FRAMES} x 100 MB frames; ${FLOOD} x 1 KiB librdkafka produce in 1 MB batches\n`)
  const rows: [string, (number | string | null)[]][] = []
  for (const [key, label] of [['unread', 'unread fetches'], ['frames', '100 MB frames'], ['flood', 'produce flood']] as const) {
    rows.push([`${label}: RSS before (MB)`, results.map(r => r[key]?.before ?? null)])
    rows.push([`${label}: RSS peak (MB)`, results.map(r => r[key]?.peak ?? null)])
    rows.push([`${label}: RSS 10 s after (MB)`, results.map(r => r[key]?.after10s ?? null)])
    rows.push([`${label}: other client p50 ms`, results.map(r => r[key]?.p50 ?? null)])
    rows.push([`${label}: other client p99 ms`, results.map(r => r[key]?.p99 ?? null)])
    rows.push([`${label}: other client max ms`, results.map(r => r[key]?.max ?? null)])
    rows.push([`${label}: other client failures`, results.map(r => r[key]?.failures ?? null)])
  }
  printTable(names, rows)
  for (let i = 0; i < names.length; i++) for (const [k, s] of Object.entries(results[i])) console.log(`${names[i]} ${k}: ${s.note}`)
}

main().catch(error => {
  console.error(error)
  process.exit(1)
})
