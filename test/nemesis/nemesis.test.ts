// A bounded Jepsen-style nemesis: kafkit's ZooKeeper and three kafkit brokers, each a process as
// a user starts them; an idempotent librdkafka producer (acks=all) writing numbered records to
// three partitions (replication factor 3, min.insync.replicas 2) at a steady rate; meanwhile
// kill -9 of a partition leader, of the controller, a quick bounce (kill -9 and restart at once)
// and kill -9 of ZooKeeper, in turns. Afterwards every replica alone is read back from its log
// files: every acknowledged record is there at the offset it was acknowledged at, nothing is
// duplicated or out of order. Fail-over times (kill to the next acknowledgement on a partition
// the killed broker led) are printed, median and max.
//   NEMESIS_SECONDS (default 60) sets how long faults are injected; NEMESIS_SEED the schedule.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {readdirSync, readFileSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, startCommand, tempDir, waitFor, type Proc, repoRoot} from '../helpers/util.js'
import {waitForStart} from '../broker/helpers.js'
import {ZkClient} from '../../src/core/cluster/zk.js'
import {readBatchHeader, decodeRecords, LOG_OVERHEAD, MIN_BATCH_LENGTH} from '../../src/core/protocol/record-batch.js'

const SECONDS = Number(process.env.NEMESIS_SECONDS ?? 60)
const SEED = Number(process.env.NEMESIS_SEED ?? Date.now() % 100000)
const TOPIC = 'nemesis'
const PARTITIONS = 3
const RATE = 600 // records/s
const PY = '/usr/bin/python3'

let dir: string
let zkPort: number
let zk: Proc
const brokers: {id: number; port: number; cfg: string; proc: Proc | null}[] = []
let meta: ZkClient | undefined

function prng(seed: number): () => number {
  let s = (seed >>> 0) || 1
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s / 0x100000000
  }
}

async function startZk(): Promise<void> {
  zk = startCommand('zookeeper-server-start', [join(dir, 'zookeeper.properties')], {KAFKIT_RUN_DIR: join(dir, 'run')})
  await zk.waitForOutput('binding to port', 30000)
}

async function startBroker(b: (typeof brokers)[number]): Promise<void> {
  b.proc = startCommand('kafka-server-start', [b.cfg], {KAFKIT_RUN_DIR: join(dir, 'run')})
  await waitForStart(b.proc, 60000)
}

function kill(b: (typeof brokers)[number]): void {
  b.proc?.child.kill('SIGKILL')
  b.proc = null
}

/** The partition's state from ZooKeeper (retrying while ZooKeeper itself is being bounced). */
async function state(p: number): Promise<{leader: number; isr: number[]; leader_epoch: number}> {
  const r = await meta!.getJson<{leader: number; isr: number[]; leader_epoch: number}>(`/brokers/topics/${TOPIC}/partitions/${p}/state`)
  if (!r) throw new Error(`no state for partition ${p}`)
  return r.value
}

async function controller(): Promise<number> {
  const r = await meta!.getJson<{brokerid: number}>('/controller')
  return r ? r.value.brokerid : -1
}

/** Every broker registered and every partition's ISR full: the cluster has healed. */
async function healed(): Promise<boolean> {
  const ids = await meta!.getChildren('/brokers/ids')
  if (!ids || ids.length !== brokers.length) return false
  for (let p = 0; p < PARTITIONS; p++) {
    const s = await state(p)
    if (s.leader < 0 || s.isr.length !== brokers.length) return false
  }
  return true
}

