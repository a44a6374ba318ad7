// Kafka on a ZooKeeper ensemble: kafkit's 3-broker cluster on three kafkit ZooKeeper servers
// (zookeeper.connect listing all three), producing with acks=all (librdkafka, idempotent)
// while the ZooKeeper leader, then a ZooKeeper follower, then a broker are killed with SIGKILL
// and restarted: every acknowledged record is read back. Across the ZooKeeper kills each
// broker's session moves to another server instead of being re-created: its registration keeps
// its ephemeralOwner, the controller keeps its broker and /controller_epoch does not move.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble, KafkitBrokers, brokerZkState, busiestFollower, killAndRestartZk, produceAndVerify} from './ensemble-helpers.js'
import {waitFor} from '../helpers/util.js'

test('kafkit\'s 3 brokers on a 3-server kafkit ensemble: kill -9 of the ZooKeeper leader, a ZooKeeper follower and a broker under acks=all, nothing lost, sessions and controller kept', {timeout: 300000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'], {tickTime: 500, initLimit: 10, syncLimit: 5})
  const b = await KafkitBrokers.create(e, 3)
  try {
    e.startAll()
    await e.waitForLeader(30000)
    b.startAll()
    await b.waitRegistered()
    const run = produceAndVerify(b.bootstrap(), e.root, 3, 3)
    // Every fault lands under load: each step waits for more acknowledged records, not for time.
    const more = async (n: number, what: string) => run.waitForAcked(run.acked() + n, what)
    await run.waitForAcked(300, 'records acknowledged before the ZooKeeper leader is killed')
    const before = await brokerZkState(e)
    const brokerSessions = Object.values(JSON.parse(before).ids as Record<string, string>)
    const onLeader = (await killAndRestartZk(e, await e.waitForLeader())).filter(s => brokerSessions.includes(s))
    await more(300, 'records acknowledged after the ZooKeeper leader change')
    // Then the follower most brokers are connected to: their sessions must move. (A leader's
    // death drops every client of its followers too, so all sessions moved at least once by now;
    // where they reconnected, the new leader or a follower, is the clients' choice.)
    const onFollower = (await killAndRestartZk(e, await busiestFollower(e, brokerSessions))).filter(s => brokerSessions.includes(s))
    await more(300, 'records acknowledged after the ZooKeeper follower kill')
    const after = await brokerZkState(e)
    console.log(`brokers in ZooKeeper before the ZooKeeper kills ${before}, after ${after}; broker sessions on the killed leader ${onLeader.length}, on the killed follower ${onFollower.length}`)
    assert.equal(after, before, 'the brokers\' sessions (ephemeralOwner), the controller and its epoch survive the ZooKeeper kills')
    // Every broker lost its ZooKeeper connection (a leader's death drops its followers' clients too) and got its session back.
    assert.deepEqual(b.brokers.map(x => [x.disconnects > 0, x.newSessions]), [[true, 0], [true, 0], [true, 0]], b.brokers.map(x => `disconnects ${x.disconnects}, new sessions ${x.newSessions}`).join('; '))
    await b.kill(1)
    // Broker 2 stays down until the cluster has noticed: its session expired (zookeeper.session.timeout.ms=6000).
    await waitFor(async () => (await e.kazoo(e.connectString(), "c.sync('/'); print(sorted(c.get_children('/brokers/ids')))")) === "['1', '3']", 30000, 'broker 2 to leave /brokers/ids', 200)
    b.start(1)
    await b.waitRegistered(30000)
    await run.waitForAcked(Math.max(run.acked() + 300, 1500), 'records acknowledged after broker 2 is back')
    run.stop()
    const r = await run.done
    console.log(`kafkit brokers on a kafkit ensemble: ${r.sent} records sent, ${r.acked} acknowledged, ${r.lost} acknowledged records missing`)
    assert.ok(r.acked > 1000, JSON.stringify(r))
    assert.equal(r.lost, 0)
    assert.equal(await e.kazoo(e.connectString(), "c.sync('/'); print(sorted(c.get_children('/brokers/ids')))"), "['1', '2', '3']")
  } catch (err) {
    console.log(e.tail(1500), b.tail(1500))
    throw err
  } finally {
    await b.killAll()
    await e.destroy()
  }
})
