// kafka-producer-perf-test: Apache Kafka's producer load tool (ProducerPerformance), with its
// flags and output. Records are encoded straight into record batches (no per-record objects)
// and sent with kafkit's own protocol client, several Produce requests in flight per broker,
// so the tool measures the broker rather than itself.
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {gzipSync} from 'node:zlib'
import {resolve} from 'node:path'
import {KafkaCommand, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {Brokers, fixed, versionFor, type PartitionLeader} from '../core/client/perf.js'
import {Produce, type ProduceResponse} from '../core/protocol/messages.js'
import {errorMessage, errorName} from '../core/protocol/errors.js'
import {BATCH_HEADER_SIZE, LENGTH_OFFSET, MAGIC_OFFSET, LAST_OFFSET_DELTA_OFFSET, BASE_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET, PRODUCER_ID_OFFSET, PRODUCER_EPOCH_OFFSET, BASE_SEQUENCE_OFFSET, RECORDS_COUNT_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, writeInt64, updateCrc} from '../core/log/batch.js'
import type {KafkaConnection} from '../core/protocol/client.js'
import {snappyCompress, lz4Compress} from '../core/client/codecs.js'
import {zstdCompress} from '../core/client/zstd.js'

const PROG = 'producer-performance'
/** Produce errors worth another try: the leader moved or is busy, the topic is being created. */
const RETRIABLE = new Set([3, 5, 6, 7, 13, 19, 20, 56, 74, 75])
const argError = (message: string) => new UsageError(`${PROG}: error: ${message}`)

function parseLong(value: string, flag: string, type = 'Long'): number {
  const t = value.trim()
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw argError(`argument --${flag}: could not convert '${value}' to ${type} (For input string: "${value}")`)
  return Number(t)
}

function varintSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (z >= 128) { z = Math.floor(z / 128); n++ }
  return n
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  while (z >= 128) { buf[pos++] = (z % 128) | 0x80; z = Math.floor(z / 128) }
  buf[pos++] = z
  return pos
}

/** One open record batch for a partition: records are appended in place. */
interface Batch {
  partition: number
  buf: Buffer
  pos: number
  count: number
  baseTimestamp: number
  maxTimestamp: number
  /** Send time of each record (for its latency), and its value size. */
  sendTimes: Float64Array
  sizes: Int32Array
  /** When the batch expires (delivery.timeout.ms after its first record). */
  deadline: number
  /** Index of each record in the run (for latency sampling). */
  firstIndex: number
}

/** Latency statistics exactly as ProducerPerformance keeps them (sampled for percentiles). */
class Stats {
  private readonly start = Date.now()
  private windowStart = this.start
  private readonly latencies: Int32Array
  private readonly sampling: number
  private index = 0
  count = 0
  private bytes = 0
  private maxLatency = 0
  private totalLatency = 0
  private windowCount = 0
  private windowMaxLatency = 0
  private windowTotalLatency = 0
  private windowBytes = 0

  constructor(numRecords: number, private readonly reportingInterval: number, private readonly print: (line: string) => void) {
    this.sampling = Math.max(1, Math.floor(numRecords / Math.max(1, Math.min(numRecords, 500000))))
    this.latencies = new Int32Array(Math.max(1, Math.floor(numRecords / this.sampling)) + 1)
  }

  record(iter: number, latency: number, bytes: number, time: number): void {
    this.count++
    this.bytes += bytes
    this.totalLatency += latency
    if (latency > this.maxLatency) this.maxLatency = latency
    this.windowCount++
    this.windowBytes += bytes
    this.windowTotalLatency += latency
    if (latency > this.windowMaxLatency) this.windowMaxLatency = latency
    if (iter % this.sampling === 0 && this.index < this.latencies.length) this.latencies[this.index++] = latency
    if (time - this.windowStart >= this.reportingInterval) {
      this.printWindow(time)
      this.windowStart = time
      this.windowCount = 0
      this.windowMaxLatency = 0
      this.windowTotalLatency = 0
      this.windowBytes = 0
    }
  }

