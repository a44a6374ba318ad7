// SASL between ensemble members, as Apache ZooKeeper 3.8's SaslQuorumAuthLearner and
// SaslQuorumAuthServer run it (quorum.auth.enableSasl): right after a server connects to
// another's quorum port (to follow it) or election port (after its initial message), the
// connecting side (the "learner") sends QuorumAuthPacket {long magic, int status, buffer
// token} records, unframed; the accepting side answers with the same records (IN_PROGRESS with
// a challenge, SUCCESS with the last token, or ERROR) until DIGEST-MD5 completes. The
// mechanism's protocol is "zookeeper-quorum" and its server name and realm
// "zk-quorum-sasl-md5". The accepting side looks at the first 8 bytes: anything but the magic
// number is the peer's ordinary traffic (let through unless quorum.auth.serverRequireSasl).
import type {Socket} from 'node:net'
import {Logger} from '../../util/log.js'
import {DigestMd5Client, DigestMd5Server, SaslError} from '../auth/digest-md5.js'
import type {QuorumSecurityConfig} from '../../config/zk-quorum-security.js'

const slog = new Logger('org.apache.zookeeper.server.quorum.auth.SaslQuorumAuthServer')
const llog = new Logger('org.apache.zookeeper.server.quorum.auth.SaslQuorumAuthLearner')

/** Java's -0xa0dbcafecafe1234L: the hex literal is already negative in Java, so the magic is 0x5f2435013501edcc. */
export const QUORUM_AUTH_MAGIC = BigInt.asIntN(64, -0xa0dbcafecafe1234n)
export const QUORUM_SASL_PROTOCOL = 'zookeeper-quorum'
export const QUORUM_SASL_SERVER_NAME = 'zk-quorum-sasl-md5'
const DIGEST_URI = `${QUORUM_SASL_PROTOCOL}/${QUORUM_SASL_SERVER_NAME}`
export const AuthStatus = {IN_PROGRESS: 0, SUCCESS: 1, ERROR: -1} as const
/** Apache's SaslQuorumAuthServer.MAX_RETRIES. */
const MAX_RETRIES = 5
/** No DIGEST-MD5 token comes near this. */
const MAX_TOKEN = 64 * 1024

export class QuorumAuthError extends Error {}

/** A QuorumAuthPacket as bytes (a null token is written with length -1, as jute does). */
export function encodeAuthPacket(status: number, token: Buffer | null): Buffer {
  const n = token === null ? 0 : token.length
  const b = Buffer.allocUnsafe(16 + n)
  b.writeBigInt64BE(QUORUM_AUTH_MAGIC, 0)
  b.writeInt32BE(status, 8)
  b.writeInt32BE(token === null ? -1 : n, 12)
  token?.copy(b, 16)
  return b
}

/**
 * Reads exact byte counts from a socket for the exchange, then hands the socket back paused
 * with whatever arrived beyond the exchange (the caller attaches its listener and resumes).
 */
class ExchangeReader {
  private buf: Buffer
  private want = 0
  private waiter: {resolve: () => void; reject: (e: Error) => void} | null = null
  private failure: Error | null = null
  private readonly onData = (d: Buffer) => {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
    if (this.buf.length > MAX_TOKEN * 2) this.fail(new QuorumAuthError(`more than ${MAX_TOKEN * 2} bytes during the authentication exchange`))
    else if (this.waiter && this.buf.length >= this.want) this.waiter.resolve()
  }
  private readonly onClose = () => this.fail(new QuorumAuthError('the connection closed during the authentication exchange'))

  constructor(readonly socket: Socket, head: Buffer) {
    this.buf = head
    socket.on('data', this.onData)
    socket.on('close', this.onClose)
    socket.resume()
  }

  private fail(e: Error): void {
    this.failure ??= e
    this.waiter?.reject(this.failure)
  }

  /** Waits until n bytes are buffered (rejects on close, or after ms). */
  async need(n: number, ms: number, what: string): Promise<Buffer> {
    if (this.buf.length >= n) return this.buf
    if (this.failure) throw this.failure
    this.want = n
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new QuorumAuthError(`timed out after ${ms} ms waiting for ${what}`)), ms)
      this.waiter = {resolve: () => { clearTimeout(t); resolve() }, reject: e => { clearTimeout(t); reject(e) }}
    }).finally(() => { this.waiter = null })
    return this.buf
  }

  /** The next QuorumAuthPacket. */
  async packet(ms: number): Promise<{status: number; token: Buffer | null}> {
    let b = await this.need(16, ms, 'a quorum authentication packet')
    if (b.readBigInt64BE(0) !== QUORUM_AUTH_MAGIC) throw new QuorumAuthError('a packet without the quorum authentication magic number')
    const status = b.readInt32BE(8)
    const len = b.readInt32BE(12)
    if (len > MAX_TOKEN || len < -1) throw new QuorumAuthError(`unreasonable token length ${len}`)
    const n = Math.max(len, 0)
    b = await this.need(16 + n, ms, 'a quorum authentication token')
    const token = len < 0 ? null : Buffer.from(b.subarray(16, 16 + n))
    this.buf = b.subarray(16 + n)
    return {status, token}
  }

  /** Stops reading: the socket paused, the bytes beyond the exchange returned. */
  release(): Buffer {
    this.socket.pause()
    this.socket.off('data', this.onData)
    this.socket.off('close', this.onClose)
    return this.buf
  }
}

