// kafka-consumer-groups typed as a user types it, against kafkit's broker (on Apache
// ZooKeeper 3.8), with kafkajs consumers committing offsets: --describe's offsets, lag,
// members and state; resets (dry run, --execute, clamping, export/from-file); --delete and
// --delete-offsets; the errors for unknown groups, active groups and bad input.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel, type Consumer} from 'kafkajs'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from '../broker/helpers.js'
import {runCommand, waitFor, tempDir, removeDir} from '../helpers/util.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let kafka: Kafka
let B = ''
const dir = tempDir('kafkit-groups-test-')
const consumers: Consumer[] = []

const cg = (...args: string[]) => runCommand('kafka-consumer-groups', ['--bootstrap-server', B, ...args])

/** Kafka 3.9's --describe offsets table (no trailing newline, as Kafka prints it). */
function offsetsTable(rows: string[][]): string {
  const all = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], ...rows]
  const w = [Math.max(15, ...rows.map(r => r[0].length)), Math.max(15, ...rows.map(r => r[1].length)), 10, 15, 15, 15, Math.max(15, ...rows.map(r => r[6].length)), Math.max(15, ...rows.map(r => r[7].length))]
  return all.map(r => '\n' + r.map((v, i) => (i < 8 ? v.padEnd(w[i]) : v)).join(' ')).join('')
}

async function produce(topic: string, perPartition: number, partitions: number): Promise<void> {
  const p = kafka.producer()
  await p.connect()
  const messages = []
  for (let part = 0; part < partitions; part++) for (let i = 0; i < perPartition; i++) messages.push({partition: part, value: `${topic}-${part}-${i}`})
  await p.send({topic, messages, acks: -1})
  await p.disconnect()
}

/** Runs a kafkajs consumer in groupId until it has seen `count` messages; returns their values. */
async function consume(groupId: string, topic: string, count: number, opts: {autoCommit?: boolean; clientId?: string} = {}): Promise<{values: string[]; consumer: Consumer}> {
  const k = opts.clientId ? new Kafka({clientId: opts.clientId, brokers: [B], logLevel: logLevel.NOTHING}) : kafka
  const c = k.consumer({groupId, sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 200})
  consumers.push(c)
  const values: string[] = []
  await c.connect()
  await c.subscribe({topic, fromBeginning: true})
  await c.run({autoCommit: opts.autoCommit ?? true, autoCommitInterval: 100, eachMessage: async ({message}) => { values.push(message.value!.toString()) }})
  await waitFor(() => values.length >= count, 30000, `${groupId} to consume ${count} messages (got ${values.length})`)
  return {values, consumer: c}
}

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['group.min.session.timeout.ms=1000'])
  B = broker.bootstrap
  kafka = new Kafka({clientId: 'groups-tool-test', brokers: [B], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'dev-topic', numPartitions: 2}, {topic: 'live-topic', numPartitions: 2}], waitForLeaders: true})
  await admin.disconnect()
  await produce('dev-topic', 10, 2)
  await produce('live-topic', 5, 2)
})

after(async () => {
  for (const c of consumers) await c.disconnect().catch(() => {})
  await broker?.cleanup()
  await zk?.stop()
  removeDir(dir)
})

test('walkthrough: --describe shows CURRENT-OFFSET, LOG-END-OFFSET and LAG of what was consumed', {timeout: 90000}, async () => {
  const {consumer} = await consume('dev-group', 'dev-topic', 20, {autoCommit: false})
  // The consumer read everything but commits only part: 6 of partition 0, all 10 of partition 1.
  await consumer.commitOffsets([{topic: 'dev-topic', partition: 0, offset: '6'}, {topic: 'dev-topic', partition: 1, offset: '10'}])
  await consumer.disconnect()

  const d = await cg('--describe', '--group', 'dev-group')
  assert.equal(d.code, 0, d.stdout + d.stderr)
  // Kafka 3.9's order for dev-topic's partitions (its HashMap order): 1 then 0.
  assert.equal(d.stdout, offsetsTable([
    ['dev-group', 'dev-topic', '1', '10', '10', '0', '-', '-', '-'],
    ['dev-group', 'dev-topic', '0', '6', '10', '4', '-', '-', '-'],
  ]))
  assert.equal(d.stderr, '\nConsumer group \'dev-group\' has no active members.\n')

  const list = await cg('--list')
  assert.equal(list.code, 0)
  assert.ok(list.stdout.split('\n').includes('dev-group'), list.stdout)

  const json = await cg('--describe', '--group', 'dev-group', '--output', 'json')
  assert.equal(json.code, 0, json.stderr)
  const parsed = JSON.parse(json.stdout)
  assert.equal(parsed[0].state, 'Empty')
  assert.deepEqual(parsed[0].offsets.map((o: {partition: number; lag: number}) => [o.partition, o.lag]).sort(), [[0, 4], [1, 0]])
})

