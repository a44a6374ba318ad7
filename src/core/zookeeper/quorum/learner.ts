// A follower or an observer (Apache ZooKeeper's Learner, Follower, Observer): connects to the
// leader's quorum port, registers (FOLLOWERINFO / OBSERVERINFO with its accepted epoch),
// acknowledges the new epoch (ACKEPOCH with its last zxid), syncs (DIFF, TRUNC or SNAP, then
// the proposals and commits the leader queues, NEWLEADER, UPTODATE) and then serves: client
// writes, syncs and session changes go to the leader (REQUEST, REVALIDATE); a follower logs
// each PROPOSAL and ACKs it once on disk, and applies it on COMMIT; an observer applies each
// INFORM. PING is answered with the sessions that were active since the last one.
import type {Socket} from 'node:net'
import {authenticateToServer} from './quorum-auth.js'
import {Logger} from '../../util/log.js'
import {JuteReader, JuteWriter, JuteError} from '../jute.js'
import {readTxnHeader, readTxnBody, type Txn, type TxnHeader} from '../records.js'
import type {CommitStage} from '../commit.js'
import type {ZkServer, Forwarder, QuorumInfo} from '../server.js'
import type {AuthId} from '../datatree.js'
import {SnapshotStreamReader} from '../snapshot.js'
import {Q, ZAB_VERSION, StreamBuffer, readPacket, writePacket, packetName, makeZxid, zxidEpoch, hex, type QuorumPacket} from './packets.js'
import type {QuorumPeer} from './peer.js'
import type {QuorumVerifier} from './verifier.js'
import {Op} from '../records.js'

class LearnerError extends Error {}

/** A txn from PROPOSAL / INFORM data (a trailing TxnDigest, as Apache 3.8 adds, is ignored). */
export function parseTxn(data: Buffer | null): {hdr: TxnHeader; txn: Txn} {
  if (data === null) throw new LearnerError('a proposal without data')
  const r = new JuteReader(data)
  const hdr = readTxnHeader(r)
  const txn = readTxnBody(r, hdr.type)
  return {hdr, txn}
}

/** A learner's commit stage: the leader commits; this server logs, ACKs, and applies. */
class LearnerCommit implements CommitStage {
  lastZxid: number
  committedZxid: number
  constructor(readonly learner: Learner, zxid: number) {
    this.lastZxid = this.committedZxid = zxid
  }

  submit(): number {
    throw new Error('a learner does not prepare transactions: its leader does')
  }

  applied(zxid: number): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid
    if (zxid > this.committedZxid) this.committedZxid = zxid
  }

  durable(zxid: number): void {
    this.learner.durable(zxid)
  }
}

export class Learner implements Forwarder, QuorumInfo {
  private socket: Socket | null = null
  private readonly stream = new StreamBuffer()
  private readonly w = new JuteWriter(1024)
  private stage: 'leaderinfo' | 'syncstart' | 'snapshot' | 'sync' | 'broadcast' = 'leaderinfo'
  private newLeaderZxid = 0
  private snapshotNeeded = true
  private snapReader: SnapshotStreamReader | null = null
  private snapZxid = 0
  /** Proposals logged and not yet committed, in order. */
  private readonly pendingTxns: Array<{hdr: TxnHeader; txn: Txn}> = []
  /** Sync phase: proposals not yet logged and commits not yet applied (as Apache's). */
  private packetsNotCommitted: Array<{hdr: TxnHeader; txn: Txn}> = []
  private packetsCommitted: number[] = []
  private writeToTxnLog = false
  /** Logged zxids waiting for their ACK (sent once on disk). */
  private readonly toAck: number[] = []
  private acksEnabled = false
  private newLeaderAckAt = -1
  private readonly touched = new Map<bigint, number>()
  private done: ((reason: string) => void) | null = null
  private stopped = false
  private syncStart = 0
  readonly commit: LearnerCommit
  private readonly log: Logger
  private readonly maxPacket: number
  /** The configuration NEWLEADER carried, activated on UPTODATE. */
  private newLeaderQv: QuorumVerifier | null = null
  private leaderId = -1

  constructor(readonly peer: QuorumPeer, readonly zk: ZkServer, readonly observer: boolean) {
    this.commit = new LearnerCommit(this, zk.zxid)
    this.log = new Logger(`org.apache.zookeeper.server.quorum.${observer ? 'Observer' : 'Follower'}`)
    this.maxPacket = zk.config.juteMaxBuffer + 1024
  }

