// zookeeper-security-migration, differential: kafkit's tool and Apache Kafka 3.9's
// ZkSecurityMigrator run on identical Kafka-shaped trees (made with world-open ACLs, as brokers
// without zookeeper.set.acl leave them) leave the same ACL on every znode, print the same lines
// and exit with the same codes; secure, then unsecure; refusals without an identity.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir, removeDir, JAAS} from './helpers.js'
import {startZooKeeperServer, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {repoRoot, runCommand} from '../helpers/util.js'
import {apacheKafkaHome} from '../tools/apache-kafka.js'

const PYTHON = '/usr/bin/python3'
const DUMP = join(repoRoot, 'test', 'zookeeper', 'py', 'acl_dump.py')
const SUPER_DIGEST = 'super:Lvbj83IXgxN/8+aTp9PrmH2qZCE='

function skipReason(): string | false {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`
  if (!apacheKafkaHome()) return 'Apache Kafka 3.9 is not installed'
  return false
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise(resolve => {
    execFile(cmd, args, {timeout: 120000, env: {...process.env, ...env}}, (err, stdout, stderr) => resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr}))
  })
}

async function dump(port: number, mode = 'dump'): Promise<string> {
  const r = await exec(PYTHON, [DUMP, `127.0.0.1:${port}`, mode])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

/** Apache Kafka 3.9's ZkSecurityMigrator (its distribution here has no zookeeper-security-migration script). */
function apacheTool(args: string[], jvm: string[] = []): Promise<{code: number; stdout: string; stderr: string}> {
  const home = apacheKafkaHome()!
  return exec('java', ['-Xmx256m', `-Dlog4j.configuration=file:${join(home, 'config', 'tools-log4j.properties')}`, ...jvm, '-cp', join(home, 'libs', '*'), 'kafka.admin.ZkSecurityMigrator', ...args])
}

const skip = skipReason()
let dir = ''
const servers: RunningZooKeeper[] = []

async function startZk(name: string): Promise<RunningZooKeeper> {
  const props = {
    dataDir: join(dir, name), clientPort: '0', clientPortAddress: '127.0.0.1', tickTime: '500', 'admin.enableServer': 'false',
    'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    'DigestAuthenticationProvider.superDigest': SUPER_DIGEST, 'kafkit.jaas.config.file': join(dir, 'jaas.conf'),
  }
  const zk = await startZooKeeperServer(zkConfigFromProperties(new Map(Object.entries(props)), join(dir, `${name}.properties`)))
  servers.push(zk)
  return zk
}

before(async () => {
  if (skip) return
  dir = tempDir('kafkit-zk-migration-')
  writeFileSync(join(dir, 'jaas.conf'), JAAS)
})

after(async () => {
  for (const s of servers) await s.stop()
  if (dir) removeDir(dir)
})

test('secure then unsecure: the same ACL on every znode, the same output, as Apache Kafka 3.9', {skip}, async () => {
  const [a, b] = [await startZk('a'), await startZk('b')]
  await dump(a.port, 'populate')
  await dump(b.port, 'populate')
  const jaasOpt = `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`
  for (const acl of ['secure', 'unsecure']) {
    const k = await runCommand('zookeeper-security-migration', ['--zookeeper.acl', acl, '--zookeeper.connect', `127.0.0.1:${a.port}`], {env: {KAFKA_OPTS: jaasOpt}})
    const j = await apacheTool(['--zookeeper.acl', acl, '--zookeeper.connect', `127.0.0.1:${b.port}`], [jaasOpt])
    assert.equal(k.code, j.code, `${k.stderr}\n---\n${j.stderr}`)
    assert.equal(k.code, 0, k.stderr)
    assert.equal(k.stdout, j.stdout)
    const [dk, dj] = [await dump(a.port), await dump(b.port)]
    assert.equal(dk, dj)
    if (acl === 'secure') {
      assert.match(k.stdout, /^Warning: The following secure root paths do not exist in ZooKeeper: \/delegation_token,/)
      assert.match(dk, /^\/brokers\/ids\/0 sasl:kafka:31,world:anyone:1$/m)
      assert.match(dk, /^\/config\/users\/alice sasl:kafka:31$/m)
      assert.match(dk, /^\/consumers world:anyone:31$/m)
      assert.match(dk, /^\/unrelated world:anyone:31$/m)
      assert.match(dk, /^\/kafka-acl-extended\/prefixed sasl:kafka:31,world:anyone:1$/m)
    } else {
      assert.doesNotMatch(dk, /sasl:/)
    }
  }
})

test('--enable.path.check with missing root paths: the same lines and exit code; no identity: refused as Apache', {skip}, async () => {
  const c = await startZk('c')
  const jaasOpt = `-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`
  const args = ['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${c.port}/nothing-here`, '--enable.path.check']
  const k = await runCommand('zookeeper-security-migration', args, {env: {KAFKA_OPTS: jaasOpt}})
  const j = await apacheTool(args, [jaasOpt])
  assert.equal(k.code, j.code)
  assert.equal(k.code, 1)
  assert.equal(k.stdout, j.stdout)
  assert.match(k.stdout, /Exit the command\.\n$/)
  const kn = await runCommand('zookeeper-security-migration', ['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${c.port}`], {env: {KAFKA_OPTS: ''}})
  const jn = await apacheTool(['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${c.port}`])
  assert.equal(kn.code, 1)
  assert.equal(jn.code, 1)
  assert.equal(kn.stderr.split('\n').slice(0, 2).join('\n'), jn.stderr.split('\n').slice(0, 2).join('\n'))
  // A JAAS file without a Client section: "Security isn't enabled".
  const noClient = join(dir, 'server-only.conf')
  writeFileSync(noClient, JAAS.replace(/Client \{[^}]*\};\n/, ''))
  const ks = await runCommand('zookeeper-security-migration', ['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${c.port}`], {env: {KAFKA_OPTS: `-Djava.security.auth.login.config=${noClient}`}})
  const js = await apacheTool(['--zookeeper.acl', 'secure', '--zookeeper.connect', `127.0.0.1:${c.port}`], [`-Djava.security.auth.login.config=${noClient}`])
  assert.equal(ks.code, 1)
  assert.equal(ks.stdout, js.stdout)
  assert.match(ks.stdout, /^ERROR: Security isn't enabled/)
})
