// kafka-verifiable-consumer: Apache Kafka's VerifiableConsumer on the client core's consumer
// (classic group protocol). It subscribes to one topic in a group and prints one JSON event per
// line on stdout, the lines Kafka's system tests parse: startup_complete, partitions_assigned /
// partitions_revoked (rebalance listener), records_consumed (per-partition count and offset
// range) after each poll, record_data per record with --verbose, offsets_committed after each
// synchronous commit (without --enable-autocommit), shutdown_complete. Field names, order and
// types are Kafka 3.9's; maps are listed in java.util.HashMap's order, as Jackson prints them.
import {Flags} from '@oclif/core'
import {loadClientProperties, ToolError} from './base.js'
import {ArgparseCommand, argError, parseJavaNumber} from './argparse.js'
import {Consumer, type ConsumerRecord, type TopicPartition} from '../core/client/consumer.js'
import {ClientConfig} from '../core/client/config.js'
import {ClientLogger} from '../core/client/log.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {topicPartitionOrder} from '../core/client/java-hash.js'

const PROG = 'verifiable-consumer'
const LOGGER = 'org.apache.kafka.tools.VerifiableConsumer'
const str = (s: string | null) => JSON.stringify(s)
const partitionsJson = (tps: TopicPartition[]) => `[${tps.map(tp => `{"topic":${str(tp.topic)},"partition":${tp.partition}}`).join(',')}]`
const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'))

