// kafka-reassign-partitions: propose (--generate), start (--execute), check (--verify), cancel
// (--cancel) and list (--list) partition reassignments, with Apache Kafka 3.9's flags, checks,
// output lines and exit codes. Failures print "Error: <message>" on stdout and exit 1 as
// Kafka's tool does (without its Java stack trace). Moving replicas between log directories
// (log_dirs other than "any") is not supported.
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {KafkaCommand, commandConfigFlag, loadClientProperties, UsageError, ToolError} from './base.js'
import {AdminClient, AdminTimeoutError} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {parseIntOption} from '../core/client/errors.js'
import {javaHashMapOrder} from '../core/client/format.js'
import {
  alterPartitionReassignments, compareTopicPartitions, describeClusterNodes, incrementalAlterConfigs, listPartitionReassignments,
  tpString, BROKER_RESOURCE, TOPIC_RESOURCE, OP_DELETE, OP_SET, type TopicPartition,
} from '../core/client/admin/reassign.js'
import {allPartitions, javaIntSetOrder, partitionsOf, proposeAssignment, replicasByTopic, throttleMoves} from '../core/client/admin/reassign-plan.js'
import {JsonFileError, formatReassignmentJson, parseReassignmentJson, parseTopicsJson, type ReassignmentEntry} from '../core/client/admin/reassign-json.js'

const HELP_TEXT = 'This tool helps to move topic partitions between replicas.'
const ACTIONS = ['generate', 'execute', 'verify', 'cancel', 'list'] as const
type Action = typeof ACTIONS[number]
const REQUIRED: Record<Action, string[]> = {
  verify: ['reassignment-json-file'], generate: ['topics-to-move-json-file', 'broker-list'], execute: ['reassignment-json-file'], cancel: ['reassignment-json-file'], list: [],
}
const PERMITTED: Record<Action, string[]> = {
  verify: ['bootstrap-server', 'command-config', 'preserve-throttles'],
  generate: ['bootstrap-server', 'broker-list', 'command-config', 'disable-rack-aware'],
  execute: ['additional', 'bootstrap-server', 'command-config', 'throttle', 'replica-alter-log-dirs-throttle', 'timeout'],
  cancel: ['bootstrap-server', 'command-config', 'preserve-throttles', 'timeout'],
  list: ['bootstrap-server', 'command-config'],
}
const BROKER_THROTTLES = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second']
const TOPIC_THROTTLES = ['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas']
const CANNOT_EXECUTE = 'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. The --additional flag can also be used to change the throttle by resubmitting the current reassignment.'
const VERIFY_WARNING = 'Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.'

/** What Kafka's tool prints on stdout before exiting 1: "Error: ..." or a terse message. */
class Failure extends ToolError {
  constructor(message: string, terse = false) {
    super(terse ? message : `Error: ${message}`, true)
  }
}

const plural = (n: number, s = 's') => (n === 1 ? '' : s)
const sortTps = <T extends TopicPartition>(l: T[]): T[] => [...l].sort(compareTopicPartitions)

