// Snappy and LZ4 for record batches in plain TypeScript: the fallback where the native codecs
// (native.ts) did not install, and the reference the tests compare them with. Kafka's Java
// client writes snappy in xerial's framing and LZ4 in the LZ4 frame format. Pure functions over
// Buffers, no I/O. index.ts picks the implementation; zstd is in zstd.ts.

// ---- snappy -----------------------------------------------------------------------------

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])

export class CodecError extends Error {}

/** Decodes one raw snappy block. */
export function snappyDecompressRaw(src: Buffer): Buffer {
  let pos = 0
  let len = 0
  let shift = 0
  for (;;) {
    if (pos >= src.length) throw new CodecError('snappy: truncated length')
    const b = src[pos++]
    len += (b & 0x7f) * 2 ** shift
    if (b < 0x80) break
    shift += 7
    if (shift > 35) throw new CodecError('snappy: bad length')
  }
  const out = Buffer.allocUnsafe(len)
  let op = 0
  while (pos < src.length) {
    const tag = src[pos++]
    const type = tag & 3
    if (type === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const bytes = n - 59
        n = 0
        for (let i = 0; i < bytes; i++) n += src[pos + i] * 2 ** (8 * i)
        pos += bytes
      }
      n += 1
      if (pos + n > src.length || op + n > len) throw new CodecError('snappy: literal overruns')
      src.copy(out, op, pos, pos + n)
      pos += n
      op += n
      continue
    }
    let n: number
    let offset: number
    if (type === 1) {
      n = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | src[pos++]
    } else if (type === 2) {
      n = (tag >>> 2) + 1
      offset = src[pos] | (src[pos + 1] << 8)
      pos += 2
    } else {
      n = (tag >>> 2) + 1
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16)) + src[pos + 3] * 0x1000000
      pos += 4
    }
    if (offset === 0 || offset > op || op + n > len) throw new CodecError('snappy: bad copy')
    for (let i = 0; i < n; i++, op++) out[op] = out[op - offset]
  }
  if (op !== len) throw new CodecError('snappy: short output')
  return out
}

