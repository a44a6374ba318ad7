// TLS listeners: a kafkit broker with PLAINTEXT and SSL listeners (server.properties keys as for
// Apache Kafka: PEM key store file, PEM trust store, ssl.client.auth=requested) serves kcat,
// confluent-kafka, kafkajs and Apache's Java console tools over TLS; clients that do not trust
// the broker, untrusted and expired client certificates are refused; garbage and a client stuck
// in its handshake cost their own connection only (one log line); a changed key store file is
// reloaded; PKCS12 and JKS stores are read.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {connect as netConnect} from 'node:net'
import {connect as tlsConnect, createServer as createTlsServer, type TLSSocket} from 'node:tls'
import {X509Certificate} from 'node:crypto'
import {Kafka, logLevel} from 'kafkajs'
import {waitFor, removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD, type CertFiles} from './certs.js'
import {startSecureBroker, apacheTool, apacheSkip, clientProps, pyClient, scratch, KCAT, type SecureBroker} from './helpers.js'
import {ListenerSettings} from '../../src/core/security/config.js'
import {serverTls, subjectRfc2253, SslPrincipalMapper, opensslCipher} from '../../src/core/security/tls.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : false
let zk: ApacheZooKeeper
let broker: SecureBroker
let certs: CertFiles
let dir: string
let keystore: string

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  keystore = join(dir, 'broker-keystore.pem')
  copyFileSync(certs.brokerPem, keystore)
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SSL: 'SSL'}, [
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.caPem}`,
    'ssl.client.auth=requested',
    'connections.max.idle.ms=1500',
  ])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const kcatSsl = () => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.caPem}`]

test('kcat produces and consumes over TLS (and with a client certificate)', {skip}, async () => {
  const p = await exec(KCAT, ['-P', '-b', broker.addr('SSL'), '-t', 'tls-kcat', ...kcatSsl()], {input: 'one\ntwo\nthree\n'})
  assert.equal(p.code, 0, p.stderr)
  const alice = certs.client('alice')
  const c = await exec(KCAT, ['-C', '-b', broker.addr('SSL'), '-t', 'tls-kcat', '-e', '-o', 'beginning', ...kcatSsl(), '-X', `ssl.certificate.location=${alice.cert}`, '-X', `ssl.key.location=${alice.key}`])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'one\ntwo\nthree\n')
})

test('confluent-kafka round trip over TLS with a client certificate', {skip}, async () => {
  const alice = certs.client('alice')
  const r = await pyClient(broker.addr('SSL'), 'tls-py', 20, 'roundtrip', {'security.protocol': 'SSL', 'ssl.ca.location': certs.caPem, 'ssl.certificate.location': alice.cert, 'ssl.key.location': alice.key})
  assert.deepEqual(r.errors, [])
  assert.equal(r.delivered, 20)
  assert.equal(r.consumed, 20)
})

test('kafkajs round trip over TLS', {skip}, async () => {
  const kafka = new Kafka({clientId: 'tls-js', brokers: [broker.addr('SSL')], ssl: {ca: [readFileSync(certs.caPem, 'utf8')]}, logLevel: logLevel.NOTHING, retry: {retries: 3}})
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({topic: 'tls-js', messages: [{value: 'a'}, {value: 'b'}]})
  await producer.disconnect()
  const consumer = kafka.consumer({groupId: 'tls-js-g'})
  await consumer.connect()
  await consumer.subscribe({topic: 'tls-js', fromBeginning: true})
  const got: string[] = []
  await consumer.run({eachMessage: async ({message}) => { got.push(message.value!.toString()) }})
  await waitFor(() => got.length >= 2, 20000, 'kafkajs to consume over TLS')
  await consumer.disconnect()
  assert.deepEqual(got, ['a', 'b'])
})

