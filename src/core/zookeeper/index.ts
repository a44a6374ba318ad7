// kafkit's ZooKeeper-compatible server, for commands and for embedding (kafkit start,
// tests): startZooKeeperServer(config file or ZkConfig) -> {port, stop()}.
import type {Server as HttpServer} from 'node:http'
import {loadZkConfig, defaultZkConfig, type ZkConfig} from '../config/zk-config.js'
import {Logger} from '../util/log.js'
import {ZkServer} from './server.js'
import {startAdminServer} from './admin-server.js'
import {QuorumPeer} from './quorum/peer.js'

export {ZkServer} from './server.js'
export type {ZkConfig} from '../config/zk-config.js'
export {loadZkConfig, defaultZkConfig} from '../config/zk-config.js'

export interface RunningZooKeeper {
  port: number
  adminPort: number | null
  server: ZkServer
  /** The ensemble member (null standalone). */
  peer: QuorumPeer | null
  stop(): Promise<void>
}

/**
 * Starts a server; resolves once its client port is bound. Standalone it serves at once; an
 * ensemble member (more than one server.N participant) serves once it has a leader.
 */
export async function startZooKeeperServer(configFile: string | ZkConfig): Promise<RunningZooKeeper> {
  const config = typeof configFile === 'string' ? loadZkConfig(configFile) : defaultZkConfig(configFile)
  if (!config.dataDir) throw new Error('dataDir is not set')
  const log = new Logger('org.apache.zookeeper.server.ZooKeeperServerMain')
  for (const k of config.unknownKeys) log.warn(`Unknown configuration key ${k} in ${config.source}: ignored`)
  for (const w of config.security?.warnings ?? []) log.warn(w)
  for (const w of config.quorumSecurity?.warnings ?? []) log.warn(w)
  if (config.security?.saslUsers) log.info(`SASL DIGEST-MD5 users from ${config.security.jaasSource}: ${config.security.saslUsers.size}`)
  const zk = new ZkServer(config)
  const port = await zk.start()
  let peer: QuorumPeer | null = null
  if (config.ensemble) {
    peer = new QuorumPeer(zk)
    zk.peer = peer
    try {
      await peer.start()
    } catch (e) {
      await peer.stop()
      await zk.stop()
      throw e
    }
  }
  let admin: HttpServer | null = null
  let adminPort: number | null = null
  if (config.adminEnableServer) {
    try {
      admin = await startAdminServer(zk, config.adminServerPort, config.adminServerAddress)
      adminPort = (admin.address() as {port: number}).port
      new Logger('org.apache.zookeeper.server.admin.JettyAdminServer').info(`Started AdminServer on address ${config.adminServerAddress}, port ${adminPort} and command URL /commands`)
    } catch (e) {
      await peer?.stop()
      await zk.stop()
      throw e
    }
  }
  let stopped: Promise<void> | null = null
  return {
    port,
    adminPort,
    server: zk,
    peer,
    stop() {
      stopped ??= (async () => {
        if (admin) await new Promise<void>(r => { admin!.closeAllConnections?.(); admin!.close(() => r()) })
        await peer?.stop()
        await zk.stop()
      })()
      return stopped
    },
  }
}
