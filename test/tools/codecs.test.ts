// snappy (xerial framing) and LZ4 frames: round trips, known hashes, bad input. The
// interoperability with Apache Kafka's Java client is covered in console.test.ts.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {lz4Compress, lz4Decompress, snappyCompress, snappyDecompress, snappyDecompressRaw, xxhash32, CodecError} from '../../src/core/protocol/codecs/pure.js'

const samples = (): Buffer[] => [
  Buffer.alloc(0),
  Buffer.from('a'),
  Buffer.from('hello hello hello hello hello hello'),
  Buffer.from('x'.repeat(100000)),
  randomBytes(70000),
  Buffer.from(Array.from({length: 20000}, (_, i) => `line ${i} with some repeated text\n`).join('')),
]

test('xxHash32 known values', () => {
  assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05)
  assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff)
  assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f)
})

test('snappy round trips and compresses', () => {
  for (const s of samples()) assert.ok(snappyDecompress(snappyCompress(s)).equals(s), `length ${s.length}`)
  const text = samples()[5]
  assert.ok(snappyCompress(text).length < text.length / 2)
  // A raw block: length 5, literal "hello".
  assert.equal(snappyDecompressRaw(Buffer.from([5, 4 << 2, ...Buffer.from('hello')])).toString(), 'hello')
  assert.throws(() => snappyDecompressRaw(Buffer.from([10, 0x01 | (0 << 2), 5])), CodecError)
})

test('LZ4 frames round trip and compress', () => {
  for (const s of samples()) assert.ok(lz4Decompress(lz4Compress(s)).equals(s), `length ${s.length}`)
  const text = samples()[5]
  assert.ok(lz4Compress(text).length < text.length / 2)
  assert.throws(() => lz4Decompress(Buffer.from('not lz4 at all')), /not an LZ4 frame/)
})
