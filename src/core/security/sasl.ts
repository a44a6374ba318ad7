// SASL mechanisms on the broker's side, as Kafka's SaslServers behave: PLAIN (users from the
// JAAS config's user_<name>="<password>" options), SCRAM-SHA-256/512 (RFC 5802 against the
// credentials Kafka keeps in ZooKeeper) and OAUTHBEARER with unsecured JWS tokens (Kafka's
// default OAuthBearerUnsecuredValidatorCallbackHandler). Pure: no I/O, tested with bytes.
import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import type {JaasModule} from './jaas.js'

/** Authentication failed. clientMessage goes back to the client (SaslAuthenticate v1+) and into the log line. */
export class SaslFailure extends Error {
  constructor(readonly clientMessage: string, readonly detail?: string) {
    super(clientMessage)
  }
}

export interface SaslServer {
  readonly mechanism: string
  /** The answer to a client token (empty when there is nothing to say); throws SaslFailure. */
  evaluate(token: Buffer): Buffer
  readonly complete: boolean
  /** The authenticated user (principal name) once complete. */
  readonly authorizationId: string
  /** When the credential stops being valid (ms since the epoch), if it says (OAUTHBEARER's exp). */
  readonly credentialExpiresAt?: number
}

/** Kafka's answer for a SaslException (as opposed to a SaslAuthenticationException, whose message is passed on). */
export function invalidCredentials(mechanism: string, reauth = false): string {
  return `Authentication failed during ${reauth ? 're-authentication' : 'authentication'} due to invalid credentials with SASL mechanism ${mechanism}`
}

// ------------------------------------------------------------------ PLAIN

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule'
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule'
export const OAUTHBEARER_LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule'

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN'
  complete = false
  authorizationId = ''

  /** users: name -> password, from the PlainLoginModule's user_<name> options. */
  constructor(private readonly users: ReadonlyMap<string, string>) {}

  static usersFrom(modules: JaasModule[]): Map<string, string> {
    const users = new Map<string, string>()
    for (const m of modules) {
      if (m.loginModule !== PLAIN_LOGIN_MODULE) continue
      for (const [k, v] of Object.entries(m.options)) if (k.startsWith('user_')) users.set(k.slice(5), v)
    }
    return users
  }

  evaluate(token: Buffer): Buffer {
    // [authzid] NUL authcid NUL passwd
    const s = token.toString('utf8')
    const tokens = s.split('\u0000')
    if (tokens.length !== 3) throw new SaslFailure(`Invalid SASL/PLAIN response: expected 3 tokens, got ${tokens.length}`)
    const [authzid, username, password] = tokens
    if (username === '') throw new SaslFailure('Authentication failed: username not specified')
    if (password === '') throw new SaslFailure('Authentication failed: password not specified')
    const expected = this.users.get(username)
    if (expected === undefined || !constantTimeEqual(expected, password)) throw new SaslFailure('Authentication failed: Invalid username or password', `user ${username}`)
    if (authzid !== '' && authzid !== username) throw new SaslFailure('Authentication failed: Client requested an authorization id that is different from username')
    this.authorizationId = username
    this.complete = true
    return Buffer.alloc(0)
  }
}

// ------------------------------------------------------------------ SCRAM

export interface ScramCredential {
  salt: Buffer
  storedKey: Buffer
  serverKey: Buffer
  iterations: number
}

export const SCRAM_MECHANISMS: Record<string, {hash: 'sha256' | 'sha512'; minIterations: number}> = {
  'SCRAM-SHA-256': {hash: 'sha256', minIterations: 4096},
  'SCRAM-SHA-512': {hash: 'sha512', minIterations: 4096},
}

/** Kafka's stored form: salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>. */
export function credentialToString(c: ScramCredential): string {
  return `salt=${c.salt.toString('base64')},stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=${c.iterations}`
}

