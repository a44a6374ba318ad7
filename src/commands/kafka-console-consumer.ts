// kafka-console-consumer: prints records of --topic (or of the topics matching --include)
// on standard output as they arrive, in Kafka's DefaultMessageFormatter format, through the
// client core's consumer (Java's semantics: it follows moved leaders, reconnects, rejoins its
// group when the coordinator moves, and never gives up because a broker went away). Without
// --group it uses a throw-away group console-consumer-<random> that commits nothing.
// Ends on --max-messages, --timeout-ms, Ctrl-C or SIGTERM with "Processed a total of N
// messages" on stderr; with a group, the position is committed on the way out.
import {Flags} from '@oclif/core'
import {KafkaCommand, bootstrapServerFlag, keyValueFlag, loadClientProperties, parseKeyValues, UsageError, ToolError, writeLineSync} from './base.js'
import {formatOptions, formatRecord} from '../core/client/message-formatter.js'
import {parseIntOption} from '../core/client/errors.js'
import {topicFilter} from '../core/client/format.js'
import {onShutdownSignals} from '../core/util/runfile.js'
import {Consumer} from '../core/client/consumer.js'
import {ClientConfig, ConfigError} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'

export default class KafkaConsoleConsumer extends KafkaCommand {
  static hidden = false
  static summary = 'Read data from Kafka topics and write it to standard output.'
  static description = 'Prints each record as it arrives (a live tail), in Apache Kafka\'s console-consumer format. It behaves as Kafka\'s Java consumer does when brokers fail: any bootstrap server may be down, a moved leader or group coordinator is followed, and connection problems are WARN lines on stderr. --property print.key=true, print.timestamp, print.partition, print.offset, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal choose what is printed. Ctrl-C or SIGTERM stops it cleanly; "Processed a total of N messages" goes to stderr.'
  static examples = [
    'kafka-console-consumer --bootstrap-server localhost:9092 --topic dev-topic --from-beginning',
    'kafka-console-consumer --bootstrap-server localhost:9092 --topic dev-topic --group dev-group --property print.key=true --property key.separator=:',
    'kafka-console-consumer --bootstrap-server localhost:9092 --topic dev-topic --partition 0 --offset 42 --max-messages 10',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED: The server(s) to connect to.'),
    topic: Flags.string({description: 'The topic to consume on.', helpValue: '<topic>'}),
    include: Flags.string({description: 'Regular expression specifying list of topics to include for consumption.', helpValue: '<Java regex (String)>'}),
    whitelist: Flags.string({description: 'DEPRECATED, use --include instead.', helpValue: '<Java regex (String)>', hidden: true}),
    partition: Flags.string({description: 'The partition to consume from. Consumption starts from the end of the partition unless \'--offset\' is specified.', helpValue: '<partition>'}),
    offset: Flags.string({description: 'The offset to consume from (a non-negative number), or \'earliest\' which means from beginning, or \'latest\' which means from end (default: latest).', helpValue: '<consume offset>'}),
    'consumer-property': keyValueFlag('A mechanism to pass user-defined properties in the form key=value to the consumer (repeatable).'),
    'consumer.config': Flags.string({description: 'Consumer config properties file. Note that --consumer-property takes precedence over this config.', helpValue: '<config file>'}),
    formatter: Flags.string({description: 'The formatter class; only the default, kafka.tools.DefaultMessageFormatter, is supported (others are refused).', helpValue: '<class>'}),
    'formatter-config': Flags.string({description: 'Config properties file to initialize the message formatter. Note that --property takes precedence over this config.', helpValue: '<config file>'}),
    property: keyValueFlag('The properties to initialize the message formatter (repeatable): print.timestamp, print.key, print.offset, print.partition, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal.'),
    'from-beginning': Flags.boolean({description: 'If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message.'}),
    'max-messages': Flags.string({description: 'The maximum number of messages to consume before exiting. If not set, consumption is continual.', helpValue: '<num_messages>'}),
    'timeout-ms': Flags.string({description: 'If specified, exit if no message is available for consumption for the specified interval.', helpValue: '<timeout_ms>'}),
    'skip-message-on-error': Flags.boolean({description: 'If there is an error when processing a message, skip it instead of halt.'}),
    'key-deserializer': Flags.string({description: 'The deserializer for keys: org.apache.kafka.common.serialization.StringDeserializer (default), ByteArray, Long, Integer, Short, Double, Float, UUID or Void.', helpValue: '<deserializer for keys>'}),
    'value-deserializer': Flags.string({description: 'The deserializer for values (as --key-deserializer), e.g. org.apache.kafka.common.serialization.LongDeserializer for Kafka Streams word counts.', helpValue: '<deserializer for values>'}),
    'enable-systest-events': Flags.boolean({description: 'Accepted for compatibility.', hidden: true}),
    'isolation-level': Flags.string({description: 'Set to read_committed in order to filter out transactional messages which are not committed. Set to read_uncommitted to read all messages (default).', helpValue: '<read_uncommitted|read_committed>'}),
    group: Flags.string({description: 'The consumer group id of the consumer.', helpValue: '<consumer group id>'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaConsoleConsumer)
    const include = flags.include ?? flags.whitelist
    if ((flags.topic ? 1 : 0) + (include ? 1 : 0) !== 1) throw new UsageError('Exactly one of --include/--topic is required. ')
    let partition: number | undefined
    if (flags.partition !== undefined) {
      partition = parseIntOption(flags.partition, 'partition', 0)
      if (!flags.topic) throw new UsageError('The topic is required when partition is specified.')
      if (flags['from-beginning'] && flags.offset !== undefined) throw new UsageError('Options from-beginning and offset cannot be specified together.')
    } else if (flags.offset !== undefined) {
      throw new UsageError('The partition is required when offset is specified.')
    }
    if (!flags['bootstrap-server']) throw new UsageError('Missing required argument "[bootstrap-server]"')
    const bootstrap = flags['bootstrap-server']

    const props = loadClientProperties(flags['consumer.config'])
    for (const [k, v] of parseKeyValues(flags['consumer-property'], 'consumer property')) props.set(k, v)
    const groupIds = new Set<string>()
    if (flags.group) groupIds.add(flags.group)
    if (props.has('group.id')) groupIds.add(props.get('group.id')!)
    if (groupIds.size > 1) throw new UsageError(`The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: ${[...groupIds].map(g => `'${g}'`).join(', ')}`)
    if (groupIds.size > 0 && partition !== undefined) throw new UsageError('Options group and partition cannot be specified together.')
    const reset = props.get('auto.offset.reset')
    if (reset !== undefined && flags['from-beginning'] && reset !== 'earliest') throw new UsageError(`Can't simultaneously specify --from-beginning and 'auto.offset.reset=${reset}', please remove one option`)

    let offset: 'earliest' | 'latest' | bigint = flags['from-beginning'] || reset === 'earliest' ? 'earliest' : 'latest'
    if (flags.offset !== undefined) {
      const o = flags.offset.toLowerCase()
      if (o === 'earliest' || o === 'latest') offset = o
      else if (/^\d+$/.test(flags.offset.trim())) offset = BigInt(flags.offset.trim())
      else throw new UsageError(`The provided offset value '${flags.offset}' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.`)
    }
    const maxMessages = flags['max-messages'] !== undefined ? parseIntOption(flags['max-messages'], 'max-messages') : -1
    const timeoutMs = flags['timeout-ms'] !== undefined ? parseIntOption(flags['timeout-ms'], 'timeout-ms', -1, Number.MAX_SAFE_INTEGER) : -1
    const isolation = (flags['isolation-level'] ?? props.get('isolation.level') ?? 'read_uncommitted').toLowerCase()
    if (isolation !== 'read_uncommitted' && isolation !== 'read_committed') throw new ToolError(`Invalid value ${isolation} for configuration isolation.level: String must be one of: read_committed, read_uncommitted`)

    const formatter = flags.formatter?.trim()
    if (formatter && !/^(kafka\.tools|org\.apache\.kafka\.tools\.consumer)\.DefaultMessageFormatter$/.test(formatter)) throw new ToolError(`Error: formatter ${formatter} is not supported by kafkit; only kafka.tools.DefaultMessageFormatter is`)
    const formatterProps = loadClientProperties(flags['formatter-config'])
    if (flags['key-deserializer']) formatterProps.set('key.deserializer', flags['key-deserializer'])
    if (flags['value-deserializer']) formatterProps.set('value.deserializer', flags['value-deserializer'])
    for (const [k, v] of parseKeyValues(flags.property, 'property')) formatterProps.set(k, v)
    let format: ReturnType<typeof formatOptions>
    try {
      format = formatOptions(formatterProps)
    } catch (error) {
      throw new ToolError(`Error: ${(error as Error).message}`)
    }

    const userGroup = groupIds.size > 0 ? [...groupIds][0] : undefined
    let topicMatch: RegExp | undefined
    if (include) {
      try {
        topicFilter(include)
      } catch (error) {
        throw new UsageError((error as Error).message)
      }
      topicMatch = new RegExp(`^(?:${include.trim().replace(/,/g, '|').replace(/ /g, '').replace(/^["']+/, '').replace(/["']+$/, '')})$`)
    }

    // Kafka's ConsoleConsumerOptions: a random group that commits nothing unless one is given.
    props.set('group.id', userGroup ?? `console-consumer-${Math.floor(Math.random() * 100000)}`)
    if (!userGroup && !props.has('enable.auto.commit')) props.set('enable.auto.commit', 'false')
    props.set('auto.offset.reset', offset === 'earliest' ? 'earliest' : reset ?? 'latest')
    props.set('isolation.level', isolation)
    if (!props.has('client.id')) props.set('client.id', 'console-consumer')
    let consumer: Consumer
    try {
      consumer = new Consumer(bootstrap, new ClientConfig(props), 'console-consumer')
    } catch (error) {
      if (error instanceof ConfigError) throw new ToolError(error.message)
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw new ToolError(`Error: ${(error as Error).message}`)
    }

    let processed = 0
    let finished = false
    let lastActivity = Date.now()
    const finish = () => {
      finished = true
      consumer.wakeup()
    }
    onShutdownSignals(() => finish())
    let fatal: Error | undefined
    try {
      if (partition !== undefined) {
        const tp = {topic: flags.topic!, partition}
        consumer.assign([tp])
        if (typeof offset === 'bigint') consumer.seek(tp.topic, partition, Number(offset))
        else if (offset === 'earliest') consumer.seekToBeginning([tp])
        else consumer.seekToEnd([tp])
      } else {
        consumer.subscribe(topicMatch ?? [flags.topic!])
      }
      if (maxMessages === 0) finished = true
      while (!finished) {
        const wait = timeoutMs >= 0 ? Math.max(0, timeoutMs - (Date.now() - lastActivity)) : 1000
        const records = await consumer.poll(Math.max(1, wait))
        if (records.length === 0) {
          if (timeoutMs >= 0 && Date.now() - lastActivity >= timeoutMs) break
          continue
        }
        const out: Buffer[] = []
        let i = 0
        for (; i < records.length && !finished; i++) {
          const m = records[i]
          const mark = out.length
          try {
            formatRecord(format, {partition: m.partition, offset: String(m.offset), timestamp: String(m.timestamp), timestampType: m.timestampType, key: m.key, value: m.value, headers: m.headers}, out)
          } catch (error) {
            out.length = mark
            if (!flags['skip-message-on-error']) {
              fatal = new ToolError(`Error processing message, terminating consumer process: ${(error as Error).message}`)
              finished = true
              i++
              break
            }
          }
          // A record skipped on error is counted too, as Kafka's consumer counts it.
          processed++
          if (maxMessages >= 0 && processed >= maxMessages) finished = true
        }
        // Records polled but not printed are not committed: the group resumes at them.
        const seen = new Set<string>()
        for (const r of records.slice(i)) {
          const k = `${r.topic}-${r.partition}`
          if (!seen.has(k)) { seen.add(k); consumer.seek(r.topic, r.partition, r.offset) }
        }
        if (out.length) {
          lastActivity = Date.now()
          const wait = this.writeOut(out.length === 1 ? out[0] : Buffer.concat(out))
          if (wait) await wait
        }
      }
    } catch (error) {
      fatal = error as Error
    } finally {
      await consumer.close().catch(() => {})
      writeLineSync(2, `Processed a total of ${processed} messages`)
    }
    if (fatal) {
      if (fatal instanceof ToolError || fatal instanceof UsageError) throw fatal
      throw new ToolError(fatal instanceof KafkaClientError ? `Error processing message, terminating consumer process: ${fatal.toString()}` : `Error: ${fatal.message}`)
    }
    await new Promise(res => process.stdout.write('', () => res(undefined)))
    process.exit(0)
  }
}
