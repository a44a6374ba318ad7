// ZooKeeper client TLS settings given as JVM system properties, as Kafka 3.9 takes them from
// KAFKA_OPTS (-Dzookeeper.client.secure=true -Dzookeeper.clientCnxnSocket=...
// -Dzookeeper.ssl.keyStore.location=... -Dzookeeper.ssl.trustStore.password=...): the broker
// (KafkaConfig) uses a zookeeper.ssl.* key of server.properties when the file gives it and the
// system property Kafka maps it to otherwise; the ZooKeeper tools (zookeeper-shell,
// zookeeper-security-migration) start from the system properties and let the keys of a
// --zk-tls-config-file override them. Both come down to: the file's key first, then the -D.

/** Kafka's ZooKeeper client TLS key -> the system property of Apache's ZooKeeper client (Kafka's ZkConfigs map). */
export const ZK_TLS_SYSTEM_PROPERTY: Readonly<Record<string, string>> = {
  'zookeeper.ssl.client.enable': 'zookeeper.client.secure',
  'zookeeper.clientCnxnSocket': 'zookeeper.clientCnxnSocket',
  'zookeeper.ssl.keystore.location': 'zookeeper.ssl.keyStore.location',
  'zookeeper.ssl.keystore.password': 'zookeeper.ssl.keyStore.password',
  'zookeeper.ssl.keystore.type': 'zookeeper.ssl.keyStore.type',
  'zookeeper.ssl.truststore.location': 'zookeeper.ssl.trustStore.location',
  'zookeeper.ssl.truststore.password': 'zookeeper.ssl.trustStore.password',
  'zookeeper.ssl.truststore.type': 'zookeeper.ssl.trustStore.type',
  'zookeeper.ssl.protocol': 'zookeeper.ssl.protocol',
  'zookeeper.ssl.enabled.protocols': 'zookeeper.ssl.enabledProtocols',
  'zookeeper.ssl.cipher.suites': 'zookeeper.ssl.ciphersuites',
  'zookeeper.ssl.endpoint.identification.algorithm': 'zookeeper.ssl.hostnameVerification',
  'zookeeper.ssl.crl.enable': 'zookeeper.ssl.crl',
  'zookeeper.ssl.ocsp.enable': 'zookeeper.ssl.ocsp',
}

/** The JVM option variables of the broker (kafka-run-class passes KAFKA_OPTS to java; KAFKIT_OPTS is kafkit's own). */
export const BROKER_JVM_OPTION_VARS = ['KAFKA_OPTS', 'KAFKIT_OPTS']
/** ... and of the ZooKeeper tools (CLIENT_JVMFLAGS is what Apache's zkCli.sh passes). */
export const ZK_TOOL_JVM_OPTION_VARS = ['CLIENT_JVMFLAGS', 'KAFKA_OPTS', 'KAFKIT_OPTS']

export interface SystemProperty {
  value: string
  /** The variable it was read from (KAFKA_OPTS, ...). */
  from: string
}

/** Splits a JVM option string into words: blanks separate, double quotes group (and are removed). */
function words(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  let quoted = false
  for (const c of text) {
    if (c === '"') { quoted = !quoted; inWord = true; continue }
    if (!quoted && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (inWord) out.push(cur)
      cur = ''
      inWord = false
      continue
    }
    cur += c
    inWord = true
  }
  if (inWord) out.push(cur)
  return out
}

/**
 * The -D<name>=<value> system properties of the JVM option variables vars (in that order; as
 * for java, a later -D of the same name wins). -D<name> alone is the empty string.
 */
export function jvmSystemProperties(env: NodeJS.ProcessEnv = process.env, vars: readonly string[] = BROKER_JVM_OPTION_VARS): Map<string, SystemProperty> {
  const out = new Map<string, SystemProperty>()
  for (const from of vars) {
    for (const w of words(env[from] ?? '')) {
      if (!w.startsWith('-D') || w.length < 3) continue
      const eq = w.indexOf('=')
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq)
      if (name === '') continue
      out.set(name, {value: eq < 0 ? '' : w.slice(eq + 1), from})
    }
  }
  return out
}

/**
 * The value of Kafka's ZooKeeper TLS key from a system property, translated as KafkaConfig
 * does: zookeeper.client.secure, zookeeper.ssl.crl and zookeeper.ssl.ocsp are "true" or
 * "false" (anything but "true" is false), zookeeper.ssl.hostnameVerification=true is HTTPS and
 * anything else the empty algorithm (no host name check). Undefined when the property is not set.
 */
export function zkTlsSystemProperty(key: string, sys: Map<string, SystemProperty>): (SystemProperty & {name: string}) | undefined {
  const name = ZK_TLS_SYSTEM_PROPERTY[key]
  const p = name === undefined ? undefined : sys.get(name)
  if (p === undefined) return undefined
  let value = p.value
  if (key === 'zookeeper.ssl.client.enable' || key === 'zookeeper.ssl.crl.enable' || key === 'zookeeper.ssl.ocsp.enable') value = value === 'true' ? 'true' : 'false'
  else if (key === 'zookeeper.ssl.endpoint.identification.algorithm') value = value === 'true' ? 'HTTPS' : ''
  return {value, from: p.from, name}
}
