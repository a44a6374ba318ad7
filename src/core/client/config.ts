// Typed reads of Java client properties (producer, consumer and admin configs), with the Java
// defaults left to the caller and ConfigDef's error messages:
//   Invalid value abc for configuration linger.ms: Not a number of type LONG
//   Invalid value -1 for configuration batch.size: Value must be at least 0
//   Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1

/** A bad client property: Java's ConfigException message. */
export class ConfigError extends Error {}

const INT_MIN = -2147483648
const INT_MAX = 2147483647

export class ClientConfig {
  readonly props: Map<string, string>

  constructor(props: Map<string, string> | Record<string, string | number | boolean | undefined> = new Map()) {
    if (props instanceof Map) this.props = new Map(props)
    else {
      this.props = new Map()
      for (const [k, v] of Object.entries(props)) if (v !== undefined) this.props.set(k, String(v))
    }
  }

  has(key: string): boolean {
    return this.props.has(key)
  }

  get(key: string): string | undefined {
    return this.props.get(key)
  }

  set(key: string, value: string | number | boolean): this {
    this.props.set(key, String(value))
    return this
  }

  private bad(key: string, value: string, why: string): never {
    throw new ConfigError(`Invalid value ${value} for configuration ${key}: ${why}`)
  }

  private number(key: string, def: number, type: 'INT' | 'LONG' | 'SHORT', min?: number, max?: number): number {
    const raw = this.props.get(key)
    if (raw === undefined) return def
    const t = raw.trim()
    const n = Number(t)
    const [lo, hi] = type === 'INT' ? [INT_MIN, INT_MAX] : type === 'SHORT' ? [-32768, 32767] : [-(2 ** 63), 2 ** 63 - 1]
    if (!/^[+-]?\d+$/.test(t) || n < lo || n > hi) this.bad(key, raw, `Not a number of type ${type}`)
    if (min !== undefined && n < min) this.bad(key, raw, `Value must be at least ${min}`)
    if (max !== undefined && n > max) this.bad(key, raw, `Value must be no more than ${max}`)
    return n
  }

  int(key: string, def: number, min?: number, max?: number): number {
    return this.number(key, def, 'INT', min, max)
  }

  long(key: string, def: number, min?: number, max?: number): number {
    return this.number(key, def, 'LONG', min, max)
  }

  short(key: string, def: number, min?: number, max?: number): number {
    return this.number(key, def, 'SHORT', min, max)
  }

  bool(key: string, def: boolean): boolean {
    const raw = this.props.get(key)
    if (raw === undefined) return def
    const t = raw.trim().toLowerCase()
    if (t === 'true') return true
    if (t === 'false') return false
    return this.bad(key, raw, 'Expected value to be either true or false')
  }

  string(key: string, def: string): string
  string(key: string, def: string | undefined): string | undefined
  string(key: string, def: string | undefined): string | undefined {
    const raw = this.props.get(key)
    return raw === undefined ? def : raw.trim()
  }

  /** A value that must be one of `allowed` (compared case-insensitively when ci). */
  oneOf(key: string, def: string, allowed: string[], ci = false): string {
    const raw = this.props.get(key)
    if (raw === undefined) return def
    const t = ci ? raw.trim().toLowerCase() : raw.trim()
    if (!allowed.includes(t)) this.bad(key, raw.trim(), `String must be one of: ${allowed.join(', ')}`)
    return t
  }

  /** A comma-separated list (Java's LIST type): trimmed, empty items dropped. */
  list(key: string, def: string[]): string[] {
    const raw = this.props.get(key)
    if (raw === undefined) return def
    return raw.split(',').map(s => s.trim()).filter(s => s !== '')
  }
}
