// kafka-broker-api-versions: every broker of the cluster and the API versions it serves, with
// the highest version this client (Kafka 3.9's) would use, as Apache Kafka 3.9's tool prints them.
import {KafkaCommand, bootstrapServerFlag, loadClientProperties, UsageError} from './base.js'
import {Flags} from '@oclif/core'
import {ClientConfig} from '../core/client/config.js'
import {BrokerVersionsClient, apiVersionsText, nodeText} from '../core/client/admin/broker-versions.js'

export default class KafkaBrokerApiVersions extends KafkaCommand {
  static hidden = false
  // Kafka's option parser lets non-option arguments through (and ignores them).
  static strict = false
  static summary = 'This tool helps to retrieve broker version information.'
  static description = 'Prints, for every broker of the cluster, the API keys it serves with their version ranges and the highest version kafkit\'s client (Kafka 3.9\'s) can use: "[usable: N]". Output matches Apache Kafka 3.9\'s kafka-broker-api-versions.'
  static examples = ['kafka-broker-api-versions --bootstrap-server localhost:9092']

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED: The server to connect to.'),
    'command-config': Flags.string({description: 'A property file containing configs to be passed to Admin Client.', helpValue: '<command config property file>'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(KafkaBrokerApiVersions.summary)
    const {flags} = await this.parse(KafkaBrokerApiVersions)
    if (!flags['bootstrap-server']) throw new UsageError('Missing required argument "[bootstrap-server]"')
    const props = loadClientProperties(flags['command-config'])
    props.set('bootstrap.servers', flags['bootstrap-server'])
    const client = new BrokerVersionsClient(flags['bootstrap-server'], new ClientConfig(props))
    try {
      const all = await this.withSpinner('Asking the brokers for their API versions', () => client.versions())
      for (const b of all) {
        await this.writeOut(b.apis ? `${nodeText(b.node)} -> ${apiVersionsText(b.apis)}\n` : `${nodeText(b.node)} -> ERROR: ${b.error}\n`)
      }
    } finally {
      client.close()
    }
  }
}
