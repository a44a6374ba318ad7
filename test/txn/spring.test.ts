// Spring Kafka 4.1 (no Spring Boot) with a transaction-id-prefix on a 3-broker kafkit cluster:
// DefaultKafkaProducerFactory.setTransactionIdPrefix, KafkaTemplate.executeInTransaction for
// committed batches and for ones that throw (aborted), and a consume-process-produce loop in a
// ConcurrentMessageListenerContainer with a KafkaTransactionManager (the consumed offsets go into
// each transaction), through a kill -9 of the broker coordinating the loop's transactions and one
// listener failure (its transaction rolled back, the record redelivered). A read_committed consumer
// sees every committed record exactly once and no aborted one; read_uncommitted sees the aborted.
// Needs scripts/fetch-spring-kafka.sh (spring-kafka 4.1.2 with its kafka-clients in
// ~/.cache/spring-kafka-4.1/libs); runs on those jars only.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {runCommand, waitFor, Proc, repoRoot} from '../helpers/util.js'
import {apacheTool, exec, JAVA, requireApacheKafka, startTxnCluster, type TxnCluster} from './helpers.js'

const VERSION = '4.1.2'
const SPRING_LIBS = join(homedir(), '.cache', 'spring-kafka-4.1', 'libs')
const CP = join(SPRING_LIBS, '*')
const APP = join(repoRoot, 'test', 'txn', 'java', 'SpringTxn.java')
const JVM = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', CP, APP]
const BATCHES = 30

let cluster: TxnCluster
let loop: Proc | null = null

before(async () => {
  requireApacheKafka()
  if (!existsSync(join(SPRING_LIBS, `spring-kafka-${VERSION}.jar`))) throw new Error(`spring-kafka ${VERSION} is not in ${SPRING_LIBS} (run scripts/fetch-spring-kafka.sh)`)
  cluster = await startTxnCluster(3)
})

after(async () => {
  await loop?.stop('SIGKILL')
  await cluster?.stop()
})

