// A three-server kafkit ensemble, started with zookeeper-server-start as a user would:
// one leader, writes through any server, reads after sync, sessions and ephemerals across
// servers, srvr/mntr figures; then kill -9 of the leader under a write load of kazoo and
// node-zookeeper-client: a new leader within seconds, and every acknowledged write is there
// once the old leader is back; a follower killed; two killed at once (no quorum: nothing is
// served, writes fail) and back: still nothing acknowledged lost. KAFKIT_ENSEMBLE_ROUNDS=N kills
// the leader N times in a row (a longer run; once by default).
import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {Ensemble} from './ensemble-helpers.js'
import {fourLetter, zookeeper, waitFor} from './helpers.js'
import {RawClient, OPEN_ACL} from './rawclient.js'

const PY = '/usr/bin/python3'
let ens: Ensemble | null = null
after(async () => { await ens?.destroy() })

/** A promisified node-zookeeper-client on a connect string. */
function client(connect: string, timeout = 8000): Promise<{c: ReturnType<typeof zookeeper.createClient>; call<T = unknown[]>(m: string, ...a: unknown[]): Promise<T>}> {
  const c = zookeeper.createClient(connect, {sessionTimeout: timeout, retries: 0, spinDelay: 100})
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no session on ${connect}`)), 15000)
    c.once('connected', () => {
      clearTimeout(t)
      resolve({c, call: <T>(m: string, ...a: unknown[]) => new Promise<T>((res, rej) => (c as unknown as Record<string, (...x: unknown[]) => void>)[m](...a, (e: Error | null, ...r: unknown[]) => e ? rej(e) : res(r as T)))})
    })
    c.connect()
  })
}

test('three kafkit servers: one leader, writes through any server, reads after sync, ephemerals and watches across servers', {timeout: 60000}, async () => {
  ens = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'])
  ens.startAll()
  const leader = await ens.waitForLeader()
  const modes = await ens.modes()
  assert.deepEqual(modes.filter(m => m === 'follower').length, 2, modes.join(','))
  const f = [0, 1, 2].filter(i => i !== leader)
  const a = await client(ens.connectString([f[0]]))
  const b = await client(ens.connectString([f[1]]))
  const l = await client(ens.connectString([leader]))
  try {
    // A write through a follower, seen through the other follower after sync (kazoo's sync).
    const [path] = await a.call<[string]>('create', '/ens', Buffer.from('one'), zookeeper.CreateMode.PERSISTENT)
    assert.equal(path, '/ens')
    assert.equal(await ens.kazoo(ens.connectString([f[1]]), "c.sync('/ens'); print(c.get('/ens')[0].decode())"), 'one')
    const [data, stat] = (await waitFor(async () => (await b.call<[Buffer, {version: number}]>('getData', '/ens').catch(() => null)), 5000, '/ens on the other follower'))!
    assert.equal(data.toString(), 'one')
    // A watch on one follower fires for a write through the leader.
    let watching: () => void = () => {}
    const watchSet = new Promise<void>(r => { watching = r })
    const fired = new Promise<string>(resolve => b.c.getData('/ens', (ev: {getName(): string}) => resolve(ev.getName()), () => watching()))
    await watchSet
    await l.call('setData', '/ens', Buffer.from('two'), stat.version)
    assert.equal(await fired, 'NODE_DATA_CHANGED')
    // Sequential names and a multi through a follower.
    const [s1] = await a.call<[string]>('create', '/ens/q-', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
    const [s2] = await b.call<[string]>('create', '/ens/q-', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL)
    assert.deepEqual([s1, s2], ['/ens/q-0000000000', '/ens/q-0000000001'])
    // An ephemeral created through one follower goes when its session closes, seen everywhere.
    await b.call('create', '/ens/eph', Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL)
    await waitFor(async () => (await l.call<[unknown]>('exists', '/ens/eph'))[0], 5000, 'the ephemeral on the leader')
    b.c.close()
    await waitFor(async () => (await a.call<[unknown]>('exists', '/ens/eph'))[0] === null, 10000, 'the ephemeral to go')
    // srvr and mntr: Mode lines and the leader's quorum figures.
    const srvr = await fourLetter(ens.members[leader].clientPort, 'srvr')
    assert.match(srvr, /\nMode: leader\nNode count: \d+\nProposal sizes last\/min\/max: \d+\/\d+\/\d+\n$/)
    assert.match(await fourLetter(ens.members[f[0]].clientPort, 'srvr'), /\nMode: follower\n/)
    const mntr = await fourLetter(ens.members[leader].clientPort, 'mntr')
    assert.match(mntr, /^zk_server_state\tleader$/m)
    assert.match(mntr, /^zk_synced_followers\t2$/m)
    assert.match(mntr, /^zk_learners\t2$/m)
    assert.match(await fourLetter(ens.members[f[1]].clientPort, 'mntr'), /^zk_server_state\tfollower$/m)
  } finally {
    a.c.close()
    b.c.close()
    l.c.close()
  }
})

test('a session moves when its server dies: same session, its ephemeral kept, its watch restored; a dead client\'s ephemeral expires', {timeout: 60000}, async () => {
  assert.ok(ens, 'the ensemble of the first test')
  const e = ens!
  const leader = await e.waitForLeader()
  const f = [0, 1, 2].filter(i => i !== leader)
  // A client of the ensemble (on a follower), with an ephemeral and a watch.
  const c = zookeeper.createClient(e.connectString(f), {sessionTimeout: 6000, retries: 0, spinDelay: 50})
  const states: string[] = []
  c.on('state', (s: {getName(): string}) => states.push(s.getName()))
  await new Promise<void>(r => { c.once('connected', () => r()); c.connect() })
  const port = (c as unknown as {connectionManager: {socket: {remotePort: number}}}).connectionManager.socket.remotePort
  const victim = e.members.findIndex(m => m.clientPort === port)

  const call = <T = unknown[]>(m: string, ...a: unknown[]) => new Promise<T>((res, rej) => (c as unknown as Record<string, (...x: unknown[]) => void>)[m](...a, (err: Error | null, ...r: unknown[]) => err ? rej(err) : res(r as T)))
  // Another client that never comes back (a raw connection): its ephemeral must go once its session expires.
  let gone: RawClient | null = null
  try {
    assert.ok(f.includes(victim), `connected to a follower (${port})`)
    gone = await RawClient.open(e.members[victim].clientPort)
    await gone.handshake(4000)
    assert.equal((await gone.request(1, 1, w => { w.ustring('/moved-orphan').buffer(Buffer.alloc(0)); OPEN_ACL(w); w.int(1) })).err, 0)
    const sid = c.getSessionId().toString('hex')
    await call('create', '/moved', Buffer.from('0'), zookeeper.CreateMode.EPHEMERAL)
    let registered: () => void = () => {}
    const set = new Promise<void>(r => { registered = r })
    const watched = new Promise<string>(resolve => c.getData('/moved', (ev: {getName(): string}) => resolve(ev.getName()), () => registered()))
    await within(set, 10000, 'the getData that sets the watch')
    const t0 = Date.now()
    await e.kill(victim)
    await waitFor(() => states.filter(s => s === 'SYNC_CONNECTED').length >= 2, 20000, 'the client to reconnect to another server')
    const moved = Date.now() - t0
    assert.equal(c.getSessionId().toString('hex'), sid, 'the same session')
    assert.ok(!states.includes('EXPIRED'))
    const [still] = await within(call<[unknown]>('exists', '/moved'), 10000, 'exists')
    assert.ok(still, 'the ephemeral lives on')
    // The watch set through the dead server fires for a write through another one.
    assert.equal(await e.kazoo(e.connectString([leader]), "c.set('/moved', b'1'); print('ok')"), 'ok')
    assert.equal(await within(watched, 10000, 'the restored watch'), 'NODE_DATA_CHANGED')
    // The client that is gone for good: the leader expires its session and its ephemeral.
    const t1 = Date.now()
    await waitFor(async () => (await within(call<[unknown]>('exists', '/moved-orphan'), 5000, 'exists'))[0] === null, 20000, 'the orphan ephemeral to expire')
    console.log(`session moved in ${moved} ms; an abandoned session's ephemeral went after ${Date.now() - t1} ms more`)
  } finally {
    c.close()
    gone?.close()
    if (victim >= 0 && !e.running(victim)) e.start(victim)
    await waitFor(async () => (await e.mode(victim)) === 'follower', 20000, 'the follower back')
  }
})

