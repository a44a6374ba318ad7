// kafka-replica-verification: checks that all replicas of the chosen topics hold the same
// batches (offsets and CRCs up to the high watermark) and reports the largest lag, as Apache
// Kafka 3.9's ReplicaVerificationTool does; runs until stopped. On kafkit's client core.
import {Flags} from '@oclif/core'
import {KafkaCommand, UsageError, ToolError, writeLineSync} from './base.js'
import {parseIntOption} from '../core/client/errors.js'
import {AdminClient} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {ClientLogger} from '../core/client/log.js'
import {topicFilter} from '../core/client/format.js'
import {OffsetMismatch, ReplicaVerifier} from '../core/client/admin/replica-verification.js'
import {timestamp as timestampNow} from '../core/util/log.js'

const LOGGER = 'org.apache.kafka.tools.ReplicaVerificationTool'

function parseLongOption(value: string, option: string): number {
  const n = Number(value.trim())
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new ToolError(`Cannot parse argument '${value}' of option ${option}`)
  return n
}

export default class KafkaReplicaVerification extends KafkaCommand {
  static hidden = false
  static summary = 'Validate that all replicas for a set of topics have the same data.'
  static description = 'Fetches the partitions of the chosen topics from every broker holding a replica (as Kafka\'s debugging consumer), compares the replicas batch by batch up to the high watermark and prints, every --report-interval-ms, "<time>: max lag is N for partition T-P at offset O among K partitions"; a checksum mismatch prints a line, an offset mismatch stops the tool with exit 1. Runs until stopped (Ctrl-C). Kafka 3.9 marks this tool deprecated and so does kafkit.'
  static examples = ['kafka-replica-verification --broker-list localhost:9092 --topics-include \'dev-.*\' --report-interval-ms 5000']

  static flags = {
    'broker-list': Flags.string({description: 'REQUIRED: The list of hostname and port of the server to connect to.', helpValue: '<hostname:port,...,hostname:port>'}),
    'fetch-size': Flags.string({description: 'The fetch size of each request. (default: 1048576)', helpValue: '<Integer: bytes>'}),
    'max-wait-ms': Flags.string({description: 'The max amount of time each fetch request waits. (default: 1000)', helpValue: '<Integer: ms>'}),
    'topic-white-list': Flags.string({description: 'DEPRECATED use --topics-include instead; ignored if --topics-include specified. List of topics to verify replica consistency. (default: .*)', helpValue: '<Java regex (String)>'}),
    'topics-include': Flags.string({description: 'List of topics to verify replica consistency. (default: .*)', helpValue: '<Java regex (String)>'}),
    time: Flags.string({description: 'Timestamp for getting the initial offsets. (default: -1)', helpValue: '<timestamp/-1(latest)/-2(earliest)>'}),
    'report-interval-ms': Flags.string({description: 'The reporting interval. (default: 30000)', helpValue: '<Long: ms>'}),
  }

  async run(): Promise<void> {
    const log = new ClientLogger('')
    log.warn(LOGGER, 'This tool is deprecated and may be removed in a future major release.')
    if (this.argv.length === 0) throw new UsageError(KafkaReplicaVerification.summary)
    const {flags} = await this.parse(KafkaReplicaVerification)
    if (!flags['broker-list']) throw new UsageError('Missing required argument "[broker-list]"')
    if (flags['topics-include'] !== undefined && flags['topic-white-list'] !== undefined) throw new UsageError('Option "[topics-include]" can\'t be used with option "[topic-white-list]"')
    const fetchSize = flags['fetch-size'] !== undefined ? parseIntOption(flags['fetch-size'], 'fetch-size') : 1048576
    const maxWaitMs = flags['max-wait-ms'] !== undefined ? parseIntOption(flags['max-wait-ms'], 'max-wait-ms') : 1000
    const time = flags.time !== undefined ? parseLongOption(flags.time, 'time') : -1
    const reportIntervalMs = flags['report-interval-ms'] !== undefined ? parseLongOption(flags['report-interval-ms'], 'report-interval-ms') : 30000
    const brokers = flags['broker-list']
    if (!brokers.split(',').every(s => /^.+:\d+$/.test(s.trim()))) throw new UsageError('Please provide valid host:port like host1:9091,host2:9092')
    const regex = flags['topics-include'] ?? flags['topic-white-list'] ?? '.*'
    let allowed: (t: string) => boolean
    try {
      allowed = topicFilter(regex)
    } catch {
      throw new ToolError(`${regex} is an invalid regex`)
    }
    const admin = new AdminClient(brokers, new ClientConfig({'bootstrap.servers': brokers}))
    let stopping = false
    const stop = () => {
      stopping = true
      admin.close()
      process.exit(0)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      const {partitions} = await ReplicaVerifier.partitionsOf(admin, allowed)
      if (partitions.length === 0) {
        log.error(LOGGER, 'No topics found. [topics-include] if specified, is either filtering out all topics or there is no topic.')
        throw new ToolError('', false, 1)
      }
      const verifier = new ReplicaVerifier(admin, partitions, {fetchSize, maxWaitMs, reportIntervalMs})
      await verifier.initialOffsets(time)
      await this.writeOut(`${timestampNow()}: verification process is started\n`)
      while (!stopping) {
        for (const line of await verifier.round()) await this.writeOut(line + '\n')
      }
    } catch (error) {
      if (error instanceof OffsetMismatch) {
        writeLineSync(1, error.message)
        process.exit(1)
      }
      if (error instanceof ToolError && error.message === '') process.exit(1)
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw error
    } finally {
      admin.close()
    }
  }
}
