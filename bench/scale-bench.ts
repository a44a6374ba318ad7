// `npm run bench:scale`: how cost grows with the work, one dimension at a time, kafkit beside
// Apache Kafka 3.9 / Apache ZooKeeper 3.8 (when installed). Each point runs on fresh servers.
//  - partitions on one broker (100, 1k, 10k): creation time, start-up to "started" and to all
//    online, RSS, Metadata latency for every topic, produce throughput spread over all of them
//  - failover (not in the default set): the same partition counts with replication factor 2 on
//    two brokers; broker 1 stops (SIGTERM): time until broker 0 leads every partition (the
//    controller's elections); broker 1 starts again: time to "started" and until every ISR is
//    whole again
//  - client connections (10, 100, 1,000): RSS and another client's latency with them idle;
//    requests/s and p99 with every one of them sending
//  - consumer groups with one member each (10, 100, 1,000): time for all to join; commits/s
//  - znodes in the ZooKeeper server (10k, 100k, 1M of 100 B): RSS, longest snapshot (and, for
//    kafkit, the longest its event loop stalled during one), restart to serving
// SCALE_DIMS picks dimensions (comma-separated), SCALE_QUICK=1 runs the first two points only,
// SCALE_POINTS=1000,10000 runs those points instead of the dimension's own, SCALE_RUNS=3 runs
// every point three times and prints the median of each figure, BENCH_KAFKIT_ONLY skips the
// reference, BENCH_START_TIMEOUT_MS (default 60000) is how long a broker may take to start.
// Example: SCALE_DIMS=partitions SCALE_POINTS=1000,10000 SCALE_RUNS=3 npm run bench:scale
// Not a test: it prints the curves.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync} from 'node:fs'
import {createConnection} from 'node:net'
import {join} from 'node:path'
import {freePort, removeDir, repoRoot, tempDir, waitFor} from '../test/helpers/util.js'
import {KafkaConnection} from '../src/core/protocol/client.js'
import {Apis} from '../src/core/protocol/messages.js'
import {buildBatch} from '../src/core/protocol/record-batch.js'
import {APACHE, apacheInstalled, printTable, rss, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const QUICK = !!process.env.SCALE_QUICK
const DIMS = (process.env.SCALE_DIMS ?? 'partitions,connections,groups,znodes').split(',').map(s => s.trim())
const POINTS = process.env.SCALE_POINTS ? process.env.SCALE_POINTS.split(',').map(Number) : undefined
const RUNS = Math.max(1, Number(process.env.SCALE_RUNS) || 1)
const points = (xs: number[]) => POINTS ?? (QUICK ? xs.slice(0, 2) : xs)
type Kind = 'kafkit' | 'apache'
type Figures = Record<string, number | null>
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** Each figure's median over the runs (a run that failed or lacks it is left out). */
function median(runs: Figures[]): Figures {
  const out: Figures = {}
  for (const m of new Set(runs.flatMap(r => Object.keys(r)))) out[m] = pct(runs.map(r => r[m]).filter((v): v is number => typeof v === 'number'), 50)
  return out
}

function pct(xs: number[], p: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.round(p / 100 * (s.length - 1)))]
}

/** How long the last restart's stop took (SIGTERM to exit). */
let lastStopMs = NaN

async function withBroker<T>(kind: Kind, extra: string[], fn: (b: Started, restart: () => Promise<Started>) => Promise<T>): Promise<T> {
  const dir = tempDir('kafkit-scale-')
  const zk = await startZooKeeper(dir)
  let b = await (kind === 'kafkit' ? startKafkitBroker : startApacheBroker)(dir, zk.port, extra)
  try {
    return await fn(b, async () => {
      const s0 = performance.now()
      await b.stop()
      lastStopMs = performance.now() - s0
      b = await (kind === 'kafkit' ? startKafkitBroker : startApacheBroker)(dir, zk.port, extra)
      return b
    })
  } finally {
    await b.stop()
    await zk.stop()
    removeDir(dir)
  }
}

async function connect(b: Started, timeoutMs = 120000): Promise<KafkaConnection> {
  const c = await KafkaConnection.connect('127.0.0.1', b.port, {timeoutMs, clientId: 'scale'})
  await c.negotiate()
  return c
}

