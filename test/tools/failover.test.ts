// The walkthrough's fail-over (issue 8, section 8) with kafkit's own tools typed as a user
// types them: kafkit's ZooKeeper and three kafkit brokers as processes with their own config
// files, a topic with replication factor 3, `kafka-console-producer --broker-list a,b,c` and
// `kafka-console-consumer --bootstrap-server a,b,c --from-beginning` running; lines typed
// after `kill -9` of the partition leader, of the controller and of the consumer group's
// coordinator arrive once each, in order. kafka-producer-perf-test across a leader kill
// writes every record exactly once. A bootstrap list whose first server is down works for
// every tool. zookeeper.session.timeout.ms=6000 bounds each fail-over.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {binDir, freePort, removeDir, repoRoot, runCommand, tempDir, testRunDir, waitFor} from '../helpers/util.js'
import {AdminClient} from '../../src/core/client/admin-client.js'
import {ClientConfig} from '../../src/core/client/config.js'
import {GroupAdmin, LATEST_TIMESTAMP} from '../../src/core/client/groups.js'
import {apacheKafkaHome} from './apache-kafka.js'

/** A child process with stdout and stderr kept apart. */
class Child {
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', d => { this.stdout += d.toString() })
    child.stderr?.on('data', d => { this.stderr += d.toString() })
    this.exited = new Promise(r => child.on('exit', code => r(code)))
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.child.exitCode
    this.child.kill(signal)
    const t = setTimeout(() => this.child.kill('SIGKILL'), 20000)
    const code = await this.exited
    clearTimeout(t)
    return code
  }
}

function run(script: string, args: string[], cwd = repoRoot): Child {
  return new Child(spawn(process.execPath, [join(binDir, `${script}.js`), ...args], {cwd, env: {...process.env, KAFKIT_RUN_DIR: testRunDir}, stdio: ['pipe', 'pipe', 'pipe']}))
}

let dir = ''
let zk: Child | undefined
const brokers: {id: number; port: number; config: string; proc: Child | undefined}[] = []
let ALL = ''

async function startBroker(b: typeof brokers[number]): Promise<void> {
  const p = run('kafka-server-start', [b.config], dir)
  b.proc = p
  await waitFor(() => {
    if (!p.running) throw new Error(`broker ${b.id} exited: ${p.stdout.slice(-2000)}${p.stderr.slice(-2000)}`)
    return p.stdout.includes('started (kafka.server.KafkaServer)')
  }, 30000, `broker ${b.id} to start`)
}

/** kill -9 of a broker, and the time it happened. */
async function kill(id: number): Promise<void> {
  const b = brokers.find(x => x.id === id)!
  await b.proc!.stop('SIGKILL')
  b.proc = undefined
}

before(async () => {
  dir = tempDir('kafkit-failover-')
  const zkPort = await freePort()
  mkdirSync(join(dir, 'zk'))
  const zkCfg = join(dir, 'zookeeper.properties')
  writeFileSync(zkCfg, `dataDir=${join(dir, 'zk').replace(/\\/g, '/')}\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\ntickTime=500\nmaxClientCnxns=0\nadmin.enableServer=false\n`)
  zk = run('zookeeper-server-start', [zkCfg], dir)
  await waitFor(() => {
    if (!zk!.running) throw new Error(`ZooKeeper exited: ${zk!.stdout}${zk!.stderr}`)
    return /binding to port|started/i.test(zk!.stdout)
  }, 20000, 'ZooKeeper to start')
  for (let id = 1; id <= 3; id++) {
    const port = await freePort()
    const config = join(dir, `server-${id}.properties`)
    writeFileSync(config, [
      `broker.id=${id}`,
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      `log.dirs=${join(dir, `kafka-logs-${id}`).replace(/\\/g, '/')}`,
      `zookeeper.connect=127.0.0.1:${zkPort}`,
      'zookeeper.session.timeout.ms=6000',
      'offsets.topic.replication.factor=3',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=3',
      'group.initial.rebalance.delay.ms=0',
      'num.partitions=1',
      '',
    ].join('\n'))
    brokers.push({id, port, config, proc: undefined})
  }
  await Promise.all(brokers.map(b => startBroker(b)))
  ALL = brokers.map(b => `127.0.0.1:${b.port}`).join(',')
})

