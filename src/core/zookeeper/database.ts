// The server's state on disk (Apache ZooKeeper's ZKDatabase over FileTxnSnapLog): loading the
// newest valid snapshot and replaying the transaction log after it at start-up (and whenever
// an ensemble member leaves a role), background snapshots every snapCount txns or so, the
// blocking snapshot and truncation a learner's sync asks for, the newest logged txns a leader
// syncs learners with (DIFF), and autopurge. The server keeps the open log (txnlog) and the
// commit stage; this module creates them.
import {join} from 'node:path'
import {monitorEventLoopDelay} from 'node:perf_hooks'
import {existsSync, unlinkSync} from 'node:fs'
import {ensureDir} from '../util/fs.js'
import {Logger} from '../util/log.js'
import {Op, type Txn, type TxnHeader} from './records.js'
import {TxnLog, replayLogs, listZxidFiles, truncateLogs} from './txnlog.js'
import {LogCommit} from './commit.js'
import {SnapshotWriter, serializeSnapshot, loadNewestSnapshot, writeSnapshot, writeSnapshotSync, snapshotFile, purge, type SnapshotTask} from './snapshot.js'
import {ConfigError} from '../config/settings.js'
import type {ZkServer} from './server.js'

/** From how many znodes a standalone server writes its start-up snapshot in the background. */
const DEFER_SNAPSHOT_NODES = 50000

export class ZkDatabase {
  /** Txns logged since the log last rolled after which a background snapshot starts (snapCount/2 plus a random half). */
  snapThreshold = 0
  /** The snapshot being written, if any. */
  snapshot: SnapshotTask | null = null
  /** At most how much of a background snapshot is serialised in one turn of the event loop (and the size of each of its buffers). */
  snapshotChunkBytes = 4 << 20
  /** At most how long (ms) a background snapshot serialises in one turn of the event loop. */
  snapshotSliceMs = 8

  constructor(private readonly zk: ZkServer) {}

  /**
   * Loads the newest valid snapshot and replays the log after it (Apache's loadDataBase),
   * writes a fresh snapshot of the result, and opens the log for appending. An ensemble
   * member calls it again whenever it leaves a role, so that its tree is exactly what it has
   * logged (a leader's tree runs ahead of what its quorum has committed).
   */
  async load(deferSnapshot = false): Promise<number> {
    if (this.zk.txnlog) await this.zk.txnlog.close()
    return this.loadSync(deferSnapshot)
  }

  /** Set by a load that left the fresh snapshot of a big tree to startSnapshotIfPending(). */
  private snapshotPending = false

  /**
   * Writes the start-up snapshot that load(true) deferred, in the background as any other
   * (a standalone server calls it once it serves: until the file is complete, recovery uses
   * the previous snapshot and the log, which are still on disk).
   */
  startSnapshotIfPending(): void {
    if (!this.snapshotPending) return
    this.snapshotPending = false
    this.takeSnapshot()
  }

  /** Creates a data directory; one that cannot be one stops start-up naming the key, the value and the file. */
  private ensureDataDir(dir: string, key: string, value: string): void {
    try {
      ensureDir(dir)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      throw new ConfigError(`Invalid value ${value} for configuration ${key} in ${this.zk.config.source}: ${e.code === 'ENOTDIR' ? e.message : `cannot create the directory ${dir} (${e.message})`}`)
    }
  }

