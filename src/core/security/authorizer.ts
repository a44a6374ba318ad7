// kafka.security.authorizer.AclAuthorizer, ZooKeeper mode: ACLs where Kafka keeps them
// (/kafka-acl/<ResourceType>/<name> for literal patterns, /kafka-acl-extended/prefixed/... for
// prefixed ones, {"version":1,"acls":[{"principal","permissionType","operation","host"}]}),
// change notifications as sequential znodes under /kafka-acl-changes ("Topic:name") and
// /kafka-acl-extended-changes (JSON), a cache every broker keeps current from them, and
// Kafka's decision rules: super.users first, then deny wins over allow, DESCRIBE implied by
// READ/WRITE/DELETE/ALTER, DESCRIBE_CONFIGS by ALTER_CONFIGS, wildcard principal/host/resource,
// prefixed patterns, allow.everyone.if.no.acl.found.
import type {ZkClient, ZkWatchEvent} from '../cluster/zk.js'
import type {Logger} from '../util/log.js'
import {
  AclOperation, Permission, PatternType, ResourceType, CONCRETE_RESOURCE_TYPES, RESOURCE_TYPE_NAMES, OPERATION_NAMES, PERMISSION_NAMES, PATTERN_NAMES,
  SUPPORTED_OPERATIONS, WILDCARD, WILDCARD_PRINCIPAL, resourceTypeCode, operationCode, permissionCode, patternKey, entryKey, patternMatches, entryMatches,
  matchesAtMostOne, validPrincipal, describePattern,
  type AccessControlEntry, type AclBinding, type AclBindingFilter, type ResourcePattern,
} from './acl.js'

export const ACL_AUTHORIZER_CLASSES = ['kafka.security.authorizer.AclAuthorizer', 'kafka.security.auth.SimpleAclAuthorizer']

const LITERAL_ROOT = '/kafka-acl'
const EXTENDED_ROOT = '/kafka-acl-extended'
const LITERAL_CHANGES = '/kafka-acl-changes'
const EXTENDED_CHANGES = '/kafka-acl-extended-changes'
const CHANGE_PREFIX = 'acl_changes_'
const CHANGE_EXPIRATION_MS = 15 * 60 * 1000

interface VersionedAcls {
  pattern: ResourcePattern
  acls: AccessControlEntry[]
  zkVersion: number
}

/** Who is asking: the connection's principal and address. */
export interface Requester {
  principal: string
  host: string
}

export class AclError extends Error {
  constructor(readonly code: number, message: string) {
    super(message)
  }
}

function storePath(p: ResourcePattern): string {
  const type = RESOURCE_TYPE_NAMES[p.resourceType]
  return p.patternType === PatternType.LITERAL ? `${LITERAL_ROOT}/${type}/${p.name}` : `${EXTENDED_ROOT}/${PATTERN_NAMES[p.patternType].toLowerCase()}/${type}/${p.name}`
}

function encodeAcls(acls: AccessControlEntry[]): string {
  return JSON.stringify({version: 1, acls: acls.map(a => ({principal: a.principal, permissionType: PERMISSION_NAMES[a.permissionType], operation: OPERATION_NAMES[a.operation], host: a.host}))})
}

function decodeAcls(data: Buffer): AccessControlEntry[] {
  if (data.length === 0) return []
  const o = JSON.parse(data.toString('utf8')) as {version?: number; acls?: {principal: string; permissionType: string; operation: string; host: string}[]}
  if (o.version !== 1) throw new Error(`unsupported ACL JSON version ${o.version}`)
  const out: AccessControlEntry[] = []
  for (const a of o.acls ?? []) {
    const operation = operationCode(a.operation)
    const permissionType = permissionCode(a.permissionType)
    if (operation === undefined || permissionType === undefined) continue
    out.push({principal: a.principal, host: a.host, operation, permissionType})
  }
  return out
}

