// kafkit's own tools as secured clients: kafka-topics, kafka-console-producer and
// kafka-console-consumer with security.protocol, ssl.* (PEM, PKCS12 and JKS trust stores, a
// PKCS12/PEM key store for mutual TLS) and sasl.* (PLAIN, SCRAM-SHA-256/512) from
// --command-config / --producer.config / --consumer.config / --*-property, against kafkit's
// secured broker and against Apache Kafka 3.9's with the same client files. A wrong password,
// an unknown mechanism and an untrusted certificate give Kafka's one-line error and exit 1.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, removeDir, type RunResult} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD, type CertFiles} from './certs.js'
import {startSecureBroker, startApacheBroker, apacheTool, apacheSkip, clientProps, scratch, type SecureBroker} from './helpers.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : apacheSkip()
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule'
const OAUTH = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule'
let zk: ApacheZooKeeper
let broker: SecureBroker
let certs: CertFiles
let dir: string

const brokerSasl = (listener: string) => [
  `listener.name.${listener}.plain.sasl.jaas.config=${PLAIN} required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`,
  `listener.name.${listener}.scram-sha-256.sasl.jaas.config=${SCRAM} required;`,
  `listener.name.${listener}.scram-sha-512.sasl.jaas.config=${SCRAM} required;`,
]

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SSL: 'SSL', SASL_PLAINTEXT: 'SASL_PLAINTEXT', SASL_SSL: 'SASL_SSL', MTLS: 'SSL'}, [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    ...brokerSasl('sasl_plaintext'), ...brokerSasl('sasl_ssl'),
    `listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=${OAUTH} required unsecuredLoginStringClaim_sub="admin";`,
    `listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=${OAUTH} required unsecuredLoginStringClaim_sub="admin";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.brokerPem}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.caPem}`,
    'listener.name.mtls.ssl.client.auth=required',
  ])
  const a = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--alter', '--add-config', 'SCRAM-SHA-256=[password=alice-secret],SCRAM-SHA-512=[password=alice-secret]', '--entity-type', 'users', '--entity-name', 'alice'])
  assert.equal(a.code, 0, a.stderr)
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const sasl = (mechanism: string, user = 'alice', password = 'alice-secret') => ({
  'sasl.mechanism': mechanism,
  'sasl.jaas.config': `${mechanism === 'PLAIN' ? PLAIN : SCRAM} required username="${user}" password="${password}";`,
})