  private loadSync(deferSnapshot = false): number {
    const zk = this.zk
    const c = zk.config
    const tree = zk.tree
    const t0 = Date.now()
    this.ensureDataDir(zk.snapDir, 'dataDir', c.dataDir)
    this.ensureDataDir(zk.logDir, c.dataLogDir && c.dataLogDir !== c.dataDir ? 'dataLogDir' : 'dataDir', c.dataLogDir || c.dataDir)
    tree.reset()
    zk.sessions.clear()
    const snapLog = new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog')
    const snap = loadNewestSnapshot(zk.snapDir, tree, m => snapLog.warn(m))
    const tSnap = Date.now()
    zk.metrics.summary('startup_snap_load_time').add(tSnap - t0)
    const sessionTimeouts = snap ? snap.sessions : new Map<bigint, number>()
    if (snap) snapLog.info(`Reading snapshot ${snap.file}`)
    const fromZxid = snap ? snap.zxid : 0
    const stats = replayLogs(zk.logDir, fromZxid, (h, t) => {
      if (t.type === Op.createSession) sessionTimeouts.set(h.clientId, t.timeOut)
      tree.replayTxn(h, t)
      if (t.type === Op.closeSession) sessionTimeouts.delete(h.clientId)
    })
    zk.metrics.summary('startup_txns_load_time').add(Date.now() - tSnap)
    zk.metrics.summary('startup_txns_loaded').add(stats.txns)
    tree.events = []
    for (const t of stats.torn) snapLog.warn(`Ignoring the unacknowledged tail of the transaction log: ${t}`)
    const zxid = Math.max(tree.lastZxid, stats.lastZxid, fromZxid)
    tree.lastZxid = zxid
    new Logger('org.apache.zookeeper.server.ZKDatabase').info(`Snapshot loaded in ${Date.now() - t0} ms, highest zxid is 0x${zxid.toString(16)}, ${snap ? snap.nodes : tree.nodes.size} znodes in the snapshot, ${stats.txns} txns loaded from ${stats.files} log files`)
    for (const [id, timeout] of sessionTimeouts) zk.sessions.add(id, timeout)
    // Like Apache ZooKeeper, start from a fresh snapshot of what was loaded; a big tree's is
    // written in the background once the server serves, when the caller allows it.
    const snapFile = snapshotFile(zk.snapDir, zxid)
    this.snapshotPending = false
    if (!existsSync(snapFile) || stats.txns > 0) {
      if (deferSnapshot && tree.nodes.size > DEFER_SNAPSHOT_NODES) this.snapshotPending = true
      else {
        writeSnapshotSync(zk.snapDir, new SnapshotWriter(tree, this.sessionTimeouts(), zxid))
        snapLog.info(`Snapshotting: 0x${zxid.toString(16)} to ${snapFile}`)
      }
    }
    zk.txnlog = new TxnLog(zk.logDir, c.forceSync, z => zk.commit.durable?.(z), e => this.onLogError(e), c.preAllocBytes)
    zk.txnlog.onFlush = (syncMs, txns) => {
      zk.metrics.summary('fsynctime').add(syncMs)
      zk.metrics.summary('sync_processor_batch_size').add(txns)
    }
    zk.commit = new LogCommit(zk.txnlog, zxid, z => zk.committed(z))
    this.resetSnapThreshold()
    return zxid
  }

  /**
   * The newest txns of the log on disk (at most max, none after the last zxid): a new leader's
   * committed log, for syncing learners with DIFF instead of a snapshot.
   */
  recentTxns(max: number): Array<{hdr: TxnHeader; txn: Txn}> {
    const logDir = this.zk.logDir
    const files = listZxidFiles(logDir, 'log')
    if (files.length === 0) return []
    const from = files[Math.max(0, files.length - 2)].zxid - 1
    const out: Array<{hdr: TxnHeader; txn: Txn}> = []
    const last = this.zk.zxid
    replayLogs(logDir, Math.max(0, from), (hdr, txn) => {
      if (hdr.zxid > last) return
      out.push({hdr, txn})
      if (out.length > max) out.shift()
    })
    return out
  }

  /** A learner's SNAP has filled the tree: the sessions with it, the zxid it stands at. */
  loadSyncedSnapshot(sessions: Map<bigint, number>, zxid: number): void {
    const zk = this.zk
    zk.sessions.clear()
    for (const [id, timeout] of sessions) zk.sessions.add(id, timeout)
    zk.tree.lastZxid = zxid
    zk.tree.events = []
  }

