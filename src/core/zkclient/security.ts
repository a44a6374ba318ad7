// How a ZooKeeper client of kafkit's (the broker, zookeeper-shell, zookeeper-security-migration)
// authenticates, as Apache's ZooKeeper client decides it: TLS from Kafka's zookeeper.ssl.* keys
// (server.properties or a --zk-tls-config-file) over the -Dzookeeper.client.secure /
// -Dzookeeper.ssl.* system properties of KAFKA_OPTS (the file's keys win), SASL DIGEST-MD5 from the JAAS file's Client
// section (DigestLoginModule username/password). The JAAS file is the kafkit key
// kafkit.jaas.config.file when given, else -Djava.security.auth.login.config=<file> in KAFKA_OPTS
// (or KAFKIT_OPTS, CLIENT_JVMFLAGS); -Dzookeeper.sasl.client=false turns SASL off and
// -Dzookeeper.sasl.clientconfig=<section> names another section, as for the Java client.
import type {ConnectionOptions} from 'node:tls'
import {ConfigError} from '../config/settings.js'
import {jaasFileFromEnv, readJaasFile, JAAS_FILE_KEY} from '../config/zk-security.js'
import {zkClientTlsOptions} from '../zookeeper/tls.js'
import {jvmSystemProperties, ZK_TOOL_JVM_OPTION_VARS} from './system-properties.js'

export const DIGEST_LOGIN_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule'

export interface ZkClientSecurity {
  tls?: (host: string) => ConnectionOptions
  sasl?: {username: string; password: string}
  /** Where the SASL credentials came from (for messages), when SASL is on. */
  saslSource?: string
}

function jvmOpts(env: NodeJS.ProcessEnv): string {
  return ['KAFKIT_OPTS', 'KAFKA_OPTS', 'CLIENT_JVMFLAGS'].map(k => env[k] ?? '').join(' ')
}

/** The JAAS Client credentials, or undefined when there is no JAAS file, no such section, or SASL is off. */
export function zkClientSasl(jaasFile: string | undefined, env: NodeJS.ProcessEnv = process.env, jaasFileKey = JAAS_FILE_KEY): {username: string; password: string; source: string} | undefined {
  const opts = jvmOpts(env)
  if (/-Dzookeeper\.sasl\.client=false\b/.test(opts)) return undefined
  const jaas = jaasFile !== undefined ? {file: jaasFile, from: jaasFileKey} : jaasFileFromEnv(env)
  if (!jaas) return undefined
  const section = /-Dzookeeper\.sasl\.clientconfig=(\S+)/.exec(opts)?.[1] ?? 'Client'
  const modules = readJaasFile(jaas.file, jaas.from)[section]
  if (!modules) return undefined
  const m = modules.find(x => x.loginModule === DIGEST_LOGIN_MODULE)
  if (!m) throw new ConfigError(`The JAAS section ${section} of ${jaas.file} has no ${DIGEST_LOGIN_MODULE}: kafkit's ZooKeeper client authenticates with SASL DIGEST-MD5 only (no Kerberos)`)
  if (m.options.username === undefined || m.options.password === undefined) throw new ConfigError(`The JAAS section ${section} of ${jaas.file} needs username and password for ${DIGEST_LOGIN_MODULE}`)
  return {username: m.options.username, password: m.options.password, source: `section ${section} of ${jaas.file}`}
}

/** TLS and SASL of a ZooKeeper client from Kafka's keys (get, over the -D system properties of env) and the JAAS Client section. */
export function zkClientSecurity(get: (k: string) => string | undefined, source: string, env: NodeJS.ProcessEnv = process.env, jaasFile?: string): ZkClientSecurity {
  const out: ZkClientSecurity = {}
  const tls = zkClientTlsOptions(get, source, jvmSystemProperties(env, ZK_TOOL_JVM_OPTION_VARS))
  if (tls) out.tls = tls
  const sasl = zkClientSasl(jaasFile, env)
  if (sasl) {
    out.sasl = {username: sasl.username, password: sasl.password}
    out.saslSource = sasl.source
  }
  return out
}
