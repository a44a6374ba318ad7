// A small promise API over node-zookeeper-client for the broker's metadata work:
// create (with parents), get/set with versions, getChildren, exists, multi, recursive
// delete, watches as events, and session expiry handled by opening a new session (the
// owner re-registers its ephemeral nodes on 'session'). The chroot of the connect string
// (host:2181/kafka) is applied here, so callers always use Kafka's absolute paths.
import {EventEmitter} from 'node:events'
import {createRequire} from 'node:module'
import type {Logger} from '../util/log.js'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zookeeper: any = require('node-zookeeper-client')

export const ZkCode = {
  CONNECTION_LOSS: -4,
  OPERATION_TIMEOUT: -7,
  NO_NODE: -101,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
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
}

/** Kafka's ZkData.SensitiveRootPaths: readable by their creator only when ACLs are secure. */
const SENSITIVE_ROOTS = ['/config/users', '/config/brokers', '/delegation_token/tokens']

/** Kafka's ZkData.defaultAcls for a (chroot-relative) path; undefined = world-open (ZooKeeper's default). */
export function kafkaDefaultAcls(secure: boolean, path: string): unknown[] | undefined {
  if (!secure || path === '/consumers') return undefined
  const acls = [...zookeeper.ACL.CREATOR_ALL_ACL]
  if (!SENSITIVE_ROOTS.some(r => path.startsWith(r))) acls.push(...zookeeper.ACL.READ_ACL_UNSAFE)
  return acls
}

