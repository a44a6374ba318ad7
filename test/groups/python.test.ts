// kafka-consumer-groups with librdkafka consumers: confluent-kafka-python static members
// (group.instance.id) show the GROUP-INSTANCE-ID column, two members with the
// cooperative-sticky assignor split the topic and --state names the assignor; kcat -G
// commits and --describe shows its lag 0.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {startApacheZooKeeper, startBrokerProc, exec, PYTHON, KCAT, type ApacheZooKeeper, type BrokerProc} from '../broker/helpers.js'
import {runCommand, waitFor, repoRoot, Proc} from '../helpers/util.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let B = ''
const procs: Proc[] = []
const script = join(repoRoot, 'test', 'groups', 'py', 'static_member.py')

before(async () => {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is not installed (run /work/shared/tools/install-peers)`)
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['group.min.session.timeout.ms=1000'])
  B = broker.bootstrap
  const r = await runCommand('kafka-topics', ['--bootstrap-server', B, '--create', '--topic', 'py-topic', '--partitions', '4'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  // Keyed, so that every partition gets records (keyless ones stick to one partition per
  // batch.size bytes, as Kafka 3.9's producer does).
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'py-topic', '--property', 'parse.key=true'], {input: Array.from({length: 20}, (_, i) => `k${i}\tm${i}`).join('\n') + '\n'})
  assert.equal(p.code, 0, p.stderr)
})

after(async () => {
  for (const p of procs) await p.stop('SIGKILL')
  await broker?.cleanup()
  await zk?.stop()
})

function member(group: string, instance: string, assignor: string): Proc {
  const p = new Proc(spawn(PYTHON, [script, B, group, instance, assignor, 'py-topic', '60'], {stdio: ['ignore', 'pipe', 'pipe']}))
  procs.push(p)
  return p
}

const cg = (...args: string[]) => runCommand('kafka-consumer-groups', ['--bootstrap-server', B, ...args])

test('static members (group.instance.id) with cooperative-sticky: members table and state', {timeout: 90000}, async () => {
  const a = member('py-group', 'instance-a', 'cooperative-sticky')
  const b = member('py-group', 'instance-b', 'cooperative-sticky')
  await waitFor(async () => {
    if (/Error|Traceback/.test(a.output + b.output)) throw new Error(`python consumer failed: ${a.output}${b.output}`)
    const m = await cg('--describe', '--group', 'py-group', '--members')
    const rows = m.stdout.split('\n').filter(l => l.startsWith('py-group '))
    return m.stderr === '' && rows.length === 2 && rows.every(r => /\s2\s+$/.test(r))
  }, 60000, 'py-group Stable with two members owning two partitions each')
  await waitFor(() => (a.output + b.output).split('\n').filter(l => l.startsWith('consumed')).length >= 20, 30000, 'the members to consume 20 messages')

  const m = await cg('--describe', '--group', 'py-group', '--members', '--verbose')
  assert.equal(m.code, 0)
  const lines = m.stdout.split('\n')
  assert.match(lines[1], /^GROUP {11}CONSUMER-ID +GROUP-INSTANCE-ID HOST {12}CLIENT-ID {7}#PARTITIONS {5}ASSIGNMENT$/)
  const rows = lines.filter(l => l.startsWith('py-group ')).sort()
  assert.match(rows[0], /^py-group {8}instance-a-[0-9a-f-]+ instance-a {8}\/127\.0\.0\.1 {6}py-instance-a {3}2 {15}\(\d,\d\)$/)
  assert.match(rows[1], /^py-group {8}instance-b-[0-9a-f-]+ instance-b {8}\/127\.0\.0\.1 {6}py-instance-b {3}2 {15}\(\d,\d\)$/)
  const s = await cg('--describe', '--group', 'py-group', '--state')
  assert.match(s.stdout, /\npy-group {18}\S+ +\(0\) +cooperative-sticky {3}Stable {10}2\n$/)
  const o = await cg('--describe', '--group', 'py-group')
  const offs = o.stdout.split('\n').filter(l => l.startsWith('py-group '))
  assert.equal(offs.length, 4, o.stdout)
})

test('kcat -G: its commits show as lag 0; a reset makes it read everything again', {timeout: 60000}, async () => {
  const first = await exec(KCAT, ['-b', B, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', 'py-topic'], {timeoutMs: 30000})
  assert.equal(first.stdout.split('\n').filter(Boolean).length, 20, first.stderr)
  const d = await cg('--describe', '--group', 'kcat-group')
  const rows = d.stdout.split('\n').filter(l => l.startsWith('kcat-group ')).map(l => l.split(/\s+/))
  assert.equal(rows.length, 4, d.stdout)
  assert.equal(rows.reduce((n, r) => n + Number(r[3]), 0), 20)
  for (const r of rows) assert.equal(r[5], '0', d.stdout)
  assert.equal((await cg('--reset-offsets', '--group', 'kcat-group', '--all-topics', '--to-earliest', '--execute')).code, 0)
  const again = await exec(KCAT, ['-b', B, '-G', 'kcat-group', '-e', '-q', 'py-topic'], {timeoutMs: 30000})
  assert.equal(again.stdout.split('\n').filter(Boolean).length, 20, again.stderr)
})
