// Kafka's ZooKeeper-mode layout as kafkit reads and writes it: the paths, the JSON of broker
// registrations, topic assignments, partition states and configs (in Kafka's field order),
// and the cached shapes the cluster manager keeps of them.
export interface BrokerEndpoint {listener: string; host: string; port: number; securityProtocol: string}
export interface BrokerInfo {id: number; host: string; port: number; rack: string | null; endpoints: BrokerEndpoint[]}
export interface PartitionState {
  topic: string; partition: number; leader: number; leaderEpoch: number; isr: number[]; replicas: number[]; controllerEpoch: number; zkVersion: number
  /** During a reassignment (Kafka's adding_replicas/removing_replicas in the topic znode); absent otherwise. */
  addingReplicas?: number[]; removingReplicas?: number[]
  /**
   * The zxid of the state znode's last write (its mzxid). A replica whose broker registration is
   * newer (a larger czxid: Kafka's broker epoch, KIP-380) restarted after this state was written:
   * it may have lost what it held, so it cannot keep leading or stay in the ISR on this state.
   */
  stateZxid?: bigint
}
export interface ReassignmentRequest {topic: string; partition: number; /** target replicas; null cancels */ replicas: number[] | null}
export interface TopicMeta {name: string; topicId: string; partitions: PartitionState[]; configs: Record<string, string>; internal: boolean; markedForDeletion: boolean}
export interface ElectionResult {topic: string; partition: number; errorCode: number; message: string | null}
export interface CreateTopicOptions {numPartitions: number; replicationFactor: number; assignment?: Record<number, number[]>; configs: Record<string, string>; validateOnly?: boolean}

export const ZkPaths = {
  brokerIds: '/brokers/ids',
  brokerSeqId: '/brokers/seqid',
  topics: '/brokers/topics',
  controller: '/controller',
  controllerEpoch: '/controller_epoch',
  clusterId: '/cluster/id',
  deleteTopics: '/admin/delete_topics',
  configChanges: '/config/changes',
  configTopics: '/config/topics',
  configBrokers: '/config/brokers',
  isrChange: '/isr_change_notification',
  producerIdBlock: '/latest_producer_id_block',
  preferredReplicaElection: '/admin/preferred_replica_election',
  feature: '/feature',
  broker: (id: number) => `/brokers/ids/${id}`,
  topic: (t: string) => `/brokers/topics/${t}`,
  partitions: (t: string) => `/brokers/topics/${t}/partitions`,
  partition: (t: string, p: number) => `/brokers/topics/${t}/partitions/${p}`,
  partitionState: (t: string, p: number) => `/brokers/topics/${t}/partitions/${p}/state`,
  topicConfig: (t: string) => `/config/topics/${t}`,
  brokerConfig: (id: string) => `/config/brokers/${id}`,
  deleteTopic: (t: string) => `/admin/delete_topics/${t}`,
} as const

/** The persistent paths a Kafka broker creates at start-up (ZkData.PersistentZkPaths + config entity types). */
export const PERSISTENT_PATHS = [
  '/consumers', ZkPaths.brokerIds, ZkPaths.topics, ZkPaths.configChanges, ZkPaths.deleteTopics, ZkPaths.brokerSeqId,
  ZkPaths.isrChange, ZkPaths.producerIdBlock, '/log_dir_event_notification',
  ZkPaths.configTopics, '/config/clients', '/config/users', ZkPaths.configBrokers, '/config/ips',
]

export const PRODUCER_ID_BLOCK_SIZE = 1000

/** Broker keys Kafka lets kafka-configs change at run time besides the topic-default synonyms (log.retention.ms, ...). */
export const DYNAMIC_BROKER_KEYS = new Set([
  'num.io.threads', 'num.network.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir', 'background.threads',
  'log.cleaner.threads', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.size', 'log.cleaner.io.max.bytes.per.second', 'log.cleaner.backoff.ms',
  'max.connections', 'max.connections.per.ip', 'max.connections.per.ip.overrides', 'max.connection.creation.rate',
  'follower.replication.throttled.rate', 'leader.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second',
  'metric.reporters', 'producer.id.expiration.ms', 'transaction.partition.verification.enable',
])

// ---- JSON codecs (Kafka's field order) ----

export function encodeBrokerRegistration(endpoints: BrokerEndpoint[], rack: string | null, timestamp = Date.now()): string {
  const plain = endpoints.find(e => e.securityProtocol === 'PLAINTEXT')
  const o: Record<string, unknown> = {
    features: {},
    listener_security_protocol_map: Object.fromEntries(endpoints.map(e => [e.listener, e.securityProtocol])),
    endpoints: endpoints.map(e => `${e.listener}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`),
    jmx_port: -1,
    port: plain ? plain.port : -1,
    host: plain ? plain.host : null,
  }
  if (rack !== null) o.rack = rack
  o.version = 5
  o.timestamp = String(timestamp)
  return JSON.stringify(o)
}

export function decodeBrokerRegistration(id: number, json: string): BrokerInfo {
  const o = JSON.parse(json) as {host?: string | null; port?: number; endpoints?: string[]; listener_security_protocol_map?: Record<string, string>; rack?: string | null}
  const map = o.listener_security_protocol_map ?? {}
  const endpoints: BrokerEndpoint[] = (o.endpoints ?? []).map(e => {
    const m = /^([^:]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(e)
    if (!m) return undefined
    const listener = m[1]
    return {listener, host: m[2].startsWith('[') ? m[2].slice(1, -1) : m[2], port: Number(m[3]), securityProtocol: map[listener] ?? listener}
  }).filter((e): e is BrokerEndpoint => e !== undefined)
  const first = endpoints[0]
  return {id, host: o.host ?? first?.host ?? '', port: o.port !== undefined && o.port >= 0 ? o.port : first?.port ?? -1, rack: o.rack ?? null, endpoints}
}

export function encodeTopicAssignment(partitions: number[][], topicId: string, adding: Record<string, number[]> = {}, removing: Record<string, number[]> = {}): string {
  return JSON.stringify({partitions: Object.fromEntries(partitions.map((r, p) => [String(p), r])), topic_id: topicId, adding_replicas: adding, removing_replicas: removing, version: 3})
}

export interface ReplicaPlan {replicas: number[]; adding?: number[]; removing?: number[]}

/** The topic znode of a cached topic with some partitions' replicas changed (reassignments kept). */
export function encodeTopicWithPlan(t: TopicMeta, plan: Map<number, ReplicaPlan>): string {
  const adding: Record<string, number[]> = {}
  const removing: Record<string, number[]> = {}
  const partitions = t.partitions.map(ps => {
    const change = plan.get(ps.partition)
    const a = change ? change.adding : ps.addingReplicas
    const r = change ? change.removing : ps.removingReplicas
    if (a?.length) adding[String(ps.partition)] = a
    if (r?.length) removing[String(ps.partition)] = r
    return change ? change.replicas : ps.replicas
  })
  return encodeTopicAssignment(partitions, t.topicId, adding, removing)
}

export function encodePartitionState(leader: number, leaderEpoch: number, isr: number[], controllerEpoch: number): string {
  return JSON.stringify({controller_epoch: controllerEpoch, leader, version: 1, leader_epoch: leaderEpoch, isr})
}

export function encodeTopicConfig(configs: Record<string, string>): string {
  return JSON.stringify({version: 1, config: configs})
}
