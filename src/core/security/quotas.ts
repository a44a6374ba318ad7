// Client quotas as Kafka's ClientQuotaManager keeps them: producer_byte_rate (request bytes of
// Produce), consumer_byte_rate (response bytes of Fetch) and request_percentage (time spent
// handling requests, in percent of one thread) per user, client id or both, from /config/users
// and /config/clients, with Kafka's precedence:
//   users/<u>/clients/<c>, users/<u>/clients/<default>, users/<u>, users/<default>/clients/<c>,
//   users/<default>/clients/<default>, users/<default>, clients/<c>, clients/<default>.
// Rates are measured as Kafka's Rate over quota.window.num samples of
// quota.window.size.seconds; a violation gives throttle = (rate - quota) / quota * window, the
// throttle_time_ms of the response, and the connection is muted that long.
import {DEFAULT_ENTITY, sanitize, type EntityConfigStore} from './entity-configs.js'

/** The quota keys of users and client ids, with Kafka's types. */
export const QUOTA_KEY_TYPES: Record<string, 'LONG' | 'DOUBLE'> = {
  producer_byte_rate: 'LONG',
  consumer_byte_rate: 'LONG',
  request_percentage: 'DOUBLE',
  controller_mutation_rate: 'DOUBLE',
}

export const QUOTA_KEYS = Object.keys(QUOTA_KEY_TYPES)

export type QuotaType = 'producer_byte_rate' | 'consumer_byte_rate' | 'request_percentage'

/** Kafka's Rate over a SampledStat: the sum of the live samples over the (at least samples-1 windows) elapsed time. */
export class Rate {
  private readonly starts: number[]
  private readonly values: number[]
  private current = 0

  constructor(readonly samples: number, readonly windowMs: number, now: number) {
    this.starts = new Array(samples).fill(now)
    this.values = new Array(samples).fill(0)
  }

  private purge(now: number): void {
    const expire = this.samples * this.windowMs
    for (let i = 0; i < this.samples; i++) {
      if (now - this.starts[i] >= expire) { this.starts[i] = now; this.values[i] = 0 }
    }
  }

  record(value: number, now: number): void {
    this.purge(now)
    if (now - this.starts[this.current] >= this.windowMs) {
      this.current = (this.current + 1) % this.samples
      this.starts[this.current] = now
      this.values[this.current] = 0
    }
    this.values[this.current] += value
  }

  windowSize(now: number): number {
    this.purge(now)
    let oldest = now
    for (const s of this.starts) oldest = Math.min(oldest, s)
    let elapsed = now - oldest
    const full = Math.floor(elapsed / this.windowMs)
    if (full < this.samples - 1) elapsed += (this.samples - 1 - full) * this.windowMs
    return elapsed
  }

  /** The rate per second. */
  measure(now: number): number {
    const size = this.windowSize(now)
    let total = 0
    for (const v of this.values) total += v
    return total / (size / 1000)
  }
}

interface Sensor {
  rate: Rate
  lastUsed: number
}

const MAX_SENSORS = 10000
const SENSOR_IDLE_MS = 3600 * 1000

export class ClientQuotaManager {
  private readonly sensors = new Map<string, Sensor>()
  /** Whether any entity has a quota of this type (no bookkeeping at all otherwise). */
  private enabled = false

  constructor(readonly type: QuotaType, private readonly entities: () => EntityConfigStore | null, readonly samples = 11, readonly windowMs = 1000, readonly maxThrottleMs = Infinity) {}

  /** Re-reads whether quotas of this type exist (called on every entity config change). */
  refresh(): void {
    const store = this.entities()
    this.enabled = false
    if (store) for (const cfg of store.configs.values()) if (cfg[this.type] !== undefined) { this.enabled = true; break }
    // Sensors keyed by a level that no longer applies are dropped (their bound may have changed).
    this.sensors.clear()
  }

  get active(): boolean {
    return this.enabled
  }