test('Apache Kafka 3.9 console producer and consumer over TLS (PEM trust store in --producer.config / --consumer.config)', {skip: skip || apacheSkip()}, async () => {
  const props = clientProps(dir, 'java-ssl', {'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certs.caPem})
  const p = await apacheTool('kafka-console-producer', ['--bootstrap-server', broker.addr('SSL'), '--topic', 'tls-java', '--producer.config', props], {input: 'x\ny\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await apacheTool('kafka-console-consumer', ['--bootstrap-server', broker.addr('SSL'), '--topic', 'tls-java', '--from-beginning', '--max-messages', '2', '--consumer.config', props, '--timeout-ms', '20000'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'x\ny\n')
})

test('a client that does not trust the broker, an untrusted and an expired client certificate are refused', {skip}, async () => {
  const before = broker.proc.output.length
  // The client does not trust the broker's CA.
  const wrongCa = await exec(KCAT, ['-L', '-b', broker.addr('SSL'), '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.otherCaPem}`, '-m', '3'])
  assert.notEqual(wrongCa.code, 0)
  assert.match(wrongCa.stderr, /certificate verify failed|SSL handshake failed/)
  for (const name of ['untrusted', 'expired'] as const) {
    const c = certs.client(name)
    const r = await exec(KCAT, ['-L', '-b', broker.addr('SSL'), ...kcatSsl(), '-X', `ssl.certificate.location=${c.cert}`, '-X', `ssl.key.location=${c.key}`, '-m', '3'])
    assert.notEqual(r.code, 0, `${name}: ${r.stdout}`)
  }
  await waitFor(() => (broker.proc.output.slice(before).match(/Failed authentication with/g) ?? []).length >= 3, 10000, 'three "Failed authentication" lines')
  const lines = broker.proc.output.slice(before)
  assert.match(lines, /Failed authentication with \/127\.0\.0\.1 .*\(SSL handshake failed: certificate has expired\)/)
  assert.match(lines, /Failed authentication with \/127\.0\.0\.1 .*\(SSL handshake failed: unable to verify the first certificate \(untrusted issuer\)\)/)
  assert.match(lines, /Failed authentication with \/127\.0\.0\.1 .*\(SSL handshake failed: tlsv1 alert unknown ca\)/)
  assert.doesNotMatch(lines, /\/unknown/)
  // The broker still serves.
  const ok = await exec(KCAT, ['-L', '-b', broker.addr('SSL'), ...kcatSsl(), '-m', '5'])
  assert.equal(ok.code, 0, ok.stderr)
})

test('garbage instead of a TLS handshake and a client stuck in its handshake: that connection closed, one line each, others served', {skip}, async () => {
  const before = broker.proc.output.length
  const closed = (s: import('node:net').Socket) => new Promise<number>(resolve => {
    const t0 = Date.now()
    s.on('close', () => resolve(Date.now() - t0))
    s.on('error', () => {})
  })
  const garbage = netConnect(broker.ports.SSL, '127.0.0.1', () => garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'z'.repeat(5000))))
  const g = closed(garbage)
  const stuck = netConnect(broker.ports.SSL, '127.0.0.1', () => stuck.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])))  // a record header, then nothing
  const st = closed(stuck)
  assert.ok(await g < 5000)
  const stuckMs = await st
  assert.ok(stuckMs >= 1000 && stuckMs < 8000, `stuck client closed after ${stuckMs} ms (connections.max.idle.ms=1500)`)
  const lines = broker.proc.output.slice(before).split('\n').filter(l => l.includes('Failed authentication'))
  assert.equal(lines.length, 2, lines.join('\n'))
  const ok = await exec(KCAT, ['-L', '-b', broker.addr('SSL'), ...kcatSsl(), '-m', '5'])
  assert.equal(ok.code, 0, ok.stderr)
  const plain = await exec(KCAT, ['-L', '-b', broker.addr('PLAINTEXT'), '-m', '5'])
  assert.equal(plain.code, 0, plain.stderr)
})

function servedCertCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = tlsConnect({port, host: '127.0.0.1', ca: readFileSync(certs.caPem), servername: 'localhost'}, () => {
      const cn = s.getPeerCertificate().subject.CN as string
      s.destroy()
      resolve(cn)
    })
    s.on('error', reject)
  })
}

