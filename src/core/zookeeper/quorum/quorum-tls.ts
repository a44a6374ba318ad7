// The transport of the quorum and election ports, as Apache ZooKeeper 3.8 sets it up
// (QuorumCnxManager, Leader, Learner with QuorumX509Util and UnifiedServerSocket): with
// sslQuorum=true a server connects to the others over TLS (its ssl.quorum.keyStore
// certificate, the peer's checked against ssl.quorum.trustStore and, with
// ssl.quorum.hostnameVerification, against the peer's address) and its listeners accept TLS
// only; with portUnification=true its listeners accept TLS and plaintext alike, told apart by
// the first 5 bytes (a TLS record header), for a rolling change of sslQuorum. A handshake that
// fails, an untrusted certificate and bytes that are not TLS close that connection with one
// log line; nothing a peer sends can stop the listener.
import {connect as netConnect, type Socket} from 'node:net'
import {connect as tlsConnect, createServer as tlsServer, checkServerIdentity, type Server as TlsServer, type TLSSocket, type ConnectionOptions, type PeerCertificate, type DetailedPeerCertificate} from 'node:tls'
import {reverse} from 'node:dns/promises'
import {Logger} from '../../util/log.js'
import {zkQuorumTlsOptions} from '../tls.js'
import {chainReaches} from '../../security/tls.js'
import type {QuorumSecurityConfig} from '../../config/zk-quorum-security.js'

const log = new Logger('org.apache.zookeeper.common.QuorumX509Util')

/** Whether 5 bytes start a TLS (or SSLv3) record: content type 20..23, major version 3, a sane length. */
export function looksLikeTls(b: Buffer): boolean {
  if (b.length < 5) return false
  const type = b[0]
  const len = b.readUInt16BE(3)
  return type >= 20 && type <= 23 && b[1] === 3 && b[2] <= 4 && len > 0 && len <= 18432 + 2048
}

const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(':')

export class QuorumTransport {
  readonly tls: boolean
  /** Accepted connections found to be TLS are handed to this server (never listening itself). */
  private readonly tlsServer: TlsServer | null = null
  private readonly clientOptions: ConnectionOptions | null = null
  /** The trust store's certificates when the key store is PKCS12 (zkQuorumTlsOptions). */
  private readonly anchors: Set<string> | undefined
  /** The connections in a handshake, by remote address: what port, and whom to hand them to. */
  private readonly handshaking = new Map<string, {what: string; handler: (s: Socket) => void; timer: NodeJS.Timeout}>()

  constructor(readonly q: QuorumSecurityConfig, source: string) {
    this.tls = q.sslQuorum
    if (q.sslQuorum || q.portUnification) {
      const o = zkQuorumTlsOptions(q.tlsKeys, q.clientAuth, source)
      this.clientOptions = o.client
      this.anchors = o.anchors
      // Certificates are checked in checkPeer (node would close an untrusted one without a word).
      const server = (this.tlsServer = tlsServer({...o.server, rejectUnauthorized: false}))
      server.on('secureConnection', s => this.secured(s))
      server.on('tlsClientError', (e, s) => {
        const key = `${s.remoteAddress}:${s.remotePort}`
        const c = this.handshaking.get(key)
        this.handshaking.delete(key)
        if (c) clearTimeout(c.timer)
        log.error(`TLS handshake from ${key} on the ${c?.what ?? 'quorum'} port failed: ${e.message}`)
        s.destroy()
      })
      log.info(`Quorum TLS: ${q.sslQuorum ? 'outgoing connections use TLS' : 'outgoing connections are plaintext'}; listeners accept ${q.portUnification ? 'TLS and plaintext (portUnification)' : 'TLS only'}; client auth ${q.clientAuth}; hostname verification ${q.hostnameVerification}`)
    }
  }

  /** The event a socket from connect() emits once it can carry quorum traffic. */
  get readyEvent(): 'connect' | 'secureConnect' {
    return this.tls ? 'secureConnect' : 'connect'
  }

  /** Connects to another server's quorum or election port (TLS when sslQuorum). */
  connect(host: string, port: number, what: string): Socket {
    if (!this.tls) return netConnect({host, port})
    const s = tlsConnect({
      ...this.clientOptions!,
      host,
      port,
      servername: isIp(host) ? undefined : host,
      checkServerIdentity: (h: string, cert: PeerCertificate) => {
        if (this.anchors && !chainReaches(cert as DetailedPeerCertificate, this.anchors)) return new Error('unable to get local issuer certificate (the chain does not lead to a certificate of ssl.quorum.trustStore)')
        return this.q.hostnameVerification ? checkServerIdentity(h, cert) : undefined
      },
    })
    // Refused connections are routine (a server not up yet); a failed handshake is worth a line.
    let tcp = false
    let secure = false
    s.once('connect', () => { tcp = true })
    s.once('secureConnect', () => { secure = true })
    s.on('error', e => {
      if ((tcp && !secure) || /alert/i.test(e.message)) log.error(`TLS connection to the ${what} port ${host}:${port} failed: ${e.message}`)
    })
    return s
  }

