// Two kafkit console consumers in one group (`kafka-console-consumer --group g`) split a
// two-partition topic and between them print every message once; kafka-consumer-groups
// shows both members and, once they stop, lag 0; a later consumer in the group resumes
// from the committed position, a consumer in another group prints everything again.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from '../broker/helpers.js'
import {runCommand, startCommand, waitFor, type Proc} from '../helpers/util.js'

let zk: ApacheZooKeeper
let broker: BrokerProc
let B = ''
const procs: Proc[] = []

before(async () => {
  zk = await startApacheZooKeeper()
  broker = await startBrokerProc(zk.connect, ['group.min.session.timeout.ms=1000'])
  B = broker.bootstrap
  const r = await runCommand('kafka-topics', ['--bootstrap-server', B, '--create', '--topic', 'split-topic', '--partitions', '2'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
})

after(async () => {
  for (const p of procs) await p.stop('SIGKILL')
  await broker?.cleanup()
  await zk?.stop()
})

const printed = (p: Proc) => p.output.split('\n').filter(l => /^msg-\d+$/.test(l))

test('two console consumers in one group print every message once between them', {timeout: 120000}, async () => {
  const start = () => {
    const p = startCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'split-topic', '--group', 'console-group', '--from-beginning'])
    procs.push(p)
    return p
  }
  const a = start()
  const b = start()
  // Both members joined and got a partition each.
  await waitFor(async () => {
    const m = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'console-group', '--members'])
    const rows = m.stdout.split('\n').filter(l => l.startsWith('console-group '))
    return m.stderr === '' && rows.length === 2 && rows.every(r => /\s1\s+$/.test(r))
  }, 40000, 'console-group Stable with two members owning one partition each')

  // Keyed, so both partitions get messages whatever the producer's null-key partitioning.
  const input = Array.from({length: 40}, (_, i) => `k${i}\tmsg-${i}`).join('\n') + '\n'
  const prod = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'split-topic', '--property', 'parse.key=true'], {input})
  assert.equal(prod.code, 0, prod.stderr)
  await waitFor(() => printed(a).length + printed(b).length >= 40, 30000, 'the console consumers to print 40 messages')
  const all = [...printed(a), ...printed(b)]
  assert.equal(all.length, 40, 'no message printed twice')
  assert.equal(new Set(all).size, 40)
  assert.ok(printed(a).length > 0 && printed(b).length > 0, `both members printed (a ${printed(a).length}, b ${printed(b).length})`)

  await a.stop('SIGTERM')
  await b.stop('SIGTERM')
  const d = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'console-group'])
  const rows = d.stdout.split('\n').filter(l => l.startsWith('console-group '))
  assert.equal(rows.length, 2, d.stdout)
  const lags = rows.map(r => r.split(/\s+/)).map(f => [Number(f[3]), Number(f[4]), f[5]])
  assert.equal(lags.reduce((s, l) => s + (l[1] as number), 0), 40)
  for (const l of lags) assert.deepEqual([l[0], l[2]], [l[1], '0'], d.stdout)

  // Resume: the group's committed position; another group: everything again.
  const more = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'split-topic'], {input: 'msg-40\nmsg-41\n'})
  assert.equal(more.code, 0)
  const resumed = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'split-topic', '--group', 'console-group', '--from-beginning', '--max-messages', '2', '--timeout-ms', '20000'])
  assert.deepEqual(resumed.stdout.split('\n').filter(Boolean).sort(), ['msg-40', 'msg-41'])
  const other = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'split-topic', '--group', 'other-console-group', '--from-beginning', '--max-messages', '42', '--timeout-ms', '20000'])
  assert.equal(new Set(other.stdout.split('\n').filter(Boolean)).size, 42)
})

test('killing one console consumer moves its partition to the other within the session timeout', {timeout: 120000}, async () => {
  const start = () => {
    const p = startCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'split-topic', '--group', 'failover-group', '--consumer-property', 'session.timeout.ms=3000', '--consumer-property', 'heartbeat.interval.ms=300'])
    procs.push(p)
    return p
  }
  const members = async () => {
    const m = await runCommand('kafka-consumer-groups', ['--bootstrap-server', B, '--describe', '--group', 'failover-group', '--members'])
    return m.stderr === '' ? m.stdout.split('\n').filter(l => l.startsWith('failover-group ')) : []
  }
  const a = start()
  const b = start()
  await waitFor(async () => { const rows = await members(); return rows.length === 2 && rows.every(r => /\s1\s+$/.test(r)) }, 40000, 'failover-group Stable with two members')
  await a.stop('SIGKILL')
  const killedAt = Date.now()
  await waitFor(async () => { const rows = await members(); return rows.length === 1 && /\s2\s+$/.test(rows[0]) }, 30000, 'the survivor to own both partitions')
  const took = Date.now() - killedAt
  const input = Array.from({length: 10}, (_, i) => `after-${i}`).join('\n') + '\n'
  assert.equal((await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'split-topic'], {input})).code, 0)
  await waitFor(() => b.output.split('\n').filter(l => /^after-\d+$/.test(l)).length >= 10, 30000, 'the survivor to print the new messages')
  assert.ok(took < 20000, `rebalanced after ${took} ms`)
})
