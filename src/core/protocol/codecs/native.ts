// Prebuilt native codecs, loaded when they installed: snappy and lz4-napi (napi-rs, prebuilt for
// Linux, macOS and Windows) and zstd-napi (prebuilt or compiled at install). They are optional
// dependencies: where one did not install, kafkit uses its pure TypeScript codec (pure.ts, and
// fzstd for reading zstd). KAFKIT_PURE_JS_CODECS=1 uses the pure codecs everywhere (tests
// compare the two).
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

function load<T>(name: string): T | null {
  if (process.env.KAFKIT_PURE_JS_CODECS) return null
  try {
    return require(name) as T
  } catch {
    return null
  }
}

export interface NativeSnappy {compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer, opts?: {asBuffer: boolean}): Buffer | string}
/** lz4-napi's block functions: the block is prefixed with its uncompressed size (u32 LE). */
export interface NativeLz4 {compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer}
export interface NativeZstd {compress(b: Buffer): Buffer; decompress(b: Buffer): Buffer}

export const nativeSnappy = load<NativeSnappy>('snappy')
export const nativeLz4 = load<NativeLz4>('lz4-napi')
export const nativeZstd = load<NativeZstd>('zstd-napi')

/** Which implementation each codec uses in this process (for --version-like reports and benches). */
export function codecImplementations(): Record<'snappy' | 'lz4' | 'zstd', string> {
  return {
    snappy: nativeSnappy ? 'snappy (native)' : 'TypeScript',
    lz4: nativeLz4 ? 'lz4-napi (native)' : 'TypeScript',
    zstd: nativeZstd ? 'zstd-napi (native)' : 'fzstd to read, stored blocks to write',
  }
}
