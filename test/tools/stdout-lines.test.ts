// The tools' synchronous line writer loses nothing when its reader is slow: stdout may be a
// non-blocking pipe, where a write into a full pipe fails with EAGAIN (the old writer dropped
// such lines silently: about half of 200,000 lines reached a reader that paused 2 s).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {repoRoot} from '../helpers/util.js'

test('writeLineSync delivers every line to a reader that pauses', {timeout: 60000}, async () => {
  const base = join(repoRoot, 'dist', 'src', 'commands', 'base.js')
  const lines = 100000
  const script = `import {writeLineSync} from ${JSON.stringify(base)}; for (let i = 0; i < ${lines}; i++) writeLineSync(1, 'line ' + i + ' ' + 'x'.repeat(50))`
  // The shell's pipe (as `tool | slow-reader` makes it) is what the tools meet; spawn through
  // a pipe of our own whose reader waits before reading anything.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
  child.stdout.pause()
  await new Promise(r => setTimeout(r, 1500)) // the reader is slow on purpose: what is tested is that nothing is lost meanwhile
  let count = 0
  let tail = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    const parts = (tail + d).split('\n')
    tail = parts.pop()!
    count += parts.length
  })
  child.stdout.resume()
  const code = await new Promise<number | null>(r => child.on('close', c => r(c)))
  assert.equal(code, 0)
  assert.equal(count, lines)
})
