// Transactions with librdkafka (confluent-kafka-python) against kafkit brokers: commit and
// abort with both isolation levels, a fenced zombie, a producer killed mid-transaction (the
// coordinator aborts it after transaction.timeout.ms) and a broker killed mid-transaction
// (the coordinator, the producer state and the last stable offset come back from the logs).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, waitFor} from '../helpers/util.js'
import {pyTxn, startTxnCluster, type TxnCluster} from './helpers.js'

let cluster: TxnCluster

before(async () => {
  cluster = await startTxnCluster(1)
})

after(async () => {
  await cluster?.stop()
})

async function createTopic(name: string): Promise<void> {
  const r = await runCommand('kafka-topics', ['--bootstrap-server', cluster.bootstrap, '--create', '--topic', name, '--partitions', '1', '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

function json(out: {code: number | null; stdout: string; stderr: string}): any {
  assert.equal(out.code, 0, out.stderr)
  return JSON.parse(out.stdout.trim().split('\n').pop()!)
}

test('commit and abort: read_committed sees only committed records in order, read_uncommitted sees all', {timeout: 120000}, async () => {
  await createTopic('py-ca')
  const r = json(await pyTxn(['commit-abort', cluster.bootstrap, 'py-ca']))
  assert.deepEqual(r.read_committed, ['c0', 'c1', 'c2', 'c3', 'c4'])
  assert.deepEqual(r.read_uncommitted, ['c0', 'c1', 'c2', 'a0', 'a1', 'c3', 'c4'])
})

test('a second producer with the same transactional.id fences the first and aborts its transaction', {timeout: 120000}, async () => {
  await createTopic('py-fence')
  const r = json(await pyTxn(['fence', cluster.bootstrap, 'py-fence']))
  assert.equal(r.zombie, 'fatal _FENCED')
  assert.deepEqual(r.read_committed, ['fresh'])
})

test('a transaction left open by a killed producer is aborted after transaction.timeout.ms', {timeout: 120000}, async () => {
  await createTopic('py-open')
  const opened = await pyTxn(['open', cluster.bootstrap, 'py-open', 'py-open-txn', '3'])
  assert.equal(opened.code, 0, opened.stderr)
  // Until the coordinator aborts it, the open transaction holds the last stable offset at 0.
  const t0 = Date.now()
  const later = await pyTxn(['commit-abort', cluster.bootstrap, 'py-open'])
  const r = json(later)
  assert.deepEqual(r.read_committed, ['c0', 'c1', 'c2', 'c3', 'c4'])
  assert.deepEqual(r.read_uncommitted, ['open-0', 'open-1', 'open-2', 'c0', 'c1', 'c2', 'a0', 'a1', 'c3', 'c4'].slice(0, 7))
  assert.ok(Date.now() - t0 >= 1000, 'the committed records became visible only after the abort of the open transaction')
})

test('a broker killed -9 mid-transaction recovers it: still open after the restart, then committed', {timeout: 120000}, async () => {
  await createTopic('py-restart')
  const ready = join(cluster.dir, 'ready')
  const go = join(cluster.dir, 'go')
  const run = pyTxn(['resume', cluster.bootstrap, 'py-restart', ready, go])
  await waitFor(() => existsSync(ready), 60000, 'the producer to be inside its transaction')
  await cluster.brokers[0].stop('SIGKILL')
  await cluster.brokers[0].start()
  // The open transaction still holds back read_committed readers after recovery.
  const uncommitted = json(await pyTxn(['read', cluster.bootstrap, 'py-restart', 'read_uncommitted', '2', '20']))
  assert.deepEqual(uncommitted, ['r0', 'r1'])
  const committed = json(await pyTxn(['read', cluster.bootstrap, 'py-restart', 'read_committed', '1', '3']))
  assert.deepEqual(committed, [])
  writeFileSync(go, '')
  const r = json(await run)
  assert.deepEqual(r.read_committed, ['r0', 'r1', 'r2'])
})
