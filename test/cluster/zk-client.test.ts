// The broker's ZooKeeper client never loses a creation: a znode created between a read that
// found it missing and the exists watch set after it is read again, not reported missing (its
// creation fires no event for that watch, so the caller would never hear of it).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {ZkClient} from '../../src/core/cluster/zk.js'
import {startZooKeeperServer, defaultZkConfig, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'

let dir: string
let zk: RunningZooKeeper
let a: ZkClient
let b: ZkClient

before(async () => {
  dir = tempDir('kafkit-zkc-')
  zk = await startZooKeeperServer(defaultZkConfig({dataDir: join(dir, 'data'), clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 500, forceSync: false}))
  const opts = {sessionTimeoutMs: 6000, connectionTimeoutMs: 10000}
  a = await ZkClient.connect(`127.0.0.1:${zk.port}`, opts)
  b = await ZkClient.connect(`127.0.0.1:${zk.port}`, opts)
})

after(async () => {
  await a?.close()
  await b?.close()
  await zk?.stop()
  removeDir(dir)
})

/** Makes client c's next exists() run only after `before()` did (the race, made certain). */
function raceNextExists(c: ZkClient, beforeExists: () => Promise<void>): void {
  const inner = (c as unknown as {client: {exists: (...args: unknown[]) => Promise<unknown>}}).client
  const original = inner.exists
  inner.exists = async (...args: unknown[]) => {
    inner.exists = original
    await beforeExists()
    return original.apply(inner, args)
  }
}

test('get(watch) of a znode created between the missed read and the exists watch returns it', async () => {
  await b.create('/race-get', 'v1')
  await b.delete('/race-get')
  raceNextExists(a, async () => { await b.create('/race-get', 'created meanwhile') })
  const r = await a.get('/race-get', true)
  assert.equal(r?.data.toString(), 'created meanwhile')
  // The data watch is in place: the next change is heard.
  const events: string[] = []
  a.on('watch', e => { if (e.path === '/race-get') events.push(e.type) })
  await b.set('/race-get', 'v2')
  await waitFor(() => events.includes('dataChanged'), 5000, 'the data watch')
})

test('getChildren(watch) of a znode created meanwhile returns its children', async () => {
  raceNextExists(a, async () => { await b.create('/race-children', ''); await b.create('/race-children/c1', '') })
  assert.deepEqual(await a.getChildren('/race-children', true), ['c1'])
})

test('a znode still missing after the exists watch is reported missing, and its creation is heard', async () => {
  const events: string[] = []
  a.on('watch', e => { if (e.path === '/later') events.push(e.type) })
  assert.equal(await a.get('/later', true), undefined)
  await b.create('/later', 'x')
  await waitFor(() => events.includes('created'), 5000, 'the created event')
})
