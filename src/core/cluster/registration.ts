// Broker registration in ZooKeeper: the cluster id (/cluster/id), a generated broker id
// (/brokers/seqid) and the ephemeral /brokers/ids/<id> znode with the broker's endpoints.
import {ZkCode} from './zk.js'
import {type BrokerEndpoint, ZkPaths, encodeBrokerRegistration} from './znodes.js'
import {randomUuid} from './assignment.js'
import {isCode, type ClusterContext} from './events.js'

export async function getOrCreateClusterId(ctx: ClusterContext): Promise<string> {
  const zk = ctx.zkClient
  for (;;) {
    const cur = await zk.getJson<{id: string}>(ZkPaths.clusterId)
    if (cur) return cur.value.id
    try {
      const id = randomUuid()
      await zk.create(ZkPaths.clusterId, JSON.stringify({version: '1', id}), {parents: true})
      return id
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
    }
  }
}

/** Kafka's broker id generation: the version of /brokers/seqid after an unconditional set, plus reserved.broker.max.id. */
export async function generateBrokerId(ctx: ClusterContext): Promise<number> {
  const stat = await ctx.zkClient.set(ZkPaths.brokerSeqId, '', -1)
  return stat.version + ctx.config.reservedBrokerMaxId
}

/**
 * Registers /brokers/ids/<id> (ephemeral). When the node exists for another session, that
 * may be this broker's previous life (killed before its session expired): wait up to
 * zookeeper.session.timeout.ms for it to go, then refuse to start with Kafka's message.
 */
export async function registerBroker(ctx: ClusterContext, endpoints: BrokerEndpoint[]): Promise<void> {
  const zk = ctx.zkClient
  const path = ZkPaths.broker(ctx.brokerId)
  const data = encodeBrokerRegistration(endpoints, ctx.config.brokerRack)
  const deadline = Date.now() + ctx.config.zookeeperSessionTimeoutMs + 2000
  let waiting = false
  for (;;) {
    try {
      await zk.create(path, data, {ephemeral: true})
      return
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
    }
    const existing = await zk.get(path)
    if (!existing) continue
    if (existing.stat.ephemeralOwner === zk.sessionId) return
    if (Date.now() >= deadline || ctx.stopped) {
      throw new Error(`Error while creating ephemeral at ${path}, node already exists and owner '${BigInt('0x' + existing.stat.ephemeralOwner)}' does not match current session '${BigInt('0x' + (zk.sessionId || '0'))}'`)
    }
    if (!waiting) {
      waiting = true
      ctx.logger.info(`${path} is still registered by session 0x${existing.stat.ephemeralOwner.replace(/^0+/, '')}; waiting up to ${ctx.config.zookeeperSessionTimeoutMs} ms for it to expire`)
    }
    await new Promise(r => setTimeout(r, 200))
  }
}