export class AclAuthorizer {
  readonly superUsers: Set<string>
  readonly allowEveryoneIfNoAclFound: boolean
  /** pattern key -> ACLs of that resource pattern. */
  private readonly cache = new Map<string, VersionedAcls>()
  /** Prefixed patterns by resource type, for the prefix lookups of authorize(). */
  private readonly prefixed = new Map<number, Map<string, VersionedAcls>>()
  private readonly lastChange = new Map<string, number>()
  private readonly onWatch = (e: ZkWatchEvent) => {
    if (e.path === LITERAL_CHANGES || e.path === EXTENDED_CHANGES) void this.processChanges(e.path).catch(err => this.logger.warn(`Cannot read ACL change notifications: ${(err as Error).message}`))
  }
  private readonly onSession = () => { void this.load().catch(err => this.logger.warn(`Cannot reload ACLs: ${(err as Error).message}`)) }
  private zkRef: ZkClient | null = null
  private queue: Promise<void> = Promise.resolve()

  constructor(props: Map<string, string>, private readonly zk: () => ZkClient, readonly logger: Logger, private readonly authLogger: Logger) {
    const su = props.get('super.users')?.trim() ?? ''
    this.superUsers = new Set(su === '' ? [] : su.split(';').map(s => s.trim()).filter(s => s !== ''))
    this.allowEveryoneIfNoAclFound = (props.get('allow.everyone.if.no.acl.found')?.trim().toLowerCase() ?? 'false') === 'true'
  }

  /** Creates the ACL paths, loads every ACL, and follows the change notifications. */
  async start(): Promise<void> {
    const zk = this.zk()
    this.zkRef = zk
    for (const root of [LITERAL_ROOT, `${EXTENDED_ROOT}/prefixed`]) {
      for (const t of CONCRETE_RESOURCE_TYPES) await zk.ensurePath(`${root}/${RESOURCE_TYPE_NAMES[t]}`)
    }
    await zk.ensurePath(LITERAL_CHANGES)
    await zk.ensurePath(EXTENDED_CHANGES)
    zk.on('watch', this.onWatch)
    zk.on('session', this.onSession)
    await this.load()
  }

