// What the 4lw conf and the AdminServer show of an ensemble member's current configuration:
// the committed QuorumVerifier (it changes with reconfig), this server's addresses in it and
// its learner type, as Apache's QuorumZooKeeperServer.dumpConf and the voting_view / zabstate
// commands read them from QuorumPeer.
import type {ZkServer} from '../server.js'
import type {ZkConfig, QuorumServerConfig} from '../../config/zk-config.js'
import {QuorumVerifier} from './verifier.js'

/** The part of QuorumPeer these views read. */
export interface QuorumPeerView {
  readonly myId: number
  /** The committed configuration. */
  readonly qv: QuorumVerifier
  /** This server's addresses as it started. */
  readonly me: QuorumServerConfig
  /** Its learner type: PARTICIPANT (true) or OBSERVER. */
  readonly participant: boolean
}

/** The quorum peer of an ensemble member; null on a standalone server. */
export function quorumView(zk: ZkServer): QuorumPeerView | null {
  const p = zk.peer as Partial<QuorumPeerView> | null
  return p !== null && p.qv instanceof QuorumVerifier && p.me !== undefined ? p as QuorumPeerView : null
}

/** This server's entry in the current configuration (its start-up one when it is not a member). */
export function ownServer(q: QuorumPeerView): QuorumServerConfig {
  return q.qv.member(q.myId) ?? q.me
}

/** QuorumZooKeeperServer.dumpConf's lines after ZooKeeperServer's (the last without a newline). */
export function quorumConfLines(q: QuorumPeerView, c: ZkConfig): string {
  const me = ownServer(q)
  return `initLimit=${c.initLimit}\nsyncLimit=${c.syncLimit}\nelectionAlg=3\nelectionPort=${me.electionPort}\nquorumPort=${me.quorumPort}\n` +
    `peerType=${q.participant ? 0 : 1}\nmembership: \n${q.qv.toString()}`
}
