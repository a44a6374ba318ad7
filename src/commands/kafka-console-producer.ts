// kafka-console-producer: every line of standard input becomes a record, in order. A pipe
// is read as fast as it comes and sent in large batches (one batch in flight while the
// next fills); a terminal gets Kafka's `>` prompt. Exits 0 at end of input once every
// record is acknowledged; any failure is one line on stderr and exit 1.
import {Flags} from '@oclif/core'
import {StringDecoder} from 'node:string_decoder'
import kafkajs from 'kafkajs'
import type {Message, Producer} from 'kafkajs'
import {KafkaCommand, bootstrapServerFlag, keyValueFlag, loadClientProperties, parseKeyValues, UsageError, ToolError} from './base.js'
import {createKafka, describeKafkaJsError} from '../core/client/kafkajs.js'
import {lineFormat, parseLine} from '../core/client/line-reader.js'
import {parseIntOption} from '../core/client/errors.js'
import {invalidTopicName} from '../core/client/format.js'

const {Partitioners, CompressionTypes} = kafkajs

export default class KafkaConsoleProducer extends KafkaCommand {
  static hidden = false
  static summary = 'Read data from standard input and publish it to Kafka.'
  static description = 'Each line of standard input becomes one record of --topic. Records are delivered in order; the command exits 0 at end of input once every record is acknowledged. With --property parse.key=true the text before key.separator (a tab by default) is the key, and keyed records go to the partition Kafka\'s Java client would choose (murmur2).'
  static examples = [
    'cat events.txt | kafka-console-producer --bootstrap-server localhost:9092 --topic dev-topic',
    'kafka-console-producer --broker-list localhost:9092 --topic dev-topic --property parse.key=true --property key.separator=:',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to.'),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<broker-list>'}),
    topic: Flags.string({description: 'REQUIRED: The topic id to produce messages to.', helpValue: '<topic>'}),
    sync: Flags.boolean({description: 'If set message send requests to the brokers are synchronously, one at a time as they arrive.'}),
    'compression-codec': Flags.string({description: 'The compression codec: either \'none\', \'gzip\', \'snappy\', \'lz4\', or \'zstd\'. (zstd compresses on Node 22.15+; on older Node it writes valid zstd frames of stored blocks.)', helpValue: '<compression-codec>'}),
    'batch-size': Flags.string({description: 'Number of messages to send in a single batch if they are not being sent synchronously (default: 16384).', helpValue: '<size>'}),
    'message-send-max-retries': Flags.string({description: 'Number of times a failed send is retried (default: 3).', helpValue: '<n>'}),
    'retry-backoff-ms': Flags.string({description: 'Wait before each retry, in ms (default: 100).', helpValue: '<ms>'}),
    timeout: Flags.string({description: 'If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size, in ms (default: 1000).', helpValue: '<timeout_ms>'}),
    'request-required-acks': Flags.string({description: 'The required acks of the producer requests: -1/all, 0 or 1 (default: -1).', helpValue: '<acks>'}),
    'request-timeout-ms': Flags.string({description: 'The ack timeout of the producer requests, in ms (default: 1500).', helpValue: '<ms>'}),
    'metadata-expiry-ms': Flags.string({description: 'Accepted for compatibility.', helpValue: '<ms>'}),
    'max-block-ms': Flags.string({description: 'Accepted for compatibility.', helpValue: '<ms>'}),
    'max-memory-bytes': Flags.string({description: 'Accepted for compatibility.', helpValue: '<bytes>'}),
    'max-partition-memory-bytes': Flags.string({description: 'Accepted for compatibility.', helpValue: '<bytes>'}),
    'socket-buffer-size': Flags.string({description: 'Accepted for compatibility.', helpValue: '<bytes>'}),
    property: keyValueFlag('A mechanism to pass properties to the line reader (repeatable): parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, null.marker, ignore.error.'),
    'reader-config': Flags.string({description: 'Config properties file for the line reader (same keys as --property).', helpValue: '<config file>'}),
    'producer-property': keyValueFlag('A mechanism to pass user-defined properties in the form key=value to the producer (repeatable).'),
    'producer.config': Flags.string({description: 'Producer config properties file. Note that --producer-property takes precedence over this config.', helpValue: '<config file>'}),
    'line-reader': Flags.string({description: 'The line reader class; only the default (kafka.tools.ConsoleProducer$LineMessageReader) is supported, others are refused.', helpValue: '<reader_class>'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaConsoleProducer)
    const bootstrap = flags['bootstrap-server'] ?? flags['broker-list']
    if (!bootstrap) throw new UsageError('Missing required option(s) [bootstrap-server]')
    if (!flags.topic) throw new UsageError('Missing required argument "[topic]"')
    const topic = flags.topic
    const badName = invalidTopicName(topic)
    if (badName) throw new ToolError(`Error: ${badName}`)

    const reader = flags['line-reader']?.trim()
    if (reader && !/^(kafka\.tools\.ConsoleProducer\$LineMessageReader|org\.apache\.kafka\.tools\.LineMessageReader)$/.test(reader)) throw new ToolError(`Error: line reader ${reader} is not supported by kafkit; only the default line reader is`)
    const props = loadClientProperties(flags['producer.config'])
    for (const [k, v] of parseKeyValues(flags['producer-property'], 'producer property')) props.set(k, v)
    const readerProps = loadClientProperties(flags['reader-config'])
    for (const [k, v] of parseKeyValues(flags.property, 'property')) readerProps.set(k, v)
    const format = lineFormat(readerProps)

    const codec = (flags['compression-codec'] ?? props.get('compression.type') ?? 'none').trim().toLowerCase()
    if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(codec)) throw new ToolError(`Invalid value ${codec} for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd`)
    const compression = {none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD}[codec as 'none']

    const acksText = (flags['request-required-acks'] ?? props.get('acks') ?? '-1').trim()
    const acks = acksText === 'all' ? -1 : Number(acksText)
    if (![-1, 0, 1].includes(acks)) throw new ToolError(`Invalid value ${acksText} for configuration acks: String must be one of: all, -1, 0, 1`)
    const lingerMs = flags.timeout !== undefined ? parseIntOption(flags.timeout, 'timeout', 0) : Number(props.get('linger.ms') ?? 1000)
    const batchBytes = flags['batch-size'] !== undefined ? parseIntOption(flags['batch-size'], 'batch-size', 1) : Number(props.get('batch.size') ?? 16384)
    const requestTimeout = flags['request-timeout-ms'] !== undefined ? parseIntOption(flags['request-timeout-ms'], 'request-timeout-ms', 1) : Number(props.get('request.timeout.ms') ?? 30000)
    if (flags['message-send-max-retries'] !== undefined) props.set('retries', String(parseIntOption(flags['message-send-max-retries'], 'message-send-max-retries', 0)))
    if (flags['retry-backoff-ms'] !== undefined) props.set('retry.backoff.ms', String(parseIntOption(flags['retry-backoff-ms'], 'retry-backoff-ms', 0)))
    props.set('request.timeout.ms', String(Math.max(requestTimeout, 1000)))

    const kafka = createKafka(bootstrap, props, 'console-producer')
    const producer = kafka.producer({createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true, idempotent: false})
    const fail = (error: unknown): never => {
      if (error instanceof ToolError || error instanceof UsageError) throw error
      throw new ToolError(describeKafkaJsError(error, bootstrap))
    }
    await this.withSpinner(`connecting to ${bootstrap}`, () => producer.connect()).catch(fail)
    let ok = false
    try {
      await this.pump(producer, topic, format, {acks, compression, timeout: requestTimeout, sync: flags.sync, lingerMs, batchBytes}).catch(fail)
      ok = true
    } finally {
      await producer.disconnect().catch(() => {})
    }
    if (ok) process.exit(0)
  }

  /** Reads stdin, parses lines and sends them in order; resolves when all are acknowledged. */
  private async pump(producer: Producer, topic: string, format: ReturnType<typeof lineFormat>, o: {acks: number; compression: number; timeout: number; sync: boolean; lingerMs: number; batchBytes: number}): Promise<void> {
    const interactive = Boolean(process.stdin.isTTY)
    // Batches of up to this many bytes per send: large for pipes (throughput) but below the
    // broker's default message.max.bytes (1 MiB) even when every record lands in one
    // partition; one line at a time when asked to be synchronous.
    const maxBatchBytes = o.sync ? 0 : Number(process.env.KAFKIT_PRODUCER_BATCH_BYTES ?? 960 * 1024)
    const maxBatchCount = o.sync ? 1 : 50000
    const maxQueued = Number(process.env.KAFKIT_PRODUCER_QUEUED ?? 2)
    let batch: Message[] = []
    let batchBytes = 0
    let failure: unknown
    let lingerTimer: NodeJS.Timeout | undefined
    let lineNumber = 0
    // Sends are chained so they reach the broker strictly in input order; at most two
    // batches are queued while the next one fills.
    let chain: Promise<void> = Promise.resolve()
    const queued: Promise<void>[] = []

    const send = (messages: Message[]) => producer.send({topic, messages, acks: o.acks, timeout: o.timeout, compression: o.compression})
    const flush = () => {
      if (lingerTimer) { clearTimeout(lingerTimer); lingerTimer = undefined }
      if (batch.length === 0) return
      const messages = batch
      batch = []
      batchBytes = 0
      chain = chain.then(() => (failure ? undefined : send(messages).then(() => {}, error => { failure = error })))
      queued.push(chain)
    }
    const drain = async (max: number) => {
      while (queued.length > max) await queued.shift()
      if (failure) throw failure
    }

    const decoder = new StringDecoder('utf8')
    let rest = ''
    const onLine = (line: string) => {
      lineNumber++
      if (line.endsWith('\r')) line = line.slice(0, -1)
      const r = parseLine(format, line, lineNumber)
      if (r.headers) {
        // kafkajs cannot encode a null header value; it is sent empty.
        for (const k in r.headers) if (r.headers[k] === null) r.headers[k] = ''
      }
      const value = r.value === null ? null : Buffer.from(r.value)
      const key = r.key === null ? null : Buffer.from(r.key)
      batch.push({key, value, headers: r.headers as Record<string, string> | undefined})
      // Record size on the wire: key, value, headers and ~20 bytes of varints.
      batchBytes += (value?.length ?? 0) + (key?.length ?? 0) + 24
      if (r.headers) for (const k in r.headers) batchBytes += Buffer.byteLength(k) + Buffer.byteLength(r.headers[k] ?? '') + 8
    }
    // Kafka's `>` prompt waits on a terminal only; a pipe stays silent.
    if (interactive) process.stdout.write('>')
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      if (failure) throw failure
      let text = rest + decoder.write(chunk)
      let start = 0
      for (;;) {
        const nl = text.indexOf('\n', start)
        if (nl < 0) break
        onLine(text.slice(start, nl))
        start = nl + 1
        if (interactive) process.stdout.write('>')
        if (batch.length >= maxBatchCount || batchBytes >= maxBatchBytes) {
          flush()
          await drain(o.sync ? 0 : maxQueued)
        }
      }
      rest = text.slice(start)
      text = ''
      if (batch.length > 0 && !lingerTimer) {
        if (interactive || o.sync) {
          flush()
          await drain(o.sync ? 0 : maxQueued)
        } else lingerTimer = setTimeout(flush, o.lingerMs)
      }
    }
    rest += decoder.end()
    if (rest.length > 0) onLine(rest)
    flush()
    await drain(0)
  }
}
