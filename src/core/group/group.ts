// One classic-protocol consumer group: members, generation, protocol, state and the
// committed offsets. The state machine lives in coordinator.ts.
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface JoinResult {
  errorCode: number
  generationId: number
  protocolType: string | null
  protocolName: string | null
  leader: string
  skipAssignment: boolean
  memberId: string
  members: {memberId: string; groupInstanceId: string | null; metadata: Buffer}[]
}

export interface SyncResult {
  errorCode: number
  protocolType: string | null
  protocolName: string | null
  assignment: Buffer
}

export interface Member {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: {name: string; metadata: Buffer}[]
  assignment: Buffer
  awaitingJoin: ((r: JoinResult) => void) | null
  awaitingSync: ((r: SyncResult) => void) | null
  sessionTimer: NodeJS.Timeout | null
  /** Set when the member joined in the current rebalance (a "new member"). */
  isNew: boolean
}

export interface CommittedOffset {
  offset: number
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
}

export const EMPTY_BUFFER = Buffer.alloc(0)

/** Whether two members' protocol lists are the same names with the same metadata, in order. */
export function sameProtocols(a: {name: string; metadata: Buffer}[], b: {name: string; metadata: Buffer}[]): boolean {
  return a.length === b.length && a.every((x, i) => x.name === b[i].name && x.metadata.equals(b[i].metadata))
}

export class Group {
  state: GroupState = 'Empty'
  generationId = 0
  protocolType: string | null = null
  protocolName: string | null = null
  leaderId: string | null = null
  readonly members = new Map<string, Member>()
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>()
  readonly offsets = new Map<string, Map<number, CommittedOffset>>()
  /** Static membership: group.instance.id -> the member id currently holding it. */
  readonly staticMembers = new Map<string, string>()
  rebalanceTimer: NodeJS.Timeout | null = null
  /** Deadline of the initial delayed join (group.initial.rebalance.delay.ms), 0 when none. */
  initialDelayDeadline = 0
  /** A member joined while the initial delay was armed (extends it). */
  newMemberJoinedSinceArm = false
  currentStateTimestamp = Date.now()

  constructor(readonly groupId: string, readonly partition: number) {}

  transition(state: GroupState): void {
    this.state = state
    this.currentStateTimestamp = Date.now()
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition)
  }

  setOffset(topic: string, partition: number, o: CommittedOffset): void {
    let m = this.offsets.get(topic)
    if (!m) {
      m = new Map()
      this.offsets.set(topic, m)
    }
    m.set(partition, o)
  }

  /**
   * Offsets committed in open transactions (TxnOffsetCommit): producer id -> topic -> partition.
   * They become committed offsets at the transaction's COMMIT marker and vanish at ABORT.
   */
  readonly pendingTxnOffsets = new Map<number, Map<string, Map<number, CommittedOffset>>>()

  setPendingTxnOffset(producerId: number, topic: string, partition: number, o: CommittedOffset): void {
    let byTopic = this.pendingTxnOffsets.get(producerId)
    if (!byTopic) this.pendingTxnOffsets.set(producerId, byTopic = new Map())
    let m = byTopic.get(topic)
    if (!m) byTopic.set(topic, m = new Map())
    m.set(partition, o)
  }

  /** Applies (commit) or drops (abort) a producer's pending offsets; true when it had some. */
  completeTxn(producerId: number, commit: boolean): boolean {
    const byTopic = this.pendingTxnOffsets.get(producerId)
    if (!byTopic) return false
    this.pendingTxnOffsets.delete(producerId)
    if (commit) for (const [topic, parts] of byTopic) for (const [p, o] of parts) this.setOffset(topic, p, o)
    return true
  }

  /** Whether an open transaction holds an offset for this partition (OffsetFetch requireStable). */
  hasPendingTxnOffset(topic: string, partition: number): boolean {
    for (const byTopic of this.pendingTxnOffsets.values()) if (byTopic.get(topic)?.has(partition)) return true
    return false
  }

  /** FENCED_INSTANCE_ID (82) when an instance id is held by another member id, else 0. */
  checkInstance(memberId: string, groupInstanceId: string | null | undefined): number {
    if (groupInstanceId === null || groupInstanceId === undefined) return 0
    const holder = this.staticMembers.get(groupInstanceId)
    return holder !== undefined && holder !== memberId ? 82 : 0
  }

  hasOffsets(): boolean {
    for (const m of this.offsets.values()) if (m.size > 0) return true
    return false
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false
    for (const m of this.members.values()) if (m.awaitingJoin === null) return false
    return true
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
    return max
  }

  /** The protocol every member supports with the most first-choice votes (Kafka's rule). */
  selectProtocol(): string | null {
    const members = [...this.members.values()]
    if (members.length === 0) return null
    let candidates = members[0].protocols.map(p => p.name)
    for (const m of members.slice(1)) {
      const names = new Set(m.protocols.map(p => p.name))
      candidates = candidates.filter(c => names.has(c))
    }
    if (candidates.length === 0) return null
    const votes = new Map<string, number>()
    for (const m of members) {
      const vote = m.protocols.find(p => candidates.includes(p.name))!.name
      votes.set(vote, (votes.get(vote) ?? 0) + 1)
    }
    let best = candidates[0]
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c
    return best
  }

  /** Whether a joining member's protocols fit the group (type and at least one common name). */
  supportsProtocols(protocolType: string, names: string[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && names.length > 0
    if (this.protocolType !== null && this.protocolType !== protocolType) return false
    for (const m of this.members.values()) {
      const mine = new Set(m.protocols.map(p => p.name))
      if (!names.some(n => mine.has(n))) return false
    }
    return true
  }
}