after(async () => {
  for (const b of brokers) await b.proc?.stop('SIGKILL')
  await zk?.stop('SIGKILL')
  if (dir) removeDir(dir)
})

const topics = (...args: string[]) => runCommand('kafka-topics', ['--bootstrap-server', ALL, ...args])

/** The leader of a partition, from kafka-topics --describe (retried while there is none). */
async function leaderOf(topic: string, partition = 0): Promise<number> {
  return waitFor<number>(async () => {
    const d = await topics('--describe', '--topic', topic)
    const m = new RegExp(`Partition: ${partition}\\tLeader: (\\d+)\\tReplicas: [\\d,]+\\tIsr: ([\\d,]+)`).exec(d.stdout)
    return m ? Number(m[1]) : 0
  }, 30000, `a leader for ${topic}-${partition}`)
}

async function controllerId(): Promise<number> {
  const admin = new AdminClient(ALL, new ClientConfig({'default.api.timeout.ms': 10000}))
  try {
    return await waitFor<number>(async () => {
      const md = await admin.metadata([])
      return md.controllerId >= 0 && brokers.find(b => b.id === md.controllerId)?.proc ? md.controllerId : 0
    }, 30000, 'a controller')
  } finally {
    admin.close()
  }
}

/** Restarts a killed broker and waits until it is back in the ISR of topic's partitions. */
async function restart(id: number, topic: string): Promise<void> {
  await startBroker(brokers.find(b => b.id === id)!)
  await waitFor(async () => {
    const d = await topics('--describe', '--topic', topic)
    const isrs = [...d.stdout.matchAll(/Isr: ([\d,]+)/g)].map(m => m[1].split(',').map(Number))
    return isrs.length > 0 && isrs.every(isr => isr.includes(id))
  }, 40000, `broker ${id} back in the ISR of ${topic}`)
}

/** Starts the brokers a failed test left down and waits until the cluster has all three. */
async function allUp(): Promise<void> {
  for (const b of brokers) if (!b.proc?.running) await startBroker(b)
  const admin = new AdminClient(ALL, new ClientConfig({'default.api.timeout.ms': 10000}))
  try {
    await waitFor(async () => (await admin.metadata([])).brokers.length === 3, 30000, 'three live brokers')
  } finally {
    admin.close()
  }
}

const printed = (c: Child) => c.stdout.split('\n').filter(Boolean)

