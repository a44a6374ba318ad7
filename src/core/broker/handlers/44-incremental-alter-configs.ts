// IncrementalAlterConfigs (44): SET / DELETE / APPEND / SUBTRACT on topic configs.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import type {Handler} from '../handler.js'
import {ResourceType} from '../configs.js'

const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

export const incrementalAlterConfigs: Handler = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker
    const responses = await Promise.all(req.resources.map(async (res: any) => {
      const out = {errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName}
      try {
        if (res.resourceType !== ResourceType.TOPIC) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Only topic configs can be altered on this broker')
        const meta = broker.cluster.topic(res.resourceName)
        if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${res.resourceName} does not exist`)
        const effective = broker.replicas.effectiveConfig(res.resourceName)
        const set: Record<string, string> = {}
        const remove: string[] = []
        for (const c of res.configs) {
          const current = (set[c.name] ?? effective[c.name] ?? '').split(',').map((s: string) => s.trim()).filter(Boolean)
          const items = (c.value ?? '').split(',').map((s: string) => s.trim()).filter(Boolean)
          switch (c.configOperation) {
            case SET:
              if (c.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${c.name}`)
              set[c.name] = c.value
              break
            case DELETE:
              remove.push(c.name)
              break
            case APPEND:
              set[c.name] = [...current, ...items.filter((i: string) => !current.includes(i))].join(',')
              break
            case SUBTRACT:
              set[c.name] = current.filter((i: string) => !items.includes(i)).join(',')
              break
            default:
              throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${c.configOperation}`)
          }
        }
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
