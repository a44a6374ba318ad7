// Apache Kafka 3.9's own DumpLogSegments reads the segments, offset indexes and time indexes
// kafkit writes: every batch valid, every index entry consistent with the log.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {spawn} from 'node:child_process'
import {tempDir, removeDir} from '../helpers/util.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {PartitionLog, defaultLogConfig} from '../../src/core/log/partition-log.js'

const kafkaHome = process.env.KAFKA_HOME ?? path.join(os.homedir(), '.cache', 'apache-kafka-3.9')

function dumpLogSegments(files: string[]): Promise<{code: number; out: string}> {
  return new Promise((resolve, reject) => {
    const p = spawn('java', ['-Xmx256M', '-cp', path.join(kafkaHome, 'libs', '*'), `-Dlog4j.configuration=file:${path.join(kafkaHome, 'config', 'tools-log4j.properties')}`,
      'kafka.tools.DumpLogSegments', '--deep-iteration', '--print-data-log', '--files', files.join(',')], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    p.stdout.on('data', d => (out += d))
    p.stderr.on('data', d => (out += d))
    const timer = setTimeout(() => p.kill(), 60_000)
    p.on('error', reject)
    p.on('close', code => {
      clearTimeout(timer)
      resolve({code: code ?? -1, out})
    })
  })
}

test('Apache Kafka DumpLogSegments reads kafkit segments and indexes without mismatches', async () => {
  assert.ok(fs.existsSync(path.join(kafkaHome, 'libs')), `Apache Kafka 3.9 is not installed in ${kafkaHome} (run /work/shared/tools/install-peers or set KAFKA_HOME)`)
  const root = tempDir('kafkit-interop-')
  try {
    const dir = path.join(root, 'interop-0')
    const log = await PartitionLog.open(dir, 'interop', 0, {...defaultLogConfig, segmentBytes: 1500, indexIntervalBytes: 200})
    const now = Date.now()
    const make = (i: number): Buffer => buildBatch({baseTimestamp: now + i, records: [0, 1, 2].map(j => ({key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}-${j}`), headers: [{key: 'hdr', value: Buffer.from('x')}], timestampDelta: j}))})
    // Single-batch and multi-batch appends (as a produce request may carry several batches).
    for (let i = 0; i < 40; ) {
      if (i % 3 === 0 && i + 3 <= 40) {
        log.append(Buffer.concat([make(i), make(i + 1), make(i + 2)]), 2, now + i)
        i += 3
      } else log.append(make(i++), 2, now + i)
    }
    const bases = log.segmentBaseOffsets()
    await log.close()
    const files: string[] = []
    for (const b of bases) for (const ext of ['.log', '.index', '.timeindex']) files.push(path.join(dir, String(b).padStart(20, '0') + ext))
    // A compacted log: batches with fewer records than their offset range.
    const cdir = path.join(root, 'compacted-0')
    const clog = await PartitionLog.open(cdir, 'compacted', 0, {...defaultLogConfig, cleanupPolicy: 'compact', segmentBytes: 300, indexIntervalBytes: 100})
    for (let i = 0; i < 30; i++) clog.append(buildBatch({baseTimestamp: now, records: [{key: Buffer.from(`ck${i % 3}`), value: Buffer.from(`cv${i}`)}, {key: Buffer.from('same'), value: Buffer.from(`s${i}`)}]}), 1, now)
    const cstats = await clog.compact(now, Infinity, true)
    assert.ok(cstats.segments > 0)
    const cbases = clog.segmentBaseOffsets()
    await clog.close()
    for (const b of cbases) for (const ext of ['.log', '.index', '.timeindex']) files.push(path.join(cdir, String(b).padStart(20, '0') + ext))
    const {code, out} = await dumpLogSegments(files)
    assert.equal(code, 0, out)
    const batches = out.split('\n').filter(l => l.startsWith('baseOffset:'))
    assert.ok(batches.length > 40, out)
    assert.equal(batches.filter(l => /partitionLeaderEpoch: 2/.test(l)).length, 40, out)
    assert.ok(batches.some(l => /lastOffset: \d+ count: 1 .*partitionLeaderEpoch: 1 /.test(l)), 'compacted batches hold fewer records than their offset range')
    assert.ok(batches.every(l => /isvalid: true/.test(l) && /magic: 2/.test(l)), out)
    assert.match(out, /\| offset: 119 CreateTime: \d+ keySize: 6 valueSize: 10 sequence: -1 headerKeys: \[hdr\] key: key-39 payload: value-39-2/)
    assert.doesNotMatch(out, /mismatch|corrupt|Exception/i)
    assert.ok(out.split('\n').filter(l => /^offset: \d+ position: \d+$/.test(l)).length >= bases.length, 'offset index entries')
    assert.ok(out.split('\n').some(l => /^timestamp: \d+ offset: \d+$/.test(l)), 'time index entries')
  } finally {
    removeDir(root)
  }
})
