// kafka-e2e-latency on kafkit's client core against a real broker (kafkit's or Apache Kafka
// 3.9's, KAFKIT_TOOLS_TARGET picks): Kafka's output lines (latencies vary, so the format is
// compared with Apache's tool, not the numbers); bad input as Apache's tool reports it.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, tempDir} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {runApacheInspect} from './apache-inspect.js'
import {JavaRandom, javaDoubleString} from '../../src/core/client/java-compat.js'

let cluster: Cluster | undefined

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-e2e-latency tests need a broker: ${reason}`)
  cluster = await startCluster()
})

after(async () => {
  await cluster?.stop()
})

const shape = (out: string) => out.replace(/"e2e-[a-z]+"/g, '"T"').replace(/\d+(\.\d+)?(E-?\d+)?/g, 'N')

test('java.util.Random and Double.toString as Java has them', () => {
  const r = new JavaRandom(0)
  // new java.util.Random(0).nextInt(26) x5 in Java 17: 18 18 23 21 13
  assert.deepEqual([r.nextInt(26), r.nextInt(26), r.nextInt(26), r.nextInt(26), r.nextInt(26)], [18, 18, 23, 21, 13])
  assert.equal(javaDoubleString(12), '12.0')
  assert.equal(javaDoubleString(0.5997319999999999), '0.5997319999999999')
  assert.equal(javaDoubleString(0.0001), '1.0E-4')
})

test('creates the topic, measures, prints progress, average and percentiles as Kafka does', async () => {
  const k = await runCommand('kafka-e2e-latency', [cluster!.bootstrap, 'e2e-kafkit', '1001', 'all', '100'], {timeoutMs: 120000})
  assert.equal(k.code, 0, k.stderr)
  assert.equal(k.stderr, '')
  const lines = k.stdout.split('\n')
  assert.equal(lines[0], 'Topic "e2e-kafkit" does not exist. Will create topic with 1 partition(s) and replication factor = 1')
  assert.match(lines[1], /^0\t\d+\.\d+(E-\d+)?$/)
  assert.match(lines[2], /^1000\t\d+\.\d+(E-\d+)?$/)
  assert.match(lines[3], /^Avg latency: \d+\.\d{4} ms$/)
  assert.match(lines[4], /^Percentiles: 50th = \d+, 99th = \d+, 99\.9th = \d+$/)
  assert.equal(lines.length, 6)
  // The topic exists now: no creation line.
  // Equal values among the arguments keep their places (acks 1, size 1, 1 message).
  const again = await runCommand('kafka-e2e-latency', [cluster!.bootstrap, 'e2e-kafkit', '1', '1', '1'])
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stdout, /^0\t[\d.E-]+\nAvg latency: [\d.]+ ms\nPercentiles: 50th = \d+, 99th = \d+, 99\.9th = \d+\n$/)
  if (apacheKafkaHome()) {
    const a = await runApacheInspect('kafka-e2e-latency', [cluster!.bootstrap, 'e2e-apache', '1001', 'all', '100'], {timeoutMs: 120000})
    assert.equal(a.code, 0, a.stderr)
    assert.equal(shape(k.stdout), shape(a.stdout))
  }
})

test('bad input: Kafka\'s message, exit 1', async () => {
  const B = cluster!.bootstrap
  const cases: [string[], string][] = [
    [[], 'USAGE: kafka-e2e-latency broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file'],
    [[B, 't', '10', '1'], 'USAGE: kafka-e2e-latency broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file'],
    [[B, 't', 'x', '1', '10'], 'For input string: "x"'],
    [[B, 't', '10', '1', '1.5'], 'For input string: "1.5"'],
    [[B, 't', '10', '0', '10'], 'Latency testing requires synchronous acknowledgement. Please use 1 or all'],
  ]
  for (const [args, line] of cases) {
    const k = await runCommand('kafka-e2e-latency', args)
    assert.equal(k.code, 1, args.join(' '))
    assert.equal(k.stdout, '')
    assert.equal(k.stderr, line + '\n')
    if (apacheKafkaHome()) {
      const a = await runApacheInspect('kafka-e2e-latency', args)
      assert.equal(a.stderr.split('\n')[0].replace('java org.apache.kafka.tools.EndToEndLatency', 'kafka-e2e-latency'), line)
    }
  }
  const dir = tempDir('kafkit-e2e-test-')
  try {
    const props = join(dir, 'short.properties')
    writeFileSync(props, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
    const down = await runCommand('kafka-e2e-latency', [`127.0.0.1:${await freePort()}`, 't', '10', '1', '10', props])
    assert.equal(down.code, 1)
    assert.equal(down.stderr.split('\n').filter(l => l && !/ WARN /.test(l)).join('\n'), 'Timeout expired while fetching topic metadata')
  } finally {
    removeDir(dir)
  }
  const noFile = await runCommand('kafka-e2e-latency', [B, 't', '10', '1', '10', 'missing.properties'])
  assert.equal(noFile.code, 1)
  assert.equal(noFile.stderr.trim().split('\n').length, 1)
})
