// kafka-configs --zookeeper, kafkit's beside Apache Kafka 3.9's (the same arguments, each in its
// own chroot of one Apache ZooKeeper): creating and deleting users' SCRAM credentials before any
// broker runs (as Kafka's docs create the inter-broker user), describing them, and 3.9's
// refusals. Compared: stdout, stderr and exit codes line for line (secrets masked), the znodes'
// shape (/config/users/<user> {"version":1,"config":{...}}, the /config/changes notification),
// and both tools' credentials checked against the password as a SCRAM server checks them.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createHash, createHmac, pbkdf2Sync} from 'node:crypto'
import {runCommand, removeDir} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../broker/helpers.js'
import {apacheTool, apacheSkip, scratch} from './helpers.js'
import {ZkClient} from '../../src/core/zkclient/client.js'
import {writeFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {JAAS} from '../zookeeper/helpers.js'
import {startZooKeeperServer} from '../../src/core/zookeeper/index.js'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD} from './certs.js'

const skip = apacheSkip()
let zk: ApacheZooKeeper
let dir: string
let reader: ZkClient

before(async () => {
  if (skip) return
  dir = scratch()
  zk = await startApacheZooKeeper()
  reader = new ZkClient(zk.connect, {sessionTimeout: 30000})
  reader.start()
  for (const root of ['/apache', '/kafkit']) await reader.create(root, null, [{perms: 31, scheme: 'world', id: 'anyone'}], 0)
})

after(async () => {
  await reader?.close()
  await zk?.stop()
  if (dir) removeDir(dir)
})

interface Out { code: number | null; stdout: string; stderr: string }

/** Both tools with the same arguments, each on its own chroot; secrets masked for the comparison. */
async function both(...args: string[]): Promise<{apache: Out; kafkit: Out}> {
  const a = await apacheTool('kafka-configs', ['--zookeeper', `${zk.connect}/apache`, ...args])
  const k = await runCommand('kafka-configs', ['--zookeeper', `${zk.connect}/kafkit`, ...args])
  const mask = (s: string) => s.replace(/(salt|stored_key|server_key)=[A-Za-z0-9+/=]+/g, '$1=<$1>').replace(/zookeeper [^ ]+\/(apache|kafkit)/g, 'zookeeper <zk>').replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]/gm, '[<time>]')
  return {apache: {code: a.code, stdout: mask(a.stdout), stderr: mask(a.stderr)}, kafkit: {code: k.code, stdout: mask(k.stdout), stderr: mask(k.stderr)}}
}

async function znode(path: string): Promise<any> {
  const {data} = await reader.getData(path)
  return JSON.parse(data!.toString('utf8'))
}

