// Leader election on the election port, as Apache ZooKeeper 3.8 runs it: the connection
// manager (QuorumCnxManager: one TCP connection per pair of servers, kept by the side with
// the larger id; a queue of one message per peer; the last message re-sent on reconnect) and
// FastLeaderElection (rounds by logical clock; votes ordered by peer epoch, then zxid, then
// server id; a leader once a quorum agrees and nothing better arrives within 200 ms, or once
// a quorum reports following the same leader).
import {createServer, type Server, type Socket} from 'node:net'
import {Logger} from '../../util/log.js'
import {JuteReader} from '../jute.js'
import {
  PeerState, STATE_NAMES, decodeNotification, encodeNotification, encodeInitialMessage, hex,
  PROTOCOL_VERSION_V1, PROTOCOL_VERSION_V2, MAX_INITIAL_ADDRESS, MAX_ELECTION_MESSAGE, OBSERVER_ID,
  type Notification,
} from './packets.js'
import type {QuorumServerConfig} from '../../config/zk-config.js'
import {defaultQuorumSecurity} from '../../config/zk-quorum-security.js'
import {QuorumTransport} from './quorum-tls.js'
import {authenticateLearner, authenticateToServer} from './quorum-auth.js'

const log = new Logger('org.apache.zookeeper.server.quorum.QuorumCnxManager')
const flog = new Logger('org.apache.zookeeper.server.quorum.FastLeaderElection')

export const FINALIZE_WAIT = 200

/** The address to bind for a server line's host: localhost as 127.0.0.1, as Java resolves it. */
export function bindHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host
}
const MAX_NOTIFICATION_INTERVAL = 60000

export interface Message {
  sid: number
  body: Buffer
}

/** One connection per peer on the election port; messages are int32-length framed. */
export class QuorumCnxManager {
  private server: Server | null = null
  private readonly conns = new Map<number, Socket>()
  private readonly connecting = new Set<number>()
  /** A queue of one message per peer (Apache's SEND_CAPACITY = 1). */
  private readonly pending = new Map<number, Buffer>()
  private readonly lastSent = new Map<number, Buffer>()
  private observerCounter = -1
  private stopped = false
  onMessage: (m: Message) => void = () => {}

  constructor(readonly myId: number, public servers: QuorumServerConfig[], readonly listenAll: boolean, readonly cnxTimeout: number,
    readonly transport = new QuorumTransport(defaultQuorumSecurity(), '')) {}

  private me(): QuorumServerConfig {
    return this.servers.find(s => s.id === this.myId)!
  }

  get electionAddress(): string {
    const m = this.me()
    return `${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.electionPort}`
  }