/** Whether the connecting side (a learner, or an election connection's initiator) authenticates. */
export function learnerAuthenticates(q: QuorumSecurityConfig): boolean {
  return q.saslEnabled && q.learnerRequireSasl && q.learnerLogin !== null
}

/**
 * The connecting side's exchange: resolves with the bytes read beyond it (the socket paused),
 * or with an empty buffer when this server does not authenticate (socket untouched); rejects
 * with QuorumAuthError when the other server refuses (the caller closes the socket).
 */
export async function authenticateToServer(socket: Socket, q: QuorumSecurityConfig, remote: string, timeoutMs: number): Promise<Buffer> {
  if (!learnerAuthenticates(q)) return Buffer.alloc(0)
  const login = q.learnerLogin!
  const r = new ExchangeReader(socket, Buffer.alloc(0))
  try {
    const client = new DigestMd5Client(login.username, login.password, DIGEST_URI)
    socket.write(encodeAuthPacket(AuthStatus.IN_PROGRESS, client.initial()))
    let p = await r.packet(timeoutMs)
    while (!client.complete) {
      if (p.status === AuthStatus.SUCCESS) {
        if (client.evaluate(p.token ?? Buffer.alloc(0)) !== null) throw new QuorumAuthError('Protocol error: attempting to send response after completion')
      } else if (p.status === AuthStatus.IN_PROGRESS) {
        socket.write(encodeAuthPacket(AuthStatus.IN_PROGRESS, client.evaluate(p.token ?? Buffer.alloc(0))))
        p = await r.packet(timeoutMs)
      } else {
        throw new QuorumAuthError(`Authentication failed against server addr: ${remote} (as ${login.username}: wrong quorum password, or a user the server's QuorumServer section does not list)`)
      }
    }
    if (p.status !== AuthStatus.SUCCESS) throw new QuorumAuthError(`Authentication failed against server addr: ${remote}, qpStatus: ${p.status}`)
    llog.info(`Successfully completed the authentication using SASL. server addr: ${remote}, status: SUCCESS`)
    return r.release()
  } catch (e) {
    r.release()
    const msg = e instanceof SaslError || e instanceof QuorumAuthError ? e.message : String(e)
    llog.error(`Quorum SASL authentication to ${remote} failed: ${msg}`)
    throw e instanceof QuorumAuthError ? e : new QuorumAuthError(msg)
  }
}

/**
 * The accepting side's exchange on a connection whose first bytes (head) may already be read:
 * resolves with the bytes that follow the exchange, head included when the peer did not try
 * to authenticate and that is allowed (the socket paused); rejects with QuorumAuthError when the
 * connection must close (authentication required and not done, or failed).
 */
export async function authenticateLearner(socket: Socket, head: Buffer, q: QuorumSecurityConfig, remote: string, timeoutMs: number): Promise<Buffer> {
  if (!q.saslEnabled) return head
  const r = new ExchangeReader(socket, head)
  let sent = false
  try {
    let first: Buffer
    try {
      // A peer that does not authenticate may have nothing to say yet: when that is allowed, wait only briefly.
      first = await r.need(8, q.serverRequireSasl ? timeoutMs : Math.min(timeoutMs, 2000), 'the first packet')
    } catch (e) {
      if (q.serverRequireSasl) throw new QuorumAuthError(`Learner not trying to authenticate and authentication is required (${(e as Error).message})`)
      return r.release()
    }
    if (first.readBigInt64BE(0) !== QUORUM_AUTH_MAGIC) {
      if (q.serverRequireSasl) throw new QuorumAuthError('Learner not trying to authenticate and authentication is required')
      return r.release()
    }
    const users = q.serverUsers ?? new Map<string, string>()
    const server = new DigestMd5Server(u => users.get(u), QUORUM_SASL_SERVER_NAME, DIGEST_URI)
    let token = (await r.packet(timeoutMs)).token ?? Buffer.alloc(0)
    let tries = 0
    let challenge: Buffer | null = null
    while (!server.complete) {
      challenge = server.evaluate(token)
      if (server.complete) break
      if (++tries > MAX_RETRIES) {
        sent = true
        socket.write(encodeAuthPacket(AuthStatus.ERROR, challenge))
        throw new QuorumAuthError(`Failed to authenticate using SASL, retries=${tries} exceeded`)
      }
      socket.write(encodeAuthPacket(AuthStatus.IN_PROGRESS, challenge))
      token = (await r.packet(timeoutMs)).token ?? Buffer.alloc(0)
    }
    socket.write(encodeAuthPacket(AuthStatus.SUCCESS, challenge))
    slog.info(`Successfully completed the authentication using SASL. learner addr: ${remote}, user: ${server.authorizationId}`)
    return r.release()
  } catch (e) {
    const rest = r.release()
    if (!sent && !socket.destroyed) socket.write(encodeAuthPacket(AuthStatus.ERROR, Buffer.alloc(0)))
    const msg = e instanceof SaslError || e instanceof QuorumAuthError ? e.message : String(e)
    if (q.serverRequireSasl) {
      slog.error(`Failed to authenticate using SASL: learner addr: ${remote}: ${msg}; closing the connection`)
      throw e instanceof QuorumAuthError ? e : new QuorumAuthError(msg)
    }
    slog.warn(`Failed to authenticate using SASL: learner addr: ${remote}: ${msg}`)
    slog.warn(`Maintaining learner connection despite SASL authentication failure. server addr: ${remote}, quorum.auth.serverRequireSasl: false`)
    return rest
  }
}