// ---------------------------------------------------------------- partitions

async function allOnline(c: KafkaConnection, topics: string[], each: number): Promise<void> {
  await waitFor(async () => {
    const md = await c.request(Apis.Metadata, {topics: topics.map(name => ({name})), allowAutoTopicCreation: false})
    return md.topics.length === topics.length && md.topics.every(t => t.errorCode === 0 && t.partitions.length === each && t.partitions.every(p => p.leaderId >= 0 && p.errorCode === 0))
  }, 600000, 'every partition online', 100)
}

async function partitions(kind: Kind, n: number): Promise<Figures> {
  return withBroker(kind, [], async (b, restart) => {
    const each = Math.min(100, n)
    const topics = Array.from({length: n / each}, (_, i) => `scale-${i}`)
    let c = await connect(b)
    const t0 = performance.now()
    for (let i = 0; i < topics.length; i += 10) {
      const r = await c.request(Apis.CreateTopics, {timeoutMs: 120000, validateOnly: false, topics: topics.slice(i, i + 10).map(name => ({name, numPartitions: each, replicationFactor: 1, assignments: [], configs: []}))})
      for (const t of r.topics) if (t.errorCode !== 0) throw new Error(`create ${t.name}: ${t.errorCode} ${t.errorMessage}`)
    }
    await allOnline(c, topics, each)
    const createMs = performance.now() - t0
    // Metadata for every topic, 20 times.
    const md: number[] = []
    for (let i = 0; i < 20; i++) {
      const s = performance.now()
      await c.request(Apis.Metadata, {topics: topics.map(name => ({name})), allowAutoTopicCreation: false})
      md.push(performance.now() - s)
    }
    // Produce spread over every partition: each request a 10 x 100 B batch per partition, 4 in flight, 5 s.
    const value = Buffer.alloc(100, 'x')
    const batch = buildBatch({records: Array.from({length: 10}, () => ({key: null, value}))})
    const request = {acks: 1, timeoutMs: 30000, transactionalId: null, topicData: topics.map(name => ({name, partitionData: Array.from({length: each}, (_, index) => ({index, records: batch}))}))}
    let records = 0
    const until = performance.now() + 5000
    const pstart = performance.now()
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (performance.now() < until) {
        await c.request(Apis.Produce, request, 60000)
        records += 10 * n
      }
    }))
    const produceRate = records / ((performance.now() - pstart) / 1000)
    const loadedRss = rss(b.child.pid)
    await c.close()
    const b2 = await restart()
    const r0 = performance.now()
    c = await connect(b2, 600000)
    await allOnline(c, topics, each)
    const onlineMs = b2.startupMs + (performance.now() - r0)
    await c.close()
    return {
      'create all (ms)': createMs, 'Metadata p50 (ms)': pct(md, 50), 'produce spread (records/s)': produceRate,
      'RSS (MB)': loadedRss, 'stop (ms)': lastStopMs, 'restart to "started" (ms)': b2.startupMs, 'restart to all online (ms)': onlineMs,
    }
  })
}

// ---------------------------------------------------------------- failover (two brokers)

