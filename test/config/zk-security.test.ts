// zookeeper.properties security keys: what is accepted, what warns, what stops start-up.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {zkConfigFromProperties} from '../../src/core/config/zk-config.js'
import {tempDir, removeDir} from '../helpers/util.js'

const base = {dataDir: '/tmp/kafkit-zk-security-config-test', clientPort: '2181'}
const load = (props: Record<string, string>) => zkConfigFromProperties(new Map(Object.entries({...base, ...props})), 'zk.properties')

test('SASL users from the JAAS Server section named by kafkit.jaas.config.file; providers; enforced schemes', () => {
  const dir = tempDir('kafkit-zk-jaas-')
  try {
    writeFileSync(join(dir, 'jaas.conf'), 'Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_kafka="k-pw" user_admin="a-pw"; };\n')
    const c = zkConfigFromProperties(new Map(Object.entries({...base, 'kafkit.jaas.config.file': 'jaas.conf', 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider', sessionRequireClientSASLAuth: 'true', 'zookeeper.superUser': 'admin'})), join(dir, 'zk.properties'))
    assert.deepEqual([...c.security.saslUsers!.keys()], ['kafka', 'admin'])
    assert.ok(c.security.schemes.has('sasl'))
    assert.deepEqual(c.security.enforceSchemes, ['sasl'])
    assert.deepEqual(c.security.saslSuperUsers, ['admin'])
    assert.deepEqual(c.unknownKeys, [])
  } finally {
    removeDir(dir)
  }
})

test('bad or ineffective security keys: one clear line each', () => {
  assert.throws(() => load({sessionRequireClientSASLAuth: 'true'}), /Authentication scheme sasl is not available.*authProvider\.1=org\.apache\.zookeeper\.server\.auth\.SASLAuthenticationProvider/)
  assert.throws(() => load({'enforce.auth.enabled': 'true'}), /enforce\.auth\.schemes must be/)
  assert.throws(() => load({secureClientPort: '2182'}), /ssl\.keyStore\.location is not/)
  assert.throws(() => load({secureClientPort: '2182', 'ssl.keyStore.location': 'x.pem', 'ssl.clientAuth': 'maybe'}), /ssl\.clientAuth.*need, want or none/)
  assert.throws(() => load({'kafkit.jaas.config.file': '/nonexistent/jaas.conf'}), /Cannot read the JAAS configuration file \/nonexistent\/jaas\.conf \(kafkit\.jaas\.config\.file in zk\.properties\)/)
  const c = load({requireClientAuthScheme: 'sasl', 'authProvider.2': 'com.example.Custom'})
  assert.equal(c.security.enforceSchemes.length, 0)
  assert.ok(c.security.warnings.some(w => /requireClientAuthScheme=sasl .* has no effect in ZooKeeper 3\.8/.test(w)))
  assert.ok(c.security.warnings.some(w => /Problems loading com\.example\.Custom/.test(w)))
  const tls = load({secureClientPort: '2182', 'ssl.keyStore.location': 'server.p12', 'ssl.keyStore.password': 'secret-pw'})
  assert.equal(tls.security.secureClientPort, 2182)
  assert.equal(tls.security.tls!.clientAuth, 'need')
  assert.equal(tls.clientPortEnabled, true)
})
