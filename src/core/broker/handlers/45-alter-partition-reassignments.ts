// AlterPartitionReassignments (45): starts or cancels (replicas null) partition reassignments.
// The controller serves it (ClusterManager.reassignPartitions writes adding_replicas /
// removing_replicas into the topic znode as Kafka 3.9's ZooKeeper-mode controller does);
// another broker answers NOT_CONTROLLER, which the client retries against the controller.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const alterPartitionReassignments = defineHandler(Apis.AlterPartitionReassignments, {
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const cluster = ctx.broker.cluster
    if (!cluster.isController()) return {throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, responses: []}
    const reqs = (req.topics as {name: string; partitions: {partitionIndex: number; replicas: number[] | null}[]}[])
      .flatMap(t => t.partitions.map(p => ({topic: t.name, partition: p.partitionIndex, replicas: p.replicas})))
    const results = await cluster.reassignPartitions(reqs)
    if (results.some(r => r.errorCode === ErrorCode.NOT_CONTROLLER)) return {throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, responses: []}
    const byKey = new Map(results.map(r => [`${r.topic}\u0000${r.partition}`, r]))
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      responses: (req.topics as {name: string; partitions: {partitionIndex: number}[]}[]).map(t => ({
        name: t.name,
        partitions: t.partitions.map(p => {
          const r = byKey.get(`${t.name}\u0000${p.partitionIndex}`)
          return {partitionIndex: p.partitionIndex, errorCode: r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: r && r.errorCode !== 0 ? r.message : null}
        }),
      })),
    }
  },
})
