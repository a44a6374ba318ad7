// Four-letter words (ruok, srvr, stat, mntr, ...) with Apache ZooKeeper 3.8's exact text,
// and the same facts as ordered JSON-ready maps for the AdminServer's /commands/<name>.
// Shapes (line order, tabs, trailing newlines, key order) were checked side by side with
// Apache ZooKeeper 3.8.0 (test/zookeeper/fourletter-diff.test.ts); values are kafkit's own.
import {hostname, arch, release, type, userInfo, homedir, tmpdir} from 'node:os'
import {readdirSync, statSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {getHeapStatistics} from 'node:v8'
import {FOUR_LETTER_WORDS} from '../config/zk-config.js'
import type {ZkServer, QuorumInfo} from './server.js'
import type {Connection} from './connection.js'
import type {Summary} from './metrics.js'
import {quorumView, quorumConfLines} from './quorum/view.js'

const WORDS = new Map<number, string>(FOUR_LETTER_WORDS.map(w => [Buffer.from(w).readInt32BE(0), w]))

/** The four-letter word starting at pos, or null (a connection's first 4 bytes). */
export function fourLetterWordOf(buf: Buffer, pos: number): string | null {
  return WORDS.get(buf.readInt32BE(pos)) ?? null
}

/** The four-letter word whose bytes read as this big-endian int32, or null. */
export function fourLetterWordOfInt(v: number): string | null {
  return WORDS.get(v) ?? null
}

/** Apache's Version.getFullVersion() shape: "<version>-<commit>, built on <date> UTC". */
export const FULL_VERSION = '3.8.0-kafkit, built on 1970-01-01 00:00 UTC'

/** A Java double (printed "0.0", "2.9"): JSON and text keep the decimal point. */
export class JDouble {
  constructor(readonly value: number) {}
  toString(): string {
    const v = this.value
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return v.toFixed(1)
    return String(v)
  }
}

/** A JSON-ready value: numbers are Java longs/ints, JDouble doubles, bigint exact longs. */
export type JValue = string | number | bigint | boolean | null | JDouble | JValue[] | JMap
export type JMap = Map<string, JValue>

function words(s: string): string[] {
  return s.trim().split(/\s+/)
}

// mntr's keys in Apache ZooKeeper 3.8's order (its metrics registry iterates in this
// order): plain gauges and counters, then AvgMinMax summaries (avg/min/max/cnt/sum),
// then summaries with percentiles (also p50/p95/p99/p999).
const MNTR_PLAIN = words(`
  version server_state ephemerals_count num_alive_connections avg_latency outstanding_requests
  znode_count global_sessions non_mtls_remote_conn_count last_client_response_size packets_sent
  packets_received max_client_response_size connection_drop_probability watch_count auth_failed_count
  min_latency max_file_descriptor_count approximate_data_size open_file_descriptor_count
  local_sessions uptime max_latency outstanding_tls_handshake min_client_response_size
  non_mtls_local_conn_count proposal_count watch_bytes outstanding_changes_removed throttled_ops
  stale_requests_dropped large_requests_rejected insecure_admin_count connection_rejected
  cnxn_closed_without_zk_server_running sessionless_connections_expired looking_count
  dead_watchers_queued stale_requests connection_drop_count learner_proposal_received_count
  digest_mismatches_count dead_watchers_cleared response_packet_cache_hits bytes_received_count
  add_dead_watcher_stall_time request_throttle_wait_count requests_not_forwarded_to_commit_processor
  response_packet_cache_misses ensemble_auth_success prep_processor_request_queued
  learner_commit_received_count stale_replies connection_request_count response_bytes
  ensemble_auth_fail diff_count response_packet_get_children_cache_misses connection_revalidate_count
  quit_leading_due_to_disloyal_voter snap_count unrecoverable_error_count unsuccessful_handshake
  commit_count stale_sessions_expired response_packet_get_children_cache_hits
  sync_processor_request_queued outstanding_changes_queued request_commit_queued ensemble_auth_skip
  skip_learner_request_to_next_processor_count tls_handshake_exceeded revalidate_count
`)
const MNTR_SUMMARIES = words(`
  socket_closing_time proposal_process_time leader_unavailable_time node_created_watch_count
  session_queues_drained write_commit_proc_req_queued connection_token_deficit
  read_commit_proc_req_queued node_deleted_watch_count startup_txns_load_time
  sync_processor_queue_size follower_sync_time prep_processor_queue_size fsynctime inflight_snap_count
  reads_issued_from_session_queue learner_request_processor_queue_size snapshottime unavailable_time
  startup_txns_loaded reads_after_write_in_session_queue requests_in_session_queue
  write_commit_proc_issued prep_process_time pending_session_queue_size
  time_waiting_empty_pool_in_commit_processor_read_ms commit_process_time dbinittime
  inflight_diff_count netty_queued_buffer_capacity election_time commit_commit_proc_req_queued
  sync_processor_batch_size node_children_watch_count write_batch_time_in_commit_processor
  read_commit_proc_issued concurrent_request_processing_in_commit_processor observer_sync_time
  node_changed_watch_count sync_process_time startup_snap_load_time
`)
const MNTR_PERCENTILES = words(`
  prep_processor_queue_time_ms jvm_pause_time_ms close_session_prep_time read_commitproc_time_ms
  updatelatency local_write_committed_time_ms request_throttle_queue_time_ms readlatency
  quorum_ack_latency om_commit_process_time_ms read_final_proc_time_ms commit_propagation_latency
  dead_watchers_cleaner_latency write_final_proc_time_ms proposal_ack_creation_latency
  proposal_latency om_proposal_process_time_ms sync_processor_queue_and_flush_time_ms
  propagation_latency server_write_committed_time_ms sync_processor_queue_time_ms
  sync_processor_queue_flush_time_ms write_commitproc_time_ms
`)

const SESSIONLESS_CNXN_TIMEOUT = 10000 // zookeeper.nio.sessionlessCnxnTimeout

function hex(v: number | bigint): string {
  return '0x' + (typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt(v) & 0xffffffffffffffffn).toString(16)
}

/** Apache's AvgMinMaxCounter average: rounded half-up to 4 decimals. */
function avgLatency(s: ZkServer): JDouble {
  return new JDouble(s.latencyCount === 0 ? 0 : Math.round((s.totalLatency / s.latencyCount) * 10000) / 10000)
}

function minLatency(s: ZkServer): number {
  return s.latencyCount ? s.minLatency : 0
}

function dirSize(dir: string): number {
  let n = 0
  try {
    for (const f of readdirSync(dir)) {
      try { n += statSync(join(dir, f)).size } catch { /* gone */ }
    }
  } catch { /* missing */ }
  return n
}

function outstanding(s: ZkServer): number {
  let n = 0
  for (const c of s.gated) n += c.queue.length
  return n
}

/** A connection that has sent only a four-letter word (Apache shows it with interest ops 0). */
function isFourLetter(c: Connection): boolean {
  return !c.handshaken && c.recved === 0
}

function sessionId(c: Connection): bigint {
  return c.session ? c.session.id : 0n
}

/** A connection's request figures (Apache's per-ServerCnxn stats; avg is a long). */
function connLatency(c: Connection): {lastZxid: number; last: number; min: number; avg: number; max: number} {
  if (c.latCount === 0) return {lastZxid: -1, last: 0, min: 0, avg: 0, max: 0}
  return {lastZxid: c.lastZxid, last: c.lastLat, min: c.minLat, avg: Math.floor(c.totLat / c.latCount), max: c.maxLat}
}

/** Apache's interest ops: read (1) unless throttled, write (4) while replies wait in the socket. */
function interestOps(c: Connection): number {
  return (c.throttled ? 0 : 1) | (c.socket.writableLength > 0 ? 4 : 0)
}

/** The ServerCnxn.dumpConnectionInfo line (without the leading space). */
function connLine(c: Connection, brief: boolean): string {
  const four = isFourLetter(c)
  let out = `${c.describe}[${four ? 0 : interestOps(c)}](queued=${c.queue.length},recved=${four ? 1 : c.recved},sent=${c.sent}`
  if (!brief && c.session) {
    out += `,sid=${hex(c.session.id)},lop=${c.lastOp},est=${c.established},to=${c.session.timeout}`
    const l = connLatency(c)
    out += `,lcxid=${hex(c.lastCxid)},lzxid=${hex(l.lastZxid)},lresp=${c.lastResp},llat=${l.last},minlat=${l.min},avglat=${l.avg},maxlat=${l.max}`
  }
  return out + ')'
}

/** Apache's node count: its DataTree indexes the root under both "" and "/". */
function nodeCount(s: ZkServer): number {
  return s.tree.nodes.size + 1
}

function openFds(): number {
  try { return readdirSync('/proc/self/fd').length - 1 } catch { return -1 }
}

function maxFds(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (m) return m[1] === 'unlimited' ? -1 : Number(m[1])
  } catch { /* not Linux */ }
  return -1
}

