// secureClientPort: kafkit's ZooKeeper over TLS with zoo.cfg's ssl.keyStore.* / ssl.trustStore.*
// (PKCS12 and PEM) and ssl.clientAuth, beside Apache ZooKeeper 3.8 with the same keys; clients:
// kazoo (client certificates, x509 ids, SASL over TLS), Apache Kafka 3.9's zookeeper-shell with
// -zk-tls-config-file, and Apache Kafka 3.9's broker with zookeeper.ssl.client.enable=true, a JAAS
// Client section and zookeeper.set.acl=true.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {writeFileSync, existsSync, readFileSync} from 'node:fs'
import {connect as tlsConnect} from 'node:tls'
import {join} from 'node:path'
import {startApacheZk, requireApacheZk, tempDir, removeDir, logLines, freePort, JAAS, type ApacheZk} from './helpers.js'
import {startZooKeeperServer, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {RawClient} from './rawclient.js'
import {repoRoot, waitFor, runCommand} from '../helpers/util.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD, type CertFiles} from '../security/certs.js'
import {apacheKafkaHome} from '../tools/apache-kafka.js'
import {startApacheBroker} from '../security/helpers.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(repoRoot, 'test', 'zookeeper', 'py', 'tls_scenario.py')

function skipReason(): string | false {
  try { requireApacheZk() } catch (e) { return (e as Error).message }
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`
  if (!haveOpenssl() || !haveKeytool()) return 'openssl and keytool are needed to make the certificates'
  return false
}

function kazoo(port: number, spec: object): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, `127.0.0.1:${port}`, JSON.stringify(spec)], {timeout: 60000}, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr.slice(-2000)}`))
      else resolve(stdout.trim())
    })
  })
}

function run(cmd: string, args: string[], timeoutMs = 90000): Promise<{code: number; out: string}> {
  return new Promise(resolve => {
    execFile(cmd, args, {timeout: timeoutMs}, (err, stdout, stderr) => resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr}))
  })
}

