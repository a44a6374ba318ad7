// kafka-server-start / kafka-server-stop as a user runs them: one-line errors with exit 1
// (missing file, bad value, port in use, ZooKeeper unreachable), start-up time, graceful
// stop through kafka-server-stop and through SIGTERM.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, tempDir} from '../helpers/util.js'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper} from './helpers.js'

let zk: ApacheZooKeeper
let dir: string

before(async () => {
  zk = await startApacheZooKeeper()
  dir = tempDir('kafkit-start-')
})

after(async () => {
  await zk?.stop()
  removeDir(dir)
})

function config(name: string, lines: string[]): string {
  const file = join(dir, name)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function oneLineError(r: {code: number | null; stdout: string; stderr: string}, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`)
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
}

test('a missing config file is one clear line and exit 1', async () => {
  const r = await runCommand('kafka-server-start', [join(dir, 'nope.properties')], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}})
  oneLineError(r, /nope\.properties/)
})

test('a bad value names the key, the value and the file', async () => {
  const file = config('bad.properties', ['broker.id=0', 'num.partitions=lots', `zookeeper.connect=${zk.connect}`])
  const r = await runCommand('kafka-server-start', [file], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}})
  oneLineError(r, /lots.*num\.partitions.*bad\.properties/)
})

test('keys kafkit does not use are still checked against Kafka\'s types and ranges', async () => {
  for (const [line, why] of [
    ['num.network.threads=99999999999', /Invalid value 99999999999 for configuration num\.network\.threads in .*types\.properties: Not a number of type INT$/],
    ['num.io.threads=0', /Invalid value 0 for configuration num\.io\.threads in .*: Value must be at least 1$/],
    ['log.cleaner.dedupe.buffer.size=1e3', /log\.cleaner\.dedupe\.buffer\.size.*Not a number of type LONG$/],
    ['log.cleaner.io.buffer.load.factor=high', /load\.factor.*Not a number of type DOUBLE$/],
    ['zookeeper.set.acl=yes', /zookeeper\.set\.acl.*Expected value to be either true or false$/],
  ] as const) {
    const file = config('types.properties', ['broker.id=0', line, `zookeeper.connect=${zk.connect}`, `log.dirs=${join(dir, 'types-logs')}`])
    const r = await runCommand('kafka-server-start', [file], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}, timeoutMs: 20000})
    oneLineError(r, why)
  }
})

test('a log.dirs that cannot be a directory stops start-up at once, naming the key, the value and the file', async () => {
  const plain = join(dir, 'a-file')
  writeFileSync(plain, 'not a directory\n')
  const cases: [string, RegExp][] = [
    [plain, /Invalid value .*a-file for configuration log\.dirs in .*dirs\.properties: .*a-file exists and is not a directory$/],
    [join(plain, 'sub'), /Invalid value .*a-file[/\\]sub for configuration log\.dirs in .*dirs\.properties: a parent of .* is a file/],
  ]
  // Node's own recursive mkdir spins forever under /proc; kafkit gives up with the error.
  if (process.platform === 'linux') cases.push(['/proc/kafkit-logs', /Invalid value \/proc\/kafkit-logs for configuration log\.dirs in .*dirs\.properties: cannot create the directory/])
  for (const [logDir, why] of cases) {
    const file = config('dirs.properties', ['broker.id=0', `zookeeper.connect=${zk.connect}`, `log.dirs=${logDir.replace(/\\/g, '/')}`])
    const r = await runCommand('kafka-server-start', [file], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}, timeoutMs: 20000})
    oneLineError(r, why)
  }
})

test('a port in use is Kafka\'s bind error', async () => {
  const blocker = createServer()
  await new Promise<void>(r => blocker.listen(0, '127.0.0.1', () => r()))
  const port = (blocker.address() as {port: number}).port
  try {
    const file = config('inuse.properties', ['broker.id=0', `log.dirs=${join(dir, 'inuse-logs').replace(/\\/g, '/')}`, `zookeeper.connect=${zk.connect}`])
    const r = await runCommand('kafka-server-start', [file, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}})
    oneLineError(r, new RegExp(`Socket server failed to bind to 127\\.0\\.0\\.1:${port}: Address already in use\\.`))
  } finally {
    blocker.close()
  }
})

test('an unreachable ZooKeeper fails start-up with one line', async () => {
  const dead = await freePort()
  const file = config('nozk.properties', ['broker.id=0', `log.dirs=${join(dir, 'nozk-logs').replace(/\\/g, '/')}`, `zookeeper.connect=127.0.0.1:${dead}`, 'zookeeper.connection.timeout.ms=1500'])
  const r = await runCommand('kafka-server-start', [file, '--override', `listeners=PLAINTEXT://127.0.0.1:${await freePort()}`], {env: {KAFKIT_RUN_DIR: join(dir, 'run')}, timeoutMs: 30000})
  oneLineError(r, /Timed out waiting for connection|ZooKeeper/i)
})

test('kafka-server-stop with no server says so and exits 1', async () => {
  const r = await runCommand('kafka-server-stop', [], {env: {KAFKIT_RUN_DIR: join(dir, 'empty-run')}})
  assert.equal(r.code, 1)
  assert.match(r.stdout + r.stderr, /No kafka server to stop/)
})

test('start-up is well under a second; kafka-server-stop stops the broker gracefully', async () => {
  const b = await startBrokerProc(zk.connect)
  try {
    const ts = (marker: string) => {
      const line = b.proc.output.split('\n').find(l => l.includes(marker))!
      const m = /^\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})\]/.exec(line)!
      return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime()
    }
    const took = ts('started (kafka.server.KafkaServer)') - ts('] starting (kafka.server.KafkaServer)')
    assert.ok(took < 1000, `start-up took ${took} ms`)
    const r = await runCommand('kafka-server-stop', [], {env: {KAFKIT_RUN_DIR: join(b.dir, 'run')}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await b.proc.exited, 0)
    assert.match(b.proc.output, /shut down completed/)
  } finally {
    await b.cleanup()
  }
})
