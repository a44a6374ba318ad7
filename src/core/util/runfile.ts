// How `kafka-server-stop` and `zookeeper-server-stop` find and stop the servers started on
// this machine without ps or wmic: each server writes a run file (pid, a loopback control
// port and a token) into a per-user directory, and listens on that port for "stop <token>".
// That is a graceful stop on Windows too, where signals cannot be sent to another process.
import {createServer, createConnection, type Server} from 'node:net'
import {readdirSync, readFileSync, writeFileSync, rmSync} from 'node:fs'
import {ensureDir} from './fs.js'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'

export type ServerKind = 'kafka' | 'zookeeper'

export interface RunInfo {
  kind: ServerKind
  pid: number
  controlPort: number
  token: string
  description: string
  started: number
}

export function runDir(): string {
  if (process.env.KAFKIT_RUN_DIR) return process.env.KAFKIT_RUN_DIR
  let user = 'user'
  try { user = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_') } catch { /* no user name */ }
  return join(tmpdir(), `kafkit-${user}`)
}

export interface Registration {
  close(): Promise<void>
}

/** Writes this process's run file and serves stop requests by calling onStop. */
export async function registerServer(kind: ServerKind, description: string, onStop: () => void): Promise<Registration> {
  const token = randomBytes(16).toString('hex')
  const server: Server = createServer(socket => {
    socket.setEncoding('utf8')
    let buf = ''
    socket.on('data', chunk => {
      buf += chunk
      if (buf.length > 256) socket.destroy()
      if (!buf.includes('\n')) return
      const ok = buf.trim() === `stop ${token}`
      socket.end(ok ? 'stopping\n' : 'denied\n')
      if (ok) onStop()
    })
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  server.unref()
  const port = (server.address() as {port: number}).port
  const dir = runDir()
  ensureDir(dir)
  const file = join(dir, `${kind}-${process.pid}.json`)
  const info: RunInfo = {kind, pid: process.pid, controlPort: port, token, description, started: Date.now()}
  writeFileSync(file, JSON.stringify(info), {mode: 0o600})
  let closed = false
  return {
    async close() {
      if (closed) return
      closed = true
      rmSync(file, {force: true})
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Lists live servers of a kind, removing run files of processes that are gone. */
export function listServers(kind: ServerKind): RunInfo[] {
  const dir = runDir()
  let names: string[] = []
  try { names = readdirSync(dir) } catch { return [] }
  const out: RunInfo[] = []
  for (const name of names) {
    if (!name.startsWith(kind + '-') || !name.endsWith('.json')) continue
    const file = join(dir, name)
    try {
      const info = JSON.parse(readFileSync(file, 'utf8')) as RunInfo
      if (alive(info.pid)) out.push(info)
      else rmSync(file, {force: true})
    } catch {
      rmSync(file, {force: true})
    }
  }
  return out
}

/** Asks one server to stop; resolves true when it acknowledged. */
export function requestStop(info: RunInfo, timeoutMs = 5000): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createConnection({host: '127.0.0.1', port: info.controlPort})
    let answer = ''
    const done = (ok: boolean) => { clearTimeout(timer); socket.destroy(); resolve(ok) }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(`stop ${info.token}\n`))
    socket.on('data', d => { answer += d })
    socket.on('end', () => done(answer.startsWith('stopping')))
    socket.on('error', () => done(false))
  })
}

/** Stops every server of a kind on this machine; falls back to SIGTERM. Returns how many. */
export async function stopServers(kind: ServerKind, waitMs = 30000): Promise<number> {
  const servers = listServers(kind)
  for (const info of servers) {
    const ok = await requestStop(info)
    if (!ok) {
      try { process.kill(info.pid, 'SIGTERM') } catch { /* already gone */ }
    }
  }
  const deadline = Date.now() + waitMs
  for (const info of servers) {
    while (alive(info.pid) && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
  }
  return servers.length
}

/** Installs SIGINT/SIGTERM/SIGBREAK (Windows Ctrl-Break) handlers that call shutdown once. */
export function onShutdownSignals(shutdown: (signal: string) => void): void {
  let called = false
  const handler = (signal: string) => {
    if (called) return
    called = true
    shutdown(signal)
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGBREAK'] as const) {
    try { process.on(sig, () => handler(sig)) } catch { /* signal not supported here */ }
  }
}