export function credentialFromString(s: string): ScramCredential {
  const props = new Map<string, string>()
  for (const t of s.split(',')) {
    const i = t.indexOf('=')
    if (i <= 0) throw new Error('Credentials not valid')
    props.set(t.slice(0, i), t.slice(i + 1))
  }
  if (props.size !== 4 || !props.has('salt') || !props.has('stored_key') || !props.has('server_key') || !props.has('iterations')) throw new Error('Credentials not valid')
  const iterations = Number(props.get('iterations'))
  if (!Number.isInteger(iterations)) throw new Error('Credentials not valid')
  return {salt: Buffer.from(props.get('salt')!, 'base64'), storedKey: Buffer.from(props.get('stored_key')!, 'base64'), serverKey: Buffer.from(props.get('server_key')!, 'base64'), iterations}
}

function hmac(hash: string, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest()
}

/** The stored credential for a salted password (what AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(mechanism: string, salt: Buffer, saltedPassword: Buffer, iterations: number): ScramCredential {
  const {hash} = SCRAM_MECHANISMS[mechanism]
  const clientKey = hmac(hash, saltedPassword, 'Client Key')
  return {salt, storedKey: createHash(hash).update(clientKey).digest(), serverKey: hmac(hash, saltedPassword, 'Server Key'), iterations}
}

/** saslname: =2C is ',' and =3D is '='. */
function saslName(s: string): string {
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=')
}

export class ScramServer implements SaslServer {
  complete = false
  authorizationId = ''
  private state: 'first' | 'final' | 'done' = 'first'
  private clientFirstBare = ''
  private serverFirst = ''
  private nonce = ''
  private credential: ScramCredential | undefined
  private readonly hash: 'sha256' | 'sha512'

  constructor(readonly mechanism: string, private readonly lookup: (user: string) => ScramCredential | undefined) {
    this.hash = SCRAM_MECHANISMS[mechanism].hash
  }

