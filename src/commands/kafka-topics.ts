// kafka-topics: create, delete, describe, list or change topics, with Apache Kafka 3.9's
// flags, checks, messages and output formats.
import {Flags} from '@oclif/core'
import {KafkaCommand, bootstrapServerFlag, commandConfigFlag, loadClientProperties, intProperty, UsageError, ToolError} from './base.js'
import {Admin, type ConfigEntry} from '../core/client/admin.js'
import {BrokerError, parseIntOption} from '../core/client/errors.js'
import {describePartitionLine, describeTopicLine, javaHashMapOrder, topicFilter, invalidTopicName} from '../core/client/format.js'

const ALTER_HINT = ' (To alter topic configurations, the kafka-configs tool can be used.)'

export default class KafkaTopics extends KafkaCommand {
  static hidden = false
  static summary = 'Create, delete, describe, or change a topic.'
  static description = 'This tool helps to create, delete, describe, or change a topic. Exactly one action is required: --list, --describe, --create, --alter or --delete. Output matches Apache Kafka 3.9\'s kafka-topics.'
  static examples = [
    'kafka-topics --create --bootstrap-server localhost:9092 --replication-factor 1 --partitions 1 --topic dev-topic',
    'kafka-topics --list --bootstrap-server localhost:9092',
    'kafka-topics --describe --bootstrap-server localhost:9092 --topic dev-topic',
    'kafka-topics --alter --bootstrap-server localhost:9092 --topic dev-topic --partitions 3',
    'kafka-topics --delete --bootstrap-server localhost:9092 --topic \'dev-.*\'',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED: The Kafka server to connect to.'),
    'command-config': commandConfigFlag(),
    list: Flags.boolean({description: 'List all available topics.'}),
    create: Flags.boolean({description: 'Create a new topic.'}),
    delete: Flags.boolean({description: 'Delete a topic.'}),
    alter: Flags.boolean({description: 'Alter the number of partitions and replica assignment.' + ALTER_HINT}),
    describe: Flags.boolean({description: 'List details for the given topics.'}),
    topic: Flags.string({description: 'The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option.', helpValue: '<topic>'}),
    'topic-id': Flags.string({description: 'The topic-id to describe.', helpValue: '<topic-id>'}),
    config: Flags.string({description: 'A topic configuration override for the topic being created (repeatable). It is supported only in combination with --create.', helpValue: '<name=value>', multiple: true, multipleNonGreedy: true}),
    partitions: Flags.string({description: 'The number of partitions for the topic being created or altered. If not supplied with --create, the topic uses the cluster default.', helpValue: '<# of partitions>'}),
    'replication-factor': Flags.string({description: 'The replication factor for each partition in the topic being created. If not supplied, the topic uses the cluster default.', helpValue: '<replication factor>'}),
    'replica-assignment': Flags.string({description: 'A list of manual partition-to-broker assignments for the topic being created or altered.', helpValue: '<b1:b2,b3:b4,...>'}),
    'under-replicated-partitions': Flags.boolean({description: 'If set when describing topics, only show under-replicated partitions.'}),
    'unavailable-partitions': Flags.boolean({description: 'If set when describing topics, only show partitions whose leader is not available.'}),
    'under-min-isr-partitions': Flags.boolean({description: 'If set when describing topics, only show partitions whose isr count is less than the configured minimum.'}),
    'at-min-isr-partitions': Flags.boolean({description: 'If set when describing topics, only show partitions whose isr count is equal to the configured minimum.'}),
    'topics-with-overrides': Flags.boolean({description: 'If set when describing topics, only show topics that have overridden configs.'}),
    'if-exists': Flags.boolean({description: 'If set when altering or deleting or describing topics, the action will only execute if the topic exists.'}),
    'if-not-exists': Flags.boolean({description: 'If set when creating topics, the create request will not fail if the topic already exists.'}),
    'exclude-internal': Flags.boolean({description: 'Exclude internal topics when listing or describing topics. By default, the internal topics are included.'}),
    output: Flags.string({description: 'kafkit addition: `json` prints --list and --describe as JSON on stdout.', options: ['json', 'text'], helpValue: '<json|text>'}),
    'partition-size-limit-per-response': Flags.string({description: 'The maximum partition size to be included in one DescribeTopicPartitions response (accepted for compatibility).', helpValue: '<n>'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError('Create, delete, describe, or change a topic.')
    const {flags} = await this.parse(KafkaTopics)
    const has = (name: keyof typeof flags) => flags[name] !== undefined && flags[name] !== false
    const actions = (['create', 'list', 'alter', 'describe', 'delete'] as const).filter(a => flags[a])
    if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --create, --alter or --delete')
    const action = actions[0]
    if (!flags['bootstrap-server']) throw new UsageError('--bootstrap-server must be specified')
    if (action === 'describe' && flags['if-exists'] && !flags.topic && !flags['topic-id']) throw new UsageError('--topic or --topic-id is required to describe a topic')
    if (action !== 'list' && action !== 'describe' && !flags.topic) throw new UsageError('Missing required argument "[topic]"')
    if (action === 'alter') {
      if (has('config')) throw new UsageError(`Option "[alter]" can't be used with option "[config]"${ALTER_HINT}`)
      if (!has('partitions')) throw new UsageError('Missing required argument "[partitions]"')
    }
    const invalidWith = (opt: keyof typeof flags, allowed: string[]) => {
      if (!has(opt)) return
      for (const a of ['alter', 'create', 'describe', 'list', 'delete']) {
        if (!allowed.includes(a) && flags[a as 'list']) throw new UsageError(`Option "[${opt}]" can't be used with option "[${a}]"`)
      }
    }
    invalidWith('config', ['alter', 'create'])
    invalidWith('partitions', ['alter', 'create'])
    invalidWith('replication-factor', ['create'])
    invalidWith('replica-assignment', ['alter', 'create'])
    if (action === 'create' && has('replica-assignment')) {
      if (has('partitions')) throw new UsageError('Option "[replica-assignment]" can\'t be used with option "[partitions]"')
      if (has('replication-factor')) throw new UsageError('Option "[replica-assignment]" can\'t be used with option "[replication-factor]"')
    }
    const reports = ['under-replicated-partitions', 'under-min-isr-partitions', 'at-min-isr-partitions', 'unavailable-partitions'] as const
    for (const r of reports) {
      invalidWith(r, ['describe'])
      if (has(r) && flags['topics-with-overrides']) throw new UsageError(`Option "[${r}]" can't be used with option "[topics-with-overrides]"`)
      for (const other of reports) if (other !== r && has(r) && has(other)) throw new UsageError(`Option "[${r}]" can't be used with option "[${other}]"`)
    }
    invalidWith('topics-with-overrides', ['describe'])
    invalidWith('if-exists', ['alter', 'delete', 'describe'])
    invalidWith('if-not-exists', ['create'])
    invalidWith('exclude-internal', ['list', 'describe'])
    if (flags.output === 'json' && action !== 'list' && action !== 'describe') throw new UsageError('--output json is supported with --list and --describe only')

    // Like Kafka's tool, a client that cannot be set up is reported on stderr.
    let admin: Admin
    try {
      const props = loadClientProperties(flags['command-config'])
      intProperty(props, 'default.api.timeout.ms', 60000)
      intProperty(props, 'request.timeout.ms', 30000)
      admin = new Admin(flags['bootstrap-server'], {props})
    } catch (error) {
      throw new ToolError(`Failed to create new KafkaAdminClient: ${(error as Error).message}`)
    }
    const a = admin
    try {
      await this.withSpinner(`${action} ${flags.topic ?? ''}`.trim(), async () => {
        switch (action) {
          case 'create': return this.create(a, flags)
          case 'list': return this.list(a, flags)
          case 'describe': return this.describe(a, flags)
          case 'alter': return this.alter(a, flags)
          case 'delete': return this.delete(a, flags)
        }
      })
    } catch (error) {
      if (error instanceof UsageError) throw error
      const message = error instanceof ToolError || error instanceof BrokerError ? error.message : (error as Error).message
      throw new ToolError(`Error while executing topic command : ${message}`, true)
    } finally {
      admin.close()
    }
  }

  private async topics(admin: Admin, topic: string | undefined, excludeInternal: boolean): Promise<string[]> {
    const all = await admin.listTopics(!excludeInternal)
    if (topic === undefined) return all.map(t => t.name)
    let allowed: (t: string) => boolean
    try {
      allowed = topicFilter(topic)
    } catch (error) {
      throw new ToolError((error as Error).message)
    }
    return all.filter(t => allowed(t.name) && !(excludeInternal && t.isInternal)).map(t => t.name)
  }

  private ensureExists(found: string[], requested: string | undefined, required: boolean): void {
    if (requested && required && found.length === 0) throw new ToolError(`Topic '${requested}' does not exist as expected`)
  }

  private async create(admin: Admin, flags: TopicFlags): Promise<void> {
    const name = flags.topic!
    const configs = new Map<string, string>()
    for (const item of flags.config ?? []) {
      const parts = item.split(/\s*=\s*/)
      if (parts.length !== 2) throw new ToolError('requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".')
      configs.set(parts[0].trim(), parts[1].trim())
    }
    const partitions = flags.partitions === undefined ? -1 : parseIntOption(flags.partitions, 'partitions')
    const rf = flags['replication-factor'] === undefined ? -1 : parseIntOption(flags['replication-factor'], 'replication-factor')
    const assignments = flags['replica-assignment'] ? parseReplicaAssignment(flags['replica-assignment']) : undefined
    if (name.includes('.') || name.includes('_')) {
      // Kafka warns whenever the name has either character (Topic.hasCollisionChars).
      await this.writeOut('WARNING: Due to limitations in metric names, topics with a period (\'.\') or underscore (\'_\') could collide. To avoid issues it is best to use either, but not both.\n')
    }
    if (flags['replication-factor'] !== undefined && (rf > 32767 || rf < 1)) throw new ToolError('The replication factor must be between 1 and 32767 inclusive')
    if (flags.partitions !== undefined && partitions < 1) throw new ToolError('The partitions must be greater than 0')
    const bad = invalidTopicName(name)
    if (bad) throw new ToolError(bad)
    try {
      await admin.createTopic({name, partitions, replicationFactor: rf, assignments, configs})
      await this.writeOut(`Created topic ${name}.\n`)
    } catch (error) {
      if (error instanceof BrokerError && error.errorName === 'TOPIC_ALREADY_EXISTS' && flags['if-not-exists']) return
      throw error
    }
  }

  private async list(admin: Admin, flags: TopicFlags): Promise<void> {
    if (flags.output === 'json') {
      const excludeInternal = flags['exclude-internal'] ?? false
      const all = await admin.listTopics(!excludeInternal)
      const names = new Set(await this.topics(admin, flags.topic, excludeInternal))
      await this.writeOut(JSON.stringify(all.filter(t => names.has(t.name)).map(t => ({topic: t.name, internal: t.isInternal}))) + '\n')
      return
    }
    const names = await this.topics(admin, flags.topic, flags['exclude-internal'] ?? false)
    await this.writeOut(names.join('\n') + '\n')
  }

  private async alter(admin: Admin, flags: TopicFlags): Promise<void> {
    const names = await this.topics(admin, flags.topic, flags['exclude-internal'] ?? false)
    this.ensureExists(names, flags.topic, !flags['if-exists'])
    if (names.length === 0) return
    const count = parseIntOption(flags.partitions!, 'partitions')
    const assignment = flags['replica-assignment'] ? parseReplicaAssignment(flags['replica-assignment']) : undefined
    let changes: {name: string; count: number; assignments?: number[][]}[] = names.map(name => ({name, count}))
    if (assignment) {
      const infos = await admin.describeTopics(names)
      changes = infos.map(t => ({name: t.name, count, assignments: assignment.slice(t.partitions.length)}))
    }
    await admin.createPartitions(changes)
  }

  private async delete(admin: Admin, flags: TopicFlags): Promise<void> {
    const names = await this.topics(admin, flags.topic, flags['exclude-internal'] ?? false)
    this.ensureExists(names, flags.topic, !flags['if-exists'])
    await admin.deleteTopics(names)
  }

  private async describe(admin: Admin, flags: TopicFlags): Promise<void> {
    let names: string[]
    if (flags['topic-id']) {
      const infos = await admin.describeTopics(await this.topics(admin, undefined, flags['exclude-internal'] ?? false))
      names = infos.filter(t => t.topicId === flags['topic-id']).map(t => t.name)
      if (names.length === 0 && !flags['if-exists']) throw new ToolError(`TopicId '${flags['topic-id']}' does not exist as expected`)
    } else {
      names = await this.topics(admin, flags.topic, flags['exclude-internal'] ?? false)
      this.ensureExists(names, flags.topic, !flags['if-exists'])
    }
    if (names.length === 0) return
    const [infos, configs, live] = await Promise.all([admin.describeTopics(names), admin.describeTopicConfigs(names), admin.liveBrokers()])
    const liveSet = new Set(live)
    const reportPartitions = flags['under-replicated-partitions'] || flags['unavailable-partitions'] || flags['under-min-isr-partitions'] || flags['at-min-isr-partitions']
    const describeConfigs = !reportPartitions
    const describePartitions = !flags['topics-with-overrides']
    const lines: string[] = []
    // --output json: the same selection as the text, one object per topic shown.
    const json: Array<Record<string, unknown>> = []
    // Kafka's tool prints topics in the iteration order of a HashMap sized for them.
    for (const t of javaHashMapOrder(infos, x => x.name, infos.length)) {
      const cfg: ConfigEntry[] = configs.get(t.name) ?? []
      const minIsr = Number(cfg.find(e => e.name === 'min.insync.replicas')?.value ?? '1')
      const topicShown = describeConfigs && t.partitions.length > 0 && (!flags['topics-with-overrides'] || cfg.some(e => !e.isDefault))
      if (topicShown) lines.push(describeTopicLine(t, cfg))
      const shownPartitions: typeof t.partitions = []
      if (describePartitions) {
        for (const p of t.partitions) {
          const hasLeader = p.leader >= 0
          const show = describeConfigs ||
            (flags['under-replicated-partitions'] && p.replicas.length - p.isr.length > 0) ||
            (flags['unavailable-partitions'] && (!hasLeader || !liveSet.has(p.leader))) ||
            (flags['under-min-isr-partitions'] && (!hasLeader || p.isr.length < minIsr)) ||
            (flags['at-min-isr-partitions'] && p.isr.length === minIsr)
          if (show) {
            lines.push(describePartitionLine(t.name, p))
            shownPartitions.push(p)
          }
        }
      }
      if (topicShown || shownPartitions.length > 0) {
        json.push({
          topic: t.name,
          topicId: t.topicId,
          partitionCount: t.partitions.length,
          replicationFactor: t.partitions.length ? t.partitions[0].replicas.length : 0,
          configs: Object.fromEntries(cfg.filter(e => !e.isDefault).map(e => [e.name, e.value])),
          partitions: shownPartitions.map(p => ({partition: p.partition, leader: p.leader >= 0 ? p.leader : null, replicas: p.replicas, isr: p.isr})),
        })
      }
    }
    if (flags.output === 'json') await this.writeOut(JSON.stringify(json, null, 2) + '\n')
    else if (lines.length) await this.writeOut(lines.join('\n') + '\n')
  }
}

type TopicFlags = Awaited<ReturnType<KafkaTopics['parse']>>['flags'] & Record<string, any>

/** "0:1,1:2" → [[0,1],[1,2]] with Kafka's checks. */
export function parseReplicaAssignment(text: string): number[][] {
  const out: number[][] = []
  for (const part of text.split(',')) {
    const ids = part.split(':').map(s => {
      const t = s.trim()
      if (!/^-?\d+$/.test(t)) throw new ToolError(`For input string: "${t}"`)
      return Number(t)
    })
    const dups = ids.filter((x, i) => ids.indexOf(x) !== i)
    if (dups.length) throw new ToolError(`Partition replica lists may not contain duplicate entries: ${[...new Set(dups)].join(',')}`)
    if (out.length && ids.length !== out[0].length) throw new ToolError(`Partition ${out.length} has different replication factor: [${ids.join(', ')}]`)
    out.push(ids)
  }
  return out
}
