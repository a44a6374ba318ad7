// What DescribeConfigs shows for topics and brokers, as Apache Kafka shows it: the value,
// where it comes from (topic override, server.properties, default), synonyms, types,
// read-only and sensitive flags.
import {TOPIC_CONFIGS, TOPIC_TO_BROKER_KEY, topicConfigDefaults, type ServerConfig} from '../config/server-config.js'
import {BROKER_DEFAULTS, BROKER_KEYS, KAFKA_DYNAMIC_BROKER_KEYS} from '../config/broker-keys.js'
import {sensitiveKey} from '../security/config.js'
import {DYNAMIC_BROKER_KEYS} from '../cluster/cluster.js'

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

/**
 * Every topic-level config with its effective value for a topic with these overrides. Synonyms
 * as Kafka's ZkAdminManager: the topic override, then the broker key's synonyms by layer
 * (see brokerKeySynonyms); layers apart when known, else dynamicBroker counts as this broker's own.
 */
export function topicConfigEntries(config: ServerConfig, overrides: Record<string, string>, dynamicBroker: Record<string, string> = {}, layers?: DynamicBrokerLayers): ConfigEntry[] {
  const defaults = topicConfigDefaults(config, dynamicBroker)
  const byLayer = layers ?? {default: {}, own: dynamicBroker}
  return Object.keys(TOPIC_CONFIGS).sort().map(key => {
    const brokerKey = TOPIC_TO_BROKER_KEY[key]
    const synonyms: ConfigEntry['synonyms'] = []
    if (overrides[key] !== undefined) synonyms.push({name: key, value: overrides[key], source: ConfigSource.DYNAMIC_TOPIC_CONFIG})
    if (brokerKey) synonyms.push(...brokerKeySynonyms(brokerKey, config, byLayer, true, false))
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

/** A value as Kafka prints it after parsing it (the synonyms keep it as written): lists comma-joined, booleans lower case. */
function asKafkaPrintsIt(value: string | null, type: number): string | null {
  if (value === null) return null
  if (type === ConfigType.LIST) return value.trim() === '' ? '' : value.trim().split(/\s*,\s*/).join(',')
  if (type === ConfigType.BOOLEAN) return value.trim().toLowerCase()
  return value
}

/** The dynamic broker configs in their two layers (the cluster default and this broker's own). */
export interface DynamicBrokerLayers {
  default: Record<string, string>
  own: Record<string, string>
}

/** Kafka's broker config synonyms (DynamicBrokerConfig.brokerConfigSynonyms): the names one setting goes by, most specific first. */
export function brokerSynonyms(name: string): string[] {
  const families = [
    ['log.roll.ms', 'log.roll.hours'],
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ]
  for (const f of families) if (f.includes(name)) return f.slice(f.indexOf(name))
  if (name === 'log.flush.interval.ms') return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']
  const m = /^listener\.name\.[^.]+\.(.+)$/.exec(name)
  if (m) {
    // listener.name.<l>.<mechanism>.sasl.jaas.config has no unprefixed synonym with the mechanism.
    const base = m[1].replace(/^[^.]+\.(?=sasl\.jaas\.config$)/, '')
    return [name, base]
  }
  return [name]
}

/** Kafka's ConfigDef default of a broker key as Kafka prints it (undefined when Kafka has none). */
function staticBrokerDefault(config: ServerConfig, key: string): string | undefined {
  if (key in BROKER_DEFAULTS) return BROKER_DEFAULTS[key] ?? undefined
  const topicKey = Object.keys(TOPIC_CONFIGS).find(k => TOPIC_CONFIGS[k].brokerKey === key)
  return topicKey !== undefined ? topicConfigDefaults(config, {})[topicKey] : undefined
}

/**
 * Kafka's configSynonyms for a broker key: each of its synonym names (brokerSynonyms) from this
 * broker's dynamic configs, the cluster default's, server.properties and Kafka's defaults, in
 * that order, then everything before the first entry for the key itself dropped (so
 * log.retention.ms with nothing set has no synonyms, not log.retention.hours' default).
 * perBroker false (the cluster-default resource): only the cluster default layer.
 */
export function brokerKeySynonyms(name: string, config: ServerConfig, layers: DynamicBrokerLayers, perBroker: boolean, sensitive: boolean): ConfigEntry['synonyms'] {
  const out: ConfigEntry['synonyms'] = []
  const all = brokerSynonyms(name)
  const add = (map: (k: string) => string | undefined, source: number) => {
    for (const k of all) {
      const v = map(k)
      if (v !== undefined) out.push({name: k, value: sensitive ? null : v, source})
    }
  }
  if (perBroker) add(k => layers.own[k], ConfigSource.DYNAMIC_BROKER_CONFIG)
  add(k => layers.default[k], ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
  if (perBroker) {
    // A ZooKeeper-mode Kafka broker copies broker.id into its static node.id.
    add(k => config.props.get(k)?.trim() ?? (k === 'node.id' ? String(config.brokerId) : undefined), ConfigSource.STATIC_BROKER_CONFIG)
    add(k => staticBrokerDefault(config, k), ConfigSource.DEFAULT_CONFIG)
  }
  const first = out.findIndex(x => x.name === name)
  return first < 0 ? [] : out.slice(first)
}

/**
 * A broker resource's configs as Kafka's ZkAdminManager describes them: perBroker (the
 * broker's id) lists every key with its effective value and synonyms (own dynamic, cluster
 * default, server.properties, Kafka's default); the cluster default resource (name '') lists
 * only the /config/brokers/<default> keys.
 */
export function brokerConfigEntries(config: ServerConfig, layers: DynamicBrokerLayers = {default: {}, own: {}}, perBroker = true): ConfigEntry[] {
  const defaults = topicConfigDefaults(config, {...layers.default, ...layers.own})
  const names = new Set<string>()
  if (perBroker) {
    // Every key Kafka lists for a broker (its non-internal KafkaConfig keys), as Kafka does.
    for (const k of Object.keys(BROKER_DEFAULTS)) names.add(k)
    for (const d of Object.values(TOPIC_CONFIGS)) if (d.brokerKey) names.add(d.brokerKey)
    for (const k of config.props.keys()) names.add(k)
    for (const k of Object.keys(layers.own)) names.add(k)
  }
  for (const k of Object.keys(layers.default)) names.add(k)
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
  return [...names].sort().map(name => {
    const sensitive = sensitiveKey(name)
    const synonyms = brokerKeySynonyms(name, config, layers, perBroker, sensitive)
    const source = synonyms.length > 0 ? synonyms[0].source : ConfigSource.DEFAULT_CONFIG
    let value: string | null = synonyms.length > 0 && synonyms[0].name === name ? synonyms[0].value : null
    // A key of a family (log.retention.ms, .minutes, .hours) that is not itself set is null, as in Kafka.
    const unsetFamilyKey = synonyms.length === 0 && brokerSynonyms(name).length > 1
    if (perBroker && !unsetFamilyKey && (value === null || synonyms[0].name !== name)) {
      const topicKey = Object.keys(TOPIC_CONFIGS).find(k => TOPIC_CONFIGS[k].brokerKey === name)
      value = topicKey !== undefined ? defaults[topicKey] : known[name] ?? (synonyms.length > 0 ? synonyms[0].value : BROKER_DEFAULTS[name] ?? null)
    }
    value = sensitive ? null : asKafkaPrintsIt(value, brokerKeyType(name))
    const dynamic = source === ConfigSource.DYNAMIC_BROKER_CONFIG || source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
    return {name, value, readOnly: !dynamic && !KAFKA_DYNAMIC_BROKER_KEYS.has(name), isDefault: source === ConfigSource.DEFAULT_CONFIG, configSource: source, isSensitive: sensitive, synonyms, configType: brokerKeyType(name), documentation: null}
  })
}
