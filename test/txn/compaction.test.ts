// Log compaction of a topic written by transactional producers (librdkafka, gzip and zstd),
// end to end on a kafkit broker: the cleaner removes aborted data at once and tombstones only on
// a pass after their KIP-534 delete horizon; a read_committed consumer then sees exactly the
// latest committed value of each key; the same producers keep producing across the cleans;
// Apache Kafka 3.9's DumpLogSegments reads the cleaned segments.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import {join} from 'node:path'
import {runCommand, waitFor} from '../helpers/util.js'
import {runApacheMain, startCluster} from '../tools/apache-kafka.js'
import {PYTHON, exec, requireApacheKafka, startTxnCluster, type TxnCluster} from './helpers.js'
import {readBatchHeader, decodeRecords} from '../../src/core/protocol/record-batch.js'
import {uncompressedView} from '../../src/core/log/cleaner.js'
import {PartitionLog, defaultLogConfig} from '../../src/core/log/partition-log.js'
import {repoRoot} from '../helpers/util.js'

const script = join(repoRoot, 'test', 'txn', 'py', 'compact_confluent.py')
const RETENTION_MS = 2000
const TOPIC = 'compacted-txn'

let cluster: TxnCluster

before(async () => {
  requireApacheKafka()
  cluster = await startTxnCluster(1, {'log.cleaner.backoff.ms': 100})
})

after(async () => {
  await cluster?.stop()
})

interface SegBatch {
  file: string
  baseOffset: number
  control: boolean
  compression: number
  horizon: number
  records: Array<{key: string | null; value: string | null}>
}

/** The batches of the partition's inactive segments, read from the files as the cleaner left them. */
function inactiveBatches(dir: string): SegBatch[] {
  const logs = fs.readdirSync(dir).filter(f => f.endsWith('.log')).sort()
  const out: SegBatch[] = []
  for (const f of logs.slice(0, -1)) {
    let buf: Buffer
    try {
      buf = fs.readFileSync(join(dir, f))
    } catch {
      return [] // swapped under us: look again
    }
    for (let at = 0; at + 61 <= buf.length;) {
      const h = readBatchHeader(buf, at)
      const size = h.batchLength + 12
      if (at + size > buf.length) break
      const view = h.recordCount > 0 && !h.isControl ? uncompressedView(buf, at) : null
      const records = view ? decodeRecords(view.buf, view.at).map(r => ({key: r.key?.toString() ?? null, value: r.value?.toString() ?? null})) : []
      out.push({file: f, baseOffset: h.baseOffset, control: h.isControl, compression: h.compression, horizon: (h.attributes & 0x40) !== 0 ? h.baseTimestamp : -1, records})
      at += size
    }
  }
  return out
}

/** Every record of the log, read as a read_uncommitted consumer: [key, value, offset, in an aborted transaction]. */
async function logRecords(log: PartitionLog): Promise<Array<[string, string | null, number, boolean]>> {
  const aborted = log.collectAbortedTxns(log.logStartOffset, log.logEndOffset)
  const out: Array<[string, string | null, number, boolean]> = []
  let pos = log.logStartOffset
  while (pos < log.logEndOffset) {
    const r = await log.read(pos, 1 << 20, log.logEndOffset, true)
    if (r.bytes === 0) break
    for (const buf of r.records) {
      for (let at = 0; at + 61 <= buf.length;) {
        const h = readBatchHeader(buf, at)
        const size = h.batchLength + 12
        if (at + size > buf.length) break
        const inAborted = h.isTransactional && aborted.some(t => t.producerId === h.producerId && h.baseOffset >= t.firstOffset && h.baseOffset <= t.lastOffset)
        const view = h.recordCount > 0 && !h.isControl ? uncompressedView(buf, at) : null
        if (view) for (const rec of decodeRecords(view.buf, view.at)) if (rec.offset >= pos) out.push([rec.key!.toString(), rec.value?.toString() ?? null, rec.offset, inAborted])
        pos = h.baseOffset + h.lastOffsetDelta + 1
        at += size
      }
    }
  }
  return out
}

