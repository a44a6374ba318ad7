// kafka-cluster and kafka-features against a real ZooKeeper-mode broker (kafkit's or Apache
// Kafka 3.9's, KAFKIT_TOOLS_TARGET picks), compared with Apache Kafka's own tools (stdout,
// stderr's last line, exit code); bad input.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, tempDir, type RunResult} from '../helpers/util.js'
import {apacheKafkaHome, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'
import {runApacheInspect} from './apache-inspect.js'

let cluster: Cluster | undefined
let B = ''
const dir = tempDir('kafkit-cluster-test-')
const shortTimeouts = join(dir, 'short.properties')

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`kafka-cluster tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
  writeFileSync(shortTimeouts, 'default.api.timeout.ms=2000\nrequest.timeout.ms=1000\n')
})

after(async () => {
  await cluster?.stop()
  removeDir(dir)
})

/** The first line a tool writes on stderr that is not a log line (Kafka's tools: the message, then a stack trace). */
function lastErrorLine(r: RunResult): string {
  return r.stderr.split('\n').find(l => l.trim() !== '' && !/^\[[\d-]+ [\d:,]+\] (WARN|ERROR|INFO)/.test(l)) ?? ''
}

/** Runs kafkit's and (when installed) Apache's tool; checks exit code, stdout and the error line are equal. */
async function same(name: 'kafka-cluster' | 'kafka-features', args: string[]): Promise<RunResult> {
  const k = await runCommand(name, args)
  if (apacheKafkaHome()) {
    const a = await runApacheInspect(name, args)
    assert.equal(k.code, a.code, `${name} ${args.join(' ')}: exit ${k.code} vs Apache's ${a.code}\n${k.stderr}\n${a.stderr}`)
    assert.equal(k.stdout, a.stdout, `${name} ${args.join(' ')}: stdout`)
    // argparse wraps its lines at 80 columns with extra spaces; kafkit prints one line.
    const norm = (s: string) => s.replace(/-\n/g, '-').replace(/\s+/g, ' ').trim()
    const m = new RegExp(`(^|\\n)${name}:\\s+error:`).exec(a.stderr)
    const aErr = m ? norm(a.stderr.slice(m.index)) : lastErrorLine(a)
    if (k.code !== 0) assert.equal(norm(lastErrorLine(k)), norm(aErr), `${name} ${args.join(' ')}: error line`)
  }
  return k
}

test('kafka-cluster cluster-id and unregister on a ZooKeeper-mode cluster', async () => {
  const id = await same('kafka-cluster', ['cluster-id', '--bootstrap-server', B])
  assert.equal(id.code, 0, id.stderr)
  assert.match(id.stdout, /^Cluster ID: [A-Za-z0-9_-]{22}\n$/)
  const short = await runCommand('kafka-cluster', ['cluster-id', '-b', B, '-c', shortTimeouts])
  assert.equal(short.stdout, id.stdout)
  const un = await same('kafka-cluster', ['unregister', '-b', B, '--id', '0'])
  assert.equal(un.code, 0)
  assert.equal(un.stdout, 'The target cluster does not support the broker unregistration API.\n')
  const ctl = await same('kafka-cluster', ['cluster-id', '--bootstrap-controller', B])
  assert.equal(ctl.code, 1)
  assert.equal(ctl.stderr.trim().split('\n').at(-1), 'org.apache.kafka.common.errors.MismatchedEndpointTypeException: The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER')
})

test('kafka-features describe, upgrade, downgrade, disable on a ZooKeeper-mode cluster', async () => {
  const d = await same('kafka-features', ['--bootstrap-server', B, 'describe'])
  assert.equal(d.code, 0, d.stderr)
  assert.equal(d.stdout, '', 'a ZooKeeper-mode cluster has no feature flags')
  const up = await same('kafka-features', ['--bootstrap-server', B, 'upgrade', '--feature', 'x=1'])
  assert.equal(up.code, 1)
  assert.match(up.stdout, /^Could not upgrade x to 1\. .+\n$/)
  assert.equal(up.stderr, '1 out of 1 operation(s) failed.\n')
  const dis = await same('kafka-features', ['--bootstrap-server', B, 'disable', '--feature', 'x', '--dry-run'])
  assert.match(dis.stdout, /^Can not disable x\. .+\n$/)
  const down = await same('kafka-features', ['--bootstrap-server', B, 'downgrade', '--metadata', '3.3-IV0', '--unsafe', '--feature', 'a=1'])
  assert.match(down.stdout, /^Could not downgrade a to 1\. .+\nCould not downgrade metadata\.version to 4\. .+\n$/)
  assert.equal(down.stderr, '2 out of 2 operation(s) failed.\n')
})

