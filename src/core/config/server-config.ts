// The broker's configuration: server.properties (+ --override k=v) read into typed fields
// with Apache Kafka 3.9's defaults (ZooKeeper mode). Unknown keys are warnings; a bad value
// is a ConfigError naming the key, the value and the file. Also the topic-level configs:
// their broker-level defaults, the topic key <-> broker key mapping and value validation.
import {hostname} from 'node:os'
import {loadProperties, parseProperties} from './properties.js'
import {ConfigError, Settings} from './settings.js'
import {BROKER_KEYS} from './broker-keys.js'
import {securityKeyUse} from '../security/config.js'

export {ConfigError}

export interface Listener {
  /** Listener name (PLAINTEXT, INTERNAL, ...). */
  name: string
  /** Host to bind ('' = all interfaces) or to advertise. */
  host: string
  port: number
  securityProtocol: string
}

export interface ServerConfig {
  /** The file the config came from (for messages). */
  source: string
  /** Every raw key/value after overrides (dynamic lookups, DescribeConfigs). */
  props: Map<string, string>
  /** Unknown keys and similar non-fatal findings, one line each. */
  warnings: string[]

  brokerId: number
  brokerIdGenerationEnable: boolean
  reservedBrokerMaxId: number
  brokerRack: string | null
  listeners: Listener[]
  advertisedListeners: Listener[]
  listenerSecurityProtocolMap: Record<string, string>
  interBrokerListenerName: string

  logDirs: string[]
  numPartitions: number
  defaultReplicationFactor: number
  /** Effective retention (log.retention.ms > minutes > hours), -1 = unlimited. */
  logRetentionMs: number
  logRetentionBytes: number
  logSegmentBytes: number
  /** Effective roll time (log.roll.ms > log.roll.hours). */
  logRollMs: number
  logRollJitterMs: number
  logIndexIntervalBytes: number
  logIndexSizeMaxBytes: number
  logRetentionCheckIntervalMs: number
  logFlushIntervalMessages: number
  /** Effective flush interval (log.flush.interval.ms, else log.flush.scheduler.interval.ms). */
  logFlushIntervalMs: number
  logFlushSchedulerIntervalMs: number
  logFlushOffsetCheckpointIntervalMs: number
  logSegmentDeleteDelayMs: number
  logCleanupPolicy: string[]
  logCleanerEnable: boolean
  logCleanerDeleteRetentionMs: number
  logCleanerMinCompactionLagMs: number
  logCleanerMaxCompactionLagMs: number
  logCleanerMinCleanableRatio: number
  logPreallocate: boolean
  logMessageTimestampType: 'CreateTime' | 'LogAppendTime'
  logMessageTimestampBeforeMaxMs: number
  logMessageTimestampAfterMaxMs: number
  messageMaxBytes: number
  compressionType: string

  zookeeperConnect: string
  zookeeperSessionTimeoutMs: number
  zookeeperConnectionTimeoutMs: number
  zookeeperMaxInFlightRequests: number
  /** zookeeper.set.acl: kafkit's znodes get Kafka's secure ACLs (the broker authenticates to ZooKeeper). */
  zookeeperSetAcl: boolean

  groupInitialRebalanceDelayMs: number
  /** max.incremental.fetch.session.cache.slots: how many fetch sessions the broker keeps. */
  fetchSessionCacheSlots: number
  groupMinSessionTimeoutMs: number
  groupMaxSessionTimeoutMs: number
  groupMaxSize: number
  offsetsTopicNumPartitions: number
  offsetsTopicReplicationFactor: number
  offsetsTopicSegmentBytes: number
  offsetsRetentionMinutes: number
  offsetsRetentionCheckIntervalMs: number
  offsetsCommitTimeoutMs: number
  transactionStateLogNumPartitions: number
  transactionStateLogReplicationFactor: number
  transactionStateLogMinIsr: number
  transactionStateLogSegmentBytes: number
  transactionalIdExpirationMs: number
  transactionMaxTimeoutMs: number
  transactionAbortTimedOutTransactionCleanupIntervalMs: number
  transactionRemoveExpiredTransactionCleanupIntervalMs: number
  /** transaction.partition.verification.enable (KIP-890): leaders check a transactional produce with the coordinator. */
  transactionPartitionVerificationEnable: boolean
  logCleanerBackoffMs: number
  producerIdExpirationMs: number

  autoCreateTopicsEnable: boolean
  deleteTopicEnable: boolean
  socketRequestMaxBytes: number
  /** queued.max.request.bytes (-1: bounded by socket.request.max.bytes): memory for large frames being received. */
  queuedMaxRequestBytes: number
  socketSendBufferBytes: number
  socketReceiveBufferBytes: number
  connectionsMaxIdleMs: number
  maxConnections: number
  maxConnectionsPerIp: number
  fetchMaxBytes: number

