// The logs of one broker across its log.dirs, in Apache Kafka's layout: meta.properties,
// the offset checkpoint files (recovery points, log start offsets, high watermarks, cleaner
// offsets of compacted logs) and the
// .kafka_cleanshutdown marker that tells the next start whether logs need recovery.
// Existing partition directories are discovered at open and loaded when first asked for
// (getOrCreateLog), with the topic's effective config.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {eachLimit, ensureDir, renameSyncWithRetry, renameWithRetry} from '../util/fs.js'
import {acquireLock, releaseLock, DirLockedError} from '../util/dir-lock.js'
import {parseProperties} from '../config/properties.js'
import type {Logger} from '../util/log.js'
import {type LogConfig, PartitionLog} from './partition-log.js'

export const META_PROPERTIES = 'meta.properties'
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint'
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint'
export const REPLICATION_OFFSET_CHECKPOINT = 'replication-offset-checkpoint'
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint'
export const LOCK_FILE = '.lock'

/** Log dirs locked by LogManagers of this process. */
const lockedHere = new Set<string>()
/** fsyncs in flight at a clean shutdown (libuv's thread pool has four threads unless UV_THREADPOOL_SIZE says otherwise). */
const SHUTDOWN_FLUSH_CONCURRENCY = 16

/**
 * Kafka locks each log dir (.lock) so two brokers never share one: taken with an exclusive
 * create and held while the LogManager is open (util/dir-lock.ts tells a dead holder's lock
 * from a live one without OS file locks). Two LogManagers of one process are refused too.
 */
async function lockDir(dir: string): Promise<void> {
  if (lockedHere.has(dir)) throw lockBusy(dir)
  try {
    await acquireLock(path.join(dir, LOCK_FILE))
  } catch (error) {
    if (error instanceof DirLockedError) throw lockBusy(dir)
    throw error
  }
  lockedHere.add(dir)
}

function lockBusy(dir: string): LogDirError {
  return new LogDirError(`Failed to acquire lock on file ${LOCK_FILE} in ${dir}. A Kafka instance in another process or thread is using this directory.`)
}

function unlockDir(dir: string): void {
  if (!lockedHere.delete(dir)) return
  releaseLock(path.join(dir, LOCK_FILE))
}

export interface LogManagerOptions {
  logDirs: string[]
  brokerId: number
  /** When given, stored in meta.properties and checked against what is stored there. */
  clusterId?: string
  logger?: Logger
}

/** A log directory that cannot be used; `dir` is set when the configured directory itself is the problem. */
/** Parses "<topic>-<partition>" directory names (topic names may contain '-'). */
export function parseLogDirName(name: string): {topic: string; partition: number} | null {
  const m = /^(.+)-(\d+)$/.exec(name)
  if (!m) return null
  return {topic: m[1], partition: Number(m[2])}
}

export class LogDirError extends Error {
  constructor(message: string, readonly dir?: string) {
    super(message)
  }
}

type Offsets = Map<string, number>

function key(topic: string, partition: number): string {
  return `${topic} ${partition}`
}

/** Reads a Kafka offset checkpoint file (version 0; "topic partition offset" lines). Missing file: empty map. */
export function readOffsetCheckpoint(file: string): Offsets {
  const out: Offsets = new Map()
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return out
  }
  const lines = text.split(/\r?\n/)
  if (lines[0]?.trim() !== '0') throw new LogDirError(`Unrecognized version of the checkpoint file ${file}: '${lines[0] ?? ''}'`)
  const count = Number(lines[1])
  if (!Number.isInteger(count) || count < 0) throw new LogDirError(`Malformed line 2 in checkpoint file ${file}: '${lines[1] ?? ''}'`)
  for (let i = 0; i < count; i++) {
    const parts = (lines[i + 2] ?? '').trim().split(/\s+/)
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]) || !/^-?\d+$/.test(parts[2])) throw new LogDirError(`Malformed line ${i + 3} in checkpoint file ${file}: '${lines[i + 2] ?? ''}'`)
    out.set(key(parts[0], Number(parts[1])), Number(parts[2]))
  }
  return out
}

