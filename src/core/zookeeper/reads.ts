// Requests answered from the data tree without a transaction (the read half of Apache
// ZooKeeper's FinalRequestProcessor): exists, getData, getACL, getChildren(2), sync (standalone
// and on the leader), checkWatches/removeWatches, getEphemerals, getAllChildrenNumber,
// addWatch, whoAmI, multiRead, and setWatches (a reconnecting client's watches restored, with
// the events it missed). Each reply is written into the server's reply writer and queued on
// the connection behind the newest zxid it reveals.
import {JuteReader, JuteWriter, JuteError} from './jute.js'
import {Op, Err, EventType, Perms, ZkError, writeAcls, validatePath} from './records.js'
import {DataTree, ZNode, writeStat, javaSetOrder} from './datatree.js'
import type {WatchManager} from './watches.js'
import type {Session} from './sessions.js'
import {replyHeader, type Connection} from './connection.js'
import {STAT_BYTES} from './namespace-stats.js'
import type {ZkServer} from './server.js'

export class ReadStage {
  private readonly tree: DataTree
  private readonly watches: WatchManager
  private readonly rw: JuteWriter

  constructor(private readonly zk: ZkServer) {
    this.tree = zk.tree
    this.watches = zk.watches
    this.rw = zk.rw
  }

  /**
   * Reads answer from the applied tree, but a reply never reveals a change that is not yet
   * on disk: it waits for the newest zxid it observes (the node's create/data/children/ACL
   * zxids; the newest delete for NoNode), not for every other session's pending write.
   */
  read(conn: Connection, s: Session, xid: number, type: number, r: JuteReader): void {
    const w = this.rw
    let m = 0
    let wait = this.zk.zxid
    try {
      switch (type) {
        case Op.exists: {
          const path = r.ustring()
          const watch = r.bool()
          validatePath(path)
          const n = this.tree.get(path)
          if (watch) this.watches.addData(path, conn)
          if (!n) {
            wait = this.tree.lastDeleteZxid
            throw new ZkError(Err.NoNode)
          }
          wait = DataTree.visibleZxid(n)
          this.tree.nsStats.read(path, STAT_BYTES)
          m = replyHeader(this.rw, xid, 0, 0)
          writeStat(w, n)
          break
        }
        case Op.getData: {
          const path = r.ustring()
          const watch = r.bool()
          wait = this.tree.lastDeleteZxid
          const n = this.node(path)
          wait = DataTree.visibleZxid(n)
          this.tree.checkAcl(n.acl, Perms.READ, conn.authIds, conn.remote)
          if (watch) this.watches.addData(path, conn)
          this.tree.nsStats.read(path, (n.data === null ? 0 : n.data.length) + STAT_BYTES)
          m = replyHeader(this.rw, xid, 0, 0)
          w.latin1(n.data)
          writeStat(w, n)
          break
        }
        case Op.getACL: {
          wait = this.tree.lastDeleteZxid
          const n = this.node(r.ustring())
          wait = DataTree.visibleZxid(n)
          this.tree.checkAcl(n.acl, Perms.READ | Perms.ADMIN, conn.authIds, conn.remote)
          m = replyHeader(this.rw, xid, 0, 0)
          // Without ADMIN, digest ids are shown without their password hash (user:x), as Apache's.
          writeAcls(w, this.tree.allows(n.acl, Perms.ADMIN, conn.authIds, conn.remote) ? n.acl : n.acl.map(a => a.scheme === 'digest' ? {...a, id: a.id.replace(/:.*/, ':x')} : a))
          writeStat(w, n)
          break
        }
        case Op.getChildren: case Op.getChildren2: {
          const path = r.ustring()
          const watch = r.bool()
          wait = this.tree.lastDeleteZxid
          const n = this.node(path)
          wait = DataTree.visibleZxid(n)
          this.tree.checkAcl(n.acl, Perms.READ, conn.authIds, conn.remote)
          if (watch) this.watches.addChild(path, conn)
          this.tree.nsStats.read(path, childBytes(n) + STAT_BYTES)
          m = replyHeader(this.rw, xid, 0, 0)
          w.int(n.numChildren)
          if (n.children) for (const c of n.children) w.ustring(c)
          if (type === Op.getChildren2) writeStat(w, n)
          break
        }
        case Op.sync: {
          const path = r.ustring()
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          w.ustring(path)
          break
        }
        case Op.checkWatches: case Op.removeWatches: {
          const path = r.ustring()
          const wtype = r.int()
          const ok = type === Op.checkWatches ? this.watches.has(path, wtype, conn) : this.watches.remove(path, wtype, conn)
          if (!ok) throw new ZkError(Err.NoWatcher)
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          break
        }
        case Op.getEphemerals: {
          const prefix = r.ustring()
          const list = this.tree.ephemeralsOf(s.id).filter(p => prefix === '/' || p.startsWith(prefix)).sort()
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          w.stringVector(list)
          break
        }
        case Op.getAllChildrenNumber: {
          const path = r.ustring()
          const n = this.node(path)
          this.tree.checkAcl(n.acl, Perms.READ, conn.authIds, conn.remote)
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          w.int(this.tree.countDescendants(path))
          break
        }
        case Op.addWatch: {
          const path = r.ustring()
          const mode = r.int()
          validatePath(path)
          if (mode !== 0 && mode !== 1) throw new ZkError(Err.BadArguments)
          this.watches.addPersistent(path, conn, mode === 1)
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          // An ErrorResponse(0) body, as Apache's: the Java client reads it and drops the
          // connection (EOFException) without it.
          w.int(0)
          break
        }
        case Op.whoAmI: {
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          w.int(conn.authIds.length)
          for (const a of javaSetOrder(conn.authIds)) w.ustring(a.scheme).ustring(a.scheme === 'digest' ? a.id.slice(0, a.id.indexOf(':')) : a.id)
          break
        }
        case Op.multiRead: {
          m = replyHeader(this.rw, xid, this.zk.zxid, 0)
          this.multiRead(conn, r)
          break
        }
      }
    } catch (e) {
      if (!(e instanceof ZkError)) throw e
      m = replyHeader(this.rw, xid, 0, e.code)
    }
    w.finishFrame(m)
    // The header carries a zxid the client may present after a restart: only a durable one.
    const hz = Math.max(wait, this.zk.committedZxid)
    const end = w.pos
    w.pos = m + 8
    w.long(hz)
    w.pos = end
    conn.emit(w, m, wait)
  }