  minInsyncReplicas: number
  uncleanLeaderElectionEnable: boolean
  replicaLagTimeMaxMs: number
  replicaFetchMaxBytes: number
  replicaFetchWaitMaxMs: number
  replicaFetchMinBytes: number
  replicaFetchResponseMaxBytes: number
  replicaHighWatermarkCheckpointIntervalMs: number
  replicaSocketTimeoutMs: number
  controlledShutdownEnable: boolean
  autoLeaderRebalanceEnable: boolean
  leaderImbalanceCheckIntervalSeconds: number
  leaderImbalancePerBrokerPercentage: number
}

/** Keys Kafka accepts that have no meaning in kafkit, with the reason (accepted silently). */
export const ACCEPTED_WITHOUT_EFFECT: Record<string, string> = {
  'num.network.threads': 'kafkit serves sockets on the Node event loop',
  'num.io.threads': 'kafkit handles requests on the Node event loop',
  'num.recovery.threads.per.data.dir': 'log recovery runs on the event loop',
  'num.replica.fetchers': 'one fetcher per source broker',
  'num.replica.alter.log.dirs.threads': 'no inter-directory moves',
  'background.threads': 'timers run on the event loop',
  'queued.max.requests': 'requests are handed to their handler as they arrive, within per-connection bounds',
  'socket.listen.backlog.size': 'Node chooses the backlog',
  'log.cleaner.threads': 'no thread pool',
  'log.cleaner.dedupe.buffer.size': 'no JVM heap to size',
  'log.cleaner.io.buffer.size': 'no JVM heap to size',
  'log.cleaner.io.buffer.load.factor': 'no JVM heap to size',
  'log.cleaner.io.max.bytes.per.second': 'not throttled',
  'log.flush.start.offset.checkpoint.interval.ms': 'checkpoints are written with the recovery point',
  'log.message.downconversion.enable': 'kafkit serves record batches v2 only',
  'log.message.format.version': 'kafkit writes message format v2 only',
  'inter.broker.protocol.version': 'kafkit speaks one inter-broker protocol',
  'zookeeper.clientCnxnSocket': 'JVM-only setting',
  'metric.reporters': 'no JMX',
  'metrics.num.samples': 'no JMX',
  'metrics.sample.window.ms': 'no JMX',
  'metrics.recording.level': 'no JMX',
  'kafka.metrics.reporters': 'no JMX',
  'kafka.metrics.polling.interval.secs': 'no JMX',
  'auto.include.jmx.reporter': 'no JMX',
  'controller.socket.timeout.ms': 'ZooKeeper is the controller channel',
  'controlled.shutdown.max.retries': 'shutdown resigns through ZooKeeper',
  'controlled.shutdown.retry.backoff.ms': 'shutdown resigns through ZooKeeper',
  'offsets.load.buffer.size': 'no JVM heap to size',
  'offsets.topic.compression.codec': 'offsets are written uncompressed',
  'offsets.commit.required.acks': 'deprecated in Kafka',
  'transaction.state.log.load.buffer.size': 'no JVM heap to size',
  'fetch.purgatory.purge.interval.requests': 'no purgatory',
  'producer.purgatory.purge.interval.requests': 'no purgatory',
  'delete.records.purgatory.purge.interval.requests': 'no purgatory',
  'replica.fetch.backoff.ms': 'internal schedule',
  'replica.socket.receive.buffer.bytes': 'Node sizes socket buffers',
  'log.dir.failure.timeout.ms': 'KRaft only',
  'group.coordinator.rebalance.protocols': 'classic protocol only',
  'group.coordinator.new.enable': 'classic coordinator only',
  'confluent.support.metrics.enable': 'Confluent distribution key',
  'confluent.support.customer.id': 'Confluent distribution key',
}

/** Key prefixes accepted without effect (listener-, SSL-, SASL-, quota-specific settings). */
const ACCEPTED_PREFIXES = ['listener.name.', 'quota.', 'replication.quota.', 'remote.log.', 'log.local.retention.', 'client.quota.', 'confluent.']

const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL'
const JAVA_LONG_MAX = Number.MAX_SAFE_INTEGER // Long.MAX_VALUE, clamped to JS's exact range
const INT_MAX = 2147483647

/** Reads server.properties (or any broker .properties file) and applies --override k=v pairs. */
export function loadServerConfig(file: string, overrides: string[] = []): ServerConfig {
  return serverConfigFromProps(loadProperties(file), file, overrides)
}

const NUMBER_TYPES: Record<string, [bigint, bigint]> = {
  SHORT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  LONG: [-9223372036854775808n, 9223372036854775807n],
}
const JAVA_DOUBLE = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/

/**
 * Every key Kafka knows is checked against Kafka's type and range (broker-keys.ts, from Kafka's
 * ConfigDef), whether or not kafkit uses it: a value Kafka refuses stops start-up here too, with
 * Kafka's words and the file.
 */