test('--members, --members --verbose, --state and --list --state while a kafkajs consumer runs', {timeout: 90000}, async () => {
  const {consumer} = await consume('live-group', 'live-topic', 10, {clientId: 'live-client'})
  await waitFor(async () => (await cg('--describe', '--group', 'live-group', '--state')).stdout.includes('Stable'), 20000, 'live-group to be Stable')

  const m = await cg('--describe', '--group', 'live-group', '--members', '--verbose')
  assert.equal(m.code, 0, m.stderr)
  const lines = m.stdout.split('\n')
  assert.equal(lines[0], '')
  assert.match(lines[1], /^GROUP {11}CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS +ASSIGNMENT$/)
  assert.match(lines[2], /^live-group {6}live-client-[0-9a-f-]+ \/127\.0\.0\.1 +live-client +2 {15}\(0,1\)$/)
  assert.equal(lines.length, 4)

  const s = await cg('--describe', '--group', 'live-group', '--state')
  assert.equal(s.code, 0)
  assert.equal(s.stdout, `\n${'GROUP'.padEnd(25)} ${'COORDINATOR (ID)'.padEnd(25)} ${'ASSIGNMENT-STRATEGY'.padEnd(20)} ${'STATE'.padEnd(15)} #MEMBERS\n` +
    `${'live-group'.padEnd(25)} ${`${B}  (0)`.padEnd(25)} ${'RoundRobinAssigner'.padEnd(20)} ${'Stable'.padEnd(15)} 1\n`)

  await waitFor(async () => (await cg('--describe', '--group', 'live-group')).stdout.includes(' 0               live-client'), 20000, 'live-group lag 0 with its consumer shown')
  const o = await cg('--describe', '--group', 'live-group', '--offsets')
  assert.match(o.stdout, /\nlive-group {6}live-topic {6}[01] {10}5 {15}5 {15}0 {15}live-client-[0-9a-f-]+ \/127\.0\.0\.1 +live-client/)
  assert.equal(o.stderr, '')

  const jl = JSON.parse((await cg('--list', '--output', 'json')).stdout)
  assert.deepEqual(jl.find((g: {group: string}) => g.group === 'live-group'), {group: 'live-group', state: 'Stable'})
  const jm = JSON.parse((await cg('--describe', '--group', 'live-group', '--members', '--output', 'json')).stdout)
  assert.equal(jm[0].members.length, 1)
  assert.equal(jm[0].members[0].clientId, 'live-client')
  assert.deepEqual(jm[0].members[0].assignment.map((a: {partition: number}) => a.partition).sort(), [0, 1])
  assert.equal(jm[0].assignmentStrategy, 'RoundRobinAssigner')

  const ls = await cg('--list', '--state', 'stable')
  assert.equal(ls.stdout, `${'GROUP'.padEnd(25)} ${'STATE'.padEnd(20)}\n${'live-group'.padEnd(25)} ${'Stable'.padEnd(20)}\n`)

  // Resetting or deleting an active group: Kafka's errors, nothing changed, non-zero exit.
  const r = await cg('--reset-offsets', '--group', 'live-group', '--topic', 'live-topic', '--to-earliest', '--execute')
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '\nError: Assignments can only be reset if the group \'live-group\' is inactive, but the current state is Stable.\n\n' +
    `${'GROUP'.padEnd(30)} ${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(10)} ${'NEW-OFFSET'.padEnd(15)}`)
  const del = await cg('--delete', '--group', 'live-group')
  assert.equal(del.code, 1)
  assert.equal(del.stdout, '\nError: Deletion of some consumer groups failed:\n* Group \'live-group\' could not be deleted due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n')
  const doff = await cg('--delete-offsets', '--group', 'live-group', '--topic', 'live-topic')
  assert.equal(doff.code, 1)
  assert.match(doff.stdout, /^\nError: Encounter some partition level error, see the follow-up details:\n\nTOPIC +PARTITION +STATUS +live-topic +0 +Error: :org\.apache\.kafka\.common\.errors\.GroupSubscribedToTopicException: /)

  await consumer.disconnect()
  await waitFor(async () => (await cg('--describe', '--group', 'live-group', '--state')).stdout.includes('Empty'), 20000, 'live-group to be Empty after its consumer left')
})