test('fail-over: lines typed after kill -9 of the leader, the controller and the group coordinator arrive once each, in order', {timeout: 240000}, async () => {
  await allUp()
  const T = 'dev-replicated-topic'
  const created = await topics('--create', '--replication-factor', '3', '--partitions', '1', '--topic', T)
  assert.equal(created.code, 0, created.stdout + created.stderr)
  await leaderOf(T)
  const producer = run('kafka-console-producer', ['--broker-list', ALL, '--topic', T])
  const consumer = run('kafka-console-consumer', ['--bootstrap-server', ALL, '--from-beginning', '--topic', T])
  const type = (line: string) => producer.child.stdin!.write(line + '\n')
  const expectLines = async (c: Child, lines: string[], what: string) => {
    await waitFor(() => {
      if (!c.running) throw new Error(`${what} exited: ${c.stderr}`)
      return printed(c).length >= lines.length
    }, 60000, `${what} to print ${lines.join(', ')} (stdout ${JSON.stringify(c.stdout)}, stderr ${c.stderr.slice(-3000)})`)
    assert.deepEqual(printed(c), lines, `${what}: once each, in order (stderr ${c.stderr.slice(-3000)})`)
  }
  try {
    type('first line')
    type('second line')
    await expectLines(consumer, ['first line', 'second line'], 'the consumer')

    // kill -9 of the partition leader.
    const leader = await leaderOf(T)
    await kill(leader)
    const t0 = Date.now()
    type('third line')
    type('fourth line')
    const lines = ['first line', 'second line', 'third line', 'fourth line']
    await expectLines(consumer, lines, 'the consumer after the leader was killed')
    const leaderFailover = Date.now() - t0
    // Both tools said what happened, as Kafka's do, and carried on.
    assert.match(producer.stderr, new RegExp(`WARN \\[Producer clientId=console-producer\\] Connection to node ${leader} \\(/127\\.0\\.0\\.1:\\d+\\) could not be established\\. Node may not be available\\. \\(org\\.apache\\.kafka\\.clients\\.NetworkClient\\)`))
    assert.ok(producer.running && consumer.running)
    await restart(leader, T)

    // kill -9 of the controller.
    const controller = await controllerId()
    await kill(controller)
    const t1 = Date.now()
    // An admin call made right away goes to the dead controller, then (after its retries,
    // within default.api.timeout.ms) to the new one.
    const create = topics('--create', '--topic', 'created-during-failover', '--partitions', '1', '--replication-factor', '2')
    type('fifth line')
    type('sixth line')
    lines.push('fifth line', 'sixth line')
    await expectLines(consumer, lines, 'the consumer after the controller was killed')
    const controllerFailover = Date.now() - t1
    const c = await create
    assert.equal(c.code, 0, c.stdout + c.stderr)
    assert.equal(c.stdout, 'Created topic created-during-failover.\n')
    await restart(controller, T)

    // A consumer in a group; kill -9 of the broker its group coordinator lives on.
    const grouped = run('kafka-console-consumer', ['--bootstrap-server', ALL, '--from-beginning', '--topic', T, '--group', 'failover-group'])
    try {
      await expectLines(grouped, lines, 'the group\'s consumer')
      const coordinator = await waitFor<number>(async () => {
        const s = await runCommand('kafka-consumer-groups', ['--bootstrap-server', ALL, '--describe', '--group', 'failover-group', '--state'])
        const m = /^failover-group +\S+ +\((\d+)\) +range +Stable +1$/m.exec(s.stdout)
        return m ? Number(m[1]) : 0
      }, 30000, 'failover-group Stable with its coordinator')
      await kill(coordinator)
      const t2 = Date.now()
      type('seventh line')
      type('eighth line')
      lines.push('seventh line', 'eighth line')
      await expectLines(grouped, lines, 'the group\'s consumer after its coordinator was killed')
      await expectLines(consumer, lines, 'the consumer after the coordinator was killed')
      const coordinatorFailover = Date.now() - t2
      console.log(`fail-over times: leader ${leaderFailover} ms, controller ${controllerFailover} ms, coordinator ${coordinatorFailover} ms`)
      // Ctrl-C: the group's consumer commits where it is on the way out.
      assert.equal(await grouped.stop('SIGTERM'), 0, grouped.stderr)
      assert.match(grouped.stderr, /Processed a total of 8 messages\n$/)
      await restart(coordinator, T)
      const d = await waitFor<{code: number | null} | undefined>(async () => {
        const r = await runCommand('kafka-consumer-groups', ['--bootstrap-server', ALL, '--describe', '--group', 'failover-group'])
        return /^failover-group +dev-replicated-topic +0 +8 +8 +0 /m.test(r.stdout) ? r : undefined
      }, 30000, 'failover-group to show offset 8, lag 0')
      assert.equal(d?.code, 0)
    } finally {
      await grouped.stop('SIGKILL')
    }
    // End of input: the producer exits 0 (every record acknowledged); Ctrl-C ends the consumer.
    producer.child.stdin!.end()
    assert.equal(await producer.exited, 0, producer.stderr)
    assert.equal(await consumer.stop('SIGTERM'), 0, consumer.stderr)
    assert.match(consumer.stderr, /Processed a total of 8 messages\n$/)
    assert.doesNotMatch(producer.stderr + consumer.stderr, /ERROR|\n\s+at /)
  } finally {
    await producer.stop('SIGKILL')
    await consumer.stop('SIGKILL')
  }
})

