// `npm run bench:codecs`: the record-batch codecs.
//  1. compress / decompress MB/s of each codec on 1 MiB of text-like records, native (snappy,
//     lz4-napi, zstd-napi) beside kafkit's TypeScript fallbacks, and the compression ratio;
//  2. kafka-producer-perf-test --compression-type X against a kafkit broker, Apache Kafka 3.9's
//     tool (the Java client's codecs) beside kafkit's, same run: records/s and MB/s.
// Not a test: it prints figures. The machine may be shared: take ratios, not absolutes.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {writeFileSync} from 'node:fs'
import {gzipSync, gunzipSync} from 'node:zlib'
import * as pure from '../src/core/protocol/codecs/pure.js'
import * as codecs from '../src/core/protocol/codecs/index.js'
import {decompress as fzstd} from 'fzstd'
import {repoRoot, tempDir, removeDir} from '../test/helpers/util.js'
import {APACHE, apacheInstalled, printTable, startKafkitBroker, startZooKeeper} from './servers.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 500000)

function sample(): Buffer {
  // Record-like text: keys, numbers and words repeat, as in most topics.
  const words = ['order', 'payment', 'customer', 'status', 'created', 'shipped', 'amount', 'currency', 'EUR', 'USD', 'id', 'ts']
  let s = ''
  let i = 0
  while (s.length < 1 << 20) {
    s += `{"${words[i % 12]}":${(i * 7919) % 100000},"${words[(i * 5) % 12]}":"${words[(i * 3) % 12]}-${i % 1000}","ts":${1796200000000 + i}}\n`
    i++
  }
  return Buffer.from(s.slice(0, 1 << 20))
}

function rate(bytes: number, fn: () => unknown): number {
  fn()
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < 1000) { fn(); n++ }
  return bytes * n / 1048576 / ((performance.now() - t0) / 1000)
}

function micro(): void {
  const data = sample()
  const rows: [string, (number | null)[]][] = []
  const cases: [string, (b: Buffer) => Buffer, (b: Buffer) => Buffer, ((b: Buffer) => Buffer) | null, ((b: Buffer) => Buffer) | null][] = [
    ['gzip', gzipSync, gunzipSync, null, null],
    ['snappy', codecs.snappyCompress, codecs.snappyDecompress, pure.snappyCompress, pure.snappyDecompress],
    ['lz4', codecs.lz4Compress, codecs.lz4Decompress, pure.lz4Compress, pure.lz4Decompress],
    ['zstd', codecs.zstdCompress, codecs.zstdDecompress, null, b => Buffer.from(fzstd(b))],
  ]
  for (const [name, c, d, pc, pd] of cases) {
    const packed = c(data)
    rows.push([`${name} compress MB/s`, [rate(data.length, () => c(data)), pc ? rate(data.length, () => pc(data)) : null]])
    rows.push([`${name} decompress MB/s`, [rate(data.length, () => d(packed)), pd ? rate(data.length, () => pd(packed)) : null]])
    rows.push([`${name} ratio (out/in)`, [packed.length / data.length, pc ? pc(data).length / data.length : null]])
  }
  console.log(`\ncodecs on 1 MiB of JSON-like records (${JSON.stringify(codecs.codecImplementations())})\n`)
  printTable(['kafkit (native)', 'TypeScript fallback'], rows, Object.fromEntries(rows.map(([l]) => [l, l.includes('ratio') ? 3 : 0])), 'native/TypeScript')
}

function perfTest(cmd: string[], args: string[]): Promise<{recordsPerSec: number; mbPerSec: number} | null> {
  return new Promise(resolve => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.on('close', () => {
      const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(out.trim().split('\n').pop() ?? '')
      resolve(m ? {recordsPerSec: Number(m[2]), mbPerSec: Number(m[3])} : null)
    })
  })
}

async function endToEnd(): Promise<void> {
  const dir = tempDir('kafkit-codec-bench-')
  const zk = await startZooKeeper(dir)
  const broker = await startKafkitBroker(dir, zk.port)
  try {
    const payload = join(dir, 'payload.txt')
    writeFileSync(payload, sample().toString())
    const rows: [string, (number | null)[]][] = []
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const args = ['--topic', `codec-${codec}`, '--num-records', String(RECORDS), '--payload-file', payload, '--throughput', '-1',
        '--producer-props', `bootstrap.servers=127.0.0.1:${broker.port}`, `compression.type=${codec}`, 'linger.ms=5', 'batch.size=262144', 'acks=1']
      const k = await perfTest([process.execPath, join(repoRoot, 'bin', 'kafka-producer-perf-test.js')], args)
      const a = apacheInstalled() ? await perfTest([join(APACHE, 'bin', 'kafka-producer-perf-test')], args.map(x => x.replace(`codec-${codec}`, `codec-${codec}-apache`))) : null
      rows.push([`${codec}: records/s`, [k?.recordsPerSec ?? null, a?.recordsPerSec ?? null]])
      rows.push([`${codec}: MB/s`, [k?.mbPerSec ?? null, a?.mbPerSec ?? null]])
    }
    console.log(`\nkafka-producer-perf-test, ${RECORDS} JSON-like records from a payload file, to one kafkit broker\n`)
    printTable(['kafkit tool', 'Apache 3.9 tool (Java)'], rows, Object.fromEntries(rows.map(([l]) => [l, l.endsWith('records/s') ? 0 : 1])))
  } finally {
    await broker.stop()
    await zk.stop()
    removeDir(dir)
  }
}

micro()
await endToEnd()
