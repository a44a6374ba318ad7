// SASL DIGEST-MD5 (RFC 2831, auth quality of protection only) as ZooKeeper uses it: the
// server side Apache's ZooKeeperSaslServer runs with the JAAS Server section's
// user_<name>="<password>" entries (protocol "zookeeper", server name and realm
// "zk-sasl-md5"), and the client side the Java client runs with a Client section's
// username/password. Pure: no I/O.
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'

export const ZK_SASL_PROTOCOL = 'zookeeper'
export const ZK_SASL_SERVER_NAME = 'zk-sasl-md5'

export class SaslError extends Error {}

const md5 = (...parts: Array<Buffer | string>): Buffer => {
  const h = createHash('md5')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** Parses a digest-challenge or digest-response: key=value or key="quoted value", comma separated. */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>()
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++
    if (i >= n) break
    const eq = text.indexOf('=', i)
    if (eq < 0) throw new SaslError('DIGEST-MD5: directive without a value')
    const key = text.slice(i, eq).trim().toLowerCase()
    i = eq + 1
    let value = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        if (i >= n) throw new SaslError('DIGEST-MD5: unterminated quoted value')
        const c = text[i++]
        if (c === '"') break
        if (c === '\\' && i < n) value += text[i++]
        else value += c
      }
    } else {
      const end = text.indexOf(',', i)
      value = text.slice(i, end < 0 ? n : end).trim()
      i = end < 0 ? n : end
    }
    if (out.has(key) && key !== 'realm') throw new SaslError(`DIGEST-MD5: directive ${key} given twice`)
    if (!out.has(key)) out.set(key, value)
  }
  return out
}

const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`

/** HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))) of RFC 2831 section 2.1.2.1. */
function responseValue(d: {username: string; realm: string; password: string; nonce: string; cnonce: string; nc: string; qop: string; digestUri: string; authzid?: string; utf8: boolean}, a2prefix: string): string {
  const enc = d.utf8 ? 'utf8' : 'latin1'
  const secret = md5(Buffer.from(`${d.username}:${d.realm}:${d.password}`, enc))
  const a1 = Buffer.concat([secret, Buffer.from(`:${d.nonce}:${d.cnonce}${d.authzid ? `:${d.authzid}` : ''}`, enc)])
  const ha1 = md5(a1).toString('hex')
  const ha2 = md5(`${a2prefix}:${d.digestUri}`).toString('hex')
  return md5(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`).toString('hex')
}

/**
 * The server side of one authentication: evaluate() takes each client token and returns the
 * next server token; complete and authorizationId once the client has proved its password.
 * Failures throw SaslError with a one-line reason (never a password).
 */
export class DigestMd5Server {
  private step = 0
  private readonly nonce = randomBytes(24).toString('base64')
  complete = false
  authorizationId = ''

  constructor(private readonly passwordOf: (user: string) => string | undefined, private readonly realm = ZK_SASL_SERVER_NAME, private readonly digestUri = `${ZK_SASL_PROTOCOL}/${ZK_SASL_SERVER_NAME}`) {}