  /** Follows (or observes) the elected leader until the connection is lost; resolves with the reason. */
  follow(leaderId: number): Promise<string> {
    this.leaderId = leaderId
    return new Promise<string>(resolve => {
      this.done = reason => {
        this.done = null
        resolve(reason)
      }
      const leader = this.peer.servers.find(s => s.id === leaderId)
      if (!leader) {
        this.stop(`Couldn't find the leader with id = ${leaderId}`)
        return
      }
      this.log.info(`${this.observer ? 'OBSERVING' : 'FOLLOWING'} - LEADER ELECTION TOOK - ${this.peer.electionTimeTaken} MS`)
      this.connect(leader.host, leader.quorumPort, Date.now() + this.zk.config.initLimit * this.zk.config.tickTime)
    })
  }

  private connect(host: string, port: number, deadline: number): void {
    if (this.stopped) return
    const s = this.peer.transport.connect(host, port, 'quorum')
    s.setNoDelay(true)
    let connected = false
    s.on('error', () => {})
    // TLS when sslQuorum, then quorum SASL (Apache's Learner.connectToLeader), then registration.
    s.once(this.peer.transport.readyEvent, () => void authenticateToServer(s, this.zk.config.quorumSecurity, `${host}:${port}`, this.zk.config.tickTime * this.zk.config.initLimit).then(rest => {
      if (this.stopped || s.destroyed) { s.destroy(); return }
      connected = true
      this.socket = s
      this.zk.commit = this.commit
      this.syncStart = Date.now()
      s.setTimeout(this.zk.config.tickTime * this.zk.config.initLimit, () => this.stop('Read timed out'))
      s.on('data', d => this.onData(d))
      s.resume()
      if (rest.length > 0) this.onData(rest)
      // Register: FOLLOWERINFO / OBSERVERINFO with LearnerInfo {sid, protocol version, config version}.
      const li = new JuteWriter(20).long(this.peer.me.id).int(ZAB_VERSION).long(this.peer.qv.version).toBuffer()
      this.send({type: this.observer ? Q.OBSERVERINFO : Q.FOLLOWERINFO, zxid: makeZxid(this.peer.acceptedEpoch, 0), data: li})
    }, () => s.destroy()))
    s.once('close', () => {
      if (connected) this.stop('the leader closed the connection')
      else if (Date.now() < deadline && !this.stopped) setTimeout(() => this.connect(host, port, deadline), 100).unref()
      else this.stop(`Unable to connect to the leader at ${host}:${port}`)
    })
  }

  stop(reason: string): void {
    if (this.stopped) return
    this.stopped = true
    this.log.warn(`Exception when following the leader: ${reason}`)
    this.socket?.destroy()
    this.zk.quorumInfo = null
    this.done?.(reason)
  }

  private send(p: {type: number; zxid: number; data?: Buffer | null; authinfo?: readonly AuthId[] | null}): void {
    if (this.stopped || this.socket === null) return
    const w = this.w.reset()
    writePacket(w, p)
    this.socket.write(w.toBuffer())
  }

  private onData(d: Buffer): void {
    this.stream.push(d)
    try {
      while (!this.stopped) {
        if (this.stage === 'snapshot') {
          if (!this.snapReader!.step(fn => this.stream.parse(fn))) return
          const sig = this.stream.parse(r => r.ustring())
          if (sig === undefined) return
          if (sig !== 'BenWasHere') throw new LearnerError(`Missing signature. Got ${sig}`)
          this.zk.loadSyncedSnapshot(this.snapReader!.sessions, this.snapZxid)
          this.commit.lastZxid = this.commit.committedZxid = this.snapZxid
          this.snapReader = null
          this.stage = 'sync'
          continue
        }
        const p = this.stream.parse(r => readPacket(r, this.maxPacket))
        if (p === undefined) return
        this.packet(p)
      }
    } catch (e) {
      const msg = e instanceof JuteError || e instanceof LearnerError ? e.message : (e as Error).stack ?? String(e)
      this.stop(msg)
    }
  }

  private packet(p: QuorumPacket): void {
    switch (this.stage) {
      case 'leaderinfo': return this.leaderInfo(p)
      case 'syncstart': return this.syncStartPacket(p)
      case 'sync': return this.syncPacket(p)
      case 'broadcast': return this.broadcast(p)
    }
  }

