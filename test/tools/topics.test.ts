// kafka-topics, typed as a user types it, against a real broker (kafkit's when built, else
// Apache Kafka 3.9; KAFKIT_TOOLS_TARGET picks), plus a differential test against Apache
// Kafka's own kafka-topics when it is installed.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, removeDir, tempDir, waitFor, freePort} from '../helpers/util.js'
import {apacheKafkaHome, runApacheTool, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'

let cluster: Cluster | undefined
let B = ''
const dir = tempDir('kafkit-topics-test-')

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-topics tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

const topics = (...args: string[]) => runCommand('kafka-topics', args)

test('walkthrough: create, list, describe, alter, delete', async () => {
  const created = await topics('--create', '--bootstrap-server', B, '--replication-factor', '1', '--partitions', '1', '--topic', 'dev-topic')
  assert.equal(created.stderr, '')
  assert.equal(created.stdout, 'Created topic dev-topic.\n')
  assert.equal(created.code, 0)

  const list = await topics('--list', '--bootstrap-server', B)
  assert.equal(list.code, 0)
  assert.ok(list.stdout.split('\n').includes('dev-topic'), list.stdout)

  const d = await topics('--describe', '--bootstrap-server', B, '--topic', 'dev-topic')
  assert.equal(d.code, 0, d.stderr)
  assert.match(d.stdout, /^Topic: dev-topic\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: [^\n]*\n\tTopic: dev-topic\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N\/A\tLastKnownElr: N\/A\n$/)

  const alter = await topics('--alter', '--bootstrap-server', B, '--topic', 'dev-topic', '--partitions', '3')
  assert.equal(alter.code, 0, alter.stdout + alter.stderr)
  assert.equal(alter.stdout, '')
  await waitFor(async () => (await topics('--describe', '--bootstrap-server', B, '--topic', 'dev-topic')).stdout.includes('PartitionCount: 3'), 15000, 'three partitions')

  const shrink = await topics('--alter', '--bootstrap-server', B, '--topic', 'dev-topic', '--partitions', '2')
  assert.equal(shrink.code, 1)
  assert.match(shrink.stdout, /^Error while executing topic command : .*3 partitions.*\n$/)

  const del = await topics('--delete', '--bootstrap-server', B, '--topic', 'dev-topic')
  assert.equal(del.code, 0, del.stdout + del.stderr)
  assert.equal(del.stdout, '')
  await waitFor(async () => !(await topics('--list', '--bootstrap-server', B)).stdout.split('\n').includes('dev-topic'), 20000, 'dev-topic to be deleted')
})

test('create with configs; describe shows only overrides; --topics-with-overrides; regex topics', async () => {
  const r = await topics('--create', '--bootstrap-server', B, '--topic', 'cfg-a', '--partitions', '2', '--config', 'retention.ms=5000', '--config', 'cleanup.policy=compact')
  assert.equal(r.stdout, 'Created topic cfg-a.\n')
  assert.equal((await topics('--create', '--bootstrap-server', B, '--topic', 'cfg-b')).code, 0)
  const d = await topics('--describe', '--bootstrap-server', B, '--topic', 'cfg-a')
  const header = d.stdout.split('\n')[0]
  const configs = header.slice(header.indexOf('Configs: ') + 9).split(',').sort()
  assert.deepEqual(configs, ['cleanup.policy=compact', 'retention.ms=5000'])
  const o = await topics('--describe', '--bootstrap-server', B, '--topics-with-overrides', '--topic', 'cfg-.*')
  assert.equal(o.code, 0)
  assert.match(o.stdout, /^Topic: cfg-a\t/)
  assert.equal(o.stdout.split('\n').filter(Boolean).length, 1, o.stdout)
  const l = await topics('--list', '--bootstrap-server', B, '--topic', 'cfg-.*')
  assert.equal(l.stdout, 'cfg-a\ncfg-b\n')
})

test('--replica-assignment on create and alter', async () => {
  const c = await topics('--create', '--bootstrap-server', B, '--topic', 'assigned', '--replica-assignment', '0,0')
  assert.equal(c.stdout, 'Created topic assigned.\n')
  const a = await topics('--alter', '--bootstrap-server', B, '--topic', 'assigned', '--partitions', '3', '--replica-assignment', '0,0,0')
  assert.equal(a.code, 0, a.stdout + a.stderr)
  await waitFor(async () => (await topics('--describe', '--bootstrap-server', B, '--topic', 'assigned')).stdout.includes('PartitionCount: 3'), 15000, 'three partitions')
  const dup = await topics('--create', '--bootstrap-server', B, '--topic', 'assigned2', '--replica-assignment', '0:0')
  assert.equal(dup.stdout, 'Error while executing topic command : Partition replica lists may not contain duplicate entries: 0\n')
})

test('--output json (kafkit addition): --list and --describe as JSON, the same selection as the text', async () => {
  const c = await topics('--create', '--bootstrap-server', B, '--topic', 'json-t', '--partitions', '2', '--config', 'retention.ms=5000')
  assert.equal(c.code, 0, c.stdout + c.stderr)
  await waitFor(async () => (await topics('--describe', '--bootstrap-server', B, '--topic', 'json-t')).stdout.includes('Leader: 0'), 15000, 'json-t leaders')
  const d = await topics('--describe', '--bootstrap-server', B, '--topic', 'json-t', '--output', 'json')
  assert.equal(d.code, 0, d.stderr)
  const parsed = JSON.parse(d.stdout) as Array<Record<string, unknown>>
  assert.equal(parsed.length, 1)
  assert.match(String(parsed[0].topicId), /^[A-Za-z0-9_-]{22}$/)
  assert.deepEqual({...parsed[0], topicId: '-'}, {
    topic: 'json-t', topicId: '-', partitionCount: 2, replicationFactor: 1, configs: {'retention.ms': '5000'},
    partitions: [{partition: 0, leader: 0, replicas: [0], isr: [0]}, {partition: 1, leader: 0, replicas: [0], isr: [0]}],
  })
  // A report flag selects partitions exactly as the text does: none are under-replicated.
  const under = await topics('--describe', '--bootstrap-server', B, '--topic', 'json-t', '--under-replicated-partitions', '--output', 'json')
  assert.deepEqual(JSON.parse(under.stdout), [])
  const l = await topics('--list', '--bootstrap-server', B, '--topic', 'json-.*', '--output', 'json')
  assert.equal(l.code, 0, l.stderr)
  assert.deepEqual(JSON.parse(l.stdout), [{topic: 'json-t', internal: false}])
  const bad = await topics('--delete', '--bootstrap-server', B, '--topic', 'json-t', '--output', 'json')
  assert.equal(bad.code, 1)
  assert.match(bad.stderr + bad.stdout, /--output json is supported with --list and --describe only/)
})

test('errors: one line, exit 1', async () => {
  await topics('--create', '--bootstrap-server', B, '--topic', 'dup')
  const dup = await topics('--create', '--bootstrap-server', B, '--topic', 'dup')
  assert.equal(dup.code, 1)
  assert.equal(dup.stdout, 'Error while executing topic command : Topic \'dup\' already exists.\n')
  const ifNot = await topics('--create', '--bootstrap-server', B, '--topic', 'dup', '--if-not-exists')
  assert.equal(ifNot.code, 0)
  assert.equal(ifNot.stdout, '')

  const missing = await topics('--describe', '--bootstrap-server', B, '--topic', 'nope')
  assert.equal(missing.code, 1)
  assert.equal(missing.stdout, 'Error while executing topic command : Topic \'nope\' does not exist as expected\n')
  assert.equal((await topics('--delete', '--bootstrap-server', B, '--topic', 'nope', '--if-exists')).code, 0)

  const bad = await topics('--create', '--bootstrap-server', B, '--topic', 'bad name!')
  assert.equal(bad.code, 1)
  assert.equal(bad.stdout, 'Error while executing topic command : Topic name is invalid: \'bad name!\' contains one or more characters other than ASCII alphanumerics, \'.\', \'_\' and \'-\'\n')

  const zero = await topics('--create', '--bootstrap-server', B, '--topic', 'zero', '--partitions', '0')
  assert.equal(zero.stdout, 'Error while executing topic command : The partitions must be greater than 0\n')
  const nan = await topics('--create', '--bootstrap-server', B, '--topic', 'nan', '--partitions', 'abc')
  assert.equal(nan.stdout, 'Error while executing topic command : Cannot parse argument \'abc\' of option partitions\n')
  const rf = await topics('--create', '--bootstrap-server', B, '--topic', 'rf', '--replication-factor', '3')
  assert.equal(rf.code, 1)
  assert.match(rf.stdout, /^Error while executing topic command : Replication factor: 3 larger than available brokers: 1\.\n$/)
})

test('bad command lines: Kafka\'s first usage line on stderr, exit 1', async () => {
  const cases: [string[], string][] = [
    [[], 'Create, delete, describe, or change a topic.'],
    [['--bootstrap-server', 'x:1'], 'Command must include exactly one action: --list, --describe, --create, --alter or --delete'],
    [['--list', '--describe', '--bootstrap-server', 'x:1'], 'Command must include exactly one action: --list, --describe, --create, --alter or --delete'],
    [['--create', '--topic', 'x'], '--bootstrap-server must be specified'],
    [['--create', '--bootstrap-server', 'x:1'], 'Missing required argument "[topic]"'],
    [['--list', '--bootstrap-server', 'x:1', '--partitions', '3'], 'Option "[partitions]" can\'t be used with option "[list]"'],
    [['--alter', '--bootstrap-server', 'x:1', '--topic', 't'], 'Missing required argument "[partitions]"'],
    [['--create', '--bootstrap-server', 'x:1', '--topic', 't', '--replica-assignment', '0:1', '--partitions', '2'], 'Option "[replica-assignment]" can\'t be used with option "[partitions]"'],
    [['--list', '--bootstrap-server', 'x:1', '--bogus'], 'bogus is not a recognized option'],
  ]
  for (const [args, line] of cases) {
    const r = await topics(...args)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stderr, line + '\n', args.join(' '))
    assert.equal(r.stdout, '')
  }
})