function checkKafkaTypes(map: Map<string, string>, source: string): void {
  for (const [key, raw] of map) {
    const spec = BROKER_KEYS[key]
    if (spec === undefined) continue
    const [type, min, max] = spec
    const v = raw.trim()
    const bad = (why: string) => new ConfigError(`Invalid value ${v} for configuration ${key} in ${source}: ${why}`)
    let n: number | undefined
    if (type in NUMBER_TYPES) {
      if (v === '' && type !== 'SHORT') continue // Kafka treats an empty value as unset for most keys; kafkit's readers use the default
      if (!/^[+-]?\d+$/.test(v)) throw bad(`Not a number of type ${type}`)
      const big = BigInt(v)
      const [lo, hi] = NUMBER_TYPES[type]
      if (big < lo || big > hi) throw bad(`Not a number of type ${type}`)
      n = Number(big)
    } else if (type === 'DOUBLE') {
      if (v === '') continue
      if (!JAVA_DOUBLE.test(v)) throw bad('Not a number of type DOUBLE')
      n = Number.parseFloat(v.replace(/[fFdD]$/, ''))
    } else if (type === 'BOOLEAN') {
      if (v === '') continue
      if (v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false') throw bad('Expected value to be either true or false')
    }
    if (n !== undefined) {
      if (min !== undefined && n < min) throw bad(`Value must be at least ${min}`)
      if (max !== undefined && n > max) throw bad(`Value must be no more than ${max}`)
    }
  }
}

/** Builds a ServerConfig from raw properties (tests and embedded use). */
export function serverConfigFromProps(props: Map<string, string> | Record<string, string>, source = '<config>', overrides: string[] = []): ServerConfig {
  const map = props instanceof Map ? new Map(props) : new Map(Object.entries(props))
  for (const o of overrides) {
    const eq = o.indexOf('=')
    if (eq <= 0) throw new ConfigError(`Invalid override ${o}: must be of the form key=value`)
    map.set(o.slice(0, eq).trim(), o.slice(eq + 1))
  }
  const s = new Settings(map, source)
  const warnings: string[] = []
  checkKafkaTypes(map, source)

  const zookeeperConnect = s.optString('zookeeper.connect')
  if (zookeeperConnect === undefined) {
    if (s.optString('process.roles') !== undefined) throw new ConfigError(`KRaft mode (process.roles in ${source}) is not supported by kafkit: set zookeeper.connect`)
    throw new ConfigError(`Missing required configuration "zookeeper.connect" which has no default value (in ${source})`)
  }
  s.raw('process.roles')
  validateZkConnect(zookeeperConnect, source)

  const brokerIdGenerationEnable = s.bool('broker.id.generation.enable', true)
  const reservedBrokerMaxId = s.int('reserved.broker.max.id', 1000, 0)
  const brokerId = s.int('broker.id', -1)
  if (brokerIdGenerationEnable ? brokerId < -1 || brokerId > reservedBrokerMaxId : brokerId < 0) {
    throw new ConfigError(brokerIdGenerationEnable
      ? `Invalid value ${brokerId} for configuration broker.id in ${source}: broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id (${reservedBrokerMaxId})`
      : `Invalid value ${brokerId} for configuration broker.id in ${source}: broker.id must be greater than or equal to 0`)
  }

  const protoMap = parseProtocolMap(s, s.string('listener.security.protocol.map', DEFAULT_PROTOCOL_MAP))
  const listeners = parseListeners(s, 'listeners', s.string('listeners', 'PLAINTEXT://:9092'), protoMap)
  if (listeners.length === 0) throw s.bad('listeners', s.string('listeners', ''), 'a non-empty list of listeners such as PLAINTEXT://:9092')
  const advRaw = s.optString('advertised.listeners')
  const advertisedListeners = advRaw === undefined
    ? listeners.map(l => ({...l, host: l.host === '' || l.host === '0.0.0.0' || l.host === '::' ? hostname() : l.host}))
    : parseListeners(s, 'advertised.listeners', advRaw, protoMap)
  for (const l of advertisedListeners) {
    if (advRaw !== undefined && (l.host === '0.0.0.0' || l.host === '::')) throw new ConfigError(`Invalid value ${advRaw} for configuration advertised.listeners in ${source}: advertised.listeners cannot use the nonroutable meta-address ${l.host}. Use a routable IP address.`)
    if (l.host === '') l.host = hostname()
  }
  const ports = new Set<number>()
  for (const l of listeners) {
    if (l.port !== 0 && ports.has(l.port)) throw s.bad('listeners', s.string('listeners', ''), `listeners with distinct ports (Each listener must have a different port, port ${l.port} repeats)`)
    ports.add(l.port)
  }
  const listenerNames = listeners.map(l => l.name)
  for (const a of advertisedListeners) {
    if (!listenerNames.includes(a.name)) throw new ConfigError(`Invalid value ${advRaw} for configuration advertised.listeners in ${source}: advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${a.name}. The valid options based on currently configured listeners are ${listenerNames.join(',')}`)
  }
  const securityInterBroker = s.optString('security.inter.broker.protocol')
  const interBrokerListenerName = s.optString('inter.broker.listener.name')?.toUpperCase()
    ?? (securityInterBroker ? advertisedListeners.find(l => l.securityProtocol === securityInterBroker.toUpperCase())?.name : undefined)
    ?? (advertisedListeners.find(l => l.name === 'PLAINTEXT') ?? advertisedListeners[0]).name
  if (!advertisedListeners.some(l => l.name === interBrokerListenerName)) {
    throw new ConfigError(`Invalid value ${interBrokerListenerName} for configuration inter.broker.listener.name in ${source}: inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are ${advertisedListeners.map(l => l.name).join(',')}`)
  }

  const logDirsRaw = s.optString('log.dirs')
  const logDir = s.string('log.dir', '/tmp/kafka-logs')
  const logDirs = (logDirsRaw ?? logDir).split(',').map(d => d.trim()).filter(d => d !== '')
  if (logDirs.length === 0) throw s.bad('log.dirs', logDirsRaw ?? logDir, 'a comma-separated list of directories')

  const retentionHours = s.int('log.retention.hours', 168)
  const retentionMinutes = s.raw('log.retention.minutes') ? s.int('log.retention.minutes', 0) : undefined
  const retentionMsRaw = s.raw('log.retention.ms') ? s.long('log.retention.ms', 0) : undefined
  const retention = retentionMsRaw ?? (retentionMinutes !== undefined ? retentionMinutes * 60000 : retentionHours * 3600000)
  const rollHours = s.int('log.roll.hours', 168, 1)
  const rollMs = s.raw('log.roll.ms') ? s.long('log.roll.ms', 0, 1) : rollHours * 3600000
  const jitterHours = s.int('log.roll.jitter.hours', 0, 0)
  const jitterMs = s.raw('log.roll.jitter.ms') ? s.long('log.roll.jitter.ms', 0, 0) : jitterHours * 3600000
  const flushSchedulerMs = s.long('log.flush.scheduler.interval.ms', JAVA_LONG_MAX)
  const flushMs = s.raw('log.flush.interval.ms') ? s.long('log.flush.interval.ms', 0, 0) : flushSchedulerMs

  const sessionTimeout = s.int('zookeeper.session.timeout.ms', 18000, 1)
  const cleanupPolicy = s.list('log.cleanup.policy', ['delete'])
  for (const p of cleanupPolicy) if (p !== 'delete' && p !== 'compact') throw s.bad('log.cleanup.policy', cleanupPolicy.join(','), 'a list of compact, delete')
  const ratio = s.raw('log.cleaner.min.cleanable.ratio')
  const minCleanableRatio = ratio ? Number(ratio) : 0.5
  if (!(minCleanableRatio >= 0 && minCleanableRatio <= 1)) throw s.bad('log.cleaner.min.cleanable.ratio', ratio ?? '', 'a number in [0, 1]')

  const cfg: ServerConfig = {
    source,
    props: map,
    warnings,
    brokerId,
    brokerIdGenerationEnable,
    reservedBrokerMaxId,
    brokerRack: s.optString('broker.rack') ?? null,
    listeners,
    advertisedListeners,
    listenerSecurityProtocolMap: protoMap,
    interBrokerListenerName,
    logDirs,
    numPartitions: s.int('num.partitions', 1, 1),
    defaultReplicationFactor: s.int('default.replication.factor', 1, 1),
    logRetentionMs: retention < 0 ? -1 : retention,
    logRetentionBytes: s.long('log.retention.bytes', -1),
    logSegmentBytes: s.int('log.segment.bytes', 1073741824, 14),
    logRollMs: rollMs,
    logRollJitterMs: jitterMs,
    logIndexIntervalBytes: s.int('log.index.interval.bytes', 4096, 0),
    logIndexSizeMaxBytes: s.int('log.index.size.max.bytes', 10485760, 4),
    logRetentionCheckIntervalMs: s.long('log.retention.check.interval.ms', 300000, 1),
    logFlushIntervalMessages: s.long('log.flush.interval.messages', JAVA_LONG_MAX, 1),
    logFlushIntervalMs: flushMs,
    logFlushSchedulerIntervalMs: flushSchedulerMs,
    logFlushOffsetCheckpointIntervalMs: s.int('log.flush.offset.checkpoint.interval.ms', 60000, 0),
    logSegmentDeleteDelayMs: s.long('log.segment.delete.delay.ms', 60000, 0),
    logCleanupPolicy: cleanupPolicy,
    logCleanerEnable: s.bool('log.cleaner.enable', true),
    logCleanerDeleteRetentionMs: s.long('log.cleaner.delete.retention.ms', 86400000, 0),
    logCleanerMinCompactionLagMs: s.long('log.cleaner.min.compaction.lag.ms', 0, 0),
    logCleanerMaxCompactionLagMs: s.long('log.cleaner.max.compaction.lag.ms', JAVA_LONG_MAX, 1),
    logCleanerMinCleanableRatio: minCleanableRatio,
    logPreallocate: s.bool('log.preallocate', false),
    logMessageTimestampType: s.oneOf('log.message.timestamp.type', 'CreateTime', ['CreateTime', 'LogAppendTime'] as const),
    logMessageTimestampBeforeMaxMs: s.long('log.message.timestamp.before.max.ms', s.long('log.message.timestamp.difference.max.ms', JAVA_LONG_MAX, 0), 0),
    logMessageTimestampAfterMaxMs: s.long('log.message.timestamp.after.max.ms', JAVA_LONG_MAX, 0),
    messageMaxBytes: s.int('message.max.bytes', 1048588, 0),
    compressionType: s.oneOf('compression.type', 'producer', COMPRESSION_TYPES),

    zookeeperConnect,
    zookeeperSessionTimeoutMs: sessionTimeout,
    zookeeperConnectionTimeoutMs: s.int('zookeeper.connection.timeout.ms', sessionTimeout, 1),
    zookeeperMaxInFlightRequests: s.int('zookeeper.max.in.flight.requests', 10, 1),
    zookeeperSetAcl: s.bool('zookeeper.set.acl', false),

    groupInitialRebalanceDelayMs: s.int('group.initial.rebalance.delay.ms', 3000, 0),
    fetchSessionCacheSlots: s.int('max.incremental.fetch.session.cache.slots', 1000, 0),
    groupMinSessionTimeoutMs: s.int('group.min.session.timeout.ms', 6000, 0),
    groupMaxSessionTimeoutMs: s.int('group.max.session.timeout.ms', 1800000, 0),
    groupMaxSize: s.int('group.max.size', INT_MAX, 1),
    offsetsTopicNumPartitions: s.int('offsets.topic.num.partitions', 50, 1),
    offsetsTopicReplicationFactor: s.int('offsets.topic.replication.factor', 3, 1, 32767),
    offsetsTopicSegmentBytes: s.int('offsets.topic.segment.bytes', 104857600, 1),
    offsetsRetentionMinutes: s.int('offsets.retention.minutes', 10080, 1),
    offsetsRetentionCheckIntervalMs: s.long('offsets.retention.check.interval.ms', 600000, 1),
    offsetsCommitTimeoutMs: s.int('offsets.commit.timeout.ms', 5000, 1),
    transactionStateLogNumPartitions: s.int('transaction.state.log.num.partitions', 50, 1),
    transactionStateLogReplicationFactor: s.int('transaction.state.log.replication.factor', 3, 1, 32767),
    transactionStateLogMinIsr: s.int('transaction.state.log.min.isr', 2, 1),
    transactionStateLogSegmentBytes: s.int('transaction.state.log.segment.bytes', 104857600, 1),
    transactionalIdExpirationMs: s.int('transactional.id.expiration.ms', 604800000, 1),
    transactionMaxTimeoutMs: s.int('transaction.max.timeout.ms', 900000, 1),
    transactionAbortTimedOutTransactionCleanupIntervalMs: s.int('transaction.abort.timed.out.transaction.cleanup.interval.ms', 10000, 1),
    transactionRemoveExpiredTransactionCleanupIntervalMs: s.int('transaction.remove.expired.transaction.cleanup.interval.ms', 3600000, 1),
    transactionPartitionVerificationEnable: s.bool('transaction.partition.verification.enable', true),
    logCleanerBackoffMs: s.long('log.cleaner.backoff.ms', 15000, 0),
    producerIdExpirationMs: s.int('producer.id.expiration.ms', 86400000, 1),

    autoCreateTopicsEnable: s.bool('auto.create.topics.enable', true),
    deleteTopicEnable: s.bool('delete.topic.enable', true),
    socketRequestMaxBytes: s.int('socket.request.max.bytes', 104857600, 1),
    queuedMaxRequestBytes: s.long('queued.max.request.bytes', -1),
    socketSendBufferBytes: s.int('socket.send.buffer.bytes', 102400),
    socketReceiveBufferBytes: s.int('socket.receive.buffer.bytes', 102400),
    connectionsMaxIdleMs: s.long('connections.max.idle.ms', 600000),
    maxConnections: s.int('max.connections', INT_MAX, 0),
    maxConnectionsPerIp: s.int('max.connections.per.ip', INT_MAX, 0),
    fetchMaxBytes: s.int('fetch.max.bytes', 57671680, 1024),

    minInsyncReplicas: s.int('min.insync.replicas', 1, 1),
    uncleanLeaderElectionEnable: s.bool('unclean.leader.election.enable', false),
    replicaLagTimeMaxMs: s.long('replica.lag.time.max.ms', 30000),
    replicaFetchMaxBytes: s.int('replica.fetch.max.bytes', 1048576, 0),
    replicaFetchWaitMaxMs: s.int('replica.fetch.wait.max.ms', 500),
    replicaFetchMinBytes: s.int('replica.fetch.min.bytes', 1),
    replicaFetchResponseMaxBytes: s.int('replica.fetch.response.max.bytes', 10485760, 0),
    replicaHighWatermarkCheckpointIntervalMs: s.long('replica.high.watermark.checkpoint.interval.ms', 5000),
    replicaSocketTimeoutMs: s.int('replica.socket.timeout.ms', 30000),
    controlledShutdownEnable: s.bool('controlled.shutdown.enable', true),
    autoLeaderRebalanceEnable: s.bool('auto.leader.rebalance.enable', true),
    leaderImbalanceCheckIntervalSeconds: s.long('leader.imbalance.check.interval.seconds', 300, 1),
    leaderImbalancePerBrokerPercentage: s.int('leader.imbalance.per.broker.percentage', 10, 0, 100),
  }
  if (cfg.replicaFetchWaitMaxMs > cfg.replicaSocketTimeoutMs) throw new ConfigError(`Invalid value ${cfg.replicaFetchWaitMaxMs} for configuration replica.fetch.wait.max.ms in ${source}: replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts`)

  for (const key of s.unused()) {
    const sec = securityKeyUse(key)
    if (sec !== undefined) continue
    if (key in ACCEPTED_WITHOUT_EFFECT || ACCEPTED_PREFIXES.some(p => key.startsWith(p))) continue
    if (BROKER_TO_TOPIC_KEY[key] !== undefined || OTHER_KNOWN_KEYS.has(key)) continue
    warnings.push(`The configuration '${key}' was supplied but isn't a known config.`)
  }
  return cfg
}

/** Other Kafka broker keys kafkit reads elsewhere (or not yet) and must not warn about. */
const OTHER_KNOWN_KEYS = new Set([
  'log.cleaner.min.cleanable.ratio', 'log.message.timestamp.difference.max.ms', 'auto.create.topics.enable',
  'compression.gzip.level', 'compression.lz4.level', 'compression.zstd.level', 'request.timeout.ms',
  'group.max.size', 'create.topic.policy.class.name', 'alter.config.policy.class.name',
])

function validateZkConnect(v: string, source: string): void {
  const slash = v.indexOf('/')
  const hosts = slash >= 0 ? v.slice(0, slash) : v
  const chroot = slash >= 0 ? v.slice(slash) : ''
  const ok = hosts.split(',').every(h => /^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(:\d{1,5})?$/.test(h.trim()))
  if (!ok || (chroot !== '' && (chroot === '/' ? false : !/^(\/[^/\s]+)+$/.test(chroot)))) {
    throw new ConfigError(`Invalid value ${v} for configuration zookeeper.connect in ${source}: must be host:port[,host:port...][/chroot]`)
  }
}

function parseProtocolMap(s: Settings, v: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of v.split(',').map(p => p.trim()).filter(p => p !== '')) {
    const m = /^([A-Za-z0-9_]+):([A-Za-z0-9_]+)$/.exec(pair)
    if (!m || !SECURITY_PROTOCOLS.includes(m[2].toUpperCase())) throw s.bad('listener.security.protocol.map', v, 'a list of LISTENER:PROTOCOL pairs (protocols PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)')
    out[m[1].toUpperCase()] = m[2].toUpperCase()
  }
  return out
}

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']

