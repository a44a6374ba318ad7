// The ZooKeeper-compatible server (ZkServer): it owns the data tree, sessions, watches and the
// server's role, takes each frame a connection hands it (handleFrame: the session check, auth,
// dispatch by opcode), and runs the write path. Every write gets a zxid and a txn record, is
// applied to the tree at once (so later requests see it) and is acknowledged only after the
// group-committed fsync of the log: every reply and notification waits in its connection's
// ordered queue until the zxid it depends on is durable, so no client ever observes a write
// that is not on disk. The stages live in modules of their own: listener.ts (client ports),
// connection.ts (frames, reply queue), handshake.ts (ConnectRequest), reads.ts (requests
// answered from the tree), prepare.ts -> commit.ts -> final.ts (writes), forwarding.ts (a
// follower's or observer's requests to the leader), database.ts (the state on disk).
import {join} from 'node:path'
import {Logger} from '../util/log.js'
import {JuteReader, JuteWriter, JuteError} from './jute.js'
import {Op, Err, type Txn, type TxnHeader} from './records.js'
import {DataTree, type AuthId} from './datatree.js'
import {WatchManager} from './watches.js'
import {SessionTracker, type Session} from './sessions.js'
import type {TxnLog} from './txnlog.js'
import {Preparer, WRITE_OPS, checkWrite, type Prepared} from './prepare.js'
import {prepareReconfig, readReconfigRequest, CONFIG_NODE, type ReconfigLeader} from './reconfig.js'
import {Finalizer, NO_REPLY} from './final.js'
import type {CommitStage} from './commit.js'
import {Connection, replyHeader} from './connection.js'
import {ReadStage} from './reads.js'
import {ZkDatabase} from './database.js'
import {ClientListener} from './listener.js'
import {Forwarding} from './forwarding.js'
import {handshake} from './handshake.js'
import {ServerMetrics} from './metrics.js'
import {defaultZkConfig, type ZkConfig} from '../config/zk-config.js'
import {ServerAuth} from './auth/server-auth.js'

export const ZK_VERSION = '3.8.0-kafkit'

export type ServerMode = 'standalone' | 'looking' | 'leader' | 'follower' | 'observer'

/** A follower's or observer's channel to its leader (quorum/learner.ts). */
export interface Forwarder {
  /** Sends a client's request to the leader (a REQUEST packet: session, cxid, type, record). */
  request(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: readonly AuthId[]): void
  /** Asks the leader whether a session a client reconnects with is alive (REVALIDATE). */
  revalidate(sessionId: bigint, timeout: number): void
  /** Notes activity of a session; the leader hears of it with the next PING reply. */
  touch(sessionId: bigint, timeout: number): void
}

/** What srvr/stat/mntr show of an ensemble (filled in by the quorum peer). */
export interface QuorumInfo {
  learners(): number
  syncedFollowers(): number
  syncedNonVotingFollowers(): number
  syncedObservers(): number
  pendingSyncCount(): number
  proposalSizeStats(): {last: number; min: number; max: number} | null
  peerState(): string
  quorumSize(): number
  /** A leader's time in the role (ms, mntr's leader_uptime); an observer's leader id (observer_master_id), else -1. */
  leaderUptime(): number
  observerMasterId(): number
  /** The leader's synced observers (the AdminServer's observers command); none elsewhere. */
  observerInfos(): LearnerHandlerInfo[]
}

/** LearnerHandler.getLearnerHandlerInfo of Apache: one learner connection's figures. */
export interface LearnerHandlerInfo {
  remote: string
  sid: number
  established: number
  queuedPackets: number
  queuedPacketsSize: number
  packetsReceived: number
  packetsSent: number
  requests: number
  lastZxid: number
}

export interface ZkServerOptions {
  logger?: Logger
}