test('kafka-producer-perf-test across a leader kill: every record written once', {timeout: 120000}, async () => {
  await allUp()
  const T = 'perf-failover'
  const created = await topics('--create', '--replication-factor', '3', '--partitions', '3', '--topic', T)
  assert.equal(created.code, 0, created.stdout + created.stderr)
  const leader = await leaderOf(T, 0)
  const n = 30000
  const perf = run('kafka-producer-perf-test', ['--topic', T, '--num-records', String(n), '--record-size', '100', '--throughput', '3000', '--producer-props', `bootstrap.servers=${ALL}`])
  try {
    // Kill the leader of partition 0 once a few thousand records are in.
    const watcher = new GroupAdmin(ALL, {timeoutMs: 30000})
    const written = async () => [...(await watcher.listOffsets([0, 1, 2].map(partition => ({topic: T, partition})), LATEST_TIMESTAMP)).values()].reduce((a, b) => a + b, 0)
    try {
      await waitFor(async () => {
        if (!perf.running) throw new Error(`kafka-producer-perf-test exited: ${perf.stdout}${perf.stderr}`)
        return await written() >= 5000
      }, 30000, '5000 records to be written', 100)
    } finally {
      watcher.close()
    }
    await kill(leader)
    const code = await perf.exited
    assert.equal(code, 0, perf.stdout + perf.stderr)
    const total = /^(\d+) records sent, .* ms 99\.9th\.$/m.exec(perf.stdout)
    assert.equal(total?.[1], String(n), perf.stdout)
    // No record failed (nothing ran out of delivery.timeout.ms), none was written twice.
    assert.doesNotMatch(perf.stderr, /^org\.apache\.kafka\.common\.errors\./m)
    // What the kill cost: Kafka's WARN lines (retries, the lost node), nothing else.
    for (const line of perf.stderr.split('\n').filter(Boolean)) assert.match(line, /^\[[^\]]+\] WARN \[Producer clientId=perf-producer-client\] .* \(org\.apache\.kafka\.clients\.(NetworkClient|producer\.internals\.Sender)\)$/)
    const admin = new GroupAdmin(ALL, {timeoutMs: 30000})
    try {
      const ends = await admin.listOffsets([0, 1, 2].map(partition => ({topic: T, partition})), LATEST_TIMESTAMP)
      assert.equal([...ends.values()].reduce((a, b) => a + b, 0), n, `log end offsets ${[...ends.values()].join(', ')}`)
    } finally {
      admin.close()
    }
  } finally {
    await perf.stop('SIGKILL')
    await restart(leader, T)
  }
})

test('a bootstrap list whose first server is down works for every tool', {timeout: 120000}, async () => {
  await allUp()
  const down = `127.0.0.1:${await freePort()}`
  const list = `${down},${ALL}`
  const T = 'first-down'
  const c = await runCommand('kafka-topics', ['--bootstrap-server', list, '--create', '--topic', T, '--partitions', '2', '--replication-factor', '3'])
  assert.equal(c.code, 0, c.stdout + c.stderr)
  assert.match((await runCommand('kafka-topics', ['--bootstrap-server', list, '--list'])).stdout, /^first-down$/m)
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', list, '--topic', T], {input: 'a\nb\nc\n'})
  assert.equal(p.code, 0, p.stderr)
  const r = await runCommand('kafka-console-consumer', ['--bootstrap-server', list, '--topic', T, '--from-beginning', '--max-messages', '3', '--group', 'first-down-g'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['a', 'b', 'c'])
  const g = await runCommand('kafka-consumer-groups', ['--bootstrap-server', list, '--describe', '--group', 'first-down-g'])
  assert.equal(g.code, 0, g.stdout + g.stderr)
  assert.match(g.stdout, /first-down-g +first-down +\d +\d +\d +0 /)
  const pp = await runCommand('kafka-producer-perf-test', ['--topic', T, '--num-records', '1000', '--record-size', '10', '--throughput', '-1', '--producer-props', `bootstrap.servers=${list}`])
  assert.equal(pp.code, 0, pp.stdout + pp.stderr)
  assert.match(pp.stdout, /^1000 records sent, /m)
  const cp = await runCommand('kafka-consumer-perf-test', ['--bootstrap-server', list, '--topic', T, '--messages', '1003', '--hide-header'])
  assert.equal(cp.code, 0, cp.stdout + cp.stderr)
  assert.match(cp.stdout, /, 1003, /)
  // What a dead bootstrap server costs: a WARN line as Kafka's tools print it, nothing else.
  for (const out of [p.stderr, pp.stderr]) {
    for (const line of out.split('\n').filter(Boolean)) assert.match(line, /^\[[^\]]+\] WARN \[Producer clientId=[\w-]+\] (Connection to node -1 \(\/127\.0\.0\.1:\d+\) could not be established\. Node may not be available\.|Bootstrap broker 127\.0\.0\.1:\d+ \(id: -1 rack: null\) disconnected) \(org\.apache\.kafka\.clients\.NetworkClient\)$/)
  }
})

