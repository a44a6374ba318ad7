// The AdminServer: HTTP GET /commands/<name> answering JSON shaped as Apache ZooKeeper
// 3.8's Jetty AdminServer answers (admin.enableServer, admin.serverPort,
// admin.serverAddress): the same command names and aliases, key order, Jackson's pretty
// printing, an HTML index at /commands, "Unknown command" as a 200 JSON reply, and Jetty's
// 404/405 for other paths and methods.
import {createServer, type Server, type ServerResponse} from 'node:http'
import {readFileSync} from 'node:fs'
import type {ZkServer} from './server.js'
import {quorumView, ownServer} from './quorum/view.js'
import {
  JDouble, type JMap, type JValue, serverStats, connectionInfos, monitor, configurationMap, environment, dumpMap,
  watchesMap, watchesByPathJson, watchSummaryMap, dirsMap, lastSnapshot, resetConnectionStats, resetServerStats,
} from './fourletter.js'

/** Primary name, then aliases (Apache's Commands registry). */
const COMMANDS: string[][] = [
  ['connection_stat_reset', 'crst'], ['configuration', 'conf', 'config'], ['connections', 'cons'], ['hash'],
  ['dirs'], ['dump'], ['environment', 'env', 'envi'], ['get_trace_mask', 'gtmk'], ['initial_configuration', 'icfg'],
  ['is_read_only', 'isro'], ['last_snapshot', 'lsnp'], ['leader', 'lead'], ['monitor', 'mntr'],
  ['observer_connection_stat_reset', 'orst'], ['ruok'], ['set_trace_mask', 'stmk'], ['server_stats', 'srvr'],
  ['stats', 'stat'], ['stat_reset', 'srst'], ['observers', 'obsr'], ['system_properties', 'sysp'], ['voting_view'],
  ['watches', 'wchc'], ['watches_by_path', 'wchp'], ['watch_summary', 'wchs'], ['zabstate'],
]
const PRIMARY = new Map<string, string>()
for (const names of COMMANDS) for (const n of names) PRIMARY.set(n, names[0])

const DEFAULT_TRACE_MASK = 306n
let traceMask = DEFAULT_TRACE_MASK

// ---------------------------------------------------------------- Jackson's pretty printer

function str(s: string): string {
  return JSON.stringify(s)
}

/** Jackson's DefaultPrettyPrinter: 2-space objects, inline arrays "[ a, b ]", "{ }", "[ ]". */
export function jacksonPretty(v: JValue, indent = ''): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return str(v)
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : new JDouble(v).toString()
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  if (v instanceof JDouble) return v.toString()
  if (Array.isArray(v)) {
    if (v.length === 0) return '[ ]'
    return '[ ' + v.map(x => jacksonPretty(x, indent)).join(', ') + ' ]'
  }
  if (v.size === 0) return '{ }'
  const inner = indent + '  '
  const parts: string[] = []
  for (const [k, x] of v) parts.push(`${inner}${str(k)} : ${jacksonPretty(x, inner)}`)
  return '{\n' + parts.join(',\n') + '\n' + indent + '}'
}

// ---------------------------------------------------------------- commands

function systemProperties(): JMap {
  const m: JMap = new Map()
  const entries = environment().filter(([k]) => !k.startsWith('zookeeper.') && !k.startsWith('os.memory.') && k !== 'host.name')
  entries.push(['file.separator', process.platform === 'win32' ? '\\' : '/'], ['line.separator', process.platform === 'win32' ? '\r\n' : '\n'])
  for (const [k, v] of entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) m.set(k, v)
  return m
}

function initialConfiguration(zk: ZkServer): string {
  try { return readFileSync(zk.config.source, 'utf8') } catch { return '' }
}