/** Parses a listener list such as `PLAINTEXT://:9092,INTERNAL://host:9093` (IPv6 hosts in brackets). */
export function parseListeners(s: Settings, key: string, v: string, protoMap: Record<string, string>): Listener[] {
  const out: Listener[] = []
  for (const item of v.split(',').map(x => x.trim()).filter(x => x !== '')) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[0-9a-fA-F:.]*\]|[^:/\s]*):(-?\d+)$/.exec(item)
    if (!m) throw s.bad(key, v, 'a list of listeners such as PLAINTEXT://host:9092')
    const name = m[1].toUpperCase()
    const port = Number(m[3])
    if (port < 0 || port > 65535) throw s.bad(key, v, 'listeners with ports in [0, 65535]')
    const securityProtocol = protoMap[name]
    if (securityProtocol === undefined) throw s.bad(key, v, `listeners whose names are in listener.security.protocol.map (no entry for ${name})`)
    if (out.some(l => l.name === name)) throw s.bad(key, v, `listeners with unique names (${name} appears twice)`)
    out.push({name, host: m[2].startsWith('[') ? m[2].slice(1, -1) : m[2], port, securityProtocol})
  }
  return out
}

// ---------------------------------------------------------------------------------------
// Topic-level configs

export const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const

type TopicType = 'long' | 'int' | 'boolean' | 'double' | 'string' | 'list'
interface TopicConfigDef {
  type: TopicType
  /** Broker key whose value is the default, or undefined (fixed default below). */
  brokerKey?: string
  /** Default when there is no broker key. */
  def?: string
  min?: number
  max?: number
  oneOf?: readonly string[]
}

