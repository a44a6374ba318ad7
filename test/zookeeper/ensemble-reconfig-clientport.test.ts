// A reconfig that moves a running server's client port (issue 11), as Apache ZooKeeper 3.8's
// processReconfig does it (cnxnFactory.reconfigure): `reconfig -add server.2=...;127.0.0.1:<new
// port>` and server 2 serves on the new port at once, no longer on the old one; conf shows it.
// The same transcript on 3 kafkit servers as on 3 Apache servers.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble, type Kind} from './ensemble-helpers.js'
import {freePort, waitFor} from '../helpers/util.js'
import {fourLetter} from './helpers.js'
import {shell, mask, OPTS, recorded} from './reconfig-helpers.js'

async function movePort(kind: Kind, newPort: number): Promise<string[]> {
  const t: string[] = []
  const e = await Ensemble.create([kind, kind, kind], OPTS)
  const masked = (text: string) => mask(e, [], text).replace(new RegExp(`\\b${newPort}\\b`, 'g'), 'cNEW')
    .replace(/^version=([0-9a-f]*)[0-9a-f]{8}$/gm, 'version=$1xxxxxxxx')
  return recorded(e, t, async () => {
    await e.startFirst(2)
    assert.equal(await e.waitForLeader(60000), 2)
    const m2 = e.members[1]
    const out = await shell('kafkit', e.connectString([2]), `reconfig -add server.2=127.0.0.1:${m2.quorumPort}:${m2.electionPort}:participant;127.0.0.1:${newPort}\n`)
    t.push(`## reconfig -add server 2 with a new client port\n${masked(out)}`)
    const srvr = await waitFor(() => fourLetter(newPort, 'srvr', 2000).then(o => /Mode: (follower|leader)/.test(o) ? o : undefined, () => undefined), 30000, 'server 2 on its new client port')
    t.push(`## srvr on the new port: ${/Mode: (\w+)/.exec(srvr!)![1]}`)
    const old = await fourLetter(m2.clientPort, 'srvr', 2000).then(() => 'answers', () => 'refused')
    t.push(`## the old port: ${old}`)
    const conf = await fourLetter(newPort, 'conf', 5000)
    t.push(`## conf on the new port\n${masked(conf.split('\n').filter(l => /^(clientPort=|serverId|membership|server\.2)/.test(l)).join('\n'))}`)
    t.push(`## create through the new port\n${await shell('kafkit', `127.0.0.1:${newPort}`, 'create /moved x\n')}`)
    t.push(`## config through the new port\n${masked(await shell('kafkit', `127.0.0.1:${newPort}`, 'config\n'))}`)
  })
}

test('a reconfig moving a server\'s client port rebinds it at once, as Apache', {timeout: 400000}, async () => {
  const kafkit = await movePort('kafkit', await freePort())
  const text = kafkit.join('\n')
  console.log(text)
  assert.match(text, /## srvr on the new port: follower\n## the old port: refused\n/)
  assert.match(text, /## conf on the new port\nclientPort=cNEW\nserverId=2\nmembership: \nserver\.2=127\.0\.0\.1:q2:e2:participant;127\.0\.0\.1:cNEW/)
  assert.match(text, /## create through the new port\nCreated \/moved/)
  const apache = await movePort('apache', await freePort())
  assert.equal(text, apache.join('\n'))
})
