// SASL/SCRAM-SHA-256 and SCRAM-SHA-512: users created with Apache Kafka 3.9's kafka-configs,
// both ways Kafka offers (--zookeeper writes /config/users/<user> itself; --bootstrap-server
// sends AlterUserScramCredentials to kafkit), described with DescribeUserScramCredentials, used
// by kcat, confluent-kafka, kafkajs and the Java console tools over SASL_PLAINTEXT and SASL_SSL;
// wrong passwords and unknown users refused with Kafka's message; a deleted credential stops
// working on the next login.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {Kafka, logLevel} from 'kafkajs'
import {removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, type CertFiles} from './certs.js'
import {startSecureBroker, apacheTool, apacheSkip, clientProps, pyClient, scratch, KCAT, type SecureBroker} from './helpers.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : apacheSkip()
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule'
let zk: ApacheZooKeeper
let broker: SecureBroker
let certs: CertFiles
let dir: string

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT', SASL_SSL: 'SASL_SSL'}, [
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${SCRAM} required username="admin" password="admin-secret";`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${SCRAM} required username="admin" password="admin-secret";`,
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${SCRAM} required;`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${SCRAM} required;`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.brokerPem}`,
  ])
  // alice: written to ZooKeeper by the tool itself, as Kafka's bootstrap procedure does.
  const a = await apacheTool('kafka-configs', ['--zookeeper', zk.connect, '--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]', '--entity-type', 'users', '--entity-name', 'alice'])
  assert.equal(a.code, 0, a.stderr)
  assert.match(a.stdout, /Completed updating config for entity: user-principal 'alice'\./)
  // bob: through the broker (AlterUserScramCredentials).
  const b = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--alter', '--add-config', 'SCRAM-SHA-512=[password=bob-secret]', '--entity-type', 'users', '--entity-name', 'bob'])
  assert.equal(b.code, 0, b.stderr)
  assert.match(b.stdout, /Completed updating config for user bob\./)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const kcatScram = (mech: string, user: string, pw: string, proto = 'sasl_plaintext') => ['-X', `security.protocol=${proto}`, '-X', `sasl.mechanisms=${mech}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${pw}`]

test('kafka-configs --describe lists the users\' SCRAM mechanisms and iterations (DescribeUserScramCredentials)', {skip}, async () => {
  const all = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--describe', '--entity-type', 'users'])
  assert.equal(all.code, 0, all.stderr)
  assert.match(all.stdout, /SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096/)
  assert.match(all.stdout, /SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096/)
  const one = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--describe', '--entity-type', 'users', '--entity-name', 'bob'])
  assert.equal(one.code, 0, one.stderr)
  assert.doesNotMatch(one.stdout, /alice/)
})

test('kcat with SCRAM-SHA-256 and SCRAM-SHA-512: produce and consume; wrong password and unknown user refused with Kafka\'s message', {skip}, async () => {
  const p = await exec(KCAT, ['-P', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'scram-kcat', ...kcatScram('SCRAM-SHA-256', 'alice', 'alice-secret')], {input: 's1\ns2\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await exec(KCAT, ['-C', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'scram-kcat', '-e', '-o', 'beginning', ...kcatScram('SCRAM-SHA-512', 'bob', 'bob-secret')])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 's1\ns2\n')
  for (const [mech, user, pw] of [['SCRAM-SHA-256', 'alice', 'wrong'], ['SCRAM-SHA-512', 'nobody', 'x'], ['SCRAM-SHA-256', 'bob', 'bob-secret']]) {
    const r = await exec(KCAT, ['-L', '-b', broker.addr('SASL_PLAINTEXT'), ...kcatScram(mech, user, pw), '-m', '3'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${mech}`), `${mech} ${user}: ${r.stderr}`)
  }
  assert.match(broker.proc.output, /Failed authentication with \/127\.0\.0\.1 \(channelId=[^)]+\) \(Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512\)/)
})

test('confluent-kafka over SASL_SSL with SCRAM-SHA-512', {skip}, async () => {
  const r = await pyClient(broker.addr('SASL_SSL'), 'scram-py', 10, 'roundtrip', {'security.protocol': 'SASL_SSL', 'ssl.ca.location': certs.caPem, 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': 'alice-secret'})
  assert.deepEqual(r.errors, [])
  assert.equal(r.consumed, 10)
})

test('kafkajs with SCRAM-SHA-256 over SASL_SSL', {skip}, async () => {
  const kafka = new Kafka({clientId: 'scram-js', brokers: [broker.addr('SASL_SSL')], ssl: {ca: [readFileSync(certs.caPem, 'utf8')]}, sasl: {mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret'}, logLevel: logLevel.NOTHING, retry: {retries: 2}})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: 'scram-js', numPartitions: 1}]})
  assert.ok((await admin.listTopics()).includes('scram-js'))
  await admin.disconnect()
})

test('Apache Kafka 3.9 console tools over SASL_SSL with SCRAM-SHA-512', {skip}, async () => {
  const props = clientProps(dir, 'java-scram', {
    'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': `${SCRAM} required username="bob" password="bob-secret";`,
    'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem,
  })
  const p = await apacheTool('kafka-console-producer', ['--bootstrap-server', broker.addr('SASL_SSL'), '--topic', 'scram-java', '--producer.config', props], {input: 'b1\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await apacheTool('kafka-console-consumer', ['--bootstrap-server', broker.addr('SASL_SSL'), '--topic', 'scram-java', '--from-beginning', '--max-messages', '1', '--consumer.config', props, '--timeout-ms', '20000'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'b1\n')
})

test('a deleted credential stops working (the change notification reaches the broker)', {skip}, async () => {
  const d = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--alter', '--delete-config', 'SCRAM-SHA-512', '--entity-type', 'users', '--entity-name', 'bob'])
  assert.equal(d.code, 0, d.stderr)
  const r = await exec(KCAT, ['-L', '-b', broker.addr('SASL_PLAINTEXT'), ...kcatScram('SCRAM-SHA-512', 'bob', 'bob-secret'), '-m', '3'])
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, /invalid credentials with SASL mechanism SCRAM-SHA-512/)
  const gone = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--describe', '--entity-type', 'users', '--entity-name', 'bob'])
  assert.doesNotMatch(gone.stdout, /SCRAM-SHA-512=iterations/)
})
