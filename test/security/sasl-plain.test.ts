// SASL/PLAIN: a kafkit broker with SASL_PLAINTEXT (users in
// listener.name.sasl_plaintext.plain.sasl.jaas.config) and SASL_SSL (users in a JAAS file
// given as -Djava.security.auth.login.config in KAFKA_OPTS, as Kafka's scripts take it) serves
// kcat, confluent-kafka, kafkajs and Apache's Java console tools; wrong passwords and unknown
// users get SASL_AUTHENTICATION_FAILED; the v0 handshake with raw tokens works; requests before
// the handshake, oversized tokens, garbage and clients stuck mid-handshake cost their own
// connection (one log line each); secrets appear neither in the log nor in DescribeConfigs.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {waitFor, removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, type CertFiles} from './certs.js'
import {startSecureBroker, apacheTool, apacheSkip, clientProps, pyClient, scratch, KCAT, type SecureBroker} from './helpers.js'
import {RawConn, requestFrame, decodeResponse, sizePrefixed, plainToken} from './raw.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : false
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
let zk: ApacheZooKeeper
let broker: SecureBroker
let certs: CertFiles
let dir: string

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  const jaas = join(dir, 'kafka_server_jaas.conf')
  writeFileSync(jaas, `// the SASL_SSL listener's users\nsasl_ssl.KafkaServer {\n  ${PLAIN} required\n  username="admin"\n  password="admin-secret"\n  user_admin="admin-secret"\n  user_carol="carol-secret";\n};\n`)
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT', SASL_SSL: 'SASL_SSL'}, [
    'sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${PLAIN} required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.brokerPem}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.caPem}`,
    'listener.name.sasl_ssl.ssl.client.auth=requested',
    'connections.max.idle.ms=1500',
  ], {env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${jaas}`}})
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const kcatPlain = (user: string, pw: string) => ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${pw}`]