/** A kazoo writer in its own process: creates /load/<tag>-<n> one after another, printing each acknowledged name. */
function kazooWriter(connect: string, tag: string): {acked: string[]; times: number[]; stop(): Promise<void>} {
  const script = `
import sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
c = KazooClient(hosts=sys.argv[1], timeout=6, connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2), command_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2))
c.start(timeout=15)
c.ensure_path('/load')
n = 0
while True:
    try:
        c.create('/load/%s-%d' % (sys.argv[2], n), b'x')
        print('/load/%s-%d' % (sys.argv[2], n), flush=True)
        n += 1
    except Exception as e:
        if 'NodeExists' in type(e).__name__:
            print('/load/%s-%d' % (sys.argv[2], n), flush=True)
            n += 1
        else:
            time.sleep(0.05)
`
  const child = spawn(PY, ['-c', script, connect, tag], {stdio: ['ignore', 'pipe', 'pipe']})
  const acked: string[] = []
  const times: number[] = []
  let buf = ''
  child.stdout!.on('data', d => {
    buf += d
    const lines = buf.split('\n')
    buf = lines.pop()!
    for (const l of lines) if (l) { acked.push(l); times.push(Date.now()) }
  })
  child.stderr!.on('data', () => {})
  return {acked, times, stop: async () => { child.kill('SIGKILL'); await new Promise(r => child.exitCode !== null ? r(null) : child.once('exit', r)) }}
}

