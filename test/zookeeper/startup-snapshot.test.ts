// The fresh snapshot a standalone server takes of what it loaded: written before it serves
// for a small tree (as Apache ZooKeeper does), in the background once it serves for a big one;
// either way the file holds the snapshot plus the log replayed on it, and a restart loads it.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {DataTree} from '../../src/core/zookeeper/datatree.js'
import {SnapshotWriter, writeSnapshotSync, deserializeSnapshot, snapshotFile} from '../../src/core/zookeeper/snapshot.js'
import {TxnLog} from '../../src/core/zookeeper/txnlog.js'
import {Op, OPEN_ACL_UNSAFE} from '../../src/core/zookeeper/records.js'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'
import {startKafkitZk} from './helpers.js'

/** A data dir holding a snapshot of `nodes` znodes under /big and one create logged after it. */
async function dataDir(nodes: number): Promise<{dir: string; zxid: number}> {
  const dir = tempDir('kafkit-zkstart-')
  const v2 = join(dir, 'version-2')
  mkdirSync(v2, {recursive: true})
  const t = new DataTree()
  const create = (path: string, zxid: number) => t.applyTxn({clientId: 0n, cxid: 0, zxid, time: 1_700_000_000_000 + zxid, type: Op.create}, {type: Op.create, path, data: 'v', acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1})
  create('/big', 1)
  for (let i = 0; i < nodes; i++) create(`/big/n${i}`, i + 2)
  writeSnapshotSync(v2, new SnapshotWriter(t, new Map(), t.lastZxid))
  const zxid = t.lastZxid + 1
  const log = new TxnLog(v2, false, () => {}, e => { throw e }, 0)
  log.append({clientId: 0n, cxid: 0, zxid, time: 1_800_000_000_000, type: Op.create}, {type: Op.create, path: '/after', data: 'late', acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1})
  await log.close()
  return {dir, zxid}
}

for (const [nodes, background] of [[100, false], [60000, true]] as const) {
  test(`start-up snapshot of ${nodes} znodes: ${background ? 'in the background once serving' : 'before serving'}`, async () => {
    const {dir, zxid} = await dataDir(nodes)
    const file = snapshotFile(join(dir, 'version-2'), zxid)
    try {
      const zk = await startKafkitZk({}, dir)
      try {
        assert.equal(zk.server.db.snapshot !== null, background, 'a snapshot is being written as the server starts serving')
        assert.equal(zk.server.tree.get('/after')?.data, 'late')
        await waitFor(() => zk.server.db.snapshot === null && existsSync(file), 30000, 'the start-up snapshot')
      } finally {
        await zk.stop()
      }
      const t = new DataTree()
      assert.equal(deserializeSnapshot(readFileSync(file), t).nodes, nodes + 6)
      assert.equal(t.get('/after')?.data, 'late')
      const again = await startKafkitZk({}, dir)
      try {
        assert.equal(again.server.db.snapshot, null, 'nothing to snapshot: the newest snapshot holds everything')
        assert.equal(again.server.tree.nodes.size, nodes + 6)
      } finally {
        await again.stop()
      }
    } finally {
      removeDir(dir)
    }
  })
}
