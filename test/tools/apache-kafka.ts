// A one-broker cluster for the command-line tool tests, on free ports with temp dirs:
// Apache ZooKeeper + Apache Kafka 3.9 (ZooKeeper mode) from ~/.cache/apache-kafka-3.9, or
// kafkit's own broker (bin/kafka-server-start.js with the same overrides).
//
//   KAFKIT_TOOLS_TARGET=apache|kafkit  picks the broker; default: kafkit's broker when its
//   command is built, else Apache Kafka when installed. targetSkipReason() says why a
//   suite cannot run (tests pass it to `skip`).
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {connect as netConnect} from 'node:net'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, removeDir, repoRoot, tempDir, waitFor, type RunResult} from '../helpers/util.js'

const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'

/** Apache Kafka 3.9's home (bin/, libs/, config/), or undefined when not installed. */
export function apacheKafkaHome(): string | undefined {
  const home = process.env.APACHE_KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')
  return existsSync(join(home, 'libs')) ? home : undefined
}

/** True when kafkit's broker command has been built. */
export function kafkitBrokerBuilt(): boolean {
  return existsSync(join(repoRoot, 'dist', 'src', 'commands', 'kafka-server-start.js'))
}

export type Target = 'apache' | 'kafkit'

export function chosenTarget(): Target | undefined {
  const env = process.env.KAFKIT_TOOLS_TARGET
  if (env === 'apache' || env === 'kafkit') return env
  if (kafkitBrokerBuilt() && process.env.KAFKIT_TOOLS_KAFKIT !== '0') return 'kafkit'
  if (apacheKafkaHome()) return 'apache'
  return undefined
}

/** Why the broker-backed tool tests cannot run here, or undefined when they can. */
export function targetSkipReason(): string | undefined {
  const t = chosenTarget()
  if (t === undefined) return 'no broker to test against: Apache Kafka 3.9 is not in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka) and kafkit\'s kafka-server-start is not built'
  if (t === 'apache' && !apacheKafkaHome()) return 'KAFKIT_TOOLS_TARGET=apache but Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9'
  if (t === 'kafkit' && !kafkitBrokerBuilt()) return 'KAFKIT_TOOLS_TARGET=kafkit but dist/src/commands/kafka-server-start.js is not built'
  if (!zooKeeperClasspath() && !kafkitZooKeeperBuilt()) return 'no ZooKeeper server to run: neither Apache Kafka\'s libs, Debian\'s zookeeper jar nor kafkit\'s zookeeper-server-start is available'
  return undefined
}

function kafkitZooKeeperBuilt(): boolean {
  return existsSync(join(repoRoot, 'dist', 'src', 'commands', 'zookeeper-server-start.js'))
}

/** The class path to run Apache ZooKeeper's server from. */
function zooKeeperClasspath(): string | undefined {
  const home = apacheKafkaHome()
  if (home) return join(home, 'libs', '*')
  return ['/usr/share/java/zookeeper.jar', '/usr/share/zookeeper/zookeeper.jar'].find(j => existsSync(j))
}

function portOpen(port: number): Promise<boolean> {
  return new Promise(res => {
    const s = netConnect(port, '127.0.0.1', () => { s.destroy(); res(true) })
    s.on('error', () => res(false))
  })
}

class Server {
  output = ''
  exited: Promise<number | null>
  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.on('data', d => { this.output = (this.output + d.toString()).slice(-20000) })
    child.stderr?.on('data', d => { this.output = (this.output + d.toString()).slice(-20000) })
    this.exited = new Promise(r => child.on('exit', code => r(code)))
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  async stop(): Promise<void> {
    if (!this.running()) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15000)
    await this.exited
    clearTimeout(timer)
  }
}

export interface Cluster {
  target: Target
  /** host:port of the broker. */
  bootstrap: string
  port: number
  zkConnect: string
  /** The broker's log.dirs. */
  logDir: string
  stop(): Promise<void>
}

