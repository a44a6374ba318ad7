// Helpers for the security tests: a kafkit broker with several listeners (as a user starts it,
// kafka-server-start with --override), and runners for the peers with a security config:
// kcat, confluent-kafka (python), Apache Kafka 3.9's Java console tools and admin scripts.
import {writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, tempDir, repoRoot} from '../helpers/util.js'
import {startBrokerProc, exec, PYTHON, KCAT, type BrokerProc, type ExecResult} from '../broker/helpers.js'
import {apacheKafkaHome} from '../tools/apache-kafka.js'

export {PYTHON, KCAT}

export interface SecureBroker extends BrokerProc {
  ports: Record<string, number>
  /** host:port of a listener. */
  addr(listener: string): string
}

/**
 * Starts kafkit's broker with the given listeners (name -> protocol) on free ports, e.g.
 * {PLAINTEXT: 'PLAINTEXT', SSL: 'SSL'}; overrides are server.properties lines.
 */
export async function startSecureBroker(zkConnect: string, listeners: Record<string, string>, overrides: string[] = [], opts: {dir?: string; brokerId?: number; ports?: Record<string, number>; env?: NodeJS.ProcessEnv} = {}): Promise<SecureBroker> {
  const ports: Record<string, number> = {}
  for (const name of Object.keys(listeners)) ports[name] = opts.ports?.[name] ?? await freePort()
  const first = Object.keys(listeners)[0]
  const listenerList = Object.keys(listeners).map(n => `${n}://127.0.0.1:${ports[n]}`).join(',')
  const map = Object.entries(listeners).map(([n, p]) => `${n}:${p}`).join(',')
  const b = await startBrokerProc(zkConnect, [
    `listeners=${listenerList}`,
    `listener.security.protocol.map=${map}`,
    ...(opts.brokerId !== undefined ? [`broker.id=${opts.brokerId}`] : []),
    ...overrides,
  ], {port: ports[first], dir: opts.dir, env: opts.env})
  return Object.assign(b, {ports, addr: (l: string) => `127.0.0.1:${ports[l]}`})
}

/** Writes a client .properties file (for Apache's tools) and returns its path. */
export function clientProps(dir: string, name: string, props: Record<string, string>): string {
  const file = join(dir, `${name}.properties`)
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`).join('\n') + '\n')
  return file
}

/** Runs one of Apache Kafka 3.9's scripts (kafka-acls, kafka-configs, console tools). */
export function apacheTool(tool: string, args: string[], opts: {input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv} = {}): Promise<ExecResult> {
  const home = apacheKafkaHome()
  if (!home) return Promise.reject(new Error('Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9'))
  return exec(join(home, 'bin', tool), args, {timeoutMs: opts.timeoutMs ?? 60000, input: opts.input, env: {KAFKA_HEAP_OPTS: '-Xmx256M', ...opts.env}})
}

export function apacheSkip(): string | false {
  return apacheKafkaHome() ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka)'
}

export function peerSkip(...bins: string[]): string | false {
  for (const b of bins) if (!existsSync(b)) return `${b} is not installed (run /work/shared/tools/install-peers)`
  return false
}

export interface PyResult {
  delivered: number
  consumed: number
  values: string[]
  errors: string[]
  /** Throttle events librdkafka reported (responses with throttle_time_ms > 0) and the largest. */
  throttles: number
  max_throttle_ms: number
  produce_seconds: number
  /** consume: from the first message to the last. */
  consume_seconds: number
}

/** confluent-kafka with librdkafka keys: roundtrip | produce | consume. */
export async function pyClient(bootstrap: string, topic: string, count: number, mode: 'roundtrip' | 'produce' | 'consume', config: Record<string, string | number>): Promise<PyResult> {
  const r = await exec(PYTHON, [join(scriptDir, 'secure_client.py'), bootstrap, topic, String(count), mode, JSON.stringify(config)], {timeoutMs: 90000})
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as PyResult
  } catch {
    throw new Error(`secure_client.py failed (${r.code}): ${r.stderr.slice(-2000)}`)
  }
}

export const scriptDir = join(repoRoot, 'test', 'security', 'py')

export function scratch(prefix = 'kafkit-sec-'): string {
  return tempDir(prefix)
}

export interface ApacheBroker {
  proc: import('../helpers/util.js').Proc
  ports: Record<string, number>
  addr(listener: string): string
  dir: string
  stop(): Promise<void>
}

/**
 * Starts Apache Kafka 3.9's broker (ZooKeeper mode) with the same kind of listeners and
 * overrides, for differential tests; jvmOpts take -Djava.security.auth.login.config=... etc.
 */
export async function startApacheBroker(zkConnect: string, listeners: Record<string, string>, overrides: string[] = [], opts: {jvmOpts?: string[]; brokerId?: number} = {}): Promise<ApacheBroker> {
  const home = apacheKafkaHome()
  if (!home) throw new Error('Apache Kafka 3.9 is not installed')
  const {spawn} = await import('node:child_process')
  const {Proc, waitFor} = await import('../helpers/util.js')
  const dir = tempDir('kafkit-apache-broker-')
  const ports: Record<string, number> = {}
  for (const n of Object.keys(listeners)) ports[n] = await freePort()
  const props = join(dir, 'server.properties')
  writeFileSync(props, [
    `broker.id=${opts.brokerId ?? 0}`,
    `log.dirs=${join(dir, 'logs')}`,
    `zookeeper.connect=${zkConnect}`,
    `listeners=${Object.keys(listeners).map(n => `${n}://127.0.0.1:${ports[n]}`).join(',')}`,
    `listener.security.protocol.map=${Object.entries(listeners).map(([n, p]) => `${n}:${p}`).join(',')}`,
    'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=4', 'transaction.state.log.replication.factor=1', 'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0', 'num.partitions=1',
    ...overrides,
    '',
  ].join('\n'))
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
  const child = spawn(java, ['-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home, 'config', 'log4j.properties')}`, `-Dkafka.logs.dir=${join(dir, 'applogs')}`, ...(opts.jvmOpts ?? []), '-cp', join(home, 'libs', '*'), 'kafka.Kafka', props], {stdio: ['ignore', 'pipe', 'pipe']})
  const proc = new Proc(child)
  let exited = false
  void proc.exited.then(() => { exited = true })
  await waitFor(() => { if (exited) throw new Error(`Apache Kafka exited: ${proc.output.slice(-3000)}`); return /\[KafkaServer id=\d+\] started/.test(proc.output) }, 90000, 'Apache Kafka to start')
  return {
    proc, ports, dir,
    addr: (l: string) => `127.0.0.1:${ports[l]}`,
    async stop() {
      await proc.stop('SIGKILL')
      const {removeDir} = await import('../helpers/util.js')
      removeDir(dir)
    },
  }
}
