// Kafka on a ZooKeeper ensemble: kafkit's 3-broker cluster on three kafkit ZooKeeper servers
// (zookeeper.connect listing all three), producing with acks=all (librdkafka, idempotent)
// while the ZooKeeper leader and then a broker are killed with SIGKILL and restarted: every
// acknowledged record is read back.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {Ensemble, produceAndVerify} from './ensemble-helpers.js'
import {binDir, repoRoot, freePort, waitFor} from '../helpers/util.js'

test('kafkit\'s 3 brokers on a 3-server kafkit ensemble: kill -9 of the ZooKeeper leader and of a broker under acks=all, nothing lost', {timeout: 300000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'], {tickTime: 500, initLimit: 10, syncLimit: 5})
  const brokers: Array<{port: number; child: ChildProcess | null; out: string}> = []
  const start = (i: number) => {
    const b = brokers[i]
    b.out = ''
    b.child = spawn(process.execPath, [join(binDir, 'kafka-server-start.js'), join(repoRoot, 'config', 'server.properties'),
      '--override', `broker.id=${i + 1}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${b.port}`, '--override', `log.dirs=${join(e.root, `kafka-${i + 1}`)}`,
      '--override', `zookeeper.connect=${e.connectString()}`, '--override', 'offsets.topic.replication.factor=3', '--override', 'zookeeper.session.timeout.ms=6000'],
    {env: {...process.env, KAFKIT_RUN_DIR: e.runDir}, stdio: ['ignore', 'pipe', 'pipe']})
    b.child.stdout!.on('data', d => { b.out = (b.out + d).slice(-20000) })
    b.child.stderr!.on('data', d => { b.out = (b.out + d).slice(-20000) })
  }
  const kill = async (i: number) => {
    const c = brokers[i].child!
    const gone = new Promise(r => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
  }
  try {
    e.startAll()
    await e.waitForLeader(30000)
    for (let i = 0; i < 3; i++) brokers.push({port: await freePort(), child: null, out: ''})
    for (let i = 0; i < 3; i++) start(i)
    await waitFor(async () => (await e.kazoo(e.connectString(), "c.sync('/'); print(len(c.get_children('/brokers/ids')) if c.exists('/brokers/ids') else 0)")) === '3', 30000, 'three brokers registered')
    const run = produceAndVerify(brokers.map(b => `127.0.0.1:${b.port}`).join(','), e.root, 3, 3)
    // Every fault lands under load: each step waits for more acknowledged records, not for time.
    const more = async (n: number, what: string) => run.waitForAcked(run.acked() + n, what)
    await run.waitForAcked(300, 'records acknowledged before the ZooKeeper leader is killed')
    const leader = await e.waitForLeader()
    await e.kill(leader)
    await e.waitForLeader(20000)
    e.start(leader)
    await e.waitForLeader(20000) // the old leader serves again, as a follower
    await more(300, 'records acknowledged after the ZooKeeper leader change')
    await kill(1)
    // Broker 2 stays down until the cluster has noticed: its session expired (zookeeper.session.timeout.ms=6000).
    await waitFor(async () => (await e.kazoo(e.connectString(), "c.sync('/'); print(sorted(c.get_children('/brokers/ids')))")) === "['1', '3']", 30000, 'broker 2 to leave /brokers/ids')
    start(1)
    await waitFor(async () => (await e.kazoo(e.connectString(), "c.sync('/'); print(len(c.get_children('/brokers/ids')))")) === '3', 30000, 'broker 2 registered again')
    await run.waitForAcked(Math.max(run.acked() + 300, 1500), 'records acknowledged after broker 2 is back')
    run.stop()
    const r = await run.done
    console.log(`kafkit brokers on a kafkit ensemble: ${r.sent} records sent, ${r.acked} acknowledged, ${r.lost} acknowledged records missing`)
    assert.ok(r.acked > 1000, JSON.stringify(r))
    assert.equal(r.lost, 0)
    assert.equal(await e.kazoo(e.connectString(), "c.sync('/'); print(sorted(c.get_children('/brokers/ids')))"), "['1', '2', '3']")
  } catch (err) {
    console.log(e.tail(1500), brokers.map(b => b.out.slice(-1500)).join('\n---\n'))
    throw err
  } finally {
    for (let i = 0; i < brokers.length; i++) if (brokers[i].child && brokers[i].child!.exitCode === null) await kill(i)
    await e.destroy()
  }
})

