// Ensembles for tests: kafkit servers (the zookeeper-server-start command, as a user runs it)
// and Apache ZooKeeper 3.8 servers (QuorumPeerMain from the Debian package) on free ports,
// each a child process that can be killed with SIGKILL and started again on its data.
import {spawn, type ChildProcess} from 'node:child_process'
import {writeFileSync, mkdirSync} from 'node:fs'
import {createConnection} from 'node:net'
import {join} from 'node:path'
import {binDir, repoRoot, freePort, tempDir, removeDir, waitFor} from '../helpers/util.js'
import {fourLetter, requireApacheZk} from './helpers.js'

export type Kind = 'kafkit' | 'apache'

export interface Member {
  id: number
  kind: Kind
  observer: boolean
  clientPort: number
  quorumPort: number
  electionPort: number
  dir: string
  child: ChildProcess | null
  output: string
}

export interface EnsembleOptions {
  tickTime?: number
  initLimit?: number
  syncLimit?: number
  /** Extra lines for every server's file. */
  extra?: string[]
  /** TTL nodes on every server (zookeeper.extendedTypesEnabled). */
  extendedTypes?: boolean
  /** Extra lines for one server's file. */
  memberExtra?: (m: Member) => string[]
  /** A JAAS file for one server (-Djava.security.auth.login.config, in KAFKIT_OPTS for kafkit). */
  jaasFile?: (m: Member) => string | undefined
  /** The AdminServer's port for one server (on 127.0.0.1; Apache's needs servlet-api.jar, libservlet-api-java); none when absent. */
  adminPort?: (m: Member) => number | undefined
}

/** Every server process started, killed when the test process exits whatever happened. */
const live = new Set<ChildProcess>()
process.on('exit', () => { for (const c of live) c.kill('SIGKILL') })

/** netty-codec: Debian leaves it out of the jar's class path, but TLS (UnifiedServerSocket) needs it. KAFKIT_TEST_ZK_LOG=1 shows the Apache servers' log (slf4j-simple). */
const ZK_CP = `/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/netty-codec.jar:/usr/share/java/slf4j-${process.env.KAFKIT_TEST_ZK_LOG === '1' ? 'simple' : 'nop'}.jar`

function adminLines(port: number | undefined): string[] {
  return port === undefined ? ['admin.enableServer=false'] : ['admin.enableServer=true', `admin.serverPort=${port}`, 'admin.serverAddress=127.0.0.1']
}

export class Ensemble {
  readonly members: Member[] = []
  readonly root = tempDir('kafkit-ens-')
  readonly runDir = join(this.root, 'run')

  private constructor(readonly opts: EnsembleOptions) {}

  /** Members in id order 1..n: 'kafkit' / 'apache', with ':observer' for observers. */
  static async create(kinds: string[], opts: EnsembleOptions = {}): Promise<Ensemble> {
    const e = new Ensemble(opts)
    for (let i = 0; i < kinds.length; i++) {
      const [kind, role] = kinds[i].split(':')
      if (kind === 'apache') requireApacheZk()
      const id = i + 1
      const dir = join(e.root, `zk${id}`)
      mkdirSync(join(dir, 'data'), {recursive: true})
      writeFileSync(join(dir, 'data', 'myid'), `${id}\n`)
      e.members.push({id, kind: kind as Kind, observer: role === 'observer', clientPort: await freePort(), quorumPort: await freePort(), electionPort: await freePort(), dir, child: null, output: ''})
    }
    return e
  }

  serverLines(): string[] {
    return this.members.map(m => `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}${m.observer ? ':observer' : ''}`)
  }

  configFile(m: Member): string {
    const o = this.opts
    const lines = [
      `dataDir=${join(m.dir, 'data').replace(/\\/g, '/')}`,
      `clientPort=${m.clientPort}`,
      'clientPortAddress=127.0.0.1',
      `tickTime=${o.tickTime ?? 300}`,
      `initLimit=${o.initLimit ?? 20}`,
      `syncLimit=${o.syncLimit ?? 10}`,
      ...adminLines(o.adminPort?.(m)),
      '4lw.commands.whitelist=*',
      'maxClientCnxns=0',
      ...(m.observer ? ['peerType=observer'] : []),
      ...this.serverLines(),
      ...(o.extendedTypes && m.kind === 'kafkit' ? ['zookeeper.extendedTypesEnabled=true'] : []),
      ...(o.extra ?? []),
      ...(o.memberExtra?.(m) ?? []),
    ]
    const file = join(m.dir, m.kind === 'apache' ? 'zoo.cfg' : 'zookeeper.properties')
    writeFileSync(file, lines.join('\n') + '\n')
    return file
  }

