// Differential test of zookeeper-shell: the same scripts go through Kafka 3.9's
// zookeeper-shell.sh (Java, ZooKeeper 3.8's ZooKeeperMain) and kafkit's, against one server,
// and stdout, stderr and the exit code must match exactly once the values that legitimately
// differ are normalised (zxids, times, session ids, the CLI version line; watch events are
// compared as a set because the Java shell prints them from another thread).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {startKafkitZk, startApacheZk, type KafkitZk, type ApacheZk} from './helpers.js'
import {runCommand, freePort, waitFor} from '../helpers/util.js'

const KAFKA_HOME = process.env.KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9')
const JAVA_SHELL = join(KAFKA_HOME, 'bin', process.platform === 'win32' ? join('windows', 'zookeeper-shell.bat') : 'zookeeper-shell')

function requireJavaShell(): void {
  if (!existsSync(JAVA_SHELL)) throw new Error(`Kafka 3.9's zookeeper-shell is not installed (${JAVA_SHELL} missing): install Apache Kafka 3.9 there or set KAFKA_HOME`)
}

interface Run { code: number | null; stdout: string; stderr: string }

function runJava(args: string[], input: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(JAVA_SHELL, args, {stdio: ['pipe', 'pipe', 'pipe'], shell: process.platform === 'win32'})
    let stdout = '', stderr = ''
    c.stdout.on('data', d => { stdout += d })
    c.stderr.on('data', d => { stderr += d })
    const t = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`Java zookeeper-shell timed out: ${stdout} ${stderr}`)) }, 60000)
    c.on('error', e => { clearTimeout(t); reject(e) })
    c.on('close', code => { clearTimeout(t); resolve({code, stdout, stderr}) })
    c.stdin.on('error', () => {})
    c.stdin.end(input)
  })
}

interface Normalised { code: number | null; stdout: string; stderr: string; events: string[] }

// A watch event is two printlns ("\nWATCHER::" and "\nWatchedEvent ..."); the Java shell prints
// them from its event thread, so another command's output may come in between.
const WATCHER = /\nWATCHER::\n/g
const EVENT = /\n(WatchedEvent [^\n]*)\n/g

function normalise(r: Run): Normalised {
  const events: string[] = []
  let stdout = r.stdout.replace(WATCHER, '').replace(EVENT, (_m, e: string) => { events.push(e); return '' })
  stdout = stdout
    .replace(/^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$/gm, '$1 = 0x?')
    .replace(/^(ctime|mtime) = .*$/gm, '$1 = ?')
    .replace(/^ephemeralOwner = 0x(?!0$|8000000000000000$|ff[0-9a-f]{14}$)[0-9a-f]+$/gm, 'ephemeralOwner = <session>')
    .replace(/^ZooKeeper CLI version: .*$/gm, 'ZooKeeper CLI version: ?')
  // The Java shell's own log4j lines (connection warnings, with the exception logged under
  // them) and stack traces are not output: dropped; every other line is compared.
  const kept: string[] = []
  let inTrace = false
  for (const l of r.stderr.split('\n')) {
    if (/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\] (TRACE|DEBUG|INFO|WARN|ERROR) /.test(l)) { inTrace = true; continue }
    if (/^\tat |^\t\.\.\. \d+ more$/.test(l) || (inTrace && /^(Caused by: )?(java|javax|org)\.[\w.$]+(Exception|Error)\b/.test(l))) continue
    inTrace = l.startsWith('Exception in thread ')
    kept.push(l)
  }
  const stderr = kept.join('\n')
  return {code: r.code, stdout, stderr, events: events.sort()}
}

/** Runs args+input through both shells (Java first, then kafkit, one after the other). */
async function both(args: string[], input = ''): Promise<{java: Normalised; kafkit: Normalised}> {
  const java = normalise(await runJava(args, input))
  const kafkit = normalise(await runCommand('zookeeper-shell', args, {input}))
  return {java, kafkit}
}

function assertSame(what: string, r: {java: Normalised; kafkit: Normalised}): void {
  assert.equal(r.kafkit.stdout, r.java.stdout, `${what}: stdout differs`)
  assert.equal(r.kafkit.stderr, r.java.stderr, `${what}: stderr differs`)
  assert.deepEqual(r.kafkit.events, r.java.events, `${what}: watch events differ`)
  assert.equal(r.kafkit.code, r.java.code, `${what}: exit code differs`)
}

