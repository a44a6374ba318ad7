// The broker's own ZooKeeper client: with zookeeper.set.acl=true and a JAAS Client section
// (ZooKeeper's DigestLoginModule, in the file KAFKA_OPTS names) the broker authenticates with
// SASL DIGEST-MD5, as Kafka 3.9's, and creates its znodes with Kafka's ACLs: creator-all plus
// world-read, creator-only on sensitive paths (/config/users, /config/brokers), /consumers open.
// A client without the credentials reads what Kafka leaves readable and cannot write; the
// broker still works; zookeeper.set.acl without credentials stops start-up with one line.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {removeDir, runCommand} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {startApacheZk, type ApacheZk} from '../zookeeper/helpers.js'
import {ZkClient} from '../../src/core/zkclient/client.js'
import {startSecureBroker, scratch, KCAT, type SecureBroker} from './helpers.js'

let zk: ApacheZk
let broker: SecureBroker
let dir: string
let jaas: string

before(async () => {
  dir = scratch()
  jaas = join(dir, 'jaas.conf')
  writeFileSync(jaas, [
    'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_kafka="kafka-zk-secret";\n};',
    'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="kafka"\n  password="kafka-zk-secret";\n};', '',
  ].join('\n'))
  zk = await startApacheZk({'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider'}, [`-Djava.security.auth.login.config=${jaas}`])
  broker = await startSecureBroker(`127.0.0.1:${zk.port}/secured`, {PLAINTEXT: 'PLAINTEXT'}, ['zookeeper.set.acl=true'], {env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${jaas}`}})
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

async function client(sasl?: {username: string; password: string}): Promise<ZkClient> {
  const c = new ZkClient(`127.0.0.1:${zk.port}`, {sessionTimeout: 6000, sasl})
  c.start()
  await c.exists('/')
  return c
}

const aclsOf = async (c: ZkClient, path: string): Promise<string[]> => (await c.getACL(path)).acl.map(a => `${a.scheme}:${a.id}:${a.perms}`).sort()

test('with zookeeper.set.acl=true the broker\'s znodes carry Kafka\'s ACLs under its SASL identity, as Kafka 3.9\'s', async () => {
  // The broker serves (it created /brokers/topics/... under these ACLs).
  const p = await exec(KCAT, ['-P', '-b', broker.bootstrap, '-t', 'acl-topic'], {input: 'z\n'})
  assert.equal(p.code, 0, p.stderr)
  const k = await client({username: 'kafka', password: 'kafka-zk-secret'})
  const c = await client()
  try {
    // Kafka 3.9's broker authenticates with SASL DIGEST-MD5 (JAAS Client section): ZooKeeper's
    // creator-all ACL becomes sasl:<user>, not digest:<user>:<hash>.
    const readable = ['sasl:kafka:31', 'world:anyone:1']
    for (const path of ['/secured/brokers/ids', '/secured/brokers/ids/0', '/secured/brokers/topics/acl-topic', '/secured/cluster/id', '/secured/controller', '/secured/config/topics']) {
      assert.deepEqual(await aclsOf(c, path), readable, path)
    }
    // Sensitive paths: only the broker's identity may read them (ZooKeeper 3.8 wants READ or ADMIN for getACL).
    await assert.rejects(c.getACL('/secured/config/users'), /NoAuth/)
    assert.deepEqual(await aclsOf(k, '/secured/config/users'), ['sasl:kafka:31'])
    assert.deepEqual(await aclsOf(k, '/secured/config/brokers'), ['sasl:kafka:31'])
    assert.deepEqual(await aclsOf(c, '/secured/consumers'), ['world:anyone:31'])
    // Without the credentials: reads where Kafka allows them, no writes.
    assert.ok((await c.getChildren('/secured/brokers/ids')).includes('0'))
    await assert.rejects(c.create('/secured/brokers/topics/sneaky', Buffer.from('{}'), [{perms: 31, scheme: 'world', id: 'anyone'}], 0), /NoAuth/)
    await assert.rejects(c.getChildren('/secured/config/users'), /NoAuth/)
    // With them (the same SASL user), the znodes are writable as the broker's.
    await k.create('/secured/config/users/probe', Buffer.from('{"version":1,"config":{}}'), [{perms: 31, scheme: 'world', id: 'anyone'}], 0)
    await k.delete('/secured/config/users/probe')
  } finally {
    await c.close()
    await k.close()
  }
})

test('a JAAS Client section against a ZooKeeper without SASL: start-up stops with AuthFailed, as Kafka 3.9\'s does', async () => {
  // Apache Kafka 3.9 here: "SASL authentication failed using login context 'Client'" and
  // "Exiting Kafka due to fatal exception during startup ... AuthFailedException".
  const plain: ApacheZooKeeper = await startApacheZooKeeper()
  try {
    const cfg = join(dir, 'nosasl.properties')
    writeFileSync(cfg, `broker.id=6\nlog.dirs=${join(dir, 'logs6')}\nzookeeper.connect=${plain.connect}/nosasl\nlisteners=PLAINTEXT://127.0.0.1:0\nzookeeper.set.acl=true\n`)
    const t0 = Date.now()
    const r = await runCommand('kafka-server-start', [cfg], {timeoutMs: 60000, env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${jaas}`}})
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /Auth failed either before or while waiting for connection/)
    assert.ok(Date.now() - t0 < 30000)
  } finally {
    await plain.stop()
  }
})

test('zookeeper.set.acl=true without ZooKeeper credentials stops start-up with one line, as Kafka does', async () => {
  const cfg = join(dir, 'nocreds.properties')
  writeFileSync(cfg, `broker.id=5\nlog.dirs=${join(dir, 'logs5')}\nzookeeper.connect=127.0.0.1:${zk.port}/other\nlisteners=PLAINTEXT://127.0.0.1:0\nzookeeper.set.acl=true\n`)
  const r = await runCommand('kafka-server-start', [cfg], {timeoutMs: 30000, env: {KAFKA_OPTS: ''}})
  assert.equal(r.code, 1)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, /zookeeper\.set\.acl is true in .*, but the broker has no ZooKeeper credentials/)
})
