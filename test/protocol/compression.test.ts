// The record-batch codecs: native (snappy, lz4-napi, zstd-napi, where they installed) and the
// TypeScript fallbacks write the same framing and read each other's output, for data of every
// shape (empty, tiny, incompressible, highly repetitive, block-boundary sizes).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {decompress as fzstd} from 'fzstd'
import * as pure from '../../src/core/protocol/codecs/pure.js'
import * as codecs from '../../src/core/protocol/codecs/index.js'
import {compress, decompress} from '../../src/core/protocol/compression.js'
import {nativeSnappy, nativeLz4, nativeZstd} from '../../src/core/protocol/codecs/native.js'

const samples: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from('x'),
  Buffer.from(Array.from({length: 5000}, (_, i) => `record-${i % 97} value ${i}\n`).join('')),
  randomBytes(70000),
  Buffer.alloc(65536, 'a'),
  Buffer.alloc(65537, 'b'),
  Buffer.alloc(32768 * 3 + 1, 'c'),
  Buffer.concat([randomBytes(1000), Buffer.alloc(300000, 'z'), randomBytes(1000)]),
]

test('the native codecs installed here (optional dependencies) and are used', () => {
  // On this project's machines they install; elsewhere the fallback runs and this says so.
  console.log(`codecs: ${JSON.stringify(codecs.codecImplementations())}`)
  // snappy and lz4-napi come prebuilt from the npm registry; zstd-napi is compiled at install
  // where no prebuilt binary can be fetched, and may be missing (then zstd writes stored blocks).
  assert.ok(nativeSnappy && nativeLz4, 'snappy and lz4-napi load')
  if (!nativeZstd) console.log('zstd-napi did not install here: zstd uses the fallback')
})

test('snappy: native and TypeScript read each other', () => {
  for (const s of samples) {
    assert.ok(codecs.snappyDecompress(pure.snappyCompress(s)).equals(s))
    assert.ok(pure.snappyDecompress(codecs.snappyCompress(s)).equals(s))
    assert.ok(decompress(2, compress(2, s)).equals(s))
  }
})

test('lz4: native and TypeScript read each other, dependent-block frames too', () => {
  for (const s of samples) {
    assert.ok(codecs.lz4Decompress(pure.lz4Compress(s)).equals(s))
    assert.ok(pure.lz4Decompress(codecs.lz4Compress(s)).equals(s))
    assert.ok(decompress(3, compress(3, s)).equals(s))
  }
  // A frame without the block-independence flag goes to the TypeScript decoder.
  const f = pure.lz4Compress(samples[2])
  f[4] &= ~0x20
  f[6] = (pure.xxhash32(f.subarray(4, 6)) >>> 8) & 0xff
  assert.ok(codecs.lz4Decompress(f).equals(samples[2]))
  assert.throws(() => codecs.lz4Decompress(Buffer.from('not lz4 at all')), codecs.CodecError)
})

test('zstd: native frames are real compression, and fzstd reads them', () => {
  for (const s of samples) {
    const c = compress(4, s)
    assert.ok(decompress(4, c).equals(s))
    assert.ok(Buffer.from(fzstd(c)).equals(s))
  }
  if (codecs.zstdNativeCompression) assert.ok(compress(4, samples[2]).length < samples[2].length / 4, 'zstd makes repetitive data smaller')
})
