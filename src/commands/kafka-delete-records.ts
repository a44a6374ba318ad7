// kafka-delete-records: deletes the records of partitions before given offsets, from a JSON
// file, as Apache Kafka 3.9's DeleteRecordsCommand: the same file format and checks, the
// same "partition: t-p\tlow_watermark: n" / "\terror: ..." lines in Kafka's order, and its
// messages (the exception's message alone on stderr, exit 1).
import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {KafkaCommand, loadClientProperties, ToolError, UsageError} from './base.js'
import {Admin} from '../core/client/admin.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {deleteRecords} from '../core/client/admin/offsets.js'
import {javaHashOrder, tpHash, tpString, type TopicPartition} from '../core/client/admin/partitions.js'
import {adminConfigProblem} from '../core/client/admin/cli.js'
import {asArray, asObject, field, KafkaJsonError, parseFull, toInt, toLong, toStr} from '../core/client/admin/kafka-json.js'

const USAGE = 'This tool helps to delete records of the given partitions down to the specified offset.'

export default class KafkaDeleteRecords extends KafkaCommand {
  static hidden = false
  static summary = USAGE
  static description = 'Deletes the records of each partition of the JSON file before its offset (-1: up to the high watermark), as Apache Kafka 3.9\'s kafka-delete-records. File format: {"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version": 1}'
  static examples = [
    'kafka-delete-records --bootstrap-server localhost:9092 --offset-json-file offsets.json',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'REQUIRED: The server to connect to.', helpValue: '<server(s) to use for bootstrapping>'}),
    'offset-json-file': Flags.string({description: 'REQUIRED: The JSON file with offset per partition. The format to use is: {"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version":1}', helpValue: '<Offset json file path>'}),
    'command-config': Flags.string({description: 'A property file containing configs to be passed to Admin Client.', helpValue: '<command config property file path>'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(USAGE)
    const {flags} = await this.parse(KafkaDeleteRecords)
    for (const required of ['bootstrap-server', 'offset-json-file'] as const) {
      if (flags[required] === undefined) throw new UsageError(`Missing required argument "[${required}]"`)
    }
    const props = loadClientProperties(flags['command-config'])
    if (adminConfigProblem(props)) throw new ToolError('Failed to create new KafkaAdminClient')
    const admin = new Admin(flags['bootstrap-server']!, {props})
    try {
      let text: string
      try {
        text = readFileSync(flags['offset-json-file']!, 'utf8')
      } catch {
        throw new ToolError(`Unable to read file ${flags['offset-json-file']}`)
      }
      const requests = parseOffsetJson(text)
      const counts = new Map<string, number>()
      for (const r of requests) counts.set(tpString(r.tp), (counts.get(tpString(r.tp)) ?? 0) + 1)
      const dups = javaHashOrder([...new Set(requests.filter(r => counts.get(tpString(r.tp))! > 1).map(r => tpString(r.tp)))].map(k => requests.find(r => tpString(r.tp) === k)!.tp), tpHash)
      if (dups.length > 0) throw new ToolError(`Offset json file contains duplicate topic partitions: ${dups.map(tpString).join(',')}`)
      await this.writeOut('Executing records delete operation\n')
      const outcomes = await deleteRecords(admin.client, requests)
      const lines = ['Records delete operation completed:']
      for (const o of javaHashOrder(outcomes, o => tpHash(o.tp))) {
        lines.push(o.error ? `partition: ${tpString(o.tp)}\terror: ${o.error.toString()}` : `partition: ${tpString(o.tp)}\tlow_watermark: ${o.value}`)
      }
      await this.writeOut(lines.join('\n') + '\n')
    } catch (error) {
      if (error instanceof ToolError || error instanceof UsageError) throw error
      if (error instanceof KafkaJsonError) throw new ToolError(error.message)
      if (error instanceof KafkaClientError) throw new ToolError(error.toString())
      throw new ToolError((error as Error).message)
    } finally {
      admin.close()
    }
  }
}

/** The file's partitions and offsets in file order (version 1, the only one Kafka knows). */
export function parseOffsetJson(text: string): {tp: TopicPartition; offset: number}[] {
  const js = parseFull(text)
  if (js === undefined) throw new ToolError('The input string is not a valid JSON')
  const obj = asObject(js)
  const version = Object.prototype.hasOwnProperty.call(obj, 'version') ? toInt(obj.version) : 1
  if (version !== 1) throw new ToolError(`Not supported version field value ${version}`)
  if (!Object.prototype.hasOwnProperty.call(obj, 'partitions')) throw new ToolError('Missing partitions field')
  return asArray(obj.partitions).map(p => {
    const o = asObject(p)
    return {tp: {topic: toStr(field(o, 'topic')), partition: toInt(field(o, 'partition'))}, offset: toLong(field(o, 'offset'))}
  })
}
