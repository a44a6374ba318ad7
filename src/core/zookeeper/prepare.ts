// The first stage of the write path (Apache ZooKeeper's PrepRequestProcessor): a client's
// write request is checked against the data tree (paths, versions, ACLs, ephemeral parents,
// sequential names) and turned into the transaction every server will apply. A request that
// fails its checks becomes an error transaction, which takes a zxid like any other, as in
// Apache's servers. This stage reads the tree and never changes it: the tree it reads holds
// every transaction prepared before (see final.ts), so checks see earlier, still uncommitted
// writes, as Apache's outstanding changes do.
import {JuteReader, JuteError} from './jute.js'
import {
  Op, Err, Perms, CreateMode, ZkError, CONTAINER_OWNER, TTL_MASK,
  readAcls, validatePath, pathError, type Acl, type Txn, type TxnHeader,
} from './records.js'
import {DataTree, validAcl, type AuthId} from './datatree.js'

const MAX_TTL = 0xffffffffff // Apache's EphemeralType TTL limit (40 bits)

/** Who sends a request: its authenticated ids (ip, digest) and address, for ACL checks. */
export interface Requester {
  readonly authIds: readonly AuthId[]
  readonly remote: string
}

/** A prepared transaction: the header (zxid still 0: the commit stage assigns it) and body. */
export interface Prepared {
  hdr: TxnHeader
  txn: Txn
}

/** The write requests that become transactions (Apache's "update" requests). */
export const WRITE_OPS: ReadonlySet<number> = new Set([
  Op.create, Op.delete, Op.setData, Op.setACL, Op.check, Op.multi, Op.create2, Op.reconfig,
  Op.createContainer, Op.deleteContainer, Op.createTTL, Op.closeSession,
])

export class Preparer {
  constructor(readonly tree: DataTree, readonly opts: {extendedTypesEnabled: boolean; security?: {schemes: ReadonlySet<string>}}) {}

  /**
   * One client write (create, create2, createContainer, createTTL, delete, setData, setACL,
   * multi, deleteContainer) as a transaction: the real one, or an error transaction carrying
   * the KeeperException code. A malformed record throws JuteError (the connection closes).
   */
  write(sessionId: bigint, cxid: number, type: number, r: JuteReader, who: Requester, time = Date.now()): Prepared {
    const hdr: TxnHeader = {clientId: sessionId, cxid, zxid: 0, time, type}
    if (type === Op.multi) return {hdr, txn: this.multi(r, who, hdr)}
    try {
      const txn = this.op(type, r, who)
      hdr.type = type === Op.create2 ? Op.create2 : txn.type
      return {hdr, txn}
    } catch (e) {
      if (!(e instanceof ZkError)) throw e
      hdr.type = Op.error
      return {hdr, txn: {type: Op.error, err: e.code}}
    }
  }

  createSession(sessionId: bigint, timeout: number, time = Date.now()): Prepared {
    return {hdr: {clientId: sessionId, cxid: 0, zxid: 0, time, type: Op.createSession}, txn: {type: Op.createSession, timeOut: timeout}}
  }

  /**
   * A session's close: the txn names the ephemerals it deletes (Apache's CloseSessionTxn), in
   * the order Apache's leader lists them, so every server fires the same events in the same order.
   */
  closeSession(sessionId: bigint, cxid: number, time = Date.now()): Prepared {
    const paths = javaHashSetOrder(this.tree.ephemeralsOf(sessionId))
    return {hdr: {clientId: sessionId, cxid, zxid: 0, time, type: Op.closeSession}, txn: {type: Op.closeSession, paths}}
  }

  /** The container reaper's delete of an empty container or an expired TTL node. */
  deleteContainer(path: string, time = Date.now()): Prepared {
    return {hdr: {clientId: 0n, cxid: 0, zxid: 0, time, type: Op.deleteContainer}, txn: {type: Op.deleteContainer, path}}
  }

  /** An error transaction for a request refused before its record was read (e.g. SessionExpired). */
  error(sessionId: bigint, cxid: number, code: number, time = Date.now()): Prepared {
    return {hdr: {clientId: sessionId, cxid, zxid: 0, time, type: Op.error}, txn: {type: Op.error, err: code}}
  }

