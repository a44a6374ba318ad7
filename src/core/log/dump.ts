// kafka-dump-log: reads Kafka's on-disk files (segments .log, offset and time indexes, producer
// snapshots, transaction indexes; written by kafkit's broker or Apache Kafka's) and prints them
// as Apache Kafka 3.9's DumpLogSegments does: the same lines on stdout, the same summaries of
// index mismatches and offset gaps on stderr at the end. Batches are read with the log's own
// helpers (batch.ts, txn-index.ts) and the protocol layer's codecs. No CLI concerns here.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {crc32c} from '../util/crc32c.js'
import {decompress} from '../protocol/compression.js'
import {ATTRIBUTES_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, RECORDS_OFFSET, decodeRecords, readBatchHeader, readInt64, type BatchHeader, type DecodedRecord} from '../protocol/record-batch.js'
import {readTxnIndex, decodeSnapshot} from './txn-index.js'
import {readFully} from './segment.js'

/** A record's key and value as printed: undefined = not printed. */
export interface Parsed {
  key?: string
  value?: string
}

export type RecordParser = (key: Buffer | null, value: Buffer | null, offset: number) => Parsed

/** Java's StringDecoder: UTF-8 text of key and value. */
export const stringParser: RecordParser = (key, value) => ({key: key?.toString('utf8'), value: value?.toString('utf8')})

export interface DumpOptions {
  /** --print-data-log (or a decoder): print keys and payloads. */
  printData: boolean
  /** --deep-iteration (or printData): one line per record. */
  deep: boolean
  parser: RecordParser
  skipRecordMetadata: boolean
  /** --max-bytes: read at most this many bytes of a .log file. */
  maxBytes: number
  /** --max-message-size: how much is read at an index entry's position. */
  maxMessageSize: number
  verifyOnly: boolean
  indexSanityOnly: boolean
}

export const defaultDumpOptions: DumpOptions = {printData: false, deep: false, parser: stringParser, skipRecordMetadata: false, maxBytes: 2147483647, maxMessageSize: 5 * 1024 * 1024, verifyOnly: false, indexSanityOnly: false}

/** A failure Kafka's tool reports by throwing (the command prints the line and exits 1). */
export class DumpError extends Error {}

const INT_MAX = 2147483647
const DELETE_HORIZON_MASK = 0x40
const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const CONTROL_TYPES: Record<number, string> = {0: 'ABORT', 1: 'COMMIT', 2: 'LEADER_CHANGE', 3: 'SNAPSHOT_HEADER', 4: 'SNAPSHOT_FOOTER', 5: 'KRAFT_VERSION', 6: 'KRAFT_VOTERS'}

/** Java's DefaultRecordBatch.incrementSequence (wraps at Integer.MAX_VALUE). */
function incrementSequence(seq: number, delta: number): number {
  return seq > INT_MAX - delta ? delta - (INT_MAX - seq) - 1 : seq + delta
}
function decrementSequence(seq: number, delta: number): number {
  return seq - delta < 0 ? INT_MAX - delta + seq + 1 : seq - delta
}

function timestampTypeName(magic: number, type: number): string {
  if (magic === 0) return 'NoTimestampType'
  return type === 1 ? 'LogAppendTime' : 'CreateTime'
}

/** The base offset in a segment file name (`00000000000000000042.index` -> 42). */
function baseOffsetOf(file: string): number {
  const n = Number(path.basename(file).split('.')[0])
  if (!Number.isSafeInteger(n)) throw new DumpError(`For input string: "${path.basename(file).split('.')[0]}"`)
  return n
}

function fileError(file: string, error: unknown): DumpError {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return new DumpError(`${file} (No such file or directory)`)
  if (e.code === 'EISDIR') return new DumpError(`${file} (Is a directory)`)
  return new DumpError(`${file}: ${e.message}`)
}

function readWhole(file: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (error) {
    throw fileError(file, error)
  }
}

const CHUNK = 1 << 20

/** A segment read in 1 MiB chunks with positional reads (segments can be 1 GiB). */
class FileSource {
  private chunk = Buffer.alloc(0)
  private chunkPos = 0

  private constructor(private readonly fd: number, readonly size: number, readonly name: string) {}

  static open(file: string): FileSource {
    try {
      const fd = fs.openSync(file, 'r')
      return new FileSource(fd, fs.fstatSync(fd).size, file)
    } catch (error) {
      throw fileError(file, error)
    }
  }

