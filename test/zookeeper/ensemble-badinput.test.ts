// Bad input on the election and quorum ports (garbage, impossible lengths, an unknown server
// id, a learner claiming a later epoch, packets out of turn) never crashes a server nor
// costs the ensemble its leader; a misconfigured ensemble stops start-up with one line.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createConnection} from 'node:net'
import {writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {Ensemble} from './ensemble-helpers.js'
import {waitFor, tempDir, removeDir} from './helpers.js'
import {runCommand} from '../helpers/util.js'
import {JuteWriter} from '../../src/core/zookeeper/jute.js'
import {Q, encodeNotification, encodeInitialMessage, writePacket} from '../../src/core/zookeeper/quorum/packets.js'

/** Sends bytes, waits until the server closes the connection or 1.5 s pass; true if it closed. */
function poke(port: number, chunks: Buffer[]): Promise<boolean> {
  return new Promise(resolve => {
    const s = createConnection({host: '127.0.0.1', port}, () => { for (const c of chunks) s.write(c) })
    const t = setTimeout(() => { s.destroy(); resolve(false) }, 1500)
    s.on('data', () => {})
    s.on('close', () => { clearTimeout(t); resolve(true) })
    s.on('error', () => {})
  })
}

const packet = (p: {type: number; zxid: number; data?: Buffer | null}) => {
  const w = new JuteWriter()
  writePacket(w, p)
  return w.toBuffer()
}
const frame = (b: Buffer) => Buffer.concat([Buffer.from([b.length >>> 24, b.length >>> 16 & 255, b.length >>> 8 & 255, b.length & 255]), b])
const learnerInfo = (sid: number) => new JuteWriter().long(sid).int(0x10000).long(0).toBuffer()

test('garbage, wrong epochs and an unknown server id on the election and quorum ports crash nothing', {timeout: 60000}, async () => {
  const e = await Ensemble.create(['kafkit', 'kafkit', 'kafkit'])
  try {
    e.startAll()
    const leader = await e.waitForLeader(30000)
    await e.kazoo(e.connectString(), "c.create('/before', b'x')")
    const lm = e.members[leader]
    const fm = e.members[(leader + 1) % 3]
    for (const m of [lm, fm]) {
      const ep = m.electionPort
      await poke(ep, [Buffer.from('GET / HTTP/1.1\r\n\r\n')])
      await poke(ep, [Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0x07])]) // an unknown protocol version
      await poke(ep, [new JuteWriter().long(-65536).long(99).int(1 << 30).toBuffer()]) // a huge address
      // An unknown server id, then notifications: short, absurd, and a frame of -1 bytes.
      await poke(ep, [encodeInitialMessage(99, '127.0.0.1:1'), frame(Buffer.alloc(5)),
        frame(encodeNotification({state: 2, leader: 99, zxid: 2 ** 52, electionEpoch: 2 ** 50, peerEpoch: 2 ** 40, config: 'garbage'})),
        Buffer.from([0xff, 0xff, 0xff, 0xff])])
      // A known id from a stranger (the real server's connection is replaced, then comes back).
      await poke(ep, [encodeInitialMessage(9, '127.0.0.1:1'), frame(Buffer.from('not a notification at all, far too long to be one...'))])
    }
    const qp = lm.quorumPort
    await poke(qp, [Buffer.from('garbage garbage garbage garbage')])
    await poke(qp, [packet({type: Q.ACK, zxid: 1})]) // not FOLLOWERINFO first
    await poke(qp, [packet({type: Q.FOLLOWERINFO, zxid: 0, data: Buffer.alloc(3)})]) // no LearnerInfo
    // An unknown sid claiming an epoch far ahead, then an ACKEPOCH ahead of the leader.
    await poke(qp, [packet({type: Q.FOLLOWERINFO, zxid: 2 ** 50, data: learnerInfo(99)}), packet({type: Q.ACKEPOCH, zxid: 2 ** 52, data: Buffer.from([0, 0x10, 0, 0])})])
    await poke(qp, [packet({type: Q.FOLLOWERINFO, zxid: 0, data: learnerInfo(98)}), packet({type: Q.REQUEST, zxid: 0, data: Buffer.alloc(3)})])
    await poke(qp, [new JuteWriter().int(Q.PROPOSAL).long(5).int(0x7fffffff).toBuffer()]) // an impossible length
    // Everyone is still there, with the same leader, and writes go on.
    for (let i = 0; i < 3; i++) assert.ok(e.running(i), `server ${i + 1} is running`)
    assert.equal(await e.waitForLeader(20000), leader)
    await waitFor(async () => (await e.modes()).filter(m => m === 'follower').length === 2, 20000, 'both followers back')
    assert.equal(await e.kazoo(e.connectString(), "c.create('/after', b'x'); c.sync('/'); print(sorted(c.get_children('/')))"), "['after', 'before', 'zookeeper']")
    assert.match(lm.output, /LearnerHandler/)
  } catch (err) {
    console.log(e.tail(3000))
    throw err
  } finally {
    await e.destroy()
  }
})

test('a misconfigured ensemble stops start-up with one line', async () => {
  const dir = tempDir('kafkit-zk-misconf-')
  try {
    const data = join(dir, 'data')
    mkdirSync(data, {recursive: true})
    const servers = ['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889', 'server.3=127.0.0.1:2890:3890']
    const write = (lines: string[]) => {
      const f = join(dir, 'zookeeper.properties')
      writeFileSync(f, [`dataDir=${data.replace(/\\/g, '/')}`, 'clientPort=0', 'initLimit=5', 'syncLimit=2', ...lines].join('\n') + '\n')
      return f
    }
    const start = async (lines: string[]) => {
      const r = await runCommand('zookeeper-server-start', [write(lines)], {timeoutMs: 20000})
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`)
      return r.stderr.trim()
    }
    const file = join(dir, 'zookeeper.properties')
    const myid = join(data, 'myid')
    assert.equal(await start(servers), `Error: myid file is missing: ${myid} must hold this server's id, one of 1, 2, 3 (the server.N lines in ${file})`)
    writeFileSync(myid, '4\n')
    assert.equal(await start(servers), `Error: My id 4 (in ${myid}) is not in the server list of ${file} (server.1, server.2, server.3)`)
    writeFileSync(myid, 'one\n')
    assert.equal(await start(servers), `Error: ${myid} holds "one", not a server id (a number from the server.N lines in ${file})`)
    writeFileSync(myid, '1\n')
    assert.equal(await start([...servers, 'server.2=127.0.0.1:2891:3891']), `Error: server.2 appears more than once in ${file}: each server id must be listed once`)
    assert.equal(await start(['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2888:3889']), `Error: 127.0.0.1:2888 of server.1 conflicts with server.2 in ${file}: every server needs its own quorum and election ports`)
    assert.equal(await start(['server.1=127.0.0.1:2888', 'server.2=127.0.0.1:2889:3889']), `Error: Invalid value 127.0.0.1:2888 for configuration server.1 in ${file}: must be host:quorumPort:electionPort[:participant|observer][;[clientAddress:]clientPort]`)
    assert.equal(await start([...servers.slice(0, 1), 'server.2=127.0.0.1:2889:3889:observer']), `Error: ${file} lists observers with a single participant: observers need a quorum of at least two participants (or standaloneEnabled=false)`)
    assert.equal(await start([...servers, 'electionAlg=1']), `Error: Invalid value 1 for configuration electionAlg in ${file}: must be 3 (FastLeaderElection, the only algorithm Apache ZooKeeper 3.8 has)`)
  } finally {
    removeDir(dir)
  }
})