  private fixupAcl(acl: Acl[], who: Requester): Acl[] {
    if (acl.length === 0) throw new ZkError(Err.InvalidACL)
    const out: Acl[] = []
    for (const a of acl) {
      if (!validAcl(a, this.opts.security?.schemes)) throw new ZkError(Err.InvalidACL)
      if (a.scheme === 'auth') {
        let any = false
        for (const id of who.authIds) {
          // Only ids of providers that authenticate (digest, sasl, x509), as Apache's fixupACL.
          if (id.scheme === 'ip' || id.scheme === 'super') continue
          out.push({perms: a.perms, scheme: id.scheme, id: id.id})
          any = true
        }
        if (!any) throw new ZkError(Err.InvalidACL)
      } else out.push(a)
    }
    return out
  }

  private checkVersion(current: number, expected: number): number {
    if (expected !== -1 && expected !== current) throw new ZkError(Err.BadVersion)
    return current + 1
  }

  private node(path: string) {
    validatePath(path)
    const n = this.tree.get(path)
    if (!n) throw new ZkError(Err.NoNode)
    return n
  }

  /** Apache's pRequest2Txn for one op: checks it against the tree and returns its txn. */
  op(type: number, r: JuteReader, who: Requester): Txn {
    const tree = this.tree
    switch (type) {
      case Op.create: case Op.create2: case Op.createContainer: case Op.createTTL: {
        let path = r.ustring()
        const data = r.latin1()
        const rawAcl = readAcls(r)
        const flags = r.int()
        const ttl = type === Op.createTTL ? r.long() : -1
        if (flags < 0 || flags > 6) throw new ZkError(Err.BadArguments)
        const isTTL = flags === CreateMode.PERSISTENT_WITH_TTL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
        const isContainer = flags === CreateMode.CONTAINER
        if (isTTL && !this.opts.extendedTypesEnabled) throw new ZkError(Err.Unimplemented)
        if (type === Op.createTTL ? (!isTTL || ttl <= 0 || ttl > MAX_TTL) : isTTL) throw new ZkError(Err.BadArguments)
        if ((type === Op.createContainer) !== isContainer) throw new ZkError(Err.BadArguments)
        const sequential = flags === 2 || flags === 3 || flags === 6
        const ephemeral = flags === 1 || flags === 3
        const slash = path.lastIndexOf('/')
        if (slash < 0 || path.includes('\0')) throw new ZkError(Err.BadArguments)
        const acl = this.fixupAcl(rawAcl, who)
        const parentPath = slash === 0 ? '/' : path.slice(0, slash)
        const parent = tree.get(parentPath)
        if (!parent) throw new ZkError(Err.NoNode)
        tree.checkAcl(parent.acl, Perms.CREATE, who.authIds, who.remote)
        if (sequential) path += String(parent.cversion).padStart(10, '0')
        validatePath(path)
        if (tree.get(path)) throw new ZkError(Err.NodeExists)
        const po = parent.ephemeralOwner
        if (po !== 0n && po !== CONTAINER_OWNER && (po & TTL_MASK) !== TTL_MASK) throw new ZkError(Err.NoChildrenForEphemerals)
        const parentCVersion = parent.cversion + 1
        if (isContainer) return {type: Op.createContainer, path, data, acl, parentCVersion}
        if (isTTL) return {type: Op.createTTL, path, data, acl, parentCVersion, ttl}
        return {type: Op.create, path, data, acl, ephemeral, parentCVersion}
      }
      case Op.delete: {
        const path = r.ustring()
        const version = r.int()
        const slash = path.lastIndexOf('/')
        if (slash < 0 || path.includes('\0') || DataTree.isSpecial(path)) throw new ZkError(Err.BadArguments)
        const parent = tree.get(slash === 0 ? '/' : path.slice(0, slash))
        // The parent's ACL is checked before the node is looked up (Apache's PrepRequestProcessor).
        if (parent && pathError(path) === null) tree.checkAcl(parent.acl, Perms.DELETE, who.authIds, who.remote)
        const n = tree.get(path)
        if (!parent || !n) {
          if (pathError(path) !== null) throw new ZkError(Err.BadArguments)
          throw new ZkError(Err.NoNode)
        }
        this.checkVersion(n.version, version)
        if (n.numChildren > 0) throw new ZkError(Err.NotEmpty)
        return {type: Op.delete, path}
      }
      case Op.deleteContainer:
        // Only the server's own container reaper deletes containers. A client sending opcode
        // 20 gets BadArguments and keeps its session, exactly as Apache ZooKeeper 3.8 answers.
        r.pos = r.end
        throw new ZkError(Err.BadArguments)
      case Op.setData: {
        const path = r.ustring()
        const data = r.latin1()
        const version = r.int()
        const n = this.node(path)
        tree.checkAcl(n.acl, Perms.WRITE, who.authIds, who.remote)
        const v = this.checkVersion(n.version, version)
        return {type: Op.setData, path, data, version: v}
      }
      case Op.setACL: {
        const path = r.ustring()
        const rawAcl = readAcls(r)
        const version = r.int()
        validatePath(path)
        const acl = this.fixupAcl(rawAcl, who)
        const n = this.node(path)
        tree.checkAcl(n.acl, Perms.ADMIN, who.authIds, who.remote)
        const v = this.checkVersion(n.aversion, version)
        return {type: Op.setACL, path, acl, version: v}
      }
      case Op.check: {
        const path = r.ustring()
        const version = r.int()
        const n = this.node(path)
        tree.checkAcl(n.acl, Perms.READ, who.authIds, who.remote)
        this.checkVersion(n.version, version)
        return {type: Op.check, path, version}
      }
      default:
        throw new JuteError(`invalid op type ${type} in multi`)
    }
  }