export default class KafkaReassignPartitions extends KafkaCommand {
  static hidden = false
  static summary = HELP_TEXT
  static description = 'Moves topic partitions between brokers: --generate proposes an assignment, --execute starts it (optionally throttled), --verify checks it and removes the throttles once done, --cancel reverts it, --list shows the reassignments in progress. Output matches Apache Kafka 3.9\'s kafka-reassign-partitions.'
  static examples = [
    'kafka-reassign-partitions --bootstrap-server localhost:9092 --generate --topics-to-move-json-file topics.json --broker-list 1,2',
    'kafka-reassign-partitions --bootstrap-server localhost:9092 --execute --reassignment-json-file plan.json --throttle 10000000',
    'kafka-reassign-partitions --bootstrap-server localhost:9092 --verify --reassignment-json-file plan.json',
    'kafka-reassign-partitions --bootstrap-server localhost:9092 --list',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'REQUIRED: the server(s) to use for bootstrapping.', helpValue: '<Server(s) to use for bootstrapping>'}),
    'command-config': commandConfigFlag(),
    generate: Flags.boolean({description: 'Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it.'}),
    execute: Flags.boolean({description: 'Kick off the reassignment as specified by the --reassignment-json-file option.'}),
    verify: Flags.boolean({description: 'Verify if the reassignment completed as specified by the --reassignment-json-file option. If there is a throttle engaged for the replicas specified, and the rebalance has completed, the throttle will be removed'}),
    cancel: Flags.boolean({description: 'Cancel an active reassignment.'}),
    list: Flags.boolean({description: 'List all active partition reassignments.'}),
    'reassignment-json-file': Flags.string({description: 'The JSON file with the partition reassignment configuration: {"partitions": [{"topic": "foo", "partition": 1, "replicas": [1,2,3], "log_dirs": ["any","any","any"]}], "version": 1}. "log_dirs" is optional; kafkit accepts only "any" there.', helpValue: '<manual assignment json file path>'}),
    'topics-to-move-json-file': Flags.string({description: 'Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option: {"topics": [{"topic": "foo"},{"topic": "foo1"}], "version": 1}', helpValue: '<topics to reassign json file path>'}),
    'broker-list': Flags.string({description: 'The list of brokers to which the partitions need to be reassigned in the form "0,1,2". This is required if --topics-to-move-json-file is used to generate reassignment configuration', helpValue: '<brokerlist>'}),
    'disable-rack-aware': Flags.boolean({description: 'Disable rack aware replica assignment'}),
    throttle: Flags.string({description: 'The movement of partitions between brokers will be throttled to this value (bytes/sec). This option can be included with --execute when a reassignment is started, and it can be altered by resubmitting the current reassignment along with the --additional flag. The throttle rate should be at least 1 KB/s. (default: -1)', helpValue: '<Long: throttle>'}),
    'replica-alter-log-dirs-throttle': Flags.string({description: 'The movement of replicas between log directories on the same broker will be throttled to this value (bytes/sec). Accepted and set as Kafka does; kafkit does not move replicas between log directories. (default: -1)', helpValue: '<Long: replicaAlterLogDirsThrottle>'}),
    timeout: Flags.string({description: 'The maximum time in ms to wait for log directory replica assignment to begin. (default: 10000)', helpValue: '<Long: timeout>'}),
    additional: Flags.boolean({description: 'Execute this reassignment in addition to any other ongoing ones. This option can also be used to change the throttle of an ongoing reassignment.'}),
    'preserve-throttles': Flags.boolean({description: 'Do not modify broker or topic throttles.'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(HELP_TEXT)
    const {flags} = await this.parse(KafkaReassignPartitions)
    const given = (name: string) => (flags as Record<string, unknown>)[name] !== undefined && (flags as Record<string, unknown>)[name] !== false
    const actions = ACTIONS.filter(a => given(a))
    if (actions.length !== 1) throw new UsageError(`Command must include exactly one action: ${ACTIONS.map(a => `--${a}`).join(', ')}`)
    const action = actions[0]
    if (!given('bootstrap-server')) throw new UsageError('Please specify --bootstrap-server')
    for (const r of REQUIRED[action]) if (!given(r)) throw new UsageError(`Missing required argument "[${r}]"`)
    // Options in the order typed, as Kafka checks them.
    for (const arg of this.argv) {
      const m = /^--([^=]+)/.exec(arg)
      if (!m || !(m[1] in KafkaReassignPartitions.flags) || m[1] === action) continue
      if (!REQUIRED[action].includes(m[1]) && !PERMITTED[action].includes(m[1])) throw new UsageError(`Option "[${m[1]}]" can't be used with action "[${action}]"`)
    }
    const long = (name: 'throttle' | 'replica-alter-log-dirs-throttle' | 'timeout', def: number) => (flags[name] === undefined ? def : parseIntOption(flags[name]!, name, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
    const throttle = long('throttle', -1)
    const logDirThrottle = long('replica-alter-log-dirs-throttle', -1)
    long('timeout', 10000)

    const props = loadClientProperties(flags['command-config'])
    if (!props.has('client.id')) props.set('client.id', 'reassign-partitions-tool')
    const admin = new AdminClient(flags['bootstrap-server']!, new ClientConfig(props))
    try {
      switch (action) {
        case 'list': return await this.list(admin)
        case 'generate': return await this.generate(admin, readFile(flags['topics-to-move-json-file']!), flags['broker-list']!, !flags['disable-rack-aware'])
        case 'execute': return await this.execute(admin, readFile(flags['reassignment-json-file']!), flags.additional, throttle, logDirThrottle)
        case 'verify': return await this.verify(admin, readFile(flags['reassignment-json-file']!), flags['preserve-throttles'])
        case 'cancel': return await this.cancel(admin, readFile(flags['reassignment-json-file']!), flags['preserve-throttles'])
      }
    } catch (error) {
      if (error instanceof ToolError || error instanceof UsageError) throw error
      if (error instanceof JsonFileError) throw new Failure(error.message)
      // Kafka's tool prints an admin future's failure as the ExecutionException's message: the cause's toString().
      if (error instanceof AdminTimeoutError || error instanceof KafkaClientError) throw new Failure(error.toString())
      throw new Failure((error as Error).message)
    } finally {
      admin.close()
    }
  }

  private async list(admin: AdminClient): Promise<void> {
    const current = sortTps([...(await listPartitionReassignments(admin)).values()])
    if (current.length === 0) return this.print('No partition reassignments found.')
    this.print(`Current partition reassignments:\n${current.map(r => `${tpString(r)}: replicas: ${r.replicas.join(',')}.${r.addingReplicas.length ? ` adding: ${r.addingReplicas.join(',')}.` : ''}${r.removingReplicas.length ? ` removing: ${r.removingReplicas.join(',')}.` : ''}`).join('\n')}`)
  }

  private async generate(admin: AdminClient, json: string, brokerList: string, rackAware: boolean): Promise<void> {
    const brokers = brokerList.split(',').map(s => {
      if (!/^[+-]?\d+$/.test(s) || Math.abs(Number(s)) > 2147483647) throw new Failure(`For input string: "${s}"`)
      return Number(s)
    })
    const dupBrokers = duplicates(brokers)
    if (dupBrokers.length) throw new Failure(`Broker list contains duplicate entries: [${dupBrokers.join(', ')}]`)
    const topics = parseTopicsJson(json)
    const dupTopics = duplicates(topics)
    if (dupTopics.length) throw new Failure(`List of topics to reassign contains duplicate entries: [${dupTopics.join(', ')}]`)
    const current = allPartitions(await replicasByTopic(admin, [...new Set(topics)]))
    const nodes = (await describeClusterNodes(admin)).filter(n => brokers.includes(n.id))
    const proposed = proposeAssignment(current, nodes, rackAware)
    this.print(`Current partition replica assignment\n${formatReassignmentJson(current)}\n`)
    this.print(`Proposed partition reassignment configuration\n${formatReassignmentJson(proposed)}`)
  }

  private async execute(admin: AdminClient, json: string, additional: boolean, throttle: number, logDirThrottle: number): Promise<void> {
    const proposed = checkExecuteEntries(parseReassignmentJson(json))
    const current = await listPartitionReassignments(admin)
    if (!additional && current.size > 0) throw new Failure(CANNOT_EXECUTE, true)
    const live = new Set((await describeClusterNodes(admin)).map(n => n.id))
    // The first unknown id in the order of Java's HashSet<Integer>, as Kafka's tool reports it.
    const unknown = javaIntSetOrder(proposed.flatMap(p => p.replicas)).find(b => !live.has(b))
    if (unknown !== undefined) throw new Failure(`Unknown broker id ${unknown}`)
    const currentParts = partitionsOf(await replicasByTopic(admin, [...new Set(proposed.map(p => p.topic))]), proposed)
    this.print(`Current partition replica assignment\n\n${formatReassignmentJson(currentParts)}\n\nSave this to use as the --reassignment-json-file option during rollback`)
    if (throttle >= 0 || logDirThrottle >= 0) {
      this.print(VERIFY_WARNING)
      if (throttle >= 0) {
        const {leader, follower, brokers} = throttleMoves([...current.values()], proposed, currentParts)
        await incrementalAlterConfigs(admin, [...new Set([...leader.keys(), ...follower.keys()])].map(topic => ({type: TOPIC_RESOURCE, name: topic, ops: [
          ...(leader.has(topic) ? [{name: TOPIC_THROTTLES[0], op: OP_SET, value: leader.get(topic)!}] : []),
          ...(follower.has(topic) ? [{name: TOPIC_THROTTLES[1], op: OP_SET, value: follower.get(topic)!}] : []),
        ]})))
        await incrementalAlterConfigs(admin, brokers.map(b => ({type: BROKER_RESOURCE, name: String(b), ops: BROKER_THROTTLES.slice(0, 2).map(name => ({name, op: OP_SET, value: String(throttle)}))})))
        this.print(`The inter-broker throttle limit was set to ${throttle} B/s`)
      }
      // No replica moves between log directories (log_dirs "any" only): no broker to set this on, as in Kafka.
      if (logDirThrottle >= 0) this.print(`The replica-alter-dir throttle limit was set to ${logDirThrottle} B/s`)
    }
    const errors = await alterPartitionReassignments(admin, proposed)
    if (errors.size) throw new Failure(`Error reassigning partition(s):\n${sortTps(proposed).filter(p => errors.has(tpString(p))).map(p => `${tpString(p)}: ${errors.get(tpString(p))!.message}`).join('\n')}`, true)
    this.print(`Successfully started partition reassignment${plural(proposed.length)} for ${sortTps(proposed).map(tpString).join(',')}`)
  }

  private async verify(admin: AdminClient, json: string, preserveThrottles: boolean): Promise<void> {
    const targets = parseReassignmentJson(json)
    const current = await listPartitionReassignments(admin)
    const notFound = targets.filter(t => !current.has(`${t.topic}\u0000${t.partition}`))
    const described = await replicasByTopic(admin, [...new Set(notFound.map(t => t.topic))], true)
    const lines = ['Status of partition reassignment:']
    const seen = new Set<string>()
    for (const t of sortTps(targets)) {
      if (seen.has(tpString(t))) continue
      seen.add(tpString(t))
      const ongoing = current.get(`${t.topic}\u0000${t.partition}`)
      if (ongoing) { lines.push(`Reassignment of partition ${tpString(t)} is still in progress.`); continue }
      const topic = described.get(t.topic)
      if (topic && topic.length === t.partition) throw new Failure(`Index ${t.partition} out of bounds for length ${t.partition}`)
      const replicas = topic?.[t.partition] ?? []
      if (replicas.join(',') === t.replicas.join(',')) lines.push(`Reassignment of partition ${tpString(t)} is completed.`)
      else lines.push(`There is no active reassignment of partition ${tpString(t)}, but replica set is ${replicas.join(',')} rather than ${t.replicas.join(',')}.`)
    }
    this.print(lines.join('\n'))
    this.print('') // the (empty) status of replica moves between log directories
    if (current.size === 0 && !preserveThrottles) await this.clearAllThrottles(admin, targets)
  }

  private async cancel(admin: AdminClient, json: string, preserveThrottles: boolean): Promise<void> {
    const targets = parseReassignmentJson(json)
    const listed = await listPartitionReassignments(admin, targets)
    const cancelling = sortTps([...listed.values()].filter(r => r.addingReplicas.length === 0 || r.removingReplicas.length > 0))
    if (cancelling.length) {
      const errors = await alterPartitionReassignments(admin, cancelling.map(r => ({topic: r.topic, partition: r.partition, replicas: null})))
      if (errors.size) throw new Failure(`Error cancelling partition reassignment${plural(errors.size)} for:\n${cancelling.filter(p => errors.has(tpString(p))).map(p => `${tpString(p)}: ${errors.get(tpString(p))!.message}`).join('\n')}`, true)
      this.print(`Successfully cancelled partition reassignment${plural(cancelling.length)} for: ${cancelling.map(tpString).join(',')}`)
    } else {
      this.print('None of the specified partition reassignments are active.')
    }
    // Kafka prints this one without a line break.
    process.stdout.write('None of the specified partition moves are active.')
    if (!preserveThrottles) await this.clearAllThrottles(admin, targets)
  }

  /** Removes the throttles of every broker (and of the target replicas' brokers) and of the topics. */
  private async clearAllThrottles(admin: AdminClient, targets: ReassignmentEntry[]): Promise<void> {
    const brokers = javaIntSetOrder([...(await describeClusterNodes(admin)).map(n => n.id), ...targets.flatMap(t => t.replicas)])
    this.print(`Clearing broker-level throttles on broker${plural(brokers.length)} ${brokers.join(',')}`)
    await incrementalAlterConfigs(admin, brokers.map(b => ({type: BROKER_RESOURCE, name: String(b), ops: BROKER_THROTTLES.map(name => ({name, op: OP_DELETE, value: null}))})))
    const topics = javaHashMapOrder([...new Set(targets.map(t => t.topic))], t => t)
    this.print(`Clearing topic-level throttles on topic${plural(topics.length)} ${topics.join(',')}`)
    await incrementalAlterConfigs(admin, topics.map(t => ({type: TOPIC_RESOURCE, name: t, ops: TOPIC_THROTTLES.map(name => ({name, op: OP_DELETE, value: null}))})))
  }

  private print(text: string): void {
    process.stdout.write(text + '\n')
  }
}

function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new Failure(`Unable to read file ${path}`)
  }
}

