// Real ZooKeeper clients against kafkit's server: kazoo (Python), Apache ZooKeeper's
// zkCli.sh (Java) and cli_mt (C), and kafkit's own zookeeper-shell command.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {startKafkitZk, connect, waitFor, type KafkitZk} from './helpers.js'
import {runCommand} from '../helpers/util.js'

let zk: KafkitZk
before(async () => { zk = await startKafkitZk() })
after(async () => { await zk.cleanup() })

function run(cmd: string, args: string[], input = '', timeoutMs = 60000): Promise<{code: number | null; out: string; err: string}> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe']})
    let out = '', err = ''
    c.stdout.on('data', d => { out += d })
    c.stderr.on('data', d => { err += d })
    const t = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`${cmd} timed out: ${out} ${err}`)) }, timeoutMs)
    c.on('error', e => { clearTimeout(t); reject(e) })
    c.on('close', code => { clearTimeout(t); resolve({code, out, err}) })
    c.stdin.end(input)
  })
}

const KAZOO = `
import json, sys, threading
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, BadVersionError
zk = KazooClient(hosts=sys.argv[1], timeout=5)
zk.start(timeout=10)
out = {}
zk.ensure_path('/kazoo/a/b')
out['seq'] = zk.create('/kazoo/q-', b'x', ephemeral=True, sequence=True)
zk.set('/kazoo/a', b'hello')
data, stat = zk.get('/kazoo/a')
out['get'] = [data.decode(), stat.version, stat.numChildren]
try:
    zk.create('/kazoo/a')
except NodeExistsError:
    out['exists_error'] = True
events = []
done = threading.Event()
@zk.ChildrenWatch('/kazoo')
def watch(children):
    events.append(sorted(children))
    if len(events) == 2: done.set()
zk.create('/kazoo/new')
done.wait(10)
out['children_events'] = events[:2]
t = zk.transaction()
t.check('/kazoo/a', 1)
t.create('/kazoo/tx')
t.set_data('/kazoo/a', b'world')
out['txn'] = [str(r) for r in t.commit()]
t = zk.transaction()
t.create('/kazoo/tx2')
t.check('/kazoo/a', 99)
out['txn_fail'] = [type(r).__name__ for r in t.commit()]
zk.add_auth('digest', 'bob:pw')
out['whoami'] = sorted(x.scheme if hasattr(x, 'scheme') else str(x) for x in (zk.client_id,) ) and True
zk.delete('/kazoo', recursive=True)
out['gone'] = zk.exists('/kazoo') is None
zk.stop()
print(json.dumps(out))
`

test('kazoo (Python) creates, reads, watches, runs transactions and deletes', async () => {
  const py = '/usr/bin/python3'
  assert.ok(existsSync(py), 'python3 is missing: run ../shared/tools/install-peers')
  assert.equal(spawnSync(py, ['-c', 'import kazoo']).status, 0, 'kazoo is missing: run ../shared/tools/install-peers (python3-kazoo)')
  const r = await run(py, ['-c', KAZOO, `127.0.0.1:${zk.port}`])
  assert.equal(r.code, 0, r.err)
  const out = JSON.parse(r.out.trim().split('\n').pop()!)
  assert.equal(out.seq, '/kazoo/q-0000000001')
  assert.deepEqual(out.get, ['hello', 1, 1])
  assert.equal(out.exists_error, true)
  assert.deepEqual(out.children_events, [['a', 'q-0000000001'], ['a', 'new', 'q-0000000001']])
  assert.deepEqual(out.txn, ['True', '/kazoo/tx', out.txn[2]])
  assert.deepEqual(out.txn_fail, ['RolledBackError', 'BadVersionError'])
  assert.equal(out.gone, true)
})

test('zkCli.sh (Apache ZooKeeper\'s Java shell) creates, reads and lists', async () => {
  const zkCli = '/usr/share/zookeeper/bin/zkCli.sh'
  assert.ok(existsSync(zkCli), 'zkCli.sh is missing: run ../shared/tools/install-peers (Debian package zookeeper)')
  const server = `127.0.0.1:${zk.port}`
  const c = await run(zkCli, ['-server', server, 'create', '/zkcli', 'hello'])
  assert.match(c.out + c.err, /Created \/zkcli/)
  const g = await run(zkCli, ['-server', server, 'get', '/zkcli'])
  assert.match(g.out, /^hello$/m)
  const l = await run(zkCli, ['-server', server, 'ls', '/'])
  assert.match(l.out, /\[.*zkcli.*\]/)
  const e = await run(zkCli, ['-server', server, 'create', '/zkcli', 'again'])
  assert.match(e.out + e.err, /Node already exists: \/zkcli/)
})