async function dumpLog(dir: string): Promise<string> {
  // A cleaner may replace a segment between the listing and the dump (Apache's merges segments): list again.
  return waitFor(async () => {
    const files = fs.readdirSync(dir).filter(f => f.endsWith('.log')).sort().slice(0, -1).map(f => join(dir, f))
    const r = await runApacheMain('kafka.tools.DumpLogSegments', ['--deep-iteration', '--print-data-log', '--files', files.join(',')], {timeoutMs: 90000})
    const out = r.stdout + r.stderr
    if (/NoSuchFileException/.test(out)) return ''
    assert.equal(r.code, 0, out)
    assert.doesNotMatch(out, /mismatch|corrupt|Exception|isvalid: false/i)
    return out
  }, 120000, 'DumpLogSegments to read the segments', 200)
}

type Read = Array<[string, string | null, number]>

/**
 * The scenario against one broker (`dir`: the partition's directory): the script's first part,
 * the first clean seen in the files and read by DumpLogSegments, the horizon passing, the second
 * part, the clean after the horizon; returns what the consumers read.
 */
async function scenario(bootstrap: string, dir: string, hs: string): Promise<{committed: Read; uncommitted: Read}> {
  fs.mkdirSync(hs)
  const run = exec(PYTHON, [script, 'write', bootstrap, TOPIC, hs], {timeoutMs: 280000})
  let failed: Error | null = null
  run.catch(e => (failed = e))
  const alive = () => {
    if (failed) throw failed
  }
  await waitFor(() => (alive(), fs.existsSync(join(hs, 'ready1'))), 120000, 'the producers to write the first part')

  // The first clean: aborted data gone from every inactive segment, the tombstones of k0 and k1
  // kept with a delete horizon in their batch, compressed batches still compressed.
  const isAborted = (r: {key: string | null; value: string | null}) => r.key === 'ghost' || (r.value ?? '').startsWith('aborted') || (r.key === 'k2' && r.value === null)
  const first = (await waitFor((): SegBatch[] | null => {
    alive()
    const b = inactiveBatches(dir)
    const tombs = b.filter(x => x.records.some(r => (r.key === 'k0' || r.key === 'k1') && r.value === null))
    const clean = b.length > 0 && !b.some(x => x.records.some(isAborted)) && tombs.length > 0 && tombs.every(x => x.horizon > 0)
    return clean ? b : null
  }, 60000, 'the cleaner to remove the aborted data and set the delete horizon of the tombstones', 200))!
  const horizons = first.filter(x => x.records.some(r => r.value === null)).map(x => x.horizon)
  assert.ok(horizons.every(h => h > Date.now() - 60000 && h <= Date.now() + RETENTION_MS), `horizon = clean time + delete.retention.ms: ${horizons}`)
  assert.ok(first.some(x => x.compression === 1 && x.records.length > 0) && first.some(x => x.compression === 4 && x.records.length > 0), 'gzip and zstd batches kept compressed')
  const dump1 = await dumpLog(dir)
  assert.match(dump1, /deleteHorizonMs: OptionalLong\[\d+\]/)
  assert.match(dump1, /compresscodec: gzip/)
  assert.match(dump1, /compresscodec: zstd/)

  // Past the horizon, the producers go on; a later clean removes the tombstones.
  const horizon = Math.max(...horizons)
  await waitFor(() => Date.now() > horizon, RETENTION_MS + 60000, 'the delete horizon to pass')
  fs.writeFileSync(join(hs, 'go1'), '')
  await waitFor(() => (alive(), fs.existsSync(join(hs, 'ready2'))), 120000, 'the producers to write the second part')
  await waitFor(() => {
    alive()
    const b = inactiveBatches(dir)
    return b.length > 0 && !b.some(x => x.records.some(r => r.value === null)) && !b.some(x => x.records.some(isAborted))
  }, 60000, 'the cleaner to remove the tombstones after their horizon', 200)
  const dump2 = await dumpLog(dir)
  assert.doesNotMatch(dump2, /key: k[01] payload: null/)
  fs.writeFileSync(join(hs, 'go2'), '')

  const r = await run
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {read_committed: Read; read_uncommitted: Read}
  return {committed: out.read_committed, uncommitted: out.read_uncommitted}
}

/** The latest value per key as a consumer applying `read` in order sees it (a tombstone deletes). */
function latestOf(read: Read): Record<string, string> {
  const latest = new Map<string, string>()
  for (const [k, v] of read) {
    if (v === null) latest.delete(k)
    else latest.set(k, v)
  }
  return Object.fromEntries([...latest].sort())
}

function createArgs(bootstrap: string): string[] {
  return ['--bootstrap-server', bootstrap, '--create', '--topic', TOPIC, '--partitions', '1', '--replication-factor', '1',
    '--config', 'cleanup.policy=compact', '--config', 'segment.bytes=600', '--config', 'min.cleanable.dirty.ratio=0.01', '--config', `delete.retention.ms=${RETENTION_MS}`]
}

