// The leader of an ensemble (Apache ZooKeeper's Leader and LearnerHandler, ZAB 1.0):
// learners connect to the quorum port and send FOLLOWERINFO / OBSERVERINFO with their
// accepted epoch; once a quorum has, the new epoch is one above the largest, announced with
// LEADERINFO and acknowledged with ACKEPOCH (carrying each learner's last zxid); each learner
// is then brought up to date from the leader's log (DIFF with the missing proposals and
// commits, TRUNC of a divergent tail, or SNAP, the whole tree) and NEWLEADER; a quorum's ACK
// of NEWLEADER commits the leader's history and the leader starts serving. From then on every
// write is a PROPOSAL to the followers, logged here too; it is committed (COMMIT to the
// followers, INFORM with the txn to the observers) once a quorum of voters has ACKed it.
// Requests forwarded by learners (REQUEST) go through this server's prepare stage; PING
// every half tick collects the sessions the learners saw active; a leader that has not
// heard from a quorum within syncLimit ticks steps down.
import {createServer, type Server, type Socket} from 'node:net'
import {Logger} from '../../util/log.js'
import {JuteWriter, JuteError} from '../jute.js'
import {writeTxnHeader, writeTxnBody, type Txn, type TxnHeader} from '../records.js'
import type {CommitStage} from '../commit.js'
import type {ZkServer, QuorumInfo, LearnerHandlerInfo} from '../server.js'
import type {ZkConfig} from '../../config/zk-config.js'
import {Q, ZAB_VERSION, StreamBuffer, readPacket, writePacket, packetName, makeZxid, zxidEpoch, hex, type QuorumPacket} from './packets.js'
import type {QuorumPeer} from './peer.js'
import {bindHost} from './election.js'
import {authenticateLearner} from './quorum-auth.js'
import {leaderReconfig, designatedLeader, type QuorumVerifier} from './leader-reconfig.js'

const log = new Logger('org.apache.zookeeper.server.quorum.Leader')
const hlog = new Logger('org.apache.zookeeper.server.quorum.LearnerHandler')

/** Apache's commitLogCount: committed proposals kept in memory for DIFF syncs. */
export const COMMIT_LOG_COUNT = 500

export interface LoggedTxn {
  hdr: TxnHeader
  txn: Txn
}

/** A txn as PROPOSAL / INFORM data: TxnHeader and record (Apache adds a digest; optional). */
export function serializeTxn(hdr: TxnHeader, txn: Txn): Buffer {
  const w = new JuteWriter(256)
  writeTxnHeader(w, hdr)
  writeTxnBody(w, txn)
  return w.toBuffer()
}

interface Proposal {
  zxid: number
  data: Buffer
  acks: Set<number>
  /** The configurations whose quorum must ACK it: the committed one, and a proposed one while pending. */
  qvs: QuorumVerifier[]
  /** A reconfig's new configuration. */
  newQv: QuorumVerifier | null
}

class LeaderError extends Error {}

/** One learner's connection (Apache's LearnerHandler). */
class LearnerHandler {
  sid = -1
  observer = false
  stage: 'info' | 'epoch' | 'ackepoch' | 'sync' | 'newleader' | 'running' = 'info'
  lastAcceptedEpoch = -1
  peerLastZxid = -1
  peerCurrentEpoch = -1
  tickOfNextAckDeadline: number
  /** UPTODATE sent: the learner serves, and is pinged. */
  upToDateSent = false
  private readonly stream = new StreamBuffer()
  closed = false
  readonly remote: string
  private readonly w = new JuteWriter(1024)
  /** What the AdminServer's observers command shows (Apache's LearnerHandler counters). */
  readonly established = Date.now()
  packetsReceived = 0
  packetsSent = 0
  requests = 0
  lastZxid = -1