async function failover(kind: Kind, n: number): Promise<Figures> {
  const dir = tempDir('kafkit-scale-fo-')
  const zk = await startZooKeeper(dir)
  const start = (id: number) => (kind === 'kafkit' ? startKafkitBroker : startApacheBroker)(dir, zk.port, [], id)
  const brokers: Started[] = []
  try {
    brokers[0] = await start(0)
    brokers[1] = await start(1)
    const each = Math.min(100, n)
    const topics = Array.from({length: n / each}, (_, i) => `fo-${i}`)
    const c = await connect(brokers[0])
    // Broker 0 must know broker 1 before replication factor 2 can be placed.
    await waitFor(async () => (await c.request(Apis.Metadata, {topics: []})).brokers.length === 2, 60000, 'broker 0 sees both brokers', 100)
    for (let i = 0; i < topics.length; i += 10) {
      const r = await c.request(Apis.CreateTopics, {timeoutMs: 120000, validateOnly: false, topics: topics.slice(i, i + 10).map(name => ({name, numPartitions: each, replicationFactor: 2, assignments: [], configs: []}))})
      for (const t of r.topics) if (t.errorCode !== 0) throw new Error(`create ${t.name}: ${t.errorCode} ${t.errorMessage}`)
    }
    const every = (pred: (p: {leaderId: number; isrNodes: number[]}) => boolean, what: string) => waitFor(async () => {
      const md = await c.request(Apis.Metadata, {topics: topics.map(name => ({name})), allowAutoTopicCreation: false})
      return md.topics.length === topics.length && md.topics.every(t => t.errorCode === 0 && t.partitions.length === each && t.partitions.every(pred))
    }, 900000, what, 100)
    await every(p => p.leaderId >= 0 && p.isrNodes.length === 2, 'every partition online with both replicas in sync')
    const t0 = performance.now()
    await Promise.all([brokers[1].stop(), every(p => p.leaderId === 0, 'broker 0 leads every partition')])
    const moveMs = performance.now() - t0
    const t1 = performance.now()
    brokers[1] = await start(1)
    const startedMs = brokers[1].startupMs
    await every(p => p.isrNodes.length === 2, 'every ISR whole again')
    const rejoinMs = performance.now() - t1
    await c.close()
    return {'broker 1 stops: broker 0 leads all (ms)': moveMs, 'broker 1 restarts: to "started" (ms)': startedMs, 'broker 1 restarts: every ISR whole (ms)': rejoinMs}
  } finally {
    for (const b of brokers) await b?.stop()
    await zk.stop()
    removeDir(dir)
  }
}

// ---------------------------------------------------------------- connections

async function connections(kind: Kind, n: number): Promise<Figures> {
  return withBroker(kind, [], async b => {
    const before = rss(b.child.pid)
    const conns: KafkaConnection[] = []
    for (let i = 0; i < n; i += 50) conns.push(...await Promise.all(Array.from({length: Math.min(50, n - i)}, () => connect(b))))
    const probe = await connect(b)
    const idle: number[] = []
    for (let i = 0; i < 50; i++) {
      const s = performance.now()
      await probe.request(Apis.Metadata, {topics: []})
      idle.push(performance.now() - s)
    }
    const idleRss = rss(b.child.pid)
    const lat: number[] = []
    const until = performance.now() + 5000
    const t0 = performance.now()
    await Promise.all(conns.map(async c => {
      while (performance.now() < until) {
        const s = performance.now()
        await c.request(Apis.Metadata, {topics: []})
        lat.push(performance.now() - s)
      }
    }))
    const rate = lat.length / ((performance.now() - t0) / 1000)
    const activeRss = rss(b.child.pid)
    for (const c of [...conns, probe]) await c.close()
    return {
      'RSS idle per connection (KB)': idleRss !== null && before !== null ? (idleRss - before) * 1024 / n : null,
      'other client p99 with all idle (ms)': pct(idle, 99),
      'all sending: requests/s': rate, 'all sending: p99 (ms)': pct(lat, 99), 'RSS all sending (MB)': activeRss,
    }
  })
}

// ---------------------------------------------------------------- consumer groups

const RANGE_META = (() => {
  // ConsumerProtocol subscription v0: version, topics [gs], user data null.
  const b = Buffer.alloc(2 + 4 + 2 + 2 + 4)
  b.writeInt16BE(0, 0); b.writeInt32BE(1, 2); b.writeInt16BE(2, 6); b.write('gs', 8); b.writeInt32BE(-1, 10)
  return b
})()