/** Checks a stored credential against the password as Kafka's ScramSaslServer does. */
function checkCredential(stored: string, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password: string): number {
  const f = Object.fromEntries(stored.split(',').map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  assert.deepEqual(Object.keys(f), ['salt', 'stored_key', 'server_key', 'iterations'])
  const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
  const salt = Buffer.from(f.salt, 'base64')
  // Kafka's ScramFormatter salt: a random 130-bit number's base-36 digits.
  assert.match(salt.toString('latin1'), /^[0-9a-z]{1,26}$/)
  const salted = pbkdf2Sync(password, salt, Number(f.iterations), hash === 'sha256' ? 32 : 64, hash)
  const clientKey = createHmac(hash, salted).update('Client Key').digest()
  assert.equal(createHash(hash).update(clientKey).digest('base64'), f.stored_key)
  assert.equal(createHmac(hash, salted).update('Server Key').digest('base64'), f.server_key)
  return Number(f.iterations)
}

test('kafka-configs --zookeeper creates, describes and deletes users\' SCRAM credentials as Apache Kafka 3.9\'s does', {skip, timeout: 300000}, async () => {
  const add = await both('--alter', '--add-config', 'SCRAM-SHA-256=[password=admin-secret],SCRAM-SHA-512=[iterations=8192,password=admin-512]', '--entity-type', 'users', '--entity-name', 'admin')
  assert.deepEqual(add.kafkit, add.apache)
  assert.equal(add.kafkit.code, 0)
  assert.equal(add.kafkit.stdout, 'Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.\nUse --bootstrap-server instead to specify a broker to connect to.\nCompleted updating config for entity: user-principal \'admin\'.\n')
  // The znodes: the same shape, each tool's credentials valid for the passwords.
  for (const root of ['/apache', '/kafkit']) {
    const user = await znode(`${root}/config/users/admin`)
    assert.deepEqual(Object.keys(user), ['version', 'config'])
    assert.equal(user.version, 1)
    assert.deepEqual(Object.keys(user.config).sort(), ['SCRAM-SHA-256', 'SCRAM-SHA-512'])
    assert.equal(checkCredential(user.config['SCRAM-SHA-256'], 'SCRAM-SHA-256', 'admin-secret'), 4096)
    assert.equal(checkCredential(user.config['SCRAM-SHA-512'], 'SCRAM-SHA-512', 'admin-512'), 8192)
    const changes = await reader.getChildren(`${root}/config/changes`)
    assert.deepEqual(changes, ['config_change_0000000000'])
    assert.deepEqual(await znode(`${root}/config/changes/${changes[0]}`), {version: 2, entity_path: 'users/admin'})
    // Without SASL or a client certificate the tools create open znodes.
    assert.deepEqual((await reader.getACL(`${root}/config/users/admin`)).acl, [{perms: 31, scheme: 'world', id: 'anyone'}])
  }
  const one = await both('--describe', '--entity-type', 'users', '--entity-name', 'admin')
  assert.deepEqual(one.kafkit, one.apache)
  assert.match(one.kafkit.stdout, /^Configs for user-principal 'admin' are SCRAM-SHA-(256|512)=salt=<salt>,stored_key=<stored_key>,server_key=<server_key>,iterations=\d+,SCRAM-SHA-(256|512)=/m)
  await both('--alter', '--add-config', 'SCRAM-SHA-256=[password=x y]', '--entity-type', 'users', '--entity-name', 'user with space')
  const all = await both('--describe', '--entity-type', 'users')
  assert.deepEqual(all.kafkit, all.apache)
  assert.match(all.kafkit.stdout, /Configs for user-principal 'user with space' are SCRAM-SHA-256=/)
  // A stopped broker's configs can be described through ZooKeeper (none here).
  const broker = await both('--describe', '--entity-type', 'brokers', '--entity-name', '0')
  assert.deepEqual(broker.kafkit, broker.apache)
  const del = await both('--alter', '--delete-config', 'SCRAM-SHA-512', '--entity-type', 'users', '--entity-name', 'admin')
  assert.deepEqual(del.kafkit, del.apache)
  for (const root of ['/apache', '/kafkit']) {
    assert.deepEqual(Object.keys((await znode(`${root}/config/users/admin`)).config), ['SCRAM-SHA-256'])
    assert.deepEqual((await reader.getChildren(`${root}/config/changes`)).sort(), ['config_change_0000000000', 'config_change_0000000001', 'config_change_0000000002'])
  }
})

test('kafka-configs --zookeeper refuses what Kafka 3.9 refuses, with its lines and exit codes', {skip, timeout: 300000}, async () => {
  const cases: string[][] = [
    // Only SCRAM credentials for users through ZooKeeper.
    ['--alter', '--add-config', 'producer_byte_rate=1000', '--entity-type', 'users', '--entity-name', 'admin'],
    ['--alter', '--delete-config', 'consumer_byte_rate', '--entity-type', 'users', '--entity-name', 'admin'],
    // Topics, clients and IPs need --bootstrap-server.
    ['--alter', '--add-config', 'retention.ms=1000', '--entity-type', 'topics', '--entity-name', 't'],
    ['--describe', '--entity-type', 'clients'],
    // Deleting what is not there; a bad credential; too few iterations.
    ['--alter', '--delete-config', 'SCRAM-SHA-512', '--entity-type', 'users', '--entity-name', 'nobody'],
    ['--alter', '--add-config', 'SCRAM-SHA-256=[secret=x]', '--entity-type', 'users', '--entity-name', 'admin'],
    ['--alter', '--add-config', 'SCRAM-SHA-256=[iterations=100,password=x]', '--entity-type', 'users', '--entity-name', 'admin'],
    // A default user and a <user, client-id> take client configs only.
    ['--alter', '--add-config', 'SCRAM-SHA-256=[password=x]', '--entity-type', 'users', '--entity-default'],
    ['--alter', '--add-config', 'SCRAM-SHA-256=[password=x]', '--entity-type', 'users', '--entity-name', 'u', '--entity-type', 'clients', '--entity-name', 'c'],
    // --all needs --bootstrap-server.
    ['--describe', '--all', '--entity-type', 'users'],
  ]
  for (const args of cases) {
    const r = await both(...args)
    assert.deepEqual(r.kafkit, r.apache, args.join(' '))
    assert.equal(r.kafkit.code, 1, args.join(' '))
  }
})

test('kafka-configs --zookeeper over TLS (--zk-tls-config-file) with SASL from the JAAS Client section: znodes get Kafka\'s ACLs', {skip: skip || (!haveOpenssl() || !haveKeytool() ? 'openssl and keytool are needed' : false), timeout: 180000}, async () => {
  const certs = makeCerts()
  writeFileSync(join(dir, 'jaas.conf'), JAAS)
  const props: Record<string, string> = {
    dataDir: join(dir, 'secure-zk'), clientPort: '0', clientPortAddress: '127.0.0.1', secureClientPort: '0', tickTime: '500', 'admin.enableServer': 'false',
    'kafkit.jaas.config.file': join(dir, 'jaas.conf'), sessionRequireClientSASLAuth: 'true',
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    'ssl.keyStore.location': certs.brokerP12, 'ssl.keyStore.password': STORE_PASSWORD,
    'ssl.trustStore.location': certs.trustP12, 'ssl.trustStore.password': STORE_PASSWORD,
  }
  const file = join(dir, 'zookeeper.properties')
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  const server = await startZooKeeperServer(zkConfigFromProperties(new Map(Object.entries(props)), file))
  try {
    const tls = join(dir, 'zk-tls.properties')
    writeFileSync(tls, [
      'zookeeper.ssl.client.enable=true', 'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
      `zookeeper.ssl.keystore.location=${certs.brokerP12}`, `zookeeper.ssl.keystore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.keystore.type=PKCS12',
      `zookeeper.ssl.truststore.location=${certs.trustP12}`, `zookeeper.ssl.truststore.password=${STORE_PASSWORD}`, 'zookeeper.ssl.truststore.type=PKCS12',
    ].join('\n') + '\n')
    const connect = `127.0.0.1:${server.server.securePort}`
    const env = {KAFKA_OPTS: `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`}
    const r = await runCommand('kafka-configs', ['--zookeeper', connect, '--zk-tls-config-file', tls, '--alter', '--add-config', 'SCRAM-SHA-512=[password=broker-secret]', '--entity-type', 'users', '--entity-name', 'broker'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Completed updating config for entity: user-principal 'broker'\.\n$/)
    const d = await runCommand('kafka-configs', ['--zookeeper', connect, '--zk-tls-config-file', tls, '--describe', '--entity-type', 'users', '--entity-name', 'broker'], {env})
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.stdout, /Configs for user-principal 'broker' are SCRAM-SHA-512=salt=/)
    // Kafka's ACLs for the tool's identities: /config/users is only for its creator, the rest also world-readable.
    const c = new ZkClient(connect, {sessionTimeout: 10000, sasl: {username: 'kafka', password: 'kafka-secret'}, tls: () => ({ca: readFileSync(certs.caPem), cert: readFileSync(certs.client('alice').cert), key: readFileSync(certs.client('alice').key), rejectUnauthorized: true})})
    c.start()
    try {
      const acl = (await c.getACL('/config/users/broker')).acl
      assert.ok(acl.some(a => a.scheme === 'sasl' && a.id === 'kafka' && a.perms === 31), JSON.stringify(acl))
      assert.ok(!acl.some(a => a.scheme === 'world'), JSON.stringify(acl))
      const changes = await c.getChildren('/config/changes')
      const nacl = (await c.getACL(`/config/changes/${changes[0]}`)).acl
      assert.ok(nacl.some(a => a.scheme === 'world' && a.perms === 1) && nacl.some(a => a.scheme === 'sasl' && a.id === 'kafka'), JSON.stringify(nacl))
    } finally {
      await c.close()
    }
    // Without the JAAS file the server (sessionRequireClientSASLAuth) refuses the tool.
    const no = await runCommand('kafka-configs', ['--zookeeper', connect, '--zk-tls-config-file', tls, '--describe', '--entity-type', 'users'], {env: {KAFKA_OPTS: ''}, timeoutMs: 60000})
    assert.equal(no.code, 1, no.stdout)
  } finally {
    await server.stop()
  }
})
