// The consumer's configuration (the Java consumer's keys and defaults) and the types its
// parts share.
import type {ClientConfig} from './config.js'
import type {AbortFilter, FetchedRecord} from './records.js'
import {KafkaClientError} from './kafka-errors.js'
import {assignorsFor, type Assignor} from './assignors.js'

export interface ConsumerRecord extends FetchedRecord {
  topic: string
  partition: number
}

export interface TopicPartition {
  topic: string
  partition: number
}

export interface ConsumerSettings {
  groupId: string | undefined
  groupInstanceId: string | null
  autoOffsetReset: 'earliest' | 'latest' | 'none'
  enableAutoCommit: boolean
  autoCommitIntervalMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  maxPollIntervalMs: number
  maxPollRecords: number
  fetchMinBytes: number
  fetchMaxBytes: number
  fetchMaxWaitMs: number
  maxPartitionFetchBytes: number
  isolationLevel: 0 | 1
  allowAutoCreateTopics: boolean
  checkCrcs: boolean
  defaultApiTimeoutMs: number
  excludeInternalTopics: boolean
  assignors: Assignor[]
}

export function consumerSettings(cfg: ClientConfig): ConsumerSettings {
  const groupId = cfg.string('group.id', undefined)
  const isolation = cfg.oneOf('isolation.level', 'read_uncommitted', ['read_committed', 'read_uncommitted'], true)
  let assignors: Assignor[]
  try {
    assignors = assignorsFor(cfg.list('partition.assignment.strategy', ['org.apache.kafka.clients.consumer.RangeAssignor', 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor']))
  } catch (error) {
    throw new KafkaClientError('ConfigException', (error as Error).message)
  }
  return {
    groupId: groupId === '' ? undefined : groupId,
    groupInstanceId: cfg.string('group.instance.id', undefined) ?? null,
    autoOffsetReset: cfg.oneOf('auto.offset.reset', 'latest', ['latest', 'earliest', 'none']) as 'latest',
    enableAutoCommit: cfg.bool('enable.auto.commit', true),
    autoCommitIntervalMs: cfg.int('auto.commit.interval.ms', 5000, 0),
    sessionTimeoutMs: cfg.int('session.timeout.ms', 45000),
    heartbeatIntervalMs: cfg.int('heartbeat.interval.ms', 3000),
    maxPollIntervalMs: cfg.int('max.poll.interval.ms', 300000, 1),
    maxPollRecords: cfg.int('max.poll.records', 500, 1),
    fetchMinBytes: cfg.int('fetch.min.bytes', 1, 0),
    fetchMaxBytes: cfg.int('fetch.max.bytes', 52428800, 0),
    fetchMaxWaitMs: cfg.int('fetch.max.wait.ms', 500, 0),
    maxPartitionFetchBytes: cfg.int('max.partition.fetch.bytes', 1048576, 0),
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    allowAutoCreateTopics: cfg.bool('allow.auto.create.topics', true),
    checkCrcs: cfg.bool('check.crcs', true),
    defaultApiTimeoutMs: cfg.int('default.api.timeout.ms', 60000, 0),
    excludeInternalTopics: cfg.bool('exclude.internal.topics', true),
    assignors,
  }
}

export const EARLIEST = -2
export const LATEST = -1

export interface PartitionState {
  topic: string
  partition: number
  name: string
  /** Next offset to fetch/return; null until known. */
  position: number | null
  /** Waiting for the group's committed offset (before falling back to auto.offset.reset). */
  awaitingCommitted: boolean
  /** A pending reset: -2 earliest, -1 latest. */
  resetTo: number | undefined
  resetInFlight: boolean
  resetNotBefore: number
  resetFailures: number
  /** Fetched data not yet returned by poll(). */
  buffered: Completed | undefined
  /** The offset committed last (auto commit skips unchanged positions). */
  committed: number | undefined
  /**
   * Where this consumer was when it last gave the partition up in a rebalance (its commit may
   * have failed, e.g. with the coordinator gone): if it gets the partition back, it does not
   * go back behind it.
   */
  keptPosition: number | undefined
  highWatermark: number
  leaderEpoch: number
}

export interface Completed {
  ps: PartitionState
  records: Buffer
  fetchOffset: number
  filter: AbortFilter | undefined
}

export type RebalanceListener = {
  onAssigned?(partitions: TopicPartition[]): void
  onRevoked?(partitions: TopicPartition[]): void
}
