// Kafka's ThroughputThrottler (org.apache.kafka.server.util), as the verifiable producer uses
// it: after a send, shouldThrottle(sentSoFar, sendStartMs) says whether the rate is above the
// target; throttle() then sleeps off the accumulated deficit (1/target s per record) once it
// reaches 2 ms. A target of 0 blocks until wakeup(); a negative target never throttles.
export class ThroughputThrottler {
  private readonly sleepTimeMs: number
  private deficitMs = 0
  private wakeupFn: (() => void) | undefined
  private woken = false

  constructor(private readonly target: number, private readonly startMs: number) {
    this.sleepTimeMs = target > 0 ? 1000 / target : Infinity
  }

  shouldThrottle(amountSoFar: number, sendStartMs: number): boolean {
    if (this.target < 0) return false
    const elapsedSec = (sendStartMs - this.startMs) / 1000
    return elapsedSec > 0 && amountSoFar / elapsedSec > this.target
  }

  async throttle(): Promise<void> {
    if (this.woken) return
    if (this.target === 0) {
      await new Promise<void>(res => { this.wakeupFn = res })
      return
    }
    this.deficitMs += this.sleepTimeMs
    if (this.deficitMs < 2) return
    const start = performance.now()
    await new Promise<void>(res => {
      const t = setTimeout(done, Math.max(1, Math.round(this.deficitMs)))
      function done() { clearTimeout(t); res() }
      this.wakeupFn = done
    })
    this.wakeupFn = undefined
    const slept = performance.now() - start
    this.deficitMs = this.woken ? Math.max(0, this.deficitMs - slept) : 0
  }

  /** Ends a sleep in progress (and every later one). */
  wakeup(): void {
    this.woken = true
    this.wakeupFn?.()
  }
}
