// kafka-cluster: the cluster id (cluster-id) and KRaft broker unregistration (unregister), with
// Apache Kafka 3.9's arguments (argparse4j style), output lines and exit codes.
import {Args, Flags} from '@oclif/core'
import {KafkaCommand, loadClientProperties, ToolError} from './base.js'
import {AdminClient} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {clusterId, unregisterBroker} from '../core/client/admin/cluster.js'
import {argparseParseError, argparseUsage} from '../core/util/argparse.js'

const PROG = 'kafka-cluster'
const NAMES = {'bootstrap-server': '--bootstrap-server/-b', 'bootstrap-controller': '--bootstrap-controller/-C', config: '--config/-c', id: '--id/-i'}

export default class KafkaCluster extends KafkaCommand {
  static hidden = false
  static summary = 'The Kafka cluster tool.'
  static description = 'cluster-id: get information about the ID of a cluster ("Cluster ID: <id>"). unregister: unregister a broker (KRaft clusters; a ZooKeeper-mode cluster answers "The target cluster does not support the broker unregistration API."). Arguments, output and exit codes are Apache Kafka 3.9\'s kafka-cluster.'
  static examples = [
    'kafka-cluster cluster-id --bootstrap-server localhost:9092',
    'kafka-cluster unregister --bootstrap-server localhost:9092 --id 3',
  ]

  static args = {
    command: Args.string({description: 'cluster-id | unregister', required: false}),
  }

  static flags = {
    help: Flags.help({char: 'h', description: 'show this help message and exit'}),
    'bootstrap-server': Flags.string({char: 'b', description: 'A list of host/port pairs to use for establishing the connection to the Kafka cluster.', helpValue: 'BOOTSTRAP_SERVER'}),
    'bootstrap-controller': Flags.string({char: 'C', description: 'A list of host/port pairs to use for establishing the connection to the KRaft controllers.', helpValue: 'BOOTSTRAP_CONTROLLER'}),
    config: Flags.string({char: 'c', description: 'A property file containing configurations for the Admin client.', helpValue: 'CONFIG'}),
    id: Flags.string({char: 'i', description: 'The ID of the broker to unregister (unregister only).', helpValue: 'ID'}),
  }

  async catch(error: Error & {exitCode?: number; code?: string}): Promise<any> {
    return super.catch(argparseParseError(PROG, error, NAMES) ?? error)
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KafkaCluster)
    const command = args.command
    if (command === undefined) throw argparseUsage(PROG, 'too few arguments')
    if (command !== 'cluster-id' && command !== 'unregister') throw argparseUsage(PROG, `invalid choice: '${command}' (choose from 'cluster-id', 'unregister')`)
    const server = flags['bootstrap-server']
    const controller = flags['bootstrap-controller']
    if (server !== undefined && controller !== undefined) throw argparseUsage(PROG, 'argument --bootstrap-controller/-C: not allowed with argument --bootstrap-server/-b')
    if (command === 'cluster-id' && flags.id !== undefined) throw argparseUsage(PROG, `unrecognized arguments: '--id ${flags.id}'`)
    let id = 0
    if (command === 'unregister') {
      if (flags.id === undefined) throw argparseUsage(PROG, 'argument --id/-i is required')
      id = Number(flags.id)
      if (!/^[+-]?\d+$/.test(flags.id) || id < -2147483648 || id > 2147483647) throw argparseUsage(PROG, `argument --id/-i: could not convert '${flags.id}' to Integer (For input string: "${flags.id}")`)
    }
    if (server === undefined && controller === undefined) throw argparseUsage(PROG, 'one of the arguments --bootstrap-server/-b --bootstrap-controller/-C is required')
    const props = loadClientProperties(flags.config)
    const bootstrap = (server ?? controller)!
    const admin = new AdminClient(bootstrap, new ClientConfig(props))
    try {
      if (command === 'cluster-id') {
        const cid = await clusterId(admin, controller !== undefined)
        await this.writeOut(cid !== null ? `Cluster ID: ${cid}\n` : 'No cluster ID found. The Kafka version is probably too old.\n')
      } else {
        try {
          await unregisterBroker(admin, id)
          await this.writeOut(`Broker ${id} is no longer registered.\n`)
        } catch (error) {
          if (!(error instanceof KafkaClientError && error.exceptionClass === 'UnsupportedVersionException')) throw error
          await this.writeOut('The target cluster does not support the broker unregistration API.\n')
        }
      }
    } catch (error) {
      // Kafka's tool prints the exception (class and message) as its first line.
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw error
    } finally {
      admin.close()
    }
  }
}