test('unreachable bootstrap server: times out with Kafka\'s message within default.api.timeout.ms', async () => {
  const cfg = join(dir, 'admin.properties')
  writeFileSync(cfg, 'default.api.timeout.ms=1500\nrequest.timeout.ms=1000\n')
  const port = await freePort()
  const t0 = Date.now()
  const r = await topics('--list', '--bootstrap-server', `127.0.0.1:${port}`, '--command-config', cfg)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, 'Error while executing topic command : Timed out waiting for a node assignment. Call: listTopics\n')
  assert.ok(Date.now() - t0 < 10000)
  const nofile = await topics('--list', '--bootstrap-server', B, '--command-config', join(dir, 'missing.properties'))
  assert.equal(nofile.code, 1)
  assert.equal(nofile.stdout, '')
  assert.match(nofile.stderr, /^Failed to create new KafkaAdminClient: Config file .*missing\.properties does not exist\n$/)
  const badUrl = await topics('--list', '--bootstrap-server', 'nohost')
  assert.equal(badUrl.code, 1)
  assert.equal(badUrl.stderr, 'Failed to create new KafkaAdminClient: Invalid url in bootstrap.servers: nohost\n')
})

test('differential: same stdout as Apache Kafka 3.9\'s kafka-topics', {skip: apacheKafkaHome() ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka)'}, async () => {
  await topics('--create', '--bootstrap-server', B, '--topic', 'diff.one', '--partitions', '3', '--config', 'segment.bytes=1048576', '--config', 'retention.ms=60000', '--config', 'max.message.bytes=2000000')
  await topics('--create', '--bootstrap-server', B, '--topic', 'diff-two')
  for (const args of [
    ['--list', '--bootstrap-server', B],
    ['--list', '--bootstrap-server', B, '--exclude-internal'],
    ['--describe', '--bootstrap-server', B, '--topic', 'diff.*'],
    ['--describe', '--bootstrap-server', B, '--topic', 'diff.one'],
    ['--describe', '--bootstrap-server', B, '--topics-with-overrides', '--exclude-internal'],
    ['--describe', '--bootstrap-server', B, '--under-replicated-partitions'],
    ['--create', '--bootstrap-server', B, '--topic', 'diff-two'],
    ['--describe', '--bootstrap-server', B, '--topic', 'no-such-topic-x'],
  ]) {
    const [ours, theirs] = [await topics(...args), await runApacheTool('kafka-topics', args)]
    // Kafka prints its Optional wrapper in one message; kafkit prints the plain name.
    const expected = theirs.stdout.replace(/Topic 'Optional\[(.*)\]'/, 'Topic \'$1\'')
    assert.equal(ours.stdout, expected, `kafka-topics ${args.join(' ')}`)
    assert.equal(ours.code, theirs.code, `exit code of kafka-topics ${args.join(' ')}`)
  }
})