  constructor(readonly leader: Leader, readonly socket: Socket, rest?: Buffer) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.tickOfNextAckDeadline = leader.tick + leader.config.initLimit + leader.config.syncLimit
    socket.setNoDelay(true)
    socket.on('data', d => this.onData(d))
    socket.on('error', () => {})
    socket.on('close', () => this.shutdown())
    if (rest !== undefined && rest.length > 0) queueMicrotask(() => this.onData(rest))
    socket.resume()
  }

  send(p: {type: number; zxid: number; data?: Buffer | null}): void {
    if (this.closed) return
    const w = this.w.reset()
    writePacket(w, p)
    this.socket.write(w.toBuffer())
    this.packetsSent++
    if (p.zxid > 0) this.lastZxid = p.zxid
  }

  info(): LearnerHandlerInfo {
    return {remote: `/${this.remote.replace(/^::ffff:/, '')}`, sid: this.sid, established: this.established, queuedPackets: 0, queuedPacketsSize: this.socket.writableLength,
      packetsReceived: this.packetsReceived, packetsSent: this.packetsSent, requests: this.requests, lastZxid: this.lastZxid}
  }

  /** Raw bytes on the stream (the snapshot after SNAP). */
  sendRaw(b: Buffer): void {
    if (!this.closed) this.socket.write(b)
  }

  private onData(d: Buffer): void {
    this.stream.push(d)
    if (this.stream.length > this.leader.maxPacket * 4) {
      hlog.error(`Unexpected exception in LearnerHandler: more than ${this.stream.length} bytes unread from ${this.remote}; closing`)
      this.shutdown()
      return
    }
    try {
      for (;;) {
        if (this.closed) return
        const p = this.stream.parse(r => readPacket(r, this.leader.maxPacket))
        if (p === undefined) return
        this.packetsReceived++
        this.leader.packetFrom(this, p)
      }
    } catch (e) {
      const msg = e instanceof JuteError || e instanceof LeaderError ? e.message : (e as Error).stack ?? String(e)
      hlog.error(`Unexpected exception in LearnerHandler ${this.sid >= 0 ? `(sid ${this.sid}) ` : ''}from ${this.remote}: ${msg}`)
      this.shutdown()
    }
  }

  synced(): boolean {
    return !this.closed && this.upToDateSent && this.leader.tick <= this.tickOfNextAckDeadline
  }

  shutdown(): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    hlog.warn(`******* GOODBYE ${this.remote} ********`)
    this.leader.handlerGone(this)
  }
}

export class Leader implements QuorumInfo {
  readonly config: ZkConfig
  tick = 0
  epoch = -1
  newLeaderZxid = 0
  private server: Server | null = null
  private readonly handlers = new Set<LearnerHandler>()
  private readonly connectingFollowers = new Set<number>()
  private readonly electingFollowers = new Set<number>()
  private readonly newLeaderAcks = new Set<number>()
  private waitingForNewEpoch = true
  private electionFinished = false
  private quorumFormed = false
  private started = false
  private readonly outstanding = new Map<number, Proposal>()
  private lastProposed = 0
  private lastCommitted = 0
  /** The last zxid of a committed txn (the history the leader syncs learners to). */
  private processedZxid = 0
  /** Proposals committed lately, in zxid order (DIFF syncs). */
  readonly committedLog: Array<{zxid: number; data: Buffer}> = []
  private readonly pendingSyncs = new Map<number, Array<{h: LearnerHandler}>>()
  private readonly waitingSnapshots: LearnerHandler[] = []
  /** Learners' requests that came while requests were held for a snapshot. */
  private readonly heldRequests: Array<() => void> = []
  private proposalSizes: {last: number; min: number; max: number} | null = null
  private done: ((reason: string) => void) | null = null
  private timers: NodeJS.Timeout[] = []
  readonly maxPacket: number
  private stopped = false
  readonly commit: LeaderCommit
  /** False once a committed reconfig made another server the leader (Apache's allowedToCommit). */
  allowedToCommit = true

  private readonly startedAt = Date.now()

  constructor(readonly peer: QuorumPeer, readonly zk: ZkServer) {
    this.config = zk.config
    this.maxPacket = zk.config.juteMaxBuffer + 1024
    this.commit = new LeaderCommit(this)
  }

  private get voters(): number[] {
    return this.peer.voters()
  }

  private isParticipant(sid: number): boolean {
    return this.peer.qv.isVoter(sid) || this.peer.lastSeenQv.isVoter(sid)
  }

  private containsQuorum(ids: Iterable<number>): boolean {
    return this.peer.containsQuorum(ids)
  }

  /** Leader.isQuorumSynced: this server and the synced followers hold a quorum of qv. */
  isQuorumSynced(qv: QuorumVerifier): boolean {
    const ids = new Set<number>()
    if (qv.isVoter(this.peer.myId)) ids.add(this.peer.myId)
    for (const h of this.handlers) if (!h.observer && h.synced() && qv.isVoter(h.sid)) ids.add(h.sid)
    return qv.containsQuorum(ids)
  }