test('kcat over SASL_PLAINTEXT with PLAIN: produce and consume; a wrong password and an unknown user are refused', {skip}, async () => {
  const p = await exec(KCAT, ['-P', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'plain-kcat', ...kcatPlain('alice', 'alice-secret')], {input: 'one\ntwo\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await exec(KCAT, ['-C', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'plain-kcat', '-e', '-o', 'beginning', ...kcatPlain('admin', 'admin-secret')])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'one\ntwo\n')
  const before = broker.proc.output.length
  for (const [user, pw] of [['alice', 'wrong'], ['mallory', 'alice-secret']]) {
    const r = await exec(KCAT, ['-L', '-b', broker.addr('SASL_PLAINTEXT'), ...kcatPlain(user, pw), '-m', '3'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /SASL authentication error: Authentication failed: Invalid username or password/)
  }
  await waitFor(() => broker.proc.output.slice(before).includes('Failed authentication with /127.0.0.1'), 5000, 'the failure line')
  assert.match(broker.proc.output.slice(before), /Failed authentication with \/127\.0\.0\.1 \(channelId=[^)]+\) \(Authentication failed: Invalid username or password\)/)
})

test('confluent-kafka over SASL_SSL with PLAIN (users from the JAAS file in KAFKA_OPTS)', {skip}, async () => {
  const cfg = {'security.protocol': 'SASL_SSL', 'ssl.ca.location': certs.caPem, 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'carol', 'sasl.password': 'carol-secret'}
  const r = await pyClient(broker.addr('SASL_SSL'), 'plain-py', 10, 'roundtrip', cfg)
  assert.deepEqual(r.errors, [])
  assert.equal(r.consumed, 10)
  const bad = await pyClient(broker.addr('SASL_SSL'), 'plain-py', 1, 'produce', {...cfg, 'sasl.password': 'nope', 'test.timeout.s': 4})
  assert.equal(bad.delivered, 0)
  assert.ok(bad.errors.some(e => /_AUTHENTICATION|Authentication failed/.test(e)), bad.errors.join('; '))
})

test('SASL_SSL with ssl.client.auth=requested: a trusted client certificate is accepted, an untrusted one refused at the handshake', {skip}, async () => {
  const kcatSaslSsl = ['-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${certs.caPem}`, '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=carol', '-X', 'sasl.password=carol-secret']
  const none = await exec(KCAT, ['-L', '-b', broker.addr('SASL_SSL'), ...kcatSaslSsl, '-m', '5'])
  assert.equal(none.code, 0, none.stderr)
  const alice = certs.client('alice')
  const trusted = await exec(KCAT, ['-L', '-b', broker.addr('SASL_SSL'), ...kcatSaslSsl, '-X', `ssl.certificate.location=${alice.cert}`, '-X', `ssl.key.location=${alice.key}`, '-m', '5'])
  assert.equal(trusted.code, 0, trusted.stderr)
  const before = broker.proc.output.length
  const u = certs.client('untrusted')
  const untrusted = await exec(KCAT, ['-L', '-b', broker.addr('SASL_SSL'), ...kcatSaslSsl, '-X', `ssl.certificate.location=${u.cert}`, '-X', `ssl.key.location=${u.key}`, '-m', '3'])
  assert.notEqual(untrusted.code, 0, untrusted.stdout)
  await waitFor(() => /Failed authentication with \/127\.0\.0\.1 .*\(SSL handshake failed: /.test(broker.proc.output.slice(before)), 10000, 'the handshake failure line')
})

test('kafkajs with SASL PLAIN: round trip; a wrong password fails with SASL_AUTHENTICATION_FAILED', {skip}, async () => {
  const kafka = (pw: string) => new Kafka({clientId: 'plain-js', brokers: [broker.addr('SASL_PLAINTEXT')], sasl: {mechanism: 'plain', username: 'alice', password: pw}, logLevel: logLevel.NOTHING, retry: {retries: 1}})
  const producer = kafka('alice-secret').producer()
  await producer.connect()
  await producer.send({topic: 'plain-js', messages: [{value: 'v1'}]})
  await producer.disconnect()
  const bad = kafka('wrong').producer()
  await assert.rejects(bad.connect(), (e: Error) => /SASL PLAIN authentication failed: Authentication failed: Invalid username or password/.test(e.message) || /SASL_AUTHENTICATION_FAILED/.test(String((e as {type?: string}).type)))
})

test('Apache Kafka 3.9 console producer and consumer over SASL_SSL with PLAIN (--producer.config / --consumer.config)', {skip: skip || apacheSkip()}, async () => {
  const props = clientProps(dir, 'java-plain', {
    'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': `${PLAIN} required username="carol" password="carol-secret";`,
    'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem,
  })
  const p = await apacheTool('kafka-console-producer', ['--bootstrap-server', broker.addr('SASL_SSL'), '--topic', 'plain-java', '--producer.config', props], {input: 'j1\nj2\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await apacheTool('kafka-console-consumer', ['--bootstrap-server', broker.addr('SASL_SSL'), '--topic', 'plain-java', '--from-beginning', '--max-messages', '2', '--consumer.config', props, '--timeout-ms', '20000'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'j1\nj2\n')
})

test('the v0 handshake: raw PLAIN token, an empty answer, then requests; a wrong raw token closes the connection', {skip}, async () => {
  const ok = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  ok.write(requestFrame(17, 0, 1, {mechanism: 'PLAIN'}))
  const hs = decodeResponse(17, 0, (await ok.next())!)
  assert.equal(hs.errorCode, 0)
  assert.deepEqual(hs.mechanisms, ['PLAIN'])
  ok.write(sizePrefixed(plainToken('alice', 'alice-secret')))
  const answer = await ok.next()
  assert.equal(answer?.length, 0)
  ok.write(requestFrame(3, 1, 2, {topics: []}))
  const md = decodeResponse(3, 1, (await ok.next())!)
  assert.ok(md.brokers.length >= 1)
  ok.close()
  const bad = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  bad.write(requestFrame(17, 0, 1, {mechanism: 'PLAIN'}))
  await bad.next()
  bad.write(sizePrefixed(plainToken('alice', 'nope')))
  assert.equal(await bad.next(), null)
  assert.ok(await bad.waitClosed())
})

test('SaslAuthenticate v1+: the failure answer carries SASL_AUTHENTICATION_FAILED and Kafka\'s message; an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM and the list', {skip}, async () => {
  const c = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  c.write(requestFrame(18, 3, 1, {clientSoftwareName: 'raw', clientSoftwareVersion: '1'}))
  const av = decodeResponse(18, 3, (await c.next())!)
  assert.ok(av.apiKeys.some((k: {apiKey: number; maxVersion: number}) => k.apiKey === 36 && k.maxVersion === 2))
  c.write(requestFrame(17, 1, 2, {mechanism: 'PLAIN'}))
  assert.equal(decodeResponse(17, 1, (await c.next())!).errorCode, 0)
  c.write(requestFrame(36, 2, 3, {authBytes: plainToken('alice', 'bad')}))
  const res = decodeResponse(36, 2, (await c.next())!)
  assert.equal(res.errorCode, 58)
  assert.equal(res.errorMessage, 'Authentication failed: Invalid username or password')
  assert.ok(await c.waitClosed())
  const m = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  m.write(requestFrame(17, 1, 1, {mechanism: 'GSSAPI'}))
  const hs = decodeResponse(17, 1, (await m.next())!)
  assert.equal(hs.errorCode, 33)
  assert.deepEqual(hs.mechanisms, ['PLAIN'])
  assert.ok(await m.waitClosed())
})

test('bad input before authentication: a request before the handshake, an oversized token, garbage, a client stuck mid-handshake; one line each, the broker keeps serving', {skip}, async () => {
  const before = broker.proc.output.length
  // A Metadata request before the handshake.
  const early = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  early.write(requestFrame(3, 1, 1, {topics: []}))
  assert.equal(await early.next(), null)
  // An oversized SASL token (above sasl.server.max.receive.size, 512 KiB): the size alone is enough.
  const big = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  big.write(requestFrame(17, 1, 1, {mechanism: 'PLAIN'}))
  await big.next()
  const head = Buffer.alloc(4)
  head.writeInt32BE(600000)
  big.write(head)
  assert.ok(await big.waitClosed())
  // Garbage that is no Kafka request at all.
  const garbage = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  garbage.write(sizePrefixed(Buffer.from([0xff, 0xff, 0xff])))
  assert.ok(await garbage.waitClosed())
  // Stuck after ApiVersions.
  const stuck = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  const t0 = Date.now()
  stuck.write(requestFrame(18, 0, 1, {}))
  await stuck.next()
  assert.ok(await stuck.waitClosed(8000))
  assert.ok(Date.now() - t0 >= 1000, 'closed at the authentication deadline, not before')
  for (const c of [early, big, garbage]) assert.ok(await c.waitClosed())
  const lines = broker.proc.output.slice(before).split('\n').filter(l => /Failed authentication/.test(l))
  assert.equal(lines.length, 4, lines.join('\n'))
  assert.match(lines.join('\n'), /Unexpected Kafka request of type METADATA during SASL handshake\./)
  assert.match(lines.join('\n'), /Failing SASL authentication due to invalid receive size \(Invalid receive \(size = 600000 larger than 524288\)\)/)
  assert.match(lines.join('\n'), /authentication not completed within 1500 ms/)
  const ok = await exec(KCAT, ['-L', '-b', broker.addr('SASL_PLAINTEXT'), ...kcatPlain('alice', 'alice-secret'), '-m', '5'])
  assert.equal(ok.code, 0, ok.stderr)
})

test('secrets never appear in the log nor in DescribeConfigs (sensitive=true, no value)', {skip: skip || apacheSkip()}, async () => {
  const d = await apacheTool('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), '--describe', '--entity-type', 'brokers', '--entity-name', '0', '--all'])
  assert.equal(d.code, 0, d.stderr)
  assert.match(d.stdout, /listener\.name\.sasl_plaintext\.plain\.sasl\.jaas\.config=null sensitive=true/)
  assert.doesNotMatch(d.stdout, /[a-z]+-secret/) // the passwords (key names such as delegation.token.secret.key are listed too)
  assert.doesNotMatch(broker.proc.output, /alice-secret|admin-secret|carol-secret/)
  assert.doesNotMatch(readFileSync(broker.configFile, 'utf8'), /carol-secret/)
})
