// The transaction log on its own: preallocated (zero-padded) files, and replay that reads
// them through a window, with entries across window edges and larger than the window.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {TxnLog, replayLogs} from '../../src/core/zookeeper/txnlog.js'
import {Op, OPEN_ACL_UNSAFE, type Txn, type TxnHeader} from '../../src/core/zookeeper/records.js'
import {tempDir, removeDir} from '../helpers/util.js'

async function writeLog(dir: string, preAlloc: number, sizes: number[]): Promise<number> {
  let durable = 0
  const log = new TxnLog(dir, true, z => { durable = z }, e => { throw e }, preAlloc)
  sizes.forEach((n, i) => {
    const h: TxnHeader = {clientId: 1n, cxid: i, zxid: i + 1, time: 1700000000000 + i, type: Op.create}
    const t: Txn = {type: Op.create, path: `/n${i}`, data: 'x'.repeat(n), acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1}
    log.append(h, t)
  })
  await log.close()
  return durable
}

test('a preallocated log replays every entry, across the read window and past it', async () => {
  const dir = tempDir('kafkit-txnlog-')
  try {
    // ~3 MB of 150-byte entries, then one entry larger than the 1 MiB window, then more.
    const sizes = [...Array.from({length: 20000}, () => 100), 1_500_000, ...Array.from({length: 100}, (_, i) => i)]
    assert.equal(await writeLog(dir, 4 * 1024 * 1024, sizes), sizes.length)
    const [file] = readdirSync(dir).filter(f => f.startsWith('log.'))
    assert.equal(statSync(join(dir, file)).size % (4 * 1024 * 1024), 0, 'the file grew in preAllocSize steps')
    const seen: number[] = []
    const lengths: number[] = []
    const stats = replayLogs(dir, 0, (h, t) => { seen.push(h.zxid); lengths.push(t.type === Op.create && t.data !== null ? t.data.length : -1) })
    assert.deepEqual(stats.torn, [])
    assert.equal(seen.length, sizes.length)
    assert.ok(seen.every((z, i) => z === i + 1))
    assert.deepEqual(lengths, sizes)
  } finally {
    removeDir(dir)
  }
})

test('preAllocSize=0 writes no padding', async () => {
  const dir = tempDir('kafkit-txnlog-')
  try {
    await writeLog(dir, 0, [10, 20])
    const [file] = readdirSync(dir).filter(f => f.startsWith('log.'))
    // file header 16, then per entry: checksum 8 + length 4, the txn, 'B'. The txn: header
    // 32, path 4+len, data 4+n, ACL vector 4+(4+4+5+4+6), ephemeral 1, parentCVersion 4.
    const body = (n: number, i: number) => 32 + 4 + `/n${i}`.length + 4 + n + 4 + (4 + 4 + 5 + 4 + 6) + 1 + 4
    assert.equal(statSync(join(dir, file)).size, 16 + 12 + body(10, 0) + 1 + 12 + body(20, 1) + 1)
    assert.equal(replayLogs(dir, 0, () => {}).txns, 2)
  } finally {
    removeDir(dir)
  }
})
