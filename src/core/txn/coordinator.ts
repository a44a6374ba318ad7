// The transaction coordinator (Kafka 3.9's TransactionCoordinator, ZooKeeper mode). Each
// transactional id belongs to one __transaction_state partition; the broker leading that
// partition coordinates it, keeps its metadata in memory, writes every state change to the
// partition (Kafka's record format, acks=all) before acting on it, and loads the partition back
// when it becomes leader. The coordinator epoch is the partition's leader epoch.
//
// States: Empty -> Ongoing (AddPartitionsToTxn / AddOffsetsToTxn) -> PrepareCommit |
// PrepareAbort (EndTxn, answered once written) -> markers to every partition (marker-sender)
// -> CompleteCommit | CompleteAbort. InitProducerId bumps the epoch (fencing older producers)
// and aborts a transaction the previous incarnation left open; transactions open longer than
// their timeout are aborted with a bumped epoch; idle transactional ids expire.
import {ErrorCode} from '../protocol/errors.js'
import type {Logger} from '../util/log.js'
import {buildBatch} from '../protocol/record-batch.js'
import {scanBatches, batchRecords, type ReplicatedLog} from '../log/replicated-log.js'
import {TxnState, TXN_STATE_NAMES, type TxnStateId, type TxnLogValue, decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue, txnPartitionFor} from './records.js'
import type {TxnMarkerSender} from './marker-sender.js'

export const TXN_TOPIC = '__transaction_state'
const NO_EPOCH = -1
const MAX_EPOCH = 32767

export interface TxnCoordinatorConfig {
  brokerId: number
  numPartitions: number
  transactionMaxTimeoutMs: number
  transactionalIdExpirationMs: number
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortTimedOutIntervalMs: number
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredIntervalMs: number
  /** How long a state write waits for the in-sync replicas. */
  writeTimeoutMs: number
}

export interface TxnCoordinatorDeps {
  /** The open replica of a __transaction_state partition on this broker. */
  partition(index: number): ReplicatedLog | undefined
  nextProducerId(): Promise<number>
  markers: TxnMarkerSender
}

export interface TxnMetadata {
  transactionalId: string
  partitionIndex: number
  producerId: number
  previousProducerId: number
  producerEpoch: number
  lastProducerEpoch: number
  timeoutMs: number
  state: TxnStateId
  partitions: Map<string, Set<number>>
  startTimestamp: number
  lastUpdateTimestamp: number
  /** A state change being written: other requests get CONCURRENT_TRANSACTIONS meanwhile. */
  pending: TxnStateId | null
}

export interface InitResult {
  errorCode: number
  producerId: number
  producerEpoch: number
}

function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1
}

export class TransactionCoordinator {
  readonly txns = new Map<string, TxnMetadata>()
  private readonly loading = new Set<number>()
  /** Loaded partitions -> coordinator epoch (the partition's leader epoch when loaded). */
  private readonly loaded = new Map<number, number>()
  private readonly timers: NodeJS.Timeout[] = []
  stopped = false

  constructor(readonly config: TxnCoordinatorConfig, readonly deps: TxnCoordinatorDeps, readonly logger: Logger) {
    const a = setInterval(() => this.abortTimedOutTransactions(), config.abortTimedOutIntervalMs)
    const b = setInterval(() => void this.removeExpiredTransactionalIds(), config.removeExpiredIntervalMs)
    a.unref()
    b.unref()
    this.timers.push(a, b)
  }

  partitionFor(transactionalId: string): number {
    return txnPartitionFor(transactionalId, this.config.numPartitions)
  }

