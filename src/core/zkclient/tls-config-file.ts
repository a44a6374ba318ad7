// --zk-tls-config-file / -zk-tls-config-file of Kafka's ZooKeeper tools (zookeeper-shell,
// zookeeper-security-migration): a properties file of which only the ZooKeeper client TLS keys
// are read (Kafka's ZkConfigs.ZK_SSL_CONFIG_TO_SYSTEM_PROPERTY_MAP); other keys are ignored.
import {existsSync} from 'node:fs'
import {loadProperties} from '../config/properties.js'

export const ZK_TLS_CONFIG_KEYS = [
  'zookeeper.clientCnxnSocket', 'zookeeper.ssl.client.enable', 'zookeeper.ssl.keystore.location',
  'zookeeper.ssl.keystore.password', 'zookeeper.ssl.keystore.type', 'zookeeper.ssl.truststore.location',
  'zookeeper.ssl.truststore.password', 'zookeeper.ssl.truststore.type', 'zookeeper.ssl.protocol',
  'zookeeper.ssl.enabled.protocols', 'zookeeper.ssl.cipher.suites', 'zookeeper.ssl.endpoint.identification.algorithm',
  'zookeeper.ssl.crl.enable', 'zookeeper.ssl.ocsp.enable',
]

/** The file's ZooKeeper TLS keys; a missing file is Java's NoSuchFileException line. */
export function loadZkTlsConfigFile(file: string): Map<string, string> {
  if (!existsSync(file)) throw new Error(`java.nio.file.NoSuchFileException: ${file}`)
  const all = loadProperties(file)
  return new Map([...all].filter(([k]) => ZK_TLS_CONFIG_KEYS.includes(k)))
}