test('a record that cannot be delivered: reported once as Kafka\'s tool reports it (compared with Apache Kafka 3.9\'s)', {timeout: 120000}, async () => {
  await allUp()
  const T = 'expiring'
  const created = await topics('--create', '--topic', T, '--replica-assignment', '3')
  assert.equal(created.code, 0, created.stdout + created.stderr)
  await leaderOf(T)
  const args = ['--bootstrap-server', ALL, '--topic', T, '--producer-property', 'delivery.timeout.ms=3000']
  const ours = run('kafka-console-producer', args)
  const home = apacheKafkaHome()
  const java = home
    ? new Child(spawn(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home, 'config', 'tools-log4j.properties')}`, '-cp', join(home, 'libs', '*'), 'kafka.tools.ConsoleProducer', ...args], {stdio: ['pipe', 'pipe', 'pipe']}))
    : undefined
  const producers = java ? [ours, java] : [ours]
  const admin = new GroupAdmin(ALL, {timeoutMs: 20000})
  try {
    for (const p of producers) p.child.stdin!.write('one\n')
    await waitFor(async () => (await admin.listOffsets([{topic: T, partition: 0}], LATEST_TIMESTAMP)).get(`${T}\0${0}`) === producers.length, 60000, 'the first lines to be acknowledged')
    await kill(3)
    for (const p of producers) p.child.stdin!.write('two\n')
    await waitFor(() => producers.every(p => /Expiring 1 record\(s\) for expiring-0:\d+ ms has passed since batch creation/.test(p.stderr)), 30000, `the second lines to expire (${ours.stderr}${java?.stderr ?? ''})`)
    for (const p of producers) p.child.stdin!.end()
    assert.equal(await ours.exited, 1, 'kafkit exits 1: a record failed')
    if (java) assert.equal(await java.exited, 0, java.stderr)
    // The same lines (timestamps, port and milliseconds aside; Java adds a stack trace).
    const shape = (text: string) => [...new Set(text.split('\n').filter(l => l && !/^\s+at |^\s+\.\.\. \d+ more/.test(l))
      .map(l => l.replace(/^\[[^\]]+\]/, '[ts]').replace(/127\.0\.0\.1:\d+/g, 'host:port').replace(/expiring-0:\d+ ms/, 'expiring-0:N ms')))].sort()
    const expected = [
      '[ts] ERROR Error when sending message to topic expiring with key: null, value: 3 bytes with error: (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)',
      '[ts] WARN [Producer clientId=console-producer] Connection to node 3 (/host:port) could not be established. Node may not be available. (org.apache.kafka.clients.NetworkClient)',
      'org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for expiring-0:N ms has passed since batch creation',
    ]
    assert.deepEqual(shape(ours.stderr), expected, ours.stderr)
    assert.equal(ours.stderr.split('\n').filter(l => l.startsWith('org.apache.kafka.common.errors.TimeoutException')).length, 1, 'reported once')
    if (java) assert.deepEqual(shape(java.stderr), expected, java.stderr)
  } finally {
    admin.close()
    for (const p of producers) await p.stop('SIGKILL')
    await restart(3, T)
  }
})
