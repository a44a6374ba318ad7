// Fetch (1): reads whole batches up to the high watermark and hands the log's Buffers to
// the response as they are. Long-polls on max_wait_ms / min_bytes: waiting fetches are
// woken by appends (Partition.advanceHighWatermark), never by a polling loop. Fetch
// sessions are not kept: every response carries session id 0, which clients treat as
// "full fetch, no session" and keep sending full requests.
import {ErrorCode} from '../../protocol/errors.js'
import type {Handler} from '../handler.js'
import type {Partition, PartitionWaiter} from '../partition.js'
import type {KafkaBroker} from '../broker.js'
import {checkLeaderEpoch} from '../replica-manager.js'

const EMPTY = Buffer.alloc(0)
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

interface Item {
  partition: Partition | undefined
  fetchOffset: number
  maxBytes: number
  out: any
}

/** The log's buffers as the response's records field: written to the socket as they are. */
function recordsOf(bufs: Buffer[]): Buffer | Buffer[] {
  if (bufs.length === 0) return EMPTY
  return bufs.length === 1 ? bufs[0] : bufs
}

async function readAll(items: Item[], maxBytes: number, replica: boolean): Promise<number> {
  let total = 0
  for (const it of items) {
    const p = it.partition
    const out = it.out
    if (p === undefined || out.errorCode !== 0 && out.errorCode !== ErrorCode.OFFSET_OUT_OF_RANGE) continue
    out.highWatermark = p.highWatermark
    out.lastStableOffset = p.highWatermark
    out.logStartOffset = p.logStartOffset
    out.records = EMPTY
    // Consumers read up to the high watermark (= last stable offset: no transactions yet);
    // followers read everything the leader has.
    const upTo = replica ? p.logEndOffset : p.highWatermark
    if (it.fetchOffset < p.logStartOffset || it.fetchOffset > p.logEndOffset) {
      out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE
      continue
    }
    out.errorCode = 0
    if (it.fetchOffset >= upTo) continue
    const budget = Math.min(it.maxBytes, maxBytes - total)
    const minOne = total === 0
    if (budget <= 0 && !minOne) continue
    try {
      const res = await p.log.read(it.fetchOffset, Math.max(budget, 0), upTo, minOne)
      out.records = recordsOf(res.records)
      total += res.bytes
    } catch (error) {
      out.errorCode = (error as {code?: number}).code ?? ErrorCode.UNKNOWN_SERVER_ERROR
      out.records = EMPTY
    }
  }
  return total
}

function hasData(items: Item[], replica: boolean): boolean {
  for (const it of items) {
    const p = it.partition
    if (p === undefined) continue
    if (it.out.errorCode !== 0) return true
    if (it.fetchOffset < p.logStartOffset || it.fetchOffset > p.logEndOffset) return true
    if (it.fetchOffset < (replica ? p.logEndOffset : p.highWatermark)) return true
  }
  return false
}

/** Waits until one of the partitions gets new data, the deadline passes or the client leaves. */
function waitForData(broker: KafkaBroker, items: Item[], ms: number, socketClosed: () => boolean, onClose: (fn: () => void) => () => void): Promise<void> {
  return new Promise<void>(resolve => {
    let done = false
    const parts = new Set<Partition>()
    for (const it of items) if (it.partition) parts.add(it.partition)
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      for (const p of parts) p.waiters.delete(waiter)
      broker.fetchWaiters.delete(finish)
      off()
      resolve()
    }
    const waiter: PartitionWaiter = {onData: finish}
    for (const p of parts) p.waiters.add(waiter)
    broker.fetchWaiters.add(finish)
    const timer = setTimeout(finish, ms)
    const off = onClose(finish)
    if (socketClosed()) finish()
  })
}

export const fetch: Handler = {
  apiKey: 1,
  minVersion: 0,
  maxVersion: 17,
  async handle(ctx, req, version) {
    const broker = ctx.broker
    const items: Item[] = []
    const responses: any[] = []
    const readCommitted = version >= 4 && req.isolationLevel === 1
    const replicaId: number = version >= 15 ? req.replicaState?.replicaId ?? -1 : req.replicaId ?? -1
    const replica = replicaId >= 0
    const now = Date.now()
    for (const t of req.topics) {
      let name: string | undefined = t.topic
      let topicId: string = t.topicId ?? ZERO_UUID
      let unknownId = false
      if (version >= 13) {
        const meta = broker.cluster.topicById(topicId)
        if (meta) name = meta.name
        else unknownId = true
      }
      const partitions: any[] = []
      for (const fp of t.partitions) {
        const out: any = {partitionIndex: fp.partition, errorCode: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: readCommitted ? [] : null, preferredReadReplica: -1, records: EMPTY}
        partitions.push(out)
        const p = unknownId || name === undefined ? undefined : broker.replicas.partition(name, fp.partition)
        if (p === undefined) {
          if (unknownId) out.errorCode = ErrorCode.UNKNOWN_TOPIC_ID
          else out.errorCode = broker.cluster.topic(name!)?.partitions[fp.partition] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        } else if (version >= 9 && checkLeaderEpoch(p, fp.currentLeaderEpoch) !== 0) {
          out.errorCode = checkLeaderEpoch(p, fp.currentLeaderEpoch)
        } else if (!p.isLeader()) {
          out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
          if (version >= 12) out.currentLeader = {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
        }
        if (replica && out.errorCode === 0 && p !== undefined) {
          // A follower's fetch offset is its log end: it moves the high watermark and the ISR.
          if (p.recordFollowerFetch(replicaId, fp.fetchOffset, now) && !p.isr.includes(replicaId)) broker.replicas.expandIsr(p, replicaId)
        }
        items.push({partition: out.errorCode === 0 ? p : undefined, fetchOffset: fp.fetchOffset, maxBytes: fp.partitionMaxBytes, out})
      }
      responses.push({topic: name ?? '', topicId, partitions})
    }
    const maxBytes = version >= 3 ? (req.maxBytes > 0 ? req.maxBytes : 0x7fffffff) : 0x7fffffff
    const deadline = Date.now() + Math.max(0, req.maxWaitMs)
    const conn = ctx.conn
    const onClose = (fn: () => void) => {
      conn.socket.once('close', fn)
      return () => conn.socket.removeListener('close', fn)
    }
    for (;;) {
      const remaining = deadline - Date.now()
      if (!hasData(items, replica) && remaining > 0 && req.minBytes > 0 && !conn.closed && !broker.stopping) {
        await waitForData(broker, items, remaining, () => conn.closed, onClose)
        continue
      }
      const bytes = await readAll(items, maxBytes, replica)
      if (bytes >= req.minBytes || deadline - Date.now() <= 0 || conn.closed || broker.stopping) break
      // Less than min_bytes: wait for more appends, then read again.
      await waitForData(broker, items, deadline - Date.now(), () => conn.closed, onClose)
      if (deadline - Date.now() <= 0) {
        await readAll(items, maxBytes, replica)
        break
      }
    }
    return {throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses}
  },
}
