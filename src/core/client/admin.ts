// kafka-topics' admin calls on the client core's admin layer (admin-client.ts: routing to
// any broker / the controller, retries of NOT_CONTROLLER, lost connections and other
// retriable errors until default.api.timeout.ms), at the versions Apache Kafka's tools use
// (Metadata v12 topic ids, the broker's own error messages). A call that runs out of time is
// reported as Kafka's AdminClient reports it: "Timed out waiting for a node assignment. Call:
// <call>" when no broker was ever reached.
import {AdminClient, AdminTimeoutError, RetriableCallError} from './admin-client.js'
import {ClientConfig} from './config.js'
import {BrokerError, ToolError} from './errors.js'
import {KafkaClientError} from './kafka-errors.js'
import {CreatePartitions, CreateTopics, DeleteTopics, DescribeConfigs, type MetadataResponse} from '../protocol/messages.js'
import {errorMessage, errorName} from '../protocol/errors.js'

export interface AdminOptions {
  /** Admin client properties (--command-config), Java names. */
  props?: Map<string, string>
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

/** DescribeConfigs resource type for topics. */
const TOPIC_RESOURCE = 2
/** ConfigSource DEFAULT_CONFIG. */
const DEFAULT_CONFIG = 5

function brokerError(code: number, message: string | null | undefined): BrokerError {
  return new BrokerError(code, errorName(code), message || errorMessage(code))
}

export class Admin {
  readonly client: AdminClient

  constructor(bootstrap: string, opts: AdminOptions = {}) {
    const cfg = new ClientConfig(opts.props ?? new Map())
    if (opts.clientId !== undefined) cfg.set('client.id', opts.clientId)
    if (opts.apiTimeoutMs !== undefined) cfg.set('default.api.timeout.ms', opts.apiTimeoutMs)
    if (opts.requestTimeoutMs !== undefined) cfg.set('request.timeout.ms', opts.requestTimeoutMs)
    this.client = new AdminClient(bootstrap, cfg)
  }

  close(): void {
    this.client.close()
  }

  /** Runs a call; a timeout becomes the tool's one-line error. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof AdminTimeoutError) throw new ToolError(error.message)
      if (error instanceof KafkaClientError) throw new BrokerError(error.code, errorName(error.code), error.message)
      throw error
    }
  }

  private metadata(topics: string[] | null, callName: string): Promise<MetadataResponse> {
    return this.client.metadata(topics, undefined, callName)
  }

  /** Live broker ids (Metadata's broker list). */
  async liveBrokers(): Promise<number[]> {
    return this.run(async () => (await this.metadata([], 'describeCluster')).brokers.map(b => b.nodeId))
  }

  /** Every topic, sorted by name. */
  async listTopics(includeInternal = true): Promise<{name: string; isInternal: boolean}[]> {
    return this.run(async () => {
      const md = await this.metadata(null, 'listTopics')
      return md.topics
        .filter(t => t.errorCode === 0 && t.name !== null && (includeInternal || !t.isInternal))
        .map(t => ({name: t.name!, isInternal: t.isInternal}))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    })
  }

  async describeTopics(names: string[]): Promise<TopicInfo[]> {
    if (names.length === 0) return []
    return this.run(async () => {
      const md = await this.metadata(names, 'describeTopics')
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

  /** A per-topic error of a controller call: NOT_CONTROLLER is retried, the rest reported. */
  private topicError(code: number, message: string | null): void {
    if (code === 0) return
    if (errorName(code) === 'NOT_CONTROLLER') throw new RetriableCallError('not controller', code)
    throw brokerError(code, message)
  }

  private timeoutField(): number {
    return Math.max(1000, Math.min(this.client.net.settings.requestTimeoutMs, this.client.defaultApiTimeoutMs))
  }

  async createTopic(t: {name: string; partitions: number; replicationFactor: number; assignments?: number[][]; configs: Map<string, string>}): Promise<void> {
    return this.run(() => this.client.call('createTopics', {kind: 'controller'}, CreateTopics, {
      topics: [{
        name: t.name,
        numPartitions: t.assignments ? -1 : t.partitions,
        replicationFactor: t.assignments ? -1 : t.replicationFactor,
        assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({partitionIndex, brokerIds})),
        configs: [...t.configs].map(([name, value]) => ({name, value})),
      }],
      timeoutMs: this.timeoutField(),
      validateOnly: false,
    }, {
      maxVersion: 7,
      handle: res => {
        const r = res.topics.find(x => x.name === t.name) ?? res.topics[0]
        if (!r) throw new ToolError('Empty CreateTopics response')
        this.topicError(r.errorCode, r.errorMessage)
      },
    }))
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return
    return this.run(() => this.client.call('deleteTopics', {kind: 'controller'}, DeleteTopics, v => (v >= 6
      ? {topics: names.map(name => ({name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA'})), timeoutMs: this.timeoutField()}
      : {topicNames: names, timeoutMs: this.timeoutField()}), {
      maxVersion: 5,
      handle: res => { for (const r of res.responses) this.topicError(r.errorCode, r.errorMessage) },
    }))
  }

  async createPartitions(changes: {name: string; count: number; assignments?: number[][]}[]): Promise<void> {
    return this.run(() => this.client.call('createPartitions', {kind: 'controller'}, CreatePartitions, {
      topics: changes.map(x => ({name: x.name, count: x.count, assignments: x.assignments ? x.assignments.map(brokerIds => ({brokerIds})) : null})),
      timeoutMs: this.timeoutField(),
      validateOnly: false,
    }, {
      maxVersion: 3,
      handle: res => { for (const r of res.results) this.topicError(r.errorCode, r.errorMessage) },
    }))
  }

  /** Every config of each topic, with whether it is the default (source DEFAULT_CONFIG). */
  async describeTopicConfigs(names: string[]): Promise<Map<string, ConfigEntry[]>> {
    const out = new Map<string, ConfigEntry[]>()
    if (names.length === 0) return out
    return this.run(() => this.client.call('describeConfigs', {kind: 'any'}, DescribeConfigs, {
      resources: names.map(resourceName => ({resourceType: TOPIC_RESOURCE, resourceName, configurationKeys: null})), includeSynonyms: false, includeDocumentation: false,
    }, {
      maxVersion: 4,
      handle: (res, node) => {
        const v = this.client.net.versionFor(node, DescribeConfigs, 4)
        for (const r of res.results) {
          if (r.errorCode !== 0) throw brokerError(r.errorCode, r.errorMessage)
          out.set(r.resourceName, r.configs.map(e => ({name: e.name, value: e.value, isDefault: v === 0 ? e.isDefault : e.configSource === DEFAULT_CONFIG})))
        }
        return out
      },
    }))
  }
}