export default class KafkaVerifiableConsumer extends ArgparseCommand {
  static hidden = false
  static prog = PROG
  static summary = 'This tool consumes messages from a specific topic and emits consumer events (e.g. group rebalances, received messages, and offsets committed) as JSON objects to STDOUT.'
  static description = 'Apache Kafka\'s VerifiableConsumer, on kafkit\'s client core (classic group protocol, range or roundrobin assignor). Each line on stdout is one JSON event as Kafka 3.9 prints it: startup_complete; partitions_assigned and partitions_revoked with [{"topic","partition"}]; records_consumed after each poll with count and partitions [{"topic","partition","count","minOffset","maxOffset"}]; record_data (key, value, topic, partition, offset) per record with --verbose; offsets_committed (offsets [{"topic","partition","offset"}], error when it failed, success) after each commit when --enable-autocommit is not given; shutdown_complete at the end (--max-messages reached, SIGINT or SIGTERM: exit 130/143). The consumer starts at --reset-policy (default earliest) when the group has no offset.'
  static examples = [
    'kafka-verifiable-consumer --bootstrap-server 127.0.0.1:9092 --topic t --group-id g --max-messages 1000',
    'kafka-verifiable-consumer --bootstrap-server 127.0.0.1:9092 --topic t --group-id g --verbose --enable-autocommit --assignment-strategy org.apache.kafka.clients.consumer.RoundRobinAssignor',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...', helpValue: 'HOST1:PORT1[,HOST2:PORT2[...]]'}),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...', helpValue: 'HOST1:PORT1[,HOST2:PORT2[...]]'}),
    topic: Flags.string({description: 'Consumes messages from this topic.', helpValue: 'TOPIC'}),
    'group-protocol': Flags.string({description: 'Group protocol (must be one of CLASSIC, CONSUMER) (default: classic). kafkit\'s consumer has the classic protocol only: with CONSUMER it stops with an error, as Kafka\'s tool does on a broker without KIP-848.', helpValue: 'GROUP_PROTOCOL'}),
    'group-remote-assignor': Flags.string({description: 'Group remote assignor; only used if the group protocol is CONSUMER', helpValue: 'GROUP_REMOTE_ASSIGNOR'}),
    'group-id': Flags.string({description: 'The groupId shared among members of the consumer group', helpValue: 'GROUP_ID'}),
    'group-instance-id': Flags.string({description: 'A unique identifier of the consumer instance', helpValue: 'GROUP_INSTANCE_ID'}),
    'max-messages': Flags.string({description: 'Consume this many messages. If -1 (the default), the consumer will consume until the process is killed externally (default: -1)', helpValue: 'MAX-MESSAGES'}),
    'session-timeout': Flags.string({description: 'Set the consumer\'s session timeout (default: 30000)', helpValue: 'TIMEOUT_MS'}),
    verbose: Flags.boolean({description: 'Enable to log individual consumed records'}),
    'enable-autocommit': Flags.boolean({description: 'Enable offset auto-commit on consumer'}),
    'reset-policy': Flags.string({description: 'Set reset policy (must be either \'earliest\', \'latest\', or \'none\' (default: earliest)', helpValue: 'RESETPOLICY'}),
    'assignment-strategy': Flags.string({description: 'Set assignment strategy (e.g. org.apache.kafka.clients.consumer.RoundRobinAssignor); only used if the group protocol is CLASSIC (default: org.apache.kafka.clients.consumer.RangeAssignor)', helpValue: 'ASSIGNMENTSTRATEGY'}),
    'consumer.config': Flags.string({description: 'Consumer config properties file (config options shared with command line parameters will be overridden).', helpValue: 'CONFIG_FILE'}),
  }

  async run(): Promise<void> {
    if (await this.helpOnNoArguments()) return
    const {flags} = await this.parse(KafkaVerifiableConsumer)
    if (flags.topic === undefined) throw argError(PROG, 'argument --topic is required')
    if (flags['group-id'] === undefined) throw argError(PROG, 'argument --group-id is required')
    if (flags['bootstrap-server'] !== undefined && flags['broker-list'] !== undefined) throw argError(PROG, 'argument --broker-list: not allowed with argument --bootstrap-server')
    const bootstrap = flags['bootstrap-server'] ?? flags['broker-list']
    if (bootstrap === undefined) throw argError(PROG, 'one of the arguments --bootstrap-server --broker-list is required')
    const maxMessages = flags['max-messages'] === undefined ? -1 : parseJavaNumber(PROG, 'max-messages', flags['max-messages'])
    const sessionTimeout = flags['session-timeout'] === undefined ? 30000 : parseJavaNumber(PROG, 'session-timeout', flags['session-timeout'])

    const props = new Map<string, string>()
    if (flags['consumer.config'] !== undefined) {
      try {
        for (const [k, v] of loadClientProperties(flags['consumer.config'])) props.set(k, v)
      } catch {
        throw argError(PROG, flags['consumer.config'])
      }
    }
    const newProtocol = (flags['group-protocol'] ?? 'classic').toLowerCase() === 'consumer'
    if (!newProtocol) props.set('partition.assignment.strategy', flags['assignment-strategy'] ?? 'org.apache.kafka.clients.consumer.RangeAssignor')
    props.set('group.id', flags['group-id'])
    if (flags['group-instance-id'] !== undefined) props.set('group.instance.id', flags['group-instance-id'])
    props.set('bootstrap.servers', bootstrap)
    props.set('enable.auto.commit', String(!!flags['enable-autocommit']))
    props.set('auto.offset.reset', flags['reset-policy'] ?? 'earliest')
    props.set('session.timeout.ms', String(sessionTimeout))

    let consumer: Consumer
    try {
      consumer = new Consumer(bootstrap, new ClientConfig(props), `consumer-${flags['group-id']}-1`)
    } catch (error) {
      throw new ToolError(`Error: ${(error as Error).message}`)
    }
    await this.consume(consumer, flags.topic, {maxMessages, autoCommit: !!flags['enable-autocommit'], verbose: !!flags.verbose, newProtocol})
  }

  private async consume(consumer: Consumer, topic: string, o: {maxMessages: number; autoCommit: boolean; verbose: boolean; newProtocol: boolean}): Promise<void> {
    // process.stdout, not writeSync(1): a pipe's reader may be slower than the events (EAGAIN).
    const print = (line: string) => { process.stdout.write(line + '\n') }
    const event = (name: string, rest = '') => `{"timestamp":${Date.now()},"name":"${name}"${rest}}`
    let consumed = 0
    const finished = () => o.maxMessages >= 0 && consumed >= o.maxMessages
    let stopSignal: NodeJS.Signals | undefined
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopSignal) return
      stopSignal = signal
      consumer.wakeup()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    print(event('startup_complete'))
    try {
      if (o.newProtocol) throw new KafkaClientError('UnsupportedVersionException', 'The node does not support CONSUMER_GROUP_HEARTBEAT (kafkit\'s consumer has the classic group protocol only)')
      consumer.listener = {
        onAssigned: tps => print(event('partitions_assigned', `,"partitions":${partitionsJson(tps)}`)),
        onRevoked: tps => print(event('partitions_revoked', `,"partitions":${partitionsJson(tps)}`)),
      }
      consumer.subscribe([topic])
      while (!finished() && !stopSignal) {
        const records = await consumer.poll(1000)
        if (records.length === 0) continue
        const offsets = this.onRecords(records, print, event, o.verbose, o.maxMessages, () => consumed, n => { consumed += n })
        if (!o.autoCommit) {
          let error: string | null = null
          try {
            await consumer.commitSync(offsets)
          } catch (e) {
            error = (e as Error).message
          }
          const list = offsets.map(x => `{"topic":${str(x.topic)},"partition":${x.partition},"offset":${x.offset}}`).join(',')
          print(event('offsets_committed', `,"offsets":[${list}]${error === null ? '' : `,"error":${str(error)}`},"success":${error === null}`))
        }
      }
    } catch (error) {
      // As Kafka's tool: logged on stderr (not stdout), then the consumer is closed.
      new ClientLogger('').error(LOGGER, 'Error during processing, terminating consumer process: ', error instanceof KafkaClientError ? error : String(error))
    }
    await consumer.close()
    print(event('shutdown_complete'))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await new Promise(res => process.stdout.write('', res))
    if (stopSignal) process.exit(stopSignal === 'SIGINT' ? 130 : 143)
  }

  /** Java's onRecordsReceived: events for one poll's records; the offsets to commit. */
  private onRecords(records: ConsumerRecord[], print: (l: string) => void, event: (n: string, r: string) => string, verbose: boolean, max: number, consumed: () => number, add: (n: number) => void): (TopicPartition & {offset: number})[] {
    const byPartition = new Map<string, {topic: string; partition: number; records: ConsumerRecord[]}>()
    for (const r of records) {
      const k = `${r.topic}-${r.partition}`
      let e = byPartition.get(k)
      if (!e) byPartition.set(k, e = {topic: r.topic, partition: r.partition, records: []})
      e.records.push(r)
    }
    const offsets: (TopicPartition & {offset: number})[] = []
    const summaries: string[] = []
    for (const p of topicPartitionOrder([...byPartition.values()])) {
      let list = p.records
      if (max >= 0 && consumed() + list.length > max) list = list.slice(0, max - consumed())
      if (list.length === 0) continue
      const minOffset = list[0].offset
      const maxOffset = list[list.length - 1].offset
      offsets.push({topic: p.topic, partition: p.partition, offset: maxOffset + 1})
      summaries.push(`{"topic":${str(p.topic)},"partition":${p.partition},"count":${list.length},"minOffset":${minOffset},"maxOffset":${maxOffset}}`)
      if (verbose) {
        for (const r of list) print(event('record_data', `,"key":${str(text(r.key))},"value":${str(text(r.value))},"topic":${str(p.topic)},"partition":${p.partition},"offset":${r.offset}`))
      }
      add(list.length)
      if (max >= 0 && consumed() >= max) break
    }
    print(event('records_consumed', `,"count":${records.length},"partitions":[${summaries.join(',')}]`))
    return topicPartitionOrder(offsets)
  }
}
