// The data tree: znodes with Apache ZooKeeper's Stat semantics, ephemerals by session,
// containers and TTL nodes, ACL checks. Every change goes through applyTxn, the single
// function used both live and when replaying the transaction log (and, later, by a leader's
// followers). Watch triggers are queued in `events`; the caller drains them.
import {createHash} from 'node:crypto'
import {
  Op, Err, EventType, Perms, ZkError, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CONTAINER_OWNER, TTL_MASK,
  parentOf, baseName, type Acl, type Txn, type TxnHeader,
} from './records.js'
import {JuteWriter} from './jute.js'
import {NamespaceStats} from './namespace-stats.js'

export class ZNode {
  children: Set<string> | null = null
  /** zxid of the last ACL change (not persisted: only used to hold back reads of undurable state). */
  azxid = 0
  constructor(
    /** The node's bytes as a latin1 string (see JuteReader.latin1): length = byte length; null if created so. */
    public data: string | null,
    public acl: readonly Acl[],
    public czxid: number,
    public mzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: bigint,
    public pzxid: number,
  ) {}

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size
  }

  clone(): ZNode {
    const n = new ZNode(this.data, this.acl, this.czxid, this.mzxid, this.ctime, this.mtime, this.version, this.cversion, this.aversion, this.ephemeralOwner, this.pzxid)
    n.children = this.children === null ? null : new Set(this.children)
    n.azxid = this.azxid
    return n
  }
}

/**
 * The Stat a client sees. As Apache ZooKeeper 3.8 does, the stored cversion counts child
 * creations and the reported one is 2 * stored - numChildren (so deletions count too), and
 * containers and TTL nodes report ephemeralOwner 0.
 */
export function writeStat(w: JuteWriter, n: ZNode): void {
  const nc = n.numChildren
  const o = n.ephemeralOwner
  const owner = o === 0n || o === CONTAINER_OWNER || (o & TTL_MASK) === TTL_MASK ? 0n : o
  w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime).int(n.version).int(n.cversion * 2 - nc).int(n.aversion)
    .bigLong(owner).int(n.data === null ? 0 : n.data.length).int(nc).long(n.pzxid)
}

export function writeZeroStat(w: JuteWriter): void {
  w.long(0).long(0).long(0).long(0).int(0).int(0).int(0).long(0).int(0).int(0).long(0)
}

/** The authenticated identities of a session: (scheme, id) pairs. */
export interface AuthId {
  scheme: string
  id: string
}

function javaHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/**
 * A connection's ids in the order Apache ZooKeeper iterates them: its ServerCnxn keeps them in
 * a ConcurrentHashMap-backed set, so whoami and an 'auth' ACL list them by hash bucket
 * (Id.hashCode, spread as ConcurrentHashMap does), in insertion order within a bucket.
 */
export function javaSetOrder(ids: readonly AuthId[]): AuthId[] {
  let n = 16
  while (ids.length > n * 0.75) n *= 2
  const bucket = (a: AuthId) => {
    const h = (Math.imul(Math.imul(17, 37) + javaHash(a.scheme) | 0, 37) + javaHash(a.id)) | 0
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (n - 1)
  }
  return ids.map((a, i) => ({a, i, b: bucket(a)})).sort((x, y) => x.b - y.b || x.i - y.i).map(x => x.a)
}

export function digestId(userPass: string): string {
  const i = userPass.indexOf(':')
  const user = i < 0 ? userPass : userPass.slice(0, i)
  return `${user}:${createHash('sha1').update(userPass).digest('base64')}`
}

function ipMatches(pattern: string, addr: string): boolean {
  const [net, bitsStr] = pattern.split('/')
  const a = ipBytes(addr)
  const n = ipBytes(net)
  if (!a || !n || a.length !== n.length) return false
  const bits = bitsStr === undefined ? n.length * 8 : Number(bitsStr)
  if (!Number.isInteger(bits) || bits < 0 || bits > n.length * 8) return false
  for (let i = 0; i < n.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8))
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff
    if ((a[i] & mask) !== (n[i] & mask)) return false
  }
  return true
}

function ipBytes(s: string): number[] | null {
  if (s.startsWith('::ffff:') && s.includes('.')) s = s.slice(7)
  const p = s.split('.')
  if (p.length === 4 && p.every(x => /^\d{1,3}$/.test(x) && Number(x) < 256)) return p.map(Number)
  return null
}