  evaluate(token: Buffer): Buffer {
    const msg = token.toString('utf8')
    if (this.state === 'first') {
      // gs2-header: n|y|p=..., [a=authzid], then n=user,r=nonce[,extensions]
      const m = /^(n|y|p=[^,]*),(a=[^,]*)?,(n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?)$/s.exec(msg)
      if (!m) throw new SaslFailure(invalidCredentials(this.mechanism), 'Invalid SCRAM client first message')
      const user = saslName(m[4])
      this.clientFirstBare = m[3]
      const cred = this.lookup(user)
      if (!cred) throw new SaslFailure(invalidCredentials(this.mechanism), `unknown user ${user}`)
      const authzid = m[2] ? saslName(m[2].slice(2)) : ''
      if (authzid !== '' && authzid !== user) throw new SaslFailure('Authentication failed: Client requested an authorization id that is different from username')
      if (cred.iterations < SCRAM_MECHANISMS[this.mechanism].minIterations) throw new SaslFailure(invalidCredentials(this.mechanism), `Iterations ${cred.iterations} is less than the minimum ${SCRAM_MECHANISMS[this.mechanism].minIterations} for ${this.mechanism}`)
      this.credential = cred
      this.authorizationId = user
      this.nonce = m[5] + randomBytes(24).toString('base64url')
      this.serverFirst = `r=${this.nonce},s=${cred.salt.toString('base64')},i=${cred.iterations}`
      this.state = 'final'
      return Buffer.from(this.serverFirst, 'utf8')
    }
    if (this.state === 'final') {
      this.state = 'done'
      const m = /^(c=([^,]*),r=([^,]*)(?:,[^p][^,]*)*),p=([^,]*)$/.exec(msg)
      if (!m) throw new SaslFailure(invalidCredentials(this.mechanism), 'Invalid SCRAM client final message')
      // Kafka checks endsWith, not equality: librdkafka sends its own nonce again in front of the server's.
      if (!m[3].endsWith(this.nonce)) throw new SaslFailure(invalidCredentials(this.mechanism), 'Invalid client nonce in the final client message.')
      const cred = this.credential!
      const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]}`
      const clientSignature = hmac(this.hash, cred.storedKey, authMessage)
      const proof = Buffer.from(m[4], 'base64')
      if (proof.length !== clientSignature.length) throw new SaslFailure(invalidCredentials(this.mechanism), 'Invalid client credentials')
      const clientKey = Buffer.alloc(proof.length)
      for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i]
      const computed = createHash(this.hash).update(clientKey).digest()
      if (!timingSafeEqual(computed, cred.storedKey)) throw new SaslFailure(invalidCredentials(this.mechanism), `Invalid client credentials for user ${this.authorizationId}`)
      const serverSignature = hmac(this.hash, cred.serverKey, authMessage)
      this.complete = true
      this.credential = undefined
      return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8')
    }
    throw new SaslFailure(invalidCredentials(this.mechanism), 'Unexpected challenge in Sasl server state COMPLETE')
  }
}

// ------------------------------------------------------------------ OAUTHBEARER (unsecured JWS)

export interface UnsecuredValidatorOptions {
  principalClaimName: string
  scopeClaimName: string
  requiredScope: string[]
  allowableClockSkewMs: number
}

export function unsecuredValidatorOptions(options: Record<string, string>): UnsecuredValidatorOptions {
  const skew = options.unsecuredValidatorAllowableClockSkewMs?.trim()
  const n = skew ? Number(skew) : 0
  if (!Number.isInteger(n) || n < 0) throw new Error(`Allowable clock skew millis must not be negative: ${skew}`)
  return {
    principalClaimName: options.unsecuredValidatorPrincipalClaimName?.trim() || 'sub',
    scopeClaimName: options.unsecuredValidatorScopeClaimName?.trim() || 'scope',
    requiredScope: (options.unsecuredValidatorRequiredScope ?? '').trim().split(/\s+/).filter(s => s !== ''),
    allowableClockSkewMs: n,
  }
}

class IllegalToken extends Error {
  constructor(message: string, readonly scope?: string) { super(message) }
}

function b64json(part: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw new IllegalToken('malformed JSON')
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new IllegalToken('malformed JSON')
  return v as Record<string, unknown>
}

/** Validates an unsecured JWS as Kafka's default handler does; returns the principal and expiry. */
export function validateUnsecuredJws(token: string, o: UnsecuredValidatorOptions, now = Date.now()): {principal: string; expiresAt: number} {
  const parts = token.split('.')
  if (parts.length !== 3 && !(parts.length === 2 && token.endsWith('.'))) throw new IllegalToken('Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values')
  const header = b64json(parts[0])
  const claims = b64json(parts[1])
  if (header.alg !== 'none') throw new IllegalToken("Unsecured JWS must have 'none' for an algorithm")
  if ((parts[2] ?? '') !== '') throw new IllegalToken('Unsecured JWS must not contain a digital signature')
  const principal = claims[o.principalClaimName]
  if (typeof principal !== 'string' || principal.trim() === '') throw new IllegalToken(`No principal name in JWT claim: ${o.principalClaimName}`)
  const num = (name: string): number | undefined => {
    const v = claims[name]
    if (v === undefined) return undefined
    if (typeof v !== 'number') throw new IllegalToken(`The '${name}' claim was not of type Number`)
    return v
  }
  const iat = num('iat')
  if (iat !== undefined && iat * 1000 > now + o.allowableClockSkewMs) throw new IllegalToken(`The Issued At value (${iat * 1000} ms) is in the future`)
  const exp = num('exp')
  if (exp === undefined) throw new IllegalToken('Required claim missing: exp')
  if (exp * 1000 <= now - o.allowableClockSkewMs) throw new IllegalToken(`The indicated time (${exp * 1000} ms) has already passed`)
  if (iat !== undefined && exp <= iat) throw new IllegalToken(`The Expiration Time time (${exp * 1000} ms) was not after the Issued At time (${iat * 1000} ms)`)
  if (o.requiredScope.length > 0) {
    const raw = claims[o.scopeClaimName]
    const scope = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw.map(String) : []
    for (const s of o.requiredScope) if (!scope.includes(s)) throw new IllegalToken(`The provided scope (${scope.join(' ')}) was missing a required scope (${s})`, o.requiredScope.join(' '))
  }
  return {principal, expiresAt: Math.round(exp * 1000)}
}

/** An unsecured JWS (what Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes) for the broker's own logins. */
export function makeUnsecuredJws(options: Record<string, string>, now = Date.now()): string {
  const claims: Record<string, unknown> = {}
  const sub = options.unsecuredLoginStringClaim_sub ?? options[`unsecuredLoginStringClaim_${options.unsecuredLoginPrincipalClaimName ?? 'sub'}`]
  for (const [k, v] of Object.entries(options)) {
    if (k.startsWith('unsecuredLoginStringClaim_')) claims[k.slice('unsecuredLoginStringClaim_'.length)] = v
    else if (k.startsWith('unsecuredLoginNumberClaim_')) claims[k.slice('unsecuredLoginNumberClaim_'.length)] = Number(v)
    else if (k.startsWith('unsecuredLoginListClaim_')) claims[k.slice('unsecuredLoginListClaim_'.length)] = v.length > 1 ? v.slice(1).split(v[0]) : []
  }
  if (sub !== undefined) claims.sub = sub
  const lifetime = Number(options.unsecuredLoginLifetimeSeconds ?? 3600)
  claims.iat = now / 1000
  claims.exp = now / 1000 + lifetime
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${enc({alg: 'none'})}.${enc(claims)}.`
}