/** The same load from node-zookeeper-client, in this process. */
function nzkWriter(connect: string, tag: string): {acked: string[]; times: number[]; stop(): Promise<void>} {
  const acked: string[] = []
  const times: number[] = []
  let stopped = false
  const c = zookeeper.createClient(connect, {sessionTimeout: 6000, retries: 0, spinDelay: 50})
  c.connect()
  const run = (async () => {
    let n = 0
    while (!stopped) {
      const path = `/load/${tag}-${n}`
      const err = await new Promise<Error | null>(r => c.create(path, Buffer.from('x'), (e: Error | null) => r(e)))
      if (!err || (err as unknown as {getCode(): number}).getCode?.() === -110) {
        acked.push(path)
        times.push(Date.now())
        n++
      } else await new Promise(r => setTimeout(r, 50))
    }
  })()
  return {acked, times, stop: async () => { stopped = true; await run; c.close() }}
}

/** A promise with a deadline (a test never hangs on a reply that does not come). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)
    p.then(v => { clearTimeout(t); resolve(v) }, e => { clearTimeout(t); reject(e) })
  })
}

function maxGap(times: number[], from: number): number {
  let gap = 0
  let prev = from
  for (const t of times) if (t >= from) { gap = Math.max(gap, t - prev); prev = t }
  return gap
}

test('kill -9 of the leader, a follower, then two servers at once under load: no acknowledged write lost', {timeout: 90000 + 20000 * Number(process.env.KAFKIT_ENSEMBLE_ROUNDS ?? 0)}, async () => {
  assert.ok(ens, 'the ensemble of the first test')
  const e = ens!
  const all = e.connectString()
  const k = kazooWriter(all, 'kz')
  const setup = await client(all)
  await setup.call('create', '/load', Buffer.alloc(0), zookeeper.CreateMode.PERSISTENT).catch(() => {})
  setup.c.close()
  const n = nzkWriter(all, 'nzk')
  const report: string[] = []
  try {
    await waitFor(() => k.acked.length > 20 && n.acked.length > 20, 20000, 'both writers to get going')
    // 1. The leader (KAFKIT_ENSEMBLE_ROUNDS times; once by default).
    const rounds = Math.max(1, Number(process.env.KAFKIT_ENSEMBLE_ROUNDS ?? 1))
    for (let round = 0; round < rounds; round++) {
      const leader = await e.waitForLeader()
      const t0 = Date.now()
      await e.kill(leader)
      const next = await e.waitForLeader(20000)
      const election = Date.now() - t0
      const before = [k.acked.length, n.acked.length]
      await waitFor(() => k.acked.length > before[0] + 20 && n.acked.length > before[1] + 20, 20000, 'writes to continue after the election')
      report.push(`leader ${leader + 1} killed: server ${next + 1} leads after ${election} ms; client stall kazoo ${maxGap(k.times, t0)} ms, node-zookeeper-client ${maxGap(n.times, t0)} ms`)
      e.start(leader)
      await waitFor(async () => (await e.mode(leader)) === 'follower', 20000, 'the old leader to follow')
    }
    const next = await e.waitForLeader()
    // 2. A follower.
    const follower = [0, 1, 2].find(i => i !== next)!
    const t1 = Date.now()
    await e.kill(follower)
    const b2 = [k.acked.length, n.acked.length]
    await waitFor(() => k.acked.length > b2[0] + 20 && n.acked.length > b2[1] + 20, 20000, 'writes to continue without a follower')
    report.push(`follower ${follower + 1} killed: stall kazoo ${maxGap(k.times, t1)} ms, node-zookeeper-client ${maxGap(n.times, t1)} ms`)
    e.start(follower)
    await e.waitForLeader(20000, [0, 1, 2])
    // 3. Two at once: the last one has no quorum and serves nobody.
    const lead3 = await e.waitForLeader()
    const others = [0, 1, 2].filter(i => i !== lead3)
    await Promise.all(others.map(i => e.kill(i)))
    await waitFor(async () => (await e.mode(lead3)) === '', 15000, 'the lone server to stop serving')
    assert.equal((await fourLetter(e.members[lead3].clientPort, 'srvr')).trim(), 'This ZooKeeper instance is not currently serving requests')
    const stuck = [k.acked.length, n.acked.length]
    const t3 = Date.now()
    await waitFor(() => Date.now() - t3 > 1500, 3000, 'a while without quorum')
    assert.deepEqual([k.acked.length, n.acked.length], stuck, 'no write is acknowledged without a quorum')
    for (const i of others) e.start(i)
    await e.waitForLeader(30000, [0, 1, 2])
    await waitFor(() => k.acked.length > stuck[0] + 20 && n.acked.length > stuck[1] + 20, 30000, 'writes to continue once the quorum is back')
    report.push(`two servers killed: no write acknowledged until they came back; quorum back after ${Date.now() - t3} ms`)
  } finally {
    await k.stop()
    await n.stop()
  }
  // Every acknowledged write, read through each server on its own after sync.
  const acked = [...k.acked, ...n.acked]
  for (let i = 0; i < 3; i++) {
    const children: string[] = JSON.parse(await e.kazoo(e.connectString([i]), "c.sync('/load'); print(json.dumps(c.get_children('/load')))"))
    const have = new Set(children.map(x => `/load/${x}`))
    const missing = acked.filter(p => !have.has(p))
    assert.deepEqual(missing, [], `server ${i + 1} lost acknowledged writes`)
  }
  console.log(`${acked.length} acknowledged writes, none lost. ${report.join('; ')}`)
})