  /** Bytes [pos, pos + len), fewer at the end of the file. The view stays valid. */
  read(pos: number, len: number): Buffer {
    if (pos >= this.chunkPos && pos + len <= this.chunkPos + this.chunk.length) return this.chunk.subarray(pos - this.chunkPos, pos - this.chunkPos + len)
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(Math.max(len, CHUNK), this.size - pos)))
    const n = readFully(this.fd, buf, 0, buf.length, pos)
    this.chunk = buf.subarray(0, n)
    this.chunkPos = pos
    return this.chunk.subarray(0, Math.min(len, n))
  }

  close(): void {
    fs.closeSync(this.fd)
  }
}

/** One batch as found in a file: its position, header and whole bytes. */
interface FileBatch {
  position: number
  size: number
  buf: Buffer
  magic: number
  header?: BatchHeader
}

/**
 * The batches of buf[from, end) as Kafka's FileRecords iterates them: an incomplete batch ends
 * the iteration; a size below the smallest record is corrupt.
 */
function* batches(src: FileSource, from: number, end: number): Generator<FileBatch> {
  let pos = from
  while (pos + LOG_OVERHEAD <= end) {
    const size = src.read(pos, LOG_OVERHEAD).readInt32BE(LENGTH_OFFSET)
    if (size < 14) throw new DumpError(`Found record size ${size} smaller than minimum record overhead (14) in file ${src.name}.`)
    if (pos + LOG_OVERHEAD + size > end) return
    const b = src.read(pos, LOG_OVERHEAD + size)
    const magic = b.length > MAGIC_OFFSET ? b.readInt8(MAGIC_OFFSET) : -1
    yield {position: pos, size: b.length, buf: b, magic, header: magic >= 2 && b.length >= RECORDS_OFFSET ? readBatchHeader(b, 0) : undefined}
    pos += b.length
  }
}

function lastOffsetOf(b: FileBatch): number {
  return b.header ? b.header.baseOffset + b.header.lastOffsetDelta : readInt64(b.buf, 0)
}

/** The records of a v2 batch (decompressed with the protocol layer's codecs). */
function recordsOf(b: FileBatch): DecodedRecord[] {
  const h = b.header!
  if (h.compression === 0) return decodeRecords(b.buf, 0)
  const inner = decompress(h.compression, b.buf.subarray(RECORDS_OFFSET))
  const head = Buffer.from(b.buf.subarray(0, RECORDS_OFFSET))
  head.writeInt16BE(h.attributes & ~0x07, ATTRIBUTES_OFFSET)
  head.writeInt32BE(RECORDS_OFFSET - LOG_OVERHEAD + inner.length, LENGTH_OFFSET)
  return decodeRecords(Buffer.concat([head, inner]), 0)
}

function batchLine(b: FileBatch, position: number): string {
  const h = b.header
  if (!h) {
    // Legacy (magic 0/1) entry: offset, then the shared tail.
    const attributes = b.buf.length > 17 ? b.buf.readInt8(17) : 0
    const ts = b.magic >= 1 && b.buf.length >= 26 ? readInt64(b.buf, 18) : -1
    const crc = b.buf.length >= 16 ? b.buf.readUInt32BE(12) : 0
    return `offset: ${readInt64(b.buf, 0)} position: ${position} ${timestampTypeName(b.magic, (attributes & 0x08) ? 1 : 0)}: ${ts} size: ${b.size} magic: ${b.magic} compresscodec: ${CODEC_NAMES[attributes & 0x07] ?? 'none'} crc: ${crc} isvalid: true`
  }
  const lastSequence = h.baseSequence === -1 ? -1 : incrementSequence(h.baseSequence, h.lastOffsetDelta)
  const horizon = (h.attributes & DELETE_HORIZON_MASK) !== 0 ? `OptionalLong[${h.baseTimestamp}]` : 'OptionalLong.empty'
  const valid = b.size >= RECORDS_OFFSET && crc32c(b.buf, ATTRIBUTES_OFFSET, b.size) === h.crc
  return `baseOffset: ${h.baseOffset} lastOffset: ${h.baseOffset + h.lastOffsetDelta} count: ${h.recordCount} baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${h.isTransactional} isControl: ${h.isControl} deleteHorizonMs: ${horizon}` +
    ` position: ${position} ${timestampTypeName(h.magic, h.timestampType)}: ${h.maxTimestamp} size: ${b.size} magic: ${h.magic} compresscodec: ${CODEC_NAMES[h.compression] ?? 'none'} crc: ${h.crc} isvalid: ${valid}`
}

