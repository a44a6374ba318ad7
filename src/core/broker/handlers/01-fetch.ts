// Fetch (1): reads whole batches up to the high watermark and hands the log's Buffers to
// the response as they are. Long-polls on max_wait_ms / min_bytes: waiting fetches are
// woken by appends (Partition.advanceHighWatermark), never by a polling loop. Incremental
// fetch sessions (KIP-227, fetch-sessions.ts): epoch 0 opens one, later epochs send and
// receive only what changed, epoch -1 fetches without a session.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import type {Partition, PartitionWaiter} from '../partition.js'
import type {KafkaBroker} from '../broker.js'
import {checkLeaderEpoch} from '../replica-manager.js'
import {FetchSession, INITIAL_EPOCH, FINAL_EPOCH, type CachedPartition} from '../fetch-sessions.js'

const EMPTY = Buffer.alloc(0)
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
/** About the bytes of one partition's fields in a Fetch response (the quota counts them with the records). */
const PARTITION_OVERHEAD = 40

interface Item {
  partition: Partition | undefined
  fetchOffset: number
  maxBytes: number
  out: any
  /** The session's entry for this partition, when the fetch has a session. */
  cached?: CachedPartition
  topicOut?: {partitions: any[]}
  /** A follower's fetch of a leader-throttled partition while the leader's quota is used up: no records. */
  throttled?: boolean
  /** Counts the bytes read for a follower against the leader's replication quota. */
  replicaRead?: (bytes: number) => void
}

/** One partition a fetch asks for, from the request or from its session. */
interface Wanted {
  topic: string | undefined
  topicId: string
  partition: number
  fetchOffset: number
  maxBytes: number
  currentLeaderEpoch: number
  cached?: CachedPartition
}

/** The log's buffers as the response's records field: written to the socket as they are. */
function recordsOf(bufs: Buffer[]): Buffer | Buffer[] {
  if (bufs.length === 0) return EMPTY
  return bufs.length === 1 ? bufs[0] : bufs
}

async function readAll(items: Item[], maxBytes: number, replica: boolean, readCommitted: boolean): Promise<number> {
  let total = 0
  for (const it of items) {
    const p = it.partition
    const out = it.out
    if (p === undefined || out.errorCode !== 0 && out.errorCode !== ErrorCode.OFFSET_OUT_OF_RANGE) continue
    const lso = p.lastStableOffset
    out.highWatermark = p.highWatermark
    out.lastStableOffset = lso
    out.logStartOffset = p.logStartOffset
    out.records = EMPTY
    if (readCommitted) out.abortedTransactions = []
    // read_uncommitted consumers read up to the high watermark, read_committed ones up to the
    // last stable offset; followers read everything the leader has.
    const upTo = replica ? p.logEndOffset : readCommitted ? lso : p.highWatermark
    if (it.fetchOffset < p.logStartOffset || it.fetchOffset > p.logEndOffset) {
      out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE
      continue
    }
    out.errorCode = 0
    if (it.fetchOffset >= upTo || it.throttled) continue
    const budget = Math.min(it.maxBytes, maxBytes - total)
    const minOne = total === 0
    if (budget <= 0 && !minOne) continue
    try {
      const res = await p.log.read(it.fetchOffset, Math.max(budget, 0), upTo, minOne)
      out.records = recordsOf(res.records)
      total += res.bytes
      it.replicaRead?.(res.bytes)
      if (readCommitted && res.bytes > 0) {
        // The consumer drops the records of these aborted transactions.
        const aborted = p.log.collectAbortedTxns(it.fetchOffset, lastOffsetAfter(res.records))
        if (aborted.length > 0) out.abortedTransactions = aborted.map(t => ({producerId: t.producerId, firstOffset: t.firstOffset}))
      }
    } catch (error) {
      out.errorCode = (error as {code?: number}).code ?? ErrorCode.UNKNOWN_SERVER_ERROR
      out.records = EMPTY
    }
  }
  return total
}

/** The offset after the last batch of a read (the upper bound for aborted transactions). */
function lastOffsetAfter(bufs: Buffer[]): number {
  const b = bufs[bufs.length - 1]
  let at = 0
  let next = 0
  while (at + 61 <= b.length) {
    next = b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4) + b.readInt32BE(at + 23) + 1
    at += b.readInt32BE(at + 8) + 12
  }
  return next
}

