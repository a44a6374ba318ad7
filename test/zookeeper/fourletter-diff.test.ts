// Differential test of the four-letter words and the AdminServer: kafkit's ZooKeeper server
// and Apache ZooKeeper 3.8 (Debian's package, with its Jetty AdminServer) get the same
// sessions, znodes, ephemerals and watches of every kind (data, exists, child, persistent,
// persistent-recursive, one fired); then every word's text and every /commands/<name>
// JSON must agree after replacing only the values that legitimately differ (version,
// paths, ports, session ids, clocks, latencies, JVM facts), each at its known position.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {startKafkitZk, fourLetter, freePort, tempDir, removeDir, waitFor, type KafkitZk} from './helpers.js'
import {RawClient, OPEN_ACL} from './rawclient.js'
import type {JuteWriter} from '../../src/core/zookeeper/jute.js'

const JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-nop.jar', '/usr/share/java/servlet-api.jar']
// Every word but crst is allowed, so both servers' refusal of crst can be compared too.
const ALLOWED = ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'envi', 'wchs', 'wchc', 'wchp', 'dump', 'dirs', 'isro', 'srst']
const TICK = 2000

interface Target {
  name: string
  port: number
  admin: number
  /** session id (hex without 0x, and decimal) -> A/B/C */
  ids: Map<string, string>
}

interface ApacheRun {
  port: number
  admin: number
  stop(): Promise<void>
}

async function startApache(): Promise<ApacheRun> {
  const missing = JARS.filter(j => !existsSync(j))
  if (missing.length) throw new Error(`Apache ZooKeeper 3.8 with its AdminServer needs ${missing.join(', ')}: apt-get install zookeeper libservlet-api-java (or run /work/shared/tools/install-peers)`)
  if (spawnSync('java', ['-version']).status !== 0) throw new Error('java is not installed: run /work/shared/tools/install-peers')
  const dir = tempDir('apache-zk4lw-')
  const [port, admin] = [await freePort(), await freePort()]
  mkdirSync(join(dir, 'data'))
  writeFileSync(join(dir, 'zoo.cfg'), [
    `tickTime=${TICK}`, `dataDir=${join(dir, 'data')}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1',
    'admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${admin}`,
    `4lw.commands.whitelist=${ALLOWED.join(',')}`, '',
  ].join('\n'))
  const child: ChildProcess = spawn('java', ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', JARS.join(':'),
    'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', d => { output += d })
  child.stderr!.on('data', d => { output += d })
  const exited = new Promise<void>(r => child.once('exit', () => r()))
  const stop = async () => {
    child.kill('SIGKILL')
    await exited
    removeDir(dir)
  }
  try {
    await waitFor(async () => (await fourLetter(port, 'ruok').catch(() => '')) === 'imok', 30000, `Apache ZooKeeper on port ${port} (${output.slice(-400)})`, 50)
    await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/commands/ruok`).catch(() => null))?.status === 200, 10000, `Apache's AdminServer on port ${admin} (${output.slice(-400)})`, 50)
  } catch (e) {
    await stop()
    throw e
  }
  return {port, admin, stop}
}

// ---------------------------------------------------------------- the shared scenario

