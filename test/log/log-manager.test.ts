import {test} from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {tempDir, removeDir, waitFor} from '../helpers/util.js'
import {buildBatch} from '../../src/core/protocol/record-batch.js'
import {defaultLogConfig} from '../../src/core/log/partition-log.js'
import {LogDirError, LogManager, readOffsetCheckpoint} from '../../src/core/log/log-manager.js'

function batch(v: string, n = 1): Buffer {
  return buildBatch({records: Array.from({length: n}, (_, i) => ({key: null, value: Buffer.from(`${v}-${i}`)}))})
}

async function withDirs(fn: (a: string, b: string) => Promise<void>): Promise<void> {
  const root = tempDir('kafkit-lm-')
  try {
    await fn(path.join(root, 'd1'), path.join(root, 'd2'))
  } finally {
    removeDir(root)
  }
}

test('meta.properties, least-loaded placement, checkpoints and the clean shutdown marker', () =>
  withDirs(async (d1, d2) => {
    let lm = await LogManager.open({logDirs: [d1, d2], brokerId: 3, clusterId: 'abcDEF123'})
    for (const d of [d1, d2]) {
      const meta = fs.readFileSync(path.join(d, 'meta.properties'), 'utf8')
      assert.match(meta, /^#\n#\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}\n/)
      assert.match(meta, /^version=0$/m)
      assert.match(meta, /^broker\.id=3$/m)
      assert.match(meta, /^cluster\.id=abcDEF123$/m)
    }
    const logs = []
    for (let p = 0; p < 4; p++) logs.push(await lm.getOrCreateLog('my-topic', p, defaultLogConfig))
    assert.equal(await lm.getOrCreateLog('my-topic', 0, defaultLogConfig), logs[0])
    assert.equal(fs.readdirSync(d1).filter(n => n.startsWith('my-topic-')).length, 2)
    assert.equal(fs.readdirSync(d2).filter(n => n.startsWith('my-topic-')).length, 2)
    logs[1].append(batch('x', 5), 0)
    logs[1].deleteRecordsBefore(2)
    lm.highWatermarkOf = (t, p) => (p === 1 ? 5 : 0)
    await lm.close()
    for (const d of [d1, d2]) assert.ok(fs.existsSync(path.join(d, '.kafka_cleanshutdown')))
    const dirOf1 = fs.existsSync(path.join(d1, 'my-topic-1')) ? d1 : d2
    const rp = readOffsetCheckpoint(path.join(dirOf1, 'recovery-point-offset-checkpoint'))
    assert.equal(rp.get('my-topic 1'), 5)
    assert.equal(readOffsetCheckpoint(path.join(dirOf1, 'log-start-offset-checkpoint')).get('my-topic 1'), 2)
    assert.equal(readOffsetCheckpoint(path.join(dirOf1, 'replication-offset-checkpoint')).get('my-topic 1'), 5)
    const text = fs.readFileSync(path.join(dirOf1, 'replication-offset-checkpoint'), 'utf8')
    assert.match(text, /^0\n2\n(my-topic \d \d\n){2}$/)

    lm = await LogManager.open({logDirs: [d1, d2], brokerId: 3, clusterId: 'abcDEF123'})
    assert.equal(lm.cleanShutdown, true)
    assert.equal(fs.existsSync(path.join(d1, '.kafka_cleanshutdown')), false, 'marker removed while running')
    assert.equal(lm.existingPartitions().length, 4)
    assert.equal(lm.storedHighWatermark('my-topic', 1), 5)
    const again = await lm.getOrCreateLog('my-topic', 1, defaultLogConfig)
    assert.equal(again.logEndOffset, 5)
    assert.equal(again.logStartOffset, 2)
    assert.equal(lm.allLogs().length, 1)
    await lm.close()
  }))

test('an unclean shutdown recovers logs as they load', () =>
  withDirs(async d1 => {
    let lm = await LogManager.open({logDirs: [d1], brokerId: 0})
    const log = await lm.getOrCreateLog('t', 0, defaultLogConfig)
    for (let i = 0; i < 4; i++) log.append(batch(`b${i}`, 2), 0)
    lm.checkpoint() // recovery point still 0: nothing flushed
    await lm.abort() // the process "dies": no flush, no marker
    const file = path.join(d1, 't-0', '00000000000000000000.log')
    fs.truncateSync(file, fs.statSync(file).size - 3)
    lm = await LogManager.open({logDirs: [d1], brokerId: 0})
    assert.equal(lm.cleanShutdown, false)
    const recovered = await lm.getOrCreateLog('t', 0, defaultLogConfig)
    assert.equal(recovered.logEndOffset, 6)
    await lm.close()
    assert.ok(fs.existsSync(path.join(d1, '.kafka_cleanshutdown')))
  }))

test('deleteLog closes and removes the partition directory; checkpoints drop it', () =>
  withDirs(async d1 => {
    const fdDir = '/proc/self/fd'
    const before = fs.existsSync(fdDir) ? fs.readdirSync(fdDir).length : 0
    const lm = await LogManager.open({logDirs: [d1], brokerId: 0})
    const a = await lm.getOrCreateLog('gone', 0, {...defaultLogConfig, segmentBytes: 200})
    for (let i = 0; i < 10; i++) a.append(batch(`g${i}`, 3), 0)
    await lm.getOrCreateLog('kept', 0, defaultLogConfig)
    lm.checkpoint()
    assert.ok(readOffsetCheckpoint(path.join(d1, 'recovery-point-offset-checkpoint')).has('gone 0'))
    await lm.deleteLog('gone', 0)
    assert.equal(lm.getLog('gone', 0), undefined)
    assert.deepEqual(fs.readdirSync(d1).filter(n => n.startsWith('gone')), [])
    assert.equal(readOffsetCheckpoint(path.join(d1, 'recovery-point-offset-checkpoint')).has('gone 0'), false)
    await lm.close()
    if (before) assert.equal(fs.readdirSync(fdDir).length, before, 'no file handle left open')
  }))

/** A child process that takes the lock file, says "held" (or "busy"), and keeps it until killed. */
function lockHolder(file: string): {child: ChildProcess; said: Promise<string>} {
  const mod = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'core', 'util', 'dir-lock.js')).href
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const {acquireLock} = await import(${JSON.stringify(mod)})
    try { await acquireLock(${JSON.stringify(file)}); console.log('held') } catch (e) { console.log('busy'); process.exit(0) }
    setInterval(() => {}, 1000)`], {stdio: ['ignore', 'pipe', 'inherit']})
  const said = new Promise<string>(resolve => {
    let out = ''
    child.stdout!.on('data', d => { out += d; if (out.includes('\n')) resolve(out.trim()) })
    child.on('exit', () => resolve(out.trim() || 'exited'))
  })
  return {child, said}
}

test('a log dir in use by another LogManager or a live process is refused; stale locks are taken over', () =>
  withDirs(async d1 => {
    const lockFile = path.join(d1, '.lock')
    const lm = await LogManager.open({logDirs: [d1], brokerId: 0})
    await assert.rejects(LogManager.open({logDirs: [d1], brokerId: 0}), (e: unknown) => e instanceof LogDirError && /Failed to acquire lock on file \.lock in .*A Kafka instance in another process or thread is using this directory\./.test(e.message))
    const other = lockHolder(lockFile)
    assert.equal(await other.said, 'busy', 'another process cannot take a held dir')
    await lm.close()
    assert.equal(fs.existsSync(lockFile), false, 'the lock file goes with the lock')
    // A live process holds it.
    const holder = lockHolder(lockFile)
    assert.equal(await holder.said, 'held')
    await assert.rejects(LogManager.open({logDirs: [d1], brokerId: 0}), /Failed to acquire lock/)
    // It dies (kill -9): its lock is stale and taken over.
    holder.child.kill('SIGKILL')
    await new Promise(r => holder.child.once('exit', r))
    const after = await LogManager.open({logDirs: [d1], brokerId: 0})
    await after.close()
    // A lock naming a live pid that is not its holder any more (a recycled pid): stale.
    fs.writeFileSync(lockFile, `${process.ppid} 1 0123456789abcdef\n`)
    const recycled = await LogManager.open({logDirs: [d1], brokerId: 0})
    await recycled.close()
    // Empty (as Apache Kafka leaves it): stale.
    fs.writeFileSync(lockFile, '')
    const again = await LogManager.open({logDirs: [d1], brokerId: 0})
    assert.match(fs.readFileSync(lockFile, 'utf8'), new RegExp(`^${process.pid} \\d+ [0-9a-f]+\n$`))
    await again.close()
    // Several processes racing for a free dir: exactly one gets it.
    const racers = [0, 1, 2, 3].map(() => lockHolder(lockFile))
    const results = await Promise.all(racers.map(r => r.said))
    for (const r of racers) r.child.kill('SIGKILL')
    assert.deepEqual(results.filter(r => r === 'held').length, 1, `racers said ${results.join(', ')}`)
  }))

test('a broker.id or cluster.id that does not match meta.properties is refused with a clear error', () =>
  withDirs(async d1 => {
    const lm = await LogManager.open({logDirs: [d1], brokerId: 1, clusterId: 'one'})
    await lm.close()
    await assert.rejects(LogManager.open({logDirs: [d1], brokerId: 2}), (e: unknown) => e instanceof LogDirError && /Configured broker\.id 2 doesn't match stored broker\.id 1/.test(e.message))
    await assert.rejects(LogManager.open({logDirs: [d1], brokerId: 1, clusterId: 'two'}), (e: unknown) => e instanceof LogDirError && /Cluster ID two doesn't match stored clusterId one/.test(e.message))
    fs.writeFileSync(path.join(d1, 'recovery-point-offset-checkpoint'), '0\n1\nbroken line\n')
    await assert.rejects(LogManager.open({logDirs: [d1], brokerId: 1}), (e: unknown) => e instanceof LogDirError && /Malformed line 3 in checkpoint file/.test(e.message))
  }))

test('background retention, flusher and checkpoints run on their intervals', () =>
  withDirs(async d1 => {
    const lm = await LogManager.open({logDirs: [d1], brokerId: 0})
    const log = await lm.getOrCreateLog('bg', 0, {...defaultLogConfig, segmentBytes: 200, retentionMs: 1, flushIntervalMs: 10})
    const old = Date.now() - 60_000
    for (let i = 0; i < 6; i++) log.append(buildBatch({baseTimestamp: old, records: [{key: null, value: Buffer.alloc(100)}]}), 0, old)
    assert.ok(log.segmentCount > 2)
    lm.startCheckpoints(30)
    lm.startFlusher(30)
    lm.startRetention(30)
    await waitFor(() => log.logStartOffset === 6 && log.segmentCount === 1, 5000, 'retention to delete all old segments')
    await waitFor(() => readOffsetCheckpoint(path.join(d1, 'log-start-offset-checkpoint')).get('bg 0') === 6, 5000, 'a checkpoint with the new log start offset')
    await waitFor(() => log.recoveryPoint === log.logEndOffset, 5000, 'the flusher')
    await lm.close()
  }))
