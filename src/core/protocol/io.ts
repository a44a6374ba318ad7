// Kafka wire primitives: a bounds-checked Reader over one Buffer and a chunked Writer.
// Pure: no I/O. Bytes, records and strings read as views or slices of the input buffer,
// never copies; raw buffers handed to the Writer are appended as chunks, never copied.

/** Malformed or truncated wire data. Its message is one line, fit for a log or a CLI. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const EMPTY = Buffer.alloc(0);
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function slowVarlong(b: Buffer, start: number, end: number): number {
  let z = 0n;
  let shift = 0n;
  for (let i = start; i < end; i++) {
    z |= BigInt(b[i] & 0x7f) << shift;
    shift += 7n;
  }
  z = BigInt.asUintN(64, z);
  return Number((z >> 1n) ^ -(z & 1n));
}

function chunksLength(list: readonly Buffer[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += list[i].length;
  return n;
}

export class Reader {
  readonly buf: Buffer;
  offset: number;
  /** End of the readable region (exclusive). */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): number {
    const o = this.offset;
    if (o + n > this.end) {
      throw new ProtocolError(`truncated data: ${what} needs ${n} bytes at offset ${o}, only ${this.end - o} left`);
    }
    this.offset = o + n;
    return o;
  }

  skip(n: number): void {
    if (n < 0) throw new ProtocolError(`negative length ${n} at offset ${this.offset}`);
    this.need(n, 'skip');
  }

  int8(): number {
    const o = this.need(1, 'int8');
    const b = this.buf[o];
    return b > 127 ? b - 256 : b;
  }

  bool(): boolean {
    const o = this.need(1, 'bool');
    return this.buf[o] !== 0;
  }

  int16(): number {
    const o = this.need(2, 'int16');
    const b = this.buf;
    const v = (b[o] << 8) | b[o + 1];
    return v > 32767 ? v - 65536 : v;
  }

  uint16(): number {
    const o = this.need(2, 'uint16');
    const b = this.buf;
    return (b[o] << 8) | b[o + 1];
  }

  int32(): number {
    const o = this.need(4, 'int32');
    const b = this.buf;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }

  uint32(): number {
    const o = this.need(4, 'uint32');
    const b = this.buf;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** A signed 64-bit integer as a JS number (exact up to 2^53). */
  int64(): number {
    const o = this.need(8, 'int64');
    const b = this.buf;
    const hi = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    const lo = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
    return hi * TWO_32 + lo;
  }

  float64(): number {
    const o = this.need(8, 'float64');
    return this.buf.readDoubleBE(o);
  }

  unsignedVarint(): number {
    const b = this.buf;
    let o = this.offset;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (o >= this.end) throw new ProtocolError(`truncated data: varint at offset ${this.offset}`);
      const byte = b[o++];
      if (shift === 28) {
        if (byte & 0x80) throw new ProtocolError(`varint at offset ${this.offset} is longer than 5 bytes`);
        result += (byte & 0x0f) * 268435456;
        break;
      }
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        result >>>= 0;
        break;
      }
      shift += 7;
    }
    this.offset = o;
    return result;
  }

  varint(): number {
    const z = this.unsignedVarint();
    return (z >>> 1) ^ -(z & 1);
  }

  /** Zig-zag varlong as a number (exact up to 2^53 in magnitude). */
  varlong(): number {
    const b = this.buf;
    const start = this.offset;
    let o = start;
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (o >= this.end) throw new ProtocolError(`truncated data: varlong at offset ${start}`);
      if (i === 10) throw new ProtocolError(`varlong at offset ${start} is longer than 10 bytes`);
      const byte = b[o++];
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
    }
    this.offset = o;
    if (o - start > 7) return slowVarlong(b, start, o); // past 2^49: exact arithmetic
    // zig-zag decode without 32-bit operators
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  /** 16 bytes printed as Kafka prints a Uuid: 22 chars of URL-safe base64, no padding. */
  uuid(): string {
    const o = this.need(16, 'uuid');
    return this.buf.toString('base64url', o, o + 16);
  }

  private checkLen(n: number, what: string, nullable: boolean): number {
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError(`invalid ${what} length ${n} at offset ${this.offset}`);
    }
    return n;
  }

  private str(n: number): string {
    const o = this.need(n, 'string');
    return this.buf.toString('utf8', o, o + n);
  }

  private bytesView(n: number): Buffer {
    const o = this.need(n, 'bytes');
    return this.buf.subarray(o, o + n);
  }

  string(): string {
    const n = this.checkLen(this.int16(), 'string', false);
    return this.str(n);
  }

  nullableString(): string | null {
    const n = this.checkLen(this.int16(), 'string', true);
    return n < 0 ? null : this.str(n);
  }

  compactString(): string {
    const n = this.checkLen(this.unsignedVarint() - 1, 'string', false);
    return this.str(n);
  }

  compactNullableString(): string | null {
    const n = this.unsignedVarint() - 1;
    return n < 0 ? null : this.str(n);
  }

  bytes(): Buffer {
    const n = this.checkLen(this.int32(), 'bytes', false);
    return this.bytesView(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.checkLen(this.int32(), 'bytes', true);
    return n < 0 ? null : this.bytesView(n);
  }

  compactBytes(): Buffer {
    const n = this.checkLen(this.unsignedVarint() - 1, 'bytes', false);
    return this.bytesView(n);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.unsignedVarint() - 1;
    return n < 0 ? null : this.bytesView(n);
  }

  private checkCount(n: number, nullable: boolean): number {
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError(`invalid array length ${n} at offset ${this.offset}`);
    }
    if (n > this.end - this.offset) {
      throw new ProtocolError(`array length ${n} at offset ${this.offset} exceeds the ${this.end - this.offset} bytes left`);
    }
    return n;
  }

  /** int32 array length; -1 (null) only when nullable. */
  arrayLength(nullable = false): number {
    return this.checkCount(this.int32(), nullable);
  }

  /** unsigned varint length + 1; -1 (null) only when nullable. */
  compactArrayLength(nullable = false): number {
    return this.checkCount(this.unsignedVarint() - 1, nullable);
  }

  /** Skips a whole tagged-field section (count, then tag/size/data per field). */
  skipTaggedFields(): void {
    let n = this.unsignedVarint();
    while (n-- > 0) {
      this.unsignedVarint();
      this.skip(this.unsignedVarint());
    }
  }
}

