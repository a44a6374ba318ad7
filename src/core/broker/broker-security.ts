// The broker's security: TLS on SSL/SASL_SSL listeners (with key store reload), SASL
// authentication on SASL_* listeners (authenticator.ts), the principal of every connection,
// and (once ZooKeeper is up) SCRAM credentials, ACLs and quotas. The socket server calls the
// hooks here; the router asks gate() before handing a frame to the request handlers.
import {watchFile, unwatchFile} from 'node:fs'
import type {ServerConfig} from '../config/server-config.js'
import {ConfigError} from '../config/settings.js'
import {CloseConnection, type Connection, type ConnectionHooks, type ListenerSpec, type SocketServer} from './socket-server.js'
import {ListenerSettings, usesSasl, usesTls, jaasFileSections, SUPPORTED_MECHANISMS} from '../security/config.js'
import {serverTls, subjectRfc2253, fileStamps, chainReaches, type ServerTls} from '../security/tls.js'
import {parseJaas, type JaasModule} from '../security/jaas.js'
import {SaslSession, type SaslListenerConfig, type AuthenticatorHost} from './authenticator.js'
import {PlainServer, OAUTHBEARER_LOGIN_MODULE, unsecuredValidatorOptions, credentialFromString, type ScramCredential} from '../security/sasl.js'
import {EntityConfigStore, sanitize} from '../security/entity-configs.js'
import type {ZkClient, ZkSecurity} from '../cluster/zk.js'
import {zkClientTlsOptions} from '../zookeeper/tls.js'
import {jvmSystemProperties, zkTlsSystemProperty, BROKER_JVM_OPTION_VARS} from '../zkclient/system-properties.js'
import {AclAuthorizer, ACL_AUTHORIZER_CLASSES} from '../security/authorizer.js'
import {RequestAuthz} from './api-authz.js'
import {Quotas} from '../security/quotas.js'
import {interBrokerClientSecurity, connectToBroker, type BrokerClientSecurity} from '../security/client.js'
import type {KafkaConnection, ConnectOptions} from '../protocol/client.js'
import {Logger} from '../util/log.js'
import type {KafkaBroker} from './broker.js'

/** How long a client may take to finish its TLS handshake and SASL authentication (bounded by connections.max.idle.ms). */
export const AUTHENTICATION_TIMEOUT_MS = 10000

interface ListenerSecurity {
  name: string
  protocol: string
  settings: ListenerSettings
  tls?: ServerTls
  stamps?: string
  sasl?: SaslListenerConfig
}

const UNSECURED_VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler'

const DIGEST_LOGIN_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule'

/**
 * How the broker reaches ZooKeeper, as Kafka 3.9's broker with Apache's ZooKeeper client: TLS
 * when zookeeper.ssl.client.enable=true, with the zookeeper.ssl.* keys of server.properties (a
 * key the file does not give is taken from its -D system property in KAFKA_OPTS:
 * -Dzookeeper.client.secure=true, -Dzookeeper.ssl.keyStore.location=..., as KafkaConfig does); SASL
 * DIGEST-MD5 with the username and password of the JAAS Client section (or the section
 * -Dzookeeper.sasl.clientconfig names; ZooKeeper's DigestLoginModule) of the file that
 * -Djava.security.auth.login.config names in KAFKA_OPTS, unless -Dzookeeper.sasl.client=false.
 * With SASL, the znodes created under zookeeper.set.acl=true belong to sasl:<username> (and to
 * the x509 id of the broker's certificate with TLS), as Kafka's do. A server that refuses the
 * credentials, or has no SASL configured, stops start-up (Kafka: AuthFailed).
 */
