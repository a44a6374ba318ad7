// The security keys of zookeeper.properties, as Apache ZooKeeper 3.8 reads them from zoo.cfg
// (a key it does not know becomes the system property "zookeeper.<key>", so both spellings
// are accepted): authentication providers, SASL (DIGEST-MD5 users from the JAAS file's
// Server section), enforced authentication, super users, and the TLS client port.
//
// The JAAS file: Java takes it from -Djava.security.auth.login.config=<file>; kafkit reads the
// same flag from KAFKA_OPTS, SERVER_JVMFLAGS, JVMFLAGS or KAFKIT_OPTS, or the kafkit key
// kafkit.jaas.config.file in zookeeper.properties (relative to the properties file's directory).
import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, resolve, extname} from 'node:path'
import {ConfigError, type Settings} from './settings.js'
import {parseJaas} from '../security/jaas.js'

export const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider'
export const X509_PROVIDER = 'org.apache.zookeeper.server.auth.X509AuthenticationProvider'
const BUILT_IN_PROVIDERS: Record<string, string> = {
  [SASL_PROVIDER]: 'sasl',
  [X509_PROVIDER]: 'x509',
  'org.apache.zookeeper.server.auth.DigestAuthenticationProvider': 'digest',
  'org.apache.zookeeper.server.auth.IPAuthenticationProvider': 'ip',
}
const DIGEST_SERVER_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule'
export const JAAS_FILE_KEY = 'kafkit.jaas.config.file'

export interface ZkTlsKeys {
  /** ssl.keyStore.location and friends as given (the key names are ZooKeeper's). */
  keys: Map<string, string>
  clientAuth: 'need' | 'want' | 'none'
}

export interface ZkSecurityConfig {
  /** Auth schemes with a provider (digest and ip always; sasl, x509 when authProvider.N names them). */
  schemes: Set<string>
  /** DIGEST-MD5 users (name -> password) of the JAAS Server section; null: no SASL server (no JAAS section). */
  saslUsers: Map<string, string> | null
  /** The JAAS file and section the users came from (for messages). */
  jaasSource: string
  /** Schemes a connection must have authenticated with before anything but auth/sasl (enforce.auth). */
  enforceSchemes: string[]
  allowSaslFailedClients: boolean
  /** zookeeper.superUser*: SASL ids that are super users. */
  saslSuperUsers: string[]
  /** DigestAuthenticationProvider.superDigest: user:base64(sha1) whose addauth makes a super user. */
  superDigest: string | null
  secureClientPort: number | null
  secureClientPortAddress: string | null
  tls: ZkTlsKeys | null
  /** Start-up warnings (keys accepted without effect, providers kafkit does not have). */
  warnings: string[]
}

export function defaultZkSecurity(): ZkSecurityConfig {
  return {schemes: new Set(['digest', 'ip']), saslUsers: null, jaasSource: '', enforceSchemes: [], allowSaslFailedClients: false, saslSuperUsers: [], superDigest: null, secureClientPort: null, secureClientPortAddress: null, tls: null, warnings: []}
}

/** The file of -Djava.security.auth.login.config in the JVM option variables kafkit reads. */
export function jaasFileFromEnv(env: NodeJS.ProcessEnv = process.env): {file: string; from: string} | undefined {
  for (const name of ['KAFKIT_OPTS', 'KAFKA_OPTS', 'SERVER_JVMFLAGS', 'JVMFLAGS', 'CLIENT_JVMFLAGS']) {
    const m = /-Djava\.security\.auth\.login\.config=("([^"]*)"|(\S+))/.exec(env[name] ?? '')
    if (m) return {file: m[2] ?? m[3], from: `java.security.auth.login.config in ${name}`}
  }
  return undefined
}

