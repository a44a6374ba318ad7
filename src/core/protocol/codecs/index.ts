// Snappy and LZ4 as record batches use them, on the native block codecs where they installed
// (native.ts) and the TypeScript ones (pure.ts) otherwise. The framing is kafkit's in both
// cases, the one Kafka's Java client writes and reads (xerial for snappy, the LZ4 frame with
// independent 64 KiB blocks), so the bytes on the wire do not depend on which ran; only the
// block coding is native. A frame the native decoder cannot take (dependent LZ4 blocks) is read
// by the TypeScript decoder.
import * as pure from './pure.js'
import {nativeSnappy, nativeLz4} from './native.js'

export {CodecError, xxhash32, snappyDecompressRaw} from './pure.js'
export {zstdCompress, zstdDecompress, zstdNativeCompression} from './zstd.js'
export {codecImplementations} from './native.js'

const SNAPPY_BLOCK = 32768
const LZ4_BLOCK = 65536

function snappyRaw(src: Buffer): Buffer {
  if (nativeSnappy) {
    try {
      return nativeSnappy.uncompressSync(src, {asBuffer: true}) as Buffer
    } catch {
      // fall through: the TypeScript decoder says what is wrong
    }
  }
  return pure.snappyDecompressRaw(src)
}

/** Kafka's snappy: xerial framing (header + length-prefixed blocks) or a raw block. */
export function snappyDecompress(src: Buffer): Buffer {
  if (!nativeSnappy) return pure.snappyDecompress(src)
  if (src.length < 16 || !src.subarray(0, 8).equals(pure.XERIAL_MAGIC)) return snappyRaw(src)
  const parts: Buffer[] = []
  let pos = 16
  while (pos + 4 <= src.length) {
    const n = src.readInt32BE(pos)
    pos += 4
    if (n < 0 || pos + n > src.length) throw new pure.CodecError('snappy: truncated xerial block')
    parts.push(snappyRaw(src.subarray(pos, pos + n)))
    pos += n
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}

/** Kafka's snappy: xerial framing with 32 KiB blocks, as the Java client writes it. */
export function snappyCompress(src: Buffer): Buffer {
  if (!nativeSnappy) return pure.snappyCompress(src)
  const header = Buffer.alloc(16)
  pure.XERIAL_MAGIC.copy(header, 0)
  header.writeInt32BE(1, 8)
  header.writeInt32BE(1, 12)
  const parts: Buffer[] = [header]
  for (let p = 0; p < src.length || p === 0; p += SNAPPY_BLOCK) {
    const block = nativeSnappy.compressSync(src.subarray(p, Math.min(src.length, p + SNAPPY_BLOCK)))
    const len = Buffer.alloc(4)
    len.writeInt32BE(block.length, 0)
    parts.push(len, block)
    if (src.length === 0) break
  }
  return Buffer.concat(parts)
}

/** An LZ4 frame with independent 64 KiB blocks, as Kafka's Java client writes. */
export function lz4Compress(src: Buffer): Buffer {
  if (!nativeLz4) return pure.lz4Compress(src)
  const header = Buffer.alloc(7)
  header.writeUInt32LE(pure.LZ4_MAGIC, 0)
  header[4] = 0x60 // version 01, independent blocks
  header[5] = 0x40 // 64 KiB blocks
  header[6] = (pure.xxhash32(header.subarray(4, 6)) >>> 8) & 0xff
  const parts: Buffer[] = [header]
  for (let p = 0; p < src.length; p += LZ4_BLOCK) {
    const block = src.subarray(p, Math.min(src.length, p + LZ4_BLOCK))
    const coded = nativeLz4.compressSync(block).subarray(4) // without lz4-napi's size prefix
    const len = Buffer.alloc(4)
    if (coded.length < block.length) {
      len.writeUInt32LE(coded.length, 0)
      parts.push(len, coded)
    } else {
      len.writeUInt32LE((block.length | 0x80000000) >>> 0, 0)
      parts.push(len, block)
    }
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}

/** Decodes an LZ4 frame (Kafka's KafkaLZ4BlockOutputStream, or any lz4 frame). */
export function lz4Decompress(src: Buffer): Buffer {
  if (!nativeLz4 || src.length < 7 || src.readUInt32LE(0) !== pure.LZ4_MAGIC || (src[4] & 0x20) === 0) return pure.lz4Decompress(src)
  const flg = src[4]
  const blockChecksum = (flg & 0x10) !== 0
  const maxBlock = pure.BLOCK_SIZES[(src[5] >>> 4) & 7] ?? 4194304
  let pos = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1
  const parts: Buffer[] = []
  const prefix = Buffer.alloc(4)
  prefix.writeUInt32LE(maxBlock, 0)
  try {
    for (;;) {
      if (pos + 4 > src.length) throw new pure.CodecError('lz4: truncated frame')
      const word = src.readUInt32LE(pos)
      pos += 4
      if (word === 0) break
      const size = word & 0x7fffffff
      if (pos + size > src.length) throw new pure.CodecError('lz4: truncated block')
      // lz4-napi takes the (maximum) decoded size as a prefix and returns the real length.
      parts.push(word & 0x80000000 ? src.subarray(pos, pos + size) : nativeLz4.uncompressSync(Buffer.concat([prefix, src.subarray(pos, pos + size)])))
      pos += size + (blockChecksum ? 4 : 0)
    }
  } catch {
    return pure.lz4Decompress(src)
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}