function ephemeralCount(s: ZkServer): number {
  let n = 0
  for (const set of s.tree.ephemerals.values()) n += set.size
  return n
}

// ---------------------------------------------------------------- watches
// Apache's 4lw/AdminServer watch reports read the data-watch manager only (getData/exists
// watches, plus persistent and persistent-recursive watches, which register on both).

type WatchTable = Map<string, Set<unknown>>

function dataTables(s: ZkServer): WatchTable[] {
  return [s.watches.data, s.watches.persistent, s.watches.recursive] as WatchTable[]
}

/** path -> session ids watching it (data side). */
function watchesByPathMap(s: ZkServer): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>()
  for (const t of dataTables(s)) {
    for (const [p, set] of t) {
      let ids = out.get(p)
      for (const w of set) {
        const id = sessionId(w as Connection)
        if (!ids) out.set(p, (ids = []))
        if (!ids.includes(id)) ids.push(id)
      }
    }
  }
  return out
}

/** session id -> data-watched paths, per watching connection. */
function watchesBySessionMap(s: ZkServer): Map<bigint, string[]> {
  const out = new Map<bigint, string[]>()
  for (const c of s.connections) {
    const i = c.watchIndex
    const paths = new Set([...i.data, ...i.persistent, ...i.recursive])
    if (paths.size === 0) continue
    const id = sessionId(c)
    const list = out.get(id) ?? []
    for (const p of paths) if (!list.includes(p)) list.push(p)
    out.set(id, list)
  }
  return out
}

