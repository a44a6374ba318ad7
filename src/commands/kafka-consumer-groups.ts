// kafka-consumer-groups: list, describe, delete consumer groups, reset and delete their
// offsets, with Apache Kafka 3.9's flags, checks, messages and padded tables (including
// where 3.9 prints no trailing newline). kafkit additions: `--output json` for --list and
// --describe, and a non-zero exit whenever an "Error: ..." was printed.
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {KafkaCommand, bootstrapServerFlag, loadClientProperties, UsageError, ToolError} from './base.js'
import {GroupAdmin, GroupError, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type GroupDescription, type GroupListing, type TopicPartition, type CommittedOffset} from '../core/client/groups.js'
import {
  pad, row, tpHashOrder, tpString, javaHashMapOrder, javaException, parseDateTime, parseDuration,
  parseResetPlan, assignmentString, warnLine,
} from '../core/client/groups-format.js'
import {errorName} from '../core/protocol/errors.js'

const MISSING = '-'
const STATES = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty', 'Assigning', 'Reconciling']
const SCENARIOS = ['to-offset', 'to-earliest', 'to-latest', 'shift-by', 'to-datetime', 'by-duration', 'from-file', 'to-current'] as const
const DRY_RUN_WARNING = 'WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.\n'
/** Marks `--state` given without a value (Kafka's optional argument). */
const NO_VALUE = '\u0000'

interface OffsetRow {
  group: string
  topic?: string
  partition?: number
  offset?: number
  logEndOffset?: number
  lag?: number
  consumerId: string
  host: string
  clientId: string
}

