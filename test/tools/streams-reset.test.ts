// kafka-streams-application-reset beside Apache Kafka 3.9's StreamsResetter on the same
// broker and data: a group made by kafkit's console consumer, topics named like Kafka
// Streams' internal topics. Exact stdout (dry runs, all reset options), the real run's effects
// (offsets, deleted topics, the group reads from the start again), active members refused and
// removed with --force, bad input as Apache's.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, startCommand, tempDir, removeDir, waitFor} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {runScript} from './apache-tool.js'

const skip = targetSkipReason() ?? (apacheKafkaHome() ? undefined : 'Apache Kafka 3.9 is not installed (../shared/tools/apache-kafka)')
let cluster: Cluster | undefined
let B = ''
let dir = ''
const INTERNAL = ['app-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog', 'app-KSTREAM-KEY-SELECT-0000000002-repartition', 'app-x-changelog']

before(async () => {
  if (skip) return
  cluster = await startCluster()
  B = cluster.bootstrap
  dir = tempDir('kafkit-reset-')
  for (const [t, n] of [['in', 2], ['mid', 1], ['app-other', 1], ...INTERNAL.map(t => [t, 1])] as [string, number][]) {
    const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', t, '--partitions', String(n), '--replication-factor', '1'])
    assert.equal(r.code, 0, r.stderr)
  }
  assert.equal((await runScript('kafkit', 'kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'in', '--max-messages', '10', '--repeating-keys', '3'])).code, 0)
  assert.equal((await runScript('kafkit', 'kafka-verifiable-producer', ['--bootstrap-server', B, '--topic', 'mid', '--max-messages', '4'])).code, 0)
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'in', '--group', 'app', '--from-beginning', '--max-messages', '10'])
  assert.equal(c.code, 0, c.stderr)
})

after(async () => {
  await cluster?.stop()
  if (dir) removeDir(dir)
})

const reset = (which: 'apache' | 'kafkit', args: string[], app = 'app') => runScript(which, 'kafka-streams-application-reset', ['--bootstrap-server', B, '--application-id', app, ...args])
const both = (args: string[], app = 'app') => Promise.all([reset('kafkit', args, app), reset('apache', args, app)])

test('dry runs: the same lines as Apache\'s for every reset option, HashMap order included', {skip}, async () => {
  const plan = join(dir, 'plan.csv')
  writeFileSync(plan, 'in,0,2\nin,1,100\n')
  const cases = [
    ['--input-topics', 'in,nope', '--intermediate-topics', 'mid'],
    ['--input-topics', 'in', '--shift-by', '-2'],
    ['--input-topics', 'in', '--to-offset', '3'],
    ['--input-topics', 'in', '--to-latest'],
    ['--input-topics', 'in', '--to-earliest', '--intermediate-topics', 'mid,gone'],
    ['--input-topics', 'in', '--to-datetime', '2099-01-01T00:00:00.000'],
    ['--input-topics', 'in', '--to-datetime', '2000-01-01T00:00:00.000Z'],
    ['--input-topics', 'in', '--by-duration', 'PT1H'],
    ['--input-topics', 'in', '--from-file', plan],
    ['--input-topics', 'in', '--internal-topics', 'app-x-changelog'],
    [],
  ]
  for (const args of cases) {
    const [k, a] = await both([...args, '--dry-run'])
    assert.equal(k.stdout, a.stdout, args.join(' '))
    assert.equal(k.code, a.code, `${args.join(' ')}: ${k.stderr} / ${a.stderr}`)
    assert.equal(k.stderr, '')
  }
  const [k] = await both(['--input-topics', 'in,nope', '--intermediate-topics', 'mid', '--dry-run'])
  assert.equal(k.code, 1)
  assert.equal(k.stdout, [
    '----Dry run displays the actions which will be performed when running Streams Reset Tool----',
    'Reset-offsets for input topics [in, nope]',
    'Seek-to-end for intermediate topics [mid]',
    'Following input topics are not found, skipping them',
    'Topic: nope',
    'Following input topics offsets will be reset to (for consumer group app)',
    'Topic: in Partition: 1 Offset: 0',
    'Topic: in Partition: 0 Offset: 0',
    'Following intermediate topics offsets will be reset to end (for consumer group app)',
    'Topic: mid',
    'Done.',
    'Deleting inferred internal topics [app-x-changelog, app-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog, app-KSTREAM-KEY-SELECT-0000000002-repartition]',
    'Done.',
    ''].join('\n'))
})

test('bad input: one line and exit 1 where Apache\'s prints usage or a stack trace', {skip}, async () => {
  const badPlan = join(dir, 'bad.csv')
  writeFileSync(badPlan, 'in,0\n')
  const cases = [
    ['--bogus'],
    ['--input-topics', 'in', '--to-latest', '--to-earliest'],
    ['--input-topics', 'in', '--shift-by', '1', '--to-offset', '2'],
    ['--input-topics', 'in', '--to-offset', 'abc'],
    ['--input-topics', 'in', '--internal-topics', 'app-other', '--dry-run'],
    ['--input-topics', 'in', '--by-duration', 'one hour', '--dry-run'],
    ['--input-topics', 'in', '--to-datetime', '2020-01-01 00:00:00', '--dry-run'],
    ['--input-topics', 'in', '--from-file', badPlan, '--dry-run'],
  ]
  for (const args of cases) {
    const [k, a] = await both(args)
    assert.equal(a.code, 1, `apache ${args.join(' ')}`)
    assert.equal(k.code, 1, `kafkit ${args.join(' ')}: ${k.stderr}`)
    assert.equal(k.stderr.trimEnd().split('\n').length, 1, k.stderr)
    // (Apache's prints "ERROR: Resetting offsets failed." before a parse error: kafkit the cause only)
    assert.equal(k.stderr.split('\n')[0], a.stderr.split('\n').filter(l => l !== 'ERROR: Resetting offsets failed.')[0], args.join(' '))
  }
  const m = await runScript('kafkit', 'kafka-streams-application-reset', ['--bootstrap-server', B])
  assert.equal(m.code, 1)
  assert.equal(m.stderr, 'Missing required option(s) [application-id]\n')
  const u = await runScript('kafkit', 'kafka-streams-application-reset', ['--bootstrap-server', '127.0.0.1:1', '--application-id', 'app'])
  assert.equal(u.code, 1)
  assert.match(u.stderr.trimEnd().split('\n').pop()!, /^ERROR: java\.util\.concurrent\.ExecutionException: org\.apache\.kafka\.common\.errors\.TimeoutException: Timed out waiting for a node assignment\. Call: describeConsumerGroups/)
})

test('an active group is refused; --force removes its members and the reset goes on', {skip}, async () => {
  const c = startCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'in', '--group', 'live', '--from-beginning', '--consumer-property', 'session.timeout.ms=60000'])
  await waitFor(async () => (await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'live', '--members'])).stdout.includes('console-consumer'), 30000, 'the console consumer to join')
  // Killed: it does not leave the group, its membership lasts the session timeout.
  await c.stop('SIGKILL')
  const [k, a] = await both(['--input-topics', 'in', '--dry-run'], 'live')
  assert.equal(k.code, 1)
  assert.equal(a.code, 1)
  const shape = (s: string) => s.split('\n')[0].replace(/memberId=[^,]+/, 'memberId=M').replace(/clientId=[^,]+/, 'clientId=C').replace(/host=[^,]+/, 'host=H')
  assert.equal(shape(k.stderr), shape(a.stderr))
  assert.match(k.stderr, /^ERROR: java\.lang\.IllegalStateException: Consumer group 'live' is still active and has following members: \[\(memberId=console-consumer-[^,]+, groupInstanceId=null, clientId=console-consumer, host=[^,]+, assignment=\(topicPartitions=in-1,in-0\), targetAssignment=Optional.empty\)\]\. Make sure to stop all running application instances before running the reset tool\. You can use option '--force' to remove active members from the group\.\n$/)
  const f = await reset('kafkit', ['--input-topics', 'in', '--force'], 'live')
  assert.equal(f.code, 0, f.stderr)
  assert.equal(f.stdout.split('\n')[0], 'Force deleting all active members in the group: live')
  const d = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'live'])
  assert.match(d.stdout, /live\s+in\s+0\s+0\s+7\s+7\s+-/)
})

