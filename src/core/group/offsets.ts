// Committed offsets of a group: the records a commit writes, which offsets have expired
// (offsets.retention.minutes as KIP-211 applies it), and the topics a consumer group's members
// subscribe to (their offsets never expire while the group is active).
import {ErrorCode} from '../protocol/errors.js'
import type {Group, CommittedOffset} from './group.js'
import {encodeOffsetKey, encodeOffsetValue} from './records.js'

export interface OffsetCommitEntry {
  topic: string
  partition: number
  offset: number
  leaderEpoch: number
  metadata: string | null
}

/**
 * The __consumer_offsets records of a commit (OffsetCommit or TxnOffsetCommit), an error code
 * per entry (OFFSET_METADATA_TOO_LARGE) and the offsets to remember for the entries that pass.
 */
export function offsetCommitRecords(groupId: string, entries: OffsetCommitEntry[], maxMetadataBytes: number, now: number): {codes: number[]; records: {key: Buffer; value: Buffer | null}[]; values: (CommittedOffset | null)[]} {
  const codes = entries.map(e => ((e.metadata?.length ?? 0) > maxMetadataBytes ? ErrorCode.OFFSET_METADATA_TOO_LARGE : 0))
  const records: {key: Buffer; value: Buffer | null}[] = []
  const values = entries.map((e, i) => {
    if (codes[i] !== 0) return null
    const v: CommittedOffset = {offset: e.offset, leaderEpoch: e.leaderEpoch, metadata: e.metadata ?? '', commitTimestamp: now}
    records.push({key: encodeOffsetKey(groupId, e.topic, e.partition), value: encodeOffsetValue(v)})
    return v
  })
  return {codes, records, values}
}

/**
 * The offsets of `g` that have expired at `now`: all of an Empty group's once it has been
 * empty for the retention period; in a consumer group with members, those of topics no member
 * subscribes to, the retention period after their commit. Other groups with members keep all.
 */
export function expiredOffsets(g: Group, retentionMs: number, now: number): {topic: string; partition: number}[] {
  let subscribed: Set<string> | null = null
  if (g.state !== 'Empty') {
    if (g.protocolType !== 'consumer') return []
    subscribed = subscribedTopics(g)
  }
  const expired: {topic: string; partition: number}[] = []
  for (const [topic, parts] of g.offsets) {
    if (subscribed?.has(topic)) continue
    for (const [partition, o] of parts) {
      const since = subscribed ? o.commitTimestamp : g.currentStateTimestamp
      if (since + retentionMs <= now) expired.push({topic, partition})
    }
  }
  return expired
}

export function countOffsets(g: Group): number {
  let n = 0
  for (const m of g.offsets.values()) n += m.size
  return n
}

/** Topics named in the members' consumer-protocol subscriptions (version int16, then topics). */
export function subscribedTopics(g: Group): Set<string> {
  const out = new Set<string>()
  for (const m of g.members.values()) {
    const meta = m.protocols.find(p => p.name === g.protocolName)?.metadata ?? m.protocols[0]?.metadata
    if (!meta || meta.length < 6) continue
    try {
      let pos = 2
      const n = meta.readInt32BE(pos)
      pos += 4
      for (let i = 0; i < n && pos + 2 <= meta.length; i++) {
        const len = meta.readInt16BE(pos)
        pos += 2
        out.add(meta.toString('utf8', pos, pos + len))
        pos += len
      }
    } catch {
      // An unreadable subscription protects nothing.
    }
  }
  return out
}
