// TLS for ZooKeeper connections. Server side: secureClientPort with zoo.cfg's ssl.keyStore.* /
// ssl.trustStore.* / ssl.clientAuth (need, want, none) / ssl.enabledProtocols / ssl.ciphersuites.
// Client side: Kafka's names for its ZooKeeper client (server.properties, --zk-tls-config-file):
// zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, zookeeper.ssl.keystore.* /
// truststore.*, zookeeper.ssl.enabled.protocols, zookeeper.ssl.cipher.suites,
// zookeeper.ssl.endpoint.identification.algorithm; the Java client's own names
// (zookeeper.client.secure, zookeeper.ssl.keyStore.location, ...) are read too, in the file
// and, for a key the file lacks, as -D system properties in KAFKA_OPTS.
// Key material (PEM, PKCS12, JKS) is read by the broker's TLS code (security/tls.ts).
import type {TlsOptions, ConnectionOptions} from 'node:tls'
import {ListenerSettings} from '../security/config.js'
import {keyStore, trustStore, protocolRange, cipherOptions, serverIdentityCheck, pfxAnchors} from '../security/tls.js'
import {storeType, type ZkTlsKeys} from '../config/zk-security.js'
import {ConfigError} from '../config/settings.js'
import {zkTlsSystemProperty, type SystemProperty} from '../zkclient/system-properties.js'

/** ListenerSettings over broker-style key names whose messages name the keys as the file spells them. */
class MappedSettings extends ListenerSettings {
  constructor(props: Map<string, string>, source: string, private readonly names: Record<string, string>) {
    super(props, 'zookeeper', source)
  }

  override keyName(key: string): string {
    return this.names[key] ?? key
  }
}

function mapped(get: (k: string) => string | undefined, source: string, names: Record<string, string>, computed: Record<string, string | undefined>): MappedSettings {
  const props = new Map<string, string>()
  for (const [broker, own] of Object.entries(names)) {
    const v = computed[broker] ?? get(own)
    if (v !== undefined && v !== '') props.set(broker, v)
  }
  return new MappedSettings(props, source, names)
}

/** The server's TLS options for secureClientPort. */
export function zkServerTlsOptions(tls: ZkTlsKeys, source: string): TlsOptions {
  const ls = zkServerSettings(tls, source)
  const ks = keyStore(ls)
  if (!ks) throw new ConfigError(`secureClientPort is set in ${source} but ssl.keyStore.location is not`)
  const ts = trustStore(ls)
  return {
    ...ks.context,
    ...(ts ? {ca: ts.context.ca} : {}),
    ...protocolRange(ls),
    ...cipherOptions(ls),
    requestCert: tls.clientAuth !== 'none',
    // Certificates are checked by node; with "want" an untrusted one is refused after the handshake.
    rejectUnauthorized: tls.clientAuth === 'need',
  }
}

/**
 * With a PKCS12 key store and a trust store: the trust store's certificates, which a client
 * certificate's chain must lead to (Node also trusts the CAs bundled in the pfx; Apache's
 * ZooKeeper does not). Undefined otherwise.
 */
export function zkServerTrustAnchors(tls: ZkTlsKeys, source: string): Set<string> | undefined {
  const ls = zkServerSettings(tls, source)
  return pfxAnchors(keyStore(ls), trustStore(ls))
}

function zkServerSettings(tls: ZkTlsKeys, source: string): MappedSettings {
  return zkSettings(k => tls.keys.get(k), 'ssl.', source)
}

/**
 * Apache ZooKeeper's X509Util keys under a prefix (ssl. for the client port, ssl.quorum. for
 * the quorum) as the Kafka-style settings the shared TLS code reads.
 */