  stop(): void {
    this.zkRef?.off('watch', this.onWatch)
    this.zkRef?.off('session', this.onSession)
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn)
    this.queue = p.then(() => undefined, () => undefined)
    return p
  }

  /** (Re)loads everything and re-arms the notification watches. */
  async load(): Promise<void> {
    await this.serial(async () => {
      const zk = this.zk()
      for (const path of [LITERAL_CHANGES, EXTENDED_CHANGES]) {
        const children = (await zk.getChildren(path, true) ?? []).filter(c => c.startsWith(CHANGE_PREFIX)).sort()
        this.lastChange.set(path, children.length ? Number(children[children.length - 1].slice(CHANGE_PREFIX.length)) : -1)
      }
      this.cache.clear()
      this.prefixed.clear()
      for (const [root, patternType] of [[LITERAL_ROOT, PatternType.LITERAL], [`${EXTENDED_ROOT}/prefixed`, PatternType.PREFIXED]] as const) {
        for (const typeName of await zk.getChildren(root) ?? []) {
          const resourceType = resourceTypeCode(typeName)
          if (resourceType === undefined || !CONCRETE_RESOURCE_TYPES.includes(resourceType as never)) {
            this.logger.warn(`Ignoring unknown ResourceType: ${typeName}`)
            continue
          }
          for (const name of await zk.getChildren(`${root}/${typeName}`) ?? []) await this.reload({resourceType, name, patternType})
        }
      }
    })
  }

  private async reload(pattern: ResourcePattern): Promise<void> {
    const r = await this.zk().get(storePath(pattern))
    let acls: AccessControlEntry[] = []
    if (r) {
      try {
        acls = decodeAcls(r.data)
      } catch (error) {
        this.logger.warn(`Ignoring the ACLs of ${describePattern(pattern)}: ${(error as Error).message}`)
      }
    }
    this.updateCache(pattern, acls, r ? r.stat.version : -1)
  }

  private updateCache(pattern: ResourcePattern, acls: AccessControlEntry[], zkVersion: number): void {
    const key = patternKey(pattern)
    if (acls.length === 0) {
      this.cache.delete(key)
      this.prefixed.get(pattern.resourceType)?.delete(pattern.name)
      return
    }
    const v = {pattern, acls, zkVersion}
    this.cache.set(key, v)
    if (pattern.patternType === PatternType.PREFIXED) {
      let m = this.prefixed.get(pattern.resourceType)
      if (!m) this.prefixed.set(pattern.resourceType, m = new Map())
      m.set(pattern.name, v)
    }
  }

  private async processChanges(path: string): Promise<void> {
    await this.serial(async () => {
      const zk = this.zk()
      const children = (await zk.getChildren(path, true) ?? []).filter(c => c.startsWith(CHANGE_PREFIX)).sort()
      const last = this.lastChange.get(path) ?? -1
      const now = Date.now()
      for (const c of children) {
        const seq = Number(c.slice(CHANGE_PREFIX.length))
        const node = `${path}/${c}`
        if (seq <= last) {
          // Notifications older than 15 minutes are purged, as Kafka's listener does.
          const st = await zk.exists(node).catch(() => undefined)
          if (st && now - st.ctime > CHANGE_EXPIRATION_MS) await zk.delete(node).catch(() => {})
          continue
        }
        this.lastChange.set(path, seq)
        const r = await zk.get(node).catch(() => undefined)
        if (!r) continue
        let pattern: ResourcePattern | undefined
        try {
          pattern = path === LITERAL_CHANGES ? this.decodeLiteralChange(r.data.toString('utf8')) : this.decodeExtendedChange(r.data.toString('utf8'))
        } catch (error) {
          this.logger.warn(`Ignoring the ACL change notification ${node}: ${(error as Error).message}`)
          continue
        }
        await this.reload(pattern)
        this.logger.info(`Processing Acl change notification for ${describePattern(pattern)}, versionedAcls : ${this.cache.get(patternKey(pattern))?.acls.length ?? 0} ACLs`)
      }
    })
  }

  private decodeLiteralChange(s: string): ResourcePattern {
    const i = s.indexOf(':')
    const resourceType = i > 0 ? resourceTypeCode(s.slice(0, i)) : undefined
    if (resourceType === undefined) throw new Error(`expected a string in format ResourceType:ResourceName but got ${s}`)
    return {resourceType, name: s.slice(i + 1), patternType: PatternType.LITERAL}
  }

  private decodeExtendedChange(s: string): ResourcePattern {
    const o = JSON.parse(s) as {version: number; resourceType: string; name: string; patternType: string}
    const resourceType = resourceTypeCode(o.resourceType)
    const patternType = (PatternType as Record<string, number>)[o.patternType?.toUpperCase()]
    if (o.version > 1 || resourceType === undefined || patternType === undefined) throw new Error('Failed to parse ACL change event')
    return {resourceType, name: o.name, patternType}
  }

  // ------------------------------------------------------------------ decisions

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal)
  }

  /**
   * May `who` do `operation` on the literal resource (type, name)? Logs denials as Kafka's
   * authorizer logger does (at INFO, unless logIfDenied is false).
   */
  authorize(who: Requester, operation: number, resourceType: number, name: string, apiName = '', logIfDenied = true): boolean {
    const allowed = this.decide(who, operation, resourceType, name)
    if (!allowed && logIfDenied) this.authLogger.info(`Principal = ${who.principal} is Denied Operation = ${OPERATION_NAMES[operation]} from host = ${who.host} on resource = ${RESOURCE_TYPE_NAMES[resourceType]}:LITERAL:${name} for request = ${apiName} with resourceRefCount = 1`)
    else if (allowed && this.authLogger.enabled('DEBUG')) this.authLogger.debug(`Principal = ${who.principal} is Allowed Operation = ${OPERATION_NAMES[operation]} from host = ${who.host} on resource = ${RESOURCE_TYPE_NAMES[resourceType]}:LITERAL:${name} for request = ${apiName} with resourceRefCount = 1`)
    return allowed
  }

  private decide(who: Requester, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(who.principal)) return true
    const acls = this.matchingAcls(resourceType, name)
    if (acls.length === 0) return this.allowEveryoneIfNoAclFound
    const matches = (op: number, perm: number) => acls.some(a => a.permissionType === perm &&
      (a.principal === who.principal || a.principal === WILDCARD_PRINCIPAL) &&
      (a.operation === op || a.operation === AclOperation.ALL) &&
      (a.host === who.host || a.host === WILDCARD))
    if (matches(operation, Permission.DENY)) return false
    const allowOps = operation === AclOperation.DESCRIBE ? [AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]
      : operation === AclOperation.DESCRIBE_CONFIGS ? [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS] : [operation]
    return allowOps.some(op => matches(op, Permission.ALLOW))
  }

  /** The ACLs that apply to a literal resource: its own, the wildcard's, and every matching prefix. */
  private matchingAcls(resourceType: number, name: string): AccessControlEntry[] {
    const out: AccessControlEntry[] = []
    const lit = this.cache.get(patternKey({resourceType, name, patternType: PatternType.LITERAL}))
    if (lit) out.push(...lit.acls)
    if (name !== WILDCARD) {
      const wild = this.cache.get(patternKey({resourceType, name: WILDCARD, patternType: PatternType.LITERAL}))
      if (wild) out.push(...wild.acls)
    }
    const pre = this.prefixed.get(resourceType)
    if (pre && pre.size > 0) {
      if (pre.size < name.length) {
        for (const [prefix, v] of pre) if (name.startsWith(prefix)) out.push(...v.acls)
      } else {
        for (let i = 1; i <= name.length; i++) {
          const v = pre.get(name.slice(0, i))
          if (v) out.push(...v.acls)
        }
      }
    }
    return out
  }

  /**
   * Kafka's authorizeByResourceType: may `who` do `operation` on at least one resource of the
   * type (used by InitProducerId without a transactional id: WRITE on any topic).
   */
  authorizeByResourceType(who: Requester, operation: number, resourceType: number): boolean {
    if (this.superUsers.has(who.principal)) return true
    const principals = [who.principal, WILDCARD_PRINCIPAL]
    const hosts = [who.host, WILDCARD]
    const ops = [operation, AclOperation.ALL]
    const names = (perm: number, pt: number): Set<string> => {
      const s = new Set<string>()
      for (const v of this.cache.values()) {
        if (v.pattern.resourceType !== resourceType || v.pattern.patternType !== pt) continue
        if (v.acls.some(a => a.permissionType === perm && principals.includes(a.principal) && hosts.includes(a.host) && ops.includes(a.operation))) s.add(v.pattern.name)
      }
      return s
    }
    const denyLiterals = names(Permission.DENY, PatternType.LITERAL)
    if (denyLiterals.has(WILDCARD)) return false
    if (this.allowEveryoneIfNoAclFound) return true
    const denyPrefixes = names(Permission.DENY, PatternType.PREFIXED)
    const allowLiterals = names(Permission.ALLOW, PatternType.LITERAL)
    const allowPrefixes = names(Permission.ALLOW, PatternType.PREFIXED)
    if (denyLiterals.size === 0 && denyPrefixes.size === 0) return allowLiterals.size > 0 || allowPrefixes.size > 0
    const dominantDeny = (n: string) => {
      for (let i = 1; i <= n.length; i++) if (denyPrefixes.has(n.slice(0, i))) return true
      return false
    }
    for (const p of allowPrefixes) if (!dominantDeny(p)) return true
    for (const l of allowLiterals) {
      if (l === WILDCARD) return true
      if (!denyLiterals.has(l) && !dominantDeny(l)) return true
    }
    return false
  }

  /** The operations `who` may do on a resource, as Kafka's 32-bit field (bit = operation code). */
  authorizedOperations(who: Requester, resourceType: number, name: string): number {
    let bits = 0
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) if (this.decide(who, op, resourceType, name)) bits |= 1 << op
    return bits
  }

  // ------------------------------------------------------------------ ACL administration

  /** Every binding matching the filter (DescribeAcls). */
  acls(filter: AclBindingFilter): AclBinding[] {
    const out: AclBinding[] = []
    for (const v of this.cache.values()) {
      if (!patternMatches(filter, v.pattern)) continue
      for (const e of v.acls) if (entryMatches(filter, e)) out.push({pattern: v.pattern, entry: e})
    }
    return out
  }

  /** Adds bindings (grouped per pattern, conditional writes retried); one result per binding. */
  async createAcls(bindings: AclBinding[]): Promise<(AclError | null)[]> {
    const results: (AclError | null)[] = bindings.map(() => null)
    const byPattern = new Map<string, {pattern: ResourcePattern; items: {i: number; entry: AccessControlEntry}[]}>()
    bindings.forEach((b, i) => {
      const err = validateBinding(b)
      if (err) { results[i] = err; return }
      const k = patternKey(b.pattern)
      let g = byPattern.get(k)
      if (!g) byPattern.set(k, g = {pattern: b.pattern, items: []})
      g.items.push({i, entry: b.entry})
    })
    await this.serial(async () => {
      for (const g of byPattern.values()) {
        try {
          await this.updateResource(g.pattern, cur => {
            const keys = new Set(cur.map(entryKey))
            const next = [...cur]
            for (const it of g.items) if (!keys.has(entryKey(it.entry))) { next.push(it.entry); keys.add(entryKey(it.entry)) }
            return next
          })
        } catch (error) {
          for (const it of g.items) results[it.i] = new AclError(-1, (error as Error).message)
        }
      }
    })
    return results
  }

  /** Removes the bindings each filter matches; per filter, the bindings removed (or an error). */
  async deleteAcls(filters: AclBindingFilter[]): Promise<{binding: AclBinding; error: AclError | null}[][]> {
    const results: {binding: AclBinding; error: AclError | null}[][] = filters.map(() => [])
    await this.serial(async () => {
      const patterns = new Map<string, ResourcePattern>()
      for (const v of this.cache.values()) patterns.set(patternKey(v.pattern), v.pattern)
      for (const f of filters) {
        if (!matchesAtMostOne(f)) continue
        if (f.patternType === PatternType.ANY) {
          for (const pt of [PatternType.LITERAL, PatternType.PREFIXED]) patterns.set(patternKey({resourceType: f.resourceType, name: f.name!, patternType: pt}), {resourceType: f.resourceType, name: f.name!, patternType: pt})
        } else {
          const p = {resourceType: f.resourceType, name: f.name!, patternType: f.patternType}
          patterns.set(patternKey(p), p)
        }
      }
      for (const pattern of patterns.values()) {
        const matching = filters.map((f, i) => ({f, i})).filter(x => patternMatches(x.f, pattern))
        if (matching.length === 0) continue
        const removed: {i: number; entry: AccessControlEntry}[] = []
        try {
          await this.updateResource(pattern, cur => cur.filter(e => {
            const hit = matching.find(x => entryMatches(x.f, e))
            if (hit) removed.push({i: hit.i, entry: e})
            return !hit
          }))
          for (const r of removed) results[r.i].push({binding: {pattern, entry: r.entry}, error: null})
        } catch (error) {
          for (const r of removed) results[r.i].push({binding: {pattern, entry: r.entry}, error: new AclError(-1, (error as Error).message)})
        }
      }
    })
    return results
  }

  /** Kafka's updateResourceAcls: conditional set/create/delete by zkVersion, re-read and retried, then a change notification. */
  private async updateResource(pattern: ResourcePattern, change: (cur: AccessControlEntry[]) => AccessControlEntry[]): Promise<void> {
    const zk = this.zk()
    const path = storePath(pattern)
    let cur = this.cache.get(patternKey(pattern))
    let acls = cur?.acls ?? []
    let version = cur?.zkVersion ?? -1
    if (!cur) {
      const r = await zk.get(path)
      if (r) { acls = decodeAcls(r.data); version = r.stat.version }
    }
    for (let attempt = 0; attempt <= 10; attempt++) {
      const next = change(acls)
      let ok = true
      let newVersion = 0
      try {
        if (next.length > 0) {
          if (version >= 0) newVersion = (await zk.set(path, encodeAcls(next), version)).version
          else await zk.create(path, encodeAcls(next), {parents: true})
        } else if (version >= 0) {
          await zk.delete(path, version).catch(e => { if ((e as {code?: number}).code !== -101) throw e })
        }
      } catch (error) {
        const code = (error as {code?: number}).code
        if (code !== -103 && code !== -110) throw error // BAD_VERSION, NODE_EXISTS: someone else wrote
        ok = false
      }
      if (!ok) {
        await new Promise(r => setTimeout(r, 100 + Math.floor(Math.random() * 50)))
        const r = await zk.get(path)
        acls = r ? decodeAcls(r.data) : []
        version = r ? r.stat.version : -1
        continue
      }
      const changed = entriesDiffer(acls, next)
      this.updateCache(pattern, next, next.length > 0 ? newVersion : -1)
      if (changed) {
        this.logger.info(`Updated ACLs for ${describePattern(pattern)} with new version ${newVersion}`)
        const notification = pattern.patternType === PatternType.LITERAL
          ? zk.create(`${LITERAL_CHANGES}/${CHANGE_PREFIX}`, `${RESOURCE_TYPE_NAMES[pattern.resourceType]}:${pattern.name}`, {sequential: true})
          : zk.create(`${EXTENDED_CHANGES}/${CHANGE_PREFIX}`, JSON.stringify({version: 1, resourceType: RESOURCE_TYPE_NAMES[pattern.resourceType], name: pattern.name, patternType: PATTERN_NAMES[pattern.patternType]}), {sequential: true})
        await notification
      }
      return
    }
    throw new Error(`Failed to update ACLs for ${describePattern(pattern)} after trying a maximum of 10 times`)
  }
}

