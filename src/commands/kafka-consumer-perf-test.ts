// kafka-consumer-perf-test: Apache Kafka's consumer load tool (ConsumerPerformance), with its
// flags and output. Fetches go straight to the partition leaders with kafkit's own protocol
// client (one Fetch in flight per leader, records counted by walking the batches in place, no
// per-record objects). The group's committed offsets are the starting point (else earliest,
// or latest with --from-latest) and the final positions are committed for the group.
import {Flags} from '@oclif/core'
import {gunzipSync} from 'node:zlib'
import {KafkaCommand, bootstrapServerFlag, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {Brokers, fixed, simpleDateFormat, versionFor, type PartitionLeader} from '../core/client/perf.js'
import {GroupAdmin, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP} from '../core/client/groups.js'
import {parseIntOption} from '../core/client/errors.js'
import {Fetch} from '../core/protocol/messages.js'
import {errorName, errorMessage} from '../core/protocol/errors.js'
import {readInt64, readVarint, lastVarintEnd} from '../core/log/batch.js'
import {snappyDecompress, lz4Decompress} from '../core/client/codecs.js'
import {zstdDecompress} from '../core/client/zstd.js'
import {ConnectionError, type KafkaConnection} from '../core/protocol/client.js'

/** Fetch errors after which the leaders are looked up again. */
const RETRIABLE_FETCH = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'REPLICA_NOT_AVAILABLE', 'KAFKA_STORAGE_ERROR', 'NOT_LEADER_FOR_PARTITION'])

/** A loop stopped because the partition leaders must be looked up again. */
class Moved extends Error {}

function parseLongOption(value: string, option: string, min = Number.MIN_SAFE_INTEGER): number {
  const t = value.trim()
  if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(Number(t)) || Number(t) < min) throw new ToolError(`Cannot parse argument '${value}' of option ${option}`)
  return Number(t)
}

interface PartState {
  partition: number
  leader: number
  position: number
}

/** Progress of a run, shared by the fetch loops. */
interface Counters {
  messages: number
  bytes: number
}

/**
 * Counts the records at or after fromOffset in the record batches of buf, up to `limit`
 * records; returns the offset after the last batch looked at (the next fetch position) and
 * adds to counters. Batches cut off at the end of buf are left for the next fetch.
 */
function countRecords(buf: Buffer, fromOffset: number, counters: Counters, limit: number): number {
  let pos = 0
  let next = fromOffset
  while (pos + 61 <= buf.length && counters.messages < limit) {
    const baseOffset = readInt64(buf, pos)
    const batchLength = buf.readInt32BE(pos + 8)
    const end = pos + 12 + batchLength
    if (batchLength < 49 || end > buf.length) break
    const magic = buf[pos + 16]
    if (magic !== 2) throw new ToolError(`Error: a record batch of magic ${magic} at offset ${baseOffset}: kafkit's kafka-consumer-perf-test reads magic 2 only`)
    const attributes = buf.readInt16BE(pos + 21)
    const lastOffsetDelta = buf.readInt32BE(pos + 23)
    const count = buf.readInt32BE(pos + 57)
    const batchEnd = baseOffset + lastOffsetDelta + 1
    if ((attributes & 0x20) === 0 && batchEnd > fromOffset) {
      const codec = attributes & 0x07
      let data = buf
      let p = pos + 61
      let dataEnd = end
      if (codec !== 0) {
        const body = buf.subarray(pos + 61, end)
        data = codec === 1 ? gunzipSync(body) : codec === 2 ? snappyDecompress(body) : codec === 3 ? lz4Decompress(body) : codec === 4 ? zstdDecompress(body) : body
        if (codec > 4) throw new ToolError(`Error: unknown compression codec ${codec} in the batch at offset ${baseOffset}`)
        p = 0
        dataEnd = data.length
      }
      for (let i = 0; i < count && p < dataEnd; i++) {
        const len = readVarint(data, p, dataEnd)
        p = lastVarintEnd()
        if (p < 0) throw new ToolError(`Error: malformed record in the batch at offset ${baseOffset}`)
        const recEnd = p + len
        p++ // attributes
        while (p < recEnd && (data[p] & 0x80) !== 0) p++ // timestamp delta (varlong)
        p++
        const offsetDelta = readVarint(data, p, recEnd)
        p = lastVarintEnd()
        const keyLen = readVarint(data, p, recEnd)
        p = lastVarintEnd()
        if (keyLen > 0) p += keyLen
        const valueLen = readVarint(data, p, recEnd)
        if (lastVarintEnd() < 0) throw new ToolError(`Error: malformed record in the batch at offset ${baseOffset}`)
        p = recEnd
        if (baseOffset + offsetDelta >= fromOffset) {
          counters.messages++
          counters.bytes += (keyLen > 0 ? keyLen : 0) + (valueLen > 0 ? valueLen : 0)
          next = baseOffset + offsetDelta + 1
          if (counters.messages >= limit) return next
        }
      }
    }
    if (batchEnd > next) next = batchEnd
    pos = end
  }
  return next
}

