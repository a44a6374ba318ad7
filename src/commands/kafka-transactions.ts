// kafka-transactions: list, describe, describe-producers, abort and find-hanging, with Apache
// Kafka 3.9's arguments, tables (each cell padded to its column's width, a tab after each) and
// messages ("<what failed>: <reason>. Enable debug logging for additional detail." on stderr,
// exit 1).
import {Args, Flags} from '@oclif/core'
import {KafkaCommand, loadClientProperties, UsageError, ToolError} from './base.js'
import {AdminClient} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {javaHashMapOrder} from '../core/client/format.js'
import {
  listTransactions, describeTransaction, describeProducers, abortTransaction, abortSpecString, topicPartitionHash, longHash,
  type AbortSpec, type ProducerState,
} from '../core/client/admin/transactions.js'

const COMMANDS = ['list', 'describe', 'describe-producers', 'abort', 'find-hanging'] as const
type Sub = typeof COMMANDS[number]

/** ToolsUtils.prettyPrintTable. */
export function prettyTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  return [headers, ...rows].map(r => r.map((c, i) => c.padEnd(widths[i]) + '\t').join('') + '\n').join('')
}

/** printErrorAndExit(message, cause). */
function failed(message: string, cause: unknown): ToolError {
  return new ToolError(`${message}: ${(cause as Error).message}. Enable debug logging for additional detail.`)
}

const intArg = (description: string, helpValue: string) => Flags.string({description, helpValue})

export default class KafkaTransactions extends KafkaCommand {
  static hidden = false
  static summary = 'This tool is used to analyze the transactional state of producers in the cluster. It can be used to detect and recover from hanging transactions.'
  static description = 'Commands: list (list transactions), describe --transactional-id ID (the state of an active transactional-id), describe-producers --topic T --partition P [--broker-id B] (active producers of a partition), abort --topic T --partition P (--start-offset O | --producer-id --producer-epoch --coordinator-epoch) (abort a hanging transaction), find-hanging (--broker-id B | --topic T [--partition P]) [--max-transaction-timeout MIN]. Output matches Apache Kafka 3.9\'s kafka-transactions.'
  static examples = [
    'kafka-transactions --bootstrap-server localhost:9092 list',
    'kafka-transactions --bootstrap-server localhost:9092 describe --transactional-id my-txn',
    'kafka-transactions --bootstrap-server localhost:9092 describe-producers --topic orders --partition 0',
    'kafka-transactions --bootstrap-server localhost:9092 find-hanging --broker-id 0',
    'kafka-transactions --bootstrap-server localhost:9092 abort --topic orders --partition 0 --start-offset 42',
  ]

  static args = {command: Args.string({description: `One of: ${COMMANDS.join(', ')}.`, required: false})}

