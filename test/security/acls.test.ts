// ACLs (kafka.security.authorizer.AclAuthorizer), differential: the same scenario runs against
// kafkit's broker and Apache Kafka 3.9's broker (both on one Apache ZooKeeper, chroots /kafkit
// and /apache), with ACLs managed by Apache's kafka-acls and data moved by confluent-kafka,
// kcat and Apache's console tools; the transcripts must be equal. Scenario: a READ-only user
// consumes but cannot produce, a prefixed ACL grants a family of topics, deny wins over allow,
// super.users bypass ACLs, a mTLS principal gets the same ACLs through
// ssl.principal.mapping.rules, Metadata hides topics a user may not describe, a group ACL
// missing refuses the group, and an ACL removed takes effect. Then raw requests (acl-apis.ts)
// compare, response by response: host-restricted ACLs, transactional-id ACLs and
// IDEMPOTENT_WRITE, the admin APIs' refusals and filtering, and (on a second pair of brokers)
// allow.everyone.if.no.acl.found=true.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, type CertFiles} from './certs.js'
import {apiScenario, allowEveryoneScenario, API_USERS} from './acl-apis.js'
import {startSecureBroker, startApacheBroker, apacheTool, apacheSkip, clientProps, pyClient, scratch, KCAT, type SecureBroker, type ApacheBroker} from './helpers.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : apacheSkip()
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
const USERS = {admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret', ...API_USERS}
let zk: ApacheZooKeeper
let kafkit: SecureBroker
let apache: ApacheBroker
let certs: CertFiles
let dir: string

const listeners = {SASL_PLAINTEXT: 'SASL_PLAINTEXT', SSL: 'SSL'}
function brokerConfig(): string[] {
  return [
    'security.inter.broker.protocol=SASL_PLAINTEXT',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    'sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${PLAIN} required username="admin" password="admin-secret" ${Object.entries(USERS).map(([u, p]) => `user_${u}="${p}"`).join(' ')};`,
    'authorizer.class.name=kafka.security.authorizer.AclAuthorizer',
    'super.users=User:admin',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.brokerPem}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.caPem}`,
    'ssl.client.auth=required',
    'ssl.principal.mapping.rules=RULE:^CN=([^,]+),.*$/$1/L,DEFAULT',
  ]
}

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  zk = await startApacheZooKeeper()
  const [k, a] = await Promise.all([
    startSecureBroker(`${zk.connect}/kafkit`, listeners, brokerConfig()),
    startApacheBroker(`${zk.connect}/apache`, listeners, brokerConfig()),
  ])
  kafkit = k
  apache = a
  // Apache's broker logs "started" before the controller's first UpdateMetadata reaches it; until
  // then its metadata cache lists no broker and auto-creation answers INVALID_REPLICATION_FACTOR.
  const {waitFor} = await import('../helpers/util.js')
  await waitFor(async () => / 1 brokers:/.test((await exec(KCAT, ['-L', '-b', apache.addr('SASL_PLAINTEXT'), '-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=admin', '-X', 'sasl.password=admin-secret', '-m', '5'])).stdout), 60000, 'Apache Kafka to list itself in Metadata')
})

after(async () => {
  await kafkit?.cleanup()
  await apache?.stop()
  await zk?.stop()
  if (dir) removeDir(dir)
})

interface Target {
  name: string
  addr(l: string): string
}

const sasl = (user: keyof typeof USERS) => ({'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': user, 'sasl.password': USERS[user]})
const javaProps = (user: keyof typeof USERS) => clientProps(dir, `java-${user}`, {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': `${PLAIN} required username="${user}" password="${USERS[user]}";`})

/** The lines of a Java tool's output that name Kafka errors (timestamps and logger noise left out). */
function javaErrors(out: string): string[] {
  return [...new Set(out.split('\n').map(l => /(org\.apache\.kafka\.common\.errors\.\w+: .*|Error while executing topic command : .*)$/.exec(l.trim())?.[1]).filter((x): x is string => !!x))].sort()
}

/** kafka-acls --list output with each resource's entries sorted (the order of a set). */
function aclListing(out: string): string {
  return out.split(/\n(?=Current ACLs)/).map(block => {
    const [head, ...rest] = block.trim().split('\n')
    return [head, ...rest.map(l => l.trim()).filter(l => l !== '').sort()].join('\n')
  }).sort().join('\n\n')
}

async function pyOutcome(t: Target, user: keyof typeof USERS, topic: string, mode: 'produce' | 'consume', extra: Record<string, string | number> = {}, listener = 'SASL_PLAINTEXT'): Promise<string> {
  const cfg = listener === 'SSL'
    ? {'security.protocol': 'SSL', 'ssl.ca.location': certs.caPem, 'ssl.certificate.location': certs.client('alice').cert, 'ssl.key.location': certs.client('alice').key}
    : sasl(user)
  const r = await pyClient(t.addr(listener), topic, 1, mode, {...cfg, 'test.timeout.s': 8, ...extra})
  const errors = [...new Set(r.errors.map(e => e.split(':')[0]))].sort()
  return `${user}@${listener} ${mode} ${topic}: delivered=${r.delivered} consumed=${r.consumed}${errors.length ? ` errors=${errors.join(',')}` : ''}`
}

async function scenario(t: Target): Promise<string[]> {
  const log: string[] = []
  const admin = javaProps('admin')
  const acls = async (...args: string[]) => {
    const r = await apacheTool('kafka-acls', ['--bootstrap-server', t.addr('SASL_PLAINTEXT'), '--command-config', admin, ...args])
    assert.equal(r.code, 0, `${t.name}: kafka-acls ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  // super.users: admin creates the topics (auto-created by its producer) without any ACL.
  for (const topic of ['orders', 'logs-app', 'other', 'secret']) log.push(await pyOutcome(t, 'admin', topic, 'produce'))
  await acls('--add', '--allow-principal', 'User:alice', '--consumer', '--topic', 'orders', '--group', 'g-alice')
  await acls('--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--operation', 'Describe', '--topic', 'logs-', '--resource-pattern-type', 'prefixed')
  await acls('--add', '--allow-principal', 'User:carol', '--operation', 'All', '--topic', 'secret', '--group', 'g-carol')
  await acls('--add', '--deny-principal', 'User:carol', '--operation', 'Read', '--topic', 'secret')
  log.push(aclListing(await acls('--list')))
  // READ only: alice consumes (also as the mTLS principal CN=alice -> User:alice) but cannot produce.
  log.push(await pyOutcome(t, 'alice', 'orders', 'consume', {'group.id': 'g-alice', 'enable.auto.commit': 'false'}))
  log.push(await pyOutcome(t, 'alice', 'orders', 'consume', {'group.id': 'g-alice', 'enable.auto.commit': 'false'}, 'SSL'))
  log.push(await pyOutcome(t, 'alice', 'orders', 'produce'))
  // Prefixed: bob writes to logs-* only.
  log.push(await pyOutcome(t, 'bob', 'logs-app', 'produce'))
  log.push(await pyOutcome(t, 'bob', 'other', 'produce'))
  // Deny wins: carol may do All on secret except Read.
  log.push(await pyOutcome(t, 'carol', 'secret', 'produce'))
  log.push(await pyOutcome(t, 'carol', 'secret', 'consume', {'group.id': 'g-carol'}))
  // No ACL on the group: refused.
  log.push(await pyOutcome(t, 'bob', 'logs-app', 'consume', {'group.id': 'g-bob'}))
  // Metadata hides what a user may not describe.
  const md = await exec(KCAT, ['-L', '-b', t.addr('SASL_PLAINTEXT'), '-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', `sasl.password=${USERS.alice}`, '-m', '5'])
  log.push(`alice sees topics: ${[...md.stdout.matchAll(/topic "([^"]+)"/g)].map(m => m[1]).sort().join(',')}`)
  // Apache's Java clients: alice's console consumer reads, her producer and topic creation are refused.
  const aliceJava = javaProps('alice')
  const cons = await apacheTool('kafka-console-consumer', ['--bootstrap-server', t.addr('SASL_PLAINTEXT'), '--topic', 'orders', '--group', 'g-alice', '--from-beginning', '--max-messages', '1', '--timeout-ms', '15000', '--consumer.config', aliceJava])
  log.push(`java consumer alice: exit=${cons.code} out=${JSON.stringify(cons.stdout)} errors=${javaErrors(cons.stderr + cons.stdout).join(' | ')}`)
  const prod = await apacheTool('kafka-console-producer', ['--bootstrap-server', t.addr('SASL_PLAINTEXT'), '--topic', 'orders', '--producer.config', aliceJava, '--request-timeout-ms', '5000'], {input: 'x\n'})
  log.push(`java producer alice: errors=${javaErrors(prod.stderr + prod.stdout).join(' | ')}`)
  const create = await apacheTool('kafka-topics', ['--bootstrap-server', t.addr('SASL_PLAINTEXT'), '--command-config', aliceJava, '--create', '--topic', 'alice-new'])
  log.push(`java kafka-topics --create alice: exit=${create.code} errors=${javaErrors(create.stderr + create.stdout).join(' | ')}`)
  // An ACL removed takes effect.
  await acls('--remove', '--force', '--allow-principal', 'User:alice', '--consumer', '--topic', 'orders', '--group', 'g-alice')
  log.push(await pyOutcome(t, 'alice', 'orders', 'consume', {'group.id': 'g-alice', 'enable.auto.commit': 'false'}))
  log.push(aclListing(await acls('--list', '--topic', 'orders')))
  return log
}

