// The console consumer's output format (Kafka's DefaultMessageFormatter): optional
// CreateTime:<ts>, Partition:N, Offset:N, headers (k:v,... or NO_HEADERS) and key before
// the value, joined by key.separator, each record ended by line.separator; null prints
// null.literal ("null"). Pure: builds Buffers, no I/O.

export interface FormatOptions {
  printTimestamp: boolean
  printKey: boolean
  printValue: boolean
  printPartition: boolean
  printOffset: boolean
  printHeaders: boolean
  keySeparator: Buffer
  lineSeparator: Buffer
  headersSeparator: Buffer
  nullLiteral: Buffer
  /** key.deserializer / value.deserializer: bytes → printed bytes (identity for strings). */
  keyDeserializer: Deserializer | undefined
  valueDeserializer: Deserializer | undefined
}

export type Deserializer = (b: Buffer) => Buffer

/** A double as Java's Double.toString writes it (5 -> "5.0", 1e7 -> "1.0E7"). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity'
  const abs = Math.abs(x)
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [m, e] = x.toExponential().split('e')
    return `${m.includes('.') ? m : m + '.0'}E${Number(e)}`
  }
  const t = String(x)
  return t.includes('.') ? t : `${t}.0`
}

function sized(name: string, n: number, read: (b: Buffer) => string): Deserializer {
  return b => {
    if (b.length !== n) throw new Error(`Size of data received by ${name} is not ${n}`)
    return Buffer.from(read(b))
  }
}

const DESERIALIZERS: Record<string, Deserializer> = {
  StringDeserializer: b => b,
  ByteArrayDeserializer: b => b,
  ByteBufferDeserializer: b => b,
  BytesDeserializer: b => b,
  UUIDDeserializer: b => b,
  LongDeserializer: sized('LongDeserializer', 8, b => b.readBigInt64BE(0).toString()),
  IntegerDeserializer: sized('IntegerDeserializer', 4, b => String(b.readInt32BE(0))),
  ShortDeserializer: sized('ShortDeserializer', 2, b => String(b.readInt16BE(0))),
  DoubleDeserializer: sized('DoubleDeserializer', 8, b => javaDouble(b.readDoubleBE(0))),
  FloatDeserializer: sized('FloatDeserializer', 4, b => javaDouble(b.readFloatBE(0))),
  VoidDeserializer: () => Buffer.from('null'),
}

/** A Kafka deserializer by class name (org.apache.kafka.common.serialization.*). */
export function deserializer(className: string | undefined): Deserializer | undefined {
  if (className === undefined || className.trim() === '') return undefined
  const name = className.trim().replace(/^org\.apache\.kafka\.common\.serialization\./, '')
  const d = DESERIALIZERS[name]
  if (!d) throw new Error(`Deserializer ${className.trim()} is not supported by kafkit (supported: ${Object.keys(DESERIALIZERS).map(n => `org.apache.kafka.common.serialization.${n}`).join(', ')})`)
  return name === 'StringDeserializer' || name === 'ByteArrayDeserializer' ? undefined : d
}

export interface FormattableRecord {
  partition: number
  offset: string
  timestamp: string
  /** 0 CreateTime, 1 LogAppendTime, -1 none. */
  timestampType: number
  key: Buffer | null
  value: Buffer | null
  /** In record order (an array, as fetched), or by name. */
  headers: readonly {key: string; value: Buffer | null}[] | Record<string, Buffer | string | (Buffer | string)[] | null | undefined> | undefined
}

function bool(v: string | undefined, def: boolean): boolean {
  return v === undefined ? def : v.trim().toLowerCase() === 'true'
}

export function formatOptions(props: Map<string, string>): FormatOptions {
  const bytes = (k: string, def: string) => Buffer.from(props.get(k) ?? def, 'utf8')
  return {
    printTimestamp: bool(props.get('print.timestamp'), false),
    printKey: bool(props.get('print.key'), false),
    printValue: bool(props.get('print.value'), true),
    printPartition: bool(props.get('print.partition'), false),
    printOffset: bool(props.get('print.offset'), false),
    printHeaders: bool(props.get('print.headers'), false),
    keySeparator: bytes('key.separator', '\t'),
    lineSeparator: bytes('line.separator', '\n'),
    headersSeparator: bytes('headers.separator', ','),
    nullLiteral: bytes('null.literal', 'null'),
    keyDeserializer: deserializer(props.get('key.deserializer')),
    valueDeserializer: deserializer(props.get('value.deserializer')),
  }
}

const NO_HEADERS = Buffer.from('NO_HEADERS')

/** Appends the formatted record to out (a list of chunks written together later). */
export function formatRecord(o: FormatOptions, r: FormattableRecord, out: Buffer[]): void {
  if (o.printTimestamp) {
    const label = r.timestampType === 1 ? `LogAppendTime:${r.timestamp}` : r.timestampType === 0 ? `CreateTime:${r.timestamp}` : 'NO_TIMESTAMP'
    out.push(Buffer.from(label))
    out.push(o.printPartition || o.printOffset || o.printHeaders || o.printKey || o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printPartition) {
    out.push(Buffer.from(`Partition:${r.partition}`))
    out.push(o.printOffset || o.printHeaders || o.printKey || o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printOffset) {
    out.push(Buffer.from(`Offset:${r.offset}`))
    out.push(o.printHeaders || o.printKey || o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printHeaders) {
    const entries: [string, Buffer | string | null | undefined][] = []
    if (Array.isArray(r.headers)) {
      for (const h of r.headers as readonly {key: string; value: Buffer | null}[]) entries.push([h.key, h.value])
    } else {
      for (const [k, v] of Object.entries(r.headers ?? {})) {
        if (Array.isArray(v)) for (const x of v) entries.push([k, x])
        else entries.push([k, v as Buffer | string | null | undefined])
      }
    }
    if (entries.length === 0) out.push(NO_HEADERS)
    entries.forEach(([k, v], i) => {
      out.push(Buffer.from(`${k}:`))
      out.push(v === null || v === undefined ? o.nullLiteral : typeof v === 'string' ? Buffer.from(v) : v)
      if (i < entries.length - 1) out.push(o.headersSeparator)
    })
    out.push(o.printKey || o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printKey) {
    const k = r.key ?? o.nullLiteral
    out.push(o.keyDeserializer ? o.keyDeserializer(k) : k)
    out.push(o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printValue) {
    const v = r.value ?? o.nullLiteral
    out.push(o.valueDeserializer ? o.valueDeserializer(v) : v)
    out.push(o.lineSeparator)
  }
}