  private printWindow(now: number): void {
    const elapsed = now - this.windowStart
    const recsPerSec = 1000.0 * this.windowCount / elapsed
    const mbPerSec = 1000.0 * this.windowBytes / elapsed / (1024.0 * 1024.0)
    this.print(`${this.windowCount} records sent, ${fixed(recsPerSec, 1)} records/sec (${fixed(mbPerSec, 2)} MB/sec), ${fixed(this.windowTotalLatency / this.windowCount, 1)} ms avg latency, ${fixed(this.windowMaxLatency, 1)} ms max latency.`)
  }

  printTotal(): void {
    const elapsed = Date.now() - this.start
    const recsPerSec = 1000.0 * this.count / elapsed
    const mbPerSec = 1000.0 * this.bytes / elapsed / (1024.0 * 1024.0)
    const size = Math.min(this.count, this.index)
    const sorted = this.latencies.subarray(0, size).sort()
    const perc = (p: number) => (size === 0 ? 0 : sorted[Math.floor(p * size)])
    this.print(`${this.count} records sent, ${fixed(recsPerSec, 6)} records/sec (${fixed(mbPerSec, 2)} MB/sec), ${fixed(this.totalLatency / this.count, 2)} ms avg latency, ${fixed(this.maxLatency, 2)} ms max latency, ${perc(0.5)} ms 50th, ${perc(0.95)} ms 95th, ${perc(0.99)} ms 99th, ${perc(0.999)} ms 99.9th.`)
  }
}

export default class KafkaProducerPerfTest extends KafkaCommand {
  static hidden = false
  static summary = 'This tool is used to verify the producer performance.'
  static description = 'Sends --num-records records of --record-size bytes (or payloads from --payload-file) to --topic as fast as the broker takes them, or at about --throughput records/s, printing progress every 5 s and a final line with throughput, average and maximum latency and the 50th/95th/99th/99.9th latency percentiles, as Apache Kafka\'s tool does. Properties: bootstrap.servers (required), acks (default all), batch.size (default 16384), linger.ms, max.in.flight.requests.per.connection (default 5), max.request.size (default 1048576), request.timeout.ms, max.block.ms (default 60000), retry.backoff.ms, delivery.timeout.ms (retriable errors are retried until then), compression.type (none, gzip, snappy, lz4, zstd), client.id.'
  static examples = [
    'kafka-producer-perf-test --topic t --num-records 100000 --record-size 100 --throughput -1 --producer-props bootstrap.servers=127.0.0.1:9092 acks=1',
    'kafka-producer-perf-test --topic t --num-records 1000 --payload-file words.txt --throughput 100 --producer.config producer.properties',
  ]

