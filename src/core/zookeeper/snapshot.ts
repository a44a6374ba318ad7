// Snapshots in Apache ZooKeeper's layout: dataDir/version-2/snapshot.<hex zxid>, a
// FileHeader {magic "ZKSN", version 2, dbid -1}, the sessions (id, timeout), the ACL cache
// (index -> ACL list), every znode (path, data, acl index, StatPersisted) pre-order from
// the root ("") and "/" as the end mark, then the Adler-32 of all that and "/" again.
// Apache ZooKeeper 3.8 reads these files and kafkit reads Apache's (test/zookeeper/differential).
import {readFileSync, open, write, fsync, close, unlinkSync} from 'node:fs'
import {join} from 'node:path'
import {JuteReader, JuteWriter, adler32} from './jute.js'
import {DataTree, ZNode} from './datatree.js'
import {readAcls, writeAcls, parentOf, baseName, type Acl} from './records.js'
import {SNAP_MAGIC, listZxidFiles, zxidHex} from './txnlog.js'

export function serializeSnapshot(tree: DataTree, sessions: Map<bigint, number>): Buffer {
  // One pass sizes the buffer (no regrowth); nodes go out in the tree's insertion order,
  // which always has a parent before its children (no recursion, no path building).
  let size = 64 + sessions.size * 12
  const aclIndex = new Map<readonly Acl[], number>()
  for (const [path, n] of tree.nodes) {
    size += path.length * 3 + n.data.length + 80
    if (!aclIndex.has(n.acl)) aclIndex.set(n.acl, aclIndex.size + 1)
  }
  for (const acl of aclIndex.keys()) for (const a of acl) size += 24 + a.scheme.length * 3 + a.id.length * 3
  const w = new JuteWriter(size)
  w.int(SNAP_MAGIC).int(2).long(-1)
  w.int(sessions.size)
  for (const [id, timeout] of sessions) w.bigLong(id).int(timeout)
  w.int(aclIndex.size)
  for (const [acl, idx] of aclIndex) {
    w.long(idx)
    writeAcls(w, acl)
  }
  for (const [path, n] of tree.nodes) {
    w.ustring(path === '/' ? '' : path)
    w.buffer(n.data).long(aclIndex.get(n.acl)!)
    w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime).int(n.version).int(n.cversion).int(n.aversion).bigLong(n.ephemeralOwner).long(n.pzxid)
  }
  w.ustring('/')
  const crc = adler32(w.buf, 0, w.pos)
  w.long(crc).ustring('/')
  return w.buf.subarray(0, w.pos)
}

export interface LoadedSnapshot {
  zxid: number
  file: string
  sessions: Map<bigint, number>
  nodes: number
}

/** Parses a snapshot into tree; throws on any inconsistency (the caller tries an older one). */
export function deserializeSnapshot(buf: Buffer, tree: DataTree): {sessions: Map<bigint, number>; nodes: number} {
  const r = new JuteReader(buf)
  if (r.int() !== SNAP_MAGIC) throw new Error('bad magic')
  r.int()
  r.long()
  const sessions = new Map<bigint, number>()
  const ns = r.vectorCount()
  for (let i = 0; i < ns; i++) sessions.set(r.bigLong(), r.int())
  const acls = new Map<number, readonly Acl[]>()
  const na = r.vectorCount()
  for (let i = 0; i < na; i++) {
    const idx = r.long()
    acls.set(idx, tree.internAcl(readAcls(r)))
  }
  tree.nodes.clear()
  tree.ephemerals.clear()
  tree.containers.clear()
  tree.ttls.clear()
  let count = 0
  for (;;) {
    const p = r.ustring()
    if (p === '/') break
    const path = p === '' ? '/' : p
    const data = Buffer.from(r.buffer())
    const aclIdx = r.long()
    const acl = acls.get(aclIdx) ?? acls.get(-1) ?? []
    const n = new ZNode(data, acl, r.long(), r.long(), r.long(), r.long(), r.int(), r.int(), r.int(), r.bigLong(), r.long())
    tree.nodes.set(path, n)
    if (path !== '/') {
      const parent = tree.nodes.get(parentOf(path))
      if (!parent) throw new Error(`node ${path} has no parent`)
      ;(parent.children ??= new Set()).add(baseName(path))
    }
    tree.reindex(path, n)
    count++
  }
  const end = r.pos
  const crc = r.long()
  if (crc !== adler32(buf, 0, end)) throw new Error('checksum mismatch')
  if (!tree.nodes.has('/')) throw new Error('no root')
  return {sessions, nodes: count}
}

/** Loads the newest valid snapshot in dir into tree; null when there is none. */
export function loadNewestSnapshot(dir: string, tree: DataTree, warn: (msg: string) => void): LoadedSnapshot | null {
  const snaps = listZxidFiles(dir, 'snapshot').reverse()
  for (const s of snaps) {
    try {
      const buf = readFileSync(join(dir, s.name))
      const {sessions, nodes} = deserializeSnapshot(buf, tree)
      tree.lastZxid = s.zxid
      return {zxid: s.zxid, file: join(dir, s.name), sessions, nodes}
    } catch (e) {
      warn(`Problem reading snap file ${join(dir, s.name)}: ${(e as Error).message}; trying an older one`)
    }
  }
  return null
}

/** Writes a snapshot file (write + fsync, off the event loop). */
export function writeSnapshot(dir: string, zxid: number, data: Buffer, cb: (err: Error | null, file: string) => void): void {
  const file = join(dir, `snapshot.${zxidHex(zxid)}`)
  open(file, 'w', (err, fd) => {
    if (err) return cb(err, file)
    write(fd, data, 0, data.length, 0, werr => {
      fsync(fd, serr => {
        close(fd, () => {
          const e = werr ?? serr
          if (e) { try { unlinkSync(file) } catch { /* ignore */ } }
          cb(e ?? null, file)
        })
      })
    })
  })
}

/** Autopurge: keeps the newest `retain` snapshots and the logs needed to replay from them. */
export function purge(dir: string, logDir: string, retain: number): {snapshots: number; logs: number} {
  const snaps = listZxidFiles(dir, 'snapshot')
  if (snaps.length <= retain) return {snapshots: 0, logs: 0}
  const keepFrom = snaps[snaps.length - retain].zxid
  let ds = 0
  let dl = 0
  for (const s of snaps.slice(0, snaps.length - retain)) {
    try { unlinkSync(join(dir, s.name)); ds++ } catch { /* in use */ }
  }
  const logs = listZxidFiles(logDir, 'log')
  // Keep the newest log starting at or before keepFrom (it may hold txns after it).
  let firstKeep = 0
  for (let i = 0; i < logs.length; i++) if (logs[i].zxid <= keepFrom) firstKeep = i
  for (const l of logs.slice(0, firstKeep)) {
    try { unlinkSync(join(logDir, l.name)); dl++ } catch { /* in use */ }
  }
  return {snapshots: ds, logs: dl}
}
