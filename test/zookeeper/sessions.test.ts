// The session tracker's expiry buckets: a session is timed in exactly one bucket, whatever
// moved it there (a touch, a new leader restarting every clock after a database reload).
import {test, mock} from 'node:test'
import assert from 'node:assert/strict'
import {SessionTracker} from '../../src/core/zookeeper/sessions.js'

test('a new leader\'s touchAll leaves each session in one bucket: none expires from the bucket it had when the database was loaded', () => {
  let now = 1_000_000
  const clock = mock.method(Date, 'now', () => now)
  try {
    const t = new SessionTracker(500)
    // A follower loads its database: the session is timed from the load.
    t.add(1n, 6000)
    now += 2000
    // It becomes leader: every clock restarts; then the client touches its session.
    t.touchAll()
    now += 3000
    t.touch(t.sessions.get(1n)!)
    const buckets = t.bucketIds().filter(([, ids]) => ids.includes(1n)).map(([at]) => at)
    assert.deepEqual(buckets, [now + 6000 + 500 - ((now + 6000) % 500)], `session 1 is timed in buckets ${buckets.join(', ')}`)
    // The expiry run at the load's bucket time expires nothing.
    const expired: bigint[] = []
    const timers = mock.method(globalThis, 'setInterval', (fn: () => void) => { run = fn; return {unref() {}} as unknown as NodeJS.Timeout })
    let run = () => {}
    t.start(s => expired.push(s.id))
    timers.mock.restore()
    now = 1_000_000 + 6500
    run()
    assert.deepEqual(expired, [])
    now += 6000
    run()
    assert.deepEqual(expired, [1n])
  } finally {
    clock.mock.restore()
  }
})