  static flags = {
    topic: Flags.string({description: 'produce messages to this topic', helpValue: 'TOPIC'}),
    'num-records': Flags.string({description: 'number of messages to produce', helpValue: 'NUM-RECORDS'}),
    'payload-delimiter': Flags.string({description: 'provides delimiter to be used when --payload-file is provided. Defaults to new line. Note that this parameter will be ignored if --payload-file is not provided. (default: \\n)', helpValue: 'PAYLOAD-DELIMITER'}),
    throughput: Flags.string({description: 'throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling.', helpValue: 'THROUGHPUT'}),
    'producer-props': Flags.string({description: 'kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs take precedence over those passed via --producer.config.', helpValue: 'PROP-NAME=PROP-VALUE', multiple: true}),
    'producer.config': Flags.string({description: 'producer config properties file.', helpValue: 'CONFIG-FILE'}),
    'print-metrics': Flags.boolean({description: 'print out metrics at the end of the test. (not supported by kafkit: refused)'}),
    'transactional-id': Flags.string({description: 'The transactionalId to use if transaction-duration-ms is > 0. (kafkit has no transactions yet: refused)', helpValue: 'TRANSACTIONAL-ID'}),
    'transaction-duration-ms': Flags.string({description: 'The max age of each transaction. Transactions are only enabled if this value is positive; kafkit has no transactions yet, so a positive value is refused. (default: 0)', helpValue: 'TRANSACTION-DURATION'}),
    'record-size': Flags.string({description: 'message size in bytes. Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic.', helpValue: 'RECORD-SIZE'}),
    'payload-file': Flags.string({description: 'file to read the message payloads from. This works only for UTF-8 encoded text files. Payloads will be read from this file and a payload will be randomly selected when sending messages.', helpValue: 'PAYLOAD-FILE'}),
    'payload-monotonic': Flags.boolean({description: 'payload is monotonically increasing integer.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaProducerPerfTest)
    if (flags.topic === undefined) throw argError('argument --topic is required')
    if (flags['num-records'] === undefined) throw argError('argument --num-records is required')
    if (flags.throughput === undefined) throw argError('argument --throughput is required')
    const sources = [flags['record-size'] !== undefined && '--record-size', flags['payload-file'] !== undefined && '--payload-file', flags['payload-monotonic'] && '--payload-monotonic'].filter(Boolean) as string[]
    if (sources.length === 0) throw argError('one of the arguments --record-size --payload-file --payload-monotonic is required')
    if (sources.length > 1) throw argError(`argument ${sources[1]}: not allowed with argument ${sources[0]}`)
    const numRecords = parseLong(flags['num-records'], 'num-records')
    const throughput = Number(flags.throughput.trim())
    if (flags.throughput.trim() === '' || !Number.isFinite(throughput)) throw argError(`argument --throughput: could not convert '${flags.throughput}' to Double (For input string: "${flags.throughput}")`)
    if (flags['print-metrics']) throw new ToolError('Error: --print-metrics is not supported by kafkit (the producer has no Java metrics registry)')
    if (flags['transactional-id'] !== undefined) throw new ToolError('Error: --transactional-id is not supported: kafkit has no transactions yet')
    if (flags['transaction-duration-ms'] !== undefined && parseLong(flags['transaction-duration-ms'], 'transaction-duration-ms') > 0) throw new ToolError('Error: --transaction-duration-ms is not supported: kafkit has no transactions yet')
    if (flags['producer-props'] === undefined && flags['producer.config'] === undefined) throw argError('Either --producer-props or --producer.config must be specified.')

    const props = loadClientProperties(flags['producer.config'])
    for (const item of flags['producer-props'] ?? []) {
      const i = item.indexOf('=')
      if (i <= 0) throw new ToolError(`Error: Invalid property: ${item}`)
      props.set(item.slice(0, i).trim(), item.slice(i + 1).trim())
    }
    const intProp = (key: string, def: number, min: number): number => {
      const v = props.get(key)
      if (v === undefined) return def
      const n = Number(v)
      if (v === '' || !Number.isInteger(n)) throw new ToolError(`Error: Invalid value ${v} for configuration ${key}: Not a number of type ${/ms$/.test(key) ? 'LONG' : 'INT'}`)
      if (n < min) throw new ToolError(`Error: Invalid value ${v} for configuration ${key}: Value must be at least ${min}`)
      return n
    }
    const bootstrap = props.get('bootstrap.servers')
    if (!bootstrap) throw new ToolError('Error: Missing required configuration "bootstrap.servers" which has no default value.')
    const acksText = props.get('acks') ?? 'all'
    const acks = acksText === 'all' ? -1 : Number(acksText)
    if (![-1, 0, 1].includes(acks) || acksText === '') throw new ToolError(`Error: Invalid value ${acksText} for configuration acks: String must be one of: all, -1, 0, 1`)
    const batchSize = intProp('batch.size', 16384, 0)
    const lingerMs = intProp('linger.ms', 0, 0)
    const maxInFlight = intProp('max.in.flight.requests.per.connection', 5, 1)
    const maxRequestSize = intProp('max.request.size', 1048576, 1)
    const requestTimeoutMs = intProp('request.timeout.ms', 30000, 0)
    const maxBlockMs = intProp('max.block.ms', 60000, 0)
    const deliveryTimeoutMs = intProp('delivery.timeout.ms', 120000, 0)
    const retryBackoffMs = intProp('retry.backoff.ms', 100, 0)
    const bufferMemory = intProp('buffer.memory', 33554432, 0)
    const compression = (props.get('compression.type') ?? 'none').trim().toLowerCase()
    const codec = ['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(compression)
    if (codec < 0) throw new ToolError(`Error: Invalid value ${compression} for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd`)
    if (props.get('transactional.id')) throw new ToolError('Error: transactional.id is not supported: kafkit has no transactions yet')

    // Payloads: one random payload of --record-size (Java draws it once), or the file's.
    let payloads: Buffer[] = []
    let recordSize = 0
    if (flags['record-size'] !== undefined) {
      recordSize = parseLong(flags['record-size'], 'record-size', 'Integer')
      if (recordSize < 0) throw new ToolError(`Error: record size must be at least 0, got ${recordSize}`)
      const p = Buffer.allocUnsafe(recordSize)
      for (let i = 0; i < recordSize; i++) p[i] = 65 + Math.floor(Math.random() * 26)
      payloads = [p]
    } else if (flags['payload-file'] !== undefined) {
      const file = flags['payload-file']
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (error) {
        throw new ToolError(`Error: cannot read payload file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
      }
      const delimiter = (flags['payload-delimiter'] ?? '\\n').replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r')
      const items = text.split(delimiter)
      while (items.length > 0 && items[items.length - 1] === '') items.pop() // as Java's String.split
      payloads = items.map(s => Buffer.from(s, 'utf8'))
      if (payloads.length === 0) throw new ToolError(`Error: File is empty: ${file}`)
      process.stdout.write(`Reading payloads from: ${resolve(file)}\nNumber of messages read: ${payloads.length}\n`)
    }
    const monotonic = flags['payload-monotonic']
    const clientId = props.get('client.id') ?? 'perf-producer-client'

    const brokers = new Brokers(bootstrap, clientId, Math.max(requestTimeoutMs, 1000))
    try {
      const partitions = await brokers.partitions(flags.topic, maxBlockMs, true)
      await this.produce(brokers, flags.topic, partitions, {numRecords, throughput, payloads, monotonic, acks, batchSize, lingerMs, maxInFlight, maxRequestSize, requestTimeoutMs, deliveryTimeoutMs, retryBackoffMs, maxBlockMs, codec, bufferMemory})
    } finally {
      await brokers.close()
    }
  }

  private async produce(brokers: Brokers, topic: string, partitions: PartitionLeader[], o: {numRecords: number; throughput: number; payloads: Buffer[]; monotonic: boolean; acks: number; batchSize: number; lingerMs: number; maxInFlight: number; maxRequestSize: number; requestTimeoutMs: number; deliveryTimeoutMs: number; retryBackoffMs: number; maxBlockMs: number; codec: number; bufferMemory: number}): Promise<void> {
    const print = (line: string) => writeLineSync(1, line)
    const stats = new Stats(o.numRecords, 5000, print)
    const conns = new Map<number, KafkaConnection>()
    for (const p of partitions) if (!conns.has(p.leader)) conns.set(p.leader, await brokers.node(p.leader))
    const versions = new Map<number, number>()
    for (const [id, c] of conns) versions.set(id, versionFor(c, Produce, 9))
    const inFlight = new Map<number, number>()
    for (const id of conns.keys()) inFlight.set(id, 0)
    const ready = new Map<number, Batch[]>()
    for (const id of conns.keys()) ready.set(id, [])
    const leaderOf = new Map(partitions.map(p => [p.partition, p.leader]))

    let failure: Error | undefined
    let wake: (() => void) | undefined
    const signal = () => { const w = wake; wake = undefined; w?.() }
    let outstanding = 0 // sealed batches not yet acknowledged

    const maxPayload = o.payloads.reduce((m, p) => Math.max(m, p.length), o.monotonic ? 20 : 0)
    const maxRecordBytes = maxPayload + 5 + 1 + 10 + 5 + 1 + 5 + 1 // length, attrs, ts delta, offset delta, key, value length, headers
    const capacity = Math.max(o.batchSize, BATCH_HEADER_SIZE + maxRecordBytes)
    const maxRecordsPerBatch = Math.max(1, Math.floor((capacity - BATCH_HEADER_SIZE) / 8) + 1)
    const pool: Batch[] = []
    const newBatch = (partition: number, firstIndex: number, now: number): Batch => {
      const b = pool.pop()
      if (b) {
        b.partition = partition; b.pos = BATCH_HEADER_SIZE; b.count = 0; b.baseTimestamp = now; b.maxTimestamp = now; b.firstIndex = firstIndex
        b.deadline = now + o.deliveryTimeoutMs
        return b
      }
      return {partition, buf: Buffer.allocUnsafe(capacity), pos: BATCH_HEADER_SIZE, count: 0, baseTimestamp: now, maxTimestamp: now, sendTimes: new Float64Array(maxRecordsPerBatch), sizes: new Int32Array(maxRecordsPerBatch), firstIndex, deadline: now + o.deliveryTimeoutMs}
    }
    const compress = [undefined, (x: Buffer) => gzipSync(x), snappyCompress, lz4Compress, zstdCompress][o.codec]
    const seal = (b: Batch): Buffer => {
      let buf = b.buf.subarray(0, b.pos)
      if (compress) {
        // The records section compressed (b.buf itself stays as is, for a retry).
        const body = compress(buf.subarray(BATCH_HEADER_SIZE))
        const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.length)
        body.copy(out, BATCH_HEADER_SIZE)
        buf = out
      }
      writeInt64(buf, 0, 0)
      buf.writeInt32BE(buf.length - 12, LENGTH_OFFSET)
      buf.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET)
      buf[MAGIC_OFFSET] = 2
      buf.writeInt16BE(o.codec, 21) // attributes: compression codec, CreateTime
      buf.writeInt32BE(b.count - 1, LAST_OFFSET_DELTA_OFFSET)
      writeInt64(buf, BASE_TIMESTAMP_OFFSET, b.baseTimestamp)
      writeInt64(buf, MAX_TIMESTAMP_OFFSET, b.maxTimestamp)
      writeInt64(buf, PRODUCER_ID_OFFSET, -1)
      buf.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET)
      buf.writeInt32BE(-1, BASE_SEQUENCE_OFFSET)
      buf.writeInt32BE(b.count, RECORDS_COUNT_OFFSET)
      updateCrc(buf, 0)
      return buf
    }

    // Retriable failures (a leader moved, the connection dropped, the broker timed out) send
    // the batch again after retry.backoff.ms and a metadata refresh, until delivery.timeout.ms.
    let retrying: Batch[] = []
    let retryTimer: NodeJS.Timeout | undefined
    const retryLater = (b: Batch, why: string) => {
      if (Date.now() >= b.deadline) {
        if (!failure) failure = new ToolError(`Error: Expiring ${b.count} record(s) for ${topic}-${b.partition}: ${o.deliveryTimeoutMs} ms has passed since batch creation (${why})`)
        return false
      }
      retrying.push(b)
      if (!retryTimer) {
        retryTimer = setTimeout(() => {
          retryTimer = undefined
          const batches = retrying
          retrying = []
          const requeue = async () => {
            const fresh = await brokers.partitions(topic, o.maxBlockMs, true)
            for (const p of fresh) {
              leaderOf.set(p.partition, p.leader)
              const conn = await brokers.node(p.leader)
              if (conns.get(p.leader) !== conn) {
                conns.set(p.leader, conn)
                versions.set(p.leader, versionFor(conn, Produce, 9))
              }
              if (!inFlight.has(p.leader)) inFlight.set(p.leader, 0)
              if (!ready.has(p.leader)) ready.set(p.leader, [])
            }
            for (const b of batches) ready.get(leaderOf.get(b.partition)!)!.push(b)
          }
          // Still unreachable: try again later (each batch until its delivery timeout).
          requeue().catch((error: Error) => {
            const why = error.message.replace(/^Error: /, '')
            for (const b of batches) {
              if (failure || !retryLater(b, why)) { pool.push(b); outstanding-- }
            }
          }).finally(() => { pump(); signal() })
        }, o.retryBackoffMs)
      }
      return true
    }
    const complete = (batches: Batch[], resp: ProduceResponse | undefined, connectionError?: string) => {
      const now = Date.now()
      for (const b of batches) {
        let code = 0
        let message: string | null = null
        if (resp) {
          for (const t of resp.responses) for (const p of t.partitionResponses) if (p.index === b.partition && p.errorCode !== 0) { code = p.errorCode; message = p.errorMessage }
        }
        if (connectionError !== undefined || code !== 0) {
          const why = connectionError ?? `${errorName(code)}: ${message || errorMessage(code)}`
          if ((connectionError !== undefined || RETRIABLE.has(code)) && !failure && retryLater(b, why)) continue
          if (!failure) failure = new ToolError(`Error: ${why} (topic ${topic}, partition ${b.partition})`)
        } else if (!failure) {
          for (let i = 0; i < b.count; i++) stats.record(b.firstIndex + i, Math.trunc(now - b.sendTimes[i]), b.sizes[i], now)
        }
        pool.push(b)
        outstanding--
      }
    }

    const pump = () => {
      for (const [id, queue] of ready) {
        const conn = conns.get(id)!
        if (conn.closed) {
          // Lost connection: what waits for it goes through the retry path (reconnect).
          for (const b of queue.splice(0)) {
            if (failure || !retryLater(b, `connection to ${conn.where} closed`)) { pool.push(b); outstanding-- }
          }
          continue
        }
        while (queue.length > 0 && inFlight.get(id)! < o.maxInFlight && !failure) {
          // One request: ready batches (one per partition each) up to max.request.size.
          const byPartition = new Map<number, Buffer[]>()
          const taken: Batch[] = []
          let bytes = 0
          let i = 0
          while (i < queue.length) {
            const b = queue[i]
            if (taken.length > 0 && (bytes + b.pos > o.maxRequestSize || byPartition.has(b.partition))) { i++; continue }
            queue.splice(i, 1)
            taken.push(b)
            bytes += b.pos
            byPartition.set(b.partition, [seal(b)])
            if (bytes >= o.maxRequestSize || byPartition.size >= partitions.length) break
          }
          inFlight.set(id, inFlight.get(id)! + 1)
          const partitionData = [...byPartition].map(([index, bufs]) => ({index, records: bufs[0]}))
          conn.send(Produce, versions.get(id)!, {transactionalId: null, acks: o.acks, timeoutMs: o.requestTimeoutMs, topicData: [{name: topic, partitionData}]}, o.requestTimeoutMs + 5000).then(
            resp => complete(taken, resp),
            error => complete(taken, undefined, (error as Error).message),
          ).finally(() => { inFlight.set(id, inFlight.get(id)! - 1); pump(); signal() })
        }
      }
    }
    const enqueue = (b: Batch) => {
      ready.get(leaderOf.get(b.partition)!)!.push(b)
      outstanding++
      pump()
    }
    // Backlog allowed before the generator waits: buffer.memory worth of batches, as the Java
    // producer blocks send() when its buffer is full (at least enough to keep connections busy).
    const maxOutstanding = Math.max(4, conns.size * o.maxInFlight * 2, partitions.length * 2, Math.floor(o.bufferMemory / capacity))
    const waitForProgress = () => new Promise<void>(res => { wake = res })

    const startMs = Date.now()
    let partitionIdx = Math.floor(Math.random() * partitions.length)
    let current: Batch | undefined
    let lingerTimer: NodeJS.Timeout | undefined
    const flushCurrent = () => {
      if (lingerTimer) { clearTimeout(lingerTimer); lingerTimer = undefined }
      if (!current || current.count === 0) return
      const b = current
      current = undefined
      partitionIdx = (partitionIdx + 1) % partitions.length
      enqueue(b)
    }
    const throttled = o.throughput > 0
    const payloads = o.payloads
    const monoBuf = Buffer.allocUnsafe(20)
    // Views of monoBuf's last 20 - k bytes, made once.
    const monoView = Array.from({length: 21}, (_, k) => monoBuf.subarray(k))
    for (let i = 0; i < o.numRecords; i++) {
      if (failure) break
      // Throttle: ahead of schedule means wait (sending what is open, as linger.ms=0 would).
      if (throttled) {
        const elapsed = Date.now() - startMs
        if (i > o.throughput * elapsed / 1000) {
          if (o.lingerMs === 0) flushCurrent()
          const waitMs = Math.max(1, Math.ceil(i * 1000 / o.throughput - elapsed))
          await new Promise(res => setTimeout(res, waitMs))
          if (failure) break
        }
      }
      while (outstanding >= maxOutstanding && !failure) await waitForProgress()
      if (failure) break
      let payload: Buffer
      if (o.monotonic) {
        // The decimal digits of i, written right-aligned into a reused buffer.
        let v = i
        let start = monoBuf.length
        do { monoBuf[--start] = 48 + (v % 10); v = Math.floor(v / 10) } while (v > 0)
        payload = monoView[start]
      } else {
        payload = payloads.length === 1 ? payloads[0] : payloads[Math.floor(Math.random() * payloads.length)]
      }
      const now = Date.now()
      const recSize = 1 + varintSize(now - (current?.baseTimestamp ?? now)) + varintSize(current?.count ?? 0) + 1 + varintSize(payload.length) + payload.length + 1
      const need = varintSize(recSize) + recSize
      if (current && current.pos + need > current.buf.length) flushCurrent()
      if (!current) {
        current = newBatch(partitions[partitionIdx].partition, i, now)
        if (o.lingerMs > 0) lingerTimer = setTimeout(flushCurrent, o.lingerMs)
      }
      const b = current
      const tsDelta = now - b.baseTimestamp
      const bodySize = 1 + varintSize(tsDelta) + varintSize(b.count) + 1 + varintSize(payload.length) + payload.length + 1
      const buf = b.buf
      let p = writeVarint(buf, b.pos, bodySize)
      buf[p++] = 0 // attributes
      p = writeVarint(buf, p, tsDelta)
      p = writeVarint(buf, p, b.count)
      buf[p++] = 1 // key: null (varint -1)
      p = writeVarint(buf, p, payload.length)
      p += payload.copy(buf, p)
      buf[p++] = 0 // no headers
      b.pos = p
      b.sendTimes[b.count] = now
      b.sizes[b.count] = payload.length
      b.count++
      if (now > b.maxTimestamp) b.maxTimestamp = now
      if (b.count >= maxRecordsPerBatch) flushCurrent()
      // Yield now and then so acknowledgements and timers run.
      if ((i & 1023) === 1023) await new Promise(res => setImmediate(res))
    }
    flushCurrent()
    while (outstanding > 0 && !failure) await waitForProgress()
    if (failure) throw failure
    stats.printTotal()
  }
}
