// Replication between three kafkit brokers over a SASL_SSL inter-broker listener with a custom
// name (listener.security.protocol.map, inter.broker.listener.name=INTERNAL), SCRAM-SHA-512 as
// sasl.mechanism.inter.broker.protocol with the broker's credential bootstrapped into ZooKeeper
// by kafkit's kafka-configs --zookeeper (as Kafka's docs do it with Apache's), ACLs on with the broker as a
// super user; clients use the EXTERNAL (SASL_PLAINTEXT, PLAIN) listener. A replicated topic
// gets its ISR full, acks=all writes are on every replica, and after the leader is stopped the
// data is read from the new leader.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {waitFor, removeDir, runCommand} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {makeCerts, haveOpenssl, type CertFiles} from './certs.js'
import {startSecureBroker, apacheSkip, pyClient, scratch, KCAT, type SecureBroker} from './helpers.js'

const skip = !haveOpenssl() ? 'openssl is not installed' : apacheSkip()
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule'
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
let zk: ApacheZooKeeper
const brokers: SecureBroker[] = []
let certs: CertFiles
let dir: string

before(async () => {
  if (skip) return
  certs = makeCerts()
  dir = scratch()
  zk = await startApacheZooKeeper()
  // kafkit's own kafka-configs --zookeeper, as Kafka's docs create the inter-broker user.
  const boot = await runCommand('kafka-configs', ['--zookeeper', zk.connect, '--alter', '--add-config', 'SCRAM-SHA-512=[password=broker-secret]', '--entity-type', 'users', '--entity-name', 'broker'])
  assert.equal(boot.code, 0, boot.stderr)
  for (const id of [0, 1, 2]) {
    brokers.push(await startSecureBroker(zk.connect, {INTERNAL: 'SASL_SSL', EXTERNAL: 'SASL_PLAINTEXT'}, [
      'inter.broker.listener.name=INTERNAL',
      'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
      'listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512',
      `listener.name.internal.scram-sha-512.sasl.jaas.config=${SCRAM} required username="broker" password="broker-secret";`,
      'listener.name.external.sasl.enabled.mechanisms=PLAIN',
      `listener.name.external.plain.sasl.jaas.config=${PLAIN} required user_admin="admin-secret";`,
      'listener.name.internal.ssl.keystore.type=PEM',
      `listener.name.internal.ssl.keystore.location=${certs.brokerPem}`,
      'listener.name.internal.ssl.truststore.type=PEM',
      `listener.name.internal.ssl.truststore.location=${certs.caPem}`,
      'authorizer.class.name=kafka.security.authorizer.AclAuthorizer',
      'super.users=User:broker;User:admin',
      'default.replication.factor=3',
      'min.insync.replicas=2',
      'offsets.topic.replication.factor=3',
    ], {brokerId: id}))
  }
})

after(async () => {
  for (const b of brokers) await b.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const admin = {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'admin', 'sasl.password': 'admin-secret'}
const kcatAdmin = ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=admin', '-X', 'sasl.password=admin-secret']

async function isrs(b: SecureBroker, topic: string): Promise<string[]> {
  const md = await exec(KCAT, ['-L', '-b', b.addr('EXTERNAL'), '-t', topic, ...kcatAdmin, '-m', '5'])
  return [...md.stdout.matchAll(/partition \d+, leader (\d+), replicas: ([\d,]+), isrs: ([\d,]+)/g)].map(m => `leader=${m[1]} isr=${m[3].split(',').sort().join(',')}`)
}

test('three brokers replicate over a SASL_SSL inter-broker listener (SCRAM-SHA-512); the data survives the leader', {skip, timeout: 180000}, async () => {
  // Every broker registered the INTERNAL and EXTERNAL endpoints.
  const md = await exec(KCAT, ['-L', '-b', brokers[0].addr('EXTERNAL'), ...kcatAdmin, '-m', '5'])
  assert.match(md.stdout, /3 brokers:/)
  const r = await pyClient(brokers[0].addr('EXTERNAL'), 'replicated', 200, 'produce', {...admin, 'test.timeout.s': 30})
  assert.deepEqual(r.errors, [])
  assert.equal(r.delivered, 200)
  await waitFor(async () => (await isrs(brokers[0], 'replicated')).every(l => l.endsWith('isr=0,1,2')), 30000, 'the ISR of every partition to hold all three brokers')
  const [state] = await isrs(brokers[0], 'replicated')
  const leader = Number(/leader=(\d+)/.exec(state)![1])
  // Followers fetched over INTERNAL: their connections authenticated as User:broker.
  for (const b of brokers) assert.doesNotMatch(b.proc.output, /Failed authentication|Error fetching from leader/)
  // The group coordinator's topic (replication factor 3) is made while all three brokers are up.
  const first = await pyClient(brokers[0].addr('EXTERNAL'), 'replicated', 200, 'consume', {...admin, 'group.id': 'before-failover', 'test.timeout.s': 30})
  assert.equal(first.consumed, 200, first.errors.join('; '))
  await brokers[leader].stop('SIGTERM')
  const rest = brokers.filter((_, i) => i !== leader)
  await waitFor(async () => (await isrs(rest[0], 'replicated')).every(l => !l.includes(`leader=${leader} `) && !/leader=-1/.test(l)), 30000, 'a new leader')
  const c = await pyClient(rest[0].addr('EXTERNAL'), 'replicated', 200, 'consume', {...admin, 'group.id': 'after-failover', 'test.timeout.s': 30})
  assert.equal(c.consumed, 200, c.errors.join('; '))
})