/** Every topic-level config Kafka 3.9 knows, its type, its broker-level key and bounds. */
export const TOPIC_CONFIGS: Record<string, TopicConfigDef> = {
  'cleanup.policy': {type: 'list', brokerKey: 'log.cleanup.policy', oneOf: ['compact', 'delete']},
  'compression.type': {type: 'string', brokerKey: 'compression.type', oneOf: COMPRESSION_TYPES},
  'compression.gzip.level': {type: 'int', brokerKey: 'compression.gzip.level', def: '-1', min: -1, max: 9},
  'compression.lz4.level': {type: 'int', brokerKey: 'compression.lz4.level', def: '9', min: 1, max: 17},
  'compression.zstd.level': {type: 'int', brokerKey: 'compression.zstd.level', def: '3', min: -131072, max: 22},
  'delete.retention.ms': {type: 'long', brokerKey: 'log.cleaner.delete.retention.ms', min: 0},
  'file.delete.delay.ms': {type: 'long', brokerKey: 'log.segment.delete.delay.ms', min: 0},
  'flush.messages': {type: 'long', brokerKey: 'log.flush.interval.messages', min: 1},
  'flush.ms': {type: 'long', brokerKey: 'log.flush.interval.ms', min: 0},
  'follower.replication.throttled.replicas': {type: 'list', def: ''},
  'index.interval.bytes': {type: 'int', brokerKey: 'log.index.interval.bytes', min: 0},
  'leader.replication.throttled.replicas': {type: 'list', def: ''},
  'local.retention.bytes': {type: 'long', brokerKey: 'log.local.retention.bytes', def: '-2', min: -2},
  'local.retention.ms': {type: 'long', brokerKey: 'log.local.retention.ms', def: '-2', min: -2},
  'max.compaction.lag.ms': {type: 'long', brokerKey: 'log.cleaner.max.compaction.lag.ms', min: 1},
  'max.message.bytes': {type: 'int', brokerKey: 'message.max.bytes', min: 0},
  'message.downconversion.enable': {type: 'boolean', brokerKey: 'log.message.downconversion.enable', def: 'true'},
  'message.format.version': {type: 'string', brokerKey: 'log.message.format.version', def: '3.0-IV1'},
  'message.timestamp.after.max.ms': {type: 'long', brokerKey: 'log.message.timestamp.after.max.ms', min: 0},
  'message.timestamp.before.max.ms': {type: 'long', brokerKey: 'log.message.timestamp.before.max.ms', min: 0},
  'message.timestamp.difference.max.ms': {type: 'long', brokerKey: 'log.message.timestamp.difference.max.ms', def: '9223372036854775807', min: 0},
  'message.timestamp.type': {type: 'string', brokerKey: 'log.message.timestamp.type', oneOf: ['CreateTime', 'LogAppendTime']},
  'min.cleanable.dirty.ratio': {type: 'double', brokerKey: 'log.cleaner.min.cleanable.ratio', min: 0, max: 1},
  'min.compaction.lag.ms': {type: 'long', brokerKey: 'log.cleaner.min.compaction.lag.ms', min: 0},
  'min.insync.replicas': {type: 'int', brokerKey: 'min.insync.replicas', min: 1},
  'preallocate': {type: 'boolean', brokerKey: 'log.preallocate'},
  'remote.storage.enable': {type: 'boolean', def: 'false'},
  'remote.log.copy.disable': {type: 'boolean', def: 'false'},
  'remote.log.delete.on.disable': {type: 'boolean', def: 'false'},
  'retention.bytes': {type: 'long', brokerKey: 'log.retention.bytes'},
  'retention.ms': {type: 'long', brokerKey: 'log.retention.ms', min: -1},
  'segment.bytes': {type: 'int', brokerKey: 'log.segment.bytes', min: 14},
  'segment.index.bytes': {type: 'int', brokerKey: 'log.index.size.max.bytes', min: 4},
  'segment.jitter.ms': {type: 'long', brokerKey: 'log.roll.jitter.ms', min: 0},
  'segment.ms': {type: 'long', brokerKey: 'log.roll.ms', min: 1},
  'unclean.leader.election.enable': {type: 'boolean', brokerKey: 'unclean.leader.election.enable'},
}

