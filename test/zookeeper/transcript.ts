// The differential script: one sequence of requests (successes, failures, watches, multi,
// sequential nodes, ACLs, containers, TTLs, persistent watches, invalid paths) on the wire,
// recorded as a transcript (error codes, zxids, paths, data, Stat fields except wall-clock
// times, watch events) to compare servers: kafkit and Apache ZooKeeper 3.8, standalone or
// any member of an ensemble.
import {RawClient} from './rawclient.js'
import type {JuteReader, JuteWriter} from '../../src/core/zookeeper/jute.js'

export type Entry = unknown[]

const OPEN = (w: JuteWriter) => w.int(1).int(31).ustring('world').ustring('anyone')

let rel: (z: number) => number | string = z => z

function stat(r: JuteReader, sessions: Map<bigint, string>): Record<string, unknown> {
  const czxid = r.long(), mzxid = r.long()
  r.long(); r.long() // ctime, mtime: wall clock
  const version = r.int(), cversion = r.int(), aversion = r.int()
  const owner = r.bigLong()
  const dataLength = r.int(), numChildren = r.int(), pzxid = r.long()
  const ephemeralOwner = owner === 0n ? '0' : sessions.get(owner) ?? (owner < 0n ? owner.toString(16) : 'other')
  return {czxid: rel(czxid), mzxid: rel(mzxid), version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid: rel(pzxid)}
}

function children(r: JuteReader): string[] {
  const n = r.int()
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(r.ustring())
  return out.sort()
}

function multiResults(r: JuteReader, sessions: Map<bigint, string>): Entry[] {
  const out: Entry[] = []
  for (;;) {
    const type = r.int(), done = r.bool(), err = r.int()
    if (done) break
    switch (type) {
      case 1: out.push([type, err, r.ustring()]); break
      case 15: out.push([type, err, r.ustring(), stat(r, sessions)]); break
      case 5: out.push([type, err, stat(r, sessions)]); break
      case 4: out.push([type, err, r.buffer().toString(), stat(r, sessions)]); break
      case 8: out.push([type, err, children(r)]); break
      case -1: out.push([type, err, r.int()]); break
      default: out.push([type, err])
    }
  }
  return out
}

/**
 * Runs the script on a server. With a root ('/r1'), every znode the script touches lives
 * under it (quota nodes under /zookeeper/quota/r1), the reads of / and /zookeeper are left
 * out, and the transcript shows paths without the root and zxids counted from the script's
 * first transaction: the same script can then run again on the same server or ensemble.
 */
