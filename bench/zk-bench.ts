// npm run bench:zk — kafkit's ZooKeeper server and Apache ZooKeeper 3.8 side by side in
// one run, driven by the same load generator (bench/zk/loadgen.ts) from a separate
// process: synchronous (1 in flight per session) and pipelined create, setData, getData
// and exists over many sessions; ops/s, p50/p99 latency, RSS, start-up time, and the
// ratio kafkit / Apache. Both fsync every write before acknowledging it (forceSync=yes).
// ZK_BENCH_ENSEMBLE=1 adds 3-server ensembles of each side by side (ZK_BENCH_STANDALONE=0:
// the ensembles only); ZK_BENCH_RUNS (default 3) runs of them on fresh ensembles, medians printed.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync} from 'node:fs'
import {createConnection, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join, dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {median} from './servers.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const loadgen = join(root, 'dist', 'bench', 'zk', 'loadgen.js')
const SESSIONS = Number(process.env.ZK_BENCH_SESSIONS ?? 16)
const SECONDS = Number(process.env.ZK_BENCH_SECONDS ?? 3)
const DEPTH = Number(process.env.ZK_BENCH_DEPTH ?? 32)
const ZNODES = Number(process.env.ZK_BENCH_ZNODES ?? 200000)

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as {port: number}).port; s.close(() => res(p)) })
  })
}

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise(resolve => {
    const s = createConnection({host: '127.0.0.1', port})
    let out = ''
    s.setTimeout(2000, () => { s.destroy(); resolve(out) })
    s.on('connect', () => s.write(word))
    s.on('data', d => { out += d })
    s.on('end', () => resolve(out))
    s.on('error', () => resolve(''))
  })
}

