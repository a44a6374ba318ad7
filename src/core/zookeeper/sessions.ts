// Sessions: ids, passwords, negotiated timeouts and expiry in tick-sized buckets, as
// Apache ZooKeeper's ExpiryQueue does (touching a session moves it between buckets, O(1)).

export interface Session {
  id: bigint
  timeout: number
  expiresAt: number
  closing: boolean
  /** The connection currently attached, if any. */
  owner: unknown
}

const SUPER_SECRET = 0xb3415c00n
const MULT = 0x5deece66dn
const MASK48 = (1n << 48n) - 1n

/**
 * The session password, as Apache ZooKeeper derives it: 16 bytes of java.util.Random seeded
 * with id ^ 0xB3415C00. Any server of a mixed ensemble (and a restarted one) recognises it.
 */
export function sessionPassword(id: bigint): Buffer {
  let seed = (BigInt.asIntN(64, id) ^ SUPER_SECRET ^ MULT) & MASK48
  const out = Buffer.alloc(16)
  let i = 0
  while (i < 16) {
    seed = (seed * MULT + 0xbn) & MASK48
    let rnd = Number(BigInt.asIntN(32, seed >> 16n))
    for (let n = Math.min(16 - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff
  }
  return out
}

export class SessionTracker {
  readonly sessions = new Map<bigint, Session>()
  private readonly buckets = new Map<number, Set<Session>>()
  private nextId: bigint
  private timer: NodeJS.Timeout | null = null

  constructor(readonly tickTime: number, serverId = 0) {
    // Apache's scheme: top byte the server id, then milliseconds shifted in.
    const t = BigInt(Date.now())
    this.nextId = ((t << 24n) & 0x00ffffffffffffffn) | (BigInt(serverId) << 56n)
  }

  newId(): bigint {
    let id = this.nextId++
    while (this.sessions.has(id)) id = this.nextId++
    return BigInt.asIntN(64, id)
  }

  private bucketOf(time: number): number {
    return (Math.floor(time / this.tickTime) + 1) * this.tickTime
  }

  /** Adds (or re-adds after recovery) a session and starts its expiry clock. */
  add(id: bigint, timeout: number): Session {
    let s = this.sessions.get(id)
    if (!s) {
      s = {id, timeout, expiresAt: 0, closing: false, owner: null}
      this.sessions.set(id, s)
    }
    s.timeout = timeout
    this.touch(s)
    return s
  }

  /** Forgets every session (the database is reloaded). */
  clear(): void {
    this.sessions.clear()
    this.buckets.clear()
  }

  /** Restarts every session's clock (a new leader takes over their expiry). */
  touchAll(): void {
    // Every bucket goes: a session left in the bucket it had when the database was loaded (a
    // follower reloads it on losing its leader) would expire from there, however often its
    // client touched it since.
    this.buckets.clear()
    for (const s of this.sessions.values()) {
      s.expiresAt = 0
      this.touch(s)
    }
  }

  /** Session ids of this server: its id in the top byte, as Apache's initializeNextSessionId. */
  setServerId(serverId: number): void {
    const t = BigInt(Date.now())
    this.nextId = ((t << 24n) & 0x00ffffffffffffffn) | (BigInt(serverId & 0xff) << 56n)
  }

  touch(s: Session): void {
    const at = this.bucketOf(Date.now() + s.timeout)
    if (at === s.expiresAt) return
    if (s.expiresAt !== 0) this.buckets.get(s.expiresAt)?.delete(s)
    s.expiresAt = at
    let b = this.buckets.get(at)
    if (!b) this.buckets.set(at, (b = new Set()))
    b.add(s)
  }

  /**
   * The expiry buckets with their session ids, oldest first. A bucket that its sessions left
   * stays (empty) until its time passes, as in Apache's ExpiryQueue (its dump shows `[ ]`).
   */
  bucketIds(): Array<[number, bigint[]]> {
    const out: Array<[number, bigint[]]> = [...this.buckets].sort((a, b) => a[0] - b[0]).map(([at, set]) => [at, [...set].map(x => x.id)])
    // Sessions this server does not time (expiresAt 0) are listed as before, under 0.
    const untimed = [...this.sessions.values()].filter(x => x.expiresAt === 0).map(x => x.id)
    if (untimed.length > 0) out.unshift([0, untimed])
    return out
  }

  remove(id: bigint): void {
    const s = this.sessions.get(id)
    if (!s) return
    this.sessions.delete(id)
    this.buckets.get(s.expiresAt)?.delete(s)
  }

  /** Calls onExpire for each session whose bucket has passed, every tick. */
  start(onExpire: (s: Session) => void): void {
    const run = () => {
      const now = Date.now()
      for (const [at, set] of this.buckets) {
        if (at > now) continue
        this.buckets.delete(at)
        for (const s of set) {
          // Only from the bucket it is timed in now (it moves on every touch).
          if (!s.closing && this.sessions.get(s.id) === s && s.expiresAt === at) {
            s.expiresAt = 0
            onExpire(s)
          }
        }
      }
    }
    this.timer = setInterval(run, Math.max(10, Math.min(this.tickTime, 1000)))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}
