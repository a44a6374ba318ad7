// In-memory stand-in for src/core/log (same API surface) used until the disk log lands; nothing survives a restart.
import {readBatchHeader, patchBaseOffset, patchLeaderEpoch, type BatchHeader} from '../log/batch.js'
import {ErrorCode, KafkaError} from '../protocol/errors.js'

export interface LogConfig { [k: string]: unknown }

export class PartitionLog {
  logStartOffset = 0
  logEndOffset = 0
  batches: {base: number; last: number; buf: Buffer; maxTs: number}[] = []
  constructor(readonly dir: string, readonly topic: string, readonly partition: number) {}
  updateConfig(_c: LogConfig): void {}
  append(records: Buffer, leaderEpoch: number) {
    const copy = Buffer.from(records)
    let pos = 0
    const base = this.logEndOffset
    let maxTs = -1
    while (pos < copy.length) {
      const h = readBatchHeader(copy, pos)
      patchBaseOffset(copy, pos, this.logEndOffset)
      patchLeaderEpoch(copy, pos, leaderEpoch)
      const size = h.batchLength + 12
      this.batches.push({base: this.logEndOffset, last: this.logEndOffset + h.lastOffsetDelta, buf: copy.subarray(pos, pos + size), maxTs: h.maxTimestamp})
      patchBaseOffset(records, pos, this.logEndOffset)
      this.logEndOffset += h.lastOffsetDelta + 1
      maxTs = Math.max(maxTs, h.maxTimestamp)
      pos += size
    }
    return {baseOffset: base, lastOffset: this.logEndOffset - 1, logAppendTime: -1, maxTimestamp: maxTs, offsetOfMaxTimestamp: -1}
  }
  async read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean) {
    if (fetchOffset < this.logStartOffset || fetchOffset > this.logEndOffset) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE)
    const out: Buffer[] = []
    let bytes = 0
    for (const b of this.batches) {
      if (b.last < fetchOffset) continue
      if (b.base >= maxOffset) break
      if (bytes + b.buf.length > maxBytes && !(minOneBatch && out.length === 0)) break
      out.push(b.buf)
      bytes += b.buf.length
    }
    return {records: out.length ? [Buffer.concat(out)] : [], bytes}
  }
  async offsetForTimestamp(ts: number) {
    for (const b of this.batches) if (b.maxTs >= ts) return {offset: b.base, timestamp: b.maxTs}
    return null
  }
  deleteRecordsBefore(offset: number): void { this.logStartOffset = offset; this.batches = this.batches.filter(b => b.last >= offset) }
  *batchHeaders(): Iterable<BatchHeader> { for (const b of this.batches) yield readBatchHeader(b.buf, 0) }
  flush(): void {}
  async close(): Promise<void> {}
  async delete(): Promise<void> {}
}

export class LogManager {
  logs = new Map<string, PartitionLog>()
  constructor(readonly dirs: string[], _opts: unknown) {}
  async getOrCreateLog(topic: string, p: number, _c: LogConfig) {
    const k = `${topic}-${p}`
    let l = this.logs.get(k)
    if (!l) { l = new PartitionLog(k, topic, p); this.logs.set(k, l) }
    return l
  }
  getLog(topic: string, p: number) { return this.logs.get(`${topic}-${p}`) }
  async deleteLog(topic: string, p: number) { this.logs.delete(`${topic}-${p}`) }
  allLogs() { return [...this.logs.values()] }
  async close() {}
}
