// `npm run bench`: kafkit's broker beside Apache Kafka 3.9 (when installed), driven by the same
// librdkafka load generator (bench/py/rdkafka_load.py, a separate process): produce 1 KiB
// records with acks=1 and acks=all, then consume them; start-up time and RSS of each broker.
// Not a test: it prints figures and ratios. Linux figures for RSS come from /proc.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import {createConnection} from 'node:net'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, tempDir, removeDir, repoRoot, waitFor} from '../test/helpers/util.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200000)
const SIZE = Number(process.env.BENCH_RECORD_SIZE ?? 1024)
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const LOAD = join(repoRoot, 'bench', 'py', 'rdkafka_load.py')
const APACHE = process.env.APACHE_KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')

interface Result {name: string; startupMs: number; idleRssMb: number | null; peakRssMb: number | null; runs: Record<string, any>}

function rss(pid: number | undefined, field = 'VmRSS'): number | null {
  if (!pid) return null
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch { return null }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise(res => {
    const s = createConnection({host: '127.0.0.1', port})
    s.once('connect', () => { s.destroy(); res(true) })
    s.once('error', () => res(false))
  })
}

function spawnLogged(cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  const keep = (d: Buffer) => { out += d.toString(); if (out.length > 200000) out = out.slice(-100000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  child.on('exit', () => { try { writeFileSync(log, out) } catch { /* ignore */ } })
  ;(child as any).output = () => out
  return child
}

function load(args: string[]): any {
  const r = spawnSync(PY, [LOAD, ...args], {encoding: 'utf8', timeout: 600000})
  if (r.status !== 0) throw new Error(`load generator failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

async function startZooKeeper(dir: string): Promise<{port: number; child: ChildProcess}> {
  const port = await freePort()
  const cfg = join(dir, 'zookeeper.properties')
  writeFileSync(cfg, `dataDir=${join(dir, 'zk')}\nclientPort=${port}\nmaxClientCnxns=0\nadmin.enableServer=false\n`)
  let child: ChildProcess
  if (existsSync(join(repoRoot, 'dist', 'src', 'commands', 'zookeeper-server-start.js'))) {
    child = spawnLogged(process.execPath, [join(repoRoot, 'bin', 'zookeeper-server-start.js'), cfg], join(dir, 'zk.log'))
  } else {
    child = spawnLogged('java', ['-cp', join(APACHE, 'libs', '*'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], join(dir, 'zk.log'))
  }
  await waitFor(() => portOpen(port), 30000, 'ZooKeeper port')
  return {port, child}
}

async function runBroker(name: string, startCmd: string[], port: number, dir: string): Promise<Result> {
  const t0 = performance.now()
  const broker = spawnLogged(startCmd[0], startCmd.slice(1), join(dir, `${name}.log`))
  await waitFor(async () => (broker.exitCode === null ? portOpen(port) : Promise.reject(new Error(`${name} exited: ${(broker as any).output()}`))), 60000, `${name} port`, 5)
  await waitFor(() => /started/.test((broker as any).output()), 60000, `${name} started line`, 5)
  const startupMs = performance.now() - t0
  const idle = rss(broker.pid)
  const boot = `127.0.0.1:${port}`
  const runs: Record<string, any> = {}
  const step = (key: string, args: string[]) => {
    try {
      runs[key] = load(args)
    } catch (error) {
      runs[key] = {error: (error as Error).message}
      console.error(`${name} ${key}: ${(error as Error).message}`)
    }
  }
  for (const acks of ['1', 'all']) {
    const topic = `bench-${acks === '1' ? 'acks1' : 'acksall'}`
    step(`create ${topic}`, ['create', boot, topic, '1', '1'])
    if (runs[`create ${topic}`].error) continue
    step(`produce acks=${acks}`, ['produce', boot, topic, String(RECORDS), String(SIZE), acks])
    if (acks === '1') step('consume', ['consume', boot, topic, String(RECORDS), String(SIZE)])
  }
  const peak = rss(broker.pid, 'VmHWM')
  broker.kill('SIGTERM')
  await new Promise(r => (broker.exitCode !== null ? r(null) : broker.once('exit', r)))
  return {name, startupMs, idleRssMb: idle, peakRssMb: peak, runs}
}

function fmt(n: number | null | undefined, d = 1): string {
  return n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d)
}

async function main(): Promise<void> {
  const results: Result[] = []
  const dir = tempDir('kafkit-bench-')
  try {
    const zk = await startZooKeeper(dir)
    try {
      const kport = await freePort()
      mkdirSync(join(dir, 'kafkit-logs'), {recursive: true})
      results.push(await runBroker('kafkit', [process.execPath, join(repoRoot, 'bin', 'kafka-server-start.js'), join(repoRoot, 'config', 'server.properties'),
        '--override', `listeners=PLAINTEXT://127.0.0.1:${kport}`, '--override', `log.dirs=${join(dir, 'kafkit-logs')}`,
        '--override', `zookeeper.connect=127.0.0.1:${zk.port}/kafkit`, '--override', 'offsets.topic.replication.factor=1'], kport, dir))
      if (existsSync(join(APACHE, 'bin', 'kafka-server-start'))) {
        const aport = await freePort()
        results.push(await runBroker('apache-kafka-3.9', [join(APACHE, 'bin', 'kafka-server-start'), join(repoRoot, 'config', 'server.properties'),
          '--override', `listeners=PLAINTEXT://127.0.0.1:${aport}`, '--override', `log.dirs=${join(dir, 'apache-logs')}`,
          '--override', `zookeeper.connect=127.0.0.1:${zk.port}/apache`, '--override', 'offsets.topic.replication.factor=1'], aport, dir))
      } else {
        console.log(`(Apache Kafka 3.9 not installed at ${APACHE}: run ../shared/tools/apache-kafka for the side-by-side figures)`)
      }
    } finally {
      zk.child.kill('SIGTERM')
    }
  } finally {
    removeDir(dir)
  }
  console.log(`\nkafkit broker benchmark: ${RECORDS} records of ${SIZE} B, librdkafka producer/consumer in a separate process, 1 partition\n`)
  const rows: [string, (r: Result) => string][] = [
    ['start-up (ms)', r => fmt(r.startupMs, 0)],
    ['idle RSS (MB)', r => fmt(r.idleRssMb)],
    ['peak RSS (MB)', r => fmt(r.peakRssMb)],
  ]
  for (const k of ['produce acks=1', 'produce acks=all']) {
    rows.push([`${k} records/s`, r => fmt(r.runs[k]?.records_per_s, 0)])
    rows.push([`${k} MB/s`, r => fmt(r.runs[k]?.mb_per_s)])
    rows.push([`${k} p50 ms`, r => fmt(r.runs[k]?.p50_ms, 2)])
    rows.push([`${k} p99 ms`, r => fmt(r.runs[k]?.p99_ms, 2)])
  }
  rows.push(['consume records/s', r => fmt(r.runs.consume?.records_per_s, 0)])
  rows.push(['consume MB/s', r => fmt(r.runs.consume?.mb_per_s)])
  const header = ['metric', ...results.map(r => r.name), ...(results.length > 1 ? ['kafkit/apache'] : [])]
  const lines = [header]
  for (const [label, f] of rows) {
    const vals = results.map(f)
    const ratio = results.length > 1 && vals[0] !== 'n/a' && vals[1] !== 'n/a' && Number(vals[1]) !== 0 ? (Number(vals[0]) / Number(vals[1])).toFixed(2) : ''
    lines.push([label, ...vals, ...(results.length > 1 ? [ratio] : [])])
  }
  const widths = header.map((_, i) => Math.max(...lines.map(l => (l[i] ?? '').length)))
  for (const l of lines) console.log(l.map((c, i) => (c ?? '').padEnd(widths[i] + 2)).join(''))
  for (const r of results) {
    for (const [k, v] of Object.entries(r.runs)) {
      if (v.error) console.log(`${r.name} ${k}: failed (${v.error.split('\n').filter(Boolean).pop()})`)
      else if (v.errors || v.unflushed) console.log(`${r.name} ${k}: ${v.errors} delivery errors, ${v.unflushed} unflushed`)
    }
  }
}

main().catch(error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
