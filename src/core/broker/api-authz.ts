// Authorization of every request, in one table: for each API key, the operations Kafka 3.9's
// KafkaApis checks (ZooKeeper mode) and the answers it gives when they are denied. Most checks
// run here, before the handler: a request-wide denial answers without the handler; denied
// topics, groups or resources are taken out of the request and put back into the response with
// TOPIC_/GROUP_/CLUSTER_/TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka answers them. Handlers
// that check per partition inside (Fetch, over its session's partitions) call ctx.authz.
import {ErrorCode} from '../protocol/errors.js'
import {AclOperation as Op, ResourceType as RT, CLUSTER_NAME} from '../security/acl.js'
import type {AclAuthorizer, Requester} from '../security/authorizer.js'
import type {KafkaBroker} from './broker.js'

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
const OMITTED = -2147483648
const CONFIG_TOPIC = 2

/** What the table decides for one request. */
export interface AuthzVerdict {
  /** Answer this instead of calling the handler. */
  respond?: object
  /** Close the connection (Kafka does for errors of acks=0 produce requests), with the reason logged. */
  close?: string
  /** Call the handler with this request instead. */
  request?: unknown
  /** Patch the handler's response. */
  after?: (res: any) => any
}

/** Kafka's default messages of the authorization errors (what an exception without its own message carries). */
export const AUTHZ_MESSAGES: Record<number, string> = {
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: 'Topic authorization failed.',
  [ErrorCode.GROUP_AUTHORIZATION_FAILED]: 'Group authorization failed.',
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]: 'Cluster authorization failed.',
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: 'Transactional Id authorization failed.',
}

/** The connection a request came on, for the messages that show it. */
export interface RequestOrigin {
  id: string
  listener: string
  securityProtocol: string
}

/** One request's view of the authorizer: who asks, memoized decisions, Kafka's helpers. */
export class RequestAuthz {
  private readonly memo = new Map<string, boolean>()

  constructor(readonly authorizer: AclAuthorizer, readonly who: Requester, readonly apiName: string, readonly broker: KafkaBroker, private readonly conn?: RequestOrigin) {}

  /**
   * The message of a ClusterAuthorizationException Kafka's authorizeClusterOperation throws:
   * "Request <the request> is not authorized.", the request shown as Kafka's
   * RequestChannel.Request prints itself (kafkit has one processor, no envelope, no buffer kept).
   */
  requestNotAuthorized(): string {
    const c = this.conn
    const session = `Session(${this.who.principal},/${this.who.host})`
    return c
      ? `Request Request(processor=0, connectionId=${c.id}, session=${session}, listenerName=ListenerName(${c.listener}), securityProtocol=${c.securityProtocol}, buffer=null, envelope=None) is not authorized.`
      : `Request Request(session=${session}, buffer=null, envelope=None) is not authorized.`
  }

  allowed(op: number, type: number, name: string, logIfDenied = true): boolean {
    const k = `${op}\u0000${type}\u0000${name}`
    let v = this.memo.get(k)
    if (v === undefined) {
      v = this.authorizer.authorize(this.who, op, type, name, this.apiName, logIfDenied)
      this.memo.set(k, v)
    }
    return v
  }

  cluster(op: number, logIfDenied = true): boolean {
    return this.allowed(op, RT.CLUSTER, CLUSTER_NAME, logIfDenied)
  }

  topic(op: number, name: string, logIfDenied = true): boolean {
    return this.allowed(op, RT.TOPIC, name, logIfDenied)
  }

  /** Splits items by whether the topic each names is authorized. */
  split<T>(op: number, items: T[], name: (t: T) => string, type: number = RT.TOPIC, logIfDenied = true): {ok: T[]; denied: T[]} {
    const ok: T[] = []
    const denied: T[] = []
    for (const t of items) (this.allowed(op, type, name(t), logIfDenied) ? ok : denied).push(t)
    return {ok, denied}
  }

  ops(type: number, name: string): number {
    return this.authorizer.authorizedOperations(this.who, type, name)
  }

  /** Fetch: a follower needs CLUSTER_ACTION on the cluster, a consumer READ on each topic. */
  fetchAllowed(replica: boolean, topic: string): boolean {
    return replica ? this.cluster(Op.CLUSTER_ACTION) : this.topic(Op.READ, topic)
  }

