// Security settings as Kafka reads them: a key for a listener is looked up first with the
// listener prefix (`listener.name.<listener lower case>.<key>`), for SASL keys also with the
// mechanism (`listener.name.<l>.<mechanism lower case>.<key>`), then without. Secrets
// (Kafka's PASSWORD keys, with or without a prefix) are never shown: sensitiveKey() tells.
import {readFileSync} from 'node:fs'
import {BROKER_KEYS} from '../config/broker-keys.js'
import {ConfigError} from '../config/settings.js'
import {parseJaas, type JaasModule} from './jaas.js'
import {ZK_TLS_CONFIG_KEYS} from '../zkclient/tls-config-file.js'

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type SecurityProtocol = typeof SECURITY_PROTOCOLS[number]

/** The mechanisms kafkit's broker serves. */
export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

const LISTENER_PREFIX = /^listener\.name\.[^.]+\./

/** True for a key whose value is a secret (Kafka's PASSWORD type), listener-prefixed or not. */
export function sensitiveKey(key: string): boolean {
  let k = key.replace(LISTENER_PREFIX, '')
  if (BROKER_KEYS[k]?.[0] === 'PASSWORD') return true
  // listener.name.<l>.<mechanism>.sasl.jaas.config
  k = k.replace(/^[^.]+\.(?=sasl\.)/, '')
  return BROKER_KEYS[k]?.[0] === 'PASSWORD'
}

export function usesTls(protocol: string): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL'
}

export function usesSasl(protocol: string): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
}

/** Reads keys for one listener from the broker's properties, with Kafka's prefix rules. */
export class ListenerSettings {
  readonly prefix: string

  constructor(readonly props: Map<string, string>, readonly listener: string, readonly source: string, readonly dynamic: () => Record<string, string> = () => ({})) {
    this.prefix = `listener.name.${listener.toLowerCase()}.`
  }

  private lookup(key: string): string | undefined {
    const dyn = this.dynamic()
    return dyn[this.prefix + key] ?? this.props.get(this.prefix + key) ?? dyn[key] ?? this.props.get(key)
  }

  /** The raw value (trimmed), or undefined when unset or empty. */
  get(key: string): string | undefined {
    const v = this.lookup(key)?.trim()
    return v === undefined || v === '' ? undefined : v
  }

  /** A SASL key for a mechanism: listener.name.<l>.<mech>.<key>, then the listener's, then the plain key. */
  mechanism(mechanism: string, key: string): string | undefined {
    const v = (this.dynamic()[`${this.prefix}${mechanism.toLowerCase()}.${key}`] ?? this.props.get(`${this.prefix}${mechanism.toLowerCase()}.${key}`))?.trim()
    if (v !== undefined && v !== '') return v
    return this.get(key)
  }

  /** Where a key's value came from, for messages (never the value itself when it is a secret). */
  keyName(key: string): string {
    return this.props.has(this.prefix + key) || this.dynamic()[this.prefix + key] !== undefined ? this.prefix + key : key
  }

  list(key: string, def: string[]): string[] {
    const v = this.lookup(key)
    if (v === undefined) return def
    return v.split(',').map(s => s.trim()).filter(s => s !== '')
  }

  long(key: string, def: number): number {
    const v = this.get(key)
    if (v === undefined) return def
    if (!/^[+-]?\d+$/.test(v)) throw new ConfigError(`Invalid value ${v} for configuration ${this.keyName(key)} in ${this.source}: must be a long`)
    return Number(v)
  }

  bad(key: string, why: string, showValue = !sensitiveKey(key)): ConfigError {
    const v = showValue ? this.get(key) ?? '' : '[hidden]'
    return new ConfigError(`Invalid value ${v} for configuration ${this.keyName(key)} in ${this.source}: ${why}`)
  }
}

/**
 * The JAAS file named by -Djava.security.auth.login.config in KAFKA_OPTS (as Kafka's scripts
 * pass it to the JVM), parsed into sections; {} when none is given.
 */
export function jaasFileSections(env: NodeJS.ProcessEnv = process.env): {file?: string; sections: Record<string, JaasModule[]>} {
  const opts = `${env.KAFKA_OPTS ?? ''} ${env.KAFKIT_OPTS ?? ''}`
  const m = /-Djava\.security\.auth\.login\.config=("([^"]*)"|(\S+))/.exec(opts)
  if (!m) return {sections: {}}
  const file = m[2] ?? m[3]
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`Cannot read the JAAS configuration file ${file} (java.security.auth.login.config in KAFKA_OPTS): ${(error as Error).message}`)
  }
  try {
    return {file, sections: parseJaas(text, true) as Record<string, JaasModule[]>}
  } catch (error) {
    throw new ConfigError(`Invalid JAAS configuration file ${file}: ${(error as Error).message}`)
  }
}

