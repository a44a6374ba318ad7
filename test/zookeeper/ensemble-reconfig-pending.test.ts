// A reconfig whose commit a server missed (issue 11): Apache ZooKeeper 3.8 writes a proposed
// configuration to <static file>.dynamic.next when it logs the proposal and reads that file
// back at start-up as the last seen configuration, which the next leader activates. Here the
// whole ensemble is stopped in that state (every server logged `reconfig -add` of a 4th
// server, an observer, but none applied its commit: the static file points at the old dynamic
// file, .dynamic.next holds the new configuration) and started again: every server comes up
// on the new configuration, on 3 kafkit servers as on 3 Apache servers.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync, writeFileSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import {Ensemble, type Kind} from './ensemble-helpers.js'
import {waitFor} from '../helpers/util.js'
import {shell, mask, serverSpec, joiner, OPTS, recorded, maskCounters} from './reconfig-helpers.js'

function staticFile(e: Ensemble, i: number): string {
  const m = e.members[i]
  return join(m.dir, m.kind === 'apache' ? 'zoo.cfg' : 'zookeeper.properties')
}

/** The dynamic file a static file points at. */
function dynamicFileOf(file: string): string | undefined {
  return /^dynamicConfigFile=(.*)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim()
}

/** Zxid counters masked (they depend on how many sessions the shells opened): the epoch stays. */
async function pendingReconfig(kind: Kind): Promise<string[]> {
  const t: string[] = []
  const e = await Ensemble.create([kind, kind, kind], OPTS)
  return recorded(e, t, async () => {
    e.startAll()
    const leader = await e.waitForLeader(60000)
    const files = [0, 1, 2].map(i => staticFile(e, i))
    await waitFor(() => files.every(f => dynamicFileOf(f) !== undefined), 30000, 'every static file rewritten with its dynamic file')
    const before = files.map(f => readFileSync(f, 'utf8'))
    const m4 = await joiner(e, kind)
    const add = await shell('kafkit', e.connectString([leader]), `reconfig -add ${serverSpec(m4, true, 'observer')}\n`)
    t.push(`## reconfig -add\n${maskCounters(mask(e, [m4], add))}`)
    await waitFor(() => files.every((f, i) => readFileSync(f, 'utf8') !== before[i]), 30000, 'every server activating the new configuration')
    for (let i = 0; i < 3; i++) await e.kill(i)
    // Back to the moment between the PROPOSAL (logged, .dynamic.next written) and its COMMIT.
    for (let i = 0; i < 3; i++) {
      const dyn = dynamicFileOf(files[i])!
      const lines = readFileSync(dyn, 'utf8').split('\n').filter(l => l.trim() !== '')
      const version = /\.dynamic\.([0-9a-f]+)$/.exec(dyn)![1]
      writeFileSync(`${files[i]}.dynamic.next`, [...lines, `version=${version}`].sort().join('\n'))
      unlinkSync(dyn)
      writeFileSync(files[i], before[i])
    }
    for (let i = 0; i < 3; i++) e.restartAsIs(i)
    const newLeader = await e.waitForLeader(60000, [0, 1, 2])
    t.push(`## a leader after the restart: ${newLeader >= 0}`)
    for (let i = 0; i < 3; i++) {
      await waitFor(() => readFileSync(files[i], 'utf8') !== before[i], 30000, `server ${i + 1} activating the pending configuration`).catch(() => {})
      t.push(`## config on server ${i + 1} after the restart\n${maskCounters(mask(e, [m4], await shell('kafkit', e.connectString([i]), 'config\n')))}`)
    }
    t.push(`## get -s /zookeeper/config\n${maskCounters(mask(e, [m4], await shell('kafkit', e.connectString([newLeader]), 'get -s /zookeeper/config\n')))}`
      .replace(/^(cZxid|ctime|pZxid|mtime) = .*$/gm, '$1 = ?'))
    for (let i = 0; i < 3; i++) {
      const names = readdirSync(e.members[i].dir).map(n => maskCounters(n.replace(/zoo\.cfg|zookeeper\.properties/, '<cfg>'))).sort()
      t.push(`## files of server ${i + 1}\n${names.join(' ')}`)
      t.push(`## server ${i + 1}'s dynamic file\n${maskCounters(mask(e, [m4], readFileSync(dynamicFileOf(files[i])!, 'utf8')))}`)
    }
    // Writes go on.
    t.push(`## create\n${await shell('kafkit', e.connectString([newLeader]), 'create /after-pending x\n')}`)
  })
}

test('a reconfig logged but not committed before the whole ensemble stopped is activated at restart (.dynamic.next), as Apache does', {timeout: 600000}, async () => {
  const kafkit = await pendingReconfig('kafkit')
  const text = kafkit.join('\n')
  console.log(text)
  const added = /server\.4=127\.0\.0\.1:q4:e4:observer;127\.0\.0\.1:c4/
  for (let i = 1; i <= 3; i++) {
    const cfg = new RegExp(`## config on server ${i} after the restart\\n((?:server\\..*\\n)+version=\\w+)`).exec(text)
    assert.ok(cfg, `server ${i}'s config`)
    assert.match(cfg[1], added, `server ${i} runs the pending configuration`)
    assert.match(text, new RegExp(`## files of server ${i}\\n<cfg> <cfg>\\.bak <cfg>\\.dynamic\\.100000000 <cfg>\\.dynamic\\.1xxxxxxxx data`))
  }
  assert.match(text, /## get -s \/zookeeper\/config\nserver\.1=.*\n.*\n.*\nserver\.4=127\.0\.0\.1:q4:e4:observer;127\.0\.0\.1:c4\nversion=1xxxxxxxx\n/)
  assert.match(text, /## create\nCreated \/after-pending/)
  const apache = await pendingReconfig('apache')
  assert.equal(text, apache.join('\n'))
})