const WATCH_TYPES: Record<number, ZkWatchType> = {1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged'}

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

function stat(s: {version: number; cversion: number; ephemeralOwner: Buffer; ctime: Buffer; mtime: Buffer; czxid: Buffer; mzxid: Buffer; dataLength: number; numChildren: number}): ZkStat {
  return {
    czxid: s.czxid.readBigInt64BE(0),
    mzxid: s.mzxid.readBigInt64BE(0),
    ctime: Number(s.ctime.readBigInt64BE(0)),
    mtime: Number(s.mtime.readBigInt64BE(0)),
    version: s.version,
    cversion: s.cversion,
    ephemeralOwner: s.ephemeralOwner.toString('hex'),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  }
}

/**
 * One ZooKeeper session at a time. Events: 'watch' (ZkWatchEvent, chroot stripped),
 * 'disconnected', 'connected', 'expired' (the session is gone; a new one is being opened),
 * 'session' (a new session after expiry: ephemerals and watches must be re-established).
 */
export class ZkClient extends EventEmitter {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private client: any
  private closed = false
  private live = false
  private watchdog: NodeJS.Timeout | undefined
  readonly hosts: string
  readonly chroot: string
  private readonly watcher = (event: {type: number; path: string}) => {
    const type = WATCH_TYPES[event.type]
    if (!type) return
    const path = this.chroot && event.path.startsWith(this.chroot) ? event.path.slice(this.chroot.length) || '/' : event.path
    this.emit('watch', {type, path} satisfies ZkWatchEvent)
  }

  private constructor(readonly connectString: string, readonly opts: ZkConnectOptions) {
    super()
    this.setMaxListeners(0) // every request waiting for a reconnection listens once
    const {hosts, chroot} = splitConnectString(connectString)
    this.hosts = hosts
    this.chroot = chroot
  }

  /** Connects; rejects with Kafka's message when not connected within connectionTimeoutMs. */
  static async connect(connectString: string, opts: ZkConnectOptions): Promise<ZkClient> {
    const zk = new ZkClient(connectString, opts)
    await zk.open()
    return zk
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = zookeeper.createClient(this.hosts, {sessionTimeout: this.opts.sessionTimeoutMs, spinDelay: 200, retries: 0})
      for (const a of this.opts.auth ?? []) client.addAuthInfo(a.scheme, Buffer.from(a.auth, 'utf8'))
      this.client = client
      let connected = false
      const timer = setTimeout(() => {
        if (connected) return
        client.removeAllListeners()
        client.close()
        reject(new ZkError(ZkCode.CONNECTION_LOSS, 'Timed out waiting for connection while in state: CONNECTING'))
      }, this.opts.connectionTimeoutMs)
      client.on('state', (state: {name: string}) => {
        switch (state.name) {
          case 'SYNC_CONNECTED':
            this.live = true
            if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
            this.emit('_live')
            if (!connected) {
              connected = true
              clearTimeout(timer)
              resolve()
            } else this.emit('connected')
            break
          case 'DISCONNECTED':
            this.live = false
            if (connected && !this.closed) {
              this.emit('disconnected')
              // Watchdog: by now the server has expired the session anyway; if the client has
              // not managed to reconnect (it can get stuck), start over with a new session.
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
          case 'EXPIRED':
            this.live = false
            if (!connected || this.closed || this.client !== client) break
            this.renew(client, 'ZooKeeper session expired; opening a new session')
            break
        }
      })
      client.connect()
    })
  }

  /** Drops the current TCP connection; node-zookeeper-client reconnects with the same session. */
  private kick(): void {
    this.opts.logger?.warn('ZooKeeper did not answer in time; reconnecting')
    try { this.client?.connectionManager?.socket?.destroy() } catch { /* already gone */ }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private renew(client: any, why: string): void {
    this.opts.logger?.warn(why)
    if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
    client.removeAllListeners()
    client.close()
    this.emit('expired')
    void this.reopen()
  }

  private async reopen(): Promise<void> {
    for (;;) {
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
    const id = this.client?.getSessionId?.()
    return id ? Buffer.from(id).toString('hex') : ''
  }

  /** For tests: the underlying session's password and id, to provoke an expiry. */
  sessionCredentials(): {id: Buffer; password: Buffer} {
    return {id: this.client.getSessionId(), password: this.client.getSessionPassword()}
  }

  /** The ACLs a new znode gets (undefined: node-zookeeper-client's world-open default). */
  private aclsFor(path: string): unknown[] | undefined {
    return kafkaDefaultAcls(this.opts.secureAcls === true, path)
  }

  private abs(path: string): string {
    if (!this.chroot) return path
    return path === '/' ? this.chroot : this.chroot + path
  }

  private rel(path: string): string {
    if (!this.chroot) return path
    return path.startsWith(this.chroot) ? path.slice(this.chroot.length) || '/' : path
  }

  /**
   * Runs one request. A request caught by a disconnection fails with CONNECTION_LOSS in
   * ZooKeeper; like Kafka's ZooKeeper client, wait for the connection to come back and retry
   * (within the request timeout). The wait for an answer is bounded too, as requests queue
   * in the client while it is disconnected.
   */
  private async call<T>(fn: (cb: (err: unknown, ...rest: unknown[]) => void) => void, path: string, map: (...rest: unknown[]) => T, timeoutMs = this.opts.requestTimeoutMs ?? this.opts.connectionTimeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        return await this.callOnce(fn, path, map, Math.max(1, deadline - Date.now()))
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

  private callOnce<T>(fn: (cb: (err: unknown, ...rest: unknown[]) => void) => void, path: string, map: (...rest: unknown[]) => T, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new ZkError(ZkCode.CONNECTION_LOSS, 'ZooKeeper client is closed', path)); return }
      const timer = setTimeout(() => {
        // No answer on a connection that looks alive: it is half-dead; make the client reconnect.
        if (this.live) this.kick()
        reject(new ZkError(ZkCode.CONNECTION_LOSS, `Timed out after ${Math.round(timeoutMs)} ms waiting for ZooKeeper (request for ${path})`, path))
      }, timeoutMs)
      try {
        fn((err, ...rest) => {
          clearTimeout(timer)
          if (err) {
            const e = err as {code?: number; name?: string; message?: string}
            reject(new ZkError(typeof e.code === 'number' ? e.code : -1, `${e.name ?? 'ZooKeeper error'} for ${path}`, path))
          } else {
            try { resolve(map(...rest)) } catch (error) { reject(error) }
          }
        })
      } catch (error) {
        clearTimeout(timer)
        reject(new ZkError(-8, `Bad ZooKeeper request for ${path}: ${(error as Error).message}`, path))
      }
    })
  }

  /** Creates a node; with parents, missing ancestors are created (persistent, empty). Returns the created path. */
  async create(path: string, data?: Buffer | string, opts: {ephemeral?: boolean; sequential?: boolean; parents?: boolean} = {}): Promise<string> {
    const mode = (opts.ephemeral ? 1 : 0) | (opts.sequential ? 2 : 0)
    const buf = toBuf(data)
    const acls = this.aclsFor(path)
    try {
      return await this.call(cb => this.client.create(this.abs(path), buf ?? null, acls, mode, cb), path, p => this.rel(p as string))
    } catch (error) {
      if (!opts.parents || (error as ZkError).code !== ZkCode.NO_NODE) throw error
      const parent = path.slice(0, path.lastIndexOf('/'))
      if (parent) await this.ensurePath(parent)
      return this.call(cb => this.client.create(this.abs(path), buf ?? null, acls, mode, cb), path, p => this.rel(p as string))
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
        await this.call(cb => this.client.create(this.abs(at), null, this.aclsFor(at), 0, cb), at, () => undefined)
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
        return await this.call(cb => watch ? this.client.getData(this.abs(path), this.watcher, cb) : this.client.getData(this.abs(path), cb), path,
          (data, s) => ({data: (data as Buffer | undefined) ?? Buffer.alloc(0), stat: stat(s as never)}))
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
    return this.call(cb => this.client.setData(this.abs(path), toBuf(data), version, cb), path, s => stat(s as never))
  }

  /** Children names, or undefined when the node does not exist (with watch: re-read if it appears meanwhile, as get()). */
  async getChildren(path: string, watch = false): Promise<string[] | undefined> {
    for (;;) {
      try {
        return await this.call(cb => watch ? this.client.getChildren(this.abs(path), this.watcher, cb) : this.client.getChildren(this.abs(path), cb), path, c => c as string[])
      } catch (error) {
        if ((error as ZkError).code !== ZkCode.NO_NODE) throw error
        if (!watch || await this.exists(path, true) === undefined) return undefined
      }
    }
  }

  async exists(path: string, watch = false): Promise<ZkStat | undefined> {
    return this.call(cb => watch ? this.client.exists(this.abs(path), this.watcher, cb) : this.client.exists(this.abs(path), cb), path, s => s ? stat(s as never) : undefined)
  }

  async delete(path: string, version = -1, timeoutMs?: number): Promise<void> {
    return this.call(cb => this.client.remove(this.abs(path), version, cb), path, () => undefined, timeoutMs)
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
    const commit = (cb: (err: unknown) => void) => {
      // Built per attempt: after an expiry the retry must go through the new session's client.
      const tx = this.client.transaction()
      for (const o of ops) {
        switch (o.op) {
          case 'create': tx.create(this.abs(o.path), toBuf(o.data) ?? null, this.aclsFor(o.path), (o.ephemeral ? 1 : 0) | (o.sequential ? 2 : 0)); break
          case 'set': tx.setData(this.abs(o.path), toBuf(o.data), o.version ?? -1); break
          case 'delete': tx.remove(this.abs(o.path), o.version ?? -1); break
          case 'check': tx.check(this.abs(o.path), o.version); break
        }
      }
      tx.commit(cb)
    }
    await this.call(commit, ops.map(o => o.path).join(','), () => undefined)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.watchdog) { clearTimeout(this.watchdog); this.watchdog = undefined }
    const client = this.client
    this.emit('_live') // wake requests waiting for a reconnection: they fail now
    if (!this.live) {
      client.close()
      client.removeAllListeners()
      return
    }
    await new Promise<void>(resolve => {
      const t = setTimeout(resolve, 2000)
      client.once('disconnected', () => { clearTimeout(t); resolve() })
      client.close()
    })
    client.removeAllListeners()
  }
}
