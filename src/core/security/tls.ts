// TLS for SSL and SASL_SSL listeners (and the broker's own client side), from Kafka's ssl.*
// keys: key stores and trust stores as PEM (inline or files), PKCS12 (node's pfx) and JKS (read
// by jks-js), ssl.client.auth, ssl.enabled.protocols, ssl.cipher.suites; the principal of a
// client certificate as Java prints its subject (RFC 2253) through ssl.principal.mapping.rules.
import {readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {checkServerIdentity as defaultCheckServerIdentity, type SecureContextOptions, type TlsOptions, type ConnectionOptions, type PeerCertificate, type DetailedPeerCertificate} from 'node:tls'
import {X509Certificate} from 'node:crypto'
import {ConfigError} from '../config/settings.js'
import type {ListenerSettings} from './config.js'

const require = createRequire(import.meta.url)

export interface KeyMaterial {
  /** Options for tls.createSecureContext (key/cert or pfx, ca). */
  context: SecureContextOptions
  /** Files the material was read from (watched for changes). */
  files: string[]
}

const JKS_MAGIC = 0xfeedfeed
const JCEKS_MAGIC = 0xcececece

function readStore(ls: ListenerSettings, key: string): Buffer {
  const file = ls.get(key)!
  try {
    return readFileSync(file)
  } catch (error) {
    throw new ConfigError(`Cannot read ${file} (${ls.keyName(key)}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/** PEM text of a value that is inline PEM (Kafka allows newlines or spaces inside). */
function inlinePem(v: string): string {
  // Kafka accepts PEM whose line breaks became spaces in a .properties value.
  return v.replace(/-----BEGIN ([A-Z ]+)-----\s*/g, '\n-----BEGIN $1-----\n').replace(/\s*-----END ([A-Z ]+)-----/g, '\n-----END $1-----\n')
    .split('\n').map(line => line.startsWith('-----') ? line : line.replace(/\s+/g, '\n')).join('\n').trim() + '\n'
}

interface JksEntries {[alias: string]: {ca?: string; cert?: string; key?: string}}

/** A JKS (or PKCS12) store read by jks-js; a wrong password or a store it cannot read is one line naming the key. */
function jksToPem(ls: ListenerSettings, buf: Buffer, locationKey: string, passwordKey: string, keyPassword?: string): JksEntries {
  const password = ls.get(passwordKey)
  if (password === undefined) throw new ConfigError(`${ls.keyName(passwordKey)} must be set to read the ${buf.readUInt32BE(0) === JKS_MAGIC ? 'JKS' : 'PKCS12'} store ${ls.get(locationKey)} (${ls.keyName(locationKey)})`)
  if (buf.length >= 4 && buf.readUInt32BE(0) === JCEKS_MAGIC) throw new ConfigError(`${ls.get(locationKey)} (${ls.keyName(locationKey)}) is a JCEKS store, which kafkit cannot read: convert it to PKCS12 or PEM (keytool -importkeystore -deststoretype PKCS12)`)
  try {
    const jks = require('jks-js') as {toPem(b: Buffer, p: string, k?: string): JksEntries}
    return jks.toPem(buf, password, keyPassword)
  } catch (error) {
    throw new ConfigError(`Cannot read the store ${ls.get(locationKey)} (${ls.keyName(locationKey)}): ${(error as Error).message.split('\n')[0]} (wrong ${ls.keyName(passwordKey)}?)`)
  }
}

/** The key store of a listener (its certificate chain and private key). */
export function keyStore(ls: ListenerSettings): KeyMaterial | undefined {
  const inlineKey = ls.get('ssl.keystore.key')
  const inlineChain = ls.get('ssl.keystore.certificate.chain')
  const location = ls.get('ssl.keystore.location')
  const type = (ls.get('ssl.keystore.type') ?? 'JKS').toUpperCase()
  const keyPassword = ls.get('ssl.key.password')
  if (inlineKey !== undefined || inlineChain !== undefined) {
    if (type !== 'PEM') throw new ConfigError(`${ls.keyName('ssl.keystore.key')} and ${ls.keyName('ssl.keystore.certificate.chain')} need ${ls.keyName('ssl.keystore.type')}=PEM (it is ${type})`)
    if (inlineKey === undefined || inlineChain === undefined) throw new ConfigError(`${ls.keyName('ssl.keystore.key')} and ${ls.keyName('ssl.keystore.certificate.chain')} must be set together`)
    if (location !== undefined) throw new ConfigError(`${ls.keyName('ssl.keystore.location')} cannot be set together with ${ls.keyName('ssl.keystore.key')}`)
    return {context: {key: inlinePem(inlineKey), cert: inlinePem(inlineChain), passphrase: keyPassword}, files: []}
  }
  if (location === undefined) return undefined
  const buf = readStore(ls, 'ssl.keystore.location')
  const isJks = buf.length >= 4 && (buf.readUInt32BE(0) === JKS_MAGIC || buf.readUInt32BE(0) === JCEKS_MAGIC)
  switch (type) {
    case 'PEM': {
      const text = buf.toString('utf8')
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || !/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError(`${location} (${ls.keyName('ssl.keystore.location')}) must hold a PEM private key and certificate chain for ${ls.keyName('ssl.keystore.type')}=PEM`)
      return {context: {key: text, cert: text, passphrase: keyPassword}, files: [location]}
    }
    case 'PKCS12':
    case 'JKS': {
      if (!isJks) {
        // PKCS12 (also what keytool writes by default since Java 9, even for a file named .jks)
        return {context: {pfx: buf, passphrase: ls.get('ssl.keystore.password') ?? ''}, files: [location]}
      }
      const entries = jksToPem(ls, buf, 'ssl.keystore.location', 'ssl.keystore.password', keyPassword)
      const withKey = Object.values(entries).find(e => e.key && e.cert)
      if (!withKey) throw new ConfigError(`The key store ${location} (${ls.keyName('ssl.keystore.location')}) holds no private key entry`)
      return {context: {key: withKey.key, cert: withKey.cert}, files: [location]}
    }
    default:
      throw new ConfigError(`Invalid value ${type} for configuration ${ls.keyName('ssl.keystore.type')}: kafkit reads JKS, PKCS12 and PEM key stores`)
  }
}

/** The trust store of a listener (CA certificates), or undefined: the platform's CAs. */
export function trustStore(ls: ListenerSettings): KeyMaterial | undefined {
  const inline = ls.get('ssl.truststore.certificates')
  const location = ls.get('ssl.truststore.location')
  const type = (ls.get('ssl.truststore.type') ?? 'JKS').toUpperCase()
  if (inline !== undefined) {
    if (type !== 'PEM') throw new ConfigError(`${ls.keyName('ssl.truststore.certificates')} needs ${ls.keyName('ssl.truststore.type')}=PEM (it is ${type})`)
    return {context: {ca: inlinePem(inline)}, files: []}
  }
  if (location === undefined) return undefined
  const buf = readStore(ls, 'ssl.truststore.location')
  switch (type) {
    case 'PEM': {
      const text = buf.toString('utf8')
      if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw new ConfigError(`${location} (${ls.keyName('ssl.truststore.location')}) holds no PEM certificate`)
      return {context: {ca: text}, files: [location]}
    }
    case 'PKCS12':
    case 'JKS': {
      const entries = jksToPem(ls, buf, 'ssl.truststore.location', 'ssl.truststore.password')
      const cas = Object.values(entries).flatMap(e => [e.ca, e.cert].filter((x): x is string => !!x))
      if (cas.length === 0) throw new ConfigError(`The trust store ${location} (${ls.keyName('ssl.truststore.location')}) holds no certificate`)
      return {context: {ca: cas}, files: [location]}
    }
    default:
      throw new ConfigError(`Invalid value ${type} for configuration ${ls.keyName('ssl.truststore.type')}: kafkit reads JKS, PKCS12 and PEM trust stores`)
  }
}

const PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const

type Protocol = typeof PROTOCOLS[number]

/**
 * ssl.enabled.protocols as node's min/max versions. OpenSSL enables a range of versions, not a
 * set: a list with a gap (TLSv1,TLSv1.3) cannot be served as Java serves it, so it is refused
 * with a line saying which versions to add or drop (never silently widened to the range).
 */
export function protocolRange(ls: ListenerSettings): {minVersion: Protocol; maxVersion: Protocol} {
  const list = ls.list('ssl.enabled.protocols', ['TLSv1.2', 'TLSv1.3'])
  const idx = list.map(p => {
    const i = PROTOCOLS.indexOf(p as Protocol)
    if (i < 0) throw new ConfigError(`Invalid value ${list.join(',')} for configuration ${ls.keyName('ssl.enabled.protocols')}: kafkit supports ${PROTOCOLS.join(', ')}`)
    return i
  })
  if (idx.length === 0) throw new ConfigError(`${ls.keyName('ssl.enabled.protocols')} must name at least one protocol`)
  const min = Math.min(...idx)
  const max = Math.max(...idx)
  const missing = PROTOCOLS.slice(min, max + 1).filter((_, i) => !idx.includes(min + i))
  if (missing.length > 0) {
    throw new ConfigError(`Invalid value ${list.join(',')} for configuration ${ls.keyName('ssl.enabled.protocols')}: kafkit enables a contiguous range of TLS versions and this list leaves out ${missing.join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} or drop the versions on one side`)
  }
  return {minVersion: PROTOCOLS[min], maxVersion: PROTOCOLS[max]}
}

/**
 * A Java (IANA) cipher suite name as OpenSSL names it: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ->
 * ECDHE-RSA-AES128-GCM-SHA256. TLS 1.3 suites keep their names.
 */
export function opensslCipher(name: string): string {
  if (/^TLS_(AES|CHACHA20)_/.test(name)) return name
  const m = /^(?:TLS|SSL)_(.+)_WITH_(.+)$/.exec(name)
  if (!m) return name
  let kx = m[1]
  let enc = m[2]
  const kxMap: Record<string, string> = {ECDHE_RSA: 'ECDHE-RSA', ECDHE_ECDSA: 'ECDHE-ECDSA', DHE_RSA: 'DHE-RSA', DHE_DSS: 'DHE-DSS', RSA: '', ECDH_RSA: 'ECDH-RSA', ECDH_ECDSA: 'ECDH-ECDSA'}
  kx = kxMap[kx] ?? kx.replace(/_/g, '-')
  enc = enc.replace(/^AES_(\d+)_/, 'AES$1-').replace(/^CHACHA20_POLY1305_SHA256$/, 'CHACHA20-POLY1305').replace(/_CBC_SHA$/, '-SHA').replace(/^(AES\d+)-CBC_/, '$1-').replace(/_/g, '-')
  enc = enc.replace(/^(AES\d+)-CBC-SHA(\d+)$/, '$1-SHA$2').replace(/^(AES\d+)-CBC-SHA$/, '$1-SHA')
  if (kx === '' && /^AES\d+-SHA$/.test(enc)) return enc
  return kx === '' ? enc : `${kx}-${enc}`
}

const TLS13_SUITE = /^TLS_(AES|CHACHA20)_/

/**
 * ssl.cipher.suites as node's ciphers string (TLS 1.2 and below and TLS 1.3 suites in one colon
 * list), with the protocol range it leaves: Java negotiates a version only with one of its
 * suites, while Node keeps its default TLS 1.3 suites when the list names none. So a list
 * without TLS 1.3 suites caps the range at TLSv1.2, one of only TLS 1.3 suites raises it to
 * TLSv1.3, and a list that leaves no version of ssl.enabled.protocols is refused.
 */
export function cipherOptions(ls: ListenerSettings): {ciphers?: string; minVersion?: Protocol; maxVersion?: Protocol} {
  const list = ls.list('ssl.cipher.suites', [])
  if (list.length === 0) return {}
  const names = list.map(opensslCipher)
  const tls13 = names.filter(n => TLS13_SUITE.test(n)).length
  let {minVersion, maxVersion} = protocolRange(ls)
  const none = (which: string) => new ConfigError(`${ls.keyName('ssl.cipher.suites')}=${list.join(',')} names ${which} but ${ls.keyName('ssl.enabled.protocols')} enables ${minVersion === maxVersion ? minVersion : `${minVersion} to ${maxVersion}`}: no handshake could succeed`)
  if (tls13 === 0 && maxVersion === 'TLSv1.3') {
    if (minVersion === 'TLSv1.3') throw none('no TLS 1.3 suite')
    maxVersion = 'TLSv1.2'
  }
  if (tls13 === names.length && minVersion !== 'TLSv1.3') {
    if (maxVersion !== 'TLSv1.3') throw none('only TLS 1.3 suites')
    minVersion = 'TLSv1.3'
  }
  return {ciphers: names.join(':'), minVersion, maxVersion}
}

export type ClientAuth = 'required' | 'requested' | 'none'

export function clientAuth(ls: ListenerSettings): ClientAuth {
  const v = (ls.get('ssl.client.auth') ?? 'none').toLowerCase()
  if (v !== 'required' && v !== 'requested' && v !== 'none') throw new ConfigError(`Invalid value ${v} for configuration ${ls.keyName('ssl.client.auth')}: String must be one of: required, requested, none`)
  return v
}

export interface ServerTls {
  options: TlsOptions
  clientAuth: ClientAuth
  mapper: SslPrincipalMapper
  /** Files whose change means a reload (Kafka's dynamic key store update). */
  files: string[]
  /**
   * With a PKCS12 key store and a trust store: the trust store's certificates, which a client
   * certificate's chain must reach (Node also trusts the CAs bundled in the pfx; Java does not).
   */
  anchors?: Set<string>
}

/** Everything an SSL/SASL_SSL listener needs; ConfigErrors name the key (never a secret's value). */
export function serverTls(ls: ListenerSettings): ServerTls {
  const ks = keyStore(ls)
  if (!ks) throw new ConfigError(`Listener ${ls.listener} uses TLS but has no key store: set ${ls.prefix}ssl.keystore.location (or ssl.keystore.location, or ssl.keystore.type=PEM with ssl.keystore.key and ssl.keystore.certificate.chain)`)
  const ts = trustStore(ls)
  const auth = clientAuth(ls)
  const options: TlsOptions = {
    ...ks.context,
    ...(ts ? {ca: ts.context.ca} : {}),
    ...protocolRange(ls),
    ...cipherOptions(ls),
    requestCert: auth !== 'none',
    rejectUnauthorized: auth === 'required',
  }
  const anchors = pfxAnchors(ks, ts)
  return {options, clientAuth: auth, mapper: new SslPrincipalMapper(ls.get('ssl.principal.mapping.rules') ?? 'DEFAULT'), files: [...ks.files, ...(ts?.files ?? [])], ...(anchors ? {anchors} : {})}
}

/** The broker's client side towards another broker's TLS listener (inter-broker). */
export function clientTls(ls: ListenerSettings, host: string): ConnectionOptions {
  const ks = keyStore(ls)
  const ts = trustStore(ls)
  const verifyHost = (ls.get('ssl.endpoint.identification.algorithm') ?? 'https').toLowerCase() === 'https'
  return {
    ...(ks?.context ?? {}),
    ...(ts ? {ca: ts.context.ca} : {}),
    ...protocolRange(ls),
    ...cipherOptions(ls),
    servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    rejectUnauthorized: true,
    checkServerIdentity: serverIdentityCheck(verifyHost, ks, ts),
  }
}

/**
 * The client's check of the server's certificate after OpenSSL verified its chain. Node adds
 * the CA certificates bundled in a PKCS12 key store (pfx) to the trusted store, which Java does
 * not: a server whose certificate that CA signed would be trusted although the trust store does
 * not name it. With a pfx key store and a trust store, the verified chain must therefore reach
 * one of the trust store's certificates. Then the host name, when verifyHost.
 */
export function serverIdentityCheck(verifyHost: boolean, ks: KeyMaterial | undefined, ts: KeyMaterial | undefined): (host: string, cert: PeerCertificate) => Error | undefined {
  const anchors = pfxAnchors(ks, ts)
  return (host, cert) => {
    if (anchors && !chainReaches(cert as DetailedPeerCertificate, anchors)) return new Error('unable to get local issuer certificate (the server\'s certificate chain does not lead to a certificate of the trust store)')
    return verifyHost ? defaultCheckServerIdentity(host, cert) : undefined
  }
}

/** The trust store's certificate fingerprints when the key store is PKCS12 (whose bundled CAs Node trusts too), else undefined. */
export function pfxAnchors(ks: KeyMaterial | undefined, ts: KeyMaterial | undefined): Set<string> | undefined {
  return ks?.context.pfx !== undefined && ts ? trustedFingerprints(ts.context.ca) : undefined
}

/** Whether a verified peer chain (getPeerCertificate(true)) leads to one of the anchors. */
export function chainReaches(cert: DetailedPeerCertificate | undefined, anchors: Set<string>): boolean {
  let c = cert
  for (let i = 0; c && i < 16; i++) {
    if (c.fingerprint256 && anchors.has(c.fingerprint256)) return true
    c = c.issuerCertificate && c.issuerCertificate !== c ? c.issuerCertificate : undefined
  }
  return false
}

function trustedFingerprints(ca: SecureContextOptions['ca']): Set<string> {
  const out = new Set<string>()
  const items = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca]
  for (const item of items) {
    const text = Buffer.isBuffer(item) ? item.toString('utf8') : String(item)
    for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)) {
      try {
        out.add(new X509Certificate(m[0]).fingerprint256)
      } catch {
        // not a certificate OpenSSL reads either
      }
    }
  }
  return out
}

/** mtimes of files, to tell when a store changed. */
export function fileStamps(files: string[]): string {
  return files.map(f => {
    try {
      const s = statSync(f)
      return `${s.mtimeMs}:${s.size}`
    } catch {
      return 'missing'
    }
  }).join('|')
}

// ------------------------------------------------------------------ principals

/** A tiny DER reader: enough for a certificate's subject. */
class Der {
  constructor(readonly buf: Buffer, public pos = 0, readonly end = buf.length) {}
  next(): {tag: number; start: number; end: number; hdr: number} {
    const tag = this.buf[this.pos]
    let len = this.buf[this.pos + 1]
    let hdr = 2
    if (len & 0x80) {
      const n = len & 0x7f
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + this.buf[this.pos + 2 + i]
      hdr += n
    }
    const start = this.pos + hdr
    const e = start + len
    if (e > this.end) throw new Error('truncated DER')
    this.pos = e
    return {tag, start, end: e, hdr}
  }
}

const RDN_KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
}

function oidString(b: Buffer): string {
  const parts = [Math.floor(b[0] / 40), b[0] % 40]
  let v = 0
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f)
    if (!(b[i] & 0x80)) { parts.push(v); v = 0 }
  }
  return parts.join('.')
}

function escapeRfc2253(s: string): string {
  let out = s.replace(/([,+"\\<>;=])/g, '\\$1')
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = out.slice(0, -1) + '\\ '
  return out
}

function decodeString(tag: number, v: Buffer): string {
  if (tag === 0x1e) { // BMPString
    let s = ''
    for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode(v.readUInt16BE(i))
    return s
  }
  return tag === 0x0c ? v.toString('utf8') : v.toString('latin1')
}

/** The certificate's subject as Java's X500Principal.getName() prints it (RFC 2253, most specific RDN first). */
export function subjectRfc2253(certDer: Buffer): string {
  const top = new Der(certDer).next() // Certificate
  const tbsHdr = new Der(certDer, top.start, top.end).next() // TBSCertificate
  const tbs = new Der(certDer, tbsHdr.start, tbsHdr.end)
  let el = tbs.next()
  if (el.tag === 0xa0) el = tbs.next() // [0] version
  tbs.next() // signature algorithm (el was the serial)
  tbs.next() // issuer
  tbs.next() // validity
  const subject = tbs.next()
  const rdns: string[] = []
  const names = new Der(certDer, subject.start, subject.end)
  while (names.pos < subject.end) {
    const set = names.next()
    const atvs: string[] = []
    const inSet = new Der(certDer, set.start, set.end)
    while (inSet.pos < set.end) {
      const seq = inSet.next()
      const inSeq = new Der(certDer, seq.start, seq.end)
      const oid = inSeq.next()
      const valStart = inSeq.pos
      const val = inSeq.next()
      const oidStr = oidString(certDer.subarray(oid.start, oid.end))
      const kw = RDN_KEYWORDS[oidStr]
      if (kw) atvs.push(`${kw}=${escapeRfc2253(decodeString(val.tag, certDer.subarray(val.start, val.end)))}`)
      else atvs.push(`${oidStr}=#${certDer.subarray(valStart, val.end).toString('hex')}`)
    }
    rdns.push(atvs.join('+'))
  }
  return rdns.reverse().join(',')
}

/** Kafka's SslPrincipalMapper: DEFAULT and RULE:pattern/replacement/[LU] rules, first match wins. */
export class SslPrincipalMapper {
  private readonly rules: ({kind: 'default'} | {kind: 'rule'; pattern: RegExp; replacement: string; lower: boolean; upper: boolean})[] = []

  constructor(rules: string) {
    const RULE = /^\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?))\s*(?:,|$)/
    let rest = rules.trim()
    while (rest.length > 0) {
      const m = RULE.exec(rest)
      if (!m) throw new ConfigError(`Invalid rule: ${rest.split(',')[0]} in ssl.principal.mapping.rules`)
      if (m[1]) this.rules.push({kind: 'default'})
      else {
        let pattern: RegExp
        try {
          pattern = new RegExp(`^(?:${m[2]})$`)
        } catch (error) {
          throw new ConfigError(`Invalid rule: RULE:${m[2]}/${m[3]}/ in ssl.principal.mapping.rules: ${(error as Error).message}`)
        }
        this.rules.push({kind: 'rule', pattern, replacement: m[3], lower: m[4] === 'L', upper: m[4] === 'U'})
      }
      rest = rest.slice(m[0].length).trim()
    }
    if (this.rules.length === 0) this.rules.push({kind: 'default'})
  }

  /** The principal name for a distinguished name; throws when no rule applies (Kafka refuses the connection). */
  name(dn: string): string {
    for (const r of this.rules) {
      if (r.kind === 'default') return dn
      const m = r.pattern.exec(dn)
      if (!m) continue
      // Java's replaceAll with $n back references.
      let out = r.replacement.replace(/\\(.)|\$(\d)/g, (_s, esc: string | undefined, n: string | undefined) => esc !== undefined ? esc : (m[Number(n)] ?? ''))
      if (r.lower) out = out.toLowerCase()
      else if (r.upper) out = out.toUpperCase()
      return out
    }
    throw new Error(`No rules apply to ${dn}`)
  }
}
