// kafka-console-consumer: prints records of --topic (or of the topics matching --include)
// on standard output as they arrive, in Kafka's DefaultMessageFormatter format. Without
// --group it uses a throw-away group console-consumer-<random> that commits nothing.
// Ends on --max-messages, --timeout-ms, Ctrl-C or SIGTERM with "Processed a total of N
// messages" on stderr.
import {Flags} from '@oclif/core'
import kafkajs from 'kafkajs'
import type {Consumer, EachBatchPayload} from 'kafkajs'
import {KafkaCommand, bootstrapServerFlag, keyValueFlag, loadClientProperties, parseKeyValues, UsageError, ToolError, writeLineSync} from './base.js'
import {createKafka, describeKafkaJsError} from '../core/client/kafkajs.js'
import {formatOptions, formatRecord} from '../core/client/message-formatter.js'
import {parseIntOption} from '../core/client/errors.js'
import {topicFilter} from '../core/client/format.js'
import {onShutdownSignals} from '../core/util/runfile.js'

const {AssignerProtocol} = kafkajs

export default class KafkaConsoleConsumer extends KafkaCommand {
  static hidden = false
  static summary = 'Read data from Kafka topics and write it to standard output.'
  static description = 'Prints each record as it arrives (a live tail), in Apache Kafka\'s console-consumer format. --property print.key=true, print.timestamp, print.partition, print.offset, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal choose what is printed. Ctrl-C or SIGTERM stops it cleanly; "Processed a total of N messages" goes to stderr.'
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
    const groupId = userGroup ?? `console-consumer-${Math.floor(Math.random() * 100000)}`
    const autoCommit = (props.get('enable.auto.commit') ?? (userGroup ? 'true' : 'false')).trim().toLowerCase() === 'true'
    let topicMatch: RegExp | undefined
    if (include) {
      try {
        topicFilter(include)
      } catch (error) {
        throw new UsageError((error as Error).message)
      }
      topicMatch = new RegExp(`^(?:${include.trim().replace(/,/g, '|').replace(/ /g, '').replace(/^["']+/, '').replace(/["']+$/, '')})$`)
    }

    const kafka = createKafka(bootstrap, props, 'console-consumer')
    const consumer: Consumer = kafka.consumer({
      groupId,
      readUncommitted: isolation === 'read_uncommitted',
      sessionTimeout: Number(props.get('session.timeout.ms') ?? 45000),
      heartbeatInterval: Number(props.get('heartbeat.interval.ms') ?? 3000),
      maxWaitTimeInMs: Number(props.get('fetch.max.wait.ms') ?? 500),
      maxBytesPerPartition: Number(props.get('max.partition.fetch.bytes') ?? 1048576),
      allowAutoTopicCreation: (props.get('allow.auto.create.topics') ?? 'true') === 'true',
      ...(partition !== undefined ? {partitionAssigners: [onePartitionAssigner(flags.topic!, partition)]} : {}),
    })

    let processed = 0
    let finished = false
    let lastActivity = Date.now()
    let timeoutTimer: NodeJS.Timeout | undefined
    const committed = new Map<string, {topic: string; partition: number; offset: string}>()
    let resolveDone!: (reason: string) => void
    const done = new Promise<string>(res => { resolveDone = res })
    const finish = (reason: string) => {
      if (finished) return
      finished = true
      resolveDone(reason)
    }
    onShutdownSignals(sig => finish(sig))
    let fatal: unknown
    consumer.on(consumer.events.CRASH, (e: any) => { fatal = e.payload?.error; finish('crash') })

    const fail = (error: unknown): never => {
      if (error instanceof ToolError || error instanceof UsageError) throw error
      throw new ToolError(describeKafkaJsError(error, bootstrap))
    }

    try {
      await this.withSpinner(`connecting to ${bootstrap}`, () => consumer.connect()).catch(fail)
      await consumer.subscribe({topics: [topicMatch ?? flags.topic!], fromBeginning: offset === 'earliest'}).catch(fail)
      if (typeof offset === 'bigint') {
        const target = offset.toString()
        consumer.on(consumer.events.GROUP_JOIN, () => {
          consumer.seek({topic: flags.topic!, partition: partition!, offset: target})
        })
      }
      if (timeoutMs >= 0) {
        const tick = () => {
          if (finished) return
          const idle = Date.now() - lastActivity
          if (idle >= timeoutMs) finish('timeout')
          else timeoutTimer = setTimeout(tick, timeoutMs - idle)
        }
        timeoutTimer = setTimeout(tick, timeoutMs)
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({batch, resolveOffset, heartbeat, isRunning, isStale}: EachBatchPayload) => {
          if (finished) return
          const out: Buffer[] = []
          let last: string | undefined
          for (const m of batch.messages) {
            if (finished || !isRunning() || isStale()) break
            if ((m as any).isControlRecord) { last = m.offset; continue }
            const mark = out.length
            try {
              formatRecord(format, {
                partition: batch.partition,
                offset: m.offset,
                timestamp: m.timestamp,
                timestampType: (m as any).batchContext?.timestampType ?? 0,
                key: m.key ?? null,
                value: m.value ?? null,
                headers: m.headers as any,
              }, out)
            } catch (error) {
              out.length = mark
              if (!flags['skip-message-on-error']) {
                fatal = new ToolError(`Error processing message, terminating consumer process: ${(error as Error).message}`)
                finished = true
                resolveDone('crash')
                break
              }
              // Skipped, but counted, as Kafka's consumer counts it.
              last = m.offset
              processed++
              if (maxMessages >= 0 && processed >= maxMessages) { finished = true; break }
              continue
            }
            last = m.offset
            processed++
            if (maxMessages >= 0 && processed >= maxMessages) { finished = true; break }
          }
          if (last !== undefined) {
            resolveOffset(last)
            committed.set(`${batch.topic}:${batch.partition}`, {topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString()})
          }
          if (out.length) {
            lastActivity = Date.now()
            const wait = this.writeOut(out.length === 1 ? out[0] : Buffer.concat(out))
            if (wait) await wait
          }
          if (finished) resolveDone('max-messages')
          else await heartbeat()
        },
      }).catch(fail)
      if (maxMessages === 0) finish('max-messages')
      const reason = await done
      if (reason === 'crash' && fatal) fail(fatal)
    } finally {
      if (timeoutTimer) clearTimeout(timeoutTimer)
      if (autoCommit && committed.size) await consumer.commitOffsets([...committed.values()]).catch(() => {})
      await Promise.race([consumer.disconnect().catch(() => {}), new Promise(r => setTimeout(r, 5000).unref())])
      writeLineSync(2, `Processed a total of ${processed} messages`)
    }
    await new Promise(res => process.stdout.write('', () => res(undefined)))
    process.exit(0)
  }
}

/** A kafkajs assigner that gives the one member exactly the requested partition. */
function onePartitionAssigner(topic: string, partition: number) {
  const name = 'KafkitConsolePartition'
  return () => ({
    name,
    version: 1,
    async assign({members}: {members: {memberId: string}[]}) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({version: 1, assignment: i === 0 ? {[topic]: [partition]} : {}, userData: Buffer.alloc(0)}),
      }))
    },
    protocol({topics}: {topics: string[]}) {
      return {name, metadata: AssignerProtocol.MemberMetadata.encode({version: 1, topics, userData: Buffer.alloc(0)})}
    },
  })
}
