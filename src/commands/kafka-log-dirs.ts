// kafka-log-dirs: the log directories of brokers and the replicas in them, as Apache Kafka
// 3.9's LogDirsCommand prints them: two status lines, then one line of JSON whose keys and
// lists come in the order Kafka's HashMaps give them.
import {Flags} from '@oclif/core'
import {KafkaCommand, loadClientProperties, ToolError, UsageError} from './base.js'
import {Admin} from '../core/client/admin.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {javaStringHash} from '../core/client/format.js'
import {describeLogDirs, type LogDirDescription} from '../core/client/admin/log-dirs.js'
import {javaHashOrder, tpHash} from '../core/client/admin/partitions.js'
import {adminConfigProblem, javaSplit, parseJavaInt} from '../core/client/admin/cli.js'

const USAGE = 'This tool helps to query log directory usage on the specified brokers.'

export default class KafkaLogDirs extends KafkaCommand {
  static hidden = false
  static summary = USAGE
  static description = 'Prints the log directories of the brokers and the replicas they hold (size, offset lag) as JSON, as Apache Kafka 3.9\'s kafka-log-dirs --describe. --output json is the format already.'
  static examples = [
    'kafka-log-dirs --describe --bootstrap-server localhost:9092',
    'kafka-log-dirs --describe --bootstrap-server localhost:9092 --broker-list 0,1 --topic-list dev-topic',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'REQUIRED: the server(s) to use for bootstrapping', helpValue: '<The server(s) to use for bootstrapping>'}),
    'command-config': Flags.string({description: 'Property file containing configs to be passed to Admin Client.', helpValue: '<Admin client property file>'}),
    describe: Flags.boolean({description: 'Describe the specified log directories on the specified brokers.'}),
    'topic-list': Flags.string({description: 'The list of topics to be queried in the form "topic1,topic2,topic3". All topics will be queried if no topic list is specified (default: )', helpValue: '<Topic list>'}),
    'broker-list': Flags.string({description: 'The list of brokers to be queried in the form "0,1,2". All brokers in the cluster will be queried if no broker list is specified (default: )', helpValue: '<Broker list>'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(USAGE)
    const {flags} = await this.parse(KafkaLogDirs)
    for (const required of ['bootstrap-server', 'describe'] as const) {
      if (!flags[required]) throw new UsageError(`Missing required argument "[${required}]"`)
    }
    const props = loadClientProperties(flags['command-config'])
    if (!props.has('client.id')) props.set('client.id', 'log-dirs-tool')
    if (adminConfigProblem(props)) throw new ToolError('Failed to create new KafkaAdminClient')
    const admin = new Admin(flags['bootstrap-server']!, {props})
    try {
      const topics = new Set(javaSplit(flags['topic-list'] ?? '', ',').filter(Boolean))
      const cluster = (await admin.client.metadata([], undefined, 'listNodes')).brokers.map(b => b.nodeId)
      const input = [...new Set(javaSplit(flags['broker-list'] ?? '', ',').filter(Boolean).map(s => {
        const n = parseJavaInt(s)
        if (n === undefined) throw new ToolError(`For input string: "${s}"`)
        return n
      }))]
      const clusterSet = new Set(cluster)
      const missing = input.filter(b => !clusterSet.has(b))
      const hashSet = (ids: number[]) => javaHashOrder(ids, id => id).join(',')
      if (missing.length > 0) throw new ToolError(`ERROR: The given brokers do not exist from --broker-list: ${hashSet(missing)}. Current existent brokers: ${hashSet(cluster)}`)
      const brokers = javaHashOrder(input.length > 0 ? input : cluster, id => id)
      await this.writeOut('Querying brokers for log directories information\n')
      const described = await Promise.all(brokers.map(async b => ({broker: b, dirs: await describeLogDirs(admin.client, b)})))
      await this.writeOut(`Received log directory information from brokers ${hashSet(brokers)}\n`)
      await this.writeOut(logDirsJson(described, topics) + '\n')
    } catch (error) {
      if (error instanceof ToolError || error instanceof UsageError) throw error
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw new ToolError((error as Error).message)
    } finally {
      admin.close()
    }
  }
}

/**
 * Kafka's JSON: {"brokers":[{"broker":0,"logDirs":[{"partitions":[{"partition":"t-0","size":0,
 * "offsetLag":0,"isFuture":false}],"error":null,"logDir":"/path"}]}],"version":1}: the key
 * order is that of Java HashMaps holding those keys; log dirs iterate as a HashMap<String>,
 * partitions as a HashMap<TopicPartition>.
 */
export function logDirsJson(described: {broker: number; dirs: LogDirDescription[]}[], topics: Set<string>): string {
  const brokers = described.map(({broker, dirs}) => ({
    broker,
    logDirs: javaHashOrder(dirs, d => javaStringHash(d.logDir)).map(d => ({
      partitions: javaHashOrder(d.replicas.filter(r => topics.size === 0 || topics.has(r.topic)), r => tpHash(r))
        .map(r => ({partition: `${r.topic}-${r.partition}`, size: r.size, offsetLag: r.offsetLag, isFuture: r.isFuture})),
      error: d.error,
      logDir: d.logDir,
    })),
  }))
  return JSON.stringify({brokers, version: 1})
}
