// Snapshots in Apache ZooKeeper's layout: dataDir/version-2/snapshot.<hex zxid>, a
// FileHeader {magic "ZKSN", version 2, dbid -1}, the sessions (id, timeout), the ACL cache
// (index -> ACL list), every znode (path, data, acl index, StatPersisted) pre-order from
// the root ("") and "/" as the end mark, then the Adler-32 of all that and "/" again.
// Apache ZooKeeper 3.8 reads these files and kafkit reads Apache's (test/zookeeper/differential).
import {readFileSync, open, write, fsync, close, unlinkSync, openSync, writeSync, fsyncSync, closeSync} from 'node:fs'
import {join} from 'node:path'
import {JuteReader, JuteWriter, adler32} from './jute.js'
import {DataTree, ZNode} from './datatree.js'
import {readAcls, writeAcls, parentOf, baseName, type Acl} from './records.js'
import {SNAP_MAGIC, listZxidFiles, zxidHex} from './txnlog.js'

/**
 * Writes a snapshot chunk by chunk, so a big tree neither stalls the server nor needs a
 * file-sized buffer. Like Apache ZooKeeper's, the snapshot is fuzzy: the tree keeps changing
 * between chunks, and recovery replays the log from `zxid` on top of it. Nodes created after
 * `zxid` are left out (their create is in the log), so every node written has its parent
 * written before it: the tree's Map keeps insertion order, a parent is always inserted before
 * its children, and Map iteration survives inserts and deletes.
 */
export class SnapshotWriter {
  private readonly w: JuteWriter
  private readonly it: IterableIterator<[string, ZNode]>
  private readonly aclIndex = new Map<readonly Acl[], number>()
  private crc = 1
  private started = false
  private finished = false
  nodes = 0
  bytes = 0

  constructor(tree: DataTree, sessions: Map<bigint, number>, readonly zxid: number, readonly chunkBytes = 1 << 20) {
    const w = (this.w = new JuteWriter(chunkBytes + 4096))
    w.int(SNAP_MAGIC).int(2).long(-1)
    w.int(sessions.size)
    for (const [id, timeout] of sessions) w.bigLong(id).int(timeout)
    // Every node's ACL list is interned, so the cache is the whole ACL map.
    const acls = tree.internedAcls()
    w.int(acls.length)
    for (const acl of acls) {
      const idx = this.aclIndex.size + 1
      this.aclIndex.set(acl, idx)
      w.long(idx)
      writeAcls(w, acl)
    }
    this.it = tree.nodes.entries()
  }

  /** The next piece of the file (valid until the next call), or null when it is complete. */
  next(): Buffer | null {
    if (this.finished) return null
    const w = this.w
    if (this.started) w.reset()
    this.started = true
    const limit = this.chunkBytes
    while (w.pos < limit) {
      const e = this.it.next()
      if (e.done === true) {
        w.ustring('/')
        this.crc = adler32(w.buf, 0, w.pos, this.crc)
        w.long(this.crc).ustring('/')
        this.finished = true
        this.bytes += w.pos
        return w.buf.subarray(0, w.pos)
      }
      const [path, n] = e.value
      if (n.czxid > this.zxid) continue
      // An ACL interned after the start belongs to a node whose setACL is in the log to
      // replay; any valid index stands in until then.
      const acl = this.aclIndex.get(n.acl) ?? 1
      w.ustring(path === '/' ? '' : path)
      w.latin1(n.data).long(acl)
      w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime).int(n.version).int(n.cversion).int(n.aversion).bigLong(n.ephemeralOwner).long(n.pzxid)
      this.nodes++
    }
    this.crc = adler32(w.buf, 0, w.pos, this.crc)
    this.bytes += w.pos
    return w.buf.subarray(0, w.pos)
  }
}