test('cli_mt (Apache ZooKeeper\'s C client) connects, creates, sets and reads', async () => {
  const cli = '/usr/lib/zookeeper/bin/cli_mt'
  assert.ok(existsSync(cli), 'cli_mt is missing: run ../shared/tools/install-peers (Debian package zookeeper)')
  const c = spawn(cli, [`127.0.0.1:${zk.port}`], {stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  c.stdout.on('data', d => { out += d })
  c.stderr.on('data', d => { out += d })
  try {
    await waitFor(() => out.includes('CONNECTED_STATE'), 10000, `cli_mt to connect (${out})`)
    c.stdin.write('create /cmt\n')
    await waitFor(() => /\[\/cmt\]: rc = 0/.test(out), 10000, `create (${out})`)
    c.stdin.write('set /cmt fromc\n')
    const check = await connect(zk.port)
    await waitFor(async () => ((await check.call<[Buffer]>('getData', '/cmt'))[0] ?? Buffer.alloc(0)).toString() === 'fromc', 10000, 'the data set by cli_mt')
    check.close()
    c.stdin.write('ls /\n')
    await waitFor(() => /\tcmt/.test(out), 10000, `ls (${out})`)
  } finally {
    c.stdin.end('quit\n')
    c.kill()
  }
})

test('kafkit\'s zookeeper-shell: one-shot commands print what Kafka\'s zookeeper-shell prints', async () => {
  // (test/zookeeper/shell-diff.test.ts compares every command with Kafka 3.9's own shell.)
  const s = `127.0.0.1:${zk.port}`
  const c = await runCommand('zookeeper-shell', [s, 'create', '/shell', 'data1'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, `Connecting to ${s}\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n`)
  assert.equal(c.stderr, 'Created /shell\n') // ZooKeeperMain prints "Created" on stderr
  const l = await runCommand('zookeeper-shell', [s, 'ls', '/shell'])
  assert.equal(l.stdout.split('\n').slice(-2)[0], '[]')
  const g = await runCommand('zookeeper-shell', [s, 'get', '/shell'])
  assert.equal(g.stdout.split('\n').slice(-2)[0], 'data1')
  const st = await runCommand('zookeeper-shell', [s, 'stat', '/shell'])
  assert.match(st.stdout, /cZxid = 0x[0-9a-f]+\nctime = \w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}\n/)
  const dup = await runCommand('zookeeper-shell', [s, 'create', '/shell', 'x'])
  assert.equal(dup.code, 1)
  assert.equal(dup.stderr, 'Node already exists: /shell\n')
  const missing = await runCommand('zookeeper-shell', [s, 'get', '/nothing'])
  assert.equal(missing.code, 1)
  assert.equal(missing.stderr, 'Node does not exist: /nothing\n')
  const bogus = await runCommand('zookeeper-shell', [s, 'bogus'])
  assert.equal(bogus.code, 127)
  assert.match(bogus.stderr, /\tls \[-s\] \[-w\] \[-R\] path\n[\s\S]*Command not found: Command not found bogus\n$/)
  const inter = await runCommand('zookeeper-shell', [s], {input: 'create -e -s /shell/e- x\nset /shell data2\nget /shell\nsetAcl /shell world:anyone:cdra\ngetAcl /shell\ndeleteall /shell\nls /\n'})
  assert.equal(inter.code, 0, inter.stderr)
  assert.equal(inter.stderr, 'Created /shell/e-0000000000\n')
  assert.match(inter.stdout, /^Connecting to .*\nWelcome to ZooKeeper!\nJLine support is disabled\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\ndata2\n'world,'anyone\n: cdra\n\[(.*)\]\n$/)
  assert.ok(!/shell/.test(inter.stdout.trim().split('\n').pop()!))
})
