// kafka-delete-records against a real broker (kafkit's, or Apache Kafka 3.9's with
// KAFKIT_TOOLS_TARGET=apache), compared with Apache Kafka 3.9's own kafka-delete-records when
// it is installed: the same lines in the same order; bad files and flags give Kafka's line.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, removeDir, tempDir, waitFor} from '../helpers/util.js'
import {startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {apacheScript, errorLine, runApache} from './admin-scripts.js'

let cluster: Cluster | undefined
let B = ''
const dir = tempDir('kafkit-delete-records-')
const apache = apacheScript('kafka-delete-records') ? undefined : 'Apache Kafka 3.9\'s kafka-delete-records is not installed (../shared/tools/apache-kafka)'
const del = (...args: string[]) => runCommand('kafka-delete-records', args)
let n = 0
const file = (content: unknown) => {
  const f = join(dir, `offsets-${n++}.json`)
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content))
  return f
}
const shortTimeout = join(dir, 'short.properties')

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-delete-records tests need a broker: ${reason}`)
  writeFileSync(shortTimeout, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
  cluster = await startCluster()
  B = cluster.bootstrap
  for (const t of ['del-a', 'del-b']) {
    const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', t, '--partitions', '3'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  }
  const lines = Array.from({length: 60}, (_, i) => `k${i}:v${i}`).join('\n') + '\n'
  for (const t of ['del-a', 'del-b']) {
    const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', t, '--property', 'parse.key=true', '--property', 'key.separator=:'], {input: lines})
    assert.equal(p.code, 0, p.stderr)
  }
  await waitFor(async () => {
    const r = await runCommand('kafka-get-offsets', ['--bootstrap-server', B, '--topic', 'del-.*'])
    return r.stdout.split('\n').filter(l => /:[1-9]\d*$/.test(l)).length === 6
  }, 20000, 'records in every partition')
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

test('deletes records before the offsets; prints the low watermarks', async () => {
  const f = file({partitions: [{topic: 'del-a', partition: 0, offset: 2}, {topic: 'del-a', partition: 1, offset: -1}], version: 1})
  const r = await del('--bootstrap-server', B, '--offset-json-file', f)
  assert.equal(r.stderr, '')
  assert.equal(r.code, 0)
  const lines = r.stdout.split('\n')
  assert.equal(lines[0], 'Executing records delete operation')
  assert.equal(lines[1], 'Records delete operation completed:')
  assert.deepEqual(lines.slice(2).filter(Boolean).sort(), ['partition: del-a-0\tlow_watermark: 2', (await hw('del-a', 1)).replace(/^/, 'partition: del-a-1\tlow_watermark: ')].sort())
  const earliest = await runCommand('kafka-get-offsets', ['--bootstrap-server', B, '--topic', 'del-a', '--partitions', '0', '--time', 'earliest'])
  assert.equal(earliest.stdout, 'del-a:0:2\n')
})

async function hw(topic: string, partition: number): Promise<string> {
  const r = await runCommand('kafka-get-offsets', ['--bootstrap-server', B, '--topic', topic, '--partitions', String(partition)])
  return r.stdout.trim().split(':')[2]
}

test('same output as Apache\'s kafka-delete-records (order, errors)', {skip: apache}, async () => {
  const specs: unknown[] = [
    {partitions: [{topic: 'del-b', partition: 2, offset: 1}, {topic: 'del-b', partition: 0, offset: 1}, {topic: 'del-b', partition: 1, offset: 1}, {topic: 'del-a', partition: 2, offset: 3}]},
    {partitions: [{topic: 'del-b', partition: 0, offset: 100000}], version: 1},
    {partitions: []},
  ]
  for (const spec of specs) {
    const f = file(spec)
    // kafkit first, then Apache: deleting before the same offset again answers the same.
    const k = await del('--bootstrap-server', B, '--offset-json-file', f)
    const a = await runApache('kafka-delete-records', ['--bootstrap-server', B, '--offset-json-file', f])
    assert.equal(k.stdout, a.stdout, JSON.stringify(spec))
    assert.equal(k.code, a.code)
  }
})

test('an unknown topic times out after default.api.timeout.ms, as Kafka\'s', async () => {
  const f = file({partitions: [{topic: 'nope', partition: 0, offset: 1}, {topic: 'del-b', partition: 0, offset: 1}]})
  const r = await del('--bootstrap-server', B, '--offset-json-file', f, '--command-config', shortTimeout)
  assert.equal(r.code, 0)
  assert.match(r.stdout, /\npartition: nope-0\terror: org\.apache\.kafka\.common\.errors\.TimeoutException: Call\(callName=deleteRecords\(api=METADATA\), deadlineMs=\d+, tries=\d+, nextAllowedTryMs=\d+\) timed out at \d+ after \d+ attempt\(s\)\n/)
  assert.match(r.stdout, /\npartition: del-b-0\tlow_watermark: \d+\n/)
})

test('bad input: Kafka\'s message on stderr, exit 1', async () => {
  const cases: [string[], string][] = [
    [[], 'This tool helps to delete records of the given partitions down to the specified offset.'],
    [['--bootstrap-server', B], 'Missing required argument "[offset-json-file]"'],
    [['--offset-json-file', 'x.json'], 'Missing required argument "[bootstrap-server]"'],
    [['--bootstrap-server', B, '--bogus'], 'bogus is not a recognized option'],
    [['--bootstrap-server', B, '--offset-json-file', join(dir, 'missing.json')], `Unable to read file ${join(dir, 'missing.json')}`],
    [['--bootstrap-server', B, '--offset-json-file', file('{"partitions": [')], 'The input string is not a valid JSON'],
    [['--bootstrap-server', B, '--offset-json-file', file({version: 2, partitions: []})], 'Not supported version field value 2'],
    [['--bootstrap-server', B, '--offset-json-file', file({version: 1})], 'Missing partitions field'],
    [['--bootstrap-server', B, '--offset-json-file', file([1])], 'Expected JSON object, received [1]'],
    [['--bootstrap-server', B, '--offset-json-file', file({partitions: {}})], 'Expected JSON array, received {}'],
    [['--bootstrap-server', B, '--offset-json-file', file({partitions: [{topic: 'a', partition: 'x', offset: 1}]})], 'Expected `Integer` value, received "x"'],
    [['--bootstrap-server', B, '--offset-json-file', file({partitions: [{topic: 'a', offset: 1}]})], 'No such field exists: `partition`'],
    [['--bootstrap-server', B, '--offset-json-file', file({partitions: [{topic: 7, partition: 0, offset: 1}]})], 'Expected `String` value, received 7'],
    [['--bootstrap-server', B, '--offset-json-file', file({partitions: [{topic: 'a', partition: 0, offset: 1}, {topic: 'a', partition: 0, offset: 2}]})], 'Offset json file contains duplicate topic partitions: a-0'],
  ]
  for (const [args, line] of cases) {
    const r = await del(...args)
    assert.equal(r.stdout, '', args.join(' '))
    assert.equal(r.stderr, line + '\n', args.join(' '))
    assert.equal(r.code, 1, args.join(' '))
    if (!apache) {
      const a = await runApache('kafka-delete-records', args)
      assert.equal(errorLine(a.stderr), line, `Apache: ${args.join(' ')}`)
      assert.equal(a.code, 1)
    }
  }
})

test('unreachable broker: each partition times out as Kafka\'s; a bad admin config stops first', async () => {
  const f = file({partitions: [{topic: 'a', partition: 0, offset: 1}]})
  const cfg = join(dir, 'unreachable.properties')
  writeFileSync(cfg, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
  const args = ['--bootstrap-server', '127.0.0.1:1', '--offset-json-file', f, '--command-config', cfg]
  const r = await del(...args)
  assert.equal(r.stdout, 'Executing records delete operation\nRecords delete operation completed:\npartition: a-0\terror: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: deleteRecords(api=METADATA)\n')
  assert.equal(r.code, 0)
  const bad = join(dir, 'bad.properties')
  writeFileSync(bad, 'default.api.timeout.ms=2000\n')
  const b = await del('--bootstrap-server', '127.0.0.1:1', '--offset-json-file', f, '--command-config', bad)
  assert.equal(b.stderr, 'Failed to create new KafkaAdminClient\n')
  assert.equal(b.code, 1)
  if (!apache) {
    const a = await runApache('kafka-delete-records', args)
    assert.equal(a.stdout, r.stdout)
    assert.equal(errorLine((await runApache('kafka-delete-records', ['--bootstrap-server', '127.0.0.1:1', '--offset-json-file', f, '--command-config', bad])).stderr), 'Failed to create new KafkaAdminClient')
  }
})
