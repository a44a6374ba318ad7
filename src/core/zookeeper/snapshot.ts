// Snapshots in Apache ZooKeeper's layout: dataDir/version-2/snapshot.<hex zxid>, a
// FileHeader {magic "ZKSN", version 2, dbid -1}, the sessions (id, timeout), the ACL cache
// (index -> ACL list), every znode (path, data, acl index, StatPersisted) pre-order from
// the root ("") and "/" as the end mark, then the Adler-32 of all that and "/" again.
// Apache ZooKeeper 3.8 reads these files and kafkit reads Apache's (test/zookeeper/differential).
import {open, write, fsync, close, unlinkSync, openSync, readSync, writeSync, fsyncSync, closeSync} from 'node:fs'
import {join} from 'node:path'
import {JuteReader, JuteWriter, JuteError, JuteTruncated, adler32} from './jute.js'
import {DataTree, ZNode} from './datatree.js'
import {readAcls, writeAcls, parentOf, baseName, type Acl} from './records.js'
import {SNAP_MAGIC, listZxidFiles, zxidHex} from './txnlog.js'
import {encodeNode, decodeNodes} from './snapshot-codec.js'

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
  private head: Buffer | null
  private readonly it: IterableIterator<[string, ZNode]>
  private readonly aclIndex = new Map<readonly Acl[], number>()
  private crc = 1
  private finished = false
  nodes = 0
  bytes = 0
  /** The longest a slice of writeSnapshot ran (ms). */
  longestSliceMs = 0

  constructor(tree: DataTree, sessions: Map<bigint, number>, readonly zxid: number, readonly chunkBytes = 1 << 20) {
    const w = new JuteWriter(4096)
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
    this.head = w.toBuffer()
    this.w = new JuteWriter(Math.min(chunkBytes, 1 << 22) + 4096)
    this.it = tree.nodes.entries()
  }

  /** Whether the whole file has been produced. */
  get done(): boolean {
    return this.finished
  }

  /** The next piece of the file (valid until the next call), or null when it is complete. */
  next(): Buffer | null {
    if (this.finished) return null
    this.fill(this.w.reset())
    return this.w.buf.subarray(0, this.w.pos)
  }

  /**
   * Appends the next piece of the file to w: nodes until w holds chunkBytes or, checked every
   * few nodes, performance.now() reaches deadline. Returns true once the file is complete.
   */
  fill(w: JuteWriter, deadline = Infinity): boolean {
    if (this.finished) return true
    const from = w.pos
    if (this.head !== null) {
      w.raw(this.head)
      this.head = null
    }
    const limit = this.chunkBytes
    const zxid = this.zxid
    const it = this.it
    let lastAcl: readonly Acl[] | null = null
    let lastIdx = 1
    let k = 0
    // The checksum is taken as the bytes are made, so that it counts in the time budget.
    let summed = from
    while (w.pos - from < limit) {
      if ((++k & 63) === 0) {
        this.crc = adler32(w.buf, summed, w.pos, this.crc)
        summed = w.pos
        if (performance.now() >= deadline) break
      }
      const e = it.next()
      if (e.done === true) {
        w.ustring('/')
        this.crc = adler32(w.buf, summed, w.pos, this.crc)
        w.long(this.crc).ustring('/')
        this.finished = true
        this.bytes += w.pos - from
        return true
      }
      const n = e.value[1]
      if (n.czxid > zxid) continue
      if (n.acl !== lastAcl) {
        lastAcl = n.acl
        // An ACL interned after the start belongs to a node whose setACL is in the log to
        // replay; any valid index stands in until then.
        lastIdx = this.aclIndex.get(n.acl) ?? 1
      }
      encodeNode(w, e.value[0], n, lastIdx)
      this.nodes++
    }
    this.crc = adler32(w.buf, summed, w.pos, this.crc)
    this.bytes += w.pos - from
    return false
  }
}

