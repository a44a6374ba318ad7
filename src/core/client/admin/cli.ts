// Small pieces of Kafka's tools shared by kafkit's admin scripts (no I/O, no oclif):
// ToolsUtils.validateBootstrapServer and Java's Long/Integer parsing rules.

const HOST_PORT = /^(?:[0-9a-zA-Z\-%._]*:\/\/)?\[?([0-9a-zA-Z\-%._:]*)]?:([0-9]+)$/

/** Kafka's ToolsUtils.validateBootstrapServer: the message, or undefined when valid. */
export function invalidBootstrapServer(list: string | undefined): string | undefined {
  if (list === undefined || list.trim() === '') return 'Error while validating the bootstrap address'
  const parts = javaSplit(list, ',')
  if (parts.length === 0 || parts.some(p => !HOST_PORT.test(p))) return 'Please provide valid host:port like host1:9091,host2:9092'
  return undefined
}

/** Java's String.split(sep): trailing empty strings removed. */
export function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

/** Java's Long.parseLong (undefined when it would throw NumberFormatException). */
export function parseJavaLong(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined
  const b = BigInt(s)
  if (b > 9223372036854775807n || b < -9223372036854775808n) return undefined
  return Number(b)
}

/** Java's Integer.parseInt (undefined when it would throw NumberFormatException). */
export function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined
  const n = Number(s)
  return n > 2147483647 || n < -2147483648 ? undefined : n
}

/** Java's Double.toString: 1024.0, 2.0E7, 1.5E-4. */
export function javaDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0'
  const a = Math.abs(v)
  if (a >= 1e-3 && a < 1e7) {
    const s = String(v)
    return s.includes('.') ? s : s + '.0'
  }
  const [m, e] = v.toExponential().split('e')
  return `${m.includes('.') ? m : m + '.0'}E${Number(e)}`
}

/**
 * Java's KafkaAdminClient refuses to start when default.api.timeout.ms is below
 * request.timeout.ms: that message (to report as "Failed to create new KafkaAdminClient"), or undefined.
 */
export function adminConfigProblem(props: Map<string, string>): string | undefined {
  const num = (k: string, d: number) => {
    const v = props.get(k)
    const n = v === undefined ? d : Number(v.trim())
    return Number.isFinite(n) ? n : d
  }
  if (num('default.api.timeout.ms', 60000) < num('request.timeout.ms', 30000)) return 'The specified value of default.api.timeout.ms must be no smaller than the value of request.timeout.ms.'
  return undefined
}
