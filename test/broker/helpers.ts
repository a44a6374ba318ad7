// Test helpers for the broker: Apache ZooKeeper 3.8 plus kafkit brokers started the way a
// user starts them (bin/kafka-server-start.js with --override), on free ports, with temp
// log dirs; and small runners for kcat and the python clients.
import {spawn} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {freePort, removeDir, startCommand, tempDir, repoRoot, waitFor, type Proc} from '../helpers/util.js'
import {startApacheZooKeeper, type ApacheZooKeeper} from '../cluster/zk-helper.js'

export {startApacheZooKeeper}
export type {ApacheZooKeeper}

export const pyDir = join(repoRoot, 'test', 'broker', 'py')
export const PYTHON = '/usr/bin/python3'
export const KCAT = '/usr/bin/kcat'

export interface BrokerProc {
  proc: Proc
  port: number
  bootstrap: string
  logDir: string
  configFile: string
  dir: string
  restart(): Promise<void>
  stop(signal?: NodeJS.Signals): Promise<number | null>
  cleanup(): Promise<void>
}

/** Starts `kafka-server-start <cfg> --override ...` against ZooKeeper and waits for "started". */
export async function startBrokerProc(zkConnect: string, overrides: string[] = [], opts: {port?: number; dir?: string; env?: NodeJS.ProcessEnv} = {}): Promise<BrokerProc> {
  const dir = opts.dir ?? tempDir('kafkit-broker-')
  const logDir = join(dir, 'logs')
  let port = opts.port ?? await freePort()
  const configFile = join(dir, 'server.properties')
  writeFileSync(configFile, [
    'broker.id=0',
    `log.dirs=${logDir.replace(/\\/g, '/')}`,
    `zookeeper.connect=${zkConnect}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    '',
  ].join('\n'))
  const args = () => [configFile, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, ...overrides.flatMap(o => ['--override', o])]
  const env = {KAFKIT_RUN_DIR: join(dir, 'run'), ...opts.env}
  const b: BrokerProc = {
    proc: startCommand('kafka-server-start', args(), env),
    port,
    bootstrap: `127.0.0.1:${port}`,
    logDir,
    configFile,
    dir,
    async restart() {
      await b.proc.stop('SIGTERM')
      b.proc = startCommand('kafka-server-start', args(), env)
      await waitForStart(b.proc)
    },
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return b.proc.stop(signal)
    },
    async cleanup() {
      await b.proc.stop('SIGKILL')
      removeDir(dir)
    },
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await waitForStart(b.proc)
      return b
    } catch (error) {
      // The port was taken between freePort() and the bind: another one, when the test let us choose.
      if (opts.port === undefined && attempt < 3 && /failed to bind/.test(b.proc.output)) {
        await b.proc.stop('SIGKILL')
        b.port = await freePort()
        b.bootstrap = `127.0.0.1:${b.port}`
        port = b.port
        b.proc = startCommand('kafka-server-start', args(), env)
        continue
      }
      await b.cleanup()
      throw error
    }
  }
}

/** Waits for the broker's "started" line; fails at once (with its output) if it exits first. */
export async function waitForStart(proc: Proc, timeoutMs = 30000): Promise<void> {
  let exitCode: number | null | undefined
  void proc.exited.then(c => { exitCode = c })
  await waitFor(() => {
    if (proc.output.includes('started (kafka.server.KafkaServer)')) return true
    if (exitCode !== undefined) throw new Error(`kafka-server-start exited with ${exitCode} before starting: ${proc.output.slice(-2000)}`)
    return false
  }, timeoutMs, `kafka-server-start to start (pid ${proc.child.pid}, output so far: ${JSON.stringify(proc.output.slice(-500))})`)
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a program with optional stdin and a deadline. */
export function exec(cmd: string, args: string[], opts: {input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv} = {}): Promise<ExecResult> {
  if (!existsSync(cmd)) return Promise.reject(new Error(`${cmd} is not installed (run /work/shared/tools/install-peers)`))
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, ...opts.env}})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60000} ms; stderr: ${Buffer.concat(err).toString().slice(-2000)}`))
    }, opts.timeoutMs ?? 60000)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()})
    })
    child.stdin.on('error', () => {})
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
}

export function python(script: string, args: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<ExecResult> {
  return exec(PYTHON, [join(pyDir, script), ...args], opts)
}

export const here = dirname(fileURLToPath(import.meta.url))
