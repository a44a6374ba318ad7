// The API-level part of the differential ACL scenario: raw Kafka requests (kafkit's own codecs,
// the same bytes to both brokers) sent by SASL/PLAIN users with narrow ACLs, each response
// normalized (throttle times, ports, producer ids, topic ids left out) into one transcript line.
// Covers host-restricted ACLs, transactional-id ACLs (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit, EndTxn, transactional Produce), IDEMPOTENT_WRITE, and the
// refusals and filtering of the admin APIs (DeleteTopics, CreatePartitions, AlterConfigs,
// IncrementalAlterConfigs, DescribeConfigs, CreateAcls/DescribeAcls/DeleteAcls, DeleteRecords,
// OffsetDelete, DeleteGroups, DescribeGroups, ListGroups, ElectLeaders, partition reassignments,
// DescribeProducers, DescribeTransactions, ListTransactions).
import {RawConn, requestFrame, decodeResponse, plainToken} from './raw.js'
import {apisByKey} from '../../src/core/protocol/messages.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {AclOperation as Op, ResourceType as RT, PatternType as PT, Permission as P} from '../../src/core/security/acl.js'

/** A SASL/PLAIN-authenticated raw connection that knows the broker's API versions. */
export class Session {
  private corr = 10
  private versions = new Map<number, number>()

  private constructor(private readonly conn: RawConn, private readonly port: number) {}

  static async open(port: number, user: string, password: string): Promise<Session> {
    const conn = await RawConn.open(port)
    const s = new Session(conn, port)
    const av = await s.raw(18, 3, {clientSoftwareName: 'raw', clientSoftwareVersion: '1'})
    for (const k of av.apiKeys) s.versions.set(k.apiKey, Math.min(k.maxVersion, apisByKey.get(k.apiKey)?.maxStableVersion ?? -1))
    const hs = await s.raw(17, 1, {mechanism: 'PLAIN'})
    if (hs.errorCode !== 0) throw new Error(`SaslHandshake: ${hs.errorCode}`)
    const au = await s.raw(36, 2, {authBytes: plainToken(user, password)})
    if (au.errorCode !== 0) throw new Error(`SaslAuthenticate ${user}: ${au.errorCode} ${au.errorMessage}`)
    return s
  }

  async raw(apiKey: number, version: number, body: object): Promise<any> {
    this.conn.write(requestFrame(apiKey, version, ++this.corr, body))
    const f = await this.conn.next(30000)
    if (!f) throw new Error(`no answer to api ${apiKey} v${version} from port ${this.port} (connection ${this.conn.closed ? 'closed' : 'silent'})`)
    return decodeResponse(apiKey, version, f)
  }

  /** Sends at the highest version both kafkit's codecs and the broker know (or `version`). */
  call(apiKey: number, body: object, version?: number): Promise<any> {
    const v = version ?? this.versions.get(apiKey)
    if (v === undefined || v < 0) throw new Error(`the broker does not offer api ${apiKey}`)
    return this.raw(apiKey, v, body)
  }

  close(): void {
    this.conn.close()
  }
}

const DROP = new Set(['throttleTimeMs', 'port', 'host', 'topicId', 'lastTimestamp', 'clusterId', 'controllerId', 'logAppendTimeMs', 'currentTxnStartOffset', 'lastSequence', 'coordinatorEpoch'])
/** Positive values masked (ids and times that differ between brokers; 0 and -1 are kept). */
const IDS = new Set(['producerId', 'producerEpoch', 'transactionStartTimeMs'])
/** Kafka's authorizeClusterOperation message shows its Request object (processor, connection, session hash): only its shape is compared. */
const REQUEST_SHOWN = /^Request Request\(processor=\d+, connectionId=[^ ]+, session=[^ ]+, listenerName=ListenerName\(\w+\), securityProtocol=\w+, buffer=[^)]*?\]?, envelope=None\) is not authorized\.$/

/** A response as a stable string: volatile fields out, ids masked, lists sorted. */
export function norm(x: unknown): unknown {
  if (Buffer.isBuffer(x)) return `<${x.length} bytes>`
  if (Array.isArray(x) && process.env.KAFKIT_ACL_KEEP_ORDER) return x.map(norm)
  if (Array.isArray(x)) return x.map(norm).sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0)
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) {
      if (DROP.has(k)) continue
      out[k] = IDS.has(k) && typeof v === 'number' && v > 0 ? 'id'
        : typeof v === 'string' && REQUEST_SHOWN.test(v) ? 'Request Request(...) is not authorized.'
          : norm(v)
    }
    return out
  }
  return x
}

