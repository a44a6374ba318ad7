// kafka-log-dirs --describe against a real broker (kafkit's, or Apache Kafka 3.9's with
// KAFKIT_TOOLS_TARGET=apache), compared byte for byte with Apache Kafka 3.9's own
// kafka-log-dirs when it is installed; bad input gives Kafka's line and exit code.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {removeDir, runCommand, tempDir, waitFor} from '../helpers/util.js'
import {startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {apacheScript, errorLine, runApache} from './admin-scripts.js'

let cluster: Cluster | undefined
let B = ''
const apache = apacheScript('kafka-log-dirs') ? undefined : 'Apache Kafka 3.9\'s kafka-log-dirs is not installed (../shared/tools/apache-kafka)'
const logDirs = (...args: string[]) => runCommand('kafka-log-dirs', args)

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-log-dirs tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
  for (const [t, p] of [['dirs-a', '12'], ['dirs-b', '2']]) {
    const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', t, '--partitions', p])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  }
  const lines = Array.from({length: 30}, (_, i) => `k${i}:v${i}`).join('\n') + '\n'
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'dirs-a', '--property', 'parse.key=true', '--property', 'key.separator=:'], {input: lines})
  assert.equal(p.code, 0, p.stderr)
  await waitFor(async () => (await runCommand('kafka-get-offsets', ['--bootstrap-server', B, '--topic', 'dirs-a'])).stdout.split('\n').some(l => /:[1-9]/.test(l)), 20000, 'records')
})

after(async () => {
  await cluster?.stop()
})

test('--describe: the status lines and Kafka\'s JSON', async () => {
  const r = await logDirs('--describe', '--bootstrap-server', B, '--topic-list', 'dirs-b')
  assert.equal(r.stderr, '')
  assert.equal(r.code, 0)
  const [l1, l2, json, rest] = r.stdout.split('\n')
  assert.equal(l1, 'Querying brokers for log directories information')
  assert.equal(l2, 'Received log directory information from brokers 0')
  assert.equal(rest, '')
  assert.match(json, /^\{"brokers":\[\{"broker":0,"logDirs":\[\{"partitions":\[\{"partition":"dirs-b-1","size":0,"offsetLag":0,"isFuture":false\},\{"partition":"dirs-b-0","size":0,"offsetLag":0,"isFuture":false\}\],"error":null,"logDir":"[^"]+kafka-logs"\}\]\}\],"version":1\}$/)
  const all = JSON.parse((await logDirs('--describe', '--bootstrap-server', B, '--topic-list', 'dirs-a,dirs-b')).stdout.split('\n')[2])
  const parts = all.brokers[0].logDirs[0].partitions as {partition: string; size: number}[]
  assert.equal(parts.length, 14)
  assert.ok(parts.some(p => p.size > 0))
})

for (const args of [['--topic-list', 'dirs-a'], ['--topic-list', 'dirs-a,dirs-b,nope'], ['--broker-list', '0'], ['--topic-list', ',']]) {
  test(`same output as Apache's kafka-log-dirs: ${args.join(' ')}`, {skip: apache}, async () => {
    const [k, a] = await Promise.all([logDirs('--describe', '--bootstrap-server', B, ...args), runApache('kafka-log-dirs', ['--describe', '--bootstrap-server', B, ...args])])
    assert.equal(k.stdout, a.stdout)
    assert.equal(k.code, a.code)
  })
}

test('bad input: Kafka\'s message on stderr, exit 1', async () => {
  const cases: [string[], string][] = [
    [[], 'This tool helps to query log directory usage on the specified brokers.'],
    [['--bootstrap-server', B], 'Missing required argument "[describe]"'],
    [['--describe'], 'Missing required argument "[bootstrap-server]"'],
    [['--describe', '--bootstrap-server', B, '--bogus'], 'bogus is not a recognized option'],
    [['--describe', '--bootstrap-server', B, '--broker-list', '0,5,7'], 'ERROR: The given brokers do not exist from --broker-list: 5,7. Current existent brokers: 0'],
    [['--describe', '--bootstrap-server', B, '--broker-list', 'x'], 'For input string: "x"'],
  ]
  for (const [args, line] of cases) {
    const r = await logDirs(...args)
    assert.equal(r.stdout, '', args.join(' '))
    assert.equal(r.stderr, line + '\n', args.join(' '))
    assert.equal(r.code, 1, args.join(' '))
    if (!apache) {
      const a = await runApache('kafka-log-dirs', args)
      assert.equal(errorLine(a.stderr), line, `Apache: ${args.join(' ')}`)
      assert.equal(a.code, 1)
    }
  }
})

test('unreachable broker: Kafka\'s timeout line after default.api.timeout.ms, exit 1', async () => {
  const dir = tempDir('kafkit-log-dirs-')
  try {
    const cfg = join(dir, 'short.properties')
    writeFileSync(cfg, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
    const args = ['--describe', '--bootstrap-server', '127.0.0.1:1', '--command-config', cfg]
    const r = await logDirs(...args)
    assert.equal(r.stdout, '')
    assert.equal(errorLine(r.stderr), 'org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes')
    assert.equal(r.code, 1)
    if (!apache) assert.equal(errorLine((await runApache('kafka-log-dirs', args)).stderr), errorLine(r.stderr))
  } finally {
    removeDir(dir)
  }
})
