// kafka-e2e-latency: the time one message takes from a producer through the broker to a
// consumer, message after message, as Apache Kafka 3.9's EndToEndLatency tool measures and
// prints it (positional arguments, progress every 1000 messages, average and percentiles).
// Runs on kafkit's client core (Producer, Consumer, Admin).
import {Args} from '@oclif/core'
import {KafkaCommand, loadClientProperties, ToolError} from './base.js'
import {Admin} from '../core/client/admin.js'
import {ClientConfig} from '../core/client/config.js'
import {Consumer, type ConsumerRecord} from '../core/client/consumer.js'
import {Producer} from '../core/client/producer.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {JavaRandom, javaDoubleString, parseJavaInt} from '../core/client/java-compat.js'

const POLL_TIMEOUT_MS = 60000
const USAGE = 'USAGE: kafka-e2e-latency broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file'

export default class KafkaE2eLatency extends KafkaCommand {
  static hidden = false
  // Kafka's tool takes positional arguments only.
  static strict = false
  static summary = 'Measures the end-to-end latency of single messages: produce one, wait for its acknowledgement, consume it, repeat.'
  static description = 'Arguments (as Apache Kafka 3.9\'s kafka-e2e-latency): broker_list topic num_messages producer_acks (1 or all) message_size_bytes [properties_file]. A missing topic is created with 1 partition and replication factor 1. Prints "i<TAB>latency ms" every 1000 messages, then "Avg latency: X ms" and "Percentiles: 50th = a, 99th = b, 99.9th = c".'
  static examples = ['kafka-e2e-latency localhost:9092 latency-topic 10000 all 100']

  static args = {
    broker_list: Args.string({description: 'The bootstrap server(s) of the producer and the consumer.'}),
    topic: Args.string({description: 'The topic to send and receive on.'}),
    num_messages: Args.string({description: 'How many messages to send.'}),
    producer_acks: Args.string({description: 'acks of the producer: 1 or all.'}),
    message_size_bytes: Args.string({description: 'The size of each message.'}),
    properties_file: Args.string({description: 'Client properties for producer, consumer and admin client (optional).'}),
  }

  async run(): Promise<void> {
    await this.parse(KafkaE2eLatency)
    // The raw arguments: oclif's parsed argv does not keep the order of equal values.
    const args = this.argv
    if (args.length !== 5 && args.length !== 6) throw new ToolError(USAGE)
    const [brokers, topic, num, acks, size] = args
    const numMessages = parseJavaInt(num)
    const messageSize = parseJavaInt(size)
    const propsFile = args.length > 5 && args[5].trim() !== '' ? args[5] : undefined
    if (acks !== '1' && acks !== 'all') throw new ToolError('Latency testing requires synchronous acknowledgement. Please use 1 or all')
    if (numMessages < 0) throw new ToolError(`${numMessages}`)
    const props = () => {
      const p = loadClientProperties(propsFile)
      p.set('bootstrap.servers', brokers)
      return p
    }
    const cp = props()
    cp.set('group.id', `test-group-${Date.now()}`)
    cp.set('enable.auto.commit', 'false')
    cp.set('auto.offset.reset', 'latest')
    cp.set('fetch.max.wait.ms', '0')
    const pp = props()
    pp.set('linger.ms', '0')
    pp.set('max.block.ms', '2147483647')
    pp.set('acks', acks)
    const admin = new Admin(brokers, {props: props()})
    let consumer: Consumer | undefined
    let producer: Producer | undefined
    try {
      consumer = new Consumer(brokers, new ClientConfig(cp), 'consumer-test-group-1')
      producer = new Producer(brokers, new ClientConfig(pp), 'producer-1')
      // Kafka's tool asks its consumer (KafkaConsumer.listTopics), whose timeout says this.
      const topics = await admin.listTopics().catch(error => {
        throw error instanceof ToolError && /^Timed out/.test(error.message) ? new ToolError('Timeout expired while fetching topic metadata') : error
      })
      if (!topics.some(t => t.name === topic)) {
        await this.writeOut(`Topic "${topic}" does not exist. Will create topic with 1 partition(s) and replication factor = 1\n`)
        try {
          await admin.createTopic({name: topic, partitions: 1, replicationFactor: 1, configs: new Map()})
        } catch (error) {
          await this.writeOut(`Creation of topic ${topic} failed\n`)
          throw error
        }
      }
      const partitions = (await admin.describeTopics([topic]))[0].partitions.map(p => ({topic, partition: p.partition}))
      consumer.assign(partitions)
      consumer.seekToEnd(partitions)
      await consumer.awaitPositions(POLL_TIMEOUT_MS)
      const random = new JavaRandom(0)
      const latencies: number[] = []
      let totalNs = 0
      for (let i = 0; i < numMessages; i++) {
        const message = Buffer.alloc(messageSize, random.nextInt(26) + 65)
        const begin = process.hrtime.bigint()
        await this.sendOne(producer, topic, message)
        const records = await consumer.poll(POLL_TIMEOUT_MS)
        const elapsed = Number(process.hrtime.bigint() - begin)
        await this.validate(consumer, message, records)
        if (i % 1000 === 0) await this.writeOut(`${i}\t${javaDoubleString(elapsed / 1000 / 1000)}\n`)
        totalNs += elapsed
        latencies.push(Math.floor(elapsed / 1000 / 1000))
      }
      latencies.sort((a, b) => a - b)
      const at = (q: number) => latencies[Math.floor(latencies.length * q)]
      await this.writeOut(`Avg latency: ${(totalNs / numMessages / 1000 / 1000).toFixed(4)} ms\n`)
      await this.writeOut(`Percentiles: 50th = ${at(0.5)}, 99th = ${at(0.99)}, 99.9th = ${at(0.999)}\n`)
      await consumer.commitSync()
    } catch (error) {
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw error
    } finally {
      await producer?.close(5000).catch(() => {})
      await consumer?.close(5000).catch(() => {})
      admin.close()
    }
  }

  private sendOne(producer: Producer, topic: string, value: Buffer): Promise<void> {
    return new Promise((res, rej) => {
      const wait = producer.send(topic, -1, null, value, null, -1, error => (error ? rej(error) : res()))
      wait?.catch(rej)
    })
  }

  private async validate(consumer: Consumer, message: Buffer, records: ConsumerRecord[]): Promise<void> {
    if (records.length === 0) {
      await consumer.commitSync()
      throw new ToolError(`poll() timed out before finding a result (timeout:[${POLL_TIMEOUT_MS}])`)
    }
    const sent = message.toString('utf8')
    const read = records[0].value?.toString('utf8') ?? ''
    if (read !== sent) {
      await consumer.commitSync()
      throw new ToolError(`The message read [${read}] did not match the message sent [${sent}]`)
    }
    if (records.length !== 1) {
      await consumer.commitSync()
      throw new ToolError(`Only one result was expected during this test. We found [${records.length}]`)
    }
  }
}