  static flags = {
    'bootstrap-server': Flags.string({description: 'hostname and port for the broker to connect to, in the form `host:port`  (multiple comma-separated entries can be given)', helpValue: 'host:port'}),
    'command-config': Flags.string({description: 'property file containing configs to be passed to admin client', helpValue: 'FILE'}),
    'duration-filter': intArg('list: Duration (in millis) to filter by: if < 0, all transactions will be returned; otherwise, only transactions running longer than this duration will be returned', 'DURATION_FILTER'),
    'transactional-id': Flags.string({description: 'describe: transactional id', helpValue: 'TRANSACTIONAL_ID'}),
    'broker-id': intArg('describe-producers: optional broker id to describe the producer state on a specific replica; find-hanging: broker id to search for hanging transactions', 'BROKER_ID'),
    topic: Flags.string({description: 'topic name', helpValue: 'TOPIC'}),
    partition: intArg('partition number', 'PARTITION'),
    'start-offset': intArg('abort: start offset of the transaction to abort', 'START_OFFSET'),
    'producer-id': intArg('abort: producer id', 'PRODUCER_ID'),
    'producer-epoch': intArg('abort: producer epoch', 'PRODUCER_EPOCH'),
    'coordinator-epoch': intArg('abort: coordinator epoch', 'COORDINATOR_EPOCH'),
    output: Flags.string({description: 'kafkit addition: `json` prints the tables of list, describe, describe-producers and find-hanging as a JSON array of objects (keys are the column headers).', options: ['json', 'text'], helpValue: '<json|text>'}),
    'max-transaction-timeout': intArg('find-hanging: maximum transaction timeout in minutes to limit the scope of the search (15 minutes by default)', 'MAX_TRANSACTION_TIMEOUT'),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError('kafka-transactions.sh: error: too few arguments')
    const {args, flags} = await this.parse(KafkaTransactions)
    const command = args.command
    if (command === undefined) throw new UsageError('kafka-transactions.sh: error: too few arguments')
    if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`kafka-transactions.sh: error: argument COMMAND: invalid choice: '${command}' (choose from ${COMMANDS.map(c => `'${c}'`).join(', ')})`)
    const sub = command as Sub
    this.json = flags.output === 'json'
    const allowed: Record<Sub, (keyof typeof flags)[]> = {
      list: ['duration-filter'],
      describe: ['transactional-id'],
      'describe-producers': ['broker-id', 'topic', 'partition'],
      abort: ['topic', 'partition', 'start-offset', 'producer-id', 'producer-epoch', 'coordinator-epoch'],
      'find-hanging': ['broker-id', 'max-transaction-timeout', 'topic', 'partition'],
    }
    for (const k of Object.keys(flags) as (keyof typeof flags)[]) {
      if (k === 'bootstrap-server' || k === 'command-config' || k === 'output' || flags[k] === undefined) continue
      if (!allowed[sub].includes(k)) throw new UsageError(`kafka-transactions.sh: error: unrecognized arguments: '--${k}'`)
    }
    if (!flags['bootstrap-server']) throw new UsageError('kafka-transactions.sh: error: argument --bootstrap-server is required')
    const required = (k: keyof typeof flags) => {
      if (flags[k] === undefined) throw new UsageError(`kafka-transactions.sh: error: argument --${k} is required`)
    }
    const num = (k: keyof typeof flags, type: 'Integer' | 'Long' | 'Short'): number | undefined => {
      const v = flags[k] as string | undefined
      if (v === undefined) return undefined
      const [lo, hi] = type === 'Short' ? [-32768, 32767] : type === 'Integer' ? [-2147483648, 2147483647] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
      const n = Number(v.trim())
      if (!/^[+-]?\d+$/.test(v.trim()) || n < lo || n > hi) throw new UsageError(`kafka-transactions.sh: error: argument --${k}: could not convert '${v}' to ${type}`)
      return n
    }
    if (sub === 'describe') required('transactional-id')
    if (sub === 'describe-producers' || sub === 'abort') { required('topic'); required('partition') }
    const n = {
      duration: num('duration-filter', 'Long'), broker: num('broker-id', 'Integer'), partition: num('partition', 'Integer'),
      startOffset: num('start-offset', 'Long'), producerId: num('producer-id', 'Long'), producerEpoch: num('producer-epoch', 'Short'),
      coordinatorEpoch: num('coordinator-epoch', 'Integer'), maxTimeout: num('max-transaction-timeout', 'Integer') ?? 15,
    }
    let client: AdminClient
    try {
      client = new AdminClient(flags['bootstrap-server'], new ClientConfig(loadClientProperties(flags['command-config'])))
    } catch (error) {
      if (error instanceof ToolError) throw failed('Failed to load admin client properties', error)
      throw error
    }
    try {
      switch (sub) {
        case 'list': return await this.list(client, n.duration)
        case 'describe': return await this.describe(client, flags['transactional-id']!)
        case 'describe-producers': return await this.describeProducers(client, flags.topic!, n.partition!, n.broker)
        case 'abort': return await this.abort(client, flags.topic!, n.partition!, n)
        case 'find-hanging': return await this.findHanging(client, flags.topic, n.partition, n.broker, n.maxTimeout)
      }
    } finally {
      client.close()
    }
  }

  private async list(client: AdminClient, durationFilterMs: number | undefined): Promise<void> {
    let byBroker
    try {
      byBroker = await listTransactions(client, {durationFilterMs})
    } catch (error) {
      throw failed('Failed to list transactions', error)
    }
    const rows: string[][] = []
    for (const [broker, listings] of byBroker) for (const l of listings) rows.push([l.transactionalId, String(broker), String(l.producerId), l.state])
    this.table(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], rows)
  }

  private async describe(client: AdminClient, transactionalId: string): Promise<void> {
    let d
    try {
      d = await describeTransaction(client, transactionalId)
    } catch (error) {
      throw failed(`Failed to describe transaction state of transactional-id \`${transactionalId}\``, error)
    }
    const started = d.transactionStartTimeMs >= 0
    this.table(
      ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'],
      [[String(d.coordinatorId), transactionalId, String(d.producerId), String(d.producerEpoch), d.state, String(d.transactionTimeoutMs),
        started ? String(d.transactionStartTimeMs) : 'None', started ? String(Date.now() - d.transactionStartTimeMs) : 'None', d.topicPartitions.join(',')]],
    )
  }

  private async describeProducers(client: AdminClient, topic: string, partition: number, brokerId: number | undefined): Promise<void> {
    let producers: ProducerState[]
    try {
      producers = await describeProducers(client, topic, partition, brokerId)
    } catch (error) {
      throw failed(`Failed to describe producers for partition ${topic}-${partition} on ${brokerId === undefined ? 'leader' : `broker ${brokerId}`}`, error)
    }
    this.table(
      ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
      producers.map(p => [String(p.producerId), String(p.producerEpoch), String(p.coordinatorEpoch), String(p.lastSequence), String(p.lastTimestamp), p.currentTxnStartOffset >= 0 ? String(p.currentTxnStartOffset) : 'None']),
    )
  }

  private async abort(client: AdminClient, topic: string, partition: number, n: {startOffset?: number; producerId?: number; producerEpoch?: number; coordinatorEpoch?: number}): Promise<void> {
    if (n.startOffset === undefined && n.producerId === undefined) {
      throw new ToolError('The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)')
    }
    let spec: AbortSpec
    if (n.startOffset === undefined) {
      if (n.producerEpoch === undefined) throw new ToolError('Missing required argument --producer-epoch')
      if (n.coordinatorEpoch === undefined) throw new ToolError('Missing required argument --coordinator-epoch')
      spec = {topic, partition, producerId: n.producerId!, producerEpoch: n.producerEpoch, coordinatorEpoch: Math.max(0, n.coordinatorEpoch)}
    } else {
      let producers: ProducerState[]
      try {
        producers = await describeProducers(client, topic, partition)
      } catch (error) {
        throw failed(`Failed to validate producer state for partition ${topic}-${partition}`, error)
      }
      const p = producers.find(s => s.currentTxnStartOffset >= 0 && s.currentTxnStartOffset === n.startOffset)
      if (!p) throw new ToolError(`Could not find any open transactions starting at offset ${n.startOffset} on partition ${topic}-${partition}`)
      spec = {topic, partition, producerId: p.producerId, producerEpoch: p.producerEpoch, coordinatorEpoch: p.coordinatorEpoch >= 0 ? p.coordinatorEpoch : 0}
    }
    try {
      await abortTransaction(client, spec)
    } catch (error) {
      throw failed(`Failed to abort transaction ${abortSpecString(spec)}`, error)
    }
  }

  private async findHanging(client: AdminClient, topic: string | undefined, partition: number | undefined, brokerId: number | undefined, maxTimeoutMin: number): Promise<void> {
    if (topic === undefined && brokerId === undefined) throw new ToolError('The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search')
    if (partition !== undefined && topic === undefined) throw new ToolError('The --partition argument requires --topic to be provided')
    const maxMs = maxTimeoutMin * 60000
    // The partitions to search.
    let partitions: {topic: string; partition: number}[]
    if (topic !== undefined && partition !== undefined) partitions = [{topic, partition}]
    else {
      let md
      try {
        md = await client.metadata(topic === undefined ? null : [topic], undefined, topic === undefined ? 'listTopics' : 'describeTopics')
      } catch (error) {
        throw failed(topic === undefined ? 'Failed to list topics' : 'Failed to describe 1 topics', error)
      }
      const topics = javaHashMapOrder(md.topics.filter(t => t.name !== null), t => t.name!)
      const missing = topics.find(t => t.errorCode !== 0)
      if (missing) throw failed(`Failed to describe ${topics.length} topics`, new Error(`This server does not host this topic-partition.`))
      partitions = topics.flatMap(t => t.partitions.filter(p => brokerId === undefined || p.replicaNodes.includes(brokerId)).sort((a, b) => a.partitionIndex - b.partitionIndex).map(p => ({topic: t.name!, partition: p.partitionIndex})))
    }
    // Open transactions older than the maximum timeout.
    const now = Date.now()
    const candidates: {topic: string; partition: number; p: ProducerState}[] = []
    for (const tp of javaHashMapOrder(partitions, x => topicPartitionHash(x.topic, x.partition))) {
      let producers: ProducerState[]
      try {
        producers = await describeProducers(client, tp.topic, tp.partition, brokerId)
      } catch (error) {
        throw failed(`Failed to describe producers for ${partitions.length} partitions on broker ${brokerId === undefined ? 'Optional.empty' : `Optional[${brokerId}]`}`, error)
      }
      for (const p of producers) if (p.currentTxnStartOffset >= 0 && now - p.lastTimestamp > maxMs) candidates.push({...tp, p})
    }
    let hanging: typeof candidates = []
    if (candidates.length > 0) {
      const byProducer = new Map<number, typeof candidates>()
      for (const c of candidates) byProducer.set(c.p.producerId, [...(byProducer.get(c.p.producerId) ?? []), c])
      const ids = [...byProducer.keys()]
      const txnIds = new Map<number, string>()
      try {
        for (const listings of (await listTransactions(client, {producerIds: ids})).values()) for (const l of listings) if (ids.includes(l.producerId)) txnIds.set(l.producerId, l.transactionalId)
      } catch (error) {
        throw failed(`Failed to list transactions for ${ids.length} producers`, error)
      }
      for (const id of javaHashMapOrder(ids, longHash)) {
        const open = byProducer.get(id)!
        const txnId = txnIds.get(id)
        if (txnId === undefined) { hanging.push(...open); continue }
        let partitionsInTxn: string[] | undefined
        try {
          partitionsInTxn = (await describeTransaction(client, txnId)).topicPartitions
        } catch (error) {
          if ((error as {exceptionClass?: string}).exceptionClass !== 'TransactionalIdNotFoundException') throw failed(`Failed to describe ${txnIds.size} transactions`, error)
        }
        hanging.push(...open.filter(o => !partitionsInTxn?.includes(`${o.topic}-${o.partition}`)))
      }
    }
    this.table(
      ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'],
      hanging.map(h => [h.topic, String(h.partition), String(h.p.producerId), String(h.p.producerEpoch), String(h.p.coordinatorEpoch), String(h.p.currentTxnStartOffset), String(h.p.lastTimestamp), String(Math.floor((now - h.p.lastTimestamp) / 60000))]),
    )
  }

  private json = false

  /** A table as Kafka prints it, or with --output json an array of objects keyed by the headers. */
  private table(headers: string[], rows: string[][]): void {
    if (!this.json) return this.print(prettyTable(headers, rows))
    this.print(JSON.stringify(rows.map(r => Object.fromEntries(headers.map((h, i) => [h, r[i]]))), null, 2) + '\n')
  }

  private print(text: string): void {
    process.stdout.write(text)
  }
}
