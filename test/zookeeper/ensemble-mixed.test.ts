// Mixed ensembles: kafkit and Apache ZooKeeper 3.8 servers in one ensemble, 2 + 1 and 1 + 2,
// with either kind leading. The differential script runs through every member in turn
// (each run under a root of its own) and must give the transcript standalone Apache
// ZooKeeper 3.8 gives; then the leader is killed and the survivors elect a new one.
import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {Ensemble} from './ensemble-helpers.js'
import {startApacheZk, requireApacheZk, waitFor, type ApacheZk} from './helpers.js'
import {runScript, type Entry} from './transcript.js'

let apache: ApacheZk | null = null
const references = new Map<string, Entry[]>()
after(async () => { await apache?.stop() })

/**
 * Standalone Apache ZooKeeper's transcript under a root (the root matters: Apache deletes a
 * closed session's ephemerals in the order of a Java HashSet of their paths).
 */
async function referenceTranscript(root: string): Promise<Entry[]> {
  if (!references.has(root)) {
    if (apache === null) {
      requireApacheZk()
      apache = await startApacheZk({'zookeeper.extendedTypesEnabled': 'true'})
    }
    references.set(root, await runScript(apache.port, root))
  }
  return references.get(root)!
}

function diff(a: Entry[], b: Entry[]): string[] {
  const out: string[] = []
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = JSON.stringify(a[i]), y = JSON.stringify(b[i])
    if (x !== y) out.push(`#${i}\n  standalone apache: ${x}\n  ensemble member:   ${y}`)
  }
  return out
}

const CASES: Array<{name: string; kinds: string[]; leader: number}> = [
  {name: '2 kafkit + 1 Apache, kafkit leads', kinds: ['apache', 'kafkit', 'kafkit'], leader: 2},
  {name: '2 kafkit + 1 Apache, Apache leads', kinds: ['kafkit', 'kafkit', 'apache'], leader: 2},
  {name: '1 kafkit + 2 Apache, kafkit leads', kinds: ['apache', 'apache', 'kafkit'], leader: 2},
  {name: '1 kafkit + 2 Apache, Apache leads', kinds: ['kafkit', 'apache', 'apache'], leader: 2},
]

for (const c of CASES) {
  test(`${c.name}: the same transcript through every member, and a new leader after kill -9`, {timeout: 60000}, async () => {
    const e = await Ensemble.create(c.kinds, {extendedTypes: true})
    const roots: string[] = []
    try {
      await e.startFirst(c.leader)
      const leader = await e.waitForLeader(40000)
      assert.equal(leader, c.leader, `server ${c.leader + 1} (${c.kinds[c.leader]}) leads: ${(await e.modes()).join(',')}`)
      for (let i = 0; i < 3; i++) {
        // An Apache leader applies a committed txn on another thread after sending COMMIT, so a
        // follower's next request can be prepared against the state before it (seen once, a
        // setACL): when an Apache server leads, one more run under a fresh root must agree.
        let d: string[] = []
        for (const attempt of c.kinds[c.leader] === 'apache' ? [0, 1] : [0]) {
          const root = `/r${i + 1}${attempt === 0 ? '' : 'b'}`
          roots.push(root.slice(1))
          const [ref, t] = [await referenceTranscript(root), await runScript(e.members[i].clientPort, root)]
          d = diff(ref, t)
          if (d.length === 0) break
          console.log(`through server ${i + 1} under ${root}: ${d.length} entries differ, running again:\n${d.slice(0, 4).join('\n')}`)
        }
        assert.equal(d.length, 0, `through server ${i + 1} (${c.kinds[i]}, ${await e.mode(i)}): ${d.length} entries differ:\n${d.slice(0, 10).join('\n')}`)
      }
      const top = `${JSON.stringify(['after', ...roots, 'zookeeper'].sort()).replace(/"/g, "'").replace(/,/g, ', ')}`
      // The leader goes: the other two (one of each kind, or two of one) elect a new one and keep the data.
      await e.kill(leader)
      const next = await e.waitForLeader(30000)
      assert.notEqual(next, leader)
      const via = [0, 1, 2].find(i => i !== leader && i !== next)!
      const out = await e.kazoo(e.connectString([via]), "c.create('/after', b'x'); c.sync('/'); print(sorted(c.get_children('/')))")
      assert.equal(out, top)
      // Back again: the old leader syncs and serves the same tree.
      e.start(leader)
      await waitFor(async () => ['follower', 'leader'].includes(await e.mode(leader)), 30000, 'the old leader to rejoin')
      assert.equal(await e.kazoo(e.connectString([leader]), "c.sync('/'); print(sorted(c.get_children('/')))"), top)
    } catch (err) {
      console.log(e.tail(3000))
      throw err
    } finally {
      await e.destroy()
    }
  })
}
