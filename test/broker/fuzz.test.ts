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

const SEED = Number(process.env.FUZZ_SEED ?? 20261123)

/** An ApiVersions v0 request: sent after the garbage, its answer shows the garbage was dealt with. */
function probeFrame(correlationId: number): Buffer {
  const w = new Writer()
  encodeRequestHeader(w, 18, 0, correlationId, 'fuzz')
  const p = w.toBuffer()
  const size = Buffer.alloc(4)
  size.writeInt32BE(p.length)
  return Buffer.concat([size, p])
}

/**
 * Sends the frames and then a well-formed probe on one connection. Responses come in request
 * order, so the probe's answer means every frame before it was answered ('answered'); a close
 * means the broker refused one ('closed'). Only a frame that decodes as a long poll can hold the
 * probe back: after 10 s that counts as 'silent'.
 */
function send(frames: Buffer[]): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise(resolve => {
    const s = connect(broker.port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => { s.destroy(); resolve('silent') }, 10000)
    const done = (v: 'answered' | 'closed') => { clearTimeout(timer); s.destroy(); resolve(v) }
    s.on('connect', () => { for (const f of frames) s.write(f); s.write(probeFrame(999)) })
    s.on('data', d => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 8 && buf.length >= 4 + buf.readInt32BE(0)) {
        if (buf.readInt32BE(4) === 999) { done('answered'); return }
        buf = buf.subarray(4 + buf.readInt32BE(0))
      }
    })
    s.on('close', () => done('closed'))
    s.on('error', () => {})
  })
}

test('garbage bodies never take the broker down', {timeout: 120000}, async () => {
  // A probe alone is answered.
  assert.equal(await send([]), 'answered')
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
  console.log(`fuzz seed ${SEED} (FUZZ_SEED repeats it)`)
  const rnd = prng(SEED)
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
