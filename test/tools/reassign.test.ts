// kafka-reassign-partitions and kafka-leader-election on three kafkit brokers (in-process, on
// kafkit's ZooKeeper), typed as a user types them: replicas move (new replica added, caught up,
// ISR and leader changed, old replica and its log removed) with the data kept; a throttled move
// stays in progress for --list, --verify and --cancel; elections; and, where Apache Kafka 3.9 is
// installed, Apache's own scripts run on the same cluster with the same input, compared line
// for line (stdout exactly where the data is deterministic, the first line of an error).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {spawn} from 'node:child_process'
import {runCommand, removeDir, tempDir, waitFor, type RunResult} from '../helpers/util.js'
import {apacheKafkaHome, startCluster as startToolsCluster} from './apache-kafka.js'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'

const dir = tempDir('kafkit-reassign-test-')
let cluster: Cluster
let B = ''

before(async () => {
  // Small replica fetches and a short lag window: a throttled move stays visibly in progress,
  // and a stopped follower leaves the ISR quickly.
  cluster = await startCluster({brokers: 3, dir: join(dir, 'cluster'), brokerConfig: {'replica.fetch.max.bytes': 10240, 'replica.lag.time.max.ms': 3000}})
  B = cluster.bootstrapServers.join(',')
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

const reassign = (...args: string[]) => runCommand('kafka-reassign-partitions', ['--bootstrap-server', B, ...args])
const elect = (...args: string[]) => runCommand('kafka-leader-election', ['--bootstrap-server', B, ...args])
const file = (name: string, content: unknown) => {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}
const plan = (topic: string, replicas: number[][]) => ({version: 1, partitions: replicas.map((r, partition) => ({topic, partition, replicas: r}))})
const json = (topic: string, replicas: number[][]) => JSON.stringify({version: 1, partitions: replicas.map((r, partition) => ({topic, partition, replicas: r, log_dirs: r.map(() => 'any')}))})
const controller = () => cluster.brokers.find(b => b?.cluster.isController())!
const state = (topic: string, p: number) => controller().cluster.topic(topic)?.partitions[p]

async function createTopic(topic: string, assignment: string): Promise<void> {
  const r = await runCommand('kafka-topics', ['--bootstrap-server', B, '--create', '--topic', topic, '--replica-assignment', assignment])
  assert.equal(r.stdout, `Created topic ${topic}.\n`, r.stderr)
  await waitFor(() => cluster.brokers.every(b => b?.cluster.topic(topic)?.partitions.every(p => p.leader >= 0)), 10000, `${topic} online`)
}

async function produce(topic: string, lines: string[]): Promise<void> {
  const r = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', topic, '--producer-property', 'acks=all'], {input: lines.join('\n') + '\n'})
  assert.equal(r.code, 0, r.stderr)
}

async function consume(topic: string, n: number): Promise<string[]> {
  const r = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', topic, '--from-beginning', '--max-messages', String(n), '--timeout-ms', '20000'])
  return r.stdout.split('\n').filter(Boolean)
}

test('--generate, --execute, --verify: replicas move, the leader follows, old logs go, every record is kept', {timeout: 120000}, async () => {
  await createTopic('moving', '0:1,1:2,2:0')
  const lines = Array.from({length: 3000}, (_, i) => `record-${i}`)
  await produce('moving', lines)

  const gen = await reassign('--generate', '--topics-to-move-json-file', file('topics.json', {topics: [{topic: 'moving'}], version: 1}), '--broker-list', '0,1,2')
  assert.equal(gen.code, 0, gen.stdout + gen.stderr)
  const m = /^Current partition replica assignment\n(.*)\n\nProposed partition reassignment configuration\n(.*)\n$/.exec(gen.stdout)
  assert.ok(m, gen.stdout)
  assert.equal(m[1], json('moving', [[0, 1], [1, 2], [2, 0]]))
  const proposed = JSON.parse(m[2]) as {version: number; partitions: {topic: string; partition: number; replicas: number[]; log_dirs: string[]}[]}
  assert.equal(proposed.version, 1)
  assert.deepEqual(proposed.partitions.map(p => [p.topic, p.partition, p.replicas.length, new Set(p.replicas).size, p.log_dirs.join()]), [0, 1, 2].map(p => ['moving', p, 2, 2, 'any,any']))
  assert.ok(proposed.partitions.every(p => p.replicas.every(r => [0, 1, 2].includes(r))))

  const target = [[2, 1], [0, 1], [1, 2]]
  const ex = await reassign('--execute', '--reassignment-json-file', file('moving.json', plan('moving', target)))
  assert.equal(ex.stdout, `Current partition replica assignment\n\n${json('moving', [[0, 1], [1, 2], [2, 0]])}\n\nSave this to use as the --reassignment-json-file option during rollback\nSuccessfully started partition reassignments for moving-0,moving-1,moving-2\n`)
  assert.equal(ex.code, 0)

  const done = 'Status of partition reassignment:\nReassignment of partition moving-0 is completed.\nReassignment of partition moving-1 is completed.\nReassignment of partition moving-2 is completed.\n\nClearing broker-level throttles on brokers 0,1,2\nClearing topic-level throttles on topic moving\n'
  await waitFor(async () => (await reassign('--verify', '--reassignment-json-file', join(dir, 'moving.json'))).stdout === done, 30000, 'the reassignment to complete')
  for (let p = 0; p < 3; p++) {
    const s = state('moving', p)!
    assert.deepEqual(s.replicas, target[p])
    assert.ok(target[p].includes(s.leader), `moving-${p} led by ${s.leader}`)
    assert.deepEqual([...s.isr].sort(), [...target[p]].sort())
    assert.equal(s.addingReplicas, undefined)
  }
  assert.equal((await reassign('--list')).stdout, 'No partition reassignments found.\n')
  // The brokers that lost a replica dropped it and deleted its log.
  const dropped = [[0, 0], [2, 1], [0, 2]]
  await waitFor(() => dropped.every(([b, p]) => !cluster.brokers[b]!.replicas.partition('moving', p) && !existsSync(join(dir, 'cluster', `broker-${b}`, `moving-${p}`))), 10000, 'old replicas removed')
  assert.ok(existsSync(join(dir, 'cluster', 'broker-2', 'moving-0')))

  const got = await consume('moving', lines.length)
  assert.equal(got.length, lines.length)
  assert.deepEqual([...got].sort(), [...lines].sort())
})

test('a throttled move stays in progress: --list, --verify, --execute without --additional, --cancel reverts it', {timeout: 120000}, async () => {
  await createTopic('slow', '0')
  await produce('slow', Array.from({length: 3000}, (_, i) => `${i}`.padStart(100, 'x')))
  const planFile = file('slow.json', plan('slow', [[1]]))
  const ex = await reassign('--execute', '--reassignment-json-file', planFile, '--throttle', '100')
  assert.equal(ex.code, 0, ex.stdout + ex.stderr)
  assert.equal(ex.stdout, `Current partition replica assignment\n\n${json('slow', [[0]])}\n\nSave this to use as the --reassignment-json-file option during rollback\nWarning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\nThe inter-broker throttle limit was set to 100 B/s\nSuccessfully started partition reassignment for slow-0\n`)
  const configs = controller().cluster.topic('slow')!.configs
  assert.equal(configs['leader.replication.throttled.replicas'], '0:0')
  assert.equal(configs['follower.replication.throttled.replicas'], '0:1')
  // The rate goes on the brokers taking part (0 the source, 1 the destination), each through its own broker.
  await waitFor(() => [0, 1].every(b => cluster.brokers[b]!.cluster.brokerConfigOverrides()['follower.replication.throttled.rate'] === '100'), 10000, 'the rate on brokers 0 and 1')
  assert.equal(cluster.brokers[2]!.cluster.brokerConfigOverrides()['follower.replication.throttled.rate'], undefined)

  assert.equal((await reassign('--list')).stdout, 'Current partition reassignments:\nslow-0: replicas: 1,0. adding: 1. removing: 0.\n')
  assert.equal((await reassign('--verify', '--reassignment-json-file', planFile)).stdout, 'Status of partition reassignment:\nReassignment of partition slow-0 is still in progress.\n\n')
  const again = await reassign('--execute', '--reassignment-json-file', planFile)
  assert.equal(again.code, 1)
  assert.equal(again.stdout, 'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. The --additional flag can also be used to change the throttle by resubmitting the current reassignment.\n')
  // The new replica is held back by the follower throttle: far behind the leader.
  const follower = cluster.brokers[1]!.replicas.partition('slow', 0)
  assert.ok(!follower || follower.logEndOffset < 3000, `follower at ${follower?.logEndOffset}`)

  const cancel = await reassign('--cancel', '--reassignment-json-file', planFile)
  assert.equal(cancel.stdout, 'Successfully cancelled partition reassignment for: slow-0\nNone of the specified partition moves are active.Clearing broker-level throttles on brokers 0,1,2\nClearing topic-level throttles on topic slow\n')
  assert.equal(cancel.code, 0)
  assert.deepEqual(state('slow', 0)!.replicas, [0])
  assert.equal(state('slow', 0)!.leader, 0)
  await waitFor(() => !cluster.brokers[1]!.replicas.partition('slow', 0) && !existsSync(join(dir, 'cluster', 'broker-1', 'slow-0')), 10000, 'the cancelled replica removed')
  await waitFor(() => cluster.brokers.every(b => b!.cluster.brokerConfigOverrides()['follower.replication.throttled.rate'] === undefined), 10000, 'the rate removed')
  assert.equal(controller().cluster.topic('slow')!.configs['follower.replication.throttled.replicas'], undefined)
  assert.equal((await consume('slow', 3000)).length, 3000)
})

test('bad input: one clear line and exit 1', async () => {
  const cases: [string[], RegExp, 'stdout' | 'stderr'][] = [
    [['--execute', '--reassignment-json-file', file('bad.json', '{"version":1,"partitions":[{"topic":"moving","partition":0,"replicas":[2,')], /^Error: Unexpected end-of-input within\/between Array entries\n$/, 'stdout'],
    [['--execute', '--reassignment-json-file', file('word.json', 'xyz')], /^Error: Unrecognized token 'xyz'/, 'stdout'],
    [['--execute', '--reassignment-json-file', file('unk.json', plan('no-such-topic', [[1]]))], /^Error: org\.apache\.kafka\.common\.errors\.UnknownTopicOrPartitionException: Topic no-such-topic not found\.\n$/, 'stdout'],
    [['--execute', '--reassignment-json-file', file('unkb.json', plan('moving', [[7, 1]]))], /^Error: Unknown broker id 7\n$/, 'stdout'],
    [['--execute', '--reassignment-json-file', file('dup.json', plan('moving', [[1, 1]]))], /^Error: Partition replica lists may not contain duplicate entries: moving-0 contains multiple entries for 1\n$/, 'stdout'],
    [['--execute', '--reassignment-json-file', join(dir, 'missing.json')], /^Error: Unable to read file .*missing\.json\n$/, 'stdout'],
    [['--generate', '--topics-to-move-json-file', join(dir, 'topics.json'), '--broker-list', '0,x'], /^Error: For input string: "x"\n$/, 'stdout'],
    [['--generate', '--topics-to-move-json-file', join(dir, 'topics.json'), '--broker-list', '0'], /^Error: Replication factor: 2 larger than available brokers: 1\.\n$/, 'stdout'],
    [['--verify', '--reassignment-json-file', join(dir, 'moving.json'), '--throttle', '5'], /^Option "\[throttle\]" can't be used with action "\[verify\]"\n$/, 'stderr'],
    [['--list', '--verify'], /^Command must include exactly one action: --generate, --execute, --verify, --cancel, --list\n$/, 'stderr'],
  ]
  for (const [args, re, stream] of cases) {
    const r = await reassign(...args)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    assert.match(r[stream], re, args.join(' '))
  }
  const noServer = await runCommand('kafka-reassign-partitions', ['--list'])
  assert.equal(noServer.code, 1)
  assert.equal(noServer.stderr, 'Please specify --bootstrap-server\n')
  const e = await elect('--election-type', 'preferred', '--topic', 'no-such-topic', '--partition', '0')
  assert.equal(e.code, 1)
  assert.equal(e.stdout, 'Error completing leader election (PREFERRED) for partition: no-such-topic-0: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: The partition does not exist.\n')
  assert.equal(e.stderr, '1 replica(s) could not be elected\n')
  const dupJson = await elect('--election-type', 'preferred', '--path-to-json-file', file('edup.json', {partitions: [{topic: 'moving', partition: 0}, {topic: 'moving', partition: 0}]}))
  assert.equal(dupJson.stderr, 'Replica election data contains duplicate partitions: [moving-0]\n')
  assert.equal((await elect('--election-type', 'foo', '--all-topic-partitions')).stderr, "Cannot parse argument 'foo' of option election-type\n")
})

test('kafka-leader-election: preferred moves leadership back, unclean elects an out-of-sync replica', {timeout: 120000}, async () => {
  // Leader 1, then the replica order changes to [0,1]: the leader stays, broker 0 is preferred.
  await createTopic('elect', '1:0')
  const ex = await reassign('--execute', '--reassignment-json-file', file('elect.json', plan('elect', [[0, 1]])))
  assert.equal(ex.code, 0, ex.stdout)
  await waitFor(() => state('elect', 0)?.replicas.join() === '0,1', 10000, 'new replica order')
  assert.equal(state('elect', 0)!.leader, 1)
  const r = await elect('--election-type', 'preferred', '--topic', 'elect', '--partition', '0')
  assert.equal(r.stdout, 'Successfully completed leader election (PREFERRED) for partitions elect-0\n')
  assert.equal(r.code, 0)
  assert.equal(state('elect', 0)!.leader, 0)
  assert.equal((await elect('--election-type', 'preferred', '--path-to-json-file', file('e.json', {partitions: [{topic: 'elect', partition: 0}]}))).stdout, 'Valid replica already elected for partitions elect-0\n')
  // Every partition: those led elsewhere (moving-1 kept leader 1 when its replicas became 0,1) move; then nothing is left to do.
  const all = await elect('--election-type', 'preferred', '--all-topic-partitions')
  assert.equal(all.code, 0, all.stderr)
  assert.match(all.stdout, /^Successfully completed leader election \(PREFERRED\) for partitions [^\n]*moving-1[^\n]*\n$/)
  const none = await elect('--election-type', 'preferred', '--all-topic-partitions')
  assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', ''])

  // Unclean: follower 2 falls out of the ISR, leader 1 dies; only an unclean election brings it back.
  await createTopic('unclean', '1:2')
  await cluster.stopBroker(2)
  await waitFor(() => state('unclean', 0)?.isr.join() === '1', 20000, 'broker 2 out of the ISR')
  await cluster.stopBroker(1)
  await waitFor(() => state('unclean', 0)?.leader === -1, 20000, 'no leader')
  await cluster.startBroker(2)
  await waitFor(() => controller().cluster.brokers().some(b => b.id === 2), 20000, 'broker 2 back')
  assert.equal(state('unclean', 0)!.leader, -1)
  const u = await elect('--election-type', 'unclean', '--topic', 'unclean', '--partition', '0')
  assert.equal(u.stdout, 'Successfully completed leader election (UNCLEAN) for partitions unclean-0\n')
  assert.equal(u.code, 0)
  assert.equal(state('unclean', 0)!.leader, 2)
  assert.deepEqual(state('unclean', 0)!.isr, [2])
  await cluster.startBroker(1)
  await waitFor(() => controller().cluster.brokers().length === 3, 20000, 'broker 1 back')
})

// ---- Apache Kafka 3.9's scripts on the same cluster ----

const home = apacheKafkaHome()
const apacheSkip = home ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9'

function runApache(mainClass: string, args: string[]): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home!, 'config', 'tools-log4j.properties')}`, '-cp', join(home!, 'libs', '*'), mainClass, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${mainClass} ${args.join(' ')} timed out`)) }, 60000)
    child.on('error', rej)
    child.on('close', code => { clearTimeout(timer); res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}) })
  })
}
const REASSIGN = 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand'
const ELECT = 'org.apache.kafka.tools.LeaderElectionCommand'
const firstLine = (s: string) => s.split('\n')[0]

