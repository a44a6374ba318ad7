#!/usr/bin/env node
// Runs the compiled test suite: every dist/test/**/*.test.js (or those whose path contains
// one of the given words) under node's test runner. Cross-platform; no shell globbing.
import {readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'test')
const filters = process.argv.slice(2)
const files = []
const walk = dir => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some(f => relative(root, p).includes(f)))) files.push(p)
  }
}
walk(root)
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const concurrency = process.env.KAFKIT_TEST_CONCURRENCY ?? '1'
// Servers started by the tests register their run files in a directory of this run's own,
// so that no test's kafka-server-stop / zookeeper-server-stop touches a server the user runs.
const env = {...process.env, KAFKIT_RUN_DIR: join(tmpdir(), `kafkit-test-run-${process.pid}`)}
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {stdio: 'inherit', env})
process.exit(r.status ?? 1)
