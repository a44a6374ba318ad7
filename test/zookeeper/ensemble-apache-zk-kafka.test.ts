// kafkit's broker on an Apache ZooKeeper 3.8 ensemble: three kafkit brokers with
// zookeeper.connect listing the three Apache servers, producing with acks=all (librdkafka,
// idempotent) while the Apache ZooKeeper leader and then a follower are killed with SIGKILL and
// restarted. Every acknowledged record is read back, and each broker's session moved to another
// server instead of being re-created: its registration keeps its ephemeralOwner, the controller
// keeps its broker and /controller_epoch does not move.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble, KafkitBrokers, brokerZkState, busiestFollower, killAndRestartZk, produceAndVerify} from './ensemble-helpers.js'

test('kafkit\'s 3 brokers on an Apache ZooKeeper 3.8 ensemble: kill -9 of the ZooKeeper leader and of a follower under acks=all, nothing lost, sessions and controller kept', {timeout: 300000}, async () => {
  const e = await Ensemble.create(['apache', 'apache', 'apache'], {tickTime: 500, initLimit: 10, syncLimit: 5})
  const b = await KafkitBrokers.create(e, 3)
  try {
    e.startAll()
    await e.waitForLeader(60000)
    b.startAll()
    await b.waitRegistered()
    const run = produceAndVerify(b.bootstrap(), e.root, 3, 3)
    await run.waitForAcked(300, 'records acknowledged before the ZooKeeper leader is killed')
    const before = await brokerZkState(e)
    // Every fault lands under load: each step waits for more acknowledged records, not for time.
    const brokerSessions = Object.values(JSON.parse(before).ids as Record<string, string>)
    const leader = await e.waitForLeader()
    const onLeader = (await killAndRestartZk(e, leader)).filter(s => brokerSessions.includes(s))
    await run.waitForAcked(run.acked() + 300, 'records acknowledged after the ZooKeeper leader change')
    // Then the follower most brokers are connected to: their sessions must move. (A leader's
    // death drops every client of its followers too, so all sessions moved at least once by now;
    // where they reconnected, the new leader or a follower, is the clients' choice.)
    const onFollower = (await killAndRestartZk(e, await busiestFollower(e, brokerSessions))).filter(s => brokerSessions.includes(s))
    await run.waitForAcked(Math.max(run.acked() + 300, 1500), 'records acknowledged after the ZooKeeper follower kill')
    run.stop()
    const r = await run.done
    const after = await brokerZkState(e)
    console.log(`kafkit brokers on an Apache ZooKeeper ensemble: ${r.sent} records sent, ${r.acked} acknowledged, ${r.lost} acknowledged records missing; brokers in ZooKeeper before ${before}, after ${after}; broker sessions on the killed leader ${onLeader.length}, on the killed follower ${onFollower.length}`)
    assert.ok(r.acked > 1000, JSON.stringify(r))
    assert.equal(r.lost, 0)
    assert.deepEqual(Object.keys(JSON.parse(after).ids), ['1', '2', '3'])
    assert.equal(after, before, 'the brokers\' sessions (ephemeralOwner), the controller and its epoch survive the ZooKeeper kills')
    // Every broker lost its ZooKeeper connection (a leader's death drops its followers' clients too) and got its session back.
    assert.deepEqual(b.brokers.map(x => [x.disconnects > 0, x.newSessions]), [[true, 0], [true, 0], [true, 0]], b.brokers.map(x => `disconnects ${x.disconnects}, new sessions ${x.newSessions}`).join('; '))
  } catch (err) {
    console.log(e.tail(1500), b.tail(2500))
    throw err
  } finally {
    await b.killAll()
    await e.destroy()
  }
})
