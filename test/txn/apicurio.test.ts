// Apicurio Registry 3.3 (a schema registry that keeps its schemas in Kafka: storage kind kafkasql,
// a journal topic replayed into an in-memory database at every start) on a 3-broker kafkit
// cluster. The registry creates its topics (replication factor 3, min.insync.replicas 2) and
// checks them with DescribeConfigs before it starts (it refuses a journal that is compacted or has
// a retention limit); then an Avro and a JSON schema go in through its own REST API (v3) and two
// more through the Confluent-compatible one (ccompat v7, with a compatibility rule that rejects an
// incompatible version), are read back, survive a restart of the registry (a replay of the
// journal), then a kill -9 of the journal's leader with a schema registered while it is down and
// a second restart. kafkit's kafka-topics, kafka-configs and kafka-console-consumer show the
// journal as the registry wrote it.
// Needs scripts/fetch-apicurio.sh (the ready-built app in ~/.cache/apicurio-registry-3.3 and the
// path of a Java 21+ in its file `java`); skipped, saying so, when it has not been run.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, runCommand, waitFor, Proc} from '../helpers/util.js'
import {startTxnCluster, type TxnCluster} from './helpers.js'

const VERSION = '3.3.3'
const HOME = join(homedir(), '.cache', 'apicurio-registry-3.3')
const RUN_JAR = join(HOME, 'quarkus-app', 'quarkus-run.jar')
const JOURNAL = 'kafkasql-journal'
const missing = existsSync(join(HOME, `.complete-${VERSION}`)) && existsSync(join(HOME, 'java'))
  ? false
  : `Apicurio Registry ${VERSION} is not in ${HOME} (run scripts/fetch-apicurio.sh)`

let cluster: TxnCluster | undefined
let registry: Proc | null = null
let httpPort = 0
let managementPort = 0

before(async () => {
  if (missing) return
  cluster = await startTxnCluster(3)
  httpPort = await freePort()
  managementPort = await freePort()
})

after(async () => {
  await registry?.stop('SIGKILL')
  await cluster?.stop()
})

/** Starts the registry on the cluster and waits for its readiness check (the journal replayed). */
async function startRegistry(): Promise<Proc> {
  const java = readFileSync(join(HOME, 'java'), 'utf8').trim()
  const env = {
    ...process.env,
    APICURIO_STORAGE_KIND: 'kafkasql',
    APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: cluster!.bootstrap,
    QUARKUS_HTTP_HOST: '127.0.0.1',
    QUARKUS_HTTP_PORT: String(httpPort),
    QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
    QUARKUS_MANAGEMENT_PORT: String(managementPort),
    QUARKUS_HTTP_ACCESS_LOG_ENABLED: 'false',
  }
  const proc = new Proc(spawn(java, ['-Xmx384m', '-XX:TieredStopAtLevel=1', '-jar', RUN_JAR], {cwd: cluster!.dir, env, stdio: ['ignore', 'pipe', 'pipe']}))
  registry = proc
  // A registry that refuses to start (a topic check failed, say) exits or logs why: fail at once.
  const refused = () => proc.child.exitCode !== null || proc.child.signalCode !== null || /RuntimeAssertionFailedException/.test(proc.output)
  await waitFor(async () => {
    if (refused()) return true
    const r = await fetch(`http://127.0.0.1:${managementPort}/health/ready`).catch(() => null)
    return r !== null && r.status === 200 && (await r.json() as {status: string}).status === 'UP'
  }, 180000, 'the registry\'s readiness check', 500).catch(error => {
    throw new Error(`${(error as Error).message}\nregistry output: ${proc.output.slice(-4000)}`)
  })
  if (refused()) throw new Error(`the registry did not start (exit ${proc.child.exitCode}): ${proc.output.slice(-4000)}`)
  return proc
}

interface Reply {
  status: number
  body: any
  text: string
}

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, {method, headers: body === undefined ? {} : {'Content-Type': contentType}, body: body === undefined ? undefined : JSON.stringify(body)})
  const text = await r.text()
  let parsed: unknown = null
  try { parsed = JSON.parse(text) } catch { /* raw content */ }
  return {status: r.status, body: parsed, text}
}

