// FindCoordinator (10): the leader of the group's __consumer_offsets partition, or (key type
// 1) of the transactional id's __transaction_state partition; both topics are created on
// first use.
import {ErrorCode, KafkaError, errorMessage} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {KafkaBroker} from '../broker.js'

async function locate(broker: KafkaBroker, key: string, keyType: number, listener: string): Promise<{nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null}> {
  const none = (code: number, msg?: string) => ({nodeId: -1, host: '', port: -1, errorCode: code, errorMessage: msg ?? errorMessage(code)})
  if (keyType !== 0 && keyType !== 1) return none(ErrorCode.INVALID_REQUEST, `Unknown coordinator type ${keyType}`)
  const txn = keyType === 1
  if (key === '') return none(ErrorCode.INVALID_REQUEST, txn ? 'Transactional id must not be empty' : 'Group id must not be empty')
  try {
    await (txn ? broker.ensureTxnTopic() : broker.ensureOffsetsTopic())
  } catch (error) {
    return none(error instanceof KafkaError ? error.code : ErrorCode.COORDINATOR_NOT_AVAILABLE, (error as Error).message)
  }
  const meta = broker.cluster.topic(txn ? '__transaction_state' : '__consumer_offsets')
  const p = meta?.partitions[txn ? broker.txns.partitionFor(key) : broker.groups.partitionFor(key)]
  if (!p || p.leader < 0) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  const node = broker.liveBrokers(listener).find(b => b.nodeId === p.leader)
  if (!node) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  return {nodeId: node.nodeId, host: node.host, port: node.port, errorCode: 0, errorMessage: null}
}

export const findCoordinator = defineHandler(Apis.FindCoordinator, {
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req, version) {
    if (version >= 4) {
      // v4+: Kafka answers each key's error code without a message.
      const coordinators = await Promise.all(req.coordinatorKeys.map(async (key: string) => ({key, ...(await locate(ctx.broker, key, req.keyType, ctx.conn.listener.name)), errorMessage: ''})))
      return {throttleTimeMs: 0, coordinators, errorCode: 0, errorMessage: null, nodeId: 0, host: '', port: 0}
    }
    const c = await locate(ctx.broker, req.key, version >= 1 ? req.keyType : 0, ctx.conn.listener.name)
    return {throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorCode === 0 ? null : c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port, coordinators: []}
  },
})
