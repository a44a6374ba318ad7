// Hierarchical (weighted) quorums as Apache ZooKeeper's QuorumHierarchical decides them:
// group.1=1:2 group.2=3 group.3=4 with weight.1=2 (the others 1). A quorum is a majority of
// the groups, each with more than half of its weight: servers 1 and 3 alone are one (two of
// three groups; server 1 carries group 1) although they are only half of the servers, while
// servers 2 and 3 are not (group 1 has weight 1 of 3). kafkit and Apache ZooKeeper 3.8
// ensembles of that shape must agree on both, and on the configuration they print.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble} from './ensemble-helpers.js'
import {runCommand, waitFor} from '../helpers/util.js'

const GROUPS = ['group.1=1:2', 'group.2=3', 'group.3=4', 'weight.1=2', 'weight.2=1', 'weight.3=1', 'weight.4=1']

async function write(e: Ensemble, i: number, path: string): Promise<boolean> {
  const r = await runCommand('zookeeper-shell', [e.connectString([i]), 'create', path, 'x'], {timeoutMs: 30000})
  return r.code === 0 && /Created/.test(r.stdout + r.stderr)
}

async function scenario(kind: 'kafkit' | 'apache'): Promise<{config: string; withOneAndThree: boolean; withTwoAndThree: boolean}> {
  const e = await Ensemble.create([kind, kind, kind, kind], {extra: GROUPS})
  try {
    e.startAll()
    await e.waitForLeader(60000)
    const cfg = await runCommand('zookeeper-shell', [e.connectString([0]), 'config'])
    let config = cfg.stdout
    for (const m of e.members) config = config.replaceAll(`:${m.quorumPort}:`, `:q${m.id}:`).replaceAll(`:${m.electionPort}:`, `:e${m.id}:`)
    config = config.split('\n').filter(l => /^(server|group|weight|version)/.test(l)).join('\n')
    // Servers 2 and 4 gone: 1 (weight 2 of group 1) and 3 (group 2) still make a quorum.
    await e.kill(1)
    await e.kill(3)
    let withOneAndThree = false
    try {
      await e.waitForLeader(30000, [0, 2])
      withOneAndThree = await waitFor(() => write(e, 2, `/w13-${kind}`), 20000, 'a write with servers 1 and 3')
    } catch { withOneAndThree = false }
    e.start(1)
    e.start(3)
    await e.waitForLeader(60000)
    // Servers 1 and 4 gone: 2 (weight 1 of 3 in group 1) and 3 are not a quorum.
    await e.kill(0)
    await e.kill(3)
    await waitFor(async () => (await e.mode(1)) === '' && (await e.mode(2)) === '', 30000, 'servers 2 and 3 stop serving')
    const withTwoAndThree = await write(e, 1, `/w23-${kind}`)
    return {config, withOneAndThree, withTwoAndThree}
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
}

test('hierarchical quorums: groups and weights decide as Apache ZooKeeper 3.8\'s QuorumHierarchical', {timeout: 900000}, async () => {
  const kafkit = await scenario('kafkit')
  console.log('kafkit', kafkit)
  assert.equal(kafkit.withOneAndThree, true, 'servers 1 (weight 2) and 3 make a quorum')
  assert.equal(kafkit.withTwoAndThree, false, 'servers 2 and 3 make no quorum')
  assert.match(kafkit.config, /group\.1=1:2\ngroup\.2=3\ngroup\.3=4\nweight\.1=2\nweight\.2=1\nweight\.3=1\nweight\.4=1\nversion=0/)
  const apache = await scenario('apache')
  console.log('apache', apache)
  assert.deepEqual(kafkit, apache)
})