before(async () => {
  dir = tempDir('kafkit-nemesis-')
  zkPort = await freePort()
  writeFileSync(join(dir, 'zookeeper.properties'), [`dataDir=${join(dir, 'zk').replace(/\\/g, '/')}`, `clientPort=${zkPort}`, 'clientPortAddress=127.0.0.1', 'tickTime=500', 'admin.enableServer=false', ''].join('\n'))
  await startZk()
  for (let id = 0; id < 3; id++) {
    const port = await freePort()
    const cfg = join(dir, `server-${id}.properties`)
    writeFileSync(cfg, [
      `broker.id=${id}`, `listeners=PLAINTEXT://127.0.0.1:${port}`, `log.dirs=${join(dir, `logs-${id}`).replace(/\\/g, '/')}`,
      `zookeeper.connect=127.0.0.1:${zkPort}`, 'zookeeper.session.timeout.ms=6000', 'default.replication.factor=3',
      'min.insync.replicas=2', 'offsets.topic.replication.factor=3', 'unclean.leader.election.enable=false',
      'replica.lag.time.max.ms=10000', 'group.initial.rebalance.delay.ms=0', 'auto.create.topics.enable=false', '',
    ].join('\n'))
    brokers.push({id, port, cfg, proc: null})
  }
  await Promise.all(brokers.map(b => startBroker(b)))
  meta = await ZkClient.connect(`127.0.0.1:${zkPort}`, {sessionTimeoutMs: 30000, connectionTimeoutMs: 30000, requestTimeoutMs: 60000})
})

after(async () => {
  await meta?.close()
  for (const b of brokers) await b.proc?.stop('SIGKILL')
  await zk?.stop('SIGKILL')
  if (process.env.NEMESIS_KEEP) console.log(`kept ${dir}`)
  else removeDir(dir)
})

/** Reads a replica's log files: [offset, value] for every record, in file order. */
function readReplica(logDir: string, p: number): [number, string][] {
  const pdir = join(logDir, `${TOPIC}-${p}`)
  const out: [number, string][] = []
  if (!existsSync(pdir)) return out
  for (const f of readdirSync(pdir).filter(n => n.endsWith('.log')).sort()) {
    const buf = readFileSync(join(pdir, f))
    let pos = 0
    while (pos + LOG_OVERHEAD <= buf.length) {
      const h = readBatchHeader(buf, pos)
      if (h.batchLength < MIN_BATCH_LENGTH || pos + LOG_OVERHEAD + h.batchLength > buf.length) break
      if (!h.isControl) for (const r of decodeRecords(buf, pos)) out.push([r.offset, r.value!.toString()])
      pos += LOG_OVERHEAD + h.batchLength
    }
  }
  return out
}

