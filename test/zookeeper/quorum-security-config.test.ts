// The quorum security keys of zookeeper.properties as Apache ZooKeeper 3.8's QuorumPeerConfig
// checks them: the SASL switches' dependencies, the JAAS sections, the TLS stores, and the
// QuorumAuthPacket encoding (the magic number as Java's long has it).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {encodeAuthPacket, AuthStatus} from '../../src/core/zookeeper/quorum/quorum-auth.js'
import {looksLikeTls} from '../../src/core/zookeeper/quorum/quorum-tls.js'
import {tempDir, removeDir} from '../helpers/util.js'

function config(dir: string, extra: Record<string, string>) {
  return zkConfigFromProperties(new Map(Object.entries({dataDir: join(dir, 'data'), clientPort: '0', ...extra})), join(dir, 'zookeeper.properties'))
}

test('quorum security keys: parsed, and checked as Apache checks them', () => {
  const dir = tempDir('kafkit-qsec-')
  try {
    const jaas = join(dir, 'jaas.conf')
    writeFileSync(jaas, 'QuorumServer {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="pw" user_other="x";\n};\nLearner2 {\n org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="pw";\n};\n')
    const c = config(dir, {'quorum.auth.enableSasl': 'true', 'quorum.auth.learnerRequireSasl': 'true', 'quorum.auth.serverRequireSasl': 'TRUE', 'quorum.auth.learner.saslLoginContext': 'Learner2', 'kafkit.jaas.config.file': jaas, 'quorum.auth.kerberos.servicePrincipal': 'zkquorum/_HOST'})
    const q = c.quorumSecurity
    assert.deepEqual([q.saslEnabled, q.learnerRequireSasl, q.serverRequireSasl], [true, true, true])
    assert.deepEqual(q.learnerLogin, {username: 'zk', password: 'pw'})
    assert.deepEqual([...q.serverUsers!], [['zk', 'pw'], ['other', 'x']])
    assert.deepEqual(c.unknownKeys, [])
    assert.throws(() => config(dir, {'quorum.auth.serverRequireSasl': 'true'}), /quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl/)
    assert.throws(() => config(dir, {'quorum.auth.enableSasl': 'true', 'quorum.auth.serverRequireSasl': 'true', 'kafkit.jaas.config.file': jaas}), /quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl/)
    assert.throws(() => config(dir, {'quorum.auth.enableSasl': 'yes'}), /Invalid option yes for quorum.auth.enableSasl/)
    assert.throws(() => config(dir, {'quorum.auth.enableSasl': 'true', 'kafkit.jaas.config.file': jaas}), /JAAS configuration section 'QuorumLearner' could not be found/)
    assert.throws(() => config(dir, {sslQuorum: 'true'}), /ssl.quorum.keyStore.location is not set/)
    assert.throws(() => config(dir, {sslQuorum: 'true', 'ssl.quorum.keyStore.location': 'k.p12'}), /ssl.quorum.trustStore.location is not set/)
    assert.throws(() => config(dir, {sslQuorum: 'true', 'ssl.quorum.keyStore.location': 'k.p12', 'ssl.quorum.trustStore.location': 't.p12', 'ssl.quorum.clientAuth': 'maybe'}), /ssl.quorum.clientAuth/)
    const t = config(dir, {sslQuorum: 'true', portUnification: 'true', 'ssl.quorum.keyStore.location': 'k.p12', 'zookeeper.ssl.quorum.trustStore.location': 't.p12', 'ssl.quorum.hostnameVerification': 'false'}).quorumSecurity
    assert.deepEqual([t.sslQuorum, t.portUnification, t.hostnameVerification, t.clientAuth, t.tlsKeys.get('ssl.quorum.trustStore.location')], [true, true, false, 'need', 't.p12'])
  } finally {
    removeDir(dir)
  }
})

test('QuorumAuthPacket bytes: magic 0x5f2435013501edcc, status, token; a TLS record header is told from quorum traffic', () => {
  assert.equal(encodeAuthPacket(AuthStatus.IN_PROGRESS, Buffer.alloc(0)).toString('hex'), '5f2435013501edcc' + '00000000' + '00000000')
  assert.equal(encodeAuthPacket(AuthStatus.SUCCESS, null).toString('hex'), '5f2435013501edcc' + '00000001' + 'ffffffff')
  assert.equal(encodeAuthPacket(AuthStatus.ERROR, Buffer.from('ab')).toString('hex'), '5f2435013501edcc' + 'ffffffff' + '00000002' + '6162')
  assert.ok(looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])))
  assert.ok(!looksLikeTls(Buffer.from([0x00, 0x00, 0x00, 0x0b, 0x00])), 'FOLLOWERINFO')
  assert.ok(!looksLikeTls(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])), 'an election initial message')
  assert.ok(!looksLikeTls(encodeAuthPacket(0, null).subarray(0, 5)), 'a quorum auth packet')
})
