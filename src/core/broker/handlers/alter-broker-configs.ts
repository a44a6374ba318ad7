// IncrementalAlterConfigs (44) on BROKER resources, as Kafka 3.9's ZooKeeper-mode brokers
// take them: resource name "" is the cluster-wide default (/config/brokers/<default>), a broker
// id must be this broker's own (Java's Admin sends each broker's resource to that broker);
// the dynamic keys are written through ClusterManager.alterBrokerConfigs. This is what
// kafka-reassign-partitions --throttle sets (leader/follower.replication.throttled.rate).
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import type {KafkaBroker} from '../broker.js'

const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

export async function alterBrokerResource(broker: KafkaBroker, res: {resourceType: number; resourceName: string; configs: {name: string; configOperation: number; value: string | null}[]}, validateOnly: boolean) {
  const out = {errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName}
  try {
    const name = res.resourceName
    if (name !== '' && name !== String(broker.cluster.brokerId)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.cluster.brokerId}, but received ${name}`)
    const entity = name === '' ? '<default>' : name
    const current = broker.cluster.brokerConfigOverrides()
    const set: Record<string, string> = {}
    const remove: string[] = []
    for (const c of res.configs) {
      const list = (set[c.name] ?? current[c.name] ?? '').split(',').map(s => s.trim()).filter(Boolean)
      const items = (c.value ?? '').split(',').map(s => s.trim()).filter(Boolean)
      switch (c.configOperation) {
        case SET:
          if (c.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${c.name}`)
          set[c.name] = c.value
          break
        case DELETE: remove.push(c.name); break
        case APPEND: set[c.name] = [...list, ...items.filter(i => !list.includes(i))].join(','); break
        case SUBTRACT: set[c.name] = list.filter(i => !items.includes(i)).join(','); break
        default: throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${c.configOperation}`)
      }
    }
    await broker.cluster.alterBrokerConfigs(entity, set, remove, validateOnly)
  } catch (error) {
    out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR
    out.errorMessage = (error as Error).message
  }
  return out
}
