// Jute, ZooKeeper's wire encoding: big-endian int/long, one-byte booleans, int32-length
// prefixed strings and buffers (-1 = null), int32-count prefixed vectors. Pure, no I/O.

/** Thrown when a record is truncated or malformed; the server maps it to one closed connection. */
export class JuteError extends Error {}

/** A record that runs past the bytes available (on a stream: wait for more). */
export class JuteTruncated extends JuteError {}

const EMPTY = Buffer.alloc(0)

export class JuteReader {
  pos: number
  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start
  }

  remaining(): number {
    return this.end - this.pos
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new JuteTruncated(`truncated record: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`)
  }

  int(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  /** A long as a JS number (exact for zxids and times, which stay below 2^53). */
  long(): number {
    this.need(8)
    const hi = this.buf.readInt32BE(this.pos)
    const lo = this.buf.readUInt32BE(this.pos + 4)
    this.pos += 8
    return hi * 4294967296 + lo
  }

  /** A long as a bigint (session ids, ephemeral owners: all 64 bits matter). */
  bigLong(): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  bool(): boolean {
    this.need(1)
    return this.buf[this.pos++] !== 0
  }

  /** A buffer; null (-1) reads as an empty buffer, as Apache ZooKeeper's server treats it. */
  buffer(): Buffer {
    const n = this.int()
    if (n <= 0) return EMPTY
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  /**
   * A buffer's bytes as a one-byte (latin1) string: how znode data is held in memory. A
   * string costs a third of a Buffer's per-object overhead, is a single leaf object for
   * the GC, and does not pin an 8 KiB pool slab; latin1 maps every byte 1:1, so it is
   * lossless and its length is the byte length. null (-1) stays null: a znode created with
   * null data reads back as null, as in Apache ZooKeeper.
   */
  latin1(): string | null {
    const n = this.int()
    if (n < 0) return null
    if (n === 0) return ''
    this.need(n)
    const s = this.buf.toString('latin1', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  /** A string; null (-1) reads as null. */
  ustringOrNull(): string | null {
    const n = this.int()
    if (n < 0) return null
    this.need(n)
    const s = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  ustring(): string {
    const s = this.ustringOrNull()
    if (s === null) throw new JuteError('null string where a value is required')
    return s
  }

  vectorCount(): number {
    const n = this.int()
    if (n < -1) throw new JuteError(`bad vector count ${n}`)
    if (n > this.end - this.pos) throw new JuteError(`vector count ${n} exceeds record size`)
    return n < 0 ? 0 : n
  }

  stringVector(): string[] {
    const n = this.vectorCount()
    const out: string[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.ustring()
    return out
  }
}

/** A growable big-endian writer; reset() reuses its memory so hot paths do not allocate. */
export class JuteWriter {
  buf: Buffer
  pos = 0
  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size)
  }

  reset(): this {
    this.pos = 0
    return this
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const nb = Buffer.allocUnsafe(size)
    this.buf.copy(nb, 0, 0, this.pos)
    this.buf = nb
  }

  int(v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v | 0, this.pos)
    this.pos += 4
    return this
  }

  long(v: number): this {
    this.ensure(8)
    const hi = Math.floor(v / 4294967296)
    const lo = v - hi * 4294967296
    this.buf.writeInt32BE(hi | 0, this.pos)
    this.buf.writeUInt32BE(lo >>> 0, this.pos + 4)
    this.pos += 8
    return this
  }

  bigLong(v: bigint): this {
    this.ensure(8)
    this.buf.writeBigInt64BE(v, this.pos)
    this.pos += 8
    return this
  }

  bool(v: boolean): this {
    this.ensure(1)
    this.buf[this.pos++] = v ? 1 : 0
    return this
  }

  byte(v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }

  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1)
    this.int(b.length)
    this.ensure(b.length)
    b.copy(this.buf, this.pos)
    this.pos += b.length
    return this
  }

  /** Bytes held as a latin1 string (see JuteReader.latin1), int32-length prefixed. */
  latin1(s: string | null): this {
    if (s === null) return this.int(-1)
    const n = s.length
    this.int(n)
    this.ensure(n)
    if (n > 0) this.buf.write(s, this.pos, n, 'latin1')
    this.pos += n
    return this
  }

  ustring(s: string | null): this {
    if (s === null) return this.int(-1)
    const n = Buffer.byteLength(s)
    this.int(n)
    this.ensure(n)
    this.buf.write(s, this.pos, n, 'utf8')
    this.pos += n
    return this
  }

  stringVector(v: readonly string[] | null): this {
    if (v === null) return this.int(-1)
    this.int(v.length)
    for (const s of v) this.ustring(s)
    return this
  }

  raw(b: Buffer): this {
    this.ensure(b.length)
    b.copy(this.buf, this.pos)
    this.pos += b.length
    return this
  }

  /** Reserves 4 bytes for a frame length; finishFrame(mark) fills it in. */
  startFrame(): number {
    const mark = this.pos
    this.int(0)
    return mark
  }

  finishFrame(mark: number): void {
    this.buf.writeInt32BE(this.pos - mark - 4, mark)
  }

  /** A copy of the written bytes (the writer's memory is reused). */
  toBuffer(from = 0): Buffer {
    return Buffer.from(this.buf.subarray(from, this.pos))
  }
}

/** Adler-32, the checksum Apache ZooKeeper puts on txn log entries and snapshots. */
export function adler32(buf: Buffer, start = 0, end = buf.length, seed = 1): number {
  let a = seed & 0xffff
  let b = (seed >>> 16) & 0xffff
  let i = start
  while (i < end) {
    // 3800 bytes keep b below 2^31 (small-integer arithmetic) before it is reduced.
    const stop = Math.min(end, i + 3800)
    const stop8 = stop - 7
    for (; i < stop8; i += 8) {
      a += buf[i]; b += a
      a += buf[i + 1]; b += a
      a += buf[i + 2]; b += a
      a += buf[i + 3]; b += a
      a += buf[i + 4]; b += a
      a += buf[i + 5]; b += a
      a += buf[i + 6]; b += a
      a += buf[i + 7]; b += a
    }
    for (; i < stop; i++) {
      a += buf[i]
      b += a
    }
    a %= 65521
    b %= 65521
  }
  return ((b << 16) | a) >>> 0
}