/** Same exit code; stdout exactly when both succeed, else the first line of stdout and of stderr. */
async function same(mainClass: string, script: string, args: string[]): Promise<void> {
  const a = await runApache(mainClass, args)
  const k = await runCommand(script, args)
  const what = `${script} ${args.join(' ')}`
  assert.equal(k.code, a.code, `${what}: exit code (apache: ${a.stdout}${a.stderr})`)
  if (a.code === 0) assert.equal(k.stdout, a.stdout, what)
  else {
    assert.equal(firstLine(k.stdout), firstLine(a.stdout), `${what}: stdout`)
    assert.equal(firstLine(k.stderr), firstLine(a.stderr), `${what}: stderr`)
  }
}

test('differential: Apache\'s kafka-reassign-partitions and kafka-leader-election print the same', {skip: apacheSkip, timeout: 300000}, async () => {
  const bs = ['--bootstrap-server', B]
  // Errors and settled state, the same command for both.
  for (const args of [
    [...bs, '--list'],
    [...bs, '--verify', '--reassignment-json-file', join(dir, 'moving.json')],
    [...bs, '--verify', '--reassignment-json-file', join(dir, 'moving.json'), '--preserve-throttles'],
    [...bs, '--execute', '--reassignment-json-file', join(dir, 'bad.json')],
    [...bs, '--execute', '--reassignment-json-file', join(dir, 'word.json')],
    [...bs, '--execute', '--reassignment-json-file', join(dir, 'unk.json')],
    [...bs, '--execute', '--reassignment-json-file', join(dir, 'unkb.json')],
    [...bs, '--execute', '--reassignment-json-file', join(dir, 'dup.json')],
    [...bs, '--execute', '--reassignment-json-file', file('empty.json', {version: 1, partitions: []})],
    [...bs, '--execute', '--reassignment-json-file', file('v2.json', {version: 2, partitions: []})],
    [...bs, '--execute', '--reassignment-json-file', file('norep.json', {version: 1, partitions: [{topic: 'moving', partition: 0}]})],
    [...bs, '--execute', '--reassignment-json-file', file('strp.json', {version: 1, partitions: [{topic: 'moving', partition: 'a', replicas: [1]}]})],
    [...bs, '--cancel', '--reassignment-json-file', join(dir, 'moving.json')],
    [...bs, '--generate', '--topics-to-move-json-file', join(dir, 'topics.json'), '--broker-list', '0,1,0'],
    [...bs, '--generate', '--topics-to-move-json-file', join(dir, 'topics.json'), '--broker-list', '5'],
    [...bs, '--generate', '--topics-to-move-json-file', file('tn.json', {topics: [{topic: 'no-such-topic'}]}), '--broker-list', '0,1'],
    [...bs, '--generate', '--topics-to-move-json-file', join(dir, 'bad.json'), '--broker-list', '0,1'],
    [...bs, '--verify'],
    [...bs, '--list', '--throttle', '4'],
    ['--list'],
  ]) await same(REASSIGN, 'kafka-reassign-partitions', args)

  // The same move on twin topics, one by each tool.
  for (const t of ['twin-a', 'twin-b']) await createTopic(t, '0:1,1:2')
  const a = await runApache(REASSIGN, [...bs, '--execute', '--reassignment-json-file', file('twin-a.json', plan('twin-a', [[2, 0], [0, 1]])), '--throttle', '1000000'])
  const k = await reassign('--execute', '--reassignment-json-file', file('twin-b.json', plan('twin-b', [[2, 0], [0, 1]])), '--throttle', '1000000', '--additional')
  assert.equal(a.code, 0, a.stdout + a.stderr)
  assert.equal(k.stdout, a.stdout.replaceAll('twin-a', 'twin-b'))
  for (const t of ['twin-a', 'twin-b']) await waitFor(() => state(t, 0)?.replicas.join() === '2,0' && state(t, 1)?.replicas.join() === '0,1' && !state(t, 0)?.addingReplicas, 30000, `${t} moved`)
  const va = await runApache(REASSIGN, [...bs, '--verify', '--reassignment-json-file', join(dir, 'twin-a.json')])
  const vk = await reassign('--verify', '--reassignment-json-file', join(dir, 'twin-b.json'))
  assert.equal(vk.stdout, va.stdout.replaceAll('twin-a', 'twin-b'))

  // Elections: twins whose leader is not the preferred replica.
  for (const t of ['pref-a', 'pref-b']) {
    await createTopic(t, '1:0')
    assert.equal((await reassign('--execute', '--reassignment-json-file', file(`${t}.json`, plan(t, [[0, 1]])), '--additional')).code, 0)
    await waitFor(() => state(t, 0)?.replicas.join() === '0,1' && state(t, 0)?.leader === 1, 10000, `${t} reordered`)
  }
  for (let round = 0; round < 2; round++) {
    const ea = await runApache(ELECT, [...bs, '--election-type', 'preferred', '--topic', 'pref-a', '--partition', '0'])
    const ek = await elect('--election-type', 'preferred', '--topic', 'pref-b', '--partition', '0')
    assert.equal(ek.code, ea.code)
    assert.equal(ek.stdout, ea.stdout.replaceAll('pref-a', 'pref-b'))
  }
  // Leaders back on their preferred replicas (the unclean test moved some): the elections below change nothing.
  assert.equal((await elect('--election-type', 'preferred', '--all-topic-partitions')).code, 0)
  for (const args of [
    [],
    [...bs],
    [...bs, '--election-type', 'foo', '--all-topic-partitions'],
    [...bs, '--election-type', 'preferred', '--topic', 'moving'],
    [...bs, '--election-type', 'preferred', '--partition', '1'],
    [...bs, '--election-type', 'preferred', '--topic', 'moving', '--all-topic-partitions'],
    [...bs, '--election-type', 'preferred', '--path-to-json-file', join(dir, 'edup.json')],
    [...bs, '--election-type', 'preferred', '--path-to-json-file', join(dir, 'word.json')],
    [...bs, '--election-type', 'preferred', '--path-to-json-file', file('enp.json', {x: 1})],
    [...bs, '--election-type', 'PREFERRED', '--path-to-json-file', file('e2.json', {partitions: [{topic: 'moving', partition: 0}, {topic: 'moving', partition: 1}, {topic: 'moving', partition: 2}]})],
    [...bs, '--election-type', 'preferred', '--topic', 'no-such-topic', '--partition', '0'],
    [...bs, '--election-type', 'unclean', '--topic', 'moving', '--partition', '0'],
    [...bs, '--election-type', 'preferred', '--all-topic-partitions'],
    [...bs, '--election-type', 'preferred', '--topic', 'moving', '--partition', 'x'],
  ]) await same(ELECT, 'kafka-leader-election', args)
})

