// Dynamic reconfiguration (issue 11) as Apache ZooKeeper 3.8 does it: a 3-server ensemble with
// reconfigEnabled=true removes a follower, adds it back (now with its client address), takes a
// 4th server in, removes the leader (leadership handed to a designated follower without an
// election), and is set with -members; every server's `config` and /zookeeper/config (data,
// dataVersion -1, mZxid the version) agree; the static file is rewritten with
// dynamicConfigFile=<file>.dynamic.<version> and a .bak. The same steps on 3 Apache ZooKeeper
// 3.8 servers through Kafka 3.9's zookeeper-shell (ZooKeeperMain) give the same transcripts
// once ports are masked. Refusals: reconfigEnabled=false, no super user, a wrong -v.
// A mixed ensemble applies reconfigs issued on either kind.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {Ensemble} from './ensemble-helpers.js'
import {waitFor} from '../helpers/util.js'
import {shell, mask, serverSpec, joiner, OPTS, type Shell} from './reconfig-helpers.js'

/**
 * The reconfig walk through one ensemble (leader and followers as elected): returns the
 * transcript of every step's shell output with ports masked.
 */
async function walk(e: Ensemble, which: Shell, kind: 'kafkit' | 'apache'): Promise<string[]> {
  const t: string[] = []
  const leader = await e.waitForLeader(60000)
  const f = [0, 1, 2].find(i => i !== leader)!
  // Reconfig commands and server 1's config through the shell under test; the other servers'
  // config through kafkit's (fewer JVM starts on a loaded machine).
  const step = async (what: string, i: number, input: string, via: Shell = which) => {
    // Zxids (and so configuration versions) within an epoch depend on how many sessions the
    // shells opened and closed (Apache's leaves its session to expire after an error):
    // the epoch is compared, the counter masked.
    const out = mask(e, [], await shell(via, e.connectString([i]), input))
      .replace(/^(version=|mZxid = 0x)([0-9a-f]*)[0-9a-f]{8}$/gm, '$1$2xxxxxxxx')
    t.push(`## ${what}\n${out}`)
  }
  for (let i = 0; i < 3; i++) await step(`config on server ${i + 1}`, i, 'config\n', i === 0 ? which : 'kafkit')
  const m0 = e.members[0]
  const staticFile = readFileSync(join(m0.dir, kind === 'apache' ? 'zoo.cfg' : 'zookeeper.properties'), 'utf8')
  t.push(`## static file\n${mask(e, [], staticFile.split('\n').filter(l => l !== '').map(l => l.replace(/=.*[/\\]/, '=<dir>/').replace(/zoo\.cfg|zookeeper\.properties/, '<cfg>')).sort().filter(l => !/^(dataDir|clientPort|clientPortAddress)=/.test(l)).join('\n'))}`)
  t.push(`## files\n${readdirSync(m0.dir).map(n => n.replace(/zoo\.cfg|zookeeper\.properties/, '<cfg>')).sort().join(' ')}`)
  await step('get -s /zookeeper/config', leader, 'get -s /zookeeper/config\n')
  await step('reconfig -remove a follower', leader, `reconfig -remove ${e.members[f].id}\n`)
  for (let i = 0; i < 3; i++) await step(`config on server ${i + 1} after -remove`, i, 'config\n', i === 0 ? which : 'kafkit')
  await step('reconfig -add it back', f, `reconfig -s -add ${serverSpec(e.members[f])}\n`)
  await waitFor(async () => (await e.modes()).filter(x => x === 'follower').length === 2, 30000, 'the follower back')
  for (let i = 0; i < 3; i++) await step(`config on server ${i + 1} after -add`, i, 'config\n', i === 0 ? which : 'kafkit')
  // A 4th server: started with the ensemble's servers and itself, then added.
  const m4 = await joiner(e, kind)
  e.members.push(m4)
  e.start(3)
  await waitFor(async () => await e.mode(3) === 'follower', 60000, 'the joiner following')
  await step('reconfig -add server 4', leader, `reconfig -add ${serverSpec(m4)}\n`)
  for (let i = 0; i < 4; i++) await step(`config on server ${i + 1} with 4 servers`, i, 'config\n', i === 0 ? which : 'kafkit')
  // The leader removed: a designated follower leads.
  // Through a follower, which leaves its role as the reconfig commits: Apache's client gets
  // the reply or, at times, the connection lost (its follower's shutdown races the reply).
  const before = t.length
  await step('reconfig -remove the leader', f, `reconfig -remove ${e.members[leader].id}\n`)
  t[before] = t[before].replace(/\nCommitted new configuration:\n(server\..*\n)+version=\w+$|\nKeeperErrorCode = ConnectionLoss$/, '\n<committed, or the connection lost>')
  const others = [0, 1, 2, 3].filter(i => i !== leader)
  const newLeader = await e.waitForLeader(60000, others)
  t.push(`## new leader is a voter of the new configuration: ${others.includes(newLeader)}`)
  await step('write after the leader left', newLeader, 'create /after-leader-removal x\n')
  await step('read after the leader left', newLeader, 'get /after-leader-removal\n')
  for (const i of others) await step(`config on server ${i + 1} without the old leader`, i, 'config\n', i === 0 ? which : 'kafkit')
  // Non-incremental: the three first servers again.
  const members = [0, 1, 2].map(i => serverSpec(e.members[i]).replace(/^server\.(\d+)=/, 'server.$1=')).join(',')
  await step('reconfig -members', newLeader, `reconfig -members ${members}\n`)
  await waitFor(async () => (await e.mode(leader)) === 'follower' || (await e.mode(leader)) === 'leader', 30000, 'the old leader voting again')
  for (let i = 0; i < 4; i++) await step(`config on server ${i + 1} after -members`, i, 'config\n', i === 0 ? which : 'kafkit')
  await step('get -s /zookeeper/config at the end', 0, 'get -s /zookeeper/config\n')
  // A wrong -v (last: Apache's shell leaves its session to expire after an error, whose
  // closeSession would shift the zxids of the steps after it).
  await step('reconfig -v 1 (wrong version)', 0, 'reconfig -v 1 -remove 1\n')
  // A restart reads the rewritten static file and its dynamic file.
  const r = [0, 1, 2].find(i => i !== leader)!
  await e.kill(r)
  e.restartAsIs(r)
  await waitFor(async () => ['follower', 'leader'].includes(await e.mode(r)), 60000, 'the restarted server serving')
  await step(`config on server ${r + 1} after its restart`, r, 'config\n')
  return t
}