/** A whole snapshot in one buffer (tests and tools; the server streams with SnapshotWriter). */
export function serializeSnapshot(tree: DataTree, sessions: Map<bigint, number>, zxid = Number.MAX_SAFE_INTEGER): Buffer {
  const sw = new SnapshotWriter(tree, sessions, zxid)
  const w = new JuteWriter(1 << 16)
  while (!sw.fill(w)) { /* until complete */ }
  return w.toBuffer()
}

export interface LoadedSnapshot {
  zxid: number
  file: string
  sessions: Map<bigint, number>
  nodes: number
}

/** Parses a snapshot into tree; throws on any inconsistency (the caller tries an older one). */
export function deserializeSnapshot(buf: Buffer, tree: DataTree): {sessions: Map<bigint, number>; nodes: number} {
  return readSnapshot((b, off, len, at) => {
    const n = Math.max(0, Math.min(len, buf.length - at))
    buf.copy(b, off, at, at + n)
    return n
  }, tree, buf.length + 16)
}

/**
 * Parses a snapshot read through read(buf, offset, length, position) -> bytes read, in
 * windows of `window` bytes (a record longer than that grows it), so that a big file is
 * never held whole; the checksum is summed window by window.
 */
export function readSnapshot(read: (b: Buffer, off: number, len: number, at: number) => number, tree: DataTree, window = 16 << 20): {sessions: Map<bigint, number>; nodes: number} {
  let buf = Buffer.allocUnsafe(Math.max(window, 16))
  let base = 0 // file offset of buf[0]
  let len = 0
  let eof = false
  let crc = 1
  // Sums and drops buf[0..keep), moves the rest to the front and reads on (a window that one
  // record fills is doubled).
  const refill = (keep: number) => {
    crc = adler32(buf, 0, keep, crc)
    const rest = len - keep
    if (rest === buf.length) {
      const grown = Buffer.allocUnsafe(buf.length * 2)
      buf.copy(grown, 0, 0, len)
      buf = grown
    } else if (keep > 0) buf.copy(buf, 0, keep, len)
    base += keep
    len = rest
    while (!eof && len < buf.length) {
      const n = read(buf, len, buf.length - len, base + len)
      if (n === 0) eof = true
      len += n
    }
  }
  refill(0)
  // The header (sessions and ACL map) is read whole: grow the window until it fits.
  let r: JuteReader
  let sessions: Map<bigint, number>
  let acls: Map<number, readonly Acl[]>
  for (;;) {
    try {
      r = new JuteReader(buf, 0, len)
      if (r.int() !== SNAP_MAGIC) throw new Error('bad magic')
      r.int()
      r.long()
      sessions = new Map<bigint, number>()
      const ns = r.vectorCount()
      for (let i = 0; i < ns; i++) sessions.set(r.bigLong(), r.int())
      acls = new Map<number, readonly Acl[]>()
      const na = r.vectorCount()
      for (let i = 0; i < na; i++) {
        const idx = r.long()
        acls.set(idx, tree.internAcl(readAcls(r)))
      }
      break
    } catch (e) {
      if (eof || !(e instanceof JuteError)) throw e
      refill(0)
    }
  }
  tree.nodes.clear()
  tree.ephemerals.clear()
  tree.containers.clear()
  tree.ttls.clear()
  tree.quotaPaths.clear()
  let pos = r.pos
  let count = 0
  for (;;) {
    const d = decodeNodes(buf, pos, len, tree, acls, !eof)
    count += d.count
    pos = d.pos
    if (d.done) break
    refill(pos)
    pos = 0
  }
  if (len - pos < 8 && !eof) {
    refill(pos)
    pos = 0
  }
  crc = adler32(buf, 0, pos, crc)
  if (len - pos < 8) throw new JuteTruncated(`truncated snapshot at ${base + pos}`)
  if (new JuteReader(buf, pos, len).long() !== crc) throw new Error('checksum mismatch')
  if (!tree.nodes.has('/')) throw new Error('no root')
  return {sessions, nodes: count}
}

