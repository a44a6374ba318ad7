// Servers for the benchmarks: a ZooKeeper (kafkit's own, or Apache's from the Kafka libs when
// kafkit's is not built), kafkit's broker and Apache Kafka 3.9's broker, each in a child
// process on free ports, with start-up time and RSS read from outside.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createConnection} from 'node:net'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, repoRoot, waitFor} from '../test/helpers/util.js'
import {KafkaConnection} from '../src/core/protocol/client.js'
import {Apis} from '../src/core/protocol/messages.js'

export const APACHE = process.env.APACHE_KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')
export const apacheInstalled = (): boolean => existsSync(join(APACHE, 'bin', 'kafka-server-start'))

/** RSS (or peak with field VmHWM) of a process in MB, from /proc (Linux); null elsewhere. */
export function rss(pid: number | undefined, field = 'VmRSS'): number | null {
  if (!pid) return null
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch { return null }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / 100 // utime, stime in clock ticks (USER_HZ 100)
  } catch { return null }
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise(res => {
    const s = createConnection({host: '127.0.0.1', port})
    s.once('connect', () => { s.destroy(); res(true) })
    s.once('error', () => res(false))
  })
}

export interface Started {
  name: string
  port: number
  child: ChildProcess
  startupMs: number
  output(): string
  stop(): Promise<void>
}

/** How long a server may take to open its port and print "started" (BENCH_START_TIMEOUT_MS, default 60 s). */
const START_TIMEOUT_MS = Number(process.env.BENCH_START_TIMEOUT_MS) || 60000

async function startProcess(name: string, cmd: string[], port: number, log: string, ready: RegExp | null): Promise<Started> {
  const t0 = performance.now()
  const child = spawn(cmd[0], cmd.slice(1), {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  const keep = (d: Buffer) => { out += d.toString(); if (out.length > 200000) out = out.slice(-100000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  child.on('exit', () => { try { writeFileSync(log, out) } catch { /* ignore */ } })
  try {
    await waitFor(async () => (child.exitCode === null ? portOpen(port) : Promise.reject(new Error(`${name} exited: ${out.slice(-2000)}`))), START_TIMEOUT_MS, `${name} port`, 5)
    if (ready) await waitFor(() => ready.test(out), START_TIMEOUT_MS, `${name} ready`, 5)
  } catch (error) {
    // A server that did not come up in time is not left running (nor holding the bench's pipes).
    if (child.exitCode === null) child.kill('SIGKILL')
    throw error
  }
  const startupMs = performance.now() - t0
  return {
    name, port, child, startupMs,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise(r => (child.exitCode !== null ? r(null) : child.once('exit', r)))
    },
  }
}

export async function startZooKeeper(dir: string): Promise<Started> {
  const port = await freePort()
  const cfg = join(dir, 'zookeeper.properties')
  writeFileSync(cfg, `dataDir=${join(dir, 'zk')}\nclientPort=${port}\nmaxClientCnxns=0\nadmin.enableServer=false\n`)
  const cmd = existsSync(join(repoRoot, 'dist', 'src', 'commands', 'zookeeper-server-start.js')) && !process.env.BENCH_APACHE_ZOOKEEPER
    ? [process.execPath, join(repoRoot, 'bin', 'zookeeper-server-start.js'), cfg]
    : ['java', '-cp', join(APACHE, 'libs', '*'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg]
  return startProcess('zookeeper', cmd, port, join(dir, 'zk.log'), null)
}

function overrides(dir: string, port: number, zkPort: number, chroot: string, extra: string[], id: number): string[] {
  return [join(repoRoot, 'config', 'server.properties'),
    '--override', `broker.id=${id}`,
    '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${join(dir, id === 0 ? `${chroot}-logs` : `${chroot}-logs-${id}`)}`,
    '--override', `zookeeper.connect=127.0.0.1:${zkPort}/${chroot}`, '--override', 'offsets.topic.replication.factor=1',
    ...extra.flatMap(e => ['--override', e])]
}

/**
 * Waits until the broker on port lists itself in a Metadata response. Apache Kafka's broker
 * prints "started" before its controller's first UpdateMetadata reaches it; until then its
 * Metadata has no brokers and clients fail (kafkajs: "Broker -1 not found in the cached
 * metadata"). Done for both brokers alike; not counted in startupMs.
 */
async function listsItself(s: Started, id: number): Promise<Started> {
  try {
    await waitFor(async () => {
      let conn: KafkaConnection | undefined
      try {
        conn = await KafkaConnection.connect('127.0.0.1', s.port, {clientId: 'bench', timeoutMs: 5000})
        await conn.negotiate()
        const m = await conn.request(Apis.Metadata, {topics: [], allowAutoTopicCreation: false})
        return m.brokers.some((b: {nodeId: number}) => b.nodeId === id)
      } catch {
        return false
      } finally {
        await conn?.close()
      }
    }, 60000, `${s.name} listed in its own Metadata`, 50)
  } catch (error) {
    await s.stop()
    throw error
  }
  return s
}

/** kafkit's broker (broker.id `id`, default 0) in a child process, on a free port (or fixedPort), data under dir. */
export async function startKafkitBroker(dir: string, zkPort: number, extra: string[] = [], id = 0, fixedPort?: number): Promise<Started> {
  const port = fixedPort ?? await freePort()
  // BENCH_NODE_FLAGS: node flags for kafkit's broker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // (a profile is written when the broker stops).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  return listsItself(await startProcess('kafkit', [process.execPath, ...nodeFlags, join(repoRoot, 'bin', 'kafka-server-start.js'), ...overrides(dir, port, zkPort, 'kafkit', extra, id)],
    port, join(dir, `kafkit-${id}.log`), /started \(kafka\.server\.KafkaServer\)/), id)
}

/** Apache Kafka 3.9's broker, likewise. */
export async function startApacheBroker(dir: string, zkPort: number, extra: string[] = [], id = 0, fixedPort?: number): Promise<Started> {
  const port = fixedPort ?? await freePort()
  return listsItself(await startProcess('apache-kafka-3.9', [join(APACHE, 'bin', 'kafka-server-start'), ...overrides(dir, port, zkPort, 'apache', extra, id)],
    port, join(dir, `apache-${id}.log`), /started \(kafka\.server\.KafkaServer\)/), id)
}

/** Prints rows of figures, one column per server, and kafkit/apache ratios when both ran. */
/** The median of the finite numbers among xs (null when there are none): benches print medians of BENCH_RUNS runs. */
export function median(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  return v.length === 0 ? null : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

export function printTable(names: string[], rows: [string, (string | number | null | undefined)[]][], digits: Record<string, number> = {}, ratioLabel = 'kafkit/apache'): void {
  const fmt = (label: string, n: string | number | null | undefined) => n === null || n === undefined || (typeof n === 'number' && Number.isNaN(n)) ? 'n/a' : typeof n === 'number' ? n.toFixed(digits[label] ?? 1) : n
  const header = ['metric', ...names, ...(names.length > 1 ? [ratioLabel] : [])]
  const lines = [header]
  for (const [label, vals] of rows) {
    const cells = vals.map(v => fmt(label, v))
    const a = vals[0], b = vals[1]
    const ratio = names.length > 1 && typeof a === 'number' && typeof b === 'number' && b !== 0 ? (a / b).toFixed(2) : ''
    lines.push([label, ...cells, ...(names.length > 1 ? [ratio] : [])])
  }
  const widths = header.map((_, i) => Math.max(...lines.map(l => (l[i] ?? '').length)))
  for (const l of lines) console.log(l.map((c, i) => (c ?? '').padEnd(widths[i] + 2)).join(''))
}
