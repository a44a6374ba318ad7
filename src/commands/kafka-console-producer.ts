// kafka-console-producer: every line of standard input becomes a record, in order, sent by
// the client core's producer with Kafka's console-producer defaults (acks=-1, linger.ms=1000
// (--timeout), request.timeout.ms=1500, retries=3, batch.size=16384, idempotence on): a lost
// broker or a moved leader is retried until delivery.timeout.ms, WARN lines on stderr as
// Java's tool prints them. A terminal gets Kafka's `>` prompt. At end of input every record is
// acknowledged or has failed; a record that failed is reported once (Java's ERROR line from
// ErrorLoggingCallback and the exception) and the exit code is 1.
import {Flags} from '@oclif/core'
import {StringDecoder} from 'node:string_decoder'
import {KafkaCommand, bootstrapServerFlag, keyValueFlag, loadClientProperties, parseKeyValues, UsageError, ToolError, writeLineSync} from './base.js'
import {lineFormat, parseLine} from '../core/client/line-reader.js'
import {parseIntOption} from '../core/client/errors.js'
import {invalidTopicName} from '../core/client/format.js'
import {Producer} from '../core/client/producer.js'
import {ClientConfig, ConfigError} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {ClientLogger, Loggers} from '../core/client/log.js'
import type {RecordHeader} from '../core/client/records.js'