/** topic key -> broker key (retention.ms -> log.retention.ms, ...). */
export const TOPIC_TO_BROKER_KEY: Record<string, string | undefined> = Object.fromEntries(Object.entries(TOPIC_CONFIGS).map(([k, d]) => [k, d.brokerKey]))
/** broker key -> topic key. */
export const BROKER_TO_TOPIC_KEY: Record<string, string> = Object.fromEntries(Object.entries(TOPIC_CONFIGS).filter(([, d]) => d.brokerKey).map(([k, d]) => [d.brokerKey!, k]))

/** The effective broker-level default of every topic-level config, as strings (as DescribeConfigs shows them). */
export function topicConfigDefaults(c: ServerConfig, dynamic: Record<string, string> = {}): Record<string, string> {
  const fromConfig: Record<string, string> = {
    'cleanup.policy': c.logCleanupPolicy.join(','),
    'compression.type': c.compressionType,
    'delete.retention.ms': String(c.logCleanerDeleteRetentionMs),
    'file.delete.delay.ms': String(c.logSegmentDeleteDelayMs),
    'flush.messages': longStr(c.logFlushIntervalMessages),
    'flush.ms': longStr(c.logFlushIntervalMs),
    'index.interval.bytes': String(c.logIndexIntervalBytes),
    'max.compaction.lag.ms': longStr(c.logCleanerMaxCompactionLagMs),
    'max.message.bytes': String(c.messageMaxBytes),
    'message.timestamp.after.max.ms': longStr(c.logMessageTimestampAfterMaxMs),
    'message.timestamp.before.max.ms': longStr(c.logMessageTimestampBeforeMaxMs),
    'message.timestamp.type': c.logMessageTimestampType,
    'min.cleanable.dirty.ratio': String(c.logCleanerMinCleanableRatio),
    'min.compaction.lag.ms': String(c.logCleanerMinCompactionLagMs),
    'min.insync.replicas': String(c.minInsyncReplicas),
    'preallocate': String(c.logPreallocate),
    'retention.bytes': String(c.logRetentionBytes),
    'retention.ms': String(c.logRetentionMs),
    'segment.bytes': String(c.logSegmentBytes),
    'segment.index.bytes': String(c.logIndexSizeMaxBytes),
    'segment.jitter.ms': String(c.logRollJitterMs),
    'segment.ms': String(c.logRollMs),
    'unclean.leader.election.enable': String(c.uncleanLeaderElectionEnable),
  }
  const out: Record<string, string> = {}
  for (const [k, d] of Object.entries(TOPIC_CONFIGS)) {
    const dyn = d.brokerKey !== undefined ? dynamic[d.brokerKey] : undefined
    const raw = d.brokerKey !== undefined ? c.props.get(d.brokerKey)?.trim() : undefined
    out[k] = dyn ?? fromConfig[k] ?? raw ?? d.def ?? ''
  }
  return out
}

