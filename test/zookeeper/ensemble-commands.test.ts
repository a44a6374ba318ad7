// The shipped config/zookeeper-{1,2,3}.properties, started with zookeeper-server-start as
// the README says (ports and directories overridden, so the test runs beside other servers),
// form one ensemble; zookeeper-server-stop stops all three.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {binDir, repoRoot, freePort, tempDir, removeDir, waitFor, runCommand} from '../helpers/util.js'
import {fourLetter} from './helpers.js'

test('the shipped zookeeper-1/2/3.properties form an ensemble; zookeeper-server-stop stops all three', {timeout: 60000}, async () => {
  const dir = tempDir('kafkit-zk-shipped-')
  const runDir = join(dir, 'run')
  const children: ChildProcess[] = []
  try {
    const ports = await Promise.all([1, 2, 3].map(async () => ({client: await freePort(), quorum: await freePort(), election: await freePort(), admin: await freePort()})))
    const servers = ports.map((p, i) => `server.${i + 1}=localhost:${p.quorum}:${p.election}`)
    const outputs = ['', '', '']
    for (let i = 0; i < 3; i++) {
      const data = join(dir, `zookeeper-${i + 1}`)
      mkdirSync(data, {recursive: true})
      writeFileSync(join(data, 'myid'), `${i + 1}\n`)
      const args = [join(repoRoot, 'config', `zookeeper-${i + 1}.properties`), '--override', `dataDir=${data}`, '--override', `clientPort=${ports[i].client}`,
        '--override', 'tickTime=300', '--override', 'admin.enableServer=true', '--override', `admin.serverPort=${ports[i].admin}`, '--override', 'admin.serverAddress=127.0.0.1',
        ...servers.flatMap(s => ['--override', s])]
      const c = spawn(process.execPath, [join(binDir, 'zookeeper-server-start.js'), ...args], {env: {...process.env, KAFKIT_RUN_DIR: runDir}, stdio: ['ignore', 'pipe', 'pipe']})
      c.stdout!.on('data', d => { outputs[i] += d })
      c.stderr!.on('data', d => { outputs[i] += d })
      children.push(c)
    }
    const modes = await waitFor(async () => {
      const m = await Promise.all(ports.map(p => fourLetter(p.client, 'srvr').then(o => /Mode: (\w+)/.exec(o)?.[1] ?? '').catch(() => '')))
      return m.filter(x => x === 'leader').length === 1 && m.filter(x => x === 'follower').length === 2 ? m : undefined
    }, 30000, 'one leader and two followers').catch(e => { throw new Error(`${(e as Error).message}\n${outputs.join('\n---\n').slice(-3000)}`) })
    assert.deepEqual([...modes!].sort(), ['follower', 'follower', 'leader'])
    assert.match(outputs[0], /INFO Ensemble member server\.1 of server\.1, server\.2, server\.3 \(org\.apache\.zookeeper\.server\.ZooKeeperServerMain\)/)
    // The AdminServer's ensemble commands: leader, zabstate, voting_view.
    const get = async (i: number, cmd: string) => JSON.parse(await (await fetch(`http://127.0.0.1:${ports[i].admin}/commands/${cmd}`)).text())
    const li = modes!.indexOf('leader')
    for (let i = 0; i < 3; i++) {
      const l = await get(i, 'leader')
      assert.deepEqual([l.is_leader, l.leader_id, l.leader_ip, l.error], [i === li, li + 1, 'localhost', null])
      const z = await get(i, 'zabstate')
      assert.deepEqual([z.myid, z.is_leader, z.voting, z.zabstate], [i + 1, i === li, true, 'broadcast'])
    }
    assert.deepEqual(Object.keys((await get(0, 'voting_view')).current_config), ['1', '2', '3'])
    const exited = children.map(c => new Promise<number | null>(r => c.once('exit', code => r(code))))
    const stop = await runCommand('zookeeper-server-stop', [], {env: {KAFKIT_RUN_DIR: runDir}})
    assert.equal(stop.code, 0, stop.stderr)
    assert.deepEqual(await Promise.all(exited), [0, 0, 0])
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    removeDir(dir)
  }
})
