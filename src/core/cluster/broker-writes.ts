// Writes a broker makes outside the controller: producer id blocks (for InitProducerId) and
// the partition leader's ISR changes (a conditional set on the partition state znode, written
// through to the metadata cache).
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import {ZkCode} from './zk.js'
import {type PartitionState, ZkPaths, PRODUCER_ID_BLOCK_SIZE, encodePartitionState} from './znodes.js'
import {isCode, type ClusterContext} from './events.js'

/** Allocates the next block of producer ids in /latest_producer_id_block, as Kafka's ZK-mode ProducerIdManager. */
export async function nextProducerIdBlock(ctx: ClusterContext): Promise<{start: number; length: number}> {
  const zk = ctx.zkClient
  for (;;) {
    const cur = await zk.get(ZkPaths.producerIdBlock)
    if (!cur) { await zk.ensurePath(ZkPaths.producerIdBlock); continue }
    let start = 0
    if (cur.data.length) {
      const o = JSON.parse(cur.data.toString('utf8')) as {block_end: string | number}
      start = Number(o.block_end) + 1
    }
    const end = start + PRODUCER_ID_BLOCK_SIZE - 1
    if (end > Number.MAX_SAFE_INTEGER) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Exhausted all producer ids')
    try {
      await zk.set(ZkPaths.producerIdBlock, JSON.stringify({version: 1, broker: ctx.brokerId, block_start: String(start), block_end: String(end)}), cur.stat.version)
      return {start, length: PRODUCER_ID_BLOCK_SIZE}
    } catch (error) {
      if (!isCode(error, ZkCode.BAD_VERSION)) throw error
    }
  }
}

/**
 * The partition leader changes the ISR (follower caught up or fell behind): a conditional
 * set on the state znode (same leader and leader epoch), then an isr_change notification.
 * Throws NOT_LEADER_OR_FOLLOWER when leadership moved meanwhile.
 */
export async function updateIsr(ctx: ClusterContext, state: PartitionState, isr: number[]): Promise<PartitionState> {
  const zk = ctx.zkClient
  const path = ZkPaths.partitionState(state.topic, state.partition)
  let expected = state
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const st = await zk.set(path, encodePartitionState(expected.leader, expected.leaderEpoch, isr, expected.controllerEpoch), expected.zkVersion)
      const ps = ctx.cache.topicMap.get(state.topic)?.partitions[state.partition]
      if (ps && ps.zkVersion < st.version) {
        ps.isr = [...isr]
        ps.zkVersion = st.version
        ps.stateZxid = st.mzxid
        ctx.cache.emitMine([ps])
      }
      await zk.create(`${ZkPaths.isrChange}/isr_change_`, JSON.stringify({version: 1, partitions: [{topic: state.topic, partition: state.partition}]}), {sequential: true}).catch(() => {})
      return ps ?? {...expected, isr: [...isr], zkVersion: st.version, stateZxid: st.mzxid}
    } catch (error) {
      if (!isCode(error, ZkCode.BAD_VERSION)) throw error
      const r = await zk.getJson<{leader: number; leader_epoch: number; isr: number[]; controller_epoch: number}>(path)
      if (!r || r.value.leader !== state.leader || r.value.leader_epoch !== state.leaderEpoch) {
        throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Broker ${ctx.brokerId} is no longer the leader of ${state.topic}-${state.partition} at epoch ${state.leaderEpoch}`)
      }
      expected = {...state, controllerEpoch: r.value.controller_epoch, zkVersion: r.stat.version}
    }
  }
  throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Could not update the ISR of ${state.topic}-${state.partition}`)
}
