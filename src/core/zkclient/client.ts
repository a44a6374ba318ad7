// kafkit's own ZooKeeper client on a raw socket, the one client of the project: the broker (through
// cluster/zk.ts), zookeeper-shell and zookeeper-security-migration use it. The calls Apache's Java
// client (ZooKeeper / ZooKeeperAdmin) offers: container and TTL creates, getEphemerals,
// getAllChildrenNumber, whoAmI, addWatch, removeWatches, multi; TLS and SASL DIGEST-MD5. Replies
// come back in xid order; pings while idle and a read timeout of 2/3 of the session timeout;
// watch events delivered to one callback and restored with SetWatches on a new connection to the
// same session; chroot applied as the Java client does.
import {createConnection, type Socket} from 'node:net'
import {connect as tlsConnect, type ConnectionOptions} from 'node:tls'
import {DigestMd5Client} from '../zookeeper/auth/digest-md5.js'
import {JuteReader, JuteWriter} from '../zookeeper/jute.js'
import {
  OpCode, KeeperError, PathError, readStat, readBufferOrNull, readAclList, writeAclList, validatePath,
  parseConnectString, type Acl, type Stat, type HostPort,
} from './codec.js'

export {KeeperError, PathError} from './codec.js'

/** Watcher.Event.KeeperState values on the wire, and the names Java prints. */
export const KeeperState: Record<number, string> = {
  0: 'Disconnected', 3: 'SyncConnected', 4: 'AuthFailed', 5: 'ConnectedReadOnly', 6: 'SaslAuthenticated',
  [-112]: 'Expired', 7: 'Closed',
}
/** Watcher.Event.EventType values on the wire, and the names Java prints. */
export const EventTypeName: Record<number, string> = {
  [-1]: 'None', 1: 'NodeCreated', 2: 'NodeDeleted', 3: 'NodeDataChanged', 4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved', 6: 'ChildWatchRemoved', 7: 'PersistentWatchRemoved',
}

export interface WatchedEvent { type: number; state: number; path: string | null }

/** WatchedEvent.toString() of ZooKeeper 3.8. */
export function eventString(e: WatchedEvent): string {
  return `WatchedEvent state:${KeeperState[e.state] ?? e.state} type:${EventTypeName[e.type] ?? e.type} path:${e.path}`
}

export type ClientState = 'CONNECTING' | 'CONNECTED' | 'CLOSED' | 'AUTH_FAILED'

interface Pending {
  xid: number
  path: string | null
  read: (r: JuteReader) => unknown
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

export interface MultiDelete { path: string; version: number }

/** One op of a multi (ZooKeeper's Op.create / delete / setData / check). */
export type MultiOp =
  | {type: 'create'; path: string; data: Buffer | null; acl: readonly Acl[]; mode: number}
  | {type: 'delete'; path: string; version: number}
  | {type: 'setData'; path: string; data: Buffer | null; version: number}
  | {type: 'check'; path: string; version: number}

/** SetWatches packets are split at this size, as the Java client does (SET_WATCHES_MAX_LENGTH). */
const SET_WATCHES_MAX = 128 * 1024

/** The largest reply accepted (jute.maxbuffer's default is 1 MB of data; a getChildren of a huge node is bigger). */
const MAX_FRAME = 256 * 1024 * 1024

export interface ClientOptions {
  sessionTimeout?: number
  /** Ask for a read-only session when the server is partitioned from its quorum (ZooKeeper's canBeReadOnly). */
  readOnly?: boolean
  /** Watch and state events, as the default Watcher of the Java client gets them. */
  onEvent?: (e: WatchedEvent) => void
  /** TLS to the server (zookeeper.ssl.client.enable): the options for a host (zookeeper/tls.ts). */
  tls?: (host: string) => ConnectionOptions
  /**
   * SASL DIGEST-MD5 on every connection before any request (the Java client with a JAAS Client
   * section holding DigestLoginModule's username and password).
   */
  sasl?: {username: string; password: string}
}

export class ZkClient {
  readonly hosts: HostPort[]
  readonly chroot: string | null
  state: ClientState = 'CONNECTING'
  sessionId = 0n
  private passwd: Buffer = Buffer.alloc(16)
  private negotiatedTimeout = 0
  private socket: Socket | null = null
  private xid = 1
  private pending: Pending[] = []
  private inbuf: Buffer = Buffer.alloc(0)
  private readonly w = new JuteWriter(1024)
  private pingTimer: NodeJS.Timeout | null = null
  private lastZxid = 0n
  private hostIndex = 0
  private waitingForConnection: Array<{path: string | null; resolve: () => void; reject: (e: Error) => void}> = []
  private closing = false
  private readonly auths: Array<{scheme: string; auth: Buffer | null}> = []
  /** Paths with a data/exists watch, and with a child watch (for removeWatches, like ZKWatchManager). */
  readonly dataWatches = new Set<string>()
  readonly childWatches = new Set<string>()
  readonly persistentWatches = new Set<string>()
  /** Paths of dataWatches set while the node was missing (exists watches, re-sent as such). */
  private readonly existOnly = new Set<string>()
  /** Why the last connection attempt failed (a TLS error, a refused connection), for messages. */
  lastConnectError: string | null = null
  private everConnected = false
  private lastReceived = 0