  /**
   * TRUNC from the leader: every logged txn after zxid goes (and every snapshot after it),
   * and the database is loaded again from what is left.
   */
  truncateTo(zxid: number): void {
    const snapDir = this.zk.snapDir
    void this.zk.txnlog.close()
    for (const s of listZxidFiles(snapDir, 'snapshot')) {
      if (s.zxid > zxid) {
        try { unlinkSync(join(snapDir, s.name)) } catch { /* gone */ }
      }
    }
    if (!truncateLogs(this.zk.logDir, zxid)) throw new Error(`Not able to truncate the log 0x${zxid.toString(16)}`)
    this.loadSync()
  }

  /** Writes a snapshot of the tree now, blocking (a learner synced by SNAP, at NEWLEADER). */
  snapshotNow(): void {
    const zk = this.zk
    const zxid = zk.tree.lastZxid
    zk.txnlog.roll()
    writeSnapshotSync(zk.snapDir, new SnapshotWriter(zk.tree, this.sessionTimeouts(), zxid))
    new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog').info(`Snapshotting: 0x${zxid.toString(16)} to ${snapshotFile(zk.snapDir, zxid)}`)
  }

  /**
   * Starts a background snapshot of the current state (at most one at a time): the log rolls
   * to a new file and the tree is written chunk by chunk between requests (SnapshotWriter).
   */
  takeSnapshot(): void {
    const zk = this.zk
    const snapLog = new Logger('org.apache.zookeeper.server.persistence.FileTxnSnapLog')
    this.resetSnapThreshold()
    if (this.snapshot !== null) {
      snapLog.warn('Too busy to snap, skipping')
      return
    }
    zk.txnlog.roll()
    const sw = new SnapshotWriter(zk.tree, this.sessionTimeouts(), zk.zxid, this.snapshotChunkBytes)
    const t0 = Date.now()
    // The longest the event loop (so every request) was held up while the snapshot was
    // written: a 10 ms timer's longest interval less those 10 ms.
    const delay = monitorEventLoopDelay({resolution: 10})
    delay.enable()
    this.snapshot = writeSnapshot(zk.snapDir, sw, (err, file) => {
      delay.disable()
      this.snapshot = null
      if (!err) {
        zk.metrics.snapCount++
        zk.metrics.summary('snapshottime').add(Date.now() - t0)
      }
      if (err) snapLog.error(`Unexpected exception writing snapshot ${file}: ${err.message}`)
      else snapLog.info(`Snapshotting: 0x${sw.zxid.toString(16)} to ${file}: ${sw.nodes} znodes, ${sw.bytes} bytes in ${Date.now() - t0} ms, event loop stalled at most ${Math.max(0, Math.round(delay.max / 1e6) - 10)} ms (slices of at most ${Math.round(sw.longestSliceMs)} ms)`)
    }, {sliceMs: this.snapshotSliceMs, buffers: 2})
  }

  /** The sessions and tree in Apache's wire form for SNAP (the snapshot file's body without header and checksum). */
  syncSnapshot(): Buffer {
    const whole = serializeSnapshot(this.zk.tree, this.sessionTimeouts())
    return whole.subarray(16, whole.length - 13)
  }

  sessionTimeouts(): Map<bigint, number> {
    const m = new Map<bigint, number>()
    for (const s of this.zk.sessions.sessions.values()) m.set(s.id, s.timeout)
    return m
  }

  purgeNow(): {snapshots: number; logs: number} {
    const zk = this.zk
    const r = purge(zk.snapDir, zk.logDir, zk.config.snapRetainCount, this.snapshot?.zxid ?? -1)
    new Logger('org.apache.zookeeper.server.PurgeTxnLog').info(`Purge task completed: removed ${r.snapshots} snapshots and ${r.logs} log files`)
    return r
  }

  private resetSnapThreshold(): void {
    const half = Math.max(1, Math.floor(this.zk.config.snapCount / 2))
    this.snapThreshold = half + Math.floor(Math.random() * half)
  }

  private onLogError(e: Error): void {
    this.zk.log.error(`Severe unrecoverable error writing the transaction log: ${e.message}; shutting down`)
    void this.zk.stop()
  }
}
