// Micro-benchmark of the partition log (not a test): appends batches of 1 KiB records
// (~16 KiB and ~1 MiB batches), validating each as the broker's produce path does, then
// reads everything back with 1 MiB fetches. Prints MB/s (MB = 1024² bytes) both ways.
//   node dist/bench/log-bench.js [totalMiB=256] [dir]
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {buildBatch, validateBatches} from '../src/core/protocol/record-batch.js'
import {crc32c} from '../src/core/util/crc32c.js'
import {PartitionLog, defaultLogConfig} from '../src/core/log/partition-log.js'

const totalMiB = Number(process.argv[2] ?? 256)
const root = process.argv[3] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kafkit-log-bench-'))
const MiB = 1024 * 1024

function makeBatch(records: number): Buffer {
  const value = Buffer.alloc(1024, 'x')
  return buildBatch({records: Array.from({length: records}, () => ({key: null, value}))})
}

function mbps(bytes: number, ns: bigint): string {
  return (bytes / MiB / (Number(ns) / 1e9)).toFixed(0)
}

async function run(label: string, recordsPerBatch: number): Promise<void> {
  const dir = path.join(root, `bench-${recordsPerBatch}`)
  const log = await PartitionLog.open(dir, 'bench', recordsPerBatch, {...defaultLogConfig, segmentBytes: 256 * MiB})
  const template = makeBatch(recordsPerBatch)
  const count = Math.max(1, Math.floor((totalMiB * MiB) / template.length))
  // Produce path: a fresh request buffer per append (as from the socket), validated, appended.
  const incoming = Buffer.allocUnsafe(template.length)
  let t = process.hrtime.bigint()
  let validateNs = 0n
  for (let i = 0; i < count; i++) {
    template.copy(incoming)
    const v0 = process.hrtime.bigint()
    validateBatches(incoming)
    validateNs += process.hrtime.bigint() - v0
    log.append(incoming, 0)
  }
  const appendNs = process.hrtime.bigint() - t
  const bytes = count * template.length
  // Read back with 1 MiB fetches (warm page cache).
  t = process.hrtime.bigint()
  let offset = 0
  let readBytes = 0
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, MiB, log.logEndOffset, true)
    readBytes += r.bytes
    const last = r.records[r.records.length - 1]
    // Next offset: base offset of the last batch + its record count (fixed per batch here).
    let at = 0
    let next = offset
    while (at < last.length) {
      next = last.readInt32BE(at) * 4294967296 + last.readUInt32BE(at + 4) + last.readInt32BE(at + 23) + 1
      at += last.readInt32BE(at + 8) + 12
    }
    offset = next
  }
  const readNs = process.hrtime.bigint() - t
  console.log(`${label}: ${count} batches of ${(template.length / 1024).toFixed(1)} KiB, ${(bytes / MiB).toFixed(0)} MiB, ${log.segmentCount} segments`)
  console.log(`  append (validate + write): ${mbps(bytes, appendNs)} MB/s   (validate alone: ${mbps(bytes, validateNs)} MB/s)`)
  console.log(`  read (1 MiB fetches):      ${mbps(readBytes, readNs)} MB/s   (${readBytes === bytes ? 'all bytes back' : `MISMATCH ${readBytes} vs ${bytes}`})`)
  await log.delete()
}

const crcBuf = Buffer.alloc(16 * MiB, 7)
for (let i = 0; i < 2; i++) crc32c(crcBuf) // warm up (JIT)
let t = process.hrtime.bigint()
for (let i = 0; i < 8; i++) crc32c(crcBuf)
console.log(`crc32c: ${mbps(8 * crcBuf.length, process.hrtime.bigint() - t)} MB/s`)
/** A tailing consumer: append one batch, fetch it at the previous log end; per-cycle cost. */
async function tail(cycles: number): Promise<void> {
  const dir = path.join(root, 'bench-tail')
  const log = await PartitionLog.open(dir, 'bench', 0, defaultLogConfig)
  const template = makeBatch(16)
  const incoming = Buffer.allocUnsafe(template.length)
  // Some history first so the segment is not tiny.
  for (let i = 0; i < 2000; i++) {
    template.copy(incoming)
    log.append(incoming, 0)
  }
  const t = process.hrtime.bigint()
  for (let i = 0; i < cycles; i++) {
    template.copy(incoming)
    const {baseOffset} = log.append(incoming, 0)
    const r = await log.read(baseOffset, MiB, log.logEndOffset, true)
    if (r.bytes !== template.length) throw new Error(`tail read returned ${r.bytes} bytes`)
  }
  const ns = Number(process.hrtime.bigint() - t)
  console.log(`tailing consumer: ${(ns / cycles / 1000).toFixed(1)} us per append + fetch of one 16 KiB batch (${cycles} cycles)`)
  await log.delete()
}

await tail(5000)
await run('16 KiB batches', 16)
await run('1 MiB batches', 1024)
if (process.argv[3] === undefined) fs.rmSync(root, {recursive: true, force: true})
