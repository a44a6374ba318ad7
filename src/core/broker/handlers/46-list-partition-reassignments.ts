// ListPartitionReassignments (46): the reassignments in progress (all, or those among the
// listed partitions), from the controller's cache of the topic znodes; another broker
// answers NOT_CONTROLLER, as Kafka's ZooKeeper-mode brokers do.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const listPartitionReassignments = defineHandler(Apis.ListPartitionReassignments, {
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const cluster = ctx.broker.cluster
    if (!cluster.isController()) return {throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, topics: []}
    const wanted = req.topics === null ? null : new Set((req.topics as {name: string; partitionIndexes: number[]}[]).flatMap(t => t.partitionIndexes.map(p => `${t.name}\u0000${p}`)))
    const byTopic = new Map<string, {partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[]}[]>()
    for (const r of cluster.listPartitionReassignments()) {
      if (wanted && !wanted.has(`${r.topic}\u0000${r.partition}`)) continue
      let list = byTopic.get(r.topic)
      if (!list) byTopic.set(r.topic, list = [])
      list.push({partitionIndex: r.partition, replicas: r.replicas, addingReplicas: r.addingReplicas, removingReplicas: r.removingReplicas})
    }
    return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [...byTopic].map(([name, partitions]) => ({name, partitions}))}
  },
})