  /**
   * An accepted connection on a quorum or election listener: handed to handler as it is
   * (plaintext), or as the TLS socket once the handshake and the certificate checks are done.
   * A plaintext socket whose first bytes were looked at (portUnification) comes paused, those
   * bytes put back: the handler resumes it.
   */
  accept(raw: Socket, what: string, handler: (s: Socket) => void): void {
    if (!this.q.sslQuorum && !this.q.portUnification) {
      handler(raw)
      return
    }
    const remote = `${raw.remoteAddress}:${raw.remotePort}`
    raw.on('error', () => {})
    let head: Buffer = Buffer.alloc(0)
    let decided = false
    const decide = () => {
      if (decided) return
      decided = true
      clearTimeout(timer)
      raw.pause()
      raw.off('data', onData)
      raw.off('end', decide)
      if (looksLikeTls(head)) {
        raw.unshift(head)
        this.handshake(raw, remote, what, handler)
      } else if (this.q.portUnification) {
        if (head.length > 0) raw.unshift(head)
        handler(raw)
      } else {
        log.error(`Connection from ${remote} on the ${what} port is not TLS (sslQuorum=true, portUnification=false): closed`)
        raw.destroy()
      }
    }
    const onData = (d: Buffer) => {
      head = head.length === 0 ? d : Buffer.concat([head, d])
      if (head.length >= 5) decide()
    }
    const timer = setTimeout(decide, this.q.handshakeDetectionTimeout)
    timer.unref()
    raw.on('data', onData)
    raw.on('end', decide)
  }

  private handshake(raw: Socket, remote: string, what: string, handler: (s: Socket) => void): void {
    const timer = setTimeout(() => {
      if (!this.handshaking.delete(remote)) return
      log.error(`TLS handshake from ${remote} on the ${what} port did not complete within ${this.q.handshakeDetectionTimeout} ms: closed`)
      raw.destroy()
    }, this.q.handshakeDetectionTimeout)
    timer.unref()
    this.handshaking.set(remote, {what, handler, timer})
    raw.once('close', () => {
      const c = this.handshaking.get(remote)
      if (c?.timer === timer) { clearTimeout(timer); this.handshaking.delete(remote) }
    })
    this.tlsServer!.emit('connection', raw)
  }

  private secured(s: TLSSocket): void {
    const remote = `${s.remoteAddress}:${s.remotePort}`
    const c = this.handshaking.get(remote)
    this.handshaking.delete(remote)
    if (!c) { s.destroy(); return }
    clearTimeout(c.timer)
    s.on('error', () => {})
    void this.checkPeer(s).then(reason => {
      if (reason !== null) {
        log.error(`Refused the TLS connection from ${remote} on the ${c.what} port: ${reason}`)
        s.destroy()
        return
      }
      if (!s.destroyed) c.handler(s)
    })
  }

  /** The client certificate's checks (ssl.quorum.clientAuth, hostname verification): null when it passes. */
  private async checkPeer(s: TLSSocket): Promise<string | null> {
    const cert = s.getPeerCertificate()
    const has = cert && cert.raw !== undefined
    if (!has) return this.q.clientAuth === 'need' ? 'no client certificate (ssl.quorum.clientAuth=need)' : null
    if (!s.authorized) return `untrusted certificate (${s.authorizationError})`
    if (this.anchors && !chainReaches(s.getPeerCertificate(true), this.anchors)) return 'untrusted certificate (its chain does not lead to a certificate of ssl.quorum.trustStore)'
    if (!this.q.hostnameVerification) return null
    // As Apache's ZKTrustManager: the peer's address, then the names it resolves back to.
    const ip = (s.remoteAddress ?? '').replace(/^::ffff:/, '')
    if (checkServerIdentity(ip, cert) === undefined) return null
    const names: string[] = []
    if (ip === '127.0.0.1' || ip === '::1') names.push('localhost')
    try { names.push(...await reverse(ip)) } catch { /* no reverse name */ }
    for (const n of names) if (checkServerIdentity(n, cert) === undefined) return null
    return `hostname verification failed: the certificate (${cert.subjectaltname ?? cert.subject?.CN}) does not name ${ip}${names.length > 0 ? ` (${names.join(', ')})` : ''} (ssl.quorum.hostnameVerification=true)`
  }
}