async function groups(kind: Kind, n: number): Promise<Figures> {
  return withBroker(kind, ['group.initial.rebalance.delay.ms=0', 'offsets.topic.num.partitions=50'], async b => {
    const admin = await connect(b)
    await admin.request(Apis.CreateTopics, {timeoutMs: 60000, validateOnly: false, topics: [{name: 'gs', numPartitions: 1, replicationFactor: 1, assignments: [], configs: []}]})
    // The offsets topic first (the first FindCoordinator creates it): not part of the joins.
    await waitFor(async () => (await admin.request(Apis.FindCoordinator, {key: 'warm-up', keyType: 0, coordinatorKeys: ['warm-up']})).coordinators?.[0]?.errorCode === 0, 120000, 'the group coordinator', 200)
    const pool = await Promise.all(Array.from({length: Math.min(n, 50)}, () => connect(b)))
    const members: {group: string; memberId: string; generation: number; conn: KafkaConnection}[] = []
    const t0 = performance.now()
    await Promise.all(Array.from({length: n}, async (_, i) => {
      const conn = pool[i % pool.length]
      const group = `sg-${i}`
      const join = await conn.send(Apis.JoinGroup, 5, {groupId: group, sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{name: 'range', metadata: RANGE_META}]}, 120000)
      let j = join
      if (join.errorCode === 79) j = await conn.send(Apis.JoinGroup, 5, {groupId: group, sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: join.memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{name: 'range', metadata: RANGE_META}]}, 120000)
      if (j.errorCode !== 0) throw new Error(`join ${group}: ${j.errorCode}`)
      const sync = await conn.send(Apis.SyncGroup, 3, {groupId: group, generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, assignments: [{memberId: j.memberId, assignment: Buffer.alloc(0)}]}, 120000)
      if (sync.errorCode !== 0) throw new Error(`sync ${group}: ${sync.errorCode}`)
      members.push({group, memberId: j.memberId, generation: j.generationId, conn})
    }))
    const joinMs = performance.now() - t0
    let commits = 0
    const until = performance.now() + 5000
    const c0 = performance.now()
    await Promise.all(members.map(async m => {
      for (let off = 0; performance.now() < until; off++) {
        const r = await m.conn.send(Apis.OffsetCommit, 7, {groupId: m.group, generationIdOrMemberEpoch: m.generation, memberId: m.memberId, groupInstanceId: null, topics: [{name: 'gs', partitions: [{partitionIndex: 0, committedOffset: off, committedLeaderEpoch: -1, committedMetadata: null}]}]}, 60000)
        if (r.topics[0].partitions[0].errorCode === 0) commits++
      }
    }))
    const rate = commits / ((performance.now() - c0) / 1000)
    const r = rss(b.child.pid)
    for (const c of [...pool, admin]) await c.close()
    return {'all joined (ms)': joinMs, 'commits/s (all groups)': rate, 'RSS (MB)': r}
  })
}

// ---------------------------------------------------------------- znodes

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise(resolve => {
    const s = createConnection({host: '127.0.0.1', port})
    let out = ''
    s.setTimeout(5000, () => { s.destroy(); resolve(out) })
    s.on('connect', () => s.write(word))
    s.on('data', d => { out += d })
    s.on('end', () => resolve(out))
    s.on('error', () => resolve(''))
  })
}

async function startZk(kind: Kind, dir: string, port: number, out = 'ignore' as 'ignore' | number): Promise<{child: ChildProcess; ms: number}> {
  const cfg = join(dir, 'zk.properties')
  writeFileSync(cfg, `dataDir=${join(dir, 'data').replace(/\\/g, '/')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n`)
  mkdirSync(join(dir, 'data'), {recursive: true})
  const t0 = performance.now()
  const child = kind === 'kafkit'
    ? spawn(process.execPath, [join(repoRoot, 'bin', 'zookeeper-server-start.js'), cfg], {stdio: ['ignore', out, out], env: {...process.env, KAFKIT_RUN_DIR: join(dir, 'run')}})
    : spawn('java', ['-cp', `/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar`, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {stdio: 'ignore'})
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`${kind} ZooKeeper exited`)
    return (await fourLetter(port, 'srvr')).includes('Mode: standalone')
  }, 600000, `${kind} ZooKeeper serving`, 20)
  return {child, ms: performance.now() - t0}
}