// Every command of ZooKeeperMain with its options, successes and failures, in one session.
const SCRIPT = `create /r
create /r/a adata
create -s /r/s- sdata
create -e /r/e edata
create -es /r/es- x
create -c /r/c
create -t 600000 /r/ttl tdata
create -s -t 600000 /r/sttl- x
create -t abc /r/x
create -t 0 /r/x
create -t
create -e -t 100 /r/x
create -c -t 100 /r/x
create -c -e /r/x
create -e /r/e/child
create /nope/x
create
create -z /r/x
create /r/acl d world:anyone:r
create /r/acl2 d digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=:cdrwa
create /r/acl3 d bad
create /r/acl4 d world:anyone:xyz
create bad
create /r//x
create /r/
create "/r/q" "quoted data" 'world:anyone:cdrwa'
create /r/nodata
get /r/nodata
ls /r
ls -s /r
ls -R /r
ls -R /r/c
ls -R /nope
ls /nope
ls
ls -?
ls /r extra
ls -w /r
get /r/a
get -s /r/a
get /nope
get
get /r/a extra
stat /r/a
stat /r/c
stat /r/ttl
stat /nope
stat /r/a extra
stat -w /r/e
set /r/a newdata
set -s /r/a newer
set -v 99 /r/a x
set -v 2 /r/a x
set /nope x
set /r/a
set -v /r/a x
set /r/a -1
delete /r
delete /nope
delete -v 99 /r/a
delete -v 3 /r/a
delete /r/a extra
delete
getAcl /r/acl
getAcl -s /r/acl2
getAcl /nope
getAcl
setAcl /r/acl world:anyone:cdrwa
setAcl -s /r/acl world:anyone:cdrwa
setAcl -v 99 /r/acl world:anyone:r
setAcl /r/acl2 world:anyone:r
setAcl /nope world:anyone:r
setAcl /r/acl bad
setAcl /r/acl
setAcl -R /r world:anyone:cdrwa
getAcl /r/acl
get /r/acl2
ls -R /r
whoami
addauth digest bob:secret
whoami
get /r/acl2
setAcl /r/acl2 world:anyone:cdrwa
addauth
sync /r
sync nope
sync
getEphemerals
getEphemerals /r
getEphemerals /nope
getAllChildrenNumber /r
getAllChildrenNumber /nope
getAllChildrenNumber
get -w /r/acl
set /r/acl changed
ls -w /r/c
create /r/c/kid
stat -w /r/gone
create /r/gone
removewatches /r
removewatches /r/a -d
get -w /r/acl
removewatches /r/acl -c
removewatches /r/acl -d
removewatches
ls /r
getAllChildrenNumber /r
reconfig
reconfig -add 1=localhost:1:2;3
reconfig -remove 1 -s
reconfig -members 1=a:1:2;3 -add 2=b:1:2;3
reconfig -v zz -add 1=x
version
config
printwatches
printwatches off
printwatches
get -w /r/acl
set /r/acl quiet
printwatches on
bogus
   
"unterminated
history
'
redo 1
redo 999
redo
deleteall
deleteall /r -b abc
deleteall /nope
close
ls /
history
connect CONNECT
getEphemerals
deleteall /r -b 3
ls /r
`

let kzk: KafkitZk
let server: string
before(async () => {
  requireJavaShell()
  kzk = await startKafkitZk({extendedTypesEnabled: true, clientPortAddress: "::"})
  server = `127.0.0.1:${kzk.port}`
})
after(async () => { await kzk?.cleanup() })

test('interactive mode (commands on stdin): every command, option and error as Kafka 3.9\'s shell', async () => {
  const r = await both([server], SCRIPT.replace('CONNECT', server))
  assertSame('interactive script', r)
  assert.equal(r.kafkit.code, 1) // the last command (ls of a deleted node) failed
  assert.ok(r.kafkit.events.includes('WatchedEvent state:SyncConnected type:NodeCreated path:/r/gone'), r.kafkit.events.join('\n'))
})

test('one-shot commands: output streams and exit codes (0, 1, 127) as Kafka 3.9\'s shell', async () => {
  const setup = await runCommand('zookeeper-shell', [server, 'create', '/one', 'x'])
  assert.equal(setup.code, 0, setup.stderr)
  for (const args of [['get', '/one'], ['ls', '-s', '/'], ['bogus'], ['create', '-t', 'abc', '/x'], ['delete', '-v', '99', '/one'], ['set', '-v', 'abc', '/one', 'x']]) {
    // Whether the Java shell prints its connection event before a command that fails without
    // the server (bogus, bad options) is a race between its threads: not compared here.
    const r = await both([server, ...args])
    for (const side of [r.java, r.kafkit]) side.events = side.events.filter(e => e !== 'WatchedEvent state:SyncConnected type:None path:null')
    assertSame(args.join(' '), r)
  }
  // A write: Java creates, kafkit deletes it, then kafkit creates it the same way.
  const java = normalise(await runJava([server, 'create', '-e', '/two', 'y'], ''))
  await waitFor(async () => (await runCommand('zookeeper-shell', [server, 'delete', '/two'])).code === 0, 10000, 'deleting /two')
  assertSame('create -e /two y', {java, kafkit: normalise(await runCommand('zookeeper-shell', [server, 'create', '-e', '/two', 'y']))})
})