function zkSettings(get: (k: string) => string | undefined, prefix: string, source: string): MappedSettings {
  const names: Record<string, string> = {
    'ssl.keystore.location': `${prefix}keyStore.location`, 'ssl.keystore.password': `${prefix}keyStore.password`,
    'ssl.key.password': `${prefix}keyStore.password`, 'ssl.keystore.type': `${prefix}keyStore.type`,
    'ssl.truststore.location': `${prefix}trustStore.location`, 'ssl.truststore.password': `${prefix}trustStore.password`,
    'ssl.truststore.type': `${prefix}trustStore.type`, 'ssl.enabled.protocols': `${prefix}enabledProtocols`, 'ssl.cipher.suites': `${prefix}ciphersuites`,
  }
  const computed = {
    'ssl.keystore.type': storeType(get(`${prefix}keyStore.type`), get(`${prefix}keyStore.location`), `${prefix}keyStore.location`, source),
    'ssl.truststore.type': storeType(get(`${prefix}trustStore.type`), get(`${prefix}trustStore.location`), `${prefix}trustStore.location`, source),
    // ssl.protocol alone enables only that protocol (X509Util), TLSv1.2 and TLSv1.3 otherwise.
    'ssl.enabled.protocols': get(`${prefix}enabledProtocols`) ?? get(`${prefix}protocol`),
  }
  return mapped(get, source, names, computed)
}

/**
 * A Kafka-style ZooKeeper client config (server.properties or a --zk-tls-config-file) over the
 * -D system properties of the JVM option variables: a key the config gives wins, else the
 * system property Kafka maps it to (zkclient/system-properties.ts). label names where a value
 * came from, for messages ("KAFKA_OPTS -Dzookeeper.ssl.keyStore.location").
 */
export function zkClientConfigWithSystemProperties(get: (k: string) => string | undefined, sys: Map<string, SystemProperty> = new Map()): {get: (k: string) => string | undefined; label: (k: string) => string} {
  return {
    get: k => get(k) ?? zkTlsSystemProperty(k, sys)?.value,
    label: k => {
      if (get(k) !== undefined) return k
      const p = zkTlsSystemProperty(k, sys)
      return p ? `${p.from} -D${p.name}` : k
    },
  }
}

/** Whether a Kafka-style ZooKeeper client config asks for TLS (zookeeper.ssl.client.enable, or the Java client's zookeeper.client.secure). */
export function zkClientTlsEnabled(get: (k: string) => string | undefined, sys?: Map<string, SystemProperty>): boolean {
  const g = zkClientConfigWithSystemProperties(get, sys).get
  return (get('zookeeper.ssl.client.enable') ?? get('zookeeper.client.secure') ?? g('zookeeper.ssl.client.enable'))?.trim().toLowerCase() === 'true'
}

/**
 * The TLS options of a ZooKeeper client from Kafka's keys (get reads server.properties or a
 * --zk-tls-config-file; a key it lacks is taken from the -D system properties sys, as Kafka
 * does), or undefined when TLS is off. host is what the certificate must name.
 */
