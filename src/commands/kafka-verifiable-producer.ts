// kafka-verifiable-producer: Apache Kafka's VerifiableProducer on the client core's producer.
// It sends increasing integers ("0", "1", ... or "<prefix>.<n>") to a topic and prints one
// JSON event per line on stdout, the lines Kafka's system tests parse: startup_complete,
// producer_send_success (key, value, offset, topic, partition) or producer_send_error
// (topic, key, value, exception, message) for each record, then shutdown_complete and
// tool_data (sent, acked, target_throughput, avg_throughput), also when stopped by SIGINT or
// SIGTERM (exit 130/143 then, as the JVM's). Field names, order and types are Kafka 3.9's.
// As the Java tool: retries=0 (so no idempotence), acks from --acks, both overridable by
// --producer.config; a failed record is reported and the exit status stays 0.
import {Flags} from '@oclif/core'
import {loadClientProperties, ToolError} from './base.js'
import {ArgparseCommand, argError, parseJavaNumber} from './argparse.js'
import {Producer} from '../core/client/producer.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {ThroughputThrottler} from '../core/client/throttler.js'
import {javaDouble} from '../core/client/message-formatter.js'

const PROG = 'verifiable-producer'
const str = (s: string | null) => JSON.stringify(s)

/** Java's Double in JSON as Jackson writes it (NaN and infinities quoted). */
export function jsonDouble(x: number): string {
  return Number.isFinite(x) ? javaDouble(x) : JSON.stringify(javaDouble(x))
}

export default class KafkaVerifiableProducer extends ArgparseCommand {
  static hidden = false
  static prog = PROG
  static summary = 'This tool produces increasing integers to the specified topic and prints JSON metadata to stdout on each "send" request, making externally visible which messages have been acked and which have not.'
  static description = 'Apache Kafka\'s VerifiableProducer. Each line on stdout is one JSON event, as Kafka 3.9 prints it: {"timestamp":..,"name":"startup_complete"}, then per record "producer_send_success" (key, value, offset, topic, partition) or "producer_send_error" (topic, key, value, exception, message), and at the end (also on SIGINT/SIGTERM) "shutdown_complete" and "tool_data" (sent, acked, target_throughput, avg_throughput). Values are "N" or "<value-prefix>.N" from 0; keys are null or 0..repeating-keys-1 in turn. The producer does not retry (retries=0), as the Java tool; --producer.config may override acks and retries. Exit status 0 whether records failed or not; 1 for bad arguments or configuration.'
  static examples = [
    'kafka-verifiable-producer --bootstrap-server 127.0.0.1:9092 --topic t --max-messages 1000 --throughput 100',
    'kafka-verifiable-producer --bootstrap-server 127.0.0.1:9092 --topic t --max-messages 10 --acks 1 --value-prefix 3 --repeating-keys 5',
  ]

  static flags = {
    topic: Flags.string({description: 'Produce messages to this topic.', helpValue: 'TOPIC'}),
    'bootstrap-server': Flags.string({description: 'REQUIRED: The server(s) to connect to. Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...', helpValue: 'HOST1:PORT1[,HOST2:PORT2[...]]'}),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...', helpValue: 'HOST1:PORT1[,HOST2:PORT2[...]]'}),
    'max-messages': Flags.string({description: 'Produce this many messages. If -1, produce messages until the process is killed externally. (default: -1)', helpValue: 'MAX-MESSAGES'}),
    throughput: Flags.string({description: 'If set >= 0, throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. (default: -1)', helpValue: 'THROUGHPUT'}),
    acks: Flags.string({description: 'Acks required on each produced message. See Kafka docs on acks for details. (default: -1)', helpValue: 'ACKS'}),
    'producer.config': Flags.string({description: 'Producer config properties file.', helpValue: 'CONFIG_FILE'}),
    'message-create-time': Flags.string({description: 'Send messages with creation time starting at the arguments value, in milliseconds since epoch (default: -1)', helpValue: 'CREATETIME'}),
    'value-prefix': Flags.string({description: 'If specified, each produced value will have this prefix with a dot separator', helpValue: 'VALUE-PREFIX'}),
    'repeating-keys': Flags.string({description: 'If specified, each produced record will have a key starting at 0 increment by 1 up to the number specified (exclusive), then the key is set to 0 again', helpValue: 'REPEATING-KEYS'}),
  }

