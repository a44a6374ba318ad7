// kafka-dump-log's decoders of the internal topics' records (the default string decoder is
// log/dump.ts's): the text Apache Kafka 3.9's DumpLogSegments prints with --offsets-decoder (__consumer_offsets
// records as JSON, the consumer protocol's subscription and assignment decoded) and
// --transaction-log-decoder (__transaction_state records). Pure functions of bytes.
import {Reader} from '../../protocol/io.js'
import {decodeTxnKey, decodeTxnValue, TXN_STATE_NAMES} from '../../txn/records.js'
import type {RecordParser} from '../../log/dump.js'


const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'))

/** A JSON object with fields in schema order, as Kafka's generated JSON converters write it. */
type Json = Record<string, unknown>

function str(r: Reader, flexible: boolean): string {
  return flexible ? r.compactString() : r.string()
}
function nstr(r: Reader, flexible: boolean): string | null {
  return flexible ? r.compactNullableString() : r.nullableString()
}
function arr(r: Reader, flexible: boolean): number {
  return flexible ? r.compactArrayLength() : r.arrayLength()
}
function tags(r: Reader, flexible: boolean): void {
  if (flexible) r.skipTaggedFields()
}

function offsetCommitValue(r: Reader, v: number): Json {
  if (v > 4) throw new Error(`Unknown version ${v} for OffsetCommitValue`)
  const flexible = v >= 4
  const out: Json = {offset: r.int64()}
  if (v >= 3) out.leaderEpoch = r.int32()
  out.metadata = str(r, flexible)
  out.commitTimestamp = r.int64()
  if (v === 1) out.expireTimestamp = r.int64()
  tags(r, flexible)
  return out
}

function topicPartitions(r: Reader, v: number, flexible: boolean): Json[] {
  const n = arr(r, flexible)
  const out: Json[] = []
  for (let i = 0; i < n; i++) {
    const topic = str(r, flexible)
    const m = arr(r, flexible)
    const partitions: number[] = []
    for (let j = 0; j < m; j++) partitions.push(r.int32())
    tags(r, flexible)
    out.push({topic, partitions})
  }
  return out
}

/** ConsumerProtocolSubscription (v0-v3), the version read from its first two bytes. */
function subscription(buf: Buffer): Json {
  const r = new Reader(buf)
  const v = r.int16()
  if (v < 0 || v > 3) throw new Error(`unsupported subscription version ${v}`)
  const topics: string[] = []
  for (let i = 0, n = r.arrayLength(); i < n; i++) topics.push(r.string())
  const out: Json = {topics, userData: b64(r.nullableBytes())}
  if (v >= 1) out.ownedPartitions = topicPartitions(r, v, false)
  if (v >= 2) out.generationId = r.int32()
  if (v >= 3) out.rackId = r.nullableString()
  return out
}

/** ConsumerProtocolAssignment (v0-v3). */
function assignment(buf: Buffer): Json {
  const r = new Reader(buf)
  const v = r.int16()
  if (v < 0 || v > 3) throw new Error(`unsupported assignment version ${v}`)
  return {assignedPartitions: topicPartitions(r, v, false), userData: b64(r.nullableBytes())}
}

/** The consumer protocol's bytes decoded, or (as Kafka does when that fails) kept as base64. */
function decodedOr(buf: Buffer, decode: (b: Buffer) => Json): unknown {
  try {
    return decode(buf)
  } catch {
    return b64(buf)
  }
}

function groupMetadataValue(r: Reader, v: number): Json {
  if (v > 4) throw new Error(`Unknown version ${v} for GroupMetadataValue`)
  const flexible = v >= 4
  const protocolType = str(r, flexible)
  const out: Json = {protocolType, generation: r.int32(), protocol: nstr(r, flexible), leader: nstr(r, flexible)}
  if (v >= 2) out.currentStateTimestamp = r.int64()
  const members: Json[] = []
  for (let i = 0, n = arr(r, flexible); i < n; i++) {
    const m: Json = {memberId: str(r, flexible)}
    if (v >= 3) m.groupInstanceId = nstr(r, flexible)
    m.clientId = str(r, flexible)
    m.clientHost = str(r, flexible)
    if (v >= 1) m.rebalanceTimeout = r.int32()
    m.sessionTimeout = r.int32()
    const sub = flexible ? r.compactBytes() : r.bytes()
    const asg = flexible ? r.compactBytes() : r.bytes()
    tags(r, flexible)
    m.subscription = protocolType === 'consumer' ? decodedOr(sub, subscription) : b64(sub)
    m.assignment = protocolType === 'consumer' ? decodedOr(asg, assignment) : b64(asg)
    members.push(m)
  }
  out.members = members
  tags(r, flexible)
  return out
}

/** --offsets-decoder: __consumer_offsets keys and values as Kafka 3.9's OffsetsMessageParser prints them. */
export const offsetsParser: RecordParser = (key, value, offset) => {
  if (key === null) throw new Error(`Failed to decode message at offset ${offset} using offset topic decoder (message had a missing key)`)
  try {
    const kr = new Reader(key)
    const type = kr.int16()
    let keyJson: Json
    if (type === 0 || type === 1) keyJson = {group: kr.string(), topic: kr.string(), partition: kr.int32()}
    else if (type === 2) keyJson = {group: kr.string()}
    else return {key: `Unknown record type ${type} at offset ${offset}, skipping.`}
    const keyText = JSON.stringify({type: String(type), data: keyJson})
    if (value === null) return {key: keyText, value: '<DELETE>'}
    const vr = new Reader(value)
    const version = vr.int16()
    const data = type === 2 ? groupMetadataValue(vr, version) : offsetCommitValue(vr, version)
    return {key: keyText, value: JSON.stringify({version: String(version), data})}
  } catch (error) {
    return {key: `Error at offset ${offset}, skipping. ${(error as Error).message}`}
  }
}

/** --transaction-log-decoder: __transaction_state records as Kafka 3.9's TransactionLog formats them. */
export const transactionLogParser: RecordParser = (key, value, offset) => {
  if (key === null) throw new Error(`Failed to decode message at offset ${offset} using transaction log decoder (message had a missing key)`)
  const id = decodeTxnKey(key)
  if (id === null) return {key: `unknown::version=${key.readInt16BE(0)}`}
  const keyText = `transaction_metadata::transactionalId=${id}`
  if (value === null) return {key: keyText, value: '<DELETE>'}
  const t = decodeTxnValue(value)
  const partitions = [...t.partitions].flatMap(([topic, ps]) => [...ps].map(p => `${topic}-${p}`))
  return {
    key: keyText,
    value: `producerId:${t.producerId},producerEpoch:${t.producerEpoch},state=${TXN_STATE_NAMES[t.state] ?? t.state},partitions=[${partitions.join(',')}],txnLastUpdateTimestamp=${t.lastUpdateTimestampMs},txnTimeoutMs=${t.transactionTimeoutMs}`,
  }
}
