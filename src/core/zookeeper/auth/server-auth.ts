// Who a connection is, as Apache ZooKeeper 3.8's server decides it: addauth (digest, with
// DigestAuthenticationProvider.superDigest), SASL DIGEST-MD5 packets against the JAAS Server
// section (ZooKeeperServer.processSasl: a sasl:<user> id, zookeeper.superUser), enforced
// authentication (sessionRequireClientSASLAuth, enforce.auth.enabled/schemes: anything but
// auth and sasl from a connection without one of those schemes gets
// SESSIONCLOSEDREQUIRESASLAUTH and the connection closes), and x509 ids of TLS client
// certificates (X509AuthenticationProvider).
import type {TLSSocket} from 'node:tls'
import type {JuteReader, JuteWriter} from '../jute.js'
import {Err, Xid} from '../records.js'
import {digestId, type AuthId} from '../datatree.js'
import {DigestMd5Server, SaslError} from './digest-md5.js'
import {subjectRfc2253, chainReaches} from '../../security/tls.js'
import {zkServerTrustAnchors} from '../tls.js'
import type {ZkSecurityConfig} from '../../config/zk-security.js'
import type {Logger} from '../../util/log.js'

/** KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH */
export const SESSION_CLOSED_REQUIRE_SASL_AUTH = -124

/** What the server offers the authenticator: its log, its reply writer, the last zxid. */
export interface AuthHost {
  readonly log: Logger
  readonly rw: JuteWriter
  readonly zxid: number
}

/** The parts of a connection the authenticator uses. */
export interface AuthConn {
  authIds: AuthId[]
  sasl: DigestMd5Server | null
  readonly describe: string
  readonly session: {id: bigint} | null
  emit(w: JuteWriter, from: number, zxid: number, close?: boolean): void
}

const hex = (id: bigint | undefined): string => BigInt.asUintN(64, id ?? 0n).toString(16)

export class ServerAuth {
  /** The trust store's certificates when the key store is PKCS12 (see zkServerTrustAnchors); null: not read yet. */
  private anchors: Set<string> | undefined | null = null

  constructor(private readonly host: AuthHost, readonly config: ZkSecurityConfig) {}

  private reply(conn: AuthConn, xid: number, err: number, body?: (w: JuteWriter) => void, close = false): void {
    const w = this.host.rw.reset()
    const m = w.startFrame()
    w.int(xid).long(0).int(err)
    body?.(w)
    w.finishFrame(m)
    conn.emit(w, 0, this.host.zxid, close)
  }

  /** An auth packet (addauth scheme auth). */
  auth(conn: AuthConn, r: JuteReader): void {
    r.int()
    const scheme = r.ustring()
    const auth = r.buffer().toString('utf8')
    if (scheme === 'digest' && auth.includes(':')) {
      const id = digestId(auth)
      if (this.config.superDigest !== null && id === this.config.superDigest && !conn.authIds.some(a => a.scheme === 'super')) conn.authIds.push({scheme: 'super', id: ''})
      if (!conn.authIds.some(a => a.scheme === 'digest' && a.id === id)) conn.authIds.push({scheme: 'digest', id})
      this.host.log.info(`Session 0x${hex(conn.session?.id)}: auth success for scheme digest and address ${conn.describe}`)
      this.reply(conn, Xid.auth, 0)
      return
    }
    if (scheme === 'digest' || this.config.schemes.has(scheme)) this.host.log.warn(`Authentication failed for scheme: ${scheme}`)
    else this.host.log.warn(`No authentication provider for scheme: ${scheme} has ${[...this.config.schemes].join(' ')}`)
    this.reply(conn, Xid.auth, Err.AuthFailed, undefined, true)
  }

