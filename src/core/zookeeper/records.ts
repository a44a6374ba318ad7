// ZooKeeper's records and constants: opcodes, error codes, Stat, ACL and the transaction
// records written to the log (the same jute records Apache ZooKeeper logs). Pure, no I/O.
import {JuteReader, JuteWriter, JuteError} from './jute.js'

export const Op = {
  notification: 0, create: 1, delete: 2, exists: 3, getData: 4, setData: 5, getACL: 6, setACL: 7,
  getChildren: 8, sync: 9, ping: 11, getChildren2: 12, check: 13, multi: 14, create2: 15,
  reconfig: 16, checkWatches: 17, removeWatches: 18, createContainer: 19, deleteContainer: 20,
  createTTL: 21, multiRead: 22, auth: 100, setWatches: 101, sasl: 102, getEphemerals: 103,
  getAllChildrenNumber: 104, setWatches2: 105, addWatch: 106, whoAmI: 107,
  createSession: -10, closeSession: -11, error: -1,
} as const

export const Err = {
  OK: 0, SystemError: -1, RuntimeInconsistency: -2, DataInconsistency: -3, ConnectionLoss: -4,
  MarshallingError: -5, Unimplemented: -6, OperationTimeout: -7, BadArguments: -8,
  UnknownSession: -12, APIError: -100, NoNode: -101, NoAuth: -102, BadVersion: -103,
  NoChildrenForEphemerals: -108, NodeExists: -110, NotEmpty: -111, SessionExpired: -112,
  InvalidCallback: -113, InvalidACL: -114, AuthFailed: -115, SessionMoved: -118,
  NotReadOnly: -119, NoWatcher: -121, ReconfigDisabled: -123, QuotaExceeded: -125,
} as const

export const Xid = {notification: -1, ping: -2, auth: -4, setWatches: -8} as const

export const EventType = {None: -1, NodeCreated: 1, NodeDeleted: 2, NodeDataChanged: 3, NodeChildrenChanged: 4} as const
export const KeeperState = {SyncConnected: 3} as const

export const Perms = {READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31} as const

