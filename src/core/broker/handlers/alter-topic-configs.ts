// Shared by AlterConfigs (33) and IncrementalAlterConfigs (44): per resource, check it is an
// existing topic, let the API compute the overrides to set and remove, write them through the
// cluster (honouring validateOnly) and answer each resource with its own error.
import {ErrorCode, KafkaError} from '../../protocol/errors.js'
import type {KafkaBroker} from '../broker.js'
import {ResourceType} from '../configs.js'
import type {TopicMeta} from '../../cluster/cluster.js'

export type ConfigChange = {set: Record<string, string>; remove: string[]}

export async function alterTopicResources(broker: KafkaBroker, resources: any[], validateOnly: boolean, change: (res: any, meta: TopicMeta) => ConfigChange) {
  return Promise.all(resources.map(async (res: any) => {
    const out = {errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName}
    try {
      if (res.resourceType !== ResourceType.TOPIC) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Only topic configs can be altered on this broker')
      const meta = broker.cluster.topic(res.resourceName)
      if (!meta) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${res.resourceName} does not exist`)
      const {set, remove} = change(res, meta)
      await broker.cluster.alterTopicConfigs(res.resourceName, set, remove, validateOnly)
      if (!validateOnly) broker.replicas.topicConfigChanged(res.resourceName)
    } catch (error) {
      out.errorCode = error instanceof KafkaError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR
      out.errorMessage = (error as Error).message
    }
    return out
  }))
}