test('a changed key store file is reloaded (as Kafka\'s dynamic key store update): new connections get the new certificate', {skip}, async () => {
  assert.equal(await servedCertCn(broker.ports.SSL), 'kafkit-broker')
  copyFileSync(certs.broker2Pem, keystore)
  await waitFor(async () => await servedCertCn(broker.ports.SSL) === 'kafkit-broker-2', 10000, 'the new certificate to be served')
  await broker.proc.waitForOutput('Reloaded the SSL key and trust stores of listener SSL')
})

/** Serves one TLS handshake with a listener's options and returns the client's view. */
async function handshake(props: Record<string, string>): Promise<{cn: string; authorized: boolean}> {
  const ls = new ListenerSettings(new Map(Object.entries(props)), 'SSL', '<test>')
  const t = serverTls(ls)
  const server = createTlsServer(t.options, s => s.end())
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as {port: number}).port
  try {
    return await new Promise((resolve, reject) => {
      const s = tlsConnect({port, host: '127.0.0.1', ca: readFileSync(certs.caPem), servername: 'localhost'}, () => {
        resolve({cn: s.getPeerCertificate().subject.CN as string, authorized: s.authorized})
        s.destroy()
      })
      s.on('error', reject)
    })
  } finally {
    server.close()
  }
}

test('key stores: PEM inline (ssl.keystore.key / certificate.chain), PKCS12 and JKS; trust stores PKCS12 and JKS', {skip: skip || (!haveKeytool() && 'keytool is not installed')}, async () => {
  const inline = await handshake({'ssl.keystore.type': 'PEM', 'ssl.keystore.key': readFileSync(certs.brokerKey, 'utf8').replace(/\n/g, ' '), 'ssl.keystore.certificate.chain': readFileSync(certs.brokerCert, 'utf8')})
  assert.deepEqual(inline, {cn: 'kafkit-broker', authorized: true})
  for (const [type, file] of [['PKCS12', certs.brokerP12], ['JKS', certs.brokerJks]]) {
    const r = await handshake({'listener.name.ssl.ssl.keystore.type': type, 'listener.name.ssl.ssl.keystore.location': file, 'listener.name.ssl.ssl.keystore.password': STORE_PASSWORD, 'ssl.key.password': STORE_PASSWORD})
    assert.deepEqual(r, {cn: 'kafkit-broker', authorized: true}, type)
  }
  for (const [type, file] of [['PKCS12', certs.trustP12], ['JKS', certs.trustJks]]) {
    const t = serverTls(new ListenerSettings(new Map(Object.entries({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs.brokerPem, 'ssl.truststore.type': type, 'ssl.truststore.location': file, 'ssl.truststore.password': STORE_PASSWORD})), 'SSL', '<test>'))
    const cas = [t.options.ca].flat().map(c => new X509Certificate(String(c)).subject)
    assert.deepEqual(cas, ['CN=kafkit-test-ca'], type)
  }
  // A wrong store password is one line naming the key, never the password.
  assert.throws(() => serverTls(new ListenerSettings(new Map(Object.entries({'ssl.keystore.location': certs.brokerJks, 'ssl.keystore.password': 'wrong-pw'})), 'SSL', '<test>')),
    (e: Error) => /ssl\.keystore\.location/.test(e.message) && !e.message.includes('wrong-pw'))
})

