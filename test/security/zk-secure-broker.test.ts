// kafkit's broker on a secured ZooKeeper, as Kafka 3.9's broker with Apache's ZooKeeper client:
// the secure client port over mutual TLS (zookeeper.ssl.client.enable and the zookeeper.ssl.*
// keys), SASL DIGEST-MD5 from the JAAS Client section named by KAFKA_OPTS, and
// zookeeper.set.acl=true. Against kafkit's ZooKeeper and Apache ZooKeeper 3.8 with the same
// zoo.cfg keys: the broker starts, creates topics, serves produce and consume; its znodes carry
// Kafka's ACLs for its SASL and certificate identities; a zookeeper-shell without the credentials
// reads but cannot modify /brokers. A wrong SASL password, an untrusted server certificate and a
// ZooKeeper without SASL stop start-up with one error line and exit code 1, without hanging.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {startApacheZk, requireApacheZk, JAAS, type ApacheZk} from '../zookeeper/helpers.js'
import {startZooKeeperServer, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {ZkClient} from '../../src/core/zkclient/client.js'
import {OPEN_ACL_UNSAFE} from '../../src/core/zkclient/codec.js'
import {runCommand, removeDir, freePort, tempDir} from '../helpers/util.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD, type CertFiles} from './certs.js'
import {startSecureBroker, KCAT, type SecureBroker} from './helpers.js'
import {exec} from '../broker/helpers.js'

function skipReason(): string | false {
  try { requireApacheZk() } catch (e) { return (e as Error).message }
  if (!haveOpenssl() || !haveKeytool()) return 'openssl and keytool are needed to make the certificates'
  return false
}
const skip = skipReason()

let dir = ''
let certs: CertFiles
let tlsKeys: Record<string, string> = {}
let kafkitZk: RunningZooKeeper | undefined
let apacheZk: ApacheZk | undefined
let apacheSecure = 0

/** The broker's ZooKeeper TLS keys (mutual TLS with the broker's certificate). */
function brokerZkTls(trust = certs.trustP12, trustType = 'PKCS12'): string[] {
  return [
    'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `zookeeper.ssl.keystore.location=${certs.brokerP12}`, `zookeeper.ssl.keystore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.keystore.type=PKCS12',
    `zookeeper.ssl.truststore.location=${trust}`, ...(trustType === 'PEM' ? [] : [`zookeeper.ssl.truststore.password=${STORE_PASSWORD}`]), `zookeeper.ssl.truststore.type=${trustType}`,
    'zookeeper.ssl.protocol=TLSv1.2', 'zookeeper.ssl.enabled.protocols=TLSv1.2,TLSv1.3', 'zookeeper.ssl.endpoint.identification.algorithm=HTTPS',
    'zookeeper.ssl.crl.enable=false', 'zookeeper.ssl.ocsp.enable=false',
  ]
}

before(async () => {
  if (skip) return
  dir = tempDir('kafkit-zk-secure-broker-')
  certs = makeCerts()
  writeFileSync(join(dir, 'jaas.conf'), JAAS)
  tlsKeys = {
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    'ssl.keyStore.location': certs.brokerP12, 'ssl.keyStore.password': STORE_PASSWORD,
    'ssl.trustStore.location': certs.trustP12, 'ssl.trustStore.password': STORE_PASSWORD,
  }
  const file = join(dir, 'zookeeper.properties')
  const props: Record<string, string> = {dataDir: join(dir, 'kafkit-zk'), clientPort: '0', clientPortAddress: '127.0.0.1', secureClientPort: '0', tickTime: '500', 'admin.enableServer': 'false', 'kafkit.jaas.config.file': join(dir, 'jaas.conf'), ...tlsKeys}
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  kafkitZk = await startZooKeeperServer(zkConfigFromProperties(new Map(Object.entries(props)), file))
  apacheSecure = await freePort()
  apacheZk = await startApacheZk({...tlsKeys, secureClientPort: String(apacheSecure)}, [`-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`])
})

after(async () => {
  await kafkitZk?.stop()
  await apacheZk?.stop()
  if (dir) removeDir(dir)
})

/** A ZooKeeper client over TLS with alice's certificate, with or without SASL. */
async function zkClient(port: number, sasl?: {username: string; password: string}): Promise<ZkClient> {
  const alice = certs.client('alice')
  const c = new ZkClient(`127.0.0.1:${port}`, {
    sessionTimeout: 10000, sasl,
    tls: () => ({ca: readFileSync(certs.caPem), cert: readFileSync(alice.cert), key: readFileSync(alice.key), rejectUnauthorized: true}),
  })
  c.start()
  await c.exists('/')
  return c
}

const aclText = async (c: ZkClient, path: string): Promise<string> => (await c.getACL(path)).acl.map(a => `${a.scheme}:${a.id}:${a.perms}`).sort().join(',')

async function scenario(port: number, chroot: string): Promise<void> {
  const jaasEnv = {KAFKA_OPTS: `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`}
  let broker: SecureBroker | undefined
  try {
    broker = await startSecureBroker(`127.0.0.1:${port}${chroot}`, {PLAINTEXT: 'PLAINTEXT'}, [...brokerZkTls(), 'zookeeper.set.acl=true'], {env: jaasEnv})
    // Topics are created and served.
    const created = await runCommand('kafka-topics', ['--bootstrap-server', broker.bootstrap, '--create', '--topic', 'secure-zk', '--partitions', '2'])
    assert.equal(created.code, 0, created.stderr)
    const p = await exec(KCAT, ['-P', '-b', broker.bootstrap, '-t', 'secure-zk', '-p', '0'], {input: 'one\ntwo\nthree\n'})
    assert.equal(p.code, 0, p.stderr)
    const c = await exec(KCAT, ['-C', '-b', broker.bootstrap, '-t', 'secure-zk', '-p', '0', '-o', 'beginning', '-c', '3', '-e'], {timeoutMs: 30000})
    assert.equal(c.stdout, 'one\ntwo\nthree\n', c.stderr)

    // Kafka's ACLs: creator-all for every id the broker's session has (SASL user, certificate), world read
    // except on sensitive paths, /consumers open.
    const zk = await zkClient(port, {username: 'admin', password: 'admin-secret'})
    try {
      const owner = 'sasl:kafka:31,world:anyone:1,x509:CN=kafkit-broker,O=kafkit:31'
      for (const path of ['/brokers/ids', '/brokers/ids/0', '/brokers/topics/secure-zk', '/cluster/id', '/controller', '/config/topics/secure-zk']) {
        assert.equal(await aclText(zk, chroot + path), owner, path)
      }
      // The sensitive paths are the broker's only: another user cannot even read their ACL.
      await assert.rejects(zk.getACL(`${chroot}/config/users`), /NoAuth/)
      const owner2 = await zkClient(port, {username: 'kafka', password: 'kafka-secret'})
      try {
        assert.equal(await aclText(owner2, `${chroot}/config/users`), 'sasl:kafka:31,x509:CN=kafkit-broker,O=kafkit:31')
      } finally {
        await owner2.close()
      }
      assert.equal(await aclText(zk, `${chroot}/consumers`), 'world:anyone:31')
      // The admin user (another SASL identity) may read but not write the broker's znodes.
      await assert.rejects(zk.setData(`${chroot}/brokers/ids/0`, Buffer.from('x')), /NoAuth/)
    } finally {
      await zk.close()
    }

    // zookeeper-shell over TLS without the JAAS file: reads /brokers, cannot modify it.
    const alice = certs.client('alice')
    const tlsFile = join(dir, `shell-${port}.properties`)
    writeFileSync(tlsFile, [
      'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
      `zookeeper.ssl.keystore.location=${alice.pem}`, 'zookeeper.ssl.keystore.type=PEM',
      `zookeeper.ssl.truststore.location=${certs.caPem}`, 'zookeeper.ssl.truststore.type=PEM', '',
    ].join('\n'))
    const shell = (...args: string[]) => runCommand('zookeeper-shell', [`127.0.0.1:${port}${chroot}`, '-zk-tls-config-file', tlsFile, ...args], {env: {KAFKA_OPTS: ''}})
    const ls = await shell('ls', '/brokers/ids')
    assert.equal(ls.code, 0, ls.stderr)
    assert.match(ls.stdout, /\[0\]/)
    for (const args of [['set', '/brokers/ids/0', '{}'], ['create', '/brokers/topics/sneaky', '{}'], ['delete', '/brokers/topics/secure-zk/partitions/0/state'], ['deleteall', '/brokers']]) {
      const r = await shell(...args)
      assert.match(r.stdout + r.stderr, /Insufficient permission/, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
    }
    const still = await shell('get', '/brokers/ids/0')
    assert.match(still.stdout, /"endpoints":\["PLAINTEXT:\/\/127\.0\.0\.1:\d+"\]/)
  } finally {
    await broker?.cleanup()
  }
}

test("kafkit's broker on kafkit's ZooKeeper: mutual TLS, SASL DIGEST-MD5, zookeeper.set.acl=true", {skip, timeout: 180000}, async () => {
  await scenario(kafkitZk!.server.securePort, '/kafkit')
})

test("kafkit's broker on Apache ZooKeeper 3.8 with the same TLS and SASL settings", {skip, timeout: 180000}, async () => {
  await scenario(apacheSecure, '/kafkit')
})

/** kafka-server-start with these overrides; resolves with the exit, stderr and how long it took. */
async function startFails(port: number, name: string, overrides: string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; stderr: string; ms: number}> {
  const cfg = join(dir, `${name}.properties`)
  writeFileSync(cfg, [`broker.id=7`, `log.dirs=${join(dir, `logs-${name}`)}`, `zookeeper.connect=127.0.0.1:${port}/${name}`, 'listeners=PLAINTEXT://127.0.0.1:0', 'zookeeper.connection.timeout.ms=6000', ...overrides, ''].join('\n'))
  const t0 = Date.now()
  const r = await runCommand('kafka-server-start', [cfg], {timeoutMs: 60000, env})
  return {code: r.code, stderr: r.stderr, ms: Date.now() - t0}
}

test('a wrong SASL password, an untrusted ZooKeeper certificate: one start-up error line and exit code 1, no hang', {skip, timeout: 240000}, async () => {
  const bad = join(dir, 'bad-jaas.conf')
  writeFileSync(bad, 'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="kafka"\n  password="not-the-password";\n};\n')
  const good = {KAFKA_OPTS: `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`}
  for (const [what, port] of [['kafkit', kafkitZk!.server.securePort], ['apache', apacheSecure]] as const) {
    const wrong = await startFails(port, `wrongpw-${what}`, [...brokerZkTls(), 'zookeeper.set.acl=true'], {KAFKA_OPTS: `-Djava.security.auth.login.config=${bad}`})
    assert.equal(wrong.code, 1, `${what}: ${wrong.stderr}`)
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr)
    assert.match(wrong.stderr, /^Error: Auth failed either before or while waiting for connection: the server refused the SASL DIGEST-MD5 credentials of user kafka/, what)
    assert.ok(wrong.ms < 30000, `${what}: took ${wrong.ms} ms`)
    // The server's certificate is signed by a CA the broker does not trust: the TLS handshake fails every time.
    const untrusted = await startFails(port, `untrusted-${what}`, brokerZkTls(certs.otherCaPem, 'PEM'), good)
    assert.equal(untrusted.code, 1, `${what}: ${untrusted.stderr}`)
    assert.equal(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr)
    assert.match(untrusted.stderr, /^Error: Timed out waiting for connection while in state: CONNECTING \(last attempt: 127\.0\.0\.1:\d+: .*(certificate|issuer)/i, what)
    assert.ok(untrusted.ms < 40000, `${what}: took ${untrusted.ms} ms`)
  }
})

test('ZooKeeper TLS from -D system properties in KAFKA_OPTS alone (broker, zookeeper-shell, zookeeper-security-migration); server.properties keys win', {skip, timeout: 240000}, async () => {
  const port = kafkitZk!.server.securePort
  const jaas = `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`
  // Apache's ZooKeeper client names, as a Kafka 3.9 user passes them to the JVM.
  const sysTls = (keyStore: string, keyStoreType: string, trust: string, trustType: string): string => [
    '-Dzookeeper.client.secure=true', '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `-Dzookeeper.ssl.keyStore.location=${keyStore}`, ...(keyStoreType === 'PEM' ? [] : [`-Dzookeeper.ssl.keyStore.password=${STORE_PASSWORD}`]), `-Dzookeeper.ssl.keyStore.type=${keyStoreType}`,
    `-Dzookeeper.ssl.trustStore.location=${trust}`, ...(trustType === 'PEM' ? [] : [`-Dzookeeper.ssl.trustStore.password=${STORE_PASSWORD}`]), `-Dzookeeper.ssl.trustStore.type=${trustType}`,
    '-Dzookeeper.ssl.hostnameVerification=true',
  ].join(' ')
  let broker: SecureBroker | undefined
  try {
    // No zookeeper.ssl.* key in server.properties: TLS, the client certificate and the trust store all come from KAFKA_OPTS.
    broker = await startSecureBroker(`127.0.0.1:${port}/sysprops`, {PLAINTEXT: 'PLAINTEXT'}, ['zookeeper.set.acl=true'], {env: {KAFKA_OPTS: `${jaas} ${sysTls(certs.brokerP12, 'PKCS12', certs.trustP12, 'PKCS12')}`}})
    const created = await runCommand('kafka-topics', ['--bootstrap-server', broker.bootstrap, '--create', '--topic', 'sysprops', '--partitions', '1'])
    assert.equal(created.code, 0, created.stderr)
    const zk = await zkClient(port, {username: 'admin', password: 'admin-secret'})
    try {
      // The broker's session carries the certificate of -Dzookeeper.ssl.keyStore.location (its x509 id owns the znodes).
      assert.equal(await aclText(zk, '/sysprops/brokers/topics/sysprops'), 'sasl:kafka:31,world:anyone:1,x509:CN=kafkit-broker,O=kafkit:31')
    } finally {
      await zk.close()
    }
  } finally {
    await broker?.cleanup()
    broker = undefined
  }

  // A key server.properties gives wins over its system property: the -D trust store (another CA) is not used.
  try {
    broker = await startSecureBroker(`127.0.0.1:${port}/sysprops2`, {PLAINTEXT: 'PLAINTEXT'},
      [`zookeeper.ssl.truststore.location=${certs.trustP12}`, `zookeeper.ssl.truststore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.truststore.type=PKCS12'],
      {env: {KAFKA_OPTS: `${jaas} ${sysTls(certs.brokerP12, 'PKCS12', certs.otherCaPem, 'PEM')}`}})
    const listed = await runCommand('kafka-topics', ['--bootstrap-server', broker.bootstrap, '--list'])
    assert.equal(listed.code, 0, listed.stderr)
  } finally {
    await broker?.cleanup()
  }
  // ... and the -D trust store alone (the other CA) is used: the handshake fails.
  const untrusted = await startFails(port, 'sysprops-untrusted', [], {KAFKA_OPTS: `${jaas} ${sysTls(certs.brokerP12, 'PKCS12', certs.otherCaPem, 'PEM')}`})
  assert.equal(untrusted.code, 1, untrusted.stderr)
  assert.match(untrusted.stderr, /^Error: Timed out waiting for connection while in state: CONNECTING \(last attempt: 127\.0\.0\.1:\d+: .*(certificate|issuer)/i)

  // zookeeper-shell without -zk-tls-config-file: TLS from KAFKA_OPTS.
  const alice = certs.client('alice')
  const aliceTls = sysTls(alice.pem, 'PEM', certs.caPem, 'PEM')
  const ls = await runCommand('zookeeper-shell', [`127.0.0.1:${port}/sysprops`, 'ls', '/brokers/topics'], {env: {KAFKA_OPTS: aliceTls}})
  assert.equal(ls.code, 0, ls.stderr)
  assert.match(ls.stdout, /\[sysprops\]/)

  // zookeeper-security-migration: a TLS client certificate given by -D only counts as an identity (no JAAS file).
  const root = await zkClient(port)
  try {
    await root.create('/sysprops-migrated', null, OPEN_ACL_UNSAFE, 0)
  } finally {
    await root.close()
  }
  const migrate = (env: NodeJS.ProcessEnv) => runCommand('zookeeper-security-migration', ['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${port}/sysprops-migrated`], {env, timeoutMs: 60000})
  const refused = await migrate({KAFKA_OPTS: ''})
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /No JAAS configuration file has been specified and no TLS client certificate/)
  const migrated = await migrate({KAFKA_OPTS: aliceTls})
  assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr)
  const zk = await zkClient(port, {username: 'admin', password: 'admin-secret'})
  try {
    assert.equal(await aclText(zk, '/sysprops-migrated/brokers'), 'world:anyone:1,x509:CN=alice,OU=Eng,O=Acme,C=US:31')
  } finally {
    await zk.close()
  }
})
