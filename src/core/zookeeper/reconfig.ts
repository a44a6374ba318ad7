// The reconfig request (opcode 16) prepared as Apache ZooKeeper 3.8's PrepRequestProcessor
// does it, on the leader: refused (ReconfigDisabled) unless reconfigEnabled, Unimplemented on
// a standalone server, ReconfigInProgress while a proposed configuration is not yet active,
// BadVersion when -v names another version than the last proposed one; the new configuration
// is the -members list (non-incremental) or the last one with -remove ids dropped and -add
// servers put in (incremental, majority quorums only); it must keep two voters (one with
// standaloneEnabled=false) and have a connected, synced quorum (NewConfigNoQuorum); the
// requester needs WRITE on /zookeeper/config (world-readable only: a super user) unless
// skipACL=yes. The transaction is a SetDataTxn of /zookeeper/config with the new
// configuration's text, version -1, under the reconfig type; its version is its zxid.
import {JuteReader} from './jute.js'
import {Op, Err, Perms, ZkError} from './records.js'
import type {DataTree} from './datatree.js'
import type {Prepared, Requester} from './prepare.js'
import type {ZkConfig} from '../config/zk-config.js'
import {Logger} from '../util/log.js'
import {QuorumVerifier, verifierFromText, ConfigTextError} from './quorum/verifier.js'
import {parseServerLine, type QuorumServerConfig} from '../config/zk-config.js'

const log = new Logger('org.apache.zookeeper.server.PrepRequestProcessor')

export const CONFIG_NODE = '/zookeeper/config'
export const ReconfigErr = {ReconfigInProgress: -14, NewConfigNoQuorum: -13} as const

/** What the leader tells the prepare stage about configurations. */
export interface ReconfigLeader {
  committedConfig(): QuorumVerifier
  lastSeenConfig(): QuorumVerifier
  /** Leader.isQuorumSynced: a quorum of qv's voters is connected and synced. */
  isQuorumSynced(qv: QuorumVerifier): boolean
  /** The zxid the next proposal gets (the new configuration's version). */
  nextZxid(): number
}

export interface ReconfigRequest {
  joining: string | null
  leaving: string | null
  members: string | null
  fromConfig: number
}

export function readReconfigRequest(r: JuteReader): ReconfigRequest {
  const joining = r.ustringOrNull()
  const leaving = r.ustringOrNull()
  const members = r.ustringOrNull()
  const fromConfig = Number(r.bigLong())
  return {joining, leaving, members, fromConfig}
}

function fail(code: number, msg?: string): never {
  throw new ZkError(code, msg)
}

/** The new configuration of a reconfig request (throws ZkError as Apache's). */
export function newConfiguration(req: ReconfigRequest, lastSeen: QuorumVerifier): QuorumVerifier {
  if (req.members !== null) {
    log.info('Non-incremental reconfig')
    try {
      return verifierFromText(req.members, 'the reconfig request')
    } catch (e) {
      if (e instanceof ConfigTextError) fail(Err.BadArguments, e.message)
      throw e
    }
  }
  log.info('Incremental reconfig')
  if (lastSeen.hierarchical) {
    const msg = 'Incremental reconfiguration requested but last configuration seen has a non-majority quorum system'
    log.warn(msg)
    fail(Err.BadArguments, msg)
  }
  const next = new Map<number, QuorumServerConfig>(lastSeen.members.map(m => [m.id, m]))
  const split = (s: string | null) => s === null ? [] : s.split(',').map(x => x.trim()).filter(x => x !== '')
  for (const leaving of split(req.leaving)) {
    if (!/^-?\d+$/.test(leaving)) fail(Err.BadArguments, 'Reconfiguration failed')
    next.delete(Number(leaving))
  }
  for (const joiner of split(req.joining)) {
    const parts = joiner.split('=').filter(x => x !== '')
    if (parts.length !== 2) fail(Err.BadArguments, 'Wrong format of server string')
    const idText = parts[0].slice(parts[0].lastIndexOf('.') + 1).trim()
    if (!/^\d+$/.test(idText)) fail(Err.BadArguments, 'Reconfiguration failed')
    const q = parseServerLine(`server.${idText}`, parts[1].trim())
    if (q === null) fail(Err.BadArguments, 'Reconfiguration failed')
    if (q.clientPort === undefined) fail(Err.BadArguments, 'Wrong format of server string - each server should have 3 ports specified')
    for (const o of next.values()) {
      if (o.id === q.id) continue
      const same = (a: string, b: string) => a === b
      const mine = [q.quorumPort, q.electionPort]
      if (same(o.host, q.host) && (mine.includes(o.quorumPort) || mine.includes(o.electionPort))) fail(Err.BadArguments, 'Reconfiguration failed')
    }
    next.delete(q.id)
    next.set(q.id, q)
  }
  return new QuorumVerifier([...next.values()], 0)
}

/**
 * One reconfig request as a transaction: the reconfig txn, or an error txn with the code a
 * client sees. leader is null on a standalone server.
 */
export function prepareReconfig(
  config: ZkConfig, tree: DataTree, leader: ReconfigLeader | null,
  sessionId: bigint, cxid: number, r: JuteReader, who: Requester, time = Date.now(),
): Prepared {
  const hdr = {clientId: sessionId, cxid, zxid: 0, time, type: Op.reconfig as number}
  try {
    const req = readReconfigRequest(r)
    if (config.reconfigEnabled !== true) {
      log.error('Reconfig operation requested but reconfig feature is disabled.')
      fail(Err.ReconfigDisabled)
    }
    if (config.skipACL === true) log.warn('skipACL is set, reconfig operation will skip ACL checks!')
    if (leader === null) fail(Err.Unimplemented)
    const lastSeen = leader.lastSeenConfig()
    if (lastSeen.version !== leader.committedConfig().version) fail(ReconfigErr.ReconfigInProgress)
    if (req.fromConfig !== -1 && req.fromConfig !== lastSeen.version) {
      fail(Err.BadVersion, `Reconfiguration from version ${req.fromConfig} failed -- last seen version is ${lastSeen.version}`)
    }
    const qv = newConfiguration(req, lastSeen).withVersion(leader.nextZxid())
    const voters = qv.voters().length
    if (config.standaloneEnabled && voters < 2) {
      const msg = 'Reconfig failed - new configuration must include at least 2 followers'
      log.warn(msg)
      fail(Err.BadArguments, msg)
    } else if (voters < 1) {
      const msg = 'Reconfig failed - new configuration must include at least 1 follower'
      log.warn(msg)
      fail(Err.BadArguments, msg)
    }
    if (!leader.isQuorumSynced(qv)) {
      log.warn('Reconfig failed - there must be a connected and synced quorum in new configuration')
      fail(ReconfigErr.NewConfigNoQuorum)
    }
    const node = tree.get(CONFIG_NODE)
    if (node && config.skipACL !== true) tree.checkAcl(node.acl, Perms.WRITE, who.authIds, who.remote)
    return {hdr, txn: {type: Op.reconfig, path: CONFIG_NODE, data: qv.toString(), version: -1}}
  } catch (e) {
    if (!(e instanceof ZkError)) throw e
    hdr.type = Op.error
    return {hdr, txn: {type: Op.error, err: e.code}}
  }
}
