// startCluster: a real multi-broker Kafka cluster (kafkit's brokers on kafkit's ZooKeeper) in
// the calling process, on free ports in a temporary directory, for test suites:
//
//   import {startCluster} from 'kafkit'
//   const cluster = await startCluster({brokers: 3})
//   new Kafka({brokers: cluster.bootstrapServers})  // kafkajs, or any other client
//   await cluster.stopBroker(1); await cluster.startBroker(1)  // fail-over
//   await cluster.stop()
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startBroker, type KafkaBroker} from '../core/broker/index.js'
import {startZooKeeperServer, defaultZkConfig, type RunningZooKeeper} from '../core/zookeeper/index.js'
import {setLogSink} from '../core/util/log.js'

export interface ClusterOptions {
  /** Number of brokers, ids 0..n-1 (default 1). */
  brokers?: number
  /** server.properties settings for every broker, over the test defaults below. */
  brokerConfig?: Record<string, string | number | boolean>
  /** An existing ZooKeeper (host:port[/chroot]) instead of an embedded kafkit ZooKeeper. */
  zookeeperConnect?: string
  /** Where data goes (default: a new temporary directory, removed by stop()). */
  dir?: string
  /**
   * Receives the servers' log lines. Default: dropped. The log sink is process-wide, so this
   * also applies to any other kafkit server running in the same process.
   */
  log?: (line: string) => void
  /** How long start-up may take before it fails (default 30 s). */
  timeoutMs?: number
}

export interface Cluster {
  /** host:port of every broker, for a client's bootstrap list. */
  readonly bootstrapServers: string[]
  /** The ZooKeeper connect string the brokers use. */
  readonly zookeeperConnect: string
  /** The running brokers by id (a stopped broker's entry is null). */
  readonly brokers: Array<KafkaBroker | null>
  /** Stops one broker, as a crash would look to clients (its data stays). */
  stopBroker(id: number): Promise<void>
  /** Starts a stopped broker again, on the same port and data. */
  startBroker(id: number): Promise<void>
  /** Stops every broker and the embedded ZooKeeper, and removes the temporary directory. */
  stop(): Promise<void>
}

/**
 * Test defaults: no initial rebalance delay, the offsets topic replicated over up to three
 * brokers, and an embedded ZooKeeper without fsync (a test cluster trades durability across
 * machine crashes for speed; the brokers' logs are written as usual).
 */
function brokerSettings(id: number, n: number, port: number, zk: string, dir: string, extra: Record<string, string | number | boolean>): Record<string, string | number | boolean> {
  return {
    'broker.id': id,
    'listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'log.dirs': join(dir, `broker-${id}`),
    'zookeeper.connect': zk,
    'zookeeper.session.timeout.ms': 6000,
    'num.partitions': 1,
    'offsets.topic.replication.factor': Math.min(3, n),
    'transaction.state.log.replication.factor': Math.min(3, n),
    'transaction.state.log.min.isr': Math.min(2, n),
    'group.initial.rebalance.delay.ms': 0,
    ...extra,
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`startCluster: ${what} did not happen within ${timeoutMs} ms`)
    await new Promise(r => setTimeout(r, 10))
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const n = opts.brokers ?? 1
  if (!Number.isInteger(n) || n < 1) throw new Error(`startCluster: brokers must be a positive integer, got ${opts.brokers}`)
  const timeoutMs = opts.timeoutMs ?? 30000
  setLogSink(opts.log ?? (() => {}))
  const ownDir = opts.dir === undefined
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kafkit-cluster-'))
  let zk: RunningZooKeeper | null = null
  const brokers: Array<KafkaBroker | null> = new Array(n).fill(null)
  const ports: number[] = new Array(n).fill(0)
  const cleanup = async () => {
    for (const b of brokers) await b?.stop().catch(() => {})
    await zk?.stop().catch(() => {})
    if (ownDir) rmSync(dir, {recursive: true, force: true, maxRetries: 3})
  }
  try {
    let connect = opts.zookeeperConnect
    if (connect === undefined) {
      zk = await startZooKeeperServer(defaultZkConfig({
        dataDir: join(dir, 'zookeeper'), clientPort: 0, clientPortAddress: '127.0.0.1',
        tickTime: 500, maxSessionTimeout: 60000, maxClientCnxns: 0, forceSync: false,
      }))
      connect = `127.0.0.1:${zk.port}`
    }
    const zkConnect = connect
    const start = async (id: number) => {
      const b = await startBroker(brokerSettings(id, n, ports[id], zkConnect, dir, opts.brokerConfig ?? {}))
      brokers[id] = b
      ports[id] = b.boundPorts()[0].port
    }
    // Brokers start one after another: each binds its port (0 = any free one) and keeps it.
    for (let id = 0; id < n; id++) await start(id)
    const allLive = () => brokers.every(b => b !== null && b.liveBrokers('PLAINTEXT').length === n)
    await waitFor(allLive, timeoutMs, `all ${n} brokers seeing each other`)
    return {
      bootstrapServers: ports.map(p => `127.0.0.1:${p}`),
      zookeeperConnect: zkConnect,
      brokers,
      async stopBroker(id: number) {
        const b = brokers[id]
        if (b === undefined) throw new Error(`startCluster: no broker ${id}`)
        if (b === null) return
        brokers[id] = null
        await b.stop()
      },
      async startBroker(id: number) {
        if (brokers[id] === undefined) throw new Error(`startCluster: no broker ${id}`)
        if (brokers[id] !== null) return
        await start(id)
        await waitFor(() => brokers.every(x => x === null || x.liveBrokers('PLAINTEXT').some(e => e.nodeId === id)), timeoutMs, `broker ${id} rejoining`)
      },
      stop: cleanup,
    }
  } catch (error) {
    await cleanup()
    throw error
  }
}