  listen(): Promise<void> {
    const m = this.me()
    const server = (this.server = createServer(raw => this.transport.accept(raw, 'election', socket => this.accept(socket))))
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE'
        ? `Election port ${m.electionPort} on ${m.host} is already in use (server.${m.id})`
        : `Cannot listen on election address ${m.host}:${m.electionPort} (server.${m.id}): ${e.message}`)))
      const done = () => {
        server.removeAllListeners('error')
        server.on('error', e => log.error(`Election listener error: ${e.message}`))
        log.info(`${this.myId} is accepting connections now, my election bind port: ${this.listenAll ? '0.0.0.0' : m.host}/${m.electionPort}`)
        resolve()
      }
      if (this.listenAll) server.listen(m.electionPort, done)
      else server.listen(m.electionPort, bindHost(m.host), done)
    })
  }

  /** A connection from a peer: its header first (protocol version, sid, address). */
  private accept(socket: Socket): void {
    if (this.stopped) { socket.destroy(); return }
    socket.setNoDelay(true)
    socket.on('error', () => {})
    let buf: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(), this.cnxTimeout)
    timer.unref()
    const onData = (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      if (buf.length < 8) return
      const r = new JuteReader(buf)
      const first = r.long()
      let sid: number
      if (first >= 0) sid = first
      else {
        if (first !== PROTOCOL_VERSION_V1 && first !== PROTOCOL_VERSION_V2) {
          log.error(`Initial message parsing error! Got unrecognized protocol version ${first} from ${socket.remoteAddress}`)
          clearTimeout(timer)
          socket.destroy()
          return
        }
        if (buf.length < 20) return
        sid = r.long()
        const n = r.int()
        if (n <= 0 || n > MAX_INITIAL_ADDRESS) {
          log.error(`Initial message parsing error! Unreasonable buffer length: ${n} from ${socket.remoteAddress}`)
          clearTimeout(timer)
          socket.destroy()
          return
        }
        if (buf.length < 20 + n) return
        r.pos += n
      }
      clearTimeout(timer)
      socket.pause()
      socket.off('data', onData)
      if (sid === OBSERVER_ID) sid = this.observerCounter--
      // Quorum SASL (quorum.auth.enableSasl) right after the initial message, as Apache's handleConnection.
      const from = sid
      authenticateLearner(socket, buf.subarray(r.pos), this.transport.q, `${socket.remoteAddress}:${socket.remotePort} (server ${from})`, this.cnxTimeout).then(
        rest => { if (!this.stopped && !socket.destroyed) this.accepted(socket, from, rest); else socket.destroy() },
        () => socket.destroy())
    }
    socket.on('data', onData)
    // A portUnification listener hands over a plaintext socket paused (its first bytes put
    // back): a 'data' listener alone does not restart an explicitly paused stream.
    socket.resume()
  }

  private accepted(socket: Socket, sid: number, rest: Buffer): void {
    if (sid < this.myId && sid >= 0) {
      // We win the challenge: close it and connect back (Apache keeps only the connection
      // initiated by the larger id).
      socket.destroy()
      const known = this.servers.find(s => s.id === sid)
      if (known) this.connectOne(sid)
      else log.warn(`Connection from server ${sid}, which is not in the configuration: closed`)
      return
    }
    if (sid === this.myId) {
      log.warn('We got a connection request from a server with our own ID. This should be either a configuration error, or a bug.')
      socket.destroy()
      return
    }
    this.attach(sid, socket, rest)
  }

  private attach(sid: number, socket: Socket, rest: Buffer): void {
    const old = this.conns.get(sid)
    if (old && old !== socket) old.destroy()
    this.conns.set(sid, socket)
    let buf: Buffer = rest
    const parse = () => {
      while (buf.length >= 4) {
        const n = buf.readInt32BE(0)
        if (n <= 0 || n > MAX_ELECTION_MESSAGE) {
          log.error(`Received packet with invalid packet length ${n} from server ${sid}: connection closed`)
          socket.destroy()
          return
        }
        if (buf.length < 4 + n) return
        const body = Buffer.from(buf.subarray(4, 4 + n))
        buf = buf.subarray(4 + n)
        if (!this.stopped) this.onMessage({sid, body})
      }
    }
    socket.on('data', d => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      parse()
    })
    socket.resume()
    socket.on('close', () => {
      if (this.conns.get(sid) === socket) this.conns.delete(sid)
    })
    // Send what is queued, or else the last message, so the peer surely has it.
    const q = this.pending.get(sid) ?? this.lastSent.get(sid)
    if (q) this.write(sid, socket, q)
    parse()
  }

  private write(sid: number, socket: Socket, body: Buffer): void {
    this.pending.delete(sid)
    this.lastSent.set(sid, body)
    const frame = Buffer.allocUnsafe(4 + body.length)
    frame.writeInt32BE(body.length, 0)
    body.copy(frame, 4)
    socket.write(frame)
  }

  /** Queues a message for a peer (replacing one not yet sent) and connects if needed. */
  toSend(sid: number, body: Buffer): void {
    if (this.stopped) return
    if (sid === this.myId) {
      queueMicrotask(() => this.onMessage({sid, body}))
      return
    }
    const c = this.conns.get(sid)
    if (c && !c.destroyed) {
      this.write(sid, c, body)
      return
    }
    this.pending.set(sid, body)
    this.connectOne(sid)
  }

  connectOne(sid: number): void {
    if (this.stopped || this.conns.has(sid) || this.connecting.has(sid)) return
    const s = this.servers.find(x => x.id === sid)
    if (!s) return
    this.connecting.add(sid)
    const socket = this.transport.connect(s.host, s.electionPort, 'election')
    socket.setNoDelay(true)
    const timer = setTimeout(() => socket.destroy(), this.cnxTimeout)
    timer.unref()
    socket.on('error', () => {})
    socket.once('close', () => {
      clearTimeout(timer)
      this.connecting.delete(sid)
    })
    socket.once(this.transport.readyEvent, () => {
      if (this.stopped) { socket.destroy(); return }
      socket.write(encodeInitialMessage(this.myId, this.electionAddress))
      // Quorum SASL after the initial message, to voters (as Apache's startConnection).
      const voter = s.type === 'participant'
      void (voter ? authenticateToServer(socket, this.transport.q, `${s.host}:${s.electionPort} (server ${sid})`, this.cnxTimeout) : Promise.resolve(Buffer.alloc(0))).then(
        rest => this.connected(sid, socket, timer, rest),
        () => socket.destroy())
    })
  }

  private connected(sid: number, socket: Socket, timer: NodeJS.Timeout, rest: Buffer): void {
    clearTimeout(timer)
    this.connecting.delete(sid)
    if (this.stopped || socket.destroyed) { socket.destroy(); return }
    if (sid > this.myId) {
      // The larger id keeps the connection: it will connect back to us.
      log.info(`Have smaller server identifier, so dropping the connection: (myId:${this.myId} --> sid:${sid})`)
      socket.end()
      return
    }
    this.attach(sid, socket, rest)
  }

  connectAll(): void {
    for (const s of this.servers) if (s.id !== this.myId) this.connectOne(s.id)
  }

  /** Apache's haveDelivered: some peer's queue is empty. */
  haveDelivered(): boolean {
    for (const s of this.servers) if (s.id !== this.myId && !this.pending.has(s.id)) return true
    return false
  }

  connectedTo(sid: number): boolean {
    return this.conns.has(sid)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const c of this.conns.values()) c.destroy()
    this.conns.clear()
    if (this.server) await new Promise<void>(r => this.server!.close(() => r()))
  }
}

