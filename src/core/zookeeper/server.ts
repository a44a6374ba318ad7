// The ZooKeeper-compatible server: network loop (framing, handshake, four-letter words),
// request processing with Apache ZooKeeper's checks and error codes, and the commit
// pipeline. Every write gets a zxid and a txn record, is applied to the tree at once (so
// later requests see it) and is acknowledged only after the group-committed fsync of the
// log: every reply and notification waits in its connection's ordered queue until the
// zxid it depends on is durable, so no client ever observes a write that is not on disk.
import {createServer, type Server, type Socket} from 'node:net'
import {createServer as createTlsServer, type TLSSocket} from 'node:tls'
import {join} from 'node:path'
import {existsSync, unlinkSync} from 'node:fs'
import {ensureDir} from '../util/fs.js'
import {Logger} from '../util/log.js'
import {JuteReader, JuteWriter, JuteError} from './jute.js'
import {Op, Err, Xid, EventType, KeeperState, Perms, ZkError, writeAcls, validatePath, type Txn, type TxnHeader} from './records.js'
import {DataTree, ZNode, writeStat, javaSetOrder, type AuthId} from './datatree.js'
import {WatchManager, WatchIndex, type Watcher} from './watches.js'
import {SessionTracker, sessionPassword, type Session} from './sessions.js'
import {TxnLog, replayLogs, listZxidFiles, truncateLogs} from './txnlog.js'
import {Preparer, WRITE_OPS, checkWrite, type Prepared} from './prepare.js'
import {prepareReconfig, readReconfigRequest, CONFIG_NODE, type ReconfigLeader} from './reconfig.js'
import {Finalizer, NO_REPLY} from './final.js'
import {LogCommit, type CommitStage} from './commit.js'
import {SnapshotWriter, serializeSnapshot, loadNewestSnapshot, writeSnapshot, writeSnapshotSync, snapshotFile, purge, type SnapshotTask} from './snapshot.js'
import {fourLetterWordOfInt, runFourLetterWord} from './fourletter.js'
import {STAT_BYTES} from './namespace-stats.js'
import {ServerMetrics} from './metrics.js'
import {defaultZkConfig, type ZkConfig} from '../config/zk-config.js'
import {ConfigError} from '../config/settings.js'
import {ServerAuth} from './auth/server-auth.js'
import type {DigestMd5Server} from './auth/digest-md5.js'
import {zkServerTlsOptions} from './tls.js'
import {rebindListener} from './client-port.js'

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

/** A request forwarded to the leader, waiting for its transaction (or answer). */
interface Forwarded {
  conn: Connection
  xid: number
  type: number
  slot: Pending
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
}

interface Pending {
  buf: Buffer
  zxid: number
  close: boolean
  /** When the request this replies to arrived (-1 for notifications). */
  t0: number
  /** Whether that request was a write (updatelatency rather than readlatency). */
  write: boolean
}


/**
 * Unsent reply bytes (waiting for their zxid to be durable, gathered for the next write, or
 * queued in the socket) above which a connection's requests wait: its socket is not read and
 * the requests already read are not processed until the client has read enough replies. A
 * client that does not read its replies costs its own connection, never the server.
 */
export const MAX_UNSENT_BYTES = 1 << 20
/**
 * Only watch notifications (other sessions' writes) can push a throttled connection past its
 * bound; a connection that lets them pile up past this is closed (the client reconnects and
 * restores its watches with setWatches).
 */
export const MAX_UNSENT_NOTIFICATION_BYTES = 16 << 20
/** Replies at least this big are written on their own rather than gathered with others. */
const DIRECT_WRITE_BYTES = 64 * 1024
const EMPTY = Buffer.alloc(0)
/** How long a connection being closed may take to hand its last replies to the client. */
const CLOSE_GRACE_MS = 5000

export class Connection implements Watcher {
  watchIndex = new WatchIndex()
  session: Session | null = null
  authIds: AuthId[]
  /** A SASL authentication under way. */
  sasl: DigestMd5Server | null = null
  handshaken = false
  closed = false
  sentReadOnly = false
  /** Bytes received and not yet processed: whole chunks as they arrived, from inOff in the first. */
  private inBufs: Buffer[] = []
  private inOff = 0
  private inBytes = 0
  /** Requests wait: too many reply bytes are unsent (see MAX_UNSENT_BYTES). */
  throttled = false
  private processing = false
  private out = new JuteWriter(4096)
  private flushScheduled = false
  queue: Pending[] = []
  /** Bytes of the frames in queue. */
  private queuedBytes = 0
  recved = 0
  sent = 0
  lastOp = 'NA'
  lastCxid = 0
  lastZxid = 0
  lastResp = 0
  minLat = Infinity
  maxLat = 0
  totLat = 0
  lastLat = 0
  latCount = 0
  /** Arrival time of the request being processed; its reply's emit records the latency. */
  reqStart = -1
  reqWrite = false
  established = Date.now()
  readonly remote: string
  readonly remotePort: number

  constructor(readonly server: ZkServer, readonly socket: Socket) {
    this.remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    this.remotePort = socket.remotePort ?? 0
    this.authIds = [{scheme: 'ip', id: this.remote}]
    socket.on('drain', () => this.maybeResume())
  }

  get describe(): string {
    return `/${this.remote}:${this.remotePort}`
  }

  /** Reply bytes produced for this connection that the client has not taken yet. */
  unsentBytes(): number {
    return this.queuedBytes + this.out.pos + this.socket.writableLength
  }

  onData(chunk: Buffer): void {
    this.server.metrics.bytesReceived += chunk.length
    this.inBufs.push(chunk)
    this.inBytes += chunk.length
    this.processInput()
  }