export function zkClientTlsOptions(get: (k: string) => string | undefined, source: string, sys?: Map<string, SystemProperty>): ((host: string) => ConnectionOptions) | undefined {
  if (!zkClientTlsEnabled(get, sys)) return undefined
  const layered = zkClientConfigWithSystemProperties(get, sys)
  // Kafka's names in the file first, then the Java client's names in the file, then the system properties.
  const values = new Map<string, string>()
  const pick = (kafka: string, java: string): string => {
    if (get(kafka) !== undefined) return kafka
    if (get(java) !== undefined) return java
    const v = layered.get(kafka)
    if (v === undefined) return kafka
    const label = layered.label(kafka)
    values.set(label, v)
    return label
  }
  const value = (name: string): string | undefined => values.get(name) ?? get(name)
  const names: Record<string, string> = {
    'ssl.keystore.location': pick('zookeeper.ssl.keystore.location', 'zookeeper.ssl.keyStore.location'),
    'ssl.keystore.password': pick('zookeeper.ssl.keystore.password', 'zookeeper.ssl.keyStore.password'),
    'ssl.key.password': pick('zookeeper.ssl.keystore.password', 'zookeeper.ssl.keyStore.password'),
    'ssl.keystore.type': pick('zookeeper.ssl.keystore.type', 'zookeeper.ssl.keyStore.type'),
    'ssl.truststore.location': pick('zookeeper.ssl.truststore.location', 'zookeeper.ssl.trustStore.location'),
    'ssl.truststore.password': pick('zookeeper.ssl.truststore.password', 'zookeeper.ssl.trustStore.password'),
    'ssl.truststore.type': pick('zookeeper.ssl.truststore.type', 'zookeeper.ssl.trustStore.type'),
    'ssl.enabled.protocols': pick('zookeeper.ssl.enabled.protocols', 'zookeeper.ssl.enabledProtocols'),
    'ssl.cipher.suites': pick('zookeeper.ssl.cipher.suites', 'zookeeper.ssl.ciphersuites'),
  }
  const protocol = pick('zookeeper.ssl.protocol', 'zookeeper.ssl.protocol')
  const ksLoc = value(names['ssl.keystore.location'])
  const tsLoc = value(names['ssl.truststore.location'])
  const computed = {
    'ssl.keystore.type': storeType(value(names['ssl.keystore.type']), ksLoc, names['ssl.keystore.location'], source),
    'ssl.truststore.type': storeType(value(names['ssl.truststore.type']), tsLoc, names['ssl.truststore.location'], source),
    'ssl.enabled.protocols': value(names['ssl.enabled.protocols']) ?? value(protocol),
  }
  const ls = mapped(value, source, names, computed)
  const ks = keyStore(ls)
  const ts = trustStore(ls)
  const range = protocolRange(ls)
  const ciphers = cipherOptions(ls)
  const alg = get('zookeeper.ssl.endpoint.identification.algorithm')
  const hv = get('zookeeper.ssl.hostnameVerification')
  const sysAlg = alg === undefined && hv === undefined ? layered.get('zookeeper.ssl.endpoint.identification.algorithm') : undefined
  const verifyHost = alg !== undefined ? alg.trim().toLowerCase() === 'https'
    : hv !== undefined ? hv.trim().toLowerCase() !== 'false'
      : sysAlg === undefined || sysAlg.trim().toLowerCase() === 'https'
  const check = serverIdentityCheck(verifyHost, ks, ts)
  return (host: string) => ({
    ...(ks?.context ?? {}),
    ...(ts ? {ca: ts.context.ca} : {}),
    ...range,
    ...ciphers,
    servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    rejectUnauthorized: true,
    checkServerIdentity: check,
  })
}

/**
 * TLS of the quorum and election ports (sslQuorum): Apache's QuorumX509Util reads the same
 * keys as the client port's under ssl.quorum. (ssl.quorum.keyStore.location, ...). The server
 * options ask for the peer's certificate as ssl.quorum.clientAuth says (need by default); the
 * client options present this server's certificate and check the peer's against the trust store.
 */
export function zkQuorumTlsOptions(keys: Map<string, string>, clientAuth: 'need' | 'want' | 'none', source: string): {server: TlsOptions; client: ConnectionOptions; anchors?: Set<string>} {
  const ls = zkSettings(k => keys.get(k), 'ssl.quorum.', source)
  const ks = keyStore(ls)
  if (!ks) throw new ConfigError(`sslQuorum is set in ${source} but ssl.quorum.keyStore.location is not`)
  const ts = trustStore(ls)
  const common = {...ks.context, ...(ts ? {ca: ts.context.ca} : {}), ...protocolRange(ls), ...cipherOptions(ls)}
  // A PKCS12 key store's bundled CAs are trusted by Node but not by Apache's X509Util: with a
  // trust store, a peer's chain (either direction) must lead to it.
  const anchors = pfxAnchors(ks, ts)
  return {
    server: {...common, requestCert: clientAuth !== 'none', rejectUnauthorized: clientAuth === 'need'},
    client: {...common, rejectUnauthorized: true},
    ...(anchors ? {anchors} : {}),
  }
}