function entriesDiffer(a: AccessControlEntry[], b: AccessControlEntry[]): boolean {
  if (a.length !== b.length) return true
  const ka = new Set(a.map(entryKey))
  return b.some(e => !ka.has(entryKey(e)))
}

/** CreateAcls validation (AclApis, AclAuthorizer.validateAclBinding, CreateAclsRequest.validate). */
function validateBinding(b: AclBinding): AclError | null {
  const INVALID_REQUEST = 42
  const p = b.pattern
  const e = b.entry
  if (!CONCRETE_RESOURCE_TYPES.includes(p.resourceType as never) || (p.patternType !== PatternType.LITERAL && p.patternType !== PatternType.PREFIXED) ||
    e.operation <= AclOperation.ANY || e.operation > AclOperation.DESCRIBE_TOKENS || (e.permissionType !== Permission.ALLOW && e.permissionType !== Permission.DENY)) {
    return new AclError(INVALID_REQUEST, 'Failed to create ACL: ACL binding contains unknown elements')
  }
  if (p.resourceType === ResourceType.CLUSTER && p.name !== 'kafka-cluster') return new AclError(INVALID_REQUEST, 'The only valid name for the CLUSTER resource is kafka-cluster')
  if (p.name === '') return new AclError(INVALID_REQUEST, 'Invalid empty resource name')
  if (p.name.includes('/')) return new AclError(INVALID_REQUEST, `Failed to create ACL: ACL binding contains invalid resource name: ${p.name}`)
  if (!validPrincipal(e.principal)) return new AclError(INVALID_REQUEST, `Failed to create ACL: Could not parse principal from \`${e.principal}\` (no colon is present separating the principal type from the principal name)`)
  return null
}