function controlText(r: DecodedRecord): string {
  const type = r.key && r.key.length >= 4 ? r.key.readInt16BE(2) : -1
  if ((type === 0 || type === 1) && r.value && r.value.length >= 6) return ` endTxnMarker: ${type === 0 ? 'ABORT' : 'COMMIT'} coordinatorEpoch: ${r.value.readInt32BE(2)}`
  return ` controlType: ${CONTROL_TYPES[type] ?? 'UNKNOWN'}(${type})`
}

/** Dumps files as Kafka's DumpLogSegments; errors found along the way are printed by finish(). */
export class LogDumper {
  private readonly indexMismatches = new Map<string, [number, number][]>()
  private readonly timeMismatches = new Map<string, [number, number][]>()
  private readonly outOfOrder = new Map<string, [number, number][]>()
  private readonly shallowNotFound = new Map<string, [number, number][]>()
  private readonly nonConsecutive = new Map<string, [number, number][]>()

  constructor(readonly opts: DumpOptions, private readonly out: (text: string) => void, private readonly err: (text: string) => void) {}

  /** Dumps one --files entry. */
  dump(file: string): void {
    this.out(`Dumping ${file}\n`)
    const name = path.basename(file)
    const dot = name.lastIndexOf('.')
    if (dot < 0) throw new DumpError(`Cannot tell the kind of ${file}: its name has no suffix (.log, .index, .timeindex, .snapshot, .txnindex)`)
    switch (name.slice(dot)) {
      case '.log':
      case '.checkpoint':
        return this.dumpLog(file)
      case '.index':
        return this.dumpIndex(file)
      case '.timeindex':
        return this.dumpTimeIndex(file)
      case '.snapshot':
        return this.dumpProducerSnapshot(file)
      case '.txnindex':
        return this.dumpTxnIndex(file)
      default:
        this.err(`Ignoring unknown file ${file}\n`)
    }
  }

  /** The summaries Kafka's tool prints on stderr after the last file. */
  finish(): void {
    for (const [file, list] of this.indexMismatches) {
      this.err(`Mismatches in :${file}\n`)
      for (const [indexOffset, logOffset] of [...list].reverse()) this.err(`  Index offset: ${indexOffset}, log offset: ${logOffset}\n`)
    }
    for (const [file, list] of this.timeMismatches) {
      this.err(`Found timestamp mismatch in :${file}\n`)
      for (const [a, b] of list) this.err(`  Index timestamp: ${a}, log timestamp: ${b}\n`)
    }
    for (const [file, list] of this.outOfOrder) {
      this.err(`Found out of order timestamp in :${file}\n`)
      for (const [a, b] of list) this.err(`  Index timestamp: ${a}, Previously indexed timestamp: ${b}\n`)
    }
    for (const list of this.shallowNotFound.values()) {
      this.err('The following indexed offsets are not found in the log.\n')
      for (const [a, b] of list) this.err(`Indexed offset: ${a}, found log offset: ${b}\n`)
    }
    for (const [file, list] of this.nonConsecutive) {
      this.err(`Non-consecutive offsets in ${file}\n`)
      for (const [a, b] of [...list].reverse()) this.err(`  ${a} is followed by ${b}\n`)
    }
  }

  private note(map: Map<string, [number, number][]>, file: string, pair: [number, number]): void {
    const key = path.resolve(file)
    const list = map.get(key) ?? []
    list.push(pair)
    map.set(key, list)
  }

  private dumpLog(file: string): void {
    const name = path.basename(file)
    if (name.endsWith('.log')) {
      this.out(`Log starting offset: ${baseOffsetOf(file)}\n`)
    } else if (name === 'bootstrap.checkpoint') {
      this.out('KRaft bootstrap snapshot\n')
    } else {
      const m = /^(\d{20})-(\d{10})\.checkpoint$/.exec(name)
      if (!m) throw new DumpError(`No value present (${file} is not a KRaft snapshot name)`)
      this.out(`Snapshot end offset: ${Number(m[1])}, epoch: ${Number(m[2])}\n`)
    }
    const src = FileSource.open(file)
    try {
      this.dumpBatches(src, file)
    } finally {
      src.close()
    }
  }

