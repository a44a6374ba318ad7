// The client side of Kafka's security for every kafkit tool: security.protocol, the ssl.* keys
// (PEM, PKCS12 and JKS key and trust stores, read by the same code as the broker's listeners)
// and sasl.mechanism with sasl.jaas.config (or the KafkaClient section of the JAAS file named
// by -Djava.security.auth.login.config in KAFKA_OPTS), as Java's clients read them from
// --command-config / --producer.config / --consumer.config and the --*-property flags. The
// SASL exchange itself is the broker's client code (security/client.ts).
import type {ConnectionOptions} from 'node:tls'
import {ListenerSettings, SECURITY_PROTOCOLS, SUPPORTED_MECHANISMS, usesSasl, usesTls, jaasFileSections} from '../security/config.js'
import {clientTls} from '../security/tls.js'
import {parseJaas, type JaasModule} from '../security/jaas.js'
import {OAUTHBEARER_LOGIN_MODULE, PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE} from '../security/sasl.js'
import type {SaslClientSettings} from '../security/client.js'
import {ConfigError as ServerConfigError} from '../config/settings.js'
import {ClientConfig, ConfigError} from './config.js'

export interface ClientSecurity {
  protocol: string
  /** TLS options for a connection to host (SSL, SASL_SSL). */
  tls?: (host: string) => ConnectionOptions
  sasl?: SaslClientSettings
}

export const PLAINTEXT_SECURITY: ClientSecurity = {protocol: 'PLAINTEXT'}

const LOGIN_MODULES: Record<string, string> = {
  PLAIN: PLAIN_LOGIN_MODULE,
  'SCRAM-SHA-256': SCRAM_LOGIN_MODULE,
  'SCRAM-SHA-512': SCRAM_LOGIN_MODULE,
  OAUTHBEARER: OAUTHBEARER_LOGIN_MODULE,
}

/** A store or JAAS problem as the client's ConfigError (one line, never a secret). */
function asClientError<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof ServerConfigError) throw new ConfigError(error.message)
    throw error
  }
}

function clientJaas(cfg: ClientConfig, env: NodeJS.ProcessEnv): JaasModule[] {
  const text = cfg.get('sasl.jaas.config')
  if (text !== undefined && text.trim() !== '') {
    try {
      return parseJaas(text)
    } catch (error) {
      throw new ConfigError(`Invalid value [hidden] for configuration sasl.jaas.config: ${(error as Error).message}`)
    }
  }
  const file = asClientError(() => jaasFileSections(env))
  const section = file.sections.KafkaClient
  if (section && section.length > 0) return section
  throw new ConfigError(file.file
    ? `Could not find a 'KafkaClient' entry in this configuration: ${file.file}`
    : "Could not find a 'KafkaClient' entry in the JAAS configuration. System property 'java.security.auth.login.config' is not set")
}

/** The security settings of a client config (Java's defaults: PLAINTEXT, GSSAPI). */
export function clientSecurity(cfg: ClientConfig, env: NodeJS.ProcessEnv = process.env): ClientSecurity {
  const protocol = cfg.oneOf('security.protocol', 'PLAINTEXT', [...SECURITY_PROTOCOLS].map(p => p.toLowerCase()), true).toUpperCase()
  const out: ClientSecurity = {protocol}
  if (usesTls(protocol)) {
    const ls = new ListenerSettings(cfg.props, 'client', 'the client configuration')
    asClientError(() => clientTls(ls, 'localhost')) // reads the stores now: a bad one is one line at start
    out.tls = host => clientTls(ls, host)
  }
  if (usesSasl(protocol)) {
    const mechanism = cfg.string('sasl.mechanism', 'GSSAPI').toUpperCase()
    if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ConfigError(`sasl.mechanism=${mechanism}${cfg.has('sasl.mechanism') ? '' : ' (Kafka\'s default)'} is not supported by kafkit's tools: use ${SUPPORTED_MECHANISMS.join(', ')}`)
    }
    const modules = clientJaas(cfg, env)
    const mod = modules.find(m => m.loginModule === LOGIN_MODULES[mechanism]) ?? modules[0]
    if (mechanism === 'OAUTHBEARER') out.sasl = {mechanism, oauthOptions: mod.options}
    else {
      const {username, password} = mod.options
      if (username === undefined || password === undefined) throw new ConfigError(`The login module ${mod.loginModule} in sasl.jaas.config needs the username and password options for ${mechanism}`)
      out.sasl = {mechanism, username, password}
    }
  }
  return out
}
