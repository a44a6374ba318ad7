// A partition's leader-epoch cache and its leader-epoch-checkpoint file, in Kafka's format
// ("0", the entry count, then "<epoch> <startOffset>" lines): which leader epoch began at which
// offset, for OffsetForLeaderEpoch and for a follower's truncation after a leader change.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {Logger} from '../util/log.js'
import {renameSyncWithRetry} from '../util/fs.js'

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint'

export interface EpochEntry {
  epoch: number
  startOffset: number
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = []
  /** A write failed: the file is rewritten at the next change or at close. */
  private dirty = false

  constructor(private readonly dir: string, private readonly logger?: Logger) {}

  get all(): ReadonlyArray<Readonly<EpochEntry>> {
    return this.entries
  }

  /** Reads the checkpoint, dropping entries past the log's end (a log truncated by recovery). */
  load(logEndOffset: number): void {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT)
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      return
    }
    const lines = text.split(/\r?\n/).filter(l => l.trim() !== '')
    if (lines[0]?.trim() !== '0') {
      this.logger?.warn(`Ignoring ${file}: unknown version line '${lines[0] ?? ''}'`)
      return
    }
    const count = Number(lines[1])
    const entries: EpochEntry[] = []
    for (let i = 0; i < count && i + 2 < lines.length; i++) {
      const [e, o] = lines[i + 2].trim().split(/\s+/).map(Number)
      if (Number.isInteger(e) && Number.isInteger(o)) entries.push({epoch: e, startOffset: o})
    }
    const kept = entries.filter(x => x.startOffset < logEndOffset || (x.startOffset === logEndOffset && x === entries[entries.length - 1]))
    this.entries = kept
    if (kept.length !== entries.length) this.write()
  }

  /** Records that `epoch` starts at `startOffset` (ignored unless newer than the last epoch). */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0) return
    const last = this.entries[this.entries.length - 1]
    if (last && last.epoch >= epoch) return
    this.entries.push({epoch, startOffset})
    this.write()
  }

  /** The end offset of `epoch` (OffsetForLeaderEpoch): start of the next epoch, or the log end. */
  endOffsetFor(epoch: number, logEndOffset: number): {epoch: number; endOffset: number} {
    let found = -1
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i].epoch <= epoch) found = i
    if (found < 0) return {epoch: -1, endOffset: -1}
    const next = this.entries[found + 1]
    return {epoch: this.entries[found].epoch, endOffset: next ? next.startOffset : logEndOffset}
  }

  /** Drops the epochs that start at or after the new log end (after a truncation). */
  truncateFromEnd(logEndOffset: number): void {
    const before = this.entries.length
    this.entries = this.entries.filter(e => e.startOffset < logEndOffset)
    if (this.entries.length !== before) this.write()
  }

  clear(): void {
    this.entries = []
    this.write()
  }

  /** Rewrites the file if an earlier write failed. */
  flushIfDirty(): void {
    if (!this.dirty) return
    this.dirty = false
    this.write()
  }

  private write(): void {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT)
    const body = `0\n${this.entries.length}\n` + this.entries.map(e => `${e.epoch} ${e.startOffset}\n`).join('')
    const tmp = file + '.tmp'
    try {
      fs.writeFileSync(tmp, body)
      renameSyncWithRetry(tmp, file)
    } catch (error) {
      // The in-memory cache stays right; the file is rewritten at the next epoch change or close.
      this.dirty = true
      this.logger?.warn(`Could not write ${file}: ${(error as Error).message}`)
    }
  }
}