function watchSummary(s: ZkServer): {connections: number; paths: number; total: number} {
  const byPath = watchesByPathMap(s)
  let total = 0
  for (const ids of watchesBySessionMap(s).values()) total += ids.length
  let connections = 0
  for (const c of s.connections) {
    const i = c.watchIndex
    if (i.data.size + i.persistent.size + i.recursive.size > 0) connections++
  }
  return {connections, paths: byPath.size, total}
}

/** watch_count: data-side plus child-side registrations (persistent ones count on both). */
function watchCount(s: ZkServer): number {
  let n = 0
  const w = s.watches
  for (const t of [w.data, w.child, w.persistent, w.persistent, w.recursive, w.recursive] as WatchTable[]) {
    for (const set of t.values()) n += set.size
  }
  return n
}

// ---------------------------------------------------------------- dump

/** Java's Date.toString(): "Tue Nov 24 01:27:44 UTC 2026" in the local time zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms)
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const p2 = (n: number) => String(n).padStart(2, '0')
  let zone = 'UTC'
  try {
    zone = new Intl.DateTimeFormat('en-US', {timeZoneName: 'short'}).formatToParts(d).find(x => x.type === 'timeZoneName')?.value ?? 'UTC'
  } catch { /* no Intl data */ }
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zone} ${d.getFullYear()}`
}

/** Expiry buckets (time -> members), sorted by time, as Apache's ExpiryQueue keeps them. */
function sessionBuckets(s: ZkServer): Array<[number, bigint[]]> {
  return s.sessions.bucketIds()
}

function connectionBuckets(s: ZkServer): Array<[number, Connection[]]> {
  const m = new Map<number, Connection[]>()
  for (const c of s.connections) {
    const sess = c.session
    const touched = sess ? sess.expiresAt - sess.timeout : c.established
    const timeout = sess ? sess.timeout : SESSIONLESS_CNXN_TIMEOUT
    const at = (Math.floor((touched + timeout) / SESSIONLESS_CNXN_TIMEOUT) + 1) * SESSIONLESS_CNXN_TIMEOUT
    const list = m.get(at) ?? []
    list.push(c)
    m.set(at, list)
  }
  return [...m].sort((a, b) => a[0] - b[0])
}

function ephemeralsBySession(s: ZkServer): Array<[bigint, string[]]> {
  return [...s.tree.ephemerals].filter(([, paths]) => paths.size > 0).map(([id, paths]) => [id, [...paths].sort()])
}

function dumpText(s: ZkServer): string {
  const sb = sessionBuckets(s)
  let out = `SessionTracker dump:\nSession Sets (${sb.length})/(${s.sessions.sessions.size}):\n`
  for (const [at, ids] of sb) out += `${ids.length} expire at ${javaDate(at)}:\n` + ids.map(id => `\t${hex(id)}\n`).join('')
  const eph = ephemeralsBySession(s)
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${eph.length}):\n`
  for (const [id, paths] of eph) out += `${hex(id)}:\n` + paths.map(p => `\t${p}\n`).join('')
  const cb = connectionBuckets(s)
  out += `Connections dump:\nConnections Sets (${cb.length})/(${s.connections.size}):\n`
  for (const [at, conns] of cb) {
    out += `${conns.length} expire at ${javaDate(at)}:\n`
    for (const c of conns) out += `\tip: ${c.describe} sessionId: ${hex(sessionId(c))}\n`
  }
  return out
}