/** kafkit's ZooKeeper from these properties (a null value leaves the key out). */
async function startKafkit(dir: string, name: string, props: Record<string, string | null>): Promise<RunningZooKeeper> {
  const file = join(dir, `${name}.properties`)
  const all = Object.fromEntries(Object.entries({dataDir: join(dir, `${name}-data`), clientPort: '0', clientPortAddress: '127.0.0.1', tickTime: '500', 'admin.enableServer': 'false', ...props}).filter((e): e is [string, string] => e[1] !== null))
  writeFileSync(file, Object.entries(all).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  return startZooKeeperServer(zkConfigFromProperties(new Map(Object.entries(all)), file))
}

const skip = skipReason()
let dir = ''
let certs: CertFiles
let kafkit: RunningZooKeeper | undefined
let apache: ApacheZk | undefined
let apacheSecure = 0
let tlsKeys: Record<string, string> = {}

before(async () => {
  if (skip) return
  dir = tempDir('kafkit-zk-tls-')
  certs = makeCerts()
  writeFileSync(join(dir, 'jaas.conf'), JAAS)
  tlsKeys = {
    'serverCnxnFactory': 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    'ssl.keyStore.location': certs.brokerP12,
    'ssl.keyStore.password': STORE_PASSWORD,
    'ssl.trustStore.location': certs.trustP12,
    'ssl.trustStore.password': STORE_PASSWORD,
  }
  kafkit = await startKafkit(dir, 'kafkit', {...tlsKeys, secureClientPort: '0', 'kafkit.jaas.config.file': join(dir, 'jaas.conf')})
  apacheSecure = await freePort()
  apache = await startApacheZk({...tlsKeys, secureClientPort: String(apacheSecure)}, [`-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`])
})

after(async () => {
  await kafkit?.stop()
  await apache?.stop()
  if (dir) removeDir(dir)
})

test('kazoo over TLS: a trusted client certificate gets its x509 id, SASL works over TLS, untrusted or missing certificates are refused; as Apache', {skip}, async () => {
  const alice = certs.client('alice')
  const untrusted = certs.client('untrusted')
  const steps = [
    ['create', '/x509', 'a', 'x509', 'CN=alice,OU=Eng,O=Acme,C=US'], ['get', '/x509'], ['getacl', '/x509'],
    ['create', '/auth-sasl', 's', 'sasl', 'kafka'], ['get', '/auth-sasl'], ['set', '/auth-sasl', 't'],
  ]
  const cases = [
    {ca: certs.caPem, cert: alice.cert, key: alice.key, steps},
    {ca: certs.caPem, cert: alice.cert, key: alice.key, sasl: ['kafka', 'kafka-secret'], steps: [['get', '/auth-sasl'], ['set', '/auth-sasl', 'u'], ['getacl', '/auth-sasl']]},
    {ca: certs.caPem, cert: alice.cert, key: alice.key, sasl: ['kafka', 'wrong'], steps: [['get', '/x509']]},
    {ca: certs.caPem, cert: untrusted.cert, key: untrusted.key, steps: [['get', '/x509']], start_timeout: 5},
    {ca: certs.caPem, cert: null, key: null, steps: [['get', '/x509']], start_timeout: 5},
    {ca: certs.otherCaPem, cert: alice.cert, key: alice.key, steps: [['get', '/x509']], start_timeout: 5},
  ]
  const k: string[] = []
  const a: string[] = []
  for (const c of cases) {
    k.push(await kazoo(kafkit!.server.securePort, c))
    a.push(await kazoo(apacheSecure, c))
  }
  assert.deepEqual(k, a)
  assert.equal(k[0], [
    'connect OK', "create /x509 OK /x509", 'get /x509 OK a', 'getacl /x509 OK x509:CN=alice,OU=Eng,O=Acme,C=US:31',
    'create /auth-sasl OK /auth-sasl', 'get /auth-sasl NoAuthError', 'set /auth-sasl NoAuthError',
  ].join('\n'))
  assert.equal(k[1], 'connect OK\nget /auth-sasl OK s\nset /auth-sasl OK 1\ngetacl /auth-sasl OK sasl:kafka:31')
  assert.equal(k[2], 'connect OK\nget /x509 AuthFailedError')
  for (const r of k.slice(3)) assert.match(r, /^connect KazooTimeoutError/)
})

test('PEM key store, ssl.clientAuth=want and only a secure port: clients without a certificate are served', {skip}, async () => {
  const alice = certs.client('alice')
  const zk = await startKafkit(dir, 'pem', {
    clientPort: null, secureClientPort: '0', 'ssl.keyStore.location': certs.brokerPem, 'ssl.trustStore.location': certs.caPem, 'ssl.clientAuth': 'want',
    'authProvider.1': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
  })
  try {
    assert.equal(zk.server.port, zk.server.securePort, 'no plaintext port when only secureClientPort is set')
    assert.equal(await kazoo(zk.port, {ca: certs.caPem, steps: [['create', '/open', 'o', 'world'], ['getacl', '/open']]}), 'connect OK\ncreate /open OK /open\ngetacl /open OK world:anyone:31')
    assert.equal(await kazoo(zk.port, {ca: certs.caPem, cert: alice.cert, key: alice.key, steps: [['create', '/mine', 'm', 'x509', 'CN=alice,OU=Eng,O=Acme,C=US'], ['get', '/mine']]}), 'connect OK\ncreate /mine OK /mine\nget /mine OK m')
    assert.equal(await kazoo(zk.port, {ca: certs.caPem, steps: [['get', '/mine']]}), 'connect OK\nget /mine NoAuthError')
  } finally {
    await zk.stop()
  }
})

test('a PKCS12 key store\'s bundled CA does not make client certificates trusted: only ssl.trustStore does, as on Apache', {skip}, async () => {
  // broker.p12 bundles the CA that signed alice's certificate; the trust store holds only the
  // other CA (mallory's). Node would trust alice through the pfx; Apache's X509Util does not.
  const keys = {...tlsKeys, 'ssl.trustStore.location': certs.otherCaPem, 'ssl.trustStore.type': 'PEM', 'ssl.trustStore.password': null}
  const zk = await startKafkit(dir, 'pfx-trust', {...keys, secureClientPort: '0'})
  const port = await freePort()
  const ap = await startApacheZk(Object.fromEntries(Object.entries({...keys, secureClientPort: String(port)}).filter((e): e is [string, string] => e[1] !== null)))
  try {
    const alice = certs.client('alice')
    const mallory = certs.client('untrusted')
    const cases = [
      {ca: certs.caPem, cert: mallory.cert, key: mallory.key, steps: [['create', '/m', 'm', 'world'], ['get', '/m']]},
      {ca: certs.caPem, cert: alice.cert, key: alice.key, steps: [['get', '/m']], start_timeout: 5},
    ]
    const k: string[] = []
    const a: string[] = []
    for (const c of cases) {
      k.push(await kazoo(zk.server.securePort, c))
      a.push(await kazoo(port, c))
    }
    assert.deepEqual(k, a)
    assert.equal(k[0], 'connect OK\ncreate /m OK /m\nget /m OK m')
    assert.match(k[1], /^connect KazooTimeoutError/)
  } finally {
    await zk.stop()
    await ap.stop()
  }
})

test('garbage and a stalled handshake on the TLS port cost one connection each; the server keeps serving', {skip}, async () => {
  const before = logLines.length
  const {connect} = await import('node:net')
  await new Promise<void>(resolve => {
    const s = connect(kafkit!.server.securePort, '127.0.0.1', () => s.write(Buffer.alloc(300, 0x41)))
    s.on('close', () => resolve())
    s.on('error', () => {})
  })
  await waitFor(() => logLines.slice(before).some(l => l.includes('Unsuccessful handshake')), 5000, 'a log line for the failed handshake')
  // A TLS client that trusts nothing the server shows fails on its side; the server is fine.
  await new Promise<void>(resolve => {
    const s = tlsConnect({port: kafkit!.server.securePort, host: '127.0.0.1', rejectUnauthorized: true})
    s.on('error', () => resolve())
    s.on('secureConnect', () => { s.destroy(); resolve() })
  })
  const alice = certs.client('alice')
  assert.equal(await kazoo(kafkit!.server.securePort, {ca: certs.caPem, cert: alice.cert, key: alice.key, steps: [['get', '/x509']]}), 'connect OK\nget /x509 OK a')
})

test("kafkit's zookeeper-shell: -zk-tls-config-file and SASL from the JAAS Client section in KAFKA_OPTS, the same on kafkit's ZooKeeper and Apache's", {skip}, async () => {
  const alice = certs.client('alice')
  const cfg = join(dir, 'shell-tls.properties')
  writeFileSync(cfg, [
    'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `zookeeper.ssl.keystore.location=${alice.pem}`, 'zookeeper.ssl.keystore.type=PEM',
    `zookeeper.ssl.truststore.location=${certs.trustP12}`, `zookeeper.ssl.truststore.password=${STORE_PASSWORD}`, 'not.a.tls.key=ignored', '',
  ].join('\n'))
  const env = {KAFKA_OPTS: `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`}
  const outs: string[] = []
  for (const port of [kafkit!.server.securePort, apacheSecure]) {
    let out = ''
    for (const args of [['create', '/shell-sasl', 'v', 'sasl:kafka:cdrwa'], ['get', '/shell-sasl'], ['whoami']]) {
      const r = await runCommand('zookeeper-shell', [`127.0.0.1:${port}`, '-zk-tls-config-file', cfg, ...args], {env})
      out += `${r.code}\n${r.stdout.replace(/Connecting to \S+/, '')}${r.stderr}`
    }
    // Without the JAAS file: no SASL identity, so the node is out of reach.
    const r = await runCommand('zookeeper-shell', [`127.0.0.1:${port}`, '-zk-tls-config-file', cfg, 'get', '/shell-sasl'])
    out += `${r.code}\n${r.stdout.replace(/Connecting to \S+/, '')}${r.stderr}`
    outs.push(out)
  }
  assert.equal(outs[0], outs[1])
  assert.match(outs[0], /WatchedEvent state:SaslAuthenticated type:None path:null\nv\n/)
  // In Apache's order (a hash set of ids), not the order they were added.
  assert.match(outs[0], /Auth scheme: User\nsasl: kafka\nx509: CN=alice,OU=Eng,O=Acme,C=US\nip: 127\.0\.0\.1\n/)
  assert.match(outs[0], /1\n[^]*Insufficient permission : \/shell-sasl\n$/)
  // A wrong password: AuthFailed, one line, a non-zero exit.
  const bad = join(dir, 'bad-jaas.conf')
  writeFileSync(bad, 'Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="kafka" password="wrong"; };\n')
  const r = await runCommand('zookeeper-shell', [`127.0.0.1:${kafkit!.server.securePort}`, '-zk-tls-config-file', cfg, 'get', '/shell-sasl'], {env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${bad}`}, timeoutMs: 30000})
  assert.notEqual(r.code, 0)
  assert.match(r.stdout, /WatchedEvent state:AuthFailed type:None path:null/)
})

const kafkaSkip = skip || (apacheKafkaHome() ? false : 'Apache Kafka 3.9 is not installed')

test("Apache Kafka 3.9's zookeeper-shell with -zk-tls-config-file: the same output from kafkit's ZooKeeper and Apache's", {skip: kafkaSkip}, async () => {
  const alice = certs.client('alice')
  const cfg = join(dir, 'zk-tls.properties')
  writeFileSync(cfg, [
    'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `zookeeper.ssl.keystore.location=${alice.pem}`, 'zookeeper.ssl.keystore.type=PEM',
    `zookeeper.ssl.truststore.location=${certs.trustJks}`, `zookeeper.ssl.truststore.password=${STORE_PASSWORD}`, '',
  ].join('\n'))
  const shell = join(apacheKafkaHome()!, 'bin', existsSync(join(apacheKafkaHome()!, 'bin', 'zookeeper-shell')) ? 'zookeeper-shell' : 'zookeeper-shell.sh')
  const outs: string[] = []
  for (const port of [kafkit!.server.securePort, apacheSecure]) {
    const r = await run(shell, [`127.0.0.1:${port}`, '-zk-tls-config-file', cfg, 'getAcl', '/x509'])
    assert.equal(r.code, 0, r.out)
    outs.push(r.out.split('\n').filter(l => !/^(Connecting|WATCHER|WatchedEvent|\s*$)/.test(l) && !l.includes('log4j')).join('\n'))
  }
  assert.equal(outs[0], outs[1])
  assert.match(outs[0], /'x509,'CN=alice%2COU=Eng%2CO=Acme%2CC=US\n: cdrwa/)
})

test("Apache Kafka 3.9's broker over TLS with SASL (JAAS Client) and zookeeper.set.acl=true on kafkit's ZooKeeper", {skip: kafkaSkip}, async () => {
  const alice = certs.client('alice')
  const zk = await startKafkit(dir, 'for-kafka', {...tlsKeys, secureClientPort: '0', 'kafkit.jaas.config.file': join(dir, 'jaas.conf'), sessionRequireClientSASLAuth: 'true'})
  try {
    const broker = await startApacheBroker(`127.0.0.1:${zk.server.securePort}/kafka`, {PLAINTEXT: 'PLAINTEXT'}, [
      'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
      `zookeeper.ssl.keystore.location=${certs.brokerP12}`, `zookeeper.ssl.keystore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.keystore.type=PKCS12',
      `zookeeper.ssl.truststore.location=${certs.trustP12}`, `zookeeper.ssl.truststore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.truststore.type=PKCS12',
      'zookeeper.set.acl=true',
    ], {jvmOpts: [`-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`]})
    try {
      const spec = (sasl: string[] | null) => ({ca: certs.caPem, cert: alice.cert, key: alice.key, sasl, steps: [['children', '/kafka/brokers/ids'], ['getacl', '/kafka/brokers/ids/0'], ['set', '/kafka/brokers/ids/0', 'x'], ['getacl', '/kafka/config/users']]})
      assert.equal(await kazoo(zk.server.securePort, spec(['admin', 'admin-secret'])), [
        'connect OK', "children /kafka/brokers/ids OK ['0']",
        // Kafka's creator-all ACL: every id the broker's session authenticated (SASL and its certificate).
        'getacl /kafka/brokers/ids/0 OK sasl:kafka:31,world:anyone:1,x509:CN=kafkit-broker,O=kafkit:31',
        'set /kafka/brokers/ids/0 NoAuthError',
        'getacl /kafka/config/users NoAuthError',
      ].join('\n'))
      // Without SASL the server (sessionRequireClientSASLAuth=true) answers SESSIONCLOSEDREQUIRESASLAUTH
      // (-124, which kazoo does not know) and closes the connection.
      const raw = await RawClient.openTls(zk.server.securePort, {ca: readFileSync(certs.caPem), cert: readFileSync(alice.cert), key: readFileSync(alice.key), servername: 'localhost'})
      await raw.handshake(4000)
      const r = await raw.request(1, 8, w => w.ustring('/kafka/brokers/ids').bool(false))
      assert.equal(r.err, -124)
      await waitFor(() => raw.closed, 5000, 'the connection to close')
    } finally {
      await broker.stop()
    }
  } finally {
    await zk.stop()
  }
})