/** Client configurations: name -> [listener, properties]. */
function configs(): Record<string, [string, Record<string, string>]> {
  const out: Record<string, [string, Record<string, string>]> = {
    'ssl-pem-truststore': ['SSL', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem}],
    'sasl-plaintext-plain': ['SASL_PLAINTEXT', {'security.protocol': 'SASL_PLAINTEXT', ...sasl('PLAIN')}],
    'sasl-plaintext-scram-256': ['SASL_PLAINTEXT', {'security.protocol': 'SASL_PLAINTEXT', ...sasl('SCRAM-SHA-256')}],
    'sasl-ssl-scram-512': ['SASL_SSL', {'security.protocol': 'SASL_SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, ...sasl('SCRAM-SHA-512')}],
    'sasl-ssl-plain': ['SASL_SSL', {'security.protocol': 'SASL_SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, ...sasl('PLAIN')}],
    'sasl-plaintext-oauthbearer': ['SASL_PLAINTEXT', {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'OAUTHBEARER', 'sasl.jaas.config': `${OAUTH} required unsecuredLoginStringClaim_sub="alice";`}],
    'mtls-pem-keystore': ['MTLS', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs.client('alice').pem}],
  }
  if (haveKeytool()) {
    out['ssl-pkcs12-truststore'] = ['SSL', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': certs.trustP12, 'ssl.truststore.password': STORE_PASSWORD}]
    out['ssl-jks-truststore'] = ['SSL', {'security.protocol': 'SSL', 'ssl.truststore.location': certs.trustJks, 'ssl.truststore.password': STORE_PASSWORD}]
  }
  return out
}

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`)
}

/** kafka-topics --create/--list, console producer, console consumer through one client config. */
async function roundTrip(bootstrap: string, name: string, file: string): Promise<void> {
  const topic = `sec-${name}`
  const c = await runCommand('kafka-topics', ['--bootstrap-server', bootstrap, '--command-config', file, '--create', '--topic', topic, '--partitions', '2'])
  ok(c, `${name}: kafka-topics --create`)
  assert.equal(c.stdout, `Created topic ${topic}.\n`)
  const l = await runCommand('kafka-topics', ['--bootstrap-server', bootstrap, '--command-config', file, '--list'])
  ok(l, `${name}: kafka-topics --list`)
  assert.ok(l.stdout.split('\n').includes(topic), l.stdout)
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', bootstrap, '--producer.config', file, '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=:'], {input: 'k:one\nk:two\nk:three\n'})
  ok(p, `${name}: console producer`)
  const r = await runCommand('kafka-console-consumer', ['--bootstrap-server', bootstrap, '--consumer.config', file, '--topic', topic, '--from-beginning', '--max-messages', '3', '--group', `g-${name}`])
  ok(r, `${name}: console consumer`)
  assert.equal(r.stdout, 'one\ntwo\nthree\n')
  assert.match(r.stderr, /Processed a total of 3 messages/)
}

test('kafka-topics, console producer and console consumer over SSL, SASL_PLAINTEXT and SASL_SSL (PLAIN, SCRAM, OAUTHBEARER), trust stores in PEM, PKCS12 and JKS, mutual TLS', {skip}, async () => {
  for (const [name, [listener, props]] of Object.entries(configs())) {
    await roundTrip(broker.addr(listener), name, clientProps(dir, name, props))
  }
})

test('the security keys as --producer-property / --consumer-property (taking precedence over the config file)', {skip}, async () => {
  const bad = clientProps(dir, 'props-bad', {'security.protocol': 'SASL_PLAINTEXT', ...sasl('PLAIN', 'alice', 'wrong')})
  const jaas = `sasl.jaas.config=${PLAIN} required username="alice" password="alice-secret";`
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--producer.config', bad, '--producer-property', jaas, '--topic', 'sec-props'], {input: 'p1\np2\n'})
  ok(p, 'console producer')
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--consumer-property', 'security.protocol=SASL_PLAINTEXT', '--consumer-property', 'sasl.mechanism=PLAIN', '--consumer-property', jaas, '--topic', 'sec-props', '--from-beginning', '--max-messages', '2'])
  ok(c, 'console consumer')
  assert.equal(c.stdout, 'p1\np2\n')
})

test('a JAAS file in KAFKA_OPTS (KafkaClient section); kafka-consumer-groups and kafka-producer-perf-test with the same config', {skip}, async () => {
  const jaas = join(dir, 'client_jaas.conf')
  writeFileSync(jaas, `KafkaClient {\n  ${SCRAM} required\n  username="alice"\n  password="alice-secret";\n};\n`)
  const env = {KAFKA_OPTS: `-Djava.security.auth.login.config=${jaas}`}
  const file = clientProps(dir, 'jaas-file', {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-512'})
  const l = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--command-config', file, '--list'], {env})
  ok(l, 'kafka-topics with a JAAS file')
  assert.match(l.stdout, /^sec-sasl-plaintext-plain$/m)
  const scram = clientProps(dir, 'tools-scram', configs()['sasl-ssl-scram-512'][1])
  const perf = await runCommand('kafka-producer-perf-test', ['--topic', 'sec-perf', '--num-records', '200', '--record-size', '20', '--throughput', '-1', '--producer.config', scram, '--producer-props', `bootstrap.servers=${broker.addr('SASL_SSL')}`])
  ok(perf, 'kafka-producer-perf-test')
  assert.match(perf.stdout, /^200 records sent, /m)
  const groups = await runCommand('kafka-consumer-groups', ['--bootstrap-server', broker.addr('SASL_SSL'), '--command-config', scram, '--list'])
  ok(groups, 'kafka-consumer-groups --list')
  assert.match(groups.stdout, /^g-sasl-ssl-scram-512$/m)
  const d = await runCommand('kafka-consumer-groups', ['--bootstrap-server', broker.addr('SASL_SSL'), '--command-config', scram, '--describe', '--group', 'g-sasl-ssl-scram-512'])
  ok(d, 'kafka-consumer-groups --describe')
  assert.match(d.stdout, /g-sasl-ssl-scram-512 +sec-sasl-ssl-scram-512 +\d+ +\d+ +\d+ +0 /)
})

test('a wrong password, an unknown user, a mechanism the listener lacks, an untrusted certificate: Kafka\'s error line, exit 1, no hang', {skip}, async () => {
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ['plain-wrong', 'SASL_PLAINTEXT', {'security.protocol': 'SASL_PLAINTEXT', ...sasl('PLAIN', 'alice', 'wrong')}, /Authentication failed: Invalid username or password/],
    ['scram-unknown', 'SASL_SSL', {'security.protocol': 'SASL_SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, ...sasl('SCRAM-SHA-256', 'nobody', 'x')}, /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/],
    ['ssl-untrusted', 'SSL', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.otherCaPem}, /SSL handshake failed/],
    ['mtls-no-cert', 'MTLS', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem}, /SSL handshake failed/],
  ]
  for (const [name, listener, props, expected] of cases) {
    const file = clientProps(dir, name, props)
    const bootstrap = broker.addr(listener)
    const t = await runCommand('kafka-topics', ['--bootstrap-server', bootstrap, '--command-config', file, '--list'], {timeoutMs: 30000})
    assert.equal(t.code, 1, `${name} kafka-topics: ${t.stderr}`)
    assert.match(t.stdout, new RegExp(`^Error while executing topic command : ${expected.source}$`, 'm'), name) // stdout, as Apache's TopicCommand prints it
    assert.match(t.stderr, new RegExp(`ERROR \\[AdminClient clientId=adminclient-1\\] Connection to node -1 \\(/127\\.0\\.0\\.1:\\d+\\) failed authentication due to: ${expected.source}`), name)
    const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', bootstrap, '--consumer.config', file, '--topic', 'sec-props', '--from-beginning'], {timeoutMs: 30000})
    assert.equal(c.code, 1, `${name} consumer: ${c.stderr}`)
    assert.match(c.stderr, new RegExp(`Error processing message, terminating consumer process: org\\.apache\\.kafka\\.common\\.errors\\.(Sasl|Ssl)AuthenticationException: ${expected.source}`), name)
    const p = await runCommand('kafka-console-producer', ['--bootstrap-server', bootstrap, '--producer.config', file, '--topic', 'sec-props'], {input: 'x\n', timeoutMs: 30000})
    assert.equal(p.code, 1, `${name} producer: ${p.stderr}`)
    assert.match(p.stderr, new RegExp(`Error when sending message to topic sec-props with key: null, value: 1 bytes with error: \\(org\\.apache\\.kafka\\.clients\\.producer\\.internals\\.ErrorLoggingCallback\\)\\norg\\.apache\\.kafka\\.common\\.errors\\.(Sasl|Ssl)AuthenticationException: ${expected.source}`), name)
  }
  const m = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--command-config', clientProps(dir, 'gssapi', {'security.protocol': 'sasl_plaintext', 'sasl.jaas.config': `${PLAIN} required username="a" password="b";`}), '--list'])
  assert.equal(m.code, 1)
  assert.match(m.stderr, /sasl\.mechanism=GSSAPI \(Kafka's default\) is not supported/)
  const j = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--command-config', clientProps(dir, 'nojaas', {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN'}), '--list'])
  assert.equal(j.code, 1)
  assert.match(j.stderr, /Could not find a 'KafkaClient' entry in the JAAS configuration\. System property 'java\.security\.auth\.login\.config' is not set/)
  const bp = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr('SSL'), '--command-config', clientProps(dir, 'badproto', {'security.protocol': 'TLS'}), '--list'])
  assert.equal(bp.code, 1)
  assert.match(bp.stderr, /Invalid value TLS for configuration security\.protocol: String must be one of: plaintext, ssl, sasl_plaintext, sasl_ssl/)
  const w = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr('SSL'), '--command-config', clientProps(dir, 'badstore', {'security.protocol': 'SSL', 'ssl.truststore.location': certs.trustP12, 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.password': 'bad-pw-123'}), '--list'])
  assert.equal(w.code, 1)
  assert.equal(w.stderr.trim().split('\n').length, 1, w.stderr)
  assert.match(w.stderr, /ssl\.truststore\.password/)
  assert.doesNotMatch(w.stderr, /bad-pw-123/)
})

test('a PKCS12 key store\'s bundled CA is not a trust anchor: only the trust store is, as for the Java client', {skip: skip || (!haveKeytool() && 'keytool is not installed')}, async () => {
  // alice.p12 bundles the CA that signed the broker's certificate; the PKCS12 trust store names
  // only another CA. Node would trust the bundled CA (it adds a pfx's CAs to the trusted store);
  // Java trusts the trust store alone, so the handshake must fail.
  const keyStore = {'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs.aliceP12, 'ssl.keystore.password': STORE_PASSWORD}
  const wrongTrust = clientProps(dir, 'p12-bundled-ca', {'security.protocol': 'SSL', ...keyStore, 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': certs.otherTrustP12, 'ssl.truststore.password': STORE_PASSWORD})
  for (const listener of ['SSL', 'MTLS']) {
    const t = await runCommand('kafka-topics', ['--bootstrap-server', broker.addr(listener), '--command-config', wrongTrust, '--list'], {timeoutMs: 30000})
    assert.equal(t.code, 1, `${listener}: ${t.stdout}${t.stderr}`)
    assert.match(t.stdout, /^Error while executing topic command : SSL handshake failed$/m, listener)
  }
  const j = await apacheTool('kafka-topics', ['--bootstrap-server', broker.addr('SSL'), '--command-config', wrongTrust, '--list'])
  assert.equal(j.code, 1, `Apache's kafka-topics: ${j.stdout}${j.stderr}`)
  assert.match(j.stdout + j.stderr, /SSL handshake failed/)
  // The same PKCS12 key store with the CA's PKCS12 trust store: mutual TLS works.
  const good = clientProps(dir, 'p12-mtls', {'security.protocol': 'SSL', ...keyStore, 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': certs.trustP12, 'ssl.truststore.password': STORE_PASSWORD})
  await roundTrip(broker.addr('MTLS'), 'mtls-pkcs12-keystore', good)
})

test('the same client files against Apache Kafka 3.9\'s broker (SASL_SSL with PLAIN and SCRAM-SHA-256, SSL)', {skip}, async () => {
  const apache = await startApacheBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SSL: 'SSL', SASL_SSL: 'SASL_SSL'}, [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
    ...brokerSasl('sasl_ssl'),
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${certs.brokerP12}`,
    `ssl.keystore.password=${STORE_PASSWORD}`,
    'zookeeper.connect=' + zk.connect + '/apache',
  ], {brokerId: 7})
  try {
    const u = await apacheTool('kafka-configs', ['--bootstrap-server', apache.addr('PLAINTEXT'), '--alter', '--add-config', 'SCRAM-SHA-256=[password=alice-secret]', '--entity-type', 'users', '--entity-name', 'alice'])
    assert.equal(u.code, 0, u.stderr)
    const all = configs()
    for (const name of ['ssl-pem-truststore', 'sasl-ssl-plain']) await roundTrip(apache.addr(all[name][0]), `apache-${name}`, clientProps(dir, name, all[name][1]))
    const scram = clientProps(dir, 'apache-scram', {'security.protocol': 'SASL_SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, ...sasl('SCRAM-SHA-256')})
    await roundTrip(apache.addr('SASL_SSL'), 'apache-scram', scram)
    const bad = clientProps(dir, 'apache-scram-bad', {'security.protocol': 'SASL_SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem, ...sasl('SCRAM-SHA-256', 'alice', 'nope')})
    const t = await runCommand('kafka-topics', ['--bootstrap-server', apache.addr('SASL_SSL'), '--command-config', bad, '--list'], {timeoutMs: 30000})
    assert.equal(t.code, 1)
    assert.match(t.stdout, /^Error while executing topic command : Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256$/m)
  } finally {
    await apache.stop()
  }
})
