// Typed reading of raw .properties strings. Every error names the key, the value and the
// file, so a bad config stops start-up with one clear line.
export class ConfigError extends Error {}

export class Settings {
  readonly used = new Set<string>()
  constructor(readonly props: Map<string, string>, readonly source: string) {}

  has(key: string): boolean {
    return this.props.has(key)
  }

  raw(key: string): string | undefined {
    this.used.add(key)
    const v = this.props.get(key)
    return v === undefined ? undefined : v.trim()
  }

  string(key: string, def: string): string {
    const v = this.raw(key)
    return v === undefined ? def : v
  }

  optString(key: string): string | undefined {
    const v = this.raw(key)
    return v === undefined || v === '' ? undefined : v
  }

  int(key: string, def: number, min = -2147483648, max = 2147483647): number {
    const v = this.raw(key)
    if (v === undefined || v === '') return def
    if (!/^[+-]?\d+$/.test(v)) throw this.bad(key, v, 'an integer')
    const n = Number(v)
    if (n < min || n > max) throw this.bad(key, v, `an integer in [${min}, ${max}]`)
    return n
  }

  /** A Java long; kept as a JS number (exact up to 2^53, enough for sizes and times). */
  long(key: string, def: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key)
    if (v === undefined || v === '') return def
    if (!/^[+-]?\d+$/.test(v)) throw this.bad(key, v, 'a long')
    const big = BigInt(v)
    if (big > 9223372036854775807n || big < -9223372036854775808n) throw this.bad(key, v, 'a long')
    const n = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : big < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : Number(big)
    if (n < min || n > max) throw this.bad(key, v, `a value in [${min}, ${max}]`)
    return n
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key)
    if (v === undefined || v === '') return def
    const l = v.toLowerCase()
    if (l === 'true' || l === 'yes') return true
    if (l === 'false' || l === 'no') return false
    throw this.bad(key, v, 'a boolean (true or false)')
  }

  list(key: string, def: string[]): string[] {
    const v = this.raw(key)
    if (v === undefined) return def
    return v.split(',').map(s => s.trim()).filter(s => s !== '')
  }

  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    const v = this.raw(key)
    if (v === undefined || v === '') return def
    if (!(allowed as readonly string[]).includes(v)) throw this.bad(key, v, `one of ${allowed.join(', ')}`)
    return v as T
  }

  /** Keys present in the file that nothing read: callers warn about them. */
  unused(): string[] {
    return [...this.props.keys()].filter(k => !this.used.has(k))
  }

  bad(key: string, value: string, expected: string): ConfigError {
    return new ConfigError(`Invalid value ${value} for configuration ${key} in ${this.source}: must be ${expected}`)
  }
}
