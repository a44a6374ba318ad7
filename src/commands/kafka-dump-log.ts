// kafka-dump-log: prints Kafka's on-disk files (.log segments, .index, .timeindex, producer
// .snapshot, .txnindex) as Apache Kafka 3.9's kafka-dump-log does, for segments written by
// kafkit's broker or by Apache Kafka.
import {Flags} from '@oclif/core'
import {writeSync} from 'node:fs'
import {KafkaCommand, UsageError, ToolError} from './base.js'
import {parseIntOption} from '../core/client/errors.js'
import {DumpError, LogDumper, defaultDumpOptions, stringParser, type DumpOptions} from '../core/log/dump.js'
import {offsetsParser, transactionLogParser} from '../core/client/admin/dump-decoders.js'

export default class KafkaDumpLog extends KafkaCommand {
  static hidden = false
  static summary = 'This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment.'
  static description = 'Reads .log segments, .index and .timeindex files, producer state .snapshot files and .txnindex files (written by kafkit\'s broker or Apache Kafka\'s) and prints them as Apache Kafka 3.9\'s kafka-dump-log does. Index mismatches, time index errors and offset gaps are summed up on standard error at the end.'
  static examples = [
    'kafka-dump-log --files /tmp/kafka-logs/dev-topic-0/00000000000000000000.log --print-data-log',
    'kafka-dump-log --offsets-decoder --files /tmp/kafka-logs/__consumer_offsets-12/00000000000000000000.log',
    'kafka-dump-log --files 00000000000000000000.index,00000000000000000000.timeindex --verify-index-only',
  ]

  static flags = {
    files: Flags.string({description: 'REQUIRED: The comma separated list of data and index log files to be dumped.', helpValue: '<file1, file2, ...>'}),
    'print-data-log': Flags.boolean({description: 'If set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified.'}),
    'deep-iteration': Flags.boolean({description: 'If set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled.'}),
    'verify-index-only': Flags.boolean({description: 'If set, just verify the index log without printing its content.'}),
    'index-sanity-check': Flags.boolean({description: 'If set, just checks the index sanity without printing its content. This is the same check that is executed on broker startup to determine if an index needs rebuilding or not.'}),
    'max-message-size': Flags.string({description: 'Size of largest message. (default: 5242880)', helpValue: '<Integer: size>'}),
    'max-bytes': Flags.string({description: 'Limit the amount of total batches read in bytes avoiding reading the whole .log file(s). (default: 2147483647)', helpValue: '<Integer: size>'}),
    'offsets-decoder': Flags.boolean({description: 'If set, log data will be parsed as offset data from the __consumer_offsets topic.'}),
    'transaction-log-decoder': Flags.boolean({description: 'If set, log data will be parsed as transaction metadata from the __transaction_state topic.'}),
    'skip-record-metadata': Flags.boolean({description: 'Whether to skip printing metadata for each record.'}),
    'value-decoder-class': Flags.string({description: 'Java decoder classes cannot run in kafkit: accepted and ignored (values print as UTF-8 text, as with Kafka\'s StringDecoder), with a note on stderr. Implies --print-data-log.', helpValue: '<String>'}),
    'key-decoder-class': Flags.string({description: 'As --value-decoder-class, for keys.', helpValue: '<String>'}),
    'cluster-metadata-decoder': Flags.boolean({description: 'KRaft cluster metadata records: not supported by kafkit (its brokers run in ZooKeeper mode).'}),
    'remote-log-metadata-decoder': Flags.boolean({description: 'Tiered storage metadata records: not supported by kafkit.'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(KafkaDumpLog.summary)
    const {flags} = await this.parse(KafkaDumpLog)
    if (flags.files === undefined) throw new UsageError('Missing required argument "[files]"')
    if (flags['cluster-metadata-decoder']) throw new ToolError('--cluster-metadata-decoder is not supported by kafkit (KRaft metadata logs); its brokers run in ZooKeeper mode')
    if (flags['remote-log-metadata-decoder']) throw new ToolError('--remote-log-metadata-decoder is not supported by kafkit (tiered storage)')
    for (const f of ['value-decoder-class', 'key-decoder-class'] as const) {
      if (flags[f] !== undefined) process.stderr.write(`Note: --${f} ${flags[f]} is ignored: kafkit cannot load Java classes; ${f === 'value-decoder-class' ? 'values' : 'keys'} print as UTF-8 text (Kafka's StringDecoder).\n`)
    }
    const decoding = flags['offsets-decoder'] || flags['transaction-log-decoder'] || flags['value-decoder-class'] !== undefined || flags['key-decoder-class'] !== undefined
    const printData = flags['print-data-log'] || decoding
    const opts: DumpOptions = {
      ...defaultDumpOptions,
      printData,
      deep: flags['deep-iteration'] || printData,
      parser: flags['offsets-decoder'] ? offsetsParser : flags['transaction-log-decoder'] ? transactionLogParser : stringParser,
      skipRecordMetadata: flags['skip-record-metadata'],
      maxBytes: flags['max-bytes'] !== undefined ? parseIntOption(flags['max-bytes'], 'max-bytes') : defaultDumpOptions.maxBytes,
      maxMessageSize: flags['max-message-size'] !== undefined ? parseIntOption(flags['max-message-size'], 'max-message-size') : defaultDumpOptions.maxMessageSize,
      verifyOnly: flags['verify-index-only'],
      indexSanityOnly: flags['index-sanity-check'],
    }
    // Output is written synchronously: a dump can be large, and stderr's summary comes last.
    const out = (text: string) => { if (text) this.writeSync(1, text) }
    const err = (text: string) => this.writeSync(2, text)
    const dumper = new LogDumper(opts, out, err)
    try {
      for (const file of flags.files.split(',')) dumper.dump(file)
    } catch (error) {
      if (error instanceof DumpError) throw new ToolError(`Error: ${error.message}`)
      throw error
    }
    dumper.finish()
  }

  private writeSync(fd: 1 | 2, text: string): void {
    const buf = Buffer.from(text)
    let off = 0
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EAGAIN') continue
        if (code === 'EPIPE') process.exit(0)
        throw error
      }
    }
  }
}
