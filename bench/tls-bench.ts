// `npm run bench:tls`: what TLS costs on kafkit's broker, beside Apache Kafka 3.9 (when
// installed): the same librdkafka load (bench/py/rdkafka_load.py, a separate process) produces
// 1 KiB records with acks=1 and consumes them over PLAINTEXT and over an SSL listener of the
// same broker, and a Node client measures the cost of a TLS handshake (connect, handshake and
// one ApiVersions, sequentially) against a plain connect. Certificates are made with openssl at
// run time. Each broker runs BENCH_RUNS times (default 3) on fresh servers; every figure is the
// median of its runs. Not a test: it prints figures and ratios.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {connect as netConnect, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import {readFileSync} from 'node:fs'
import {tempDir, removeDir, repoRoot, freePort} from '../test/helpers/util.js'
import {makeCerts} from '../test/security/certs.js'
import {APACHE, apacheInstalled, median, printTable, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 300000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SIZE = Number(process.env.BENCH_RECORD_SIZE ?? 1024)
const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 300)
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const LOAD = join(repoRoot, 'bench', 'py', 'rdkafka_load.py')

function load(args: string[], extra: Record<string, string>): any {
  const r = spawnSync(PY, [LOAD, ...args], {encoding: 'utf8', timeout: 600000, env: {...process.env, RDKAFKA_EXTRA: JSON.stringify(extra)}})
  if (r.status !== 0) throw new Error(`load generator failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

/** An ApiVersions v0 request frame. */
function apiVersions(): Buffer {
  const clientId = Buffer.from('bench')
  const b = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length)
  b.writeInt32BE(b.length - 4, 0)
  b.writeInt16BE(18, 4)
  b.writeInt16BE(0, 6)
  b.writeInt32BE(1, 8)
  b.writeInt16BE(clientId.length, 12)
  clientId.copy(b, 14)
  return b
}

/** Mean ms for connect (+ TLS handshake) + one ApiVersions round trip, sequentially, n times. */
async function connectCost(port: number, tls: {ca: Buffer} | null, n: number): Promise<number> {
  const req = apiVersions()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      const s: Socket = tls ? tlsConnect({port, host: '127.0.0.1', ca: tls.ca, servername: 'localhost'}) : netConnect(port, '127.0.0.1')
      let got = 0
      s.once(tls ? 'secureConnect' : 'connect', () => s.write(req))
      s.on('data', d => {
        got += d.length
        if (got >= 4) { s.destroy(); resolve() }
      })
      s.once('error', reject)
    })
  }
  return (performance.now() - t0) / n
}

interface Result {name: string; runs: Record<string, any>}

async function measure(broker: Started, sslPort: number, ca: Buffer, caFile: string): Promise<Result> {
  const runs: Record<string, any> = {}
  const plain = `127.0.0.1:${broker.port}`
  const ssl = `127.0.0.1:${sslPort}`
  const tlsExtra = {'security.protocol': 'SSL', 'ssl.ca.location': caFile}
  const step = (key: string, args: string[], extra: Record<string, string> = {}) => {
    try {
      runs[key] = load(args, extra)
    } catch (error) {
      runs[key] = {error: (error as Error).message}
      console.error(`${broker.name} ${key}: ${(error as Error).message}`)
    }
  }
  step('create', ['create', plain, 'bench-plain', '1', '1'])
  step('create tls', ['create', ssl, 'bench-tls', '1', '1'], tlsExtra)
  step('produce PLAINTEXT', ['produce', plain, 'bench-plain', String(RECORDS), String(SIZE), '1'])
  step('produce SSL', ['produce', ssl, 'bench-tls', String(RECORDS), String(SIZE), '1'], tlsExtra)
  step('consume PLAINTEXT', ['consume', plain, 'bench-plain', String(RECORDS), String(SIZE)])
  step('consume SSL', ['consume', ssl, 'bench-tls', String(RECORDS), String(SIZE)], tlsExtra)
  await connectCost(broker.port, null, 20) // warm-up
  await connectCost(sslPort, {ca}, 20)
  runs.connectPlain = await connectCost(broker.port, null, HANDSHAKES)
  runs.connectTls = await connectCost(sslPort, {ca}, HANDSHAKES)
  await broker.stop()
  return {name: broker.name, runs}
}

/** One run: a fresh ZooKeeper and broker of each kind, measured one after the other. */
async function oneRun(ca: Buffer, caFile: string, sslSettings: string[]): Promise<Result[]> {
  const results: Result[] = []
  const dir = tempDir('kafkit-bench-tls-')
  try {
    const zk = await startZooKeeper(dir)
    try {
      const kPort = await freePort()
      const kSsl = await freePort()
      results.push(await measure(await startKafkitBroker(dir, zk.port, [`listeners=PLAINTEXT://127.0.0.1:${kPort},SSL://127.0.0.1:${kSsl}`, ...sslSettings], 0, kPort), kSsl, ca, caFile))
      if (apacheInstalled() && !process.env.BENCH_KAFKIT_ONLY) {
        const aPort = await freePort()
        const aSsl = await freePort()
        results.push(await measure(await startApacheBroker(dir, zk.port, [`listeners=PLAINTEXT://127.0.0.1:${aPort},SSL://127.0.0.1:${aSsl}`, ...sslSettings], 0, aPort), aSsl, ca, caFile))
      }
    } finally {
      await zk.stop()
    }
  } finally {
    removeDir(dir)
  }
  return results
}