  evaluate(token: Buffer): Buffer {
    if (this.step === 0) {
      // DIGEST-MD5 has no initial response: the client's first token is empty.
      this.step = 1
      if (token.length > 0) return this.evaluate(token)
      return Buffer.from(`realm=${quote(this.realm)},nonce=${quote(this.nonce)},qop="auth",charset=utf-8,algorithm=md5-sess`, 'utf8')
    }
    if (this.step !== 1) throw new SaslError('DIGEST-MD5: authentication already complete')
    this.step = 2
    if (token.length > 4096) throw new SaslError('DIGEST-MD5: digest response too long')
    const d = parseDirectives(token.toString('utf8'))
    const username = d.get('username')
    if (username === undefined) throw new SaslError('DIGEST-MD5: digest response format violation. Missing username.')
    if (d.get('nonce') !== this.nonce) throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched nonce.')
    const nc = d.get('nc') ?? ''
    if (!/^[0-9a-fA-F]{8}$/.test(nc) || parseInt(nc, 16) !== 1) throw new SaslError('DIGEST-MD5: digest response format violation. Nonce count does not match: ' + nc)
    const qop = d.get('qop') ?? 'auth'
    if (qop !== 'auth') throw new SaslError(`DIGEST-MD5: digest response format violation. Invalid QOP: ${qop}`)
    const cnonce = d.get('cnonce')
    if (cnonce === undefined) throw new SaslError('DIGEST-MD5: digest response format violation. Missing cnonce.')
    const digestUri = d.get('digest-uri') ?? ''
    if (digestUri.toLowerCase() !== this.digestUri.toLowerCase()) throw new SaslError(`DIGEST-MD5: digest response format violation. Mismatched URI: ${digestUri}; expecting: ${this.digestUri}`)
    const realm = d.get('realm') ?? this.realm
    const response = d.get('response') ?? ''
    const password = this.passwordOf(username)
    if (password === undefined) throw new SaslError(`DIGEST-MD5: cannot acquire password for ${username} in realm : ${realm}`)
    const authzid = d.get('authzid')
    const values = {username, realm, password, nonce: this.nonce, cnonce, nc, qop, digestUri, authzid, utf8: d.get('charset')?.toLowerCase() === 'utf-8'}
    const expected = Buffer.from(responseValue(values, 'AUTHENTICATE'))
    const got = Buffer.from(response.toLowerCase())
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched response.')
    if (authzid !== undefined && authzid !== '' && authzid !== username) throw new SaslError(`DIGEST-MD5: ${username} is not authorized to act as ${authzid}`)
    this.complete = true
    this.authorizationId = username
    return Buffer.from(`rspauth=${responseValue(values, '')}`, 'utf8')
  }
}

/** The client side: the Java client's DIGEST-MD5 with a username and password. */
export class DigestMd5Client {
  private step = 0
  private expectedRspauth = ''
  complete = false

  constructor(private readonly username: string, private readonly password: string, private readonly digestUri = `${ZK_SASL_PROTOCOL}/${ZK_SASL_SERVER_NAME}`) {}

  /** The first token: empty (DIGEST-MD5 has no initial response). */
  initial(): Buffer {
    this.step = 1
    return Buffer.alloc(0)
  }

  /** The token answering a server challenge (null once complete: nothing more to send). */
  evaluate(challenge: Buffer): Buffer | null {
    if (this.step === 1) {
      this.step = 2
      const d = parseDirectives(challenge.toString('utf8'))
      const nonce = d.get('nonce')
      if (nonce === undefined) throw new SaslError('DIGEST-MD5: the server challenge has no nonce')
      const qops = (d.get('qop') ?? 'auth').split(',').map(s => s.trim())
      if (!qops.includes('auth')) throw new SaslError(`DIGEST-MD5: the server offers no 'auth' quality of protection (${qops.join(',')})`)
      const realm = d.get('realm') ?? ZK_SASL_SERVER_NAME
      const utf8 = d.get('charset')?.toLowerCase() === 'utf-8'
      const cnonce = randomBytes(24).toString('base64')
      const values = {username: this.username, realm, password: this.password, nonce, cnonce, nc: '00000001', qop: 'auth', digestUri: this.digestUri, utf8}
      this.expectedRspauth = responseValue(values, '')
      const parts = [
        ...(utf8 ? ['charset=utf-8'] : []),
        `username=${quote(this.username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, 'nc=00000001',
        `cnonce=${quote(cnonce)}`, `digest-uri=${quote(this.digestUri)}`, 'maxbuf=65536',
        `response=${responseValue(values, 'AUTHENTICATE')}`, 'qop=auth',
      ]
      return Buffer.from(parts.join(','), 'utf8')
    }
    if (this.step === 2) {
      const rspauth = parseDirectives(challenge.toString('utf8')).get('rspauth')
      if (rspauth?.toLowerCase() !== this.expectedRspauth) throw new SaslError('DIGEST-MD5: the server did not prove it knows the password (rspauth mismatch)')
      this.step = 3
      this.complete = true
      return null
    }
    throw new SaslError('DIGEST-MD5: authentication already complete')
  }
}
