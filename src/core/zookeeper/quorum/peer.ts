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
import {QuorumCnxManager, FastLeaderElection, ElectionRestart, type ElectionPeer, type Vote} from './election.js'
import {PeerState, STATE_NAMES, zxidEpoch} from './packets.js'
import {Leader} from './leader.js'
import {Learner} from './learner.js'
import {QuorumTransport} from './quorum-tls.js'
import {QuorumVerifier, verifierFromText} from './verifier.js'
import {dynamicFileName, nextDynamicFileName, writeDynamicConfig, editStaticConfig, backupStaticConfig, deleteIfExists} from './dynamic-config.js'

const log = new Logger('org.apache.zookeeper.server.quorum.QuorumPeer')

export class QuorumPeer implements ElectionPeer {
  state: number = PeerState.LOOKING
  currentVote: Vote
  currentEpoch = 0
  acceptedEpoch = 0
  electionTimeTaken = 0
  readonly myId: number
  /** This server votes (its learner type: PARTICIPANT, or OBSERVER). */
  participant: boolean
  /** The last committed configuration, and the last proposed one (the same object when none is pending). */
  qv: QuorumVerifier
  lastSeenQv: QuorumVerifier
  readonly reconfigEnabled: boolean
  /** A reconfig just committed: the next role comes from the vote, without an election. */
  reconfigFlag = false
  /** This server's own quorum and election addresses (as it started). */
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
    this.qv = this.lastSeenQv = c.quorumVerifier ?? new QuorumVerifier(c.quorumServers, 0)
    this.reconfigEnabled = c.reconfigEnabled === true
    // QuorumPeerMain: the configuration of <file>.dynamic.next (a proposal whose commit this
    // server did not see) is the last seen one; the leader of the next epoch activates it
    // (NEWLEADER carries it) or a newer configuration learnt in the election replaces it.
    const next = c.lastSeenQuorumVerifier
    if (next !== undefined && this.reconfigEnabled) {
      if (next.version < this.qv.version) log.error(`setLastSeenQuorumVerifier called with stale config ${next.version}. Current version: ${this.qv.version}`)
      else if (next.version > this.qv.version) {
        log.info(`The last proposed configuration, version 0x${next.version.toString(16)}, is pending (committed: 0x${this.qv.version.toString(16)})`)
        this.lastSeenQv = next
      }
    }
    this.me = this.qv.member(this.myId)!
    this.participant = this.me.type === 'participant'
    this.currentVote = {id: this.myId, zxid: 0, electionEpoch: 0, peerEpoch: 0, state: PeerState.LOOKING}
    this.transport = new QuorumTransport(c.quorumSecurity, c.source)
    this.cnx = new QuorumCnxManager(this.myId, this.servers, c.quorumListenOnAllIPs, c.cnxTimeout, this.transport)
    this.election = new FastLeaderElection(this, this.cnx)
    zk.sessions.setServerId(this.myId)
  }

  /** Every server of the committed and the proposed configuration (the proposed one's addresses first). */
  get servers(): QuorumServerConfig[] {
    const out = [...this.lastSeenQv.members]
    for (const s of this.qv.members) if (!out.some(o => o.id === s.id)) out.push(s)
    if (!out.some(o => o.id === this.myId)) out.push(this.me)
    return out
  }

  voters(): number[] {
    return this.qv.voters()
  }

  electionVoters(): number[] {
    const ids = new Set(this.qv.voters())
    for (const id of this.lastSeenQv.voters()) ids.add(id)
    return [...ids]
  }

  /** A quorum of the committed configuration, and of the proposed one while one is pending. */
  containsQuorum(ids: Iterable<number>): boolean {
    const set = [...ids]
    if (!this.qv.containsQuorum(set)) return false
    return this.lastSeenQv.version <= this.qv.version || this.lastSeenQv.containsQuorum(set)
  }

  serverString(s: QuorumServerConfig): string {
    return QuorumVerifier.serverString(s)
  }

  /** The committed configuration as Apache's QuorumVerifier.toString() (election notifications). */
  configText(): string {
    return this.qv.toString()
  }

  configFromString(text: string): QuorumVerifier {
    return verifierFromText(text, 'the configuration received')
  }

  private get staticFile(): string | null {
    const f = this.zk.config.source
    return f && f !== '<properties>' && f !== '<defaults>' && existsSync(f) ? f : null
  }

  /**
   * FastLeaderElection's receiver: a newer configuration learnt while looking is activated;
   * true when it differs from the current one (the election starts again).
   */
  configReceived(text: string): boolean {
    if (!this.reconfigEnabled) return false
    let qv: QuorumVerifier
    try {
      qv = this.configFromString(text)
    } catch {
      log.error('Something went wrong while processing the configuration of a notification')
      return false
    }
    if (qv.version <= this.qv.version) return false
    log.info(`${this.myId} Received version: ${qv.version.toString(16)} my version: ${this.qv.version.toString(16)}`)
    if (this.state !== PeerState.LOOKING) return false
    const cur = this.qv
    this.processReconfig(qv, null, 0)
    return !qv.equals(cur)
  }

  /** QuorumPeer.setLastSeenQuorumVerifier: a proposed configuration (kept in .dynamic.next). */
  setLastSeenQuorumVerifier(qv: QuorumVerifier, writeToDisk: boolean): void {
    if (!this.reconfigEnabled) return
    if (this.lastSeenQv.version === qv.version) return
    if (this.lastSeenQv.version > qv.version) log.error(`setLastSeenQuorumVerifier called with stale config ${qv.version}. Current version: ${this.qv.version}`)
    this.lastSeenQv = qv
    this.cnx.servers = this.servers
    const f = this.staticFile
    if (writeToDisk && f !== null) {
      try { writeDynamicConfig(nextDynamicFileName(f), qv, true) } catch (e) { log.error(`Error writing next dynamic config file to disk: ${(e as Error).message}`) }
    }
  }

  /** QuorumPeer.setQuorumVerifier: activates qv (dynamic file, static file); returns the previous one. */
  setQuorumVerifier(qv: QuorumVerifier, writeToDisk: boolean): QuorumVerifier {
    if (this.qv.version >= qv.version) return this.qv
    const prev = this.qv
    this.qv = qv
    if (qv.version > this.lastSeenQv.version) this.lastSeenQv = qv
    this.cnx.servers = this.servers
    const f = this.staticFile
    if (writeToDisk && f !== null) {
      try {
        const dyn = dynamicFileName(f, qv.version)
        writeDynamicConfig(dyn, qv, false)
        const mine = qv.member(this.myId)
        editStaticConfig(f, dyn, mine !== undefined && mine.clientPort !== undefined)
      } catch (e) {
        log.error(`Error writing the dynamic config file: ${(e as Error).message}`)
      }
    }
    if (f !== null && qv.version === this.lastSeenQv.version) deleteIfExists(nextDynamicFileName(f))
    return prev
  }

  /** /zookeeper/config as ZKDatabase.initConfigInZKDatabase sets it: the committed configuration. */
  initConfigInZKDatabase(): void {
    this.zk.setConfigNode(this.qv.toString(), this.qv.version)
  }

  /**
   * QuorumPeer.processReconfig: activates qv; true when this server must leave its role (its
   * leader changes, or it becomes or stops being a voter).
   */
  processReconfig(qv: QuorumVerifier, suggestedLeader: number | null, zxid: number): boolean {
    if (!this.reconfigEnabled) return false
    const prev = this.setQuorumVerifier(qv, true)
    this.initConfigInZKDatabase()
    if (!(prev.version < qv.version && !prev.equals(qv))) return false
    log.info(`Reconfiguration to version 0x${qv.version.toString(16)}: ${qv.toString().replace(/\n/g, ' ')}`)
    this.moveClientPort(prev, qv)
    let roleChange = false
    if (qv.observers().includes(this.myId)) {
      if (this.participant) { this.participant = false; log.info('Becoming an observer'); this.reconfigFlag = roleChange = true }
    } else if (qv.voters().includes(this.myId)) {
      if (!this.participant) { this.participant = true; log.info('Becoming a voting participant'); this.reconfigFlag = roleChange = true }
    } else if (!this.participant) {
      this.participant = true
      log.info('Becoming a non-voting participant')
      this.reconfigFlag = roleChange = true
    }
    let leaderChange = false
    if (suggestedLeader !== null) {
      if (suggestedLeader !== this.currentVote.id) {
        this.currentVote = {id: suggestedLeader, zxid, electionEpoch: this.currentVote.electionEpoch, peerEpoch: this.currentVote.peerEpoch, state: PeerState.LOOKING}
        this.reconfigFlag = leaderChange = true
        log.warn(`Suggested leader: ${suggestedLeader}`)
      }
    } else {
      const id = this.currentVote.id
      const a = prev.isVoter(id) ? prev.member(id) : undefined
      const b = qv.isVoter(id) ? qv.member(id) : undefined
      leaderChange = a === undefined || b === undefined || a.host !== b.host || a.quorumPort !== b.quorumPort
      this.reconfigFlag = false
    }
    return roleChange || leaderChange
  }

  /** QuorumPeer.processReconfig: a new client address of this server is bound at once (cnxnFactory.reconfigure). */
  private moveClientPort(prev: QuorumVerifier, qv: QuorumVerifier): void {
    const mine = qv.member(this.myId)
    const before = prev.member(this.myId)
    const c = this.zk.config
    if (mine?.clientPort === undefined || c.clientPortEnabled === false) return
    if (before?.clientPort === mine.clientPort && before.clientAddress === mine.clientAddress) return
    const address = mine.clientAddress === undefined || mine.clientAddress === '0.0.0.0' ? null : mine.clientAddress
    const current = c.clientPortAddressWildcard ? null : c.clientPortAddress
    if (mine.clientPort === this.zk.port && address === current) return
    log.info(`The new configuration moves this server's client port to ${address ?? '0.0.0.0'}:${mine.clientPort}`)
    c.clientPortAddress = address ?? '0.0.0.0'
    c.clientPortAddressWildcard = address === null
    this.zk.rebindClientPort(mine.clientPort, address).catch(e => log.error(`Error reconfiguring client port: ${(e as Error).message}`))
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
    const f = this.staticFile
    if (this.reconfigEnabled && f !== null && this.zk.config.dynamicConfigFile === undefined) backupStaticConfig(f)
    // QuorumPeer.setQuorumVerifier at start-up: the committed configuration is also the last
    // seen one there, so .dynamic.next goes (the pending one is kept in memory only).
    if (f !== null) deleteIfExists(nextDynamicFileName(f))
    this.initConfigInZKDatabase()
    await this.cnx.listen()
    this.running = this.loop()
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let vote: Vote | null
      if (this.reconfigFlag) {
        // QuorumPeer.updateServerState after a reconfig: the role the designated leader gives.
        this.reconfigFlag = false
        vote = this.currentVote
        this.state = vote.id === this.myId ? PeerState.LEADING : this.participant ? PeerState.FOLLOWING : PeerState.OBSERVING
        log.info(`After the reconfiguration: ${STATE_NAMES[this.state]} (leader ${vote.id}) without an election`)
      } else {
        this.state = PeerState.LOOKING
        this.leaderIdOf = -1
        this.zk.mode = 'looking'
        this.zk.metrics.lookingCount++
        log.info('LOOKING')
        const t0 = Date.now()
        try {
          vote = await this.election.lookForLeader()
        } catch (e) {
          if (!(e instanceof ElectionRestart)) log.warn(`Unexpected exception in leader election: ${(e as Error).message}`)
          continue
        }
        if (vote === null || this.stopped) break
        this.electionTimeTaken = Date.now() - t0
        this.zk.metrics.summary('election_time').add(this.electionTimeTaken)
        this.currentVote = vote
      }
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
      log.warn(`PeerState set to ${this.reconfigFlag ? 'the reconfiguration\'s role' : 'LOOKING'} (${STATE_NAMES[this.state]} ended: ${reason})`)
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
