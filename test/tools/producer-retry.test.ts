// A lost acknowledgement, made on purpose: a TCP proxy in front of a kafkit broker (which
// advertises the proxy's address) forwards every request but, once, swallows the answer to a
// Produce request and drops the connection — the batch is in the log, the producer does not
// know it. Kafka 3.9's producer is idempotent by default, so its retry is recognised by the
// broker and written once (issue 13: 150,001 records after 150,000 sent). With
// enable.idempotence=false the same loss writes the batch twice, which shows the test sees
// the difference.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, connect as netConnect, type Server, type Socket} from 'node:net'
import {freePort, runCommand} from '../helpers/util.js'
import {startCluster, type Cluster} from '../../src/api/start-cluster.js'
import {GroupAdmin, LATEST_TIMESTAMP} from '../../src/core/client/groups.js'

/** Forwards Kafka frames both ways; drops the connection instead of the Nth Produce answer. */
class LossyProxy {
  private server: Server | undefined
  private produceAnswers = 0
  dropAt = -1
  dropped = 0

  constructor(private readonly target: {host: string; port: number}) {}

  listen(port: number): Promise<void> {
    this.server = createServer(client => this.pipe(client))
    return new Promise(res => this.server!.listen(port, '127.0.0.1', () => res()))
  }

  private pipe(client: Socket): void {
    const broker = netConnect(this.target.port, this.target.host)
    const apiOf = new Map<number, number>()
    let up = Buffer.alloc(0)
    let down = Buffer.alloc(0)
    const kill = () => { client.destroy(); broker.destroy() }
    client.on('error', kill)
    broker.on('error', kill)
    client.on('close', kill)
    broker.on('close', kill)
    client.on('data', d => {
      up = Buffer.concat([up, d])
      while (up.length >= 4 && up.length >= 4 + up.readInt32BE(0)) {
        const size = up.readInt32BE(0)
        apiOf.set(up.readInt32BE(8), up.readInt16BE(4))
        broker.write(up.subarray(0, 4 + size))
        up = up.subarray(4 + size)
      }
    })
    broker.on('data', d => {
      down = Buffer.concat([down, d])
      while (down.length >= 4 && down.length >= 4 + down.readInt32BE(0)) {
        const size = down.readInt32BE(0)
        const frame = down.subarray(0, 4 + size)
        down = down.subarray(4 + size)
        if (apiOf.get(frame.readInt32BE(4)) === 0 && this.produceAnswers++ === this.dropAt) {
          this.dropped++
          kill()
          return
        }
        client.write(frame)
      }
    })
  }

  /** Counts Produce answers from zero again (dropAt counts from here). */
  produceAnswersReset(): void {
    this.produceAnswers = 0
  }

  close(): Promise<void> {
    return new Promise(res => (this.server ? this.server.close(() => res()) : res()))
  }
}

let cluster: Cluster | undefined
let proxy: LossyProxy | undefined
let P = ''

before(async () => {
  const proxyPort = await freePort()
  cluster = await startCluster({brokers: 1, brokerConfig: {'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}`}})
  const [host, port] = cluster.bootstrapServers[0].split(':')
  proxy = new LossyProxy({host, port: Number(port)})
  await proxy.listen(proxyPort)
  P = `127.0.0.1:${proxyPort}`
})

after(async () => {
  await proxy?.close()
  await cluster?.stop()
})

async function endOffset(topic: string): Promise<number> {
  const admin = new GroupAdmin(P, {timeoutMs: 20000})
  try {
    return (await admin.listOffsets([{topic, partition: 0}], LATEST_TIMESTAMP)).get(`${topic}\0${0}`) ?? -1
  } finally {
    admin.close()
  }
}

const perf = (topic: string, n: number, ...props: string[]) => runCommand('kafka-producer-perf-test', ['--topic', topic, '--num-records', String(n), '--record-size', '100', '--throughput', '-1', '--producer-props', `bootstrap.servers=${P}`, 'batch.size=2000', ...props])

test('a Produce answer lost after the append: the idempotent producer\'s retry is not written twice', async () => {
  assert.equal((await runCommand('kafka-topics', ['--bootstrap-server', P, '--create', '--topic', 'lost-ack', '--partitions', '1', '--replication-factor', '1'])).code, 0)
  proxy!.produceAnswersReset()
  proxy!.dropAt = 20
  const dropped = proxy!.dropped
  const r = await perf('lost-ack', 20000)
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.equal(proxy!.dropped, dropped + 1, 'the proxy dropped one answer')
  assert.match(r.stdout, /^20000 records sent, /m)
  // The retry was announced as Java's Sender announces it, and recognised by the broker.
  assert.match(r.stderr, /WARN \[Producer clientId=perf-producer-client\] Got error produce response with correlation id \d+ on topic-partition lost-ack-0, retrying \(2147483646 attempts left\)\. Error: NETWORK_EXCEPTION\. Error Message: Disconnected from node 0 \(org\.apache\.kafka\.clients\.producer\.internals\.Sender\)/)
  assert.equal(await endOffset('lost-ack'), 20000)
})

test('the same loss with enable.idempotence=false writes the batch twice (what the test would catch)', async () => {
  assert.equal((await runCommand('kafka-topics', ['--bootstrap-server', P, '--create', '--topic', 'lost-ack-plain', '--partitions', '1', '--replication-factor', '1'])).code, 0)
  proxy!.produceAnswersReset()
  proxy!.dropAt = 20
  const r = await perf('lost-ack-plain', 20000, 'enable.idempotence=false')
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.ok(await endOffset('lost-ack-plain') > 20000, 'a duplicate batch in the log')
})

test('the console producer through the same loss: each line once, in order', async () => {
  assert.equal((await runCommand('kafka-topics', ['--bootstrap-server', P, '--create', '--topic', 'lost-ack-lines', '--partitions', '1', '--replication-factor', '1'])).code, 0)
  proxy!.produceAnswersReset()
  proxy!.dropAt = 2
  const lines = Array.from({length: 3000}, (_, i) => `line ${i}`)
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', P, '--topic', 'lost-ack-lines', '--batch-size', '2000', '--timeout', '0'], {input: lines.join('\n') + '\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', P, '--topic', 'lost-ack-lines', '--from-beginning', '--timeout-ms', '3000'])
  assert.equal(c.stdout, lines.join('\n') + '\n')
})