test('reconfig on 3 kafkit servers: remove/add a follower, add a 4th, remove the leader, -members', {timeout: 600000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'], OPTS)
  try {
    e.startAll()
    const t = await walk(e, 'kafkit', 'kafkit')
    const text = t.join('\n')
    console.log(text)
    assert.match(text, /## config on server 1\nserver\.1=127\.0\.0\.1:q1:e1:participant\nserver\.2=127\.0\.0\.1:q2:e2:participant\nserver\.3=127\.0\.0\.1:q3:e3:participant\nversion=1xxxxxxxx/)
    assert.match(text, /dynamicConfigFile=<dir>\/<cfg>\.dynamic\.100000000/)
    assert.match(text, /## files\n<cfg> <cfg>\.bak <cfg>\.dynamic\.100000000 data/)
    assert.match(text, /dataVersion = -1\n/)
    assert.match(text, /mZxid = 0x1xxxxxxxx\n/)
    assert.match(text, /## reconfig -remove a follower\nCommitted new configuration:\n(server\.\d=.*\n){2}version=1xxxxxxxx/)
    assert.match(text, /## new leader is a voter of the new configuration: true/)
    assert.match(text, /## write after the leader left\nCreated \/after-leader-removal\n## read after the leader left\nx/)
    // The restarted server read its rewritten static file and dynamic file.
    const final = /## config on server 1 after -members\n((?:server\..*\n)+version=[0-9a-f]+)/.exec(text)![1]
    assert.match(text, new RegExp(`## config on server \\d after its restart\\n${final.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    assert.match(text, /## reconfig -v 1 \(wrong version\)\nversion No is not valid : \n/)
    // Every server agrees after each step.
    for (const what of ['after -remove', 'after -add', 'with 4 servers', 'after -members']) {
      const cfgs = [...text.matchAll(new RegExp(`## config on server \\d ${what}\\n((?:server\\..*\\n)+version=[0-9a-f]+)`, 'g'))].map(m => m[1])
      assert.ok(cfgs.length >= 3, `${what}: ${cfgs.length} configs`)
      assert.equal(new Set(cfgs).size, 1, `${what}: ${cfgs.join(' | ')}`)
    }
  } catch (err) {
    console.log(e.tail(3000))
    throw err
  } finally {
    await e.destroy()
  }
})

test('the same reconfig steps on Apache ZooKeeper 3.8 through its zookeeper-shell give the same transcript', {timeout: 1200000}, async () => {
  const runs: string[][] = []
  for (const [kind, which] of [['apache', 'java'], ['kafkit', 'kafkit']] as const) {
    const e = await Ensemble.create([kind, kind, kind], OPTS)
    try {
      e.startAll()
      runs.push(await walk(e, which, kind))
    } catch (err) {
      console.log(e.tail(3000))
      throw err
    } finally {
      await e.destroy()
    }
  }
  const [apache, kafkit] = runs
  // The static file's lines are compared as a set (Apache writes them in Properties' hash order).
  assert.equal(kafkit.join('\n'), apache.join('\n'))
})

test('reconfig refused: reconfigEnabled=false, no super user; Apache\'s messages', {timeout: 600000}, async () => {
  const results: Record<string, string[]> = {}
  for (const [kind, which] of [['apache', 'java'], ['kafkit', 'kafkit']] as const) {
    const out: string[] = []
    // A super user (DigestAuthenticationProvider.superDigest, the password 'secret') may.
    const superDigest = `super:${createHash('sha1').update('super:secret').digest('base64')}`
    // One shell session per input (a shell's stdout and stderr are compared in order).
    const cases: Array<[string[], string[]]> = [
      [['reconfigEnabled=false'], ['reconfig -remove 1\n', 'config\n']],
      [['reconfigEnabled=true'], ['reconfig -remove 1\n', 'config\n']],
      [['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${superDigest}`], ['addauth digest super:secret\nreconfig -remove 1\n']],
    ]
    for (const [extra, inputs] of cases) {
      const e = await Ensemble.create([kind, kind, kind], {extra})
      try {
        await e.startFirst(2)
        const leader = await e.waitForLeader(60000)
        assert.equal(leader, 2)
        const outs: string[] = []
        for (const input of inputs) outs.push(mask(e, [], await shell(which, e.connectString([leader]), input)))
        out.push(outs.join('\n'))
      } finally {
        await e.destroy()
      }
    }
    results[kind] = out
  }
  console.log(results)
  assert.deepEqual(results.kafkit, results.apache)
  assert.match(results.kafkit[0], /Reconfig is disabled|ReconfigDisabled|disabled/i)
  assert.match(results.kafkit[1], /Insufficient permission|NoAuth/i)
  assert.match(results.kafkit[2], /Committed new configuration:\nserver\.2=127\.0\.0\.1:q2:e2:participant\nserver\.3=127\.0\.0\.1:q3:e3:participant\nversion=/)
})

test('a mixed ensemble (1 Apache + 2 kafkit): a reconfig issued on either kind is applied by the other', {timeout: 400000}, async () => {
  const e = await Ensemble.create(['apache', 'kafkit', 'kafkit'], OPTS)
  try {
    // kafkit server 3 (the highest id, started first) leads; Apache server 1 follows.
    await e.startFirst(2)
    assert.equal(await e.waitForLeader(60000), 2)
    const cfg = async (i: number) => (await shell('kafkit', e.connectString([i]), 'config\n')).trim()
    await waitFor(async () => new Set(await Promise.all([0, 1, 2].map(cfg))).size === 1, 20000, 'one configuration')
    // Through the Apache server: remove kafkit server 2; kafkit's leader proposes it.
    let out = await shell('java', e.connectString([0]), `reconfig -remove 2\n`)
    assert.match(out, /Committed new configuration:\nserver\.1=.*\nserver\.3=.*\nversion=/)
    await waitFor(async () => new Set(await Promise.all([0, 1, 2].map(cfg))).size === 1, 20000, 'the removal everywhere')
    assert.doesNotMatch(await cfg(0), /server\.2=/)
    // Through a kafkit server: server 2 back, with its client address; the Apache server applies it.
    out = await shell('kafkit', e.connectString([2]), `reconfig -add ${serverSpec(e.members[1])}\n`)
    assert.match(out, /Committed new configuration:\nserver\.1=.*\nserver\.2=.*;127\.0\.0\.1:\d+\nserver\.3=.*\nversion=/)
    await waitFor(async () => new Set(await Promise.all([0, 1, 2].map(cfg))).size === 1, 20000, 'the addition everywhere')
    const all = await Promise.all([0, 1, 2].map(cfg))
    assert.match(all[0], /server\.2=127\.0\.0\.1:\d+:\d+:participant;127\.0\.0\.1:\d+/)
    // The Apache server's own files follow: its dynamic file holds the new configuration.
    const dyn = readdirSync(e.members[0].dir).filter(n => /^zoo\.cfg\.dynamic\.[0-9a-f]+$/.test(n)).sort()
    assert.ok(dyn.length >= 2, dyn.join(' '))
    // Writes go on through every server.
    for (let i = 0; i < 3; i++) assert.match(await shell(i === 0 ? 'java' : 'kafkit', e.connectString([i]), `create /m${i} x\n`), new RegExp(`Created /m${i}`))
  } catch (err) {
    console.log(e.tail(3000))
    throw err
  } finally {
    await e.destroy()
  }
})
