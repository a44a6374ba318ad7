// The producer's batch buffers, reused (Java's BufferPool for batch.size buffers). A producer
// that sends full batches of a megabyte would otherwise allocate a fresh megabyte per batch:
// page faults on first touch and external-memory pressure that drives the garbage collector.
// A batch's buffer comes back once the batch is acknowledged (its request was written whole
// and answered, so no socket still holds it); a batch that failed, or grew past batch.size, is
// left to the garbage collector. The free list never holds more than `maxBytes`.

export class BufferPool {
  private readonly free: Buffer[] = []

  constructor(readonly poolableSize: number, readonly maxBytes: number) {}

  /** A buffer of `size` bytes: a reused one when size is the poolable size. */
  allocate(size: number): Buffer {
    if (size === this.poolableSize) {
      const b = this.free.pop()
      if (b !== undefined) return b
    }
    return Buffer.allocUnsafeSlow(size)
  }

  /** Gives back a buffer nothing will read or write again (others than the poolable size are dropped). */
  release(buf: Buffer): void {
    if (buf.length !== this.poolableSize || buf.byteOffset !== 0) return
    if ((this.free.length + 1) * this.poolableSize > this.maxBytes) return
    this.free.push(buf)
  }

  /** Buffers waiting for reuse (for tests). */
  get freeCount(): number {
    return this.free.length
  }
}