test('the same ACL scenario gives the same outcomes on kafkit and on Apache Kafka 3.9', {skip, timeout: 300000}, async () => {
  const [k, a] = await Promise.all([
    scenario({name: 'kafkit', addr: l => kafkit.addr(l)}),
    scenario({name: 'apache', addr: l => apache.addr(l)}),
  ])
  assert.deepEqual(k, a)
  // And the outcomes are the intended ones (not merely equal).
  const text = k.join('\n')
  assert.match(text, /alice@SASL_PLAINTEXT consume orders: delivered=0 consumed=1$/m)
  assert.match(text, /alice@SSL consume orders: delivered=0 consumed=1$/m)
  assert.match(text, /alice@SASL_PLAINTEXT produce orders: delivered=0 consumed=0 errors=TOPIC_AUTHORIZATION_FAILED/)
  assert.match(text, /bob@SASL_PLAINTEXT produce logs-app: delivered=1/)
  assert.match(text, /bob@SASL_PLAINTEXT produce other: delivered=0 .*TOPIC_AUTHORIZATION_FAILED/)
  assert.match(text, /carol@SASL_PLAINTEXT produce secret: delivered=1/)
  assert.match(text, /carol@SASL_PLAINTEXT consume secret: .*consumed=0 errors=.*TOPIC_AUTHORIZATION_FAILED/)
  assert.match(text, /bob@SASL_PLAINTEXT consume logs-app: .*GROUP_AUTHORIZATION_FAILED/)
  assert.match(text, /alice sees topics: orders$/m)
  // The Java producer is idempotent by default: without WRITE on any topic (or IDEMPOTENT_WRITE) InitProducerId is refused.
  assert.match(text, /java producer alice: errors=org\.apache\.kafka\.common\.errors\.ClusterAuthorizationException: Cluster authorization failed\./)
  assert.match(text, /java consumer alice: exit=0 out="message-0\\n"/)
  assert.match(text, /java kafka-topics --create alice: exit=1 errors=.*(Authorization failed|TopicAuthorizationException)/)
  assert.match(text, /admin@SASL_PLAINTEXT produce secret: delivered=1/)
})