  byResourceType(op: number, type: number): boolean {
    return this.authorizer.authorizeByResourceType(this.who, op, type)
  }
}

export type ApiCheck = (a: RequestAuthz, req: any, version: number) => AuthzVerdict | undefined

/** Whether a produce request carries transactional batches (the first batch of each partition, as Kafka looks). */
function hasTransactionalRecords(req: any): boolean {
  for (const t of req.topicData) {
    for (const p of t.partitionData) {
      const r: Buffer | null = p.records
      if (r && r.length >= 23 && r[16] === 2 && (r.readInt16BE(21) & 0x10) !== 0) return true
    }
  }
  return false
}

function produceError(req: any, code: number): object {
  return {throttleTimeMs: 0, responses: req.topicData.map((t: any) => ({name: t.name, partitionResponses: t.partitionData.map((p: any) => ({index: p.index, errorCode: code, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1}))}))}
}

/** Puts back, in request order, the results the table produced itself (by key) among the handler's. */
function merge<T>(order: string[], key: (t: T) => string, fromHandler: T[], own: Map<string, T>): T[] {
  const handled = new Map(fromHandler.map(r => [key(r), r]))
  const out: T[] = []
  const seen = new Set<string>()
  for (const k of order) {
    if (seen.has(k)) continue
    seen.add(k)
    const r = own.get(k) ?? handled.get(k)
    if (r !== undefined) out.push(r)
  }
  for (const r of fromHandler) if (!seen.has(key(r))) out.push(r)
  return out
}

const groupAnswer = (code: number) => ({throttleTimeMs: 0, errorCode: code})

