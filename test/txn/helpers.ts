// Test helpers for transactions: kafkit's ZooKeeper in the test process and kafkit brokers as
// child processes started the way a user starts them (kafka-server-start with --override), so
// a test can kill -9 one and start it again on the same port and log dir.
import {existsSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {freePort, removeDir, startCommand, tempDir, repoRoot, type Proc} from '../helpers/util.js'
import {waitForStart, exec, type ExecResult} from '../broker/helpers.js'
import {startZooKeeperServer, defaultZkConfig, type RunningZooKeeper} from '../../src/core/zookeeper/index.js'
import {setLogSink} from '../../src/core/util/log.js'

export {exec}
export const PYTHON = '/usr/bin/python3'
export const JAVA = '/usr/bin/java'
export const KAFKA_HOME = join(homedir(), '.cache', 'apache-kafka-3.9')
export const LIBS = join(KAFKA_HOME, 'libs')
export const apacheTool = (name: string) => join(KAFKA_HOME, 'bin', name)
export const txnPy = join(repoRoot, 'test', 'txn', 'py', 'txn_confluent.py')
export const txnJava = join(repoRoot, 'test', 'txn', 'java', 'Txn.java')

export interface TxnBroker {
  id: number
  port: number
  proc: Proc
  /** kill -9 (or SIGTERM) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
  start(): Promise<void>
}

export interface TxnCluster {
  dir: string
  zk: RunningZooKeeper
  brokers: TxnBroker[]
  bootstrap: string
  stop(): Promise<void>
}

/** Settings for small, fast test clusters (few internal partitions, quick timeout checks). */
export function txnTestConfig(n: number): Record<string, string | number> {
  return {
    'offsets.topic.num.partitions': 3,
    'offsets.topic.replication.factor': Math.min(3, n),
    'transaction.state.log.num.partitions': 3,
    'transaction.state.log.replication.factor': Math.min(3, n),
    'transaction.state.log.min.isr': Math.min(2, n),
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500,
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 1,
    'default.replication.factor': Math.min(3, n),
    'min.insync.replicas': 1,
    'zookeeper.session.timeout.ms': 6000,
    'replica.lag.time.max.ms': 5000,
  }
}

export async function startTxnCluster(n: number, extra: Record<string, string | number> = {}): Promise<TxnCluster> {
  const dir = tempDir('kafkit-txn-')
  setLogSink(() => {}) // the in-process ZooKeeper's log lines
  const zk = await startZooKeeperServer(defaultZkConfig({dataDir: join(dir, 'zookeeper'), clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 500, maxSessionTimeout: 60000, maxClientCnxns: 0, forceSync: false}))
  const zkConnect = `127.0.0.1:${zk.port}`
  const settings = {...txnTestConfig(n), ...extra}
  const brokers: TxnBroker[] = []
  for (let id = 0; id < n; id++) {
    const port = await freePort()
    const cfg = join(dir, `server-${id}.properties`)
    writeFileSync(cfg, [`broker.id=${id}`, `log.dirs=${join(dir, `broker-${id}`).replace(/\\/g, '/')}`, `zookeeper.connect=${zkConnect}`, ...Object.entries(settings).map(([k, v]) => `${k}=${v}`), ''].join('\n'))
    const args = [cfg, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`]
    const env = {KAFKIT_RUN_DIR: join(dir, 'run')}
    const b: TxnBroker = {
      id,
      port,
      proc: startCommand('kafka-server-start', args, env),
      async stop(signal: NodeJS.Signals = 'SIGKILL') {
        await b.proc.stop(signal)
      },
      async start() {
        b.proc = startCommand('kafka-server-start', args, env)
        await waitForStart(b.proc)
      },
    }
    brokers.push(b)
  }
  const cluster: TxnCluster = {
    dir, zk, brokers,
    bootstrap: brokers.map(b => `127.0.0.1:${b.port}`).join(','),
    async stop() {
      for (const b of brokers) await b.proc.stop('SIGKILL')
      await zk.stop().catch(() => {})
      removeDir(dir)
    },
  }
  try {
    await Promise.all(brokers.map(b => waitForStart(b.proc)))
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

export function requireApacheKafka(): void {
  if (!existsSync(LIBS)) throw new Error(`Apache Kafka 3.9 is not installed in ${KAFKA_HOME} (run /work/shared/tools/apache-kafka)`)
}

/** Runs Txn.java with the Kafka 3.9 client jars. */
export function javaTxn(args: string[], timeoutMs = 120000): Promise<ExecResult> {
  return exec(JAVA, ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', join(LIBS, '*'), txnJava, ...args], {timeoutMs})
}

export function pyTxn(args: string[], timeoutMs = 90000): Promise<ExecResult> {
  return exec(PYTHON, [txnPy, ...args], {timeoutMs})
}
