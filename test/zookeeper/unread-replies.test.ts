// Issue 13: clients that send requests but never read the replies must cost only their own
// connections. Five raw connections each send 300 getData of a 1 MB znode back to back and
// read nothing; meanwhile another client keeps reading a small znode. The server (a child
// process, so its memory is its own) must stay under 256 MB, answer the other client within
// 100 ms (p99), drop back under 120 MB within 10 s of the connections closing, and still
// deliver every reply, in order, to a connection that starts reading late.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fork, type ChildProcess} from 'node:child_process'
import {createConnection, type Socket} from 'node:net'
import {writeFileSync} from 'node:fs'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {JuteWriter, JuteReader} from '../../src/core/zookeeper/jute.js'
import {RawClient, OPEN_ACL} from './rawclient.js'
import {startKafkitZk, logLines, freePort, tempDir, removeDir, waitFor} from './helpers.js'

const MB = 1024 * 1024
const ZNODE_BYTES = 1_000_000
const CONNECTIONS = 5
const REQUESTS = 300

interface Mem { rss: number; maxRss: number }

class ServerProcess {
  private waiting: Array<(m: Mem) => void> = []
  private constructor(readonly child: ChildProcess, readonly port: number) {
    child.on('message', (m: unknown) => {
      const w = this.waiting.shift()
      if (w) w(m as Mem)
    })
  }

  static async start(dir: string): Promise<ServerProcess> {
    const cfg = join(dir, 'zookeeper.properties')
    const port = await freePort()
    writeFileSync(cfg, `dataDir=${join(dir, 'data').replace(/\\/g, '/')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\ntickTime=2000\n`)
    const here = dirname(fileURLToPath(import.meta.url))
    const child = fork(join(here, 'rss-server.js'), [cfg], {stdio: ['ignore', 'ignore', 'pipe', 'ipc']})
    let err = ''
    child.stderr!.on('data', d => { err += d })
    const started = await new Promise<{port: number}>((resolve, reject) => {
      child.once('message', m => resolve(m as {port: number}))
      child.once('exit', code => reject(new Error(`the server exited with code ${code}: ${err}`)))
    })
    return new ServerProcess(child, started.port)
  }

  mem(): Promise<Mem> {
    return new Promise(resolve => {
      this.waiting.push(resolve)
      this.child.send('mem')
    })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise(r => this.child.once('exit', r))
    this.child.kill('SIGKILL')
    await exited
  }
}

/** ConnectRequest + REQUESTS getData of path, as one write; the socket then reads nothing. */
function flood(port: number, path: string): Promise<Socket> {
  const w = new JuteWriter(64 * 1024)
  let m = w.startFrame()
  w.int(0).long(0).int(10000).long(0).buffer(Buffer.alloc(16)).bool(false)
  w.finishFrame(m)
  for (let xid = 1; xid <= REQUESTS; xid++) {
    m = w.startFrame()
    w.int(xid).int(4).ustring(path).bool(false)
    w.finishFrame(m)
  }
  return new Promise((resolve, reject) => {
    const s = createConnection({host: '127.0.0.1', port}, () => {
      s.write(w.toBuffer())
      resolve(s)
    })
    s.once('error', reject)
  })
}

function p99(v: number[]): number {
  const s = [...v].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]
}

