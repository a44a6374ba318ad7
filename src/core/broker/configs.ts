// What DescribeConfigs shows for topics and brokers, as Apache Kafka shows it: the value,
// where it comes from (topic override, server.properties, default), synonyms, types,
// read-only and sensitive flags.
import {TOPIC_CONFIGS, TOPIC_TO_BROKER_KEY, topicConfigDefaults, type ServerConfig} from '../config/server-config.js'
import {BROKER_KEYS} from '../config/broker-keys.js'
import {sensitiveKey} from '../security/config.js'

export const ConfigSource = {UNKNOWN: 0, DYNAMIC_TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5, DYNAMIC_BROKER_LOGGER_CONFIG: 6} as const
export const ResourceType = {TOPIC: 2, GROUP: 3, BROKER: 4, BROKER_LOGGER: 8} as const
const ConfigType = {BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9} as const

export interface ConfigEntry {
  name: string
  value: string | null
  readOnly: boolean
  isDefault: boolean
  configSource: number
  isSensitive: boolean
  synonyms: {name: string; value: string | null; source: number}[]
  configType: number
  documentation: string | null
}

function topicType(key: string): number {
  const t = TOPIC_CONFIGS[key]?.type
  switch (t) {
    case 'boolean': return ConfigType.BOOLEAN
    case 'int': return ConfigType.INT
    case 'long': return ConfigType.LONG
    case 'double': return ConfigType.DOUBLE
    case 'list': return ConfigType.LIST
    default: return ConfigType.STRING
  }
}

/** Every topic-level config with its effective value for a topic with these overrides. */
export function topicConfigEntries(config: ServerConfig, overrides: Record<string, string>, dynamicBroker: Record<string, string> = {}): ConfigEntry[] {
  const defaults = topicConfigDefaults(config, dynamicBroker)
  return Object.keys(TOPIC_CONFIGS).sort().map(key => {
    const brokerKey = TOPIC_TO_BROKER_KEY[key]
    const synonyms: ConfigEntry['synonyms'] = []
    if (overrides[key] !== undefined) synonyms.push({name: key, value: overrides[key], source: ConfigSource.DYNAMIC_TOPIC_CONFIG})
    if (brokerKey && dynamicBroker[brokerKey] !== undefined) synonyms.push({name: brokerKey, value: dynamicBroker[brokerKey], source: ConfigSource.DYNAMIC_BROKER_CONFIG})
    if (brokerKey && config.props.has(brokerKey)) synonyms.push({name: brokerKey, value: config.props.get(brokerKey)!.trim(), source: ConfigSource.STATIC_BROKER_CONFIG})
    if (brokerKey) synonyms.push({name: brokerKey, value: defaults[key], source: ConfigSource.DEFAULT_CONFIG})
    const value = overrides[key] ?? defaults[key]
    const source = synonyms.length > 0 ? synonyms[0].source : ConfigSource.DEFAULT_CONFIG
    return {name: key, value, readOnly: false, isDefault: source === ConfigSource.DEFAULT_CONFIG, configSource: source, isSensitive: false, synonyms, configType: topicType(key), documentation: null}
  })
}

/** The config type Kafka gives a broker key (listener-prefixed keys take their key's type). */
function brokerKeyType(name: string): number {
  const t = BROKER_KEYS[name.replace(/^listener\.name\.[^.]+\.([^.]+\.(?=sasl\.))?/, '')]?.[0]
  return t !== undefined ? ConfigType[t] : ConfigType.STRING
}

/** The broker's configs: every key from server.properties plus the topic-default keys. */
export function brokerConfigEntries(config: ServerConfig, dynamicBroker: Record<string, string> = {}): ConfigEntry[] {
  const defaults = topicConfigDefaults(config, dynamicBroker)
  const values = new Map<string, {value: string; source: number}>()
  for (const [topicKey, d] of Object.entries(TOPIC_CONFIGS)) {
    if (d.brokerKey) values.set(d.brokerKey, {value: defaults[topicKey], source: ConfigSource.DEFAULT_CONFIG})
  }
  const known: Record<string, string> = {
    'broker.id': String(config.brokerId),
    'num.partitions': String(config.numPartitions),
    'default.replication.factor': String(config.defaultReplicationFactor),
    'auto.create.topics.enable': String(config.autoCreateTopicsEnable),
    'delete.topic.enable': String(config.deleteTopicEnable),
    'log.dirs': config.logDirs.join(','),
    'zookeeper.connect': config.zookeeperConnect,
    'offsets.topic.num.partitions': String(config.offsetsTopicNumPartitions),
    'offsets.topic.replication.factor': String(config.offsetsTopicReplicationFactor),
    'group.initial.rebalance.delay.ms': String(config.groupInitialRebalanceDelayMs),
    'socket.request.max.bytes': String(config.socketRequestMaxBytes),
  }
  for (const [k, v] of Object.entries(known)) if (!values.has(k)) values.set(k, {value: v, source: ConfigSource.DEFAULT_CONFIG})
  for (const [k, v] of config.props) values.set(k, {value: v.trim(), source: ConfigSource.STATIC_BROKER_CONFIG})
  for (const [k, v] of Object.entries(dynamicBroker)) values.set(k, {value: v, source: ConfigSource.DYNAMIC_BROKER_CONFIG})
  return [...values.keys()].sort().map(name => {
    const {value, source} = values.get(name)!
    // Kafka never shows a secret (PASSWORD keys, listener-prefixed or not): sensitive, no value.
    const sensitive = sensitiveKey(name)
    return {name, value: sensitive ? null : value, readOnly: source !== ConfigSource.DYNAMIC_BROKER_CONFIG, isDefault: source === ConfigSource.DEFAULT_CONFIG, configSource: source, isSensitive: sensitive, synonyms: [{name, value: sensitive ? null : value, source}], configType: brokerKeyType(name), documentation: null}
  })
}
