// zstd for record batches: zstd-napi where it installed (native.ts); otherwise Node's zlib zstd
// where the runtime has it (Node 22.15+/23.8+); otherwise fzstd (pure JS) reads any zstd frame
// and compression writes a valid zstd frame of raw blocks (RFC 8878 section 3.1.1.2.2,
// Block_Type 0), which every zstd decoder reads but which is not smaller than its input.
import * as zlib from 'node:zlib'
import {decompress as fzstdDecompress} from 'fzstd'
import {nativeZstd} from './native.js'

const MAGIC = 0xfd2fb528
const MAX_BLOCK = 128 * 1024

type ZstdSync = (buf: Buffer) => Buffer
const nativeCompress = (zlib as unknown as {zstdCompressSync?: ZstdSync}).zstdCompressSync
const nativeDecompress = (zlib as unknown as {zstdDecompressSync?: ZstdSync}).zstdDecompressSync

/** True when this runtime compresses zstd for real (not raw blocks). */
export const zstdNativeCompression = nativeZstd !== null || typeof nativeCompress === 'function'

/** A single-segment zstd frame holding src in raw (stored) blocks. */
export function zstdFrameRaw(src: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(src.length / MAX_BLOCK))
  const out = Buffer.allocUnsafe(4 + 1 + 4 + blocks * 3 + src.length)
  let pos = out.writeUInt32LE(MAGIC, 0)
  // Frame_Header_Descriptor: Frame_Content_Size_flag 2 (4-byte size), Single_Segment_flag 1.
  pos = out.writeUInt8(0xa0, pos)
  pos = out.writeUInt32LE(src.length, pos)
  for (let i = 0; i < blocks; i++) {
    const start = i * MAX_BLOCK
    const size = Math.min(MAX_BLOCK, src.length - start)
    const last = i === blocks - 1 ? 1 : 0
    const header = last | (0 << 1) | (size << 3)
    out[pos] = header & 0xff
    out[pos + 1] = (header >>> 8) & 0xff
    out[pos + 2] = (header >>> 16) & 0xff
    pos += 3
    src.copy(out, pos, start, start + size)
    pos += size
  }
  return out
}

export function zstdCompress(src: Buffer): Buffer {
  if (nativeZstd) return nativeZstd.compress(src)
  return nativeCompress ? nativeCompress(src) : zstdFrameRaw(src)
}

export function zstdDecompress(src: Buffer): Buffer {
  if (nativeZstd) return nativeZstd.decompress(src)
  if (nativeDecompress) return nativeDecompress(src)
  const out = fzstdDecompress(src)
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}
