// The consumer's offsets: the group's committed offsets for newly assigned partitions
// (OffsetFetch), positions reset by auto.offset.reset or seekToBeginning/End (ListOffsets at
// the leader), and commits (commitSync, enable.auto.commit every auto.commit.interval.ms,
// before a rebalance and on close).
import {OffsetCommit, OffsetFetch, ListOffsets} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ConnectionError} from '../protocol/client.js'
import {KafkaClientError, apiError, isRetriable, timeoutError} from './kafka-errors.js'
import {sleep} from './backoff.js'
import {Loggers} from './log.js'
import {EARLIEST, LATEST, type PartitionState, type TopicPartition} from './consumer-config.js'
import type {Consumer} from './consumer.js'

export class OffsetManager {
  committedNotBefore = 0
  private committedFailures = 0
  private nextAutoCommit = 0
  autoCommitInFlight: Promise<void> | undefined

  constructor(private readonly c: Consumer) {}

  byLeader<T extends {topic: string; partition: number}>(items: T[]): Map<number, T[]> {
    const out = new Map<number, T[]>()
    for (const it of items) {
      const leader = this.c.net.leaderFor(it.topic, it.partition)
      if (leader < 0) continue
      let l = out.get(leader)
      if (!l) out.set(leader, l = [])
      l.push(it)
    }
    return out
  }

  private committedInFlight = false

  /** OffsetFetch for partitions that wait for their committed offset. */
  fetchCommitted(): void {
    if (this.committedInFlight || this.c.group.coordinator < 0 || this.c.settings.groupId === undefined || Date.now() < this.committedNotBefore) return
    const waiting = [...this.c.assigned.values()].filter(p => p.awaitingCommitted)
    if (waiting.length === 0) return
    this.committedInFlight = true
    const groupId = this.c.settings.groupId
    const topics = new Map<string, number[]>()
    for (const p of waiting) {
      let l = topics.get(p.topic)
      if (!l) topics.set(p.topic, l = [])
      l.push(p.partition)
    }
    const req = [...topics].map(([name, partitionIndexes]) => ({name, partitionIndexes}))
    this.c.net.send(this.c.group.coordinator, OffsetFetch, v => (v >= 8
      ? {groups: [{groupId, memberId: null, memberEpoch: -1, topics: req}], requireStable: true}
      : {groupId, topics: req, requireStable: v >= 7}), {maxVersion: 8}).then(res => {
      let code = res.errorCode
      let rtopics = res.topics
      if (res.groups.length > 0) {
        code = res.groups[0].errorCode
        rtopics = res.groups[0].topics as typeof rtopics
      }
      if (code !== 0) {
        if (this.c.group.isCoordinatorError(code)) this.c.group.markCoordinatorUnknown(errorName(code))
        if (!isRetriable(code) && errorName(code) !== 'UNSTABLE_OFFSET_COMMIT') this.c.fatal = this.c.group.groupError(code)
        return
      }
      for (const t of rtopics) {
        for (const p of t.partitions) {
          const ps = this.c.assigned.get(`${t.name}-${p.partitionIndex}`)
          if (!ps || !ps.awaitingCommitted) continue
          if (p.errorCode !== 0) continue
          ps.awaitingCommitted = false
          if (p.committedOffset >= 0) {
            ps.position = Math.max(p.committedOffset, ps.keptPosition ?? -1)
            ps.committed = p.committedOffset
          } else if (ps.keptPosition !== undefined) {
            ps.position = ps.keptPosition
          } else {
            ps.resetTo = undefined
          }
          ps.keptPosition = undefined
        }
      }
    }, () => {
      this.c.group.markCoordinatorUnknown('OffsetFetch failed')
    }).finally(() => {
      if ([...this.c.assigned.values()].some(p => p.awaitingCommitted)) this.committedNotBefore = Date.now() + this.c.retryBackoff.backoff(this.committedFailures++)
      else this.committedFailures = 0
      this.committedInFlight = false
      this.c.fetcher.schedulePump()
    })
  }

