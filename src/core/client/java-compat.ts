// Small pieces of Java behaviour the tools print or depend on: java.util.Random (seeded
// message contents), Double.toString, Integer.parseInt's errors.
import {ToolError} from './errors.js'

/** java.util.Random: the same sequence for the same seed. */
export class JavaRandom {
  private seed: bigint

  constructor(seed: number) {
    this.seed = (BigInt(seed) ^ 0x5DEECE66Dn) & ((1n << 48n) - 1n)
  }

  private next(bits: number): number {
    this.seed = (this.seed * 0x5DEECE66Dn + 0xBn) & ((1n << 48n) - 1n)
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)))
  }

  /** Random.nextInt(bound), bound > 0. */
  nextInt(bound: number): number {
    let r = this.next(31)
    const m = bound - 1
    if ((bound & m) === 0) return Number((BigInt(bound) * BigInt(r)) >> 31n)
    for (let u = r; u - (r = u % bound) + m > 2147483647 || u - r + m < 0; u = this.next(31));
    return r
  }
}

/** Java's Double.toString for the values tools print (always a fraction; E notation outside [1e-3, 1e7)). */
export function javaDoubleString(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity'
  const a = Math.abs(x)
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) {
    const [m, e] = x.toExponential().split('e')
    return `${m.includes('.') ? m : m + '.0'}E${Number(e)}`
  }
  const s = String(x)
  return s.includes('.') ? s : s + '.0'
}

/** Integer.parseInt: Java's NumberFormatException message when s is not an int. */
export function parseJavaInt(s: string): number {
  const n = Number(s)
  if (!/^[+-]?\d+$/.test(s) || n < -2147483648 || n > 2147483647) throw new ToolError(`For input string: "${s}"`)
  return n
}