// ---------------------------------------------------------------- ordered facts

function serverStatsMap(s: ZkServer): JMap {
  const buffers = responseSizes(s)
  return new Map<string, JValue>([
    ['packets_sent', s.packetsSent],
    ['packets_received', s.packetsReceived],
    ['fsync_threshold_exceed_count', 0],
    ['client_response_stats', buffers],
    ['data_dir_size', dirSize(s.snapDir)],
    ['log_dir_size', dirSize(s.logDir)],
    ['provider_null', false],
    ['server_state', s.mode],
    ['last_processed_zxid', s.zxid],
    ['outstanding_requests', outstanding(s)],
    ['avg_latency', avgLatency(s)],
    ['max_latency', s.maxLatency],
    ['min_latency', minLatency(s)],
    ['num_alive_client_connections', s.connections.size],
    ['uptime', Date.now() - s.startedAt],
    ['auth_failed_count', 0],
    ['non_mtlsremote_conn_count', 0],
    ['non_mtlslocal_conn_count', 0],
  ])
}

function responseSizes(s: ZkServer): JMap {
  const m = s.metrics
  return new Map<string, JValue>([['last_buffer_size', m.lastResponseSize], ['min_buffer_size', m.minResponseSize], ['max_buffer_size', m.maxResponseSize]])
}

/** AdminServer server_stats (srvr), and stats (stat) with the brief connection list. */
export function serverStats(s: ZkServer, withConnections = false): JMap {
  const m = new Map<string, JValue>([
    ['version', FULL_VERSION],
    ['read_only', false],
    ['server_stats', serverStatsMap(s)],
    ['client_response', responseSizes(s)],
  ])
  // A leader's proposal sizes (Leader.getProposalStats), between the response sizes and the node count.
  if (s.mode === 'leader' && s.quorumInfo !== null) {
    const p = s.quorumInfo.proposalSizeStats()
    m.set('proposal_stats', new Map<string, JValue>([['last_buffer_size', p ? p.last : -1], ['min_buffer_size', p ? p.min : -1], ['max_buffer_size', p ? p.max : -1]]))
  }
  m.set('node_count', nodeCount(s))
  if (withConnections) {
    m.set('connections', connectionInfos(s, true))
    m.set('secure_connections', [])
  }
  return m
}

