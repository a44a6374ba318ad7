// A follower's or an observer's side of the requests only the leader can prepare (Apache
// ZooKeeper's FollowerRequestProcessor and the learner's CommitProcessor): writes, session
// creation and closing, sync, and the revalidation of a session a client reconnects with are
// sent to the leader while their reply's place is held in the connection's ordered queue;
// each is answered when the leader's COMMIT (the transaction, applied here by the final
// stage), SYNC or REVALIDATE answer arrives.
import {Logger} from '../util/log.js'
import type {JuteReader} from './jute.js'
import {Op, type Txn, type TxnHeader} from './records.js'
import {sessionPassword} from './sessions.js'
import {NO_REPLY} from './final.js'
import {Connection, type Pending} from './connection.js'
import {sendConnectResponse} from './handshake.js'
import type {ZkServer} from './server.js'

/** A request forwarded to the leader, waiting for its transaction (or answer). */
interface Forwarded {
  conn: Connection
  xid: number
  type: number
  slot: Pending
}

export class Forwarding {
  /** Requests forwarded to the leader, per session, in order, waiting for their txn or answer. */
  private readonly forwarded = new Map<bigint, Forwarded[]>()
  private readonly revalidations = new Map<bigint, {conn: Connection; timeout: number; slot: Pending; known: boolean}>()
  private readonly syncPaths = new Map<Pending, string>()

  constructor(private readonly zk: ZkServer) {}

  /** A request that only the leader can prepare: sent to it, its reply's place held in conn's queue. */
  forward(conn: Connection, sessionId: bigint, xid: number, type: number, body: Buffer): void {
    const slot = conn.reserve()
    let q = this.forwarded.get(sessionId)
    if (!q) this.forwarded.set(sessionId, (q = []))
    q.push({conn, xid, type, slot})
    this.zk.forwarder!.request(sessionId, xid, type, body, conn.authIds)
  }

  /** A sync: forwarded like a write; its reply names the path the client gave. */
  forwardSync(conn: Connection, sessionId: bigint, xid: number, r: JuteReader): void {
    const start = r.pos
    const path = r.ustring()
    this.forward(conn, sessionId, xid, Op.sync, Buffer.from(r.buf.subarray(start, r.end)))
    const q = this.forwarded.get(sessionId)!
    this.syncPaths.set(q[q.length - 1].slot, path)
  }

  /**
   * A client reconnects with a session: only the leader knows whether it is still alive
   * (REVALIDATE). Requests the client sends before the answer are taken in (their replies
   * wait behind the connect response's slot).
   */
  revalidate(conn: Connection, sessionId: bigint, timeout: number): void {
    const sessions = this.zk.sessions
    const slot = conn.reserve()
    const known = sessions.sessions.get(sessionId)
    conn.session = known ?? sessions.add(sessionId, timeout)
    this.revalidations.set(sessionId, {conn, timeout, slot, known: known !== undefined})
    this.zk.forwarder!.revalidate(sessionId, timeout)
  }

  /** The forwarded request a committed txn (or a SYNC) answers: the oldest of its session with that cxid. */
  private take(sessionId: bigint, xid: number, sync: boolean): Forwarded | null {
    const q = this.forwarded.get(sessionId)
    if (!q) return null
    const i = q.findIndex(f => f.xid === xid && (f.type === Op.sync) === sync)
    if (i < 0) return null
    const f = q[i]
    q.splice(i, 1)
    if (q.length === 0) this.forwarded.delete(sessionId)
    return f
  }

