// Reconfig with an observer (issue 11), as Apache ZooKeeper 3.8 does it: 3 participants and
// an observer with reconfigEnabled; `reconfig -remove` of a follower reaches the observer
// (INFORMANDACTIVATE): its `config`, /zookeeper/config and 4lw conf show the new
// configuration; `reconfig -add server.4=...:participant` promotes the observer to a follower
// that votes; conf (membership, peerType) and the AdminServer's voting_view follow each
// reconfig. The transcript of 3 kafkit servers + a kafkit observer equals that of 3 Apache
// servers + an Apache observer once ports are masked.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {Ensemble, type Kind} from './ensemble-helpers.js'
import {freePort, waitFor} from '../helpers/util.js'
import {fourLetter} from './helpers.js'
import {shell, serverSpec, OPTS, recorded} from './reconfig-helpers.js'

/** Every member's ports named (qN, eN, cN), zxid counters masked (they depend on session counts). */
function maskAll(e: Ensemble, text: string): string {
  let out = text
  for (const m of e.members) {
    for (const [port, name] of [[m.quorumPort, `q${m.id}`], [m.electionPort, `e${m.id}`], [m.clientPort, `c${m.id}`]] as const) {
      out = out.replace(new RegExp(`\\b${port}\\b`, 'g'), name)
    }
  }
  return out.replace(/^(ctime|mtime) = .*$/gm, '$1 = ?')
    .replace(/(version=|mZxid = 0x)([0-9a-f]*)([0-9a-f]{8})\b/g, (all, a: string, b: string, c: string) => c === '00000000' ? all : `${a}${b}xxxxxxxx`)
}

/** 4lw conf without the directories and their sizes. */
async function conf(e: Ensemble, i: number): Promise<string> {
  const out = await fourLetter(e.members[i].clientPort, 'conf', 5000)
  return maskAll(e, out.split('\n').filter(l => !/^(dataDir|dataDirSize|dataLogDir|dataLogSize)=/.test(l)).join('\n'))
}

function adminGet(port: number, command: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: `/commands/${command}`}, res => {
      let body = ''
      res.on('data', d => { body += d })
      res.on('end', () => { try { resolve(JSON.parse(body)) } catch (err) { reject(err) } })
    })
    req.on('error', reject)
    req.end()
  })
}

async function observerWalk(kind: Kind, adminPorts: Map<number, number>): Promise<string[]> {
  const t: string[] = []
  const e = await Ensemble.create([kind, kind, kind, `${kind}:observer`], {
    ...OPTS,
    memberExtra: m => m.kind === 'kafkit' ? ['admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${adminPorts.get(m.id)}`] : [],
  })
  const step = async (what: string, i: number, input: string) => {
    t.push(`## ${what}\n${maskAll(e, await shell('kafkit', e.connectString([i]), input))}`)
  }
  const votingView = async (i: number) => Object.keys((await adminGet(adminPorts.get(i + 1)!, 'voting_view')).current_config as object).join(',')
  return recorded(e, t, async () => {
    // Server 3 (started first) leads.
    await e.startFirst(2)
    assert.equal(await e.waitForLeader(60000), 2)
    assert.equal(await e.mode(3), 'observer')
    await step('config on the observer', 3, 'config\n')
    t.push(`## conf on the observer\n${await conf(e, 3)}`)
    if (kind === 'kafkit') t.push(`## voting_view on the observer: ${await votingView(3)}`)
    await step('reconfig -remove 2', 2, 'reconfig -remove 2\n')
    // The observer learns it from INFORMANDACTIVATE.
    await waitFor(async () => !(await fourLetter(e.members[3].clientPort, 'conf', 5000)).includes(`server.2=`), 30000, 'the observer without server 2')
    await step('config on the observer after -remove', 3, 'config\n')
    await step('get -s /zookeeper/config on the observer', 3, 'get -s /zookeeper/config\n')
    t.push(`## conf on the observer after -remove\n${await conf(e, 3)}`)
    t.push(`## conf on the leader after -remove\n${await conf(e, 2)}`)
    if (kind === 'kafkit') t.push(`## voting_view on the leader after -remove: ${await votingView(2)}`)
    // The observer promoted: a voter (with servers 1 and 3).
    await step('reconfig -add server 4 as a participant', 2, `reconfig -add ${serverSpec(e.members[3])}\n`)
    await waitFor(async () => ['follower', 'leader'].includes(await e.mode(3)), 60000, 'server 4 voting')
    t.push(`## server 4's mode: ${await e.mode(3)}`)
    await step('config on server 4 after its promotion', 3, 'config\n')
    t.push(`## conf on server 4 after its promotion\n${await conf(e, 3)}`)
    if (kind === 'kafkit') t.push(`## voting_view on server 4 after its promotion: ${await votingView(3)}`)
    // Server 4 votes: with server 1 stopped, servers 3 and 4 are a quorum of {1, 3, 4}.
    await e.kill(0)
    await step('create through server 4 with server 1 down', 3, 'create /promoted x\n')
  })
}

test('an observer follows reconfigs (INFORMANDACTIVATE) and is promoted to a participant; conf and voting_view show the current configuration; as Apache', {timeout: 600000}, async () => {
  const adminPorts = new Map<number, number>()
  for (let id = 1; id <= 4; id++) adminPorts.set(id, await freePort())
  const kafkit = await observerWalk('kafkit', adminPorts)
  const text = kafkit.join('\n')
  console.log(text)
  assert.match(text, /## config on the observer\nserver\.1=.*\nserver\.2=.*\nserver\.3=.*\nserver\.4=127\.0\.0\.1:q4:e4:observer\nversion=100000000/)
  assert.match(text, /## config on the observer after -remove\nserver\.1=.*\nserver\.3=.*\nserver\.4=127\.0\.0\.1:q4:e4:observer\nversion=1xxxxxxxx/)
  assert.match(text, /## conf on the observer after -remove\n(?:.*\n)*serverId=4\ninitLimit=20\nsyncLimit=10\nelectionAlg=3\nelectionPort=e4\nquorumPort=q4\npeerType=1\nmembership: \nserver\.1=.*\nserver\.3=.*\nserver\.4=.*\nversion=1xxxxxxxx$/m)
  assert.match(text, /## voting_view on the observer: 1,2,3\n/)
  assert.match(text, /## voting_view on the leader after -remove: 1,3\n/)
  assert.match(text, /## server 4's mode: follower\n/)
  assert.match(text, /## conf on server 4 after its promotion\n(?:.*\n)*peerType=0\nmembership: \nserver\.1=.*\nserver\.3=.*\nserver\.4=127\.0\.0\.1:q4:e4:participant;127\.0\.0\.1:c4\nversion=1xxxxxxxx/)
  assert.match(text, /## voting_view on server 4 after its promotion: 1,3,4\n/)
  assert.match(text, /## create through server 4 with server 1 down\nCreated \/promoted/)
  const apache = await observerWalk('apache', adminPorts)
  const strip = (x: string[]) => x.filter(s => !s.startsWith('## voting_view')).join('\n')
  assert.equal(strip(kafkit), strip(apache))
})
