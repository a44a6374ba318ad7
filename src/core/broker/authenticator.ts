// The SASL exchange of one connection on a SASL_PLAINTEXT or SASL_SSL listener, as Kafka's
// SaslServerAuthenticator runs it: ApiVersions (once) and SaslHandshake first; after a v0
// handshake the tokens come raw (size-prefixed, no Kafka header), after v1 inside
// SaslAuthenticate requests. Anything else before authentication closes the connection with one
// log line. A failure answers SASL_AUTHENTICATION_FAILED (v1) and closes after
// connection.failed.authentication.delay.ms. connections.max.reauth.ms bounds a session: the
// client re-authenticates on the same connection (KIP-368) or is disconnected.
import {Reader} from '../protocol/io.js'
import {Apis} from '../protocol/messages.js'
import {decodeRequestHeader} from '../protocol/header.js'
import {ErrorCode} from '../protocol/errors.js'
import type {Connection, FrameResult} from './socket-server.js'
import {PlainServer, ScramServer, OAuthBearerServer, SaslFailure, SCRAM_MECHANISMS, invalidCredentials, type SaslServer, type ScramCredential, type UnsecuredValidatorOptions} from '../security/sasl.js'

const API_VERSIONS = 18
const SASL_HANDSHAKE = 17
const SASL_AUTHENTICATE = 36
const API_NAMES: Record<number, string> = {0: 'PRODUCE', 1: 'FETCH', 2: 'LIST_OFFSETS', 3: 'METADATA', 8: 'OFFSET_COMMIT', 9: 'OFFSET_FETCH', 10: 'FIND_COORDINATOR', 11: 'JOIN_GROUP', 17: 'SASL_HANDSHAKE', 18: 'API_VERSIONS', 36: 'SASL_AUTHENTICATE'}

/** One SASL listener's settings (built at start-up; errors there stop the broker). */
export interface SaslListenerConfig {
  listener: string
  mechanisms: string[]
  /** sasl.server.max.receive.size: frames before authentication may not be larger. */
  maxReceiveSize: number
  /** connections.max.reauth.ms per mechanism (0: sessions do not expire). */
  reauthMs: Record<string, number>
  plainUsers: ReadonlyMap<string, string>
  oauth?: UnsecuredValidatorOptions
  /** connection.failed.authentication.delay.ms */
  failedAuthDelayMs: number
}

export interface AuthenticatorHost {
  /** SCRAM credentials by mechanism and user. */
  scramCredential(mechanism: string, user: string): ScramCredential | undefined
  /** Encodes a response frame (size prefix included). */
  encode(correlationId: number, apiKey: number, version: number, body: object): Buffer[]
  /** Logs at debug level (details that Kafka's log line leaves out). */
  debug(msg: string): void
  authTimeoutMs: number
}

type State = 'initial' | 'handshake' | 'authenticate' | 'complete' | 'failed'

/** Per-connection SASL state (Connection.security). */
export class SaslSession {
  state: State = 'initial'
  private server: SaslServer | null = null
  private mechanism = ''
  /** true after a v1 handshake: tokens come inside SaslAuthenticate requests. */
  private kafkaHeaders = false
  private deadline: NodeJS.Timeout | null = null
  /** When the authenticated session ends (ms since the epoch), or 0 for never. */
  expiresAt = 0
  /** Set while the client re-authenticates: the principal and mechanism it must keep. */
  private reauth: {principal: string; mechanism: string} | null = null

  /** socket.request.max.bytes: the frame limit once authenticated. */
  private readonly maxRequestBytes: number

  constructor(readonly config: SaslListenerConfig, readonly conn: Connection, readonly host: AuthenticatorHost) {
    this.maxRequestBytes = conn.frameLimit
    conn.frameLimit = Math.min(conn.frameLimit, config.maxReceiveSize)
    conn.frameLimitReason = size => `Failing SASL authentication due to invalid receive size (Invalid receive (size = ${size} larger than ${config.maxReceiveSize}))`
    this.deadline = setTimeout(() => {
      this.deadline = null
      if (this.state !== 'complete') conn.failAuthentication(`authentication not completed within ${host.authTimeoutMs} ms`)
    }, host.authTimeoutMs)
    this.deadline.unref?.()
  }

  get authenticated(): boolean {
    return this.state === 'complete'
  }

  close(): void {
    if (this.deadline) clearTimeout(this.deadline)
    this.deadline = null
  }

