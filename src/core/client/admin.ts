// The tools' admin client, on kafkit's own protocol layer (so it can use the versions
// Apache Kafka's tools use: Metadata v12 topic ids, the broker's own error messages).
// Connection failures are retried until default.api.timeout.ms, then reported the way
// Kafka's AdminClient reports them: "Timed out waiting for a node assignment. Call: <call>".
import {KafkaConnection, ConnectionError} from '../protocol/client.js'
import {RetriableError, parseBootstrap} from './connection.js'
import {ConnectionPool} from './pool.js'
import {BrokerError, ToolError} from './errors.js'
import {CreatePartitions, CreateTopics, DeleteTopics, DescribeConfigs, Metadata, type ApiSpec, type MetadataResponse} from '../protocol/messages.js'
import {errorMessage, errorName} from '../protocol/errors.js'

export interface AdminOptions {
  clientId?: string
  /** default.api.timeout.ms: how long a call may take in all, retries included. */
  apiTimeoutMs?: number
  /** request.timeout.ms: how long one request may take. */
  requestTimeoutMs?: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  partitions: {partition: number; leader: number; replicas: number[]; isr: number[]}[]
}

export interface ConfigEntry {
  name: string
  value: string | null
  isDefault: boolean
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
/** DescribeConfigs resource type for topics. */
const TOPIC_RESOURCE = 2
/** ConfigSource DEFAULT_CONFIG. */
const DEFAULT_CONFIG = 5

/** The highest version of api both sides speak (at most max), or -1. */
function versionFor(c: KafkaConnection, api: ApiSpec<any, any>, max = api.maxStableVersion): number {
  const r = c.brokerVersions.get(api.apiKey)
  if (!r) return -1
  const v = Math.min(r[1], max)
  return v >= r[0] && v >= api.minVersion ? v : -1
}

function brokerError(code: number, message: string | null | undefined): BrokerError {
  return new BrokerError(code, errorName(code), message || errorMessage(code))
}

export class Admin {
  private readonly pool: ConnectionPool
  private readonly apiTimeoutMs: number
  private readonly requestTimeoutMs: number
  private readonly clientId: string
  private meta: MetadataResponse | undefined

  constructor(bootstrap: string, opts: AdminOptions = {}) {
    this.apiTimeoutMs = opts.apiTimeoutMs ?? 60000
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30000
    this.clientId = opts.clientId ?? 'adminclient-1'
    this.pool = new ConnectionPool(parseBootstrap(bootstrap), this.clientId, this.requestTimeoutMs)
  }

  close(): void {
    this.pool.close()
  }

  /** Runs fn against some broker, retrying connection failures until the call's deadline. */
  private async call<T>(callName: string, fn: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.apiTimeoutMs
    let backoff = 100
    for (;;) {
      try {
        return await fn(deadline)
      } catch (error) {
        if (!(error instanceof ConnectionError) && !(error instanceof RetriableError)) throw error
        this.pool.prune()
        this.meta = undefined
        if (Date.now() + backoff >= deadline) throw new ToolError(`Timed out waiting for a node assignment. Call: ${callName}`)
        await new Promise(r => setTimeout(r, backoff))
        backoff = Math.min(backoff * 2, 1000)
      }
    }
  }

  private async metadata(deadline: number, topics: string[] | null): Promise<MetadataResponse> {
    const c = await this.pool.anyBroker(deadline)
    const v = versionFor(c, Metadata)
    if (v < 0) throw new ToolError(`The broker at ${c.where} does not support Metadata`)
    const res = await c.send(Metadata, v, {topics: topics === null ? (v >= 1 ? null : []) : topics.map(name => ({name, topicId: ZERO_UUID})), allowAutoTopicCreation: false})
    if (topics === null) this.meta = res
    return res
  }

  private async controller(deadline: number): Promise<KafkaConnection> {
    const md = await this.metadata(deadline, [])
    const b = md.brokers.find(x => x.nodeId === md.controllerId) ?? md.brokers[0]
    if (!b) throw new RetriableError('no brokers in metadata')
    return this.pool.connTo(b.host, b.port, deadline)
  }

  /** Live broker ids (Metadata's broker list). */
  async liveBrokers(): Promise<number[]> {
    return this.call('describeCluster', async deadline => (await this.metadata(deadline, [])).brokers.map(b => b.nodeId))
  }

  /** Every topic, sorted by name. */
  async listTopics(includeInternal = true): Promise<{name: string; isInternal: boolean}[]> {
    return this.call('listTopics', async deadline => {
      const md = await this.metadata(deadline, null)
      return md.topics
        .filter(t => t.errorCode === 0 && t.name !== null && (includeInternal || !t.isInternal))
        .map(t => ({name: t.name!, isInternal: t.isInternal}))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    })
  }