export const CreateMode = {
  PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4, PERSISTENT_WITH_TTL: 5, PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const

/** Apache ZooKeeper's ephemeralOwner for containers (Long.MIN_VALUE). */
export const CONTAINER_OWNER = -9223372036854775808n
/** TTL nodes: ephemeralOwner = 0xFF00000000000000 | ttl (extended ephemeral type 1). */
export const TTL_MASK = 0xff00000000000000n

export class ZkError extends Error {
  constructor(readonly code: number, message = `KeeperErrorCode ${code}`) {
    super(message)
  }
}

export interface Acl {
  perms: number
  scheme: string
  id: string
}

export const OPEN_ACL_UNSAFE: readonly Acl[] = Object.freeze([{perms: Perms.ALL, scheme: 'world', id: 'anyone'}])
export const READ_ACL_UNSAFE: readonly Acl[] = Object.freeze([{perms: Perms.READ, scheme: 'world', id: 'anyone'}])

export function readAcls(r: JuteReader): Acl[] {
  const n = r.int()
  if (n < 0) return []
  if (n > r.remaining()) throw new JuteError(`ACL count ${n} exceeds record size`)
  const out: Acl[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const perms = r.int()
    const scheme = r.ustringOrNull() ?? ''
    const id = r.ustringOrNull() ?? ''
    out[i] = {perms, scheme, id}
  }
  return out
}

export function writeAcls(w: JuteWriter, acls: readonly Acl[]): void {
  w.int(acls.length)
  for (const a of acls) w.int(a.perms).ustring(a.scheme).ustring(a.id)
}

// ---- transactions: every write becomes one of these, applied by DataTree.applyTxn ----

export interface TxnHeader {
  clientId: bigint
  cxid: number
  zxid: number
  time: number
  type: number
}

export type Txn =
  | {type: typeof Op.create; path: string; data: string | null; acl: readonly Acl[]; ephemeral: boolean; parentCVersion: number}
  | {type: typeof Op.createContainer; path: string; data: string | null; acl: readonly Acl[]; parentCVersion: number}
  | {type: typeof Op.createTTL; path: string; data: string | null; acl: readonly Acl[]; parentCVersion: number; ttl: number}
  | {type: typeof Op.delete | typeof Op.deleteContainer; path: string}
  | {type: typeof Op.setData; path: string; data: string | null; version: number}
  /** A reconfig: a SetDataTxn of /zookeeper/config (the new configuration, version -1). */
  | {type: typeof Op.reconfig; path: string; data: string | null; version: number}
  | {type: typeof Op.setACL; path: string; acl: readonly Acl[]; version: number}
  | {type: typeof Op.check; path: string; version: number}
  | {type: typeof Op.createSession; timeOut: number}
  | {type: typeof Op.closeSession; paths: string[]}
  | {type: typeof Op.error; err: number}
  | {type: typeof Op.multi; txns: Txn[]}

export function writeTxnBody(w: JuteWriter, t: Txn): void {
  switch (t.type) {
    case Op.create:
      w.ustring(t.path).latin1(t.data); writeAcls(w, t.acl); w.bool(t.ephemeral).int(t.parentCVersion); break
    case Op.createContainer:
      w.ustring(t.path).latin1(t.data); writeAcls(w, t.acl); w.int(t.parentCVersion); break
    case Op.createTTL:
      w.ustring(t.path).latin1(t.data); writeAcls(w, t.acl); w.int(t.parentCVersion).long(t.ttl); break
    case Op.delete: case Op.deleteContainer:
      w.ustring(t.path); break
    case Op.setData: case Op.reconfig:
      w.ustring(t.path).latin1(t.data).int(t.version); break
    case Op.setACL:
      w.ustring(t.path); writeAcls(w, t.acl); w.int(t.version); break
    case Op.check:
      w.ustring(t.path).int(t.version); break
    case Op.createSession:
      w.int(t.timeOut); break
    case Op.closeSession:
      w.stringVector(t.paths); break
    case Op.error:
      w.int(t.err); break
    case Op.multi: {
      w.int(t.txns.length)
      const sub = new JuteWriter(256)
      for (const s of t.txns) {
        sub.reset()
        writeTxnBody(sub, s)
        w.int(s.type).buffer(sub.buf.subarray(0, sub.pos))
      }
      break
    }
  }
}

export function readTxnBody(r: JuteReader, type: number): Txn {
  switch (type) {
    case Op.create: case Op.create2: {
      // A create2 request is logged with header type create2 and a CreateTxn body.
      const path = r.ustring(), data = r.latin1(), acl = readAcls(r), ephemeral = r.bool()
      // CreateTxnV0 (no parentCVersion) appears in very old logs.
      const parentCVersion = r.remaining() >= 4 ? r.int() : -1
      return {type: Op.create, path, data, acl, ephemeral, parentCVersion}
    }
    case Op.createContainer: {
      const path = r.ustring(), data = r.latin1(), acl = readAcls(r)
      return {type, path, data, acl, parentCVersion: r.int()}
    }
    case Op.createTTL: {
      const path = r.ustring(), data = r.latin1(), acl = readAcls(r), parentCVersion = r.int()
      return {type, path, data, acl, parentCVersion, ttl: r.long()}
    }
    case Op.delete: case Op.deleteContainer:
      return {type, path: r.ustring()}
    case Op.setData: case Op.reconfig: {
      const path = r.ustring(), data = r.latin1()
      return {type, path, data, version: r.int()}
    }
    case Op.setACL: {
      const path = r.ustring(), acl = readAcls(r)
      return {type, path, acl, version: r.int()}
    }
    case Op.check:
      return {type, path: r.ustring(), version: r.int()}
    case Op.createSession:
      return {type, timeOut: r.int()}
    case Op.closeSession:
      return {type, paths: r.remaining() >= 4 ? r.stringVector() : []}
    case Op.error:
      return {type, err: r.int()}
    case Op.multi: {
      const n = r.vectorCount()
      const txns: Txn[] = []
      for (let i = 0; i < n; i++) {
        const t = r.int()
        const b = r.buffer()
        txns.push(readTxnBody(new JuteReader(b), t))
      }
      return {type, txns}
    }
    default:
      throw new JuteError(`unknown txn type ${type}`)
  }
}

export function writeTxnHeader(w: JuteWriter, h: TxnHeader): void {
  w.bigLong(h.clientId).int(h.cxid).long(h.zxid).long(h.time).int(h.type)
}

export function readTxnHeader(r: JuteReader): TxnHeader {
  return {clientId: r.bigLong(), cxid: r.int(), zxid: r.long(), time: r.long(), type: r.int()}
}

// ---- path validation (Apache's PathUtils.validatePath) ----

/** Returns an error message for an invalid znode path, or null when it is valid. */
export function pathError(path: string): string | null {
  if (path.length === 0) return 'Path length must be > 0'
  if (path[0] !== '/') return 'Path must start with / character'
  if (path.length === 1) return null
  if (path[path.length - 1] === '/') return 'Path must not end with / character'
  let last = '/'
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i)
    const ch = path[i]
    if (c === 0) return `null character not allowed @${i}`
    if (ch === '/' && last === '/') return `empty node name specified @${i}`
    if (ch === '.' && last === '.') {
      if (path[i - 2] === '/' && (i + 1 === path.length || path[i + 1] === '/')) return `relative paths not allowed @${i}`
    } else if (ch === '.') {
      if (path[i - 1] === '/' && (i + 1 === path.length || path[i + 1] === '/')) return `relative paths not allowed @${i}`
    } else if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`
    }
    last = ch
  }
  return null
}

export function validatePath(path: string, sequential = false): void {
  const e = pathError(sequential ? path + '1' : path)
  if (e !== null) throw new ZkError(Err.BadArguments, `Invalid path string "${path}" caused by ${e}`)
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