  /** LEADERINFO: the new epoch; answered with ACKEPOCH (this server's current epoch and last zxid). */
  private leaderInfo(p: QuorumPacket): void {
    if (p.type !== Q.LEADERINFO) throw new LearnerError(`First packet should have been LEADERINFO, got ${packetName(p.type)} (a leader older than ZooKeeper 3.4 is not supported)`)
    const newEpoch = zxidEpoch(p.zxid)
    const epochBytes = Buffer.alloc(4)
    if (newEpoch > this.peer.acceptedEpoch) {
      epochBytes.writeInt32BE(this.peer.currentEpoch)
      this.peer.setAcceptedEpoch(newEpoch)
    } else if (newEpoch === this.peer.acceptedEpoch) {
      epochBytes.writeInt32BE(-1)
    } else {
      throw new LearnerError(`Leaders epoch, ${newEpoch} is less than accepted epoch, ${this.peer.acceptedEpoch}`)
    }
    this.newLeaderZxid = makeZxid(newEpoch, 0)
    this.send({type: Q.ACKEPOCH, zxid: this.zk.zxid, data: epochBytes})
    this.stage = 'syncstart'
  }

  /** The first sync packet: DIFF, SNAP or TRUNC. */
  private syncStartPacket(p: QuorumPacket): void {
    switch (p.type) {
      case Q.DIFF:
        this.log.info(`Getting a diff from the leader 0x${hex(p.zxid)}`)
        this.snapshotNeeded = false
        this.writeToTxnLog = true
        this.stage = 'sync'
        return
      case Q.SNAP:
        this.log.info(`Getting a snapshot from leader 0x${hex(p.zxid)}`)
        this.snapshotNeeded = true
        this.writeToTxnLog = false
        this.snapZxid = p.zxid
        this.snapReader = new SnapshotStreamReader(this.zk.tree)
        this.stage = 'snapshot'
        return
      case Q.TRUNC:
        this.log.warn(`Truncating log to get in sync with the leader 0x${hex(p.zxid)}`)
        this.zk.truncateTo(p.zxid)
        this.zk.commit = this.commit
        this.commit.lastZxid = this.commit.committedZxid = this.zk.tree.lastZxid
        this.snapshotNeeded = false
        this.writeToTxnLog = true
        this.stage = 'sync'
        return
      default:
        throw new LearnerError(`Got unexpected packet from leader: ${packetName(p.type)}, exiting ...`)
    }
  }

  /** A reconfig txn's configuration (Follower: setLastSeenQuorumVerifier on its PROPOSAL). */
  private txnConfig(t: {hdr: TxnHeader; txn: Txn}): QuorumVerifier | null {
    if (t.hdr.type !== Op.reconfig || t.txn.type !== Op.reconfig || t.txn.data === null) return null
    return this.peer.configFromString(t.txn.data)
  }

  private proposalSeen(t: {hdr: TxnHeader; txn: Txn}): void {
    const qv = this.txnConfig(t)
    if (qv !== null) this.peer.setLastSeenQuorumVerifier(qv, true)
  }

  /** COMMITANDACTIVATE / INFORMANDACTIVATE: the designated leader in the first 8 bytes. */
  private activate(t: {hdr: TxnHeader; txn: Txn}, data: Buffer | null, zxid: number): boolean {
    if (data === null || data.length < 8) throw new LearnerError(`${packetName(Q.COMMITANDACTIVATE)} without a designated leader`)
    const qv = this.txnConfig(t)
    if (qv === null) throw new LearnerError(`Activating 0x${hex(zxid)}, which is not a reconfig`)
    return this.peer.processReconfig(qv, Number(data.readBigInt64BE(0)), zxid)
  }

