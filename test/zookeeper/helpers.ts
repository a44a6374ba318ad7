// Helpers for the ZooKeeper tests: kafkit's server in-process, Apache ZooKeeper 3.8 (the
// Debian package) as a child process, and a promise-based node-zookeeper-client wrapper.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync, mkdirSync} from 'node:fs'
import {createConnection} from 'node:net'
import {join} from 'node:path'
import {createRequire} from 'node:module'
import {startZooKeeperServer, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {defaultZkConfig, type ZkConfig} from '../../src/core/config/zk-config.js'
import {setLogSink} from '../../src/core/util/log.js'
import {freePort, tempDir, removeDir, waitFor} from '../helpers/util.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const zookeeper: any = createRequire(import.meta.url)('node-zookeeper-client')

/** Server log lines, kept for assertions instead of being printed. */
export const logLines: string[] = []
setLogSink(line => {
  logLines.push(line)
  if (logLines.length > 5000) logLines.splice(0, 1000)
})

export interface KafkitZk extends RunningZooKeeper {
  dir: string
  config: ZkConfig
  cleanup(): Promise<void>
}

export async function startKafkitZk(over: Partial<ZkConfig> = {}, dir = tempDir('kafkit-zk-')): Promise<KafkitZk> {
  const config = defaultZkConfig({dataDir: dir, dataLogDir: dir, clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 500, fourLetterWords: '*', ...over})
  const running = await startZooKeeperServer(config)
  return {
    ...running,
    dir,
    config,
    async cleanup() {
      await running.stop()
      removeDir(dir)
    },
  }
}

/** A JAAS file for the security tests: Server users kafka and admin, Client kafka. */
export const JAAS = `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_kafka="kafka-secret"
  user_admin="admin-secret";
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="kafka"
  password="kafka-secret";
};
`

// ---- Apache ZooKeeper 3.8 from the Debian package ----

const ZK_JAR = '/usr/share/java/zookeeper.jar'
const LOG_JAR = '/usr/share/java/slf4j-nop.jar'
/** Netty's codec: the secure client port (NettyServerCnxnFactory) needs it and Debian's jar manifest does not name it. */
const NETTY_CODEC_JAR = '/usr/share/java/netty-codec.jar'

export function requireApacheZk(): void {
  if (!existsSync(ZK_JAR)) throw new Error(`Apache ZooKeeper is not installed (${ZK_JAR} missing): run ../shared/tools/install-peers (Debian package zookeeper)`)
  if (spawnSync('java', ['-version']).status !== 0) throw new Error('java is not installed: run ../shared/tools/install-peers')
}

export interface ApacheZk {
  port: number
  dir: string
  child: ChildProcess
  startMs: number
  stop(): Promise<void>
}

export function fourLetter(port: number, word: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({host: '127.0.0.1', port})
    let out = ''
    const t = setTimeout(() => { s.destroy(); reject(new Error(`${word}: timeout`)) }, timeoutMs)
    s.on('connect', () => s.write(word))
    s.on('data', d => { out += d.toString() })
    s.on('end', () => { clearTimeout(t); resolve(out) })
    s.on('error', e => { clearTimeout(t); reject(e) })
  })
}

export async function startApacheZk(extra: Record<string, string> = {}, jvmFlags: string[] = []): Promise<ApacheZk> {
  return startApacheZkOn(null, extra, jvmFlags)
}

/** Apache ZooKeeper on a given dataDir (kept afterwards), or on a fresh temp one (removed); jvmFlags such as -Djava.security.auth.login.config=... */
export async function startApacheZkOn(dataDir: string | null, extra: Record<string, string> = {}, jvmFlags: string[] = []): Promise<ApacheZk> {
  requireApacheZk()
  const dir = tempDir('apache-zk-')
  const port = await freePort()
  mkdirSync(join(dir, 'data'), {recursive: true})
  const cfg = {dataDir: dataDir ?? join(dir, 'data'), clientPort: String(port), clientPortAddress: '127.0.0.1', tickTime: '500', 'admin.enableServer': 'false', '4lw.commands.whitelist': '*', ...extra}
  writeFileSync(join(dir, 'zoo.cfg'), Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')
  const t0 = Date.now()
  const child = spawn('java', ['-Xmx512m', '-Dzookeeper.extendedTypesEnabled=true', ...jvmFlags, '-cp', `${ZK_JAR}:${LOG_JAR}:${NETTY_CODEC_JAR}`, 'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', d => { output += d })
  child.stderr!.on('data', d => { output += d })
  const exited = new Promise<void>(r => child.on('exit', () => r()))
  try {
    await waitFor(async () => (await fourLetter(port, 'srvr').catch(() => '')).includes('Mode: standalone'), 30000, `Apache ZooKeeper on port ${port} (${output.slice(-500)})`, 50)
  } catch (e) {
    child.kill('SIGKILL')
    removeDir(dir)
    throw e
  }
  const startMs = Date.now() - t0
  return {
    port, dir, child, startMs,
    async stop() {
      child.kill('SIGKILL')
      await exited
      removeDir(dir)
    },
  }
}

// ---- node-zookeeper-client, promisified ----

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Client = any

export interface Zk {
  client: Client
  call<T = unknown[]>(method: string, ...args: unknown[]): Promise<T>
  close(): void
}

export async function connect(port: number, opts: {sessionTimeout?: number; sessionId?: Buffer; sessionPassword?: Buffer} = {}): Promise<Zk> {
  const client = zookeeper.createClient(`127.0.0.1:${port}`, {sessionTimeout: opts.sessionTimeout ?? 6000, retries: 0})
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connected', () => resolve())
    client.once('expired', () => reject(new Error('session expired')))
    client.once('authenticationFailed', () => reject(new Error('authentication failed')))
  })
  client.connect()
  await waitFor(() => connected.then(() => true), 10000, `connect to 127.0.0.1:${port}`)
  await connected
  return {
    client,
    call<T>(method: string, ...args: unknown[]): Promise<T> {
      return new Promise((resolve, reject) => {
        ;(client as unknown as Record<string, (...a: unknown[]) => void>)[method](...args, (err: Error | null, ...rest: unknown[]) => {
          if (err) reject(err)
          else resolve(rest as T)
        })
      })
    },
    close() { client.close() },
  }
}

export function errCode(e: unknown): number {
  return typeof (e as {getCode?: () => number}).getCode === 'function' ? (e as {getCode(): number}).getCode() : NaN
}

/** Stat buffers from node-zookeeper-client as plain numbers. */
export function statOf(s: Record<string, unknown>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  for (const k of ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid']) {
    const v = s[k]
    out[k] = Buffer.isBuffer(v) ? (k === 'ephemeralOwner' ? v.toString('hex') : Number(v.readBigInt64BE())) : (v as number)
  }
  return out
}

export {freePort, tempDir, removeDir, waitFor}