/** Decodes Kafka's snappy: xerial framing (header + length-prefixed blocks) or a raw block. */
export function snappyDecompress(src: Buffer): Buffer {
  if (src.length < 16 || !src.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyDecompressRaw(src)
  const parts: Buffer[] = []
  let pos = 16
  while (pos + 4 <= src.length) {
    const n = src.readInt32BE(pos)
    pos += 4
    if (n < 0 || pos + n > src.length) throw new CodecError('snappy: truncated xerial block')
    parts.push(snappyDecompressRaw(src.subarray(pos, pos + n)))
    pos += n
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}

function snappyCompressBlock(src: Buffer, out: number[]): void {
  // Length preamble.
  let n = src.length
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  const table = new Int32Array(1 << 14).fill(-1)
  let lit = 0
  let i = 0
  const emitLiteral = (from: number, to: number) => {
    let len = to - from
    while (len > 0) {
      const chunk = Math.min(len, 65536)
      const v = chunk - 1
      if (v < 60) out.push(v << 2)
      else if (v < 256) out.push(60 << 2, v)
      else out.push(61 << 2, v & 0xff, v >>> 8)
      for (let k = 0; k < chunk; k++) out.push(src[from + k])
      from += chunk
      len -= chunk
    }
  }
  while (i + 4 <= src.length) {
    const key = src.readUInt32LE(i)
    const h = Math.imul(key, 0x1e35a7bd) >>> 18
    const cand = table[h]
    table[h] = i
    if (cand >= 0 && i - cand < 65536 && src.readUInt32LE(cand) === key) {
      emitLiteral(lit, i)
      let m = 4
      while (i + m < src.length && src[cand + m] === src[i + m]) m++
      const offset = i - cand
      let left = m
      while (left > 0) {
        const c = Math.min(left, 64)
        out.push(((c - 1) << 2) | 2, offset & 0xff, offset >>> 8)
        left -= c
      }
      i += m
      lit = i
    } else {
      i++
    }
  }
  emitLiteral(lit, src.length)
}

/** Kafka's snappy: xerial framing with 32 KiB blocks, as the Java client writes it. */
export function snappyCompress(src: Buffer): Buffer {
  const header = Buffer.alloc(16)
  XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(1, 8)
  header.writeInt32BE(1, 12)
  const parts: Buffer[] = [header]
  for (let p = 0; p < src.length || p === 0; p += 32768) {
    const out: number[] = []
    snappyCompressBlock(src.subarray(p, Math.min(src.length, p + 32768)), out)
    const len = Buffer.alloc(4)
    len.writeInt32BE(out.length, 0)
    parts.push(len, Buffer.from(out))
    if (src.length === 0) break
  }
  return Buffer.concat(parts)
}

// ---- LZ4 frame --------------------------------------------------------------------------

export const LZ4_MAGIC = 0x184d2204
const P1 = 2654435761
const P2 = 2246822519
const P3 = 3266489917
const P4 = 668265263
const P5 = 374761393

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0
}

/** xxHash32 (seed 0 by default), for LZ4 frame checksums. */
export function xxhash32(b: Buffer, seed = 0): number {
  let i = 0
  let h: number
  if (b.length >= 16) {
    let v1 = (seed + P1 + P2) >>> 0
    let v2 = (seed + P2) >>> 0
    let v3 = seed >>> 0
    let v4 = (seed - P1) >>> 0
    for (; i + 16 <= b.length; i += 16) {
      v1 = Math.imul(rotl((v1 + Math.imul(b.readUInt32LE(i), P2)) >>> 0, 13), P1) >>> 0
      v2 = Math.imul(rotl((v2 + Math.imul(b.readUInt32LE(i + 4), P2)) >>> 0, 13), P1) >>> 0
      v3 = Math.imul(rotl((v3 + Math.imul(b.readUInt32LE(i + 8), P2)) >>> 0, 13), P1) >>> 0
      v4 = Math.imul(rotl((v4 + Math.imul(b.readUInt32LE(i + 12), P2)) >>> 0, 13), P1) >>> 0
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0
  } else {
    h = (seed + P5) >>> 0
  }
  h = (h + b.length) >>> 0
  for (; i + 4 <= b.length; i += 4) h = Math.imul(rotl((h + Math.imul(b.readUInt32LE(i), P3)) >>> 0, 17), P4) >>> 0
  for (; i < b.length; i++) h = Math.imul(rotl((h + Math.imul(b[i], P5)) >>> 0, 11), P1) >>> 0
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

function lz4DecodeBlock(src: Buffer, start: number, end: number, out: Buffer, op: number): number {
  let pos = start
  while (pos < end) {
    const token = src[pos++]
    let lit = token >>> 4
    if (lit === 15) {
      let b: number
      do { b = src[pos++]; lit += b } while (b === 255 && pos < end)
    }
    if (pos + lit > end || op + lit > out.length) throw new CodecError('lz4: literal overruns')
    src.copy(out, op, pos, pos + lit)
    pos += lit
    op += lit
    if (pos >= end) break
    const offset = src[pos] | (src[pos + 1] << 8)
    pos += 2
    let m = token & 15
    if (m === 15) {
      let b: number
      do { b = src[pos++]; m += b } while (b === 255 && pos < end)
    }
    m += 4
    if (offset === 0 || offset > op || op + m > out.length) throw new CodecError('lz4: bad match')
    for (let k = 0; k < m; k++, op++) out[op] = out[op - offset]
  }
  return op
}

export const BLOCK_SIZES: Record<number, number> = {4: 65536, 5: 262144, 6: 1048576, 7: 4194304}

/** Decodes an LZ4 frame (Kafka's KafkaLZ4BlockOutputStream, or any lz4 frame). */
export function lz4Decompress(src: Buffer): Buffer {
  if (src.length < 7 || src.readUInt32LE(0) !== LZ4_MAGIC) throw new CodecError('lz4: not an LZ4 frame')
  const flg = src[4]
  const bd = src[5]
  const blockChecksum = (flg & 0x10) !== 0
  const hasSize = (flg & 0x08) !== 0
  const hasDict = (flg & 0x01) !== 0
  const maxBlock = BLOCK_SIZES[(bd >>> 4) & 7] ?? 4194304
  let pos = 6 + (hasSize ? 8 : 0) + (hasDict ? 4 : 0) + 1
  const parts: Buffer[] = []
  // Dependent blocks may refer back into earlier ones: decode into one growing window.
  let out = Buffer.allocUnsafe(Math.max(maxBlock, 65536))
  let op = 0
  for (;;) {
    if (pos + 4 > src.length) throw new CodecError('lz4: truncated frame')
    const word = src.readUInt32LE(pos)
    pos += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (pos + size > src.length) throw new CodecError('lz4: truncated block')
    if (out.length - op < maxBlock) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, op + maxBlock))
      out.copy(bigger, 0, 0, op)
      out = bigger
    }
    if (word & 0x80000000) {
      src.copy(out, op, pos, pos + size)
      op += size
    } else {
      op = lz4DecodeBlock(src, pos, pos + size, out, op)
    }
    pos += size + (blockChecksum ? 4 : 0)
  }
  parts.push(out.subarray(0, op))
  return parts[0]
}

