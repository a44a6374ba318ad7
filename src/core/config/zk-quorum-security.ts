// Security of the quorum and election ports, as Apache ZooKeeper 3.8 reads it from zoo.cfg:
// TLS (sslQuorum, portUnification and the ssl.quorum.* keys of QuorumX509Util) and SASL
// DIGEST-MD5 between servers (quorum.auth.*: the JAAS file's QuorumServer section holds the
// user_<name>="<password>" entries a server accepts, the QuorumLearner section the
// username/password a server presents when it connects to another).
import {isAbsolute, resolve, dirname} from 'node:path'
import {ConfigError, type Settings} from './settings.js'
import {JAAS_FILE_KEY, jaasFileFromEnv, readJaasFile} from './zk-security.js'

const DIGEST_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule'

export interface QuorumSecurityConfig {
  /** TLS on outgoing quorum and election connections, and TLS-only listeners unless portUnification. */
  sslQuorum: boolean
  /** Listeners accept TLS and plaintext alike (a rolling upgrade to or from sslQuorum). */
  portUnification: boolean
  /** The ssl.quorum.* keys as given, without a "zookeeper." prefix. */
  tlsKeys: Map<string, string>
  clientAuth: 'need' | 'want' | 'none'
  hostnameVerification: boolean
  /** ssl.quorum.handshakeDetectionTimeoutMillis: how long a unified port waits for a first byte. */
  handshakeDetectionTimeout: number
  saslEnabled: boolean
  learnerRequireSasl: boolean
  serverRequireSasl: boolean
  /** QuorumLearner section: what this server presents; null without SASL. */
  learnerLogin: {username: string; password: string} | null
  /** QuorumServer section: the users this server accepts; null without SASL. */
  serverUsers: Map<string, string> | null
  servicePrincipal: string
  warnings: string[]
}

export function defaultQuorumSecurity(): QuorumSecurityConfig {
  return {
    sslQuorum: false, portUnification: false, tlsKeys: new Map(), clientAuth: 'need', hostnameVerification: true,
    handshakeDetectionTimeout: 5000, saslEnabled: false, learnerRequireSasl: false, serverRequireSasl: false,
    learnerLogin: null, serverUsers: null, servicePrincipal: 'zkquorum/localhost', warnings: [],
  }
}

/** Apache's QuorumPeerConfig.parseBoolean: true or false, any case, nothing else. */
function strictBool(s: Settings, key: string, file: string): boolean {
  const v = s.optString(key)
  if (v === undefined) return false
  const t = v.trim().toLowerCase()
  if (t !== 'true' && t !== 'false') throw new ConfigError(`Invalid option ${v} for ${key} in ${file}. Choose 'true' or 'false.'`)
  return t === 'true'
}