const str = (v: string | number | undefined) => (v === undefined ? MISSING : String(v))
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export default class KafkaConsumerGroups extends KafkaCommand {
  static hidden = false
  static summary = 'List, describe or delete consumer groups, or reset their offsets.'
  static description = 'This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets. Output matches Apache Kafka 3.9\'s kafka-consumer-groups; --output json gives machine-readable --list and --describe output.'
  static examples = [
    'kafka-consumer-groups --bootstrap-server localhost:9092 --list',
    'kafka-consumer-groups --bootstrap-server localhost:9092 --describe --group dev-group',
    'kafka-consumer-groups --bootstrap-server localhost:9092 --describe --group dev-group --members --verbose',
    'kafka-consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group dev-group --topic dev-topic --to-earliest --execute',
    'kafka-consumer-groups --bootstrap-server localhost:9092 --delete --group dev-group',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED: The server(s) to connect to.'),
    'command-config': Flags.string({description: 'Property file containing configs to be passed to Admin Client and Consumer.', helpValue: '<command config property file>'}),
    group: Flags.string({description: 'The consumer group we wish to act on (repeatable).', helpValue: '<consumer group>', multiple: true, multipleNonGreedy: true}),
    topic: Flags.string({description: 'The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs.', helpValue: '<topic>', multiple: true, multipleNonGreedy: true}),
    'all-topics': Flags.boolean({description: 'Consider all topics assigned to a group in the `reset-offsets` process.'}),
    list: Flags.boolean({description: 'List all consumer groups.'}),
    describe: Flags.boolean({description: 'Describe consumer group and list offset lag (number of messages not yet processed) related to given group.'}),
    'all-groups': Flags.boolean({description: 'Apply to all consumer groups.'}),
    delete: Flags.boolean({description: 'Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2'}),
    timeout: Flags.string({description: 'The timeout that can be set for some use cases. For example, it can be used when describing the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes (when the group is just created, or is going through some changes). (default: 5000)', helpValue: '<timeout (ms)>'}),
    'reset-offsets': Flags.boolean({description: 'Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive. Has 2 execution options: --dry-run (the default) to plan which offsets to reset, and --execute to update the offsets. Additionally, the --export option is used to export the results to a CSV format. You must choose one of the following reset specifications: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset. To define the scope use --all-topics or --topic. One scope must be specified unless you use \'--from-file\'.'}),
    'delete-offsets': Flags.boolean({description: 'Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.'}),
    'dry-run': Flags.boolean({description: 'Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.'}),
    execute: Flags.boolean({description: 'Execute operation. Supported operations: reset-offsets.'}),
    export: Flags.boolean({description: 'Export operation execution to a CSV file. Supported operations: reset-offsets.'}),
    'to-offset': Flags.string({description: 'Reset offsets to a specific offset.', helpValue: '<offset>', allowStdin: false}),
    'from-file': Flags.string({description: 'Reset offsets to values defined in CSV file.', helpValue: '<path to CSV file>'}),
    'to-datetime': Flags.string({description: 'Reset offsets to offset from datetime. Format: \'YYYY-MM-DDTHH:mm:SS.sss\'', helpValue: '<datetime>'}),
    'by-duration': Flags.string({description: 'Reset offsets to offset by duration from current timestamp. Format: \'PnDTnHnMnS\'', helpValue: '<duration>'}),
    'to-earliest': Flags.boolean({description: 'Reset offsets to earliest offset.'}),
    'to-latest': Flags.boolean({description: 'Reset offsets to latest offset.'}),
    'to-current': Flags.boolean({description: 'Reset offsets to current offset.'}),
    'shift-by': Flags.string({description: 'Reset offsets shifting current offset by \'n\', where \'n\' can be positive or negative.', helpValue: '<number-of-offsets>'}),
    members: Flags.boolean({description: 'Describe members of the group. This option may be used with \'--describe\' and \'--bootstrap-server\' options only.'}),
    verbose: Flags.boolean({description: 'Provide additional information, if any, when describing the group. This option may be used with \'--offsets\'/\'--members\'/\'--state\' and \'--bootstrap-server\' options only.'}),
    offsets: Flags.boolean({description: 'Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with \'--describe\' and \'--bootstrap-server\' options only.'}),
    state: Flags.string({description: 'When specified with \'--describe\', includes the state of the group. When specified with \'--list\', it displays the state of all groups. It can also be used to list groups with specific states (e.g. --list --state stable,empty).', helpValue: '[String]'}),
    output: Flags.string({description: 'kafkit addition: `json` prints --list and --describe as JSON on stdout.', options: ['json', 'text'], helpValue: '<json|text>'}),
  }

  private failed = false

  /** Kafka's printError: "\nError: msg" on stdout; remembered for the exit code. */
  private async printError(msg: string): Promise<void> {
    this.failed = true
    await this.writeOut(`\nError: ${msg}\n`)
  }

  private err(text: string): void {
    process.stderr.write(text)
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError('This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.')
    // --state takes an optional value (joptsimple): give oclif one when none follows.
    const argv = [...this.argv]
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--state' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) argv.splice(i + 1, 0, NO_VALUE)
    }
    this.argv = argv
    const {flags} = await this.parse(KafkaConsumerGroups)
    const has = (k: keyof typeof flags) => flags[k] !== undefined && flags[k] !== false
    const stateValue = flags.state === undefined || flags.state === NO_VALUE ? undefined : flags.state

    if (!flags['bootstrap-server']) throw new UsageError('Missing required argument "[bootstrap-server]"')
    if (flags.describe) {
      if (!has('group') && !flags['all-groups']) throw new UsageError('Option [describe] takes one of these options: [reset-offsets], [describe], [delete], [list]')
      if ([flags.members, flags.offsets, has('state')].filter(Boolean).length > 1) throw new UsageError('Option [describe] takes at most one of these options: [members], [offsets], [state]')
      if (stateValue !== undefined) throw new UsageError('Option [describe] does not take a value for [state]')
    }
    if (flags.delete) {
      if (!has('group') && !flags['all-groups']) throw new UsageError('Option [delete] takes one of these options: [all-groups], [group]')
      if (has('topic')) throw new UsageError('The consumer does not support topic-specific offset deletion from a consumer group.')
    }
    if (flags['delete-offsets']) {
      if (!has('group') || !has('topic')) throw new UsageError('Option [delete-offsets] takes the following options: [all-groups], [group]')
    }
    const scenarios = SCENARIOS.filter(s => has(s))
    if (flags['reset-offsets']) {
      if (flags['dry-run'] && flags.execute) throw new UsageError('Option [reset-offsets] only accepts one of [execute] and [dry-run]')
      if (!flags['dry-run'] && !flags.execute) this.err(DRY_RUN_WARNING)
      if (!has('group') && !flags['all-groups']) throw new UsageError('Option [reset-offsets] takes one of these options: [all-groups], [group]')
      // (Kafka checks the scenarios in this order.)
      const checked = (['to-offset', 'to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'to-current', 'shift-by', 'from-file'] as const).filter(s => has(s))
      if (checked.length > 1) throw new UsageError(`Option "[${checked[0]}]" can't be used with option "[${checked[1]}]"`)
    }
    if (has('group') && flags['all-groups']) throw new UsageError('Option "[group]" can\'t be used with option "[all-groups]"')
    if (has('group') && flags.list) throw new UsageError('Option "[group]" can\'t be used with option "[list]"')
    if (has('topic') && (flags.list || flags.describe)) throw new UsageError(`Option "[topic]" can't be used with option "[${flags.list ? 'list' : 'describe'}]"`)
    for (const [opt, allowed] of [['members', ['describe']], ['verbose', ['describe']], ['offsets', ['describe']], ['state', ['describe', 'list']]] as const) {
      if (has(opt) && !allowed.some(a => flags[a])) throw new UsageError(`Option(s) [${opt}] are unavailable given other options on the command line`)
    }
    const actions = (['list', 'describe', 'delete', 'reset-offsets', 'delete-offsets'] as const).filter(a => flags[a])
    if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets')
    if (flags.output === 'json' && !flags.list && !flags.describe) throw new UsageError('--output json is supported with --list and --describe only')

    let timeoutMs = 5000
    if (flags.timeout !== undefined) {
      if (!/^\d+$/.test(flags.timeout.trim())) throw new ToolError(`\nError: Executing consumer group command failed due to Cannot parse argument '${flags.timeout}' of option timeout`, true)
      timeoutMs = Number(flags.timeout.trim())
    }
    const props = loadClientProperties(flags['command-config'])
    const admin = new GroupAdmin(flags['bootstrap-server'], {clientId: props.get('client.id') ?? 'adminclient-1', timeoutMs, props})
    try {
      await this.withSpinner(actions[0], async () => {
        if (flags.list) await this.list(admin, has('state'), stateValue, flags.output === 'json')
        else if (flags.describe) await this.describe(admin, flags)
        else if (flags.delete) await this.deleteGroups(admin, flags)
        else if (flags['reset-offsets']) await this.resetOffsets(admin, flags, scenarios[0])
        else await this.deleteOffsets(admin, (flags.group as string[])[0], flags.topic as string[])
      })
    } catch (error) {
      if (error instanceof UsageError || (error instanceof ToolError && error.message.startsWith('\nError: '))) throw error
      let msg = error instanceof GroupError ? javaException(error.code) : (error as Error).message
      msg = msg.split('\n')[0]
      throw new ToolError(`\nError: Executing consumer group command failed due to ${msg}`, true)
    } finally {
      admin.close()
    }
    if (this.failed) {
      await new Promise(res => process.stdout.write('', () => res(undefined)))
      this.exit(1)
    }
  }

  private async groupIds(admin: GroupAdmin, flags: Flags): Promise<string[]> {
    return flags['all-groups'] ? (await admin.listGroups()).map(g => g.groupId) : [...new Set((flags.group ?? []) as string[])]
  }

  // ---- --list ----

  private async list(admin: GroupAdmin, withState: boolean, stateValue: string | undefined, json: boolean): Promise<void> {
    let states: string[] = []
    if (stateValue !== undefined && stateValue.trim() !== '') {
      const parsed = stateValue.split(',').map(s => s.trim())
      states = parsed.map(s => STATES.find(x => x.toLowerCase() === s.toLowerCase()) ?? '')
      if (states.includes('')) throw new UsageError(`Invalid state list '${stateValue}'. Valid states are: ${STATES.join(', ')}`)
      states = [...new Set(states)]
    }
    const groups: GroupListing[] = await admin.listGroups(states)
    if (json) {
      await this.writeOut(JSON.stringify(groups.map(g => ({group: g.groupId, state: g.state}))) + '\n')
      return
    }
    if (!withState) {
      await this.writeOut(groups.map(g => g.groupId + '\n').join(''))
      return
    }
    const w = Math.max(15, ...groups.map(g => g.groupId.length)) + 10
    let out = `${pad('GROUP', w)} ${pad('STATE', 20)}\n`
    for (const g of groups) out += `${pad(g.groupId, w)} ${pad(g.state, 20)}\n`
    await this.writeOut(out)
  }

  // ---- --describe ----

  /** Kafka's shouldPrintMemberState: the state notices; true when rows should follow. */
  private async memberStateNotice(group: string, state: string, rows: number): Promise<boolean> {
    switch (state) {
      case 'Dead':
        await this.printError(`Consumer group '${group}' does not exist.`)
        return false
      case 'Empty':
        this.err(`\nConsumer group '${group}' has no active members.\n`)
        break
      case 'PreparingRebalance':
      case 'CompletingRebalance':
      case 'Assigning':
      case 'Reconciling':
        this.err(`\nWarning: Consumer group '${group}' is rebalancing.\n`)
        break
      case 'Stable':
        break
      default:
        throw new ToolError(`Expected a valid consumer group state, but found '${state}'.`)
    }
    return rows > 0
  }

  private async describe(admin: GroupAdmin, flags: Flags): Promise<void> {
    const ids = (await this.groupIds(admin, flags)).sort(byString)
    const json = flags.output === 'json'
    const jsonOut: unknown[] = []
    for (const group of ids) {
      const desc = await admin.describeGroup(group)
      if (desc.protocolType !== 'consumer' && desc.protocolType !== '' && desc.state !== 'Dead') {
        throw new ToolError(`\nError: Executing consumer group command failed due to Group ${group} is not a consumer group (protocol type ${desc.protocolType}).`, true)
      }
      if (flags.members) {
        if (json) jsonOut.push(this.jsonGroup(desc))
        else await this.printMembers(desc, flags.verbose ?? false)
      } else if (flags.state !== undefined) {
        if (json) jsonOut.push(this.jsonGroup(desc))
        else await this.printState(desc)
      } else {
        const rows = desc.state === 'Dead' ? [] : await this.offsetRows(admin, desc)
        if (json) jsonOut.push({...this.jsonGroup(desc), offsets: rows.map(r => ({topic: r.topic ?? null, partition: r.partition ?? null, currentOffset: r.offset ?? null, logEndOffset: r.logEndOffset ?? null, lag: r.lag ?? null, consumerId: r.consumerId === MISSING ? null : r.consumerId, host: r.host === MISSING ? null : r.host, clientId: r.clientId === MISSING ? null : r.clientId}))})
        else await this.printOffsets(desc, rows)
      }
    }
    if (json) await this.writeOut(JSON.stringify(jsonOut, null, 2) + '\n')
  }

  private jsonGroup(d: GroupDescription): Record<string, unknown> {
    if (d.state === 'Dead') this.failed = true
    return {
      group: d.groupId,
      exists: d.state !== 'Dead',
      state: d.state,
      coordinator: {id: d.coordinator.id, host: d.coordinator.host, port: d.coordinator.port},
      assignmentStrategy: d.assignor,
      members: d.members.map(m => ({consumerId: m.memberId, groupInstanceId: m.groupInstanceId, host: m.host, clientId: m.clientId, assignment: m.assignment})),
    }
  }

  /** The rows of --describe --offsets, in Kafka 3.9's order. */
  private async offsetRows(admin: GroupAdmin, desc: GroupDescription): Promise<OffsetRow[]> {
    const committed = await admin.committedOffsets(desc.groupId)
    const committedBy = new Map<string, CommittedOffset>(committed.map(c => [`${c.topic}\0${c.partition}`, c]))
    const assigned = new Set<string>()
    const groups: {tps: TopicPartition[]; consumerId: string; host: string; clientId: string}[] = []
    const members = desc.members.filter(m => m.assignment.length > 0).map((m, i) => ({m, i}))
    members.sort((a, b) => b.m.assignment.length - a.m.assignment.length || a.i - b.i)
    for (const {m} of members) {
      for (const tp of m.assignment) assigned.add(`${tp.topic}\0${tp.partition}`)
      groups.push({tps: m.assignment, consumerId: m.memberId, host: m.host, clientId: m.clientId})
    }
    const unassigned = committed.filter(c => !assigned.has(`${c.topic}\0${c.partition}`)).map(c => ({topic: c.topic, partition: c.partition}))
    if (unassigned.length) groups.push({tps: unassigned, consumerId: MISSING, host: MISSING, clientId: MISSING})
    const all = groups.flatMap(g => g.tps)
    const leo = await admin.listOffsets(all, LATEST_TIMESTAMP)
    const rows: OffsetRow[] = []
    for (const g of groups) {
      const sorted = g.tps.map((tp, i) => ({tp, i})).sort((a, b) => a.tp.partition - b.tp.partition || a.i - b.i).map(x => x.tp)
      for (const tp of tpHashOrder(sorted)) {
        const key = `${tp.topic}\0${tp.partition}`
        const offset = committedBy.get(key)?.offset
        const end = leo.get(key)
        rows.push({
          group: desc.groupId, topic: tp.topic, partition: tp.partition, offset, logEndOffset: end,
          lag: offset !== undefined && offset !== -1 && end !== undefined ? end - offset : undefined,
          consumerId: g.consumerId, host: g.host, clientId: g.clientId,
        })
      }
    }
    return rows
  }

  private async printOffsets(desc: GroupDescription, rows: OffsetRow[]): Promise<void> {
    if (!(await this.memberStateNotice(desc.groupId, desc.state, rows.length))) return
    const wg = Math.max(15, ...rows.map(r => r.group.length))
    const wt = Math.max(15, ...rows.map(r => str(r.topic).length))
    const wc = Math.max(15, ...rows.map(r => r.consumerId.length))
    const wh = Math.max(15, ...rows.map(r => r.host.length))
    const widths = [wg, wt, 10, 15, 15, 15, wc, wh, 0]
    let out = '\n' + row(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], widths)
    for (const r of rows) out += '\n' + row([r.group, str(r.topic), str(r.partition), str(r.offset), str(r.logEndOffset), str(r.lag), r.consumerId, r.host, r.clientId], widths)
    await this.writeOut(out)
  }

  private async printMembers(desc: GroupDescription, verbose: boolean): Promise<void> {
    const ms = desc.members
    let wg = 15, wc = 15, wi = 17, wh = 15, wcl = 15
    let withInstance = false
    if (await this.memberStateNotice(desc.groupId, desc.state, ms.length)) {
      for (const m of ms) {
        wg = Math.max(wg, desc.groupId.length)
        wc = Math.max(wc, m.memberId.length)
        wi = Math.max(wi, (m.groupInstanceId ?? '').length)
        wh = Math.max(wh, m.host.length)
        wcl = Math.max(wcl, m.clientId.length)
        withInstance ||= !!m.groupInstanceId
      }
    }
    const fmt = (g: string, c: string, i: string, h: string, cl: string, n: string | number) =>
      withInstance
        ? `${pad(g, wg)} ${pad(c, wc)} ${pad(i, wi)} ${pad(h, wh)} ${pad(cl, wcl)} ${pad(n, 15)} `
        : `${pad(g, wg)} ${pad(c, wc)} ${pad(h, wh)} ${pad(cl, wcl)} ${pad(n, 15)} `
    let out = '\n' + fmt('GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS') + (verbose ? 'ASSIGNMENT' : '') + '\n'
    for (const m of ms) {
      out += fmt(desc.groupId, m.memberId, m.groupInstanceId ?? '', m.host, m.clientId, m.assignment.length)
      if (verbose) out += assignmentString(m.assignment)
      out += '\n'
    }
    await this.writeOut(out)
  }

  private async printState(desc: GroupDescription): Promise<void> {
    if (!(await this.memberStateNotice(desc.groupId, desc.state, 1))) return
    const coordinator = `${desc.coordinator.host}:${desc.coordinator.port}  (${desc.coordinator.id})`
    const w = Math.max(25, coordinator.length)
    // (Kafka 3.9 pads the GROUP column to the coordinator column's width.)
    const widths = [w, 25, 20, 15, 0]
    await this.writeOut('\n' + row(['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'], widths) +
      '\n' + row([desc.groupId, coordinator, desc.assignor, desc.state, desc.members.length], widths) + '\n')
  }

  // ---- --delete ----

  private async deleteGroups(admin: GroupAdmin, flags: Flags): Promise<void> {
    const ids = await this.groupIds(admin, flags)
    const results = await admin.deleteGroups(ids)
    const success = javaHashMapOrder([...results].filter(([, c]) => c === 0).map(([g]) => g), g => g)
    const failed = javaHashMapOrder([...results].filter(([, c]) => c !== 0), ([g]) => g)
    if (failed.length === 0) {
      await this.writeOut(`Deletion of requested consumer groups ('${success.join(', ')}') was successful.\n`)
      return
    }
    await this.printError('Deletion of some consumer groups failed:')
    let out = ''
    for (const [g, code] of failed) out += `* Group '${g}' could not be deleted due to: java.util.concurrent.ExecutionException: ${javaException(code)}\n`
    // (Kafka 3.9 joins this list with "'" and ends it with "', '".)
    if (success.length) out += `\nThese consumer groups were deleted successfully: '${success.join('\'')}', '\n`
    await this.writeOut(out)
  }

  // ---- --delete-offsets ----

  private async deleteOffsets(admin: GroupAdmin, group: string, topics: string[]): Promise<void> {
    const results = new Map<string, {topic: string; partition: number; error?: string}>()
    const wanted: TopicPartition[] = []
    const plain: string[] = []
    for (const t of topics) {
      if (t.includes(':')) wanted.push(...parseTopicPartitions(t))
      else plain.push(t)
    }
    if (plain.length) {
      const md = await admin.topicPartitions([...new Set(plain)])
      for (const [topic, info] of md) {
        if ('errorCode' in info) results.set(`${topic}\0-1`, {topic, partition: -1, error: javaException(info.errorCode)})
        else for (const p of info.partitions) wanted.push({topic, partition: p.partition})
      }
    }
    const unique = [...new Map(wanted.map(tp => [`${tp.topic}\0${tp.partition}`, tp])).values()]
    let top = 0
    if (unique.length) {
      const res = await admin.deleteOffsets(group, unique)
      top = res.errorCode
      const codes = new Map(res.partitions.map(p => [`${p.topic}\0${p.partition}`, p.errorCode]))
      for (const tp of unique) {
        const code = res.errorCode !== 0 ? res.errorCode : codes.get(`${tp.topic}\0${tp.partition}`) ?? 0
        if (top === 0 && code !== 0) top = code
        results.set(`${tp.topic}\0${tp.partition}`, {...tp, error: code === 0 ? undefined : javaException(code)})
      }
    }
    const name = errorName(top)
    switch (name) {
      case 'NONE':
        await this.writeOut(`Request succeed for deleting offsets with topic ${topics.join(', ')} group ${group}\n`)
        break
      case 'INVALID_GROUP_ID':
        await this.printError(`'${group}' is not valid.`)
        break
      case 'GROUP_ID_NOT_FOUND':
        await this.printError(`'${group}' does not exist.`)
        break
      case 'GROUP_AUTHORIZATION_FAILED':
        await this.printError(`Access to '${group}' is not authorized.`)
        break
      case 'NON_EMPTY_GROUP':
        await this.printError(`Deleting offsets of a consumer group '${group}' is forbidden if the group is not empty.`)
        break
      case 'GROUP_SUBSCRIBED_TO_TOPIC':
      case 'TOPIC_AUTHORIZATION_FAILED':
      case 'UNKNOWN_TOPIC_OR_PARTITION':
        await this.printError('Encounter some partition level error, see the follow-up details:')
        break
      default:
        await this.printError(`Encounter some unknown error: ${name}`)
    }
    if ([...results.values()].some(r => r.error)) this.failed = true
    const rows = [...results.values()].sort((a, b) => byString(a.topic + a.partition, b.topic + b.partition))
    let out = '\n' + `${pad('TOPIC', 30)} ${pad('PARTITION', 15)} ${pad('STATUS', 15)}`
    for (const r of rows) out += `${pad(r.topic, 30)} ${pad(r.partition >= 0 ? r.partition : 'Not Provided', 15)} ${pad(r.error ? `Error: :${r.error}` : 'Successful', 15)}`
    await this.writeOut(out)
  }

  // ---- --reset-offsets ----

  private async resetOffsets(admin: GroupAdmin, flags: Flags, scenario: typeof SCENARIOS[number] | undefined): Promise<void> {
    const ids = await this.groupIds(admin, flags)
    const dryRun = flags['dry-run'] || !flags.execute
    // Parse the plan inputs before talking to any group.
    let toOffset: number | undefined
    let shiftBy: number | undefined
    let timestamp: number | undefined
    let plan: ReturnType<typeof parseResetPlan> | undefined
    const parseLong = (v: string, opt: string) => {
      if (!/^[+-]?\d+$/.test(v.trim())) throw new ToolError(`\nError: Executing consumer group command failed due to Cannot parse argument '${v}' of option ${opt}`, true)
      return Number(v.trim())
    }
    try {
      if (scenario === 'to-offset') toOffset = parseLong(flags['to-offset']!, 'to-offset')
      if (scenario === 'shift-by') shiftBy = parseLong(flags['shift-by']!, 'shift-by')
      if (scenario === 'to-datetime') {
        try {
          timestamp = parseDateTime(flags['to-datetime']!)
        } catch (error) {
          throw new Error(`java.text.ParseException: ${(error as Error).message}`)
        }
      }
      if (scenario === 'by-duration') timestamp = Date.now() - parseDuration(flags['by-duration']!)
      if (scenario === 'from-file') {
        let text: string
        try {
          text = readFileSync(flags['from-file']!, 'utf8')
        } catch (error) {
          throw new Error(`java.io.IOException: Unable to read file ${flags['from-file']}`)
        }
        plan = parseResetPlan(text, ids.length === 1 ? ids[0] : undefined)
      }
    } catch (error) {
      if (error instanceof UsageError || error instanceof ToolError) throw error
      throw new ToolError(`\nError: Executing consumer group command failed due to ${(error as Error).message}`, true)
    }
    const result = new Map<string, {topic: string; partition: number; offset: number}[]>()
    for (const group of ids) {
      const desc = await admin.describeGroup(group)
      if (desc.state !== 'Empty' && desc.state !== 'Dead') {
        await this.printError(`Assignments can only be reset if the group '${group}' is inactive, but the current state is ${desc.state}.`)
        result.set(group, [])
        continue
      }
      const committed = await admin.committedOffsets(group)
      let partitions: TopicPartition[]
      if (flags['all-topics']) partitions = committed.map(c => ({topic: c.topic, partition: c.partition}))
      else if (flags.topic?.length) partitions = await this.partitionsOf(admin, flags.topic)
      else if (scenario === 'from-file') partitions = []
      else throw new UsageError('One of the reset scopes should be defined: --all-topics, --topic.')
      const offsets = await this.prepare(admin, group, partitions, committed, scenario, {toOffset, shiftBy, timestamp, plan})
      if (!dryRun && offsets.length) {
        const errors = await admin.alterOffsets(group, offsets)
        if (errors.length) throw new ToolError(`\nError: Executing consumer group command failed due to ${javaException(errors[0].errorCode)}`, true)
      }
      result.set(group, offsets)
    }
    const groups = javaHashMapOrder([...result.keys()], g => g)
    if (flags.export) {
      const single = (flags.group ?? []).length === 1
      let csv = ''
      for (const g of groups) for (const o of result.get(g)!) csv += single ? `${o.topic},${o.partition},${o.offset}\n` : `${g},${o.topic},${o.partition},${o.offset}\n`
      await this.writeOut(csv + '\n')
      return
    }
    // Kafka 3.9 prints the header and the rows without line breaks between them.
    let out = ''
    if (result.size > 0) out += '\n' + `${pad('GROUP', 30)} ${pad('TOPIC', 30)} ${pad('PARTITION', 10)} ${pad('NEW-OFFSET', 15)}`
    for (const g of groups) for (const o of result.get(g)!) out += `${pad(g, 30)} ${pad(o.topic, 30)} ${pad(o.partition, 10)} ${pad(o.offset, 15)}`
    await this.writeOut(out)
  }

  /** --topic values: "t" (all its partitions) or "t:0,1". */
  private async partitionsOf(admin: GroupAdmin, topics: string[]): Promise<TopicPartition[]> {
    const specified: TopicPartition[] = []
    const plain: string[] = []
    for (const t of topics) {
      if (t.includes(':')) specified.push(...parseTopicPartitions(t))
      else plain.push(t)
    }
    if (plain.length) {
      const md = await admin.topicPartitions([...new Set(plain)])
      for (const t of plain) {
        const info = md.get(t)
        if (!info || 'errorCode' in info) throw new ToolError(`\nError: Executing consumer group command failed due to java.util.concurrent.ExecutionException: ${javaException(info && 'errorCode' in info ? info.errorCode : 3)}`, true)
        for (const p of info.partitions) specified.push({topic: t, partition: p.partition})
      }
    }
    return specified
  }

  private async prepare(
    admin: GroupAdmin, group: string, partitions: TopicPartition[], committed: CommittedOffset[],
    scenario: typeof SCENARIOS[number] | undefined,
    p: {toOffset?: number; shiftBy?: number; timestamp?: number; plan?: ReturnType<typeof parseResetPlan>},
  ): Promise<{topic: string; partition: number; offset: number}[]> {
    const key = (tp: TopicPartition) => `${tp.topic}\0${tp.partition}`
    const committedBy = new Map(committed.map(c => [key(c), c.offset]))
    const fromLog = async (tps: TopicPartition[], ts: number, what: string) => {
      const offs = await admin.listOffsets(tps, ts)
      return tps.map(tp => {
        const o = offs.get(key(tp))
        if (o === undefined) throw new UsageError(`Error getting ${what} offset of topic partition: ${tpString(tp)}`)
        return {...tp, offset: o}
      })
    }
    let out: {topic: string; partition: number; offset: number}[]
    switch (scenario) {
      case 'to-offset':
        out = await this.checkRange(admin, partitions.map(tp => ({...tp, offset: p.toOffset!})))
        break
      case 'to-earliest':
        out = await fromLog(partitions, EARLIEST_TIMESTAMP, 'starting')
        break
      case 'to-latest':
        out = await fromLog(partitions, LATEST_TIMESTAMP, 'ending')
        break
      case 'shift-by':
        out = await this.checkRange(admin, partitions.map(tp => {
          const cur = committedBy.get(key(tp))
          if (cur === undefined) throw new UsageError(`Cannot shift offset for partition ${tpString(tp)} since there is no current committed offset`)
          return {...tp, offset: cur + p.shiftBy!}
        }))
        break
      case 'to-datetime':
      case 'by-duration': {
        const offs = await admin.listOffsets(partitions, p.timestamp!)
        const empty = partitions.filter(tp => offs.get(key(tp)) === -1)
        let warn = ''
        for (const tp of empty) warn += `\nWarn: Partition ${tp.partition} from topic ${tp.topic} is empty. Falling back to latest known offset.\n`
        if (warn) await this.writeOut(warn)
        const latest = await admin.listOffsets(empty, LATEST_TIMESTAMP)
        out = partitions.map(tp => {
          const o = offs.get(key(tp)) === -1 ? latest.get(key(tp)) : offs.get(key(tp))
          if (o === undefined) throw new UsageError(`Error getting offset by timestamp of topic partition: ${tpString(tp)}`)
          return {...tp, offset: o}
        })
        break
      }
      case 'from-file': {
        const rows = (p.plan ?? []).filter(r => r.group === group)
        if (rows.length === 0) {
          await this.printError(`No reset plan for group ${group} found`)
          return []
        }
        out = await this.checkRange(admin, rows.map(r => ({topic: r.topic, partition: r.partition, offset: r.offset})))
        break
      }
      case 'to-current': {
        const without = partitions.filter(tp => !committedBy.has(key(tp)))
        const latest = await fromLog(without, LATEST_TIMESTAMP, 'ending')
        const latestBy = new Map(latest.map(l => [key(l), l.offset]))
        out = partitions.map(tp => ({...tp, offset: committedBy.get(key(tp)) ?? latestBy.get(key(tp))!}))
        break
      }
      default:
        throw new UsageError('Option \'[reset-offsets]\' requires one of the following scenarios: [[to-offset], [to-current], [to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]')
    }
    const unique = [...new Map(out.map(o => [key(o), o])).values()]
    return tpHashOrder(unique)
  }

  /** Clamps requested offsets into [log start, log end] with Kafka's warnings. */
  private async checkRange(admin: GroupAdmin, req: {topic: string; partition: number; offset: number}[]): Promise<{topic: string; partition: number; offset: number}[]> {
    const [starts, ends] = await Promise.all([admin.listOffsets(req, EARLIEST_TIMESTAMP), admin.listOffsets(req, LATEST_TIMESTAMP)])
    // (Kafka checks, and warns, in its HashMap's order.)
    return tpHashOrder(req).map(r => {
      const k = `${r.topic}\0${r.partition}`
      const end = ends.get(k)
      const start = starts.get(k)
      if (end !== undefined && r.offset > end) {
        this.err(warnLine(`New offset (${r.offset}) is higher than latest offset for topic partition ${tpString(r)}. Value will be set to ${end}`))
        return {...r, offset: end}
      }
      if (start !== undefined && r.offset < start) {
        this.err(warnLine(`New offset (${r.offset}) is lower than earliest offset for topic partition ${tpString(r)}. Value will be set to ${start}`))
        return {...r, offset: start}
      }
      if (end === undefined) throw new ToolError(`\nError: Executing consumer group command failed due to ${javaException(3)}`, true)
      return r
    })
  }
}

type Flags = Awaited<ReturnType<KafkaConsumerGroups['parse']>>['flags'] & Record<string, any>

/** "t:0,1" → partitions, with Kafka's messages for bad input. */
export function parseTopicPartitions(arg: string): TopicPartition[] {
  const parts = arg.split(':')
  if (parts.length !== 2 || parts[1] === '') throw new UsageError(`Invalid topic arg '${arg}', expected topic name and partitions`)
  return parts[1].split(',').map(p => {
    if (!/^\s*\d+\s*$/.test(p)) throw new UsageError(`Invalid partition '${p}' specified in topic arg '${arg}''`)
    return {topic: parts[0], partition: Number(p.trim())}
  })
}
