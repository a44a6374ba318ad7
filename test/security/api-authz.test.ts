// The authorization table (broker/api-authz.ts) without a broker: an AclAuthorizer whose cache is
// filled directly and a stand-in broker, each row one request by one user and the answer the
// table gives (Kafka 3.9's checks; the differential in acls.test.ts compares the same cases
// end to end with Apache Kafka). Rows cover hosts, allow.everyone.if.no.acl.found, the
// transactional-id checks and the shapes of refusals that are easy to get subtly wrong.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {AclAuthorizer} from '../../src/core/security/authorizer.js'
import {API_CHECKS, RequestAuthz} from '../../src/core/broker/api-authz.js'
import {AclOperation as Op, ResourceType as RT, PatternType as PT, Permission as P} from '../../src/core/security/acl.js'
import {Logger, setLogLevel} from '../../src/core/util/log.js'
import {ErrorCode} from '../../src/core/protocol/errors.js'

setLogLevel('ERROR')

type Entry = [type: number, name: string, principal: string, op: number, perm?: number, host?: string, pattern?: number]

function authorizer(entries: Entry[], props: Record<string, string> = {}): AclAuthorizer {
  const a = new AclAuthorizer(new Map(Object.entries({'super.users': 'User:admin', ...props})), () => { throw new Error('no ZooKeeper in this test') }, new Logger('test'), new Logger('kafka.authorizer.logger'))
  const byPattern = new Map<string, {pattern: object; acls: object[]}>()
  for (const [resourceType, name, principal, operation, permissionType = P.ALLOW, host = '*', patternType = PT.LITERAL] of entries) {
    const k = `${resourceType}/${patternType}/${name}`
    if (!byPattern.has(k)) byPattern.set(k, {pattern: {resourceType, name, patternType}, acls: []})
    byPattern.get(k)!.acls.push({principal: `User:${principal}`, host, operation, permissionType})
  }
  for (const {pattern, acls} of byPattern.values()) (a as any).updateCache(pattern, acls, 0)
  return a
}

const broker = {
  config: {autoCreateTopicsEnable: false, deleteTopicEnable: true},
  cluster: {topic: (n: string) => (['t', 'u'].includes(n) ? {name: n, partitions: [{leader: 0}]} : undefined), topicById: () => undefined},
} as any

