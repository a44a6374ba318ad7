// The AdminServer: HTTP GET /commands/<name> answering JSON, as Apache ZooKeeper's Jetty
// AdminServer does (admin.enableServer, admin.serverPort, admin.serverAddress).
import {createServer, type Server} from 'node:http'
import type {ZkServer, Connection} from './server.js'
import {serverStats, monitor, configuration, environment, runFourLetterWord} from './fourletter.js'

const NAMES: Record<string, string> = {
  ruok: 'ruok', server_stats: 'srvr', srvr: 'srvr', stats: 'stat', stat: 'stat', monitor: 'mntr', mntr: 'mntr',
  configuration: 'conf', conf: 'conf', config: 'conf', connections: 'cons', cons: 'cons', environment: 'envi', envi: 'envi',
  env: 'envi', watch_summary: 'wchs', wchs: 'wchs', watches: 'wchc', wchc: 'wchc', watches_by_path: 'wchp', wchp: 'wchp',
  dump: 'dump', dirs: 'dirs', is_read_only: 'isro', isro: 'isro',
}

function commandJson(s: ZkServer, word: string, name: string): Record<string, unknown> {
  const base = {command: name, error: null as string | null}
  switch (word) {
    case 'ruok': return base
    case 'srvr': case 'stat': return {...base, ...serverStats(s)}
    case 'mntr': return {...base, ...Object.fromEntries(monitor(s).map(([k, v]) => [k.replace(/^zk_/, ''), v]))}
    case 'conf': return {...base, ...Object.fromEntries(configuration(s).map(([k, v]) => [k.replace(/[A-Z]/g, c => '_' + c.toLowerCase()), v]))}
    case 'cons': return {...base, connections: [...s.connections].map((c: Connection) => ({
      remote_socket_address: `${c.remote}:${c.remotePort}`, interest_ops: 1, outstanding_requests: c.queue.length,
      packets_received: c.recved, packets_sent: c.sent,
      session_id: c.session ? '0x' + BigInt.asUintN(64, c.session.id).toString(16) : null, last_operation: c.lastOp,
    }))}
    case 'envi': return {...base, environment: environment().map(([k, v]) => ({[k]: v}))}
    case 'wchs': return {...base, text: runFourLetterWord(s, 'wchs')}
    case 'wchc': return {...base, text: runFourLetterWord(s, 'wchc')}
    case 'wchp': return {...base, text: runFourLetterWord(s, 'wchp')}
    case 'dump': return {...base, text: runFourLetterWord(s, 'dump')}
    case 'dirs': return {...base, datadir_size: serverStats(s).server_stats && (serverStats(s).server_stats as {data_dir_size: number}).data_dir_size, logdir_size: (serverStats(s).server_stats as {log_dir_size: number}).log_dir_size}
    case 'isro': return {...base, read_only: false}
    default: return {...base, error: `Unknown command: ${name}`}
  }
}

export async function startAdminServer(zk: ZkServer, port: number, address: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const m = /^\/commands\/?([A-Za-z_]*)$/.exec(url.pathname)
    let status = 200
    let body: unknown
    if (!m) {
      status = 404
      body = {error: `Unknown path ${url.pathname}`}
    } else if (m[1] === '') {
      body = Object.keys(NAMES).map(n => `/commands/${n}`)
    } else {
      const word = NAMES[m[1]]
      if (!word) { status = 404; body = {command: m[1], error: `Unknown command: ${m[1]}`} }
      else body = commandJson(zk, word, m[1])
    }
    res.writeHead(status, {'Content-Type': 'application/json'})
    res.end(JSON.stringify(body, null, 2) + '\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'EADDRINUSE' ? `AdminServer port ${port} is already in use (admin.serverPort; set admin.enableServer=false to turn it off)` : `AdminServer cannot listen on ${address}:${port}: ${e.message}`)))
    server.listen(port, address, () => resolve())
  })
  return server
}
