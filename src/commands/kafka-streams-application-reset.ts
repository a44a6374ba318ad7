// kafka-streams-application-reset: Apache Kafka's StreamsResetter on kafkit's admin client.
// For a Streams application (its application.id is its consumer group): refuses while the
// group has members (unless --force removes them), resets the group's offsets of the input
// topics (earliest by default, or --to-offset / --to-latest / --shift-by / --to-datetime /
// --by-duration / --from-file), moves those of intermediate topics to their end, and deletes
// the application's internal topics (<application.id>-...-changelog, -repartition, ...), with
// Kafka 3.9's output lines; --dry-run only prints. Sets and maps print in java.util.HashMap's
// order as Kafka's tool does. Errors: "ERROR: <Java exception>" and exit 1; exit 1 also when
// an input or intermediate topic does not exist (the others are still reset).
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {KafkaCommand, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {Admin} from '../core/client/admin.js'
import {GroupAdmin, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type TopicPartition} from '../core/client/groups.js'
import {removeMembersFromGroup} from '../core/client/admin/remove-members.js'
import {apiError} from '../core/client/kafka-errors.js'
import {javaHashMapOrder, javaStringHash, topicPartitionOrder} from '../core/client/java-hash.js'

const RESET_OPTIONS = ['to-offset', 'to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'from-file', 'shift-by'] as const
const key = (tp: TopicPartition) => `${tp.topic}\0${tp.partition}`
const listString = (items: string[]) => `[${items.join(', ')}]`

/** A Java exception as the tool prints it: "ERROR: <class>: <message>". */
const javaError = (cls: string, message: string) => new ToolError(`ERROR: ${cls}: ${message}`)

/** StreamsResetter.matchesInternalTopicFormat. */
export function matchesInternalTopicFormat(name: string): boolean {
  return name.endsWith('-changelog') || name.endsWith('-repartition') || name.endsWith('-subscription-registration-topic') ||
    name.endsWith('-subscription-response-topic') || /^.+-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-\d+-topic$/.test(name) ||
    /^.+-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-\d+-topic$/.test(name)
}

/** java.time.Duration.parse (PnDTnHnMnS) in milliseconds. */
export function parseJavaDuration(text: string): number {
  const m = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(text)
  if (!m || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) || /T$/i.test(text)) throw javaError('java.time.format.DateTimeParseException', 'Text cannot be parsed to a Duration')
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s))
  const secSign = m[5]?.startsWith('-') ? -1 : 1
  const ms = n(m[2]) * 86400000 + n(m[3]) * 3600000 + n(m[4]) * 60000 + n(m[5]) * 1000 + secSign * Math.trunc(Number(`0.${m[6] ?? '0'}`) * 1000)
  return m[1] === '-' ? -ms : ms
}

/** Kafka's Utils.getDateTime: yyyy-MM-dd'T'HH:mm:ss.SSS, local time unless a zone (Z, ±hh:mm) follows. */
export function parseKafkaDateTime(text: string): number {
  if (!text.includes('T')) throw javaError('java.text.ParseException', 'Error parsing timestamp. It does not contain a \'T\' according to ISO8601 format')
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(text)
  if (!m) throw javaError('java.text.ParseException', `Unparseable date: "${text}"`)
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number)
  if (m[8] === undefined) return new Date(y, mo - 1, d, h, mi, s, ms).getTime()
  let offsetMin = 0
  if (m[8] !== 'Z') {
    const z = m[8].replace(':', '')
    offsetMin = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5) || '0'))
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60000
}

export default class KafkaStreamsApplicationReset extends KafkaCommand {
  static hidden = false
  static summary = 'This tool helps to quickly reset an application in order to reprocess its data from scratch.'
  static description = `Apache Kafka 3.9's StreamsResetter. For the Kafka Streams application --application-id (its consumer group):
* it resets the group's offsets of the input topics to the earliest available offset (by default), or to the position --to-offset, --to-latest, --shift-by, --to-datetime, --by-duration or --from-file gives, and skips to the end of the intermediate topics;
* it deletes the application's internal topics (topics "<application.id>-...-changelog", "-repartition", ...), or the subset --internal-topics names;
* it does not delete output topics nor the applications' local state stores (call KafkaStreams#cleanUp() or delete state.dir/<application.id>).
The group must have no active members; --force removes them. Run it with --dry-run first: the changes cannot be undone.`
  static examples = [
    'kafka-streams-application-reset --bootstrap-server 127.0.0.1:9092 --application-id my-app --input-topics in --dry-run',
    'kafka-streams-application-reset --bootstrap-server 127.0.0.1:9092 --application-id my-app --input-topics in --to-datetime 2026-01-01T00:00:00.000 --intermediate-topics mid',
  ]