/** Security keys the broker reads (they get no "unknown key" warning); the zookeeper.ssl.* keys of its ZooKeeper client too. */
export const SECURITY_KEYS = new Set([
  ...ZK_TLS_CONFIG_KEYS,
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.keystore.key',
  'ssl.keystore.certificate.chain', 'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password',
  'ssl.truststore.certificates', 'ssl.client.auth', 'ssl.enabled.protocols', 'ssl.cipher.suites',
  'ssl.principal.mapping.rules', 'ssl.endpoint.identification.algorithm',
  'sasl.enabled.mechanisms', 'sasl.jaas.config', 'sasl.server.max.receive.size', 'sasl.mechanism.inter.broker.protocol',
  'sasl.server.callback.handler.class', 'connections.max.reauth.ms', 'connection.failed.authentication.delay.ms',
  'authorizer.class.name', 'super.users', 'allow.everyone.if.no.acl.found',
])

/** Security keys Kafka knows that have no effect in kafkit, with the reason. */
export const SECURITY_KEYS_WITHOUT_EFFECT: Record<string, string> = {
  'ssl.protocol': 'node negotiates the highest protocol of ssl.enabled.protocols',
  'ssl.provider': 'JVM security provider',
  'ssl.keymanager.algorithm': 'JVM key manager',
  'ssl.trustmanager.algorithm': 'JVM trust manager',
  'ssl.secure.random.implementation': 'JVM random source',
  'ssl.engine.factory.class': 'JVM SSL engine',
  'ssl.allow.dn.changes': 'a reloaded key store is taken as it is',
  'ssl.allow.san.changes': 'a reloaded key store is taken as it is',
  'sasl.mechanism.controller.protocol': 'KRaft only',
  'sasl.kerberos.service.name': 'no GSSAPI (Kerberos)',
  'sasl.kerberos.kinit.cmd': 'no GSSAPI (Kerberos)',
  'sasl.kerberos.min.time.before.relogin': 'no GSSAPI (Kerberos)',
  'sasl.kerberos.principal.to.local.rules': 'no GSSAPI (Kerberos)',
  'sasl.kerberos.ticket.renew.jitter': 'no GSSAPI (Kerberos)',
  'sasl.kerberos.ticket.renew.window.factor': 'no GSSAPI (Kerberos)',
  'sasl.client.callback.handler.class': 'JVM class',
  'sasl.login.callback.handler.class': 'JVM class',
  'sasl.login.class': 'JVM class',
  'sasl.login.connect.timeout.ms': 'no OAuth token endpoint',
  'sasl.login.read.timeout.ms': 'no OAuth token endpoint',
  'sasl.login.refresh.buffer.seconds': 'the broker makes a new unsecured token per connection',
  'sasl.login.refresh.min.period.seconds': 'the broker makes a new unsecured token per connection',
  'sasl.login.refresh.window.factor': 'the broker makes a new unsecured token per connection',
  'sasl.login.refresh.window.jitter': 'the broker makes a new unsecured token per connection',
  'sasl.login.retry.backoff.max.ms': 'no OAuth token endpoint',
  'sasl.login.retry.backoff.ms': 'no OAuth token endpoint',
  'sasl.oauthbearer.clock.skew.seconds': 'unsecured tokens only (unsecuredValidatorAllowableClockSkewMs)',
  'sasl.oauthbearer.expected.audience': 'unsecured tokens only',
  'sasl.oauthbearer.expected.issuer': 'unsecured tokens only',
  'sasl.oauthbearer.jwks.endpoint.refresh.ms': 'unsecured tokens only',
  'sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms': 'unsecured tokens only',
  'sasl.oauthbearer.jwks.endpoint.retry.backoff.ms': 'unsecured tokens only',
  'sasl.oauthbearer.jwks.endpoint.url': 'unsecured tokens only',
  'sasl.oauthbearer.scope.claim.name': 'unsecured tokens only (unsecuredValidatorScopeClaimName)',
  'sasl.oauthbearer.sub.claim.name': 'unsecured tokens only (unsecuredValidatorPrincipalClaimName)',
  'sasl.oauthbearer.token.endpoint.url': 'unsecured tokens only',
}

/**
 * How the broker treats a security key: 'used', a reason it has no effect, or undefined when
 * it is not a security key. Listener-prefixed keys (listener.name.<l>.<key>, for SASL also
 * listener.name.<l>.<mechanism>.<key>) are judged by the key they prefix.
 */
export function securityKeyUse(key: string): 'used' | string | undefined {
  let k = key
  const m = /^listener\.name\.[^.]+\.(.+)$/.exec(key)
  if (m) k = m[1].replace(/^(plain|scram-sha-256|scram-sha-512|oauthbearer|gssapi)\.(?=(sasl\.|connections\.max\.reauth\.ms$))/, '')
  if (SECURITY_KEYS.has(k)) return 'used'
  return SECURITY_KEYS_WITHOUT_EFFECT[k]
}