  async run(): Promise<void> {
    if (await this.helpOnNoArguments()) return
    const {flags} = await this.parse(KafkaVerifiableProducer)
    if (flags.topic === undefined) throw argError(PROG, 'argument --topic is required')
    if (flags['bootstrap-server'] !== undefined && flags['broker-list'] !== undefined) throw argError(PROG, 'argument --broker-list: not allowed with argument --bootstrap-server')
    const bootstrapFlag = flags['bootstrap-server'] ?? flags['broker-list']
    if (bootstrapFlag === undefined) throw argError(PROG, 'one of the arguments --bootstrap-server --broker-list is required')
    const num = (flag: string, def: number | undefined, type: 'Integer' | 'Long' = 'Integer') => {
      const v = (flags as Record<string, unknown>)[flag]
      return typeof v === 'string' ? parseJavaNumber(PROG, flag, v, type) : def
    }
    const maxMessages = num('max-messages', -1)!
    const throughput = num('throughput', -1)!
    const acks = num('acks', -1)!
    if (acks !== 0 && acks !== 1 && acks !== -1) throw argError(PROG, `argument --acks: invalid choice: '${flags.acks}' (choose from {0,1,-1})`)
    const createTimeArg = num('message-create-time', -1, 'Long')!
    const valuePrefix = num('value-prefix', undefined)
    const repeatingKeys = num('repeating-keys', undefined)

    const props = new Map<string, string>([['bootstrap.servers', bootstrapFlag], ['acks', String(acks)], ['retries', '0']])
    if (flags['producer.config'] !== undefined) {
      let file: Map<string, string>
      try {
        file = loadClientProperties(flags['producer.config'])
      } catch {
        throw argError(PROG, flags['producer.config'])
      }
      for (const [k, v] of file) props.set(k, v)
    }
    let producer: Producer
    try {
      producer = new Producer(props.get('bootstrap.servers')!, new ClientConfig(props), 'producer-1')
    } catch (error) {
      throw new ToolError(`Error: ${(error as Error).message}`)
    }
    await this.produce(producer, flags.topic, {maxMessages, throughput, createTime: createTimeArg === -1 ? undefined : createTimeArg, valuePrefix, repeatingKeys})
  }

  private async produce(producer: Producer, topic: string, o: {maxMessages: number; throughput: number; createTime: number | undefined; valuePrefix: number | undefined; repeatingKeys: number | undefined}): Promise<void> {
    // process.stdout, not writeSync(1): a pipe's reader may be slower than the events (EAGAIN).
    const print = (line: string) => { process.stdout.write(line + '\n') }
    const event = (name: string, rest = '') => `{"timestamp":${Date.now()},"name":"${name}"${rest}}`
    const startTime = Date.now()
    let createTime = o.createTime
    let sent = 0
    let acked = 0
    let keyCounter = 0
    let stopSignal: NodeJS.Signals | undefined
    const startMs = Date.now()
    const throttler = new ThroughputThrottler(o.throughput, startMs)
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopSignal) return
      stopSignal = signal
      throttler.wakeup()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)

    print(event('startup_complete'))
    const max = o.maxMessages < 0 ? Number.MAX_SAFE_INTEGER : o.maxMessages
    for (let i = 0; i < max && !stopSignal; i++) {
      const sendStartMs = Date.now()
      let key: string | null = null
      if (o.repeatingKeys !== undefined) {
        key = String(keyCounter++)
        if (keyCounter === o.repeatingKeys) keyCounter = 0
      }
      const value = o.valuePrefix !== undefined ? `${o.valuePrefix}.${i}` : String(i)
      let timestamp = -1
      if (createTime !== undefined) {
        timestamp = createTime
        createTime += Date.now() - startTime
      }
      sent++
      const fields = `,"key":${str(key)},"value":${str(value)}`
      const failed = (e: Error) => {
        const cls = e instanceof KafkaClientError ? e.qualifiedClass : 'org.apache.kafka.common.KafkaException'
        print(event('producer_send_error', `,"topic":${str(topic)},"key":${str(key)},"value":${str(value)},"exception":${str(`class ${cls}`)},"message":${str(e.message || null)}`))
      }
      try {
        const waiting = producer.send(topic, -1, key === null ? null : Buffer.from(key), Buffer.from(value), null, timestamp, (error, partition, offset) => {
          if (error) return failed(error)
          acked++
          print(event('producer_send_success', `${fields},"offset":${offset},"topic":${str(topic)},"partition":${partition}`))
        })
        if (waiting) await waiting
      } catch (error) {
        failed(error as Error)
      }
      if (throttler.shouldThrottle(i, sendStartMs)) await throttler.throttle()
      else if ((i & 255) === 255) await new Promise(res => setImmediate(res))
    }
    await producer.close()
    print(event('shutdown_complete'))
    const stopMs = Date.now()
    print(event('tool_data', `,"sent":${sent},"acked":${acked},"target_throughput":${o.throughput},"avg_throughput":${jsonDouble(1000 * (acked / (stopMs - startMs)))}`))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await new Promise(res => process.stdout.write('', res))
    if (stopSignal) process.exit(stopSignal === 'SIGINT' ? 130 : 143)
  }
}