// ---------------------------------------------------------------- FastLeaderElection

export interface Vote {
  id: number
  zxid: number
  electionEpoch: number
  peerEpoch: number
  state: number
  version?: number
}

/** What the election needs to know about its server. */
export interface ElectionPeer {
  readonly myId: number
  readonly participant: boolean
  state: number
  currentVote: Vote
  /** The last logged zxid and the current epoch, read when a round starts. */
  lastLoggedZxid(): number
  readonly currentEpoch: number
  voters(): number[]
  /** QuorumPeer.getCurrentAndNextConfigVoters: the voters of the committed and of the pending configuration. */
  electionVoters(): number[]
  /** A quorum of the committed configuration (and of a pending one). */
  containsQuorum(ids: Iterable<number>): boolean
  /** The configuration text sent with every notification (server.N lines, version=...). */
  configText(): string
  /**
   * A notification carried this configuration: a newer one is activated while looking; true
   * when that changed the configuration (the election starts again on it).
   */
  configReceived(text: string): boolean
}

/** Thrown by lookForLeader when a newer configuration arrived: the election starts again on it. */
export class ElectionRestart extends Error {
  constructor() {
    super('restarting leader election')
  }
}

interface Received extends Notification {
  sid: number
}

const MIN_LONG = -Number.MAX_SAFE_INTEGER

function voteEquals(a: Vote, b: Vote): boolean {
  if (a.state === PeerState.LOOKING || b.state === PeerState.LOOKING) {
    return a.id === b.id && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch
  }
  if (((a.version ?? 0) > 0) !== ((b.version ?? 0) > 0)) return a.id === b.id
  return a.id === b.id && a.peerEpoch === b.peerEpoch
}

export class FastLeaderElection {
  logicalclock = 0
  private proposedLeader = -1
  private proposedZxid = -1
  private proposedEpoch = -1
  private queue: Received[] = []
  private wake: (() => void) | null = null
  private stopped = false
  /** A newer configuration was activated while looking (Apache's shuttingDownLE). */
  private restart = false

  constructor(readonly peer: ElectionPeer, readonly cnx: QuorumCnxManager) {
    cnx.onMessage = m => this.receive(m.sid, m.body)
  }

  stop(): void {
    this.stopped = true
    this.wake?.()
  }

  private quorum(ids: Iterable<number>): boolean {
    return this.peer.containsQuorum(ids)
  }

  private validVoter(sid: number): boolean {
    return this.peer.electionVoters().includes(sid)
  }

  private send(sid: number, v: {leader: number; zxid: number; electionEpoch: number; peerEpoch: number; state: number}): void {
    this.cnx.toSend(sid, encodeNotification({...v, config: this.peer.configText()}))
  }