  /** NONE when this broker coordinates the id, else NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS. */
  checkCoordinator(transactionalId: string): number {
    if (this.stopped) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const p = this.partitionFor(transactionalId)
    if (this.loading.has(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    const part = this.deps.partition(p)
    if (!part || !part.isLeader()) return ErrorCode.NOT_COORDINATOR
    if (!this.loaded.has(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    return ErrorCode.NONE
  }

  private coordinatorEpoch(index: number): number | undefined {
    return this.loaded.get(index)
  }

  /** Still the coordinator of this partition at the same epoch. */
  private stillOwns(index: number, epoch: number): boolean {
    const part = this.deps.partition(index)
    return !this.stopped && this.loaded.get(index) === epoch && !!part && part.isLeader()
  }

  // ---------------------------------------------------------------- loading

  async loadPartition(part: ReplicatedLog): Promise<void> {
    const index = part.index
    if (this.loading.has(index)) return
    this.loading.add(index)
    this.loaded.delete(index)
    for (const [id, m] of this.txns) if (m.partitionIndex === index) this.txns.delete(id)
    const started = Date.now()
    const found = new Map<string, TxnMetadata>()
    try {
      await scanBatches(part, part.logEndOffset, (h, batch) => {
        if (h.isControl) return
        const records = batchRecords(batch)
        if (records === null) {
          this.logger.warn(`Skipping a batch at offset ${h.baseOffset} of ${TXN_TOPIC}-${index} whose records cannot be decompressed`)
          return
        }
        for (const rec of records) {
          if (!rec.key) continue
          try {
            const id = decodeTxnKey(rec.key)
            if (id === null) continue
            if (rec.value === null) {
              found.delete(id)
              continue
            }
            found.set(id, this.fromValue(id, index, decodeTxnValue(rec.value)))
          } catch (error) {
            this.logger.warn(`Skipping an unreadable record in ${TXN_TOPIC}-${index}: ${(error as Error).message}`)
          }
        }
      })
    } catch (error) {
      this.logger.error(`Error loading transactions from ${TXN_TOPIC}-${index}: ${(error as Error).message}`)
    } finally {
      this.loading.delete(index)
    }
    if (!part.isLeader() || this.stopped) return
    const epoch = part.leaderEpoch
    for (const [id, m] of found) this.txns.set(id, m)
    this.loaded.set(index, epoch)
    this.logger.info(`Finished loading ${found.size} transaction metadata from ${TXN_TOPIC}-${index} in ${Date.now() - started} milliseconds, of which 0 were cleared from the cache`)
    // Decided transactions whose markers may not all be written yet: send them again.
    for (const m of found.values()) {
      if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) void this.completeTransaction(m, m.state === TxnState.PrepareCommit, epoch)
    }
  }

  private fromValue(id: string, index: number, v: TxnLogValue): TxnMetadata {
    return {
      transactionalId: id, partitionIndex: index, producerId: v.producerId, previousProducerId: v.previousProducerId ?? -1, producerEpoch: v.producerEpoch,
      lastProducerEpoch: NO_EPOCH, timeoutMs: v.transactionTimeoutMs, state: v.state, partitions: v.partitions, startTimestamp: v.startTimestampMs,
      lastUpdateTimestamp: v.lastUpdateTimestampMs, pending: null,
    }
  }

  /** Forgets the transactions of a partition this broker no longer leads. */
  unloadPartition(index: number): void {
    if (!this.loaded.has(index) && !this.loading.has(index)) return
    this.loaded.delete(index)
    let n = 0
    for (const [id, m] of this.txns) {
      if (m.partitionIndex === index) {
        this.txns.delete(id)
        n++
      }
    }
    this.logger.info(`Unloaded transaction metadata ${n} for ${TXN_TOPIC}-${index}`)
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Writes the metadata's next state to its partition and waits for the in-sync replicas.
   * Returns an error code for the client (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, ...).
   */
  private async write(m: TxnMetadata, v: TxnLogValue | null): Promise<number> {
    const index = m.partitionIndex
    const epoch = this.coordinatorEpoch(index)
    const part = this.deps.partition(index)
    if (epoch === undefined || !part || !part.isLeader()) return ErrorCode.NOT_COORDINATOR
    const batch = buildBatch({baseTimestamp: Date.now(), records: [{key: encodeTxnKey(m.transactionalId), value: v === null ? null : encodeTxnValue(v)}]})
    const out = part.appendAsLeader(batch, -1, part.minInsyncReplicas, 0x7fffffff)
    if (out.errorCode !== 0) {
      this.logger.warn(`Appending transaction state of ${m.transactionalId} to ${TXN_TOPIC}-${index} failed: ${out.errorMessage ?? out.errorCode}`)
      return out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : out.errorCode === ErrorCode.MESSAGE_TOO_LARGE ? ErrorCode.UNKNOWN_SERVER_ERROR : ErrorCode.COORDINATOR_NOT_AVAILABLE
    }
    const ok = await part.waitForHighWatermark(out.lastOffset, this.config.writeTimeoutMs)
    if (!ok) return part.isLeader() ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NOT_COORDINATOR
    if (!this.stillOwns(index, epoch)) return ErrorCode.NOT_COORDINATOR
    return ErrorCode.NONE
  }

  private value(m: TxnMetadata, next: Partial<TxnLogValue> & {state: TxnStateId}): TxnLogValue {
    return {
      producerId: next.producerId ?? m.producerId,
      previousProducerId: next.previousProducerId ?? m.previousProducerId,
      producerEpoch: next.producerEpoch ?? m.producerEpoch,
      transactionTimeoutMs: next.transactionTimeoutMs ?? m.timeoutMs,
      state: next.state,
      partitions: next.partitions ?? m.partitions,
      lastUpdateTimestampMs: next.lastUpdateTimestampMs ?? Date.now(),
      startTimestampMs: next.startTimestampMs ?? m.startTimestamp,
    }
  }

  /** Writes a transition and applies it on success; clears the pending mark either way. */
  private async transition(m: TxnMetadata, v: TxnLogValue): Promise<number> {
    m.pending = v.state
    let code: number
    try {
      code = await this.write(m, v)
    } finally {
      m.pending = null
    }
    if (code !== 0) return code
    if (m.producerEpoch !== v.producerEpoch || m.producerId !== v.producerId) m.lastProducerEpoch = m.producerId === v.producerId ? m.producerEpoch : NO_EPOCH
    m.producerId = v.producerId
    m.previousProducerId = v.previousProducerId ?? -1
    m.producerEpoch = v.producerEpoch
    m.timeoutMs = v.transactionTimeoutMs
    m.state = v.state
    m.partitions = v.partitions
    m.lastUpdateTimestamp = v.lastUpdateTimestampMs
    m.startTimestamp = v.startTimestampMs
    return 0
  }

  // ---------------------------------------------------------------- InitProducerId

  async initProducerId(transactionalId: string, timeoutMs: number, expectedPid = -1, expectedEpoch = -1): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({errorCode, producerId: -1, producerEpoch: -1})
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST)
    if (timeoutMs <= 0 || timeoutMs > this.config.transactionMaxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    let code = this.checkCoordinator(transactionalId)
    if (code !== 0) return fail(code)
    let m = this.txns.get(transactionalId)
    if (m === undefined) {
      let pid: number
      try {
        pid = await this.deps.nextProducerId()
      } catch (error) {
        this.logger.warn(`Failed to allocate a producer id: ${(error as Error).message}`)
        return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
      }
      code = this.checkCoordinator(transactionalId)
      if (code !== 0) return fail(code)
      m = this.txns.get(transactionalId)
      if (m === undefined) {
        const now = Date.now()
        m = {
          transactionalId, partitionIndex: this.partitionFor(transactionalId), producerId: pid, previousProducerId: -1, producerEpoch: NO_EPOCH, lastProducerEpoch: NO_EPOCH,
          timeoutMs, state: TxnState.Empty, partitions: new Map(), startTimestamp: -1, lastUpdateTimestamp: now, pending: null,
        }
        this.txns.set(transactionalId, m)
      }
    }
    if (m.pending !== null) return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
    if (expectedPid >= 0) {
      const valid = m.producerEpoch === NO_EPOCH || expectedPid === m.producerId || (expectedPid === m.previousProducerId && isEpochExhausted(expectedEpoch))
      if (!valid) return fail(ErrorCode.PRODUCER_FENCED)
    }
    switch (m.state) {
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
      case TxnState.PrepareEpochFence:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
      case TxnState.Ongoing:
        // The previous incarnation left a transaction open: fence it, abort it, and let the
        // client retry (its retry bumps the epoch once more).
        void this.abortWithFence(m, 'a new producer with the same transactional id initialized')
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
      case TxnState.Dead:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
      default:
        break
    }
    // Empty, CompleteCommit, CompleteAbort: a new epoch (or a new producer id when exhausted).
    let producerId = m.producerId
    let previousProducerId = m.previousProducerId
    let epoch: number
    if (expectedPid >= 0 && expectedEpoch >= 0 && expectedPid === m.producerId) {
      if (expectedEpoch === m.lastProducerEpoch && m.producerEpoch === expectedEpoch + 1) {
        // A retry of a bump whose answer was lost.
        return {errorCode: 0, producerId: m.producerId, producerEpoch: m.producerEpoch}
      }
      if (expectedEpoch !== m.producerEpoch) return fail(ErrorCode.PRODUCER_FENCED)
    }
    if (isEpochExhausted(m.producerEpoch)) {
      try {
        previousProducerId = m.producerId
        producerId = await this.deps.nextProducerId()
      } catch (error) {
        this.logger.warn(`Failed to allocate a producer id: ${(error as Error).message}`)
        return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
      }
      epoch = 0
    } else {
      epoch = m.producerEpoch + 1
    }
    if (m.pending !== null) return fail(ErrorCode.CONCURRENT_TRANSACTIONS)
    code = await this.transition(m, this.value(m, {state: TxnState.Empty, producerId, previousProducerId, producerEpoch: epoch, transactionTimeoutMs: timeoutMs, partitions: new Map(), startTimestampMs: -1}))
    if (code !== 0) return fail(code)
    this.logger.info(`Initialized transactionalId ${transactionalId} with producerId ${producerId} and producer epoch ${epoch} on partition ${TXN_TOPIC}-${m.partitionIndex}`)
    return {errorCode: 0, producerId, producerEpoch: epoch}
  }

  // ---------------------------------------------------------------- AddPartitionsToTxn / AddOffsetsToTxn

  /** Common checks of a client request on an existing transaction; NONE or the error. */
  private checkProducer(m: TxnMetadata | undefined, producerId: number, producerEpoch: number): number {
    if (m === undefined || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED
    if (m.pending !== null) return ErrorCode.CONCURRENT_TRANSACTIONS
    return ErrorCode.NONE
  }

  /** Adds partitions to the producer's transaction (starting one). */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: {topic: string; partition: number}[]): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST
    let code = this.checkCoordinator(transactionalId)
    if (code !== 0) return code
    const m = this.txns.get(transactionalId)
    code = this.checkProducer(m, producerId, producerEpoch)
    if (code !== 0) return code
    if (m!.state === TxnState.PrepareCommit || m!.state === TxnState.PrepareAbort || m!.state === TxnState.PrepareEpochFence) return ErrorCode.CONCURRENT_TRANSACTIONS
    if (m!.state === TxnState.Dead) return ErrorCode.INVALID_TXN_STATE
    const ongoing = m!.state === TxnState.Ongoing
    const next = new Map<string, Set<number>>()
    if (ongoing) for (const [t, ps] of m!.partitions) next.set(t, new Set(ps))
    let added = false
    for (const {topic, partition} of partitions) {
      let set = next.get(topic)
      if (!set) next.set(topic, set = new Set())
      if (!set.has(partition)) {
        set.add(partition)
        added = true
      }
    }
    if (ongoing && !added) return ErrorCode.NONE
    const now = Date.now()
    return this.transition(m!, this.value(m!, {state: TxnState.Ongoing, partitions: next, lastUpdateTimestampMs: now, startTimestampMs: ongoing ? m!.startTimestamp : now}))
  }

  /**
   * KIP-890 verification (AddPartitionsToTxn v4+ verifyOnly, and the partition leaders' own
   * check before a transactional produce): is the partition part of the open transaction?
   */
  verifyPartition(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number): number {
    const code = this.checkCoordinator(transactionalId)
    if (code !== 0) return code
    const m = this.txns.get(transactionalId)
    if (m === undefined || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED
    if (m.state !== TxnState.Ongoing || !m.partitions.get(topic)?.has(partition)) return ErrorCode.INVALID_TXN_STATE
    return ErrorCode.NONE
  }

  // ---------------------------------------------------------------- EndTxn

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST
    let code = this.checkCoordinator(transactionalId)
    if (code !== 0) return code
    const m = this.txns.get(transactionalId)
    code = this.checkProducer(m, producerId, producerEpoch)
    if (code !== 0) return code
    switch (m!.state) {
      case TxnState.Ongoing:
        break
      case TxnState.CompleteCommit:
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE
      case TxnState.CompleteAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE
      case TxnState.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE
      case TxnState.PrepareAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS
      case TxnState.PrepareEpochFence:
        return ErrorCode.CONCURRENT_TRANSACTIONS
      default:
        return ErrorCode.INVALID_TXN_STATE
    }
    return this.prepareEnd(m!, commit, m!.producerEpoch)
  }

  /** Ongoing -> PrepareCommit/PrepareAbort (at `epoch`), then markers and Complete in the background. */
  private async prepareEnd(m: TxnMetadata, commit: boolean, epoch: number): Promise<number> {
    const coordinatorEpoch = this.coordinatorEpoch(m.partitionIndex)
    if (coordinatorEpoch === undefined) return ErrorCode.NOT_COORDINATOR
    const code = await this.transition(m, this.value(m, {state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, producerEpoch: epoch}))
    if (code !== 0) return code
    void this.completeTransaction(m, commit, coordinatorEpoch)
    return ErrorCode.NONE
  }

  /** Sends the markers of a decided transaction, then writes CompleteCommit / CompleteAbort. */
  private async completeTransaction(m: TxnMetadata, commit: boolean, coordinatorEpoch: number): Promise<void> {
    const index = m.partitionIndex
    const valid = () => this.stillOwns(index, coordinatorEpoch) && this.txns.get(m.transactionalId) === m && m.state === (commit ? TxnState.PrepareCommit : TxnState.PrepareAbort)
    const partitions = new Map<string, Set<number>>()
    for (const [t, ps] of m.partitions) partitions.set(t, new Set(ps))
    let done: boolean
    try {
      done = await this.deps.markers.send({producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch, commit, partitions}, valid)
    } catch (error) {
      this.logger.error(`Sending the markers of ${m.transactionalId} failed: ${(error as Error).message}`)
      done = false
    }
    if (!done || !valid()) return
    for (let attempt = 0; ; attempt++) {
      while (m.pending !== null) await new Promise(r => setTimeout(r, 10))
      if (!valid()) return
      const code = await this.transition(m, this.value(m, {state: commit ? TxnState.CompleteCommit : TxnState.CompleteAbort, partitions: new Map()}))
      if (code === 0) {
        this.logger.debug(`Completed ${commit ? 'commit' : 'abort'} of transaction ${m.transactionalId} (producer ${m.producerId}, epoch ${m.producerEpoch})`)
        return
      }
      if (code === ErrorCode.NOT_COORDINATOR || attempt >= 50) {
        this.logger.warn(`Could not complete transaction ${m.transactionalId}: error ${code}`)
        return
      }
      await new Promise(r => setTimeout(r, 100))
    }
  }

  /** Aborts an open transaction with the epoch bumped (fencing its producer). */
  private async abortWithFence(m: TxnMetadata, why: string): Promise<void> {
    if (m.state !== TxnState.Ongoing || m.pending !== null) return
    const epoch = isEpochExhausted(m.producerEpoch) ? m.producerEpoch : m.producerEpoch + 1
    this.logger.info(`Aborting transaction ${m.transactionalId} (producer ${m.producerId}, epoch ${m.producerEpoch}): ${why}`)
    const code = await this.prepareEnd(m, false, epoch)
    if (code !== 0) this.logger.warn(`Aborting transaction ${m.transactionalId} failed with error ${code}; will retry`)
  }

  // ---------------------------------------------------------------- timeouts and expiration

  /** Aborts transactions open longer than their timeout (transaction.timeout.ms). */
  abortTimedOutTransactions(now = Date.now()): number {
    let n = 0
    for (const m of this.txns.values()) {
      if (m.state !== TxnState.Ongoing || m.pending !== null || m.startTimestamp < 0) continue
      if (m.startTimestamp + m.timeoutMs > now) continue
      if (this.checkCoordinator(m.transactionalId) !== 0) continue
      n++
      void this.abortWithFence(m, `it has timed out (transaction.timeout.ms ${m.timeoutMs})`)
    }
    return n
  }

  /** Removes transactional ids unused for transactional.id.expiration.ms (tombstones). */
  async removeExpiredTransactionalIds(now = Date.now()): Promise<number> {
    let n = 0
    for (const m of [...this.txns.values()]) {
      if (m.pending !== null || this.checkCoordinator(m.transactionalId) !== 0) continue
      if (m.state !== TxnState.Empty && m.state !== TxnState.CompleteCommit && m.state !== TxnState.CompleteAbort) continue
      if (m.lastUpdateTimestamp + this.config.transactionalIdExpirationMs > now) continue
      m.pending = TxnState.Dead
      let code: number
      try {
        code = await this.write(m, null)
      } finally {
        m.pending = null
      }
      if (code === 0 && this.txns.get(m.transactionalId) === m) {
        m.state = TxnState.Dead
        this.txns.delete(m.transactionalId)
        n++
      }
    }
    if (n > 0) this.logger.info(`Removed ${n} expired transactional ids`)
    return n
  }

  // ---------------------------------------------------------------- describe / list

  describe(transactionalId: string): {errorCode: number; transactionalId: string; transactionState: string; transactionTimeoutMs: number; transactionStartTimeMs: number; producerId: number; producerEpoch: number; topics: {topic: string; partitions: number[]}[]} {
    // As Kafka's coordinator: an error leaves every other field at its default (0, '').
    const none = (errorCode: number) => ({errorCode, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: 0, producerId: 0, producerEpoch: 0, topics: []})
    const code = this.checkCoordinator(transactionalId)
    if (code !== 0) return none(code)
    const m = this.txns.get(transactionalId)
    if (m === undefined || m.state === TxnState.Dead) return none(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
    return {
      errorCode: 0, transactionalId, transactionState: TXN_STATE_NAMES[m.state], transactionTimeoutMs: m.timeoutMs, transactionStartTimeMs: m.startTimestamp,
      producerId: m.producerId, producerEpoch: m.producerEpoch, topics: [...m.partitions].map(([topic, ps]) => ({topic, partitions: [...ps].sort((a, b) => a - b)})),
    }
  }

  /** ListTransactions: the ids of loaded partitions matching the filters (empty filter: all). */
  list(stateFilters: string[], producerIdFilters: number[], durationFilterMs = -1, now = Date.now()): {errorCode: number; unknownStateFilters: string[]; transactionStates: {transactionalId: string; producerId: number; transactionState: string}[]} {
    const known = new Set(Object.values(TXN_STATE_NAMES))
    const unknownStateFilters = stateFilters.filter(s => !known.has(s))
    const states = new Set(stateFilters)
    const pids = new Set(producerIdFilters)
    const out: {transactionalId: string; producerId: number; transactionState: string}[] = []
    if (this.loading.size > 0) return {errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters, transactionStates: []}
    for (const m of this.txns.values()) {
      if (!this.loaded.has(m.partitionIndex) || m.state === TxnState.Dead) continue
      const name = TXN_STATE_NAMES[m.state]
      if (states.size > 0 && !states.has(name)) continue
      if (pids.size > 0 && !pids.has(m.producerId)) continue
      if (durationFilterMs >= 0 && (m.state !== TxnState.Ongoing || now - m.startTimestamp < durationFilterMs)) continue
      out.push({transactionalId: m.transactionalId, producerId: m.producerId, transactionState: name})
    }
    return {errorCode: 0, unknownStateFilters, transactionStates: out}
  }

  shutdown(): void {
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    void this.deps.markers.stop()
  }
}