test('frames split at any byte (lengths included) and many frames in one write are handled in order', async () => {
  const dir = tempDir('kafkit-zk-split-')
  const server = await ServerProcess.start(dir)
  try {
    const c = await RawClient.open(server.port)
    c.socket.setNoDelay(true)
    // The handshake and a create of a 200 kB znode, one byte per write at first, then in
    // pieces of 7 bytes: every frame boundary and length field is split somewhere.
    const hs = new JuteWriter()
    let m = hs.startFrame()
    hs.int(0).long(0).int(30000).long(0).buffer(Buffer.alloc(16)).bool(false)
    hs.finishFrame(m)
    m = hs.startFrame()
    hs.int(1).int(1).ustring('/split').buffer(Buffer.alloc(200_000, 3))
    OPEN_ACL(hs)
    hs.int(0)
    hs.finishFrame(m)
    const bytes = hs.toBuffer()
    for (let i = 0; i < 64; i++) {
      c.socket.write(bytes.subarray(i, i + 1))
      await new Promise(r => setImmediate(r))
    }
    for (let i = 64; i < bytes.length; i += 7919) {
      c.socket.write(bytes.subarray(i, Math.min(bytes.length, i + 7919)))
      await new Promise(r => setImmediate(r))
    }
    const connected = await c.next()
    assert.equal(connected.readInt32BE(4), 30000)
    const created = new JuteReader(await c.next())
    assert.deepEqual([created.int(), created.long() > 0, created.int(), created.ustring()], [1, true, 0, '/split'])
    // 500 getData in one write: 500 replies, in order.
    const w = new JuteWriter()
    for (let xid = 2; xid < 502; xid++) {
      m = w.startFrame()
      w.int(xid).int(4).ustring('/split').bool(false)
      w.finishFrame(m)
    }
    c.socket.write(w.toBuffer())
    for (let xid = 2; xid < 502; xid++) {
      const r = new JuteReader(await c.next())
      assert.equal(r.int(), xid)
      r.long()
      assert.equal(r.int(), 0)
      assert.equal(r.buffer().length, 200_000)
    }
    c.close()
  } finally {
    await server.stop()
    removeDir(dir)
  }
})

test('5 connections x 300 unread getData of a 1 MB znode: bounded memory, other clients served, nothing lost', {timeout: 60000}, async () => {
  const dir = tempDir('kafkit-zk-unread-')
  const server = await ServerProcess.start(dir)
  const sockets: Socket[] = []
  try {
    const c = await RawClient.open(server.port)
    await c.handshake(30000)
    const big = await c.request(1, 1, w => { w.ustring('/big').buffer(Buffer.alloc(ZNODE_BYTES, 7)); OPEN_ACL(w); w.int(0) })
    assert.equal(big.err, 0)
    const small = await c.request(2, 1, w => { w.ustring('/small').buffer(Buffer.from('ok')); OPEN_ACL(w); w.int(0) })
    assert.equal(small.err, 0)
    const before = await server.mem()

    for (let i = 0; i < CONNECTIONS; i++) sockets.push(await flood(server.port, '/big'))

    // For 3 s: another client reads /small one request at a time; the server's RSS is sampled.
    const lat: number[] = []
    let peakRss = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const m = await server.mem()
        peakRss = Math.max(peakRss, m.rss)
        await new Promise(r => setTimeout(r, 50))
      }
    })()
    const end = Date.now() + 3000
    let xid = 10
    while (Date.now() < end) {
      const t0 = performance.now()
      const r = await c.request(++xid, 4, w => w.ustring('/small').bool(false))
      lat.push(performance.now() - t0)
      assert.equal(r.err, 0)
    }
    sampling = false
    await sampler
    const during = await server.mem()
    const p = p99(lat)
    const report = `RSS before ${(before.rss / MB).toFixed(0)} MB, peak sampled ${(peakRss / MB).toFixed(0)} MB, high-water mark ${(during.maxRss / MB).toFixed(0)} MB; other client: ${lat.length} reads, p99 ${p.toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`
    console.log(report)
    assert.ok(during.maxRss < 256 * MB, `peak RSS under 256 MB: ${report}`)
    assert.ok(p < 100, `the other client's p99 under 100 ms: ${report}`)

    // A flooding connection that starts reading gets its 300 replies, in order, whole.
    const reader = sockets.pop()!
    const got = await new Promise<number>((resolve, reject) => {
      let buf = Buffer.alloc(0)
      let frames = 0
      const t = setTimeout(() => reject(new Error(`only ${frames} of ${REQUESTS + 1} replies arrived`)), 20000)
      reader.on('data', d => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d])
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          const f = buf.subarray(4, 4 + buf.readInt32BE(0))
          buf = buf.subarray(4 + f.length)
          if (frames > 0) {
            const r = new JuteReader(f)
            const h = {xid: r.int(), zxid: r.long(), err: r.int()}
            if (h.xid !== frames || h.err !== 0 || r.buffer().length !== ZNODE_BYTES) {
              clearTimeout(t)
              reject(new Error(`reply ${frames}: xid ${h.xid}, err ${h.err}`))
              return
            }
          }
          if (++frames === REQUESTS + 1) {
            clearTimeout(t)
            resolve(frames - 1)
          }
        }
      })
    })
    assert.equal(got, REQUESTS)
    reader.destroy()

    // The others close without reading: the server gives the memory back.
    for (const s of sockets) s.destroy()
    const t0 = Date.now()
    const after = (await waitFor(async () => {
      const m = await server.mem()
      return m.rss < 120 * MB ? m : undefined
    }, 10000, 'the server\'s RSS to fall under 120 MB', 200).catch(async e => {
      throw new Error(`${(e as Error).message} (now ${((await server.mem()).rss / MB).toFixed(0)} MB)`)
    })) as Mem
    console.log(`RSS ${(after.rss / MB).toFixed(0)} MB ${Date.now() - t0} ms after the connections closed`)
    const still = await c.request(++xid, 4, w => w.ustring('/small').bool(false))
    assert.equal(still.err, 0)
    c.close()
  } finally {
    for (const s of sockets) s.destroy()
    await server.stop()
    removeDir(dir)
  }
})