/** ServerCnxn.getConnectionInfo for every client connection. */
export function connectionInfos(s: ZkServer, brief: boolean): JMap[] {
  const out: JMap[] = []
  for (const c of s.connections) {
    const m = new Map<string, JValue>([
      ['remote_socket_address', `${c.remote}:${c.remotePort}`],
      ['interest_ops', isFourLetter(c) ? 0 : 1],
      ['outstanding_requests', c.queue.length],
      ['packets_received', c.recved],
      ['packets_sent', c.sent],
    ])
    if (!brief) {
      m.set('session_id', sessionId(c))
      m.set('last_operation', c.lastOp)
      m.set('established', c.established)
      m.set('session_timeout', c.session?.timeout ?? 0)
      m.set('last_cxid', c.lastCxid)
      const l = connLatency(c)
      m.set('last_zxid', l.lastZxid)
      m.set('last_response_time', c.lastResp)
      m.set('last_latency', l.last)
      m.set('min_latency', l.min)
      m.set('avg_latency', l.avg)
      m.set('max_latency', l.max)
    }
    out.push(m)
  }
  return out
}

/** The leader's mntr gauges, each after the plain key Apache 3.8's gauge map lists it after. */
const LEADER_GAUGES_AFTER = new Map<string, string[]>([
  ['avg_latency', ['min_proposal_size']], ['packets_received', ['max_proposal_size']], ['max_client_response_size', ['synced_followers']],
  ['watch_count', ['synced_non_voting_followers', 'synced_observers']], ['open_file_descriptor_count', ['last_proposal_size', 'pending_syncs', 'leader_uptime']],
  ['outstanding_tls_handshake', ['learners']],
])

function leaderGauge(q: QuorumInfo, g: string): number {
  const p = q.proposalSizeStats()
  switch (g) {
    case 'min_proposal_size': return p ? p.min : -1
    case 'max_proposal_size': return p ? p.max : -1
    case 'last_proposal_size': return p ? p.last : -1
    case 'synced_followers': return q.syncedFollowers()
    case 'synced_non_voting_followers': return q.syncedNonVotingFollowers()
    case 'synced_observers': return q.syncedObservers()
    case 'pending_syncs': return q.pendingSyncCount()
    case 'leader_uptime': return q.leaderUptime()
    default: return q.learners()
  }
}