test(`nemesis: kills and bounces of leaders, the controller and ZooKeeper under an idempotent acks=all producer lose, duplicate and reorder nothing (${SECONDS} s, seed ${SEED})`, {timeout: (SECONDS + 400) * 1000}, async () => {
  const create = await runCommand('kafka-topics', ['--create', '--bootstrap-server', brokers.map(b => `127.0.0.1:${b.port}`).join(','), '--topic', TOPIC,
    '--partitions', String(PARTITIONS), '--replication-factor', '3'], {timeoutMs: 60000})
  assert.equal(create.code, 0, create.stderr)
  await waitFor(() => healed(), 30000, 'the topic online with full ISRs')
  const ackFile = join(dir, 'acks.txt')
  const producer: ChildProcess = spawn(PY, [join(repoRoot, 'test', 'nemesis', 'py', 'producer.py'), brokers.map(b => `127.0.0.1:${b.port}`).join(','), TOPIC, String(PARTITIONS), String(RATE), ackFile], {stdio: ['pipe', 'pipe', 'pipe']})
  let pout = ''
  let perr = ''
  producer.stdout!.on('data', d => { pout += d })
  producer.stderr!.on('data', d => { perr += d })
  const producerDone = new Promise<number | null>(r => producer.on('close', r))
  await waitFor(() => pout.includes('producing'), 30000, 'the producer')

  const random = prng(SEED)
  const faults: {kind: string; at: number; broker: number; partitions: number[]}[] = []
  const kinds = ['leader', 'controller', 'bounce', 'zookeeper']
  const end = Date.now() + SECONDS * 1000
  for (let i = 0; Date.now() < end; i++) {
    const kind = kinds[i % kinds.length]
    if (kind === 'zookeeper') {
      faults.push({kind, at: Date.now(), broker: -1, partitions: []})
      zk.child.kill('SIGKILL')
      await zk.exited
      await startZk()
    } else {
      const p = Math.floor(random() * PARTITIONS)
      const victimId = kind === 'controller' ? await controller() : (await state(p)).leader
      const victim = brokers.find(b => b.id === victimId)
      if (!victim?.proc) continue
      const led: number[] = []
      for (let q = 0; q < PARTITIONS; q++) if ((await state(q)).leader === victimId) led.push(q)
      faults.push({kind, at: Date.now(), broker: victimId, partitions: led})
      kill(victim)
      if (kind !== 'bounce') {
        // Down until the cluster has moved on: a new controller, or a new leader for what it led.
        if (kind === 'controller') await waitFor(async () => { const c = await controller(); return c >= 0 && c !== victimId }, 60000, 'a new controller')
        for (const q of led) await waitFor(async () => { const s = await state(q); return s.leader >= 0 && s.leader !== victimId }, 60000, `a new leader for partition ${q}`)
      }
      await startBroker(victim)
    }
    await waitFor(() => healed(), 120000, `the cluster to heal after ${kind}`)
  }
  producer.stdin!.end()
  const code = await producerDone
  assert.equal(code, 0, `producer exited ${code}: ${perr.slice(-2000)}`)
  const result = JSON.parse(pout.trim().split('\n').pop()!) as {produced: number; acked: number; failed: number; unflushed: number; errors: string[]; fatal: string | null}
  assert.equal(result.fatal, null, `the idempotent producer hit a fatal error: ${result.fatal}`)
  assert.equal(result.unflushed, 0)

  // Acknowledged records, per partition: offset -> value.
  const acked = Array.from({length: PARTITIONS}, () => new Map<number, string>())
  const ackTimes = Array.from({length: PARTITIONS}, () => [] as number[])
  for (const line of readFileSync(ackFile, 'utf8').split('\n')) {
    if (!line) continue
    const [p, off, value, at] = line.split(' ')
    acked[Number(p)].set(Number(off), value)
    ackTimes[Number(p)].push(Number(at))
  }
  await waitFor(() => healed(), 120000, 'the cluster to heal at the end')
  // Stop everything cleanly, then read every replica's files alone.
  for (const b of brokers) { await b.proc?.stop('SIGTERM'); b.proc = null }
  const problems: string[] = []
  for (const b of brokers) {
    for (let p = 0; p < PARTITIONS; p++) {
      const records = readReplica(join(dir, `logs-${b.id}`), p)
      const at = new Map(records)
      let last = -1
      let lastOffset = -1
      for (const [off, value] of records) {
        const n = Number(value.split(':')[1])
        if (off <= lastOffset) problems.push(`broker ${b.id} partition ${p}: offset ${off} after ${lastOffset}`)
        if (n <= last) problems.push(`broker ${b.id} partition ${p}: ${value} at ${off} after ${p}:${last} (duplicate or reordered)`)
        last = n
        lastOffset = off
      }
      let missing = 0
      for (const [off, value] of acked[p]) {
        if (at.get(off) !== value) {
          missing++
          if (missing <= 3) problems.push(`broker ${b.id} partition ${p}: acknowledged ${value} at offset ${off} is ${at.has(off) ? `${at.get(off)} there` : 'missing'}`)
        }
      }
      if (missing > 3) problems.push(`broker ${b.id} partition ${p}: ${missing} acknowledged records missing in all`)
    }
  }
  // Fail-over: from the kill to the next acknowledgement on each partition the victim led.
  const failovers: number[] = []
  for (const f of faults) {
    for (const p of f.partitions) {
      const next = ackTimes[p].find(t => t > f.at)
      if (next !== undefined) failovers.push(next - f.at)
    }
  }
  failovers.sort((a, b) => a - b)
  const totalAcked = acked.reduce((n, m) => n + m.size, 0)
  console.log(`nemesis (seed ${SEED}): ${faults.length} faults (${kinds.map(k => `${faults.filter(f => f.kind === k).length} ${k}`).join(', ')}); ` +
    `${result.produced} produced, ${totalAcked} acknowledged, ${result.failed} failed (${result.errors.join('; ')}); ` +
    `fail-over median ${failovers[Math.floor(failovers.length / 2)] ?? 'n/a'} ms, max ${failovers[failovers.length - 1] ?? 'n/a'} ms over ${failovers.length} partition moves`)
  assert.deepEqual(problems, [])
  assert.ok(totalAcked > RATE * SECONDS * 0.3, `only ${totalAcked} records acknowledged in ${SECONDS} s`)
  assert.ok(faults.length >= 4, `only ${faults.length} faults injected`)
})