async function main(): Promise<void> {
  const certs = makeCerts()
  const ca = readFileSync(certs.caPem)
  const sslSettings = ['ssl.keystore.type=PEM', `ssl.keystore.location=${certs.brokerPem}`]
  if (!apacheInstalled()) console.log(`(Apache Kafka 3.9 not installed at ${APACHE}: run ../shared/tools/apache-kafka for the side-by-side figures)`)
  const runs: Result[][] = []
  try {
    for (let i = 0; i < RUNS; i++) runs.push(await oneRun(ca, certs.caPem, sslSettings))
  } finally {
    removeDir(certs.dir)
  }
  const names = runs[0].map(r => r.name)
  const figure = (f: (r: Record<string, any>) => number | undefined) => names.map((_, i) => median(runs.map(run => f(run[i].runs))))
  console.log(`\nkafkit TLS benchmark: ${RECORDS} records of ${SIZE} B, acks=1, librdkafka in a separate process, 1 partition; ${HANDSHAKES} sequential connections; medians of ${RUNS} runs on fresh servers\n`)
  const rows: [string, (number | null | undefined)[]][] = []
  for (const k of ['produce PLAINTEXT', 'produce SSL', 'consume PLAINTEXT', 'consume SSL']) {
    rows.push([`${k} MB/s`, figure(r => r[k]?.mb_per_s)])
    rows.push([`${k} records/s`, figure(r => r[k]?.records_per_s)])
  }
  rows.push(['produce SSL / PLAINTEXT', figure(r => r['produce SSL']?.mb_per_s / r['produce PLAINTEXT']?.mb_per_s)])
  rows.push(['consume SSL / PLAINTEXT', figure(r => r['consume SSL']?.mb_per_s / r['consume PLAINTEXT']?.mb_per_s)])
  rows.push(['connect + ApiVersions, PLAINTEXT (ms)', figure(r => r.connectPlain)])
  rows.push(['connect + TLS handshake + ApiVersions (ms)', figure(r => r.connectTls)])
  rows.push(['TLS handshake cost (ms)', figure(r => r.connectTls - r.connectPlain)])
  const digits: Record<string, number> = {}
  for (const [label] of rows) digits[label] = label.endsWith('records/s') ? 0 : label.includes('(ms)') ? 2 : label.includes(' / ') ? 2 : 1
  printTable(names, rows, digits)
  for (const [i, run] of runs.entries()) for (const r of run) for (const [k, v] of Object.entries(r.runs)) if (v && typeof v === 'object' && v.error) console.log(`run ${i + 1}: ${r.name} ${k}: failed (${String(v.error).split('\n').filter(Boolean).pop()})`)
}

main().catch(error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