export class ZkServer {
  readonly log: Logger
  readonly tree = new DataTree()
  readonly watches = new WatchManager()
  readonly sessions: SessionTracker
  readonly connections = new Set<Connection>()
  readonly metrics = new ServerMetrics()
  readonly gated = new Set<Connection>()
  txnlog!: TxnLog
  commit!: CommitStage
  readonly preparer: Preparer
  readonly finalizer: Finalizer
  readonly reads: ReadStage
  /** The state on disk: loading, snapshots, truncation, purge. */
  readonly db: ZkDatabase
  /** The client ports. */
  readonly listener: ClientListener
  /** The TLS client port (secureClientPort), 0 when none. */
  securePort = 0
  readonly authn: ServerAuth
  private timers: NodeJS.Timeout[] = []
  readonly rw = new JuteWriter(64 * 1024)
  readonly nw = new JuteWriter(1024)
  port = 0
  startedAt = Date.now()
  packetsReceived = 0
  packetsSent = 0
  minLatency = Infinity
  maxLatency = 0
  totalLatency = 0
  latencyCount = 0
  readonly snapDir: string
  readonly logDir: string
  stopping = false
  /** standalone, or this ensemble member's role (looking while it has none). */
  mode: ServerMode = 'looking'
  /** Whether clients are served (an ensemble member serves only once synced with a leader). */
  serving = false
  /** Whether this server expires sessions and reaps containers (standalone, or the leader). */
  get expiring(): boolean {
    return this.mode === 'standalone' || this.mode === 'leader'
  }
  /** Set while this server is a follower or an observer: writes and session changes go to the leader. */
  forwarder: Forwarder | null = null
  /** A follower's or an observer's requests waiting for the leader. */
  readonly forwarding: Forwarding
  /** Set while a leader waits to send a snapshot of its committed state: no request is processed. */
  held = false
  readonly heldConnections = new Set<Connection>()
  /** Ensemble facts for srvr/stat/mntr (set by the leader or learner while serving). */
  quorumInfo: QuorumInfo | null = null
  /** The ensemble member this server is (null standalone). */
  peer: {modeName(): string; myId: number; leaderId(): number; leaderHost(): string} | null = null
  /** The leader's view of configurations while this server leads (reconfig requests). */
  reconfigLeader: ReconfigLeader | null = null

  constructor(readonly config: ZkConfig, opts: ZkServerOptions = {}) {
    this.log = opts.logger ?? new Logger('org.apache.zookeeper.server.ZooKeeperServer')
    this.sessions = new SessionTracker(config.tickTime)
    this.preparer = new Preparer(this.tree, config)
    this.finalizer = new Finalizer(this.tree)
    this.reads = new ReadStage(this)
    this.db = new ZkDatabase(this)
    this.listener = new ClientListener(this)
    this.forwarding = new Forwarding(this)
    this.authn = new ServerAuth(this, config.security)
    this.snapDir = join(config.dataDir, 'version-2')
    this.logDir = join(config.dataLogDir || config.dataDir, 'version-2')
  }

  // ---------------------------------------------------------------- start-up and recovery

  async start(): Promise<number> {
    await this.db.load(!this.config.ensemble)
    if (!this.config.ensemble) {
      this.sessions.start(s => this.expire(s))
      this.mode = 'standalone'
      this.serving = true
    }
    await this.listener.listen()
    this.db.startSnapshotIfPending()
    const c = this.config
    const reap = setInterval(() => { if (this.expiring) this.reapContainers() }, c.containerCheckIntervalMs)
    reap.unref()
    this.timers.push(reap)
    if (c.purgeInterval > 0) {
      const purgeLog = new Logger('org.apache.zookeeper.server.DatadirCleanupManager')
      purgeLog.info(`autopurge.snapRetainCount set to ${c.snapRetainCount}`)
      purgeLog.info(`autopurge.purgeInterval set to ${c.purgeInterval}`)
      const t = setInterval(() => this.db.purgeNow(), c.purgeInterval * 3600 * 1000)
      t.unref()
      this.timers.push(t)
    }
    this.startedAt = Date.now()
    return this.port
  }

  /** Loads the database from disk (ZkDatabase.load): at start-up, and whenever an ensemble member leaves a role. */
  loadDatabase(): Promise<number> {
    return this.db.load()
  }

  /** The newest logged txns (at most max), for a leader's DIFF. */
  recentTxns(max: number): Array<{hdr: TxnHeader; txn: Txn}> {
    return this.db.recentTxns(max)
  }

