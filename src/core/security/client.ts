// The broker's own client side (follower fetchers and any other broker-to-broker connection):
// it connects over the inter-broker listener as Kafka does, with TLS from that listener's ssl.*
// keys and SASL with sasl.mechanism.inter.broker.protocol, using the username/password (or the
// unsecured token options) of that listener's JAAS login module; sessions with a lifetime
// (connections.max.reauth.ms, token expiry) are re-authenticated on the same connection.
import {createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual} from 'node:crypto'
import {promisify} from 'node:util'
import type {ConnectionOptions} from 'node:tls'
import {KafkaConnection, ConnectionError, type ConnectOptions} from '../protocol/client.js'
import {Apis} from '../protocol/messages.js'
import {ConfigError} from '../config/settings.js'
import type {ServerConfig} from '../config/server-config.js'
import type {Logger} from '../util/log.js'
import {ListenerSettings, usesSasl, usesTls, jaasFileSections, SUPPORTED_MECHANISMS} from './config.js'
import {clientTls} from './tls.js'
import {makeUnsecuredJws, SCRAM_MECHANISMS, PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE, OAUTHBEARER_LOGIN_MODULE} from './sasl.js'
import type {JaasModule} from './jaas.js'

const pbkdf2Async = promisify(pbkdf2)

export interface SaslClientSettings {
  mechanism: string
  username?: string
  password?: string
  /** OAUTHBEARER: the login module's unsecuredLogin* options. */
  oauthOptions?: Record<string, string>
}

export interface BrokerClientSecurity {
  protocol: string
  listener: string
  tls?: (host: string) => ConnectionOptions
  sasl?: SaslClientSettings
}

/** The inter-broker client settings, read at start-up (a missing mechanism or credential stops it). */
export function interBrokerClientSecurity(config: ServerConfig, serverJaas: (ls: ListenerSettings, mechanism: string, file: ReturnType<typeof jaasFileSections>) => JaasModule[], env: NodeJS.ProcessEnv = process.env, dynamic: () => Record<string, string> = () => ({})): BrokerClientSecurity {
  const name = config.interBrokerListenerName
  const listener = config.advertisedListeners.find(l => l.name === name) ?? config.listeners.find(l => l.name === name)
  const protocol = listener?.securityProtocol ?? 'PLAINTEXT'
  const ls = new ListenerSettings(config.props, name, config.source, dynamic)
  const out: BrokerClientSecurity = {protocol, listener: name}
  if (usesTls(protocol)) {
    clientTls(ls, 'localhost') // reads the stores now: a bad one stops start-up
    out.tls = host => clientTls(ls, host)
  }
  if (usesSasl(protocol)) {
    const mechanism = (config.props.get('sasl.mechanism.inter.broker.protocol')?.trim() || 'GSSAPI').toUpperCase()
    if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ConfigError(`sasl.mechanism.inter.broker.protocol=${mechanism}${config.props.has('sasl.mechanism.inter.broker.protocol') ? '' : ' (Kafka\'s default)'} in ${config.source} is not supported by kafkit: the inter-broker listener ${name} uses SASL; use ${SUPPORTED_MECHANISMS.join(', ')}`)
    }
    const modules = serverJaas(ls, mechanism, jaasFileSections(env))
    const want = mechanism === 'PLAIN' ? PLAIN_LOGIN_MODULE : mechanism === 'OAUTHBEARER' ? OAUTHBEARER_LOGIN_MODULE : SCRAM_LOGIN_MODULE
    const mod = modules.find(m => m.loginModule === want) ?? modules[0]
    if (mechanism === 'OAUTHBEARER') out.sasl = {mechanism, oauthOptions: mod.options}
    else {
      const {username, password} = mod.options
      if (username === undefined || password === undefined) throw new ConfigError(`The JAAS login module of listener ${name} for ${mechanism} needs username and password options: the broker uses them to authenticate to other brokers (inter-broker listener ${name})`)
      out.sasl = {mechanism, username, password}
    }
  }
  return out
}

/** A failed SASL exchange: Java's exception class and the broker's own message (kept apart for clients). */
export class SaslAuthError extends ConnectionError {
  constructor(message: string, readonly exceptionClass: string, readonly reason: string) {
    super(message)
    this.name = 'SaslAuthError'
  }
}

function saslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/** Runs the SASL exchange (SaslHandshake v1, SaslAuthenticate) on a connection; returns the session lifetime (ms, 0 = none). */
export async function saslAuthenticate(conn: KafkaConnection, s: SaslClientSettings): Promise<number> {
  const hs = await conn.send(Apis.SaslHandshake, 1, {mechanism: s.mechanism})
  if (hs.errorCode !== 0) throw new SaslAuthError(`SASL handshake with ${conn.where} failed: mechanism ${s.mechanism} is not enabled there (it offers ${hs.mechanisms.join(', ') || 'none'})`, 'UnsupportedSaslMechanismException', `Client SASL mechanism '${s.mechanism}' not enabled in the server, enabled mechanisms are [${hs.mechanisms.join(', ')}]`)
  const auth = async (token: Buffer) => {
    const r = await conn.send(Apis.SaslAuthenticate, 2, {authBytes: token})
    if (r.errorCode !== 0) throw new SaslAuthError(`SASL authentication to ${conn.where} failed: ${r.errorMessage ?? `error ${r.errorCode}`}`, 'SaslAuthenticationException', r.errorMessage ?? `error ${r.errorCode}`)
    return r
  }
  if (s.mechanism === 'PLAIN') {
    const r = await auth(Buffer.from(`\u0000${s.username}\u0000${s.password}`, 'utf8'))
    return Number(r.sessionLifetimeMs)
  }
  if (s.mechanism === 'OAUTHBEARER') {
    const token = makeUnsecuredJws(s.oauthOptions ?? {})
    const r = await auth(Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`, 'utf8'))
    if (r.authBytes.length > 0) {
      // A JSON error challenge: answer ^A and the server fails the exchange with its reason.
      await auth(Buffer.from([1]))
    }
    return Number(r.sessionLifetimeMs)
  }
  const {hash} = SCRAM_MECHANISMS[s.mechanism]
  const nonce = randomBytes(24).toString('base64url')
  const clientFirstBare = `n=${saslName(s.username!)},r=${nonce}`
  const first = await auth(Buffer.from(`n,,${clientFirstBare}`, 'utf8'))
  const serverFirst = Buffer.from(first.authBytes).toString('utf8')
  const m = /^r=([^,]+),s=([^,]+),i=(\d+)/.exec(serverFirst)
  if (!m || !m[1].startsWith(nonce)) throw new ConnectionError(`SASL/${s.mechanism} with ${conn.where}: invalid server first message`)
  const salted = await pbkdf2Async(s.password!, Buffer.from(m[2], 'base64'), Number(m[3]), hash === 'sha256' ? 32 : 64, hash)
  const clientKey = createHmac(hash, salted).update('Client Key').digest()
  const storedKey = createHash(hash).update(clientKey).digest()
  const finalWithoutProof = `c=biws,r=${m[1]}`
  const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`
  const signature = createHmac(hash, storedKey).update(authMessage).digest()
  const proof = Buffer.alloc(clientKey.length)
  for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ signature[i]
  const fin = await auth(Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`, 'utf8'))
  const v = /^v=(.+)$/.exec(Buffer.from(fin.authBytes).toString('utf8'))
  const expected = createHmac(hash, createHmac(hash, salted).update('Server Key').digest()).update(authMessage).digest()
  if (!v || !timingSafeEqual(Buffer.from(v[1], 'base64'), expected)) throw new ConnectionError(`SASL/${s.mechanism} with ${conn.where}: the server's signature does not match`)
  return Number(fin.sessionLifetimeMs)
}

/** Connects to another broker's inter-broker listener with its security, re-authenticating before the session ends. */
export async function connectToBroker(host: string, port: number, sec: BrokerClientSecurity, opts: ConnectOptions, logger?: Logger): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect(host, port, {...opts, tls: sec.tls?.(host)})
  if (sec.sasl) {
    try {
      const lifetime = await saslAuthenticate(conn, sec.sasl)
      scheduleReauthentication(conn, sec.sasl, lifetime, logger)
    } catch (error) {
      await conn.close().catch(() => {})
      throw error
    }
  }
  return conn
}

/** Re-authenticates on the same connection at 85-95% of the session's lifetime (as Kafka's clients do). */
export function scheduleReauthentication(conn: KafkaConnection, s: SaslClientSettings, lifetime: number, logger?: Logger): void {
  if (!(lifetime > 0)) return
  // As Kafka's clients: at 85-95% of the session's lifetime.
  const t = setTimeout(() => {
    if (conn.closed) return
    saslAuthenticate(conn, s).then(next => scheduleReauthentication(conn, s, next, logger), error => {
      logger?.warn(`Re-authentication to ${conn.where} failed: ${(error as Error).message}`)
      void conn.close()
    })
  }, lifetime * (0.85 + Math.random() * 0.1))
  t.unref()
}