/** Writes a Kafka offset checkpoint file atomically (temp file, then rename). */
export function writeOffsetCheckpoint(file: string, entries: Offsets): void {
  let body = `0\n${entries.size}\n`
  for (const [k, v] of entries) body += `${k} ${v}\n`
  const tmp = file + '.tmp'
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, body)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  renameSyncWithRetry(tmp, file)
}

/** Java Date.toString() shape, as java.util.Properties.store writes in its header comment. */
function javaDate(d = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
}

interface DirState {
  dir: string
  recoveryPoints: Offsets
  logStartOffsets: Offsets
  highWatermarks: Offsets
  cleanerOffsets: Offsets
}

interface Discovered {
  topic: string
  partition: number
  dirState: DirState
  path: string
}

export class LogManager {
  /** True when every log dir held the clean-shutdown marker at open. */
  readonly cleanShutdown: boolean
  /** Set by the broker: the high watermark to checkpoint for a partition. */
  highWatermarkOf: ((topic: string, partition: number) => number | undefined) | null = null
  private readonly dirs: DirState[]
  private readonly logs = new Map<string, {log: PartitionLog; dirState: DirState}>()
  private readonly pending = new Map<string, Promise<PartitionLog>>()
  private readonly discovered = new Map<string, Discovered>()
  private readonly timers: NodeJS.Timeout[] = []
  private closed = false
  private readonly logger?: Logger

  private constructor(readonly opts: LogManagerOptions, dirs: DirState[], clean: boolean) {
    this.dirs = dirs
    this.cleanShutdown = clean
    this.logger = opts.logger
  }

  static async open(opts: LogManagerOptions): Promise<LogManager> {
    if (opts.logDirs.length === 0) throw new LogDirError('log.dirs is empty')
    const states: DirState[] = []
    let clean = true
    for (const raw of opts.logDirs) {
      const dir = path.resolve(raw)
      try {
        ensureDir(dir)
      } catch (error) {
        const e = error as NodeJS.ErrnoException
        throw new LogDirError(e.code === 'ENOTDIR' ? e.message : `cannot create the directory ${dir} (${e.message})`, raw)
      }
      try {
        await lockDir(dir)
        LogManager.checkMeta(dir, opts)
      } catch (error) {
        for (const st of states) unlockDir(st.dir)
        if (lockedHere.has(dir) && !(error instanceof LogDirError && /Failed to acquire lock/.test(error.message))) unlockDir(dir)
        throw error
      }
      const marker = path.join(dir, CLEAN_SHUTDOWN_FILE)
      const hasMarker = fs.existsSync(marker)
      const hasLogs = fs.readdirSync(dir).some(n => parseLogDirName(n) !== null)
      if (!hasMarker && hasLogs) clean = false
      fs.rmSync(marker, {force: true})
      states.push({
        dir,
        recoveryPoints: readOffsetCheckpoint(path.join(dir, RECOVERY_POINT_CHECKPOINT)),
        logStartOffsets: readOffsetCheckpoint(path.join(dir, LOG_START_OFFSET_CHECKPOINT)),
        highWatermarks: readOffsetCheckpoint(path.join(dir, REPLICATION_OFFSET_CHECKPOINT)),
        cleanerOffsets: readOffsetCheckpoint(path.join(dir, CLEANER_OFFSET_CHECKPOINT)),
      })
    }
    const lm = new LogManager(opts, states, clean)
    lm.discover()
    if (!clean) opts.logger?.info(`Found no clean shutdown marker in ${states.map(s => s.dir).join(',')}: logs will be recovered as they load`)
    return lm
  }

