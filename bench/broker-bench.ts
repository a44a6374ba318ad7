// `npm run bench`: kafkit's broker beside Apache Kafka 3.9 (when installed), driven by the same
// librdkafka load generator (bench/py/rdkafka_load.py, a separate process): produce 1 KiB
// records with acks=1 and acks=all, then consume them; start-up time and RSS of each broker.
// Not a test: it prints figures and ratios. RSS figures come from /proc (Linux).
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir, removeDir, repoRoot} from '../test/helpers/util.js'
import {APACHE, apacheInstalled, printTable, rss, startApacheBroker, startKafkitBroker, startZooKeeper, type Started} from './servers.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200000)
const SIZE = Number(process.env.BENCH_RECORD_SIZE ?? 1024)
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const LOAD = join(repoRoot, 'bench', 'py', 'rdkafka_load.py')

interface Result {name: string; startupMs: number; idleRssMb: number | null; peakRssMb: number | null; runs: Record<string, any>}

function load(args: string[]): any {
  const r = spawnSync(PY, [LOAD, ...args], {encoding: 'utf8', timeout: 600000})
  if (r.status !== 0) throw new Error(`load generator failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

async function measure(broker: Started): Promise<Result> {
  const idle = rss(broker.child.pid)
  const boot = `127.0.0.1:${broker.port}`
  const runs: Record<string, any> = {}
  const step = (key: string, args: string[]) => {
    try {
      runs[key] = load(args)
    } catch (error) {
      runs[key] = {error: (error as Error).message}
      console.error(`${broker.name} ${key}: ${(error as Error).message}`)
    }
  }
  // Both topics first: Apache Kafka's controller was seen to leave a CreateTopics unanswered
  // for 90 s right after a consumer group created __consumer_offsets in this harness.
  for (const topic of ['bench-acks1', 'bench-acksall']) step(`create ${topic}`, ['create', boot, topic, '1', '1'])
  if (!runs['create bench-acks1'].error) step('produce acks=1', ['produce', boot, 'bench-acks1', String(RECORDS), String(SIZE), '1'])
  if (!runs['create bench-acksall'].error) step('produce acks=all', ['produce', boot, 'bench-acksall', String(RECORDS), String(SIZE), 'all'])
  if (runs['produce acks=1'] && !runs['produce acks=1'].error) step('consume', ['consume', boot, 'bench-acks1', String(RECORDS), String(SIZE)])
  const peak = rss(broker.child.pid, 'VmHWM')
  await broker.stop()
  return {name: broker.name, startupMs: broker.startupMs, idleRssMb: idle, peakRssMb: peak, runs}
}

async function main(): Promise<void> {
  const results: Result[] = []
  const dir = tempDir('kafkit-bench-')
  try {
    const zk = await startZooKeeper(dir)
    try {
      results.push(await measure(await startKafkitBroker(dir, zk.port)))
      if (apacheInstalled() && !process.env.BENCH_KAFKIT_ONLY) results.push(await measure(await startApacheBroker(dir, zk.port)))
      else console.log(`(Apache Kafka 3.9 not installed at ${APACHE}: run ../shared/tools/apache-kafka for the side-by-side figures)`)
    } finally {
      await zk.stop()
    }
  } finally {
    if (process.env.BENCH_KEEP) console.log(`(kept ${dir})`)
    else removeDir(dir)
  }
  console.log(`\nkafkit broker benchmark: ${RECORDS} records of ${SIZE} B, librdkafka producer/consumer in a separate process, 1 partition\n`)
  const rows: [string, (number | null | undefined)[]][] = [
    ['start-up (ms)', results.map(r => r.startupMs)],
    ['idle RSS (MB)', results.map(r => r.idleRssMb)],
    ['peak RSS (MB)', results.map(r => r.peakRssMb)],
  ]
  for (const k of ['produce acks=1', 'produce acks=all']) {
    rows.push([`${k} records/s`, results.map(r => r.runs[k]?.records_per_s)])
    rows.push([`${k} MB/s`, results.map(r => r.runs[k]?.mb_per_s)])
    rows.push([`${k} p50 ms`, results.map(r => r.runs[k]?.p50_ms)])
    rows.push([`${k} p99 ms`, results.map(r => r.runs[k]?.p99_ms)])
  }
  rows.push(['consume records/s', results.map(r => r.runs.consume?.records_per_s)])
  rows.push(['consume MB/s', results.map(r => r.runs.consume?.mb_per_s)])
  const digits: Record<string, number> = {'start-up (ms)': 0}
  for (const [label] of rows) if (label.endsWith('records/s')) digits[label] = 0; else if (label.endsWith(' ms')) digits[label] = 2
  printTable(results.map(r => r.name), rows, digits)
  for (const r of results) {
    for (const [k, v] of Object.entries(r.runs)) {
      if (v.error) console.log(`${r.name} ${k}: failed (${String(v.error).split('\n').filter(Boolean).pop()})`)
      else if (v.errors || v.unflushed) console.log(`${r.name} ${k}: ${v.errors} delivery errors, ${v.unflushed} unflushed`)
    }
  }
}

main().catch(error => {
  console.error(`bench failed: ${error.message}`)
  process.exit(1)
})
