// kafka-producer-perf-test: Apache Kafka's producer load tool (ProducerPerformance), with its
// flags and output, on the client core's producer: Java's producer defaults (acks=all,
// idempotence on, retries until delivery.timeout.ms, batch.size 16384, linger.ms 0), so a
// record retried across a leader change is written once. Records are appended straight into
// the producer's batches (no per-record objects); each acknowledgement is timed from the
// record's send time (its timestamp), as ProducerPerformance's callback does.
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {KafkaCommand, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {fixed} from '../core/client/perf.js'
import {Producer} from '../core/client/producer.js'
import {ClientConfig, ConfigError} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'

const PROG = 'producer-performance'
const argError = (message: string) => new UsageError(`${PROG}: error: ${message}`)

function parseLong(value: string, flag: string, type = 'Long'): number {
  const t = value.trim()
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw argError(`argument --${flag}: could not convert '${value}' to ${type} (For input string: "${value}")`)
  return Number(t)
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
  static description = 'Sends --num-records records of --record-size bytes (or payloads from --payload-file) to --topic as fast as the broker takes them, or at about --throughput records/s, printing progress every 5 s and a final line with throughput, average and maximum latency and the 50th/95th/99th/99.9th latency percentiles, as Apache Kafka\'s tool does. Properties: bootstrap.servers (required), acks (default all), batch.size (default 16384), linger.ms, max.in.flight.requests.per.connection (default 5), max.request.size (default 1048576), request.timeout.ms, max.block.ms (default 60000), retry.backoff.ms, delivery.timeout.ms (retriable errors and lost connections are retried until then), compression.type (none, gzip, snappy, lz4, zstd), client.id, enable.idempotence (default true, as Kafka 3.x: a retried batch is written once; off when acks is not all). Records that fail are printed on stderr and not counted; the exit status is then 1.'
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
    const bootstrap = props.get('bootstrap.servers')
    if (!bootstrap) throw new ToolError('Error: Missing required configuration "bootstrap.servers" which has no default value.')
    if (props.get('transactional.id')) throw new ToolError('Error: transactional.id is not supported: kafkit has no transactions yet')
    if (props.has('compression.type')) props.set('compression.type', props.get('compression.type')!.trim().toLowerCase())
    if (!props.has('client.id')) props.set('client.id', 'perf-producer-client')
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

    let producer: Producer
    try {
      producer = new Producer(bootstrap, new ClientConfig(props), 'perf-producer-client')
    } catch (error) {
      if (error instanceof ConfigError) throw new ToolError(`Error: ${error.message}`)
      if (error instanceof KafkaClientError) throw new ToolError(`Error: ${error.message}`)
      throw new ToolError(`Error: ${(error as Error).message}`)
    }
    let failed = 0
    try {
      // As KafkaProducer.send() does before the first record: the topic's partitions.
      try {
        await producer.waitOnMetadata(flags.topic)
      } catch (error) {
        throw new ToolError(`Error: ${(error as Error).message}`)
      }
      failed = await this.produce(producer, flags.topic, {numRecords, throughput, payloads, monotonic})
    } finally {
      await producer.close()
    }
    if (failed > 0) {
      await new Promise(res => process.stdout.write('', () => res(undefined)))
      this.exit(1)
    }
  }

  /** Sends the records; resolves with how many failed (each failure printed once). */
  private async produce(producer: Producer, topic: string, o: {numRecords: number; throughput: number; payloads: Buffer[]; monotonic: boolean}): Promise<number> {
    const print = (line: string) => writeLineSync(1, line)
    const stats = new Stats(o.numRecords, 5000, print)
    let failed = 0
    let lastError = ''
    let acked = 0
    // ProducerPerformance's callback: a success is timed from the record's send time (its
    // timestamp); a failure is printed (the same message once) and not counted.
    // A batch's callbacks run in one go: they share one reading of the clock (Date.now() costs
    // about 0.1 us, a measurable share of the tool's CPU at a million records a second).
    let clock = 0
    let clockRead = false
    const expire = () => { clockRead = false }
    const callback = (error: KafkaClientError | null, _partition: number, _offset: number, timestamp: number, bytes: number) => {
      if (!clockRead) {
        clock = Date.now()
        clockRead = true
        queueMicrotask(expire)
      }
      const now = clock
      if (error) {
        failed++
        const line = error.toString()
        if (line !== lastError) writeLineSync(2, line)
        lastError = line
        return
      }
      stats.record(acked++, Math.trunc(now - timestamp), bytes, now)
    }
    const startMs = Date.now()
    const throttled = o.throughput > 0
    const payloads = o.payloads
    const monoBuf = Buffer.allocUnsafe(20)
    // Views of monoBuf's last 20 - k bytes, made once.
    const monoView = Array.from({length: 21}, (_, k) => monoBuf.subarray(k))
    for (let i = 0; i < o.numRecords; i++) {
      // Throttle: ahead of schedule means wait (Kafka's ThroughputThrottler).
      if (throttled) {
        const elapsed = Date.now() - startMs
        if (i > o.throughput * elapsed / 1000) {
          const waitMs = Math.max(1, Math.ceil(i * 1000 / o.throughput - elapsed))
          await new Promise(res => setTimeout(res, waitMs))
        }
      }
      let payload: Buffer
      if (o.monotonic) {
        // The decimal digits of i, written right-aligned into a reused buffer (copied into
        // the batch by send(); a send that waits is awaited before the buffer changes).
        let v = i
        let start = monoBuf.length
        do { monoBuf[--start] = 48 + (v % 10); v = Math.floor(v / 10) } while (v > 0)
        payload = monoView[start]
      } else {
        payload = payloads.length === 1 ? payloads[0] : payloads[Math.floor(Math.random() * payloads.length)]
      }
      const waiting = producer.send(topic, -1, null, payload, null, -1, callback, payload.length)
      if (waiting) await waiting
      // Yield now and then so acknowledgements and timers run.
      if ((i & 1023) === 1023) await new Promise(res => setImmediate(res))
    }
    await producer.flush()
    stats.printTotal()
    return failed
  }
}
