// Buffers for log reads, reused. A fetch reads up to its max bytes (10 MB for a consumer that
// asks so) into a fresh buffer that lives only until the socket has taken it; allocating those
// buffers made most of the broker's garbage-collection time while consumers read a backlog.
// Reads take a slab of the next power-of-two size (64 KiB .. 16 MiB) from here, and the socket
// layer gives it back once written (socket-server.ts, `releaseReadBuffer`). A buffer never given
// back (a reader that keeps its records) is simply collected. The pool keeps at most 64 MiB.

const MIN_CLASS = 16 // 64 KiB
const MAX_CLASS = 24 // 16 MiB
const MAX_POOLED_BYTES = 64 * 1024 * 1024

const free: ArrayBuffer[][] = Array.from({length: MAX_CLASS + 1}, () => [])
/** Slabs handed out and not given back yet: their size class. */
const leased = new WeakMap<ArrayBuffer, number>()
let pooledBytes = 0

function classOf(size: number): number {
  let c = MIN_CLASS
  while ((1 << c) < size) c++
  return c
}

/** A buffer of exactly `size` bytes, a view of a pooled slab when the size is poolable. */
export function acquireReadBuffer(size: number): Buffer {
  if (size > 1 << MAX_CLASS) return Buffer.allocUnsafeSlow(size)
  const c = classOf(size)
  let slab = free[c].pop()
  if (slab !== undefined) pooledBytes -= slab.byteLength
  else slab = new ArrayBuffer(1 << c)
  leased.set(slab, c)
  return Buffer.from(slab, 0, size)
}

/** Gives a read buffer (or any view of it) back once nothing will read it again. Other buffers are ignored. */
export function releaseReadBuffer(buf: Buffer): void {
  const slab = buf.buffer as ArrayBuffer
  const c = leased.get(slab)
  if (c === undefined) return
  leased.delete(slab)
  if (pooledBytes + slab.byteLength > MAX_POOLED_BYTES) return
  free[c].push(slab)
  pooledBytes += slab.byteLength
}

/** Whether a buffer is a view of a leased read slab (the socket layer gives those back). */
export function isReadBuffer(buf: Buffer): boolean {
  return leased.has(buf.buffer as ArrayBuffer)
}