function lz4EncodeBlock(src: Buffer, out: number[]): void {
  const n = src.length
  const table = new Int32Array(1 << 14).fill(-1)
  let anchor = 0
  let i = 0
  const limit = n - 12 // the last match must start 12 bytes before the end
  const pushLen = (v: number) => { while (v >= 255) { out.push(255); v -= 255 } out.push(v) }
  while (i < limit) {
    const key = src.readUInt32LE(i)
    const h = Math.imul(key, 2654435761) >>> 18
    const cand = table[h]
    table[h] = i
    if (cand >= 0 && i - cand <= 65535 && src.readUInt32LE(cand) === key) {
      let m = 4
      while (i + m < n - 5 && src[cand + m] === src[i + m]) m++
      const lit = i - anchor
      const ml = m - 4
      out.push(((lit >= 15 ? 15 : lit) << 4) | (ml >= 15 ? 15 : ml))
      if (lit >= 15) pushLen(lit - 15)
      for (let k = anchor; k < i; k++) out.push(src[k])
      const offset = i - cand
      out.push(offset & 0xff, offset >>> 8)
      if (ml >= 15) pushLen(ml - 15)
      i += m
      anchor = i
    } else {
      i++
    }
  }
  const lit = n - anchor
  out.push((lit >= 15 ? 15 : lit) << 4)
  if (lit >= 15) pushLen(lit - 15)
  for (let k = anchor; k < n; k++) out.push(src[k])
}

/** An LZ4 frame with independent 64 KiB blocks, as Kafka's Java client writes. */
export function lz4Compress(src: Buffer): Buffer {
  const header = Buffer.alloc(7)
  header.writeUInt32LE(LZ4_MAGIC, 0)
  header[4] = 0x60 // version 01, independent blocks
  header[5] = 0x40 // 64 KiB blocks
  header[6] = (xxhash32(header.subarray(4, 6)) >>> 8) & 0xff
  const parts: Buffer[] = [header]
  for (let p = 0; p < src.length; p += 65536) {
    const block = src.subarray(p, Math.min(src.length, p + 65536))
    const out: number[] = []
    lz4EncodeBlock(block, out)
    const len = Buffer.alloc(4)
    if (out.length < block.length) {
      len.writeUInt32LE(out.length, 0)
      parts.push(len, Buffer.from(out))
    } else {
      len.writeUInt32LE((block.length | 0x80000000) >>> 0, 0)
      parts.push(len, block)
    }
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}
