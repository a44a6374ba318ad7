// Incremental fetch sessions (KIP-227). A client that sends session id 0 and epoch 0 gets a
// session: the broker remembers the partitions it fetches, and later requests (same id, the
// next epoch) list only what changed. A response then carries only the partitions with
// something new: records, a moved high watermark / last stable offset / log start, or an
// error. Epoch -1 means no session (a full fetch each time).

export const INITIAL_EPOCH = 0
export const FINAL_EPOCH = -1
/** Sessions idle longer than this may be evicted to make room for a new one. */
const EVICTABLE_AFTER_MS = 120_000

export interface CachedPartition {
  topic: string
  topicId: string
  partition: number
  fetchOffset: number
  maxBytes: number
  currentLeaderEpoch: number
  /** What the client was last told (-1 before the first response). */
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
}

export class FetchSession {
  /** The epoch the next request must carry. */
  epoch = 1
  lastUsed = Date.now()
  readonly partitions = new Map<string, CachedPartition>()
  constructor(readonly id: number) {}

  static key(topic: string, topicId: string, partition: number, byId: boolean): string {
    return `${byId ? topicId : topic}\0${partition}`
  }

  /**
   * Whether an incremental response must carry this partition, and if so remembers what it
   * tells the client.
   */
  mustRespond(cp: CachedPartition, out: {errorCode: number; highWatermark: number; lastStableOffset: number; logStartOffset: number; records: Buffer | Buffer[]}): boolean {
    const hasRecords = Array.isArray(out.records) ? out.records.length > 0 : out.records.length > 0
    const changed = out.highWatermark !== cp.highWatermark || out.lastStableOffset !== cp.lastStableOffset || out.logStartOffset !== cp.logStartOffset
    cp.highWatermark = out.highWatermark
    cp.lastStableOffset = out.lastStableOffset
    cp.logStartOffset = out.logStartOffset
    return hasRecords || changed || out.errorCode !== 0
  }
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>()

  constructor(readonly maxSessions = 1000) {}

  get size(): number {
    return this.sessions.size
  }

  get(id: number): FetchSession | undefined {
    const s = this.sessions.get(id)
    if (s) s.lastUsed = Date.now()
    return s
  }

  remove(id: number): void {
    this.sessions.delete(id)
  }

  /** A new session, or null when the cache is full of sessions still in use. */
  create(): FetchSession | null {
    if (this.sessions.size >= this.maxSessions) {
      let oldest: FetchSession | null = null
      for (const s of this.sessions.values()) if (oldest === null || s.lastUsed < oldest.lastUsed) oldest = s
      if (oldest === null || Date.now() - oldest.lastUsed < EVICTABLE_AFTER_MS) return null
      this.sessions.delete(oldest.id)
    }
    let id = 0
    while (id === 0 || this.sessions.has(id)) id = 1 + Math.floor(Math.random() * 0x7ffffffe)
    const s = new FetchSession(id)
    this.sessions.set(id, s)
    return s
  }
}
