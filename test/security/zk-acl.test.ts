// The broker's own ZooKeeper client: with zookeeper.set.acl=true and a JAAS Client section
// (ZooKeeper's DigestLoginModule, in the file KAFKA_OPTS names) the broker authenticates (digest:
// node-zookeeper-client has no SASL) and creates its znodes with Kafka's ACLs: creator-all plus
// world-read, creator-only on sensitive paths (/config/users, /config/brokers), /consumers open.
// A client without the credentials reads what Kafka leaves readable and cannot write; the
// broker still works; zookeeper.set.acl without credentials stops start-up with one line.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createRequire} from 'node:module'
import {removeDir, runCommand} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, scratch, KCAT, type SecureBroker} from './helpers.js'

const require = createRequire(import.meta.url)
const zookeeper = require('node-zookeeper-client')
let zk: ApacheZooKeeper
let broker: SecureBroker
let dir: string
let jaas: string
const DIGEST_ID = `kafka:${createHash('sha1').update('kafka:kafka-zk-secret').digest('base64')}`

before(async () => {
  dir = scratch()
  jaas = join(dir, 'jaas.conf')
  writeFileSync(jaas, 'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="kafka"\n  password="kafka-zk-secret";\n};\n')
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(`${zk.connect}/secured`, {PLAINTEXT: 'PLAINTEXT'}, ['zookeeper.set.acl=true'], {env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${jaas}`}})
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

function client(auth?: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(zk.connect, {sessionTimeout: 6000, retries: 0})
    if (auth) c.addAuthInfo('digest', Buffer.from(auth))
    const t = setTimeout(() => reject(new Error('ZooKeeper connect timeout')), 10000)
    c.once('connected', () => { clearTimeout(t); resolve(c) })
    c.connect()
  })
}

const call = <T>(fn: (cb: (err: any, v: T) => void) => void): Promise<T> => new Promise((resolve, reject) => fn((err, v) => err ? reject(err) : resolve(v)))
const aclsOf = async (c: any, path: string): Promise<string[]> => (await call<any[]>(cb => c.getACL(path, cb))).map(a => `${a.id.scheme}:${a.id.id}:${a.permission}`).sort()

test('with zookeeper.set.acl=true the broker\'s znodes carry Kafka\'s ACLs under its digest identity', async () => {
  // The broker serves (it created /brokers/topics/... under these ACLs).
  const p = await exec(KCAT, ['-P', '-b', broker.bootstrap, '-t', 'acl-topic'], {input: 'z\n'})
  assert.equal(p.code, 0, p.stderr)
  // ZooKeeper 3.8 shows a digest ACL's hash only to a client authenticated as that identity ("x" otherwise).
  const k = await client('kafka:kafka-zk-secret')
  const c = await client()
  try {
    assert.deepEqual(await aclsOf(c, '/secured/brokers/ids'), ['digest:kafka:x:31', 'world:anyone:1'])
    const readable = [`digest:${DIGEST_ID}:31`, 'world:anyone:1']
    for (const path of ['/secured/brokers/ids', '/secured/brokers/ids/0', '/secured/brokers/topics/acl-topic', '/secured/cluster/id', '/secured/controller', '/secured/config/topics']) {
      assert.deepEqual(await aclsOf(k, path), readable, path)
    }
    assert.deepEqual(await aclsOf(k, '/secured/config/users'), [`digest:${DIGEST_ID}:31`])
    assert.deepEqual(await aclsOf(k, '/secured/config/brokers'), [`digest:${DIGEST_ID}:31`])
    assert.deepEqual(await aclsOf(k, '/secured/consumers'), ['world:anyone:31'])
    // Without the credentials: reads where Kafka allows them, no writes.
    assert.ok((await call<string[]>(cb => c.getChildren('/secured/brokers/ids', cb))).includes('0'))
    await assert.rejects(call(cb => c.create('/secured/brokers/topics/sneaky', Buffer.from('{}'), cb)), (e: any) => e.name === 'NO_AUTH')
    await assert.rejects(call(cb => c.getChildren('/secured/config/users', cb)), (e: any) => e.name === 'NO_AUTH')
    // With them, the znodes are writable as the broker's.
    await call(cb => k.create('/secured/config/users/probe', Buffer.from('{"version":1,"config":{}}'), cb))
    await call(cb => k.remove('/secured/config/users/probe', -1, cb))
  } finally {
    c.close()
    k.close()
  }
})

test('zookeeper.set.acl=true without ZooKeeper credentials stops start-up with one line, as Kafka does', async () => {
  const cfg = join(dir, 'nocreds.properties')
  writeFileSync(cfg, `broker.id=5\nlog.dirs=${join(dir, 'logs5')}\nzookeeper.connect=${zk.connect}/other\nlisteners=PLAINTEXT://127.0.0.1:0\nzookeeper.set.acl=true\n`)
  const r = await runCommand('kafka-server-start', [cfg], {timeoutMs: 30000, env: {KAFKA_OPTS: ''}})
  assert.equal(r.code, 1)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, /zookeeper\.set\.acl is true in .*, but the broker has no ZooKeeper credentials/)
})
