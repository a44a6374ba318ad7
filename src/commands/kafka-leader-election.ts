// kafka-leader-election: preferred or unclean leader election for one partition, the
// partitions of a JSON file, or every partition, with Apache Kafka 3.9's flags, checks, output
// lines (partitions in Java's HashSet order) and exit codes. Failures go to stderr, the
// per-partition results to stdout, as Kafka's tool prints them.
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {KafkaCommand, loadClientProperties, UsageError, ToolError} from './base.js'
import {AdminClient, AdminTimeoutError} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {parseIntOption} from '../core/client/errors.js'
import {tpHashOrder} from '../core/client/groups-format.js'
import {electLeaders, tpString, ELECTION_PREFERRED, ELECTION_UNCLEAN, type TopicPartition} from '../core/client/admin/reassign.js'
import {JsonFileError, asArray, asInt, asObject, asString, field} from '../core/client/admin/reassign-json.js'

const HELP_TEXT = 'This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas.'

export default class KafkaLeaderElection extends KafkaCommand {
  static hidden = false
  static summary = 'Elect a new leader for a set of topic partitions (preferred or unclean).'
  static description = HELP_TEXT + ' Output matches Apache Kafka 3.9\'s kafka-leader-election.'
  static examples = [
    'kafka-leader-election --bootstrap-server localhost:9092 --election-type preferred --all-topic-partitions',
    'kafka-leader-election --bootstrap-server localhost:9092 --election-type unclean --topic dev-topic --partition 0',
    'kafka-leader-election --bootstrap-server localhost:9092 --election-type preferred --path-to-json-file partitions.json',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given. REQUIRED.', helpValue: '<host:port>'}),
    'admin.config': Flags.string({description: 'Configuration properties files to pass to the admin client', helpValue: '<config file>'}),
    'path-to-json-file': Flags.string({description: 'The JSON file with the list of partition for which leader elections should be performed: {"partitions": [{"topic": "foo", "partition": 1}, {"topic": "foobar", "partition": 2}]}. Not allowed if --all-topic-partitions or --topic flags are specified.', helpValue: '<Path to JSON file>'}),
    topic: Flags.string({description: 'Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified.', helpValue: '<topic name>'}),
    partition: Flags.string({description: 'Partition id for which to perform an election. REQUIRED if --topic is specified.', helpValue: '<Integer: partition id>'}),
    'all-topic-partitions': Flags.boolean({description: 'Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified.'}),
    'election-type': Flags.string({description: 'Type of election to attempt. Possible values are "preferred" for preferred leader election or "unclean" for unclean leader election. If preferred election is selection, the election is only performed if the current leader is not the preferred leader for the topic partition. If unclean election is selected, the election is only performed if there are no leader for the topic partition. REQUIRED.', helpValue: '<[PREFERRED,UNCLEAN]: election type>'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(HELP_TEXT)
    const {flags} = await this.parse(KafkaLeaderElection)
    // Conversions first, as joptsimple parses them.
    let electionType: number | undefined
    if (flags['election-type'] !== undefined) {
      const t = flags['election-type'].toUpperCase()
      if (t !== 'PREFERRED' && t !== 'UNCLEAN') throw new ToolError(`Cannot parse argument '${flags['election-type']}' of option election-type`)
      electionType = t === 'PREFERRED' ? ELECTION_PREFERRED : ELECTION_UNCLEAN
    }
    const partition = flags.partition === undefined ? undefined : parseIntOption(flags.partition, 'partition')
    const missing = [flags['bootstrap-server'] === undefined ? 'bootstrap-server' : '', electionType === undefined ? 'election-type' : ''].filter(Boolean)
    if (missing.length) throw new ToolError(`Missing required option(s): ${missing.join(', ')}`)
    if ([flags.topic !== undefined, flags['all-topic-partitions'], flags['path-to-json-file'] !== undefined].filter(Boolean).length !== 1) {
      throw new ToolError('One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file')
    }
    if (flags.topic !== undefined && partition === undefined) throw new ToolError('Missing required option(s): partition')
    if (flags.topic === undefined && partition !== undefined) throw new ToolError('Option partition is only allowed if topic is used')
    const type = electionType!
    const typeName = type === ELECTION_PREFERRED ? 'PREFERRED' : 'UNCLEAN'
    const partitions: TopicPartition[] | null = flags['path-to-json-file'] !== undefined
      ? readElectionFile(flags['path-to-json-file'])
      : flags.topic !== undefined ? [{topic: flags.topic, partition: partition!}] : null

    const props = loadClientProperties(flags['admin.config'])
    // Kafka's tool: 30 s for the call unless the config says otherwise, half of it per request.
    if (!props.has('default.api.timeout.ms')) props.set('default.api.timeout.ms', '30000')
    if (!props.has('request.timeout.ms')) props.set('request.timeout.ms', '15000')
    const admin = new AdminClient(flags['bootstrap-server']!, new ClientConfig(props))
    let results
    try {
      results = await electLeaders(admin, type, partitions)
    } catch (error) {
      if (error instanceof AdminTimeoutError) {
        process.stdout.write('Timeout waiting for election results\n')
        throw new ToolError('Timeout waiting for election results')
      }
      if (error instanceof KafkaClientError && error.exceptionClass === 'ClusterAuthorizationException') {
        process.stdout.write('Not authorized to perform leader election\n')
        throw new ToolError('Not authorized to perform leader election')
      }
      throw new ToolError(error instanceof KafkaClientError ? `org.apache.kafka.common.errors.${error.exceptionClass}: ${error.message}` : (error as Error).message)
    } finally {
      admin.close()
    }
    const all = tpHashOrder([...results.values()].map(r => ({...r.tp, error: r.error})))
    const succeeded = all.filter(r => r.error === null)
    const noop = all.filter(r => r.error?.exceptionClass === 'ElectionNotNeededException')
    const failed = all.filter(r => r.error !== null && r.error.exceptionClass !== 'ElectionNotNeededException')
    const out: string[] = []
    if (succeeded.length) out.push(`Successfully completed leader election (${typeName}) for partitions ${succeeded.map(tpString).join(', ')}`)
    if (noop.length) out.push(`Valid replica already elected for partitions ${noop.map(tpString).join(', ')}`)
    for (const f of failed) out.push(`Error completing leader election (${typeName}) for partition: ${tpString(f)}: ${f.error!.toString()}`)
    if (out.length) process.stdout.write(out.join('\n') + '\n')
    if (failed.length) throw new ToolError(`${failed.length} replica(s) could not be elected`)
  }
}

function readElectionFile(path: string): TopicPartition[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new ToolError(`java.io.IOException: Unable to read file ${path}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ToolError('Replica election data is empty')
  }
  try {
    const root = asObject(parsed)
    if (!('partitions' in root)) throw new ToolError('Replica election data is missing "partitions" field')
    const parts = asArray(root.partitions).map(item => {
      const o = asObject(item)
      return {topic: asString(field(o, 'topic')), partition: asInt(field(o, 'partition'))}
    })
    const seen = new Set<string>()
    const dups = new Set<string>()
    for (const p of parts) (seen.has(tpString(p)) ? dups : seen).add(tpString(p))
    if (dups.size) throw new ToolError(`Replica election data contains duplicate partitions: [${[...dups].join(', ')}]`)
    const unique = new Map(parts.map(p => [tpString(p), p]))
    return [...unique.values()]
  } catch (error) {
    if (error instanceof JsonFileError) throw new ToolError(`com.fasterxml.jackson.databind.JsonMappingException: ${error.message}`)
    throw error
  }
}