async function ok(method: string, path: string, body?: unknown, contentType?: string): Promise<Reply> {
  const r = await call(method, path, body, contentType)
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`)
  return r
}

const CCOMPAT = 'application/vnd.schemaregistry.v1+json'
const userAvro = JSON.stringify({type: 'record', name: 'User', namespace: 'kafkit.test', fields: [{name: 'name', type: 'string'}, {name: 'age', type: 'int'}]})
const orderJson = JSON.stringify({$schema: 'http://json-schema.org/draft-07/schema#', title: 'Order', type: 'object', properties: {id: {type: 'integer'}, item: {type: 'string'}}, required: ['id']})
const paymentV1 = JSON.stringify({type: 'record', name: 'Payment', fields: [{name: 'amount', type: 'double'}]})
// Adds a field with a default: backward compatible.
const paymentV2 = JSON.stringify({type: 'record', name: 'Payment', fields: [{name: 'amount', type: 'double'}, {name: 'currency', type: 'string', default: 'EUR'}]})
// Adds a field without a default: not backward compatible.
const paymentBad = JSON.stringify({type: 'record', name: 'Payment', fields: [{name: 'amount', type: 'double'}, {name: 'payer', type: 'string'}]})
const paymentV3 = JSON.stringify({type: 'record', name: 'Payment', fields: [{name: 'amount', type: 'double'}, {name: 'currency', type: 'string', default: 'EUR'}, {name: 'note', type: ['null', 'string'], default: null}]})
const shipmentJson = JSON.stringify({type: 'object', properties: {tracking: {type: 'string'}}})

const v3 = (path: string) => `/apis/registry/v3${path}`
const cc = (path: string) => `/apis/ccompat/v7${path}`

/** Reads every schema back through both APIs; returns the ccompat ids by subject and version. */
async function readBack(expectPaymentVersions: string[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>()
  assert.equal((await ok('GET', v3('/groups/default/artifacts/user/versions/1/content'))).text, userAvro)
  assert.equal((await ok('GET', v3('/groups/default/artifacts/order/versions/1/content'))).text, orderJson)
  // Both APIs share one store: the v3 listing shows the ccompat subjects as artifacts too.
  const list = await ok('GET', v3('/groups/default/artifacts'))
  assert.deepEqual(list.body.artifacts.map((a: {artifactId: string; artifactType: string}) => `${a.artifactId}:${a.artifactType}`).sort(), ['order:JSON', 'payment-value:AVRO', 'shipment-value:JSON', 'user:AVRO'])
  const subjects = (await ok('GET', cc('/subjects'))).body as string[]
  for (const s of ['payment-value', 'shipment-value']) assert.ok(subjects.includes(s), `ccompat subjects ${JSON.stringify(subjects)}`)
  const versions = (await ok('GET', cc('/subjects/payment-value/versions'))).body as number[]
  assert.deepEqual(versions.map(String), expectPaymentVersions.map((_, i) => String(i + 1)))
  for (const [i, schema] of expectPaymentVersions.entries()) {
    const v = (await ok('GET', cc(`/subjects/payment-value/versions/${i + 1}`))).body
    assert.equal(v.schema, schema, `payment-value version ${i + 1}`)
    ids.set(`payment-value/${i + 1}`, v.id)
    assert.equal((await ok('GET', cc(`/schemas/ids/${v.id}`))).body.schema, schema)
  }
  const ship = (await ok('GET', cc('/subjects/shipment-value/versions/latest'))).body
  assert.equal(ship.schema, shipmentJson)
  assert.equal(ship.schemaType, 'JSON')
  ids.set('shipment-value/1', ship.id)
  // And the Avro schema registered through v3 is a ccompat subject.
  const user = (await ok('GET', cc('/subjects/user/versions/latest'))).body
  assert.equal(user.schema, userAvro)
  const cfg = (await ok('GET', cc('/config/payment-value'))).body
  assert.equal(cfg.compatibilityLevel, 'BACKWARD')
  return ids
}

async function topicDescribe(): Promise<string> {
  const r = await runCommand('kafka-topics', ['--bootstrap-server', cluster!.bootstrap, '--describe', '--topic', JOURNAL])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return r.stdout
}

async function journal(): Promise<string[]> {
  const r = await runCommand('kafka-console-consumer', ['--bootstrap-server', cluster!.bootstrap, '--topic', JOURNAL, '--from-beginning', '--timeout-ms', '5000', '--property', 'print.headers=true', '--property', 'print.key=true'], {timeoutMs: 60000})
  return r.stdout.split('\n').filter(l => l.length > 0)
}

test(`Apicurio Registry ${VERSION} with kafkasql storage: topics checked and created, Avro and JSON schemas through v3 and ccompat, kept across restarts and a kill -9 of the journal's leader`, {skip: missing, timeout: 600000}, async t => {
  await startRegistry()
  assert.match(registry!.output, /Using Kafka-SQL artifactStore/)
  // Its own REST API (v3): an Avro and a JSON schema.
  const user = await ok('POST', v3('/groups/default/artifacts'), {artifactId: 'user', artifactType: 'AVRO', firstVersion: {content: {content: userAvro, contentType: 'application/json'}}})
  assert.equal(user.body.version.version, '1')
  await ok('POST', v3('/groups/default/artifacts'), {artifactId: 'order', artifactType: 'JSON', firstVersion: {content: {content: orderJson, contentType: 'application/json'}}})
  // The Confluent-compatible API: an Avro subject under a BACKWARD rule, and a JSON one.
  const p1 = await ok('POST', cc('/subjects/payment-value/versions'), {schema: paymentV1}, CCOMPAT)
  assert.equal(typeof p1.body.id, 'number')
  await ok('PUT', cc('/config/payment-value'), {compatibility: 'BACKWARD'}, CCOMPAT)
  const check = await ok('POST', cc('/compatibility/subjects/payment-value/versions/latest'), {schema: paymentBad}, CCOMPAT)
  assert.equal(check.body.is_compatible, false)
  const bad = await call('POST', cc('/subjects/payment-value/versions'), {schema: paymentBad}, CCOMPAT)
  assert.equal(bad.status, 409, `an incompatible version is rejected: ${bad.text}`)
  const p2 = await ok('POST', cc('/subjects/payment-value/versions'), {schema: paymentV2}, CCOMPAT)
  assert.notEqual(p2.body.id, p1.body.id)
  // Registering the same schema again gives the same id (the registry looks it up, no new version).
  assert.equal((await ok('POST', cc('/subjects/payment-value/versions'), {schema: paymentV2}, CCOMPAT)).body.id, p2.body.id)
  await ok('POST', cc('/subjects/shipment-value/versions'), {schema: shipmentJson, schemaType: 'JSON'}, CCOMPAT)
  const before = await readBack([paymentV1, paymentV2])

  // The journal: created by the registry with 3 replicas, min.insync.replicas 2, never deleted or
  // compacted (the registry checked these through DescribeConfigs before it started).
  const described = await topicDescribe()
  assert.match(described, /PartitionCount: 1\tReplicationFactor: 3\t/, described)
  for (const c of ['cleanup.policy=delete', 'retention.ms=-1', 'retention.bytes=-1', 'min.insync.replicas=2']) assert.ok(described.includes(c), `${c} in ${described}`)
  const records = await journal()
  const types = records.map(l => /mt:([A-Za-z0-9]+)/.exec(l)?.[1] ?? '?')
  assert.ok(types.includes('Bootstrap'), types.join(' '))
  for (const s of ['"artifactId":"user"', '"artifactId":"order"', '"artifactId":"payment-value"', '"artifactId":"shipment-value"']) {
    assert.ok(records.some(l => l.includes(s)), `${s} in the journal: ${records.join('\n').slice(0, 3000)}`)
  }

  // A restart replays the journal: everything is back, with the same ids.
  await registry!.stop('SIGTERM')
  let t0 = Date.now()
  await startRegistry()
  const restart1 = Date.now() - t0
  assert.deepEqual(await readBack([paymentV1, paymentV2]), before)

  // kill -9 the journal's leader; a schema registered while it is down, then a second restart.
  const leader = Number(/Partition: 0\tLeader: (\d+)/.exec(described)![1])
  await cluster!.brokers[leader].stop('SIGKILL')
  await waitFor(async () => {
    const d = await topicDescribe()
    const l = /Partition: 0\tLeader: (-?\d+)/.exec(d)
    return l !== null && Number(l[1]) !== leader && Number(l[1]) >= 0
  }, 60000, 'a new leader for the journal')
  const p3 = await waitFor(async () => {
    const r = await call('POST', cc('/subjects/payment-value/versions'), {schema: paymentV3}, CCOMPAT)
    return r.status === 200 ? r : null
  }, 60000, 'a schema registered with the journal\'s old leader down', 1000)
  const afterKill = await readBack([paymentV1, paymentV2, paymentV3])
  await cluster!.brokers[leader].start()
  await registry!.stop('SIGTERM')
  t0 = Date.now()
  await startRegistry()
  const restart2 = Date.now() - t0
  const final = await readBack([paymentV1, paymentV2, paymentV3])
  assert.deepEqual(final, afterKill)
  assert.equal(final.get('payment-value/3'), p3!.body.id)
  const after = await journal()
  assert.ok(after.some(l => l.includes('\\"currency\\"') && l.includes('\\"note\\"')), 'the schema registered during the broker kill is in the journal')
  t.diagnostic(`apicurio ${VERSION}: 4 subjects, ${final.size + 2} schema versions; journal ${after.length} records (${[...new Set(after.map(l => /mt:([A-Za-z0-9]+)/.exec(l)?.[1] ?? '?'))].join(', ')}); restarts ready in ${restart1} ms and ${restart2} ms; broker ${leader} (journal leader) killed`)
})
