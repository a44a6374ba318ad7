// The consumer's fetcher: one Fetch in flight per leader node, for the assigned partitions
// that have no data waiting to be polled; read_committed drops aborted transactions. A
// partition whose leader moved or whose node is unreachable gets fresh metadata and is
// fetched from the new leader. OFFSET_OUT_OF_RANGE resets by auto.offset.reset. poll()
// takes records from the buffered fetches (drainBuffered).
import {Fetch, type FetchResponse} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError} from '../protocol/client.js'
import {AbortFilter, readRecords} from './records.js'
import {KafkaClientError} from './kafka-errors.js'
import {Loggers} from './log.js'
import {EARLIEST, LATEST, type ConsumerRecord, type PartitionState} from './consumer-config.js'
import type {Consumer} from './consumer.js'

export class Fetcher {
  private readonly fetchInFlight = new Set<number>()
  /** After a failed fetch: when the node may be fetched from again, and the failures in a row. */
  private readonly fetchBackoff = new Map<number, {until: number; failures: number}>()
  private scheduled = false
  pumpTimer: NodeJS.Timeout | undefined

  constructor(private readonly c: Consumer) {}

  schedulePump(): void {
    if (this.scheduled || this.c.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  armPump(ms: number): void {
    if (this.pumpTimer || this.c.closed) return
    this.pumpTimer = setTimeout(() => { this.pumpTimer = undefined; this.pump() }, Math.max(1, ms))
  }

  pump(): void {
    if (this.c.closed) return
    const now = Date.now()
    if (this.c.group.coordinator < 0 && this.c.manual && !this.c.group.groupTask && [...this.c.assigned.values()].some(p => p.awaitingCommitted)) this.c.group.startGroupTask()
    if (this.c.group.coordinator >= 0) {
      this.c.offsets.fetchCommitted()
      if (now < this.c.offsets.committedNotBefore) this.armPump(this.c.offsets.committedNotBefore - now)
    }
    this.c.offsets.resetPositions(now)
    const fetchable: PartitionState[] = []
    let waitMs = Infinity
    for (const ps of this.c.assigned.values()) {
      if (ps.position === null) { if (ps.resetNotBefore > now) waitMs = Math.min(waitMs, ps.resetNotBefore - now); continue }
      if (ps.buffered) continue
      fetchable.push(ps)
    }
    let missingLeader = false
    const groups = new Map<number, PartitionState[]>()
    for (const ps of fetchable) {
      const leader = this.c.net.leaderFor(ps.topic, ps.partition)
      if (leader < 0) { missingLeader = true; continue }
      let l = groups.get(leader)
      if (!l) groups.set(leader, l = [])
      l.push(ps)
    }
    if (missingLeader) this.c.net.requestUpdate()
    for (const [node, list] of groups) {
      if (this.fetchInFlight.has(node)) continue
      const fb = this.fetchBackoff.get(node)
      if (fb && fb.until > now) { waitMs = Math.min(waitMs, fb.until - now); continue }
      if (!this.c.net.ready(node)) {
        const d = this.c.net.connectionDelay(node)
        if (d > 0) waitMs = Math.min(waitMs, d)
        continue
      }
      this.sendFetch(node, list)
    }
    if (waitMs < Infinity) this.armPump(waitMs)
    if (missingLeader) this.armPump(this.c.net.settings.retryBackoffMs)
  }

  sendFetch(node: number, list: PartitionState[]): void {
    this.fetchInFlight.add(node)
    const topics = new Map<string, PartitionState[]>()
    for (const ps of list) {
      let l = topics.get(ps.topic)
      if (!l) topics.set(ps.topic, l = [])
      l.push(ps)
    }
    const offsets = new Map(list.map(ps => [ps, ps.position!]))
    const s = this.c.settings
    this.c.net.send(node, Fetch, {
      replicaId: -1, maxWaitMs: s.fetchMaxWaitMs, minBytes: s.fetchMinBytes, maxBytes: s.fetchMaxBytes, isolationLevel: s.isolationLevel,
      sessionId: 0, sessionEpoch: -1,
      topics: [...topics].map(([topic, ps]) => ({topic, partitions: ps.map(p => ({partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.position!, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: s.maxPartitionFetchBytes}))})),
      forgottenTopicsData: [], rackId: '',
    }, {maxVersion: 12, timeoutMs: this.c.net.settings.requestTimeoutMs + s.fetchMaxWaitMs}).then(
      res => { this.fetchBackoff.delete(node); this.handleFetch(res, offsets) },
      (error: Error) => {
        const fb = this.fetchBackoff.get(node) ?? {until: 0, failures: 0}
        fb.until = Date.now() + this.c.retryBackoff.backoff(fb.failures++)
        this.fetchBackoff.set(node, fb)
        if (error instanceof KafkaClientError && !error.retriable && !(error instanceof ConnectionError)) this.c.fatal = error
        this.c.net.requestUpdate()
      },
    ).finally(() => {
      this.fetchInFlight.delete(node)
      this.schedulePump()
    })
  }

  handleFetch(res: FetchResponse, offsets: Map<PartitionState, number>): void {
    if (res.errorCode !== 0) {
      this.c.net.requestUpdate()
      return
    }
    let got = false
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const ps = this.c.assigned.get(`${t.topic}-${p.partitionIndex}`)
        if (!ps) continue
        const fetchOffset = offsets.get(ps)
        if (fetchOffset === undefined || ps.position !== fetchOffset || ps.buffered) continue
        if (p.errorCode !== 0) {
          const name = errorName(p.errorCode)
          if (name === 'OFFSET_OUT_OF_RANGE') {
            if (this.c.settings.autoOffsetReset === 'none') {
              this.c.fatal = new KafkaClientError('OffsetOutOfRangeException', `Fetch position FetchPosition{offset=${fetchOffset}} is out of range for partition ${ps.name}`, 1)
            } else {
              this.c.net.log.info(Loggers.fetcher, `Fetch position FetchPosition{offset=${fetchOffset}} is out of range for partition ${ps.name}, resetting offset`)
              ps.position = null
              ps.resetTo = this.c.settings.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
            }
          } else if (name === 'TOPIC_AUTHORIZATION_FAILED') {
            this.c.fatal = new KafkaClientError('TopicAuthorizationException', `Not authorized to access topics: [${ps.topic}]`, p.errorCode)
          } else {
            if (name === 'UNKNOWN_TOPIC_OR_PARTITION') this.c.net.log.warn(Loggers.fetcher, `Received unknown topic or partition error in fetch for partition ${ps.name}`)
            this.c.net.requestUpdate()
          }
          continue
        }
        ps.highWatermark = p.highWatermark
        if (p.records && p.records.length > 0) {
          ps.buffered = {ps, records: p.records, fetchOffset, filter: this.c.settings.isolationLevel === 1 ? new AbortFilter(p.abortedTransactions ?? []) : undefined}
          got = true
        }
      }
    }
    if (got || this.c.fatal) this.c.signalData()
  }


  /** Takes up to max records from the buffered fetches (records or only counts). */
  drainBuffered(max: number, out: ConsumerRecord[] | undefined, counts: {count: number; bytes: number}): void {
    for (const ps of this.c.assigned.values()) {
      if (counts.count >= max) break
      const c = ps.buffered
      if (!c) continue
      if (ps.position !== c.fetchOffset) { ps.buffered = undefined; continue }
      const topic = ps.topic
      const partition = ps.partition
      const r = readRecords(c.records, c.fetchOffset, max - counts.count, c.filter, ps.name, this.c.settings.checkCrcs, out ? rec => {
        const cr = rec as ConsumerRecord
        cr.topic = topic
        cr.partition = partition
        out.push(cr)
      } : undefined)
      counts.count += r.count
      counts.bytes += r.bytes
      if (r.next > ps.position!) ps.position = r.next
      if (r.count === 0 || r.next === c.fetchOffset || counts.count < max) {
        // This fetch is used up (or held nothing at the position): the next one goes out.
        ps.buffered = undefined
      } else {
        c.fetchOffset = r.next
      }
    }
  }
}