export class OAuthBearerServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER'
  complete = false
  authorizationId = ''
  credentialExpiresAt?: number
  private error: string | null = null

  constructor(private readonly options: UnsecuredValidatorOptions) {}

  evaluate(token: Buffer): Buffer {
    if (token.length === 1 && token[0] === 0x01 && this.error !== null) throw new SaslFailure(this.error)
    this.error = null
    // gs2-header, then kvpairs separated by ^A: "n,a=user,\x01auth=Bearer <token>\x01\x01"
    const s = token.toString('utf8')
    const m = /^n,(a=((?:[\x01-\x2b\x2d-\x3c\x3e-\x7f]|=2C|=3D)+))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*)\x01$/.exec(s)
    if (!m) throw new SaslFailure(invalidCredentials(this.mechanism), 'Invalid OAUTHBEARER client first message')
    const authzid = m[2] ? saslName(m[2]) : ''
    const kv = new Map<string, string>()
    for (const pair of m[3].split('\x01').filter(p => p !== '')) {
      const i = pair.indexOf('=')
      kv.set(pair.slice(0, i), pair.slice(i + 1))
    }
    const auth = kv.get('auth')
    if (auth === undefined) throw new SaslFailure(invalidCredentials(this.mechanism), "Invalid OAUTHBEARER client first message: 'auth' not specified")
    const am = /^(\w+) +([-_~+/.a-zA-Z0-9]+=*)$/.exec(auth)
    if (!am || am[1].toLowerCase() !== 'bearer') throw new SaslFailure(invalidCredentials(this.mechanism), "Invalid OAUTHBEARER client first message: invalid 'auth' format")
    let v: {principal: string; expiresAt: number}
    try {
      v = validateUnsecuredJws(am[2], this.options)
    } catch (error) {
      if (!(error instanceof IllegalToken)) throw error
      // Kafka answers a JSON error as a challenge; the client replies ^A and then fails.
      this.error = error.scope !== undefined ? `{"status":"insufficient_scope", "scope":"${error.scope}"}` : '{"status":"invalid_token"}'
      this.detail = error.message
      return Buffer.from(this.error, 'utf8')
    }
    if (authzid !== '' && authzid !== v.principal) throw new SaslFailure(`Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${v.principal})`)
    this.authorizationId = v.principal
    this.credentialExpiresAt = v.expiresAt
    this.complete = true
    return Buffer.alloc(0)
  }

  /** Why the last token was refused (for the log line). */
  detail = ''
}
