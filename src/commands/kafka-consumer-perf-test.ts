// kafka-consumer-perf-test: Apache Kafka's consumer load tool (ConsumerPerformance), with its
// flags and output, on the client core's consumer: it subscribes with its group (default
// perf-consumer-<random>), starts at the group's committed offsets (else the earliest, or the
// latest with --from-latest), follows moved leaders and a moved coordinator, and commits
// where it stopped when it closes. Records are counted by walking the fetched batches in
// place (no per-record objects). rebalance.time.ms is the time the group join took.
import {Flags} from '@oclif/core'
import {KafkaCommand, bootstrapServerFlag, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {fixed, simpleDateFormat} from '../core/client/perf.js'
import {parseIntOption} from '../core/client/errors.js'
import {Consumer} from '../core/client/consumer.js'
import {ClientConfig, ConfigError} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'

function parseLongOption(value: string, option: string, min = Number.MIN_SAFE_INTEGER): number {
  const t = value.trim()
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t)) || Number(t) < min) throw new ToolError(`Cannot parse argument '${value}' of option ${option}`)
  return Number(t)
}

export default class KafkaConsumerPerfTest extends KafkaCommand {
  static hidden = false
  static summary = 'This tool is used to verify the consumer performance.'
  static description = 'Consumes --messages records of --topic as fast as the broker serves them and prints Apache Kafka\'s result line (start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec), or a line per --reporting-interval with --show-detailed-stats. Starts at the group\'s committed offsets (else the earliest, or the latest with --from-latest) and commits where it stopped. It joins the group as a member (rebalance.time.ms is the time the join took), follows moved leaders and a moved coordinator, and commits where it stopped; the --timeout clock starts once the group is joined.'
  static examples = [
    'kafka-consumer-perf-test --bootstrap-server 127.0.0.1:9092 --topic t --messages 100000',
    'kafka-consumer-perf-test --bootstrap-server 127.0.0.1:9092 --topic t --messages 100000 --show-detailed-stats --reporting-interval 1000',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to.'),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<broker-list>'}),
    topic: Flags.string({description: 'REQUIRED: The topic to consume from.', helpValue: '<topic>'}),
    messages: Flags.string({description: 'REQUIRED: The number of messages to send or consume', helpValue: '<count>'}),
    group: Flags.string({description: 'The group id to consume on. (default: perf-consumer-<random>)', helpValue: '<gid>'}),
    'fetch-size': Flags.string({description: 'The amount of data to fetch in a single request. (default: 1048576)', helpValue: '<size>'}),
    'from-latest': Flags.boolean({description: 'If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message.'}),
    'socket-buffer-size': Flags.string({description: 'The size of the tcp RECV size. (accepted, not used) (default: 2097152)', helpValue: '<size>'}),
    'consumer.config': Flags.string({description: 'Consumer config properties file.', helpValue: '<config file>'}),
    'print-metrics': Flags.boolean({description: 'Print out the metrics. (not supported by kafkit: refused)'}),
    'show-detailed-stats': Flags.boolean({description: 'If set, stats are reported for each reporting interval as configured by reporting-interval'}),
    timeout: Flags.string({description: 'The maximum allowed time in milliseconds between returned records. (default: 10000)', helpValue: '<milliseconds>'}),
    'reporting-interval': Flags.string({description: 'Interval in milliseconds at which to print progress info. (default: 5000)', helpValue: '<interval_ms>'}),
    'date-format': Flags.string({description: 'The date format to use for formatting the time field. See java.text.SimpleDateFormat for options. (default: yyyy-MM-dd HH:mm:ss:SSS)', helpValue: '<date format>'}),
    'hide-header': Flags.boolean({description: 'If set, skips printing the header for the stats'}),
    threads: Flags.string({description: 'DEPRECATED AND IGNORED: Number of processing threads. (default: 10)', helpValue: '<count>'}),
    'num-fetch-threads': Flags.string({description: 'DEPRECATED AND IGNORED: Number of fetcher threads. (default: 1)', helpValue: '<count>'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaConsumerPerfTest)
    const bootstrap = flags['bootstrap-server'] ?? flags['broker-list']
    if (!bootstrap) throw new UsageError('Missing required option(s) [bootstrap-server]')
    if (flags.topic === undefined) throw new UsageError('Missing required argument "[topic]"')
    if (flags.messages === undefined) throw new UsageError('Missing required argument "[messages]"')
    const numMessages = parseLongOption(flags.messages, 'messages')
    const timeoutMs = flags.timeout === undefined ? 10000 : parseLongOption(flags.timeout, 'timeout')
    const reportingIntervalMs = flags['reporting-interval'] === undefined ? 5000 : parseLongOption(flags['reporting-interval'], 'reporting-interval', 0)
    if (reportingIntervalMs <= 0) throw new ToolError('Reporting interval must be greater than 0.')
    const fetchSize = flags['fetch-size'] === undefined ? 1048576 : parseIntOption(flags['fetch-size'], 'fetch-size', 0)
    if (flags['socket-buffer-size'] !== undefined) parseIntOption(flags['socket-buffer-size'], 'socket-buffer-size')
    if (flags.threads !== undefined) parseIntOption(flags.threads, 'threads')
    if (flags['num-fetch-threads'] !== undefined) parseIntOption(flags['num-fetch-threads'], 'num-fetch-threads')
    if (flags['print-metrics']) throw new ToolError('Error: --print-metrics is not supported by kafkit (the consumer has no Java metrics registry)')
    const dateFormat = simpleDateFormat(flags['date-format'] ?? 'yyyy-MM-dd HH:mm:ss:SSS')
    const props = loadClientProperties(flags['consumer.config'])
    const group = flags.group ?? props.get('group.id') ?? `perf-consumer-${Math.floor(Math.random() * 100000)}`
    const clientId = props.get('client.id') ?? 'perf-consumer-client'
    const detailed = flags['show-detailed-stats']

    if (flags.threads !== undefined || flags['num-fetch-threads'] !== undefined) writeLineSync(1, 'WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test')
    if (!flags['hide-header']) {
      const extra = ', rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec'
      writeLineSync(1, detailed ? `time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec${extra}` : `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec${extra}`)
    }

    props.set('group.id', group)
    props.set('client.id', clientId)
    props.set('auto.offset.reset', flags['from-latest'] ? 'latest' : props.get('auto.offset.reset') ?? 'earliest')
    props.set('max.partition.fetch.bytes', String(fetchSize))
    if (!props.has('fetch.max.wait.ms')) props.set('fetch.max.wait.ms', '500')
    let consumer: Consumer
    try {
      consumer = new Consumer(bootstrap, new ClientConfig(props), 'perf-consumer-client')
    } catch (error) {
      if (error instanceof ConfigError) throw new ToolError(`Error: ${error.message}`)
      if (error instanceof KafkaClientError) throw new ToolError(`Error: ${error.toString()}`)
      throw new ToolError(`Error: ${(error as Error).message}`)
    }

    const startMs = Date.now()
    let joinStartMs = startMs
    let joinTimeMs = 0
    let joinInRound = 0
    consumer.listener = {
      onAssigned: () => { const t = Date.now() - joinStartMs; joinTimeMs += t; joinInRound += t },
      onRevoked: () => { joinStartMs = Date.now() },
    }
    let messages = 0
    let bytes = 0
    let endMs = startMs
    try {
      consumer.subscribe([flags.topic])
      // The clock of --timeout starts once the group is joined and the positions are known.
      await consumer.awaitPositions(Math.max(timeoutMs, 10000))
      let now = Date.now()
      let lastReportMs = now
      let lastConsumedMs = now
      let lastMessages = 0
      let lastBytes = 0
      while (messages < numMessages && now - lastConsumedMs <= timeoutMs) {
        const r = await consumer.pollCount(100, Math.min(500, numMessages - messages))
        now = Date.now()
        if (r.count > 0) lastConsumedMs = now
        messages += r.count
        bytes += r.bytes
        if (r.count > 0 && now - lastReportMs >= reportingIntervalMs) {
          if (detailed) {
            const elapsedMs = now - lastReportMs
            const totalMb = bytes / (1024 * 1024)
            const intervalMb = (bytes - lastBytes) / (1024 * 1024)
            const fetchTimeMs = elapsedMs - joinInRound
            writeLineSync(1, [dateFormat(now), '0', fixed(totalMb, 4), fixed(1000.0 * intervalMb / elapsedMs, 4), String(messages), fixed((messages - lastMessages) / elapsedMs * 1000.0, 4),
              String(joinInRound), String(fetchTimeMs), fixed(fetchTimeMs <= 0 ? 0 : 1000.0 * intervalMb / fetchTimeMs, 4), fixed(fetchTimeMs <= 0 ? 0 : 1000.0 * (messages - lastMessages) / fetchTimeMs, 4)].join(', '))
          }
          joinInRound = 0
          lastReportMs = now
          lastMessages = messages
          lastBytes = bytes
        }
      }
      endMs = Date.now()
      if (messages < numMessages) writeLineSync(1, `WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.`)
    } catch (error) {
      if (error instanceof KafkaClientError) throw new ToolError(`Error: ${error.toString()}`)
      throw error
    } finally {
      await consumer.close()
    }

    if (!detailed) {
      const elapsedSec = (endMs - startMs) / 1000.0
      const fetchTimeMs = endMs - startMs - joinTimeMs
      const mb = bytes / (1024 * 1024)
      writeLineSync(1, [dateFormat(startMs), dateFormat(endMs), fixed(mb, 4), fixed(mb / elapsedSec, 4), String(messages), fixed(messages / elapsedSec, 4), String(joinTimeMs), String(fetchTimeMs), fixed(mb / (fetchTimeMs / 1000.0), 4), fixed(messages / (fetchTimeMs / 1000.0), 4)].join(', '))
    }
  }
}
