// IncrementalAlterConfigs (44): SET / DELETE / APPEND / SUBTRACT on topic configs and on a
// broker's (or the cluster default's) dynamic configs (alter-topic-configs.ts routes both; this
// is also what kafka-reassign-partitions --throttle sets: leader/follower.replication.throttled.rate).
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {alterTopicResources} from './alter-topic-configs.js'

const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

export const incrementalAlterConfigs = defineHandler(Apis.IncrementalAlterConfigs, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker
    const responses = await alterTopicResources(broker, req.resources, !!req.validateOnly, res => incremental(res, broker.replicas.effectiveConfig(res.resourceName)), (res, current) => incremental(res, current))
    return {throttleTimeMs: 0, responses}
  },
})

/** The keys to set and remove for one resource's SET / DELETE / APPEND / SUBTRACT operations. */
function incremental(res: any, effective: Record<string, string>): {set: Record<string, string>; remove: string[]} {
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
  return {set, remove}
}