test('bad input: argparse\'s error line, exit 1, as Kafka\'s tools', async () => {
  const cases: [('kafka-cluster' | 'kafka-features'), string[], string][] = [
    ['kafka-cluster', [], 'kafka-cluster: error: too few arguments'],
    ['kafka-cluster', ['bogus'], 'kafka-cluster: error: invalid choice: \'bogus\' (choose from \'cluster-id\', \'unregister\')'],
    ['kafka-cluster', ['cluster-id'], 'kafka-cluster: error: one of the arguments --bootstrap-server/-b --bootstrap-controller/-C is required'],
    ['kafka-cluster', ['unregister', '-b', B], 'kafka-cluster: error: argument --id/-i is required'],
    ['kafka-cluster', ['unregister', '-b', B, '--id', 'x'], 'kafka-cluster: error: argument --id/-i: could not convert \'x\' to Integer (For input string: "x")'],
    ['kafka-cluster', ['cluster-id', '-b', B, '--bogus'], 'kafka-cluster: error: unrecognized arguments: \'--bogus\''],
    ['kafka-cluster', ['cluster-id', '-b', B, '-C', B], 'kafka-cluster: error: argument --bootstrap-controller/-C: not allowed with argument --bootstrap-server/-b'],
    ['kafka-cluster', ['cluster-id', '-b'], 'kafka-cluster: error: argument --bootstrap-server/-b: expected one argument'],
    ['kafka-features', [], 'kafka-features: error: too few arguments'],
    ['kafka-features', ['describe'], 'kafka-features: error: one of the arguments --bootstrap-server --bootstrap-controller is required'],
    ['kafka-features', ['--bootstrap-server', B, 'bogus'], 'kafka-features: error: invalid choice: \'bogus\' (choose from \'describe\', \'upgrade\', \'downgrade\', \'disable\')'],
    ['kafka-features', ['--bootstrap-server', B, 'describe', '--metadata', '3.3'], 'kafka-features: error: unrecognized arguments: \'--metadata\''],
    ['kafka-features', ['--bootstrap-server', B, 'upgrade'], 'You must specify at least one feature to upgrade'],
    ['kafka-features', ['--bootstrap-server', B, 'upgrade', '--feature', 'x=y'], 'Can\'t parse feature=level string x=y: unable to parse y as a short.'],
    ['kafka-features', ['--bootstrap-server', B, 'upgrade', '--feature', 'x'], 'Can\'t parse feature=level string x: equals sign not found.'],
    ['kafka-features', ['--bootstrap-server', B, 'upgrade', '--feature', 'x=1', '--feature', 'x=2'], 'Feature x was specified more than once.'],
    ['kafka-features', ['--bootstrap-server', B, 'upgrade', '--metadata', '9.9'], 'Unsupported metadata.version 9.9. Supported metadata.version are 3.3-IV0, 3.3-IV1, 3.3-IV2, 3.3-IV3, 3.4-IV0, 3.5-IV0, 3.5-IV1, 3.5-IV2, 3.6-IV0, 3.6-IV1, 3.6-IV2, 3.7-IV0, 3.7-IV1, 3.7-IV2, 3.7-IV3, 3.7-IV4, 3.8-IV0, 3.9-IV0'],
  ]
  for (const [name, args, line] of cases) {
    const r = await same(name, args)
    assert.equal(r.code, 1, `${name} ${args.join(' ')}`)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, line + '\n', `${name} ${args.join(' ')}`)
  }
  const port = await freePort()
  const down = await runCommand('kafka-cluster', ['cluster-id', '-b', `127.0.0.1:${port}`, '-c', shortTimeouts])
  assert.equal(down.code, 1)
  assert.equal(lastErrorLine(down), 'org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes')
  const fdown = await runCommand('kafka-features', ['--bootstrap-server', `127.0.0.1:${port}`, '--command-config', shortTimeouts, 'describe'])
  assert.equal(fdown.code, 1)
  assert.equal(lastErrorLine(fdown), 'org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: describeFeatures')
  const noFile = await runCommand('kafka-cluster', ['cluster-id', '-b', B, '-c', join(dir, 'missing.properties')])
  assert.equal(noFile.code, 1)
  assert.equal(noFile.stderr.trim().split('\n').length, 1)
})