  /** Outstanding proposals after zxid, in order (the designated leader's choice). */
  outstandingAfter(zxid: number): Array<{acks: Set<number>}> {
    const out: Array<{acks: Set<number>}> = []
    for (let z = zxid + 1; this.outstanding.has(z); z++) out.push(this.outstanding.get(z)!)
    return out
  }

  /** Leads until leadership is lost; resolves with the reason. */
  lead(): Promise<string> {
    return new Promise<string>(resolve => {
      this.done = reason => {
        this.done = null
        resolve(reason)
      }
      this.start().catch(e => this.stop(`${(e as Error).message}`))
    })
  }

  private async start(): Promise<void> {
    const me = this.peer.me
    const initMs = this.config.initLimit * this.config.tickTime
    await this.listen()
    if (this.stopped) return
    // The committed log: the newest txns of this server's log (its whole history commits now).
    for (const t of this.zk.recentTxns(COMMIT_LOG_COUNT)) this.addCommitted(t.hdr.zxid, serializeTxn(t.hdr, t.txn))
    this.processedZxid = this.zk.zxid
    log.info(`LEADING - LEADER ELECTION TOOK - ${this.peer.electionTimeTaken} MS`)
    // Discovery: the new epoch, once a quorum (this server included) has reported its accepted epoch.
    this.epochFrom(me.id, this.peer.acceptedEpoch)
    await this.waitUntil(() => !this.waitingForNewEpoch, initMs, 'Timeout while waiting for epoch from quorum')
    this.newLeaderZxid = makeZxid(this.epoch, 0)
    // ZOOKEEPER-1783: an initial configuration (version 0) takes the NEWLEADER zxid as its version.
    const qv = this.peer.qv
    if (qv.version === 0 && this.peer.lastSeenQv.version === 0) this.peer.setLastSeenQuorumVerifier(qv.withVersion(this.newLeaderZxid), true)
    for (const h of this.handlers) if (h.stage === 'epoch') this.sendLeaderInfo(h)
    this.epochAcked(me.id, this.peer.currentEpoch, this.zk.zxid)
    await this.waitUntil(() => this.electionFinished, initMs, 'Timeout while waiting for epoch to be acked by quorum')
    this.peer.setCurrentEpoch(this.epoch)
    // Synchronisation: each learner as soon as the epoch is settled (and later ones as they come).
    for (const h of this.handlers) if (h.stage === 'sync') this.syncLearner(h)
    this.newLeaderAcks.add(me.id)
    if (this.containsQuorum(this.newLeaderAcks)) this.quorumFormed = true
    await this.waitUntil(() => this.quorumFormed, initMs, `Waiting for a quorum of followers, only synced with sids: [ ${[...this.newLeaderAcks].join(',')} ]`)
    // Broadcast: serve, and tell every learner that has acked NEWLEADER it is up to date.
    this.lastCommitted = this.lastProposed = this.newLeaderZxid
    this.commit.begin(this.newLeaderZxid)
    leaderReconfig.newLeaderQuorum(this, this.newLeaderAcks)
    this.zk.startServing('leader', this.commit, null)
    this.zk.reconfigLeader = {
      committedConfig: () => this.peer.qv,
      lastSeenConfig: () => this.peer.lastSeenQv,
      isQuorumSynced: q => this.isQuorumSynced(q),
      nextZxid: () => this.commit.lastZxid + 1,
    }
    this.zk.quorumInfo = this
    this.peer.updateElectionVote(this.epoch)
    this.started = true
    for (const h of this.handlers) if (h.stage === 'running' && !h.upToDateSent) this.upToDate(h)
    log.info(`Leader is serving with epoch ${this.epoch} (0x${hex(this.newLeaderZxid)}), ${this.handlers.size} learners connected`)
    let tickSkip = true
    const half = Math.max(1, Math.floor(this.config.tickTime / 2))
    const t = setInterval(() => {
      if (this.stopped) return
      if (!tickSkip) this.tick++
      const synced = new Set<number>([me.id])
      for (const h of this.handlers) if (h.synced() && !h.observer) synced.add(h.sid)
      if (!tickSkip && !this.containsQuorum(synced)) {
        this.stop(`Not sufficient followers synced, only synced with sids: [ ${[...synced].join(',')} ]`)
        return
      }
      tickSkip = !tickSkip
      for (const h of this.handlers) {
        if (!h.upToDateSent) continue
        if (this.tick > h.tickOfNextAckDeadline + this.config.syncLimit) {
          hlog.warn(`Closing connection to peer ${h.sid} due to transaction timeout.`)
          h.shutdown()
          continue
        }
        h.send({type: Q.PING, zxid: this.lastProposed})
      }
    }, half)
    this.timers.push(t)
  }