  private syncPacket(p: QuorumPacket): void {
    switch (p.type) {
      case Q.PROPOSAL: {
        const t = parseTxn(p.data)
        this.proposalSeen(t)
        this.packetsNotCommitted.push(t)
        return
      }
      case Q.COMMITANDACTIVATE: {
        const head = this.packetsNotCommitted.find(t => t.hdr.zxid === p.zxid) ?? this.pendingTxns.find(t => t.hdr.zxid === p.zxid)
        if (!head) throw new LearnerError(`COMMITANDACTIVATE 0x${hex(p.zxid)} without its proposal`)
        const major = this.activate(head, p.data, p.zxid)
        this.syncPacket({...p, type: Q.COMMIT})
        if (major) throw new LearnerError('changes proposed in reconfig')
        return
      }
      case Q.INFORMANDACTIVATE: {
        if (p.data === null || p.data.length < 8) throw new LearnerError('INFORMANDACTIVATE without a designated leader')
        const t = parseTxn(p.data.subarray(8))
        const major = this.activate(t, p.data, p.zxid)
        this.syncPacket({...p, type: Q.INFORM, data: p.data.subarray(8)})
        if (major) throw new LearnerError('changes proposed in reconfig')
        return
      }
      case Q.COMMIT: {
        if (!this.writeToTxnLog) {
          const head = this.packetsNotCommitted[0]
          if (!head || head.hdr.zxid !== p.zxid) {
            this.log.warn(`Committing 0x${hex(p.zxid)}, but next proposal is 0x${head ? hex(head.hdr.zxid) : 'none'}`)
            return
          }
          this.packetsNotCommitted.shift()
          this.zk.applyCommitted(head.hdr, head.txn)
        } else this.packetsCommitted.push(p.zxid)
        return
      }
      case Q.INFORM: {
        const t = parseTxn(p.data)
        if (!this.writeToTxnLog) this.zk.applyCommitted(t.hdr, t.txn)
        else {
          this.packetsNotCommitted.push(t)
          this.packetsCommitted.push(p.zxid)
        }
        return
      }
      case Q.NEWLEADER: {
        this.log.info('Learner received NEWLEADER message')
        if (p.data !== null && p.data.length > 1) {
          try {
            const qv = this.peer.configFromString(p.data.toString('utf8'))
            this.peer.setLastSeenQuorumVerifier(qv, true)
            this.newLeaderQv = qv
          } catch (e) {
            this.log.warn(`NEWLEADER carried a configuration that does not parse: ${(e as Error).message}`)
          }
        }
        if (this.snapshotNeeded) this.zk.snapshotNow()
        this.peer.setCurrentEpoch(zxidEpoch(this.newLeaderZxid))
        this.writeToTxnLog = true
        this.socket?.setTimeout(this.zk.config.tickTime * this.zk.config.syncLimit)
        for (const t of this.packetsNotCommitted) this.logTxn(t)
        this.packetsNotCommitted = []
        // ACK NEWLEADER once what was logged is on disk.
        this.newLeaderAckAt = this.toAck.length > 0 ? this.toAck[this.toAck.length - 1] : -1
        if (this.newLeaderAckAt < 0) this.ackNewLeader()
        return
      }
      case Q.UPTODATE: {
        this.log.info('Learner received UPTODATE message')
        if (this.newLeaderQv !== null && this.peer.processReconfig(this.newLeaderQv, null, 0)) throw new LearnerError('changes proposed in reconfig')
        this.peer.initConfigInZKDatabase()
        this.send({type: Q.ACK, zxid: this.newLeaderZxid})
        for (const t of this.packetsNotCommitted) this.logTxn(t)
        this.packetsNotCommitted = []
        for (const z of this.packetsCommitted) this.commitZxid(z)
        this.packetsCommitted = []
        this.stage = 'broadcast'
        this.peer.updateElectionVote(zxidEpoch(this.newLeaderZxid))
        this.zk.quorumInfo = this
        this.zk.startServing(this.observer ? 'observer' : 'follower', this.commit, this)
        this.zk.metrics.summary(this.observer ? 'observer_sync_time' : 'follower_sync_time').add(Date.now() - this.syncStart)
        return
      }
      default:
        this.log.warn(`Unexpected ${packetName(p.type)} while syncing with the leader`)
    }
  }

  private ackNewLeader(): void {
    this.newLeaderAckAt = -1
    this.send({type: Q.ACK, zxid: this.newLeaderZxid})
    this.acksEnabled = true
    this.flushAcks(this.durableZxid)
  }

  private durableZxid = 0

  /** The log is on disk up to zxid: ACK what was logged (a follower ACKs each proposal). */
  durable(zxid: number): void {
    if (zxid > this.durableZxid) this.durableZxid = zxid
    if (this.newLeaderAckAt >= 0 && zxid >= this.newLeaderAckAt) this.ackNewLeader()
    this.flushAcks(zxid)
  }

  private flushAcks(zxid: number): void {
    if (!this.acksEnabled) return
    while (this.toAck.length > 0 && this.toAck[0] <= zxid) {
      const z = this.toAck.shift()!
      if (!this.observer) this.send({type: Q.ACK, zxid: z})
    }
  }

  private logTxn(t: {hdr: TxnHeader; txn: Txn}): void {
    this.zk.txnlog.append(t.hdr, t.txn)
    this.pendingTxns.push(t)
    this.toAck.push(t.hdr.zxid)
  }

  private commitZxid(zxid: number): void {
    const head = this.pendingTxns[0]
    if (!head || head.hdr.zxid !== zxid) throw new LearnerError(`Committing zxid 0x${hex(zxid)} but next pending txn 0x${head ? hex(head.hdr.zxid) : 'none'}`)
    this.pendingTxns.shift()
    this.zk.applyCommitted(head.hdr, head.txn)
  }