export function zooKeeperSecurity(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): ZkSecurity {
  const opts = `${env.KAFKA_OPTS ?? ''} ${env.KAFKIT_OPTS ?? ''}`
  const saslOff = /-Dzookeeper\.sasl\.client=false\b/.test(opts)
  const section = /-Dzookeeper\.sasl\.clientconfig=(\S+)/.exec(opts)?.[1] ?? 'Client'
  const file = jaasFileSections(env)
  const modules = saslOff ? undefined : file.sections[section]
  const digest = modules?.find(m => m.loginModule === DIGEST_LOGIN_MODULE) ?? modules?.[0]
  const out: ZkSecurity = {}
  if (digest && digest.options.username !== undefined && digest.options.password !== undefined) out.sasl = {username: digest.options.username, password: digest.options.password}
  const get = (k: string): string | undefined => config.props.get(k)?.trim()
  // A zookeeper.ssl.* key server.properties lacks comes from its -D system property in KAFKA_OPTS (KafkaConfig).
  const sys = jvmSystemProperties(env, BROKER_JVM_OPTION_VARS)
  const tls = zkClientTlsOptions(get, config.source, sys)
  if (tls) out.tls = tls
  // Kafka: secure ACLs need SASL, or TLS with a client certificate (its x509 id owns the znodes).
  const certificate = tls !== undefined && (get('zookeeper.ssl.keystore.location') ?? get('zookeeper.ssl.keyStore.location') ?? zkTlsSystemProperty('zookeeper.ssl.keystore.location', sys)) !== undefined
  if (config.zookeeperSetAcl && !out.sasl && !certificate) {
    throw new ConfigError(`zookeeper.set.acl is true in ${config.source}, but the broker has no ZooKeeper credentials: give a JAAS file with a '${section}' section (${DIGEST_LOGIN_MODULE} required username=... password=...;) as -Djava.security.auth.login.config=<file> in KAFKA_OPTS${file.file ? ` (${file.file} has no such section)` : ''}, or a client certificate (zookeeper.ssl.client.enable=true and zookeeper.ssl.keystore.location)`)
  }
  return out
}

/** The JAAS modules a listener's mechanism uses on the broker (Kafka's JaasContext.loadServerContext). */
export function serverJaas(ls: ListenerSettings, mechanism: string, file: {file?: string; sections: Record<string, JaasModule[]>}): JaasModule[] {
  const mech = mechanism.toLowerCase()
  const key = `${ls.prefix}${mech}.sasl.jaas.config`
  const inline = ls.props.get(key)?.trim() ?? ls.props.get(`${mech}.sasl.jaas.config`)?.trim()
  if (inline) {
    let modules: JaasModule[]
    try {
      modules = parseJaas(inline)
    } catch (error) {
      throw new ConfigError(`Invalid value [hidden] for configuration ${ls.props.has(key) ? key : `${mech}.sasl.jaas.config`} in ${ls.source}: ${(error as Error).message}`)
    }
    if (modules.length !== 1) throw new ConfigError(`JAAS config property ${key} contains ${modules.length} login modules, should be 1 module`)
    return modules
  }
  const section = `${ls.listener.toLowerCase()}.KafkaServer`
  const modules = file.sections[section] ?? file.sections.KafkaServer
  if (!modules) throw new ConfigError(`Could not find a 'KafkaServer' or '${section}' entry in the JAAS configuration. System property 'java.security.auth.login.config' is ${file.file ?? 'not set'} (set ${key} in ${ls.source}, or -Djava.security.auth.login.config=<file> in KAFKA_OPTS)`)
  return modules
}

export class BrokerSecurity {
  readonly listeners = new Map<string, ListenerSecurity>()
  /** Deadline for a client's handshake and authentication. */
  readonly authTimeoutMs: number
  private socketServer: SocketServer | null = null
  private watched: string[] = []
  private dynamic: () => Record<string, string> = () => ({})

  /** User and client-id configs from ZooKeeper (SCRAM credentials, quotas); set by start(). */
  entities: EntityConfigStore | null = null
  /** Encodes a response frame; the broker sets it to its router's encoder. */
  encode: (correlationId: number, apiKey: number, version: number, body: object) => Buffer[] = () => { throw new Error('no encoder') }
  private readonly authHost: AuthenticatorHost
  /** kafka.security.authorizer.AclAuthorizer when authorizer.class.name names it; null: everything allowed. */
  readonly authorizer: AclAuthorizer | null = null
  /** The broker (for authorization decisions that look at its metadata). */
  broker: KafkaBroker | null = null
  private zk: (() => ZkClient) | null = null
  /** Produce, fetch and request quotas of users and client ids. */
  readonly quotas: Quotas
  /** How this broker connects to other brokers (the inter-broker listener's protocol, TLS and SASL). */
  readonly interBroker: BrokerClientSecurity
  /** TLS and SASL of the broker's ZooKeeper sessions (zookeeper.ssl.*, the JAAS Client section). */
  readonly zkSecurity: ZkSecurity