  /**
   * A multi: every op is parsed first (a malformed multi changes nothing), then checked in
   * order, each against the tree as the ops before it leave it (they are applied and rolled
   * back again). The first failure turns the whole multi into error results, as Apache's.
   */
  private multi(r: JuteReader, who: Requester, hdr: TxnHeader): Txn {
    const ops: Array<{type: number; start: number; end: number}> = []
    for (;;) {
      const type = r.int()
      const done = r.bool()
      r.int()
      if (done) break
      const start = r.pos
      skipOp(type, r)
      ops.push({type, start, end: r.pos})
    }
    const tree = this.tree
    const txns: Txn[] = []
    let failAt = -1
    let failCode = 0
    tree.undo = []
    tree.dryRun = true
    try {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]
        try {
          const txn = this.op(op.type, new JuteReader(r.buf, op.start, op.end), who)
          tree.applyTxn({...hdr, type: txn.type}, txn)
          txns.push(txn)
        } catch (e) {
          if (!(e instanceof ZkError)) throw e
          failAt = i
          failCode = e.code
          break
        }
      }
    } finally {
      tree.rollback()
      tree.dryRun = false
      tree.events = []
    }
    if (failAt < 0) return {type: Op.multi, txns}
    return {type: Op.multi, txns: ops.map((_, i) => ({type: Op.error, err: i < failAt ? 0 : i === failAt ? failCode : Err.RuntimeInconsistency}))}
  }
}

/** Skips one multi op's record (checking that it parses). */
export function skipOp(type: number, r: JuteReader): void {
  switch (type) {
    case Op.create: case Op.create2: case Op.createContainer:
      r.ustring(); r.buffer(); readAcls(r); r.int(); return
    case Op.createTTL:
      r.ustring(); r.buffer(); readAcls(r); r.int(); r.long(); return
    case Op.delete: case Op.check:
      r.ustring(); r.int(); return
    case Op.setData:
      r.ustring(); r.buffer(); r.int(); return
    default:
      throw new JuteError(`invalid op type ${type} in multi`)
  }
}

/** Checks that a write request's record is well formed (a follower does before forwarding it). */
export function checkWrite(type: number, r: JuteReader): void {
  switch (type) {
    case Op.multi:
      for (;;) {
        const t = r.int()
        const done = r.bool()
        r.int()
        if (done) return
        skipOp(t, r)
      }
    case Op.setACL:
      r.ustring(); readAcls(r); r.int(); return
    case Op.deleteContainer:
      return
    default:
      skipOp(type, r)
  }
}

/** java.lang.String.hashCode (UTF-16 code units). */
function javaHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/**
 * The order a clone of a java.util.HashSet<String> iterates its paths in: Apache's leader
 * lists a closing session's ephemerals so (DataTree.getEphemerals clones the session's set,
 * built with the default capacity from the paths in creation order). Buckets of the clone's
 * table (sized for the count), then of the original's, then creation order.
 */
export function javaHashSetOrder(paths: readonly string[]): string[] {
  const n = paths.length
  if (n < 2) return [...paths]
  let original = 16
  while (n > original * 0.75) original *= 2
  let clone = 1
  const want = Math.floor(n / 0.75 + 1)
  while (clone < want) clone *= 2
  const keyed = paths.map((p, i) => {
    const h = javaHash(p)
    const spread = (h ^ (h >>> 16)) >>> 0
    return {p, i, c: spread & (clone - 1), o: spread & (original - 1)}
  })
  keyed.sort((a, b) => a.c - b.c || a.o - b.o || a.i - b.i)
  return keyed.map(k => k.p)
}