  /**
   * A follower or an observer applies a transaction the leader committed (the final stage),
   * and answers the local client whose request it was, if any.
   */
  applyCommitted(hdr: TxnHeader, txn: Txn): void {
    const zk = this.zk
    const f = this.take(hdr.clientId, hdr.cxid, false)
    const replyType = f !== null && f.type !== Op.createSession && f.type !== Op.closeSession ? f.type : NO_REPLY
    ;(zk.commit as {applied?(zxid: number): void}).applied?.(hdr.zxid)
    const w = zk.rw.reset()
    // Watch notifications for the requesting connection go out before its reply, as Apache's.
    if (f !== null) f.conn.insertBefore = f.slot
    try {
      zk.finalizer.apply(hdr, txn, replyType, f?.xid ?? 0, f === null ? null : w)
      zk.fireEvents()
    } finally {
      if (f !== null) f.conn.insertBefore = null
    }
    if (txn.type === Op.createSession) {
      const s = zk.sessions.sessions.get(hdr.clientId) ?? zk.sessions.add(hdr.clientId, txn.timeOut)
      if (f !== null) sendConnectResponse(zk, f.conn, s.timeout, hdr.clientId, sessionPassword(hdr.clientId), hdr.zxid, false, f.slot)
    } else if (hdr.type === Op.closeSession) {
      const s = zk.sessions.sessions.get(hdr.clientId)
      zk.sessions.remove(hdr.clientId)
      const owner = s && s.owner instanceof Connection ? s.owner : null
      if (f !== null) {
        const cw = zk.rw.reset()
        const m = cw.startFrame()
        cw.int(f.xid).long(hdr.zxid).int(0)
        cw.finishFrame(m)
        f.conn.fill(f.slot, cw, 0, hdr.zxid, true)
      }
      // The session closed (expired, or closed through another server) under a live connection.
      if (owner && owner !== f?.conn && !owner.closed) owner.emit(zk.rw.reset(), 0, hdr.zxid, true)
    } else if (f !== null) {
      f.conn.fill(f.slot, w, 0, hdr.zxid)
    }
    if (zk.txnlog.txnsSinceRoll >= zk.db.snapThreshold) zk.db.takeSnapshot()
  }

  /** The leader's SYNC: the oldest forwarded sync of that session is answered. */
  syncDone(sessionId: bigint, xid: number | null): void {
    const zk = this.zk
    let f: Forwarded | null = null
    if (xid !== null) f = this.take(sessionId, xid, true)
    else {
      // Apache's SYNC packet names no request: answer the oldest pending sync.
      for (const [sid, q] of this.forwarded) {
        const i = q.findIndex(x => x.type === Op.sync)
        if (i >= 0) { f = this.take(sid, q[i].xid, true); break }
      }
    }
    if (f === null) return
    const w = zk.rw.reset()
    const m = w.startFrame()
    w.int(f.xid).long(zk.zxid).int(0).ustring(this.syncPaths.get(f.slot) ?? '/')
    this.syncPaths.delete(f.slot)
    w.finishFrame(m)
    f.conn.fill(f.slot, w, 0, zk.committedZxid)
  }

  /** The leader's answer to a REVALIDATE. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const zk = this.zk
    const r = this.revalidations.get(sessionId)
    if (!r) {
      new Logger('org.apache.zookeeper.server.quorum.Learner').warn(`Missing session 0x${BigInt.asUintN(64, sessionId).toString(16)} for validation`)
      return
    }
    this.revalidations.delete(sessionId)
    const conn = r.conn
    if (conn.closed) return
    if (!valid) {
      zk.log.info(`Invalid session 0x${BigInt.asUintN(64, sessionId).toString(16)} for client ${conn.describe}, probably expired`)
      if (!r.known) zk.sessions.remove(sessionId)
      conn.session = null
      sendConnectResponse(zk, conn, 0, 0n, Buffer.alloc(16), zk.zxid, true, r.slot)
      return
    }
    const s = zk.sessions.sessions.get(sessionId) ?? zk.sessions.add(sessionId, r.timeout)
    const prev = s.owner instanceof Connection ? s.owner : null
    if (prev && prev !== conn) prev.destroy()
    s.owner = conn
    conn.session = s
    sendConnectResponse(zk, conn, s.timeout, sessionId, sessionPassword(sessionId), zk.zxid, false, r.slot)
  }

  /** Forgets what was forwarded (the leader is gone: the connections are closed anyway). */
  clear(): void {
    this.forwarded.clear()
    this.revalidations.clear()
    this.syncPaths.clear()
  }
}