  constructor(readonly config: ServerConfig, readonly logger: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.authTimeoutMs = Math.max(1, Math.min(AUTHENTICATION_TIMEOUT_MS, config.connectionsMaxIdleMs > 0 ? config.connectionsMaxIdleMs : AUTHENTICATION_TIMEOUT_MS))
    let jaasFile: ReturnType<typeof jaasFileSections> | undefined
    for (const l of config.listeners) {
      const settings = new ListenerSettings(config.props, l.name, config.source, () => this.dynamic())
      const ls: ListenerSecurity = {name: l.name, protocol: l.securityProtocol, settings}
      if (usesTls(l.securityProtocol)) {
        ls.tls = serverTls(settings)
        ls.stamps = fileStamps(ls.tls.files)
      }
      if (usesSasl(l.securityProtocol)) {
        jaasFile ??= jaasFileSections(env)
        ls.sasl = this.saslListener(settings, jaasFile)
      }
      this.listeners.set(l.name, ls)
    }
    this.interBroker = interBrokerClientSecurity(config, serverJaas, env, () => this.dynamic())
    this.zkSecurity = zooKeeperSecurity(config, env)
    const windowNum = Number(config.props.get('quota.window.num')?.trim() || 11)
    const windowSeconds = Number(config.props.get('quota.window.size.seconds')?.trim() || 1)
    this.quotas = new Quotas(() => this.entities, windowNum, windowSeconds)
    const authorizerClass = config.props.get('authorizer.class.name')?.trim()
    if (authorizerClass) {
      if (!ACL_AUTHORIZER_CLASSES.includes(authorizerClass)) throw new ConfigError(`Invalid value ${authorizerClass} for configuration authorizer.class.name in ${config.source}: kafkit's broker provides ${ACL_AUTHORIZER_CLASSES[0]} (ACLs in ZooKeeper); it cannot load other authorizer classes`)
      this.authorizer = new AclAuthorizer(config.props, () => this.zkClient(), new Logger('kafka.security.authorizer.AclAuthorizer'), new Logger('kafka.authorizer.logger'))
    }
    if (config.props.get('sasl.jaas.config') !== undefined) this.logger.warn('Server config sasl.jaas.config should be prefixed with SASL mechanism name, ignoring config')
    this.authHost = {
      scramCredential: (mechanism, user) => this.scramCredential(mechanism, user),
      encode: (c, k, v, b) => this.encode(c, k, v, b),
      debug: msg => this.logger.debug(msg),
      authTimeoutMs: this.authTimeoutMs,
    }
  }

