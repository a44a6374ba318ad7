// The ZooKeeper load generator, run as a separate process by zk-bench: many sessions over
// raw sockets, each keeping `depth` requests in flight (1 = synchronous), for one
// operation (create, setData, getData, exists) for a fixed time. Prints one JSON line:
// {op, ops, seconds, opsPerSec, p50, p99} (latencies in ms). --ports a,b,c spreads the
// sessions over the members of an ensemble.
import {createConnection, type Socket} from 'node:net'

interface Args { port: number; ports: number[]; op: string; sessions: number; depth: number; seconds: number; prefix: string; keys: number; size: number; count: number }

function parse(): Args {
  const a = process.argv.slice(2)
  const get = (k: string, d: string) => { const i = a.indexOf('--' + k); return i >= 0 ? a[i + 1] : d }
  const port = Number(get('port', '2181'))
  return {port, ports: get('ports', String(port)).split(',').map(Number), op: get('op', 'create'), sessions: Number(get('sessions', '16')), depth: Number(get('depth', '1')), seconds: Number(get('seconds', '3')), prefix: get('prefix', '/bench'), keys: Number(get('keys', '1000')), size: Number(get('size', '100')), count: Number(get('count', '0'))}
}

const OP = {create: 1, exists: 3, getData: 4, setData: 5} as const

class Session {
  private buf = Buffer.alloc(0)
  private sent: number[] = []
  private onFrame: (f: Buffer) => void = () => {}
  constructor(readonly socket: Socket) {
    socket.setNoDelay(true)
    socket.on('data', d => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      let pos = 0
      while (this.buf.length - pos >= 4) {
        const n = this.buf.readInt32BE(pos)
        if (this.buf.length - pos - 4 < n) break
        this.onFrame(this.buf.subarray(pos + 4, pos + 4 + n))
        pos += 4 + n
      }
      this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos)
    })
  }

  static async open(port: number): Promise<Session> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const c = createConnection({host: '127.0.0.1', port}, () => resolve(c))
      c.once('error', reject)
    })
    const sess = new Session(s)
    const hs = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + 16 + 1)
    let o = 0
    hs.writeInt32BE(hs.length - 4, o); o += 4
    hs.writeInt32BE(0, o); o += 4
    o += 8
    hs.writeInt32BE(30000, o); o += 4
    o += 8
    hs.writeInt32BE(16, o); o += 4 + 16
    hs[o] = 0
    await new Promise<void>(resolve => { sess.onFrame = () => resolve(); s.write(hs) })
    return sess
  }

  run(makeReq: (xid: number) => Buffer, depth: number, until: number, count: number, lat: number[], done: () => void): void {
    let xid = 0
    let inflight = 0
    let finished = false
    const issue = () => {
      xid++
      this.sent.push(performance.now())
      inflight++
      this.socket.write(makeReq(xid))
    }
    this.onFrame = f => {
      const x = f.readInt32BE(0)
      if (x < 0) return
      const err = f.readInt32BE(12)
      if (err !== 0 && err !== -110) { console.error(`error ${err}`); process.exit(2) }
      lat.push(performance.now() - this.sent.shift()!)
      inflight--
      if (count > 0 ? xid < count : performance.now() < until) issue()
      else if (inflight === 0 && !finished) { finished = true; done() }
    }
    for (let i = 0; i < (count > 0 ? Math.min(depth, count) : depth); i++) issue()
  }
}

function req(xid: number, type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(12 + body.length)
  b.writeInt32BE(8 + body.length, 0)
  b.writeInt32BE(xid, 4)
  b.writeInt32BE(type, 8)
  body.copy(b, 12)
  return b
}

function str(s: string): Buffer {
  const b = Buffer.alloc(4 + Buffer.byteLength(s))
  b.writeInt32BE(b.length - 4, 0)
  b.write(s, 4)
  return b
}

const ACL = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 31]), str('world'), str('anyone')])

async function main(): Promise<void> {
  const a = parse()
  // Sessions spread over the servers given with --ports (an ensemble), round robin.
  const sessions = await Promise.all(Array.from({length: a.sessions}, (_, i) => Session.open(a.ports[i % a.ports.length])))
  const data = Buffer.alloc(a.size, 'x')
  const dataBuf = Buffer.concat([Buffer.from([0, 0, 0, 0]), data]); dataBuf.writeInt32BE(data.length, 0)
  const lat: number[] = []
  const until = performance.now() + a.seconds * 1000
  const t0 = performance.now()
  await Promise.all(sessions.map((s, si) => new Promise<void>(resolve => {
    let n = 0
    const make = (xid: number): Buffer => {
      n++
      switch (a.op) {
        case 'create': return req(xid, OP.create, Buffer.concat([str(`${a.prefix}/s${si}-${n}`), dataBuf, ACL, Buffer.from([0, 0, 0, 0])]))
        case 'setup': return req(xid, OP.create, Buffer.concat([str(`${a.prefix}/k${(n - 1) % a.keys}`), dataBuf, ACL, Buffer.from([0, 0, 0, 0])]))
        case 'setData': return req(xid, OP.setData, Buffer.concat([str(`${a.prefix}/k${(si * 7919 + n) % a.keys}`), dataBuf, Buffer.from([0xff, 0xff, 0xff, 0xff])]))
        case 'getData': return req(xid, OP.getData, Buffer.concat([str(`${a.prefix}/k${(si * 7919 + n) % a.keys}`), Buffer.from([0])]))
        case 'exists': return req(xid, OP.exists, Buffer.concat([str(`${a.prefix}/k${(si * 7919 + n) % a.keys}`), Buffer.from([0])]))
        case 'root': return req(xid, OP.create, Buffer.concat([str(a.prefix), Buffer.from([0, 0, 0, 0]), ACL, Buffer.from([0, 0, 0, 0])]))
        default: throw new Error(`unknown op ${a.op}`)
      }
    }
    s.run(make, a.depth, until, a.count, lat, resolve)
  })))
  const seconds = (performance.now() - t0) / 1000
  lat.sort((x, y) => x - y)
  const pct = (p: number) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : 0
  process.stdout.write(JSON.stringify({op: a.op, ops: lat.length, seconds, opsPerSec: lat.length / seconds, p50: pct(0.5), p99: pct(0.99)}) + '\n')
  for (const s of sessions) s.socket.destroy()
}

main().catch(e => { console.error(`loadgen: ${(e as Error).message}`); process.exit(1) })
