// The cluster's one event queue: every watch-driven step (and every admin operation that
// reads the cache back) runs one at a time, like Kafka's controller event thread, so the
// metadata cache never sees interleaved updates. Also the shared context the cluster's
// parts (metadata cache, controller, admin operations, registration) work on.
import {EventEmitter} from 'node:events'
import type {ServerConfig} from '../config/server-config.js'
import type {Logger} from '../util/log.js'
import {ZkCode, ZkError, type ZkClient} from './zk.js'
import type {MetadataCache} from './metadata-cache.js'
import type {Controller} from './controller.js'

export function isCode(error: unknown, code: number): boolean {
  return error instanceof ZkError && error.code === code
}

export function sameArray(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

export class EventQueue {
  private tail: Promise<void> = Promise.resolve()
  private readonly changes = new EventEmitter()
  /** Set when an event failed with CONNECTION_LOSS: everything is re-read once reconnected. */
  needResync = false

  constructor(private readonly logger: Logger, private readonly isStopped: () => boolean) {
    this.changes.setMaxListeners(0)
  }

  /** Settles when every event queued so far has run. */
  idle(): Promise<void> {
    return this.tail
  }

  enqueue(what: string, fn: () => Promise<void>): void {
    void this.run(what, fn).catch(() => {})
  }

  run(what: string, fn: () => Promise<void>): Promise<void> {
    const p = this.tail.then(async () => {
      if (this.isStopped() && what !== 'startup') return
      try {
        await fn()
      } catch (error) {
        if (this.isStopped()) return
        if (isCode(error, ZkCode.CONNECTION_LOSS) || isCode(error, ZkCode.SESSION_EXPIRED)) {
          this.needResync = true
          this.logger.warn(`Lost the ZooKeeper connection while processing ${what}; will re-read metadata when reconnected`)
        } else this.logger.error(`Error while processing ${what}: ${(error as Error).message}`)
        throw error
      } finally {
        this.changes.emit('change')
      }
    })
    this.tail = p.catch(() => {})
    return p
  }

  /** Resolves when pred() holds after some event has run, or false after timeoutMs. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true)
    return new Promise(resolve => {
      const check = () => {
        if (!pred()) return
        done(true)
      }
      const done = (v: boolean) => {
        clearTimeout(timer)
        this.changes.off('change', check)
        resolve(v)
      }
      const timer = setTimeout(() => done(pred()), timeoutMs)
      this.changes.on('change', check)
    })
  }
}

/** What the cluster's parts share: configuration, the session, the queue and each other. */
export class ClusterContext {
  zk: ZkClient | undefined
  brokerId: number
  clusterId = ''
  started = false
  stopped = false
  /** Set by stop(): never run for controller again. */
  stopping = false
  readonly queue: EventQueue
  cache!: MetadataCache
  controller!: Controller

  constructor(readonly config: ServerConfig, readonly logger: Logger, private readonly emitter: EventEmitter, readonly metadataWaitMs: number) {
    this.brokerId = config.brokerId
    this.queue = new EventQueue(logger, () => this.stopped)
  }

  get zkClient(): ZkClient {
    if (!this.zk) throw new Error('ClusterManager is not started')
    return this.zk
  }

  /** Emits to the broker's listeners; a listener that throws is logged, never breaks metadata processing. */
  fire(event: string, ...args: unknown[]): void {
    try {
      this.emitter.emit(event, ...args)
    } catch (error) {
      this.logger.error(`A '${event}' listener failed: ${(error as Error).message}`)
    }
  }
}