test('--reset-offsets: dry run by default, --execute, clamping, --export and --from-file; a consumer re-reads everything', {timeout: 90000}, async () => {
  await cg('--reset-offsets', '--group', 'reset-group', '--topic', 'dev-topic', '--to-offset', '5', '--execute')
  const dry = await cg('--reset-offsets', '--group', 'reset-group', '--topic', 'dev-topic', '--to-earliest')
  assert.equal(dry.code, 0, dry.stdout + dry.stderr)
  assert.match(dry.stderr, /^WARN: No action will be performed as the --execute option is missing\./)
  const header = `\n${'GROUP'.padEnd(30)} ${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(10)} ${'NEW-OFFSET'.padEnd(15)}`
  const planRow = (p: number, o: number) => `${'reset-group'.padEnd(30)} ${'dev-topic'.padEnd(30)} ${String(p).padEnd(10)} ${String(o).padEnd(15)}`
  assert.equal(dry.stdout, header + planRow(1, 0) + planRow(0, 0))
  // Nothing was applied.
  assert.match((await cg('--describe', '--group', 'reset-group')).stdout, /dev-topic {7}0 {10}5 {15}10 {14}5 /)

  // Out of range: clamped with Kafka's warning.
  const high = await cg('--reset-offsets', '--group', 'reset-group', '--topic', 'dev-topic:0', '--to-offset', '50', '--dry-run')
  assert.equal(high.stdout, header + planRow(0, 10))
  assert.match(high.stderr, /WARN New offset \(50\) is higher than latest offset for topic partition dev-topic-0\. Value will be set to 10/)
  const shift = await cg('--reset-offsets', '--group', 'reset-group', '--all-topics', '--shift-by', '-2', '--dry-run')
  assert.equal(shift.stdout, header + planRow(1, 3) + planRow(0, 3))

  // --export writes the plan as CSV; --from-file applies it.
  const exp = await cg('--reset-offsets', '--group', 'reset-group', '--all-topics', '--shift-by', '3', '--dry-run', '--export')
  assert.equal(exp.stdout, 'dev-topic,1,8\ndev-topic,0,8\n\n')
  const csv = join(dir, 'plan.csv')
  writeFileSync(csv, exp.stdout)
  const fromFile = await cg('--reset-offsets', '--group', 'reset-group', '--from-file', csv, '--execute')
  assert.equal(fromFile.code, 0, fromFile.stdout)
  assert.equal(fromFile.stdout, header + planRow(1, 8) + planRow(0, 8))
  assert.match((await cg('--describe', '--group', 'reset-group')).stdout, /dev-topic {7}0 {10}8 {15}10 {14}2 /)

  // --to-datetime far in the past = earliest; --by-duration; then --to-earliest --execute.
  const dt = await cg('--reset-offsets', '--group', 'reset-group', '--all-topics', '--to-datetime', '2000-01-01T00:00:00.000', '--dry-run')
  assert.equal(dt.stdout, header + planRow(1, 0) + planRow(0, 0))
  const dur = await cg('--reset-offsets', '--group', 'reset-group', '--all-topics', '--by-duration', 'P1D', '--dry-run')
  assert.equal(dur.stdout, header + planRow(1, 0) + planRow(0, 0))
  const exec = await cg('--reset-offsets', '--group', 'reset-group', '--topic', 'dev-topic', '--to-earliest', '--execute')
  assert.equal(exec.code, 0)
  assert.equal(exec.stderr, '')
  const {values, consumer} = await consume('reset-group', 'dev-topic', 20)
  assert.equal(new Set(values).size, 20)
  await consumer.disconnect()
})