  constructor(connectString: string, private readonly opts: ClientOptions = {}) {
    const cs = parseConnectString(connectString)
    this.hosts = cs.hosts
    this.chroot = cs.chroot
    // As the Java client's StaticHostProvider shuffles its list: clients given the same connect
    // string (the brokers of a cluster) spread over the ensemble instead of all taking the first.
    this.hostIndex = this.hosts.length > 1 ? Math.floor(Math.random() * this.hosts.length) : 0
  }

  get sessionTimeout(): number {
    return this.opts.sessionTimeout ?? 30000
  }

  /**
   * Starts connecting in the background, as the Java client's send thread does: the hosts in
   * turn (a pause once all were tried), each attempt bounded by sessionTimeout / hosts. A
   * request made while not connected waits for the next attempt and fails with ConnectionLoss
   * if that attempt fails; the client keeps trying until close() or session expiry.
   */
  start(): void {
    if (this.started) return
    this.started = true
    void this.loop()
  }

  private started = false
  private wakeLoop: (() => void) | null = null
  private connectingSocket: Socket | null = null

  private async loop(): Promise<void> {
    let attempts = 0
    while (!this.closing && this.state !== 'CLOSED' && this.state !== 'AUTH_FAILED') {
      if (this.state === 'CONNECTED') {
        await new Promise<void>(resolve => { this.wakeLoop = resolve })
        this.wakeLoop = null
        continue
      }
      if (attempts > 0) {
        const delay = attempts % this.hosts.length === 0 ? 1000 : 50
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, delay)
          this.wakeLoop = () => { clearTimeout(t); resolve() }
        })
        this.wakeLoop = null
        if (this.closing) break
      }
      const hp = this.hosts[this.hostIndex++ % this.hosts.length]
      attempts++
      try {
        await this.open(hp, Math.max(100, Math.floor(this.sessionTimeout / this.hosts.length)))
        attempts = 0
      } catch (e) {
        this.lastConnectError = `${hp.host}:${hp.port}: ${(e as Error).message}`
        if ((e as {expired?: boolean}).expired) {
          for (const w of this.waitingForConnection.splice(0)) w.reject(new KeeperError(-112, w.path))
          return
        }
        // ClientCnxn.cleanup(): what waited for this attempt fails with ConnectionLoss.
        for (const w of this.waitingForConnection.splice(0)) w.reject(new KeeperError(-4, w.path))
      }
    }
    for (const w of this.waitingForConnection.splice(0)) w.reject(new KeeperError(this.state === 'AUTH_FAILED' ? -115 : -112, w.path))
  }

  private open(hp: HostPort, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const host = hp.host
      const tls = this.opts.tls
      const s: Socket = tls ? tlsConnect({host, port: hp.port, ...tls(host)}) : createConnection({host, port: hp.port})
      this.connectingSocket = s
      s.setNoDelay(true)
      let done = false
      const fail = (e: Error) => {
        if (done) return
        done = true
        clearTimeout(timer)
        this.connectingSocket = null
        s.destroy()
        reject(e)
      }
      const timer = setTimeout(() => fail(new Error('connection timed out')), timeoutMs)
      s.once('error', fail)
      s.once('close', () => fail(new Error('connection closed by the server')))
      s.once(tls ? 'secureConnect' : 'connect', () => {
        const w = new JuteWriter(64)
        const mark = w.startFrame()
        w.int(0).bigLong(this.lastZxid).int(this.sessionTimeout).bigLong(this.sessionId).buffer(this.passwd).bool(this.opts.readOnly === true)
        w.finishFrame(mark)
        s.write(w.toBuffer())
      })
      let buf: Buffer = Buffer.alloc(0)
      const onData = (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d])
        if (buf.length < 4) return
        const n = buf.readInt32BE(0)
        if (buf.length < 4 + n) return
        s.off('data', onData)
        s.removeAllListeners('close')
        s.removeAllListeners('error')
        done = true
        clearTimeout(timer)
        this.connectingSocket = null
        try {
          const r = new JuteReader(buf, 4, 4 + n)
          r.int() // protocol version
          const timeout = r.int()
          const sessionId = r.bigLong()
          const passwd = readBufferOrNull(r) ?? Buffer.alloc(16)
          if (timeout <= 0) {
            s.destroy()
            this.state = 'CLOSED'
            this.emit({type: -1, state: -112, path: null})
            reject(Object.assign(new Error('session expired'), {expired: true}))
            return
          }
          this.negotiatedTimeout = timeout
          this.sessionId = sessionId
          this.passwd = Buffer.from(passwd)
        } catch (e) {
          s.destroy()
          reject(e as Error)
          return
        }
        this.attach(s, buf.subarray(4 + n)).then(resolve, reject)
      }
      s.on('data', onData)
    })
  }

  /** The session is established on s: SASL first when configured, then requests may go. */
  private async attach(s: Socket, rest: Buffer): Promise<void> {
    if (this.closing) {
      s.destroy()
      return
    }
    this.socket = s
    this.inbuf = Buffer.from(rest)
    this.lastReceived = Date.now()
    s.on('data', d => this.onData(d))
    s.on('error', () => {})
    s.on('close', () => this.onSocketClosed(s))
    if (this.opts.sasl) {
      const failed = await this.authenticate(this.opts.sasl)
      if (this.socket !== s) throw new Error('connection lost during SASL authentication')
      if (failed) {
        // As the Java client: the AuthFailed state, an AuthFailed event, no more connecting.
        this.state = 'AUTH_FAILED'
        this.emit({type: -1, state: 4, path: null})
        s.destroy()
        return
      }
    }
    this.state = 'CONNECTED'
    this.lastConnectError = null
    // Auth infos are re-sent on every connection, as the Java client does.
    for (const a of this.auths) this.sendAuth(a.scheme, a.auth)
    // The same session on a new connection: the server forgot the watches; restore them.
    if (this.everConnected) this.sendSetWatches()
    this.everConnected = true
    this.schedulePing()
    this.emit({type: -1, state: 3, path: null})
    if (this.opts.sasl) this.emit({type: -1, state: 6, path: null})
    for (const w of this.waitingForConnection.splice(0)) w.resolve()
  }

  /** DIGEST-MD5 over SASL packets; true when the server refused (a wrong password, an unknown user). */
  private async authenticate(creds: {username: string; password: string}): Promise<boolean> {
    const c = new DigestMd5Client(creds.username, creds.password)
    let token: Buffer | null = c.initial()
    try {
      while (token !== null) {
        const t: Buffer = token
        const reply = await this.send(OpCode.sasl, null, w => { w.buffer(t) }, r => readBufferOrNull(r))
        token = c.evaluate(reply ?? Buffer.alloc(0))
      }
      return false
    } catch (e) {
      if (e instanceof KeeperError && e.code === -4) throw e
      return true
    }
  }

  private schedulePing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer)
    const every = Math.max(100, Math.floor(this.negotiatedTimeout / 3))
    this.pingTimer = setTimeout(() => {
      if (this.state !== 'CONNECTED' || !this.socket) return
      // The Java client's read timeout (2/3 of the session timeout): a server that went silent
      // (a network partition) costs the connection, and the client moves to another server.
      if (Date.now() - this.lastReceived > Math.max(200, Math.floor(this.negotiatedTimeout * 2 / 3))) {
        this.lastConnectError = `no reply from the server for ${Date.now() - this.lastReceived} ms`
        this.socket.destroy()
        return
      }
      this.sendFrame(-2, OpCode.ping, () => {})
      this.schedulePing()
    }, every)
  }

  private onSocketClosed(s: Socket): void {
    if (this.socket !== s) return
    this.socket = null
    if (this.pingTimer) clearTimeout(this.pingTimer)
    const code = this.state === 'AUTH_FAILED' ? -115 : -4
    for (const p of this.pending.splice(0)) p.reject(new KeeperError(code, p.path))
    if (this.closing || this.state === 'CLOSED' || this.state === 'AUTH_FAILED') return
    // Disconnected: the loop reconnects with the same session, like the Java client.
    this.state = 'CONNECTING'
    this.emit({type: -1, state: 0, path: null})
    this.wakeLoop?.()
  }

  private onData(d: Buffer): void {
    this.lastReceived = Date.now()
    this.inbuf = this.inbuf.length === 0 ? d : Buffer.concat([this.inbuf, d])
    let off = 0
    while (this.inbuf.length - off >= 4) {
      const n = this.inbuf.readInt32BE(off)
      if (n < 16 || n > MAX_FRAME) {
        // Not a ZooKeeper reply: drop the connection (requests fail with ConnectionLoss).
        this.socket?.destroy()
        this.inbuf = Buffer.alloc(0)
        return
      }
      if (this.inbuf.length - off < 4 + n) break
      try {
        this.onFrame(new JuteReader(this.inbuf, off + 4, off + 4 + n))
      } catch {
        this.socket?.destroy()
        this.inbuf = Buffer.alloc(0)
        return
      }
      off += 4 + n
    }
    this.inbuf = off === this.inbuf.length ? Buffer.alloc(0) : this.inbuf.subarray(off)
  }

  private onFrame(r: JuteReader): void {
    const xid = r.int()
    const zxid = r.bigLong()
    const err = r.int()
    if (zxid > 0n) this.lastZxid = zxid
    if (xid === -2 || xid === -8) return // ping, setWatches
    if (xid === -1) { // watch notification
      const type = r.int()
      const state = r.int()
      const path = this.strip(r.ustringOrNull() ?? '')
      if (type === 1 || type === 2 || type === 3) { this.dataWatches.delete(path); this.existOnly.delete(path) }
      if (type === 2 || type === 4) this.childWatches.delete(path)
      this.emit({type, state, path})
      return
    }
    if (xid === -4) { // auth reply
      if (err === -115) {
        this.state = 'AUTH_FAILED'
        this.emit({type: -1, state: 4, path: null})
        this.socket?.destroy()
      }
      return
    }
    const p = this.pending.shift()
    if (!p) return
    if (p.xid !== xid) {
      p.reject(new Error(`reply xid ${xid} out of order (expected ${p.xid})`))
      return
    }
    if (err !== 0) {
      p.reject(new KeeperError(err, p.path))
      return
    }
    try {
      p.resolve(p.read(r))
    } catch (e) {
      p.reject(e as Error)
    }
  }

  private emit(e: WatchedEvent): void {
    this.opts.onEvent?.(e)
  }

  private sendFrame(xid: number, op: number, body: (w: JuteWriter) => void): void {
    const w = this.w.reset()
    const mark = w.startFrame()
    w.int(xid).int(op)
    body(w)
    w.finishFrame(mark)
    this.socket?.write(w.toBuffer())
  }

  private async waitConnected(path: string | null): Promise<void> {
    if (this.state === 'CONNECTED') return
    if (this.state === 'CLOSED' || this.state === 'AUTH_FAILED' || this.closing) throw new KeeperError(this.state === 'AUTH_FAILED' ? -115 : -112, path)
    this.start()
    await new Promise<void>((resolve, reject) => this.waitingForConnection.push({path, resolve, reject}))
  }

  /** Sends one request and resolves with its decoded reply; path is what errors name. */
  async call<T>(op: number, path: string | null, body: (w: JuteWriter) => void, read: (r: JuteReader) => T): Promise<T> {
    await this.waitConnected(path)
    return this.send(op, path, body, read)
  }

  /** Sends one request on the current socket, connected or not (SASL packets go before the session is usable). */
  private send<T>(op: number, path: string | null, body: (w: JuteWriter) => void, read: (r: JuteReader) => T): Promise<T> {
    const xid = this.xid++
    return new Promise<T>((resolve, reject) => {
      this.pending.push({xid, path, read, resolve: resolve as (v: unknown) => void, reject})
      this.sendFrame(xid, op, body)
    })
  }

  // ---- chroot ----

  /** The server path for a client path (ZooKeeper.prependChroot). */
  server(path: string): string {
    if (this.chroot === null) return path
    return path === '/' ? this.chroot : this.chroot + path
  }

  /** The client path for a server path. */
  strip(path: string): string {
    if (this.chroot === null) return path
    if (path === this.chroot) return '/'
    return path.startsWith(this.chroot + '/') ? path.slice(this.chroot.length) : path
  }

  // ---- the API ----

  async create(path: string, data: Buffer | null, acl: readonly Acl[], mode: number, ttl = -1): Promise<string> {
    const sequential = mode === 2 || mode === 3 || mode === 6
    validatePath(path, sequential)
    if (acl.length === 0) throw new KeeperError(-114, null)
    const isTtl = mode === 5 || mode === 6
    const op = isTtl ? OpCode.createTTL : mode === 4 ? OpCode.createContainer : OpCode.create
    return this.call(op, path, w => {
      w.ustring(this.server(path)).buffer(data)
      writeAclList(w, acl)
      w.int(mode)
      if (isTtl) w.long(ttl)
    }, r => this.strip(r.ustring()))
  }

  async delete(path: string, version = -1): Promise<void> {
    validatePath(path)
    await this.call(OpCode.delete, path, w => { w.ustring(this.server(path)).int(version) }, () => undefined)
  }

  async exists(path: string, watch = false): Promise<Stat | null> {
    validatePath(path)
    try {
      const st = await this.call(OpCode.exists, path, w => { w.ustring(this.server(path)).bool(watch) }, readStat)
      if (watch) { this.dataWatches.add(path); this.existOnly.delete(path) }
      return st
    } catch (e) {
      if (e instanceof KeeperError && e.code === -101) {
        if (watch && !this.dataWatches.has(path)) { this.dataWatches.add(path); this.existOnly.add(path) }
        return null
      }
      throw e
    }
  }

  async getData(path: string, watch = false): Promise<{data: Buffer | null; stat: Stat}> {
    validatePath(path)
    const res = await this.call(OpCode.getData, path, w => { w.ustring(this.server(path)).bool(watch) }, r => ({data: readBufferOrNull(r), stat: readStat(r)}))
    if (watch) { this.dataWatches.add(path); this.existOnly.delete(path) }
    return res
  }

  /** ZooKeeperAdmin.getConfig: /zookeeper/config, never chrooted. */
  async getConfig(watch = false): Promise<{data: Buffer | null; stat: Stat}> {
    const res = await this.call(OpCode.getData, '/zookeeper/config', w => { w.ustring('/zookeeper/config').bool(watch) }, r => ({data: readBufferOrNull(r), stat: readStat(r)}))
    if (watch) this.dataWatches.add('/zookeeper/config')
    return res
  }

  async setData(path: string, data: Buffer | null, version = -1): Promise<Stat> {
    validatePath(path)
    return this.call(OpCode.setData, path, w => { w.ustring(this.server(path)).buffer(data).int(version) }, readStat)
  }

  async getACL(path: string): Promise<{acl: Acl[]; stat: Stat}> {
    validatePath(path)
    return this.call(OpCode.getACL, path, w => { w.ustring(this.server(path)) }, r => ({acl: readAclList(r), stat: readStat(r)}))
  }

  async setACL(path: string, acl: readonly Acl[], version = -1): Promise<Stat> {
    validatePath(path)
    if (acl.length === 0) throw new KeeperError(-114, null)
    return this.call(OpCode.setACL, path, w => { w.ustring(this.server(path)); writeAclList(w, acl); w.int(version) }, readStat)
  }

  async getChildren(path: string, watch = false): Promise<string[]> {
    validatePath(path)
    const kids = await this.call(OpCode.getChildren, path, w => { w.ustring(this.server(path)).bool(watch) }, r => r.stringVector())
    if (watch) this.childWatches.add(path)
    return kids
  }

  async getChildren2(path: string, watch = false): Promise<{children: string[]; stat: Stat}> {
    validatePath(path)
    const res = await this.call(OpCode.getChildren2, path, w => { w.ustring(this.server(path)).bool(watch) }, r => ({children: r.stringVector(), stat: readStat(r)}))
    if (watch) this.childWatches.add(path)
    return res
  }

  /** Resolves with the reply's error code (0 = OK), as the async Java call's rc. */
  async sync(path: string): Promise<number> {
    validatePath(path)
    try {
      await this.call(OpCode.sync, path, w => { w.ustring(this.server(path)) }, r => r.ustring())
      return 0
    } catch (e) {
      if (e instanceof KeeperError) return e.code
      throw e
    }
  }

  /** The session's ephemeral nodes under prefix; server paths (the Java client leaves the chroot in). */
  async getEphemerals(prefix = '/'): Promise<string[]> {
    validatePath(prefix)
    return this.call(OpCode.getEphemerals, null, w => { w.ustring(this.server(prefix)) }, r => r.stringVector())
  }

  async getAllChildrenNumber(path: string): Promise<number> {
    validatePath(path)
    return this.call(OpCode.getAllChildrenNumber, path, w => { w.ustring(this.server(path)) }, r => r.int())
  }

  async whoAmI(): Promise<Array<{scheme: string; user: string}>> {
    return this.call(OpCode.whoAmI, null, () => {}, r => {
      const n = r.vectorCount()
      const out: Array<{scheme: string; user: string}> = []
      for (let i = 0; i < n; i++) out.push({scheme: r.ustringOrNull() ?? 'null', user: r.ustringOrNull() ?? 'null'})
      return out
    })
  }

  /** addWatch: mode 0 = PERSISTENT, 1 = PERSISTENT_RECURSIVE. */
  async addWatch(path: string, mode: number): Promise<void> {
    validatePath(path)
    await this.call(OpCode.addWatch, path, w => { w.ustring(this.server(path)).int(mode) }, () => undefined)
    this.persistentWatches.add(path)
  }

  /** removeAllWatches: type 1 = Children, 2 = Data, 3 = Any; local removes without asking the server. */
  async removeAllWatches(path: string, type: number, local: boolean): Promise<void> {
    validatePath(path)
    const has = (type === 1 || type === 3) && this.childWatches.has(path)
      || (type === 2 || type === 3) && this.dataWatches.has(path)
      || type === 3 && this.persistentWatches.has(path)
    if (!has) throw new KeeperError(-121, path)
    if (!local || this.state === 'CONNECTED') {
      try {
        await this.call(OpCode.removeWatches, path, w => { w.ustring(this.server(path)).int(type) }, () => undefined)
      } catch (e) {
        if (!local) throw e
      }
    }
    // The Java client tells the watcher what was removed: ChildWatchRemoved (6), DataWatchRemoved (5),
    // PersistentWatchRemoved (7).
    if ((type === 1 || type === 3) && this.childWatches.delete(path)) this.emit({type: 6, state: 3, path})
    if (type === 2 || type === 3) this.existOnly.delete(path)
    if ((type === 2 || type === 3) && this.dataWatches.delete(path)) this.emit({type: 5, state: 3, path})
    if (type === 3 && this.persistentWatches.delete(path)) this.emit({type: 7, state: 3, path})
  }

  /** ZooKeeperAdmin.reconfigure: the new configuration and /zookeeper/config's stat (errors name the path "", as Apache's). */
  async reconfig(joining: string | null, leaving: string | null, members: string | null, fromConfig: bigint): Promise<{data: Buffer | null; stat: Stat}> {
    return this.call(OpCode.reconfig, '', w => { w.ustring(joining).ustring(leaving).ustring(members).bigLong(fromConfig) }, r => ({data: readBufferOrNull(r), stat: readStat(r)}))
  }

  /** A multi of deletes; resolves true when every op succeeded. */
  async multiDelete(ops: readonly MultiDelete[]): Promise<boolean> {
    for (const o of ops) validatePath(o.path)
    return this.call(OpCode.multi, null, w => {
      for (const o of ops) {
        w.int(OpCode.delete).bool(false).int(-1)
        w.ustring(this.server(o.path)).int(o.version)
      }
      w.int(-1).bool(true).int(-1)
    }, () => true).catch(e => {
      if (e instanceof KeeperError) return false
      throw e
    })
  }

  /**
   * A multi of creates, deletes, setDatas and checks, applied atomically. Resolves with the
   * created paths (null for other ops); a failed multi rejects with the first failing op's
   * error naming that op's path (KeeperException of the Java client's multi).
   */
  async multi(ops: readonly MultiOp[]): Promise<Array<string | null>> {
    for (const o of ops) validatePath(o.path, o.type === 'create' && (o.mode === 2 || o.mode === 3 || o.mode === 6))
    // A server may put the failure in the reply header (then which op failed is not known: all paths are named).
    const results = await this.call(OpCode.multi, ops.map(o => o.path).join(',') || null, w => {
      for (const o of ops) {
        switch (o.type) {
          case 'create':
            w.int(OpCode.create).bool(false).int(-1)
            w.ustring(this.server(o.path)).buffer(o.data)
            writeAclList(w, o.acl)
            w.int(o.mode)
            break
          case 'delete': w.int(OpCode.delete).bool(false).int(-1).ustring(this.server(o.path)).int(o.version); break
          case 'setData': w.int(OpCode.setData).bool(false).int(-1).ustring(this.server(o.path)).buffer(o.data).int(o.version); break
          case 'check': w.int(OpCode.check).bool(false).int(-1).ustring(this.server(o.path)).int(o.version); break
        }
      }
      w.int(-1).bool(true).int(-1)
    }, r => {
      const out: Array<{err: number; path: string | null}> = []
      for (;;) {
        const type = r.int()
        const done = r.bool()
        r.int() // err of the header
        if (done) break
        switch (type) {
          case OpCode.create: out.push({err: 0, path: this.strip(r.ustring())}); break
          case OpCode.create2: out.push({err: 0, path: this.strip(r.ustring())}); readStat(r); break
          case OpCode.setData: readStat(r); out.push({err: 0, path: null}); break
          case -1: out.push({err: r.int(), path: null}); break
          default: out.push({err: 0, path: null})
        }
      }
      return out
    })
    const failed = results.findIndex(x => x.err !== 0)
    if (failed >= 0) throw new KeeperError(results[failed].err, ops[failed]?.path ?? null)
    return results.map(x => x.path)
  }

  /** SetWatches (split as the Java client splits them) for the watches this client holds. */
  private sendSetWatches(): void {
    const data: string[] = []
    const exist: string[] = []
    for (const p of this.dataWatches) (this.existOnly.has(p) ? exist : data).push(this.server(p))
    const child = [...this.childWatches].map(p => this.server(p))
    if (data.length + exist.length + child.length === 0) return
    const lists = [data, exist, child]
    const idx = [0, 0, 0]
    while (idx.some((n, i) => n < lists[i].length)) {
      const batch: string[][] = [[], [], []]
      let size = 0
      for (let i = 0; i < 3; i++) {
        while (idx[i] < lists[i].length && size < SET_WATCHES_MAX) {
          const p = lists[i][idx[i]++]
          batch[i].push(p)
          size += p.length + 4
        }
      }
      this.sendFrame(-8, OpCode.setWatches, w => {
        w.bigLong(this.lastZxid)
        for (const l of batch) {
          w.int(l.length)
          for (const p of l) w.ustring(p)
        }
      })
    }
  }

  /** Drops the current connection (not the session): the client reconnects as after a network error. */
  dropConnection(): void {
    this.socket?.destroy()
  }

  /** The session password (with sessionId: what a client needs to take the session over). */
  get sessionPassword(): Buffer {
    return Buffer.from(this.passwd)
  }

  /** addAuthInfo: sent now (and on every reconnect); a failure arrives as an AuthFailed event. */
  addAuthInfo(scheme: string, auth: Buffer | null): void {
    this.auths.push({scheme, auth})
    if (this.state === 'CONNECTED') this.sendAuth(scheme, auth)
  }

  private sendAuth(scheme: string, auth: Buffer | null): void {
    this.sendFrame(-4, OpCode.auth, w => { w.int(0).ustring(scheme).buffer(auth) })
  }

  /**
   * Closes the session (closeSession, then the socket); never throws. With waitForConnection,
   * a client still connecting first waits for that attempt, as ZooKeeper.close() does (its
   * closeSession request waits in the queue); without, it gives up the attempt at once.
   */
  async close(waitForConnection = false): Promise<void> {
    if (this.closing) return
    if (waitForConnection && this.state === 'CONNECTING' && this.started) {
      await this.waitConnected(null).catch(() => {})
    }
    if (this.closing) return
    this.closing = true
    if (this.pingTimer) clearTimeout(this.pingTimer)
    const s = this.socket
    if (s && this.state === 'CONNECTED') {
      const xid = this.xid++
      const done = new Promise<void>(resolve => {
        const t = setTimeout(resolve, 2000)
        this.pending.push({xid, path: null, read: () => undefined, resolve: () => { clearTimeout(t); resolve() }, reject: () => { clearTimeout(t); resolve() }})
        s.once('close', () => { clearTimeout(t); resolve() })
      })
      this.sendFrame(xid, OpCode.closeSession, () => {})
      await done
    }
    this.state = 'CLOSED'
    this.socket = null
    s?.destroy()
    this.connectingSocket?.destroy()
    this.wakeLoop?.()
    for (const w of this.waitingForConnection.splice(0)) w.reject(new KeeperError(-112, w.path))
  }

  /** Whether the client may still be used (ZooKeeper.States.isAlive). */
  isAlive(): boolean {
    return this.state === 'CONNECTED' || this.state === 'CONNECTING'
  }
}
