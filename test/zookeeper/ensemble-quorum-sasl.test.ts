// Quorum SASL (quorum.auth.enableSasl, learnerRequireSasl, serverRequireSasl; DIGEST-MD5 with
// the JAAS file's QuorumServer and QuorumLearner sections): a kafkit ensemble authenticates on
// the quorum and election ports, forms, replicates and survives a leader's kill -9; mixed with
// Apache ZooKeeper 3.8, either kind leading; a server with the wrong quorum password cannot
// join (one clear line on each side) while the others keep serving.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ensemble, type Member} from './ensemble-helpers.js'
import {waitFor} from './helpers.js'
import {makeCerts, haveOpenssl, haveKeytool, STORE_PASSWORD} from '../security/certs.js'

const SASL_LINES = ['quorum.auth.enableSasl=true', 'quorum.auth.learnerRequireSasl=true', 'quorum.auth.serverRequireSasl=true', 'quorum.auth.learner.saslLoginContext=QuorumLearner', 'quorum.auth.server.saslLoginContext=QuorumServer']

/** A JAAS file with the QuorumServer / QuorumLearner sections for one server. */
function jaasFor(m: Member, password: string): string {
  const file = join(m.dir, 'jaas.conf')
  writeFileSync(file, [
    'QuorumServer {', '  org.apache.zookeeper.server.auth.DigestLoginModule required', `  user_zkquorum="${password}";`, '};',
    'QuorumLearner {', '  org.apache.zookeeper.server.auth.DigestLoginModule required', '  username="zkquorum"', `  password="${password}";`, '};', '',
  ].join('\n'))
  return file
}

async function replicates(e: Ensemble, tag: string, idx: number[]): Promise<void> {
  for (const i of idx) await e.kazoo(e.connectString([i]), `c.create('/${tag}-${i}', b'${e.members[i].kind}')`)
  const want = JSON.stringify(idx.map(i => `${tag}-${i}`).sort())
  for (const j of idx) {
    const got = await e.kazoo(e.connectString([j]), `c.sync('/'); import json; print(json.dumps(separators=(',', ':'), obj=sorted(x for x in c.get_children('/') if x.startswith('${tag}-'))))`)
    assert.equal(got, want, `through server ${j + 1} (${e.members[j].kind})`)
  }
}

const tail = (e: Ensemble) => console.log(e.tail(Number(process.env.KAFKIT_TEST_TAIL ?? 3000)))

test('3 kafkit servers with quorum SASL required: authenticate, elect, replicate, survive the leader\'s kill -9', {timeout: 90000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'], {extra: SASL_LINES, jaasFile: m => jaasFor(m, 'quorum-pw')})
  try {
    e.startAll()
    const leader = await e.waitForLeader(40000)
    await replicates(e, 'a', [0, 1, 2])
    for (const m of e.members) {
      assert.match(m.output, /Successfully completed the authentication using SASL. learner addr/, `server ${m.id} authenticated a peer`)
      assert.match(m.output, /Successfully completed the authentication using SASL. server addr/, `server ${m.id} authenticated to a peer`)
    }
    await e.kill(leader)
    const next = await e.waitForLeader(30000)
    assert.notEqual(next, leader)
    await replicates(e, 'b', [0, 1, 2].filter(i => i !== leader))
    e.start(leader)
    await waitFor(async () => ['follower', 'leader'].includes(await e.mode(leader)), 30000, 'the old leader to rejoin')
    await replicates(e, 'c', [0, 1, 2])
  } catch (err) {
    tail(e)
    throw err
  } finally {
    await e.destroy()
  }
})

const MIXED: Array<{name: string; kinds: string[]; leader: number}> = [
  {name: '2 kafkit + 1 Apache, kafkit leads', kinds: ['apache', 'kafkit', 'kafkit'], leader: 2},
  {name: '1 kafkit + 2 Apache, Apache leads', kinds: ['kafkit', 'apache', 'apache'], leader: 2},
]

