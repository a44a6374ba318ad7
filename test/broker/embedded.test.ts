// `kafkit start`: kafkit's own ZooKeeper and a broker in one process, driven by kcat;
// kafka-server-stop stops both.
import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {freePort, removeDir, runCommand, startCommand, tempDir, waitFor, type Proc} from '../helpers/util.js'
import {exec, KCAT} from './helpers.js'

const dir = tempDir('kafkit-embedded-')
let proc: Proc | undefined

after(async () => {
  await proc?.stop('SIGKILL')
  removeDir(dir)
})

test('kafkit start runs ZooKeeper and a broker; kafka-server-stop stops them', {timeout: 60000}, async () => {
  const zkPort = await freePort()
  const port = await freePort()
  const zkCfg = join(dir, 'zookeeper.properties')
  writeFileSync(zkCfg, [`dataDir=${join(dir, 'zk').replace(/\\/g, '/')}`, `clientPort=${zkPort}`, 'maxClientCnxns=0', 'admin.enableServer=false', ''].join('\n'))
  const srvCfg = join(dir, 'server.properties')
  writeFileSync(srvCfg, ['broker.id=0', `log.dirs=${join(dir, 'logs').replace(/\\/g, '/')}`, `zookeeper.connect=127.0.0.1:${zkPort}`, 'offsets.topic.replication.factor=1', 'group.initial.rebalance.delay.ms=0', ''].join('\n'))
  const env = {KAFKIT_RUN_DIR: join(dir, 'run')}
  proc = startCommand('run', ['start', '--zookeeper-config', zkCfg, '--server-config', srvCfg, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`], env)
  await proc.waitForOutput('started (kafka.server.KafkaServer)', 30000)
  const bootstrap = `127.0.0.1:${port}`
  const p = await exec(KCAT, ['-b', bootstrap, '-P', '-t', 'embedded'], {input: 'one\ntwo\nthree\n'})
  assert.equal(p.code, 0, p.stderr)
  const c = await exec(KCAT, ['-b', bootstrap, '-C', '-t', 'embedded', '-o', 'beginning', '-e', '-q'])
  assert.deepEqual(c.stdout.trim().split('\n'), ['one', 'two', 'three'])
  const stop = await runCommand('kafka-server-stop', [], {env})
  assert.equal(stop.code, 0, stop.stderr)
  assert.equal(await waitFor(() => proc!.child.exitCode !== null ? String(proc!.child.exitCode) : undefined, 20000, 'kafkit start to exit'), '0')
})