let kafkitResult: {committed: Read; uncommitted: Read} | null = null

test('a compacted topic written in transactions: aborted data and expired tombstones go, read_committed sees the latest committed value per key, producers go on, Apache reads the segments', {timeout: 300000}, async () => {
  const created = await runCommand('kafka-topics', createArgs(cluster.bootstrap))
  assert.equal(created.code, 0, created.stdout + created.stderr)
  const {committed, uncommitted} = await scenario(cluster.bootstrap, join(cluster.dir, 'broker-0', `${TOPIC}-0`), join(cluster.dir, 'handshake'))
  assert.equal(committed.at(-1)?.[0], 'end', JSON.stringify(committed))
  const expected = Object.fromEntries([
    ['k2', 'a4-k2'], ['k3', 'a1-k3'], ['k4', 'a1-k4'], ['k5', 'b3-k5'], ['k6', 'b3-k6'], ['k7', 'b3-k7'], ['k8', 'b3-k8'], ['k9', 'final-k9'],
    ...[0, 1, 2, 3].map(i => [`f${i}`, `d-${8 + i}-${'x'.repeat(40)}`] as [string, string]),
    ['end', 'end'],
  ].sort())
  assert.deepEqual(latestOf(committed), expected)
  assert.ok(!committed.some(([k, v]) => k === 'ghost' || (v ?? '').startsWith('aborted')), 'no aborted data')
  assert.ok(!committed.some(([k]) => k === 'k0' || k === 'k1'), 'tombstones past their horizon are gone, and what they deleted')
  assert.deepEqual(committed.filter(([k]) => k === 'k5').map(([, v]) => v), ['b3-k5'], 'compacted: one k5')
  for (let i = 1; i < committed.length; i++) assert.ok(committed[i][2] > committed[i - 1][2], 'offsets increase')
  // The aborted data of the cleaned part is gone from the log itself, not only filtered.
  assert.ok(!uncommitted.some(([k, v]) => k === 'ghost' || (v ?? '').startsWith('aborted-') || (v ?? '').startsWith('aborted2')), JSON.stringify(uncommitted))
  kafkitResult = {committed, uncommitted}
})

test('the same scenario on Apache Kafka 3.9: its cleaner leaves what kafkit\'s does, as a read_committed consumer sees it; kafkit opens and cleans Apache\'s cleaned segments', {timeout: 300000}, async t => {
  if (!kafkitResult) return t.skip('the kafkit run failed')
  const apache = await startCluster('apache', {'log.cleaner.backoff.ms': '100', 'transaction.state.log.num.partitions': '1', 'offsets.topic.num.partitions': '1'})
  try {
    const created = await runCommand('kafka-topics', createArgs(apache.bootstrap))
    assert.equal(created.code, 0, created.stdout + created.stderr)
    const dir = join(apache.logDir, `${TOPIC}-0`)
    const {committed} = await scenario(apache.bootstrap, dir, join(apache.logDir, '..', 'handshake'))
    assert.deepEqual(latestOf(committed), latestOf(kafkitResult.committed))
    assert.ok(!committed.some(([k, v]) => k === 'k0' || k === 'k1' || k === 'ghost' || (v ?? '').startsWith('aborted')))
    // kafkit reads the segments Apache's cleaner wrote (delete horizons, empty batches) and cleans them again.
    const copy = join(apache.logDir, '..', 'copy', `${TOPIC}-0`)
    fs.mkdirSync(copy, {recursive: true})
    for (const f of fs.readdirSync(dir)) if (/\.(log|txnindex)$/.test(f)) fs.copyFileSync(join(dir, f), join(copy, f))
    const log = await PartitionLog.open(copy, TOPIC, 0, {...defaultLogConfig, cleanupPolicy: 'compact', deleteRetentionMs: RETENTION_MS})
    try {
      const before = await logRecords(log)
      await log.compact(Date.now() + 10 * RETENTION_MS, Infinity, true)
      const after = await logRecords(log)
      assert.deepEqual(latestOf(after.filter(r => !r[3]).map(r => [r[0], r[1], r[2]])), latestOf(before.filter(r => !r[3]).map(r => [r[0], r[1], r[2]])))
      assert.ok(!after.some(r => r[0] === 'ghost'))
    } finally {
      await log.close()
    }
  } finally {
    await apache.stop()
  }
})
