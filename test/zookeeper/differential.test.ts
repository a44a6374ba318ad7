// Differential test: one script of requests (successes, failures, watches, multi,
// sequential nodes, ACLs, containers, TTLs, persistent watches, invalid paths) runs on the
// wire against kafkit's server and against Apache ZooKeeper 3.8; the transcripts (error
// codes, zxids, paths, data, Stat fields except wall-clock times, watch events) must agree.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startKafkitZk, startApacheZk, startApacheZkOn, requireApacheZk} from './helpers.js'
import {runScript} from './transcript.js'
test('kafkit and Apache ZooKeeper 3.8 give the same transcript for one script of requests', async () => {
  requireApacheZk()
  const apache = await startApacheZk({'zookeeper.extendedTypesEnabled': 'true'})
  const kafkit = await startKafkitZk({extendedTypesEnabled: true})
  try {
    const [ta, tk] = [await runScript(apache.port), await runScript(kafkit.port)]
    const diffs: string[] = []
    for (let i = 0; i < Math.max(ta.length, tk.length); i++) {
      const x = JSON.stringify(ta[i]), y = JSON.stringify(tk[i])
      if (x !== y) diffs.push(`#${i}\n  apache: ${x}\n  kafkit: ${y}`)
    }
    assert.equal(diffs.length, 0, `${diffs.length} of ${ta.length} entries differ:\n${diffs.slice(0, 15).join('\n')}`)
  } finally {
    await apache.stop()
    await kafkit.cleanup()
  }
})

test('data directories are interchangeable: Apache ZooKeeper 3.8 opens kafkit\'s, kafkit opens Apache\'s', async () => {
  requireApacheZk()
  const {startKafkitZk: startK, connect: conn, zookeeper: zkc, tempDir: td, removeDir: rd} = await import('./helpers.js')
  // kafkit writes (with snapshots and rolled logs), Apache reads.
  const kdir = td('kafkit-zk-')
  try {
    const k = await startK({snapCount: 10}, kdir)
    const c = await conn(k.port)
    await c.call('create', '/shared', Buffer.from('from-kafkit'), zkc.CreateMode.PERSISTENT)
    for (let i = 0; i < 25; i++) await c.call('create', '/shared/n-', Buffer.from(String(i)), zkc.CreateMode.PERSISTENT_SEQUENTIAL)
    c.close()
    await k.stop()
    const a2 = await startApacheZkOn(kdir)
    try {
      const d = await conn(a2.port)
      const [data] = await d.call<[Buffer]>('getData', '/shared')
      assert.equal(data.toString(), 'from-kafkit')
      const [kids] = await d.call<[string[]]>('getChildren', '/shared')
      assert.equal(kids.length, 25)
      await d.call('create', '/shared/by-apache', Buffer.from('a'), zkc.CreateMode.PERSISTENT)
      d.close()
    } finally {
      await a2.stop()
    }
    // ... and kafkit reads back what Apache wrote on top (Apache's snapshot and log).
    const {logLines} = await import('./helpers.js')
    logLines.length = 0
    const k2 = await startK({}, kdir)
    assert.deepEqual(logLines.filter(l => /Problem reading snap|unacknowledged tail/.test(l)), [], 'Apache\'s snapshot and log are read as they are')
    const e = await conn(k2.port)
    const [by] = await e.call<[Buffer]>('getData', '/shared/by-apache')
    assert.equal(by.toString(), 'a')
    const [kids2] = await e.call<[string[]]>('getChildren', '/shared')
    assert.equal(kids2.length, 26)
    e.close()
    await k2.stop()
  } finally {
    rd(kdir)
  }
})
