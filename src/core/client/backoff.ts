// Java's org.apache.kafka.common.utils.ExponentialBackoff: initial * multiplier^attempts,
// capped at max, with +/- jitter. The client core uses it for reconnects
// (reconnect.backoff.ms / reconnect.backoff.max.ms), connection set-up timeouts
// (socket.connection.setup.timeout.ms / .max.ms), metadata refreshes and retries
// (retry.backoff.ms / retry.backoff.max.ms), with Java's factors: multiplier 2, jitter 0.2.

export class ExponentialBackoff {
  readonly initialInterval: number
  private readonly expMax: number

  constructor(initialInterval: number, readonly multiplier: number, readonly maxInterval: number, readonly jitter: number, private readonly random: () => number = Math.random) {
    this.initialInterval = Math.min(maxInterval, initialInterval)
    this.expMax = maxInterval > initialInterval ? Math.log(maxInterval / Math.max(initialInterval, 1)) / Math.log(multiplier) : 0
  }

  /** The wait before attempt number `attempts` + 1 (attempts counts from 0), in ms. */
  backoff(attempts: number): number {
    if (this.expMax === 0) return this.initialInterval
    const exp = Math.min(attempts, this.expMax)
    const term = this.initialInterval * this.multiplier ** exp
    const randomFactor = this.jitter < Number.MIN_VALUE ? 1 : 1 - this.jitter + this.random() * 2 * this.jitter
    const value = Math.trunc(randomFactor * term)
    return Math.min(value, this.maxInterval)
  }
}

/** Java's retry backoff: retry.backoff.ms doubling up to retry.backoff.max.ms, 20% jitter. */
export function retryBackoff(retryBackoffMs: number, retryBackoffMaxMs: number): ExponentialBackoff {
  return new ExponentialBackoff(retryBackoffMs, 2, Math.max(retryBackoffMs, retryBackoffMaxMs), 0.2)
}

/** Resolves after ms (a timer that does not keep the process alive when unref). */
export function sleep(ms: number, unref = false): Promise<void> {
  return new Promise(res => {
    const t = setTimeout(res, Math.max(0, ms))
    if (unref) t.unref()
  })
}