  static flags = {
    'application-id': Flags.string({description: 'REQUIRED: The Kafka Streams application ID (application.id).', helpValue: '<String: id>'}),
    'bootstrap-server': Flags.string({description: 'REQUIRED unless --bootstrap-servers(deprecated) is specified. The server(s) to connect to. The broker list string in the form HOST1:PORT1,HOST2:PORT2. (default: localhost:9092)', helpValue: '<String: server to connect to>'}),
    'bootstrap-servers': Flags.string({description: 'DEPRECATED: Comma-separated list of broker urls with format: HOST1:PORT1,HOST2:PORT2', helpValue: '<String: urls>'}),
    'input-topics': Flags.string({description: 'Comma-separated list of user input topics. For these topics, the tool by default will reset the offset to the earliest available offset. Reset to other offset position by appending other reset offset option, ex: --input-topics foo --shift-by 5', helpValue: '<String: list>', multiple: true}),
    'intermediate-topics': Flags.string({description: 'Comma-separated list of intermediate user topics (topics that are input and output topics, e.g., used in the deprecated through() method). For these topics, the tool will skip to the end.', helpValue: '<String: list>', multiple: true}),
    'internal-topics': Flags.string({description: 'Comma-separated list of internal topics to delete. Must be a subset of the internal topics marked for deletion by the default behaviour (do a dry-run without this option to view these topics).', helpValue: '<String: list>', multiple: true}),
    'to-offset': Flags.string({description: 'Reset offsets to a specific offset.', helpValue: '<Long>'}),
    'to-datetime': Flags.string({description: 'Reset offsets to offset from datetime. Format: \'YYYY-MM-DDTHH:mm:SS.sss\'', helpValue: '<String>'}),
    'by-duration': Flags.string({description: 'Reset offsets to offset by duration from current timestamp. Format: \'PnDTnHnMnS\'', helpValue: '<String>'}),
    'to-earliest': Flags.boolean({description: 'Reset offsets to earliest offset.'}),
    'to-latest': Flags.boolean({description: 'Reset offsets to latest offset.'}),
    'from-file': Flags.string({description: 'Reset offsets to values defined in CSV file (lines TOPIC,PARTITION,OFFSET).', helpValue: '<String>'}),
    'shift-by': Flags.string({description: 'Reset offsets shifting current offset by \'n\', where \'n\' can be positive or negative', helpValue: '<Long: number-of-offsets>'}),
    'config-file': Flags.string({description: 'Property file containing configs to be passed to admin clients and embedded consumer.', helpValue: '<String: file name>'}),
    force: Flags.boolean({description: 'Force the removal of members of the consumer group (intended to remove stopped members if a long session timeout was used). Make sure to shut down all stream applications when this option is specified to avoid unexpected rebalances.'}),
    'dry-run': Flags.boolean({description: 'Display the actions that would be performed without executing the reset commands.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaStreamsApplicationReset)
    const used = RESET_OPTIONS.filter(o => flags[o] !== undefined && flags[o] !== false)
    if (used.length > 1) throw new UsageError(`Option "[${used[0]}]" can't be used with option "[${used[1]}]"`)
    const appId = flags['application-id']
    if (appId === undefined) throw new UsageError('Missing required option(s) [application-id]')
    const long = (flag: 'to-offset' | 'shift-by') => {
      const v = flags[flag]!
      if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new ToolError(`ERROR: joptsimple.OptionArgumentConversionException: Cannot parse argument '${v}' of option ${flag}`)
      return Number(v)
    }
    const toOffset = flags['to-offset'] !== undefined ? long('to-offset') : undefined
    const shiftBy = flags['shift-by'] !== undefined ? long('shift-by') : undefined
    const split = (v: string[] | undefined) => (v ?? []).flatMap(s => s.split(',')).filter(s => s !== '')
    const inputTopics = split(flags['input-topics'])
    const intermediateTopics = split(flags['intermediate-topics'])
    const internalTopics = split(flags['internal-topics'])
    const props = flags['config-file'] !== undefined ? loadClientProperties(flags['config-file']) : new Map<string, string>()
    const bootstrap = flags['bootstrap-server'] ?? flags['bootstrap-servers'] ?? 'localhost:9092'
    props.set('bootstrap.servers', bootstrap)
    const dryRun = flags['dry-run']
    const print = (line: string) => { writeLineSync(1, line) }

    const groups = new GroupAdmin(bootstrap, {props, timeoutMs: 10000})
    const admin = new Admin(bootstrap, {props})
    let exitCode = 0
    try {
      // maybeDeleteActiveConsumers
      const group = await groups.describeGroup(appId)
      if (group.members.length > 0) {
        if (!flags.force) {
          const members = group.members.map(m => `(memberId=${m.memberId}, groupInstanceId=${m.groupInstanceId ?? 'null'}, clientId=${m.clientId}, host=${m.host}, assignment=(topicPartitions=${topicPartitionOrder(m.assignment).map(tp => `${tp.topic}-${tp.partition}`).join(',')}), targetAssignment=Optional.empty)`)
          throw javaError('java.lang.IllegalStateException', `Consumer group '${appId}' is still active and has following members: [${members.join(', ')}]. Make sure to stop all running application instances before running the reset tool. You can use option '--force' to remove active members from the group.`)
        }
        print(`Force deleting all active members in the group: ${appId}`)
        await removeMembersFromGroup(groups.client, appId, group.members)
      }
      const allTopics = javaHashMapOrder((await admin.listTopics(false)).map(t => t.name), javaStringHash)
      if (dryRun) print('----Dry run displays the actions which will be performed when running Streams Reset Tool----')
      exitCode = await this.resetOffsets(groups, appId, allTopics, {inputTopics, intermediateTopics, dryRun, toOffset, shiftBy, flags}, print)
      // maybeDeleteInternalTopics
      const inferred = allTopics.filter(t => !inputTopics.includes(t) && !intermediateTopics.includes(t) && t.startsWith(`${appId}-`) && matchesInternalTopicFormat(t))
      let toDelete: string[]
      if (internalTopics.length > 0) {
        if (!internalTopics.every(t => inferred.includes(t))) throw javaError('java.lang.IllegalArgumentException', 'Invalid topic specified in the --internal-topics option. Ensure that the topics specified are all internal topics. Do a dry run without the --internal-topics option to see the list of all internal topics that can be deleted.')
        toDelete = internalTopics
        print(`Deleting specified internal topics ${listString(toDelete)}`)
      } else {
        toDelete = inferred
        print(`Deleting inferred internal topics ${listString(toDelete)}`)
      }
      if (!dryRun && toDelete.length > 0) {
        try {
          await admin.deleteTopics(toDelete)
        } catch (error) {
          writeLineSync(2, `ERROR: deleting topic ${toDelete.join(', ')}: ${(error as Error).message}`)
          throw javaError('java.lang.RuntimeException', 'Encountered an error deleting one or more topics')
        }
      }
      print('Done.')
    } catch (error) {
      if (error instanceof UsageError || (error instanceof ToolError && error.message.startsWith('ERROR: '))) throw error
      // An admin call that failed: Java's future.get() wraps it in an ExecutionException.
      if (error instanceof ToolError) throw new ToolError(`ERROR: java.util.concurrent.ExecutionException: ${/^(org\.apache|java\.)/.test(error.message) ? error.message : `org.apache.kafka.common.errors.TimeoutException: ${error.message}`}`)
      const e = error as Error & {qualifiedClass?: string}
      throw new ToolError(`ERROR: ${e.qualifiedClass ? `${e.qualifiedClass}: ${e.message}` : e.message.startsWith('org.apache') ? e.message : `org.apache.kafka.common.KafkaException: ${e.message}`}`)
    } finally {
      groups.close()
      admin.close()
    }
    if (exitCode !== 0) {
      await new Promise(res => process.stdout.write('', res))
      this.exit(exitCode)
    }
  }

  /** maybeResetInputAndSeekToEndIntermediateTopicOffsets: 0, or 1 when a topic was not found. */
  private async resetOffsets(groups: GroupAdmin, appId: string, allTopics: string[], o: {inputTopics: string[]; intermediateTopics: string[]; dryRun: boolean; toOffset?: number; shiftBy?: number; flags: Record<string, unknown>}, print: (l: string) => void): Promise<number> {
    const {inputTopics, intermediateTopics} = o
    if (inputTopics.length === 0 && intermediateTopics.length === 0) {
      print('No input or intermediate topics specified. Skipping seek.')
      return 0
    }
    if (inputTopics.length > 0) print(`Reset-offsets for input topics ${listString(inputTopics)}`)
    if (intermediateTopics.length > 0) print(`Seek-to-end for intermediate topics ${listString(intermediateTopics)}`)
    const notFoundInput = inputTopics.filter(t => !allTopics.includes(t))
    const notFoundIntermediate = intermediateTopics.filter(t => !allTopics.includes(t))
    const subscribe = [...new Set([...inputTopics, ...intermediateTopics].filter(t => allTopics.includes(t)))]
    let code = 0
    if (notFoundInput.length > 0) {
      print('Following input topics are not found, skipping them')
      for (const t of notFoundInput) print(`Topic: ${t}`)
      code = 1
    }
    if (notFoundIntermediate.length > 0) {
      print('Following intermediate topics are not found, skipping them')
      for (const t of notFoundIntermediate) print(`Topic:${t}`)
      code = 1
    }
    if (subscribe.length === 0) return code

    const meta = await groups.topicPartitions(subscribe)
    const partitions: TopicPartition[] = []
    for (const t of subscribe) {
      const m = meta.get(t)
      if (m && 'partitions' in m) for (const p of m.partitions) partitions.push({topic: t, partition: p.partition})
    }
    const inputs = topicPartitionOrder(partitions.filter(p => inputTopics.includes(p.topic)))
    const intermediates = topicPartitionOrder(partitions.filter(p => !inputTopics.includes(p.topic) && intermediateTopics.includes(p.topic)))
    const positions = new Map<string, number>()
    const offsetsAt = async (tps: TopicPartition[], ts: number) => {
      const m = await groups.listOffsets(tps, ts)
      for (const tp of tps) if (!m.has(key(tp))) throw new ToolError(`ERROR: org.apache.kafka.common.errors.TimeoutException: Failed to get offsets by times in ${groups.timeoutMs}ms`)
      return m
    }
    if (inputs.length > 0) {
      print(`Following input topics offsets will be reset to (for consumer group ${appId})`)
      await this.resetInputs(groups, appId, inputs, o, positions, offsetsAt, print)
      for (const tp of inputs) print(`Topic: ${tp.topic} Partition: ${tp.partition} Offset: ${positions.get(key(tp))}`)
    }
    if (intermediates.length > 0) {
      print(`Following intermediate topics offsets will be reset to end (for consumer group ${appId})`)
      for (const tp of intermediates) if (allTopics.includes(tp.topic)) print(`Topic: ${tp.topic}`)
      const end = await offsetsAt(intermediates, LATEST_TIMESTAMP)
      for (const tp of intermediates) positions.set(key(tp), end.get(key(tp))!)
    }
    if (!o.dryRun) {
      const errors = await groups.alterOffsets(appId, [...inputs, ...intermediates].map(tp => ({...tp, offset: positions.get(key(tp))!})))
      if (errors.length > 0) {
        writeLineSync(2, 'ERROR: Resetting offsets failed.')
        throw new ToolError(`ERROR: ${apiError(errors[0].errorCode).toString()}`)
      }
    }
    print('Done.')
    return code
  }

  /** maybeReset: the new position of each input partition. */
  private async resetInputs(groups: GroupAdmin, appId: string, inputs: TopicPartition[], o: {toOffset?: number; shiftBy?: number; flags: Record<string, unknown>}, positions: Map<string, number>, offsetsAt: (tps: TopicPartition[], ts: number) => Promise<Map<string, number>>, print: (l: string) => void): Promise<void> {
    const f = o.flags
    const set = (m: Map<string, number>) => { for (const tp of inputs) positions.set(key(tp), m.get(key(tp))!) }
    // checkOffsetRange: the wanted offsets within [earliest, latest], as Kafka says it.
    const checked = async (wanted: {tp: TopicPartition; offset: number}[]) => {
      const end = await offsetsAt(inputs, LATEST_TIMESTAMP)
      const begin = await offsetsAt(inputs, EARLIEST_TIMESTAMP)
      for (const {tp, offset} of topicPartitionOrder(wanted.map(w => ({topic: w.tp.topic, partition: w.tp.partition, w}))).map(x => x.w)) {
        const e = end.get(key(tp))
        const b = begin.get(key(tp))
        if (e === undefined || b === undefined) throw javaError('java.lang.NullPointerException', `no offsets for ${tp.topic}-${tp.partition}`)
        if (offset < e) {
          if (offset > b) positions.set(key(tp), offset)
          else {
            print(`New offset (${offset}) is lower than earliest offset. Value will be set to ${b}`)
            positions.set(key(tp), b)
          }
        } else {
          print(`New offset (${offset}) is higher than latest offset. Value will be set to ${e}`)
          positions.set(key(tp), e)
        }
      }
    }
    if (o.toOffset !== undefined) {
      await checked(inputs.map(tp => ({tp, offset: o.toOffset!})))
    } else if (f['to-latest']) {
      set(await offsetsAt(inputs, LATEST_TIMESTAMP))
    } else if (o.shiftBy !== undefined) {
      // The current position: the committed offset, else auto.offset.reset (latest).
      const committed = new Map((await groups.committedOffsets(appId)).map(c => [key(c), c.offset]))
      const missing = inputs.filter(tp => !committed.has(key(tp)))
      const end = missing.length > 0 ? await offsetsAt(missing, LATEST_TIMESTAMP) : new Map<string, number>()
      await checked(inputs.map(tp => ({tp, offset: (committed.get(key(tp)) ?? end.get(key(tp))!) + o.shiftBy!})))
    } else if (f['to-datetime'] !== undefined || f['by-duration'] !== undefined) {
      const ts = f['to-datetime'] !== undefined ? parseKafkaDateTime(f['to-datetime'] as string) : Date.now() - parseJavaDuration(f['by-duration'] as string)
      const at = await groups.listOffsets(inputs, ts)
      let end: Map<string, number> | undefined
      for (const tp of inputs) {
        const off = at.get(key(tp))
        if (off !== undefined && off >= 0) { positions.set(key(tp), off); continue }
        end ??= await offsetsAt(inputs, LATEST_TIMESTAMP)
        positions.set(key(tp), end.get(key(tp))!)
        print(`Partition ${tp.partition} from topic ${tp.topic} is empty, without a committed record. Falling back to latest known offset.`)
      }
    } else if (f['from-file'] !== undefined) {
      const plan = this.readResetPlan(f['from-file'] as string)
      const wanted = plan.filter(p => inputs.some(tp => key(tp) === key(p)))
      await checked(wanted.map(p => ({tp: {topic: p.topic, partition: p.partition}, offset: p.offset})))
      for (const tp of inputs) if (!positions.has(key(tp))) throw javaError('java.lang.NullPointerException', `the reset plan has no offset for ${tp.topic}-${tp.partition}`)
    } else {
      set(await offsetsAt(inputs, EARLIEST_TIMESTAMP))
    }
  }

  /** The --from-file CSV: TOPIC,PARTITION,OFFSET per line. */
  private readResetPlan(file: string): {topic: string; partition: number; offset: number}[] {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw javaError('java.nio.file.NoSuchFileException', file)
    }
    if (text === '') throw javaError('java.text.ParseException', 'Error parsing reset plan CSV file. It is empty,')
    const lines = text.split('\n')
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    const plan = new Map<string, {topic: string; partition: number; offset: number}>()
    for (const line of lines) {
      const parts = line.split(',')
      while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
      if (parts.length !== 3) throw javaError('java.text.ParseException', 'Reset plan CSV file is not following the format `TOPIC,PARTITION,OFFSET`.')
      const num = (s: string) => {
        if (!/^[+-]?\d+$/.test(s)) throw javaError('java.lang.NumberFormatException', `For input string: "${s}"`)
        return Number(s)
      }
      const entry = {topic: parts[0], partition: num(parts[1]), offset: num(parts[2])}
      plan.set(key(entry), entry)
    }
    return [...plan.values()]
  }
}