export default class KafkaConsoleProducer extends KafkaCommand {
  static hidden = false
  static summary = 'Read data from standard input and publish it to Kafka.'
  static description = 'Each line of standard input becomes one record of --topic, sent in order by an idempotent producer with the Java console producer\'s defaults: a broker that goes away or a leader that moves is retried until delivery.timeout.ms (WARN lines on stderr as Kafka\'s tool prints them), and no record is written twice. With --property parse.key=true the text before key.separator (a tab by default) is the key, and keyed records go to the partition Kafka\'s Java client would choose (murmur2); keyless records use Kafka 3.9\'s sticky partitioning. At end of input the command exits 0 once every record is acknowledged, or 1 when a record failed (reported once, as Kafka\'s ErrorLoggingCallback does).'
  static examples = [
    'cat events.txt | kafka-console-producer --bootstrap-server localhost:9092 --topic dev-topic',
    'kafka-console-producer --broker-list localhost:9092 --topic dev-topic --property parse.key=true --property key.separator=:',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to.'),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<broker-list>'}),
    topic: Flags.string({description: 'REQUIRED: The topic id to produce messages to.', helpValue: '<topic>'}),
    sync: Flags.boolean({description: 'If set message send requests to the brokers are synchronously, one at a time as they arrive.'}),
    'compression-codec': Flags.string({description: 'The compression codec: either \'none\', \'gzip\', \'snappy\', \'lz4\', or \'zstd\'. (native codecs where they installed; without zstd-napi, zstd writes valid frames of stored blocks.)', helpValue: '<compression-codec>'}),
    'batch-size': Flags.string({description: 'Number of messages to send in a single batch if they are not being sent synchronously (default: 16384).', helpValue: '<size>'}),
    'message-send-max-retries': Flags.string({description: 'How many times a batch the broker refused with a retriable error is sent again (retries, default: 3). A broker that cannot be reached costs no retry: records wait for it until delivery.timeout.ms (120000).', helpValue: '<n>'}),
    'retry-backoff-ms': Flags.string({description: 'Wait before each retry, in ms (default: 100).', helpValue: '<ms>'}),
    timeout: Flags.string({description: 'If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size, in ms (default: 1000).', helpValue: '<timeout_ms>'}),
    'request-required-acks': Flags.string({description: 'The required acks of the producer requests: -1/all, 0 or 1 (default: -1).', helpValue: '<acks>'}),
    'request-timeout-ms': Flags.string({description: 'How long a produce request may wait for its acknowledgement, in ms (request.timeout.ms, default: 1500).', helpValue: '<ms>'}),
    'metadata-expiry-ms': Flags.string({description: 'Refresh the metadata after this many ms even without a leadership change (metadata.max.age.ms, default: 300000).', helpValue: '<ms>'}),
    'max-block-ms': Flags.string({description: 'How long a send may wait for topic metadata or buffer space (max.block.ms, default: 60000).', helpValue: '<ms>'}),
    'max-memory-bytes': Flags.string({description: 'Memory for records waiting to be sent (buffer.memory, default: 33554432).', helpValue: '<bytes>'}),
    'max-partition-memory-bytes': Flags.string({description: 'Bytes batched per partition before a batch is sent (batch.size, default: 16384).', helpValue: '<bytes>'}),
    'socket-buffer-size': Flags.string({description: 'Accepted for compatibility (send.buffer.bytes; Node sizes its socket buffers itself).', helpValue: '<bytes>'}),
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
    props.set('compression.type', codec)
    // Kafka's ConsoleProducer: an option given on the command line wins; otherwise its default
    // applies unless the producer properties set the key (CommandLineUtils.maybeMergeOptions).
    const merge = (key: string, flag: string | undefined, def: string, parse?: (v: string) => string) => {
      if (flag !== undefined) props.set(key, parse ? parse(flag) : flag)
      else if (!props.has(key)) props.set(key, def)
    }
    merge('linger.ms', flags.timeout, '1000', v => String(parseIntOption(v, 'timeout', 0)))
    merge('acks', flags['request-required-acks'], '-1', v => v.trim())
    merge('request.timeout.ms', flags['request-timeout-ms'], '1500', v => String(parseIntOption(v, 'request-timeout-ms', 0)))
    merge('retries', flags['message-send-max-retries'], '3', v => String(parseIntOption(v, 'message-send-max-retries', 0)))
    merge('retry.backoff.ms', flags['retry-backoff-ms'], '100', v => String(parseIntOption(v, 'retry-backoff-ms', 0)))
    merge('buffer.memory', flags['max-memory-bytes'], String(32 * 1024 * 1024), v => String(parseIntOption(v, 'max-memory-bytes', 0, Number.MAX_SAFE_INTEGER)))
    merge('batch.size', flags['batch-size'] ?? flags['max-partition-memory-bytes'], '16384', v => String(parseIntOption(v, 'batch-size', 0)))
    merge('metadata.max.age.ms', flags['metadata-expiry-ms'], '300000', v => String(parseIntOption(v, 'metadata-expiry-ms', 0, Number.MAX_SAFE_INTEGER)))
    merge('max.block.ms', flags['max-block-ms'], '60000', v => String(parseIntOption(v, 'max-block-ms', 0, Number.MAX_SAFE_INTEGER)))
    if (!props.has('client.id')) props.set('client.id', 'console-producer')
    const acksText = props.get('acks')!.trim()
    if (!['all', '-1', '0', '1'].includes(acksText)) throw new ToolError(`Invalid value ${acksText} for configuration acks: String must be one of: all, -1, 0, 1`)

    let producer: Producer
    try {
      producer = new Producer(bootstrap, new ClientConfig(props), 'console-producer')
    } catch (error) {
      if (error instanceof ConfigError || error instanceof KafkaClientError) throw new ToolError(error instanceof KafkaClientError ? error.toString() : error.message)
      throw new ToolError(`Error: ${(error as Error).message}`)
    }
    let failed = 0
    let fatal: Error | undefined
    try {
      failed = await this.pump(producer, topic, format, flags.sync)
    } catch (error) {
      fatal = error as Error
    } finally {
      await producer.close()
    }
    if (fatal) {
      if (fatal instanceof ToolError || fatal instanceof UsageError) throw fatal
      throw new ToolError(fatal instanceof KafkaClientError ? fatal.toString() : `Error: ${fatal.message}`)
    }
    await new Promise(res => process.stdout.write('', () => res(undefined)))
    process.exit(failed > 0 ? 1 : 0)
  }

  /**
   * Reads stdin, parses lines and sends them in order; resolves with the number of records
   * that failed once every record has its outcome (the producer is flushed by close()).
   */
  private async pump(producer: Producer, topic: string, format: ReturnType<typeof lineFormat>, sync: boolean): Promise<number> {
    const interactive = Boolean(process.stdin.isTTY)
    const log = new ClientLogger('')
    let failed = 0
    let lineNumber = 0
    // One callback for every record (no per-record closure holding the record): the token
    // carries the key and value sizes Java's ErrorLoggingCallback prints (logAsString false).
    const SIZE = 2 ** 27
    const sizes = (key: Buffer | null, value: Buffer | null) => (key === null ? 0 : key.length + 1) * SIZE + (value === null ? 0 : value.length + 1)
    const bytes = (n: number) => (n === 0 ? 'null' : `${n - 1} bytes`)
    const report = (error: KafkaClientError | null, _p: number, _o: number, _t: number, token: number) => {
      if (!error) return
      failed++
      log.error(Loggers.errorCallback, `Error when sending message to topic ${topic} with key: ${bytes(Math.floor(token / SIZE))}, value: ${bytes(token % SIZE)} with error:`, error)
    }
    const sendLine = async (line: string) => {
      lineNumber++
      if (line.endsWith('\r')) line = line.slice(0, -1)
      const r = parseLine(format, line, lineNumber)
      const value = r.value === null ? null : Buffer.from(r.value)
      const key = r.key === null ? null : Buffer.from(r.key)
      let headers: RecordHeader[] | null = null
      if (r.headers) {
        headers = []
        for (const k in r.headers) {
          const v = r.headers[k]
          headers.push({key: k, value: v === null ? null : Buffer.from(v)})
        }
      }
      if (sync) {
        // --sync: producer.send(record).get(); a failure ends the tool (as Java's does).
        let outcome: KafkaClientError | null = null
        const done = new Promise<void>(res => {
          const p = producer.send(topic, -1, key, value, headers, -1, error => { outcome = error; res() })
          if (p) p.catch(() => {})
        })
        await producer.flush()
        await done
        if (outcome) throw new ToolError(`java.util.concurrent.ExecutionException: ${(outcome as KafkaClientError).toString()}`)
        return
      }
      const waiting = producer.send(topic, -1, key, value, headers, -1, report, sizes(key, value))
      if (waiting) await waiting
    }
    const decoder = new StringDecoder('utf8')
    let rest = ''
    // Kafka's `>` prompt waits on a terminal only; a pipe stays silent.
    if (interactive) process.stdout.write('>')
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      let text = rest + decoder.write(chunk)
      let start = 0
      for (;;) {
        const nl = text.indexOf('\n', start)
        if (nl < 0) break
        await sendLine(text.slice(start, nl))
        start = nl + 1
        if (interactive) process.stdout.write('>')
      }
      rest = text.slice(start)
      text = ''
    }
    rest += decoder.end()
    if (rest.length > 0) await sendLine(rest)
    await producer.flush()
    return failed
  }
}