  /** The int32 at the start of the unprocessed input (inBytes >= 4). */
  private peekInt(): number {
    const b = this.inBufs[0]
    if (b.length - this.inOff >= 4) return b.readInt32BE(this.inOff)
    let v = 0
    let i = 0
    let off = this.inOff
    for (let k = 0; k < 4; k++) {
      while (off >= this.inBufs[i].length) { i++; off = 0 }
      v = (v << 8) | this.inBufs[i][off++]
    }
    return v
  }

  /** Drops n processed bytes from the front of the input. */
  private consume(n: number): void {
    this.inBytes -= n
    while (n > 0) {
      const left = this.inBufs[0].length - this.inOff
      if (n < left) {
        this.inOff += n
        return
      }
      n -= left
      this.inBufs.shift()
      this.inOff = 0
    }
  }

  /**
   * The next frame's body (len bytes after its 4-byte length), which has fully arrived: in
   * place when it lies in one received chunk, else gathered into a buffer of exactly its size.
   */
  private frame(len: number): [Buffer, number] {
    const b = this.inBufs[0]
    if (b.length - this.inOff >= 4 + len) {
      const start = this.inOff + 4
      this.consume(4 + len)
      return [b, start]
    }
    this.consume(4)
    const f = Buffer.allocUnsafe(len)
    let got = 0
    while (got < len) {
      const c = this.inBufs[0]
      const n = Math.min(len - got, c.length - this.inOff)
      c.copy(f, got, this.inOff, this.inOff + n)
      got += n
      this.consume(n)
    }
    return [f, 0]
  }

  /**
   * Handles every complete frame received, one at a time, as long as the client keeps up
   * with its replies; a partial frame waits for the rest of its bytes (nothing is allocated
   * for a frame before all of it has arrived, and its declared length is checked against
   * jute.maxbuffer first).
   */
  private processInput(): void {
    if (this.processing) return
    this.processing = true
    try {
      const max = this.server.config.juteMaxBuffer
      while (!this.closed && this.inBytes >= 4) {
        if (this.server.held) {
          this.server.heldConnections.add(this)
          this.throttle()
          return
        }
        if (this.unsentBytes() > MAX_UNSENT_BYTES) {
          this.throttle()
          return
        }
        if (!this.handshaken && this.recved === 0) {
          const word = fourLetterWordOfInt(this.peekInt())
          if (word !== null) {
            this.inBufs = []
            this.inBytes = 0
            this.server.fourLetter(this, word)
            return
          }
        }
        const len = this.peekInt()
        if (len < 0 || len > max) {
          this.server.log.warn(`Closing connection to ${this.describe}: packet length ${len} is out of range (jute.maxbuffer is ${max})`)
          this.destroy()
          return
        }
        if (this.inBytes - 4 < len) break
        const [buf, start] = this.frame(len)
        this.recved++
        try {
          this.server.handleFrame(this, buf, start, start + len)
        } catch (e) {
          const what = e instanceof JuteError ? `malformed request (${e.message})` : `error (${(e as Error).message})`
          this.server.log.warn(`Closing connection to ${this.describe} after a ${what}`)
          this.destroy()
          return
        }
      }
      if (this.throttled && !this.closed) {
        this.throttled = false
        this.socket.resume()
      }
    } finally {
      this.processing = false
    }
  }

  /** Stops reading the socket until the client has taken enough of its replies. */
  private throttle(): void {
    if (this.throttled) return
    this.throttled = true
    this.socket.pause()
  }

  /** The server stopped holding requests: go on with this connection's. */
  resumeInput(): void {
    if (this.closed) return
    if (this.unsentBytes() > MAX_UNSENT_BYTES) return
    this.processInput()
  }

  /** Called when replies leave: a throttled connection whose backlog is small again goes on. */
  private maybeResume(): void {
    if (!this.throttled || this.closed || this.server.held || this.unsentBytes() > MAX_UNSENT_BYTES) return
    this.processInput()
  }

  /** While set, new frames are queued before this slot (notifications before a forwarded write's reply). */
  insertBefore: Pending | null = null

  /**
   * Keeps the place, in this connection's reply order, of a reply that comes later (a request
   * forwarded to the leader): everything after it waits until fill() gives it its bytes.
   */
  reserve(): Pending {
    const p: Pending = {buf: EMPTY, zxid: Infinity, close: false, t0: this.reqStart, write: this.reqWrite}
    this.reqStart = -1
    this.queue.push(p)
    this.server.gated.add(this)
    return p
  }

  /** The reply for a reserved slot, just written into w; it goes out once zxid is committed. */
  fill(p: Pending, w: JuteWriter, from: number, zxid: number, close = false): void {
    if (this.closed) return
    p.buf = Buffer.from(w.buf.subarray(from, w.pos))
    p.zxid = zxid
    p.close = close
    this.queuedBytes += p.buf.length
    if (p.buf.length > 0) {
      this.sent++
      this.server.packetsSent++
      this.server.metrics.response(p.buf.length)
      if (p.t0 >= 0) this.lastZxid = zxid
    }
    if (this.release(this.server.committedZxid)) this.server.gated.delete(this)
  }

  /** Queues the frame just written into w; it goes out once zxid is durable, in order. */
  emit(w: JuteWriter, from: number, zxid: number, close = false): void {
    if (this.closed) return
    this.sent++
    this.server.packetsSent++
    const t0 = this.reqStart
    this.reqStart = -1
    if (t0 >= 0) this.lastZxid = this.server.zxid
    this.server.metrics.response(w.pos - from)
    if (this.queue.length === 0 && zxid <= this.server.committedZxid) {
      if (t0 >= 0) this.server.recordLatency(this, t0, this.reqWrite)
      this.put(w.buf, from, w.pos, false)
      if (close) this.endAfterFlush()
    } else {
      const buf = Buffer.from(w.buf.subarray(from, w.pos))
      const p: Pending = {buf, zxid, close, t0, write: this.reqWrite}
      const at = this.insertBefore === null ? -1 : this.queue.indexOf(this.insertBefore)
      if (at >= 0) this.queue.splice(at, 0, p)
      else this.queue.push(p)
      this.queuedBytes += buf.length
      this.server.gated.add(this)
    }
    if (t0 < 0 && this.unsentBytes() > MAX_UNSENT_NOTIFICATION_BYTES) {
      this.server.log.warn(`Closing connection to ${this.describe}: ${this.unsentBytes()} bytes of replies and notifications unsent (the client is not reading them)`)
      this.destroy()
    }
  }