/** Whether an ACL entry is valid; sasl and x509 ids need their provider (authProvider.N) among schemes. */
export function validAcl(acl: Acl, schemes?: ReadonlySet<string>): boolean {
  if (acl.perms < 0 || acl.perms > Perms.ALL || acl.perms === 0) return false
  switch (acl.scheme) {
    case 'sasl': case 'x509': return schemes !== undefined && schemes.has(acl.scheme) && acl.id !== ''
    case 'world': return acl.id === 'anyone'
    case 'digest': return acl.id.includes(':')
    case 'ip': {
      const [net, bits] = acl.id.split('/')
      return ipBytes(net) !== null && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 32))
    }
    case 'auth': return true
    default: return false
  }
}

const QUOTA_ROOT = '/zookeeper/quota'
const LIMITS_NODE = 'zookeeper_limits'
const STATS_NODE = 'zookeeper_stats'

/** A quota node's "key=value,..." text (Apache's StatsTrack), or null when it does not parse. */
function parseStats(data: string | null): Map<string, number> | null {
  const m = new Map<string, number>()
  if (data === null || data.length === 0) return m
  for (const kv of data.split(',')) {
    const eq = kv.indexOf('=')
    if (eq < 0) return null
    const v = kv.slice(eq + 1)
    if (!/^[-+]?\d+$/.test(v)) return null
    m.set(kv.slice(0, eq), Number(v))
  }
  return m
}

/** count and bytes first, then any other keys sorted, as StatsTrack.toString writes them. */
function formatStats(m: Map<string, number>): string {
  let out = `count=${m.get('count') ?? -1},bytes=${m.get('bytes') ?? -1}`
  for (const k of [...m.keys()].filter(k => k !== 'count' && k !== 'bytes').sort()) out += `,${k}=${m.get(k)}`
  return out
}

const SPECIAL = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config'])

export class DataTree {
  readonly nodes = new Map<string, ZNode>()
  readonly ephemerals = new Map<bigint, Set<string>>()
  readonly containers = new Set<string>()
  readonly ttls = new Set<string>()
  /** Bytes read and written per top-level namespace (mntr's *_per_namespace). */
  readonly nsStats = new NamespaceStats()
  /** Paths with a quota: those with a /zookeeper/quota/<path>/zookeeper_limits node. */
  readonly quotaPaths = new Set<string>()
  private readonly aclCache = new Map<string, readonly Acl[]>()
  /** Watch triggers produced by applyTxn: path, event type (drained by the server). */
  events: Array<string | number> = []
  /** When set, applyTxn records how to undo each change (multi rollback). */
  undo: Array<[string, ZNode | null]> | null = null
  /** Set while a multi is checked by applying and rolling back its ops: no statistics move. */
  dryRun = false
  lastZxid = 0
  /** zxid of the newest delete: a NoNode answer may depend on it. */
  lastDeleteZxid = 0

  constructor() {
    this.reset()
  }

  /** Back to an empty tree (the system nodes only), as before loading a database. */
  reset(): void {
    this.nodes.clear()
    this.ephemerals.clear()
    this.containers.clear()
    this.ttls.clear()
    this.quotaPaths.clear()
    this.events = []
    this.undo = null
    this.lastZxid = 0
    this.lastDeleteZxid = 0
    const root = new ZNode('', this.internAcl(OPEN_ACL_UNSAFE), 0, 0, 0, 0, 0, 0, 0, 0n, 0)
    this.nodes.set('/', root)
    this.addSystemNode('/zookeeper', OPEN_ACL_UNSAFE)
    this.addSystemNode('/zookeeper/quota', OPEN_ACL_UNSAFE)
    this.addSystemNode('/zookeeper/config', READ_ACL_UNSAFE)
    // Apache's addConfigNode sets its ACL with version -1: aclVersion -1.
    this.nodes.get('/zookeeper/config')!.aversion = -1
  }

  private addSystemNode(path: string, acl: readonly Acl[]): void {
    const n = new ZNode('', this.internAcl(acl), 0, 0, 0, 0, 0, 0, 0, 0n, 0)
    this.nodes.set(path, n)
    const p = this.nodes.get(parentOf(path))!
    ;(p.children ??= new Set()).add(baseName(path))
  }

