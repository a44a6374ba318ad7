// IncrementalAlterConfigs (44): SET / DELETE / APPEND / SUBTRACT on topic configs and on
// dynamic broker configs (alter-broker-configs.ts).
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {alterTopicResources} from './alter-topic-configs.js'
import {alterBrokerResource} from './alter-broker-configs.js'
import {ResourceType} from '../configs.js'

const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

export const incrementalAlterConfigs = defineHandler(Apis.IncrementalAlterConfigs, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker
    const brokerResources = req.resources.filter((r: any) => r.resourceType === ResourceType.BROKER)
    const brokerResponses = await Promise.all(brokerResources.map((r: any) => alterBrokerResource(broker, r, !!req.validateOnly)))
    const responses = await alterTopicResources(broker, req.resources.filter((r: any) => r.resourceType !== ResourceType.BROKER), !!req.validateOnly, res => {
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
      return {set, remove}
    })
    return {throttleTimeMs: 0, responses: [...brokerResponses, ...responses]}
  },
})
