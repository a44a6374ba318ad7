// Observers (server.N=...:observer, peerType=observer): they follow the leader's committed
// txns (INFORM), serve reads, forward writes, and neither vote nor count for the quorum.
// A kafkit observer and an Apache ZooKeeper 3.8 observer on kafkit participants, and a
// kafkit observer on Apache participants.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble} from './ensemble-helpers.js'
import {fourLetter, waitFor} from './helpers.js'

test('a kafkit and an Apache observer on three kafkit participants: writes through observers, no vote', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit', 'kafkit:observer', 'apache:observer'])
  try {
    e.startAll()
    const leader = await e.waitForLeader(40000)
    assert.deepEqual((await e.modes()).slice(3), ['observer', 'observer'])
    for (const obs of [3, 4]) {
      assert.equal(await e.kazoo(e.connectString([obs]), `c.create('/via-${obs + 1}', b'${obs + 1}'); c.sync('/'); print(c.get('/via-${obs + 1}')[0].decode())`), String(obs + 1))
    }
    for (let i = 0; i < 5; i++) {
      assert.equal(await e.kazoo(e.connectString([i]), "c.sync('/'); print(sorted(c.get_children('/')))"), "['via-4', 'via-5', 'zookeeper']", `server ${i + 1}`)
    }
    const mntr = await fourLetter(e.members[leader].clientPort, 'mntr')
    assert.match(mntr, /^zk_synced_observers\t2$/m)
    assert.match(mntr, /^zk_synced_followers\t2$/m)
    assert.match(mntr, /^zk_learners\t4$/m)
    // Two participants gone: the observers alone make no quorum, and stop serving.
    const others = [0, 1, 2].filter(i => i !== leader)
    await e.kill(leader)
    await e.kill(others[0])
    await waitFor(async () => (await e.modes()).every((m, i) => !e.running(i) || m === ''), 20000, 'nobody to serve without a quorum of participants')
    e.start(leader)
    await e.waitForLeader(30000)
    assert.equal(await e.kazoo(e.connectString([3]), "c.sync('/'); print(sorted(c.get_children('/')))"), "['via-4', 'via-5', 'zookeeper']")
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
})

test('a kafkit observer on Apache ZooKeeper 3.8 participants', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['apache', 'apache', 'kafkit:observer'])
  try {
    e.startAll()
    await e.waitForLeader(40000)
    assert.equal(await e.mode(2), 'observer')
    assert.equal(await e.kazoo(e.connectString([2]), "c.create('/from-observer', b'o'); c.create('/e', b'', ephemeral=True); c.sync('/'); print(sorted(c.get_children('/')))"), "['e', 'from-observer', 'zookeeper']")
    assert.equal(await e.kazoo(e.connectString([0]), "c.sync('/'); print(sorted(c.get_children('/')))"), "['from-observer', 'zookeeper']")
    assert.match(await fourLetter(e.members[2].clientPort, 'srvr'), /\nMode: observer\n/)
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
})