/** Long.MAX_VALUE prints as Java prints it. */
function longStr(n: number): string {
  return n >= JAVA_LONG_MAX ? '9223372036854775807' : String(n)
}

/**
 * Validates topic-level config overrides (CreateTopics, AlterConfigs). Returns undefined when
 * valid, else Kafka's INVALID_CONFIG message for the first bad entry.
 */
export function validateTopicConfigs(configs: Record<string, string | null>): string | undefined {
  for (const [key, value] of Object.entries(configs)) {
    const d = TOPIC_CONFIGS[key]
    if (d === undefined) return `Unknown topic config name: ${key}`
    if (value === null) continue
    const err = checkValue(key, value.trim(), d)
    if (err) return `Invalid value ${value} for configuration ${key}: ${err}`
  }
  return undefined
}

function checkValue(key: string, v: string, d: TopicConfigDef): string | undefined {
  switch (d.type) {
    case 'int':
    case 'long': {
      if (!/^[+-]?\d+$/.test(v)) return `Not a number of type ${d.type === 'int' ? 'INT' : 'LONG'}`
      const big = BigInt(v)
      const lim = d.type === 'int' ? [-2147483648n, 2147483647n] : [-9223372036854775808n, 9223372036854775807n]
      if (big < lim[0] || big > lim[1]) return `Not a number of type ${d.type === 'int' ? 'INT' : 'LONG'}`
      if (d.min !== undefined && big < BigInt(d.min)) return `Value must be at least ${d.min}`
      if (d.max !== undefined && big > BigInt(d.max)) return `Value must be no more than ${d.max}`
      return undefined
    }
    case 'double': {
      const n = Number(v)
      if (v === '' || !Number.isFinite(n)) return 'Not a number of type DOUBLE'
      if (d.min !== undefined && n < d.min) return `Value must be at least ${d.min}`
      if (d.max !== undefined && n > d.max) return `Value must be no more than ${d.max}`
      return undefined
    }
    case 'boolean':
      return /^(true|false)$/i.test(v) ? undefined : 'Expected value to be either true or false'
    case 'string':
      if (d.oneOf && !d.oneOf.includes(v)) return `String must be one of: ${d.oneOf.join(', ')}`
      return undefined
    case 'list': {
      const items = v.split(',').map(x => x.trim()).filter(x => x !== '')
      if (d.oneOf) {
        if (items.length === 0 && key === 'cleanup.policy') return undefined
        for (const i of items) if (!d.oneOf.includes(i)) return `String must be one of: ${d.oneOf.join(', ')}`
      } else if (key.endsWith('throttled.replicas') && v !== '*' && !items.every(i => /^\d+:\d+$/.test(i))) {
        return 'must be the literal \'*\' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...'
      }
      return undefined
    }
  }
}

/** Parses properties text into a ServerConfig (tests). */
export function serverConfigFromText(text: string, source = '<config>', overrides: string[] = []): ServerConfig {
  return serverConfigFromProps(parseProperties(text, source), source, overrides)
}