test('connect strings: IPv6 [::1]:port, several hosts, a chroot suffix', async () => {
  const setup = await runCommand('zookeeper-shell', [server, 'create', '/chroot', 'c'])
  assert.equal(setup.code, 0, setup.stderr)
  const script = 'create /inside x\nls /\nget /inside\ngetEphemerals\ncreate -e /eph e\ngetEphemerals /\nls -R /\nsync /\ndelete /eph\ndeleteall /inside\n'
  for (const cs of [`[::1]:${kzk.port}`, `127.0.0.1:${kzk.port}/chroot`, `127.0.0.1:${kzk.port},[::1]:${kzk.port}/chroot`]) {
    assertSame(cs, await both([cs], script))
  }
  // Bad connect strings end the Java shell with the exception's line (and a stack trace, not compared).
  for (const cs of [`127.0.0.1:${kzk.port}/chroot/`, '127.0.0.1:abc', '[::1']) {
    const r = await both([cs], 'ls /\n')
    assertSame(cs, r)
    assert.equal(r.kafkit.code, 1)
  }
  // connect, close, quit: the session's Closed events, "Not connected", quit keeping the last exit code.
  // A rejected addauth: AuthFailed event, the waiting request fails with AuthFailed, then "Not connected".
  assertSame('addauth rejected', await both([server], 'addauth foo bar\nls /zookeeper\nls /zookeeper\n'))
  // Quotas: setquota / listquota / delquota and their checks.
  assertSame('quotas', await both([server], 'create /q\ncreate /q/sub\ncreate /q2\nlistquota /q\nsetquota -n 10 /q\nlistquota /q\nsetquota -b 100 /q\nsetquota -N 5 /q\nlistquota /q\nsetquota /q\nsetquota -n 1 -b 2 /q\nsetquota -n abc /q\nsetquota -n 0 /q\nsetquota -b -1 /q\nsetquota -n 5 /nope\nsetquota -n 5 /q/sub\nsetquota -n 5 /zookeeper/quota/x\nsetquota -n 1 /q2\nget /zookeeper/quota/q/zookeeper_limits\nls -R /zookeeper/quota\ndelquota -n /q\nlistquota /q\ndelquota -n -b /q\ndelquota /q\nlistquota /q\ndelquota /q\ndelquota /q2\nls -R /zookeeper/quota\ndeleteall /q\ndeleteall /q2\n'))
  assertSame('close/connect/quit', await both([server], `close\nclose\nhistory\nprintwatches\nconnect\nls /chroot\nconnect 127.0.0.1:${kzk.port}/chroot\nls /\nget /nope\nquit\nls /\n`))
  const check = await runCommand('zookeeper-shell', [server, 'ls', '/chroot'])
  assert.equal(check.stdout.split('\n').at(-2), '[]')
  await runCommand('zookeeper-shell', [server, 'delete', '/chroot'])
})

test('against Apache ZooKeeper 3.8: null data, containers, TTL, addWatch, removewatches, quotas as the Java shell', async () => {
  const azk: ApacheZk = await startApacheZk()
  try {
    const s = `127.0.0.1:${azk.port}`
    const script = 'create /n\nget /n\nlistquota /n\nlistquota /nope\nlistquota\ncreate /zookeeper/quota/n\ncreate /zookeeper/quota/n/zookeeper_limits count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=5\ncreate /zookeeper/quota/n/zookeeper_stats count=1,bytes=0\nlistquota /n\ndeleteall /zookeeper/quota/n\nsetquota -n 1 /n\nsetquota -b 0 /n\nlistquota /n\ndelquota -b /n\nlistquota /n\ndelquota /n\ncreate -c /n/c\ncreate -t 1000 /n/t\naddWatch /n\ncreate /n/k\naddWatch -m persistent /n/k\naddWatch -m bad /n/k\nset /n/k v\nremovewatches /n\nremovewatches /n/k -a\ngetAllChildrenNumber /n\nwhoami\nconfig\nsync /nope\ndeleteall /n -b 2\nls /\n'
    assertSame('Apache ZooKeeper', await both([s], script))
  } finally {
    await azk.stop()
  }
})

test('an unreachable server: each command fails with ConnectionLoss after a failed attempt, exit 1, as the Java shell', async () => {
  const dead = await freePort()
  const cs = `127.0.0.1:${dead}`
  assertSame('one-shot, unreachable', await both([cs, 'ls', '/']))
  assertSame('interactive, unreachable', await both([cs], 'ls /\nget /a\nwhoami\nsync /\ngetEphemerals\ncreate /x\n'))
})