async function createTopic(name: string): Promise<void> {
  const r = await runCommand('kafka-topics', ['--bootstrap-server', cluster.bootstrap, '--create', '--topic', name, '--partitions', '3', '--replication-factor', '3', '--config', 'min.insync.replicas=2'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

interface Dumped {
  value: string
  partition: number
  offset: number
}

async function dumpRecords(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<Dumped[]> {
  const r = await exec(JAVA, [...JVM, 'dump', cluster.bootstrap, topic, isolation], {timeoutMs: 90000})
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.split('\n').filter(l => /^(p:)?(in|bad)-/.test(l)).map(l => {
    const [value, partition, offset] = l.split('\t')
    return {value, partition: Number(partition), offset: Number(offset)}
  })
}

async function dump(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  return (await dumpRecords(topic, isolation)).map(r => r.value)
}

const count = (list: string[]) => list.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>())
const sorted = (list: string[]) => [...list].sort()
const committedInput = Array.from({length: BATCHES * 10}, (_, i) => `in-${Math.floor(i / 10)}-${i % 10}`)

/** The broker coordinating an open transaction of the listener container's producers (tx-loop-*). */
async function loopCoordinator(): Promise<number> {
  let row: string | undefined
  await waitFor(async () => {
    const r = await exec(apacheTool('kafka-transactions'), ['--bootstrap-server', cluster.bootstrap, 'list'], {timeoutMs: 60000})
    row = r.stdout.split('\n').find(l => l.startsWith('tx-loop-') && /\tOngoing\s*$/.test(l))
    return row !== undefined
  }, 60000, 'an ongoing transaction of the listener container')
  return Number(row!.split('\t')[1].trim())
}

test(`Spring Kafka ${VERSION}: transaction-id-prefix, executeInTransaction commit/abort, exactly-once consume-process-produce through kill -9 of the transaction coordinator`, {timeout: 180000}, async t => {
  await createTopic('sp-in')
  await createTopic('sp-out')
  // KafkaTemplate.executeInTransaction: 30 committed batches, 8 aborted ones among them.
  const p = await exec(JAVA, [...JVM, 'produce', cluster.bootstrap, 'sp-in', String(BATCHES)], {timeoutMs: 120000})
  assert.equal(p.code, 0, p.stdout + p.stderr)
  assert.match(p.stdout, /^produced$/m, p.stdout + p.stderr)
  const aborted = p.stdout.split('\n').filter(l => l.startsWith('aborted ')).length
  assert.equal(aborted, 8, p.stdout)
  const inRecords = await dumpRecords('sp-in', 'read_committed')
  const inCommitted = inRecords.map(r => r.value)
  assert.deepEqual(sorted(inCommitted), sorted(committedInput), 'read_committed: every committed record once, no aborted one')
  const inAll = await dump('sp-in', 'read_uncommitted')
  assert.equal(inAll.filter(v => v.startsWith('bad-')).length, aborted * 5, 'read_uncommitted sees the aborted records')
  assert.equal(inAll.length, committedInput.length + aborted * 5)

  // The listener container's loop; kill -9 the broker coordinating its transactions mid-run.
  loop = new Proc(spawn(JAVA, ['-Xmx384m', '-XX:TieredStopAtLevel=1', '-cp', CP, APP, 'process', cluster.bootstrap, 'sp-in', 'sp-out', 'sp-group', '40'], {stdio: ['ignore', 'pipe', 'pipe']}))
  await loop.waitForOutput('started', 90000)
  assert.match(loop.output, /kafka-clients 4\./, 'runs on spring-kafka\'s own kafka-clients')
  await waitFor(() => (loop!.output.match(/^processed /gm)?.length ?? 0) >= 40, 90000, 'the loop under way')
  const coordinator = await loopCoordinator()
  const before = loop.output.match(/^processed /gm)?.length ?? 0
  await cluster.brokers[coordinator].stop('SIGKILL')
  await cluster.brokers[coordinator].start()
  assert.ok(before < committedInput.length, `the kill came mid-run (${before} processed before it)`)

  const want = sorted(committedInput.map(v => `p:${v}`))
  let out: string[] = []
  await waitFor(async () => {
    out = await dump('sp-out', 'read_committed')
    return new Set(out).size >= want.length
  }, 120000, 'all output committed').catch(() => {})
  // The group's committed offsets (sent to the transactions) reach just past each partition's last
  // committed input record (trailing aborted records and markers are never delivered, as in Kafka):
  // every transaction of the loop is then done, and a duplicate would already be visible.
  const lastOffset = (partition: number) => Math.max(...inRecords.filter(x => x.partition === partition).map(x => x.offset))
  let lag: string[][] = []
  let groups = ''
  await waitFor(async () => {
    const g = await exec(apacheTool('kafka-consumer-groups'), ['--bootstrap-server', cluster.bootstrap, '--describe', '--group', 'sp-group'], {timeoutMs: 60000})
    groups = g.stdout + g.stderr
    lag = g.stdout.split('\n').filter(l => /^sp-group\s+sp-in\s/.test(l)).map(l => l.trim().split(/\s+/))
    return lag.length === 3 && lag.every(r => Number(r[3]) === lastOffset(Number(r[2])) + 1)
  }, 60000, 'the group offsets').catch(() => {})
  for (const r of lag) assert.equal(Number(r[3]), lastOffset(Number(r[2])) + 1, `offset committed in the transactions of partition ${r[2]}: ${groups}`)
  assert.equal(lag.length, 3, groups)
  out = await dump('sp-out', 'read_committed')
  const dups = [...count(out)].filter(([, n]) => n > 1).map(([v]) => v)
  assert.deepEqual(dups, [], `read_committed output has duplicates; loop: ${loop.output.slice(-3000)}`)
  assert.deepEqual(sorted(out), want, `read_committed output is each committed input exactly once; loop: ${loop.output.slice(-3000)}`)
  // The failed delivery's output (and any transaction cut by the kill) is in the log, aborted.
  const outAll = await dump('sp-out', 'read_uncommitted')
  assert.ok((loop.output.match(/^processed in-3-4$/gm)?.length ?? 0) >= 2, 'the failed delivery was redelivered')
  assert.ok((count(outAll).get('p:in-3-4') ?? 0) >= 2, 'read_uncommitted sees the rolled-back output of the failed delivery')
  t.diagnostic(`spring-kafka ${VERSION}: ${inCommitted.length} committed / ${inAll.length} uncommitted input records, ${aborted} aborted transactions; loop ${before} processed before kill -9 of broker ${coordinator}, ${out.length} committed outputs (exactly once), ${outAll.length} read_uncommitted; group offsets ${lag.map(r => `${r[3]}/${r[4]}`).join(' ')}`)
})