/** mntr / monitor: every key Apache 3.8 reports, in its order. */
export function monitor(s: ZkServer): Array<[string, string | number | JDouble]> {
  const known = new Map<string, string | number | JDouble>([
    ['version', FULL_VERSION],
    ['server_state', s.mode],
    ['ephemerals_count', ephemeralCount(s)],
    ['num_alive_connections', s.connections.size],
    ['avg_latency', avgLatency(s)],
    ['outstanding_requests', outstanding(s)],
    ['znode_count', nodeCount(s)],
    ['global_sessions', s.sessions.sessions.size],
    ...s.metrics.counters(),
    ['packets_sent', s.packetsSent],
    ['packets_received', s.packetsReceived],
    ['connection_drop_probability', new JDouble(0)],
    ['watch_count', watchCount(s)],
    ['min_latency', minLatency(s)],
    ['max_file_descriptor_count', maxFds()],
    ['approximate_data_size', s.tree.approximateDataSize()],
    ['open_file_descriptor_count', openFds()],
    ['uptime', Date.now() - s.startedAt],
    ['max_latency', s.maxLatency],
  ])
  const unix = process.platform !== 'win32'
  const out: Array<[string, string | number | JDouble]> = []
  const q = s.quorumInfo
  for (const k of MNTR_PLAIN) {
    // Apache reports descriptor counts only where the JVM can read them (Unix).
    if (unix || (k !== 'max_file_descriptor_count' && k !== 'open_file_descriptor_count')) out.push([k, known.get(k) ?? 0])
    // An ensemble member (QuorumZooKeeperServer): its detailed peer state right after the
    // server state, and the quorum_size gauge (the voters) where Apache's gauge map lists it.
    if (q === null) continue
    if (k === 'server_state') {
      out.push(['peer_state', q.peerState()])
      if (s.mode === 'observer') out.push(['observer_master_id', q.observerMasterId()])
    }
    if (k === 'non_mtls_local_conn_count') out.push(['quorum_size', q.quorumSize()])
    // A leader's gauges (LeaderZooKeeperServer) where Apache's gauge map puts them among the others.
    if (s.mode === 'leader') for (const g of LEADER_GAUGES_AFTER.get(k) ?? []) out.push([g, leaderGauge(q, g)])
  }
  const zero = new JDouble(0)
  const m = s.metrics
  const summary = (n: string, x: Summary | undefined) => x === undefined
    ? out.push([`avg_${n}`, zero], [`min_${n}`, 0], [`max_${n}`, 0], [`cnt_${n}`, 0], [`sum_${n}`, 0])
    : out.push([`avg_${n}`, new JDouble(x.avg)], [`min_${n}`, x.min], [`max_${n}`, x.max], [`cnt_${n}`, x.count], [`sum_${n}`, x.sum])
  for (const n of MNTR_SUMMARIES) summary(n, m.summaries.get(n))
  for (const n of MNTR_PERCENTILES) {
    const x = n === 'readlatency' ? m.readLatency : n === 'updatelatency' ? m.updateLatency : undefined
    summary(n, x)
    out.push([`p50_${n}`, x ? x.percentile(0.5) : 0], [`p95_${n}`, x ? x.percentile(0.95) : 0], [`p99_${n}`, x ? x.percentile(0.99) : 0], [`p999_${n}`, x ? x.percentile(0.999) : 0])
  }
  for (const [k, v, kind] of s.tree.nsStats.lines()) out.push([k, kind === 'avg' ? new JDouble(v) : v])
  return out
}

/** conf (4lw): ZooKeeperServerConf's text lines. */
export function configuration(s: ZkServer): Array<[string, string | number]> {
  const c = s.config
  return [
    ['clientPort', s.port],
    ['secureClientPort', s.securePort > 0 ? s.securePort : -1],
    ['dataDir', s.snapDir],
    ['dataDirSize', dirSize(s.snapDir)],
    ['dataLogDir', s.logDir],
    ['dataLogSize', dirSize(s.logDir)],
    ['tickTime', c.tickTime],
    ['maxClientCnxns', c.maxClientCnxns],
    ['minSessionTimeout', c.minSessionTimeout],
    ['maxSessionTimeout', c.maxSessionTimeout],
    ['clientPortListenBacklog', -1],
    ['serverId', quorumView(s)?.myId ?? 0],
  ]
}

/** configuration (AdminServer): ZooKeeperServerConf.toMap(). */
export function configurationMap(s: ZkServer): JMap {
  const c = s.config
  return new Map<string, JValue>([
    ['client_port', s.port],
    ['data_dir', s.snapDir],
    ['data_log_dir', s.logDir],
    ['tick_time', c.tickTime],
    ['max_client_cnxns', c.maxClientCnxns],
    ['min_session_timeout', c.minSessionTimeout],
    ['max_session_timeout', c.maxSessionTimeout],
    ['server_id', quorumView(s)?.myId ?? 0],
    ['client_port_listen_backlog', -1],
  ])
}

export function dumpMap(s: ZkServer): JMap {
  const expiry: JMap = new Map()
  for (const [at, ids] of sessionBuckets(s)) expiry.set(String(at), ids)
  const eph: JMap = new Map()
  for (const [id, paths] of ephemeralsBySession(s)) eph.set(String(id), paths)
  return new Map<string, JValue>([['expiry_time_to_session_ids', expiry], ['session_id_to_ephemeral_paths', eph]])
}

