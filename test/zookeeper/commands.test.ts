// zookeeper-server-start / zookeeper-server-stop as a user runs them: config validation
// with one clear line, Apache-like logs, start-up time, stop without ps/wmic; four-letter
// words under the whitelist and the AdminServer's JSON.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createServer} from 'node:net'
import {runCommand, startCommand} from '../helpers/util.js'
import {startKafkitZk, fourLetter, freePort, tempDir, removeDir} from './helpers.js'

function config(dir: string, lines: string[]): string {
  const file = join(dir, 'zookeeper.properties')
  writeFileSync(file, [`dataDir=${join(dir, 'data').replace(/\\/g, '/')}`, ...lines].join('\n') + '\n')
  return file
}

test('bad configurations stop start-up with one line naming key, value and file', async () => {
  const dir = tempDir('kafkit-zkcmd-')
  try {
    const missing = await runCommand('zookeeper-server-start', [join(dir, 'nope.properties')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^Error: Config file .*nope\.properties does not exist\n$/)
    const bad = await runCommand('zookeeper-server-start', [config(dir, ['clientPort=21x81'])])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^Error: Invalid value 21x81 for configuration clientPort in .*zookeeper\.properties: must be an integer\n$/)
    const ens = await runCommand('zookeeper-server-start', [config(dir, ['clientPort=0', 'server.1=a:2888:3888', 'server.2=b:2888:3888'])])
    assert.equal(ens.code, 1)
    assert.match(ens.stderr, /^Error: initLimit is not set in .*zookeeper\.properties: an ensemble needs it \(ticks a follower may take to connect and sync, e\.g\. initLimit=10\)\n$/)
    const wl = await runCommand('zookeeper-server-start', [config(dir, ['4lw.commands.whitelist=ruok,bogus'])])
    assert.equal(wl.code, 1)
    assert.match(wl.stderr, /Invalid value ruok,bogus for configuration 4lw\.commands\.whitelist/)
    const blocker = createServer()
    await new Promise<void>(r => blocker.listen(0, '127.0.0.1', () => r()))
    const used = (blocker.address() as {port: number}).port
    const inUse = await runCommand('zookeeper-server-start', [config(dir, [`clientPort=${used}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false'])])
    blocker.close()
    assert.equal(inUse.code, 1)
    assert.match(inUse.stderr, new RegExp(`^Error: Port ${used} on 127\\.0\\.0\\.1 is already in use`))
    assert.ok(!/\n\s+at /.test(bad.stderr + ens.stderr + inUse.stderr), 'no stack traces')
    // A dataDir that cannot be a directory: at once, one line (Node's recursive mkdir spins
    // forever under /proc).
    const plain = join(dir, 'a-file')
    writeFileSync(plain, 'x\n')
    const dirCases: [string, RegExp][] = [[plain, /^Error: Invalid value .*a-file for configuration dataDir in .*zk2\.properties: a parent of .*a-file[/\\]version-2 is a file, not a directory$/]]
    if (process.platform === 'linux') dirCases.push(['/proc/kafkit-zk', /^Error: Invalid value \/proc\/kafkit-zk for configuration dataDir in .*zk2\.properties: cannot create the directory .*$/])
    for (const [d, why] of dirCases) {
      const file = join(dir, 'zk2.properties')
      writeFileSync(file, `dataDir=${d.replace(/\\/g, '/')}\nclientPort=0\nadmin.enableServer=false\n`)
      const r = await runCommand('zookeeper-server-start', [file], {timeoutMs: 20000})
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr.split('\n').filter(l => l !== '' && !/ INFO /.test(l)).join('\n'), why)
    }
  } finally {
    removeDir(dir)
  }
})

test('zookeeper-server-start logs like Apache ZooKeeper, warns on unknown keys, and zookeeper-server-stop stops it', async () => {
  const dir = tempDir('kafkit-zkcmd-')
  const runDir = tempDir('kafkit-run-')
  try {
    const port = await freePort()
    const file = config(dir, [`clientPort=${port}`, 'admin.enableServer=false', 'maxClientCnxns=0', 'server.1=localhost:2888:3888', 'no.such.key=1', '4lw.commands.whitelist=ruok,srvr,mntr'])
    const t0 = Date.now()
    const proc = startCommand('zookeeper-server-start', [file], {KAFKIT_RUN_DIR: runDir})
    await proc.waitForOutput(`binding to port 0.0.0.0/0.0.0.0:${port}`)
    const startup = Date.now() - t0
    assert.match(proc.output, /WARN Unknown configuration key no\.such\.key/)
    assert.match(proc.output, /INFO Snapshotting: 0x0 to .*snapshot\.0/)
    assert.equal(await fourLetter(port, 'ruok'), 'imok')
    assert.match(await fourLetter(port, 'srvr'), /Mode: standalone\n/)
    assert.match(await fourLetter(port, 'mntr'), /zk_server_state\tstandalone\n/)
    assert.equal(await fourLetter(port, 'dump'), 'dump is not executed because it is not in the whitelist.\n')
    const stop = await runCommand('zookeeper-server-stop', [], {env: {KAFKIT_RUN_DIR: runDir}})
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(await proc.exited, 0)
    const none = await runCommand('zookeeper-server-stop', [], {env: {KAFKIT_RUN_DIR: runDir}})
    assert.equal(none.code, 1)
    assert.equal(none.stdout, 'No zookeeper server to stop\n')
    // Node's own start-up dominates; the server itself is ready in a few milliseconds.
    assert.ok(startup < 5000, `started in ${startup} ms`)
  } finally {
    removeDir(dir)
    removeDir(runDir)
  }
})

test('every four-letter word answers under "*", and the AdminServer serves /commands/<name> as JSON', async () => {
  const adminPort = await freePort()
  const zk = await startKafkitZk({adminEnableServer: true, adminServerPort: adminPort, adminServerAddress: '127.0.0.1'})
  try {
    const expect: Record<string, RegExp> = {
      ruok: /^imok$/, isro: /^rw$/, srvr: /^Zookeeper version: .*\nLatency min\/avg\/max: /, stat: /Clients:\n/,
      mntr: /zk_znode_count\t\d+\n/, conf: /clientPort=\d+\n.*tickTime=500\n/s, cons: /\n$/, envi: /^Environment:\n/,
      wchs: /connections watching \d+ paths\nTotal watches:\d+\n/, wchc: /^/, wchp: /^/, dump: /^SessionTracker dump:\n/, dirs: /^datadir_size: \d+\nlogdir_size: \d+\n$/,
    }
    for (const [w, re] of Object.entries(expect)) assert.match(await fourLetter(zk.port, w), re, w)
    const res = await fetch(`http://127.0.0.1:${adminPort}/commands/ruok`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {command: 'ruok', error: null})
    const mntr = await (await fetch(`http://127.0.0.1:${adminPort}/commands/monitor`)).json() as Record<string, unknown>
    assert.equal(mntr.server_state, 'standalone')
    assert.equal(typeof mntr.znode_count, 'number')
    const stats = await (await fetch(`http://127.0.0.1:${adminPort}/commands/stat`)).json() as {server_stats: {server_state: string}}
    assert.equal(stats.server_stats.server_state, 'standalone')
    // As Apache's AdminServer: an unknown command is a 200 JSON reply naming the error.
    const unknown = await fetch(`http://127.0.0.1:${adminPort}/commands/nope`)
    assert.equal(unknown.status, 200)
    assert.equal(await unknown.text(), '{\n  "command" : "nope",\n  "error" : "Unknown command: nope"\n}')
    assert.equal((await fetch(`http://127.0.0.1:${adminPort}/nope`)).status, 404)
  } finally {
    await zk.cleanup()
  }
})