export async function runScript(port: number, root = ''): Promise<Entry[]> {
  const P = (p: string) => (root !== '' && p.startsWith('/') && p !== '/' && !p.startsWith('/zookeeper')) ? root + p : p.startsWith('/zookeeper/quota/q') ? `/zookeeper/quota${root}${p.slice('/zookeeper/quota'.length)}` : p
  const strip = (s: string) => root === '' ? s : s.split(root + '/').join('/').split(`/zookeeper/quota${root}/`).join('/zookeeper/quota/')
  const a = await RawClient.open(port)
  const b = await RawClient.open(port)
  await a.handshake(6000)
  await b.handshake(6000)
  const sessions = new Map<bigint, string>([[a.sessionId, 'A'], [b.sessionId, 'B']])
  const t: Entry[] = []
  let xid = 1
  let base = -1
  if (root !== '') {
    // The roots, and the first zxid of the run (every later one is shown relative to it).
    for (const r of [root, `/zookeeper/quota${root}`]) {
      const h = await a.request(xid++, 1, w => { w.ustring(r).buffer(Buffer.alloc(0)); OPEN(w); w.int(0) })
      if (h.err !== 0) throw new Error(`create ${r}: ${h.err}`)
      base = h.zxid
    }
  }
  rel = (z: number) => base < 0 || z === 0 ? z : z > base ? `+${z - base}` : 'before'
  const req = async (c: RawClient, label: string, type: number, body: (w: JuteWriter) => void, decode?: (r: JuteReader) => unknown) => {
    const h = await c.request(xid++, type, body).catch(e => { throw new Error(`${label}: ${(e as Error).message} (transcript so far: ${JSON.stringify(t.slice(-3))})`) })
    const decoded = h.err === 0 && decode ? decode(h.r) : null
    // The bytes left undecoded must agree too (an op's reply body, or none after an error).
    t.push([label, h.err, rel(h.zxid), root === '' ? decoded : JSON.parse(strip(JSON.stringify(decoded ?? null))), `rest=${h.r.remaining()}`])
  }
  const global = (path: string) => root !== '' && (path === '/' || path === '/zookeeper')
  const create = (c: RawClient, path: string, data: string, flags: number, type = 1, acl = OPEN) =>
    req(c, `create${type}(${path},${flags})`, type, w => { w.ustring(P(path)).buffer(Buffer.from(data)); acl(w); w.int(flags) }, r => type === 1 ? r.ustring() : [r.ustring(), stat(r, sessions)])
  const getData = (c: RawClient, path: string, watch = false) =>
    global(path) ? Promise.resolve() : req(c, `getData(${path},${watch})`, 4, w => w.ustring(P(path)).bool(watch), r => [r.buffer().toString(), stat(r, sessions)])
  const setData = (c: RawClient, path: string, data: string, version: number) =>
    req(c, `setData(${path},${version})`, 5, w => w.ustring(P(path)).buffer(Buffer.from(data)).int(version), r => stat(r, sessions))
  const exists = (c: RawClient, path: string, watch = false) =>
    req(c, `exists(${path},${watch})`, 3, w => w.ustring(P(path)).bool(watch), r => stat(r, sessions))
  const del = (c: RawClient, path: string, version: number) =>
    global(path) ? Promise.resolve() : req(c, `delete(${path},${version})`, 2, w => w.ustring(P(path)).int(version))
  const getChildren2 = (c: RawClient, path: string, watch = false) =>
    global(path) ? Promise.resolve() : req(c, `getChildren2(${path},${watch})`, 12, w => w.ustring(P(path)).bool(watch), r => [children(r), stat(r, sessions)])
  const events = async (c: RawClient, name: string) => {
    await req(c, `barrier-${name}`, 3, w => w.ustring(P('/')).bool(false))
    t.push([`events-${name}`, c.events.splice(0).map(e => strip(e.join(' ')))])
  }

  await getData(a, '/')
  await getChildren2(a, '/zookeeper')
  await create(a, '/d', 'x', 0)
  await create(a, '/d', 'y', 0)
  await getData(b, '/d', true)
  await exists(b, '/nope', true)
  await create(a, '/d/s-', '1', 2)
  await create(a, '/d/s-', '2', 3)
  await create(a, '/d/e', 'e', 1)
  await create(a, '/d/c2', 'c', 0, 15)
  await create(a, '/d/e/child', '', 0)
  await getChildren2(b, '/d', true)
  await setData(a, '/d', 'x2', 0)
  await setData(a, '/d', 'x3', 0)
  await create(a, '/nope', '', 0)
  await events(b, '1')
  await del(a, '/d', -1)
  await del(a, '/d/c2', 5)
  await del(a, '/d/c2', 0)
  await del(a, '/d/c2', 0)
  await getChildren2(a, '/d')
  // multi: success, then a failure in the middle
  const op = (w: JuteWriter, type: number) => w.int(type).bool(false).int(-1)
  const end = (w: JuteWriter) => w.int(-1).bool(true).int(-1)
  await req(a, 'multi-ok', 14, w => {
    op(w, 13); w.ustring(P('/d')).int(1)
    op(w, 1); w.ustring(P('/d/m1')).buffer(Buffer.from('m')); OPEN(w); w.int(0)
    op(w, 15); w.ustring(P('/d/m-')).buffer(Buffer.from('m')); OPEN(w); w.int(2)
    op(w, 5); w.ustring(P('/d')).buffer(Buffer.from('x4')).int(1)
    op(w, 2); w.ustring(P('/d/m1')).int(-1)
    end(w)
  }, r => multiResults(r, sessions))
  await req(a, 'multi-fail', 14, w => {
    op(w, 1); w.ustring(P('/d/m2')).buffer(Buffer.alloc(0)); OPEN(w); w.int(0)
    op(w, 13); w.ustring(P('/d')).int(99)
    op(w, 1); w.ustring(P('/d/m3')).buffer(Buffer.alloc(0)); OPEN(w); w.int(0)
    end(w)
  }, r => multiResults(r, sessions))
  await req(a, 'multi-nonode', 14, w => {
    op(w, 5); w.ustring(P('/d')).buffer(Buffer.from('q')).int(-1)
    op(w, 2); w.ustring(P('/missing')).int(-1)
    end(w)
  }, r => multiResults(r, sessions))
  await req(a, 'multiRead', 22, w => {
    op(w, 4); w.ustring(P('/d')).bool(false)
    op(w, 8); w.ustring(P('/d')).bool(false)
    op(w, 4); w.ustring(P('/missing')).bool(false)
    end(w)
  }, r => multiResults(r, sessions))
  await getChildren2(a, '/d')
  // invalid paths and special nodes
  await create(a, 'd', '', 0)
  await create(a, '/d/', '', 0)
  await create(a, '/d//x', '', 0)
  await create(a, '/d/./x', '', 0)
  await del(a, '/', -1)
  await del(a, '/zookeeper', -1)
  await setData(a, '/missing', '', -1)
  // ACLs
  await req(a, 'getACL(/d)', 6, w => w.ustring(P('/d')), r => { const n = r.int(); const acls = []; for (let i = 0; i < n; i++) acls.push([r.int(), r.ustring(), r.ustring()]); return [acls, stat(r, sessions)] })
  await req(a, 'setACL(/d/c2,bad)', 7, w => { w.ustring(P('/d/s-0000000000')).int(1).int(31).ustring('nope').ustring('x').int(-1) }, r => stat(r, sessions))
  await req(a, 'setACL(/d/s,read)', 7, w => { w.ustring(P('/d/s-0000000000')).int(1).int(1).ustring('world').ustring('anyone').int(0) }, r => stat(r, sessions))
  await req(a, 'setACL(/d/s,badversion)', 7, w => { w.ustring(P('/d/s-0000000000')).int(1).int(1).ustring('world').ustring('anyone').int(0) }, r => stat(r, sessions))
  await setData(a, '/d/s-0000000000', 'no', -1)
  await create(a, '/d/s-0000000000/x', '', 0)
  await create(a, '/acl', '', 0, 1, w => w.int(1).int(31).ustring('digest').ustring('u:Xx5eB0yOmV2Rr0zvYMZEL4bB0eI='))
  await getData(b, '/acl')
  await create(a, '/auth', '', 0, 1, w => w.int(1).int(31).ustring('auth').ustring(''))
  // containers, TTLs, counts, ephemerals of a session
  await create(a, '/cont', '', 4, 19)
  await create(a, '/cont/x', '', 0)
  await req(a, 'createTTL', 21, w => { w.ustring(P('/ttl')).buffer(Buffer.alloc(0)); OPEN(w); w.int(5).long(100000) }, r => [r.ustring(), stat(r, sessions)])
  await req(a, 'createTTL-bad', 21, w => { w.ustring(P('/ttl2')).buffer(Buffer.alloc(0)); OPEN(w); w.int(0).long(100000) })
  await req(a, 'getAllChildrenNumber(/d)', 104, w => w.ustring(P('/d')), r => r.int())
  await req(a, 'getEphemerals(/)', 103, w => w.ustring(P('/')), r => { const n = r.int(); const o = []; for (let i = 0; i < n; i++) o.push(r.ustring()); return o.sort() })
  await req(a, 'sync(/d)', 9, w => w.ustring(P('/d')), r => r.ustring())
  // null data (length -1) stays null, unlike empty data; setData back to null too
  await req(a, 'create(/nul,null)', 1, w => { w.ustring(P('/nul')).int(-1); OPEN(w); w.int(0) }, r => r.ustring())
  await req(a, 'getData(/nul)', 4, w => w.ustring(P('/nul')).bool(false), r => [r.int(), stat(r, sessions)])
  await setData(a, '/nul', 'v', -1)
  await req(a, 'setData(/nul,null)', 5, w => w.ustring(P('/nul')).int(-1).int(-1), r => stat(r, sessions))
  await req(a, 'getData(/nul) again', 4, w => w.ustring(P('/nul')).bool(false), r => [r.int(), stat(r, sessions)])
  // quotas: the server keeps /zookeeper/quota/<path>/zookeeper_stats up to date
  const quotaStats = (label: string) => req(a, `stats ${label}`, 4, w => w.ustring(P('/zookeeper/quota/q/zookeeper_stats')).bool(false), r => [r.buffer().toString(), stat(r, sessions)])
  await create(a, '/q', 'ab', 0)
  await create(a, '/q/x', 'abc', 0)
  await create(a, '/zookeeper/quota/q', '', 0)
  await create(a, '/zookeeper/quota/q/zookeeper_limits', 'count=10,bytes=-1', 0)
  await create(a, '/zookeeper/quota/q/zookeeper_stats', 'count=0,bytes=0', 0)
  await quotaStats('created')
  await create(a, '/q/x/y', '12345', 0)
  await setData(a, '/q/x', 'a', -1)
  await quotaStats('after create and set')
  await del(a, '/q/x/y', -1)
  await quotaStats('after delete')
  await setData(a, '/zookeeper/quota/q/zookeeper_stats', 'count=99,bytes=99', -1)
  await create(a, '/q/z', '', 0)
  await quotaStats('after a client set it')
  await del(a, '/zookeeper/quota/q/zookeeper_limits', -1)
  await create(a, '/q/w', 'zz', 0)
  await quotaStats('after the limits went')
  await req(a, 'getData(/cont)', 4, w => w.ustring(P('/cont')).bool(false), r => [r.int(), stat(r, sessions)])
  // persistent and recursive watches, checkWatches/removeWatches
  await req(b, 'addWatch(/d,recursive)', 106, w => w.ustring(P('/d')).int(1))
  await req(b, 'addWatch(/cont,persistent)', 106, w => w.ustring(P('/cont')).int(0))
  await req(b, 'checkWatches(/nope)', 17, w => w.ustring(P('/nope')).int(2))
  await exists(b, '/w', true)
  await req(b, 'checkWatches(/w)', 17, w => w.ustring(P('/w')).int(2))
  await req(b, 'removeWatches(/w)', 18, w => w.ustring(P('/w')).int(2))
  await req(b, 'removeWatches(/w) again', 18, w => w.ustring(P('/w')).int(2))
  await create(a, '/d/s-0000000001/deep', 'z', 0)
  await setData(a, '/d/s-0000000001/deep', 'z2', -1)
  await create(a, '/cont/y', '', 0)
  await setData(a, '/cont', 'c', -1)
  await create(a, '/w', '', 0)
  await events(b, '2')
  await exists(b, '/d/e', true)
  // closing session A removes its ephemerals
  await req(a, 'closeSession', -11, () => {})
  await events(b, '3')
  await getChildren2(b, '/d')
  await getData(b, '/')
  a.close()
  b.close()
  return t
}