  /** Apache's WorkerReceiver: every message, whatever this server's state. */
  private receive(sid: number, body: Buffer): void {
    const n = decodeNotification(body)
    if (n === null) {
      flog.warn(`Skipping the processing of a partial / malformed response message sent by sid=${sid} (message length: ${body.length})`)
      return
    }
    const peer = this.peer
    // As Apache's WorkerReceiver: the configuration first, whoever sent it (a server this one
    // does not count as a voter may be a voter of a configuration it missed); a newer one
    // activated while looking starts the election again, on it.
    if (n.config !== null && n.config !== '' && peer.configReceived(n.config)) {
      flog.info('restarting leader election')
      this.restart = true
      this.wake?.()
      return
    }
    if (!this.validVoter(sid)) {
      const v = peer.currentVote
      this.send(sid, {leader: v.id, zxid: v.zxid, electionEpoch: this.logicalclock, peerEpoch: v.peerEpoch, state: peer.state})
      return
    }
    if (n.state < 0 || n.state > 3) return
    flog.info(`Notification: my state:${STATE_NAMES[peer.state]}; n.sid:${sid}, n.state:${STATE_NAMES[n.state]}, n.leader:${n.leader}, n.round:0x${hex(n.electionEpoch)}, n.peerEpoch:0x${hex(n.peerEpoch)}, n.zxid:0x${hex(n.zxid)}, message format version:0x${hex(n.version)}, n.config version:0x0`)
    if (peer.state === PeerState.LOOKING) {
      this.queue.push({...n, sid})
      this.wake?.()
      if (n.state === PeerState.LOOKING && n.electionEpoch < this.logicalclock) {
        this.send(sid, {leader: this.proposedLeader, zxid: this.proposedZxid, electionEpoch: this.logicalclock, peerEpoch: this.proposedEpoch, state: peer.state})
      }
    } else if (n.state === PeerState.LOOKING) {
      const v = peer.currentVote
      this.send(sid, {leader: v.id, zxid: v.zxid, electionEpoch: v.electionEpoch, peerEpoch: v.peerEpoch, state: peer.state})
    }
  }

  private poll(ms: number): Promise<Received | null> {
    const n = this.queue.shift()
    if (n || this.stopped) return Promise.resolve(n ?? null)
    return new Promise(resolve => {
      const t = setTimeout(() => { this.wake = null; resolve(null) }, ms)
      this.wake = () => {
        clearTimeout(t)
        this.wake = null
        resolve(this.queue.shift() ?? null)
      }
    })
  }