  private waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + ms
      const check = () => {
        if (this.stopped) return reject(new Error('leader stopped'))
        if (cond()) return resolve()
        if (Date.now() > deadline) return reject(new Error(what))
        const t = setTimeout(check, 10)
        this.timers.push(t)
      }
      check()
    })
  }

  private listen(): Promise<void> {
    const me = this.peer.me
    const server = (this.server = createServer(raw => this.peer.transport.accept(raw, 'quorum', s => {
      if (this.stopped) { s.destroy(); return }
      // Quorum SASL before anything else (Apache's LearnerHandler constructor).
      const remote = `${s.remoteAddress}:${s.remotePort}`
      s.on('error', () => {})
      authenticateLearner(s, Buffer.alloc(0), this.config.quorumSecurity, remote, this.config.tickTime * this.config.initLimit).then(rest => {
        if (this.stopped || s.destroyed) { s.destroy(); return }
        this.handlers.add(new LearnerHandler(this, s, rest))
      }, () => {
        log.error(`Server failed to authenticate quorum learner, addr: ${remote}, closing connection`)
        s.destroy()
      })
    })))
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE'
        ? `Quorum port ${me.quorumPort} on ${me.host} is already in use (server.${me.id})`
        : `Cannot listen on quorum address ${me.host}:${me.quorumPort}: ${e.message}`)))
      const done = () => {
        server.removeAllListeners('error')
        server.on('error', e => log.error(`Quorum listener error: ${e.message}`))
        resolve()
      }
      if (this.config.quorumListenOnAllIPs) server.listen(me.quorumPort, done)
      else server.listen(me.quorumPort, bindHost(me.host), done)
    })
  }

  stop(reason: string): void {
    if (this.stopped) return
    this.stopped = true
    log.info(`Shutting down: ${reason}`)
    for (const t of this.timers) { clearInterval(t); clearTimeout(t) }
    for (const h of [...this.handlers]) h.shutdown()
    this.server?.close()
    this.zk.quorumInfo = null
    this.zk.reconfigLeader = null
    this.done?.(reason)
  }

  // ---------------------------------------------------------------- discovery

  private epochFrom(sid: number, lastAcceptedEpoch: number): void {
    if (!this.waitingForNewEpoch) return
    if (lastAcceptedEpoch >= this.epoch) this.epoch = lastAcceptedEpoch + 1
    if (this.isParticipant(sid)) this.connectingFollowers.add(sid)
    if (this.connectingFollowers.has(this.peer.me.id) && this.containsQuorum(this.connectingFollowers)) {
      this.waitingForNewEpoch = false
      this.peer.setAcceptedEpoch(this.epoch)
    }
  }

  private epochAcked(sid: number, currentEpoch: number, lastZxid: number): void {
    if (this.electionFinished) return
    if (currentEpoch !== -1) {
      const mine = {epoch: this.peer.currentEpoch, zxid: this.zk.zxid}
      if (sid !== this.peer.me.id && (currentEpoch > mine.epoch || (currentEpoch === mine.epoch && lastZxid > mine.zxid))) {
        throw new LeaderError(`Follower is ahead of the leader, leader summary: ${mine.epoch} (current epoch), ${mine.zxid} (last zxid)`)
      }
      if (lastZxid !== -1 && this.isParticipant(sid)) this.electingFollowers.add(sid)
    }
    if (this.electingFollowers.has(this.peer.me.id) && this.containsQuorum(this.electingFollowers)) this.electionFinished = true
  }

  private sendLeaderInfo(h: LearnerHandler): void {
    const ver = Buffer.alloc(4)
    ver.writeInt32BE(ZAB_VERSION)
    h.send({type: Q.LEADERINFO, zxid: this.newLeaderZxid, data: ver})
    h.stage = 'ackepoch'
  }

  /** Every packet a learner sends, by the stage it is in. */
  packetFrom(h: LearnerHandler, p: QuorumPacket): void {
    h.tickOfNextAckDeadline = this.tick + this.config.syncLimit
    switch (h.stage) {
      case 'info': {
        if (p.type !== Q.FOLLOWERINFO && p.type !== Q.OBSERVERINFO) throw new LeaderError(`First packet ${packetName(p.type)} is not FOLLOWERINFO or OBSERVERINFO!`)
        const d = p.data
        if (d === null || d.length < 12) throw new LeaderError('FOLLOWERINFO without a LearnerInfo (a learner older than ZooKeeper 3.4 is not supported)')
        h.sid = Number(d.readBigInt64BE(0))
        const version = d.readInt32BE(8)
        if (version < ZAB_VERSION) throw new LeaderError(`Learner ${h.sid} speaks protocol 0x${version.toString(16)}; only ZAB 1.0 (0x10000) is supported`)
        if (d.length >= 20 && Number(d.readBigInt64BE(12)) > this.peer.qv.version) throw new LeaderError(`Follower ${h.sid} is ahead of the leader (has a later activated configuration)`)
        h.observer = p.type === Q.OBSERVERINFO
        const known = this.peer.servers.find(s => s.id === h.sid)
        if (!known) hlog.info(`Follower sid: ${h.sid} not in the current config 0`)
        else hlog.info(`Follower sid: ${h.sid} : info : ${this.peer.serverString(known)}`)
        h.lastAcceptedEpoch = zxidEpoch(p.zxid)
        this.epochFrom(h.sid, h.lastAcceptedEpoch)
        if (this.newLeaderZxid !== 0) this.sendLeaderInfo(h)
        else h.stage = 'epoch'
        return
      }
      case 'epoch': {
        throw new LeaderError(`Unexpected ${packetName(p.type)} before LEADERINFO`)
      }
      case 'ackepoch': {
        if (p.type !== Q.ACKEPOCH) throw new LeaderError(`${packetName(p.type)} is not ACKEPOCH`)
        h.peerCurrentEpoch = p.data !== null && p.data.length >= 4 ? p.data.readInt32BE(0) : -1
        h.peerLastZxid = p.zxid
        this.epochAcked(h.sid, h.peerCurrentEpoch, h.peerLastZxid)
        h.stage = 'sync'
        if (this.electionFinished && this.peer.currentEpoch === this.epoch) this.syncLearner(h)
        return
      }
      case 'sync':
        throw new LeaderError(`Unexpected ${packetName(p.type)} before the sync`)
      case 'newleader': {
        if (p.type !== Q.ACK) throw new LeaderError(`Next packet was supposed to be an ACK, but received packet: ${packetName(p.type)}`)
        if (p.zxid !== this.newLeaderZxid) {
          hlog.error(`NEWLEADER ACK from sid: ${h.sid} is from a different epoch - current 0x${hex(this.newLeaderZxid)} received 0x${hex(p.zxid)}`)
        } else if (!h.observer) {
          this.newLeaderAcks.add(h.sid)
          if (this.containsQuorum(this.newLeaderAcks)) this.quorumFormed = true
        }
        h.stage = 'running'
        if (this.started) this.upToDate(h)
        return
      }
      case 'running':
        return this.running(h, p)
    }
  }

  private upToDate(h: LearnerHandler): void {
    h.upToDateSent = true
    h.send({type: Q.UPTODATE, zxid: -1})
  }

  private running(h: LearnerHandler, p: QuorumPacket): void {
    switch (p.type) {
      case Q.ACK:
        if (!h.observer) this.processAck(h.sid, p.zxid)
        return
      case Q.PING: {
        const d = p.data
        if (d !== null) for (let o = 0; o + 12 <= d.length; o += 12) this.zk.touchSession(d.readBigInt64BE(o))
        return
      }
      case Q.REVALIDATE: {
        const d = p.data
        if (d === null || d.length < 12) throw new LeaderError('REVALIDATE without a session')
        const id = d.readBigInt64BE(0)
        const valid = this.started && this.zk.touchSession(id, h)
        const out = Buffer.alloc(9)
        out.writeBigInt64BE(id)
        out[8] = valid ? 1 : 0
        h.send({type: Q.REVALIDATE, zxid: p.zxid, data: out})
        return
      }
      case Q.REQUEST: {
        h.requests++
        const d = p.data
        if (d === null || d.length < 16) throw new LeaderError('REQUEST shorter than its header')
        const sessionId = d.readBigInt64BE(0)
        const cxid = d.readInt32BE(8)
        const type = d.readInt32BE(12)
        if (!this.started) return
        const run = () => type === 9 ? this.processSync(h) : this.zk.learnerRequest(sessionId, cxid, type, d.subarray(16), p.authinfo, h)
        // While a snapshot waits for the outstanding proposals, no new ones are made.
        if (this.zk.held) this.heldRequests.push(run)
        else run()
        return
      }
      default:
        hlog.warn(`unexpected quorum packet, type: ${packetName(p.type)}`)
    }
  }

  handlerGone(h: LearnerHandler): void {
    this.handlers.delete(h)
  }

  // ---------------------------------------------------------------- synchronisation

  private addCommitted(zxid: number, data: Buffer): void {
    this.committedLog.push({zxid, data})
    if (this.committedLog.length > COMMIT_LOG_COUNT) this.committedLog.shift()
  }

  /**
   * Brings a learner up to date (Apache's syncFollower): DIFF from the committed log, TRUNC
   * of a tail the leader never had, or SNAP; then NEWLEADER. A snapshot is only taken of
   * committed state: while proposals are outstanding, requests are held until they commit.
   */
  private syncLearner(h: LearnerHandler): void {
    if (h.closed || h.stage !== 'sync') return
    const peerLastZxid = h.peerLastZxid
    const log = this.committedLog
    const lastProcessed = this.processedZxid
    let minCommitted = log.length > 0 ? log[0].zxid : lastProcessed
    let maxCommitted = log.length > 0 ? log[log.length - 1].zxid : lastProcessed
    if (log.length === 0) minCommitted = maxCommitted = lastProcessed
    const out: Array<{type: number; zxid: number; data?: Buffer | null}> = []
    const newEpochZxid = (peerLastZxid % 4294967296) === 0
    let needSnap = true
    hlog.info(`Synchronizing with Learner sid: ${h.sid} maxCommittedLog=0x${hex(maxCommitted)} minCommittedLog=0x${hex(minCommitted)} lastProcessedZxid=0x${hex(lastProcessed)} peerLastZxid=0x${hex(peerLastZxid)}`)
    if (lastProcessed === peerLastZxid) {
      hlog.info(`Sending DIFF zxid=0x${hex(peerLastZxid)} for peer sid: ${h.sid}`)
      out.push({type: Q.DIFF, zxid: peerLastZxid})
      needSnap = false
    } else if (peerLastZxid > maxCommitted && !newEpochZxid) {
      hlog.info(`Sending TRUNC to follower zxidToSend=0x${hex(maxCommitted)} for peer sid:${h.sid}`)
      out.push({type: Q.TRUNC, zxid: maxCommitted})
      needSnap = false
    } else if (maxCommitted >= peerLastZxid && minCommitted <= peerLastZxid) {
      hlog.info(`Using committedLog for peer sid: ${h.sid}`)
      needSnap = !this.queueCommitted(h, out, peerLastZxid, maxCommitted)
    }
    if (needSnap && this.outstanding.size > 0) {
      // Wait for the outstanding proposals to commit (requests are held meanwhile).
      this.zk.hold()
      if (!this.waitingSnapshots.includes(h)) this.waitingSnapshots.push(h)
      return
    }
    if (needSnap) {
      const zxid = this.zk.zxid
      hlog.info(`Sending snapshot last zxid of peer is 0x${hex(peerLastZxid)}, zxid of leader is 0x${hex(this.lastProposed)}, send zxid of db as 0x${hex(zxid)}, 1 concurrent snapshot sync, snapshot sync was exempt from throttle`)
      h.send({type: Q.SNAP, zxid})
      h.sendRaw(this.zk.syncSnapshot())
      const sig = new JuteWriter(16).ustring('BenWasHere')
      h.sendRaw(sig.toBuffer())
      this.zk.metrics.snapCount++
    } else {
      for (const p of out) h.send(p)
      this.zk.metrics.diffCount++
    }
    // Forwarding: outstanding proposals (participants only), then NEWLEADER.
    if (!h.observer) {
      const pending = [...this.outstanding.keys()].sort((a, b) => a - b)
      for (const z of pending) h.send({type: Q.PROPOSAL, zxid: z, data: this.outstanding.get(z)!.data})
    }
    h.send({type: Q.NEWLEADER, zxid: this.newLeaderZxid, data: Buffer.from(this.peer.lastSeenQv.toString(), 'utf8')})
    h.stage = 'newleader'
  }

  /** Apache's queueCommittedProposals: true when the learner can be synced from the committed log. */
  private queueCommitted(h: LearnerHandler, out: Array<{type: number; zxid: number; data?: Buffer | null}>, peerLastZxid: number, lastCommitted: number): boolean {
    const newEpochZxid = (peerLastZxid % 4294967296) === 0
    let needOp = true
    let queued = peerLastZxid
    let prev = -1
    for (const p of this.committedLog) {
      if (p.zxid < peerLastZxid) { prev = p.zxid; continue }
      if (needOp) {
        if (p.zxid === peerLastZxid) {
          hlog.info(`Sending DIFF zxid=0x${hex(lastCommitted)}  for peer sid: ${h.sid}`)
          out.push({type: Q.DIFF, zxid: lastCommitted})
          needOp = false
          continue
        }
        if (newEpochZxid) {
          out.push({type: Q.DIFF, zxid: lastCommitted})
          needOp = false
        } else if (p.zxid > peerLastZxid) {
          if (zxidEpoch(p.zxid) !== zxidEpoch(peerLastZxid)) {
            hlog.warn(`Cannot send TRUNC to peer sid: ${h.sid} peer zxid is from different epoch`)
            return false
          }
          hlog.info(`Sending TRUNC zxid=0x${hex(prev)}  for peer sid: ${h.sid}`)
          out.push({type: Q.TRUNC, zxid: prev})
          needOp = false
        }
      }
      if (p.zxid <= queued) continue
      out.push({type: Q.PROPOSAL, zxid: p.zxid, data: p.data})
      out.push({type: Q.COMMIT, zxid: p.zxid})
      queued = p.zxid
    }
    if (needOp && newEpochZxid) {
      out.push({type: Q.DIFF, zxid: lastCommitted})
      needOp = false
    }
    return !needOp
  }

  // ---------------------------------------------------------------- broadcast

  /** A new proposal: to every synced (or syncing) follower. */
  propose(zxid: number, data: Buffer, newQv: QuorumVerifier | null = null): void {
    if (newQv !== null) this.peer.setLastSeenQuorumVerifier(newQv, true)
    const qvs = [this.peer.qv]
    if (this.peer.lastSeenQv.version > this.peer.qv.version) qvs.push(this.peer.lastSeenQv)
    this.outstanding.set(zxid, {zxid, data, acks: new Set(), qvs, newQv})
    this.lastProposed = zxid
    const s = this.proposalSizes
    const n = data.length
    this.proposalSizes = s === null ? {last: n, min: n, max: n} : {last: n, min: Math.min(s.min, n), max: Math.max(s.max, n)}
    this.zk.metrics.proposalCount++
    for (const h of this.handlers) {
      if (h.observer || (h.stage !== 'running' && h.stage !== 'newleader')) continue
      h.send({type: Q.PROPOSAL, zxid, data})
    }
  }

  processAck(sid: number, zxid: number): void {
    if (!this.allowedToCommit) return
    if ((zxid % 4294967296) === 0) return
    if (this.outstanding.size === 0 || this.lastCommitted >= zxid) return
    const p = this.outstanding.get(zxid)
    if (!p) {
      log.warn(`Trying to commit future proposal: zxid 0x${hex(zxid)} from ${sid}`)
      return
    }
    p.acks.add(sid)
    // Commit in order: each proposal once it and every one before it has a quorum.
    for (;;) {
      const next = this.outstanding.get(this.lastCommitted + 1)
      if (!next || !this.allowedToCommit || !next.qvs.every(q => q.containsQuorum(next.acks))) break
      this.commitProposal(next)
    }
  }

  private commitProposal(p: Proposal): void {
    this.outstanding.delete(p.zxid)
    this.lastCommitted = p.zxid
    this.processedZxid = p.zxid
    this.addCommitted(p.zxid, p.data)
    this.zk.metrics.commitCount++
    if (p.newQv !== null) {
      // Leader.tryToCommit of a reconfig: activate it here, then COMMITANDACTIVATE / INFORMANDACTIVATE.
      const designated = designatedLeader(this, p.newQv, p.acks, p.zxid)
      this.peer.processReconfig(p.newQv, designated, this.zk.zxid)
      if (designated !== this.peer.myId) {
        log.info(`Committing a reconfiguration (reconfigEnabled=${this.peer.reconfigEnabled}); this leader is not the designated leader anymore, setting allowedToCommit=false`)
        this.allowedToCommit = false
      }
      const sid = Buffer.alloc(8)
      sid.writeBigInt64BE(BigInt(designated))
      for (const h of this.handlers) {
        if (h.stage !== 'running' && h.stage !== 'newleader') continue
        if (h.observer) h.send({type: Q.INFORMANDACTIVATE, zxid: p.zxid, data: Buffer.concat([sid, p.data])})
        else h.send({type: Q.COMMITANDACTIVATE, zxid: p.zxid, data: sid})
      }
    } else {
      for (const h of this.handlers) {
        if (h.stage !== 'running' && h.stage !== 'newleader') continue
        if (h.observer) h.send({type: Q.INFORM, zxid: p.zxid, data: p.data})
        else h.send({type: Q.COMMIT, zxid: p.zxid})
      }
    }
    this.commit.committed(p.zxid)
    const syncs = this.pendingSyncs.get(p.zxid)
    if (syncs) {
      this.pendingSyncs.delete(p.zxid)
      for (const s of syncs) s.h.send({type: Q.SYNC, zxid: 0})
    }
    if (this.outstanding.size === 0 && this.waitingSnapshots.length > 0) {
      const waiting = this.waitingSnapshots.splice(0)
      for (const h of waiting) this.syncLearner(h)
      this.zk.release()
      for (const run of this.heldRequests.splice(0)) run()
    }
  }

  private processSync(h: LearnerHandler): void {
    if (this.outstanding.size === 0) {
      h.send({type: Q.SYNC, zxid: 0})
      return
    }
    let list = this.pendingSyncs.get(this.lastProposed)
    if (!list) this.pendingSyncs.set(this.lastProposed, (list = []))
    list.push({h})
  }

  // ---------------------------------------------------------------- QuorumInfo (srvr, mntr)

  learners(): number {
    let n = 0
    for (const h of this.handlers) if (h.sid >= 0) n++
    return n
  }

  syncedFollowers(): number {
    let n = 0
    for (const h of this.handlers) if (!h.observer && h.synced() && this.isParticipant(h.sid)) n++
    return n
  }

  syncedNonVotingFollowers(): number {
    let n = 0
    for (const h of this.handlers) if (!h.observer && h.synced() && !this.isParticipant(h.sid)) n++
    return n
  }

  syncedObservers(): number {
    let n = 0
    for (const h of this.handlers) if (h.observer && h.synced()) n++
    return n
  }

  pendingSyncCount(): number {
    let n = 0
    for (const l of this.pendingSyncs.values()) n += l.length
    return n
  }

  proposalSizeStats(): {last: number; min: number; max: number} | null {
    return this.proposalSizes
  }

  peerState(): string {
    return 'leading - broadcast'
  }

  leaderUptime(): number {
    return Date.now() - this.startedAt
  }

  observerMasterId(): number {
    return -1
  }

  observerInfos(): LearnerHandlerInfo[] {
    const out: LearnerHandlerInfo[] = []
    for (const h of this.handlers) if (h.observer && h.upToDateSent && !h.closed) out.push(h.info())
    return out
  }

  quorumSize(): number {
    return this.voters.length
  }
}

/** The leader's commit stage: log here and propose; committed on a quorum's ACKs. */
export class LeaderCommit implements CommitStage {
  lastZxid = 0
  committedZxid = 0
  private readonly w = new JuteWriter(256)

  constructor(readonly leader: Leader) {}

  /** Called once the epoch is known: zxids go on from (epoch << 32). */
  begin(zxid: number): void {
    this.lastZxid = this.committedZxid = zxid
  }

  submit(hdr: TxnHeader, txn: Txn): number {
    hdr.zxid = ++this.lastZxid
    const zk = this.leader.zk
    zk.txnlog.append(hdr, txn)
    const w = this.w.reset()
    writeTxnHeader(w, hdr)
    writeTxnBody(w, txn)
    this.leader.propose(hdr.zxid, w.toBuffer(), leaderReconfig.proposedConfig(txn))
    return hdr.zxid
  }

  /** This server's own log is durable up to zxid: its ACK for everything up to there. */
  durable(zxid: number): void {
    for (let z = this.committedZxid + 1; z <= zxid; z++) this.leader.processAck(this.leader.peer.me.id, z)
  }

  committed(zxid: number): void {
    this.committedZxid = zxid
    this.leader.zk.committed(zxid)
  }
}