  /** Starts server i on the config file it has now (as a reconfigured server rewrote it). */
  restartAsIs(i: number): void {
    this.start(i, true)
  }

  start(i: number, asIs = false): void {
    const m = this.members[i]
    if (this.running(i)) throw new Error(`server ${m.id} is running`)
    const file = asIs ? join(m.dir, m.kind === 'apache' ? 'zoo.cfg' : 'zookeeper.properties') : this.configFile(m)
    const jaas = this.opts.jaasFile?.(m)
    const jaasFlag = jaas !== undefined ? [`-Djava.security.auth.login.config=${jaas}`] : []
    const admin = this.opts.adminPort?.(m)
    const child = m.kind === 'kafkit'
      ? spawn(process.execPath, [join(binDir, 'zookeeper-server-start.js'), file], {env: {...process.env, KAFKIT_RUN_DIR: this.runDir, ...(jaas !== undefined ? {KAFKIT_OPTS: jaasFlag[0]} : {})}, stdio: ['ignore', 'pipe', 'pipe']})
      : spawn('java', ['-Xmx192m', '-XX:+UseSerialGC', ...adminLines(admin).map(l => `-Dzookeeper.${l}`), ...jaasFlag, ...(this.opts.extendedTypes ? ['-Dzookeeper.extendedTypesEnabled=true'] : []), '-cp', admin !== undefined ? `${ZK_CP}:/usr/share/java/servlet-api.jar` : ZK_CP, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', file], {stdio: ['ignore', 'pipe', 'pipe']})
    live.add(child)
    child.once('exit', () => live.delete(child))
    m.output = ''
    const keep = (d: Buffer) => {
      m.output += d.toString()
      if (m.output.length > 400_000) m.output = m.output.slice(-200_000)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    m.child = child
  }

  startAll(): void {
    for (let i = 0; i < this.members.length; i++) this.start(i)
  }

  /**
   * Starts server `first`, waits until its election port listens, then the others: on a fresh
   * ensemble the first one's vote (the highest id) wins, so it leads whatever its kind.
   */
  async startFirst(first: number): Promise<void> {
    this.start(first)
    const port = this.members[first].electionPort
    await waitFor(() => new Promise<boolean>(resolve => {
      const s = createConnection({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    }), 30000, `server ${first + 1}'s election port`, 50)
    for (let i = 0; i < this.members.length; i++) if (i !== first) this.start(i)
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(i: number): Promise<void> {
    const c = this.members[i].child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise(r => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
  }

  /** The Mode of srvr ('leader', 'follower', 'observer', 'standalone'), or '' when not serving. */
  async mode(i: number): Promise<string> {
    const out = await fourLetter(this.members[i].clientPort, 'srvr', 2000).catch(() => '')
    return /Mode: (\w+)/.exec(out)?.[1] ?? ''
  }

  async modes(): Promise<string[]> {
    return Promise.all(this.members.map((_, i) => this.mode(i)))
  }

  /** Waits until the running members all serve with exactly one leader; returns its index. */
  async waitForLeader(timeoutMs = 30000, among?: number[]): Promise<number> {
    const idx = among ?? this.members.map((_, i) => i).filter(i => this.running(i))
    return waitFor(async () => {
      const m = await Promise.all(idx.map(i => this.mode(i)))
      if (m.some(x => x === '')) return undefined
      const leaders = idx.filter((_, k) => m[k] === 'leader')
      return leaders.length === 1 ? leaders[0] + 1 : undefined
    }, timeoutMs, `one leader among servers ${idx.map(i => i + 1).join(', ')} (${this.tail()})`, 50).then(x => x! - 1)
  }

  running(i: number): boolean {
    const c = this.members[i].child
    return c !== null && c.exitCode === null && c.signalCode === null
  }

  connectString(idx?: number[]): string {
    return (idx ?? this.members.map((_, i) => i)).map(i => `127.0.0.1:${this.members[i].clientPort}`).join(',')
  }

  tail(n = 1500): string {
    return this.members.map(m => `--- server ${m.id} (${m.kind}):\n${m.output.slice(-n)}`).join('\n')
  }

  /** Runs a Python snippet with kazoo client `c` connected to connect; its stdout (trimmed). */
  kazoo(connect: string, code: string, timeoutMs = 30000): Promise<string> {
    const script = `import sys, json\nfrom kazoo.client import KazooClient\nc = KazooClient(hosts=sys.argv[1], timeout=8)\nc.start(timeout=15)\n${code}\nc.stop()\n`
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/python3', ['-c', script, connect], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      let err = ''
      const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kazoo timed out: ${err}`)) }, timeoutMs)
      child.stdout!.on('data', d => { out += d })
      child.stderr!.on('data', d => { err += d })
      child.on('exit', code => {
        clearTimeout(t)
        if (code === 0) resolve(out.trim())
        else reject(new Error(`kazoo exited with ${code}: ${err.slice(-2000)}`))
      })
    })
  }

  async destroy(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.kill(i)
    removeDir(this.root)
  }
}


export interface ProducerRun {
  /** Records acknowledged so far (reported by the producer about every 200 ms). */
  acked(): number
  /** Waits until at least n records are acknowledged: load is flowing (fails after timeoutMs). */
  waitForAcked(n: number, what: string, timeoutMs?: number): Promise<void>
  /** Ends production; done then resolves after the read-back. */
  stop(): void
  done: Promise<{sent: number; acked: number; lost: number}>
}

/**
 * A librdkafka producer (acks=all, idempotent) that produces until stop() (at most maxSeconds),
 * then reads back every partition: {sent, acked, lost}. Tests wait on acked() to put their faults
 * under load, instead of sleeping.
 */
export function produceAndVerify(bootstrap: string, dir: string, partitions: number, rf: number, maxSeconds = 120): ProducerRun {
  const stopFile = join(dir, `produce-${process.pid}-${Date.now()}.stop`)
  const script = `
import os, sys, time, json
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
bs, secs, parts, rf, stop = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
a = AdminClient({'bootstrap.servers': bs})
for f in a.create_topics([NewTopic('t', parts, rf, config={'min.insync.replicas': str(min(2, rf))})]).values():
    try: f.result(30)
    except Exception as ex: print('create:', ex, file=sys.stderr)
p = Producer({'bootstrap.servers': bs, 'acks': 'all', 'enable.idempotence': True, 'linger.ms': 5, 'message.timeout.ms': 120000})
acked = set()
def cb(err, msg):
    if err is None: acked.add(msg.value().decode())
end = time.time() + secs
n = 0
reported = 0
while time.time() < end:
    try:
        p.produce('t', str(n).encode(), callback=cb)
    except BufferError:
        p.poll(0.1)
        continue
    n += 1
    p.poll(0)
    if n % 100 == 0:
        time.sleep(0.01)
        if time.time() - reported >= 0.2:
            print('acked', len(acked), flush=True)
            reported = time.time()
        if os.path.exists(stop): break
p.flush(120)
c = Consumer({'bootstrap.servers': bs, 'group.id': 'verify', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.assign([TopicPartition('t', i, 0) for i in range(parts)])
got = set()
idle = 0
while idle < 8:
    m = c.poll(1.0)
    if m is None:
        idle += 1
        continue
    if m.error(): continue
    idle = 0
    got.add(m.value().decode())
print(json.dumps({'sent': n, 'acked': len(acked), 'lost': len(acked - got)}))
`
  const child = spawn('/usr/bin/python3', ['-c', script, bootstrap, String(maxSeconds), String(partitions), String(rf), stopFile], {stdio: ['ignore', 'pipe', 'pipe'], cwd: dir})
  let buffered = ''
  let last = ''
  let err = ''
  let acked = 0
  child.stdout!.on('data', d => {
    buffered += d
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      const m = /^acked (\d+)$/.exec(line)
      if (m) acked = Number(m[1])
      else if (line !== '') last = line
    }
  })
  child.stderr!.on('data', d => { err = (err + d).slice(-3000) })
  const done = new Promise<{sent: number; acked: number; lost: number}>((resolve, reject) => child.on('exit', code => {
    if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last))
    else reject(new Error(`producer exited with ${code}: ${err}`))
  }))
  done.catch(() => {}) // observed by the caller through done
  return {
    acked: () => acked,
    async waitForAcked(n, what, timeoutMs = 60000) {
      // Fails at once when the producer ends (or fails) first.
      const ended = done.then(() => { throw new Error(`the producer ended before ${what}`) })
      ended.catch(() => {})
      await Promise.race([waitFor(() => acked >= n, timeoutMs, `${what} (${n} acknowledged records)`, 50), ended])
    },
    stop: () => writeFileSync(stopFile, ''),
    done,
  }
}


/** kafkit brokers (kafka-server-start, as a user runs it) with zookeeper.connect listing an ensemble's servers. */
export class KafkitBrokers {
  readonly brokers: Array<{port: number; child: ChildProcess | null; out: string; disconnects: number; newSessions: number}> = []

  private constructor(readonly e: Ensemble) {}

  static async create(e: Ensemble, n: number): Promise<KafkitBrokers> {
    const b = new KafkitBrokers(e)
    for (let i = 0; i < n; i++) b.brokers.push({port: await freePort(), child: null, out: '', disconnects: 0, newSessions: 0})
    return b
  }

  start(i: number): void {
    const b = this.brokers[i]
    const e = this.e
    b.out = ''
    b.child = spawn(process.execPath, [join(binDir, 'kafka-server-start.js'), join(repoRoot, 'config', 'server.properties'),
      '--override', `broker.id=${i + 1}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${b.port}`, '--override', `log.dirs=${join(e.root, `kafka-${i + 1}`)}`,
      '--override', `zookeeper.connect=${e.connectString()}`, '--override', `offsets.topic.replication.factor=${this.brokers.length}`, '--override', 'zookeeper.session.timeout.ms=6000'],
    {env: {...process.env, KAFKIT_RUN_DIR: e.runDir}, stdio: ['ignore', 'pipe', 'pipe']})
    live.add(b.child)
    const c = b.child
    c.once('exit', () => live.delete(c))
    // What the broker's ZooKeeper client went through, counted line by line (out keeps a tail only).
    let partial = ''
    const count = (d: Buffer) => {
      const lines = (partial + d).split('\n')
      partial = lines.pop()!
      for (const l of lines) {
        if (l.includes('Disconnected from ZooKeeper; waiting to reconnect')) b.disconnects++
        if (l.includes('opening a new session')) b.newSessions++
      }
    }
    c.stdout!.on('data', d => { b.out = (b.out + d).slice(-20000); count(d) })
    c.stderr!.on('data', d => { b.out = (b.out + d).slice(-20000); count(d) })
  }

  startAll(): void {
    for (let i = 0; i < this.brokers.length; i++) this.start(i)
  }

  async kill(i: number): Promise<void> {
    const c = this.brokers[i].child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise(r => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
  }

  async killAll(): Promise<void> {
    for (let i = 0; i < this.brokers.length; i++) await this.kill(i)
  }

  bootstrap(): string {
    return this.brokers.map(b => `127.0.0.1:${b.port}`).join(',')
  }

  tail(n = 1500): string {
    return this.brokers.map((b, i) => `--- broker ${i + 1}:\n${b.out.slice(-n)}`).join('\n')
  }

  /** Waits until every broker is registered in /brokers/ids. */
  async waitRegistered(timeoutMs = 60000): Promise<void> {
    const want = String(this.brokers.length)
    await waitFor(async () => (await this.e.kazoo(this.e.connectString(), "c.sync('/'); print(len(c.get_children('/brokers/ids')) if c.exists('/brokers/ids') else 0)")) === want, timeoutMs, `${want} brokers registered`, 200)
  }
}

/**
 * What the brokers hold in ZooKeeper: each registration's ephemeralOwner (the broker's session),
 * the controller's broker id and the owner of /controller, and /controller_epoch. A broker whose
 * session moved to another server keeps all of it; a re-created session changes it.
 */
export async function brokerZkState(e: Ensemble): Promise<string> {
  return e.kazoo(e.connectString(), `
c.sync('/')
ids = {i: '%x' % c.get('/brokers/ids/' + i)[1].ephemeralOwner for i in sorted(c.get_children('/brokers/ids'))}
data, st = c.get('/controller')
print(json.dumps({'ids': ids, 'controller': json.loads(data)['brokerid'], 'controllerOwner': '%x' % st.ephemeralOwner, 'controllerEpoch': c.get('/controller_epoch')[0].decode()}, sort_keys=True))`)
}

/** The session ids (hex, no 0x) of the clients connected to member i now (cons). */
export async function sessionsOn(e: Ensemble, i: number): Promise<string[]> {
  const out = await fourLetter(e.members[i].clientPort, 'cons', 5000).catch(() => '')
  return [...out.matchAll(/sid=0x([0-9a-f]+)/g)].map(m => m[1])
}

/**
 * kill -9 of ensemble member i under load, a quorum of the others serving again, then i back as
 * a follower. Returns the sessions that were connected to i (they had to move).
 */
export async function killAndRestartZk(e: Ensemble, i: number): Promise<string[]> {
  const held = await sessionsOn(e, i)
  await e.kill(i)
  await e.waitForLeader(30000)
  e.start(i)
  await waitFor(async () => (await e.mode(i)) === 'follower', 60000, `ZooKeeper server ${i + 1} back as a follower`, 100)
  await e.waitForLeader(30000)
  return held
}

/** Of the running followers, the one with the most of these sessions connected. */
export async function busiestFollower(e: Ensemble, sessions: string[]): Promise<number> {
  const leader = await e.waitForLeader(30000)
  let best = -1
  let most = -1
  for (let i = 0; i < e.members.length; i++) {
    if (i === leader || !e.running(i)) continue
    const n = (await sessionsOn(e, i)).filter(s => sessions.includes(s)).length
    if (n > most) { best = i; most = n }
  }
  return best
}
