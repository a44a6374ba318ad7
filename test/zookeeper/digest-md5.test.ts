// SASL DIGEST-MD5 as ZooKeeper uses it: RFC 2831's worked example, and kafkit's client against
// kafkit's server (a right password completes with rspauth checked; wrong ones are refused).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {responseValue, DigestMd5Server, DigestMd5Client, SaslError, parseDirectives} from '../../src/core/zookeeper/auth/digest-md5.js'

test("RFC 2831's example: response and rspauth", () => {
  const d = {username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonce: 'OA6MG9tEQGm2hh', cnonce: 'OA6MHXh6VqTrRk', nc: '00000001', qop: 'auth', digestUri: 'imap/elwood.innosoft.com', utf8: false}
  assert.equal(responseValue(d, 'AUTHENTICATE'), 'd388dad90d4bbd760a152321f2143af7')
  assert.equal(responseValue(d, ''), 'ea40f60335c427b5527b84dbabcdfffd')
})

function exchange(user: string, pw: string, users: Record<string, string>): {server: DigestMd5Server; client: DigestMd5Client} {
  const server = new DigestMd5Server(u => users[u])
  const client = new DigestMd5Client(user, pw)
  const challenge = server.evaluate(client.initial())
  assert.match(challenge.toString(), /^realm="zk-sasl-md5",nonce="[^"]+",qop="auth",charset=utf-8,algorithm=md5-sess$/)
  const response = client.evaluate(challenge)!
  assert.equal(parseDirectives(response.toString()).get('digest-uri'), 'zookeeper/zk-sasl-md5')
  const rspauth = server.evaluate(response)
  assert.equal(client.evaluate(rspauth), null)
  return {server, client}
}

test('client and server: the right password completes both sides with the user as the id', () => {
  const {server, client} = exchange('kafka', 'kafka-secret', {kafka: 'kafka-secret'})
  assert.ok(server.complete && client.complete)
  assert.equal(server.authorizationId, 'kafka')
})

test('a wrong password, an unknown user, a replayed or garbled response are refused', () => {
  assert.throws(() => exchange('kafka', 'nope', {kafka: 'kafka-secret'}), (e: Error) => e instanceof SaslError && /Mismatched response/.test(e.message) && !e.message.includes('secret'))
  assert.throws(() => exchange('mallory', 'x', {kafka: 'kafka-secret'}), /cannot acquire password for mallory/)
  const server = new DigestMd5Server(() => 'pw')
  server.evaluate(Buffer.alloc(0))
  assert.throws(() => server.evaluate(Buffer.from('username="a",nonce="other",nc=00000001,cnonce="c",digest-uri="zookeeper/zk-sasl-md5",response=00,qop=auth')), /Mismatched nonce/)
  assert.throws(() => new DigestMd5Server(() => 'pw').evaluate(Buffer.from('username="a')), SaslError)
  assert.throws(() => { const s = new DigestMd5Server(() => 'pw'); s.evaluate(Buffer.alloc(0)); s.evaluate(Buffer.alloc(5000, 0x61)) }, /too long/)
  // A client whose server does not know the password cannot be fooled by a made-up rspauth.
  const c = new DigestMd5Client('kafka', 'kafka-secret')
  c.initial()
  c.evaluate(Buffer.from('realm="zk-sasl-md5",nonce="n",qop="auth",charset=utf-8'))
  assert.throws(() => c.evaluate(Buffer.from('rspauth=0123')), /rspauth mismatch/)
})