export function quorumSecurityConfig(s: Settings, props: Map<string, string>, file: string, env: NodeJS.ProcessEnv = process.env): QuorumSecurityConfig {
  const c = defaultQuorumSecurity()
  c.sslQuorum = strictBool(s, 'sslQuorum', file)
  c.portUnification = strictBool(s, 'portUnification', file)
  if (s.optString('sslQuorumReloadCertFiles') !== undefined) c.warnings.push(`sslQuorumReloadCertFiles in ${file}: kafkit reads the quorum key and trust stores at start-up only`)
  for (const [k, v] of props) {
    const m = /^(?:zookeeper\.)?(ssl\.quorum\..+)$/.exec(k)
    if (m) { s.raw(k); c.tlsKeys.set(m[1], v.trim()) }
  }
  const ca = (c.tlsKeys.get('ssl.quorum.clientAuth') ?? 'need').toLowerCase() || 'need'
  if (ca !== 'need' && ca !== 'want' && ca !== 'none') throw new ConfigError(`Invalid value ${c.tlsKeys.get('ssl.quorum.clientAuth')} for configuration ssl.quorum.clientAuth in ${file}: must be need, want or none`)
  c.clientAuth = ca
  c.hostnameVerification = (c.tlsKeys.get('ssl.quorum.hostnameVerification') ?? 'true').toLowerCase() !== 'false'
  const hd = c.tlsKeys.get('ssl.quorum.handshakeDetectionTimeoutMillis')
  if (hd !== undefined) {
    if (!/^\d+$/.test(hd) || Number(hd) < 1) throw new ConfigError(`Invalid value ${hd} for ssl.quorum.handshakeDetectionTimeoutMillis in ${file}: a positive number of milliseconds`)
    c.handshakeDetectionTimeout = Number(hd)
  }
  if ((c.sslQuorum || c.portUnification) && c.tlsKeys.get('ssl.quorum.keyStore.location') === undefined) {
    throw new ConfigError(`${c.sslQuorum ? 'sslQuorum=true' : 'portUnification=true'} in ${file} but ssl.quorum.keyStore.location is not set: quorum TLS needs the server's key store`)
  }
  if (c.sslQuorum && c.tlsKeys.get('ssl.quorum.trustStore.location') === undefined) {
    throw new ConfigError(`sslQuorum=true in ${file} but ssl.quorum.trustStore.location is not set: quorum TLS needs the trust store holding the other servers' CA`)
  }

  c.saslEnabled = strictBool(s, 'quorum.auth.enableSasl', file)
  c.serverRequireSasl = strictBool(s, 'quorum.auth.serverRequireSasl', file)
  c.learnerRequireSasl = strictBool(s, 'quorum.auth.learnerRequireSasl', file)
  const learnerContext = s.optString('quorum.auth.learner.saslLoginContext') ?? 'QuorumLearner'
  const serverContext = s.optString('quorum.auth.server.saslLoginContext') ?? 'QuorumServer'
  c.servicePrincipal = s.optString('quorum.auth.kerberos.servicePrincipal') ?? c.servicePrincipal
  s.optString('quorum.cnxn.threads.size')
  if (!c.saslEnabled && c.serverRequireSasl) throw new ConfigError(`quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl (${file})`)
  if (!c.saslEnabled && c.learnerRequireSasl) throw new ConfigError(`quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl (${file})`)
  if (!c.learnerRequireSasl && c.serverRequireSasl) throw new ConfigError(`quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl (${file})`)
  if (c.saslEnabled) {
    const keyFile = s.optString(JAAS_FILE_KEY)
    const jaas = keyFile !== undefined
      ? {file: isAbsolute(keyFile) ? keyFile : resolve(file === '<properties>' ? '.' : dirname(file), keyFile), from: `${JAAS_FILE_KEY} in ${file}`}
      : jaasFileFromEnv(env)
    if (!jaas) throw new ConfigError(`quorum.auth.enableSasl=true in ${file} but no JAAS file is given (-Djava.security.auth.login.config=<file> in KAFKIT_OPTS, KAFKA_OPTS or SERVER_JVMFLAGS, or ${JAAS_FILE_KEY})`)
    const sections = readJaasFile(jaas.file, jaas.from)
    const section = (name: string) => {
      const mods = sections[name]
      if (!mods || mods.length === 0) throw new ConfigError(`SASL-authentication failed because the specified JAAS configuration section '${name}' could not be found (${jaas.file}, quorum.auth.enableSasl=true in ${file})`)
      for (const m of mods) if (m.loginModule !== DIGEST_MODULE) c.warnings.push(`Login module ${m.loginModule} in section ${name} of ${jaas.file}: kafkit's quorum authentication is DIGEST-MD5 with ${DIGEST_MODULE} only`)
      return mods
    }
    c.serverUsers = new Map()
    for (const m of section(serverContext)) for (const [o, v] of Object.entries(m.options)) if (o.startsWith('user_')) c.serverUsers.set(o.slice(5), v)
    const lm = section(learnerContext).find(m => m.options.username !== undefined)
    if (lm === undefined) throw new ConfigError(`Section ${learnerContext} of ${jaas.file} has no username="..." password="..." entry: a server needs them to authenticate to the other quorum members`)
    c.learnerLogin = {username: lm.options.username, password: lm.options.password ?? ''}
  }
  return c
}
