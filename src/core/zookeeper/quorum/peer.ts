// An ensemble member (Apache ZooKeeper's QuorumPeer): its id, the ensemble's servers, its
// epochs (dataDir/version-2/currentEpoch and acceptedEpoch, as Apache keeps them) and its
// state: LOOKING (leader election), then LEADING, FOLLOWING or OBSERVING until that role
// fails, then LOOKING again. Between roles the server stops serving (its clients move to
// other servers with their sessions) and reloads its database from its own log.
import {readFileSync, writeFileSync, renameSync, existsSync} from 'node:fs'
import {ensureDir} from '../../util/fs.js'
import {join} from 'node:path'
import {Logger} from '../../util/log.js'
import type {ZkServer} from '../server.js'
import type {QuorumServerConfig} from '../../config/zk-config.js'
import {QuorumCnxManager, FastLeaderElection, type ElectionPeer, type Vote} from './election.js'
import {PeerState, STATE_NAMES, zxidEpoch} from './packets.js'
import {Leader} from './leader.js'
import {Learner} from './learner.js'
import {QuorumTransport} from './quorum-tls.js'

const log = new Logger('org.apache.zookeeper.server.quorum.QuorumPeer')

export class QuorumPeer implements ElectionPeer {
  state: number = PeerState.LOOKING
  currentVote: Vote
  currentEpoch = 0
  acceptedEpoch = 0
  electionTimeTaken = 0
  readonly myId: number
  readonly participant: boolean
  readonly servers: QuorumServerConfig[]
  readonly me: QuorumServerConfig
  private readonly cnx: QuorumCnxManager
  /** TLS (sslQuorum, portUnification) and SASL settings of the quorum and election ports. */
  readonly transport: QuorumTransport
  private readonly election: FastLeaderElection
  private stopped = false
  private role: Leader | Learner | null = null
  private running: Promise<void> | null = null
  /** The leader this server follows or observes (-1 when leading or looking). */
  private leaderIdOf = -1

  constructor(readonly zk: ZkServer) {
    const c = zk.config
    this.myId = c.serverId
    this.servers = c.quorumServers
    this.me = this.servers.find(s => s.id === this.myId)!
    this.participant = this.me.type === 'participant'
    this.currentVote = {id: this.myId, zxid: 0, electionEpoch: 0, peerEpoch: 0, state: PeerState.LOOKING}
    this.transport = new QuorumTransport(c.quorumSecurity, c.source)
    this.cnx = new QuorumCnxManager(this.myId, this.servers, c.quorumListenOnAllIPs, c.cnxTimeout, this.transport)
    this.election = new FastLeaderElection(this, this.cnx)
    zk.sessions.setServerId(this.myId)
  }

  voters(): number[] {
    return this.servers.filter(s => s.type === 'participant').map(s => s.id)
  }

  serverString(s: QuorumServerConfig): string {
    const host = (h: string) => h.includes(':') ? `[${h}]` : h
    let out = `${host(s.host)}:${s.quorumPort}:${s.electionPort}:${s.type}`
    if (s.clientPort !== undefined) out += `;${host(s.clientAddress ?? '0.0.0.0')}:${s.clientPort}`
    return out
  }

  /** Apache's QuorumMaj.toString(): the server lines and the (static) config version. */
  configText(): string {
    return this.servers.map(s => `server.${s.id}=${this.serverString(s)}\n`).join('') + 'version=0'
  }

  lastLoggedZxid(): number {
    return this.zk.zxid
  }

  private epochFile(name: string): string {
    return join(this.zk.snapDir, name)
  }

  private readEpoch(name: string, fallback: number): number {
    const f = this.epochFile(name)
    if (!existsSync(f)) {
      log.info(`${name} not found! Creating with a reasonable default of ${fallback}. This should only happen when you are upgrading your installation`)
      this.writeEpoch(name, fallback)
      return fallback
    }
    const text = readFileSync(f, 'utf8').trim()
    if (!/^-?\d+$/.test(text)) throw new Error(`${f} holds "${text}", not an epoch number`)
    return Number(text)
  }

