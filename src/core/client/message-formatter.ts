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
}

export interface FormattableRecord {
  partition: number
  offset: string
  timestamp: string
  /** 0 CreateTime, 1 LogAppendTime, -1 none. */
  timestampType: number
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | string | (Buffer | string)[] | null | undefined> | undefined
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
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      if (Array.isArray(v)) for (const x of v) entries.push([k, x])
      else entries.push([k, v])
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
    out.push(r.key ?? o.nullLiteral)
    out.push(o.printValue ? o.keySeparator : o.lineSeparator)
  }
  if (o.printValue) {
    out.push(r.value ?? o.nullLiteral)
    out.push(o.lineSeparator)
  }
}