  private static checkMeta(dir: string, opts: LogManagerOptions): void {
    const file = path.join(dir, META_PROPERTIES)
    let stored: Map<string, string> | null = null
    try {
      stored = parseProperties(fs.readFileSync(file, 'utf8'), file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new LogDirError(`Cannot read ${file}: ${(error as Error).message}`)
    }
    if (stored) {
      const storedBroker = stored.get('broker.id')
      if (storedBroker !== undefined && Number(storedBroker) !== opts.brokerId) {
        throw new LogDirError(`Configured broker.id ${opts.brokerId} doesn't match stored broker.id ${storedBroker} in ${file}. If you moved your data, make sure your configured broker.id matches. If you intend to create a new broker, remove all data in your log directories (log.dirs).`)
      }
      const storedCluster = stored.get('cluster.id')
      if (opts.clusterId !== undefined && storedCluster !== undefined && storedCluster !== opts.clusterId) {
        throw new LogDirError(`The Cluster ID ${opts.clusterId} doesn't match stored clusterId ${storedCluster} in ${file}. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.`)
      }
      if (storedBroker !== undefined && (storedCluster !== undefined || opts.clusterId === undefined)) return
    }
    let body = `#\n#${javaDate()}\n`
    if (opts.clusterId !== undefined) body += `cluster.id=${opts.clusterId}\n`
    body += `version=0\nbroker.id=${opts.brokerId}\n`
    const tmp = file + '.tmp'
    fs.writeFileSync(tmp, body)
    renameSyncWithRetry(tmp, file)
  }

  /** Cluster id stored in the first log dir's meta.properties, if any. */
  storedClusterId(): string | undefined {
    try {
      return parseProperties(fs.readFileSync(path.join(this.dirs[0].dir, META_PROPERTIES), 'utf8')).get('cluster.id')
    } catch {
      return undefined
    }
  }

  private discover(): void {
    for (const s of this.dirs) {
      for (const ent of fs.readdirSync(s.dir, {withFileTypes: true})) {
        if (!ent.isDirectory()) continue
        if (ent.name.endsWith('-delete')) {
          // A deletion interrupted by a stop: finish it.
          fs.rmSync(path.join(s.dir, ent.name), {recursive: true, force: true, maxRetries: 3})
          continue
        }
        const tp = parseLogDirName(ent.name)
        if (!tp) continue
        const k = key(tp.topic, tp.partition)
        if (this.discovered.has(k)) {
          throw new LogDirError(`Duplicate log directories for ${tp.topic}-${tp.partition} are found in both ${this.discovered.get(k)!.path} and ${path.join(s.dir, ent.name)}.`)
        }
        this.discovered.set(k, {topic: tp.topic, partition: tp.partition, dirState: s, path: path.join(s.dir, ent.name)})
      }
    }
  }

  get logDirs(): string[] {
    return this.dirs.map(d => d.dir)
  }

  /** Partitions found on disk at open that have not been loaded yet. */
  existingPartitions(): Array<{topic: string; partition: number; dir: string}> {
    const out: Array<{topic: string; partition: number; dir: string}> = []
    for (const d of this.discovered.values()) out.push({topic: d.topic, partition: d.partition, dir: d.dirState.dir})
    for (const {log, dirState} of this.logs.values()) out.push({topic: log.topic, partition: log.partition, dir: dirState.dir})
    return out
  }

  /** The high watermark checkpointed for a partition at the last run. */
  storedHighWatermark(topic: string, partition: number): number | undefined {
    const k = key(topic, partition)
    const s = this.logs.get(k)?.dirState ?? this.discovered.get(k)?.dirState
    return s?.highWatermarks.get(k)
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition))?.log
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()].map(e => e.log)
  }

  private leastLoadedDir(): DirState {
    const counts = new Map<DirState, number>(this.dirs.map(d => [d, 0]))
    for (const d of this.discovered.values()) counts.set(d.dirState, counts.get(d.dirState)! + 1)
    for (const {dirState} of this.logs.values()) counts.set(dirState, counts.get(dirState)! + 1)
    let best = this.dirs[0]
    for (const d of this.dirs) if (counts.get(d)! < counts.get(best)!) best = d
    return best
  }

  async getOrCreateLog(topic: string, partition: number, config: LogConfig): Promise<PartitionLog> {
    if (this.closed) throw new LogDirError('The log manager is shut down')
    const k = key(topic, partition)
    const open = this.logs.get(k)
    if (open) return open.log
    const p = this.pending.get(k)
    if (p) return p
    const promise = (async () => {
      const found = this.discovered.get(k)
      const dirState = found?.dirState ?? this.leastLoadedDir()
      const dir = found?.path ?? path.join(dirState.dir, `${topic}-${partition}`)
      const started = Date.now()
      const log = await PartitionLog.open(dir, topic, partition, config, {
        clean: found ? this.cleanShutdown : true,
        recoveryPoint: dirState.recoveryPoints.get(k) ?? 0,
        logStartOffset: dirState.logStartOffsets.get(k),
        cleanedUpTo: dirState.cleanerOffsets.get(k),
        logger: this.logger,
      })
      this.discovered.delete(k)
      this.logs.set(k, {log, dirState})
      if (found) this.logger?.info(`Completed load of log ${topic}-${partition} with ${log.segmentCount} segments, log start offset ${log.logStartOffset} and log end offset ${log.logEndOffset} in ${Date.now() - started} ms`)
      else this.logger?.info(`Created log for partition ${topic}-${partition} in ${dir}`)
      return log
    })()
    this.pending.set(k, promise)
    try {
      return await promise
    } finally {
      this.pending.delete(k)
    }
  }

  /** Closes and removes a partition's log (handles first, then the files). */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const k = key(topic, partition)
    const p = this.pending.get(k)
    if (p) await p.catch(() => undefined)
    const entry = this.logs.get(k)
    let dirState: DirState | undefined
    if (entry) {
      this.logs.delete(k)
      dirState = entry.dirState
      await entry.log.delete()
    } else {
      const d = this.discovered.get(k)
      if (!d) return
      this.discovered.delete(k)
      dirState = d.dirState
      const target = `${d.path}.${Date.now().toString(16)}-delete`
      await renameWithRetry(d.path, target)
      fs.rmSync(target, {recursive: true, force: true, maxRetries: 5})
    }
    dirState.recoveryPoints.delete(k)
    dirState.logStartOffsets.delete(k)
    dirState.highWatermarks.delete(k)
    dirState.cleanerOffsets.delete(k)
    this.logger?.info(`Deleted log for partition ${topic}-${partition}`)
    if (!this.closed) this.checkpoint()
  }

  /** Writes the three offset checkpoint files of every log dir. */
  checkpoint(): void {
    for (const s of this.dirs) {
      const rp: Offsets = new Map()
      const lso: Offsets = new Map()
      const hw: Offsets = new Map()
      const co: Offsets = new Map()
      for (const [k, d] of this.discovered) {
        if (d.dirState !== s) continue
        const a = s.recoveryPoints.get(k)
        const b = s.logStartOffsets.get(k)
        const c = s.highWatermarks.get(k)
        const e = s.cleanerOffsets.get(k)
        if (a !== undefined) rp.set(k, a)
        if (b !== undefined) lso.set(k, b)
        if (c !== undefined) hw.set(k, c)
        if (e !== undefined) co.set(k, e)
      }
      for (const [k, {log, dirState}] of this.logs) {
        if (dirState !== s) continue
        rp.set(k, log.recoveryPoint)
        lso.set(k, log.logStartOffset)
        const h = this.highWatermarkOf?.(log.topic, log.partition) ?? s.highWatermarks.get(k)
        if (h !== undefined) hw.set(k, h)
        if (log.cleanedUpTo > 0) co.set(k, log.cleanedUpTo)
      }
      s.recoveryPoints = rp
      s.logStartOffsets = lso
      s.highWatermarks = hw
      s.cleanerOffsets = co
      try {
        writeOffsetCheckpoint(path.join(s.dir, RECOVERY_POINT_CHECKPOINT), rp)
        writeOffsetCheckpoint(path.join(s.dir, LOG_START_OFFSET_CHECKPOINT), lso)
        writeOffsetCheckpoint(path.join(s.dir, REPLICATION_OFFSET_CHECKPOINT), hw)
        if (co.size > 0 || fs.existsSync(path.join(s.dir, CLEANER_OFFSET_CHECKPOINT))) writeOffsetCheckpoint(path.join(s.dir, CLEANER_OFFSET_CHECKPOINT), co)
      } catch (error) {
        this.logger?.error(`Error while writing checkpoints in ${s.dir}: ${(error as Error).message}`)
      }
    }
  }

  /** Deletes segments by retention every checkIntervalMs (log.retention.check.interval.ms). */
  startRetention(checkIntervalMs = 300000): void {
    const t = setInterval(() => this.enforceRetention(Date.now()), checkIntervalMs)
    t.unref()
    this.timers.push(t)
  }

  enforceRetention(now: number): number {
    let n = 0
    for (const {log} of this.logs.values()) {
      try {
        n += log.enforceRetention(now, this.highWatermarkOf?.(log.topic, log.partition) ?? Infinity)
      } catch (error) {
        this.logger?.error(`Error while enforcing retention on ${log.name}: ${(error as Error).message}`)
      }
    }
    return n
  }

  /** Compacts every log whose cleanup.policy includes compact; returns the segments rewritten. */
  async compactAll(now = Date.now(), force = false): Promise<number> {
    let n = 0
    for (const {log} of [...this.logs.values()]) {
      if (this.closed) break
      const policy = log.logConfig.cleanupPolicy
      if (!policy.split(',').map(p => p.trim()).includes('compact')) continue
      try {
        n += (await log.compact(now, this.highWatermarkOf?.(log.topic, log.partition) ?? Infinity, force)).segments
      } catch (error) {
        this.logger?.error(`Error while cleaning ${log.name}: ${(error as Error).message}`)
      }
    }
    return n
  }

  /** Runs the log cleaner for compacted topics every intervalMs (log.cleaner.backoff.ms). */
  startCleaner(intervalMs = 15000): void {
    let running = false
    const t = setInterval(() => {
      if (running) return
      running = true
      this.compactAll().finally(() => {
        running = false
      })
    }, intervalMs)
    t.unref()
    this.timers.push(t)
  }

  /** Flushes logs whose flush.ms elapsed (flush.messages is handled on append); default configs leave flushing to the OS. */
  startFlusher(checkIntervalMs = 1000): void {
    const t = setInterval(() => {
      const now = Date.now()
      for (const {log} of this.logs.values()) {
        try {
          log.maybeFlushByTime(now)
        } catch (error) {
          this.logger?.error(`Error while flushing ${log.name}: ${(error as Error).message}`)
        }
      }
    }, checkIntervalMs)
    t.unref()
    this.timers.push(t)
  }

  /** Writes the checkpoint files every intervalMs. */
  startCheckpoints(intervalMs = 5000): void {
    const t = setInterval(() => this.checkpoint(), intervalMs)
    t.unref()
    this.timers.push(t)
  }

  /**
   * Gives the log dirs up without a clean shutdown (no flush, checkpoint or marker), as if
   * the process had died: the next open recovers. For fatal errors and crash tests.
   */
  async abort(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    await Promise.all([...this.pending.values()].map(p => p.catch(() => undefined)))
    for (const {log} of this.logs.values()) await log.abort().catch(() => undefined)
    for (const s of this.dirs) unlockDir(s.dir)
  }

  /** Clean shutdown: flush and close every log, write checkpoints and the clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    await Promise.all([...this.pending.values()].map(p => p.catch(() => undefined)))
    // The fsyncs first, several at once (as Kafka closes logs on its recovery threads); a log
    // whose fsync failed here tries again, synchronously, in its close below.
    await eachLimit([...this.logs.values()], SHUTDOWN_FLUSH_CONCURRENCY, ({log}) => log.flushInBackground().catch(() => undefined))
    for (const {log} of this.logs.values()) {
      try {
        await log.close()
      } catch (error) {
        this.logger?.error(`Error while closing ${log.name}: ${(error as Error).message}`)
      }
    }
    this.checkpoint()
    // Logs found unrecovered at an unclean start and never loaded still need recovery next time.
    const unrecovered = !this.cleanShutdown && this.discovered.size > 0
    if (!unrecovered) {
      for (const s of this.dirs) fs.writeFileSync(path.join(s.dir, CLEAN_SHUTDOWN_FILE), '{"version":0,"brokerEpoch":-1}')
    }
    for (const s of this.dirs) unlockDir(s.dir)
  }
}
