// The broker's ZooKeeper client: a small promise API over kafkit's own ZooKeeper client
// (zkclient/client.ts, which also speaks TLS and SASL DIGEST-MD5) for the broker's metadata
// work: create (with parents), get/set with versions, getChildren, exists, multi, recursive
// delete, watches as events (restored with SetWatches after a reconnection), and session
// expiry handled by opening a new session (the owner re-registers its ephemeral nodes on
// 'session'). The chroot of the connect string (host:2181/kafka) is applied by the client, so
// callers always use Kafka's absolute paths.
import {EventEmitter} from 'node:events'
import type {ConnectionOptions} from 'node:tls'
import type {Logger} from '../util/log.js'
import {ZkClient as RawClient, KeeperError, PathError, type MultiOp} from '../zkclient/client.js'
import {OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type Acl, type Stat} from '../zkclient/codec.js'
import {Err, Perms} from '../zookeeper/records.js'

/** The error codes the broker tells apart (ZooKeeper's, from the server's table in records.ts). */
export const ZkCode = {
  CONNECTION_LOSS: Err.ConnectionLoss,
  OPERATION_TIMEOUT: Err.OperationTimeout,
  NO_NODE: Err.NoNode,
  BAD_VERSION: Err.BadVersion,
  NO_CHILDREN_FOR_EPHEMERALS: Err.NoChildrenForEphemerals,
  NODE_EXISTS: Err.NodeExists,
  NOT_EMPTY: Err.NotEmpty,
  SESSION_EXPIRED: Err.SessionExpired,
  AUTH_FAILED: Err.AuthFailed,
} as const

export class ZkError extends Error {
  constructor(readonly code: number, message: string, readonly path?: string) {
    super(message)
    this.name = 'ZkError'
  }
}

export interface ZkStat {
  czxid: bigint
  mzxid: bigint
  ctime: number
  mtime: number
  version: number
  cversion: number
  /** Session id (hex) of the owner of an ephemeral node, '0000000000000000' otherwise. */
  ephemeralOwner: string
  dataLength: number
  numChildren: number
}

export type ZkOp =
  | {op: 'create'; path: string; data?: Buffer | string; ephemeral?: boolean; sequential?: boolean}
  | {op: 'set'; path: string; data: Buffer | string; version?: number}
  | {op: 'delete'; path: string; version?: number}
  | {op: 'check'; path: string; version: number}

export type ZkWatchType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged'
export interface ZkWatchEvent {
  type: ZkWatchType
  path: string
}

export interface ZkConnectOptions {
  sessionTimeoutMs: number
  connectionTimeoutMs: number
  /** A request unanswered this long fails with CONNECTION_LOSS (default: connectionTimeoutMs). */
  requestTimeoutMs?: number
  logger?: Logger
  /** Credentials sent on every connection (ZooKeeper's addauth), e.g. digest user:password. */
  auth?: {scheme: string; auth: string}[]
  /**
   * zookeeper.set.acl=true: znodes are created with Kafka's secure ACLs (creator all, world read
   * except on sensitive paths) instead of world-open ones.
   */
  secureAcls?: boolean
  /** TLS to the servers (zookeeper.ssl.client.enable=true and the zookeeper.ssl.* keys). */
  tls?: (host: string) => ConnectionOptions
  /** SASL DIGEST-MD5 credentials (the JAAS Client section's DigestLoginModule). */
  sasl?: {username: string; password: string}
}

/** The secured-connection part of ZkConnectOptions (what the broker's security config gives). */
export type ZkSecurity = Pick<ZkConnectOptions, 'tls' | 'sasl'>

/** Kafka's ZkData.SensitiveRootPaths: readable by their creator only when ACLs are secure. */
const SENSITIVE_ROOTS = ['/config/users', '/config/brokers', '/delegation_token/tokens']

/** ZooDefs.Ids.CREATOR_ALL_ACL: every id the creating session authenticated with gets all permissions. */
const CREATOR_ALL: Acl = {perms: Perms.ALL, scheme: 'auth', id: ''}

/** Kafka's ZkData.defaultAcls for a (chroot-relative) path; undefined = world-open (ZooKeeper's default). */
export function kafkaDefaultAcls(secure: boolean, path: string): Acl[] | undefined {
  if (!secure || path === '/consumers') return undefined
  const acls = [CREATOR_ALL]
  if (!SENSITIVE_ROOTS.some(r => path.startsWith(r))) acls.push(...READ_ACL_UNSAFE)
  return acls
}


