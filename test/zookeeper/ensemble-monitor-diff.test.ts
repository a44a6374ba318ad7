// mntr and the AdminServer's observers / server_stats of an ensemble's leader, follower and
// observer, kafkit against Apache ZooKeeper 3.8 (two participants and an observer each): the
// same keys in the same order (peer_state right after server_state, quorum_size, a leader's
// gauges among the others, an observer's observer_master_id), the same values where they do
// not depend on timing, and the same JSON shape of the leader's observer list.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {Ensemble} from './ensemble-helpers.js'
import {fourLetter} from './helpers.js'
import {freePort, waitFor} from '../helpers/util.js'

/** Summary sets whose keys depend on what happened (namespaces written, learner ids): Apache-only, left out. */
const DYNAMIC = /^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_.*(_per_namespace|_learner_handler_qp_size|_learner_handler_qp_time_ms)$/
/** Values compared exactly; the others by kind (int, double, string). */
const EXACT = new Set(['zk_server_state', 'zk_peer_state', 'zk_quorum_size', 'zk_learners', 'zk_synced_followers',
  'zk_synced_non_voting_followers', 'zk_synced_observers', 'zk_pending_syncs'])

function mntrShape(text: string): string[] {
  return text.split('\n').filter(l => l !== '' && !DYNAMIC.test(l.split('\t')[0])).map(l => {
    const [k, v] = l.split('\t')
    return `${k}\t${EXACT.has(k) ? v : /^-?\d+$/.test(v) ? '<int>' : /^-?\d+\.\d+(E-?\d+)?$/.test(v) ? '<double>' : '<string>'}`
  })
}

/** JSON with every number, string and boolean replaced by its kind: keys, their order and nesting are what is compared. */
function jsonShape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonShape)
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, jsonShape(x)])
  return typeof v
}

async function roles(kind: 'kafkit' | 'apache'): Promise<Record<string, {mntr: string[]; observers: unknown; serverStats: unknown}>> {
  const admin = [await freePort(), await freePort(), await freePort()]
  const e = await Ensemble.create([kind, kind, `${kind}:observer`], {adminPort: m => admin[m.id - 1]})
  try {
    e.startAll()
    const leader = await e.waitForLeader(60000, [0, 1])
    await waitFor(async () => (await e.mode(2)) === 'observer', 60000, `${kind}'s observer to serve`, 100)
    await waitFor(async () => /^zk_synced_observers\t1$/m.test(await fourLetter(e.members[leader].clientPort, 'mntr')), 30000, `${kind}'s leader to count its observer`, 100)
    const out: Record<string, {mntr: string[]; observers: unknown; serverStats: unknown}> = {}
    for (const [role, i] of [['leader', leader], ['follower', 1 - leader], ['observer', 2]] as const) {
      const get = async (c: string) => JSON.parse(await (await fetch(`http://127.0.0.1:${admin[i]}/commands/${c}`)).text())
      const observers = await get('observers')
      if (role === 'leader') {
        assert.equal(observers.synced_observers, 1, `${kind}: ${JSON.stringify(observers)}`)
        assert.equal(observers.observers[0].sid, 3, `${kind}: ${JSON.stringify(observers)}`)
      }
      const mntr = await fourLetter(e.members[i].clientPort, 'mntr')
      if (role === 'observer') assert.match(mntr, new RegExp(`^zk_observer_master_id\t${leader + 1}$`, 'm'), kind)
      // server_stats: its top-level keys (Jackson orders the nested ServerStats bean's as the JVM lists its getters).
      out[role] = {mntr: mntrShape(mntr), observers: jsonShape(observers), serverStats: Object.keys(await get('server_stats'))}
    }
    return out
  } catch (err) {
    console.log(e.tail(2000))
    throw err
  } finally {
    await e.destroy()
  }
}

test('an ensemble\'s mntr, observers and server_stats: kafkit\'s leader, follower and observer answer as Apache ZooKeeper 3.8\'s', {timeout: 240000, skip: existsSync('/usr/share/java/servlet-api.jar') ? false : 'Apache\'s AdminServer needs /usr/share/java/servlet-api.jar (apt-get install libservlet-api-java)'}, async () => {
  const apache = await roles('apache')
  const kafkit = await roles('kafkit')
  for (const role of ['leader', 'follower', 'observer']) {
    const [a, k] = [apache[role], kafkit[role]]
    const firstDiff = a.mntr.findIndex((l, i) => l !== k.mntr[i])
    assert.deepEqual(k.mntr, a.mntr, `${role}'s mntr differs from line ${firstDiff}: Apache ${a.mntr.slice(firstDiff, firstDiff + 3).join(' | ')}; kafkit ${k.mntr.slice(firstDiff, firstDiff + 3).join(' | ')}`)
    assert.deepEqual(k.observers, a.observers, `${role}'s observers`)
    assert.deepEqual(k.serverStats, a.serverStats, `${role}'s server_stats`)
  }
  assert.ok(kafkit.leader.mntr.includes('zk_peer_state\tleading - broadcast'))
  assert.ok(kafkit.observer.mntr.includes('zk_peer_state\tobserving - broadcast'))
})
