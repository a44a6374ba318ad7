// CreateTopics (19): creates topics through the cluster (ZooKeeper), then waits until this
// broker has opened the partitions it leads, so a produce right after succeeds.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const createTopics = defineHandler(Apis.CreateTopics, {
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const seen = new Map<string, number>()
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1)
    const validateOnly = version >= 1 && !!req.validateOnly
    const timeoutMs = Math.max(0, req.timeoutMs ?? 60000)
    const results = await Promise.all(req.topics.map(async (t: any) => {
      const res: any = {name: t.name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: 0, errorMessage: null, numPartitions: -1, replicationFactor: -1, configs: null}
      if ((seen.get(t.name) ?? 0) > 1) {
        res.errorCode = ErrorCode.INVALID_REQUEST
        res.errorMessage = `Create topics request from client \`${ctx.clientId}\` contains multiple entries for the following topics: ${t.name}`
        return res
      }
      try {
        const assignment: Record<number, number[]> | undefined = t.assignments.length > 0 ? Object.fromEntries(t.assignments.map((a: any) => [a.partitionIndex, a.brokerIds])) : undefined
        if (assignment && (t.numPartitions !== -1 || t.replicationFactor !== -1)) {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.')
        }
        const configs: Record<string, string> = {}
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value
        const meta = await broker.cluster.createTopic(t.name, {numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignment, configs, validateOnly})
        res.topicId = meta.topicId
        res.numPartitions = meta.partitions.length
        res.replicationFactor = meta.partitions[0]?.replicas.length ?? -1
        if (version >= 5) res.configs = broker.topicConfigEntries(meta.name, meta.configs)
        if (!validateOnly) await broker.replicas.waitForTopic(meta.name, Math.min(timeoutMs, 10000))
      } catch (error) {
        if (error instanceof KafkaError) {
          res.errorCode = error.code
          res.errorMessage = error.message
        } else {
          res.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR
          res.errorMessage = (error as Error).message
          broker.logger.error(`Error creating topic ${t.name}: ${(error as Error).message}`)
        }
      }
      return res
    }))
    return {throttleTimeMs: 0, topics: results}
  },
})