const acl = (resourceType: number, resourceName: string, principal: string, operation: number, opts: {host?: string; deny?: boolean; pattern?: number} = {}) =>
  ({resourceType, resourceName, resourcePatternType: opts.pattern ?? PT.LITERAL, principal: `User:${principal}`, host: opts.host ?? '*', operation, permissionType: opts.deny ? P.DENY : P.ALLOW})

export const API_USERS = {dave: 'dave-secret', erin: 'erin-secret', frank: 'frank-secret', grace: 'grace-secret'}

function txnBatch(producerId: number, epoch: number): Buffer {
  return buildBatch({records: [{key: null, value: Buffer.from('v')}], producerId, producerEpoch: epoch, baseSequence: 0, isTransactional: true, baseTimestamp: 1700000000000})
}

/** Waits until the group and transaction coordinators answer and a producer id is handed out. */
async function waitReady(admin: Session, groups: string[], txns: string[]): Promise<void> {
  const deadline = Date.now() + 90000
  for (;;) {
    const g = await admin.call(10, {keyType: 0, coordinatorKeys: groups})
    const t = await admin.call(10, {keyType: 1, coordinatorKeys: txns})
    const ok = [...g.coordinators, ...t.coordinators].every((c: any) => c.errorCode === 0) && (await admin.call(22, {transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1})).errorCode === 0
    if (ok) return
    if (Date.now() > deadline) throw new Error(`coordinators not ready: ${JSON.stringify([g, t])}`)
    await new Promise(r => setTimeout(r, 200))
  }
}

/**
 * Runs the API scenario against one broker (port of a SASL_PLAINTEXT listener; `admin` a super
 * user) and returns its transcript. `brokerId` names the broker's config resource.
 */
