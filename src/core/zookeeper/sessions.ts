// Sessions: ids, passwords, negotiated timeouts and expiry in tick-sized buckets, as
// Apache ZooKeeper's ExpiryQueue does (touching a session moves it between buckets, O(1)).
import {createHash} from 'node:crypto'

export interface Session {
  id: bigint
  timeout: number
  expiresAt: number
  closing: boolean
  /** The connection currently attached, if any. */
  owner: unknown
}

const SECRET = Buffer.from('kafkit-zookeeper-session-secret')

/** The session password: derived from the id, so a restarted server recognises it. */
export function sessionPassword(id: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(id)
  return createHash('md5').update(b).update(SECRET).digest()
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

  touch(s: Session): void {
    const at = this.bucketOf(Date.now() + s.timeout)
    if (at === s.expiresAt) return
    if (s.expiresAt !== 0) this.buckets.get(s.expiresAt)?.delete(s)
    s.expiresAt = at
    let b = this.buckets.get(at)
    if (!b) this.buckets.set(at, (b = new Set()))
    b.add(s)
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
          if (!s.closing && this.sessions.get(s.id) === s) {
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
