// The partition leader's side of WriteTxnMarkers: appends a COMMIT or ABORT control batch to
// each partition (Partition.appendMarker checks the producer and coordinator epochs) and
// answers once the in-sync replicas have it, as Kafka appends markers with acks=all. Used by
// the WriteTxnMarkers handler and, for partitions this broker leads, by the coordinator directly.
import {ErrorCode} from '../protocol/errors.js'
import type {ReplicatedLog} from '../log/replicated-log.js'
import type {MarkerRequest, MarkerTarget} from './marker-sender.js'

export interface MarkerPartitions {
  partition(topic: string, index: number): ReplicatedLog | undefined
  /** Whether the topic exists with this partition (UNKNOWN_TOPIC_OR_PARTITION otherwise). */
  exists(topic: string, index: number): boolean
}

export async function writeMarkers(parts: MarkerPartitions, req: MarkerRequest, targets: MarkerTarget[], timeoutMs: number): Promise<number[]> {
  const codes = new Array<number>(targets.length).fill(0)
  const waits: Promise<void>[] = []
  targets.forEach((t, i) => {
    const p = parts.partition(t.topic, t.partition)
    if (p === undefined) {
      codes[i] = parts.exists(t.topic, t.partition) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      return
    }
    const o = p.appendMarker(req.producerId, req.producerEpoch, req.coordinatorEpoch, req.commit)
    codes[i] = o.errorCode
    if (o.errorCode === 0 && p.highWatermark <= o.lastOffset) {
      waits.push(p.waitForHighWatermark(o.lastOffset, timeoutMs).then(ok => {
        if (!ok) codes[i] = p.isLeader() ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.NOT_LEADER_OR_FOLLOWER
      }))
    }
  })
  await Promise.all(waits)
  return codes
}