  private node(path: string): ZNode {
    validatePath(path)
    const n = this.tree.get(path)
    if (!n) throw new ZkError(Err.NoNode)
    return n
  }

  private multiRead(conn: Connection, r: JuteReader): void {
    const w = this.rw
    for (;;) {
      const type = r.int()
      const done = r.bool()
      r.int()
      if (done) break
      if (type !== Op.getChildren && type !== Op.getData) throw new JuteError(`invalid op type ${type} in multiRead`)
      const path = r.ustring()
      const watch = r.bool()
      try {
        const n = this.node(path)
        this.tree.checkAcl(n.acl, Perms.READ, conn.authIds, conn.remote)
        if (type === Op.getData) {
          if (watch) this.watches.addData(path, conn)
          this.tree.nsStats.read(path, (n.data === null ? 0 : n.data.length) + STAT_BYTES)
          w.int(type).bool(false).int(0).latin1(n.data)
          writeStat(w, n)
        } else {
          if (watch) this.watches.addChild(path, conn)
          this.tree.nsStats.read(path, childBytes(n) + STAT_BYTES)
          w.int(type).bool(false).int(0).int(n.numChildren)
          if (n.children) for (const c of n.children) w.ustring(c)
        }
      } catch (e) {
        if (!(e instanceof ZkError)) throw e
        w.int(-1).bool(false).int(e.code).int(e.code)
      }
    }
    w.int(-1).bool(true).int(-1)
  }

  setWatches(conn: Connection, xid: number, type: number, r: JuteReader): void {
    const rel = r.long()
    const data = r.stringVector()
    const exist = r.stringVector()
    const child = r.stringVector()
    const persistent = type === Op.setWatches2 ? r.stringVector() : []
    const recursive = type === Op.setWatches2 ? r.stringVector() : []
    const events: Array<[string, number]> = []
    for (const p of data) {
      const n = this.tree.get(p)
      if (!n) events.push([p, EventType.NodeDeleted])
      else if (n.mzxid > rel) events.push([p, EventType.NodeDataChanged])
      else this.watches.addData(p, conn)
    }
    for (const p of exist) {
      if (this.tree.get(p)) events.push([p, EventType.NodeCreated])
      else this.watches.addData(p, conn)
    }
    for (const p of child) {
      const n = this.tree.get(p)
      if (!n) events.push([p, EventType.NodeDeleted])
      else if (n.pzxid > rel) events.push([p, EventType.NodeChildrenChanged])
      else this.watches.addChild(p, conn)
    }
    for (const p of persistent) this.watches.addPersistent(p, conn, false)
    for (const p of recursive) this.watches.addPersistent(p, conn, true)
    const m = replyHeader(this.rw, xid, this.zk.zxid, 0)
    this.rw.finishFrame(m)
    conn.emit(this.rw, 0, this.zk.zxid)
    for (const [p, t] of events) conn.notify(p, t)
  }
}

/** The characters of a node's child names, as Apache counts a getChildren read. */
function childBytes(n: ZNode): number {
  let b = 0
  if (n.children !== null) for (const c of n.children) b += c.length
  return b
}
