// Certificates made at test time with openssl (never committed): a CA, a broker certificate
// for localhost/127.0.0.1, client certificates (alice, bob), one signed by a CA nobody trusts
// and one that expired, each as PEM files, PKCS12 and JKS (keytool) stores.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/util.js'

export const STORE_PASSWORD = 'store-secret-pw'

export interface CertFiles {
  dir: string
  /** CA certificate (PEM) that signed everything but the untrusted ones. */
  caPem: string
  /** A CA nobody trusts. */
  otherCaPem: string
  /** Broker: key + chain in one PEM, the key and the certificate apart, PKCS12 and JKS stores. */
  brokerPem: string
  brokerKey: string
  brokerCert: string
  brokerP12: string
  brokerJks: string
  /** A second broker certificate (CN=kafkit-broker-2), to see a reload take effect. */
  broker2Pem: string
  /** Trust stores holding the CA. */
  trustP12: string
  trustJks: string
  /** alice's key and certificate in a PKCS12 key store that bundles the CA (as openssl -certfile does). */
  aliceP12: string
  /** A PKCS12 trust store holding only the CA nobody trusts (keytool). */
  otherTrustP12: string
  /** Client certificates: key and cert PEM files. */
  client(name: 'alice' | 'bob' | 'untrusted' | 'expired'): {key: string; cert: string; pem: string}
}

let cached: CertFiles | undefined

function sh(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, {cwd, stdio: ['ignore', 'pipe', 'pipe']})
}

export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export function haveKeytool(): boolean {
  try {
    execFileSync('keytool', ['-help'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

function caConfig(dir: string, name: string): string {
  const d = join(dir, name)
  mkdirSync(join(d, 'new'), {recursive: true})
  writeFileSync(join(d, 'index.txt'), '')
  writeFileSync(join(d, 'serial'), '1000\n')
  const cnf = join(d, 'ca.cnf')
  writeFileSync(cnf, [
    '[ca]', 'default_ca = CA_default',
    '[CA_default]', `dir = ${d}`, 'database = $dir/index.txt', 'new_certs_dir = $dir/new', 'serial = $dir/serial',
    'default_md = sha256', 'preserve = yes', 'policy = policy_any', 'copy_extensions = copy', 'unique_subject = no', 'email_in_dn = no',
    '[policy_any]', 'commonName = supplied', 'organizationName = optional', 'organizationalUnitName = optional', 'countryName = optional', 'localityName = optional',
    '[req]', 'distinguished_name = dn', 'prompt = no',
    '[dn]', 'CN = unused',
    '[v3_ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = keyCertSign,cRLSign',
    '[server]', 'subjectAltName = DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage = serverAuth,clientAuth',
    '[client]', 'extendedKeyUsage = clientAuth',
    '',
  ].join('\n'))
  return cnf
}

function makeCa(dir: string, name: string, cn: string): {cnf: string; key: string; cert: string} {
  const cnf = caConfig(dir, name)
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.pem`)
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${cn}`, '-config', cnf, '-extensions', 'v3_ca'], dir)
  return {cnf, key, cert}
}

function sign(dir: string, ca: {cnf: string; key: string; cert: string}, name: string, subj: string, ext: 'server' | 'client', dates?: {start: string; end: string}): {key: string; cert: string; pem: string} {
  const key = join(dir, `${name}.key`)
  const csr = join(dir, `${name}.csr`)
  const cert = join(dir, `${name}.crt`)
  const extFile = join(dir, `${name}.ext`)
  writeFileSync(extFile, ext === 'server' ? 'subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth,clientAuth\n' : 'extendedKeyUsage = clientAuth\n')
  sh('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subj, '-config', ca.cnf], dir)
  const when = dates ? ['-startdate', dates.start, '-enddate', dates.end] : ['-days', '30']
  sh('openssl', ['ca', '-batch', '-preserveDN', '-config', ca.cnf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, '-notext', '-extfile', extFile, ...when], dir)
  const pem = join(dir, `${name}-all.pem`)
  execFileSync('sh', ['-c', `cat "${key}" "${cert}" > "${pem}"`])
  return {key, cert, pem}
}

/** Makes (once per process) every certificate and store the security tests use. */
export function makeCerts(): CertFiles {
  if (cached && existsSync(cached.dir)) return cached
  const dir = tempDir('kafkit-certs-')
  const ca = makeCa(dir, 'ca', 'kafkit-test-ca')
  const other = makeCa(dir, 'other-ca', 'nobody-trusts-me')
  const broker = sign(dir, ca, 'broker', '/O=kafkit/CN=kafkit-broker', 'server')
  const broker2 = sign(dir, ca, 'broker2', '/O=kafkit/CN=kafkit-broker-2', 'server')
  const clients = {
    alice: sign(dir, ca, 'alice', '/C=US/O=Acme/OU=Eng/CN=alice', 'client'),
    bob: sign(dir, ca, 'bob', '/O=Acme/CN=bob', 'client'),
    untrusted: sign(dir, other, 'untrusted', '/O=Evil/CN=mallory', 'client'),
    expired: sign(dir, ca, 'expired', '/O=Acme/CN=old-alice', 'client', {start: '20200101000000Z', end: '20200201000000Z'}),
  }
  const brokerP12 = join(dir, 'broker.p12')
  sh('openssl', ['pkcs12', '-export', '-in', broker.cert, '-inkey', broker.key, '-certfile', ca.cert, '-name', 'broker', '-out', brokerP12, '-passout', `pass:${STORE_PASSWORD}`], dir)
  const trustP12 = join(dir, 'trust.p12')
  const aliceP12 = join(dir, 'alice.p12')
  sh('openssl', ['pkcs12', '-export', '-in', clients.alice.cert, '-inkey', clients.alice.key, '-certfile', ca.cert, '-name', 'alice', '-out', aliceP12, '-passout', `pass:${STORE_PASSWORD}`], dir)
  const otherTrustP12 = join(dir, 'other-trust.p12')
  const brokerJks = join(dir, 'broker.jks')
  const trustJks = join(dir, 'trust.jks')
  if (haveKeytool()) {
    sh('keytool', ['-importkeystore', '-srckeystore', brokerP12, '-srcstoretype', 'PKCS12', '-srcstorepass', STORE_PASSWORD, '-destkeystore', brokerJks, '-deststoretype', 'JKS', '-deststorepass', STORE_PASSWORD, '-destkeypass', STORE_PASSWORD, '-noprompt'], dir)
    sh('keytool', ['-importcert', '-alias', 'ca', '-file', ca.cert, '-keystore', trustJks, '-storetype', 'JKS', '-storepass', STORE_PASSWORD, '-noprompt'], dir)
    sh('keytool', ['-importcert', '-alias', 'ca', '-file', ca.cert, '-keystore', trustP12, '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD, '-noprompt'], dir)
    sh('keytool', ['-importcert', '-alias', 'other', '-file', other.cert, '-keystore', otherTrustP12, '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD, '-noprompt'], dir)
  }
  cached = {
    dir,
    caPem: ca.cert,
    otherCaPem: other.cert,
    brokerPem: broker.pem,
    brokerKey: broker.key,
    brokerCert: broker.cert,
    brokerP12,
    brokerJks,
    broker2Pem: broker2.pem,
    trustP12,
    trustJks,
    aliceP12,
    otherTrustP12,
    client: name => clients[name],
  }
  return cached
}