  private dumpBatches(src: FileSource, file: string): void {
    const name = path.basename(file)
    const end = Math.min(src.size, this.opts.maxBytes)
    let validBytes = 0
    let lastOffset = -1
    for (const b of batches(src, 0, end)) {
      this.out(batchLine(b, validBytes) + '\n')
      if (this.opts.deep && b.header) {
        const h = b.header
        const tsType = timestampTypeName(h.magic, h.timestampType)
        let lines = ''
        for (const r of recordsOf(b)) {
          if (lastOffset !== -1 && r.offset !== lastOffset + 1) this.note(this.nonConsecutive, file, [lastOffset, r.offset])
          lastOffset = r.offset
          let line = ''
          let prefix = '| '
          if (!this.opts.skipRecordMetadata) {
            const seq = h.baseSequence === -1 ? -1 : incrementSequence(h.baseSequence, r.offset - h.baseOffset)
            line += `${prefix}offset: ${r.offset} ${tsType}: ${r.timestamp} keySize: ${r.key ? r.key.length : -1} valueSize: ${r.value ? r.value.length : -1}`
            line += ` sequence: ${seq} headerKeys: [${r.headers.map(x => x.key).join(',')}]`
            if (h.isControl) line += controlText(r)
            prefix = ' '
          }
          if (this.opts.printData && !h.isControl) {
            let p
            try {
              p = this.opts.parser(r.key, r.value, r.offset)
            } catch (error) {
              // Kafka's tool has printed the record's metadata when its decoder throws.
              this.out(lines + line)
              throw new DumpError((error as Error).message)
            }
            if (p.key !== undefined) {
              line += `${prefix}key: ${p.key}`
              prefix = ' '
            }
            if (p.value !== undefined) line += ` payload: ${p.value}`
          }
          lines += line + '\n'
        }
        this.out(lines)
      }
      validBytes += b.size
    }
    const trailing = end - validBytes
    if (trailing > 0 && this.opts.maxBytes === INT_MAX) this.out(`Found ${trailing} invalid bytes at the end of ${name}\n`)
  }

  /** The .log file beside an index file. */
  private segmentOf(file: string): FileSource {
    return FileSource.open(path.join(path.dirname(path.resolve(file)), path.basename(file).split('.')[0] + '.log'))
  }

  private dumpIndex(file: string): void {
    const base = baseOffsetOf(file)
    const log = this.segmentOf(file)
    try {
      this.dumpIndexWith(file, base, log)
    } finally {
      log.close()
    }
  }

  private dumpIndexWith(file: string, base: number, log: FileSource): void {
    const index = fs.existsSync(file) ? readWhole(file) : Buffer.alloc(0)
    const entries = Math.floor(index.length / 8)
    if (entries === 0) {
      this.out(`${file} is empty.\n`)
      return
    }
    if (this.opts.indexSanityOnly) {
      const lastOffset = base + index.readInt32BE((entries - 1) * 8)
      if (lastOffset < base) throw new DumpError(`Corrupt index found, index file (${path.resolve(file)}) has non-zero size but the last offset is ${lastOffset} which is less than the base offset ${base}.`)
      if (index.length % 8 !== 0) throw new DumpError(`Index file ${path.resolve(file)} is corrupt, found ${index.length} bytes which is neither positive nor a multiple of 8.`)
      this.out(`${file} passed sanity check.\n`)
      return
    }
    let lines = ''
    for (let i = 0; i < entries; i++) {
      const offset = base + index.readInt32BE(i * 8)
      const position = index.readInt32BE(i * 8 + 4)
      // A preallocated index is zero-filled after its last entry: stop at the first zero entry.
      if (offset === base && i > 0) break
      const first = batches(log, position, Math.min(log.size, position + this.opts.maxMessageSize)).next()
      if (first.done) throw new DumpError(`No batch at position ${position} of the log for index entry ${offset} in ${file}`)
      const batchLast = lastOffsetOf(first.value)
      if (batchLast !== offset) this.note(this.indexMismatches, file, [offset, batchLast])
      if (!this.opts.verifyOnly) lines += `offset: ${offset} position: ${position}\n`
    }
    this.out(lines)
  }

  private dumpTimeIndex(file: string): void {
    const base = baseOffsetOf(file)
    const log = this.segmentOf(file)
    try {
      this.dumpTimeIndexWith(file, base, log)
    } finally {
      log.close()
    }
  }

