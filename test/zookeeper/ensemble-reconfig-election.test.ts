// The election and reconfig (issue 11), as Apache ZooKeeper 3.8's FastLeaderElection: a
// server takes a newer configuration from any election notification, even one from a server
// it does not count as a voter, and starts its election again on it. Servers 1-3; servers 4
// and 5 join; server 1 is stopped; `reconfig -members` makes {1, 4, 5} the ensemble; servers
// 2 and 3 stop. Server 1 comes back on its old configuration ({1, 2, 3}: none of them running)
// and servers 4 and 5 restart: their notifications carry the new configuration, server 1 takes
// it, and joins them. The same on Apache servers.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createConnection} from 'node:net'
import {Ensemble, type Kind} from './ensemble-helpers.js'
import {waitFor} from '../helpers/util.js'
import {shell, mask, serverSpec, joiner, OPTS, recorded, maskCounters} from './reconfig-helpers.js'

function listening(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createConnection({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

async function missedMembership(kind: Kind): Promise<string[]> {
  const t: string[] = []
  const e = await Ensemble.create([kind, kind, kind], OPTS)
  return recorded(e, t, async () => {
    await e.startFirst(2)
    assert.equal(await e.waitForLeader(60000), 2)
    for (let k = 0; k < 2; k++) e.members.push(await joiner(e, kind))
    e.start(3)
    e.start(4)
    await waitFor(async () => (await e.mode(3)) === 'follower' && (await e.mode(4)) === 'follower', 60000, 'servers 4 and 5 following')
    await e.kill(0)
    const members = [0, 3, 4].map(i => serverSpec(e.members[i])).join(',')
    const out = await shell('kafkit', e.connectString([2]), `reconfig -members ${members}\n`)
    t.push(`## reconfig -members 1,4,5 (server 1 down)\n${maskCounters(mask(e, [], out))}`)
    const leader = await e.waitForLeader(60000, [3, 4])
    t.push(`## a leader among servers 4 and 5: ${leader === 3 || leader === 4}`)
    for (const i of [1, 2, 3, 4]) await e.kill(i)
    // Server 1 on {1, 2, 3}; then 4 and 5, whose notifications reach it.
    e.restartAsIs(0)
    await waitFor(() => listening(e.members[0].electionPort), 30000, 'server 1\'s election port', 50)
    e.restartAsIs(3)
    e.restartAsIs(4)
    await waitFor(async () => ['follower', 'leader'].includes(await e.mode(0)), 60000, 'server 1 serving in the new ensemble')
    const modes = await Promise.all([0, 3, 4].map(i => e.mode(i)))
    t.push(`## servers 1, 4, 5: one leader: ${modes.filter(m => m === 'leader').length === 1}, the others follow: ${modes.filter(m => m === 'follower').length === 2}`)
    t.push(`## config on server 1\n${maskCounters(mask(e, [], await shell('kafkit', e.connectString([0]), 'config\n')))}`)
    t.push(`## create through server 1\n${await shell('kafkit', e.connectString([0]), 'create /rejoined x\n')}`)
  })
}

test('a server restarted on an old configuration takes the new one from the notifications of servers it did not count as voters, and joins them; as Apache', {timeout: 600000}, async () => {
  const kafkit = await missedMembership('kafkit')
  const text = kafkit.join('\n')
  console.log(text)
  assert.match(text, /## reconfig -members 1,4,5 \(server 1 down\)\nCommitted new configuration:\nserver\.1=.*\nserver\.4=.*\nserver\.5=.*\nversion=1xxxxxxxx/)
  assert.match(text, /one leader: true, the others follow: true/)
  assert.match(text, /## config on server 1\nserver\.1=127\.0\.0\.1:q1:e1:participant;127\.0\.0\.1:c1\nserver\.4=.*\nserver\.5=.*\nversion=1xxxxxxxx/)
  assert.match(text, /## create through server 1\nCreated \/rejoined/)
  const apache = await missedMembership('apache')
  assert.equal(text, apache.join('\n'))
})
