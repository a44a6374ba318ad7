// The published package works: `npm pack`, install the tarball globally into a temporary
// prefix (from npm's cache), and run the installed kafka-topics --help like a user would.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {repoRoot, tempDir, removeDir} from '../helpers/util.js'

const isWindows = process.platform === 'win32'

function npm(args: string[], cwd: string) {
  // npm is a script (npm.cmd on Windows): run it through its own launcher, not a shell.
  const r = isWindows
    ? spawnSync(process.env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', 'npm', ...args], {cwd, encoding: 'utf8', timeout: 420000})
    : spawnSync('npm', args, {cwd, encoding: 'utf8', timeout: 420000})
  return r
}

test('npm pack + npm install -g --prefix: the installed kafka-topics --help works', {timeout: 900000}, () => {
  assert.ok(existsSync(join(repoRoot, 'dist', 'src', 'commands', 'kafka-topics.js')), 'build first: dist/src/commands/kafka-topics.js is missing')
  const dir = tempDir('kafkit-pack-')
  try {
    const pack = npm(['pack', '--pack-destination', dir, '--silent'], repoRoot)
    assert.equal(pack.status, 0, `npm pack failed: ${pack.stderr}`)
    const tgz = readdirSync(dir).find(f => f.endsWith('.tgz'))
    assert.ok(tgz, 'npm pack made no tarball')
    const prefix = join(dir, 'prefix')
    const install = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tgz)], dir)
    assert.equal(install.status, 0, `npm install -g failed: ${install.stderr}`)
    const bin = isWindows ? join(prefix, 'kafka-topics.cmd') : join(prefix, 'bin', 'kafka-topics')
    assert.ok(existsSync(bin), `${bin} was not installed`)
    const help = isWindows
      ? spawnSync(process.env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', bin, '--help'], {encoding: 'utf8', timeout: 60000})
      : spawnSync(bin, ['--help'], {encoding: 'utf8', timeout: 60000})
    assert.equal(help.status, 0, help.stderr)
    assert.match(help.stdout, /Create, delete, describe, or change a topic\./)
    assert.match(help.stdout, /--bootstrap-server/)
    assert.match(help.stdout, /kafka-topics --create --bootstrap-server localhost:9092 --replication-factor 1 --partitions 1 --topic dev-topic/)
    for (const cmd of ['kafka-console-producer', 'kafka-console-consumer']) {
      const b = isWindows ? join(prefix, `${cmd}.cmd`) : join(prefix, 'bin', cmd)
      const r = isWindows
        ? spawnSync(process.env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', b, '--help'], {encoding: 'utf8', timeout: 60000})
        : spawnSync(b, ['--help'], {encoding: 'utf8', timeout: 60000})
      assert.equal(r.status, 0, `${cmd} --help: ${r.stderr}`)
      assert.match(r.stdout, /--bootstrap-server/)
    }
  } finally {
    removeDir(dir)
  }
})