  private saslListener(ls: ListenerSettings, jaasFile: ReturnType<typeof jaasFileSections>): SaslListenerConfig {
    const mechanisms = ls.list('sasl.enabled.mechanisms', ['GSSAPI']).map(m => m.toUpperCase())
    if (mechanisms.length === 0) throw new ConfigError(`No SASL mechanisms are enabled for listener ${ls.listener} (${ls.keyName('sasl.enabled.mechanisms')})`)
    for (const m of mechanisms) {
      if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(m)) {
        throw new ConfigError(`SASL mechanism ${m} of listener ${ls.listener} (${ls.keyName('sasl.enabled.mechanisms')} in ${ls.source}${m === 'GSSAPI' && ls.get('sasl.enabled.mechanisms') === undefined ? ', Kafka\'s default' : ''}) is not supported by kafkit: use ${SUPPORTED_MECHANISMS.join(', ')}`)
      }
    }
    let plainUsers = new Map<string, string>()
    let oauth: SaslListenerConfig['oauth']
    const reauthMs: Record<string, number> = {}
    for (const m of mechanisms) {
      const modules = serverJaas(ls, m, jaasFile)
      const handler = ls.mechanism(m, 'sasl.server.callback.handler.class')
      if (handler !== undefined && !(m === 'OAUTHBEARER' && handler === UNSECURED_VALIDATOR)) {
        throw new ConfigError(`${ls.keyName('sasl.server.callback.handler.class')}=${handler}: kafkit cannot load JVM callback handlers; it serves ${m} with Kafka's built-in handler`)
      }
      if (m === 'PLAIN') plainUsers = PlainServer.usersFrom(modules)
      if (m === 'OAUTHBEARER') {
        const mod = modules.find(x => x.loginModule === OAUTHBEARER_LOGIN_MODULE) ?? modules[0]
        try {
          oauth = unsecuredValidatorOptions(mod.options)
        } catch (error) {
          throw new ConfigError(`OAUTHBEARER on listener ${ls.listener}: ${(error as Error).message}`)
        }
      }
      const v = ls.mechanism(m, 'connections.max.reauth.ms')
      if (v !== undefined && !/^\d+$/.test(v)) throw new ConfigError(`Invalid value ${v} for configuration connections.max.reauth.ms in ${ls.source}: must be a long`)
      reauthMs[m] = v === undefined ? 0 : Number(v)
    }
    const max = ls.get('sasl.server.max.receive.size')
    const delay = this.config.props.get('connection.failed.authentication.delay.ms')?.trim()
    return {
      listener: ls.listener,
      mechanisms,
      maxReceiveSize: max === undefined ? 524288 : Number(max),
      reauthMs,
      plainUsers,
      oauth,
      failedAuthDelayMs: delay ? Number(delay) : 100,
    }
  }

  /** Loads what lives in ZooKeeper (SCRAM credentials and quotas of users and client ids). */
  async start(zk: () => ZkClient): Promise<void> {
    this.zk = zk
    this.entities = new EntityConfigStore(zk, this.logger)
    this.entities.onChange(() => this.quotas.refresh())
    await this.entities.load()
    this.quotas.refresh()
    zk().on('session', () => { void this.entities?.load().catch(err => this.logger.warn(`Cannot reload user and client configs: ${(err as Error).message}`)) })
    await this.authorizer?.start()
  }

  private zkClient(): ZkClient {
    if (!this.zk) throw new Error('ZooKeeper is not connected yet')
    return this.zk()
  }

  /** A connection to another broker's inter-broker listener, authenticated as this broker. */
  connectToBroker(host: string, port: number, opts: ConnectOptions): Promise<KafkaConnection> {
    return connectToBroker(host, port, this.interBroker, opts, this.logger)
  }

  /** The authorization view of one request, or null when no authorizer is configured. */
  requestAuthz(conn: Connection, apiName: string): RequestAuthz | null {
    if (this.authorizer === null || this.broker === null) return null
    return new RequestAuthz(this.authorizer, {principal: conn.principal, host: conn.remoteHost}, apiName, this.broker, {id: conn.id, listener: conn.listener.name, securityProtocol: conn.listener.securityProtocol})
  }

  /** A /config/changes notification named a user or client entity. */
  onEntityConfigChanged(entityPath: string): void {
    void this.entities?.reload(entityPath)
  }

  scramCredential(mechanism: string, user: string): ScramCredential | undefined {
    const raw = this.entities?.get(`users/${sanitize(user)}`)?.[mechanism]
    if (raw === undefined) return undefined
    try {
      return credentialFromString(raw)
    } catch {
      this.logger.warn(`The ${mechanism} credential of user ${user} in ZooKeeper is not valid; ignoring it`)
      return undefined
    }
  }

  /** Whether any listener needs SASL (then the broker needs ZooKeeper-backed credentials). */
  get anySasl(): boolean {
    return [...this.listeners.values()].some(l => usesSasl(l.protocol))
  }

  /** The socket server's listener specs, TLS options included. */
  listenerSpecs(): ListenerSpec[] {
    return this.config.listeners.map(l => {
      const sec = this.listeners.get(l.name)
      return {name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol, tls: sec?.tls?.options, handshakeTimeoutMs: this.authTimeoutMs}
    })
  }

  /** Hooks for the socket server. */
  hooks(): ConnectionHooks & {onClose?(conn: Connection): void} {
    return {
      onConnection: conn => this.onConnection(conn),
      onTlsError: (listener, remote, err) => this.logger.info(`Failed authentication with /${remote} (listener ${listener}) (SSL handshake failed: ${tlsReason(err)})`),
      onClose: conn => this.onClose(conn),
    }
  }

  /** Starts watching the key and trust store files (a change reloads them, as Kafka's dynamic update does). */
  attach(socketServer: SocketServer, dynamic?: () => Record<string, string>): void {
    this.socketServer = socketServer
    if (dynamic) this.dynamic = dynamic
    const files = new Set<string>()
    for (const l of this.listeners.values()) for (const f of l.tls?.files ?? []) files.add(f)
    for (const f of files) {
      watchFile(f, {interval: 1000, persistent: false}, () => this.reloadTls())
      this.watched.push(f)
    }
  }

  /** Re-reads every TLS listener's stores whose files or settings changed; a bad new store keeps the old one (one line). */
  reloadTls(force = false): void {
    if (!this.socketServer) return
    for (const l of this.listeners.values()) {
      if (!l.tls) continue
      let next: ServerTls
      try {
        next = serverTls(l.settings)
      } catch (error) {
        this.logger.error(`Cannot reload the key store of listener ${l.name}; keeping the current one: ${(error as Error).message}`)
        continue
      }
      const stamps = fileStamps(next.files)
      if (!force && stamps === l.stamps && next.files.length > 0) continue
      try {
        this.socketServer.setSecureContext(l.name, next.options)
      } catch (error) {
        this.logger.error(`Cannot reload the key store of listener ${l.name}; keeping the current one: ${(error as Error).message}`)
        continue
      }
      l.tls = next
      l.stamps = stamps
      this.logger.info(`Reloaded the SSL key and trust stores of listener ${l.name}`)
      for (const f of next.files) {
        if (!this.watched.includes(f)) {
          watchFile(f, {interval: 1000, persistent: false}, () => this.reloadTls())
          this.watched.push(f)
        }
      }
    }
  }

  /** A dynamic broker config changed: reload TLS when an ssl key moved. */
  onDynamicConfigChange(keys: string[]): void {
    if (keys.some(k => /(^|\.)ssl\./.test(k))) this.reloadTls(true)
  }

  stop(): void {
    this.authorizer?.stop()
    for (const f of this.watched) unwatchFile(f)
    this.watched = []
  }

  private onConnection(conn: Connection): void {
    const l = this.listeners.get(conn.listener.name)
    if (!l) return
    if (l.tls?.anchors) {
      // A PKCS12 key store's bundled CAs are trusted by Node, not by Java: a client certificate
      // (SSL or SASL_SSL) must lead to the trust store.
      const sock = conn.socket as import('node:tls').TLSSocket
      const peer = sock.getPeerCertificate?.(true)
      if (peer && peer.raw && sock.authorized && !chainReaches(peer, l.tls.anchors)) {
        throw new CloseConnection('SSL handshake failed: unable to get local issuer certificate (the client certificate\'s chain does not lead to a certificate of the trust store)')
      }
    }
    if (l.tls) {
      // ssl.client.auth=requested lets Node's handshake finish with an untrusted certificate;
      // Java's engine refuses a presented certificate it cannot trust (SSL and SASL_SSL alike),
      // and so do we.
      const sock = conn.socket as import('node:tls').TLSSocket
      if (sock.getPeerX509Certificate?.() && !sock.authorized) throw new CloseConnection(`SSL handshake failed: ${tlsReason(String(sock.authorizationError ?? 'certificate not trusted'))}`)
    }
    if (l.sasl) {
      conn.security = new SaslSession(l.sasl, conn, this.authHost)
      return
    }
    if (l.protocol === 'SSL' && l.tls) {
      const sock = conn.socket as import('node:tls').TLSSocket
      const cert = sock.getPeerX509Certificate?.()
      if (cert) {
        let dn: string
        try {
          dn = subjectRfc2253(cert.raw)
        } catch (error) {
          throw new CloseConnection(`SSL handshake failed: cannot read the client certificate's subject (${(error as Error).message})`)
        }
        try {
          conn.principal = `User:${l.tls.mapper.name(dn)}`
        } catch (error) {
          throw new CloseConnection((error as Error).message)
        }
      }
    }
  }

  private onClose(conn: Connection): void {
    if (conn.security instanceof SaslSession) conn.security.close()
  }
}

/** A TLS failure in a few words: OpenSSL's reason ("tlsv1 alert unknown ca", "wrong version number") or Node's. */
export function tlsReason(err: Error | string): string {
  if (typeof err === 'string') return CERT_ERRORS[err] ?? err.toLowerCase().replace(/_/g, ' ')
  const reason = (err as {reason?: string}).reason
  if (reason) return reason
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake not finished in time'
  if (code === 'ECONNRESET') return 'connection closed by the client'
  return err.message.split('\n')[0]
}

const CERT_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (untrusted issuer)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (untrusted issuer)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
}

export {ConfigError}