/** Splits `h1:2181,h2:2181/chroot` into the host list and the chroot ('' when none). */
export function splitConnectString(connect: string): {hosts: string; chroot: string} {
  const slash = connect.indexOf('/')
  if (slash < 0) return {hosts: connect, chroot: ''}
  const chroot = connect.slice(slash).replace(/\/+$/, '')
  return {hosts: connect.slice(0, slash), chroot}
}

function toBuf(data: Buffer | string | undefined): Buffer | undefined {
  if (data === undefined) return undefined
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data
}

/** A session id as the 16 hex digits ZkStat.ephemeralOwner uses. */
function hex64(n: bigint): string {
  return BigInt.asUintN(64, n).toString(16).padStart(16, '0')
}

function stat(s: Stat): ZkStat {
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    ephemeralOwner: hex64(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  }
}

/** A KeeperError of kafkit's client as the broker's ZkError (code and path kept). */
function zkError(error: unknown, path: string): unknown {
  if (error instanceof KeeperError) return new ZkError(error.code, error.message, path)
  if (error instanceof Error && error instanceof PathError) return new ZkError(-8, `Bad ZooKeeper request for ${path}: ${error.message}`, path)
  return error
}

/** Watcher.Event.EventType on the wire: the watch events the broker acts on. */
const WATCH_TYPES: Record<number, ZkWatchType> = {1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged'}
/** Watcher.Event.KeeperState on the wire. */
const STATE = {DISCONNECTED: 0, SYNC_CONNECTED: 3, AUTH_FAILED: 4, EXPIRED: -112} as const

/**
 * One ZooKeeper session at a time. Events: 'watch' (ZkWatchEvent, chroot stripped),
 * 'disconnected', 'connected' (the same session on a new connection: watches were restored),
 * 'expired' (the session is gone; a new one is being opened), 'session' (a new session after
 * expiry: ephemerals and watches must be re-established).
 */
export class ZkClient extends EventEmitter {
  private client!: RawClient
  private closed = false
  private live = false
  private watchdog: NodeJS.Timeout | undefined
  readonly hosts: string
  readonly chroot: string

  private constructor(readonly connectString: string, readonly opts: ZkConnectOptions) {
    super()
    this.setMaxListeners(0) // every request waiting for a reconnection listens once
    const {hosts, chroot} = splitConnectString(connectString)
    this.hosts = hosts
    this.chroot = chroot
  }

  /**
   * Connects (TLS and SASL when configured); rejects with Kafka's message when not connected
   * within connectionTimeoutMs (naming why the last attempt failed), or at once when the server
   * refuses the SASL credentials.
   */
  static async connect(connectString: string, opts: ZkConnectOptions): Promise<ZkClient> {
    const zk = new ZkClient(connectString, opts)
    await zk.open()
    return zk
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false
      const client: RawClient = new RawClient(this.hosts + this.chroot, {
        sessionTimeout: this.opts.sessionTimeoutMs,
        tls: this.opts.tls,
        sasl: this.opts.sasl,
        onEvent: e => {
          if (this.client !== client) return
          if (e.type !== -1) {
            const type = WATCH_TYPES[e.type]
            if (type && e.path !== null) this.emit('watch', {type, path: e.path} satisfies ZkWatchEvent)
            return
          }
          switch (e.state) {
            case STATE.SYNC_CONNECTED:
              this.live = true
              if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
              this.emit('_live')
              if (!settled) {
                settled = true
                clearTimeout(timer)
                resolve()
              } else this.emit('connected')
              break
            case STATE.DISCONNECTED:
              this.live = false
              if (settled && !this.closed) {
                this.emit('disconnected')
                // Watchdog: by now the server has expired the session anyway; if the client has
                // not managed to reconnect, start over with a new session.
                if (!this.watchdog) {
                  this.watchdog = setTimeout(() => {
                    this.watchdog = undefined
                    if (this.live || this.closed || this.client !== client) return
                    this.renew(client, `No connection to ZooKeeper for ${this.opts.sessionTimeoutMs} ms; opening a new session`)
                  }, this.opts.sessionTimeoutMs)
                  this.watchdog.unref()
                }
              }
              break
            case STATE.EXPIRED:
              this.live = false
              if (settled && !this.closed) this.renew(client, 'ZooKeeper session expired; opening a new session')
              break
            case STATE.AUTH_FAILED: {
              this.live = false
              const why = this.opts.sasl
                ? `the server refused the SASL DIGEST-MD5 credentials of user ${this.opts.sasl.username} (JAAS Client section)`
                : 'the server refused the credentials'
              if (!settled) {
                settled = true
                clearTimeout(timer)
                void client.close()
                reject(new ZkError(ZkCode.AUTH_FAILED, `Auth failed either before or while waiting for connection: ${why}`))
              } else if (!this.closed) this.renew(client, `ZooKeeper authentication failed: ${why}; opening a new session`, 1000)
              break
            }
          }
        },
      })
      for (const a of this.opts.auth ?? []) client.addAuthInfo(a.scheme, Buffer.from(a.auth, 'utf8'))
      this.client = client
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        const last = client.lastConnectError
        void client.close()
        reject(new ZkError(ZkCode.CONNECTION_LOSS, `Timed out waiting for connection while in state: CONNECTING${last ? ` (last attempt: ${last})` : ''}`))
      }, this.opts.connectionTimeoutMs)
      client.start()
    })
  }

  /** Drops the current connection; the client reconnects with the same session. */
  private kick(): void {
    this.opts.logger?.warn('ZooKeeper did not answer in time; reconnecting')
    this.client.dropConnection()
  }

  private renew(client: RawClient, why: string, delayMs = 0): void {
    if (this.client !== client || this.closed) return
    this.opts.logger?.warn(why)
    if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
    this.live = false
    void client.close()
    this.emit('expired')
    void this.reopen(delayMs)
  }

  private async reopen(delayMs: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const pause = attempt > 0 ? 1000 : delayMs
      if (pause > 0) await new Promise(r => setTimeout(r, pause))
      if (this.closed) return
      try {
        await this.open()
        this.emit('session')
        return
      } catch (error) {
        this.opts.logger?.warn(`Cannot re-open the ZooKeeper session: ${(error as Error).message}`)
      }
    }
  }

  /** True while the client has a live connection to a server. */
  get connected(): boolean {
    return this.live && !this.closed
  }

  /** Session id as 16 hex digits. */
  get sessionId(): string {
    const id = this.client?.sessionId ?? 0n
    return id === 0n ? '' : hex64(id)
  }

  /** For tests: the underlying session's password and id, to provoke an expiry. */
  sessionCredentials(): {id: Buffer; password: Buffer} {
    const id = Buffer.alloc(8)
    id.writeBigUInt64BE(BigInt.asUintN(64, this.client.sessionId))
    return {id, password: this.client.sessionPassword}
  }

  /** The ACLs a new znode gets. */
  private aclsFor(path: string): readonly Acl[] {
    return kafkaDefaultAcls(this.opts.secureAcls === true, path) ?? OPEN_ACL_UNSAFE
  }

  /**
   * Runs one request. A request caught by a disconnection fails with CONNECTION_LOSS in
   * ZooKeeper; like Kafka's ZooKeeper client, wait for the connection to come back and retry
   * (within the request timeout). The wait for an answer is bounded too, as requests queue
   * in the client while it is disconnected.
   */
  private async call<T>(fn: (c: RawClient) => Promise<T>, path: string, timeoutMs = this.opts.requestTimeoutMs ?? this.opts.connectionTimeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        return await this.callOnce(fn, path, Math.max(1, deadline - Date.now()))
      } catch (error) {
        if (!(error instanceof ZkError) || error.code !== ZkCode.CONNECTION_LOSS || this.closed || Date.now() >= deadline || error.message.startsWith('Timed out')) throw error
        await this.waitLive(deadline - Date.now())
      }
    }
  }

  private waitLive(ms: number): Promise<void> {
    if (this.live) return new Promise(r => setTimeout(r, 20))
    return new Promise(resolve => {
      const done = () => { clearTimeout(t); this.off('_live', done); resolve() }
      const t = setTimeout(done, Math.max(1, ms))
      this.on('_live', done)
    })
  }

  private callOnce<T>(fn: (c: RawClient) => Promise<T>, path: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new ZkError(ZkCode.CONNECTION_LOSS, 'ZooKeeper client is closed', path)); return }
      const timer = setTimeout(() => {
        // No answer on a connection that looks alive: it is half-dead; make the client reconnect.
        if (this.live) this.kick()
        reject(new ZkError(ZkCode.CONNECTION_LOSS, `Timed out after ${Math.round(timeoutMs)} ms waiting for ZooKeeper (request for ${path})`, path))
      }, timeoutMs)
      let p: Promise<T>
      try {
        p = fn(this.client)
      } catch (error) {
        clearTimeout(timer)
        reject(zkError(error, path))
        return
      }
      p.then(v => { clearTimeout(timer); resolve(v) }, error => { clearTimeout(timer); reject(zkError(error, path)) })
    })
  }

  /** Creates a node; with parents, missing ancestors are created (persistent, empty). Returns the created path. */
  async create(path: string, data?: Buffer | string, opts: {ephemeral?: boolean; sequential?: boolean; parents?: boolean} = {}): Promise<string> {
    const mode = (opts.ephemeral ? 1 : 0) | (opts.sequential ? 2 : 0)
    const buf = toBuf(data) ?? null
    const acls = this.aclsFor(path)
    try {
      return await this.call(c => c.create(path, buf, acls, mode), path)
    } catch (error) {
      if (!opts.parents || (error as ZkError).code !== ZkCode.NO_NODE) throw error
      const parent = path.slice(0, path.lastIndexOf('/'))
      if (parent) await this.ensurePath(parent)
      return this.call(c => c.create(path, buf, acls, mode), path)
    }
  }

  /** Creates a persistent path and its ancestors if missing (no error when it exists). */
  async ensurePath(path: string): Promise<void> {
    const parts = path.split('/').filter(p => p !== '')
    let cur = ''
    for (const p of parts) {
      cur += '/' + p
      try {
        const at = cur
        await this.call(c => c.create(at, null, this.aclsFor(at), 0), at)
      } catch (error) {
        if ((error as ZkError).code !== ZkCode.NODE_EXISTS) throw error
      }
    }
  }

  /**
   * Data and stat, or undefined when the node does not exist. With watch, a watch is left
   * either way: a data watch on the node, or an exists watch that fires when it is created.
   * No creation is missed: when the node appears between the read and the exists watch, it
   * is read again (with its data watch) instead of answering "missing".
   */
  async get(path: string, watch = false): Promise<{data: Buffer; stat: ZkStat} | undefined> {
    for (;;) {
      try {
        const r = await this.call(c => c.getData(path, watch), path)
        return {data: r.data ?? Buffer.alloc(0), stat: stat(r.stat)}
      } catch (error) {
        if ((error as ZkError).code !== ZkCode.NO_NODE) throw error
        if (!watch || await this.exists(path, true) === undefined) return undefined
      }
    }
  }

  /** Parsed JSON data (undefined when missing or empty). */
  async getJson<T = unknown>(path: string, watch = false): Promise<{value: T; stat: ZkStat} | undefined> {
    const r = await this.get(path, watch)
    if (!r || r.data.length === 0) return undefined
    return {value: JSON.parse(r.data.toString('utf8')) as T, stat: r.stat}
  }

  async set(path: string, data: Buffer | string, version = -1): Promise<ZkStat> {
    return stat(await this.call(c => c.setData(path, toBuf(data) ?? null, version), path))
  }

  /** Children names, or undefined when the node does not exist (with watch: re-read if it appears meanwhile, as get()). */
  async getChildren(path: string, watch = false): Promise<string[] | undefined> {
    for (;;) {
      try {
        return await this.call(c => c.getChildren(path, watch), path)
      } catch (error) {
        if ((error as ZkError).code !== ZkCode.NO_NODE) throw error
        if (!watch || await this.exists(path, true) === undefined) return undefined
      }
    }
  }

  async exists(path: string, watch = false): Promise<ZkStat | undefined> {
    const s = await this.call(c => c.exists(path, watch), path)
    return s ? stat(s) : undefined
  }

  async delete(path: string, version = -1, timeoutMs?: number): Promise<void> {
    return this.call(c => c.delete(path, version), path, timeoutMs)
  }

  /** Deletes a node and everything under it; a missing node is not an error. */
  async deleteRecursive(path: string): Promise<void> {
    const children = await this.getChildren(path)
    if (children === undefined) return
    for (const c of children) await this.deleteRecursive(`${path === '/' ? '' : path}/${c}`)
    try {
      await this.delete(path)
    } catch (error) {
      const code = (error as ZkError).code
      if (code === ZkCode.NOT_EMPTY) return this.deleteRecursive(path)
      if (code !== ZkCode.NO_NODE) throw error
    }
  }

  /** Applies ops atomically; rejects with the first failing op's error. */
  async multi(ops: ZkOp[]): Promise<void> {
    const raw: MultiOp[] = ops.map(o => {
      switch (o.op) {
        case 'create': return {type: 'create', path: o.path, data: toBuf(o.data) ?? null, acl: this.aclsFor(o.path), mode: (o.ephemeral ? 1 : 0) | (o.sequential ? 2 : 0)}
        case 'set': return {type: 'setData', path: o.path, data: toBuf(o.data) ?? null, version: o.version ?? -1}
        case 'delete': return {type: 'delete', path: o.path, version: o.version ?? -1}
        case 'check': return {type: 'check', path: o.path, version: o.version}
      }
    })
    await this.call(c => c.multi(raw), ops.map(o => o.path).join(','))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
    this.emit('_live') // wake requests waiting for a reconnection: they fail now
    await this.client.close()
    this.live = false
  }
}