/** Starts ZooKeeper and one broker (broker.id 0) and waits until the broker serves clients. */
/** extra: more server.properties settings (as --override), over the test defaults. */
export async function startCluster(target: Target | undefined = chosenTarget(), extra: Record<string, string> = {}): Promise<Cluster> {
  const reason = targetSkipReason()
  if (reason || !target) throw new Error(reason ?? 'no broker target')
  const dir = tempDir('kafkit-tools-')
  const servers: Server[] = []
  const stop = async () => {
    for (const s of servers.reverse()) await s.stop()
    removeDir(dir)
  }
  try {
    // ZooKeeper.
    const zkPort = await freePort()
    const zkData = join(dir, 'zk')
    mkdirSync(zkData)
    const cfg = join(dir, 'zoo.cfg')
    writeFileSync(cfg, [`tickTime=500`, `dataDir=${zkData.replace(/\\/g, '/')}`, `clientPort=${zkPort}`, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=0', 'admin.enableServer=false', ''].join('\n'))
    const cp = zooKeeperClasspath()
    const zk = cp
      ? new Server('zookeeper', spawn(JAVA, ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dzookeeper.admin.enableServer=false', '-cp', cp, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {stdio: ['ignore', 'pipe', 'pipe']}))
      : new Server('zookeeper', spawn(process.execPath, [join(repoRoot, 'bin', 'zookeeper-server-start.js'), cfg], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']}))
    servers.push(zk)
    await waitFor(async () => { if (!zk.running()) throw new Error(`ZooKeeper exited: ${zk.output.slice(-2000)}`); return portOpen(zkPort) }, 30000, 'ZooKeeper to listen')
    const zkConnect = `127.0.0.1:${zkPort}`

    // Broker.
    const port = await freePort()
    const logDir = join(dir, 'kafka-logs')
    const overrides: Record<string, string> = {
      'broker.id': '0',
      'listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'log.dirs': logDir,
      'zookeeper.connect': zkConnect,
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      'num.partitions': '1',
      ...extra,
    }
    const props = join(dir, 'server.properties')
    writeFileSync(props, 'broker.id=0\n')
    const args = [props, ...Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`])]
    let broker: Server
    if (target === 'apache') {
      const home = apacheKafkaHome()!
      broker = new Server('kafka', spawn(JAVA, ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home, 'config', 'log4j.properties')}`, `-Dkafka.logs.dir=${join(dir, 'logs')}`, '-cp', join(home, 'libs', '*'), 'kafka.Kafka', ...args], {stdio: ['ignore', 'pipe', 'pipe']}))
    } else {
      broker = new Server('kafkit', spawn(process.execPath, [join(repoRoot, 'bin', 'kafka-server-start.js'), ...args], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']}))
    }
    servers.push(broker)
    await waitFor(() => { if (!broker.running()) throw new Error(`broker exited: ${broker.output.slice(-2000)}`); return /started/i.test(broker.output) }, 60000, 'the broker to start')
    await waitFor(() => portOpen(port), 10000, 'the broker to listen')
    return {target, bootstrap: `127.0.0.1:${port}`, port, zkConnect, logDir, stop}
  } catch (error) {
    await stop()
    throw error
  }
}

/** java's arguments to run `main` (a class of Apache Kafka 3.9's libs) as its bin/ scripts do, with args. */
export function apacheJavaArgs(main: string, args: string[]): string[] {
  const home = apacheKafkaHome()
  if (!home) throw new Error('Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9')
  return ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', `-Dlog4j.configuration=file:${join(home, 'config', 'tools-log4j.properties')}`, '-cp', join(home, 'libs', '*'), main, ...args]
}

/** Starts Apache Kafka 3.9's class `main` with args (java directly: no bash, Windows too). */
export function spawnApacheMain(main: string, args: string[]): ChildProcess {
  return spawn(JAVA, apacheJavaArgs(main, args), {stdio: ['pipe', 'pipe', 'pipe']})
}

/** Runs Apache Kafka 3.9's class `main` to its end with `input` on stdin; stdout, stderr, exit code. */
export function runApacheMain(main: string, args: string[], opts: {input?: string | Buffer; timeoutMs?: number} = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawnApacheMain(main, args)
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', d => out.push(d))
    child.stderr!.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${main} ${args.join(' ')} timed out`)) }, opts.timeoutMs ?? 60000)
    child.on('error', rej)
    child.on('close', code => { clearTimeout(timer); res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}) })
    child.stdin!.on('error', () => {})
    child.stdin!.end(opts.input ?? '')
  })
}

/** The main class and fixed arguments behind Apache's bin/<name> script, or undefined when not installed. */
export function apacheScript(name: string): {main: string; fixed: string[]} | undefined {
  const home = apacheKafkaHome()
  const file = home && join(home, 'bin', name)
  if (!file || !existsSync(file)) return undefined
  const m = /-cp\s+'[^']*'\s+([\w.$]+)([^"\n]*?)\s*"\$@"/.exec(readFileSync(file, 'utf8'))
  return m ? {main: m[1], fixed: m[2].trim() ? m[2].trim().split(/\s+/) : []} : undefined
}

/** Runs one of Apache Kafka's own tools (bin/<name>, via java directly) and collects output. */
export function runApacheTool(name: 'kafka-topics' | 'kafka-console-producer' | 'kafka-console-consumer', args: string[], opts: {input?: string | Buffer; timeoutMs?: number} = {}): Promise<RunResult> {
  const main = {'kafka-topics': 'org.apache.kafka.tools.TopicCommand', 'kafka-console-producer': 'kafka.tools.ConsoleProducer', 'kafka-console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer'}[name]
  return runApacheMain(main, args, opts)
}
