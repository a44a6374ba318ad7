// Admin operations any broker serves by writing ZooKeeper as Kafka's AdminZkClient does
// (CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs for topics and brokers): the
// controller and every broker's metadata cache act on what is written; the operation then
// waits (bounded) until this broker's cache shows the result.
import {validateTopicConfigs, BROKER_TO_TOPIC_KEY} from '../config/server-config.js'
import {ErrorCode, KafkaError} from '../protocol/errors.js'
import {ZkCode} from './zk.js'
import {type CreateTopicOptions, type TopicMeta, ZkPaths, DYNAMIC_BROKER_KEYS, encodeTopicAssignment, encodeTopicConfig} from './znodes.js'
import {assignReplicasToBrokers, assignReplicasToBrokersRackAware, INTERNAL_TOPICS, randomUuid, topicNameError, unifyCollisionChars} from './assignment.js'
import {isCode, type ClusterContext} from './events.js'

export class AdminOperations {
  constructor(private readonly ctx: ClusterContext) {}

  /** Placement over the live brokers: rack-aware when every broker has a rack, as Kafka's default (enforced) mode. */
  private place(nPartitions: number, rf: number, fixedStartIndex = -1, startPartitionId = -1): number[][] {
    const brokers = this.ctx.cache.brokers()
    if (rf > brokers.length) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${rf} larger than available brokers: ${brokers.length}.`)
    const withRack = brokers.filter(b => b.rack !== null)
    if (withRack.length === 0) return assignReplicasToBrokers(brokers.map(b => b.id), nPartitions, rf, fixedStartIndex, startPartitionId)
    if (withRack.length < brokers.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Not all brokers have rack information for replica rack aware assignment.')
    return assignReplicasToBrokersRackAware(new Map(brokers.map(b => [b.id, b.rack!])), nPartitions, rf, fixedStartIndex, startPartitionId)
  }

  private validateAssignment(assignment: number[][], startPartition: number, expectedRf?: number): void {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    const unknown = new Set<number>()
    assignment.forEach((replicas, i) => {
      const p = startPartition + i
      if (!replicas || replicas.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment for partition ${p} is empty`)
      if (new Set(replicas).size !== replicas.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate replica assignment found: ${replicas.join(', ')}`)
      if (expectedRf !== undefined && replicas.length !== expectedRf) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `All partitions should have the same number of replicas (partition ${p} has ${replicas.length}, expected ${expectedRf})`)
      for (const r of replicas) if (!live.has(r)) unknown.add(r)
    })
    if (unknown.size) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Unknown broker(s) in replica assignment: ${[...unknown].join(', ')}.`)
  }

  async createTopic(name: string, opts: CreateTopicOptions): Promise<TopicMeta> {
    const zk = this.ctx.zkClient
    const nameErr = topicNameError(name)
    if (nameErr) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameErr)
    if (this.ctx.cache.topicMap.has(name) || await zk.exists(ZkPaths.topic(name))) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, this.ctx.cache.pendingDeletes.has(name) ? `Topic '${name}' is marked for deletion.` : `Topic '${name}' already exists.`)
    }
    const unified = unifyCollisionChars(name)
    for (const other of this.ctx.cache.topicMap.keys()) {
      if (other !== name && unifyCollisionChars(other) === unified) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${other}`)
    }
    const hasAssignment = opts.assignment !== undefined && Object.keys(opts.assignment).length > 0
    if (hasAssignment && (opts.numPartitions !== -1 || opts.replicationFactor !== -1)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.')
    }
    let partitions: number[][]
    if (hasAssignment) {
      const keys = Object.keys(opts.assignment!).map(Number).sort((a, b) => a - b)
      if (!keys.every((k, i) => k === i)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence')
      partitions = keys.map(k => opts.assignment![k])
      this.validateAssignment(partitions, 0, partitions[0].length)
    } else {
      const n = opts.numPartitions === -1 ? this.ctx.config.numPartitions : opts.numPartitions
      const rf = opts.replicationFactor === -1 ? this.ctx.config.defaultReplicationFactor : opts.replicationFactor
      if (n <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.')
      if (rf <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.')
      partitions = this.place(n, rf)
    }
    const configErr = validateTopicConfigs(opts.configs ?? {})
    if (configErr) throw new KafkaError(ErrorCode.INVALID_CONFIG, configErr)

    const topicId = randomUuid()
    const live = new Set(this.ctx.cache.brokerMap.keys())
    if (opts.validateOnly) {
      return {name, topicId, configs: {...opts.configs}, internal: INTERNAL_TOPICS.has(name), markedForDeletion: false, partitions: partitions.map((replicas, p) => {
        const isr = replicas.filter(r => live.has(r))
        return {topic: name, partition: p, leader: isr[0] ?? -1, leaderEpoch: 0, isr, replicas, controllerEpoch: this.ctx.controller.epoch, zkVersion: -1}
      })}
    }
    // As Kafka's AdminZkClient: the config first, then the assignment (which the controller acts on).
    const cfgJson = encodeTopicConfig({...opts.configs})
    try {
      await zk.create(ZkPaths.topicConfig(name), cfgJson)
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
      await zk.set(ZkPaths.topicConfig(name), cfgJson)
    }
    try {
      await zk.create(ZkPaths.topic(name), encodeTopicAssignment(partitions, topicId))
    } catch (error) {
      if (isCode(error, ZkCode.NODE_EXISTS)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`)
      throw error
    }
    this.ctx.logger.info(`Creating topic ${name} with configuration ${JSON.stringify(opts.configs ?? {})} and initial partition assignment ${JSON.stringify(Object.fromEntries(partitions.map((r, p) => [p, r])))}`)
    await this.ctx.queue.run(`create topic ${name}`, () => this.ctx.cache.loadTopic(name, true))
    await this.ctx.queue.waitFor(() => {
      const t = this.ctx.cache.topicMap.get(name)
      return !!t && t.partitions.length === partitions.length && t.partitions.every(ps => ps.zkVersion >= 0)
    }, this.ctx.metadataWaitMs)
    const t = this.ctx.cache.topicMap.get(name)
    if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' was deleted while being created.`)
    return t
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.ctx.config.deleteTopicEnable) throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.')
    const zk = this.ctx.zkClient
    if (!this.ctx.cache.topicMap.has(name) && !await zk.exists(ZkPaths.topic(name))) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.')
    }
    try {
      await zk.create(ZkPaths.deleteTopic(name))
    } catch (error) {
      if (!isCode(error, ZkCode.NODE_EXISTS)) throw error
    }
    this.ctx.logger.info(`Topic ${name} marked for deletion`)
    await this.ctx.queue.waitFor(() => !this.ctx.cache.topicMap.has(name), this.ctx.metadataWaitMs)
  }

  async createPartitions(name: string, totalCount: number, assignment?: number[][], validateOnly = false): Promise<void> {
    const zk = this.ctx.zkClient
    const r = await zk.getJson<{partitions?: Record<string, number[]>; topic_id?: string}>(ZkPaths.topic(name))
    if (!r || this.ctx.cache.pendingDeletes.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`)
    if (this.ctx.cache.topicMap.get(name)?.partitions.some(ps => ps?.addingReplicas || ps?.removingReplicas)) throw new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `A partition reassignment is in progress for the topic '${name}'.`)
    const existing = Object.keys(r.value.partitions ?? {}).length
    const current = Array.from({length: existing}, (_, p) => r.value.partitions![String(p)] ?? [])
    if (totalCount < existing) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${existing} partitions, which is higher than the requested ${totalCount}.`)
    if (totalCount === existing) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${existing} partitions.`)
    const add = totalCount - existing
    const rf = current[0]?.length ?? 1
    let added: number[][]
    if (assignment && assignment.length) {
      if (assignment.length !== add) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${add} but ${assignment.length} assignments provided.`)
      this.validateAssignment(assignment, existing, rf)
      added = assignment
    } else {
      const brokers = this.ctx.cache.liveBrokerIds()
      const startIndex = Math.max(0, brokers.findIndex(id => id >= (current[0]?.[0] ?? 0)))
      added = this.place(add, rf, startIndex, existing)
    }
    if (validateOnly) return
    const topicId = r.value.topic_id ?? this.ctx.cache.topicMap.get(name)?.topicId ?? randomUuid()
    try {
      await zk.set(ZkPaths.topic(name), encodeTopicAssignment([...current, ...added], topicId), r.stat.version)
    } catch (error) {
      if (isCode(error, ZkCode.BAD_VERSION)) throw new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `The assignment of topic '${name}' changed concurrently; retry.`)
      throw error
    }
    this.ctx.logger.info(`Adding ${add} partition(s) to topic ${name}`)
    await this.ctx.queue.run(`add partitions to ${name}`, () => this.ctx.cache.loadTopic(name, true))
    await this.ctx.queue.waitFor(() => {
      const t = this.ctx.cache.topicMap.get(name)
      return !!t && t.partitions.length === totalCount && t.partitions.every(ps => ps.zkVersion >= 0)
    }, this.ctx.metadataWaitMs)
  }

  async alterTopicConfigs(name: string, set: Record<string, string>, remove: string[], validateOnly = false): Promise<void> {
    const zk = this.ctx.zkClient
    if (!this.ctx.cache.topicMap.has(name) && !await zk.exists(ZkPaths.topic(name))) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`)
    const err = validateTopicConfigs({...set, ...Object.fromEntries(remove.map(k => [k, null]))})
    if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err)
    if (validateOnly) return
    const cur = await zk.getJson<{config?: Record<string, string>}>(ZkPaths.topicConfig(name))
    const merged: Record<string, string> = {...(cur?.value.config ?? {}), ...set}
    for (const k of remove) delete merged[k]
    const json = encodeTopicConfig(merged)
    if (cur) await zk.set(ZkPaths.topicConfig(name), json, cur.stat.version)
    else await zk.create(ZkPaths.topicConfig(name), json)
    await zk.create(`${ZkPaths.configChanges}/config_change_`, JSON.stringify({version: 2, entity_path: `topics/${name}`}), {sequential: true})
    const t = this.ctx.cache.topicMap.get(name)
    if (t) t.configs = merged
  }

  /**
   * Dynamic broker configs (kafka-configs --entity-type brokers): writes /config/brokers/<entity>
   * (entity = a broker id or '<default>') and a change notification every broker follows.
   */
  async alterBrokerConfigs(entity: string, set: Record<string, string>, remove: string[], validateOnly = false, replace = false): Promise<void> {
    if (entity !== '<default>' && !/^\d+$/.test(entity)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid broker id ${entity}`)
    const bad = [...Object.keys(set), ...remove].filter(k => BROKER_TO_TOPIC_KEY[k] === undefined && !DYNAMIC_BROKER_KEYS.has(k))
    if (bad.length) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Cannot update these configs dynamically: Set(${bad.join(', ')})`)
    const asTopic: Record<string, string> = {}
    for (const [k, v] of Object.entries(set)) if (BROKER_TO_TOPIC_KEY[k]) asTopic[BROKER_TO_TOPIC_KEY[k]] = v
    const err = validateTopicConfigs(asTopic)
    if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err.replace(/configuration (\S+):/, (_m, tk: string) => `configuration ${Object.keys(set).find(k => BROKER_TO_TOPIC_KEY[k] === tk) ?? tk}:`))
    if (validateOnly) return
    const zk = this.ctx.zkClient
    const path = ZkPaths.brokerConfig(entity)
    const cur = await zk.getJson<{config?: Record<string, string>}>(path)
    // replace (AlterConfigs): the given set becomes the entity's whole dynamic config.
    const merged: Record<string, string> = replace ? {...set} : {...(cur?.value.config ?? {}), ...set}
    for (const k of remove) delete merged[k]
    const json = encodeTopicConfig(merged)
    if (cur) await zk.set(path, json, cur.stat.version)
    else await zk.create(path, json, {parents: true}).catch(async e => { if (isCode(e, ZkCode.NODE_EXISTS)) await zk.set(path, json); else throw e })
    await zk.create(`${ZkPaths.configChanges}/config_change_`, JSON.stringify({version: 2, entity_path: `brokers/${entity}`}), {sequential: true})
    if (entity === '<default>' || entity === String(this.ctx.brokerId)) await this.ctx.queue.run('broker config change', async () => {
      await this.ctx.cache.loadBrokerConfigs()
      this.ctx.fire('brokerConfigChanged')
    })
  }
}