test('ACLs are kept in ZooKeeper where Kafka keeps them, and kafkit reads ACLs Apache\'s tools wrote there', {skip}, async () => {
  const {ZkClient} = await import('../../src/core/cluster/zk.js')
  const c = await ZkClient.connect(`${zk.connect}/kafkit`, {sessionTimeoutMs: 6000, connectionTimeoutMs: 6000})
  try {
    const lit = await c.getJson<{version: number; acls: object[]}>('/kafka-acl/Topic/secret')
    assert.deepEqual(lit?.value.version, 1)
    assert.deepEqual(new Set(lit?.value.acls.map(a => JSON.stringify(a))), new Set([
      JSON.stringify({principal: 'User:carol', permissionType: 'Allow', operation: 'All', host: '*'}),
      JSON.stringify({principal: 'User:carol', permissionType: 'Deny', operation: 'Read', host: '*'}),
    ]))
    const pre = await c.getJson<{acls: {operation: string}[]}>('/kafka-acl-extended/prefixed/Topic/logs-')
    assert.deepEqual(pre?.value.acls.map(a => a.operation).sort(), ['Describe', 'Write'])
    assert.ok((await c.getChildren('/kafka-acl-changes'))!.some(n => n.startsWith('acl_changes_')))
    assert.ok((await c.getChildren('/kafka-acl-extended-changes'))!.some(n => n.startsWith('acl_changes_')))
    // An ACL written straight to ZooKeeper with a change notification (as an old kafka-acls --authorizer-properties would) takes effect.
    await c.create('/kafka-acl/Topic/other', JSON.stringify({version: 1, acls: [{principal: 'User:bob', permissionType: 'Allow', operation: 'Write', host: '*'}]}))
    await c.create('/kafka-acl-changes/acl_changes_', 'Topic:other', {sequential: true})
    const {waitFor} = await import('../helpers/util.js')
    await waitFor(async () => (await pyClient(kafkit.addr('SASL_PLAINTEXT'), 'other', 1, 'produce', {...sasl('bob'), 'test.timeout.s': 5})).delivered === 1, 20000, 'bob to be allowed to write to other')
  } finally {
    await c.close()
  }
})

