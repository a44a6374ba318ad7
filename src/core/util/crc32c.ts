// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), used for record batch CRCs.
// `crc32c` uses the hardware-accelerated @node-rs/crc32 (an optional dependency with
// prebuilt binaries for Linux, Windows and macOS; about 3-4x the pure-JS speed here) when it
// loads, and otherwise the pure-JS slicing-by-16 implementation `crc32cJs`: sixteen lookup
// tables let its inner loop consume 16 bytes per iteration. KAFKIT_PURE_JS_CRC=1 forces it.
import {createRequire} from 'node:module'

const POLY = 0x82f63b78

function makeTables(): Int32Array {
  const t = new Int32Array(16 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]
    for (let s = 1; s < 16; s++) {
      c = t[c & 0xff] ^ (c >>> 8)
      t[s * 256 + n] = c
    }
  }
  return t
}

const T = makeTables()

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * CRC-32C of buf[start, end). `seed` is a previous result to continue a running CRC
 * (crc32c(b, 0, n) === crc32c(b, k, n, crc32c(b, 0, k))). Returns an unsigned 32-bit number.
 * On little-endian machines the 16-byte blocks are loaded as four aligned 32-bit words
 * (one Int32Array view per call), which is markedly faster than byte loads.
 */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let crc = ~seed
  let i = start
  const t = T
  if (LITTLE_ENDIAN) {
    // Byte-at-a-time up to a 4-byte boundary of the underlying memory.
    while (i < end && ((buf.byteOffset + i) & 3) !== 0) crc = t[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8)
    const blocks = (end - i) >>> 4
    if (blocks > 0) {
      const w = new Int32Array(buf.buffer, buf.byteOffset + i, blocks * 4)
      for (let k = 0; k < w.length; k += 4) {
        const a = crc ^ w[k]
        const b = w[k + 1]
        const c = w[k + 2]
        const d = w[k + 3]
        crc =
          t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^ t[3328 + ((a >>> 16) & 0xff)] ^ t[3072 + (a >>> 24)] ^
          t[2816 + (b & 0xff)] ^ t[2560 + ((b >>> 8) & 0xff)] ^ t[2304 + ((b >>> 16) & 0xff)] ^ t[2048 + (b >>> 24)] ^
          t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)] ^
          t[768 + (d & 0xff)] ^ t[512 + ((d >>> 8) & 0xff)] ^ t[256 + ((d >>> 16) & 0xff)] ^ t[d >>> 24]
      }
      i += blocks * 16
    }
    while (i < end) crc = t[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8)
    return ~crc >>> 0
  }
  // Big-endian fallback: byte loads, 16 bytes per iteration.
  const head = start + ((end - start) & 15)
  while (i < head) crc = t[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8)
  while (i < end) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))
    crc =
      t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^ t[3328 + ((a >>> 16) & 0xff)] ^ t[3072 + (a >>> 24)] ^
      t[2816 + buf[i + 4]] ^ t[2560 + buf[i + 5]] ^ t[2304 + buf[i + 6]] ^ t[2048 + buf[i + 7]] ^
      t[1792 + buf[i + 8]] ^ t[1536 + buf[i + 9]] ^ t[1280 + buf[i + 10]] ^ t[1024 + buf[i + 11]] ^
      t[768 + buf[i + 12]] ^ t[512 + buf[i + 13]] ^ t[256 + buf[i + 14]] ^ t[buf[i + 15]]
    i += 16
  }
  return ~crc >>> 0
}

/** Bit-at-a-time reference implementation (slow; for tests). */
export function crc32cBitwise(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let crc = ~seed
  for (let i = start; i < end; i++) {
    crc ^= buf[i]
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ POLY : crc >>> 1
  }
  return ~crc >>> 0
}

type NativeCrc = (input: Buffer, initialState?: number) => number

function loadNative(): NativeCrc | null {
  if (process.env.KAFKIT_PURE_JS_CRC === '1') return null
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as {crc32c?: NativeCrc}
    const fn = mod.crc32c
    // Check it agrees with the reference before trusting it.
    if (typeof fn !== 'function' || fn(Buffer.from('123456789')) !== 0xe3069283) return null
    return fn
  } catch {
    return null
  }
}

const native = loadNative()

/** Which implementation `crc32c` uses: 'native' or 'js'. */
export const crc32cImplementation: 'native' | 'js' = native ? 'native' : 'js'

/**
 * CRC-32C of buf[start, end), continuing from `seed` (see crc32cJs). Unsigned 32-bit result.
 */
export const crc32c: (buf: Uint8Array, start?: number, end?: number, seed?: number) => number = native
  ? (buf, start = 0, end = buf.length, seed = 0) => {
      // Short inputs are faster in JS than across the native boundary.
      if (end - start < 256) return crc32cJs(buf, start, end, seed)
      const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
      return native(start === 0 && end === b.length ? b : b.subarray(start, end), seed) >>> 0
    }
  : crc32cJs