  /** A SASL packet (GetSASLRequest: one token); answered with SetSASLResponse. */
  sasl(conn: AuthConn, xid: number, r: JuteReader): void {
    const token = r.buffer()
    const users = this.config.saslUsers
    let response: Buffer | null = null
    if (users === null) {
      // Apache's connection has no SASL server without a JAAS Server section: it answers with no token.
      this.host.log.error('cnxn.saslServer is null: cnxn object did not initialize its saslServer properly.')
    } else {
      conn.sasl ??= new DigestMd5Server(u => users.get(u))
      try {
        response = conn.sasl.evaluate(token)
        if (conn.sasl.complete) {
          const id = conn.sasl.authorizationId
          this.host.log.info(`Session 0x${hex(conn.session?.id)}: adding SASL authorization for authorizationID: ${id}`)
          conn.authIds.push({scheme: 'sasl', id})
          conn.sasl = null
          if (this.config.saslSuperUsers.includes(id)) {
            conn.authIds.push({scheme: 'super', id: ''})
            this.host.log.info(`Session 0x${hex(conn.session?.id)}: Authenticated Id '${id}' as super user`)
          }
        }
      } catch (error) {
        if (!(error instanceof SaslError)) throw error
        conn.sasl = null
        this.host.log.warn(`Client ${conn.describe} failed to SASL authenticate: javax.security.sasl.SaslException: ${error.message}`)
        const required = this.config.enforceSchemes.includes('sasl')
        if (!this.config.allowSaslFailedClients || required) {
          this.host.log.warn(required
            ? 'Closing client connection due to server requires client SASL authenticaiton,but client SASL authentication has failed, or client is not configured with SASL authentication.'
            : 'Closing client connection due to SASL authentication failure.')
          this.reply(conn, xid, required ? SESSION_CLOSED_REQUIRE_SASL_AUTH : Err.AuthFailed, w => w.buffer(null), true)
          return
        }
        this.host.log.warn('Maintaining client connection despite SASL authentication failure.')
      }
    }
    this.reply(conn, xid, 0, w => w.buffer(response))
  }

  /**
   * Enforced authentication: false (the reply sent, the connection closing) when the
   * connection has none of the required schemes.
   */
  enforce(conn: AuthConn, xid: number): boolean {
    const schemes = this.config.enforceSchemes
    if (schemes.length === 0 || conn.authIds.some(a => schemes.includes(a.scheme))) return true
    this.host.log.error(`Client authentication scheme(s) [${conn.authIds.map(a => a.scheme).join(', ')}] does not match with any of the expected authentication scheme [${schemes.join(', ')}], closing session.`)
    this.reply(conn, xid, SESSION_CLOSED_REQUIRE_SASL_AUTH, undefined, true)
    return false
  }

  /**
   * A TLS connection whose handshake finished: the x509 id of its client certificate. False
   * when the connection must close (a certificate that is not trusted, or no x509 provider).
   */
  tlsConnected(conn: AuthConn, socket: TLSSocket): boolean {
    if (this.config.tls?.clientAuth === 'none') return true
    const cert = socket.getPeerCertificate()
    if (!cert || !cert.raw) {
      if (this.config.tls?.clientAuth !== 'need') return true
      this.host.log.error(`Error getting peer certificates from ${conn.describe}: peer not authenticated`)
      return false
    }
    if (!socket.authorized) {
      this.host.log.error(`Failed to trust certificate for ${conn.describe}: ${socket.authorizationError}`)
      return false
    }
    if (this.anchors === null) this.anchors = this.config.tls ? zkServerTrustAnchors(this.config.tls, 'the ZooKeeper configuration') : undefined
    if (this.anchors && !chainReaches(socket.getPeerCertificate(true), this.anchors)) {
      this.host.log.error(`Failed to trust certificate for ${conn.describe}: unable to get local issuer certificate (the chain does not lead to a certificate of ssl.trustStore)`)
      return false
    }
    if (!this.config.schemes.has('x509')) {
      this.host.log.error('X509 Auth provider not found: x509')
      return false
    }
    const id = subjectRfc2253(cert.raw)
    conn.authIds.push({scheme: 'x509', id})
    this.host.log.info(`Authenticated Id '${id}' for Scheme 'x509'`)
    return true
  }
}