  /**
   * Takes a frame before (or during re-) authentication; undefined lets the router handle it
   * as a normal request (the session is authenticated and current).
   */
  intercept(frame: Buffer, normal: () => FrameResult | Promise<FrameResult>): FrameResult | Promise<FrameResult> | undefined {
    if (this.state === 'failed') return null
    if (this.state === 'complete' && this.reauth === null) {
      const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1
      if (apiKey === SASL_HANDSHAKE) return this.beginReauthentication(frame)
      if (this.expiresAt > 0 && Date.now() > this.expiresAt) {
        this.conn.close(`the authentication session expired (connections.max.reauth.ms ${this.config.reauthMs[this.mechanism] ?? 0} ms) and the client did not re-authenticate`)
        return null
      }
      return undefined
    }
    // While a client re-authenticates, its other requests are served with the current principal
    // (Kafka's clients send none meanwhile; a broker-to-broker fetch may be on its way).
    if (this.state === 'complete' && this.reauth !== null && (frame.length < 2 || frame.readInt16BE(0) !== SASL_AUTHENTICATE)) return undefined
    try {
      if (this.state === 'authenticate' && !this.kafkaHeaders) return this.rawToken(frame)
      return this.kafkaRequest(frame, normal)
    } catch (error) {
      this.fail(null, error instanceof SaslFailure ? error.clientMessage : (error as Error).message)
      return null
    }
  }

  private kafkaRequest(frame: Buffer, normal: () => FrameResult | Promise<FrameResult>): FrameResult | Promise<FrameResult> {
    let header
    const r = new Reader(frame)
    try {
      header = decodeRequestHeader(r)
    } catch {
      if (this.state === 'initial') throw new SaslFailure('Exception handling first SASL packet from client, GSSAPI is not supported by server')
      throw new SaslFailure('Invalid SASL request header')
    }
    const {apiKey, apiVersion, correlationId} = header
    const name = API_NAMES[apiKey] ?? `API key ${apiKey}`
    if (this.state === 'authenticate' || (this.reauth !== null && this.state === 'complete')) {
      if (apiKey !== SASL_AUTHENTICATE) throw new SaslFailure(`Unexpected Kafka request of type ${name} during SASL authentication.`)
      if (apiVersion < 0 || apiVersion > Apis.SaslAuthenticate.maxVersion) throw new SaslFailure(`Version ${apiVersion} is not supported for apiKey SASL_AUTHENTICATE`)
      let req
      try {
        req = Apis.SaslAuthenticate.decodeRequest(r, apiVersion)
      } catch (error) {
        throw new SaslFailure(`Invalid SASL_AUTHENTICATE request: ${(error as Error).message}`)
      }
      return this.authenticate(correlationId, apiVersion, Buffer.from(req.authBytes))
    }
    // initial / handshake
    if (apiKey === API_VERSIONS && this.state === 'initial') {
      this.state = 'handshake'
      return normal()
    }
    if (apiKey !== SASL_HANDSHAKE) throw new SaslFailure(`Unexpected Kafka request of type ${name} during SASL handshake.`)
    if (apiVersion < 0 || apiVersion > 1) throw new SaslFailure(`Version ${apiVersion} is not supported for apiKey SASL_HANDSHAKE`)
    let req
    try {
      req = Apis.SaslHandshake.decodeRequest(r, apiVersion)
    } catch (error) {
      throw new SaslFailure(`Invalid SASL_HANDSHAKE request: ${(error as Error).message}`)
    }
    return this.handshake(correlationId, apiVersion, req.mechanism)
  }

  private handshake(correlationId: number, version: number, mechanism: string): FrameResult {
    const mechanisms = this.config.mechanisms
    if (!mechanisms.includes(mechanism)) {
      this.fail(this.host.encode(correlationId, SASL_HANDSHAKE, version, {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms}), `Unsupported SASL mechanism ${mechanism}`)
      return this.failedResponse
    }
    this.kafkaHeaders = version >= 1
    this.mechanism = mechanism
    this.server = this.newServer(mechanism)
    this.state = 'authenticate'
    return this.host.encode(correlationId, SASL_HANDSHAKE, version, {errorCode: 0, mechanisms})
  }

  private newServer(mechanism: string): SaslServer {
    if (mechanism === 'PLAIN') return new PlainServer(this.config.plainUsers)
    if (SCRAM_MECHANISMS[mechanism]) return new ScramServer(mechanism, user => this.host.scramCredential(mechanism, user))
    if (mechanism === 'OAUTHBEARER' && this.config.oauth) return new OAuthBearerServer(this.config.oauth)
    throw new SaslFailure(`Unsupported SASL mechanism ${mechanism}`)
  }

