// DescribeConfigs (32): topic and broker resources (a broker id, or '' for the cluster default).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {ResourceType, brokerConfigEntries, topicConfigEntries} from '../configs.js'

export const describeConfigs = defineHandler(Apis.DescribeConfigs, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req, version) {
    const broker = ctx.broker
    const dyn = broker.dynamicBrokerConfigs()
    return {
      throttleTimeMs: 0,
      results: req.resources.map((res: any) => {
        const out = {errorCode: 0, errorMessage: '' as string | null, resourceType: res.resourceType, resourceName: res.resourceName, configs: [] as object[]}
        let entries
        if (res.resourceType === ResourceType.TOPIC) {
          const meta = broker.cluster.topic(res.resourceName)
          if (!meta) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            out.errorMessage = '' // as Kafka 3.9's broker: no message
            return out
          }
          entries = topicConfigEntries(broker.config, meta.configs, dyn, broker.dynamicBrokerLayers())
        } else if (res.resourceType === ResourceType.BROKER) {
          if (res.resourceName !== '' && res.resourceName !== String(broker.brokerId)) {
            out.errorCode = ErrorCode.INVALID_REQUEST
            out.errorMessage = `Unexpected broker id, expected ${broker.brokerId} or empty string, but received ${res.resourceName}`
            return out
          }
          // '' is the cluster default (/config/brokers/<default>), as Kafka's ZkAdminManager.
          entries = brokerConfigEntries(broker.config, broker.dynamicBrokerLayers(), res.resourceName !== '')
        } else {
          out.errorCode = ErrorCode.INVALID_REQUEST
          out.errorMessage = `Unsupported resource type ${res.resourceType}`
          return out
        }
        const keys: string[] | null = res.configurationKeys
        if (keys !== null && keys.length > 0) entries = entries.filter(e => keys.includes(e.name))
        const synonyms = version >= 1 && !!req.includeSynonyms
        out.configs = entries.map(e => ({...e, synonyms: synonyms ? e.synonyms : []}))
        return out
      }),
    }
  },
})
