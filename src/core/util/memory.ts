// Gives memory back after a burst. V8 frees the buffers of finished requests only when it
// collects garbage, and an idle server allocates nothing that would make it collect: after a
// flood of large frames or responses, the process would keep hundreds of MB resident until the
// next busy period. Every few seconds this looks at the resident set; when it has grown by more
// than `growthBytes` since the last look after a collection, it runs one full collection. A
// steady load does not trigger it (its resident set stops growing); each collection costs a
// few ms on the small heaps a broker or coordinator keeps.
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

let gcFn: (() => void) | null | undefined

/** V8's collector as a function, or null when the runtime refuses to expose it. */
function collector(): (() => void) | null {
  if (gcFn !== undefined) return gcFn
  const existing = (globalThis as {gc?: () => void}).gc
  if (typeof existing === 'function') return (gcFn = existing)
  try {
    setFlagsFromString('--expose-gc')
    const fn = runInNewContext('gc') as unknown
    gcFn = typeof fn === 'function' ? fn as () => void : null
  } catch {
    gcFn = null
  }
  return gcFn
}

export class MemoryReclaimer {
  private timer: NodeJS.Timeout | undefined
  /** The lowest resident set seen after a collection: the process's footprint at rest. */
  private floor = Number.POSITIVE_INFINITY
  private lastGc = 0
  /** Grows while collections free nothing (live data, not garbage), so they do not repeat for nothing. */
  private backoffMs: number
  collections = 0

  constructor(private readonly intervalMs = 2000, private readonly growthBytes = 48 * 1024 * 1024, private readonly maxBackoffMs = 60000) {
    this.backoffMs = intervalMs
  }

  start(): this {
    if (this.timer || collector() === null) return this
    this.floor = process.memoryUsage.rss()
    this.timer = setInterval(() => this.check(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /** One look: collect when the resident set is well above the footprint at rest. */
  check(now = Date.now()): void {
    const rss = process.memoryUsage.rss()
    if (rss < this.floor) this.floor = rss
    if (rss - this.floor < this.growthBytes || now - this.lastGc < this.backoffMs) return
    const gc = collector()
    if (gc === null) return
    gc()
    this.collections++
    this.lastGc = now
    const after = process.memoryUsage.rss()
    if (after < this.floor) this.floor = after
    // Freed a good part of the growth: look again soon; freed little: wait longer next time.
    this.backoffMs = rss - after >= this.growthBytes / 2 ? this.intervalMs : Math.min(this.backoffMs * 2, this.maxBackoffMs)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
