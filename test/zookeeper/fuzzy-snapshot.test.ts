// Snapshots are written in the background, chunk by chunk, while clients keep changing the
// tree (fuzzy snapshots, as Apache ZooKeeper takes them). Each snapshot plus the log after
// its zxid must rebuild exactly the live tree: every znode, its data, Stat and ACL.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {startKafkitZk, connect, zookeeper, waitFor, type Zk} from './helpers.js'
import {DataTree} from '../../src/core/zookeeper/datatree.js'
import {deserializeSnapshot} from '../../src/core/zookeeper/snapshot.js'
import {replayLogs} from '../../src/core/zookeeper/txnlog.js'

function dump(tree: DataTree): string[] {
  const out: string[] = []
  for (const [path, n] of tree.nodes) {
    const acl = n.acl.map(a => `${a.perms}:${a.scheme}:${a.id}`).join(',')
    out.push(`${path} data=${n.data === null ? 'null' : Buffer.from(n.data, 'latin1').toString('hex')} czxid=${n.czxid} mzxid=${n.mzxid} ctime=${n.ctime} mtime=${n.mtime} version=${n.version} cversion=${n.cversion} aversion=${n.aversion} owner=${n.ephemeralOwner} pzxid=${n.pzxid} acl=${acl} children=${[...(n.children ?? [])].sort().join(',')}`)
  }
  return out.sort()
}

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 4294967296
  }
}

async function workload(c: Zk, id: number, ops: number): Promise<void> {
  const rand = rng(id * 7919 + 1)
  const mine: string[] = []
  const base = `/w${id}`
  await c.call('create', base, Buffer.from('base'), zookeeper.CreateMode.PERSISTENT)
  const inflight = new Set<Promise<unknown>>()
  const run = (p: Promise<unknown>) => {
    const q = p.catch(() => { /* races between this client's own ops are fine */ }).finally(() => inflight.delete(q))
    inflight.add(q)
  }
  for (let i = 0; i < ops; i++) {
    const r = rand()
    const bytes = Buffer.alloc(1 + Math.floor(rand() * 40), i & 0xff)
    if (r < 0.4 || mine.length < 5) {
      const path = `${base}/n${i}`
      mine.push(path)
      run(c.call('create', path, bytes, rand() < 0.2 ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT))
    } else if (r < 0.5) {
      run(c.call('create', `${base}/seq-`, bytes, zookeeper.CreateMode.PERSISTENT_SEQUENTIAL))
    } else if (r < 0.7) {
      run(c.call('setData', mine[Math.floor(rand() * mine.length)], bytes, -1))
    } else if (r < 0.85) {
      const k = Math.floor(rand() * mine.length)
      const [path] = mine.splice(k, 1)
      run(c.call('remove', path, -1))
    } else if (r < 0.92) {
      const acl = [new zookeeper.ACL(rand() < 0.5 ? 31 : 15, new zookeeper.Id('world', 'anyone'))]
      run(c.call('setACL', mine[Math.floor(rand() * mine.length)], acl, -1))
    } else {
      // A multi whose two ops both succeed, and one that fails (nothing applied).
      const p = `${base}/m${i}`
      run(new Promise((resolve, reject) => c.client.transaction().create(p, bytes).setData(p, bytes, -1).commit((e: Error | null) => e ? reject(e) : resolve(null))))
      run(new Promise((resolve, reject) => c.client.transaction().create(`${base}/x${i}`).remove(`${base}/no-such-node`).commit((e: Error | null) => e ? reject(e) : resolve(null))))
    }
    if (inflight.size >= 16) await Promise.race(inflight)
  }
  await Promise.all(inflight)
}

test('fuzzy background snapshots taken under concurrent writes each rebuild the live tree', async () => {
  const zk = await startKafkitZk({snapCount: 200})
  const clients: Zk[] = []
  try {
    // Tiny chunks: every snapshot is written over many turns of the event loop, with
    // requests applied in between.
    zk.server.db.snapshotChunkBytes = 300
    for (let i = 0; i < 3; i++) clients.push(await connect(zk.port, {sessionTimeout: 20000}))
    await Promise.all(clients.map((c, i) => workload(c, i, 1200)))
    await waitFor(() => zk.server.db.snapshot === null, 20000, 'the last snapshot to finish')
    const live = dump(zk.server.tree)
    const dir = join(zk.dir, 'version-2')
    const snaps = readdirSync(dir).filter(f => f.startsWith('snapshot.')).map(f => ({f, zxid: parseInt(f.slice(9), 16)})).filter(s => s.zxid > 0)
    assert.ok(snaps.length >= 3, `several snapshots were taken (${snaps.length})`)
    let fuzzy = 0
    for (const s of snaps) {
      const tree = new DataTree()
      deserializeSnapshot(readFileSync(join(dir, s.f)), tree)
      for (const n of tree.nodes.values()) if (Math.max(n.czxid, n.mzxid, n.pzxid) > s.zxid) { fuzzy++; break }
      tree.lastZxid = s.zxid
      replayLogs(dir, s.zxid, (h, t) => tree.replayTxn(h, t))
      assert.deepEqual(dump(tree), live, `${s.f} + the log after it rebuild the live tree`)
    }
    assert.ok(fuzzy > 0, 'at least one snapshot holds changes made after it started (it was fuzzy)')
    // And a real restart on the same data dir agrees too.
    for (const c of clients) c.client.connectionManager.socket.destroy()
    await zk.stop()
    const again = await startKafkitZk({snapCount: 200}, zk.dir)
    try {
      assert.deepEqual(dump(again.server.tree), live)
    } finally {
      await again.stop()
    }
  } finally {
    for (const c of clients) c.close()
    await zk.cleanup()
  }
})
