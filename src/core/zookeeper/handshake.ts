// Session establishment (Apache ZooKeeper's processConnectRequest): a connection's first frame
// is a ConnectRequest. A client that has seen a newer zxid than this server's is refused (it
// tries another server); session id 0 creates a session (a createSession txn, or forwarded to
// the leader by a follower or an observer); a known session with the right password moves to
// this connection (a learner asks the leader first, REVALIDATE); anything else gets the
// expired-session answer and the connection closes.
import type {JuteReader} from './jute.js'
import {Op} from './records.js'
import {sessionPassword} from './sessions.js'
import {NO_REPLY} from './final.js'
import {Connection, type Pending} from './connection.js'
import type {ZkServer} from './server.js'

export function handshake(zk: ZkServer, conn: Connection, r: JuteReader): void {
  const protocolVersion = r.int()
  const lastZxidSeen = r.long()
  const timeOut = r.int()
  const sessionId = r.bigLong()
  const passwd = r.buffer()
  if (r.remaining() >= 1) {
    conn.sentReadOnly = true
    r.bool()
  }
  void protocolVersion
  conn.handshaken = true
  if (lastZxidSeen > zk.zxid) {
    zk.log.info(`Refusing session request for client ${conn.describe} as it has seen zxid 0x${lastZxidSeen.toString(16)} our last zxid is 0x${zk.zxid.toString(16)} client must try another server`)
    conn.destroy()
    return
  }
  const c = zk.config
  const timeout = Math.min(Math.max(timeOut, c.minSessionTimeout), c.maxSessionTimeout)
  if (sessionId === 0n) {
    const id = zk.sessions.newId()
    const s = zk.sessions.add(id, timeout)
    s.owner = conn
    conn.session = s
    if (zk.forwarder !== null) {
      // The leader creates the session; the connect response waits for its commit.
      zk.forwarding.forward(conn, id, 0, Op.createSession, Buffer.from([timeout >>> 24, timeout >>> 16, timeout >>> 8, timeout].map(b => b & 0xff)))
      return
    }
    const zxid = zk.runWrite(zk.preparer.createSession(id, timeout), null, 0, NO_REPLY)
    sendConnectResponse(zk, conn, timeout, id, sessionPassword(id), zxid)
    return
  }
  if (zk.forwarder !== null && sessionPassword(sessionId).equals(passwd)) {
    zk.forwarding.revalidate(conn, sessionId, timeout)
    return
  }
  const s = zk.sessions.sessions.get(sessionId)
  if (!s || s.closing || !sessionPassword(sessionId).equals(passwd)) {
    zk.log.info(`Invalid session 0x${BigInt.asUintN(64, sessionId).toString(16)} for client ${conn.describe}, probably expired`)
    sendConnectResponse(zk, conn, 0, 0n, Buffer.alloc(16), zk.zxid, true)
    return
  }
  const prev = s.owner instanceof Connection ? s.owner : null
  if (prev && prev !== conn) prev.destroy()
  s.owner = conn
  conn.session = s
  zk.sessions.touch(s)
  sendConnectResponse(zk, conn, s.timeout, sessionId, passwd, zk.zxid)
}

/** The ConnectResponse; into a reserved slot of conn's queue when the answer came from the leader. */
export function sendConnectResponse(zk: ZkServer, conn: Connection, timeout: number, id: bigint, passwd: Buffer, zxid: number, close = false, slot: Pending | null = null): void {
  const w = zk.rw.reset()
  const m = w.startFrame()
  w.int(0).int(timeout).bigLong(id).buffer(passwd)
  if (conn.sentReadOnly) w.bool(false)
  w.finishFrame(m)
  if (slot !== null) conn.fill(slot, w, 0, zxid, close)
  else conn.emit(w, 0, zxid, close)
}