test('a connection that lets watch notifications pile up unread is closed; the writers go on', {timeout: 60000}, async () => {
  const zk = await startKafkitZk()
  try {
    // A watcher with a persistent recursive watch on /, which then reads nothing.
    const w = new JuteWriter()
    let m = w.startFrame()
    w.int(0).long(0).int(30000).long(0).buffer(Buffer.alloc(16)).bool(false)
    w.finishFrame(m)
    m = w.startFrame()
    w.int(1).int(106).ustring('/').int(1)
    w.finishFrame(m)
    const watcher = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({host: '127.0.0.1', port: zk.port}, () => { s.write(w.toBuffer()); resolve(s) })
      s.once('error', reject)
    })
    watcher.pause()
    watcher.on('error', () => {})
    await waitFor(() => zk.server.watches.recursive.size === 1, 5000, 'the recursive watch')
    logLines.length = 0
    // Writers: multis of 500 setData on a znode with a 1000-character path, so each
    // notification is about 1 kB; kernel buffers take some MB before the server sees any.
    const c = await RawClient.open(zk.port)
    await c.handshake(30000)
    const path = '/' + 'n'.repeat(1000)
    assert.equal((await c.request(1, 1, x => { x.ustring(path).buffer(Buffer.alloc(0)); OPEN_ACL(x); x.int(0) })).err, 0)
    let xid = 1
    // (The watcher reads nothing, so it would not notice the close: ask the server.)
    const gone = () => zk.server.watches.recursive.size === 0
    for (let i = 0; i < 200 && !gone(); i++) {
      const r = await c.request(++xid, 14, x => {
        for (let k = 0; k < 500; k++) x.int(5).bool(false).int(-1).ustring(path).buffer(Buffer.from('v')).int(-1)
        x.int(-1).bool(true).int(-1)
      })
      assert.equal(r.err, 0)
    }
    await waitFor(gone, 10000, 'the watcher\'s connection to be closed')
    assert.ok(logLines.some(l => /bytes of replies and notifications unsent \(the client is not reading them\)/.test(l)), 'one clear log line')
    assert.equal((await c.request(++xid, 4, x => x.ustring(path).bool(false))).err, 0)
    c.close()
    watcher.destroy()
  } finally {
    await zk.cleanup()
  }
})
