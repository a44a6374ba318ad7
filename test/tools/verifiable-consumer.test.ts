// kafka-verifiable-consumer beside Apache Kafka 3.9's VerifiableConsumer on the same broker
// (the same JSON events, field order and HashMap order; argparse4j errors), and the pair
// kafka-verifiable-producer -> kafka-verifiable-consumer: every acknowledged record consumed
// exactly once across a consumer stopped with SIGTERM and a second one resuming the group.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {runCommand, tempDir, removeDir} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {argparseErrorLine, runScript, startKafkitScript} from './apache-tool.js'

const skip = targetSkipReason() ?? (apacheKafkaHome() ? undefined : 'Apache Kafka 3.9 is not installed (../shared/tools/apache-kafka)')
let cluster: Cluster | undefined
let B = ''
let dir = ''

before(async () => {
  if (skip) return
  cluster = await startCluster()
  B = cluster.bootstrap
  dir = tempDir('kafkit-vc-')
})

after(async () => {
  await cluster?.stop()
  if (dir) removeDir(dir)
})

const createTopic = async (topic: string, partitions: number) => {
  const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

const normalize = (stdout: string) => stdout.trimEnd().split('\n').map(l => l.replace(/^\{"timestamp":\d+,/, '{"timestamp":0,'))
const events = (stdout: string) => stdout.trimEnd().split('\n').filter(Boolean).map(l => JSON.parse(l))

test('events as Apache\'s: assigned, records_consumed, offsets_committed, revoked on close; --verbose record_data', {skip}, async () => {
  await createTopic('vc', 2)
  const p = await runScript('kafkit', 'kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'vc', '--max-messages', '6', '--repeating-keys', '3'])
  assert.equal(p.code, 0, p.stderr)
  for (const extra of [[], ['--verbose', '--enable-autocommit']]) {
    const args = (g: string) => ['--bootstrap-server', B, '--topic', 'vc', '--group-id', g, '--max-messages', '6', ...extra]
    const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-consumer', args(`k${extra.length}`)), runScript('apache', 'kafka-verifiable-consumer', args(`a${extra.length}`))])
    assert.equal(k.code, 0, k.stderr)
    assert.equal(a.code, 0, a.stderr)
    const kl = normalize(k.stdout)
    assert.deepEqual(kl, normalize(a.stdout), extra.join(' '))
    // java.util.HashMap's order for topic "vc": partition 1 before partition 0.
    assert.ok(kl.includes('{"timestamp":0,"name":"records_consumed","count":6,"partitions":[{"topic":"vc","partition":1,"count":2,"minOffset":0,"maxOffset":1},{"topic":"vc","partition":0,"count":4,"minOffset":0,"maxOffset":3}]}'), kl.join('\n'))
  }
  // Static membership, the roundrobin assignor, and reset policy none (no committed offset:
  // the error is logged on stderr, the events go on to shutdown_complete, status 0).
  for (const extra of [['--group-instance-id', 'i1'], ['--assignment-strategy', 'org.apache.kafka.clients.consumer.RoundRobinAssignor'], ['--reset-policy', 'none']]) {
    const args = (g: string) => ['--bootstrap-server', B, '--topic', 'vc', '--group-id', g, '--max-messages', '6', ...extra]
    const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-consumer', args(`k-${extra[1]}`)), runScript('apache', 'kafka-verifiable-consumer', args(`a-${extra[1]}`))])
    assert.equal(k.code, 0, k.stderr)
    assert.equal(a.code, 0, a.stderr)
    assert.deepEqual(normalize(k.stdout), normalize(a.stdout), extra.join(' '))
    if (extra[1] === 'none') assert.match(k.stderr, /ERROR Error during processing, terminating consumer process: {2}\(org\.apache\.kafka\.tools\.VerifiableConsumer\)\n.*NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: \[vc-/)
  }
  // The groups committed where they stopped: a second run of either has nothing left.
  const again = await runScript('kafkit', 'kafka-verifiable-consumer', ['--bootstrap-server', B, '--topic', 'vc', '--group-id', 'k0', '--max-messages', '0'])
  assert.deepEqual(events(again.stdout).map(e => e.name), ['startup_complete', 'shutdown_complete'])
  const d = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'k2'])
  assert.match(d.stdout, /k2\s+vc\s+0\s+4\s+4\s+0/)
  assert.match(d.stdout, /k2\s+vc\s+1\s+2\s+2\s+0/)
})

test('producer -> consumer: every acknowledged record consumed exactly once, across SIGTERM and a resumed group', {skip}, async () => {
  await createTopic('pair', 3)
  const group = ['--bootstrap-server', B, '--topic', 'pair', '--group-id', 'pair-g', '--verbose']
  const c1 = startKafkitScript('kafka-verifiable-consumer', group)
  await c1.waitForLines('"name":"partitions_assigned"')
  const total = 3000
  const producer = startKafkitScript('kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'pair', '--max-messages', String(total), '--throughput', '1500', '--repeating-keys', '7'])
  await c1.waitForLines('"name":"record_data"', 1000, 60000)
  assert.equal(await c1.stop('SIGTERM'), 143)
  const p = await producer.result()
  assert.equal(p.code, 0, p.stderr)
  const acked = events(p.stdout).filter(e => e.name === 'producer_send_success')
  assert.equal(acked.length, total)
  const first = events(c1.stdout)
  assert.deepEqual(first.slice(-2).map(e => e.name), ['partitions_revoked', 'shutdown_complete'])
  const firstRecords = first.filter(e => e.name === 'record_data')
  // Each records_consumed is followed by its commit (no --enable-autocommit), successful.
  const commits = first.filter(e => e.name === 'offsets_committed')
  assert.equal(commits.length, first.filter(e => e.name === 'records_consumed').length)
  assert.ok(commits.every(c => c.success === true))
  const c2 = await runScript('kafkit', 'kafka-verifiable-consumer', [...group, '--max-messages', String(total - firstRecords.length)], 120000)
  assert.equal(c2.code, 0, c2.stderr)
  const seen = [...firstRecords, ...events(c2.stdout).filter(e => e.name === 'record_data')]
  const key = (e: {partition: number; offset: number}) => `${e.partition}@${e.offset}`
  const seenKeys = seen.map(key)
  assert.equal(new Set(seenKeys).size, seenKeys.length, 'a record was consumed twice')
  const ackedKeys = new Set(acked.map(key))
  const missing = [...ackedKeys].filter(k => !seenKeys.includes(k))
  const extra = seenKeys.filter(k => !ackedKeys.has(k))
  const brief = (out: string) => out.split('\n').filter(l => l && !l.includes('record_data'))
  assert.deepEqual({missing, extra}, {missing: [], extra: []}, `first consumer ends: ${brief(c1.stdout).slice(-5).join('\n')}\nsecond starts: ${brief(c2.stdout).slice(0, 5).join('\n')}`)
  assert.deepEqual([...seenKeys].sort(), acked.map(key).sort())
  const byKey = new Map(acked.map(e => [key(e), `${e.key}:${e.value}`]))
  for (const e of seen) assert.equal(`${e.key}:${e.value}`, byKey.get(key(e)))
})

test('bad arguments: argparse4j\'s error line and exit 1, as Apache\'s; bad configuration: one line', {skip}, async () => {
  const base = ['--bootstrap-server', B, '--topic', 't']
  const cases = [
    [...base, '--group-id', 'g', '--bogus'],
    [...base, '--group-id', 'g', '--session-timeout', 'abc'],
    [...base, '--group-id', 'g', '--max-messages', '1.5'],
    [...base],
    ['--topic', 't', '--group-id', 'g'],
    ['--bootstrap-server', B, '--group-id', 'g'],
    [...base, '--group-id', 'g', '--broker-list', B],
    [...base, '--group-id', 'g', '--consumer.config', join(dir, 'missing.properties')],
    [...base, '--group-id'],
  ]
  for (const args of cases) {
    const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-consumer', args), runScript('apache', 'kafka-verifiable-consumer', args)])
    assert.equal(a.code, 1, `apache ${args.join(' ')}: ${a.stderr}`)
    assert.equal(k.code, 1, `kafkit ${args.join(' ')}: ${k.stderr}`)
    assert.equal(k.stdout, '')
    assert.equal(k.stderr.trimEnd().split('\n').length, 1, k.stderr)
    assert.equal(argparseErrorLine(k.stderr), argparseErrorLine(a.stderr), args.join(' '))
  }
  // Java throws a ConfigException (a stack trace); kafkit prints its message on one line.
  const bad = [...base, '--group-id', 'g', '--reset-policy', 'sometimes']
  const [k, a] = await Promise.all([runScript('kafkit', 'kafka-verifiable-consumer', bad), runScript('apache', 'kafka-verifiable-consumer', bad)])
  assert.equal(k.code, 1)
  assert.equal(a.code, 1)
  assert.equal(k.stderr, 'Error: Invalid value sometimes for configuration auto.offset.reset: String must be one of: latest, earliest, none\n')
  assert.ok(a.stderr.includes('Invalid value sometimes for configuration auto.offset.reset: String must be one of: latest, earliest, none'), a.stderr)
  // The KIP-848 protocol: neither broker has it; both tools stop at once, status 0.
  const gp = [...base, '--group-id', 'g', '--group-protocol', 'consumer']
  const [kg, ag] = await Promise.all([runScript('kafkit', 'kafka-verifiable-consumer', gp), runScript('apache', 'kafka-verifiable-consumer', gp)])
  assert.equal(kg.code, 0)
  assert.equal(ag.code, 0)
  assert.deepEqual(events(kg.stdout).map(e => e.name), events(ag.stdout).map(e => e.name))
  assert.match(kg.stderr, /ERROR Error during processing, terminating consumer process: {2}\(org\.apache\.kafka\.tools\.VerifiableConsumer\)\norg\.apache\.kafka\.common\.errors\.UnsupportedVersionException: /)
  const h = await runCommand('kafka-verifiable-consumer', [])
  assert.equal(h.code, 0)
  assert.match(h.stdout, /--enable-autocommit/)
})

test('three consumers joining and leaving one group while records arrive: none lost; a record twice only after a failed commit', {skip}, async () => {
  await createTopic('rb', 4)
  const group = ['--bootstrap-server', B, '--topic', 'rb', '--group-id', 'rb-g', '--verbose', '--session-timeout', '10000']
  const c1 = startKafkitScript('kafka-verifiable-consumer', group)
  await c1.waitForLines('"name":"partitions_assigned"')
  const total = 4000
  const producer = startKafkitScript('kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'rb', '--max-messages', String(total), '--throughput', '1000'])
  await c1.waitForLines('"name":"record_data"', 500, 30000)
  const c2 = startKafkitScript('kafka-verifiable-consumer', group)
  await c2.waitForLines('"name":"partitions_assigned"')
  assert.equal(await c1.stop('SIGTERM'), 143)
  const c3 = startKafkitScript('kafka-verifiable-consumer', group)
  await c3.waitForLines('"name":"partitions_assigned"')
  const p = await producer.result()
  assert.equal(p.code, 0, p.stderr)
  const acked = events(p.stdout).filter(e => e.name === 'producer_send_success').map(e => `${e.partition}@${e.offset}`)
  assert.equal(acked.length, total)
  const consumers = [c1, c2, c3]
  const seen = () => consumers.flatMap(c => c.lines().map(l => JSON.parse(l))).filter(e => e.name === 'record_data').map(e => `${e.partition}@${e.offset}`)
  const deadline = Date.now() + 60000
  while (new Set(seen()).size < total && Date.now() < deadline) await new Promise(r => setTimeout(r, 100))
  assert.equal(await c2.stop('SIGTERM'), 143)
  assert.equal(await c3.stop('SIGTERM'), 143)
  const s = seen()
  const distinct = new Set(s)
  assert.deepEqual(acked.filter(a => !distinct.has(a)), [], 'acknowledged records never consumed')
  const failedCommits = consumers.flatMap(c => c.lines().map(l => JSON.parse(l))).filter(e => e.name === 'offsets_committed' && !e.success)
  if (failedCommits.length === 0) assert.equal(s.length, distinct.size, 'a record consumed twice without a failed commit')
  for (const c of consumers) {
    const names = c.lines().map(l => JSON.parse(l).name)
    assert.equal(names[0], 'startup_complete')
    assert.equal(names[names.length - 1], 'shutdown_complete')
  }
})