  /** ListOffsets for partitions without a position (auto.offset.reset or seekToBeginning/End). */
  resetPositions(now: number): void {
    const need: PartitionState[] = []
    for (const ps of this.c.assigned.values()) {
      if (ps.position !== null || ps.awaitingCommitted || ps.resetInFlight || now < ps.resetNotBefore) continue
      if (ps.resetTo === undefined) {
        if (this.c.settings.autoOffsetReset === 'none') {
          this.c.fatal = new KafkaClientError('NoOffsetForPartitionException', `Undefined offset with no reset policy for partitions: [${ps.name}]`)
          this.c.signalData()
          return
        }
        ps.resetTo = this.c.settings.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
      }
      need.push(ps)
    }
    if (need.length === 0) return
    const groups = this.byLeader(need)
    if ([...groups.values()].reduce((n, l) => n + l.length, 0) < need.length) {
      this.c.net.requestUpdate()
      this.c.fetcher.armPump(this.c.net.settings.retryBackoffMs)
    }
    for (const [leader, list] of groups) {
      for (const ps of list) ps.resetInFlight = true
      const topics = new Map<string, PartitionState[]>()
      for (const ps of list) {
        let l = topics.get(ps.topic)
        if (!l) topics.set(ps.topic, l = [])
        l.push(ps)
      }
      this.c.net.send(leader, ListOffsets, {
        replicaId: -1, isolationLevel: this.c.settings.isolationLevel,
        topics: [...topics].map(([name, ps]) => ({name, partitions: ps.map(p => ({partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: p.resetTo!, maxNumOffsets: 1}))})),
      }, {minVersion: 1}).then(res => {
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const ps = this.c.assigned.get(`${t.name}-${p.partitionIndex}`)
            if (!ps || ps.position !== null) continue
            if (p.errorCode !== 0) {
              ps.resetNotBefore = Date.now() + this.c.retryBackoff.backoff(ps.resetFailures++)
              this.c.net.requestUpdate()
              continue
            }
            ps.position = p.offset
            ps.resetTo = undefined
            ps.resetFailures = 0
          }
        }
      }, () => {
        for (const ps of list) ps.resetNotBefore = Date.now() + this.c.retryBackoff.backoff(ps.resetFailures++)
        this.c.net.requestUpdate()
      }).finally(() => {
        for (const ps of list) ps.resetInFlight = false
        this.c.fetcher.schedulePump()
      })
    }
  }

  /** Commits the positions of the assigned partitions (those that moved since the last commit). */
  async commitPositions(sync: boolean, closing = false, explicit?: (TopicPartition & {offset: number})[]): Promise<void> {
    const offsets = explicit
      ? explicit.flatMap(o => { const ps = this.c.assigned.get(`${o.topic}-${o.partition}`); return ps ? [{ps, offset: o.offset}] : [] })
      : [...this.c.assigned.values()].filter(p => p.position !== null && p.position !== p.committed).map(p => ({ps: p, offset: p.position!}))
    if (offsets.length === 0 || this.c.settings.groupId === undefined) return
    this.lastCommitOffsets = `{${offsets.map(o => `${o.ps.name}=OffsetAndMetadata{offset=${o.offset}, leaderEpoch=null, metadata=''}`).join(', ')}}`
    const deadline = Date.now() + this.c.settings.defaultApiTimeoutMs
    let attempt = 0
    for (;;) {
      try {
        if (this.c.group.coordinator < 0) {
          if (!sync) return
          if (!this.c.group.groupTask) await this.c.group.findCoordinator()
          else await sleep(this.c.retryBackoff.backoff(attempt++))
          if (Date.now() >= deadline) throw timeoutError('Timeout of ' + this.c.settings.defaultApiTimeoutMs + 'ms expired before successfully committing offsets')
          continue
        }
        const topics = new Map<string, {partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string}[]>()
        for (const {ps, offset} of offsets) {
          let l = topics.get(ps.topic)
          if (!l) topics.set(ps.topic, l = [])
          l.push({partitionIndex: ps.partition, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: ''})
        }
        // Closing with a membership the coordinator forgot (it moved or restarted and has no
        // members): the commit goes as a simple consumer's, which the broker takes only while
        // the group has no members, so no other member's progress is overwritten.
        const simple = this.c.manual || (closing && this.c.group.generation < 0)
        const res = await this.c.net.send(this.c.group.coordinator, OffsetCommit, {
          groupId: this.c.settings.groupId, generationIdOrMemberEpoch: simple ? -1 : this.c.group.generation, memberId: simple ? '' : this.c.group.memberId,
          groupInstanceId: this.c.settings.groupInstanceId, retentionTimeMs: -1, topics: [...topics].map(([name, partitions]) => ({name, partitions})),
        })
        let retry = false
        for (const t of res.topics) {
          for (const p of t.partitions) {
            const ps = this.c.assigned.get(`${t.name}-${p.partitionIndex}`)
            const o = offsets.find(x => x.ps === ps)
            if (p.errorCode === 0) {
              if (ps && o) ps.committed = o.offset
              continue
            }
            const name = errorName(p.errorCode)
            if (this.c.group.isCoordinatorError(p.errorCode)) { this.c.group.markCoordinatorUnknown(name); retry = true; continue }
            if (name === 'COORDINATOR_LOAD_IN_PROGRESS' || name === 'REQUEST_TIMED_OUT') { retry = true; continue }
            if (name === 'REBALANCE_IN_PROGRESS' || name === 'ILLEGAL_GENERATION' || name === 'UNKNOWN_MEMBER_ID') {
              if (name !== 'REBALANCE_IN_PROGRESS') {
                this.c.group.resetGeneration(name === 'UNKNOWN_MEMBER_ID')
                if (closing && !simple) { retry = true; continue }
              } else this.c.group.requestRejoin()
              throw new KafkaClientError('CommitFailedException', 'Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member. This means that the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time message processing. You can address this either by increasing max.poll.interval.ms or by reducing the maximum size of batches returned in poll() with max.poll.records.')
            }
            throw apiError(p.errorCode)
          }
        }
        if (!retry) return
      } catch (error) {
        if (error instanceof KafkaClientError && !error.retriable) throw error
        if (!(error instanceof KafkaClientError)) this.c.group.markCoordinatorUnknown((error as Error).message)
        if (!sync) throw error
      }
      if (Date.now() >= deadline) throw timeoutError(`Timeout of ${this.c.settings.defaultApiTimeoutMs}ms expired before successfully committing offsets`)
      await sleep(this.c.retryBackoff.backoff(attempt++))
    }
  }


  /** The offsets of the last commit attempt, as Java prints a Map<TopicPartition, OffsetAndMetadata>. */
  lastCommitOffsets = '{}'

  /** Java's ConsumerCoordinator: retriable commit failures are retried quietly. */
  static retriableCommitError(error: unknown): boolean {
    return error instanceof ConnectionError || (error instanceof KafkaClientError && error.retriable)
  }

  maybeAutoCommit(now: number): void {
    if (!this.c.settings.enableAutoCommit || this.c.settings.groupId === undefined || this.autoCommitInFlight) return
    if (now < this.nextAutoCommit) return
    this.nextAutoCommit = now + this.c.settings.autoCommitIntervalMs
    if (!this.c.manual && (!this.c.group.joined || this.c.group.needsJoin)) return
    const p = this.commitPositions(false).catch(error => {
      if (OffsetManager.retriableCommitError(error)) {
        this.nextAutoCommit = Date.now() + this.c.net.settings.retryBackoffMs
        return
      }
      this.c.net.log.warn(Loggers.coordinator, `Asynchronous auto-commit of offsets ${this.lastCommitOffsets} failed: ${(error as Error).message}`)
    })
    this.autoCommitInFlight = p
    p.finally(() => { this.autoCommitInFlight = undefined })
  }
}