/** Loads the newest valid snapshot in dir into tree; null when there is none. */
export function loadNewestSnapshot(dir: string, tree: DataTree, warn: (msg: string) => void): LoadedSnapshot | null {
  const snaps = listZxidFiles(dir, 'snapshot').reverse()
  for (const s of snaps) {
    try {
      const fd = openSync(join(dir, s.name), 'r')
      let loaded: {sessions: Map<bigint, number>; nodes: number}
      try {
        loaded = readSnapshot((b, off, len, at) => readSync(fd, b, off, len, at), tree)
      } finally {
        closeSync(fd)
      }
      const {sessions, nodes} = loaded
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

/** How a background snapshot shares the event loop with requests. */
export interface SnapshotPace {
  /** Milliseconds of serialising per turn of the event loop. */
  sliceMs: number
  /** Buffers of chunkBytes: one is filled while the others are being written. */
  buffers: number
}

/**
 * Writes a snapshot in the background: each turn of the event loop (setImmediate, so clients
 * are served in between) serialises for at most pace.sliceMs into a free buffer and starts its
 * write at its offset in the file; the next slice is made while that write runs, and waits
 * only when every buffer is being written (memory stays at pace.buffers * chunkBytes). The
 * file is fsynced before cb reports success; on error or abort the partial file is removed (a
 * torn snapshot left by a crash fails its checksum and recovery uses an older one).
 */
export function writeSnapshot(dir: string, sw: SnapshotWriter, cb: (err: Error | null, file: string) => void, pace: SnapshotPace = {sliceMs: 8, buffers: 2}): SnapshotTask {
  const file = snapshotFile(dir, sw.zxid)
  let aborted = false
  let failed: Error | null = null
  let closing = false
  let syncing = false
  let settled: () => void = () => {}
  const done = new Promise<void>(r => { settled = r })
  let fd = -1
  let offset = 0
  let inFlight = 0
  let scheduled = false
  let made = 0
  const free: JuteWriter[] = []
  const finish = (err: Error | null) => {
    if (closing) return
    closing = true
    const end = () => {
      if (err || aborted) { try { unlinkSync(file) } catch { /* not there */ } }
      settled()
      if (!aborted) cb(err, file)
    }
    if (fd < 0) end()
    else close(fd, end)
  }
  // Called after every slice and every completed write: decides what happens next.
  const advance = () => {
    if (closing || inFlight > 0 && (aborted || failed !== null)) return
    if (aborted || failed !== null) return finish(failed)
    if (sw.done) {
      if (inFlight === 0 && !syncing) {
        syncing = true
        fsync(fd, err => finish(err))
      }
      return
    }
    if (!scheduled && (free.length > 0 || made < pace.buffers)) {
      scheduled = true
      setImmediate(slice)
    }
  }
  const slice = () => {
    scheduled = false
    if (aborted || failed !== null || closing) return advance()
    const w = free.pop() ?? (made++, new JuteWriter(Math.min(sw.chunkBytes, 1 << 22) + 4096))
    w.reset()
    const t0 = performance.now()
    try {
      sw.fill(w, t0 + pace.sliceMs)
      sw.longestSliceMs = Math.max(sw.longestSliceMs, performance.now() - t0)
    } catch (e) {
      failed = e as Error
      free.push(w)
      return advance()
    }
    const at = offset
    offset += w.pos
    inFlight++
    writeAt(fd, w.buf, 0, w.pos, at, err => {
      inFlight--
      free.push(w)
      if (err && failed === null) failed = err
      advance()
    })
    advance()
  }
  open(file, 'w', (err, f) => {
    if (err) return finish(err)
    fd = f
    advance()
  })
  return {
    zxid: sw.zxid,
    abort() {
      aborted = true
      if (fd >= 0 && inFlight === 0 && !scheduled && !syncing) advance()
      return done
    },
  }
}

function writeAt(fd: number, b: Buffer, off: number, end: number, at: number, cb: (err: Error | null) => void): void {
  if (off === end) return cb(null)
  write(fd, b, off, end - off, at, (err, n) => {
    if (err) return cb(err)
    writeAt(fd, b, off + n, end, at + n, cb)
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