/** Reads a JAAS file's sections; errors name the file and where it was configured. */
export function readJaasFile(file: string, from: string): Record<string, ReturnType<typeof parseJaas>> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`Cannot read the JAAS configuration file ${file} (${from}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return parseJaas(text, true)
  } catch (error) {
    throw new ConfigError(`Invalid JAAS configuration file ${file} (${from}): ${(error as Error).message}`)
  }
}

/** A key with or without Apache's "zookeeper." system-property prefix. */
function get(s: Settings, key: string): {key: string; value: string} | undefined {
  for (const k of [key, `zookeeper.${key}`]) {
    const v = s.optString(k)
    if (v !== undefined) return {key: k, value: v}
  }
  return undefined
}

function bool(s: Settings, key: string): boolean {
  const v = get(s, key)
  return v !== undefined && v.value.toLowerCase() === 'true'
}

/** ZooKeeper's key store type: given, or from the file's extension (X509Util's detection). */
export function storeType(given: string | undefined, location: string | undefined, key: string, file: string): string | undefined {
  if (given !== undefined) return given.toUpperCase()
  if (location === undefined) return undefined
  const ext = extname(location).toLowerCase()
  const t = {'.jks': 'JKS', '.pem': 'PEM', '.crt': 'PEM', '.p12': 'PKCS12', '.pfx': 'PKCS12'}[ext]
  if (t === undefined) throw new ConfigError(`Unable to detect the store type of ${location} (${key} in ${file}): set ${key.replace(/location$/, 'type')} to JKS, PKCS12 or PEM`)
  return t
}

export function zkSecurityConfig(s: Settings, props: Map<string, string>, file: string, env: NodeJS.ProcessEnv = process.env): ZkSecurityConfig {
  const c = defaultZkSecurity()
  for (const [k, v] of props) {
    if (!/^(zookeeper\.)?authProvider\./.test(k)) continue
    s.raw(k)
    const cls = v.trim()
    const scheme = BUILT_IN_PROVIDERS[cls]
    if (scheme === undefined) c.warnings.push(`Problems loading ${cls} (${k} in ${file}): kafkit has the digest, ip, sasl and x509 providers only`)
    else c.schemes.add(scheme)
  }
  // The JAAS Server section: SASL DIGEST-MD5 users.
  const keyFile = s.optString(JAAS_FILE_KEY)
  const jaas = keyFile !== undefined
    ? {file: isAbsolute(keyFile) ? keyFile : resolve(file === '<properties>' ? '.' : dirname(file), keyFile), from: `${JAAS_FILE_KEY} in ${file}`}
    : jaasFileFromEnv(env)
  if (jaas) {
    const section = get(s, 'sasl.serverconfig')?.value ?? 'Server'
    const sections = readJaasFile(jaas.file, jaas.from)
    const modules = sections[section]
    if (modules) {
      c.saslUsers = new Map()
      for (const m of modules) {
        if (m.loginModule !== DIGEST_SERVER_MODULE) c.warnings.push(`Login module ${m.loginModule} in section ${section} of ${jaas.file}: kafkit's ZooKeeper serves DIGEST-MD5 with ${DIGEST_SERVER_MODULE} only`)
        for (const [o, v] of Object.entries(m.options)) if (o.startsWith('user_')) c.saslUsers.set(o.slice(5), v)
      }
      c.jaasSource = `section ${section} of ${jaas.file}`
    }
  }
  if (bool(s, 'sessionRequireClientSASLAuth')) c.enforceSchemes = ['sasl']
  else if (bool(s, 'enforce.auth.enabled')) {
    const schemes = (get(s, 'enforce.auth.schemes')?.value ?? '').split(',').map(x => x.trim()).filter(x => x !== '')
    if (schemes.length === 0) throw new ConfigError(`zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be  configured. (${file})`)
    c.enforceSchemes = schemes
  }
  for (const sc of c.enforceSchemes) if (!c.schemes.has(sc)) throw new ConfigError(`Authentication scheme ${sc} is not available. (enforced authentication in ${file}: add authProvider.1=${sc === 'sasl' ? SASL_PROVIDER : sc === 'x509' ? X509_PROVIDER : '<provider>'})`)
  get(s, 'enforce.auth.schemes')
  const rcas = get(s, 'requireClientAuthScheme')
  if (rcas !== undefined) c.warnings.push(`${rcas.key}=${rcas.value} in ${file} has no effect in ZooKeeper 3.8 (nor in kafkit): set sessionRequireClientSASLAuth=true (or enforce.auth.enabled=true with enforce.auth.schemes=sasl) to require SASL`)
  c.allowSaslFailedClients = bool(s, 'allowSaslFailedClients')
  for (const k of props.keys()) {
    if (/^(zookeeper\.)?superUser(\..*)?$/.test(k)) c.saslSuperUsers.push(s.optString(k)!)
  }
  c.superDigest = get(s, 'DigestAuthenticationProvider.superDigest')?.value ?? null
  // TLS client port (Apache needs serverCnxnFactory=...NettyServerCnxnFactory; kafkit takes any).
  const sp = get(s, 'secureClientPort')
  if (sp !== undefined) {
    const port = Number(sp.value)
    if (!/^\d+$/.test(sp.value) || port > 65535) throw new ConfigError(`Invalid value ${sp.value} for configuration ${sp.key} in ${file}: must be a port number`)
    c.secureClientPort = port
    c.secureClientPortAddress = get(s, 'secureClientPortAddress')?.value ?? null
    const keys = new Map<string, string>()
    for (const [k, v] of props) {
      const m = /^(?:zookeeper\.)?(ssl\..+)$/.exec(k)
      if (m && !m[1].startsWith('ssl.quorum.')) keys.set(m[1], v.trim())
    }
    if (keys.get('ssl.keyStore.location') === undefined) throw new ConfigError(`secureClientPort is set in ${file} but ssl.keyStore.location is not: TLS needs the server's key store`)
    const ca = (keys.get('ssl.clientAuth') ?? 'need').toLowerCase() || 'need'
    if (ca !== 'need' && ca !== 'want' && ca !== 'none') throw new ConfigError(`Invalid value ${keys.get('ssl.clientAuth')} for configuration ssl.clientAuth in ${file}: must be need, want or none`)
    c.tls = {keys, clientAuth: ca}
  }
  return c
}