/** Lines of two transcripts that differ, side by side (for a readable failure). */
function transcriptDiff(k: string[], a: string[]): string {
  const out: string[] = []
  for (let i = 0; i < Math.max(k.length, a.length); i++) if (k[i] !== a[i]) out.push(`kafkit: ${k[i]}\napache: ${a[i]}`)
  return out.join('\n\n')
}

test('admin, transactional and host-restricted ACLs: the same responses on kafkit and on Apache Kafka 3.9', {skip, timeout: 180000}, async () => {
  const [k, a] = await Promise.all([
    apiScenario(kafkit.ports.SASL_PLAINTEXT, USERS.admin, '0').catch(e => { throw new Error(`kafkit: ${e.message}`) }),
    apiScenario(apache.ports.SASL_PLAINTEXT, USERS.admin, '0').catch(e => { throw new Error(`apache: ${e.message}`) }),
  ])
  assert.equal(transcriptDiff(k, a), '')
  const text = k.join('\n')
  // Host-restricted: READ from 127.0.0.1 granted, from 10.9.9.9 not; DENY for 127.0.0.1 wins.
  assert.match(text, /^dave ListOffsets: .*"name":"h-a","partitions":\[\{"partitionIndex":0,"errorCode":0,/m)
  assert.match(text, /^dave ListOffsets: .*"name":"h-b","partitions":\[\{"partitionIndex":0,"errorCode":29,/m)
  assert.match(text, /^dave Produce: .*"name":"h-a","partitionResponses":\[\{[^}]*"errorCode":0,/m)
  assert.match(text, /^dave Produce: .*"name":"h-c","partitionResponses":\[\{[^}]*"errorCode":29,/m)
  assert.match(text, /^dave JoinGroup g-dave: \{"errorCode":30,/m)
  assert.match(text, /^erin InitProducerId tx-none: \{"errorCode":53,/m)
  assert.match(text, /^erin InitProducerId tx-erin: \{"errorCode":0,/m)
  assert.match(text, /^grace InitProducerId idempotent: \{"errorCode":0,/m)
  assert.match(text, /^frank InitProducerId idempotent: \{"errorCode":31,/m)
  assert.match(text, /^frank ElectLeaders: \{"errorCode":31,/m)
  assert.match(text, /^erin DescribeTransactions: .*"transactionalId":"tx-shared","transactionState":"Ongoing",[^\]]*"topics":\[\{"topic":"h-a","partitions":\[0\]\}\]/m)
  assert.match(text, /^frank DescribeGroups: .*\{"errorCode":30,"groupId":"g-other"/m)
  assert.match(text, /^frank ListGroups: \{"errorCode":0,"groups":\[\{"groupId":"g-erin"[^\]]*\{"groupId":"g-frank"[^\]]*\]\}$/m)
  assert.match(text, /^frank CreateAcls: .*"errorCode":31,/m)
})

test('allow.everyone.if.no.acl.found=true: the same responses on kafkit and on Apache Kafka 3.9', {skip, timeout: 240000}, async () => {
  const cfg = [...brokerConfig(), 'allow.everyone.if.no.acl.found=true']
  const only = {SASL_PLAINTEXT: 'SASL_PLAINTEXT'}
  const [k2, a2] = await Promise.all([startSecureBroker(`${zk.connect}/kafkit2`, only, cfg), startApacheBroker(`${zk.connect}/apache2`, only, cfg)])
  try {
    const {waitFor} = await import('../helpers/util.js')
    await waitFor(async () => / 1 brokers:/.test((await exec(KCAT, ['-L', '-b', a2.addr('SASL_PLAINTEXT'), '-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=admin', '-X', 'sasl.password=admin-secret', '-m', '5'])).stdout), 60000, 'Apache Kafka to list itself in Metadata')
    const [k, a] = await Promise.all([allowEveryoneScenario(k2.ports.SASL_PLAINTEXT, USERS.admin), allowEveryoneScenario(a2.ports.SASL_PLAINTEXT, USERS.admin)])
    assert.equal(transcriptDiff(k, a), '')
    const text = k.join('\n')
    assert.match(text, /^dave Produce: .*"name":"open","partitionResponses":\[\{[^}]*"errorCode":0,/m)
    assert.match(text, /^dave Produce: .*"name":"closed","partitionResponses":\[\{[^}]*"errorCode":29,/m)
    assert.match(text, /^dave OffsetCommit g-closed: .*"errorCode":30/m)
  } finally {
    await k2.cleanup()
    await a2.stop()
  }
})