export const API_CHECKS: Record<number, ApiCheck> = {
  // Produce: WRITE on the transactional id for transactional batches, WRITE on each topic.
  0: (a, req) => {
    if (hasTransactionalRecords(req) && (req.transactionalId === null || !a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId))) {
      if (req.acks === 0) return {close: 'transactional produce request with acks=0 not authorized for its transactional id'}
      return {respond: produceError(req, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)}
    }
    const {ok, denied} = a.split(Op.WRITE, req.topicData, (t: any) => t.name)
    if (denied.length === 0) return undefined
    if (req.acks === 0) return {close: `produce request with acks=0 to topics not authorized for WRITE: ${denied.map((t: any) => t.name).join(', ')}`}
    return {
      request: {...req, topicData: ok},
      after: res => {
        if (typeof res !== 'object') return res
        res.responses.push(...(produceError({topicData: denied}, ErrorCode.TOPIC_AUTHORIZATION_FAILED) as any).responses)
        return res
      },
    }
  },
  // ListOffsets: DESCRIBE on each topic.
  2: (a, req) => {
    const {ok, denied} = a.split(Op.DESCRIBE, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {
      request: {...req, topics: ok},
      after: res => {
        res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1}))})))
        return res
      },
    }
  },
  // Metadata: DESCRIBE on each topic (unauthorized ones are hidden from "all topics"),
  // CREATE (cluster or topic) for topics it would create; authorized operations on request.
  3: (a, req, v) => {
    const broker = a.broker
    const all = req.topics === null || (v === 0 && req.topics.length === 0)
    const patchOps = (res: any) => {
      if (v >= 8 && v <= 10 && req.includeClusterAuthorizedOperations) res.clusterAuthorizedOperations = a.cluster(Op.DESCRIBE) ? a.ops(RT.CLUSTER, CLUSTER_NAME) : 0
      if (v >= 8 && req.includeTopicAuthorizedOperations) for (const t of res.topics) if (t.name !== null && t.errorCode !== ErrorCode.TOPIC_AUTHORIZATION_FAILED) t.topicAuthorizedOperations = a.ops(RT.TOPIC, t.name)
      return res
    }
    if (all) return {after: res => { res.topics = res.topics.filter((t: any) => t.name === null || a.topic(Op.DESCRIBE, t.name, false)); return patchOps(res) }}
    const kept: any[] = []
    const deniedDescribe: object[] = []
    const deniedCreate: object[] = []
    const autoCreate = (v < 4 || req.allowAutoTopicCreation !== false) && broker.config.autoCreateTopicsEnable
    for (const t of req.topics) {
      let name: string | null = t.name ?? null
      const byId = name === null && t.topicId && t.topicId !== ZERO_UUID
      if (byId) {
        name = broker.cluster.topicById(t.topicId)?.name ?? null
        if (name === null) { kept.push(t); continue } // the handler answers UNKNOWN_TOPIC_ID
      }
      if (name === null) { kept.push(t); continue }
      if (!a.topic(Op.DESCRIBE, name)) {
        deniedDescribe.push(byId
          ? {errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: null, topicId: t.topicId, isInternal: false, partitions: [], topicAuthorizedOperations: OMITTED}
          : {errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: OMITTED})
        continue
      }
      if (autoCreate && !byId && !broker.cluster.topic(name) && !a.cluster(Op.CREATE, false) && !a.topic(Op.CREATE, name)) {
        deniedCreate.push({errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: name === '__consumer_offsets' || name === '__transaction_state', partitions: [], topicAuthorizedOperations: OMITTED})
        continue
      }
      kept.push(t)
    }
    const emptied = kept.length === 0 && req.topics.length > 0
    return {
      request: {...req, topics: kept},
      after: res => {
        if (emptied && v === 0) res.topics = [] // an empty v0 list would mean "all topics"
        patchOps(res)
        res.topics.push(...deniedCreate, ...deniedDescribe)
        return res
      },
    }
  },
  // OffsetCommit: READ on the group, READ on each topic.
  8: (a, req) => {
    if (!a.allowed(Op.READ, RT.GROUP, req.groupId)) {
      return {respond: {throttleTimeMs: 0, topics: req.topics.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED}))}))}}
    }
    const {ok, denied} = a.split(Op.READ, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})))
      return res
    }}
  },
  // OffsetFetch: DESCRIBE on each group; topics not authorized for DESCRIBE are hidden (all
  // partitions) or answered TOPIC_AUTHORIZATION_FAILED (named partitions).
  9: (a, req, v) => {
    const deniedTopic = (t: any) => ({name: t.name, partitions: t.partitionIndexes.map((i: number) => ({partitionIndex: i, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})
    if (v < 8) {
      if (!a.allowed(Op.DESCRIBE, RT.GROUP, req.groupId)) {
        if (v < 2) return {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: (req.topics ?? []).map((t: any) => ({name: t.name, partitions: t.partitionIndexes.map((i: number) => ({partitionIndex: i, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED}))}))}}
        return {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: []}}
      }
      if (req.topics === null) return {after: res => { res.topics = res.topics.filter((t: any) => a.topic(Op.DESCRIBE, t.name)); return res }}
      const {ok, denied} = a.split(Op.DESCRIBE, req.topics, (t: any) => t.name)
      if (denied.length === 0) return undefined
      return {request: {...req, topics: ok}, after: res => { res.topics.push(...denied.map(deniedTopic)); return res }}
    }
    // Per entry of the request, in its order (a group may be named twice, each answered):
    // null for a denied group, else whether all its topics are asked and the topics denied.
    const plan: ({all: boolean; denied: any[]} | null)[] = []
    const kept: any[] = []
    for (const g of req.groups) {
      if (!a.allowed(Op.DESCRIBE, RT.GROUP, g.groupId)) { plan.push(null); continue }
      if (g.topics === null) { plan.push({all: true, denied: []}); kept.push(g); continue }
      const {ok, denied} = a.split(Op.DESCRIBE, g.topics, (t: any) => t.name)
      plan.push({all: false, denied})
      kept.push({...g, topics: ok})
    }
    if (plan.every(p => p !== null && !p.all && p.denied.length === 0)) return undefined
    return {request: {...req, groups: kept}, after: res => {
      const answered: any[] = res.groups
      let i = 0
      res.groups = req.groups.map((g: any, n: number) => {
        const p = plan[n]
        if (p === null) return {groupId: g.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: []}
        const r = answered[i++]
        if (r.errorCode === 0) {
          if (p.all) r.topics = r.topics.filter((t: any) => a.topic(Op.DESCRIBE, t.name))
          r.topics.push(...p.denied.map(deniedTopic))
        }
        return r
      })
      return res
    }}
  },
  // FindCoordinator: DESCRIBE on the group or the transactional id.
  10: (a, req, v) => {
    const check = (keyType: number, key: string): number => {
      if (keyType === 0 && !a.allowed(Op.DESCRIBE, RT.GROUP, key)) return ErrorCode.GROUP_AUTHORIZATION_FAILED
      if (keyType === 1 && !a.allowed(Op.DESCRIBE, RT.TRANSACTIONAL_ID, key)) return ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      return 0
    }
    if (v < 4) {
      const code = check(req.keyType, req.key)
      return code === 0 ? undefined : {respond: {throttleTimeMs: 0, errorCode: code, errorMessage: AUTHZ_MESSAGES[code], nodeId: -1, host: '', port: -1}}
    }
    const denied = new Map<string, any>()
    const kept: string[] = []
    for (const key of req.coordinatorKeys as string[]) {
      const code = check(req.keyType, key)
      if (code === 0) kept.push(key)
      else denied.set(key, {key, nodeId: -1, host: '', port: -1, errorCode: code, errorMessage: ''})
    }
    if (denied.size === 0) return undefined
    if (kept.length === 0) return {respond: {throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((k: string) => denied.get(k))}}
    return {request: {...req, coordinatorKeys: kept}, after: res => { res.coordinators = merge(req.coordinatorKeys, (c: any) => c.key, res.coordinators, denied); return res }}
  },
  // JoinGroup, Heartbeat, LeaveGroup, SyncGroup: READ on the group.
  11: (a, req) => a.allowed(Op.READ, RT.GROUP, req.groupId) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: '', members: []}},
  12: (a, req) => a.allowed(Op.READ, RT.GROUP, req.groupId) ? undefined : {respond: groupAnswer(ErrorCode.GROUP_AUTHORIZATION_FAILED)},
  13: (a, req) => a.allowed(Op.READ, RT.GROUP, req.groupId) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: []}},
  14: (a, req) => a.allowed(Op.READ, RT.GROUP, req.groupId) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0)}},
  // DescribeGroups: DESCRIBE on each group; authorized operations on request.
  15: (a, req, v) => {
    const {ok, denied} = a.split(Op.DESCRIBE, req.groups, (g: string) => g, RT.GROUP)
    const ops = v >= 3 && req.includeAuthorizedOperations
    if (denied.length === 0 && !ops) return undefined
    return {request: {...req, groups: ok}, after: res => {
      if (ops) for (const g of res.groups) if (g.errorCode === 0) g.authorizedOperations = a.ops(RT.GROUP, g.groupId)
      res.groups.unshift(...denied.map((g: string) => ({errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId: g, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OMITTED})))
      return res
    }}
  },
  // ListGroups: every group with DESCRIBE on the cluster, else those DESCRIBE-able.
  16: a => a.cluster(Op.DESCRIBE, false) ? undefined : {after: res => { res.groups = res.groups.filter((g: any) => a.allowed(Op.DESCRIBE, RT.GROUP, g.groupId, false)); return res }},
  // CreateTopics: CREATE on the cluster or the topic; configs shown only with DESCRIBE_CONFIGS.
  19: (a, req) => {
    const clusterCreate = a.cluster(Op.CREATE, false)
    const denied = new Map<string, any>()
    const noConfigs = new Set<string>()
    const kept: any[] = []
    for (const t of req.topics) {
      const describe = a.topic(Op.DESCRIBE_CONFIGS, t.name, false)
      if (!clusterCreate && !a.topic(Op.CREATE, t.name)) {
        denied.set(t.name, {name: t.name, topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.', topicConfigErrorCode: describe ? 0 : ErrorCode.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, replicationFactor: -1, configs: []})
        continue
      }
      if (!describe) noConfigs.add(t.name)
      kept.push(t)
    }
    if (denied.size === 0 && noConfigs.size === 0) return undefined
    return {request: {...req, topics: kept}, after: res => {
      for (const r of res.topics) {
        if (!noConfigs.has(r.name) || r.errorCode !== 0) continue
        r.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED
        r.configs = []
        r.numPartitions = -1
        r.replicationFactor = -1
      }
      res.topics = merge(req.topics.map((t: any) => t.name), (r: any) => r.name, res.topics, denied)
      return res
    }}
  },
  // DeleteTopics: DELETE on each topic (and DESCRIBE for topics named by id).
  20: (a, req, v) => {
    if (!a.broker.config.deleteTopicEnable) return undefined
    const states: {name: string | null; topicId: string}[] = v >= 6 ? req.topics : req.topicNames.map((n: string) => ({name: n, topicId: ZERO_UUID}))
    const denied = new Map<string, any>()
    const kept: any[] = []
    const keyOf = (s: {name: string | null; topicId: string}) => s.topicId !== ZERO_UUID && s.topicId ? `id:${s.topicId}` : `name:${s.name}`
    for (const s of states) {
      const byId = s.topicId !== ZERO_UUID && !!s.topicId && s.name === null
      const name = byId ? a.broker.cluster.topicById(s.topicId)?.name ?? null : s.name
      if (name === null) { kept.push(s); continue }
      if (byId && !a.topic(Op.DESCRIBE, name)) denied.set(keyOf(s), {name: null, topicId: s.topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null})
      else if (!a.topic(Op.DELETE, name)) denied.set(keyOf(s), {name, topicId: byId ? s.topicId : ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null})
      else kept.push(s)
    }
    if (denied.size === 0) return undefined
    const request = v >= 6 ? {...req, topics: kept} : {...req, topicNames: kept.map(s => s.name)}
    const resKey = (r: any) => r.topicId && r.topicId !== ZERO_UUID && states.some(s => s.topicId === r.topicId) ? `id:${r.topicId}` : `name:${r.name}`
    return {request, after: res => { res.responses = merge(states.map(keyOf), resKey, res.responses, denied); return res }}
  },
  // DeleteRecords: DELETE on each topic.
  21: (a, req) => {
    const {ok, denied} = a.split(Op.DELETE, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})))
      return res
    }}
  },
  // InitProducerId: WRITE on the transactional id; without one IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
  22: (a, req) => {
    const deny = (code: number) => ({respond: {throttleTimeMs: 0, errorCode: code, producerId: -1, producerEpoch: -1}})
    if (req.transactionalId !== null) return a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId) ? undefined : deny(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    return a.cluster(Op.IDEMPOTENT_WRITE, false) || a.byResourceType(Op.WRITE, RT.TOPIC) ? undefined : deny(ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  },
  // OffsetForLeaderEpoch: CLUSTER_ACTION (followers) or DESCRIBE on each topic.
  23: (a, req) => {
    if (a.cluster(Op.CLUSTER_ACTION, false)) return undefined
    const {ok, denied} = a.split(Op.DESCRIBE, req.topics, (t: any) => t.topic)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({topic: t.topic, partitions: t.partitions.map((p: any) => ({errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1}))})))
      return res
    }}
  },
  // AddPartitionsToTxn: WRITE on the transactional id and on each (non-internal) topic (v0-3); CLUSTER_ACTION (v4+, brokers).
  24: (a, req, v) => {
    if (v >= 4) return a.cluster(Op.CLUSTER_ACTION) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: []}}
    const answer = (code: (topic: string, p: number) => number) => ({respond: {throttleTimeMs: 0, resultsByTopicV3AndBelow: req.v3AndBelowTopics.map((t: any) => ({name: t.name, resultsByPartition: t.partitions.map((p: number) => ({partitionIndex: p, partitionErrorCode: code(t.name, p)}))}))}})
    if (!a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.v3AndBelowTransactionalId)) return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    const internal = (n: string) => n === '__consumer_offsets' || n === '__transaction_state'
    const deniedTopics = new Set(req.v3AndBelowTopics.filter((t: any) => !internal(t.name) && !a.topic(Op.WRITE, t.name)).map((t: any) => t.name))
    if (deniedTopics.size === 0) return undefined
    const cluster = a.broker.cluster
    return answer((t, p) => deniedTopics.has(t) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : !cluster.topic(t)?.partitions[p] ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED)
  },
  // AddOffsetsToTxn: WRITE on the transactional id, READ on the group.
  25: (a, req) => {
    if (!a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId)) return {respond: groupAnswer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)}
    if (!a.allowed(Op.READ, RT.GROUP, req.groupId)) return {respond: groupAnswer(ErrorCode.GROUP_AUTHORIZATION_FAILED)}
    return undefined
  },
  // EndTxn: WRITE on the transactional id.
  26: (a, req) => a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId) ? undefined : {respond: groupAnswer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)},
  // WriteTxnMarkers: ALTER or CLUSTER_ACTION on the cluster.
  27: (a, req) => a.cluster(Op.ALTER, false) || a.cluster(Op.CLUSTER_ACTION) ? undefined : {respond: {markers: req.markers.map((m: any) => ({producerId: m.producerId, topics: m.topics.map((t: any) => ({name: t.name, partitions: t.partitionIndexes.map((i: number) => ({partitionIndex: i, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED}))}))}))}},
  // TxnOffsetCommit: WRITE on the transactional id, READ on the group and each topic.
  28: (a, req) => {
    const all = (code: number) => ({respond: {throttleTimeMs: 0, topics: req.topics.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: code}))}))}})
    if (!a.allowed(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId)) return all(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    if (!a.allowed(Op.READ, RT.GROUP, req.groupId)) return all(ErrorCode.GROUP_AUTHORIZATION_FAILED)
    const {ok, denied} = a.split(Op.READ, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})))
      return res
    }}
  },
  // DescribeAcls: DESCRIBE on the cluster; CreateAcls, DeleteAcls: ALTER.
  // (Kafka's authorizeClusterOperation: the message names the request.)
  29: a => a.cluster(Op.DESCRIBE) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: a.requestNotAuthorized(), resources: []}},
  30: (a, req) => a.cluster(Op.ALTER) ? undefined : {respond: {throttleTimeMs: 0, results: req.creations.map(() => ({errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: a.requestNotAuthorized()}))}},
  31: (a, req) => a.cluster(Op.ALTER) ? undefined : {respond: {throttleTimeMs: 0, filterResults: req.filters.map(() => ({errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: a.requestNotAuthorized(), matchingAcls: []}))}},
  // DescribeConfigs: DESCRIBE_CONFIGS on the cluster (brokers) or the topic.
  32: (a, req) => configsCheck(a, req, Op.DESCRIBE_CONFIGS, (r, code) => ({errorCode: code, errorMessage: AUTHZ_MESSAGES[code], resourceType: r.resourceType, resourceName: r.resourceName, configs: []}), 'results'),
  // AlterConfigs, IncrementalAlterConfigs: ALTER_CONFIGS on the cluster (brokers) or the topic.
  33: (a, req) => configsCheck(a, req, Op.ALTER_CONFIGS, (r, code) => ({errorCode: code, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName}), 'responses'),
  44: (a, req) => configsCheck(a, req, Op.ALTER_CONFIGS, (r, code) => ({errorCode: code, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName}), 'responses'),
  // DescribeLogDirs: DESCRIBE on the cluster.
  35: a => a.cluster(Op.DESCRIBE) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: []}},
  // CreatePartitions: ALTER on each topic.
  37: (a, req) => {
    const {ok, denied} = a.split(Op.ALTER, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.results.push(...denied.map((t: any) => ({name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'The topic authorization is failed.'})))
      return res
    }}
  },
  // DeleteGroups: DELETE on each group.
  42: (a, req) => {
    const {ok, denied} = a.split(Op.DELETE, req.groupsNames, (g: string) => g, RT.GROUP)
    if (denied.length === 0) return undefined
    return {request: {...req, groupsNames: ok}, after: res => {
      res.results.push(...denied.map((g: string) => ({groupId: g, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED})))
      return res
    }}
  },
  // ElectLeaders: ALTER on the cluster.
  43: (a, req) => a.cluster(Op.ALTER) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: (req.topicPartitions ?? []).map((t: any) => ({topic: t.topic, partitionResult: t.partitions.map((p: number) => ({partitionId: p, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}))}},
  // AlterPartitionReassignments: ALTER on the cluster; ListPartitionReassignments: DESCRIBE.
  45: (a, req) => {
    if (a.cluster(Op.ALTER)) return undefined
    const message = a.requestNotAuthorized()
    return {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: message, responses: req.topics.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: message}))}))}}
  },
  46: a => a.cluster(Op.DESCRIBE) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: a.requestNotAuthorized(), topics: []}},
  // OffsetDelete: DELETE on the group, READ on each topic.
  47: (a, req) => {
    if (!a.allowed(Op.DELETE, RT.GROUP, req.groupId)) return {respond: {throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: []}}
    const {ok, denied} = a.split(Op.READ, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED}))})))
      return res
    }}
  },
  // DescribeClientQuotas: DESCRIBE_CONFIGS on the cluster; AlterClientQuotas: ALTER_CONFIGS.
  // (Their error responses carry no message: Kafka's ApiError drops a message equal to the code's default.)
  48: a => a.cluster(Op.DESCRIBE_CONFIGS) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null}},
  49: (a, req) => a.cluster(Op.ALTER_CONFIGS) ? undefined : {respond: {throttleTimeMs: 0, entries: req.entries.map((e: any) => ({errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: AUTHZ_MESSAGES[ErrorCode.CLUSTER_AUTHORIZATION_FAILED], entity: e.entity}))}},
  // DescribeUserScramCredentials: DESCRIBE on the cluster; AlterUserScramCredentials: ALTER.
  // DescribeUserScramCredentials: one result per user asked, its name left empty, as Kafka's error response.
  50: (a, req) => a.cluster(Op.DESCRIBE) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: (req.users ?? []).map(() => ({user: '', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, credentialInfos: []}))}},
  51: (a, req) => a.cluster(Op.ALTER) ? undefined : {respond: {throttleTimeMs: 0, results: [...new Set([...req.deletions, ...req.upsertions].map((x: any) => x.name))].map(user => ({user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}},
  // UpdateFeatures: ALTER on the cluster.
  57: (a, req) => a.cluster(Op.ALTER) ? undefined : {respond: {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: req.featureUpdates.map((f: any) => ({feature: f.feature, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null}))}},
  // DescribeCluster: the cluster's authorized operations on request.
  60: (a, req) => req.includeClusterAuthorizedOperations ? {after: res => { if (res.errorCode === 0) res.clusterAuthorizedOperations = a.cluster(Op.DESCRIBE) ? a.ops(RT.CLUSTER, CLUSTER_NAME) : 0; return res }} : undefined,
  // DescribeProducers: READ on each topic.
  61: (a, req) => {
    const {ok, denied} = a.split(Op.READ, req.topics, (t: any) => t.name)
    if (denied.length === 0) return undefined
    return {request: {...req, topics: ok}, after: res => {
      res.topics.push(...denied.map((t: any) => ({name: t.name, partitions: t.partitionIndexes.map((i: number) => ({partitionIndex: i, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: AUTHZ_MESSAGES[ErrorCode.TOPIC_AUTHORIZATION_FAILED], activeProducers: []}))})))
      return res
    }}
  },
  // DescribeTransactions: DESCRIBE on each transactional id; topics without DESCRIBE left out.
  65: (a, req) => {
    const {ok, denied} = a.split(Op.DESCRIBE, req.transactionalIds, (t: string) => t, RT.TRANSACTIONAL_ID)
    const deniedMap = new Map(denied.map((t: string) => [t, {errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionalId: t, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: 0, producerId: 0, producerEpoch: 0, topics: []}]))
    return {request: {...req, transactionalIds: ok}, after: res => {
      for (const s of res.transactionStates) if (s.errorCode === 0) s.topics = s.topics.filter((t: any) => a.topic(Op.DESCRIBE, t.topic))
      res.transactionStates = merge(req.transactionalIds, (s: any) => s.transactionalId, res.transactionStates, deniedMap)
      return res
    }}
  },
  // ListTransactions: only transactional ids the client may DESCRIBE.
  66: a => ({after: res => { res.transactionStates = res.transactionStates.filter((s: any) => a.allowed(Op.DESCRIBE, RT.TRANSACTIONAL_ID, s.transactionalId, false)); return res }}),
}

function configsCheck(a: RequestAuthz, req: any, op: number, denied: (r: any, code: number) => object, field: 'results' | 'responses'): AuthzVerdict | undefined {
  const kept: any[] = []
  const refused: object[] = []
  for (const r of req.resources) {
    const ok = r.resourceType === CONFIG_TOPIC ? a.topic(op, r.resourceName) : a.cluster(op)
    if (ok) kept.push(r)
    else refused.push(denied(r, r.resourceType === CONFIG_TOPIC ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED))
  }
  if (refused.length === 0) return undefined
  return {request: {...req, resources: kept}, after: res => { res[field].push(...refused); return res }}
}
