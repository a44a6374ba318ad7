// The client core's log lines, shaped as Apache Kafka's tools print theirs (bin/ scripts run
// with config/tools-log4j.properties: WARN and above, on stderr, "[%d] %p %m (%c)"):
//   [2026-01-02 10:00:00,123] WARN [Producer clientId=console-producer] Connection to node 1
//   (localhost/127.0.0.1:9093) could not be established. Node may not be available.
//   (org.apache.kafka.clients.NetworkClient)
// stdout is never written. KAFKIT_CLIENT_LOG_LEVEL (TRACE..ERROR, OFF) changes the threshold;
// setClientLogSink() sends the lines elsewhere (tests, embedding applications).
import {timestamp} from '../util/log.js'

export type ClientLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'OFF'
const ORDER: Record<ClientLogLevel, number> = {TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, OFF: 5}

function initialLevel(): ClientLogLevel {
  const v = process.env.KAFKIT_CLIENT_LOG_LEVEL?.trim().toUpperCase()
  return v && v in ORDER ? (v as ClientLogLevel) : 'WARN'
}

let threshold = ORDER[initialLevel()]
let sink: (line: string) => void = line => {
  try {
    process.stderr.write(line + '\n')
  } catch {
    // stderr closed: nothing more can be said.
  }
}

export function setClientLogLevel(level: ClientLogLevel): void {
  threshold = ORDER[level]
}

export function setClientLogSink(fn: (line: string) => void): void {
  sink = fn
}

/** The Java logger names the core's lines carry. */
export const Loggers = {
  network: 'org.apache.kafka.clients.NetworkClient',
  sender: 'org.apache.kafka.clients.producer.internals.Sender',
  producer: 'org.apache.kafka.clients.producer.KafkaProducer',
  transactionManager: 'org.apache.kafka.clients.producer.internals.TransactionManager',
  errorCallback: 'org.apache.kafka.clients.producer.internals.ErrorLoggingCallback',
  coordinator: 'org.apache.kafka.clients.consumer.internals.ConsumerCoordinator',
  abstractCoordinator: 'org.apache.kafka.clients.consumer.internals.AbstractCoordinator',
  fetcher: 'org.apache.kafka.clients.consumer.internals.AbstractFetch',
  subscriptions: 'org.apache.kafka.clients.consumer.internals.SubscriptionState',
  offsets: 'org.apache.kafka.clients.consumer.internals.OffsetFetcherUtils',
  metadata: 'org.apache.kafka.clients.Metadata',
  admin: 'org.apache.kafka.clients.admin.KafkaAdminClient',
} as const

/** A logger with Java's LogContext prefix, e.g. "[Consumer clientId=c, groupId=g]". */
export class ClientLogger {
  constructor(public prefix: string) {}

  enabled(level: ClientLogLevel): boolean {
    return ORDER[level] >= threshold
  }

  log(level: Exclude<ClientLogLevel, 'OFF'>, logger: string, message: string, exception?: {toString(): string}): void {
    if (ORDER[level] < threshold) return
    sink(`[${timestamp()}] ${level} ${this.prefix ? this.prefix + ' ' : ''}${message} (${logger})${exception ? '\n' + exception.toString() : ''}`)
  }

  warn(logger: string, message: string, exception?: {toString(): string}): void {
    this.log('WARN', logger, message, exception)
  }

  info(logger: string, message: string): void {
    this.log('INFO', logger, message)
  }

  error(logger: string, message: string, exception?: {toString(): string}): void {
    this.log('ERROR', logger, message, exception)
  }

  debug(logger: string, message: string): void {
    if (ORDER.DEBUG >= threshold) this.log('DEBUG', logger, message)
  }
}
