// kafka-get-offsets against a real broker (kafkit's, or Apache Kafka 3.9's with
// KAFKIT_TOOLS_TARGET=apache), compared line for line with Apache Kafka 3.9's own
// kafka-get-offsets when it is installed; bad input gives Kafka's one line and exit code.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, removeDir, tempDir, waitFor} from '../helpers/util.js'
import {startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {apacheScript, both, errorLine} from './admin-scripts.js'

let cluster: Cluster | undefined
let B = ''
const dir = tempDir('kafkit-get-offsets-')
const apache = apacheScript('kafka-get-offsets') ? undefined : 'Apache Kafka 3.9\'s kafka-get-offsets is not installed (../shared/tools/apache-kafka)'
const offsets = (...args: string[]) => runCommand('kafka-get-offsets', args)

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-get-offsets tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
  for (const [t, p] of [['offs', '5'], ['offs-b', '1'], ['other', '2']]) {
    const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', t, '--partitions', p])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  }
  // Keyed records: murmur2 spreads them over offs' partitions the same way every run.
  const lines = Array.from({length: 40}, (_, i) => `k${i}:v${i}`).join('\n') + '\n'
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'offs', '--property', 'parse.key=true', '--property', 'key.separator=:'], {input: lines})
  assert.equal(p.code, 0, p.stderr)
  const q = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'offs-b'], {input: 'a\nb\nc\n'})
  assert.equal(q.code, 0, q.stderr)
  await waitFor(async () => (await offsets('--bootstrap-server', B, '--topic', 'offs.*')).stdout.split('\n').filter(l => !l.endsWith(':0')).length >= 4, 20000, 'the records to be readable')
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

test('latest offsets of a topic, sorted as Kafka sorts "topic-partition"', async () => {
  const r = await offsets('--bootstrap-server', B, '--topic', 'offs-b')
  assert.equal(r.stderr, '')
  assert.equal(r.stdout, 'offs-b:0:3\n')
  assert.equal(r.code, 0)
  const all = await offsets('--bootstrap-server', B, '--topic', 'offs')
  const lines = all.stdout.trim().split('\n')
  assert.equal(lines.length, 5)
  assert.equal(lines.reduce((n, l) => n + Number(l.split(':')[2]), 0), 40)
  const e = await offsets('--bootstrap-server', B, '--topic', 'offs', '--time', 'earliest')
  assert.equal(e.stdout, 'offs:0:0\noffs:1:0\noffs:2:0\noffs:3:0\noffs:4:0\n')
  // A timestamp later than every record: no offset, no line.
  const future = await offsets('--bootstrap-server', B, '--topic', 'offs-b', '--time', String(Date.now() + 86400000))
  assert.equal(future.stdout, '')
  assert.equal(future.code, 0)
})

const sameAsApache = [
  [],
  ['--time', '-1'],
  ['--time', '-2'],
  ['--time', 'latest', '--exclude-internal-topics'],
  ['--time', '-3', '--topic', 'offs'],
  ['--time', 'max-timestamp', '--topic', 'offs.*'],
  ['--time', '0', '--topic', 'offs,other'],
  ['--time', '99999999999999'],
  ['--topic', 'offs', '--partitions', '0,2,4'],
  ['--topic', 'offs', '--partitions', ''],
  ['--topic-partitions', 'offs:1-3,other:1,:0'],
  ['--topic-partitions', 'offs:3-,offs-b:-1'],
  ['--topic-partitions', 'o.*'],
  ['--topic-partitions', 'offs:'],
]

for (const args of sameAsApache) {
  test(`same stdout as Apache's kafka-get-offsets: ${args.join(' ') || '(all topics)'}`, {skip: apache}, async () => {
    const r = await both('kafka-get-offsets', ['--bootstrap-server', B, ...args])
    assert.equal(r.kafkit.stdout, r.apache.stdout)
    assert.equal(r.kafkit.code, r.apache.code)
    assert.equal(errorLine(r.kafkit.stderr), errorLine(r.apache.stderr))
  })
}

test('bad input: Kafka\'s one line and exit code', async () => {
  const cases: [string[], string][] = [
    [[], 'An interactive shell for getting topic-partition offsets.'],
    [['--bootstrap-server'], 'Error occurred: Option bootstrap-server requires an argument'],
    [['--topic', 'x'], 'Error occurred: Missing required option(s) [bootstrap-server]'],
    [['--bootstrap-server', B, '--bogus'], 'Error occurred: bogus is not a recognized option'],
    [['--bootstrap-server', 'nohost'], 'Please provide valid host:port like host1:9091,host2:9092'],
    [['--bootstrap-server', B, '--time', 'yesterday'], 'Error occurred: Malformed time argument yesterday. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp'],
    [['--bootstrap-server', B, '--topic', 'nope'], 'Error occurred: Could not match any topic-partitions with the specified filters'],
    [['--bootstrap-server', B, '--topic', 'offs', '--partitions', '9'], 'Error occurred: Could not match any topic-partitions with the specified filters'],
    [['--bootstrap-server', B, '--topic', 'offs', '--partitions', '1,x'], 'Error occurred: --partitions expects a comma separated list of numeric partition ids, but received: 1,x'],
    [['--bootstrap-server', B, '--topic', 'offs', '--topic-partitions', 'offs'], 'Error occurred: --topic-partitions cannot be used with --topic or --partitions'],
    [['--bootstrap-server', B, '--topic-partitions', 'offs:a'], 'Error occurred: org.apache.kafka.tools.TerseException: Invalid rule specification: offs:a'],
    [['--bootstrap-server', B, '--topic', '[x'], 'Error occurred: [x is an invalid regex.'],
  ]
  for (const [args, line] of cases) {
    const r = await offsets(...args)
    assert.equal(r.stdout, '', args.join(' '))
    assert.equal(r.stderr, line + '\n', args.join(' '))
    assert.equal(r.code, 1, args.join(' '))
    if (!apache) {
      const a = await both('kafka-get-offsets', args)
      assert.equal(errorLine(a.apache.stderr), line, `Apache: ${args.join(' ')}`)
      assert.equal(a.apache.code, 1)
    }
  }
})

test('unreachable broker: Kafka\'s timeout line after default.api.timeout.ms, exit 1', async () => {
  const cfg = join(dir, 'short.properties')
  writeFileSync(cfg, 'default.api.timeout.ms=1500\nrequest.timeout.ms=1000\n')
  const args = ['--bootstrap-server', '127.0.0.1:1', '--topic', 'x', '--command-config', cfg]
  const r = await offsets(...args)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assert.equal(errorLine(r.stderr), 'Error occurred: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listTopics')
  assert.match(r.stderr, /WARN \[AdminClient clientId=GetOffsetShell\] Connection to node -1 \(\/?127\.0\.0\.1:1\) could not be established/)
  if (!apache) {
    const a = await both('kafka-get-offsets', args)
    assert.equal(errorLine(a.apache.stderr), errorLine(r.stderr))
  }
})

test('--command-config: a missing file is one line', async () => {
  const r = await offsets('--bootstrap-server', B, '--command-config', join(dir, 'missing.properties'))
  assert.equal(r.code, 1)
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr)
})
