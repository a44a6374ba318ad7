// DeleteTopics (20): asks the cluster to delete (as Kafka's admin does, through
// /admin/delete_topics) and waits, up to the request's timeout, until the topic is gone.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const deleteTopics = defineHandler(Apis.DeleteTopics, {
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const wanted: {name: string | null; topicId: string}[] = version >= 6 ? req.topics : req.topicNames.map((name: string) => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'}))
    const timeoutMs = Math.min(Math.max(req.timeoutMs ?? 30000, 0), 60000)
    const responses = await Promise.all(wanted.map(async w => {
      let name = w.name
      const res = {name, topicId: w.topicId, errorCode: 0, errorMessage: null as string | null}
      if (name === null || name === undefined) {
        const meta = broker.cluster.topicById(w.topicId)
        if (!meta) {
          res.errorCode = ErrorCode.UNKNOWN_TOPIC_ID
          return res
        }
        name = meta.name
        res.name = name
      }
      const meta = broker.cluster.topic(name)
      if (!meta) {
        res.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        return res
      }
      res.topicId = meta.topicId
      try {
        await broker.cluster.deleteTopic(name)
        const gone = await broker.waitUntil(() => broker.cluster.topic(name!) === undefined, timeoutMs)
        if (!gone) res.errorCode = ErrorCode.REQUEST_TIMED_OUT
      } catch (error) {
        res.errorCode = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR
        res.errorMessage = (error as Error).message
      }
      return res
    }))
    return {throttleTimeMs: 0, responses}
  },
})