test('the real run: offsets reset, intermediate topics at their end, internal topics deleted; the group reads again', {skip}, async () => {
  const r = await reset('kafkit', ['--input-topics', 'in', '--intermediate-topics', 'mid'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, [
    'Reset-offsets for input topics [in]',
    'Seek-to-end for intermediate topics [mid]',
    'Following input topics offsets will be reset to (for consumer group app)',
    'Topic: in Partition: 1 Offset: 0',
    'Topic: in Partition: 0 Offset: 0',
    'Following intermediate topics offsets will be reset to end (for consumer group app)',
    'Topic: mid',
    'Done.',
    'Deleting inferred internal topics [app-x-changelog, app-KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog, app-KSTREAM-KEY-SELECT-0000000002-repartition]',
    'Done.',
    ''].join('\n'))
  const d = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'app'])
  assert.match(d.stdout, /app\s+in\s+0\s+0\s+7\s+7/)
  assert.match(d.stdout, /app\s+in\s+1\s+0\s+3\s+3/)
  assert.match(d.stdout, /app\s+mid\s+0\s+4\s+4\s+0/)
  await waitFor(async () => {
    const l = (await runCommand('kafka-topics', ['--bootstrap-server', B, '--list'])).stdout.split('\n')
    return INTERNAL.every(t => !l.includes(t)) && l.includes('app-other') && l.includes('in')
  }, 30000, 'the internal topics to be deleted')
  const again = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'in', '--group', 'app', '--max-messages', '10', '--timeout-ms', '20000'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout.trimEnd().split('\n').length, 10)
  // Apache's tool on the state kafkit's left: nothing more to delete, the same lines.
  const [k2, a2] = await both(['--input-topics', 'in', '--to-offset', '5', '--dry-run'])
  assert.equal(k2.stdout, a2.stdout)
  assert.match(k2.stdout, /Deleting inferred internal topics \[\]\n/)
})