  /** A v0 token (after a v0 handshake): the answer goes back size-prefixed; a failure just closes. */
  private rawToken(frame: Buffer): FrameResult {
    const answer = this.evaluate(Buffer.from(frame))
    const size = Buffer.allocUnsafe(4)
    size.writeInt32BE(answer.length, 0)
    return [size, answer]
  }

  private authenticate(correlationId: number, version: number, token: Buffer): FrameResult {
    let answer: Buffer
    try {
      answer = this.evaluate(token)
    } catch (error) {
      const msg = error instanceof SaslFailure ? error.clientMessage : invalidCredentials(this.mechanism, this.reauth !== null)
      this.fail(this.host.encode(correlationId, SASL_AUTHENTICATE, version, {errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: msg, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0}), msg)
      return this.failedResponse
    }
    let lifetime = 0
    if (this.server!.complete) lifetime = this.sessionLifetime()
    return this.host.encode(correlationId, SASL_AUTHENTICATE, version, {errorCode: 0, errorMessage: null, authBytes: answer, sessionLifetimeMs: lifetime})
  }

  /** Runs the mechanism; completes the session when it says so. Throws SaslFailure. */
  private evaluate(token: Buffer): Buffer {
    const server = this.server!
    let answer: Buffer
    try {
      answer = server.evaluate(token)
    } catch (error) {
      if (error instanceof SaslFailure && error.detail) this.host.debug(`SASL/${this.mechanism} failure from /${this.conn.remoteHost}: ${error.detail}`)
      throw error
    }
    if (server.complete) {
      const principal = `User:${server.authorizationId}`
      if (this.reauth !== null && this.reauth.principal !== principal) {
        const [pt, pn] = [this.reauth.principal.slice(0, 4), this.reauth.principal.slice(5)]
        throw new SaslFailure(`Cannot change principals during re-authentication from ${pt}.${pn}: User.${server.authorizationId}`)
      }
      this.conn.principal = principal
      this.state = 'complete'
      this.reauth = null
      this.close()
      this.conn.frameLimit = this.maxRequestBytes
      this.conn.frameLimitReason = null
    }
    return answer
  }

  /** The session's lifetime as Kafka computes it: min(connections.max.reauth.ms, credential expiry). */
  private sessionLifetime(): number {
    const now = Date.now()
    const max = this.config.reauthMs[this.mechanism] ?? 0
    const exp = this.server!.credentialExpiresAt
    let lifetime = 0
    if (exp !== undefined || max > 0) {
      if (exp === undefined) lifetime = Math.max(0, max)
      else if (max <= 0) lifetime = Math.max(0, exp - now)
      else lifetime = Math.max(0, Math.min(exp - now, max))
      this.expiresAt = now + lifetime
    } else {
      this.expiresAt = 0
    }
    return lifetime
  }

  private beginReauthentication(frame: Buffer): FrameResult {
    const r = new Reader(frame)
    let header
    let req
    try {
      header = decodeRequestHeader(r)
      req = Apis.SaslHandshake.decodeRequest(r, header.apiVersion)
    } catch (error) {
      this.fail(null, `Invalid SASL_HANDSHAKE request: ${(error as Error).message}`, true)
      return null
    }
    const {correlationId, apiVersion} = header
    if (req.mechanism !== this.mechanism) {
      const msg = `SASL mechanism '${req.mechanism}' requested by client is not supported for re-authentication of mechanism '${this.mechanism}'`
      this.fail(this.host.encode(correlationId, SASL_HANDSHAKE, apiVersion, {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: this.config.mechanisms}), msg, true)
      return this.failedResponse
    }
    this.reauth = {principal: this.conn.principal, mechanism: this.mechanism}
    this.kafkaHeaders = true
    this.server = this.newServer(this.mechanism)
    return this.host.encode(correlationId, SASL_HANDSHAKE, apiVersion, {errorCode: 0, mechanisms: this.config.mechanisms})
  }

  private failedResponse: FrameResult = null

  /**
   * Fails the exchange: the response (if any) is sent, then the connection is closed after
   * connection.failed.authentication.delay.ms; one log line as Kafka's Selector writes it.
   */
  private fail(response: FrameResult, why: string, reauthentication = this.reauth !== null): void {
    this.state = 'failed'
    this.close()
    this.failedResponse = response
    const conn = this.conn
    conn.mute(0x7fffffff) // nothing more is read or dispatched
    conn.logAuthenticationFailure(why, reauthentication)
    const delay = response === null ? 0 : this.config.failedAuthDelayMs
    setTimeout(() => conn.endSoon(), delay).unref?.()
  }
}