async function scenario(t: Target): Promise<RawClient[]> {
  const clients: RawClient[] = []
  for (const n of ['A', 'B', 'C']) {
    const c = await RawClient.open(t.port)
    await c.handshake(30000)
    assert.equal(c.timeout, 30000, `${t.name}: negotiated timeout`)
    const id = BigInt.asUintN(64, c.sessionId)
    t.ids.set(id.toString(16), n)
    t.ids.set(c.sessionId.toString(), n)
    clients.push(c)
  }
  const [a, b, c] = clients
  let xid = 0
  const ok = async (cl: RawClient, type: number, body: (w: JuteWriter) => void) => {
    const r = await cl.request(++xid, type, body)
    assert.equal(r.err, 0, `${t.name}: request ${type} failed with ${r.err}`)
  }
  const create = (cl: RawClient, path: string, data: string, mode: number) => ok(cl, 1, w => { w.ustring(path).buffer(Buffer.from(data)); OPEN_ACL(w); w.int(mode) })
  await create(a, '/app', 'hello', 0)
  await create(a, '/app/x', 'x', 0)
  await create(b, '/eph', 'e', 1)
  await create(b, '/app/e2', '', 1)
  await ok(a, 4, w => w.ustring('/app').bool(true)) // getData + watch
  await ok(a, 8, w => w.ustring('/app').bool(true)) // getChildren + watch
  const ex = await b.request(++xid, 3, w => w.ustring('/nope').bool(true)) // exists watch on a missing node
  assert.equal(ex.err, -101)
  await ok(b, 4, w => w.ustring('/app/x').bool(true))
  await ok(c, 106, w => w.ustring('/app').int(0)) // persistent
  await ok(c, 106, w => w.ustring('/tree').int(1)) // persistent recursive
  await create(c, '/app/y', '', 0) // fires A's child watch and C's persistent watch
  await ok(c, 5, w => w.ustring('/app/y').buffer(Buffer.from('yy')).int(-1))
  return clients
}

// ---------------------------------------------------------------- normalisers

function ids(t: Target, s: string): string {
  return s.replace(/0x([0-9a-f]+)/g, (m, h: string) => t.ids.has(h) ? `<${t.ids.get(h)}>` : m)
}

const sortLines = (s: string) => s.split('\n').sort().join('\n')

/** Blocks of "header\n\titem..." (wchc, wchp, dump sections), sorted inside and across. */
function blocks(s: string): string {
  const out: string[] = []
  for (const line of s.split('\n')) {
    if (line.startsWith('\t') && out.length) out[out.length - 1] += '\n' + line
    else if (line !== '') out.push(line)
  }
  return out.map(b => { const [h, ...items] = b.split('\n'); return [h, ...items.sort()].join('\n') }).sort().join('\n\n') + (s.endsWith('\n\n') ? '\n<blank line>' : '')
}