export interface WriterMark {
  buf: Buffer;
  off: number;
}

/**
 * Appends wire data. Small writes go to a scratch buffer; raw() hands a Buffer over as its
 * own chunk without copying it (the caller must not change it until the data is sent).
 */
export class Writer {
  private chunks: Buffer[] = [];
  private scratch: Buffer;
  private pos = 0;
  private flushed = 0; // start of the part of scratch not yet in chunks
  private total = 0; // bytes in chunks

  constructor(initialSize = 1024) {
    this.scratch = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.total + this.pos - this.flushed;
  }

  private flush(): void {
    if (this.pos > this.flushed) {
      this.chunks.push(this.scratch.subarray(this.flushed, this.pos));
      this.total += this.pos - this.flushed;
      this.flushed = this.pos;
    }
  }

  /** Makes room for n bytes; returns the position to write at. */
  private room(n: number): number {
    if (this.pos + n > this.scratch.length) {
      this.flush();
      const size = Math.max(n, Math.min(this.scratch.length * 2, 1 << 20), 1024);
      this.scratch = Buffer.allocUnsafe(size);
      this.pos = 0;
      this.flushed = 0;
    }
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  int8(v: number): this {
    const p = this.room(1);
    this.scratch[p] = v & 0xff;
    return this;
  }

  bool(v: boolean): this {
    const p = this.room(1);
    this.scratch[p] = v ? 1 : 0;
    return this;
  }

  int16(v: number): this {
    const p = this.room(2);
    const b = this.scratch;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    return this;
  }

  uint16(v: number): this {
    return this.int16(v);
  }

  int32(v: number): this {
    const p = this.room(4);
    const b = this.scratch;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    return this;
  }

  uint32(v: number): this {
    return this.int32(v);
  }

  /** A JS number as a signed 64-bit integer; values past the int64 range are clamped. */
  int64(v: number): this {
    let hi: number;
    let lo: number;
    if (v >= TWO_63) {
      hi = 0x7fffffff;
      lo = 0xffffffff;
    } else if (v < -TWO_63) {
      hi = -0x80000000;
      lo = 0;
    } else {
      hi = Math.floor(v / TWO_32);
      lo = v - hi * TWO_32;
    }
    const p = this.room(8);
    const b = this.scratch;
    b[p] = (hi >>> 24) & 0xff;
    b[p + 1] = (hi >>> 16) & 0xff;
    b[p + 2] = (hi >>> 8) & 0xff;
    b[p + 3] = hi & 0xff;
    b[p + 4] = (lo >>> 24) & 0xff;
    b[p + 5] = (lo >>> 16) & 0xff;
    b[p + 6] = (lo >>> 8) & 0xff;
    b[p + 7] = lo & 0xff;
    return this;
  }

  float64(v: number): this {
    const p = this.room(8);
    this.scratch.writeDoubleBE(v, p);
    return this;
  }

  unsignedVarint(v: number): this {
    const p0 = this.room(5);
    const b = this.scratch;
    let p = p0;
    v = v >>> 0;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p; // give back the unused reserved bytes
    return this;
  }

  varint(v: number): this {
    return this.unsignedVarint((v << 1) ^ (v >> 31));
  }

  varlong(v: number): this {
    const p0 = this.room(10);
    const b = this.scratch;
    let p = p0;
    if (v > -4503599627370496 && v < 4503599627370496) {
      let z = v >= 0 ? v * 2 : -v * 2 - 1;
      while (z >= 128) {
        b[p++] = (z % 128) | 0x80;
        z = Math.floor(z / 128);
      }
      b[p++] = z;
    } else {
      const x = v >= TWO_63 ? 0x7fffffffffffffffn : v < -TWO_63 ? -0x8000000000000000n : BigInt(Math.trunc(v));
      let z = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
      while (z >= 128n) {
        b[p++] = Number(z & 0x7fn) | 0x80;
        z >>= 7n;
      }
      b[p++] = Number(z);
    }
    this.pos = p;
    return this;
  }

  uuid(v: string | null | undefined): this {
    const p = this.room(16);
    if (v == null || v === ZERO_UUID) {
      this.scratch.fill(0, p, p + 16);
      return this;
    }
    const n = v.length === 22 ? this.scratch.write(v, p, 16, 'base64url') : 0;
    if (n !== 16) throw new ProtocolError(`invalid uuid '${v}': expected 22 characters of URL-safe base64`);
    return this;
  }

  private strBody(v: string, n: number): void {
    const p = this.room(n);
    if (n > 0) this.scratch.write(v, p, n, 'utf8');
  }

  string(v: string): this {
    const n = Buffer.byteLength(v, 'utf8');
    if (n > 32767) throw new ProtocolError(`string of ${n} bytes is longer than 32767`);
    this.int16(n);
    this.strBody(v, n);
    return this;
  }

  nullableString(v: string | null | undefined): this {
    if (v == null) return this.int16(-1);
    return this.string(v);
  }

  compactString(v: string): this {
    const n = Buffer.byteLength(v, 'utf8');
    this.unsignedVarint(n + 1);
    this.strBody(v, n);
    return this;
  }

  compactNullableString(v: string | null | undefined): this {
    if (v == null) return this.unsignedVarint(0);
    return this.compactString(v);
  }

  /** Bytes may be given as one Buffer or as chunks written back to back (not copied). */
  bytes(v: Buffer | readonly Buffer[]): this {
    if (Buffer.isBuffer(v)) {
      this.int32(v.length);
      return this.raw(v);
    }
    this.int32(chunksLength(v));
    return this.chunks_(v);
  }

  nullableBytes(v: Buffer | readonly Buffer[] | null | undefined): this {
    if (v == null) return this.int32(-1);
    return this.bytes(v);
  }

  compactBytes(v: Buffer | readonly Buffer[]): this {
    if (Buffer.isBuffer(v)) {
      this.unsignedVarint(v.length + 1);
      return this.raw(v);
    }
    this.unsignedVarint(chunksLength(v) + 1);
    return this.chunks_(v);
  }

  compactNullableBytes(v: Buffer | readonly Buffer[] | null | undefined): this {
    if (v == null) return this.unsignedVarint(0);
    return this.compactBytes(v);
  }

  private chunks_(list: readonly Buffer[]): this {
    for (let i = 0; i < list.length; i++) this.raw(list[i]);
    return this;
  }

  arrayLength(n: number): this {
    return this.int32(n);
  }

  compactArrayLength(n: number): this {
    return this.unsignedVarint(n + 1);
  }

  /** Appends buf. Buffers of 256 bytes or more become their own chunk (not copied). */
  raw(buf: Buffer): this {
    const n = buf.length;
    if (n < 256) {
      const p = this.room(n);
      buf.copy(this.scratch, p);
      return this;
    }
    this.flush();
    this.chunks.push(buf);
    this.total += n;
    return this;
  }

  /** Appends everything another Writer holds (its chunks, not copied). */
  append(other: Writer): this {
    for (const c of other.toBuffers()) this.raw(c);
    return this;
  }

  /** Reserves an int32 to patch later with patchInt32 (e.g. a size prefix). */
  markInt32(): WriterMark {
    const p = this.room(4);
    return { buf: this.scratch, off: p };
  }

  patchInt32(mark: WriterMark, v: number): void {
    mark.buf.writeInt32BE(v | 0, mark.off);
  }

  /** The written data as a list of buffers, for socket.writev / cork+write. */
  toBuffers(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const list = this.toBuffers();
    if (list.length === 0) return EMPTY;
    if (list.length === 1) return list[0];
    return Buffer.concat(list, this.total);
  }
}