function duplicates<T>(items: T[]): T[] {
  const seen = new Set<T>()
  const dup = new Set<T>()
  for (const i of items) (seen.has(i) ? dup : seen).add(i)
  return [...dup]
}

/** Kafka's checks of an --execute file: not empty, no empty replica list, no duplicates. */
function checkExecuteEntries(entries: ReassignmentEntry[]): ReassignmentEntry[] {
  if (entries.length === 0) throw new Failure('Partition reassignment list cannot be empty')
  if (entries.some(e => e.replicas.length === 0)) throw new Failure('Partition replica list cannot be empty')
  const dupParts = duplicates(entries.map(tpString))
  if (dupParts.length) throw new Failure(`Partition reassignment contains duplicate topic partitions: ${dupParts.join(',')}`)
  const dupReplicas = entries.map(e => ({e, d: duplicates(e.replicas)})).filter(x => x.d.length)
  if (dupReplicas.length) throw new Failure(`Partition replica lists may not contain duplicate entries: ${dupReplicas.map(x => `${tpString(x.e)} contains multiple entries for ${x.d.join(',')}`).join('. ')}`)
  if (entries.some(e => e.logDirs.some(d => d !== 'any'))) throw new Failure('kafkit does not move replicas between log directories: "log_dirs" may only hold "any"')
  return entries
}
