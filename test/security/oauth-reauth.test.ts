// OAUTHBEARER with unsecured JWS tokens (Kafka's default validator: alg none, sub, exp, iat,
// required scope) and connections.max.reauth.ms: kcat and Apache's Java console tools log in
// with unsecured tokens; expired, signed or scope-less tokens are refused with Kafka's JSON
// challenge then SASL_AUTHENTICATION_FAILED; SaslAuthenticate tells the session lifetime; a
// client that re-authenticates (the Java client, KIP-368) keeps its connection, one that does
// not is disconnected at its next request after the session ends.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {removeDir, waitFor} from '../helpers/util.js'
import {startApacheZooKeeper, exec, type ApacheZooKeeper} from '../broker/helpers.js'
import {startSecureBroker, apacheTool, apacheSkip, clientProps, scratch, KCAT, type SecureBroker} from './helpers.js'
import {RawConn, requestFrame, decodeResponse, plainToken} from './raw.js'

const skip = apacheSkip()
const OAUTH = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule'
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule'
const REAUTH_MS = 2000
let zk: ApacheZooKeeper
let broker: SecureBroker
let dir: string

before(async () => {
  if (skip) return
  dir = scratch()
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT', SASL_PLAINTEXT: 'SASL_PLAINTEXT'}, [
    'sasl.enabled.mechanisms=OAUTHBEARER,PLAIN',
    `listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=${OAUTH} required unsecuredLoginStringClaim_sub="admin" unsecuredValidatorRequiredScope="kafka";`,
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${PLAIN} required user_alice="alice-secret";`,
    `connections.max.reauth.ms=${REAUTH_MS}`,
  ])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
  if (dir) removeDir(dir)
})

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jws = (claims: object, header: object = {alg: 'none'}, sig = '') => `${b64(header)}.${b64(claims)}.${sig}`
const now = () => Date.now() / 1000
const oauthToken = (token: string) => Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`, 'utf8')

test('kcat logs in with an unsecured OAUTHBEARER token (librdkafka\'s unsecure JWT) and produces and consumes', {skip}, async () => {
  const args = ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=alice scope=kafka']
  const p = await exec(KCAT, ['-P', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'oauth-kcat', ...args], {input: 'o1\no2\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await exec(KCAT, ['-C', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'oauth-kcat', '-e', '-o', 'beginning', ...args])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'o1\no2\n')
})

test('tokens Kafka\'s unsecured validator refuses: expired, signed (alg other than none), without the required scope, no sub', {skip}, async () => {
  const cases: [string, string, string][] = [
    ['expired', jws({sub: 'alice', scope: 'kafka', iat: now() - 100, exp: now() - 10}), '{"status":"invalid_token"}'],
    ['signed', jws({sub: 'alice', scope: 'kafka', exp: now() + 60}, {alg: 'HS256'}, 'c2ln'), '{"status":"invalid_token"}'],
    ['no scope', jws({sub: 'alice', exp: now() + 60}), '{"status":"insufficient_scope", "scope":"kafka"}'],
    ['no sub', jws({scope: 'kafka', exp: now() + 60}), '{"status":"invalid_token"}'],
  ]
  for (const [what, token, challenge] of cases) {
    const c = await RawConn.open(broker.ports.SASL_PLAINTEXT)
    c.write(requestFrame(17, 1, 1, {mechanism: 'OAUTHBEARER'}))
    assert.equal(decodeResponse(17, 1, (await c.next())!).errorCode, 0)
    c.write(requestFrame(36, 2, 2, {authBytes: oauthToken(token)}))
    const r1 = decodeResponse(36, 2, (await c.next())!)
    assert.equal(r1.errorCode, 0, what)
    assert.equal(Buffer.from(r1.authBytes).toString(), challenge, what)
    c.write(requestFrame(36, 2, 3, {authBytes: Buffer.from([1])}))
    const r2 = decodeResponse(36, 2, (await c.next())!)
    assert.equal(r2.errorCode, 58, what)
    assert.equal(r2.errorMessage, challenge, what)
    assert.ok(await c.waitClosed(), what)
  }
})

test('SaslAuthenticate reports the session lifetime; a client that does not re-authenticate is disconnected at its next request after it', {skip}, async () => {
  const c = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  c.write(requestFrame(17, 1, 1, {mechanism: 'PLAIN'}))
  await c.next()
  c.write(requestFrame(36, 1, 2, {authBytes: plainToken('alice', 'alice-secret')}))
  const auth = decodeResponse(36, 1, (await c.next())!)
  assert.equal(auth.errorCode, 0)
  assert.equal(Number(auth.sessionLifetimeMs), REAUTH_MS)
  const t0 = Date.now()
  c.write(requestFrame(3, 1, 3, {topics: []}))
  assert.ok(await c.next(), 'served within the session')
  // An OAUTHBEARER session ends at the token's expiry when that comes first.
  const o = await RawConn.open(broker.ports.SASL_PLAINTEXT)
  o.write(requestFrame(17, 1, 1, {mechanism: 'OAUTHBEARER'}))
  await o.next()
  o.write(requestFrame(36, 2, 2, {authBytes: oauthToken(jws({sub: 'alice', scope: 'kafka', exp: now() + 1}))}))
  const lifetime = Number(decodeResponse(36, 2, (await o.next())!).sessionLifetimeMs)
  assert.ok(lifetime > 0 && lifetime <= 1000, `token lifetime ${lifetime}`)
  o.close()
  await waitFor(() => Date.now() - t0 > REAUTH_MS + 100, REAUTH_MS + 1000, 'the session to end')
  c.write(requestFrame(3, 1, 4, {topics: []}))
  assert.equal(await c.next(), null)
  assert.ok(await c.waitClosed())
  await broker.proc.waitForOutput('the authentication session expired (connections.max.reauth.ms 2000 ms) and the client did not re-authenticate')
})

test('Apache\'s Java console consumer (OAUTHBEARER) re-authenticates on its connection and keeps consuming across several session lifetimes', {skip, timeout: 90000}, async () => {
  const props = clientProps(dir, 'java-oauth', {'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'OAUTHBEARER', 'sasl.jaas.config': `${OAUTH} required unsecuredLoginStringClaim_sub="alice" unsecuredLoginListClaim_scope=",kafka";`})
  const before = broker.proc.output.length
  const produce = (v: string) => exec(KCAT, ['-P', '-b', broker.addr('SASL_PLAINTEXT'), '-t', 'oauth-java', '-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=alice scope=kafka'], {input: `${v}\n`})
  assert.equal((await produce('zero')).code, 0)
  const consumer = apacheTool('kafka-console-consumer', ['--bootstrap-server', broker.addr('SASL_PLAINTEXT'), '--topic', 'oauth-java', '--from-beginning', '--max-messages', '4', '--timeout-ms', '40000', '--consumer.config', props])
  // One record per session lifetime: the consumer's connections must outlive several sessions.
  for (const v of ['first', 'second', 'third']) {
    const t = Date.now()
    await waitFor(() => Date.now() - t > REAUTH_MS * 1.2, REAUTH_MS * 2, 'a session lifetime to pass')
    assert.equal((await produce(v)).code, 0)
  }
  const r = await consumer
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'zero\nfirst\nsecond\nthird\n')
  const lines = broker.proc.output.slice(before)
  assert.doesNotMatch(lines, /Failed re-authentication|did not re-authenticate/)
})