test('differential on Apache Kafka\'s own broker (one broker, ZooKeeper mode): the same output from both tools', {skip: apacheSkip, timeout: 300000}, async () => {
  const apache = await startToolsCluster('apache')
  try {
    const bs = ['--bootstrap-server', apache.bootstrap]
    const t = await runCommand('kafka-topics', [...bs, '--create', '--topic', 'm', '--partitions', '2', '--replication-factor', '1'])
    assert.equal(t.code, 0, t.stdout + t.stderr)
    const samePlan = file('apache-same.json', plan('m', [[0]]))
    for (const args of [
      [...bs, '--list'],
      [...bs, '--verify', '--reassignment-json-file', samePlan],
      [...bs, '--execute', '--reassignment-json-file', samePlan, '--throttle', '1000'],
      [...bs, '--verify', '--reassignment-json-file', samePlan],
      [...bs, '--cancel', '--reassignment-json-file', samePlan],
      [...bs, '--execute', '--reassignment-json-file', file('apache-unkb.json', plan('m', [[7, 1]]))],
      [...bs, '--execute', '--reassignment-json-file', file('apache-unk.json', plan('no-such-topic', [[0]]))],
      [...bs, '--execute', '--reassignment-json-file', file('apache-nop.json', plan('m', [[0], [0], [0]]))],
      [...bs, '--generate', '--topics-to-move-json-file', file('apache-topics.json', {topics: [{topic: 'm'}], version: 1}), '--broker-list', '0'],
    ]) await same(REASSIGN, 'kafka-reassign-partitions', args)
    for (const args of [
      [...bs, '--election-type', 'preferred', '--all-topic-partitions'],
      [...bs, '--election-type', 'preferred', '--topic', 'm', '--partition', '0'],
      [...bs, '--election-type', 'unclean', '--topic', 'm', '--partition', '0'],
      [...bs, '--election-type', 'preferred', '--topic', 'no-such-topic', '--partition', '0'],
      [...bs, '--election-type', 'preferred', '--topic', 'm', '--partition', '7'],
    ]) await same(ELECT, 'kafka-leader-election', args)
  } finally {
    await apache.stop()
  }
})