  private writeEpoch(name: string, value: number): void {
    ensureDir(this.zk.snapDir)
    const f = this.epochFile(name)
    writeFileSync(`${f}.tmp`, String(value))
    renameSync(`${f}.tmp`, f)
  }

  setCurrentEpoch(e: number): void {
    this.writeEpoch('currentEpoch', e)
    this.currentEpoch = e
  }

  setAcceptedEpoch(e: number): void {
    this.writeEpoch('acceptedEpoch', e)
    this.acceptedEpoch = e
  }

  /** After syncing with a leader, the vote this server reports to newcomers (ZOOKEEPER-1732). */
  updateElectionVote(epoch: number): void {
    this.currentVote = {...this.currentVote, peerEpoch: epoch}
  }

  /** Starts the ensemble member: epochs, the election port, then the state loop. */
  async start(): Promise<void> {
    const epochOfZxid = zxidEpoch(this.zk.zxid)
    this.currentEpoch = this.readEpoch('currentEpoch', epochOfZxid)
    if (epochOfZxid > this.currentEpoch) throw new Error(`The current epoch, ${this.currentEpoch}, is older than the last zxid, 0x${this.zk.zxid.toString(16)} (${this.epochFile('currentEpoch')})`)
    this.acceptedEpoch = this.readEpoch('acceptedEpoch', epochOfZxid)
    if (this.acceptedEpoch < this.currentEpoch) throw new Error(`The accepted epoch, ${this.acceptedEpoch} is less than the current epoch, ${this.currentEpoch} (${this.epochFile('acceptedEpoch')})`)
    this.currentVote = {id: this.myId, zxid: this.zk.zxid, electionEpoch: 0, peerEpoch: this.currentEpoch, state: PeerState.LOOKING}
    await this.cnx.listen()
    this.running = this.loop()
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.state = PeerState.LOOKING
      this.leaderIdOf = -1
      this.zk.mode = 'looking'
      this.zk.metrics.lookingCount++
      log.info('LOOKING')
      const t0 = Date.now()
      let vote: Vote | null
      try {
        vote = await this.election.lookForLeader()
      } catch (e) {
        log.warn(`Unexpected exception in leader election: ${(e as Error).message}`)
        continue
      }
      if (vote === null || this.stopped) break
      this.electionTimeTaken = Date.now() - t0
      this.zk.metrics.summary('election_time').add(this.electionTimeTaken)
      this.currentVote = vote
      let reason = ''
      if (this.state === PeerState.LEADING) {
        log.info('LEADING')
        const leader = new Leader(this, this.zk)
        this.role = leader
        reason = await leader.lead()
      } else {
        const observer = this.state === PeerState.OBSERVING
        log.info(observer ? 'OBSERVING' : 'FOLLOWING')
        this.leaderIdOf = vote.id
        const learner = new Learner(this, this.zk, observer)
        this.role = learner
        reason = await learner.follow(vote.id)
      }
      log.warn(`PeerState set to LOOKING (${STATE_NAMES[this.state]} ended: ${reason})`)
      this.role = null
      this.zk.stopServing()
      if (this.stopped) break
      try {
        await this.zk.loadDatabase()
      } catch (e) {
        log.error(`Unable to reload the database: ${(e as Error).message}`)
      }
    }
  }

  /** The leader's id (the AdminServer's leader command). */
  leaderId(): number {
    return this.state === PeerState.LEADING ? this.myId : this.leaderIdOf
  }

  /** The leader's quorum host. */
  leaderHost(): string {
    return this.servers.find(s => s.id === this.leaderId())?.host ?? ''
  }

  /** srvr's Mode line. */
  modeName(): string {
    switch (this.state) {
      case PeerState.LEADING: return 'leader'
      case PeerState.FOLLOWING: return 'follower'
      case PeerState.OBSERVING: return 'observer'
      default: return 'looking'
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.election.stop()
    if (this.role instanceof Leader) this.role.stop('shutdown')
    else if (this.role instanceof Learner) this.role.stop('shutdown')
    await this.cnx.stop()
    await this.running?.catch(() => {})
  }
}