/** A whole snapshot in one buffer (tests and tools; the server streams with SnapshotWriter). */
export function serializeSnapshot(tree: DataTree, sessions: Map<bigint, number>, zxid = Number.MAX_SAFE_INTEGER): Buffer {
  const sw = new SnapshotWriter(tree, sessions, zxid)
  const parts: Buffer[] = []
  for (let c = sw.next(); c !== null; c = sw.next()) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
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
  tree.quotaPaths.clear()
  let count = 0
  for (;;) {
    const p = r.ustring()
    if (p === '/') break
    const path = p === '' ? '/' : p
    const data = r.latin1()
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

export function snapshotFile(dir: string, zxid: number): string {
  return join(dir, `snapshot.${zxidHex(zxid)}`)
}

/** Writes a whole snapshot file and fsyncs it, blocking (start-up only). */
export function writeSnapshotSync(dir: string, sw: SnapshotWriter): string {
  const file = snapshotFile(dir, sw.zxid)
  const fd = openSync(file, 'w')
  try {
    for (let c = sw.next(); c !== null; c = sw.next()) {
      let off = 0
      while (off < c.length) off += writeSync(fd, c, off, c.length - off)
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return file
}

/** A snapshot being written in the background; abort() stops it and removes the file. */
export interface SnapshotTask {
  readonly zxid: number
  abort(): Promise<void>
}

/**
 * Writes a snapshot off the event loop: one chunk is serialised, written, and only when the
 * write returns is the next one made, so clients are served between chunks. The file is
 * fsynced before cb reports success; on error or abort the partial file is removed (a torn
 * snapshot left by a crash fails its checksum and recovery uses an older one).
 */
export function writeSnapshot(dir: string, sw: SnapshotWriter, cb: (err: Error | null, file: string) => void): SnapshotTask {
  const file = snapshotFile(dir, sw.zxid)
  let aborted = false
  let settled: () => void = () => {}
  const done = new Promise<void>(r => { settled = r })
  const finish = (fd: number | null, err: Error | null) => {
    const end = () => {
      if (err || aborted) { try { unlinkSync(file) } catch { /* not there */ } }
      settled()
      if (!aborted) cb(err, file)
    }
    if (fd === null) end()
    else close(fd, end)
  }
  open(file, 'w', (err, fd) => {
    if (err) return finish(null, err)
    const step = () => {
      if (aborted) return finish(fd, null)
      let chunk: Buffer | null
      try {
        chunk = sw.next()
      } catch (e) {
        return finish(fd, e as Error)
      }
      if (chunk === null) {
        fsync(fd, serr => finish(fd, serr))
        return
      }
      writeChunk(fd, chunk, 0, werr => werr ? finish(fd, werr) : step())
    }
    step()
  })
  return {
    zxid: sw.zxid,
    abort() {
      aborted = true
      return done
    },
  }
}

function writeChunk(fd: number, b: Buffer, off: number, cb: (err: Error | null) => void): void {
  write(fd, b, off, b.length - off, null, (err, n) => {
    if (err) return cb(err)
    if (off + n < b.length) return writeChunk(fd, b, off + n, cb)
    cb(null)
  })
}

/** Autopurge: keeps the newest `retain` snapshots and the logs needed to replay from them. */
export function purge(dir: string, logDir: string, retain: number, writing = -1): {snapshots: number; logs: number} {
  // A snapshot still being written neither counts as retained nor gets removed.
  const snaps = listZxidFiles(dir, 'snapshot').filter(s => s.zxid !== writing)
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

/**
 * Reads a snapshot as it arrives on a stream, record by record (a leader's SNAP: the
 * sessions, the ACL map, the nodes and the "/" end mark, without file header or checksum),
 * into tree. step() returns true once the end mark has been read.
 */
export class SnapshotStreamReader {
  private stage: 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'done' = 'sessionCount'
  private left = 0
  private readonly acls = new Map<number, readonly Acl[]>()
  readonly sessions = new Map<bigint, number>()
  nodes = 0

  constructor(readonly tree: DataTree) {
    tree.reset()
    tree.nodes.clear()
  }

  /** Reads as many records as have arrived; parse(fn) runs fn on the buffered bytes (undefined: incomplete). */
  step(parse: <T>(fn: (r: JuteReader) => T) => T | undefined): boolean {
    for (;;) {
      switch (this.stage) {
        case 'sessionCount': {
          const n = parse(r => r.int())
          if (n === undefined) return false
          if (n < 0) throw new Error(`bad session count ${n} in snapshot`)
          this.left = n
          this.stage = 'sessions'
          break
        }
        case 'sessions': {
          if (this.left === 0) { this.stage = 'aclCount'; break }
          const s = parse(r => [r.bigLong(), r.int()] as const)
          if (s === undefined) return false
          this.sessions.set(s[0], s[1])
          this.left--
          break
        }
        case 'aclCount': {
          const n = parse(r => r.int())
          if (n === undefined) return false
          if (n < 0) throw new Error(`bad ACL map size ${n} in snapshot`)
          this.left = n
          this.stage = 'acls'
          break
        }
        case 'acls': {
          if (this.left === 0) { this.stage = 'nodes'; break }
          const e = parse(r => {
            const idx = r.long()
            const n = r.int()
            if (n < -1 || n > 100000) throw new Error(`bad ACL list size ${n} in snapshot`)
            const list: Acl[] = []
            for (let i = 0; i < n; i++) list.push({perms: r.int(), scheme: r.ustringOrNull() ?? '', id: r.ustringOrNull() ?? ''})
            return [idx, list] as const
          })
          if (e === undefined) return false
          this.acls.set(e[0], this.tree.internAcl(e[1]))
          this.left--
          break
        }
        case 'nodes': {
          const tree = this.tree
          const done = parse(r => {
            const p = r.ustring()
            if (p === '/') return true
            const path = p === '' ? '/' : p
            const data = r.latin1()
            const aclIdx = r.long()
            const acl = this.acls.get(aclIdx) ?? this.acls.get(-1) ?? []
            const n = new ZNode(data, acl, r.long(), r.long(), r.long(), r.long(), r.int(), r.int(), r.int(), r.bigLong(), r.long())
            tree.nodes.set(path, n)
            if (path !== '/') {
              const parent = tree.nodes.get(parentOf(path))
              if (!parent) throw new Error(`node ${path} has no parent`)
              ;(parent.children ??= new Set()).add(baseName(path))
            }
            tree.reindex(path, n)
            this.nodes++
            return false
          })
          if (done === undefined) return false
          if (done) {
            if (!tree.nodes.has('/')) throw new Error('snapshot without a root')
            this.stage = 'done'
            return true
          }
          break
        }
        case 'done':
          return true
      }
    }
  }
}