test('a PKCS12 key store\'s bundled CA does not make client certificates trusted: only the trust store does, as in Java', {skip: skip || (!haveKeytool() && 'keytool is not installed')}, async () => {
  // broker.p12 bundles the CA that signed alice's certificate; the trust store names only the
  // other CA (which signed mallory's). Node would accept alice (it trusts a pfx's CAs); Java's
  // broker accepts mallory only.
  const b = await startSecureBroker(`${zk.connect}/pfx-trust`, {SSL: 'SSL'}, [
    'ssl.keystore.type=PKCS12', `ssl.keystore.location=${certs.brokerP12}`, `ssl.keystore.password=${STORE_PASSWORD}`,
    'ssl.truststore.type=PEM', `ssl.truststore.location=${certs.otherCaPem}`, 'ssl.client.auth=required',
  ], {brokerId: 5})
  try {
    const kcat = (who: 'alice' | 'untrusted') => exec(KCAT, ['-L', '-b', b.addr('SSL'), ...kcatSsl(), '-X', `ssl.certificate.location=${certs.client(who).cert}`, '-X', `ssl.key.location=${certs.client(who).key}`, '-m', '5'])
    const mallory = await kcat('untrusted')
    assert.equal(mallory.code, 0, mallory.stderr)
    const before = b.proc.output.length
    const alice = await kcat('alice')
    assert.notEqual(alice.code, 0, alice.stdout)
    await waitFor(() => b.proc.output.slice(before).includes('Failed authentication with'), 10000, 'a "Failed authentication" line')
    assert.match(b.proc.output.slice(before), /Failed authentication with \/127\.0\.0\.1 .*\(SSL handshake failed: unable to get local issuer certificate \(the client certificate's chain does not lead to a certificate of the trust store\)\)/)
  } finally {
    await b.cleanup()
  }
})

test('client certificate subjects read as Java prints them (RFC 2253) and mapped by ssl.principal.mapping.rules', {skip}, () => {
  const der = (name: 'alice' | 'bob') => new X509Certificate(readFileSync(certs.client(name).cert)).raw
  assert.equal(subjectRfc2253(der('alice')), 'CN=alice,OU=Eng,O=Acme,C=US')
  assert.equal(subjectRfc2253(der('bob')), 'CN=bob,O=Acme')
  const m = new SslPrincipalMapper('RULE:^CN=([a-zA-Z.]*),OU=(.*?),O=(.*?),C=US$/$1@$2/L, RULE:^CN=(.*?),O=(.*?)$/$1/U, DEFAULT')
  assert.equal(m.name('CN=alice,OU=Eng,O=Acme,C=US'), 'alice@eng')
  assert.equal(m.name('CN=bob,O=Acme'), 'BOB')
  assert.equal(m.name('CN=x'), 'CN=x')
  assert.throws(() => new SslPrincipalMapper('RULE:^CN=(.*)$/$1/L').name('O=x'), /No rules apply/)
  assert.equal(opensslCipher('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256')
  assert.equal(opensslCipher('TLS_AES_256_GCM_SHA384'), 'TLS_AES_256_GCM_SHA384')
  assert.equal(opensslCipher('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'), 'ECDHE-ECDSA-CHACHA20-POLY1305')
  assert.equal(opensslCipher('TLS_RSA_WITH_AES_256_CBC_SHA'), 'AES256-SHA')
})

/** A handshake with node's client: the protocol and cipher agreed, or the error. */
function clientHandshake(port: number, opts: import('node:tls').ConnectionOptions): Promise<{protocol?: string; cipher?: string; error?: string}> {
  return new Promise(resolve => {
    const s: TLSSocket = tlsConnect({port, host: '127.0.0.1', ca: readFileSync(certs.caPem), servername: 'localhost', ...opts}, () => {
      const r = {protocol: s.getProtocol() ?? undefined, cipher: s.getCipher().name}
      s.destroy()
      resolve(r)
    })
    s.on('error', e => resolve({error: e.message}))
  })
}

test('ssl.enabled.protocols and ssl.cipher.suites are enforced per listener: refused clients cost one line each, the broker keeps serving', {skip, timeout: 120000}, async () => {
  const b = await startSecureBroker(`${zk.connect}/tls-versions`, {V12: 'SSL', CIPHERS: 'SSL'}, [
    'ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`,
    'listener.name.v12.ssl.enabled.protocols=TLSv1.2',
    // One TLS 1.2 suite and no TLS 1.3 suite: as in Java, TLS 1.3 cannot be negotiated.
    'listener.name.ciphers.ssl.cipher.suites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  ], {brokerId: 6})
  try {
    const failures = (from: number) => b.proc.output.slice(from).split('\n').filter(l => l.includes('Failed authentication')).length
    const refused = async (port: number, opts: import('node:tls').ConnectionOptions, what: string) => {
      const from = b.proc.output.length
      const r = await clientHandshake(port, opts)
      assert.ok(r.error, `${what}: refused (got ${JSON.stringify(r)})`)
      await waitFor(() => failures(from) >= 1, 10000, `a "Failed authentication" line for ${what}`)
      return b.proc.output.slice(from)
    }
    const start = b.proc.output.length
    // TLSv1.2 only: a TLS 1.3-only client is refused; a client offering both gets TLS 1.2.
    const v13 = await refused(b.ports.V12, {minVersion: 'TLSv1.3'}, 'a TLS 1.3-only client on a TLSv1.2 listener')
    assert.match(v13, /SSL handshake failed/)
    assert.equal((await clientHandshake(b.ports.V12, {})).protocol, 'TLSv1.2')
    // The cipher list: a client whose suites are all outside it is refused, with TLS 1.2 or 1.3.
    const c12 = await refused(b.ports.CIPHERS, {maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305'}, 'a client without the listed suite')
    assert.match(c12, /SSL handshake failed.*(no shared cipher|NO_SHARED_CIPHER)/i)
    await refused(b.ports.CIPHERS, {minVersion: 'TLSv1.3'}, 'a TLS 1.3-only client on a listener listing no TLS 1.3 suite')
    assert.deepEqual(await clientHandshake(b.ports.CIPHERS, {}), {protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384'})
    // Still serving real clients on both.
    for (const l of ['V12', 'CIPHERS']) {
      const ok = await exec(KCAT, ['-L', '-b', b.addr(l), ...kcatSsl(), '-m', '10'])
      assert.equal(ok.code, 0, ok.stderr)
    }
    // Exactly one line per refused client, counted once the broker has served those later
    // handshakes and kcat's connections (a second line for a refusal would be out by then).
    assert.equal(failures(start), 3, b.proc.output.slice(start))
  } finally {
    await b.cleanup()
  }
})

test('a protocol list with a gap (TLSv1,TLSv1.3) and a cipher list that leaves no enabled version are refused at start-up with one line', {skip, timeout: 120000}, async () => {
  await assert.rejects(startSecureBroker(`${zk.connect}/tls-gap`, {SSL: 'SSL'}, [
    'ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`, 'ssl.enabled.protocols=TLSv1,TLSv1.3',
  ], {brokerId: 7}), (e: Error) => {
    // The start-up failure's output (in the error) has the line once.
    assert.equal(e.message.split('kafkit enables a contiguous range').length - 1, 1, e.message)
    assert.match(e.message, /Invalid value TLSv1,TLSv1\.3 for configuration ssl\.enabled\.protocols: kafkit enables a contiguous range of TLS versions and this list leaves out TLSv1\.1, TLSv1\.2/)
    return true
  })
  await assert.rejects(startSecureBroker(`${zk.connect}/tls-gap`, {SSL: 'SSL'}, [
    'ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`, 'listener.name.ssl.ssl.enabled.protocols=TLSv1.3', 'ssl.cipher.suites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  ], {brokerId: 7}), /ssl\.cipher\.suites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 names no TLS 1\.3 suite but listener\.name\.ssl\.ssl\.enabled\.protocols enables TLSv1\.3: no handshake could succeed/)
  // The library level: a contiguous list is a range; suites narrow it.
  const settings = (props: Record<string, string>) => new ListenerSettings(new Map(Object.entries({'ssl.keystore.type': 'PEM', 'ssl.keystore.location': keystore, ...props})), 'SSL', '<test>')
  const o = serverTls(settings({'ssl.enabled.protocols': 'TLSv1.1,TLSv1.2,TLSv1.3', 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256'})).options
  assert.deepEqual([o.minVersion, o.maxVersion, o.ciphers], ['TLSv1.3', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256'])
})
