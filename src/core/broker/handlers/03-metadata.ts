// Metadata (3): brokers, cluster id, controller, topics with partition leadership; creates
// requested topics when auto-creation is allowed (by the request and the broker).
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {AUTHORIZED_OPERATIONS_OMITTED, defineHandler} from '../handler.js'
import {Apis, type MetadataResponseMetadataResponseTopic} from '../../protocol/messages.js'
import type {KafkaBroker} from '../broker.js'

// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: no ACLs here.
const TOPIC_OPERATIONS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11)
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function describeTopic(broker: KafkaBroker, name: string, version: number, includeOps: boolean, live: Set<number>): MetadataResponseMetadataResponseTopic | null {
  const meta = broker.cluster.topic(name)
  if (!meta) return null
  return {
    errorCode: 0,
    name: meta.name,
    topicId: meta.topicId,
    isInternal: meta.internal,
    partitions: meta.partitions.map(p => ({
      errorCode: p.leader >= 0 && live.has(p.leader) ? 0 : ErrorCode.LEADER_NOT_AVAILABLE,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: p.replicas.filter(r => !live.has(r)),
    })),
    topicAuthorizedOperations: includeOps && version >= 8 ? TOPIC_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
  }
}

export const metadata = defineHandler(Apis.Metadata, {
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const includeOps = !!req.includeTopicAuthorizedOperations
    const allowAuto = version < 4 ? true : req.allowAutoTopicCreation !== false
    const all = req.topics === null || (version === 0 && req.topics.length === 0)
    const topics: MetadataResponseMetadataResponseTopic[] = []
    let live = new Set(broker.cluster.brokers().map(b => b.id))
    if (all) {
      for (const name of [...broker.cluster.topics().keys()].sort()) {
        const t = describeTopic(broker, name, version, includeOps, live)
        if (t && !broker.cluster.topic(name)!.markedForDeletion) topics.push(t)
      }
    } else {
      const wanted = req.topics ?? []
      const toCreate: string[] = []
      for (const w of wanted) {
        if (w.name === null || w.name === undefined) continue
        if (!broker.cluster.topic(w.name) && allowAuto && broker.settings.autoCreateTopics) toCreate.push(w.name)
      }
      const createErrors = new Map<string, number>()
      if (toCreate.length > 0) {
        await Promise.all(toCreate.map(async name => {
          try {
            await broker.autoCreateTopic(name)
          } catch (error) {
            createErrors.set(name, error instanceof KafkaError ? error.code : ErrorCode.LEADER_NOT_AVAILABLE)
          }
        }))
        live = new Set(broker.cluster.brokers().map(b => b.id))
      }
      for (const w of wanted) {
        let name = w.name
        if ((name === null || name === undefined) && w.topicId && w.topicId !== ZERO_UUID) {
          const meta = broker.cluster.topicById(w.topicId)
          if (!meta) {
            topics.push({errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: w.topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED})
            continue
          }
          name = meta.name
        }
        if (name === null || name === undefined) continue
        const t = describeTopic(broker, name, version, includeOps, live)
        if (t) {
          topics.push(t)
          continue
        }
        const code = createErrors.get(name) ?? (broker.validTopicName(name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION)
        topics.push({errorCode: code === ErrorCode.TOPIC_ALREADY_EXISTS ? ErrorCode.LEADER_NOT_AVAILABLE : code, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED})
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: broker.liveBrokers(ctx.conn.listener.name).map(b => ({nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack})),
      clusterId: broker.cluster.clusterId,
      controllerId: broker.cluster.controllerId(),
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }
  },
})
