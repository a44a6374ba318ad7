// kafka-broker-api-versions against a real broker (kafkit's or Apache Kafka 3.9's,
// KAFKIT_TOOLS_TARGET picks), compared line for line with Apache Kafka's own tool; the format
// on its own (unknown keys, unusable ranges, missing APIs); bad input.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, tempDir} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {runApacheInspect} from './apache-inspect.js'
import {apiVersionsText, javaIntKeyOrder} from '../../src/core/client/admin/broker-versions.js'

let cluster: Cluster | undefined
const dir = tempDir('kafkit-api-versions-test-')
const tool = (...args: string[]) => runCommand('kafka-broker-api-versions', args)

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-broker-api-versions tests need a broker: ${reason}`)
  cluster = await startCluster()
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

test('format: key order, ranges, usable version, unknown and unsupported keys', () => {
  const text = apiVersionsText([
    {apiKey: 3, minVersion: 0, maxVersion: 99},
    {apiKey: 0, minVersion: 3, maxVersion: 3},
    {apiKey: 1, minVersion: 40, maxVersion: 50},
    {apiKey: 999, minVersion: 0, maxVersion: 2},
  ])
  const lines = text.split('\n')
  assert.equal(lines[0], '(')
  assert.equal(lines[1], '\tProduce(0): 3 [usable: 3],')
  assert.equal(lines[2], '\tFetch(1): 40 to 50 [unusable: node too new],')
  assert.equal(lines[3], '\tListOffsets(2): UNSUPPORTED,')
  assert.equal(lines[4], '\tMetadata(3): 0 to 99 [usable: 12],')
  assert.ok(lines.includes('\tDescribeQuorum(55): UNSUPPORTED,'), 'APIs served by brokers are listed even when missing')
  assert.ok(!text.includes('Vote('), 'controller-only APIs are not listed')
  assert.equal(lines.at(-2), '\tUNKNOWN(999): 0 to 2')
  assert.equal(lines.at(-1), ')')
  assert.equal(apiVersionsText([{apiKey: 18, minVersion: 0, maxVersion: 4}], false).slice(0, 40), '(Produce(0): UNSUPPORTED, Fetch(1): UNSU')
})

test('brokers in the order Java\'s Cluster lists them (HashMap<Integer, Node>)', () => {
  const n = (id: number) => ({id, host: 'h', port: 1, rack: null})
  assert.deepEqual(javaIntKeyOrder([n(2), n(0), n(1)]).map(x => x.id), [0, 1, 2])
  assert.deepEqual(javaIntKeyOrder([n(17), n(1), n(3)]).map(x => x.id), [17, 1, 3])
})

test('every API the broker serves, as Apache Kafka\'s tool prints it', async () => {
  const r = await tool('--bootstrap-server', cluster!.bootstrap)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.match(r.stdout, new RegExp(`^${cluster!.bootstrap.replace(/\./g, '\\.')} \\(id: 0 rack: null\\) -> \\(\n\tProduce\\(0\\): 0 to 11 \\[usable: 11\\],\n\tFetch\\(1\\): 0 to 17 \\[usable: 17\\],\n`))
  assert.match(r.stdout, /\tApiVersions\(18\): 0 to 4 \[usable: 4\],\n/)
  assert.match(r.stdout, /\n\)\n$/)
  if (apacheKafkaHome()) {
    const a = await runApacheInspect('kafka-broker-api-versions', ['--bootstrap-server', cluster!.bootstrap])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(r.stdout, a.stdout)
  }
  // --command-config is read (client.id, request.timeout.ms) and extra arguments are ignored, as Kafka's parser does.
  const cfg = join(dir, 'client.properties')
  writeFileSync(cfg, 'client.id=versions-test\nrequest.timeout.ms=3000\n')
  const withCfg = await tool('--bootstrap-server', cluster!.bootstrap, '--command-config', cfg, 'extra')
  assert.equal(withCfg.code, 0, withCfg.stderr)
  assert.equal(withCfg.stdout, r.stdout)
})

test('bad input: one line, exit 1', async () => {
  const none = await tool()
  assert.equal(none.code, 1)
  assert.equal(none.stderr, 'This tool helps to retrieve broker version information.\n')
  const missing = await tool('--command-config', 'x.properties')
  assert.equal(missing.code, 1)
  assert.equal(missing.stderr, 'Missing required argument "[bootstrap-server]"\n')
  const bogus = await tool('--bootstrap-server', cluster!.bootstrap, '--bogus')
  assert.equal(bogus.code, 1)
  assert.equal(bogus.stderr, 'bogus is not a recognized option\n')
  const noValue = await tool('--bootstrap-server')
  assert.equal(noValue.code, 1)
  assert.equal(noValue.stderr, 'Option bootstrap-server requires an argument\n')
  const noFile = await tool('--bootstrap-server', cluster!.bootstrap, '--command-config', join(dir, 'missing.properties'))
  assert.equal(noFile.code, 1)
  assert.equal(noFile.stdout, '')
  assert.equal(noFile.stderr.trim().split('\n').length, 1)
  const port = await freePort()
  const down = await tool('--bootstrap-server', `127.0.0.1:${port}`)
  assert.equal(down.code, 1)
  assert.equal(down.stdout, '')
  assert.equal(down.stderr.trim().split('\n').at(-1), `Error: Request METADATA failed on brokers List(127.0.0.1:${port} (id: -1 rack: null))`)
})