async function znodes(kind: Kind, n: number): Promise<Figures> {
  const dir = tempDir('kafkit-scale-zk-')
  const port = await freePort()
  const loadgen = join(repoRoot, 'dist', 'bench', 'zk', 'loadgen.js')
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [loadgen, '--port', String(port), ...args], {encoding: 'utf8', timeout: 1800000})
    if (r.status !== 0) throw new Error(`loadgen: ${r.stderr}`)
    return JSON.parse(r.stdout.trim().split('\n').pop()!)
  }
  // kafkit logs how long each background snapshot held its event loop up at most.
  const logFile = join(dir, 'server.log')
  const out = openSync(logFile, 'a')
  let zk = await startZk(kind, dir, port, out)
  try {
    run(['--op', 'root', '--prefix', '/scale', '--sessions', '1', '--count', '1'])
    const created = run(['--op', 'create', '--prefix', '/scale', '--sessions', '16', '--depth', '32', '--count', String(Math.ceil(n / 16)), '--size', '100'])
    const mntr = await fourLetter(port, 'mntr')
    const snap = Number(/zk_max_snapshottime\s+(\d+)/.exec(mntr)?.[1] ?? NaN)
    const loaded = rss(zk.child.pid)
    const log = readFileSync(logFile, 'utf8')
    const stalls = [...log.matchAll(/event loop stalled at most (\d+) ms/g)].map(m => Number(m[1]))
    const slices = [...log.matchAll(/slices of at most (\d+) ms/g)].map(m => Number(m[1]))
    zk.child.kill('SIGTERM')
    await new Promise(r => zk.child.exitCode !== null ? r(null) : zk.child.once('exit', r))
    zk = await startZk(kind, dir, port)
    await sleep(500)
    return {'create rate (ops/s)': created.opsPerSec, 'RSS (MB)': loaded, 'longest snapshot (ms)': Number.isFinite(snap) ? snap : null, 'longest loop stall in a snapshot (ms)': stalls.length > 0 ? Math.max(...stalls) : null, 'longest snapshot slice (ms)': slices.length > 0 ? Math.max(...slices) : null, 'restart to serving (ms)': zk.ms, 'RSS after restart (MB)': rss(zk.child.pid)}
  } finally {
    zk.child.kill('SIGKILL')
    closeSync(out)
    removeDir(dir)
  }
}

async function main(): Promise<void> {
  const dims: Record<string, [number[], (k: Kind, n: number) => Promise<Figures>, string]> = {
    partitions: [points([100, 1000, 10000]), partitions, 'partitions'],
    connections: [points([10, 100, 1000]), connections, 'connections'],
    groups: [points([10, 100, 1000]), groups, 'groups'],
    znodes: [points([10000, 100000, 1000000]), znodes, 'znodes'],
    failover: [points([100, 1000, 10000]), failover, 'partitions (RF 2)'],
  }
  const apacheZk = existsSync('/usr/share/java/zookeeper.jar')
  for (const dim of DIMS) {
    const spec = dims[dim]
    if (!spec) throw new Error(`unknown dimension ${dim} (${Object.keys(dims).join(', ')})`)
    const [xs, fn, unit] = spec
    const kinds: Kind[] = ['kafkit']
    const ref = dim === 'znodes' ? apacheZk : apacheInstalled()
    if (ref && !process.env.BENCH_KAFKIT_ONLY) kinds.push('apache')
    else if (!ref) console.log(`(the reference for ${dim} is not installed${dim === 'znodes' ? '' : ` at ${APACHE}`})`)
    const rows: [string, (number | null)[]][] = []
    for (const x of xs) {
      const figs: Figures[] = []
      for (const k of kinds) {
        const runs: Figures[] = []
        for (let r = 0; r < RUNS; r++) {
          try {
            runs.push(await fn(k, x))
          } catch (error) {
            console.error(`${k} ${dim} ${x}: ${(error as Error).message}`)
            runs.push({})
          }
          if (RUNS > 1) console.error(`${k} ${dim} ${x} run ${r + 1}: ${JSON.stringify(runs[r], (_, v) => typeof v === 'number' ? Math.round(v * 10) / 10 : v)}`)
        }
        figs.push(median(runs))
      }
      const metrics = new Set(figs.flatMap(f => Object.keys(f)))
      for (const m of metrics) rows.push([`${x} ${unit}: ${m}`, figs.map(f => f[m] ?? null)])
    }
    console.log(`\n${dim}\n`)
    const digits: Record<string, number> = {}
    for (const [label] of rows) digits[label] = /ms\)|records\/s|ops\/s|requests\/s|commits\/s/.test(label) ? 0 : 1
    printTable(kinds.map(k => k === 'kafkit' ? 'kafkit' : dim === 'znodes' ? 'apache-zookeeper-3.8' : 'apache-kafka-3.9'), rows, digits)
  }
}

main().catch(error => {
  console.error(`bench:scale failed: ${error.message}`)
  process.exit(1)
})
