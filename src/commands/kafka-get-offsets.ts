// kafka-get-offsets: the offsets of topic-partitions at a time (latest, earliest,
// max-timestamp, a timestamp), one "topic:partition:offset" line each, as Apache Kafka 3.9's
// GetOffsetShell prints them (sorted as "topic-partition" strings, partitions without an
// offset left out), with its flags, checks and "Error occurred: ..." messages.
import {Flags} from '@oclif/core'
import {KafkaCommand, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {Admin} from '../core/client/admin.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {topicFilter} from '../core/client/format.js'
import {listOffsets, OffsetSpec} from '../core/client/admin/offsets.js'
import {byTpString, type TopicPartition} from '../core/client/admin/partitions.js'
import {adminConfigProblem, invalidBootstrapServer, javaSplit, parseJavaInt, parseJavaLong} from '../core/client/admin/cli.js'

const USAGE = 'An interactive shell for getting topic-partition offsets.'
const TP_PATTERN = /^([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?$/

interface Rule {
  topic: (t: string) => boolean
  partition: (p: number) => boolean
}

export default class KafkaGetOffsets extends KafkaCommand {
  static hidden = false
  static parseErrorPrefix = 'Error occurred: '
  static summary = USAGE
  static description = 'Prints the offset of each matching topic-partition at the given time as topic:partition:offset, as Apache Kafka 3.9\'s kafka-get-offsets (GetOffsetShell).'
  static examples = [
    'kafka-get-offsets --bootstrap-server localhost:9092 --topic dev-topic',
    'kafka-get-offsets --bootstrap-server localhost:9092 --topic-partitions \'dev-.*:0-3\' --time earliest',
    'kafka-get-offsets --bootstrap-server localhost:9092 --topic dev-topic --partitions 0,1 --time 1700000000000',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'REQUIRED. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<HOST1:PORT1,...,HOST3:PORT3>'}),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<HOST1:PORT1,...,HOST3:PORT3>'}),
    'topic-partitions': Flags.string({description: 'Comma separated list of topic-partition patterns to get the offsets for, with the format of \'([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?\'. The first group is an optional regex for the topic name, if omitted, it matches any topic name. The section after \':\' describes a \'partition\' pattern, which can be: a number, a range in the format of \'NUMBER-NUMBER\' (lower inclusive, upper exclusive), an inclusive lower bound in the format of \'NUMBER-\', an exclusive upper bound in the format of \'-NUMBER\' or may be omitted to accept all partitions.', helpValue: '<topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3>'}),
    topic: Flags.string({description: 'The topic to get the offsets for. It also accepts a regular expression. If not present, all authorized topics are queried. Cannot be used if --topic-partitions is present.', helpValue: '<topic>'}),
    partitions: Flags.string({description: 'Comma separated list of partition ids to get the offsets for. If not present, all partitions of the authorized topics are queried. Cannot be used if --topic-partitions is present.', helpValue: '<partition ids>'}),
    time: Flags.string({description: 'timestamp of the offsets before that. [Note: No offset is returned, if the timestamp greater than recently committed record timestamp is given.] (default: latest)', helpValue: '<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered'}),
    'command-config': Flags.string({description: 'Property file containing configs to be passed to Admin Client.', helpValue: '<config file>'}),
    'exclude-internal-topics': Flags.boolean({description: 'By default, internal topics are included. If specified, internal topics are excluded.'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(USAGE)
    const {flags} = await this.parse(KafkaGetOffsets)
    const bootstrap = flags['bootstrap-server'] ?? flags['broker-list']
    if (bootstrap === undefined) throw new ToolError('Error occurred: Missing required option(s) [bootstrap-server]')
    const bad = invalidBootstrapServer(bootstrap)
    if (bad) throw new UsageError(bad)
    const fail = (message: string) => new ToolError(`Error occurred: ${message}`)

    if (flags['topic-partitions'] !== undefined && (flags.topic !== undefined || flags.partitions !== undefined)) throw fail('--topic-partitions cannot be used with --topic or --partitions')
    const timestamp = parseTime(flags.time ?? 'latest')
    if (timestamp === undefined) throw fail(`Malformed time argument ${flags.time}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp`)
    let rules: Rule[]
    try {
      rules = flags['topic-partitions'] !== undefined ? parseRules(flags['topic-partitions']) : [topicAndPartitions(flags.topic, flags.partitions)]
    } catch (error) {
      throw error instanceof ToolError ? error : fail((error as Error).message)
    }

    const props = loadClientProperties(flags['command-config'])
    let admin: Admin
    try {
      if (adminConfigProblem(props)) throw new Error('Failed to create new KafkaAdminClient')
      admin = new Admin(bootstrap, {props, clientId: 'GetOffsetShell'})
    } catch (error) {
      throw fail((error as Error).message.startsWith('Failed to create') ? (error as Error).message : `Failed to create new KafkaAdminClient: ${(error as Error).message}`)
    }
    try {
      const md = await admin.client.metadata(null, undefined, 'listTopics')
      const partitions: TopicPartition[] = []
      for (const t of md.topics) {
        if (t.errorCode !== 0 || t.name === null) continue
        if (flags['exclude-internal-topics'] && t.isInternal) continue
        const name = t.name
        if (!rules.some(r => r.topic(name))) continue
        for (const p of t.partitions) if (rules.some(r => r.topic(name) && r.partition(p.partitionIndex))) partitions.push({topic: name, partition: p.partitionIndex})
      }
      if (partitions.length === 0) throw fail('Could not match any topic-partitions with the specified filters')
      const outcomes = await listOffsets(admin.client, partitions, timestamp)
      const lines: string[] = []
      for (const o of byTpString(outcomes.map(o => ({...o, ...o.tp})))) {
        if (o.error) {
          writeLineSync(2, `Skip getting offsets for topic-partition ${o.topic}-${o.partition} due to error: ${o.error.toString()}`)
          continue
        }
        if (o.value && o.value.offset !== -1) lines.push(`${o.topic}:${o.partition}:${o.value.offset}`)
      }
      if (lines.length > 0) await this.writeOut(lines.join('\n') + '\n')
    } catch (error) {
      if (error instanceof ToolError) throw error
      if (error instanceof KafkaClientError) throw fail(error.toString())
      throw fail((error as Error).message)
    } finally {
      admin.close()
    }
  }
}

/** GetOffsetShell.parseOffsetSpec: the ListOffsets timestamp, or undefined when malformed. */
export function parseTime(text: string): number | undefined {
  switch (text) {
    case 'earliest': return OffsetSpec.earliest
    case 'latest': return OffsetSpec.latest
    case 'max-timestamp': return OffsetSpec.maxTimestamp
    case 'earliest-local': return OffsetSpec.earliestLocal
    case 'latest-tiered': return OffsetSpec.latestTiered
    default: return parseJavaLong(text)
  }
}

function regexFilter(pattern: string): (t: string) => boolean {
  try {
    return topicFilter(pattern)
  } catch (error) {
    throw new ToolError(`Error occurred: ${(error as Error).message}`)
  }
}

function topicAndPartitions(topic: string | undefined, partitions: string | undefined): Rule {
  const allowed = regexFilter(topic ?? '.*')
  let ids: Set<number> | undefined
  if (partitions !== undefined && partitions !== '') {
    const parsed = javaSplit(partitions, ',').map(parseJavaInt)
    if (parsed.length === 0 || parsed.some(p => p === undefined)) throw new ToolError(`Error occurred: --partitions expects a comma separated list of numeric partition ids, but received: ${partitions}`)
    ids = new Set(parsed as number[])
  }
  return {topic: allowed, partition: p => !ids || ids.has(p)}
}

function parseRules(text: string): Rule[] {
  return javaSplit(text, ',').map(spec => {
    const m = TP_PATTERN.exec(spec)
    if (!m) throw new ToolError(`Error occurred: org.apache.kafka.tools.TerseException: Invalid rule specification: ${spec}`)
    const g = (i: number) => (m[i] !== undefined && m[i] !== '' ? m[i] : undefined)
    const topic = regexFilter(g(1) ?? '.*')
    const num = (s: string) => {
      const n = parseJavaInt(s)
      if (n === undefined) throw new ToolError(`Error occurred: For input string: "${s}"`)
      return n
    }
    if (g(2) !== undefined) {
      const only = num(g(2)!)
      return {topic, partition: (p: number) => p === only}
    }
    const lower = g(3) !== undefined ? num(g(3)!) : 0
    const upper = g(4) !== undefined ? num(g(4)!) : 2147483647
    return {topic, partition: (p: number) => p >= lower && p < upper}
  })
}