for (const c of MIXED) {
  test(`quorum SASL required, mixed with Apache ZooKeeper 3.8 (${c.name}): forms and replicates both ways, then a new leader after kill -9`, {timeout: 120000}, async () => {
    const e = await Ensemble.create(c.kinds, {extra: SASL_LINES, jaasFile: m => jaasFor(m, 'quorum-pw')})
    try {
      await e.startFirst(c.leader)
      const leader = await e.waitForLeader(60000)
      assert.equal(leader, c.leader, `server ${c.leader + 1} (${c.kinds[c.leader]}) leads: ${(await e.modes()).join(',')}`)
      await replicates(e, 'a', [0, 1, 2])
      const k = e.members.find(m => m.kind === 'kafkit')!
      assert.match(k.output, /Successfully completed the authentication using SASL/)
      await e.kill(leader)
      const next = await e.waitForLeader(40000)
      assert.notEqual(next, leader)
      await replicates(e, 'b', [0, 1, 2].filter(i => i !== leader))
    } catch (err) {
      tail(e)
      throw err
    } finally {
      await e.destroy()
    }
  })
}

test('a server with the wrong quorum password cannot join an Apache + kafkit ensemble; the others keep serving', {timeout: 90000}, async () => {
  const e = await Ensemble.create(['apache', 'kafkit', 'kafkit'], {extra: SASL_LINES, jaasFile: m => jaasFor(m, m.id === 3 ? 'not-the-quorum-pw' : 'quorum-pw')})
  try {
    e.start(0)
    e.start(1)
    await e.waitForLeader(60000, [0, 1])
    e.start(2)
    // Server 3 (kafkit) is refused by server 2 (kafkit) and by server 1 (Apache).
    await waitFor(() => /Failed to authenticate using SASL: learner addr: .*/.test(e.members[1].output), 30000, 'server 2 refusing server 3')
    await waitFor(() => /Authentication failed against server addr: 127.0.0.1:\d+ \(server 1\)/.test(e.members[2].output), 30000, 'server 1 (Apache) refusing server 3')
    console.log(`server 2: ${e.members[1].output.split('\n').find(l => /Failed to authenticate using SASL/.test(l))}`)
    console.log(`server 3: ${e.members[2].output.split('\n').find(l => /Authentication failed against server addr/.test(l))}`)
    await replicates(e, 'x', [0, 1])
    assert.equal(await e.mode(2), '', 'server 3 does not serve')
    assert.ok(e.running(2), 'server 3 keeps trying, without crashing')
  } catch (err) {
    tail(e)
    throw err
  } finally {
    await e.destroy()
  }
})

test('quorum SASL over quorum TLS, mixed with Apache ZooKeeper 3.8 (2 kafkit + 1 Apache): forms and replicates both ways', {skip: !haveOpenssl() || !haveKeytool() ? 'openssl and keytool are needed' : false, timeout: 120000}, async () => {
  const certs = makeCerts()
  const tls = ['sslQuorum=true', `ssl.quorum.keyStore.location=${certs.brokerP12}`, `ssl.quorum.keyStore.password=${STORE_PASSWORD}`, `ssl.quorum.trustStore.location=${certs.trustP12}`, `ssl.quorum.trustStore.password=${STORE_PASSWORD}`]
  const e = await Ensemble.create(['kafkit', 'kafkit', 'apache'], {extra: [...SASL_LINES, ...tls], jaasFile: m => jaasFor(m, 'quorum-pw')})
  try {
    // Apache started first, but its TLS set-up is slow: the two kafkit servers may elect before it joins.
    await e.startFirst(2)
    await e.waitForLeader(60000)
    await replicates(e, 'a', [0, 1, 2])
    for (const m of e.members.filter(x => x.kind === 'kafkit')) {
      assert.match(m.output, /Successfully completed the authentication using SASL. server addr: 127.0.0.1:\d+ \(server 3\)|Successfully completed the authentication using SASL. server addr: 127.0.0.1:\d+, status/)
      assert.match(m.output, /listeners accept TLS only/)
    }
  } catch (err) {
    tail(e)
    throw err
  } finally {
    await e.destroy()
  }
})