function run(az: AclAuthorizer, user: string, apiKey: number, version: number, req: object, host = '127.0.0.1', handlerAnswer?: object): unknown {
  const ra = new RequestAuthz(az, {principal: `User:${user}`, host}, `api${apiKey}`, broker, {id: '127.0.0.1:9092-127.0.0.1:50000-3', listener: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT'})
  const v = API_CHECKS[apiKey]?.(ra, req, version)
  if (v === undefined) return 'handler'
  if (v.respond) return v.respond
  if (v.close) return `close: ${v.close}`
  return {request: v.request, response: v.after && handlerAnswer ? v.after(structuredClone(handlerAnswer)) : undefined}
}

const produce = (topics: string[]) => ({transactionalId: null, acks: 1, timeoutMs: 1000, topicData: topics.map(name => ({name, partitionData: [{index: 0, records: null}]}))})
const codes = (r: any) => r.responses.map((t: any) => `${t.name}:${t.partitionResponses[0].errorCode}`).sort().join(',')

test('hosts: an ACL for another host does not apply, a DENY for the client\'s host wins', () => {
  const az = authorizer([[RT.TOPIC, 't', 'dave', Op.WRITE, P.ALLOW, '10.9.9.9'], [RT.TOPIC, 'u', 'dave', Op.WRITE], [RT.TOPIC, 'u', 'dave', Op.WRITE, P.DENY, '127.0.0.1']])
  const handler = {throttleTimeMs: 0, responses: []}
  assert.equal(codes((run(az, 'dave', 0, 9, produce(['t', 'u']), '127.0.0.1', handler) as any).response), `t:${ErrorCode.TOPIC_AUTHORIZATION_FAILED},u:${ErrorCode.TOPIC_AUTHORIZATION_FAILED}`)
  assert.equal(run(az, 'dave', 0, 9, produce(['t', 'u']), '10.9.9.9'), 'handler')
  const mixed = run(az, 'dave', 0, 9, produce(['t', 'u']), '10.1.1.1', handler) as any
  assert.deepEqual(mixed.request.topicData.map((t: any) => t.name), ['u'])
})

test('allow.everyone.if.no.acl.found: open where no ACL names the resource, closed where one does', () => {
  const az = authorizer([[RT.TOPIC, 'u', 'erin', Op.READ]], {'allow.everyone.if.no.acl.found': 'true'})
  assert.equal(run(az, 'dave', 0, 9, produce(['t'])), 'handler')
  assert.equal(codes((run(az, 'dave', 0, 9, produce(['t', 'u']), '127.0.0.1', {responses: []}) as any).response), `u:${ErrorCode.TOPIC_AUTHORIZATION_FAILED}`)
  assert.equal(run(az, 'dave', 22, 4, {transactionalId: null}), 'handler')
})

test('transactional ids: WRITE needed for InitProducerId, AddPartitionsToTxn, EndTxn, TxnOffsetCommit; IDEMPOTENT_WRITE for an idempotent producer', () => {
  const az = authorizer([[RT.TRANSACTIONAL_ID, 'tx', 'erin', Op.WRITE], [RT.TRANSACTIONAL_ID, 'tx-d', 'erin', Op.DESCRIBE], [RT.CLUSTER, 'kafka-cluster', 'grace', Op.IDEMPOTENT_WRITE], [RT.GROUP, 'g', 'erin', Op.READ]])
  const TXN = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  assert.equal(run(az, 'erin', 22, 4, {transactionalId: 'tx'}), 'handler')
  assert.equal((run(az, 'erin', 22, 4, {transactionalId: 'tx-d'}) as any).errorCode, TXN)
  assert.equal((run(az, 'frank', 22, 4, {transactionalId: null}) as any).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  assert.equal(run(az, 'grace', 22, 4, {transactionalId: null}), 'handler')
  assert.equal((run(az, 'erin', 26, 3, {transactionalId: 'tx-d'}) as any).errorCode, TXN)
  const apt = run(az, 'erin', 24, 3, {v3AndBelowTransactionalId: 'tx', v3AndBelowTopics: [{name: 't', partitions: [0]}, {name: 'nosuch', partitions: [0]}]}) as any
  assert.deepEqual(apt.resultsByTopicV3AndBelow.map((t: any) => [t.name, t.resultsByPartition[0].partitionErrorCode]), [['t', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['nosuch', ErrorCode.TOPIC_AUTHORIZATION_FAILED]])
  assert.equal((run(az, 'erin', 24, 4, {transactions: []}) as any).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
  const toc = run(az, 'erin', 28, 3, {transactionalId: 'tx', groupId: 'other', topics: [{name: 't', partitions: [{partitionIndex: 0}]}]}) as any
  assert.equal(toc.topics[0].partitions[0].errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED)
  // FindCoordinator v4+: refused keys answer with the code and an empty message.
  const fc = run(az, 'erin', 10, 4, {keyType: 1, coordinatorKeys: ['tx-none']}) as any
  assert.deepEqual(fc.coordinators, [{key: 'tx-none', nodeId: -1, host: '', port: -1, errorCode: TXN, errorMessage: ''}])
})

test('admin APIs: Kafka\'s authorizeClusterOperation message, ApiError\'s dropped default message, per-entry answers', () => {
  const az = authorizer([[RT.GROUP, 'g', 'frank', Op.DESCRIBE], [RT.TOPIC, 't', 'frank', Op.DESCRIBE]])
  const acls = run(az, 'frank', 29, 3, {}) as any
  assert.equal(acls.errorMessage, 'Request Request(processor=0, connectionId=127.0.0.1:9092-127.0.0.1:50000-3, session=Session(User:frank,/127.0.0.1), listenerName=ListenerName(SASL_PLAINTEXT), securityProtocol=SASL_PLAINTEXT, buffer=null, envelope=None) is not authorized.')
  assert.equal(run(az, 'admin', 29, 3, {}), 'handler')
  assert.deepEqual(run(az, 'frank', 50, 0, {users: [{name: 'a'}, {name: 'b'}]}), {throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [1, 2].map(() => ({user: '', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, credentialInfos: []}))})
  assert.equal((run(az, 'frank', 48, 1, {}) as any).errorMessage, null)
  // OffsetFetch v8: a group named twice is answered twice, in request order, each with its own refusals.
  const req = {groups: [{groupId: 'g', topics: null}, {groupId: 'x', topics: null}, {groupId: 'g', topics: [{name: 't', partitionIndexes: [0]}, {name: 'u', partitionIndexes: [0]}]}]}
  const handlerAnswer = {throttleTimeMs: 0, groups: [
    {groupId: 'g', errorCode: 0, topics: [{name: 't', partitions: []}, {name: 'u', partitions: []}]},
    {groupId: 'g', errorCode: 0, topics: [{name: 't', partitions: []}]},
  ]}
  const of = run(az, 'frank', 9, 8, req, '127.0.0.1', handlerAnswer) as any
  assert.deepEqual(of.request.groups.map((g: any) => [g.groupId, g.topics?.map((t: any) => t.name) ?? null]), [['g', null], ['g', ['t']]])
  assert.deepEqual(of.response.groups.map((g: any) => [g.groupId, g.errorCode, g.topics.map((t: any) => `${t.name}:${t.partitions[0]?.errorCode ?? '-'}`)]), [
    ['g', 0, ['t:-']],
    ['x', ErrorCode.GROUP_AUTHORIZATION_FAILED, []],
    ['g', 0, ['t:-', `u:${ErrorCode.TOPIC_AUTHORIZATION_FAILED}`]],
  ])
})
