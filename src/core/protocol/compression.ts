// The record-batch compression seam: compress(codec, buf) and decompress(codec, buf) over
// Kafka's codec ids (attributes & 7), for the broker (compaction, a topic's compression.type)
// and the tools alike. gzip is node:zlib; snappy, LZ4 and zstd are in ./codecs (native where
// their prebuilt packages installed, TypeScript otherwise).
import {gzipSync, gunzipSync} from 'node:zlib'
import {snappyCompress, snappyDecompress, lz4Compress, lz4Decompress, zstdCompress, zstdDecompress} from './codecs/index.js'

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CodecName = typeof CODECS[number]

/** The codec id of compression.type (none, gzip, snappy, lz4, zstd), or -1. */
export function codecId(name: string): number {
  return (CODECS as readonly string[]).indexOf(name)
}

export function compress(codec: number, buf: Buffer): Buffer {
  switch (codec) {
    case 0: return buf
    case 1: return gzipSync(buf)
    case 2: return snappyCompress(buf)
    case 3: return lz4Compress(buf)
    case 4: return zstdCompress(buf)
    default: throw new Error(`Unknown compression type id: ${codec}`)
  }
}

export function decompress(codec: number, buf: Buffer): Buffer {
  switch (codec) {
    case 0: return buf
    case 1: return gunzipSync(buf)
    case 2: return snappyDecompress(buf)
    case 3: return lz4Decompress(buf)
    case 4: return zstdDecompress(buf)
    default: throw new Error(`Unknown compression type id: ${codec}`)
  }
}
