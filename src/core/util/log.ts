// Server logging in log4j's shape, as Apache Kafka and ZooKeeper print it:
// [2026-11-23 22:45:00,123] INFO [KafkaServer id=0] started (kafka.server.KafkaServer)
export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'
const order: Record<Level, number> = {TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4}

let threshold: Level = (process.env.KAFKIT_LOG_LEVEL?.toUpperCase() as Level) in order ? (process.env.KAFKIT_LOG_LEVEL!.toUpperCase() as Level) : 'INFO'
let sink: (line: string) => void = line => { process.stdout.write(line + '\n') }

export function setLogLevel(level: Level): void {
  threshold = level
}

export function setLogSink(fn: (line: string) => void): void {
  sink = fn
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

export function timestamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
}

export class Logger {
  constructor(readonly name: string, readonly prefix = '') {}

  child(prefix: string): Logger {
    return new Logger(this.name, prefix)
  }

  enabled(level: Level): boolean {
    return order[level] >= order[threshold]
  }

  log(level: Level, msg: string): void {
    if (order[level] < order[threshold]) return
    sink(`[${timestamp()}] ${level} ${this.prefix ? this.prefix + ' ' : ''}${msg} (${this.name})`)
  }

  trace(msg: string): void { this.log('TRACE', msg) }
  debug(msg: string): void { this.log('DEBUG', msg) }
  info(msg: string): void { this.log('INFO', msg) }
  warn(msg: string): void { this.log('WARN', msg) }
  error(msg: string): void { this.log('ERROR', msg) }
}
