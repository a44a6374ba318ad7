// Four-letter words (ruok, srvr, stat, mntr, ...): the text Apache ZooKeeper answers, and
// the same facts as JSON for the AdminServer's /commands/<name>.
import {hostname, platform, arch, release, userInfo, homedir} from 'node:os'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {FOUR_LETTER_WORDS} from '../config/zk-config.js'
import type {ZkServer, Connection} from './server.js'

const WORDS = new Map<number, string>(FOUR_LETTER_WORDS.map(w => [Buffer.from(w).readInt32BE(0), w]))

/** The four-letter word starting at pos, or null (a connection's first 4 bytes). */
export function fourLetterWordOf(buf: Buffer, pos: number): string | null {
  return WORDS.get(buf.readInt32BE(pos)) ?? null
}

const VERSION_LINE = 'Zookeeper version: 3.8.0-kafkit, built on 1970-01-01 00:00 UTC'

function hex(v: number | bigint): string {
  return '0x' + (typeof v === 'bigint' ? BigInt.asUintN(64, v) : v).toString(16)
}

function avgLatency(s: ZkServer): string {
  return s.latencyCount === 0 ? '0.0' : (s.totalLatency / s.latencyCount).toFixed(4)
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

function connLine(c: Connection, full: boolean): string {
  const base = ` ${c.describe}[1](queued=${c.queue.length},recved=${c.recved},sent=${c.sent}`
  if (!full) return base + ')'
  const sid = c.session ? hex(c.session.id) : '0x0'
  return `${base},sid=${sid},lop=${c.lastOp},est=${c.established},to=${c.session?.timeout ?? 0},lcxid=${hex(Math.max(0, c.lastCxid))},lzxid=${hex(c.server.zxid)},lresp=${Date.now()},llat=0,minlat=0,avglat=0,maxlat=0)`
}

export function serverStats(s: ZkServer): Record<string, unknown> {
  return {
    version: '3.8.0-kafkit',
    read_only: false,
    server_stats: {
      packets_sent: s.packetsSent,
      packets_received: s.packetsReceived,
      max_latency: s.maxLatency,
      min_latency: s.latencyCount ? s.minLatency : 0,
      avg_latency: Number(avgLatency(s)),
      num_alive_client_connections: s.connections.size,
      outstanding_requests: outstanding(s),
      server_state: 'standalone',
      last_processed_zxid: s.zxid,
      data_dir_size: dirSize(s.snapDir),
      log_dir_size: dirSize(s.logDir),
    },
    node_count: s.tree.nodes.size,
  }
}

export function monitor(s: ZkServer): Array<[string, string | number]> {
  let ephemerals = 0
  for (const set of s.tree.ephemerals.values()) ephemerals += set.size
  return [
    ['zk_version', '3.8.0-kafkit'],
    ['zk_server_state', 'standalone'],
    ['zk_avg_latency', avgLatency(s)],
    ['zk_max_latency', s.maxLatency],
    ['zk_min_latency', s.latencyCount ? s.minLatency : 0],
    ['zk_packets_received', s.packetsReceived],
    ['zk_packets_sent', s.packetsSent],
    ['zk_num_alive_connections', s.connections.size],
    ['zk_outstanding_requests', outstanding(s)],
    ['zk_znode_count', s.tree.nodes.size],
    ['zk_watch_count', s.watches.count()],
    ['zk_ephemerals_count', ephemerals],
    ['zk_approximate_data_size', s.tree.approximateDataSize()],
    ['zk_open_file_descriptor_count', s.connections.size + 3],
    ['zk_global_sessions', s.sessions.sessions.size],
    ['zk_last_proposal_size', -1],
    ['zk_uptime', Date.now() - s.startedAt],
  ]
}

export function configuration(s: ZkServer): Array<[string, string | number]> {
  const c = s.config
  return [
    ['clientPort', s.port],
    ['secureClientPort', -1],
    ['dataDir', s.snapDir],
    ['dataDirSize', dirSize(s.snapDir)],
    ['dataLogDir', s.logDir],
    ['dataLogSize', dirSize(s.logDir)],
    ['tickTime', c.tickTime],
    ['maxClientCnxns', c.maxClientCnxns],
    ['minSessionTimeout', c.minSessionTimeout],
    ['maxSessionTimeout', c.maxSessionTimeout],
    ['clientPortListenBacklog', -1],
    ['serverId', 0],
  ]
}

function watchesByConnection(s: ZkServer): string {
  let out = ''
  for (const c of s.connections) {
    const i = c.watchIndex
    if (i.size() === 0 || !c.session) continue
    out += `${hex(c.session.id)}\n`
    for (const p of new Set([...i.data, ...i.child, ...i.persistent, ...i.recursive])) out += `\t${p}\n`
  }
  return out
}

function watchesByPath(s: ZkServer): string {
  const byPath = new Map<string, Set<string>>()
  for (const t of [s.watches.data, s.watches.child, s.watches.persistent, s.watches.recursive]) {
    for (const [p, set] of t) {
      let ids = byPath.get(p)
      if (!ids) byPath.set(p, (ids = new Set()))
      for (const w of set) {
        const c = w as Connection
        if (c.session) ids.add(hex(c.session.id))
      }
    }
  }
  let out = ''
  for (const [p, ids] of byPath) out += `${p}\n` + [...ids].map(i => `\t${i}\n`).join('')
  return out
}

export function runFourLetterWord(s: ZkServer, word: string): string {
  switch (word) {
    case 'ruok': return 'imok'
    case 'isro': return 'rw'
    case 'srvr': case 'stat': {
      let out = VERSION_LINE + '\n'
      if (word === 'stat') {
        out += 'Clients:\n'
        for (const c of s.connections) out += connLine(c, false) + '\n'
        out += '\n'
      }
      out += `Latency min/avg/max: ${s.latencyCount ? s.minLatency : 0}/${avgLatency(s)}/${s.maxLatency}\n`
      out += `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${s.connections.size}\n`
      out += `Outstanding: ${outstanding(s)}\nZxid: ${hex(s.zxid)}\nMode: standalone\nNode count: ${s.tree.nodes.size}\n`
      return out
    }
    case 'mntr': return monitor(s).map(([k, v]) => `${k}\t${v}\n`).join('')
    case 'conf': return configuration(s).map(([k, v]) => `${k}=${v}\n`).join('')
    case 'cons': {
      let out = ''
      for (const c of s.connections) out += connLine(c, true) + '\n'
      return out + '\n'
    }
    case 'crst': {
      for (const c of s.connections) { c.recved = 0; c.sent = 0 }
      return 'Connection stats reset.\n'
    }
    case 'srst': {
      s.packetsReceived = s.packetsSent = 0
      s.minLatency = Infinity
      s.maxLatency = s.totalLatency = s.latencyCount = 0
      return 'Server stats reset.\n'
    }
    case 'envi': return 'Environment:\n' + environment().map(([k, v]) => `${k}=${v}\n`).join('')
    case 'wchs': {
      let watching = 0
      for (const c of s.connections) if (c.watchIndex.size() > 0) watching++
      return `${watching} connections watching ${s.watches.paths()} paths\nTotal watches:${s.watches.count()}\n`
    }
    case 'wchc': return watchesByConnection(s)
    case 'wchp': return watchesByPath(s)
    case 'dump': {
      let out = `SessionTracker dump:\nGlobal Sessions(${s.sessions.sessions.size}):\n`
      for (const sess of s.sessions.sessions.values()) out += `${hex(sess.id)}\t${sess.timeout}ms\n`
      out += `ephemeral nodes dump:\nSessions with Ephemerals (${s.tree.ephemerals.size}):\n`
      for (const [id, paths] of s.tree.ephemerals) out += `${hex(id)}:\n` + [...paths].sort().map(p => `\t${p}\n`).join('')
      out += 'Connections dump:\n'
      for (const c of s.connections) if (c.session) out += `${c.describe}: ${hex(c.session.id)}\n`
      return out
    }
    case 'dirs': return `datadir_size: ${dirSize(s.snapDir)}\nlogdir_size: ${dirSize(s.logDir)}\n`
    default: return ''
  }
}

export function environment(): Array<[string, string]> {
  let user = ''
  try { user = userInfo().username } catch { /* none */ }
  return [
    ['zookeeper.version', '3.8.0-kafkit'],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['os.name', platform()],
    ['os.arch', arch()],
    ['os.version', release()],
    ['user.name', user],
    ['user.home', homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.round((process.memoryUsage().heapTotal - process.memoryUsage().heapUsed) / 1048576)}MB`],
    ['os.memory.total', `${Math.round(process.memoryUsage().rss / 1048576)}MB`],
  ]
}

export {watchesByConnection, watchesByPath}