async function waitServing(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 60000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`)
    if ((await fourLetter(port, 'srvr')).includes('Mode: standalone')) return
    await new Promise(r => setTimeout(r, 5))
  }
  throw new Error(`${what} did not start within 60 s`)
}

function rssMb(pid: number): {rss: number; peak: number} | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) / 1024
    return {rss: get('VmRSS'), peak: get('VmHWM')}
  } catch {
    return null
  }
}

interface Server { name: string; port: number; child: ChildProcess; startMs: number; dir: string }

async function startKafkit(direct = false): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'zkbench-kafkit-'))
  const port = await freePort()
  const cfg = join(dir, 'zookeeper.properties')
  writeFileSync(cfg, `dataDir=${join(dir, 'data').replace(/\\/g, '/')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n`)
  const t0 = performance.now()
  const entry = direct ? join(root, 'dist', 'bench', 'zk', 'serve.js') : join(root, 'bin', 'zookeeper-server-start.js')
  const child = spawn(process.execPath, [entry, cfg], {stdio: 'ignore', env: {...process.env, KAFKIT_RUN_DIR: join(dir, 'run')}})
  await waitServing(port, child, 'kafkit')
  return {name: 'kafkit', port, child, startMs: performance.now() - t0, dir}
}

async function startApache(): Promise<Server | null> {
  const jar = '/usr/share/java/zookeeper.jar'
  if (!existsSync(jar) || spawnSync('java', ['-version']).status !== 0) {
    console.error('Apache ZooKeeper 3.8 is not installed (run ../shared/tools/install-peers): benchmarking kafkit alone')
    return null
  }
  const dir = mkdtempSync(join(tmpdir(), 'zkbench-apache-'))
  mkdirSync(join(dir, 'data'))
  const port = await freePort()
  const cfg = join(dir, 'zoo.cfg')
  writeFileSync(cfg, `dataDir=${join(dir, 'data')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxClientCnxns=0\ntickTime=3000\n`)
  const t0 = performance.now()
  const child = spawn('java', ['-cp', `${jar}:/usr/share/java/slf4j-nop.jar`, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {stdio: 'ignore'})
  await waitServing(port, child, 'Apache ZooKeeper')
  return {name: 'apache', port, child, startMs: performance.now() - t0, dir}
}

interface Result { op: string; ops: number; opsPerSec: number; p50: number; p99: number }

function runLoad(port: number, args: string[]): Result {
  const r = spawnSync(process.execPath, [loadgen, '--port', String(port), ...args], {encoding: 'utf8', timeout: 120000})
  if (r.status !== 0) throw new Error(`loadgen ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result
}

const PHASES: Array<{op: string; depth: number}> = []
for (const op of ['create', 'setData', 'getData', 'exists']) for (const depth of [1, DEPTH]) PHASES.push({op, depth})

function benchmark(s: Server): Map<string, Result> {
  const out = new Map<string, Result>()
  runLoad(s.port, ['--op', 'root', '--prefix', '/bench', '--sessions', '1', '--count', '1'])
  runLoad(s.port, ['--op', 'setup', '--prefix', '/bench', '--sessions', '1', '--depth', '64', '--count', '1000', '--keys', '1000'])
  PHASES.forEach((p, i) => {
    const prefix = `/bench/p${i}`
    if (p.op === 'create') runLoad(s.port, ['--op', 'root', '--prefix', prefix, '--sessions', '1', '--count', '1'])
    const r = runLoad(s.port, ['--op', p.op, '--prefix', p.op === 'create' ? prefix : '/bench', '--sessions', String(SESSIONS), '--depth', String(p.depth), '--seconds', String(SECONDS), '--keys', '1000'])
    out.set(`${p.op}/${p.depth}`, r)
    process.stderr.write(`  ${s.name} ${p.op} depth ${p.depth}: ${Math.round(r.opsPerSec)} ops/s\n`)
  })
  return out
}

interface Memory { idle: number; loaded: number; peak: number; znodes: number }

/**
 * Memory at equal load: a fresh server, ZNODES znodes of 100 bytes created by 16 pipelined
 * sessions, then RSS (and its high-water mark) with both servers holding the same tree. The
 * timed phases cannot compare memory fairly: the faster server creates more znodes.
 */
async function memoryAtEqualLoad(start: () => Promise<Server | null>): Promise<Memory | null> {
  const s = await start()
  if (!s) return null
  try {
    const idle = rssMb(s.child.pid!)?.rss ?? 0
    runLoad(s.port, ['--op', 'root', '--prefix', '/mem', '--sessions', '1', '--count', '1'])
    runLoad(s.port, ['--op', 'create', '--prefix', '/mem', '--sessions', '16', '--depth', '32', '--count', String(Math.ceil(ZNODES / 16))])
    const znodes = Number(/zk_znode_count\s+(\d+)/.exec(await fourLetter(s.port, 'mntr'))?.[1] ?? 0)
    const m = rssMb(s.child.pid!)
    return {idle, loaded: m?.rss ?? 0, peak: m?.peak ?? 0, znodes}
  } finally {
    await stop(s)
  }
}

async function stop(s: Server): Promise<void> {
  s.child.kill('SIGKILL')
  await new Promise(r => s.child.exitCode !== null ? r(null) : s.child.once('exit', r))
  rmSync(s.dir, {recursive: true, force: true})
}

async function main(): Promise<void> {
  if (!existsSync(loadgen)) throw new Error('run `npm run build` first')
  console.log(`ZooKeeper benchmark: ${SESSIONS} sessions, ${SECONDS} s per phase, pipelined depth ${DEPTH} per session, 100-byte values, fsync before every write ack on both servers`)
  const results: Array<{s: Server; r: Map<string, Result>; mem: {rss: number; peak: number} | null; znodes: number}> = []
  // Start-up alone, three times each way: the command (oclif + server) and the server core.
  const startups: Record<string, number[]> = {command: [], core: []}
  for (let i = 0; i < 3; i++) {
    for (const direct of [false, true]) {
      const s = await startKafkit(direct)
      startups[direct ? 'core' : 'command'].push(s.startMs)
      if (direct && i === 0) process.stderr.write(`kafkit core idle RSS ${rssMb(s.child.pid!)?.rss.toFixed(0) ?? '?'} MB\n`)
      await stop(s)
    }
  }
  const memory: Record<string, Memory | null> = {}
  for (const [name, start] of [['kafkit', startKafkit], ['apache', startApache]] as const) {
    memory[name] = await memoryAtEqualLoad(start)
    const m = memory[name]
    if (m) process.stderr.write(`${name}: ${m.znodes} znodes: RSS ${m.loaded.toFixed(0)} MB (peak ${m.peak.toFixed(0)} MB)\n`)
  }
  for (const start of [startKafkit, startApache]) {
    const s = await start()
    if (!s) continue
    const idle = rssMb(s.child.pid!)
    process.stderr.write(`${s.name}: serving after ${Math.round(s.startMs)} ms, idle RSS ${idle ? idle.rss.toFixed(0) : '?'} MB\n`)
    try {
      const r = benchmark(s)
      const znodes = Number(/zk_znode_count\s+(\d+)/.exec(await fourLetter(s.port, 'mntr'))?.[1] ?? 0)
      results.push({s, r, mem: rssMb(s.child.pid!), znodes})
    } finally {
      await stop(s)
    }
  }
  const k = results.find(x => x.s.name === 'kafkit')!
  const a = results.find(x => x.s.name === 'apache')
  const pad = (v: string, n: number) => v.padStart(n)
  console.log(`\n${'operation'.padEnd(18)}${pad('kafkit ops/s', 14)}${pad('apache ops/s', 14)}${pad('ratio', 8)}${pad('kafkit p50/p99 ms', 20)}${pad('apache p50/p99 ms', 20)}`)
  for (const p of PHASES) {
    const key = `${p.op}/${p.depth}`
    const kr = k.r.get(key)!
    const ar = a?.r.get(key)
    const label = `${p.op} ${p.depth === 1 ? 'sync' : `pipe${p.depth}`}`
    console.log(`${label.padEnd(18)}${pad(Math.round(kr.opsPerSec).toString(), 14)}${pad(ar ? Math.round(ar.opsPerSec).toString() : '-', 14)}${pad(ar ? (kr.opsPerSec / ar.opsPerSec).toFixed(2) : '-', 8)}${pad(`${kr.p50.toFixed(2)}/${kr.p99.toFixed(2)}`, 20)}${pad(ar ? `${ar.p50.toFixed(2)}/${ar.p99.toFixed(2)}` : '-', 20)}`)
  }
  const fmt = (m: {rss: number; peak: number} | null) => m ? `${m.rss.toFixed(0)} MB (peak ${m.peak.toFixed(0)} MB)` : 'n/a'
  const med = (v: number[]) => Math.round([...v].sort((x, y) => x - y)[Math.floor(v.length / 2)])
  console.log(`\nstart-up (spawn to serving, median of 3): kafkit command ${med(startups.command)} ms, kafkit server core ${med(startups.core)} ms${a ? `, apache ${Math.round(a.s.startMs)} ms` : ''}`)
  const km = memory.kafkit
  const am = memory.apache
  if (km) console.log(`RSS holding ${km.znodes} znodes of 100 bytes (same tree on both): kafkit ${km.loaded.toFixed(0)} MB (peak ${km.peak.toFixed(0)} MB)${am ? `, apache ${am.loaded.toFixed(0)} MB (peak ${am.peak.toFixed(0)} MB, ${am.znodes} znodes); kafkit/apache = ${(km.loaded / am.loaded).toFixed(2)}, peak ${(km.peak / am.peak).toFixed(2)}` : ''}`)
  if (km) console.log(`idle RSS before loading: kafkit ${km.idle.toFixed(0)} MB${am ? `, apache ${am.idle.toFixed(0)} MB` : ''}`)
  console.log(`RSS after the timed run: kafkit ${fmt(k.mem)} with ${k.znodes} znodes${a ? `, apache ${fmt(a.mem)} with ${a.znodes} znodes` : ''} (the faster server creates more znodes in the same time)`)
}

// ---------------------------------------------------------------- ensembles (ZK_BENCH_ENSEMBLE=1)

interface EnsembleRun { name: string; ports: number[]; children: ChildProcess[]; dir: string; startMs: number }

/** Three servers of one kind on this machine, each with its own myid; resolves once one leads. */
async function startEnsemble(kind: 'kafkit' | 'apache'): Promise<EnsembleRun | null> {
  const jar = '/usr/share/java/zookeeper.jar'
  if (kind === 'apache' && (!existsSync(jar) || spawnSync('java', ['-version']).status !== 0)) return null
  const dir = mkdtempSync(join(tmpdir(), `zkbench-ens-${kind}-`))
  const ports = [await freePort(), await freePort(), await freePort()]
  const peers = [] as string[]
  for (let i = 0; i < 3; i++) peers.push(`server.${i + 1}=127.0.0.1:${await freePort()}:${await freePort()}`)
  const t0 = performance.now()
  const children: ChildProcess[] = []
  for (let i = 0; i < 3; i++) {
    const data = join(dir, `zk${i + 1}`)
    mkdirSync(data, {recursive: true})
    writeFileSync(join(data, 'myid'), `${i + 1}\n`)
    const cfg = join(dir, `zk${i + 1}.properties`)
    writeFileSync(cfg, [`dataDir=${data.replace(/\\/g, '/')}`, `clientPort=${ports[i]}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false', '4lw.commands.whitelist=*', 'maxClientCnxns=0', 'tickTime=2000', 'initLimit=10', 'syncLimit=5', ...peers].join('\n') + '\n')
    children.push(kind === 'kafkit'
      ? spawn(process.execPath, [join(root, 'bin', 'zookeeper-server-start.js'), cfg], {stdio: 'ignore', env: {...process.env, KAFKIT_RUN_DIR: join(dir, 'run')}})
      : spawn('java', ['-cp', `${jar}:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-nop.jar`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {stdio: 'ignore'}))
  }
  const deadline = Date.now() + 90000
  for (;;) {
    const modes = await Promise.all(ports.map(async p => /Mode: (\w+)/.exec(await fourLetter(p, 'srvr'))?.[1] ?? ''))
    if (modes.filter(m => m === 'leader').length === 1 && modes.filter(m => m === 'follower').length === 2) break
    if (Date.now() > deadline) throw new Error(`the ${kind} ensemble did not elect a leader within 90 s`)
    await new Promise(r => setTimeout(r, 20))
  }
  return {name: kind, ports, children, dir, startMs: performance.now() - t0}
}

async function stopEnsemble(e: EnsembleRun): Promise<void> {
  for (const c of e.children) {
    c.kill('SIGKILL')
    await new Promise(r => c.exitCode !== null ? r(null) : c.once('exit', r))
  }
  rmSync(e.dir, {recursive: true, force: true})
}

/** Writes (create, setData) and reads (getData) with sessions spread over the three servers; ZK_BENCH_RUNS (default 3) runs on fresh ensembles, medians printed. */
async function ensembleBench(): Promise<void> {
  const phases: Array<{op: string; depth: number}> = []
  for (const op of ['create', 'setData', 'getData']) for (const depth of [1, DEPTH]) phases.push({op, depth})
  const runs = Number(process.env.ZK_BENCH_RUNS ?? 3)
  // kind -> phase -> one Result per run
  const results = new Map<string, Map<string, Result[]>>()
  const startMs = new Map<string, number[]>()
  for (let run = 0; run < runs; run++) {
    for (const kind of ['kafkit', 'apache'] as const) {
      const e = await startEnsemble(kind)
      if (!e) { if (run === 0) console.error('Apache ZooKeeper 3.8 is not installed: ensemble benchmark of kafkit alone'); continue }
      if (!startMs.has(kind)) startMs.set(kind, [])
      startMs.get(kind)!.push(e.startMs)
      const ports = e.ports.join(',')
      if (!results.has(kind)) results.set(kind, new Map())
      const r = results.get(kind)!
      try {
        runLoad(e.ports[0], ['--ports', ports, '--op', 'root', '--prefix', '/bench', '--sessions', '1', '--count', '1'])
        runLoad(e.ports[0], ['--ports', ports, '--op', 'setup', '--prefix', '/bench', '--sessions', '1', '--depth', '64', '--count', '1000', '--keys', '1000'])
        phases.forEach((p, i) => {
          const prefix = `/bench/e${i}`
          if (p.op === 'create') runLoad(e.ports[0], ['--ports', ports, '--op', 'root', '--prefix', prefix, '--sessions', '1', '--count', '1'])
          const res = runLoad(e.ports[0], ['--ports', ports, '--op', p.op, '--prefix', p.op === 'create' ? prefix : '/bench', '--sessions', String(SESSIONS), '--depth', String(p.depth), '--seconds', String(SECONDS), '--keys', '1000'])
          const key = `${p.op}/${p.depth}`
          if (!r.has(key)) r.set(key, [])
          r.get(key)!.push(res)
          process.stderr.write(`  run ${run + 1}: ${kind} ensemble ${p.op} depth ${p.depth}: ${Math.round(res.opsPerSec)} ops/s\n`)
        })
      } finally {
        await stopEnsemble(e)
      }
    }
  }
  const mid = (xs: number[]) => median(xs) ?? NaN
  const summary = (rs: Result[] | undefined) => rs && rs.length > 0 ? {opsPerSec: mid(rs.map(x => x.opsPerSec)), p50: mid(rs.map(x => x.p50)), p99: mid(rs.map(x => x.p99))} : undefined
  const k = results.get('kafkit')!
  const a = results.get('apache')
  const pad = (v: string, n: number) => v.padStart(n)
  console.log(`\n3-server ensemble (${SESSIONS} sessions spread over the 3 servers, writes forwarded to the leader and acknowledged after a majority's fsync), medians of ${runs} runs on fresh ensembles:`)
  console.log(`${'operation'.padEnd(18)}${pad('kafkit ops/s', 14)}${pad('apache ops/s', 14)}${pad('ratio', 8)}${pad('kafkit p50/p99 ms', 20)}${pad('apache p50/p99 ms', 20)}`)
  for (const p of phases) {
    const key = `${p.op}/${p.depth}`
    const kr = summary(k.get(key))!
    const ar = summary(a?.get(key))
    const label = `${p.op} ${p.depth === 1 ? 'sync' : `pipe${p.depth}`}`
    console.log(`${label.padEnd(18)}${pad(Math.round(kr.opsPerSec).toString(), 14)}${pad(ar ? Math.round(ar.opsPerSec).toString() : '-', 14)}${pad(ar ? (kr.opsPerSec / ar.opsPerSec).toFixed(2) : '-', 8)}${pad(`${kr.p50.toFixed(2)}/${kr.p99.toFixed(2)}`, 20)}${pad(ar ? `${ar.p50.toFixed(2)}/${ar.p99.toFixed(2)}` : '-', 20)}`)
  }
  console.log(`ensemble start-up to an elected leader (median): kafkit ${Math.round(mid(startMs.get('kafkit') ?? []))} ms${startMs.has('apache') ? `, apache ${Math.round(mid(startMs.get('apache')!))} ms` : ''}`)
}

const run = process.env.ZK_BENCH_ENSEMBLE === '1' ? (process.env.ZK_BENCH_STANDALONE === '0' ? ensembleBench() : main().then(ensembleBench)) : main()
run.catch(e => { console.error(`zk-bench: ${(e as Error).message}`); process.exit(1) })