  /** The entity whose quota applies to (user, clientId) and the sensor tags Kafka would use. */
  resolve(user: string, clientId: string): {bound: number; tags: string} | null {
    const store = this.entities()
    if (!store || !this.enabled) return null
    const u = sanitize(user)
    const c = sanitize(clientId)
    const D = DEFAULT_ENTITY
    const levels: [string, string][] = [
      [`users/${u}/clients/${c}`, `${u}|${c}`],
      [`users/${u}/clients/${D}`, `${u}|${c}`],
      [`users/${u}`, `${u}|`],
      [`users/${D}/clients/${c}`, `${u}|${c}`],
      [`users/${D}/clients/${D}`, `${u}|${c}`],
      [`users/${D}`, `${u}|`],
      [`clients/${c}`, `|${c}`],
      [`clients/${D}`, `|${c}`],
    ]
    for (const [path, tags] of levels) {
      const v = store.get(path)?.[this.type]
      if (v !== undefined) {
        const bound = Number(v)
        if (Number.isFinite(bound)) return {bound, tags}
      }
    }
    return null
  }

  /** Records value for (user, clientId) and returns the throttle time in ms (0 within quota). */
  record(user: string, clientId: string, value: number, now = Date.now()): number {
    if (!this.enabled) return 0
    const q = this.resolve(user, clientId)
    if (q === null) return 0
    let s = this.sensors.get(q.tags)
    if (!s) {
      if (this.sensors.size >= MAX_SENSORS) this.evict(now)
      s = {rate: new Rate(this.samples, this.windowMs, now), lastUsed: now}
      this.sensors.set(q.tags, s)
    }
    s.lastUsed = now
    s.rate.record(value, now)
    const rate = s.rate.measure(now)
    if (rate <= q.bound) return 0
    const throttle = Math.round((rate - q.bound) / Math.max(q.bound, 1e-9) * s.rate.windowSize(now))
    return Math.min(throttle, this.maxThrottleMs)
  }

  /** Takes back a value recorded for (user, clientId) without checking the quota (Kafka's unrecordQuotaSensor). */
  unrecord(user: string, clientId: string, value: number, now = Date.now()): void {
    if (!this.enabled) return
    const q = this.resolve(user, clientId)
    if (q === null) return
    this.sensors.get(q.tags)?.rate.record(-value, now)
  }

  /**
   * The largest value one request may record without a guaranteed throttle, even with nothing
   * else recorded in the window: quota * (samples - 1) * window seconds (Kafka's
   * getMaxValueInQuotaWindow; a fetch is capped to it). Infinity without a quota.
   */
  maxValueInWindow(user: string, clientId: string): number {
    if (!this.enabled) return Infinity
    const q = this.resolve(user, clientId)
    return q === null ? Infinity : q.bound * (this.samples - 1) * (this.windowMs / 1000)
  }

  private evict(now: number): void {
    for (const [k, s] of this.sensors) if (now - s.lastUsed > SENSOR_IDLE_MS) this.sensors.delete(k)
    if (this.sensors.size >= MAX_SENSORS) {
      const oldest = [...this.sensors.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed).slice(0, MAX_SENSORS / 10)
      for (const [k] of oldest) this.sensors.delete(k)
    }
  }
}

/** The three client quota managers of a broker. */
export class Quotas {
  readonly produce: ClientQuotaManager
  readonly fetch: ClientQuotaManager
  readonly request: ClientQuotaManager

  constructor(entities: () => EntityConfigStore | null, samples = 11, windowSeconds = 1) {
    const w = windowSeconds * 1000
    this.produce = new ClientQuotaManager('producer_byte_rate', entities, samples, w)
    this.fetch = new ClientQuotaManager('consumer_byte_rate', entities, samples, w)
    // Request quotas throttle at most one window (ClientRequestQuotaManager).
    this.request = new ClientQuotaManager('request_percentage', entities, samples, w, w)
  }

  refresh(): void {
    this.produce.refresh()
    this.fetch.refresh()
    this.request.refresh()
  }

  get active(): boolean {
    return this.produce.active || this.fetch.active || this.request.active
  }
}
