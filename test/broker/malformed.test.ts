// A broker never crashes on what a client sends: garbage, truncated frames, oversize
// lengths and unknown API keys close only that connection; requests before ApiVersions
// are served; an unsupported ApiVersions version gets UNSUPPORTED_VERSION with the list;
// pipelined requests are answered in order.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {randomBytes} from 'node:crypto'
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

function frame(apiKey: number, version: number, correlationId: number, body: object): Buffer {
  const w = new Writer()
  encodeRequestHeader(w, apiKey, version, correlationId, 'malformed-test')
  ;(Object.values(Apis).find(a => a.apiKey === apiKey) as any).encodeRequest(w, version, body)
  const payload = w.toBuffer()
  const size = Buffer.alloc(4)
  size.writeInt32BE(payload.length)
  return Buffer.concat([size, payload])
}

/** Connects, writes, and collects everything until the broker closes or `frames` responses arrived. */
function converse(data: Buffer | Buffer[], frames = Infinity, timeoutMs = 5000): Promise<{closed: boolean; responses: Buffer[]}> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(broker.port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    const responses: Buffer[] = []
    const timer = setTimeout(() => { s.destroy(); resolve({closed: false, responses}) }, timeoutMs)
    s.on('connect', () => { for (const d of Array.isArray(data) ? data : [data]) s.write(d) })
    s.on('data', d => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        responses.push(buf.subarray(4, 4 + buf.readInt32BE(0)))
        buf = buf.subarray(4 + buf.readInt32BE(0))
      }
      if (responses.length >= frames) { clearTimeout(timer); s.destroy(); resolve({closed: false, responses}) }
    })
    s.on('close', () => { clearTimeout(timer); resolve({closed: true, responses}) })
    s.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
  })
}

async function stillServes(): Promise<void> {
  const r = await exec(KCAT, ['-b', broker.bootstrap, '-L', '-m', '5'], {timeoutMs: 15000})
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /broker 0 at 127\.0\.0\.1/)
}

test('random bytes close the connection; the broker keeps serving', async () => {
  const r = await converse(Buffer.concat([Buffer.from([0, 0, 0, 40]), randomBytes(40)]))
  assert.equal(r.closed, true)
  assert.equal(r.responses.length, 0)
  await stillServes()
})

test('oversize and negative lengths close the connection', async () => {
  for (const size of [0x7fffffff, -5, 200 * 1024 * 1024]) {
    const b = Buffer.alloc(8)
    b.writeInt32BE(size)
    const r = await converse(b)
    assert.equal(r.closed, true, `size ${size}`)
  }
  await stillServes()
})

test('a truncated frame is never answered and does not disturb others', async () => {
  const full = frame(3, 1, 7, {topics: null})
  const r = await converse(full.subarray(0, full.length - 3), Infinity, 500)
  assert.equal(r.responses.length, 0)
  await stillServes()
})

test('unknown API key closes the connection', async () => {
  const w = new Writer()
  w.int16(999).int16(0).int32(1).nullableString('x')
  const p = w.toBuffer()
  const size = Buffer.alloc(4)
  size.writeInt32BE(p.length)
  const r = await converse(Buffer.concat([size, p]))
  assert.equal(r.closed, true)
  assert.equal(r.responses.length, 0)
  await stillServes()
})

test('a request before ApiVersions is served; pipelined requests come back in order', async () => {
  const reqs = [frame(3, 0, 11, {topics: []}), frame(18, 0, 12, {}), frame(3, 4, 13, {topics: null, allowAutoTopicCreation: false}), frame(18, 3, 14, {clientSoftwareName: 't', clientSoftwareVersion: '1'})]
  const r = await converse(Buffer.concat(reqs), 4)
  assert.deepEqual(r.responses.map(b => b.readInt32BE(0)), [11, 12, 13, 14])
  const meta = Apis.Metadata.decodeResponse(new Reader(r.responses[0], 4), 0)
  assert.equal(meta.brokers[0].port, broker.port)
  const av = Apis.ApiVersions.decodeResponse(new Reader(r.responses[1], 4), 0)
  assert.equal(av.errorCode, 0)
  const keys = new Map(av.apiKeys.map(k => [k.apiKey, k]))
  for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 33, 37, 42, 44, 60]) assert.ok(keys.has(key), `api key ${key} listed`)
  assert.equal(keys.get(0)!.maxVersion, 11)
  assert.equal(keys.get(1)!.maxVersion, 17)
  assert.equal(keys.get(3)!.maxVersion, 12)
})

test('ApiVersions at an unsupported version answers UNSUPPORTED_VERSION with the list (v0 body)', async () => {
  const w = new Writer()
  w.int16(18).int16(77).int32(5).nullableString('future-client').unsignedVarint(0)
  w.compactString('x').compactString('1').unsignedVarint(0)
  const p = w.toBuffer()
  const size = Buffer.alloc(4)
  size.writeInt32BE(p.length)
  const r = await converse(Buffer.concat([size, p]), 1)
  assert.equal(r.responses.length, 1)
  assert.equal(r.responses[0].readInt32BE(0), 5)
  const av = Apis.ApiVersions.decodeResponse(new Reader(r.responses[0], 4), 0)
  assert.equal(av.errorCode, 35)
  assert.ok(av.apiKeys.some(k => k.apiKey === 18 && k.maxVersion >= 3))
})

test('a SASL handshake on the PLAINTEXT listener gets ILLEGAL_SASL_STATE (as from Kafka), not a dropped connection', async () => {
  const r = await converse(frame(17, 1, 21, {mechanism: 'PLAIN'}), 1)
  assert.equal(r.responses.length, 1)
  const res = Apis.SaslHandshake.decodeResponse(new Reader(r.responses[0], 4), 1)
  assert.equal(res.errorCode, 34)
  assert.deepEqual(res.mechanisms, [])
})