/** The command's data entries (before "command" and "error"), or an error message. */
function run(zk: ZkServer, name: string, args: URLSearchParams): {data: JMap; error: string | null} {
  const data: JMap = new Map()
  const put = (m: JMap) => { for (const [k, v] of m) data.set(k, v) }
  switch (name) {
    case 'connection_stat_reset': resetConnectionStats(zk); break
    case 'configuration': put(configurationMap(zk)); break
    case 'connections':
      data.set('connections', connectionInfos(zk, false))
      data.set('secure_connections', [])
      break
    case 'hash': data.set('digests', []); break
    case 'dirs': put(dirsMap(zk)); break
    case 'dump': put(dumpMap(zk)); break
    case 'environment': for (const [k, v] of environment()) data.set(k, v); break
    case 'get_trace_mask': data.set('tracemask', traceMask); break
    case 'initial_configuration': data.set('initial_configuration', initialConfiguration(zk)); break
    case 'is_read_only': data.set('read_only', false); break
    case 'last_snapshot': put(lastSnapshot(zk)); break
    case 'leader': {
      const q = zk.peer
      if (q === null || !zk.serving) return {data, error: 'server is not initialized'}
      data.set('is_leader', zk.mode === 'leader')
      data.set('leader_id', q.leaderId())
      data.set('leader_ip', q.leaderHost())
      break
    }
    case 'monitor': for (const [k, v] of monitor(zk)) data.set(k, v); break
    case 'observer_connection_stat_reset': break
    case 'ruok': break
    case 'set_trace_mask': {
      const raw = args.get('traceMask')
      if (raw === null) return {data, error: 'setTraceMask requires long traceMask argument'}
      if (!/^[+-]?\d+$/.test(raw)) return {data, error: `setTraceMask requires long traceMask argument, got ${raw}`}
      traceMask = BigInt.asIntN(64, BigInt(raw))
      data.set('tracemask', traceMask)
      break
    }
    case 'server_stats': put(serverStats(zk)); break
    case 'stats': put(serverStats(zk, true)); break
    case 'stat_reset': resetServerStats(zk); break
    case 'observers': {
      // A leader lists its synced observers (Apache's LearnerHandler info); a follower without
      // observerMasterPort, an observer or a standalone server none.
      const obs = zk.mode === 'leader' && zk.quorumInfo !== null ? zk.quorumInfo.observerInfos() : []
      data.set('synced_observers', obs.length)
      data.set('observers', obs.map(o => new Map<string, JValue>([
        ['remote_socket_address', o.remote], ['sid', o.sid], ['established', o.established], ['queued_packets', o.queuedPackets],
        ['queued_packets_size', o.queuedPacketsSize], ['packets_received', o.packetsReceived], ['packets_sent', o.packetsSent],
        ['requests', o.requests], ['last_zxid', o.lastZxid],
      ])))
      break
    }
    case 'system_properties': put(systemProperties()); break
    case 'voting_view': {
      const view: JMap = new Map()
      if (zk.peer !== null && zk.serving) {
        // QuorumPeer.getVotingView: the voters of the current (committed) configuration.
        const q = quorumView(zk)
        for (const v of (q?.qv.members ?? zk.config.quorumServers).filter(x => x.type === 'participant')) {
          const host = (h: string) => h.includes(':') ? `[${h}]` : h
          view.set(String(v.id), new Map<string, JValue>([
            ['serverAddresses', [`${host(v.host)}:${v.quorumPort}`]],
            ['electionAddresses', [`${host(v.host)}:${v.electionPort}`]],
            ['clientAddress', v.id === zk.config.serverId ? `${host(zk.config.clientPortAddress)}:${zk.port}` : v.clientPort !== undefined ? `${host(v.clientAddress ?? '0.0.0.0')}:${v.clientPort}` : ''],
            ['learnerType', 'participant'],
          ]))
        }
      }
      data.set('current_config', view)
      break
    }
    case 'watches': put(watchesMap(zk)); break
    case 'watches_by_path': put(watchesByPathJson(zk)); break
    case 'watch_summary': put(watchSummaryMap(zk)); break
    case 'zabstate': {
      const q = zk.peer
      if (q === null || !zk.serving) {
        data.set('voting', false)
        data.set('zabstate', '')
        break
      }
      const view = quorumView(zk)
      const me = view !== null ? ownServer(view) : zk.config.quorumServers.find(x => x.id === zk.config.serverId)!
      const z = zk.zxid
      data.set('myid', zk.config.serverId)
      data.set('is_leader', zk.mode === 'leader')
      data.set('quorum_address', `${me.host}:${me.quorumPort}`)
      data.set('election_address', `${me.host}:${me.electionPort}`)
      data.set('client_address', `${zk.config.clientPortAddress}:${zk.port}`)
      data.set('voting', view !== null ? view.qv.isVoter(view.myId) : me.type === 'participant')
      data.set('last_zxid', `0x${z.toString(16)}`)
      data.set('zab_epoch', Math.floor(z / 4294967296))
      data.set('zab_counter', z % 4294967296)
      data.set('zabstate', 'broadcast')
      break
    }
  }
  return {data, error: null}
}

/** The JSON body for /commands/<name> (exported for tests). */
export function commandResponse(zk: ZkServer, name: string, args = new URLSearchParams()): string {
  const primary = PRIMARY.get(name)
  if (!primary) return jacksonPretty(new Map<string, JValue>([['command', name], ['error', `Unknown command: ${name}`]]))
  const {data, error} = run(zk, primary, args)
  // A command reporting its own error puts it among its data, before "command" (leader,
  // set_trace_mask); otherwise "command" and "error": null close the map.
  if (error !== null) data.set('error', error)
  data.set('command', primary)
  if (error === null) data.set('error', null)
  return jacksonPretty(data)
}

function indexPage(): string {
  return [...new Set(COMMANDS.map(n => n[0]))].sort().map(n => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join('')
}

function jettyError(res: ServerResponse, status: number, message: string, uri: string): void {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const body = '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n' +
    `<title>Error ${status} ${esc(message)}</title>\n</head>\n<body><h2>HTTP ERROR ${status} ${esc(message)}</h2>\n<table>\n` +
    `<tr><th>URI:</th><td>${esc(uri)}</td></tr>\n<tr><th>STATUS:</th><td>${status}</td></tr>\n` +
    `<tr><th>MESSAGE:</th><td>${esc(message)}</td></tr>\n</table>\n\n</body>\n</html>\n`
  res.writeHead(status, {'Content-Type': 'text/html;charset=iso-8859-1', 'Cache-Control': 'must-revalidate,no-cache,no-store'})
  res.end(body)
}

export async function startAdminServer(zk: ZkServer, port: number, address: string): Promise<Server> {
  const server = createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const path = url.pathname
      if (path !== '/commands' && !path.startsWith('/commands/')) return jettyError(res, 404, 'Not Found', path)
      if (req.method !== 'GET' && req.method !== 'HEAD') return jettyError(res, 405, `HTTP method ${req.method} is not supported by this URL`, path)
      const name = decodeURIComponent(path.slice('/commands/'.length))
      if (name === '') {
        res.writeHead(200)
        res.end(indexPage())
        return
      }
      const body = commandResponse(zk, name, url.searchParams)
      res.writeHead(200, {'Content-Type': 'application/json'})
      res.end(body)
    } catch (e) {
      // Never let a request take the server down (e.g. a malformed %-escape).
      jettyError(res, 400, `Bad Request: ${(e as Error).message}`, req.url ?? '/')
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE' ? `AdminServer port ${port} is already in use (admin.serverPort; set admin.enableServer=false to turn it off)` : `AdminServer cannot listen on ${address}:${port}: ${e.message}`)))
    server.listen(port, address, () => resolve())
  })
  return server
}