  /** Releases queued frames whose zxid is durable; true when the queue is empty. */
  release(durable: number): boolean {
    const q = this.queue
    let i = 0
    while (i < q.length && q[i].zxid <= durable) {
      const p = q[i]
      this.queuedBytes -= p.buf.length
      this.put(p.buf, 0, p.buf.length, true)
      if (p.t0 >= 0) this.server.recordLatency(this, p.t0, p.write)
      if (p.close) {
        this.queue = []
        this.queuedBytes = 0
        this.endAfterFlush()
        return true
      }
      i++
    }
    if (i > 0) q.splice(0, i)
    // The released replies may all have gone straight into the socket (no 'drain' follows).
    if (this.throttled) this.maybeResume()
    return q.length === 0
  }

  /**
   * Hands a reply to the socket, in order: small ones are gathered for one write per turn
   * of the event loop; a big one (a large getData) goes out as one buffer of its own size.
   */
  private put(src: Buffer, from: number, to: number, owned: boolean): void {
    const n = to - from
    if (n >= DIRECT_WRITE_BYTES) {
      if (this.out.pos > 0) this.flush()
      if (this.socket.destroyed) return
      this.socket.write(owned ? src.subarray(from, to) : Buffer.from(src.subarray(from, to)))
      return
    }
    this.out.ensure(n)
    src.copy(this.out.buf, this.out.pos, from, to)
    this.out.pos += n
    this.scheduleFlush()
  }

  private endAfterFlush(): void {
    this.flush()
    this.closed = true
    this.socket.end()
    // A client that does not read its last replies does not hold them here for ever.
    if (this.socket.writableLength > 0) setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    this.inBufs = []
    this.inBytes = 0
    this.server.connectionClosed(this)
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(() => this.flush())
  }

  flush(): void {
    this.flushScheduled = false
    if (this.out.pos === 0 || this.socket.destroyed) return
    this.socket.write(this.out.toBuffer())
    this.out.reset()
    if (this.out.buf.length > 256 * 1024) this.out = new JuteWriter(4096)
    if (this.throttled) this.maybeResume()
  }

