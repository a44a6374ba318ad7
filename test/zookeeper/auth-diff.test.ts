// Authentication and ACL enforcement, differential: the same kazoo scenario (no auth, addauth
// digest, SASL DIGEST-MD5 from the JAAS Server section, the super digest; every znode op on
// nodes with digest, sasl, auth, ip, world and mixed ACLs) against kafkit's ZooKeeper and
// Apache ZooKeeper 3.8 with the same zoo.cfg keys gives the same transcript.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {startApacheZk, requireApacheZk, tempDir, removeDir, logLines, JAAS, type ApacheZk} from './helpers.js'
import {startZooKeeperServer, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {repoRoot} from '../helpers/util.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(repoRoot, 'test', 'zookeeper', 'py', 'acl_scenario.py')
// super:super-pw as DigestAuthenticationProvider.generateDigest makes it.
const SUPER_DIGEST = 'super:Lvbj83IXgxN/8+aTp9PrmH2qZCE='


function skipReason(): string | false {
  try { requireApacheZk() } catch (e) { return (e as Error).message }
  if (!existsSync(PYTHON)) return `${PYTHON} is missing`
  return false
}

function scenario(port: number, mode: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, `127.0.0.1:${port}`, mode], {timeout: 120000}, (err, stdout, stderr) => {
      if (err && mode === 'acl') reject(new Error(`${mode} on ${port}: ${err.message}\n${stderr.slice(-2000)}`))
      else resolve(stdout)
    })
  })
}

async function startKafkit(dir: string, props: Record<string, string>): Promise<RunningZooKeeper> {
  const file = join(dir, 'zookeeper.properties')
  const all = {dataDir: join(dir, 'k-data'), clientPort: '0', clientPortAddress: '127.0.0.1', tickTime: '500', 'admin.enableServer': 'false', '4lw.commands.whitelist': '*', ...props}
  writeFileSync(file, Object.entries(all).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  return startZooKeeperServer(zkConfigFromProperties(new Map(Object.entries(all)), file))
}

const skip = skipReason()
let dir = ''
let kafkit: RunningZooKeeper | undefined
let apache: ApacheZk | undefined
const common = {
  'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
  'DigestAuthenticationProvider.superDigest': SUPER_DIGEST,
}

before(async () => {
  if (skip) return
  dir = tempDir('kafkit-zk-auth-')
  writeFileSync(join(dir, 'jaas.conf'), JAAS)
  kafkit = await startKafkit(dir, {...common, 'kafkit.jaas.config.file': 'jaas.conf'})
  apache = await startApacheZk(common, [`-Djava.security.auth.login.config=${join(dir, 'jaas.conf')}`])
})

after(async () => {
  await kafkit?.stop()
  await apache?.stop()
  if (dir) removeDir(dir)
})

test('ACLs on every op, for every kind of identity: the same transcript as Apache ZooKeeper 3.8', {skip}, async () => {
  const [k, a] = await Promise.all([scenario(kafkit!.port, 'acl'), scenario(apache!.port, 'acl')])
  const kl = k.trim().split('\n')
  const al = a.trim().split('\n')
  assert.ok(al.length > 500, `Apache's transcript is too short:\n${a}`)
  for (let i = 0; i < Math.max(kl.length, al.length); i++) assert.equal(kl[i], al[i], `line ${i + 1} differs`)
  // The scenario exercises what it claims (a transcript of errors everywhere would also be equal).
  for (const line of [
    "anon get /acl/digest NoAuthError", "alice get /acl/digest OK b'data'", "kafka get /acl/sasl OK b'data'",
    'admin get /acl/sasl NoAuthError', "super set /acl/sasl OK True", 'wrongpw get /acl/digest NoAuthError',
    'anon create-auth-acl /acl/n-anon InvalidACLError', 'anon create-x509-acl /acl/x-anon InvalidACLError',
    'anon getacl /acl/mixed OK digest:bob:x:wc,sasl:admin:da,world:anyone:r', 'anon delete /acl/readonly/anon NoAuthError',
  ]) assert.ok(kl.includes(line), `missing: ${line}`)
  assert.ok(logLines.some(l => l.includes('adding SASL authorization for authorizationID: kafka')))
})

test('a wrong SASL password or an unknown user: AuthFailed and the connection closed, as Apache', {skip}, async () => {
  const before = logLines.length
  const [k, a] = await Promise.all([scenario(kafkit!.port, 'saslfail'), scenario(apache!.port, 'saslfail')])
  assert.equal(k, a)
  assert.equal(k.trim(), 'wrong-password AuthFailedError\nunknown-user AuthFailedError')
  const lines = logLines.slice(before)
  assert.ok(lines.some(l => /failed to SASL authenticate: .*Mismatched response/.test(l)), lines.join('\n'))
  assert.ok(!lines.some(l => l.includes('kafka-secret')), 'a password in the log')
})