function normWord(t: Target, word: string, text: string): string {
  let s = ids(t, text).replace(/\/127\.0\.0\.1:\d+/g, '/127.0.0.1:<port>')
  switch (word) {
    case 'srvr': case 'stat': {
      s = s.replace(/^Zookeeper version: .*$/m, 'Zookeeper version: <version>')
        .replace(/^Latency min\/avg\/max: \d+\/\d+(\.\d+)?\/\d+$/m, 'Latency min/avg/max: <int>/<double>/<int>')
      if (word === 'stat') {
        const [head, rest] = s.split('\n\n')
        const [v, c, ...clients] = head.split('\n')
        s = [v, c, ...clients.sort()].join('\n') + '\n\n' + rest
      }
      return s
    }
    case 'cons':
      return sortLines(s.replace(/,est=\d+,/g, ',est=<ms>,').replace(/,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)/g, ',lresp=<ms>,llat=<n>,minlat=<n>,avglat=<n>,maxlat=<n>)'))
    case 'conf':
      return s.replace(/^clientPort=\d+$/m, 'clientPort=<port>').replace(/^(dataDir|dataLogDir)=.*version-2$/gm, '$1=<dir>/version-2').replace(/^(dataDirSize|dataLogSize)=\d+$/gm, '$1=<bytes>')
    case 'envi':
      return s.replace(/^([a-z.]+)=.*$/gm, '$1=<value>')
    case 'dirs':
      return s.replace(/^(datadir_size|logdir_size): \d+$/gm, '$1: <bytes>')
    case 'wchc': case 'wchp':
      return blocks(s)
    case 'dump': {
      // Expiry buckets follow each server's clock: bucket lines (in Java's Date format) and
      // the number of sets are masked, members sorted within their section.
      const bucket = /^\d+ expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d \S+ \d{4}:$/
      const sets = (sec: string) => {
        const lines = sec.split('\n')
        const buckets = lines.filter(l => bucket.test(l)).length > 0 ? '<buckets>' : '<no Java-dated bucket>'
        const kept = lines.filter(l => !bucket.test(l)).map(l => l.replace(/Sets \(\d+\)\//, 'Sets (<n>)/'))
        return [...kept.filter(l => !l.startsWith('\t')), buckets, ...kept.filter(l => l.startsWith('\t')).sort()].join('\n')
      }
      const [sessions, rest] = s.split('ephemeral nodes dump:\n')
      const [eph, conns] = (rest ?? '').split('Connections dump:\n')
      return [sets(sessions), 'ephemeral nodes dump:', blocks(eph), 'Connections dump:', sets(conns ?? '')].join('\n')
    }
    default:
      return s
  }
}

/** mntr: Apache's keys in its order; these values must be equal, the rest of the same kind. */
const MNTR_EXACT = new Set(['server_state', 'ephemerals_count', 'num_alive_connections', 'outstanding_requests', 'znode_count',
  'global_sessions', 'watch_count', 'approximate_data_size', 'local_sessions', 'non_mtls_remote_conn_count', 'non_mtls_local_conn_count',
  'connection_drop_probability', 'auth_failed_count', 'packets_received', 'packets_sent'])

function kind(v: string): string {
  return /^-?\d+$/.test(v) ? '<int>' : /^-?\d+\.\d+(E-?\d+)?$/.test(v) ? '<double>' : '<string>'
}

function normMntr(text: string): string[] {
  return text.split('\n').filter(l => l !== '').map(l => {
    const [k, v] = l.split('\t')
    // Per-namespace byte counts follow from the scenario's requests alone: compared exactly.
    return `${k}\t${MNTR_EXACT.has(k.replace(/^zk_/, '')) || k.endsWith('_per_namespace') ? v : kind(v)}`
  })
}

// ---------------------------------------------------------------- ordered JSON

type J = {t: 'obj'; e: Array<[string, J]>} | {t: 'arr'; v: J[]} | {t: 'num'; raw: string} | {t: 'str'; v: string} | {t: 'lit'; v: string}

/** A JSON parser that keeps key order and numbers' text (0.0 vs 0, 64-bit ids). */
function parseJ(text: string): J {
  let i = 0
  const ws = () => { while (/\s/.test(text[i])) i++ }
  const val = (): J => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const e: Array<[string, J]> = []
      ws()
      if (text[i] === '}') { i++; return {t: 'obj', e} }
      for (;;) {
        ws()
        const k = val() as {t: 'str'; v: string}
        ws(); assert.equal(text[i++], ':')
        e.push([k.v, val()])
        ws()
        if (text[i++] === '}') return {t: 'obj', e}
      }
    }
    if (c === '[') {
      i++
      const v: J[] = []
      ws()
      if (text[i] === ']') { i++; return {t: 'arr', v} }
      for (;;) {
        v.push(val())
        ws()
        if (text[i++] === ']') return {t: 'arr', v}
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i))!
      i += m[0].length
      return {t: 'str', v: JSON.parse(m[0]) as string}
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i))
    assert.ok(m, `bad JSON at ${i}: ${text.slice(i, i + 30)}`)
    i += m[0].length
    return /^[-\d]/.test(m[0]) ? {t: 'num', raw: m[0]} : {t: 'lit', v: m[0]}
  }
  const out = val()
  ws()
  assert.equal(i, text.length, 'trailing text after JSON')
  return out
}

/** Keys whose values legitimately differ: only their JSON kind is compared. */
const VARYING = new Set(['version', 'uptime', 'data_dir', 'data_log_dir', 'client_port', 'data_dir_size', 'log_dir_size', 'datadir_size',
  'logdir_size', 'remote_socket_address', 'established', 'last_response_time', 'last_latency', 'min_latency', 'avg_latency', 'max_latency',
  'initial_configuration', 'timestamp', 'last_buffer_size', 'min_buffer_size', 'max_buffer_size'])
/** Objects keyed by hash order in Apache (session ids, paths, expiry times): compared sorted. */
const UNORDERED = new Set(['session_id_to_watched_paths', 'path_to_session_ids', 'session_id_to_ephemeral_paths'])

/**
 * Server-wide packet counts once mntr has run: Apache sends its reply in 8192-char chunks,
 * each counted.
 */
const AFTER_MNTR = new Set(['packets_sent', 'packets_received'])