  notify(path: string, type: number): void {
    const w = this.server.nw.reset()
    const m = w.startFrame()
    w.int(Xid.notification).long(-1).int(0).int(type).int(KeeperState.SyncConnected).ustring(path)
    w.finishFrame(m)
    const pending = this.reqStart
    this.reqStart = -1
    this.emit(w, 0, this.server.zxid)
    this.reqStart = pending
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    this.inBufs = []
    this.inBytes = 0
    this.queue = []
    this.queuedBytes = 0
    this.server.connectionClosed(this)
  }
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
  private readonly perAddress = new Map<string, number>()
  txnlog!: TxnLog
  commit!: CommitStage
  readonly preparer: Preparer
  readonly finalizer: Finalizer
  private net: Server | null = null
  private secureNet: Server | null = null
  /** The TLS client port (secureClientPort), 0 when none. */
  securePort = 0
  readonly authn: ServerAuth
  private timers: NodeJS.Timeout[] = []
  private snapThreshold = 0
  /** The snapshot being written, if any. */
  private snapshot: SnapshotTask | null = null
  /** How much of a snapshot is serialised between two turns of the event loop. */
  snapshotChunkBytes = 256 * 1024
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
  /** Requests forwarded to the leader, per session, in order, waiting for their txn or answer. */
  private readonly forwarded = new Map<bigint, Forwarded[]>()
  /** Set while a leader waits to send a snapshot of its committed state: no request is processed. */
  held = false
  readonly heldConnections = new Set<Connection>()
  private readonly revalidations = new Map<bigint, {conn: Connection; timeout: number; slot: Pending; known: boolean}>()
  private readonly syncPaths = new Map<Pending, string>()
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
    this.authn = new ServerAuth(this, config.security)
    this.snapDir = join(config.dataDir, 'version-2')
    this.logDir = join(config.dataLogDir || config.dataDir, 'version-2')
  }

  // ---------------------------------------------------------------- start-up and recovery

  async start(): Promise<number> {
    await this.loadDatabase()
    if (!this.config.ensemble) {
      this.sessions.start(s => this.expire(s))
      this.mode = 'standalone'
      this.serving = true
    }
    await this.listen()
    const c = this.config
    const reap = setInterval(() => { if (this.expiring) this.reapContainers() }, c.containerCheckIntervalMs)
    reap.unref()
    this.timers.push(reap)
    if (c.purgeInterval > 0) {
      const purgeLog = new Logger('org.apache.zookeeper.server.DatadirCleanupManager')
      purgeLog.info(`autopurge.snapRetainCount set to ${c.snapRetainCount}`)
      purgeLog.info(`autopurge.purgeInterval set to ${c.purgeInterval}`)
      const t = setInterval(() => this.purgeNow(), c.purgeInterval * 3600 * 1000)
      t.unref()
      this.timers.push(t)
    }
    this.startedAt = Date.now()
    return this.port
  }

  /**
   * Loads the newest valid snapshot and replays the log after it (Apache's loadDataBase),
   * writes a fresh snapshot of the result, and opens the log for appending. An ensemble
   * member calls it again whenever it leaves a role, so that its tree is exactly what it has
   * logged (a leader's tree runs ahead of what its quorum has committed).
   */
  async loadDatabase(): Promise<number> {
    if (this.txnlog) await this.txnlog.close()
    return this.loadDatabaseSync()
  }

  /** Creates a data directory; one that cannot be one stops start-up naming the key, the value and the file. */
  private ensureDataDir(dir: string, key: string, value: string): void {
    try {
      ensureDir(dir)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      throw new ConfigError(`Invalid value ${value} for configuration ${key} in ${this.config.source}: ${e.code === 'ENOTDIR' ? e.message : `cannot create the directory ${dir} (${e.message})`}`)
    }
  }

  private loadDatabaseSync(): number {
    const c = this.config
    const t0 = Date.now()
    this.ensureDataDir(this.snapDir, 'dataDir', c.dataDir)
    this.ensureDataDir(this.logDir, c.dataLogDir && c.dataLogDir !== c.dataDir ? 'dataLogDir' : 'dataDir', c.dataLogDir || c.dataDir)
    this.tree.reset()
    this.sessions.clear()
    const snapLog = new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog')
    const snap = loadNewestSnapshot(this.snapDir, this.tree, m => snapLog.warn(m))
    const tSnap = Date.now()
    this.metrics.summary('startup_snap_load_time').add(tSnap - t0)
    const sessionTimeouts = snap ? snap.sessions : new Map<bigint, number>()
    if (snap) snapLog.info(`Reading snapshot ${snap.file}`)
    const fromZxid = snap ? snap.zxid : 0
    const stats = replayLogs(this.logDir, fromZxid, (h, t) => {
      if (t.type === Op.createSession) sessionTimeouts.set(h.clientId, t.timeOut)
      this.tree.replayTxn(h, t)
      if (t.type === Op.closeSession) sessionTimeouts.delete(h.clientId)
    })
    this.metrics.summary('startup_txns_load_time').add(Date.now() - tSnap)
    this.metrics.summary('startup_txns_loaded').add(stats.txns)
    this.tree.events = []
    for (const t of stats.torn) snapLog.warn(`Ignoring the unacknowledged tail of the transaction log: ${t}`)
    const zxid = Math.max(this.tree.lastZxid, stats.lastZxid, fromZxid)
    this.tree.lastZxid = zxid
    new Logger('org.apache.zookeeper.server.ZKDatabase').info(`Snapshot loaded in ${Date.now() - t0} ms, highest zxid is 0x${zxid.toString(16)}, ${snap ? snap.nodes : this.tree.nodes.size} znodes in the snapshot, ${stats.txns} txns loaded from ${stats.files} log files`)
    for (const [id, timeout] of sessionTimeouts) this.sessions.add(id, timeout)
    // Like Apache ZooKeeper, start from a fresh snapshot of what was loaded.
    const snapFile = snapshotFile(this.snapDir, zxid)
    if (!existsSync(snapFile) || stats.txns > 0) {
      writeSnapshotSync(this.snapDir, new SnapshotWriter(this.tree, this.sessionTimeouts(), zxid))
      snapLog.info(`Snapshotting: 0x${zxid.toString(16)} to ${snapFile}`)
    }
    this.txnlog = new TxnLog(this.logDir, c.forceSync, z => this.commit.durable?.(z), e => this.onLogError(e), c.preAllocBytes)
    this.txnlog.onFlush = (syncMs, txns) => {
      this.metrics.summary('fsynctime').add(syncMs)
      this.metrics.summary('sync_processor_batch_size').add(txns)
    }
    this.commit = new LogCommit(this.txnlog, zxid, z => this.onCommitted(z))
    this.resetSnapThreshold()
    return zxid
  }

  /**
   * The newest txns of the log on disk (at most max, none after the last zxid): a new leader's
   * committed log, for syncing learners with DIFF instead of a snapshot.
   */
  recentTxns(max: number): Array<{hdr: TxnHeader; txn: Txn}> {
    const files = listZxidFiles(this.logDir, 'log')
    if (files.length === 0) return []
    const from = files[Math.max(0, files.length - 2)].zxid - 1
    const out: Array<{hdr: TxnHeader; txn: Txn}> = []
    const last = this.zxid
    replayLogs(this.logDir, Math.max(0, from), (hdr, txn) => {
      if (hdr.zxid > last) return
      out.push({hdr, txn})
      if (out.length > max) out.shift()
    })
    return out
  }

  /** A learner's SNAP has filled the tree: the sessions with it, the zxid it stands at. */
  loadSyncedSnapshot(sessions: Map<bigint, number>, zxid: number): void {
    this.sessions.clear()
    for (const [id, timeout] of sessions) this.sessions.add(id, timeout)
    this.tree.lastZxid = zxid
    this.tree.events = []
  }

  /**
   * TRUNC from the leader: every logged txn after zxid goes (and every snapshot after it),
   * and the database is loaded again from what is left.
   */
  truncateTo(zxid: number): void {
    void this.txnlog.close()
    for (const s of listZxidFiles(this.snapDir, 'snapshot')) {
      if (s.zxid > zxid) {
        try { unlinkSync(join(this.snapDir, s.name)) } catch { /* gone */ }
      }
    }
    if (!truncateLogs(this.logDir, zxid)) throw new Error(`Not able to truncate the log 0x${zxid.toString(16)}`)
    this.loadDatabaseSync()
  }

  /** Writes a snapshot of the tree now, blocking (a learner synced by SNAP, at NEWLEADER). */
  snapshotNow(): void {
    const zxid = this.tree.lastZxid
    this.txnlog.roll()
    writeSnapshotSync(this.snapDir, new SnapshotWriter(this.tree, this.sessionTimeouts(), zxid))
    new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog').info(`Snapshotting: 0x${zxid.toString(16)} to ${snapshotFile(this.snapDir, zxid)}`)
  }

  /** Binds the client port, and the TLS client port (secureClientPort) when set. */
  private async listen(): Promise<void> {
    const c = this.config
    const sec = c.security
    if (c.clientPortEnabled !== false) {
      this.net = createServer({noDelay: true}, socket => this.accept(socket))
      this.port = await this.bind(this.net, c.clientPort, c.clientPortAddressWildcard ? null : c.clientPortAddress, 'clientPort')
      new Logger('org.apache.zookeeper.server.NIOServerCnxnFactory').info(`binding to port ${c.clientPortAddress}/${c.clientPortAddress}:${this.port}`)
    }
    if (sec.secureClientPort !== null && sec.tls !== null) {
      // A client stuck in its handshake costs one socket for at most 10 s (Netty's default).
      const tls = createTlsServer({...zkServerTlsOptions(sec.tls, c.source), noDelay: true, handshakeTimeout: 10000})
      tls.on('secureConnection', (socket: TLSSocket) => this.accept(socket, socket))
      tls.on('tlsClientError', (e, socket) => {
        const from = socket.remoteAddress ? `${socket.remoteAddress.replace(/^::ffff:/, '')}:${socket.remotePort}` : 'a client that has gone'
        this.log.error(`Unsuccessful handshake with ${from}: ${e.message.split('\n')[0]}`)
        socket.destroy()
      })
      this.secureNet = tls
      this.securePort = await this.bind(tls, sec.secureClientPort, sec.secureClientPortAddress ?? (c.clientPortAddressWildcard ? null : c.clientPortAddress), 'secureClientPort')
      new Logger('org.apache.zookeeper.server.NettyServerCnxnFactory').info(`binding to port ${sec.secureClientPortAddress ?? c.clientPortAddress}:${this.securePort} (secure)`)
      if (c.clientPortEnabled === false) this.port = this.securePort
    }
  }

  private async bind(server: Server, port: number, address: string | null, key: string): Promise<number> {
    const c = this.config
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException) => {
        reject(new Error(e.code === 'EADDRINUSE' ? `Port ${port} on ${address ?? c.clientPortAddress} is already in use (${key} in ${c.source})` : `Cannot listen on ${address ?? c.clientPortAddress}:${port}: ${e.message}`))
      }
      server.once('error', onErr)
      const done = () => {
        server.off('error', onErr)
        resolve()
      }
      // Without an address: every address, IPv6 and IPv4 (Node picks :: when it can),
      // so clients resolving localhost to ::1 connect at once.
      if (address === null) server.listen(port, done)
      else server.listen(port, address, done)
    })
    server.on('error', e => this.log.error(`Server socket error: ${e.message}`))
    return (server.address() as {port: number}).port
  }

  /** A reconfig moved this server's client port (client-port.ts). */
  async rebindClientPort(port: number, address: string | null): Promise<void> {
    this.net = await rebindListener(this.net, socket => this.accept(socket), port, address)
    if (this.net !== null) this.port = (this.net.address() as {port: number}).port
  }

  /** The last zxid assigned (prepared and applied to the tree). */
  get zxid(): number {
    return this.commit.lastZxid
  }

  /** Every zxid up to this one is committed: replies and notifications about it may go out. */
  get committedZxid(): number {
    return this.commit.committedZxid
  }

  sessionTimeouts(): Map<bigint, number> {
    const m = new Map<bigint, number>()
    for (const s of this.sessions.sessions.values()) m.set(s.id, s.timeout)
    return m
  }

  purgeNow(): {snapshots: number; logs: number} {
    const r = purge(this.snapDir, this.logDir, this.config.snapRetainCount, this.snapshot?.zxid ?? -1)
    new Logger('org.apache.zookeeper.server.PurgeTxnLog').info(`Purge task completed: removed ${r.snapshots} snapshots and ${r.logs} log files`)
    return r
  }

  private resetSnapThreshold(): void {
    const half = Math.max(1, Math.floor(this.config.snapCount / 2))
    this.snapThreshold = half + Math.floor(Math.random() * half)
  }

  private onLogError(e: Error): void {
    this.log.error(`Severe unrecoverable error writing the transaction log: ${e.message}; shutting down`)
    void this.stop()
  }

  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.sessions.stop()
    if (this.snapshot !== null) await this.snapshot.abort()
    const closed = Promise.all([this.net, this.secureNet].map(n => n ? new Promise<void>(r => n.close(() => r())) : undefined)).then(() => undefined)
    if (this.txnlog) await this.txnlog.close()
    for (const c of [...this.connections]) {
      c.flush()
      c.destroy()
    }
    await closed
  }

  // ---------------------------------------------------------------- connections

  private accept(socket: Socket, tls?: TLSSocket): void {
    if (this.stopping) { socket.destroy(); return }
    const conn = new Connection(this, socket)
    if (tls && !this.authn.tlsConnected(conn, tls)) {
      socket.destroy()
      return
    }
    this.metrics.connectionRequests++
    const max = this.config.maxClientCnxns
    const n = (this.perAddress.get(conn.remote) ?? 0) + 1
    if (max > 0 && n > max) {
      this.metrics.connectionsRejected++
      this.log.warn(`Too many connections from /${conn.remote} - max is ${max}`)
      socket.destroy()
      return
    }
    this.perAddress.set(conn.remote, n)
    this.connections.add(conn)
    socket.on('data', d => conn.onData(d))
    socket.on('error', () => conn.destroy())
    socket.on('close', () => conn.destroy())
  }

  connectionClosed(conn: Connection): void {
    if (!this.connections.delete(conn)) return
    const n = (this.perAddress.get(conn.remote) ?? 1) - 1
    if (n <= 0) this.perAddress.delete(conn.remote)
    else this.perAddress.set(conn.remote, n)
    this.gated.delete(conn)
    this.watches.removeWatcher(conn)
    if (conn.session && conn.session.owner === conn) conn.session.owner = null
  }

  fourLetter(conn: Connection, word: string): void {
    const allowed = this.config.fourLetterWords === '*' || this.config.fourLetterWords.has(word)
    const text = runFourLetterWord(this, word, allowed)
    conn.closed = true
    this.connections.delete(conn)
    const n = (this.perAddress.get(conn.remote) ?? 1) - 1
    if (n <= 0) this.perAddress.delete(conn.remote)
    else this.perAddress.set(conn.remote, n)
    conn.socket.end(text)
  }

  /** The commit stage reports every zxid up to this one committed: held replies go out. */
  committed(zxid: number): void {
    this.onCommitted(zxid)
  }

  private onCommitted(zxid: number): void {
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
    if (!conn.handshaken) return this.handshake(conn, r)
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

  private handshake(conn: Connection, r: JuteReader): void {
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
    if (lastZxidSeen > this.zxid) {
      this.log.info(`Refusing session request for client ${conn.describe} as it has seen zxid 0x${lastZxidSeen.toString(16)} our last zxid is 0x${this.zxid.toString(16)} client must try another server`)
      conn.destroy()
      return
    }
    const c = this.config
    const timeout = Math.min(Math.max(timeOut, c.minSessionTimeout), c.maxSessionTimeout)
    if (sessionId === 0n) {
      const id = this.sessions.newId()
      const s = this.sessions.add(id, timeout)
      s.owner = conn
      conn.session = s
      if (this.forwarder !== null) {
        // The leader creates the session; the connect response waits for its commit.
        this.forward(conn, id, 0, Op.createSession, Buffer.from([timeout >>> 24, timeout >>> 16, timeout >>> 8, timeout].map(b => b & 0xff)))
        return
      }
      const zxid = this.runWrite(this.preparer.createSession(id, timeout), null, 0, NO_REPLY)
      this.sendConnectResponse(conn, timeout, id, sessionPassword(id), zxid)
      return
    }
    if (this.forwarder !== null && sessionPassword(sessionId).equals(passwd)) {
      // Only the leader knows whether the session is still alive (REVALIDATE).
      const slot = conn.reserve()
      // Requests the client sends before the answer are taken in (their replies wait behind it).
      const known = this.sessions.sessions.get(sessionId)
      conn.session = known ?? this.sessions.add(sessionId, timeout)
      this.revalidations.set(sessionId, {conn, timeout, slot, known: known !== undefined})
      this.forwarder.revalidate(sessionId, timeout)
      return
    }
    const s = this.sessions.sessions.get(sessionId)
    if (!s || s.closing || !sessionPassword(sessionId).equals(passwd)) {
      this.log.info(`Invalid session 0x${BigInt.asUintN(64, sessionId).toString(16)} for client ${conn.describe}, probably expired`)
      this.sendConnectResponse(conn, 0, 0n, Buffer.alloc(16), this.zxid, true)
      return
    }
    const prev = s.owner instanceof Connection ? s.owner : null
    if (prev && prev !== conn) prev.destroy()
    s.owner = conn
    conn.session = s
    this.sessions.touch(s)
    this.sendConnectResponse(conn, s.timeout, sessionId, passwd, this.zxid)
  }

  private sendConnectResponse(conn: Connection, timeout: number, id: bigint, passwd: Buffer, zxid: number, close = false, slot: Pending | null = null): void {
    const w = this.rw.reset()
    const m = w.startFrame()
    w.int(0).int(timeout).bigLong(id).buffer(passwd)
    if (conn.sentReadOnly) w.bool(false)
    w.finishFrame(m)
    if (slot !== null) conn.fill(slot, w, 0, zxid, close)
    else conn.emit(w, 0, zxid, close)
  }

  // ---------------------------------------------------------------- followers and observers

  /** A request that only the leader can prepare: sent to it, its reply's place held in conn's queue. */
  private forward(conn: Connection, sessionId: bigint, xid: number, type: number, body: Buffer): void {
    const slot = conn.reserve()
    let q = this.forwarded.get(sessionId)
    if (!q) this.forwarded.set(sessionId, (q = []))
    q.push({conn, xid, type, slot})
    this.forwarder!.request(sessionId, xid, type, body, conn.authIds)
  }

  /** The forwarded request a committed txn (or a SYNC) answers: the oldest of its session with that cxid. */
  private takeForwarded(sessionId: bigint, xid: number, sync: boolean): Forwarded | null {
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
    const f = this.takeForwarded(hdr.clientId, hdr.cxid, false)
    const replyType = f !== null && f.type !== Op.createSession && f.type !== Op.closeSession ? f.type : NO_REPLY
    ;(this.commit as {applied?(zxid: number): void}).applied?.(hdr.zxid)
    const w = this.rw.reset()
    // Watch notifications for the requesting connection go out before its reply, as Apache's.
    if (f !== null) f.conn.insertBefore = f.slot
    try {
      this.finalizer.apply(hdr, txn, replyType, f?.xid ?? 0, f === null ? null : w)
      this.fireEvents()
    } finally {
      if (f !== null) f.conn.insertBefore = null
    }
    if (txn.type === Op.createSession) {
      const s = this.sessions.sessions.get(hdr.clientId) ?? this.sessions.add(hdr.clientId, txn.timeOut)
      if (f !== null) this.sendConnectResponse(f.conn, s.timeout, hdr.clientId, sessionPassword(hdr.clientId), hdr.zxid, false, f.slot)
    } else if (hdr.type === Op.closeSession) {
      const s = this.sessions.sessions.get(hdr.clientId)
      this.sessions.remove(hdr.clientId)
      const owner = s && s.owner instanceof Connection ? s.owner : null
      if (f !== null) {
        const cw = this.rw.reset()
        const m = cw.startFrame()
        cw.int(f.xid).long(hdr.zxid).int(0)
        cw.finishFrame(m)
        f.conn.fill(f.slot, cw, 0, hdr.zxid, true)
      }
      // The session closed (expired, or closed through another server) under a live connection.
      if (owner && owner !== f?.conn && !owner.closed) owner.emit(this.rw.reset(), 0, hdr.zxid, true)
    } else if (f !== null) {
      f.conn.fill(f.slot, w, 0, hdr.zxid)
    }
    if (this.txnlog.txnsSinceRoll >= this.snapThreshold) this.takeSnapshot()
  }

  /** The leader's SYNC: the oldest forwarded sync of that session is answered. */
  syncDone(sessionId: bigint, xid: number | null): void {
    let f: Forwarded | null = null
    if (xid !== null) f = this.takeForwarded(sessionId, xid, true)
    else {
      // Apache's SYNC packet names no request: answer the oldest pending sync.
      for (const [sid, q] of this.forwarded) {
        const i = q.findIndex(x => x.type === Op.sync)
        if (i >= 0) { f = this.takeForwarded(sid, q[i].xid, true); break }
      }
    }
    if (f === null) return
    const w = this.rw.reset()
    const m = w.startFrame()
    w.int(f.xid).long(this.zxid).int(0).ustring(this.syncPaths.get(f.slot) ?? '/')
    this.syncPaths.delete(f.slot)
    w.finishFrame(m)
    f.conn.fill(f.slot, w, 0, this.committedZxid)
  }

  /** The leader's answer to a REVALIDATE. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const r = this.revalidations.get(sessionId)
    if (!r) {
      new Logger('org.apache.zookeeper.server.quorum.Learner').warn(`Missing session 0x${BigInt.asUintN(64, sessionId).toString(16)} for validation`)
      return
    }
    this.revalidations.delete(sessionId)
    const conn = r.conn
    if (conn.closed) return
    if (!valid) {
      this.log.info(`Invalid session 0x${BigInt.asUintN(64, sessionId).toString(16)} for client ${conn.describe}, probably expired`)
      if (!r.known) this.sessions.remove(sessionId)
      conn.session = null
      this.sendConnectResponse(conn, 0, 0n, Buffer.alloc(16), this.zxid, true, r.slot)
      return
    }
    const s = this.sessions.sessions.get(sessionId) ?? this.sessions.add(sessionId, r.timeout)
    const prev = s.owner instanceof Connection ? s.owner : null
    if (prev && prev !== conn) prev.destroy()
    s.owner = conn
    conn.session = s
    this.sendConnectResponse(conn, s.timeout, sessionId, sessionPassword(sessionId), this.zxid, false, r.slot)
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

  /** The sessions and tree in Apache's wire form for SNAP (the snapshot file's body without header and checksum). */
  syncSnapshot(): Buffer {
    const whole = serializeSnapshot(this.tree, this.sessionTimeouts())
    return whole.subarray(16, whole.length - 13)
  }

  /** Forgets what was forwarded (the leader is gone: the connections are closed anyway). */
  dropForwarded(): void {
    this.forwarded.clear()
    this.revalidations.clear()
    this.syncPaths.clear()
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
    if (this.txnlog.txnsSinceRoll >= this.snapThreshold) this.takeSnapshot()
    return zxid
  }

  private fireEvents(): void {
    const ev = this.tree.events
    if (ev.length === 0) return
    this.tree.events = []
    for (let i = 0; i < ev.length; i += 2) this.watches.trigger(ev[i] as string, ev[i + 1] as number)
  }

  /**
   * Starts a background snapshot of the current state (at most one at a time): the log rolls
   * to a new file and the tree is written chunk by chunk between requests (SnapshotWriter).
   */
  takeSnapshot(): void {
    const snapLog = new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog')
    this.resetSnapThreshold()
    if (this.snapshot !== null) {
      snapLog.warn('Too busy to snap, skipping')
      return
    }
    this.txnlog.roll()
    const sw = new SnapshotWriter(this.tree, this.sessionTimeouts(), this.zxid, this.snapshotChunkBytes)
    const t0 = Date.now()
    this.snapshot = writeSnapshot(this.snapDir, sw, (err, file) => {
      this.snapshot = null
      if (!err) {
        this.metrics.snapCount++
        this.metrics.summary('snapshottime').add(Date.now() - t0)
      }
      if (err) snapLog.error(`Unexpected exception writing snapshot ${file}: ${err.message}`)
      else snapLog.info(`Snapshotting: 0x${sw.zxid.toString(16)} to ${file}: ${sw.nodes} znodes, ${sw.bytes} bytes in ${Date.now() - t0} ms`)
    })
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
      if (conn !== null) this.forward(conn, s.id, xid, Op.closeSession, Buffer.alloc(0))
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

  private header(xid: number, zxid: number, err: number): number {
    const w = this.rw.reset()
    const m = w.startFrame()
    w.int(xid).long(zxid).int(err)
    return m
  }

  private replyError(conn: Connection, xid: number, zxid: number, err: number, close = false): void {
    const m = this.header(xid, zxid, err)
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
        const m = this.header(xid, this.committedZxid, 0)
        this.rw.finishFrame(m)
        conn.emit(this.rw, 0, this.committedZxid)
        return
      }
      case Op.auth: return this.authn.auth(conn, r)
      case Op.setWatches: case Op.setWatches2: return this.setWatches(conn, xid, type, r)
      case Op.closeSession: return this.closeSession(s, xid, conn)
      case Op.create: case Op.create2: case Op.createContainer: case Op.createTTL:
      case Op.delete: case Op.deleteContainer: case Op.setData: case Op.setACL: case Op.check: case Op.multi:
        if (this.forwarder !== null) {
          // Checked here only for being well formed; the leader prepares it.
          checkWrite(type, new JuteReader(r.buf, r.pos, r.end))
          return this.forward(conn, s.id, xid, type, Buffer.from(r.buf.subarray(r.pos, r.end)))
        }
        return this.write(conn, s, xid, type, r)
      case Op.sync:
        if (this.forwarder !== null) {
          const start = r.pos
          const path = r.ustring()
          this.forward(conn, s.id, xid, Op.sync, Buffer.from(r.buf.subarray(start, r.end)))
          const q = this.forwarded.get(s.id)!
          this.syncPaths.set(q[q.length - 1].slot, path)
          return
        }
        return this.read(conn, s, xid, type, r)
      case Op.exists: case Op.getData: case Op.getACL: case Op.getChildren: case Op.getChildren2:
      case Op.sync: case Op.checkWatches: case Op.removeWatches: case Op.getEphemerals:
      case Op.getAllChildrenNumber: case Op.addWatch: case Op.whoAmI: case Op.multiRead:
        return this.read(conn, s, xid, type, r)
      case Op.reconfig:
        if (this.forwarder !== null) {
          readReconfigRequest(new JuteReader(r.buf, r.pos, r.end))
          return this.forward(conn, s.id, xid, type, Buffer.from(r.buf.subarray(r.pos, r.end)))
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

  private setWatches(conn: Connection, xid: number, type: number, r: JuteReader): void {
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
    const m = this.header(xid, this.zxid, 0)
    this.rw.finishFrame(m)
    conn.emit(this.rw, 0, this.zxid)
    for (const [p, t] of events) conn.notify(p, t)
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads answer from the applied tree, but a reply never reveals a change that is not yet
   * on disk: it waits for the newest zxid it observes (the node's create/data/children/ACL
   * zxids; the newest delete for NoNode), not for every other session's pending write.
   */
  private read(conn: Connection, s: Session, xid: number, type: number, r: JuteReader): void {
    const w = this.rw
    let m = 0
    let wait = this.zxid
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
          m = this.header(xid, 0, 0)
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
          m = this.header(xid, 0, 0)
          w.latin1(n.data)
          writeStat(w, n)
          break
        }
        case Op.getACL: {
          wait = this.tree.lastDeleteZxid
          const n = this.node(r.ustring())
          wait = DataTree.visibleZxid(n)
          this.tree.checkAcl(n.acl, Perms.READ | Perms.ADMIN, conn.authIds, conn.remote)
          m = this.header(xid, 0, 0)
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
          m = this.header(xid, 0, 0)
          w.int(n.numChildren)
          if (n.children) for (const c of n.children) w.ustring(c)
          if (type === Op.getChildren2) writeStat(w, n)
          break
        }
        case Op.sync: {
          const path = r.ustring()
          m = this.header(xid, this.zxid, 0)
          w.ustring(path)
          break
        }
        case Op.checkWatches: case Op.removeWatches: {
          const path = r.ustring()
          const wtype = r.int()
          const ok = type === Op.checkWatches ? this.watches.has(path, wtype, conn) : this.watches.remove(path, wtype, conn)
          if (!ok) throw new ZkError(Err.NoWatcher)
          m = this.header(xid, this.zxid, 0)
          break
        }
        case Op.getEphemerals: {
          const prefix = r.ustring()
          const list = this.tree.ephemeralsOf(s.id).filter(p => prefix === '/' || p.startsWith(prefix)).sort()
          m = this.header(xid, this.zxid, 0)
          w.stringVector(list)
          break
        }
        case Op.getAllChildrenNumber: {
          const path = r.ustring()
          const n = this.node(path)
          this.tree.checkAcl(n.acl, Perms.READ, conn.authIds, conn.remote)
          m = this.header(xid, this.zxid, 0)
          w.int(this.tree.countDescendants(path))
          break
        }
        case Op.addWatch: {
          const path = r.ustring()
          const mode = r.int()
          validatePath(path)
          if (mode !== 0 && mode !== 1) throw new ZkError(Err.BadArguments)
          this.watches.addPersistent(path, conn, mode === 1)
          m = this.header(xid, this.zxid, 0)
          // An ErrorResponse(0) body, as Apache's: the Java client reads it and drops the
          // connection (EOFException) without it.
          w.int(0)
          break
        }
        case Op.whoAmI: {
          m = this.header(xid, this.zxid, 0)
          w.int(conn.authIds.length)
          for (const a of javaSetOrder(conn.authIds)) w.ustring(a.scheme).ustring(a.scheme === 'digest' ? a.id.slice(0, a.id.indexOf(':')) : a.id)
          break
        }
        case Op.multiRead: {
          m = this.header(xid, this.zxid, 0)
          this.multiRead(conn, r)
          break
        }
      }
    } catch (e) {
      if (!(e instanceof ZkError)) throw e
      m = this.header(xid, 0, e.code)
    }
    w.finishFrame(m)
    // The header carries a zxid the client may present after a restart: only a durable one.
    const hz = Math.max(wait, this.committedZxid)
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

/** The characters of a node's child names, as Apache counts a getChildren read. */
function childBytes(n: ZNode): number {
  let b = 0
  if (n.children !== null) for (const c of n.children) b += c.length
  return b
}

export function createZkServer(config: Partial<ZkConfig> & {dataDir: string}, opts: ZkServerOptions = {}): ZkServer {
  return new ZkServer(defaultZkConfig(config), opts)
}
