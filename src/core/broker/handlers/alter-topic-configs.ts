// Shared by AlterConfigs (33) and IncrementalAlterConfigs (44): per resource, check it is an
// existing topic (or this broker / the cluster default, written to /config/brokers/<id|<default>>), let the API compute the overrides to set and remove, write them through the
// cluster (honouring validateOnly) and answer each resource with its own error.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import type {KafkaBroker} from '../broker.js'
import {ResourceType} from '../configs.js'
import type {TopicMeta} from '../../cluster/cluster.js'

export type ConfigChange = {set: Record<string, string>; remove: string[]}

/**
 * brokerChange: for a broker resource (this broker's id, or '' for the cluster default), the
 * keys to set and remove given that entity's current dynamic configs; replace makes the set
 * the entity's whole config (AlterConfigs). Without it only topics can be altered.
 */
export async function alterTopicResources(broker: KafkaBroker, resources: any[], validateOnly: boolean, change: (res: any, meta: TopicMeta) => ConfigChange,
  brokerChange?: (res: any, current: Record<string, string>) => ConfigChange, replace = false) {
  return Promise.all(resources.map(async (res: any) => {
    const out = {errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName}
    try {
      if (res.resourceType === ResourceType.BROKER && brokerChange) {
        if (res.resourceName !== '' && res.resourceName !== String(broker.brokerId)) {
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.brokerId} or empty string, but received ${res.resourceName}`)
        }
        const layers = broker.dynamicBrokerLayers()
        const {set, remove} = brokerChange(res, res.resourceName === '' ? layers.default : layers.own)
        await broker.cluster.alterBrokerConfigs(res.resourceName === '' ? '<default>' : res.resourceName, set, remove, validateOnly, replace).catch(e => {
          // Kafka 3.9's broker answers a bad broker config with INVALID_REQUEST.
          if (e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG) throw new KafkaError(ErrorCode.INVALID_REQUEST, e.message)
          throw e
        })
        return out
      }
      if (res.resourceType !== ResourceType.TOPIC) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Only topic and broker configs can be altered on this broker')
      const meta = broker.cluster.topic(res.resourceName)
      if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${res.resourceName} does not exist`)
      const {set, remove} = change(res, meta)
      await broker.cluster.alterTopicConfigs(res.resourceName, set, remove, validateOnly).catch(e => {
        // Kafka names the resource in a bad value's message.
        if (e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG) throw new KafkaError(e.code, `Invalid config value for resource ConfigResource(type=TOPIC, name='${res.resourceName}'): ${e.message}`)
        throw e
      })
      if (!validateOnly) broker.replicas.topicConfigChanged(res.resourceName)
    } catch (error) {
      out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR
      out.errorMessage = (error as Error).message
    }
    return out
  }))
}