  private broadcast(p: QuorumPacket): void {
    switch (p.type) {
      case Q.PING: {
        const d = Buffer.alloc(this.touched.size * 12)
        let o = 0
        for (const [id, to] of this.touched) {
          d.writeBigInt64BE(id, o)
          d.writeInt32BE(to, o + 8)
          o += 12
        }
        this.touched.clear()
        this.send({type: Q.PING, zxid: p.zxid, data: d, authinfo: p.authinfo})
        return
      }
      case Q.PROPOSAL: {
        this.zk.metrics.learnerProposalReceived++
        const t = parseTxn(p.data)
        this.proposalSeen(t)
        this.logTxn(t)
        return
      }
      case Q.COMMITANDACTIVATE: {
        const head = this.pendingTxns[0]
        if (!head || head.hdr.zxid !== p.zxid) throw new LearnerError(`COMMITANDACTIVATE 0x${hex(p.zxid)} but next pending txn 0x${head ? hex(head.hdr.zxid) : 'none'}`)
        const major = this.activate(head, p.data, p.zxid)
        // Leaving the role after the reply: the requester learns the outcome (Apache's
        // follower races its shutdown against its commit processor: its client gets the
        // reply or, at times, a lost connection).
        this.commitZxid(p.zxid)
        if (major) this.stop('changes proposed in reconfig')
        return
      }
      case Q.INFORMANDACTIVATE: {
        if (p.data === null || p.data.length < 8) throw new LearnerError('INFORMANDACTIVATE without a designated leader')
        const t = parseTxn(p.data.subarray(8))
        const major = this.activate(t, p.data, p.zxid)
        this.zk.txnlog.append(t.hdr, t.txn)
        this.zk.applyCommitted(t.hdr, t.txn)
        if (major) this.stop('changes proposed in reconfig')
        return
      }
      case Q.COMMIT:
        this.zk.metrics.learnerCommitReceived++
        this.commitZxid(p.zxid)
        return
      case Q.INFORM: {
        const t = parseTxn(p.data)
        this.zk.txnlog.append(t.hdr, t.txn)
        this.zk.applyCommitted(t.hdr, t.txn)
        return
      }
      case Q.REVALIDATE: {
        const d = p.data
        if (d === null || d.length < 9) throw new LearnerError('REVALIDATE without a session')
        this.zk.metrics.revalidateCount++
        this.zk.revalidated(d.readBigInt64BE(0), d[8] !== 0)
        return
      }
      case Q.SYNC:
        this.zk.syncDone(0n, null)
        return
      case Q.UPTODATE:
        this.log.error('Received an UPTODATE message after Follower started')
        return
      default:
        this.log.warn(`Unknown packet type: ${packetName(p.type)}`)
    }
  }

  // ---------------------------------------------------------------- Forwarder (the server's requests)

  request(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: readonly AuthId[]): void {
    const d = Buffer.allocUnsafe(16 + body.length)
    d.writeBigInt64BE(BigInt.asIntN(64, sessionId), 0)
    d.writeInt32BE(cxid, 8)
    d.writeInt32BE(type, 12)
    body.copy(d, 16)
    this.send({type: Q.REQUEST, zxid: -1, data: d, authinfo: authIds})
  }

  revalidate(sessionId: bigint, timeout: number): void {
    this.log.info(`Revalidating client: 0x${BigInt.asUintN(64, sessionId).toString(16)}`)
    const d = Buffer.alloc(12)
    d.writeBigInt64BE(BigInt.asIntN(64, sessionId), 0)
    d.writeInt32BE(timeout, 8)
    this.send({type: Q.REVALIDATE, zxid: -1, data: d})
  }

  touch(sessionId: bigint, timeout: number): void {
    this.touched.set(sessionId, timeout)
  }

  // ---------------------------------------------------------------- QuorumInfo

  learners(): number { return 0 }
  syncedFollowers(): number { return 0 }
  syncedNonVotingFollowers(): number { return 0 }
  syncedObservers(): number { return 0 }
  pendingSyncCount(): number { return 0 }
  proposalSizeStats(): null { return null }
  peerState(): string { return `${this.observer ? 'observing' : 'following'} - broadcast` }
  quorumSize(): number { return this.peer.voters().length }
  observerInfos(): [] { return [] }
  leaderUptime(): number { return 0 }
  observerMasterId(): number { return this.leaderId }
}