function shape(t: Target, j: J, key: string, command: string, parent = ''): unknown {
  const allVarying = command === 'environment' || command === 'system_properties'
  const varying = allVarying || VARYING.has(key) || (command === 'monitor' && key !== '' && !MNTR_EXACT.has(key) && key !== 'server_state') ||
    ((parent === 'server_stats' || command === 'monitor') && AFTER_MNTR.has(key))
  switch (j.t) {
    case 'obj': {
      if (key === 'expiry_time_to_session_ids') {
        // Buckets follow each server's clock: compare the members only.
        return ['<buckets>', j.e.flatMap(([, v]) => (v as {v: J[]}).v.map(x => shape(t, x, 'id', command) as string)).sort()]
      }
      let e = j.e
      if (command === 'system_properties') e = e.filter(([k]) => k === 'command' || k === 'error')
      const out = e.map(([k, v]) => [t.ids.get(k) ?? k, shape(t, v, k, command, key)] as [string, unknown])
      if (UNORDERED.has(key)) out.sort((x, y) => (x[0] < y[0] ? -1 : 1))
      return out
    }
    case 'arr': {
      const v = j.v.map(x => shape(t, x, key, command))
      return key === 'connections' || j.v.every(x => x.t !== 'obj') ? v.map(x => JSON.stringify(x)).sort() : v
    }
    case 'num': {
      if (t.ids.has(j.raw)) return `<${t.ids.get(j.raw)}>`
      if (varying) return j.raw.includes('.') ? '<double>' : '<int>'
      return j.raw
    }
    case 'str': return varying ? '<string>' : j.v
    case 'lit': return j.v
  }
}

// ---------------------------------------------------------------- the test

const ADMIN_NAMES = [
  'ruok', 'server_stats', 'srvr', 'stats', 'stat', 'monitor', 'mntr', 'configuration', 'conf', 'config', 'connections', 'cons',
  'environment', 'env', 'envi', 'watch_summary', 'wchs', 'watches', 'wchc', 'watches_by_path', 'wchp', 'dump', 'dirs',
  'is_read_only', 'isro', 'hash', 'get_trace_mask', 'gtmk', 'initial_configuration', 'icfg', 'last_snapshot', 'lsnp',
  'leader', 'lead', 'observers', 'obsr', 'voting_view', 'zabstate', 'system_properties', 'sysp', 'set_trace_mask',
  'observer_connection_stat_reset', 'orst', 'nope', 'stat/extra', 'connection_stat_reset', 'crst', 'stat_reset', 'srst',
]