  static isSpecial(path: string): boolean {
    return SPECIAL.has(path)
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path)
  }

  internAcl(acl: readonly Acl[]): readonly Acl[] {
    let key = ''
    for (const a of acl) key += `${a.perms},${a.scheme},${a.id};`
    const hit = this.aclCache.get(key)
    if (hit) return hit
    const frozen = Object.freeze(acl.map(a => ({perms: a.perms, scheme: a.scheme, id: a.id})))
    this.aclCache.set(key, frozen)
    return frozen
  }

  /** Every ACL list interned so far (each node's acl is one of them). */
  internedAcls(): Array<readonly Acl[]> {
    return [...this.aclCache.values()]
  }

  /** Whether one of the node's ACL entries grants perm to the session's ids. */
  allows(acl: readonly Acl[], perm: number, ids: readonly AuthId[], address: string): boolean {
    try {
      this.checkAcl(acl, perm, ids, address)
      return true
    } catch {
      return false
    }
  }

  /** Throws NoAuth unless one of the node's ACL entries grants perm to the session's ids. */
  checkAcl(acl: readonly Acl[], perm: number, ids: readonly AuthId[], address: string, superUser = false): void {
    if (superUser || acl.length === 0) return
    for (const id of ids) if (id.scheme === 'super') return
    for (const a of acl) {
      if ((a.perms & perm) === 0) continue
      if (a.scheme === 'world' && a.id === 'anyone') return
      if (a.scheme === 'ip' && ipMatches(a.id, address)) return
      for (const id of ids) if (id.scheme === a.scheme && id.id === a.id) return
    }
    throw new ZkError(Err.NoAuth)
  }

  private record(path: string, node: ZNode | undefined): void {
    if (this.undo !== null) this.undo.push([path, node === undefined ? null : node.clone()])
  }

  /** Restores the state recorded since undo was set (newest first). */
  rollback(): void {
    const u = this.undo
    if (u === null) return
    for (let i = u.length - 1; i >= 0; i--) {
      const [path, prev] = u[i]
      const cur = this.nodes.get(path)
      if (cur) this.unindex(path, cur)
      if (prev === null) this.nodes.delete(path)
      else {
        this.nodes.set(path, prev)
        this.index(path, prev)
      }
      if (path.startsWith(QUOTA_ROOT) && path.endsWith(`/${LIMITS_NODE}`)) {
        const q = parentOf(path).slice(QUOTA_ROOT.length)
        if (prev === null) this.quotaPaths.delete(q)
        else this.quotaPaths.add(q)
      }
    }
    this.undo = null
  }

  /** Re-indexes a node loaded from a snapshot (ephemerals, containers, TTLs). */
  reindex(path: string, n: ZNode): void {
    this.index(path, n)
    if (path.startsWith(QUOTA_ROOT) && path.endsWith(`/${LIMITS_NODE}`)) this.quotaPaths.add(parentOf(path).slice(QUOTA_ROOT.length))
  }

  private index(path: string, n: ZNode): void {
    const o = n.ephemeralOwner
    if (o === 0n) return
    if (o === CONTAINER_OWNER) this.containers.add(path)
    else if ((o & TTL_MASK) === TTL_MASK) this.ttls.add(path)
    else {
      let s = this.ephemerals.get(o)
      if (!s) this.ephemerals.set(o, (s = new Set()))
      s.add(path)
    }
  }

  private unindex(path: string, n: ZNode): void {
    const o = n.ephemeralOwner
    if (o === 0n) return
    if (o === CONTAINER_OWNER) this.containers.delete(path)
    else if ((o & TTL_MASK) === TTL_MASK) this.ttls.delete(path)
    else {
      const s = this.ephemerals.get(o)
      if (s) {
        s.delete(path)
        if (s.size === 0) this.ephemerals.delete(o)
      }
    }
  }

  /** Applies one transaction. Replay passes the same records the live server logged. */
  applyTxn(h: TxnHeader, t: Txn): void {
    if (h.zxid > this.lastZxid) this.lastZxid = h.zxid
    this.applyBody(h, t)
  }

  /**
   * Applies a logged txn during recovery, on top of a fuzzy snapshot that may already hold
   * some of its effects (the rules of Apache ZooKeeper's FileTxnSnapLog): a create of a node
   * that exists only raises its parent's cversion and pzxid, a delete of a missing node still
   * moves its parent's pzxid, and the ops of a multi are applied one by one.
   */
  replayTxn(h: TxnHeader, t: Txn): void {
    if (h.zxid > this.lastZxid) this.lastZxid = h.zxid
    this.replayBody(h, t)
  }

  private replayBody(h: TxnHeader, t: Txn): void {
    if (t.type === Op.multi) {
      if (t.txns.some(s => s.type === Op.error)) return
      for (const s of t.txns) this.replayBody(h, s)
      return
    }
    try {
      this.applyBody(h, t)
    } catch (e) {
      if (!(e instanceof ZkError)) throw e
      if (e.code === Err.NodeExists && (t.type === Op.create || t.type === Op.createContainer || t.type === Op.createTTL)) {
        const parent = this.nodes.get(parentOf(t.path))
        if (parent) {
          const v = t.parentCVersion === -1 ? parent.cversion + 1 : t.parentCVersion
          if (v > parent.cversion) {
            parent.cversion = v
            parent.pzxid = h.zxid
          }
        }
      }
    }
  }

  private applyBody(h: TxnHeader, t: Txn): void {
    switch (t.type) {
      case Op.create:
        this.createNode(t.path, t.data, t.acl, t.ephemeral ? h.clientId : 0n, t.parentCVersion, h.zxid, h.time)
        break
      case Op.createContainer:
        this.createNode(t.path, t.data, t.acl, CONTAINER_OWNER, t.parentCVersion, h.zxid, h.time)
        break
      case Op.createTTL:
        this.createNode(t.path, t.data, t.acl, BigInt.asIntN(64, TTL_MASK | BigInt(t.ttl)), t.parentCVersion, h.zxid, h.time)
        break
      case Op.delete: case Op.deleteContainer:
        this.deleteNode(t.path, h.zxid)
        break
      case Op.setData: case Op.reconfig: {
        const n = this.nodes.get(t.path)
        if (!n) throw new ZkError(Err.NoNode)
        this.record(t.path, n)
        if (this.quotaPaths.size > 0) this.updateQuotaStat(t.path, (t.data === null ? 0 : t.data.length) - (n.data === null ? 0 : n.data.length), 0)
        n.data = t.data
        if (!this.dryRun) this.nsStats.write(t.path, t.data === null ? 0 : t.data.length)
        n.version = t.version
        n.mzxid = h.zxid
        n.mtime = h.time
        this.events.push(t.path, EventType.NodeDataChanged)
        break
      }
      case Op.setACL: {
        const n = this.nodes.get(t.path)
        if (!n) throw new ZkError(Err.NoNode)
        this.record(t.path, n)
        n.acl = this.internAcl(t.acl)
        n.aversion = t.version
        n.azxid = h.zxid
        break
      }
      case Op.closeSession: {
        const owned = t.paths.length > 0 ? t.paths : [...(this.ephemerals.get(h.clientId) ?? [])].sort()
        for (const p of owned) if (this.nodes.has(p)) this.deleteNode(p, h.zxid)
        this.ephemerals.delete(h.clientId)
        break
      }
      case Op.multi:
        // A failed multi is logged as error txns only: nothing to apply.
        if (t.txns.some(s => s.type === Op.error)) break
        for (const s of t.txns) this.applyBody(h, s)
        break
      case Op.check: case Op.createSession: case Op.error:
        break
    }
  }

  private createNode(path: string, data: string | null, acl: readonly Acl[], owner: bigint, parentCVersion: number, zxid: number, time: number): void {
    const parentPath = parentOf(path)
    const parent = this.nodes.get(parentPath)
    if (!parent) throw new ZkError(Err.NoNode)
    if (this.nodes.has(path)) throw new ZkError(Err.NodeExists)
    this.record(parentPath, parent)
    this.record(path, undefined)
    if (parentCVersion === -1) parentCVersion = parent.cversion + 1
    const name = baseName(path)
    ;(parent.children ??= new Set()).add(name)
    if (parentCVersion > parent.cversion) {
      parent.cversion = parentCVersion
      parent.pzxid = zxid
    }
    const n = new ZNode(data, this.internAcl(acl), zxid, zxid, time, time, 0, 0, 0, owner, zxid)
    this.nodes.set(path, n)
    this.index(path, n)
    if (parentPath.startsWith(QUOTA_ROOT)) {
      if (name === LIMITS_NODE) this.quotaPaths.add(parentPath.slice(QUOTA_ROOT.length))
      else if (name === STATS_NODE) this.countQuota(parentPath.slice(QUOTA_ROOT.length))
    }
    if (this.quotaPaths.size > 0) this.updateQuotaStat(path, data === null ? 0 : data.length, 1)
    if (!this.dryRun) this.nsStats.write(path, data === null ? 0 : data.length)
    this.events.push(path, EventType.NodeCreated, parentPath, EventType.NodeChildrenChanged)
  }

  // ---- quotas, as Apache ZooKeeper keeps them: /zookeeper/quota/<path>/zookeeper_limits
  // marks a quota; zookeeper_stats holds "count=N,bytes=M" for the subtree at <path>, set
  // when the stats node is created and then moved by every create, delete and setData below
  // <path> (in place: the stats node's version and mzxid stay). Limits are not enforced (as
  // with Apache's default zookeeper.enforceQuota=false). Replay runs the same code, so the
  // figures after a restart are those before it.

  /** The deepest quota path at or above path, or null (the root's own quota never counts). */
  private quotaPathOf(path: string): string | null {
    let best: string | null = null
    let i = 0
    while (i >= 0) {
      i = path.indexOf('/', i + 1)
      const prefix = i < 0 ? path : path.slice(0, i)
      if (this.quotaPaths.has(prefix)) best = prefix
    }
    return best
  }

  private updateQuotaStat(path: string, bytes: number, count: number): void {
    const q = this.quotaPathOf(path)
    if (q === null) return
    const statPath = `${QUOTA_ROOT}${q}/${STATS_NODE}`
    const node = this.nodes.get(statPath)
    if (!node) return
    const stats = parseStats(node.data)
    // Apache ZooKeeper stops with an unrecoverable error on a stats node a client filled with
    // garbage; kafkit leaves such a node alone.
    if (stats === null) return
    this.record(statPath, node)
    stats.set('count', (stats.get('count') ?? -1) + count)
    stats.set('bytes', (stats.get('bytes') ?? -1) + bytes)
    node.data = formatStats(stats)
  }

  /** Counts the subtree at path (itself included) into its freshly created stats node. */
  private countQuota(path: string): void {
    const statPath = `${QUOTA_ROOT}${path}/${STATS_NODE}`
    const node = this.nodes.get(statPath)
    if (!node || !this.nodes.has(path)) return
    let count = 0
    let bytes = 0
    const walk = (p: string): void => {
      const n = this.nodes.get(p)
      if (!n) return
      count++
      bytes += n.data === null ? 0 : n.data.length
      if (n.children !== null) for (const c of n.children) walk(p === '/' ? `/${c}` : `${p}/${c}`)
    }
    walk(path)
    node.data = `count=${count},bytes=${bytes}`
  }

  private deleteNode(path: string, zxid: number): void {
    const parentPath = parentOf(path)
    const parent = this.nodes.get(parentPath)
    const n = this.nodes.get(path)
    if (!parent) throw new ZkError(Err.NoNode)
    if (!n) {
      // Only in recovery: the node was deleted before a fuzzy snapshot reached it, but the
      // parent was written earlier, so its pzxid still has to move.
      if (this.undo === null && zxid > parent.pzxid) parent.pzxid = zxid
      throw new ZkError(Err.NoNode)
    }
    this.record(parentPath, parent)
    this.record(path, n)
    parent.children?.delete(baseName(path))
    if (zxid > parent.pzxid) parent.pzxid = zxid
    if (zxid > this.lastDeleteZxid) this.lastDeleteZxid = zxid
    this.nodes.delete(path)
    this.unindex(path, n)
    if (parentPath.startsWith(QUOTA_ROOT) && baseName(path) === LIMITS_NODE) this.quotaPaths.delete(parentPath.slice(QUOTA_ROOT.length))
    if (this.quotaPaths.size > 0) this.updateQuotaStat(path, n.data === null ? 0 : -n.data.length, -1)
    if (!this.dryRun) this.nsStats.write(path, 0)
    this.events.push(path, EventType.NodeDeleted, parentPath, EventType.NodeChildrenChanged)
  }

  /** The newest zxid whose change a read of this node observes. */
  static visibleZxid(n: ZNode): number {
    return Math.max(n.czxid, n.mzxid, n.pzxid, n.azxid)
  }

  /** Paths of the ephemeral nodes a session owns. */
  ephemeralsOf(session: bigint): string[] {
    const s = this.ephemerals.get(session)
    return s ? [...s] : []
  }

  /** Number of descendants of path (getAllChildrenNumber). */
  countDescendants(path: string): number {
    const n = this.nodes.get(path)
    if (!n || n.children === null) return 0
    let count = 0
    const prefix = path === '/' ? '/' : path + '/'
    for (const c of n.children) count += 1 + this.countDescendants(prefix + c)
    return count
  }

  approximateDataSize(): number {
    let size = 0
    for (const [p, n] of this.nodes) size += p.length + (n.data === null ? 0 : n.data.length)
    return size
  }

  watchablePaths(): number {
    return this.nodes.size
  }
}
