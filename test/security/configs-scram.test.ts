// Users created with kafkit's own kafka-configs (AlterUserScramCredentials: the salted password
// computed by the tool as Java's ScramFormatter computes it) log in over SASL_PLAINTEXT with
// SCRAM-SHA-256 and SCRAM-SHA-512 (kcat); a wrong password is refused; after kafkit's
// kafka-configs --delete-config the credential stops working; --describe shows only mechanisms
// and iterations, never a secret.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {runCommand, removeDir, waitFor} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, apacheSkip, peerSkip, scratch, KCAT, type SecureBroker} from './helpers.js'

const skip = apacheSkip() || peerSkip(KCAT)
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule'
let zk: ApacheZooKeeper
let broker: SecureBroker
let dir: string

before(async () => {
  if (skip) return
  dir = scratch()
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT'}, [
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${SCRAM} required;`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${SCRAM} required;`,
  ])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const configs = (...args: string[]) => runCommand('kafka-configs', ['--bootstrap-server', broker.addr('PLAINTEXT'), ...args])
const login = (mech: string, user: string, pw: string) => exec(KCAT, ['-L', '-b', broker.addr('SASL_PLAINTEXT'), '-X', 'security.protocol=sasl_plaintext', '-X', `sasl.mechanisms=${mech}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${pw}`, '-m', '5'])

test('SCRAM users made by kafkit\'s kafka-configs log in; deleted ones do not', {skip}, async () => {
  const a = await configs('--alter', '--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-512]')
  assert.equal(a.stdout, 'Completed updating config for user alice.\n', a.stderr)
  const d = await configs('--describe', '--user', 'alice')
  assert.equal(d.stdout, 'SCRAM credential configs for user-principal \'alice\' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n')
  assert.doesNotMatch(d.stdout + d.stderr, /secret|alice-512/)
  await waitFor(async () => (await login('SCRAM-SHA-256', 'alice', 'alice-secret')).code === 0, 15000, 'alice to log in with SCRAM-SHA-256')
  assert.equal((await login('SCRAM-SHA-512', 'alice', 'alice-512')).code, 0)
  const wrong = await login('SCRAM-SHA-256', 'alice', 'wrong')
  assert.notEqual(wrong.code, 0)
  assert.match(wrong.stderr, /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/)
  const del = await configs('--alter', '--user', 'alice', '--delete-config', 'SCRAM-SHA-512')
  assert.equal(del.stdout, 'Completed updating config for user alice.\n', del.stderr)
  await waitFor(async () => (await login('SCRAM-SHA-512', 'alice', 'alice-512')).code !== 0, 15000, 'the deleted credential to be refused')
  assert.equal((await login('SCRAM-SHA-256', 'alice', 'alice-secret')).code, 0)
})
