// A partition log's settings: the topic-level configs (segment.bytes, retention.ms, ...) with
// the broker's log.* defaults applied, and Kafka's defaults.
export interface LogConfig {
  segmentBytes: number
  segmentMs: number
  segmentJitterMs?: number
  retentionMs: number
  retentionBytes: number
  indexIntervalBytes: number
  /** segment.index.bytes (10485760) */
  maxIndexSizeBytes: number
  flushIntervalMessages: number
  flushIntervalMs: number
  fileDeleteDelayMs: number
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  maxMessageBytes: number
  cleanupPolicy: string
  /** delete.retention.ms (compacted topics keep tombstones this long); default 86400000 */
  deleteRetentionMs?: number
  /** min.compaction.lag.ms; default 0 */
  minCompactionLagMs?: number
  /** min.cleanable.dirty.ratio; default 0.5 */
  minCleanableDirtyRatio?: number
}

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentJitterMs: 0,
  retentionMs: 604800000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  maxIndexSizeBytes: 10485760,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  fileDeleteDelayMs: 60000,
  messageTimestampType: 'CreateTime',
  maxMessageBytes: 1048588,
  cleanupPolicy: 'delete',
}