  private dumpTimeIndexWith(file: string, base: number, log: FileSource): void {
    const offsetIndexFile = path.join(path.dirname(path.resolve(file)), path.basename(file).split('.')[0] + '.index')
    const offsetIndex = fs.existsSync(offsetIndexFile) ? readWhole(offsetIndexFile) : Buffer.alloc(0)
    const index = fs.existsSync(file) ? readWhole(file) : Buffer.alloc(0)
    const entries = Math.floor(index.length / 12)
    const entry = (i: number) => ({timestamp: readInt64(index, i * 12), offset: base + index.readInt32BE(i * 12 + 8)})
    if (this.opts.indexSanityOnly) {
      const last = entries === 0 ? {timestamp: -1, offset: base} : entry(entries - 1)
      const abs = path.resolve(file)
      if (entries !== 0 && last.timestamp < entry(0).timestamp) throw new DumpError(`Corrupt time index found, time index file (${abs}) has non-zero size but the last timestamp is ${last.timestamp} which is less than the first timestamp ${entry(0).timestamp}`)
      if (entries !== 0 && last.offset < base) throw new DumpError(`Corrupt time index found, time index file (${abs}) has non-zero size but the last offset is ${last.offset} which is less than the first offset ${base}`)
      if (index.length % 12 !== 0) throw new DumpError(`Time index file ${abs} is corrupt, found ${index.length} bytes which is neither positive nor a multiple of 12.`)
      this.out(`${file} passed sanity check.\n`)
      return
    }
    // The offset index's entries before its zero fill, for lookups.
    const slots: [number, number][] = []
    for (let i = 0; i + 8 <= offsetIndex.length; i += 8) {
      const o = base + offsetIndex.readInt32BE(i)
      if (o === base && i > 0) break
      slots.push([o, offsetIndex.readInt32BE(i + 4)])
    }
    const lookup = (target: number): number => {
      let pos = 0
      for (const [o, p] of slots) if (o <= target) pos = p
      return pos
    }
    let prevTimestamp = -1
    let lines = ''
    for (let i = 0; i < entries; i++) {
      const e = entry(i)
      if (e.offset === base && i > 0) break
      let found: FileBatch | undefined
      for (const b of batches(log, lookup(e.offset), log.size)) {
        if (lastOffsetOf(b) >= e.offset) { found = b; break }
      }
      if (!found) {
        this.note(this.shallowNotFound, file, [e.offset, -1])
      } else if (lastOffsetOf(found) !== e.offset) {
        this.note(this.shallowNotFound, file, [e.offset, lastOffsetOf(found)])
      } else {
        let maxTimestamp = -1
        if (found.header) for (const r of recordsOf(found)) maxTimestamp = Math.max(maxTimestamp, r.timestamp)
        if (maxTimestamp !== e.timestamp) this.note(this.timeMismatches, file, [e.timestamp, maxTimestamp])
        if (prevTimestamp >= e.timestamp) this.note(this.outOfOrder, file, [e.timestamp, prevTimestamp])
      }
      if (!this.opts.verifyOnly) lines += `timestamp: ${e.timestamp} offset: ${e.offset}\n`
      prevTimestamp = e.timestamp
    }
    this.out(lines)
  }

  private dumpProducerSnapshot(file: string): void {
    let entries
    try {
      entries = decodeSnapshot(readWhole(file))
    } catch (error) {
      if (error instanceof DumpError) throw error
      // Kafka's CorruptSnapshotException messages start with a capital letter.
      const m = (error as Error).message
      this.err(m.charAt(0).toUpperCase() + m.slice(1) + '\n')
      return
    }
    let lines = ''
    for (const e of entries) {
      lines += `producerId: ${e.producerId} producerEpoch: ${e.epoch} coordinatorEpoch: ${e.coordinatorEpoch} currentTxnFirstOffset: ${e.currentTxnFirstOffset >= 0 ? `OptionalLong[${e.currentTxnFirstOffset}]` : 'OptionalLong.empty'} lastTimestamp: ${e.timestamp} `
      if (e.lastOffset >= 0) lines += `firstSequence: ${decrementSequence(e.lastSequence, e.offsetDelta)} lastSequence: ${e.lastSequence} lastOffset: ${e.lastOffset} offsetDelta: ${e.offsetDelta} timestamp: ${e.timestamp}`
      lines += '\n'
    }
    this.out(lines)
  }

  private dumpTxnIndex(file: string): void {
    baseOffsetOf(file)
    let lines = ''
    for (const t of readTxnIndex(file)) lines += `version: 0 producerId: ${t.producerId} firstOffset: ${t.firstOffset} lastOffset: ${t.lastOffset} lastStableOffset: ${t.lastStableOffset}\n`
    this.out(lines)
  }
}