export async function apiScenario(port: number, adminPassword: string, brokerId: string): Promise<string[]> {
  const log: string[] = []
  const open = (u: keyof typeof API_USERS) => Session.open(port, u, API_USERS[u])
  const admin = await Session.open(port, 'admin', adminPassword)
  const sessions: Session[] = [admin]
  const step = async (label: string, s: Session, apiKey: number, body: object, version?: number) => {
    const r = await s.call(apiKey, body, version)
    log.push(`${label}: ${JSON.stringify(norm(r))}`)
    return r
  }
  try {
    // Setup (super user): topics, group offsets, ACLs.
    const topics = ['h-a', 'h-b', 'h-c', 'x-del', 'x-keep', 'x-part', 'x-rec', 'x-cfg']
    await step('admin CreateTopics', admin, 19, {topics: topics.map(name => ({name, numPartitions: 1, replicationFactor: 1})), timeoutMs: 30000})
    // The coordinators (groups' and transactions') are ready before anyone asks.
    await waitReady(admin, ['g-frank', 'g-other', 'g-erin'], ['tx-erin', 'tx-shared'])
    for (const groupId of ['g-frank', 'g-other', 'g-erin']) {
      await step(`admin OffsetCommit ${groupId}`, admin, 8, {groupId, generationIdOrMemberEpoch: -1, memberId: '', topics: [{name: 'x-keep', partitions: [{partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: ''}]}]})
    }
    await step('admin CreateAcls', admin, 30, {creations: [
      // Host-restricted: dave may read h-a from 127.0.0.1 (where the test runs) and h-b only from 10.9.9.9;
      // he may write to h-a from anywhere except 10.9.9.9, and to h-c from anywhere except 127.0.0.1.
      acl(RT.TOPIC, 'h-a', 'dave', Op.READ, {host: '127.0.0.1'}),
      acl(RT.TOPIC, 'h-b', 'dave', Op.READ, {host: '10.9.9.9'}),
      acl(RT.TOPIC, 'h-a', 'dave', Op.WRITE),
      acl(RT.TOPIC, 'h-a', 'dave', Op.WRITE, {host: '10.9.9.9', deny: true}),
      acl(RT.TOPIC, 'h-c', 'dave', Op.WRITE),
      acl(RT.TOPIC, 'h-c', 'dave', Op.WRITE, {host: '127.0.0.1', deny: true}),
      acl(RT.GROUP, 'g-dave', 'dave', Op.READ, {host: '10.9.9.9'}),
      // Transactional ids: erin writes tx-erin (and h-a), may only describe tx-desc; READ on g-erin.
      acl(RT.TRANSACTIONAL_ID, 'tx-erin', 'erin', Op.WRITE),
      acl(RT.TRANSACTIONAL_ID, 'tx-desc', 'erin', Op.DESCRIBE),
      acl(RT.TRANSACTIONAL_ID, 'tx-shared', 'erin', Op.DESCRIBE),
      acl(RT.TOPIC, 'h-a', 'erin', Op.WRITE),
      acl(RT.GROUP, 'g-erin', 'erin', Op.READ),
      // grace: IDEMPOTENT_WRITE on the cluster and nothing else.
      acl(RT.CLUSTER, 'kafka-cluster', 'grace', Op.IDEMPOTENT_WRITE),
      // frank: one admin right per topic/group, none on the cluster.
      acl(RT.TOPIC, 'x-del', 'frank', Op.DELETE),
      acl(RT.TOPIC, 'x-keep', 'frank', Op.DESCRIBE),
      acl(RT.TOPIC, 'x-part', 'frank', Op.ALTER),
      acl(RT.TOPIC, 'x-rec', 'frank', Op.DELETE),
      acl(RT.TOPIC, 'x-cfg', 'frank', Op.ALTER_CONFIGS),
      acl(RT.TOPIC, 'h-a', 'frank', Op.DESCRIBE_CONFIGS),
      acl(RT.GROUP, 'g-frank', 'frank', Op.DELETE),
      acl(RT.GROUP, 'g-erin', 'frank', Op.DESCRIBE),
    ]})
    const [dave, erin, frank, grace] = await Promise.all([open('dave'), open('erin'), open('frank'), open('grace')])
    sessions.push(dave, erin, frank, grace)

    // Host-restricted ACLs.
    const offsets = (name: string) => ({name, partitions: [{partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1}]})
    await step('dave ListOffsets', dave, 2, {replicaId: -1, topics: [offsets('h-a'), offsets('h-b'), offsets('h-c')]})
    await step('dave Metadata', dave, 3, {topics: [{name: 'h-a'}, {name: 'h-b'}, {name: 'h-c'}], allowAutoTopicCreation: false})
    const batch = buildBatch({records: [{key: null, value: Buffer.from('v')}], baseTimestamp: 1700000000000})
    await step('dave Produce', dave, 0, {acks: 1, timeoutMs: 10000, topicData: [{name: 'h-a', partitionData: [{index: 0, records: batch}]}, {name: 'h-b', partitionData: [{index: 0, records: batch}]}, {name: 'h-c', partitionData: [{index: 0, records: batch}]}]})
    await step('dave JoinGroup g-dave', dave, 11, {groupId: 'g-dave', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', protocolType: 'consumer', protocols: [{name: 'range', metadata: Buffer.alloc(0)}]}, 5)

    // Transactional ids and IDEMPOTENT_WRITE.
    await step('erin FindCoordinator txn', erin, 10, {keyType: 1, coordinatorKeys: ['tx-erin', 'tx-desc', 'tx-none']})
    await step('erin InitProducerId tx-none', erin, 22, {transactionalId: 'tx-none', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    await step('erin InitProducerId tx-desc', erin, 22, {transactionalId: 'tx-desc', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    const init = await step('erin InitProducerId tx-erin', erin, 22, {transactionalId: 'tx-erin', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    const pid = init.producerId as number
    const epoch = init.producerEpoch as number
    const addParts = (txn: string, names: string[]) => ({v3AndBelowTransactionalId: txn, v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: names.map(name => ({name, partitions: [0]}))})
    await step('erin AddPartitionsToTxn tx-none', erin, 24, addParts('tx-none', ['h-a']), 3)
    await step('erin AddPartitionsToTxn tx-erin h-a,h-b', erin, 24, addParts('tx-erin', ['h-a', 'h-b']), 3)
    await step('erin AddPartitionsToTxn v4', erin, 24, {transactions: [{transactionalId: 'tx-erin', producerId: pid, producerEpoch: epoch, verifyOnly: true, topics: [{name: 'h-a', partitions: [0]}]}]}, 4)
    await step('erin AddPartitionsToTxn tx-erin h-a', erin, 24, addParts('tx-erin', ['h-a']), 3)
    await step('erin Produce tx-none', erin, 0, {transactionalId: 'tx-none', acks: -1, timeoutMs: 10000, topicData: [{name: 'h-a', partitionData: [{index: 0, records: txnBatch(pid, epoch)}]}]})
    await step('erin Produce tx-erin', erin, 0, {transactionalId: 'tx-erin', acks: -1, timeoutMs: 10000, topicData: [{name: 'h-a', partitionData: [{index: 0, records: txnBatch(pid, epoch)}]}]})
    await step('erin AddOffsetsToTxn tx-none', erin, 25, {transactionalId: 'tx-none', producerId: pid, producerEpoch: epoch, groupId: 'g-erin'})
    await step('erin AddOffsetsToTxn g-none', erin, 25, {transactionalId: 'tx-erin', producerId: pid, producerEpoch: epoch, groupId: 'g-none'})
    await step('erin AddOffsetsToTxn g-erin', erin, 25, {transactionalId: 'tx-erin', producerId: pid, producerEpoch: epoch, groupId: 'g-erin'})
    const txnCommit = (txn: string, groupId: string, names: string[]) => ({transactionalId: txn, groupId, producerId: pid, producerEpoch: epoch, generationId: -1, memberId: '', topics: names.map(name => ({name, partitions: [{partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: ''}]}))})
    await step('erin TxnOffsetCommit tx-none', erin, 28, txnCommit('tx-none', 'g-erin', ['h-a']))
    await step('erin TxnOffsetCommit g-none', erin, 28, txnCommit('tx-erin', 'g-none', ['h-a']))
    await step('erin TxnOffsetCommit h-a,h-b', erin, 28, txnCommit('tx-erin', 'g-erin', ['h-a', 'h-b']))
    // A transaction of the super user's over h-a and h-b: erin may describe it, but sees only h-a of its topics.
    const shared = await admin.call(22, {transactionalId: 'tx-shared', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    await step('admin AddPartitionsToTxn tx-shared', admin, 24, {v3AndBelowTransactionalId: 'tx-shared', v3AndBelowProducerId: shared.producerId, v3AndBelowProducerEpoch: shared.producerEpoch, v3AndBelowTopics: [{name: 'h-a', partitions: [0]}, {name: 'h-b', partitions: [0]}]}, 3)
    await step('erin DescribeTransactions', erin, 65, {transactionalIds: ['tx-erin', 'tx-desc', 'tx-none', 'tx-shared']})
    await step('erin ListTransactions', erin, 66, {stateFilters: [], producerIdFilters: [], durationFilter: -1})
    await step('frank ListTransactions', frank, 66, {stateFilters: [], producerIdFilters: [], durationFilter: -1})
    await step('admin ListTransactions', admin, 66, {stateFilters: [], producerIdFilters: [], durationFilter: -1})
    await step('erin EndTxn tx-none', erin, 26, {transactionalId: 'tx-none', producerId: pid, producerEpoch: epoch, committed: false})
    await step('erin EndTxn tx-erin', erin, 26, {transactionalId: 'tx-erin', producerId: pid, producerEpoch: epoch, committed: false})
    await step('erin DescribeProducers', erin, 61, {topics: [{name: 'h-a', partitionIndexes: [0]}]})
    await step('dave DescribeProducers', dave, 61, {topics: [{name: 'h-a', partitionIndexes: [0]}, {name: 'h-b', partitionIndexes: [0]}]})
    await step('grace InitProducerId idempotent', grace, 22, {transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1})
    await step('frank InitProducerId idempotent', frank, 22, {transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1})

    // Admin APIs by a user with narrow rights.
    await step('frank DeleteTopics', frank, 20, {topics: ['x-del', 'x-keep', 'x-part', 'nosuch'].map(name => ({name})), timeoutMs: 30000})
    await step('frank DeleteTopics v5', frank, 20, {topicNames: ['x-keep', 'nosuch'], timeoutMs: 30000}, 5)
    await step('frank CreatePartitions', frank, 37, {topics: ['x-part', 'x-keep', 'nosuch'].map(name => ({name, count: 2, assignments: null})), timeoutMs: 30000})
    const cfgRes = (resourceType: number, resourceName: string) => ({resourceType, resourceName, configs: [{name: 'retention.ms', value: '3600000'}]})
    await step('frank AlterConfigs', frank, 33, {resources: [cfgRes(2, 'x-cfg'), cfgRes(2, 'x-keep'), cfgRes(2, 'nosuch'), {resourceType: 4, resourceName: brokerId, configs: [{name: 'log.cleaner.threads', value: '2'}]}]})
    const incRes = (resourceType: number, resourceName: string, name = 'retention.ms') => ({resourceType, resourceName, configs: [{name, configOperation: 0, value: '7200000'}]})
    await step('frank IncrementalAlterConfigs', frank, 44, {resources: [incRes(2, 'x-cfg'), incRes(2, 'x-keep'), incRes(4, brokerId, 'log.cleaner.backoff.ms'), incRes(8, 'broker-logger-none')]})
    const dcRes = (resourceType: number, resourceName: string) => ({resourceType, resourceName, configurationKeys: ['retention.ms', 'log.retention.ms']})
    await step('frank DescribeConfigs', frank, 32, {resources: [dcRes(2, 'x-cfg'), dcRes(2, 'h-a'), dcRes(2, 'x-keep'), dcRes(2, 'nosuch'), dcRes(4, brokerId), dcRes(8, brokerId)], includeSynonyms: false, includeDocumentation: false})
    await step('frank DeleteRecords', frank, 21, {topics: ['x-rec', 'x-keep', 'nosuch'].map(name => ({name, partitions: [{partitionIndex: 0, offset: 0}]})), timeoutMs: 30000})
    await step('frank OffsetDelete g-frank', frank, 47, {groupId: 'g-frank', topics: [{name: 'x-keep', partitions: [{partitionIndex: 0}]}, {name: 'x-rec', partitions: [{partitionIndex: 0}]}]})
    await step('frank OffsetDelete g-other', frank, 47, {groupId: 'g-other', topics: [{name: 'x-keep', partitions: [{partitionIndex: 0}]}]})
    await step('frank DescribeGroups', frank, 15, {groups: ['g-erin', 'g-other', 'g-nosuch'], includeAuthorizedOperations: true})
    await step('frank ListGroups', frank, 16, {statesFilter: [], typesFilter: []})
    await step('frank DeleteGroups', frank, 42, {groupsNames: ['g-frank', 'g-other', 'g-nosuch']})
    await step('frank ElectLeaders', frank, 43, {electionType: 0, topicPartitions: [{topic: 'x-keep', partitions: [0]}], timeoutMs: 10000})
    await step('frank ElectLeaders all', frank, 43, {electionType: 0, topicPartitions: null, timeoutMs: 10000})
    await step('frank AlterPartitionReassignments', frank, 45, {timeoutMs: 10000, topics: [{name: 'x-keep', partitions: [{partitionIndex: 0, replicas: null}]}]})
    await step('frank ListPartitionReassignments', frank, 46, {timeoutMs: 10000, topics: null})
    await step('frank DescribeAcls', frank, 29, {resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1})
    await step('frank CreateAcls', frank, 30, {creations: [acl(RT.TOPIC, 'x-keep', 'frank', Op.ALL)]})
    await step('frank DeleteAcls', frank, 31, {filters: [{resourceTypeFilter: 2, resourceNameFilter: 'x-keep', patternTypeFilter: 3, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1}]})
    await step('frank DescribeLogDirs', frank, 35, {topics: null})
    await step('frank DescribeClientQuotas', frank, 48, {components: [], strict: false})
    await step('frank AlterClientQuotas', frank, 49, {entries: [{entity: [{entityType: 'user', entityName: 'frank'}], ops: [{key: 'producer_byte_rate', value: 1024, remove: false}]}], validateOnly: false})
    // (users: null, "all users", is not asked: Apache Kafka 3.9 then never answers a refused request, its error response failing on the null list.)
    await step('frank DescribeUserScramCredentials', frank, 50, {users: [{name: 'frank'}, {name: 'admin'}]})
    await step('frank AlterUserScramCredentials', frank, 51, {deletions: [{name: 'frank', mechanism: 1}], upsertions: []})
    await step('frank WriteTxnMarkers', frank, 27, {markers: [{producerId: 1, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{name: 'x-keep', partitionIndexes: [0]}]}]})
    await step('frank DescribeCluster', frank, 60, {includeClusterAuthorizedOperations: true})
    await step('frank Metadata with operations', frank, 3, {topics: [{name: 'x-keep'}, {name: 'x-cfg'}, {name: 'h-b'}], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true})
    await step('frank OffsetForLeaderEpoch', frank, 23, {replicaId: -1, topics: ['x-keep', 'h-b'].map(topic => ({topic, partitions: [{partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0}]}))})
    await step('frank OffsetFetch', frank, 9, {groups: [{groupId: 'g-erin', memberId: null, memberEpoch: -1, topics: null}, {groupId: 'g-other', memberId: null, memberEpoch: -1, topics: null}, {groupId: 'g-erin', memberId: null, memberEpoch: -1, topics: [{name: 'x-keep', partitionIndexes: [0]}, {name: 'h-b', partitionIndexes: [0]}]}], requireStable: false})
    await step('frank OffsetFetch v7', frank, 9, {groupId: 'g-erin', topics: [{name: 'x-keep', partitionIndexes: [0]}, {name: 'h-b', partitionIndexes: [0]}], requireStable: false}, 7)
    // Last: the abort markers reach h-a and h-b after EndTxn answers (asynchronously on Kafka).
    await step('admin EndTxn tx-shared', admin, 26, {transactionalId: 'tx-shared', producerId: shared.producerId, producerEpoch: shared.producerEpoch, committed: false})
    await step('admin DeleteAcls', admin, 31, {filters: [
      {resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'x-keep', patternTypeFilter: PT.LITERAL, principalFilter: 'User:frank', hostFilter: null, operation: Op.ANY, permissionType: P.ANY},
      {resourceTypeFilter: RT.TOPIC, resourceNameFilter: 'nosuch', patternTypeFilter: PT.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: P.ANY},
    ]})
    await step('frank DescribeConfigs after DeleteAcls', frank, 32, {resources: [{resourceType: 2, resourceName: 'x-keep', configurationKeys: ['retention.ms']}], includeSynonyms: false, includeDocumentation: false})
    await step('admin DescribeAcls frank', admin, 29, {resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: 'User:frank', hostFilter: null, operation: 1, permissionType: 1})
  } finally {
    for (const s of sessions) s.close()
  }
  return log
}

/**
 * allow.everyone.if.no.acl.found=true: resources without any ACL are open to everyone, those
 * with an ACL follow it (a user not named there is refused).
 */
export async function allowEveryoneScenario(port: number, adminPassword: string): Promise<string[]> {
  const log: string[] = []
  const admin = await Session.open(port, 'admin', adminPassword)
  const dave = await Session.open(port, 'dave', API_USERS.dave)
  const step = async (label: string, s: Session, apiKey: number, body: object, version?: number) => {
    const r = await s.call(apiKey, body, version)
    log.push(`${label}: ${JSON.stringify(norm(r))}`)
    return r
  }
  try {
    await waitReady(admin, ['g-open'], ['tx-dave'])
    await step('admin CreateTopics', admin, 19, {topics: ['open', 'closed'].map(name => ({name, numPartitions: 1, replicationFactor: 1})), timeoutMs: 30000})
    await step('admin CreateAcls', admin, 30, {creations: [acl(RT.TOPIC, 'closed', 'erin', Op.READ), acl(RT.GROUP, 'g-closed', 'erin', Op.READ)]})
    const batch = buildBatch({records: [{key: null, value: Buffer.from('v')}], baseTimestamp: 1700000000000})
    await step('dave Produce', dave, 0, {acks: 1, timeoutMs: 10000, topicData: ['open', 'closed'].map(name => ({name, partitionData: [{index: 0, records: batch}]}))})
    await step('dave Metadata all', dave, 3, {topics: null, allowAutoTopicCreation: false})
    await step('dave CreateTopics', dave, 19, {topics: [{name: 'dave-new', numPartitions: 1, replicationFactor: 1}], timeoutMs: 30000})
    await step('dave InitProducerId idempotent', dave, 22, {transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1})
    await step('dave InitProducerId tx', dave, 22, {transactionalId: 'tx-dave', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1})
    await step('dave OffsetCommit g-open', dave, 8, {groupId: 'g-open', generationIdOrMemberEpoch: -1, memberId: '', topics: [{name: 'open', partitions: [{partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: ''}]}]})
    await step('dave OffsetCommit g-closed', dave, 8, {groupId: 'g-closed', generationIdOrMemberEpoch: -1, memberId: '', topics: [{name: 'open', partitions: [{partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: ''}]}]})
    await step('dave DescribeAcls', dave, 29, {resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1})
    await step('dave DescribeConfigs broker', dave, 32, {resources: [{resourceType: 2, resourceName: 'open', configurationKeys: ['retention.ms']}], includeSynonyms: false, includeDocumentation: false})
  } finally {
    admin.close()
    dave.close()
  }
  return log
}