export function watchesMap(s: ZkServer): JMap {
  const m: JMap = new Map()
  for (const [id, paths] of watchesBySessionMap(s)) m.set(String(id), paths)
  return new Map<string, JValue>([['session_id_to_watched_paths', m]])
}

export function watchesByPathJson(s: ZkServer): JMap {
  const m: JMap = new Map()
  for (const [p, ids] of watchesByPathMap(s)) m.set(p, ids)
  return new Map<string, JValue>([['path_to_session_ids', m]])
}

export function watchSummaryMap(s: ZkServer): JMap {
  const w = watchSummary(s)
  return new Map<string, JValue>([['num_connections', w.connections], ['num_paths', w.paths], ['num_total_watches', w.total]])
}

export function dirsMap(s: ZkServer): JMap {
  return new Map<string, JValue>([['datadir_size', dirSize(s.snapDir)], ['logdir_size', dirSize(s.logDir)]])
}

/** The newest snapshot: hex zxid (no 0x) and its modification time in seconds, or -1s. */
export function lastSnapshot(s: ZkServer): JMap {
  let best = -1
  let when = -1
  try {
    for (const f of readdirSync(s.snapDir)) {
      const m = /^snapshot\.([0-9a-f]+)$/.exec(f)
      if (!m) continue
      const z = parseInt(m[1], 16)
      if (z >= best) {
        best = z
        try { when = Math.floor(statSync(join(s.snapDir, f)).mtimeMs / 1000) } catch { when = -1 }
      }
    }
  } catch { /* no dir */ }
  return new Map<string, JValue>([['zxid', best < 0 ? 'ffffffffffffffff' : best.toString(16)], ['timestamp', when]])
}

export function resetConnectionStats(s: ZkServer): void {
  for (const c of s.connections) {
    c.recved = 0
    c.sent = 0
    c.lastCxid = -1
    c.lastOp = 'NA'
    c.lastResp = 0
    c.lastZxid = -1
    c.lastLat = c.totLat = c.latCount = c.maxLat = 0
    c.minLat = Infinity
  }
}

export function resetServerStats(s: ZkServer): void {
  s.packetsReceived = s.packetsSent = 0
  s.metrics.reset()
  s.minLatency = Infinity
  s.maxLatency = s.totalLatency = s.latencyCount = 0
}

// ---------------------------------------------------------------- environment

function javaOsName(): string {
  const t = type()
  if (t === 'Windows_NT') return 'Windows'
  if (t === 'Darwin') return 'Mac OS X'
  return t
}

function javaArch(): string {
  const a = arch()
  return a === 'x64' ? 'amd64' : a === 'arm64' ? 'aarch64' : a === 'ia32' ? 'x86' : a
}

/**
 * Apache's Environment.list() keys, with the nearest Node.js facts: java.version is Node's
 * version, java.vendor "Node.js", java.home Node's install prefix, java.class.path the
 * entry script, java.library.path NODE_PATH, java.compiler "<NA>" (as Apache without a JIT
 * name), os.memory.* the V8 heap (free = total - used, max = the heap limit).
 */
export function environment(): Array<[string, string]> {
  let user = ''
  try { user = userInfo().username } catch { /* none */ }
  const mem = process.memoryUsage()
  const mb = (n: number) => `${Math.floor(n / 1048576)}MB`
  return [
    ['zookeeper.version', FULL_VERSION],
    ['host.name', hostname()],
    ['java.version', process.versions.node],
    ['java.vendor', 'Node.js'],
    ['java.home', dirname(dirname(process.execPath))],
    ['java.class.path', process.argv[1] ?? ''],
    ['java.library.path', process.env.NODE_PATH ?? ''],
    ['java.io.tmpdir', tmpdir()],
    ['java.compiler', '<NA>'],
    ['os.name', javaOsName()],
    ['os.arch', javaArch()],
    ['os.version', release()],
    ['user.name', user],
    ['user.home', homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(mem.heapTotal - mem.heapUsed)],
    ['os.memory.max', mb(getHeapStatistics().heap_size_limit)],
    ['os.memory.total', mb(mem.heapTotal)],
  ]
}