  private totalOrder(newId: number, newZxid: number, newEpoch: number, curId: number, curZxid: number, curEpoch: number): boolean {
    if (!this.validVoter(newId)) return false
    return newEpoch > curEpoch || (newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)))
  }

  private initId(): number {
    return this.validVoter(this.peer.myId) ? this.peer.myId : MIN_LONG
  }

  private initZxid(): number {
    return this.peer.participant ? this.peer.lastLoggedZxid() : MIN_LONG
  }

  private initEpoch(): number {
    return this.peer.participant ? this.peer.currentEpoch : MIN_LONG
  }

  private update(leader: number, zxid: number, epoch: number): void {
    this.proposedLeader = leader
    this.proposedZxid = zxid
    this.proposedEpoch = epoch
  }

  private sendNotifications(): void {
    for (const sid of this.peer.electionVoters()) {
      this.send(sid, {leader: this.proposedLeader, zxid: this.proposedZxid, electionEpoch: this.logicalclock, peerEpoch: this.proposedEpoch, state: PeerState.LOOKING})
    }
  }

  private learningState(): number {
    return this.peer.participant ? PeerState.FOLLOWING : PeerState.OBSERVING
  }

  private checkLeader(votes: Map<number, Vote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.peer.myId) {
      const v = votes.get(leader)
      return v !== undefined && v.state === PeerState.LEADING
    }
    return this.logicalclock === electionEpoch
  }

  private agreeing(votes: Map<number, Vote>, vote: Vote): boolean {
    const ids: number[] = []
    for (const [sid, v] of votes) if (voteEquals(vote, v)) ids.push(sid)
    return this.quorum(ids)
  }

  private finish(leader: number, zxid: number, electionEpoch: number, peerEpoch: number): Vote {
    const state = leader === this.peer.myId ? PeerState.LEADING : this.learningState()
    this.peer.state = state
    this.queue = []
    flog.info(`About to leave FLE instance: leader=${leader}, zxid=0x${hex(zxid)}, my id=${this.peer.myId}, my state=${STATE_NAMES[state]}`)
    return {id: leader, zxid, electionEpoch, peerEpoch, state}
  }

  /** QuorumPeer.startLeaderElection after a new configuration: a new round from a clean state. */
  private restarted(): never {
    this.restart = false
    this.logicalclock = 0
    this.queue = []
    throw new ElectionRestart()
  }

  /**
   * Runs one election; resolves with the vote for the leader (the peer's state is set), or
   * null if stopped; throws ElectionRestart when a newer configuration arrived meanwhile.
   */
  async lookForLeader(): Promise<Vote | null> {
    const recvset = new Map<number, Vote>()
    const outofelection = new Map<number, Vote>()
    let notTimeout = FINALIZE_WAIT
    this.logicalclock++
    this.update(this.initId(), this.initZxid(), this.initEpoch())
    flog.info(`New election. My id = ${this.peer.myId}, proposed zxid=0x${hex(this.proposedZxid)}`)
    this.sendNotifications()
    while (this.peer.state === PeerState.LOOKING && !this.stopped) {
      let n = await this.poll(notTimeout)
      if (this.stopped) return null
      if (this.restart) this.restarted()
      if (n === null) {
        if (this.cnx.haveDelivered()) this.sendNotifications()
        else this.cnx.connectAll()
        notTimeout = Math.min(notTimeout * 2, MAX_NOTIFICATION_INTERVAL)
        flog.info(`Notification time out: ${notTimeout} ms`)
        continue
      }
      if (!this.validVoter(n.sid) || !this.validVoter(n.leader)) {
        if (!this.validVoter(n.leader)) flog.warn(`Ignoring notification for non-cluster member sid ${n.leader} from sid ${n.sid}`)
        if (!this.validVoter(n.sid)) flog.warn(`Ignoring notification for sid ${n.leader} from non-quorum member sid ${n.sid}`)
        continue
      }
      switch (n.state) {
        case PeerState.LOOKING: {
          if (this.initZxid() === -1 || n.zxid === -1) break
          if (n.electionEpoch > this.logicalclock) {
            this.logicalclock = n.electionEpoch
            recvset.clear()
            if (this.totalOrder(n.leader, n.zxid, n.peerEpoch, this.initId(), this.initZxid(), this.initEpoch())) this.update(n.leader, n.zxid, n.peerEpoch)
            else this.update(this.initId(), this.initZxid(), this.initEpoch())
            this.sendNotifications()
          } else if (n.electionEpoch < this.logicalclock) {
            break
          } else if (this.totalOrder(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
            this.update(n.leader, n.zxid, n.peerEpoch)
            this.sendNotifications()
          }
          recvset.set(n.sid, {id: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: PeerState.LOOKING})
          const mine: Vote = {id: this.proposedLeader, zxid: this.proposedZxid, electionEpoch: this.logicalclock, peerEpoch: this.proposedEpoch, state: PeerState.LOOKING}
          if (this.agreeing(recvset, mine)) {
            // Wait a little for a better vote before deciding.
            let better = false
            for (;;) {
              n = await this.poll(FINALIZE_WAIT)
              if (this.stopped) return null
              if (this.restart) this.restarted()
              if (n === null) break
              if (this.totalOrder(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
                this.queue.unshift(n)
                better = true
                break
              }
            }
            if (!better) return this.finish(this.proposedLeader, this.proposedZxid, this.logicalclock, this.proposedEpoch)
          }
          break
        }
        case PeerState.OBSERVING:
          break
        case PeerState.FOLLOWING: case PeerState.LEADING: {
          const v: Vote = {id: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state, version: n.version}
          if (n.electionEpoch === this.logicalclock) {
            recvset.set(n.sid, v)
            if (this.agreeing(recvset, v) && this.checkLeader(recvset, n.leader, n.electionEpoch)) {
              return this.finish(n.leader, n.zxid, n.electionEpoch, n.peerEpoch)
            }
          }
          outofelection.set(n.sid, v)
          if (this.agreeing(outofelection, v) && this.checkLeader(outofelection, n.leader, n.electionEpoch)) {
            this.logicalclock = n.electionEpoch
            return this.finish(n.leader, n.zxid, n.electionEpoch, n.peerEpoch)
          }
          break
        }
      }
    }
    return null
  }
}
