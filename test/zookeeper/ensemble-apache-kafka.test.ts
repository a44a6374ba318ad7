// Apache Kafka 3.9's broker (ZooKeeper mode) on a three-server kafkit ensemble: it keeps its
// registration and its controller role across a kill -9 of the ZooKeeper leader, and every
// record acknowledged with acks=all meanwhile is read back.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {homedir} from 'node:os'
import {Ensemble, produceAndVerify} from './ensemble-helpers.js'
import {freePort, waitFor} from '../helpers/util.js'

const APACHE_KAFKA = join(homedir(), '.cache', 'apache-kafka-3.9', 'bin', 'kafka-server-start')

test('Apache Kafka 3.9\'s broker on a kafkit ensemble keeps its registration and controller role across a ZooKeeper leader kill', {timeout: 300000, skip: existsSync(APACHE_KAFKA) ? false : `Apache Kafka 3.9 is not installed (${APACHE_KAFKA}): run ../shared/tools/apache-kafka`}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'], {tickTime: 500, initLimit: 10, syncLimit: 5})
  let broker: ChildProcess | null = null
  let out = ''
  try {
    e.startAll()
    await e.waitForLeader(30000)
    const port = await freePort()
    const props = join(e.root, 'server.properties')
    writeFileSync(props, [`broker.id=7`, `listeners=PLAINTEXT://127.0.0.1:${port}`, `log.dirs=${join(e.root, 'apache-kafka-logs')}`,
      `zookeeper.connect=${e.connectString()}/kafka`, 'zookeeper.session.timeout.ms=6000', 'offsets.topic.replication.factor=1', 'group.initial.rebalance.delay.ms=0'].join('\n') + '\n')
    broker = spawn(APACHE_KAFKA, [props], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, KAFKA_HEAP_OPTS: '-Xmx384m'}})
    broker.stdout!.on('data', d => { out = (out + d).slice(-50000) })
    broker.stderr!.on('data', d => { out = (out + d).slice(-50000) })
    await waitFor(() => out.includes('started (kafka.server.KafkaServer)'), 60000, 'Apache Kafka to start')
    const run = produceAndVerify(`127.0.0.1:${port}`, e.root, 1, 1)
    // The leader kill lands under load: wait for acknowledged records, not for time.
    await run.waitForAcked(300, 'records acknowledged before the ZooKeeper leader is killed')
    const leader = await e.waitForLeader()
    await e.kill(leader)
    await e.waitForLeader(20000)
    e.start(leader)
    await e.waitForLeader(20000) // the old leader serves again, as a follower
    await run.waitForAcked(Math.max(run.acked() + 300, 1500), 'records acknowledged after the ZooKeeper leader change')
    run.stop()
    const r = await run.done
    console.log(`Apache Kafka 3.9 on a kafkit ensemble: ${r.sent} records sent, ${r.acked} acknowledged, ${r.lost} acknowledged records missing`)
    assert.equal(r.lost, 0)
    assert.ok(r.acked > 1000, JSON.stringify(r))
    assert.equal(await e.kazoo(e.connectString(), "c.sync('/'); print(c.get_children('/kafka/brokers/ids'), json.loads(c.get('/kafka/controller')[0])['brokerid'])"), "['7'] 7")
    // Kafka's controller event thread logs one ERROR when a ZooKeeper write of its event fails
    // across the leader change (e.g. a write whose reply the killed leader never sent, retried
    // into BADVERSION: ControllerMovedException); it then resigns and is elected again, which the
    // checks above prove. Any other ERROR line fails the test.
    const errors = out.match(/ERROR .*/g) ?? []
    const controllerRetries = errors.filter(l => /^ERROR \[Controller id=7\] Error processing event \w+ \(kafka\.controller\.KafkaController\)$/.test(l))
    if (controllerRetries.length) console.log(`Apache Kafka's controller across the ZooKeeper leader kill: ${controllerRetries.join('; ')}`)
    assert.deepEqual(errors.filter(l => !controllerRetries.includes(l)), [])
  } catch (err) {
    console.log(e.tail(1500), out.slice(-3000))
    throw err
  } finally {
    if (broker && broker.exitCode === null) {
      const gone = new Promise(r => broker!.once('exit', r))
      broker.kill('SIGKILL')
      await gone
    }
    await e.destroy()
  }
})