export default class KafkaConsumerPerfTest extends KafkaCommand {
  static hidden = false
  static summary = 'This tool is used to verify the consumer performance.'
  static description = 'Consumes --messages records of --topic as fast as the broker serves them and prints Apache Kafka\'s result line (start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec), or a line per --reporting-interval with --show-detailed-stats. Starts at the group\'s committed offsets (else the earliest, or the latest with --from-latest) and commits where it stopped. kafkit does not join the group as a member: rebalance.time.ms is the time to find the partitions and starting offsets.'
  static examples = [
    'kafka-consumer-perf-test --bootstrap-server 127.0.0.1:9092 --topic t --messages 100000',
    'kafka-consumer-perf-test --bootstrap-server 127.0.0.1:9092 --topic t --messages 100000 --show-detailed-stats --reporting-interval 1000',
  ]

  static flags = {
    'bootstrap-server': bootstrapServerFlag('REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to.'),
    'broker-list': Flags.string({description: 'DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2.', helpValue: '<broker-list>'}),
    topic: Flags.string({description: 'REQUIRED: The topic to consume from.', helpValue: '<topic>'}),
    messages: Flags.string({description: 'REQUIRED: The number of messages to send or consume', helpValue: '<count>'}),
    group: Flags.string({description: 'The group id to consume on. (default: perf-consumer-<random>)', helpValue: '<gid>'}),
    'fetch-size': Flags.string({description: 'The amount of data to fetch in a single request. (default: 1048576)', helpValue: '<size>'}),
    'from-latest': Flags.boolean({description: 'If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message.'}),
    'socket-buffer-size': Flags.string({description: 'The size of the tcp RECV size. (accepted, not used) (default: 2097152)', helpValue: '<size>'}),
    'consumer.config': Flags.string({description: 'Consumer config properties file.', helpValue: '<config file>'}),
    'print-metrics': Flags.boolean({description: 'Print out the metrics. (not supported by kafkit: refused)'}),
    'show-detailed-stats': Flags.boolean({description: 'If set, stats are reported for each reporting interval as configured by reporting-interval'}),
    timeout: Flags.string({description: 'The maximum allowed time in milliseconds between returned records. (default: 10000)', helpValue: '<milliseconds>'}),
    'reporting-interval': Flags.string({description: 'Interval in milliseconds at which to print progress info. (default: 5000)', helpValue: '<interval_ms>'}),
    'date-format': Flags.string({description: 'The date format to use for formatting the time field. See java.text.SimpleDateFormat for options. (default: yyyy-MM-dd HH:mm:ss:SSS)', helpValue: '<date format>'}),
    'hide-header': Flags.boolean({description: 'If set, skips printing the header for the stats'}),
    threads: Flags.string({description: 'DEPRECATED AND IGNORED: Number of processing threads. (default: 10)', helpValue: '<count>'}),
    'num-fetch-threads': Flags.string({description: 'DEPRECATED AND IGNORED: Number of fetcher threads. (default: 1)', helpValue: '<count>'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(KafkaConsumerPerfTest)
    const bootstrap = flags['bootstrap-server'] ?? flags['broker-list']
    if (!bootstrap) throw new UsageError('Missing required option(s) [bootstrap-server]')
    if (flags.topic === undefined) throw new UsageError('Missing required argument "[topic]"')
    if (flags.messages === undefined) throw new UsageError('Missing required argument "[messages]"')
    const numMessages = parseLongOption(flags.messages, 'messages')
    const timeoutMs = flags.timeout === undefined ? 10000 : parseLongOption(flags.timeout, 'timeout')
    const reportingIntervalMs = flags['reporting-interval'] === undefined ? 5000 : parseLongOption(flags['reporting-interval'], 'reporting-interval', 0)
    if (reportingIntervalMs <= 0) throw new ToolError('Reporting interval must be greater than 0.')
    const fetchSize = flags['fetch-size'] === undefined ? 1048576 : parseIntOption(flags['fetch-size'], 'fetch-size', 0)
    if (flags['socket-buffer-size'] !== undefined) parseIntOption(flags['socket-buffer-size'], 'socket-buffer-size')
    if (flags.threads !== undefined) parseIntOption(flags.threads, 'threads')
    if (flags['num-fetch-threads'] !== undefined) parseIntOption(flags['num-fetch-threads'], 'num-fetch-threads')
    if (flags['print-metrics']) throw new ToolError('Error: --print-metrics is not supported by kafkit (the consumer has no Java metrics registry)')
    const dateFormat = simpleDateFormat(flags['date-format'] ?? 'yyyy-MM-dd HH:mm:ss:SSS')
    const props = loadClientProperties(flags['consumer.config'])
    const group = flags.group ?? props.get('group.id') ?? `perf-consumer-${Math.floor(Math.random() * 100000)}`
    const clientId = props.get('client.id') ?? 'perf-consumer-client'
    const maxWaitMs = Number(props.get('fetch.max.wait.ms') ?? 500)
    const maxBytes = Number(props.get('fetch.max.bytes') ?? 52428800)
    const detailed = flags['show-detailed-stats']

    if (flags.threads !== undefined || flags['num-fetch-threads'] !== undefined) writeLineSync(1, 'WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test')
    if (!flags['hide-header']) {
      const extra = ', rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec'
      writeLineSync(1, detailed ? `time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec${extra}` : `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec${extra}`)
    }

    const startMs = Date.now()
    const brokers = new Brokers(bootstrap, clientId, 30000)
    const admin = new GroupAdmin(bootstrap, {clientId, timeoutMs: Math.max(timeoutMs, 5000)})
    const counters: Counters = {messages: 0, bytes: 0}
    let joinTimeMs = 0
    let lastConsumedMs = startMs
    let endMs = startMs
    let parts: PartState[] = []
    try {
      // "Join": the partitions, their leaders and where to start.
      let leaders: PartitionLeader[] = []
      try {
        leaders = await brokers.partitions(flags.topic, timeoutMs, props.get('allow.auto.create.topics') !== 'false')
      } catch (error) {
        if (!(error instanceof ToolError) || !/not present in metadata/.test(error.message)) throw error
      }
      const resetTimestamp = flags['from-latest'] || props.get('auto.offset.reset') === 'latest' ? LATEST_TIMESTAMP : EARLIEST_TIMESTAMP
      if (leaders.length > 0) {
        const committed = new Map((await admin.committedOffsets(group).catch(() => [])).filter(c => c.topic === flags.topic).map(c => [c.partition, c.offset]))
        const missing = leaders.filter(l => !committed.has(l.partition)).map(l => ({topic: flags.topic!, partition: l.partition}))
        const reset = await admin.listOffsets(missing, resetTimestamp)
        parts = leaders.map(l => ({partition: l.partition, leader: l.leader, position: committed.get(l.partition) ?? reset.get(`${flags.topic}\0${l.partition}`) ?? 0}))
        joinTimeMs = Date.now() - startMs
      }
      lastConsumedMs = startMs
      if (parts.length > 0) await this.consume(brokers, admin, flags.topic, parts, {numMessages, timeoutMs, reportingIntervalMs, fetchSize, maxWaitMs, maxBytes, detailed, dateFormat, joinTimeMs, startMs, resetTimestamp}, counters, t => { lastConsumedMs = t })
      else while (Date.now() - lastConsumedMs <= timeoutMs) await new Promise(res => setTimeout(res, Math.min(100, timeoutMs + 1)))
      endMs = Date.now()
      if (counters.messages < numMessages) writeLineSync(1, `WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded. You can use the --timeout option to increase the timeout.`)
      if (parts.length > 0) {
        const errors = await admin.alterOffsets(group, parts.map(p => ({topic: flags.topic!, partition: p.partition, offset: p.position}))).catch((error: Error) => [{errorCode: -1, message: error.message}])
        if (errors.length > 0) writeLineSync(2, `WARNING: could not commit the offsets of group ${group}: ${'message' in errors[0] ? errors[0].message : errorName(errors[0].errorCode)}`)
      }
    } finally {
      admin.close()
      await brokers.close()
    }

    if (!detailed) {
      const elapsedSec = (endMs - startMs) / 1000.0
      const fetchTimeMs = endMs - startMs - joinTimeMs
      const mb = counters.bytes / (1024 * 1024)
      writeLineSync(1, [dateFormat(startMs), dateFormat(endMs), fixed(mb, 4), fixed(mb / elapsedSec, 4), String(counters.messages), fixed(counters.messages / elapsedSec, 4), String(joinTimeMs), String(fetchTimeMs), fixed(mb / (fetchTimeMs / 1000.0), 4), fixed(counters.messages / (fetchTimeMs / 1000.0), 4)].join(', '))
    }
  }

  private async consume(brokers: Brokers, admin: GroupAdmin, topic: string, parts: PartState[], o: {numMessages: number; timeoutMs: number; reportingIntervalMs: number; fetchSize: number; maxWaitMs: number; maxBytes: number; detailed: boolean; dateFormat: (ms: number) => string; joinTimeMs: number; startMs: number; resetTimestamp: number}, counters: Counters, consumed: (t: number) => void): Promise<void> {
    let lastReportMs = Date.now()
    let lastConsumedMs = o.startMs
    let lastMessages = 0
    let lastBytes = 0
    let joinInRound = o.joinTimeMs
    const report = (now: number) => {
      const elapsedMs = now - lastReportMs
      const totalMb = counters.bytes / (1024 * 1024)
      const intervalMb = (counters.bytes - lastBytes) / (1024 * 1024)
      const fetchTimeMs = elapsedMs - joinInRound
      const cols = [o.dateFormat(now), '0', fixed(totalMb, 4), fixed(1000.0 * intervalMb / elapsedMs, 4), String(counters.messages), fixed((counters.messages - lastMessages) / elapsedMs * 1000.0, 4),
        String(joinInRound), String(fetchTimeMs), fixed(fetchTimeMs <= 0 ? 0 : 1000.0 * intervalMb / fetchTimeMs, 4), fixed(fetchTimeMs <= 0 ? 0 : 1000.0 * (counters.messages - lastMessages) / fetchTimeMs, 4)]
      writeLineSync(1, cols.join(', '))
    }
    const done = () => counters.messages >= o.numMessages || Date.now() - lastConsumedMs > o.timeoutMs
    // A leader moved or a connection dropped: every loop stops, leaders are looked up again.
    let regroup = false
    const loop = async (leader: number, ps: PartState[]) => {
      let conn: KafkaConnection
      try {
        conn = await brokers.node(leader)
      } catch (error) {
        regroup = true
        throw new Moved((error as Error).message)
      }
      const v = versionFor(conn, Fetch, 12)
      while (!done() && !regroup) {
        const wait = Math.max(0, Math.min(o.maxWaitMs, o.timeoutMs - (Date.now() - lastConsumedMs) + 1))
        const resp = await conn.send(Fetch, v, {
          replicaId: -1, maxWaitMs: wait, minBytes: 1, maxBytes: o.maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{topic, partitions: ps.map(p => ({partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.position, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: o.fetchSize}))}],
          forgottenTopicsData: [], rackId: '',
        }, 30000 + wait).catch((error: Error) => {
          if (error instanceof ConnectionError) { regroup = true; throw new Moved(error.message) }
          throw error
        })
        if (resp.errorCode !== 0) throw new ToolError(`Error: ${errorName(resp.errorCode)}: ${errorMessage(resp.errorCode)}`)
        const before = counters.messages
        for (const t of resp.responses) {
          for (const pd of t.partitions) {
            const p = ps.find(x => x.partition === pd.partitionIndex)
            if (!p) continue
            if (pd.errorCode !== 0) {
              if (RETRIABLE_FETCH.has(errorName(pd.errorCode))) {
                regroup = true
                throw new Moved(errorName(pd.errorCode))
              }
              if (errorName(pd.errorCode) === 'OFFSET_OUT_OF_RANGE') {
                const r = await admin.listOffsets([{topic, partition: p.partition}], o.resetTimestamp)
                p.position = r.get(`${topic}\0${p.partition}`) ?? p.position
                continue
              }
              throw new ToolError(`Error: ${errorName(pd.errorCode)}: ${errorMessage(pd.errorCode)} (topic ${topic}, partition ${p.partition})`)
            }
            if (pd.records && pd.records.length > 0 && counters.messages < o.numMessages) p.position = countRecords(pd.records, p.position, counters, o.numMessages)
          }
        }
        const now = Date.now()
        if (counters.messages > before) {
          lastConsumedMs = now
          consumed(now)
          if (now - lastReportMs >= o.reportingIntervalMs) {
            if (o.detailed) report(now)
            joinInRound = 0
            lastReportMs = now
            lastMessages = counters.messages
            lastBytes = counters.bytes
          }
        }
      }
    }
    while (!done()) {
      regroup = false
      const byLeader = new Map<number, PartState[]>()
      for (const p of parts) {
        let l = byLeader.get(p.leader)
        if (!l) byLeader.set(p.leader, l = [])
        l.push(p)
      }
      const results = await Promise.allSettled([...byLeader].map(([leader, ps]) => loop(leader, ps)))
      for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof Moved)) throw r.reason
      if (!regroup || done()) continue
      await new Promise(res => setTimeout(res, 100))
      try {
        const fresh = await brokers.partitions(topic, 0, false)
        for (const f of fresh) {
          const p = parts.find(x => x.partition === f.partition)
          if (p) p.leader = f.leader
        }
      } catch {
        // Still no leader or no broker: try again until --timeout runs out.
      }
    }
  }
}