function hasData(items: Item[], replica: boolean, readCommitted: boolean): boolean {
  for (const it of items) {
    const p = it.partition
    if (p === undefined || it.throttled) continue
    if (it.out.errorCode !== 0) return true
    if (it.fetchOffset < p.logStartOffset || it.fetchOffset > p.logEndOffset) return true
    if (it.fetchOffset < (replica ? p.logEndOffset : readCommitted ? p.lastStableOffset : p.highWatermark)) return true
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

export const fetch = defineHandler(Apis.Fetch, {
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
    const byId = version >= 13
    // The session: none (epoch -1), a new one (epoch 0), or an existing one (later epochs).
    const sessionId: number = version >= 7 ? req.sessionId : 0
    const epoch: number = version >= 7 ? req.sessionEpoch : FINAL_EPOCH
    const sessions = broker.fetchSessions
    let session: FetchSession | null = null
    let incremental = false
    if (version >= 7) {
      if (epoch === FINAL_EPOCH || epoch === INITIAL_EPOCH) {
        if (sessionId !== 0) sessions.remove(sessionId)
        if (epoch === INITIAL_EPOCH) session = sessions.create()
      } else {
        const s = sessions.get(sessionId)
        if (s === undefined) return {throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: []}
        if (s.epoch !== epoch) return {throttleTimeMs: 0, errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: 0, responses: []}
        session = s
        incremental = true
      }
    }
    const wanted: Wanted[] = []
    for (const t of req.topics) {
      let name: string | undefined = t.topic
      const topicId: string = t.topicId ?? ZERO_UUID
      if (byId) name = broker.cluster.topicById(topicId)?.name
      for (const fp of t.partitions) {
        wanted.push({topic: name, topicId, partition: fp.partition, fetchOffset: fp.fetchOffset, maxBytes: fp.partitionMaxBytes, currentLeaderEpoch: fp.currentLeaderEpoch ?? -1})
      }
    }
    let fetchList: Wanted[] = wanted
    if (session !== null) {
      // The request's partitions join the session (or update their offsets); forgotten ones
      // leave it. An incremental fetch then reads every partition of the session.
      for (const w of wanted) {
        const key = FetchSession.key(w.topic ?? '', w.topicId, w.partition, byId)
        let cp = session.partitions.get(key)
        if (cp === undefined) {
          cp = {topic: w.topic ?? '', topicId: w.topicId, partition: w.partition, fetchOffset: 0, maxBytes: 0, currentLeaderEpoch: -1, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1}
          session.partitions.set(key, cp)
        }
        cp.fetchOffset = w.fetchOffset
        cp.maxBytes = w.maxBytes
        cp.currentLeaderEpoch = w.currentLeaderEpoch
        w.cached = cp
      }
      if (incremental) {
        for (const f of req.forgottenTopicsData ?? []) {
          for (const part of f.partitions) session.partitions.delete(FetchSession.key(f.topic ?? '', f.topicId ?? ZERO_UUID, part, byId))
        }
        fetchList = []
        for (const cp of session.partitions.values()) {
          const topic = byId ? broker.cluster.topicById(cp.topicId)?.name : cp.topic
          fetchList.push({topic, topicId: cp.topicId, partition: cp.partition, fetchOffset: cp.fetchOffset, maxBytes: cp.maxBytes, currentLeaderEpoch: cp.currentLeaderEpoch, cached: cp})
        }
        session.epoch = epoch >= 0x7fffffff ? 1 : epoch + 1
      }
    }
    const byTopic = new Map<string, {topic: string; topicId: string; partitions: any[]}>()
    for (const w of fetchList) {
      const unknownId = byId && w.topic === undefined
      const name = w.topic
      const tkey = byId ? w.topicId : name ?? ''
      let topicOut = byTopic.get(tkey)
      if (topicOut === undefined) {
        topicOut = {topic: name ?? '', topicId: w.topicId, partitions: []}
        byTopic.set(tkey, topicOut)
        responses.push(topicOut)
      }
      const out: any = {partitionIndex: w.partition, errorCode: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: readCommitted ? [] : null, preferredReadReplica: -1, records: EMPTY}
      topicOut.partitions.push(out)
      const p = unknownId || name === undefined ? undefined : broker.replicas.partition(name, w.partition)
      if (name !== undefined && ctx.authz !== undefined && !ctx.authz.fetchAllowed(replica, name)) {
        out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED
      } else if (p === undefined) {
        if (unknownId) out.errorCode = ErrorCode.UNKNOWN_TOPIC_ID
        else out.errorCode = broker.cluster.topic(name!)?.partitions[w.partition] ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      } else if (version >= 9 && checkLeaderEpoch(p, w.currentLeaderEpoch) !== 0) {
        out.errorCode = checkLeaderEpoch(p, w.currentLeaderEpoch)
      } else if (!p.isLeader()) {
        out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER
        if (version >= 12) out.currentLeader = {leaderId: p.leader, leaderEpoch: p.leaderEpoch}
      }
      if (replica && out.errorCode === 0 && p !== undefined) {
        // A follower's fetch offset is its log end: it moves the high watermark and the ISR.
        if (p.recordFollowerFetch(replicaId, w.fetchOffset, now) && !p.isr.includes(replicaId)) broker.replicas.expandIsr(p, replicaId)
      }
      const item: Item = {partition: out.errorCode === 0 ? p : undefined, fetchOffset: w.fetchOffset, maxBytes: w.maxBytes, out, cached: w.cached, topicOut}
      if (replica && item.partition !== undefined) {
        // Replication throttles (kafka-reassign-partitions --throttle), leader side.
        const throttles = broker.replicas.throttles
        const part = item.partition
        item.throttled = throttles.shouldThrottleLeader(part, replicaId)
        item.replicaRead = bytes => throttles.recordLeader(part, bytes)
      }
      items.push(item)
    }
    // A consumer with a consumer_byte_rate quota fetches at most one quota window's bytes
    // (more would be throttled whatever else it fetched), and min_bytes no more than that.
    const quota = ctx.fetchQuota
    let maxBytes = version >= 3 ? (req.maxBytes > 0 ? req.maxBytes : 0x7fffffff) : 0x7fffffff
    let minBytes: number = req.minBytes
    if (quota !== undefined && quota.maxBytes < maxBytes) {
      maxBytes = Math.max(0, Math.floor(quota.maxBytes))
      minBytes = Math.min(minBytes, maxBytes)
    }
    const deadline = Date.now() + Math.max(0, req.maxWaitMs)
    const conn = ctx.conn
    const onClose = (fn: () => void) => {
      conn.socket.once('close', fn)
      return () => conn.socket.removeListener('close', fn)
    }
    let read = 0
    for (;;) {
      const remaining = deadline - Date.now()
      if (!hasData(items, replica, readCommitted) && remaining > 0 && minBytes > 0 && !conn.closed && !broker.stopping) {
        await waitForData(broker, items, remaining, () => conn.closed, onClose)
        continue
      }
      read = await readAll(items, maxBytes, replica, readCommitted)
      if (read >= minBytes || deadline - Date.now() <= 0 || conn.closed || broker.stopping) break
      // Less than min_bytes: wait for more appends, then read again.
      await waitForData(broker, items, deadline - Date.now(), () => conn.closed, onClose)
      if (deadline - Date.now() <= 0) {
        read = await readAll(items, maxBytes, replica, readCommitted)
        break
      }
    }
    if (quota !== undefined) {
      // Records plus about what each partition's fields take in the response.
      const throttle = quota.check(read + PARTITION_OVERHEAD * items.length)
      if (throttle > 0) {
        // Kafka's throttled response: no partitions; a session this fetch opened is not kept,
        // an incremental session keeps what its client knew (getThrottledResponse).
        if (session !== null && !incremental) sessions.remove(session.id)
        return {throttleTimeMs: throttle, errorCode: 0, sessionId: incremental ? session!.id : 0, responses: []}
      }
    }
    if (session !== null) {
      // Remember what each partition's client now knows; an incremental response leaves out
      // the partitions with nothing new.
      const dropped = new Set<any>()
      for (const it of items) {
        if (it.cached !== undefined && !session.mustRespond(it.cached, it.out) && incremental) dropped.add(it.out)
      }
      if (dropped.size > 0) {
        for (const t of responses) t.partitions = t.partitions.filter((x: any) => !dropped.has(x))
        return {throttleTimeMs: 0, errorCode: 0, sessionId: session.id, responses: responses.filter(t => t.partitions.length > 0)}
      }
    }
    return {throttleTimeMs: 0, errorCode: 0, sessionId: session?.id ?? 0, responses}
  },
})
