// The leader's part of dynamic reconfiguration (Apache ZooKeeper's Leader): the configuration
// a reconfig txn proposes, the designated leader of a new configuration (this server when it
// stays a voter at the same quorum address, else the new voter that ACKed the most of what is
// outstanding), and the activation of the configuration NEWLEADER carried once a quorum has
// ACKed it (startZkServer).
import {Op, type Txn} from '../records.js'
import {Logger} from '../../util/log.js'
import {verifierFromText, type QuorumVerifier} from './verifier.js'
import type {Leader} from './leader.js'

export type {QuorumVerifier}

const log = new Logger('org.apache.zookeeper.server.quorum.Leader')

/** Leader.getDesignatedLeader. */
export function designatedLeader(leader: Leader, newQv: QuorumVerifier, acks: ReadonlySet<number>, zxid: number): number {
  const peer = leader.peer
  const mine = newQv.isVoter(peer.myId) ? newQv.member(peer.myId) : undefined
  if (mine && mine.host === peer.me.host && mine.quorumPort === peer.me.quorumPort) return peer.myId
  let candidates = [...acks].filter(id => id !== peer.myId && newQv.isVoter(id)).sort((a, b) => a - b)
  if (candidates.length === 0) return peer.myId
  let current = candidates[0]
  for (const p of leader.outstandingAfter(zxid)) {
    candidates = candidates.filter(id => p.acks.has(id))
    if (candidates.length === 0) return current
    current = candidates[0]
    if (candidates.length === 1) return current
  }
  return current
}

export const leaderReconfig = {
  /** A reconfig txn's new configuration (its data is the configuration's text, its version the zxid). */
  proposedConfig(txn: Txn): QuorumVerifier | null {
    if (txn.type !== Op.reconfig || txn.data === null) return null
    try {
      return verifierFromText(txn.data, 'the reconfig proposal')
    } catch (e) {
      log.error(`A reconfig proposal whose configuration does not parse: ${(e as Error).message}`)
      return null
    }
  },

  /** Leader.startZkServer: the configuration NEWLEADER carried is activated. */
  newLeaderQuorum(leader: Leader, acks: ReadonlySet<number>): void {
    const peer = leader.peer
    if (!peer.reconfigEnabled) {
      log.info('Dynamic reconfig feature is disabled, skip designatedLeader calculation and reconfig processing.')
      peer.initConfigInZKDatabase()
      return
    }
    const qv = peer.lastSeenQv
    const designated = designatedLeader(leader, qv, acks, leader.zk.zxid)
    peer.processReconfig(qv, designated, leader.zk.zxid)
    if (designated !== peer.myId) {
      log.warn('This leader is not the designated leader, it will be initialized with allowedToCommit = false')
      leader.allowedToCommit = false
    }
  },
}