test('four-letter words and AdminServer commands answer as Apache ZooKeeper 3.8 does, value for value where values are kafkit\'s own', async () => {
  const apache = await startApache()
  let kafkit: KafkitZk | null = null
  const clients: RawClient[] = []
  try {
    const kAdmin = await freePort()
    kafkit = await startKafkitZk({tickTime: TICK, adminEnableServer: true, adminServerPort: kAdmin, adminServerAddress: '127.0.0.1', fourLetterWords: new Set(ALLOWED)})
    const targets: Target[] = [
      {name: 'apache', port: apache.port, admin: apache.admin, ids: new Map()},
      {name: 'kafkit', port: kafkit.port, admin: kAdmin, ids: new Map()},
    ]
    for (const t of targets) {
      assert.equal(await fourLetter(t.port, 'srst'), 'Server stats reset.\n', t.name)
      clients.push(...await scenario(t))
    }

    // Four-letter words, in the same order on both (each one is itself counted as a packet).
    const differences: string[] = []
    for (const word of ['ruok', 'isro', 'crst', 'abcd', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'envi', 'wchs', 'wchc', 'wchp', 'dump', 'dirs']) {
      const [a, k] = [await fourLetter(apache.port, word), await fourLetter(kafkit.port, word)]
      if (word === 'mntr') {
        const [na, nk] = [normMntr(a), normMntr(k)]
        assert.ok(na.length > 400, `Apache's mntr has ${na.length} lines`)
        if (JSON.stringify(na) !== JSON.stringify(nk)) differences.push(`mntr:\n${na.filter((l, i) => l !== nk[i]).slice(0, 5).join('\n')}\nvs\n${nk.filter((l, i) => l !== na[i]).slice(0, 5).join('\n')}`)
        continue
      }
      const [na, nk] = [normWord(targets[0], word, a), normWord(targets[1], word, k)]
      if (na !== nk) differences.push(`${word}:\n--- apache\n${na}\n--- kafkit\n${nk}`)
    }
    assert.deepEqual(differences, [], differences.join('\n\n'))

    // AdminServer: status, content type, key order, value kinds, and kafkit's own values.
    const adminDiffs: string[] = []
    for (const name of ADMIN_NAMES) {
      const [ra, rk] = [await fetch(`http://127.0.0.1:${apache.admin}/commands/${name}`), await fetch(`http://127.0.0.1:${kAdmin}/commands/${name}`)]
      const [ta, tk] = [await ra.text(), await rk.text()]
      const meta = (r: Response) => `${r.status} ${r.headers.get('content-type')}`
      if (meta(ra) !== meta(rk)) { adminDiffs.push(`${name}: ${meta(ra)} vs ${meta(rk)}`); continue }
      assert.ok(!tk.endsWith('\n') && !ta.endsWith('\n'), `${name}: no trailing newline`)
      const command = (parseJ(ta) as {e: Array<[string, J]>}).e.find(([k]) => k === 'command')?.[1]
      const cmd = command?.t === 'str' ? command.v : name
      const [sa, sk] = [shape(targets[0], parseJ(ta), '', cmd), shape(targets[1], parseJ(tk), '', cmd)]
      if (JSON.stringify(sa) !== JSON.stringify(sk)) adminDiffs.push(`${name}:\n--- apache\n${JSON.stringify(sa)}\n--- kafkit\n${JSON.stringify(sk)}`)
      // Jackson's layout (indentation, " : ", inline arrays, "{ }"), once values are masked
      // (lines sorted: Apache's session and path maps iterate in hash order).
      const mask = (x: string) => x.replace(/"(?:[^"\\]|\\.)*"/g, '"s"').replace(/-?\d+\.\d+/g, 'D').replace(/-?\d+/g, 'N').split('\n').map(l => l.replace(/,$/, '')).sort().join('\n')
      // dump: how many session expiry buckets there are, and whether one its sessions have
      // left is still listed empty (until its time passes), depends on when each server last
      // heard from each session; its layout is compared line kind by line kind.
      const layout = (x: string) => cmd !== 'dump' ? mask(x) : [...new Set(mask(x).split('\n').filter(l => !/^\s*"s" : \[ \]$/.test(l)))].join('\n')
      if (cmd !== 'system_properties' && cmd !== 'monitor' && layout(ta) !== layout(tk)) adminDiffs.push(`${name} layout:\n${layout(ta)}\nvs\n${layout(tk)}`)
    }
    const [ia, ik] = [await fetch(`http://127.0.0.1:${apache.admin}/commands`), await fetch(`http://127.0.0.1:${kAdmin}/commands`)]
    assert.equal(ik.status, ia.status)
    assert.equal(ik.headers.get('content-type'), ia.headers.get('content-type'))
    assert.equal(await ik.text(), await ia.text(), 'the /commands index')
    for (const [path, method] of [['/nope', 'GET'], ['/', 'GET'], ['/commands/ruok', 'POST']]) {
      const [a, k] = [await fetch(`http://127.0.0.1:${apache.admin}${path}`, {method}), await fetch(`http://127.0.0.1:${kAdmin}${path}`, {method})]
      await a.text(); await k.text()
      if (a.status !== k.status || a.headers.get('content-type') !== k.headers.get('content-type')) adminDiffs.push(`${method} ${path}: ${a.status} ${a.headers.get('content-type')} vs ${k.status} ${k.headers.get('content-type')}`)
    }
    assert.deepEqual(adminDiffs, [], adminDiffs.join('\n\n'))
  } finally {
    for (const c of clients) c.close()
    await kafkit?.cleanup()
    await apache.stop()
  }
})
