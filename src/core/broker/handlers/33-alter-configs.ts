// AlterConfigs (33): replaces a topic's whole set of overrides.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import type {Handler} from '../handler.js'
import {ResourceType} from '../configs.js'

export const alterConfigs: Handler = {
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker
    const responses = await Promise.all(req.resources.map(async (res: any) => {
      const out = {errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName}
      try {
        if (res.resourceType !== ResourceType.TOPIC) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Only topic configs can be altered on this broker')
        const meta = broker.cluster.topic(res.resourceName)
        if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${res.resourceName} does not exist`)
        const set: Record<string, string> = {}
        for (const c of res.configs) if (c.value !== null) set[c.name] = c.value
        const remove = Object.keys(meta.configs).filter(k => set[k] === undefined)
        await broker.cluster.alterTopicConfigs(res.resourceName, set, remove, !!req.validateOnly)
        if (!req.validateOnly) broker.replicas.topicConfigChanged(res.resourceName)
      } catch (error) {
        out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR
        out.errorMessage = (error as Error).message
      }
      return out
    }))
    return {throttleTimeMs: 0, responses}
  },
}
