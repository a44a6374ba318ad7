// How a returning server is brought up to date: DIFF (it missed a few writes, which the
// leader's committed log still holds), SNAP (it missed more than the leader's
// committed log holds) while clients keep writing, and TRUNC (it logged a proposal that never
// reached a quorum: that write disappears everywhere, it was never acknowledged).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble} from './ensemble-helpers.js'
import {fourLetter, waitFor} from './helpers.js'
import {RawClient, OPEN_ACL} from './rawclient.js'
import {JuteWriter} from '../../src/core/zookeeper/jute.js'

test('a follower that missed a few writes gets them as a DIFF from the leader\'s committed log', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'])
  try {
    e.startAll()
    const leader = await e.waitForLeader(30000)
    const f = (leader + 1) % 3
    // The follower has a write of this epoch first (a server with nothing gets a snapshot, as Apache's).
    await e.kazoo(e.connectString([leader]), "c.create('/few'); print('ok')")
    assert.equal(await e.kazoo(e.connectString([f]), "c.sync('/few'); print(c.exists('/few') is not None)"), 'True')
    await e.kill(f)
    await e.kazoo(e.connectString([leader]), `
for i in range(5): c.create('/few/n%d' % i, b'v%d' % i)
print('ok')`)
    const seen = e.members[leader].output.length
    e.start(f)
    await waitFor(async () => (await e.mode(f)) === 'follower', 20000, 'the follower to sync')
    assert.match(e.members[leader].output.slice(seen), new RegExp(`Sending DIFF zxid=0x[0-9a-f]+ +for peer sid: ${f + 1}\\b`))
    assert.doesNotMatch(e.members[leader].output.slice(seen), /Sending snapshot/)
    assert.match(e.members[f].output, /Getting a diff from the leader 0x[0-9a-f]+/)
    assert.equal(await e.kazoo(e.connectString([f]), "print(sorted((n, c.get('/few/' + n)[0].decode()) for n in c.get_children('/few')))"),
      "[('n0', 'v0'), ('n1', 'v1'), ('n2', 'v2'), ('n3', 'v3'), ('n4', 'v4')]")
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
})

test('a follower that missed 800 writes gets a snapshot while writes go on, and ends up with every one', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'])
  try {
    e.startAll()
    const leader = await e.waitForLeader(30000)
    const f = (leader + 1) % 3
    await e.kill(f)
    await e.kazoo(e.connectString([leader]), `
c.ensure_path('/bulk')
for r in [c.create_async('/bulk/n%04d' % i, b'x' * 100) for i in range(800)]: r.get(timeout=30)
print('ok')`)
    // A writer keeps going while the follower comes back and is synced.
    const zxidOf = async (i: number) => parseInt(/Zxid: 0x([0-9a-f]+)/.exec(await fourLetter(e.members[i].clientPort, 'srvr'))?.[1] ?? '0', 16)
    const bulkDone = await zxidOf(leader)
    const writer = e.kazoo(e.connectString([leader]), `
import time
end = time.time() + 4
n = 0
while time.time() < end:
    c.create('/bulk/live%05d' % n, b'y')
    n += 1
print(n)`)
    // The follower returns once the writer's creates are being committed (the leader's zxid moves).
    await waitFor(async () => (await zxidOf(leader)) > bulkDone + 20, 20000, 'the live writer to be writing', 20)
    e.start(f)
    await waitFor(async () => (await e.mode(f)) === 'follower', 20000, 'the follower to sync')
    const written = Number(await writer)
    assert.match(e.members[f].output, /Getting a snapshot from leader 0x[0-9a-f]+/)
    const count = "c.sync('/bulk'); print(len(c.get_children('/bulk')))"
    assert.equal(await e.kazoo(e.connectString([f]), count), String(800 + written))
    assert.equal(await e.kazoo(e.connectString([leader]), count), String(800 + written))
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
})

test('a leader that logged a write no quorum saw is truncated when it comes back: the write is nowhere', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'])
  try {
    e.startAll()
    const leader = await e.waitForLeader(30000)
    await e.kazoo(e.connectString([leader]), "c.create('/kept', b'1'); print('ok')")
    const others = [0, 1, 2].filter(i => i !== leader)
    const c = await RawClient.open(e.members[leader].clientPort)
    await c.handshake(10000)
    const zxidOf = async () => parseInt(/Zxid: 0x([0-9a-f]+)/.exec(await fourLetter(e.members[leader].clientPort, 'srvr'))?.[1] ?? '0', 16)
    const before = await zxidOf()
    for (const i of others) await e.kill(i)
    // A write the leader logs and proposes, but nobody acknowledges.
    const w = new JuteWriter().int(7).int(1).ustring('/phantom').buffer(Buffer.from('never acked'))
    OPEN_ACL(w)
    c.send(w.int(0))
    await waitFor(async () => (await zxidOf()) > before, 5000, 'the leader to log the write')
    await e.kill(leader)
    c.close()
    // The other two elect a leader without it; then the old leader comes back.
    for (const i of others) e.start(i)
    const next = await e.waitForLeader(30000, others)
    e.start(leader)
    await waitFor(async () => (await e.mode(leader)) === 'follower', 20000, 'the old leader to follow')
    assert.match(e.members[leader].output, /Truncating log to get in sync with the leader 0x[0-9a-f]+/)
    for (const i of [leader, next]) {
      assert.equal(await e.kazoo(e.connectString([i]), "c.sync('/'); print(sorted(c.get_children('/')), c.exists('/phantom'))"), "['kept', 'zookeeper'] None", `server ${i + 1}`)
    }
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
})
