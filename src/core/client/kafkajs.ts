// kafkajs set up for the console tools: no log output on stdout (kafkajs logs through
// console by default), client properties (Java names) mapped onto kafkajs options, and
// kafkajs errors mapped to one-line messages.
import kafkajs from 'kafkajs'
import type {KafkaConfig, logCreator as LogCreator} from 'kafkajs'
import {parseBootstrap} from './connection.js'
import {ToolError} from './errors.js'
import {kafkajsLz4Codec, kafkajsSnappyCodec} from './codecs.js'
import {kafkajsZstdCodec} from './zstd.js'

const {Kafka, logLevel, CompressionCodecs, CompressionTypes} = kafkajs
// kafkajs ships gzip only; kafkit adds snappy, LZ4 and zstd.
CompressionCodecs[CompressionTypes.Snappy] = kafkajsSnappyCodec as any
CompressionCodecs[CompressionTypes.LZ4] = kafkajsLz4Codec as any
CompressionCodecs[CompressionTypes.ZSTD] = kafkajsZstdCodec as any

/** kafkajs log entries on stderr, log4j-shaped, only WARN/ERROR and only with KAFKIT_DEBUG. */
const stderrLogger: LogCreator = () => ({namespace, level, log}) => {
  if (!process.env.KAFKIT_DEBUG) return
  const name = level === logLevel.ERROR ? 'ERROR' : level === logLevel.WARN ? 'WARN' : level === logLevel.INFO ? 'INFO' : 'DEBUG'
  process.stderr.write(`[${new Date().toISOString()}] ${name} ${log.message} (${namespace})\n`)
}

function intProp(props: Map<string, string>, key: string, def: number): number {
  const v = props.get(key)
  if (v === undefined) return def
  const n = Number(v.trim())
  if (!Number.isInteger(n)) throw new ToolError(`Invalid value ${v} for configuration ${key}: Not a number of type INT`)
  return n
}

/** A kafkajs client for the given bootstrap list and Java-style client properties. */
export function createKafka(bootstrap: string, props: Map<string, string>, defaultClientId: string): InstanceType<typeof Kafka> {
  const brokers = parseBootstrap(props.get('bootstrap.servers') && !bootstrap ? props.get('bootstrap.servers')! : bootstrap).map(e => `${e.host}:${e.port}`)
  const retries = intProp(props, 'retries', 5)
  const config: KafkaConfig = {
    brokers,
    clientId: props.get('client.id') ?? defaultClientId,
    connectionTimeout: intProp(props, 'socket.connection.setup.timeout.ms', 10000),
    requestTimeout: intProp(props, 'request.timeout.ms', 30000),
    retry: {retries: Math.min(retries, 10), initialRetryTime: intProp(props, 'retry.backoff.ms', 100), maxRetryTime: intProp(props, 'retry.backoff.max.ms', 1000)},
    logLevel: process.env.KAFKIT_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    logCreator: stderrLogger,
  }
  return new Kafka(config)
}

/** One line for a kafkajs error (connection failures name the servers tried). */
export function describeKafkaJsError(error: unknown, bootstrap: string): string {
  const e = error as Error & {name?: string; type?: string; originalError?: Error; retryCount?: number}
  let cause: Error & {type?: string; name?: string; code?: string} = e
  while ((cause as any).originalError) cause = (cause as any).originalError
  const msg = cause.message || e.message || String(error)
  if (cause.name === 'KafkaJSConnectionError' || /ECONNREFUSED|Connection timeout|ENOTFOUND|EHOSTUNREACH|Connection error/.test(msg)) {
    return `Error: could not connect to any broker in ${bootstrap} (${msg})`
  }
  if (cause.type) return `Error: ${msg} (${cause.type})`
  return `Error: ${msg}`
}