  async describeTopics(names: string[]): Promise<TopicInfo[]> {
    if (names.length === 0) return []
    return this.call('describeTopics', async deadline => {
      const md = await this.metadata(deadline, names)
      const out: TopicInfo[] = []
      for (const t of md.topics) {
        if (t.errorCode !== 0) throw brokerError(t.errorCode, null)
        out.push({
          name: t.name ?? '',
          topicId: t.topicId,
          isInternal: t.isInternal,
          partitions: t.partitions
            .map(p => ({partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes}))
            .sort((a, b) => a.partition - b.partition),
        })
      }
      return out
    })
  }

  async createTopic(t: {name: string; partitions: number; replicationFactor: number; assignments?: number[][]; configs: Map<string, string>}): Promise<void> {
    return this.call('createTopics', async deadline => {
      const c = await this.controller(deadline)
      const v = versionFor(c, CreateTopics, 7)
      if (v < 0) throw new ToolError(`The broker at ${c.where} does not support CreateTopics`)
      const res = await c.send(CreateTopics, v, {
        topics: [{
          name: t.name,
          numPartitions: t.assignments ? -1 : t.partitions,
          replicationFactor: t.assignments ? -1 : t.replicationFactor,
          assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({partitionIndex, brokerIds})),
          configs: [...t.configs].map(([name, value]) => ({name, value})),
        }],
        timeoutMs: Math.max(1000, Math.min(this.requestTimeoutMs, deadline - Date.now())),
        validateOnly: false,
      })
      const r = res.topics.find(x => x.name === t.name) ?? res.topics[0]
      if (!r) throw new ToolError('Empty CreateTopics response')
      if (r.errorCode !== 0) {
        if (errorName(r.errorCode) === 'NOT_CONTROLLER') throw new RetriableError('not controller')
        throw brokerError(r.errorCode, r.errorMessage)
      }
    })
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return
    return this.call('deleteTopics', async deadline => {
      const c = await this.controller(deadline)
      const v = versionFor(c, DeleteTopics, 5)
      if (v < 0) throw new ToolError(`The broker at ${c.where} does not support DeleteTopics`)
      const timeoutMs = Math.max(1000, Math.min(this.requestTimeoutMs, deadline - Date.now()))
      const res = await c.send(DeleteTopics, v, v >= 6 ? {topics: names.map(name => ({name, topicId: ZERO_UUID})), timeoutMs} : {topicNames: names, timeoutMs})
      for (const r of res.responses) {
        if (r.errorCode === 0) continue
        if (errorName(r.errorCode) === 'NOT_CONTROLLER') throw new RetriableError('not controller')
        throw brokerError(r.errorCode, r.errorMessage)
      }
    })
  }

  async createPartitions(changes: {name: string; count: number; assignments?: number[][]}[]): Promise<void> {
    return this.call('createPartitions', async deadline => {
      const c = await this.controller(deadline)
      const v = versionFor(c, CreatePartitions, 3)
      if (v < 0) throw new ToolError(`The broker at ${c.where} does not support CreatePartitions`)
      const res = await c.send(CreatePartitions, v, {
        topics: changes.map(x => ({name: x.name, count: x.count, assignments: x.assignments ? x.assignments.map(brokerIds => ({brokerIds})) : null})),
        timeoutMs: Math.max(1000, Math.min(this.requestTimeoutMs, deadline - Date.now())),
        validateOnly: false,
      })
      for (const r of res.results) {
        if (r.errorCode === 0) continue
        if (errorName(r.errorCode) === 'NOT_CONTROLLER') throw new RetriableError('not controller')
        throw brokerError(r.errorCode, r.errorMessage)
      }
    })
  }

  /** Every config of each topic, with whether it is the default (source DEFAULT_CONFIG). */
  async describeTopicConfigs(names: string[]): Promise<Map<string, ConfigEntry[]>> {
    const out = new Map<string, ConfigEntry[]>()
    if (names.length === 0) return out
    return this.call('describeConfigs', async deadline => {
      const c = await this.pool.anyBroker(deadline)
      const v = versionFor(c, DescribeConfigs, 4)
      if (v < 0) throw new ToolError(`The broker at ${c.where} does not support DescribeConfigs`)
      const res = await c.send(DescribeConfigs, v, {resources: names.map(resourceName => ({resourceType: TOPIC_RESOURCE, resourceName, configurationKeys: null})), includeSynonyms: false, includeDocumentation: false})
      for (const r of res.results) {
        if (r.errorCode !== 0) throw brokerError(r.errorCode, r.errorMessage)
        out.set(r.resourceName, r.configs.map(e => ({name: e.name, value: e.value, isDefault: v === 0 ? e.isDefault : e.configSource === DEFAULT_CONFIG})))
      }
      return out
    })
  }
}