// ---------------------------------------------------------------- the words

/** Apache writes a 4lw reply through an 8192-char buffer: one sent packet per chunk. */
const REPLY_CHUNK = 8192

/**
 * The reply to a four-letter word (or its refusal when it is not whitelisted). Like
 * Apache's NIOServerCnxn, the word counts as a received packet before the command runs,
 * and each chunk of its reply as a sent packet after.
 */
export function runFourLetterWord(s: ZkServer, word: string, allowed = true): string {
  s.packetsReceived++
  const out = allowed ? fourLetterText(s, word) : `${word} is not executed because it is not in the whitelist.\n`
  s.packetsSent += Math.ceil(out.length / REPLY_CHUNK)
  return out
}

/** Apache's AbstractFourLetterCommand.ZK_NOT_SERVING. */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests'

function fourLetterText(s: ZkServer, word: string): string {
  if (!s.serving && word !== 'ruok' && word !== 'envi') return word === 'isro' ? 'null' : `${ZK_NOT_SERVING}\n`
  switch (word) {
    case 'ruok': return 'imok'
    case 'isro': return 'rw'
    case 'srvr': case 'stat': {
      let out = `Zookeeper version: ${FULL_VERSION}\n`
      if (word === 'stat') {
        out += 'Clients:\n'
        for (const c of s.connections) out += ' ' + connLine(c, true) + '\n'
        out += '\n'
      }
      out += `Latency min/avg/max: ${minLatency(s)}/${avgLatency(s)}/${s.maxLatency}\n`
      out += `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${s.connections.size}\n`
      out += `Outstanding: ${outstanding(s)}\nZxid: ${hex(s.zxid)}\nMode: ${s.mode}\nNode count: ${nodeCount(s)}\n`
      if (s.mode === 'leader' && s.quorumInfo !== null) {
        const p = s.quorumInfo.proposalSizeStats()
        out += `Proposal sizes last/min/max: ${p ? `${p.last}/${p.min}/${p.max}` : '-1/-1/-1'}\n`
      }
      return out
    }
    case 'mntr': return monitor(s).map(([k, v]) => `zk_${k}\t${v}\n`).join('')
    case 'conf': {
      // An ensemble member adds its quorum settings and the current configuration.
      const q = quorumView(s)
      return configuration(s).map(([k, v]) => `${k}=${v}\n`).join('') + (q !== null ? quorumConfLines(q, s.config) : '')
    }
    case 'cons': {
      let out = ''
      for (const c of s.connections) out += ' ' + connLine(c, false) + '\n'
      return out + '\n'
    }
    case 'crst': resetConnectionStats(s); return 'Connection stats reset.\n'
    case 'srst': resetServerStats(s); return 'Server stats reset.\n'
    case 'envi': return 'Environment:\n' + environment().map(([k, v]) => `${k}=${v}\n`).join('')
    case 'wchs': {
      const w = watchSummary(s)
      return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.total}\n`
    }
    case 'wchc': {
      let out = ''
      for (const [id, paths] of watchesBySessionMap(s)) out += `${hex(id)}\n` + paths.map(p => `\t${p}\n`).join('')
      return out + '\n'
    }
    case 'wchp': {
      let out = ''
      for (const [p, ids] of watchesByPathMap(s)) out += `${p}\n` + ids.map(i => `\t${hex(i)}\n`).join('')
      return out + '\n'
    }
    case 'dump': return dumpText(s)
    case 'dirs': return `datadir_size: ${dirSize(s.snapDir)}\nlogdir_size: ${dirSize(s.logDir)}\n`
    default: return ''
  }
}
