// CreatePartitions (37): grows topics through the cluster, then waits for local partitions.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const createPartitions = defineHandler(Apis.CreatePartitions, {
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const broker = ctx.broker
    const results = await Promise.all(req.topics.map(async (t: any) => {
      try {
        if (!broker.cluster.topic(t.name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`)
        await broker.cluster.createPartitions(t.name, t.count, t.assignments ? t.assignments.map((a: any) => a.brokerIds) : undefined, !!req.validateOnly)
        if (!req.validateOnly) {
          await broker.waitUntil(() => (broker.cluster.topic(t.name)?.partitions.length ?? 0) >= t.count, 10000)
          await broker.replicas.waitForTopic(t.name, 10000)
        }
        return {name: t.name, errorCode: 0, errorMessage: null}
      } catch (error) {
        return {name: t.name, errorCode: error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (error as Error).message}
      }
    }))
    return {throttleTimeMs: 0, results}
  },
})