  /** A learner's SNAP has filled the tree: the sessions with it, the zxid it stands at. */
  loadSyncedSnapshot(sessions: Map<bigint, number>, zxid: number): void {
    this.db.loadSyncedSnapshot(sessions, zxid)
  }

  /** TRUNC from the leader: the log and snapshots after zxid go, the database is loaded again. */
  truncateTo(zxid: number): void {
    this.db.truncateTo(zxid)
  }

  /** Writes a snapshot of the tree now, blocking (a learner synced by SNAP, at NEWLEADER). */
  snapshotNow(): void {
    this.db.snapshotNow()
  }

  /** A reconfig moved this server's client port (client-port.ts). */
  async rebindClientPort(port: number, address: string | null): Promise<void> {
    await this.listener.rebind(port, address)
  }

  /** The last zxid assigned (prepared and applied to the tree). */
  get zxid(): number {
    return this.commit.lastZxid
  }

  /** Every zxid up to this one is committed: replies and notifications about it may go out. */
  get committedZxid(): number {
    return this.commit.committedZxid
  }

  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.sessions.stop()
    if (this.db.snapshot !== null) await this.db.snapshot.abort()
    const closed = this.listener.close()
    if (this.txnlog) await this.txnlog.close()
    for (const c of [...this.connections]) {
      c.flush()
      c.destroy()
    }
    await closed
  }

  // ---------------------------------------------------------------- connections

  connectionClosed(conn: Connection): void {
    if (!this.connections.delete(conn)) return
    this.listener.forget(conn.remote)
    this.gated.delete(conn)
    this.watches.removeWatcher(conn)
    if (conn.session && conn.session.owner === conn) conn.session.owner = null
  }

  /** The commit stage reports every zxid up to this one committed: held replies go out. */
  committed(zxid: number): void {
    for (const c of this.gated) if (c.release(zxid)) this.gated.delete(c)
  }

  // ---------------------------------------------------------------- frames

  handleFrame(conn: Connection, buf: Buffer, start: number, end: number): void {
    this.packetsReceived++
    const r = new JuteReader(buf, start, end)
    if (!this.serving) {
      // An ensemble member that has no leader (or is still syncing) serves nobody, as Apache's.
      if (!conn.handshaken) this.log.info(`Refusing session request for client ${conn.describe}: this server is not currently serving requests (${this.mode})`)
      conn.destroy()
      return
    }
    if (!conn.handshaken) return handshake(this, conn, r)
    const session = conn.session
    if (session === null || session.closing || this.sessions.sessions.get(session.id) !== session) {
      conn.destroy()
      return
    }
    this.sessions.touch(session)
    if (this.forwarder !== null) this.forwarder.touch(session.id, session.timeout)
    const xid = r.int()
    const type = r.int()
    conn.lastCxid = xid
    conn.reqStart = Date.now()
    conn.reqWrite = WRITE_OPS.has(type)
    this.process(conn, session, xid, type, r)
    conn.reqStart = -1
  }

  /**
   * Request latency as Apache ZooKeeper measures it: from arrival until the reply is sent,
   * so a write's includes the wait for its fsync.
   */
  recordLatency(conn: Connection, t0: number, write: boolean): void {
    const now = Date.now()
    const lat = now - t0
    ;(write ? this.metrics.updateLatency : this.metrics.readLatency).add(lat)
    if (lat < this.minLatency) this.minLatency = lat
    if (lat > this.maxLatency) this.maxLatency = lat
    this.totalLatency += lat
    this.latencyCount++
    // Per-connection figures for cons (lresp, llat/minlat/avglat/maxlat).
    conn.lastResp = now
    conn.lastLat = lat
    if (lat < conn.minLat) conn.minLat = lat
    if (lat > conn.maxLat) conn.maxLat = lat
    conn.totLat += lat
    conn.latCount++
  }

  // ---------------------------------------------------------------- followers and observers (forwarding.ts)

  /** A follower or an observer applies a transaction the leader committed and answers its local client, if any. */
  applyCommitted(hdr: TxnHeader, txn: Txn): void {
    this.forwarding.applyCommitted(hdr, txn)
  }

  /** The leader's SYNC: the oldest forwarded sync of that session is answered. */
  syncDone(sessionId: bigint, xid: number | null): void {
    this.forwarding.syncDone(sessionId, xid)
  }

  /** The leader's answer to a REVALIDATE. */
  revalidated(sessionId: bigint, valid: boolean): void {
    this.forwarding.revalidated(sessionId, valid)
  }

  // ---------------------------------------------------------------- the leader

  /**
   * A request a learner forwarded (REQUEST packet), prepared here as a local client's would be.
   * Nothing is answered here: the learner answers its client when the txn commits. A session
   * this server does not know (expired, closed) gets a SessionExpired error txn, a record that
   * does not parse a MarshallingError one, as Apache's PrepRequestProcessor does.
   */
  learnerRequest(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: readonly AuthId[], owner: unknown): void {
    const ip = authIds.find(a => a.scheme === 'ip')?.id ?? ''
    const who = {authIds, remote: ip}
    switch (type) {
      case Op.createSession: {
        if (body.length < 4) {
          this.runWrite(this.preparer.error(sessionId, cxid, Err.MarshallingError), null, 0, NO_REPLY)
          return
        }
        const timeout = body.readInt32BE(0)
        const s = this.sessions.add(sessionId, timeout)
        s.owner = owner
        this.runWrite(this.preparer.createSession(sessionId, timeout), null, 0, NO_REPLY)
        return
      }
      case Op.closeSession: {
        const s = this.sessions.sessions.get(sessionId)
        if (!s || s.closing) {
          this.runWrite(this.preparer.error(sessionId, cxid, Err.SessionExpired), null, 0, NO_REPLY)
          return
        }
        this.closeSession(s, cxid, null)
        return
      }
      default: {
        if (!WRITE_OPS.has(type)) {
          this.log.warn(`A learner forwarded request type ${type} (session 0x${BigInt.asUintN(64, sessionId).toString(16)}), which is not a write: ignored`)
          return
        }
        const s = this.sessions.sessions.get(sessionId)
        if (!s || s.closing) {
          this.runWrite(this.preparer.error(sessionId, cxid, Err.SessionExpired), null, 0, NO_REPLY)
          return
        }
        this.sessions.touch(s)
        let p: Prepared
        try {
          p = type === Op.reconfig
            ? prepareReconfig(this.config, this.tree, this.reconfigLeader, sessionId, cxid, new JuteReader(body), who)
            : this.preparer.write(sessionId, cxid, type, new JuteReader(body), who)
        } catch (e) {
          if (!(e instanceof JuteError)) throw e
          p = this.preparer.error(sessionId, cxid, Err.MarshallingError)
        }
        this.runWrite(p, null, cxid, type)
      }
    }
  }

  /** A learner reports a session's activity (PING reply) or revalidates it: true if it is alive. */
  touchSession(sessionId: bigint, owner?: unknown): boolean {
    const s = this.sessions.sessions.get(sessionId)
    if (!s || s.closing) return false
    this.sessions.touch(s)
    if (owner !== undefined) {
      const prev = s.owner
      if (prev instanceof Connection && prev !== owner) prev.destroy()
      s.owner = owner
    }
    return true
  }

  /**
   * Stops processing requests (local and learners'), so the tree holds committed state only
   * once the outstanding proposals are committed: a leader does so before serialising a
   * snapshot for a learner.
   */
  hold(): void {
    this.held = true
  }

  release(): void {
    if (!this.held) return
    this.held = false
    const conns = [...this.heldConnections]
    this.heldConnections.clear()
    for (const c of conns) c.resumeInput()
  }

  /** Serves clients in a role (the quorum peer calls it once synced). */
  startServing(mode: 'leader' | 'follower' | 'observer', commit: CommitStage, forwarder: Forwarder | null): void {
    this.commit = commit
    this.mode = mode
    this.forwarder = forwarder
    if (mode === 'leader') {
      this.sessions.touchAll()
      this.sessions.start(s => this.expire(s))
    }
    this.serving = true
  }

  /** Leaves a role: clients are disconnected (they move to another server), nothing is served. */
  stopServing(): void {
    this.serving = false
    this.mode = 'looking'
    this.forwarder = null
    this.sessions.stop()
    this.release()
    for (const c of [...this.connections]) c.destroy()
    this.dropForwarded()
  }

  /** The sessions and tree in Apache's wire form for SNAP. */
  syncSnapshot(): Buffer {
    return this.db.syncSnapshot()
  }

  /** Forgets what was forwarded (the leader is gone: the connections are closed anyway). */
  dropForwarded(): void {
    this.forwarding.clear()
  }

  /** /zookeeper/config as ZKDatabase.initConfigInZKDatabase sets it (data version -1, mzxid the config's version). */
  setConfigNode(text: string, version: number): void {
    const n = this.tree.get(CONFIG_NODE)
    if (!n) return
    n.data = text
    n.version = -1
    n.mzxid = version
    n.mtime = Date.now()
  }

  // ---------------------------------------------------------------- the commit path

  /**
   * The write path for one prepared transaction: the commit stage gives it its zxid and starts
   * making it durable, the final stage applies it to the tree (triggering watches) and writes
   * the reply for conn, which waits in conn's queue, like every notification, until the zxid is
   * committed. Returns the zxid.
   */
  runWrite(p: Prepared, conn: Connection | null, xid: number, requestType: number): number {
    const zxid = this.commit.submit(p.hdr, p.txn)
    const w = this.rw.reset()
    try {
      this.finalizer.apply(p.hdr, p.txn, conn === null ? NO_REPLY : requestType, xid, conn === null ? null : w)
    } finally {
      this.fireEvents()
    }
    if (conn !== null && w.pos > 0) conn.emit(w, 0, zxid)
    if (this.txnlog.txnsSinceRoll >= this.db.snapThreshold) this.db.takeSnapshot()
    return zxid
  }

  /** Delivers the watch events the last applied txn queued on the tree. */
  fireEvents(): void {
    const ev = this.tree.events
    if (ev.length === 0) return
    this.tree.events = []
    for (let i = 0; i < ev.length; i += 2) this.watches.trigger(ev[i] as string, ev[i + 1] as number)
  }

  private expire(s: Session): void {
    if (this.held) {
      this.sessions.touch(s)
      return
    }
    this.log.info(`Expiring session 0x${BigInt.asUintN(64, s.id).toString(16)}, timeout of ${s.timeout}ms exceeded`)
    this.closeSession(s, 0, null)
  }

  private closeSession(s: Session, xid: number, conn: Connection | null): void {
    if (this.forwarder !== null) {
      if (conn !== null) this.forwarding.forward(conn, s.id, xid, Op.closeSession, Buffer.alloc(0))
      else this.forwarder.request(s.id, xid, Op.closeSession, Buffer.alloc(0), [])
      return
    }
    s.closing = true
    const zxid = this.runWrite(this.preparer.closeSession(s.id, xid), null, 0, NO_REPLY)
    this.sessions.remove(s.id)
    const owner = s.owner instanceof Connection ? s.owner : null
    if (conn) {
      const w = this.rw.reset()
      const m = w.startFrame()
      w.int(xid).long(zxid).int(0)
      w.finishFrame(m)
      conn.emit(w, 0, zxid, true)
    }
    if (owner && owner !== conn && !owner.closed) {
      // The session expired under a live connection: close it once the close is durable.
      const w = this.rw.reset()
      owner.emit(w, 0, zxid, true)
    }
  }

  // ---------------------------------------------------------------- request dispatch

  private replyError(conn: Connection, xid: number, zxid: number, err: number, close = false): void {
    const m = replyHeader(this.rw, xid, zxid, err)
    this.rw.finishFrame(m)
    conn.emit(this.rw, 0, Math.max(zxid, this.zxid), close)
  }

  private process(conn: Connection, s: Session, xid: number, type: number, r: JuteReader): void {
    conn.lastOp = OP_NAMES[type] ?? 'UNKN'
    if (type !== Op.auth && type !== Op.sasl && !this.authn.enforce(conn, xid)) return
    switch (type) {
      case Op.ping: {
        // A ping reveals nothing: it need not wait for other sessions' writes to be synced
        // (it stays behind this connection's own queued replies), and carries the durable zxid.
        const m = replyHeader(this.rw, xid, this.committedZxid, 0)
        this.rw.finishFrame(m)
        conn.emit(this.rw, 0, this.committedZxid)
        return
      }
      case Op.auth: return this.authn.auth(conn, r)
      case Op.setWatches: case Op.setWatches2: return this.reads.setWatches(conn, xid, type, r)
      case Op.closeSession: return this.closeSession(s, xid, conn)
      case Op.create: case Op.create2: case Op.createContainer: case Op.createTTL:
      case Op.delete: case Op.deleteContainer: case Op.setData: case Op.setACL: case Op.check: case Op.multi:
        if (this.forwarder !== null) {
          // Checked here only for being well formed; the leader prepares it.
          checkWrite(type, new JuteReader(r.buf, r.pos, r.end))
          return this.forwarding.forward(conn, s.id, xid, type, Buffer.from(r.buf.subarray(r.pos, r.end)))
        }
        return this.write(conn, s, xid, type, r)
      case Op.sync:
        if (this.forwarder !== null) {
          return this.forwarding.forwardSync(conn, s.id, xid, r)
        }
        return this.reads.read(conn, s, xid, type, r)
      case Op.exists: case Op.getData: case Op.getACL: case Op.getChildren: case Op.getChildren2:
      case Op.sync: case Op.checkWatches: case Op.removeWatches: case Op.getEphemerals:
      case Op.getAllChildrenNumber: case Op.addWatch: case Op.whoAmI: case Op.multiRead:
        return this.reads.read(conn, s, xid, type, r)
      case Op.reconfig:
        if (this.forwarder !== null) {
          readReconfigRequest(new JuteReader(r.buf, r.pos, r.end))
          return this.forwarding.forward(conn, s.id, xid, type, Buffer.from(r.buf.subarray(r.pos, r.end)))
        }
        this.runWrite(prepareReconfig(this.config, this.tree, this.reconfigLeader, s.id, xid, r, conn), conn, xid, type)
        return
      case Op.sasl: return this.authn.sasl(conn, xid, r)
      default:
        this.log.warn(`Unknown opcode ${type} from ${conn.describe} (session 0x${BigInt.asUintN(64, s.id).toString(16)}): answering Unimplemented and closing the session`)
        this.replyError(conn, xid, this.zxid, Err.Unimplemented)
        this.closeSession(s, xid, null)
    }
  }

  // ---------------------------------------------------------------- writes

  /** A client write: prepare, commit, final; its reply waits in conn's queue until committed. */
  private write(conn: Connection, s: Session, xid: number, type: number, r: JuteReader): void {
    this.runWrite(this.preparer.write(s.id, xid, type, r, conn), conn, xid, type)
  }

  // ---------------------------------------------------------------- containers and TTLs

  reapContainers(): void {
    if (this.held) return
    const now = Date.now()
    const doomed: string[] = []
    for (const p of this.tree.containers) {
      const n = this.tree.get(p)
      if (n && n.numChildren === 0 && n.cversion > 0) doomed.push(p)
    }
    for (const p of this.tree.ttls) {
      const n = this.tree.get(p)
      if (!n || n.numChildren > 0) continue
      const ttl = Number(n.ephemeralOwner & 0xffffffffffn)
      if (now - n.mtime > ttl) doomed.push(p)
    }
    for (const p of doomed) {
      if (!this.tree.get(p)) continue
      this.runWrite(this.preparer.deleteContainer(p, now), null, 0, NO_REPLY)
    }
  }
}

const OP_NAMES: Record<number, string> = {
  1: 'CREA', 2: 'DELE', 3: 'EXIS', 4: 'GETD', 5: 'SETD', 6: 'GETA', 7: 'SETA', 8: 'GETC', 9: 'SYNC',
  11: 'PING', 12: 'GETC', 13: 'CHEC', 14: 'MULT', 15: 'CREA', 17: 'CHKW', 18: 'REMW', 19: 'CREA',
  21: 'CREA', 22: 'MLTR', 100: 'AUTH', 101: 'SETW', 103: 'GETE', 104: 'GETN', 105: 'SETW', 106: 'ADDW',
  107: 'WHOA', [-11]: 'CLOS',
}

export function createZkServer(config: Partial<ZkConfig> & {dataDir: string}, opts: ZkServerOptions = {}): ZkServer {
  return new ZkServer(defaultZkConfig(config), opts)
}
