// The producer's configuration (the Java producer's keys and defaults, with its checks) and
// the types its parts share.
import type {KafkaClientError} from './kafka-errors.js'
import {ClientConfig, ConfigError} from './config.js'
import {codecId} from './compression.js'

export type SendCallback = (error: KafkaClientError | null, partition: number, offset: number, timestamp: number, token: number) => void

export interface ProducerSettings {
  acks: number
  batchSize: number
  lingerMs: number
  bufferMemory: number
  maxBlockMs: number
  maxRequestSize: number
  maxInFlight: number
  retries: number
  deliveryTimeoutMs: number
  compression: number
  idempotence: boolean
  partitionerIgnoreKeys: boolean
  adaptivePartitioning: boolean
}

export const INT_MAX = 2147483647
export const MAX_EPOCH = 32767

/** Reads the producer's settings from Java property names, with Java's defaults and checks. */
export function producerSettings(cfg: ClientConfig): ProducerSettings {
  const acksText = cfg.oneOf('acks', 'all', ['all', '-1', '0', '1'])
  const acks = acksText === 'all' ? -1 : Number(acksText)
  const compressionName = cfg.oneOf('compression.type', 'none', ['none', 'gzip', 'snappy', 'lz4', 'zstd'], true)
  const lingerMs = cfg.long('linger.ms', 0, 0)
  const requestTimeoutMs = cfg.int('request.timeout.ms', 30000, 0)
  const maxInFlight = cfg.int('max.in.flight.requests.per.connection', 5, 1)
  const retries = cfg.int('retries', INT_MAX, 0)
  let deliveryTimeoutMs = cfg.int('delivery.timeout.ms', 120000, 0)
  if (deliveryTimeoutMs < lingerMs + requestTimeoutMs) {
    if (cfg.has('delivery.timeout.ms')) throw new ConfigError('delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms')
    deliveryTimeoutMs = lingerMs + requestTimeoutMs
  }
  const userIdempotence = cfg.has('enable.idempotence')
  let idempotence = cfg.bool('enable.idempotence', true)
  if (idempotence) {
    const conflict = maxInFlight > 5
      ? `To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is ${maxInFlight}.`
      : retries === 0 ? 'Must set retries to non-zero when using the idempotent producer.'
        : acks !== -1 ? 'Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.' : undefined
    if (conflict) {
      if (userIdempotence) throw new ConfigError(conflict)
      idempotence = false
    }
  }
  if (cfg.get('transactional.id')) throw new ConfigError('transactional.id is not supported yet: kafkit\'s producer has no transactions')
  return {
    acks,
    batchSize: cfg.int('batch.size', 16384, 0),
    lingerMs,
    bufferMemory: cfg.long('buffer.memory', 33554432, 0),
    maxBlockMs: cfg.long('max.block.ms', 60000, 0),
    maxRequestSize: cfg.int('max.request.size', 1048576, 0),
    maxInFlight,
    retries,
    deliveryTimeoutMs,
    compression: codecId(compressionName),
    idempotence,
    partitionerIgnoreKeys: cfg.bool('partitioner.ignore.keys', false),
    adaptivePartitioning: cfg.bool('partitioner.adaptive.partitioning.enable', true),
  }
}


export interface ProducerStats {
  recordsSent: number
  batchesSent: number
  retries: number
  errors: number
}
