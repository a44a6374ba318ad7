// Kafka's __consumer_offsets record format (what Apache Kafka 3.x writes and reads back):
// keys are prefixed by a version: 0/1 = offset commit key (group, topic, partition),
// 2 = group metadata key (group). Values: OffsetCommitValue v3 (offset, leader epoch,
// metadata, commit timestamp; v0/v1 read too) and GroupMetadataValue v3. Pure codecs.
import {Reader, Writer} from '../protocol/io.js'

export interface OffsetKey {kind: 'offset'; group: string; topic: string; partition: number}
export interface GroupKey {kind: 'group'; group: string}

export interface OffsetValue {
  offset: number
  leaderEpoch: number
  metadata: string
  commitTimestamp: number
}

export interface GroupMemberValue {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  subscription: Buffer
  assignment: Buffer
}

export interface GroupValue {
  protocolType: string
  generation: number
  protocol: string | null
  leader: string | null
  currentStateTimestamp: number
  members: GroupMemberValue[]
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(64).int16(1).string(group).string(topic).int32(partition).toBuffer()
}

export function encodeGroupKey(group: string): Buffer {
  return new Writer(32).int16(2).string(group).toBuffer()
}

export function encodeOffsetValue(v: OffsetValue): Buffer {
  return new Writer(64).int16(3).int64(v.offset).int32(v.leaderEpoch).string(v.metadata).int64(v.commitTimestamp).toBuffer()
}

export function encodeGroupValue(v: GroupValue): Buffer {
  const w = new Writer(256)
  w.int16(3).string(v.protocolType).int32(v.generation).nullableString(v.protocol).nullableString(v.leader).int64(v.currentStateTimestamp)
  w.arrayLength(v.members.length)
  for (const m of v.members) {
    w.string(m.memberId).nullableString(m.groupInstanceId).string(m.clientId).string(m.clientHost)
    w.int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment)
  }
  return w.toBuffer()
}

export function decodeKey(buf: Buffer): OffsetKey | GroupKey | null {
  const r = new Reader(buf)
  const version = r.int16()
  if (version === 0 || version === 1) return {kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32()}
  if (version === 2) return {kind: 'group', group: r.string()}
  return null
}

export function decodeOffsetValue(buf: Buffer): OffsetValue {
  const r = new Reader(buf)
  const version = r.int16()
  if (version === 0) return {offset: r.int64(), leaderEpoch: -1, metadata: r.string(), commitTimestamp: r.int64()}
  if (version === 1) {
    const offset = r.int64()
    const metadata = r.string()
    const commitTimestamp = r.int64()
    return {offset, leaderEpoch: -1, metadata, commitTimestamp}
  }
  if (version === 2) {
    const offset = r.int64()
    const metadata = r.string()
    return {offset, leaderEpoch: -1, metadata, commitTimestamp: r.int64()}
  }
  const offset = r.int64()
  const leaderEpoch = r.int32()
  const metadata = version >= 4 ? r.compactString() : r.string()
  return {offset, leaderEpoch, metadata, commitTimestamp: r.int64()}
}

export function decodeGroupValue(buf: Buffer): GroupValue {
  const r = new Reader(buf)
  const version = r.int16()
  const flexible = version >= 4
  const str = () => (flexible ? r.compactString() : r.string())
  const nstr = () => (flexible ? r.compactNullableString() : r.nullableString())
  const protocolType = str()
  const generation = r.int32()
  const protocol = nstr()
  const leader = nstr()
  const currentStateTimestamp = version >= 2 ? r.int64() : -1
  const n = flexible ? r.compactArrayLength() : r.arrayLength()
  const members: GroupMemberValue[] = []
  for (let i = 0; i < n; i++) {
    const memberId = str()
    const groupInstanceId = version >= 3 ? nstr() : null
    const clientId = str()
    const clientHost = str()
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1
    const sessionTimeoutMs = r.int32()
    const subscription = flexible ? r.compactBytes() : r.bytes()
    const assignment = flexible ? r.compactBytes() : r.bytes()
    if (flexible) r.skipTaggedFields()
    members.push({memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs, subscription, assignment})
  }
  return {protocolType, generation, protocol, leader, currentStateTimestamp, members}
}

/** Java's String.hashCode, used to map a group to its __consumer_offsets partition. */
export function javaStringHashCode(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** Kafka's Utils.abs(hash) % partitions (abs of MIN_VALUE is 0 there). */
export function offsetsPartitionFor(groupId: string, numPartitions: number): number {
  const h = javaStringHashCode(groupId)
  const abs = h === -2147483648 ? 0 : Math.abs(h)
  return abs % numPartitions
}