test('--delete-offsets and --delete', {timeout: 60000}, async () => {
  await cg('--reset-offsets', '--group', 'del-group', '--topic', 'dev-topic', '--to-latest', '--execute')
  const d = await cg('--delete-offsets', '--group', 'del-group', '--topic', 'dev-topic:0')
  assert.equal(d.code, 0, d.stdout)
  assert.equal(d.stdout, `Request succeed for deleting offsets with topic dev-topic:0 group del-group\n\n${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(15)} ${'STATUS'.padEnd(15)}${'dev-topic'.padEnd(30)} ${'0'.padEnd(15)} ${'Successful'.padEnd(15)}`)
  const desc = await cg('--describe', '--group', 'del-group')
  assert.equal(desc.stdout, offsetsTable([['del-group', 'dev-topic', '1', '10', '10', '0', '-', '-', '-']]))

  const del = await cg('--delete', '--group', 'del-group')
  assert.equal(del.code, 0)
  assert.equal(del.stdout, 'Deletion of requested consumer groups (\'del-group\') was successful.\n')
  const gone = await cg('--describe', '--group', 'del-group')
  assert.equal(gone.code, 1)
  assert.equal(gone.stdout, '\nError: Consumer group \'del-group\' does not exist.\n')
  const again = await cg('--delete', '--group', 'del-group')
  assert.equal(again.code, 1)
  assert.match(again.stdout, /GroupIdNotFoundException: The group id does not exist\.\n$/)
})

test('bad input: one clear message, non-zero exit, the group untouched', {timeout: 60000}, async () => {
  const cases: [string[], RegExp][] = [
    [['--describe', '--group', 'no-such-group'], /^\nError: Consumer group 'no-such-group' does not exist\.\n$/],
    [['--reset-offsets', '--group', 'dev-group', '--all-topics', '--to-datetime', 'yesterday', '--execute'], /^\nError: Executing consumer group command failed due to java\.text\.ParseException: Error parsing timestamp\. It does not contain a 'T' according to ISO8601 format\n$/],
    [['--reset-offsets', '--group', 'dev-group', '--all-topics', '--by-duration', '1h', '--execute'], /^\nError: Executing consumer group command failed due to Text cannot be parsed to a Duration\n$/],
    [['--reset-offsets', '--group', 'dev-group', '--all-topics', '--to-offset', 'abc', '--execute'], /^\nError: Executing consumer group command failed due to Cannot parse argument 'abc' of option to-offset\n$/],
    [['--reset-offsets', '--group', 'dev-group', '--topic', 'no-such-topic', '--to-latest', '--execute'], /UnknownTopicOrPartitionException: This server does not host this topic-partition\.\n$/],
  ]
  for (const [args, want] of cases) {
    const r = await cg(...args)
    assert.equal(r.code, 1, args.join(' '))
    assert.match(r.stdout, want, args.join(' '))
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace')
  }
  const usage: [string[], string][] = [
    [['--describe'], 'Option [describe] takes one of these options: [reset-offsets], [describe], [delete], [list]'],
    [['--reset-offsets', '--group', 'dev-group', '--to-earliest', '--execute'], 'One of the reset scopes should be defined: --all-topics, --topic.'],
    [['--reset-offsets', '--group', 'dev-group', '--all-topics', '--execute'], 'Option \'[reset-offsets]\' requires one of the following scenarios: [[to-offset], [to-current], [to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]'],
    [['--list', '--describe'], 'Option [describe] takes one of these options: [reset-offsets], [describe], [delete], [list]'],
    [['--list', '--state', 'sleeping'], 'Invalid state list \'sleeping\'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling'],
  ]
  for (const [args, line] of usage) {
    const r = await cg(...args)
    assert.equal(r.code, 1, args.join(' '))
    assert.equal(r.stderr.split('\n').filter(l => !l.startsWith('WARN: No action')).join('\n'), line + '\n', args.join(' '))
  }
  const noBroker = await runCommand('kafka-consumer-groups', ['--bootstrap-server', '127.0.0.1:1', '--list', '--timeout', '1000'])
  assert.equal(noBroker.code, 1)
  assert.match(noBroker.stdout, /^\nError: Executing consumer group command failed due to .*Timed out waiting for a node assignment\. Call: listConsumerGroups\n$/)
  // dev-group's offsets are what the walkthrough committed.
  assert.match((await cg('--describe', '--group', 'dev-group')).stdout, /dev-topic {7}0 {10}6 {15}10 {14}4 /)
})

test('a broker restart keeps committed offsets and what --describe shows', {timeout: 90000}, async () => {
  const before = await cg('--describe', '--group', 'dev-group')
  assert.equal(before.code, 0)
  await broker.restart()
  const after = await waitFor(async () => {
    const r = await cg('--describe', '--group', 'dev-group')
    return r.code === 0 && r.stdout.includes('dev-group') ? r : undefined
  }, 30000, 'dev-group to be described after the restart')
  assert.equal(after!.stdout, before.stdout)
  assert.equal(after!.stderr, before.stderr)
})
