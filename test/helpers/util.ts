// Shared test helpers: free ports, waiting for a condition with a deadline (never a fixed
// sleep), running kafkit's commands exactly as a user types them, and managing servers.
import {spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The checkout's root (test files run from dist/test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const binDir = join(repoRoot, 'bin')

/** Servers started by tests register here, never in the user's run dir: a test's
 *  kafka-server-stop must not stop a broker the user is running (tests may still pass their own). */
export const testRunDir = join(tmpdir(), `kafkit-test-run-${process.pid}`)

// Every port this process has handed out. A test asks for several ports before any server
// binds them, so "free right now" is not enough: two calls could draw the same port (over a
// few hundred tests, the birthday problem made CI fail once, a ZooKeeper clientPort equal to
// another server's port). No port is handed out twice in one process.
const handedOut = new Set<number>()

/**
 * A port that was free a moment ago, for a server a test starts next, and that this process
 * has not handed out before. Taken at random from 20000-32767, below the ranges operating
 * systems hand out for outgoing connections and port 0 (Linux 32768-60999, Windows
 * 49152-65535): another process's listen(0) or connect() never takes it in between, and
 * concurrent test processes pick it together only by a 1-in-12768 chance, which starters that
 * retry on EADDRINUSE (startBrokerProc) absorb.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12768)
    if (handedOut.has(port)) continue
    handedOut.add(port)
    const ok = await new Promise<boolean>(res => {
      const s = createServer()
      s.once('error', () => res(false))
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)))
    })
    if (ok) return port
    if (attempt > 50) throw new Error('no free port found in 20000-32767')
  }
}

export function tempDir(prefix = 'kafkit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeDir(dir: string): void {
  rmSync(dir, {recursive: true, force: true, maxRetries: 5})
}

/** Polls fn until it returns a truthy value or throws after timeoutMs. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10000, what = 'condition', intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
    await new Promise(r => setTimeout(r, intervalMs))
  }
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node bin/<script>.js args...` (the installed command's shim) and collects output. */
export function runCommand(script: string, args: string[], opts: {input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string} = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(binDir, `${script}.js`), ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: {...process.env, KAFKIT_RUN_DIR: testRunDir, ...opts.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${script} ${args.join(' ')} timed out; stderr: ${Buffer.concat(err).toString()}`)) }, opts.timeoutMs ?? 60000)
    child.on('error', rej)
    child.on('close', code => {
      clearTimeout(timer)
      res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()})
    })
    child.stdin.on('error', () => {})
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
}

/** A long-running child process whose combined output is kept for assertions. */
export class Proc {
  output = ''
  exited: Promise<number | null>
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', d => { this.output += d.toString() })
    child.stderr?.on('data', d => { this.output += d.toString() })
    this.exited = new Promise(r => child.on('exit', code => r(code)))
  }

  waitForOutput(pattern: RegExp | string, timeoutMs = 15000): Promise<true> {
    return waitFor(() => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output)) || undefined, timeoutMs, `output ${pattern} (got: ${this.output.slice(-2000)})`) as Promise<true>
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode
    this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }
}

/** Starts `node bin/<script>.js args...` in the background. */
export function startCommand(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [join(binDir, `${script}.js`), ...args], {
    cwd: repoRoot,
    env: {...process.env, KAFKIT_RUN_DIR: testRunDir, ...env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return new Proc(child)
}
