// DescribeLogDirs to each broker (Java's Admin.describeLogDirs): every log directory with its
// error and the replicas it holds (size, offset lag, future replica or not).
import {AdminClient} from '../admin-client.js'
import {apiError, exceptionClass} from '../kafka-errors.js'
import {DescribeLogDirs} from '../../protocol/messages.js'

export interface ReplicaInfo {
  topic: string
  partition: number
  size: number
  offsetLag: number
  isFuture: boolean
}

export interface LogDirDescription {
  logDir: string
  /** The Java exception class (fully qualified) of the directory's error, null when none. */
  error: string | null
  replicas: ReplicaInfo[]
  totalBytes: number
  usableBytes: number
}

/** The log directories of one broker (a request error becomes the call's Java exception). */
export async function describeLogDirs(admin: AdminClient, broker: number): Promise<LogDirDescription[]> {
  return admin.call('describeLogDirs', {kind: 'node', id: broker}, DescribeLogDirs, {topics: null}, {
    handle: res => {
      if (res.errorCode !== 0) throw apiError(res.errorCode)
      return res.results.map(r => ({
        logDir: r.logDir,
        error: r.errorCode === 0 ? null : `org.apache.kafka.common.errors.${exceptionClass(r.errorCode)}`,
        replicas: r.topics.flatMap(t => t.partitions.map(p => ({topic: t.name, partition: p.partitionIndex, size: p.partitionSize, offsetLag: p.offsetLag, isFuture: p.isFutureKey}))),
        totalBytes: r.totalBytes,
        usableBytes: r.usableBytes,
      }))
    },
  })
}
