// Robustness: well-framed requests with garbage bodies for every read-only API at every
// version the broker lists (seeded, reproducible). Each gets an answer or a closed
// connection; the broker keeps serving kcat afterwards.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {Reader, Writer} from '../../src/core/protocol/io.js'
import {Apis} from '../../src/core/protocol/messages.js'
import {encodeRequestHeader} from '../../src/core/protocol/header.js'
import {startApacheZooKeeper, startBrokerProc, exec, KCAT, type ApacheZooKeeper, type BrokerProc} from './helpers.js'

let zk: ApacheZooKeeper
let broker: BrokerProc

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

// APIs that change cluster state are left out: a random body could be a valid request.
const MUTATING = new Set([0, 19, 20, 21, 22, 33, 37, 42, 43, 44, 47])

function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s ^= s << 13; s >>>= 0
    s ^= s >>> 17
    s ^= s << 5; s >>>= 0
    return s
  }
}

function send(frames: Buffer[]): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise(resolve => {
    const s = connect(broker.port, '127.0.0.1')
    let got = 0
    const timer = setTimeout(() => { s.destroy(); resolve(got > 0 ? 'answered' : 'silent') }, 1500)
    s.on('connect', () => { for (const f of frames) s.write(f) })
    s.on('data', d => {
      got += d.length
      clearTimeout(timer)
      s.destroy()
      resolve('answered')
    })
    s.on('close', () => { clearTimeout(timer); resolve(got > 0 ? 'answered' : 'closed') })
    s.on('error', () => {})
  })
}

test('garbage bodies never take the broker down', {timeout: 120000}, async () => {
  const conn = await send([])
  assert.notEqual(conn, 'answered')
  const w0 = new Writer()
  encodeRequestHeader(w0, 18, 0, 1, 'fuzz')
  const p0 = w0.toBuffer()
  const sz = Buffer.alloc(4)
  sz.writeInt32BE(p0.length)
  const listing = await new Promise<Buffer>(resolve => {
    const s = connect(broker.port, '127.0.0.1', () => s.write(Buffer.concat([sz, p0])))
    let buf = Buffer.alloc(0)
    s.on('data', d => {
      buf = Buffer.concat([buf, d])
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) { s.destroy(); resolve(buf.subarray(4)) }
    })
  })
  const av = Apis.ApiVersions.decodeResponse(new Reader(listing, 4), 0)
  const rnd = prng(20261123)
  const outcomes = {answered: 0, closed: 0, silent: 0}
  for (const k of av.apiKeys) {
    if (MUTATING.has(k.apiKey)) continue
    for (let v = k.minVersion; v <= k.maxVersion; v++) {
      const frames: Buffer[] = []
      for (let i = 0; i < 3; i++) {
        const w = new Writer()
        encodeRequestHeader(w, k.apiKey, v, 100 + i, 'fuzz')
        const body = Buffer.alloc(rnd() % 48)
        for (let j = 0; j < body.length; j++) body[j] = rnd() & 0xff
        w.raw(body)
        const payload = w.toBuffer()
        const size = Buffer.alloc(4)
        size.writeInt32BE(payload.length)
        frames.push(Buffer.concat([size, payload]))
      }
      outcomes[await send(frames)]++
    }
  }
  assert.ok(outcomes.answered + outcomes.closed > 0)
  assert.equal(broker.proc.child.exitCode, null, 'the broker is still running')
  const bugs = broker.proc.output.split(/\r?\n/).filter(l => l.includes('unexpected error'))
  assert.deepEqual(bugs, [], 'handlers never throw on garbage: they answer or close with a protocol error')
  const r = await exec(KCAT, ['-b', broker.bootstrap, '-L'], {timeoutMs: 20000})
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /broker 0 at 127\.0\.0\.1/)
})
