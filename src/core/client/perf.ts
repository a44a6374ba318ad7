// Shared pieces of kafka-producer-perf-test and kafka-consumer-perf-test: topic metadata and
// leader connections on kafkit's own protocol client, Java-style number formatting and a
// small SimpleDateFormat. No per-record allocation here.
import {KafkaConnection, ConnectionError, parseBootstrap} from '../protocol/client.js'
import {Metadata, type ApiSpec} from '../protocol/messages.js'
import {errorName} from '../protocol/errors.js'
import {ToolError} from './errors.js'

/** The version to use for api: what both sides speak, at most cap. */
export function versionFor(c: KafkaConnection, api: ApiSpec<any, any>, cap: number): number {
  const r = c.brokerVersions.get(api.apiKey)
  if (!r) throw new ToolError(`Error: the broker at ${c.where} does not support ${api.name}`)
  const v = Math.min(r[1], cap, api.maxVersion)
  if (v < r[0] || v < api.minVersion) throw new ToolError(`Error: the broker at ${c.where} does not support a version of ${api.name} kafkit speaks`)
  return v
}

export interface PartitionLeader {
  partition: number
  leader: number
}

/** Connections to the brokers of a cluster, by node id, opened on demand. */
export class Brokers {
  private readonly conns = new Map<number, KafkaConnection>()
  private readonly addrs = new Map<number, {host: string; port: number}>()
  bootstrapConn: KafkaConnection | undefined

  constructor(readonly bootstrap: string, readonly clientId: string, readonly requestTimeoutMs: number) {
    parseBootstrap(bootstrap)
  }

  async any(): Promise<KafkaConnection> {
    if (this.bootstrapConn && !this.bootstrapConn.closed) return this.bootstrapConn
    try {
      this.bootstrapConn = await KafkaConnection.bootstrap(this.bootstrap, {clientId: this.clientId, timeoutMs: this.requestTimeoutMs})
    } catch (error) {
      throw new ToolError(`Error: ${(error as Error).message}`)
    }
    return this.bootstrapConn
  }

  /**
   * The partitions of topic and their leaders, retried (an auto-created topic needs a moment)
   * until maxBlockMs; then Java's "Topic x not present in metadata after N ms." error.
   */
  async partitions(topic: string, maxBlockMs: number, autoCreate: boolean): Promise<PartitionLeader[]> {
    const deadline = Date.now() + maxBlockMs
    let lastError = ''
    for (;;) {
      const c = await this.any()
      const resp = await c.send(Metadata, versionFor(c, Metadata, 12), {topics: [{name: topic}], allowAutoTopicCreation: autoCreate})
      for (const b of resp.brokers) this.addrs.set(b.nodeId, {host: b.host, port: b.port})
      const t = resp.topics.find(x => x.name === topic)
      if (t && t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every(p => p.leaderId >= 0)) {
        return t.partitions.map(p => ({partition: p.partitionIndex, leader: p.leaderId})).sort((a, b) => a.partition - b.partition)
      }
      if (t && t.errorCode !== 0) lastError = errorName(t.errorCode)
      if (t && ['INVALID_TOPIC_EXCEPTION', 'TOPIC_AUTHORIZATION_FAILED'].includes(lastError)) {
        throw new ToolError(`Error: ${lastError === 'INVALID_TOPIC_EXCEPTION' ? `Invalid topic: ${topic}` : `Not authorized to access topics: [${topic}]`}`)
      }
      if (Date.now() >= deadline) throw new ToolError(`Error: Topic ${topic} not present in metadata after ${maxBlockMs} ms.`)
      await new Promise(res => setTimeout(res, Math.min(100, Math.max(1, deadline - Date.now()))))
    }
  }

  /** The connection to broker nodeId (from the last metadata). */
  async node(nodeId: number): Promise<KafkaConnection> {
    const c = this.conns.get(nodeId)
    if (c && !c.closed) return c
    const a = this.addrs.get(nodeId)
    if (!a) throw new ToolError(`Error: broker ${nodeId} is not in the cluster metadata`)
    let conn: KafkaConnection
    try {
      conn = await KafkaConnection.connect(a.host, a.port, {clientId: this.clientId, timeoutMs: this.requestTimeoutMs})
      await conn.negotiate()
    } catch (error) {
      if (error instanceof ConnectionError) throw new ToolError(`Error: ${error.message}`)
      throw error
    }
    this.conns.set(nodeId, conn)
    return conn
  }

  async close(): Promise<void> {
    const all = [...this.conns.values()]
    if (this.bootstrapConn) all.push(this.bootstrapConn)
    this.conns.clear()
    this.bootstrapConn = undefined
    await Promise.all(all.map(c => c.close().catch(() => {})))
  }
}

/** Java's String.format("%.Nf", x): NaN and Infinity spelled as Java spells them. */
export function fixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  return x.toFixed(digits)
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/**
 * A formatter for java.text.SimpleDateFormat patterns (local time): y M d H h k K m s S E a
 * Z X and quoted text. Throws a one-line error for a pattern letter it does not know.
 */
export function simpleDateFormat(pattern: string): (ms: number) => string {
  type Part = string | {letter: string; count: number}
  const parts: Part[] = []
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i]
    if (ch === '\'') {
      const end = pattern.indexOf('\'', i + 1)
      if (end === i + 1) { parts.push('\''); i += 2; continue }
      if (end < 0) throw new ToolError(`Error: Unterminated quote in date format '${pattern}'`)
      parts.push(pattern.slice(i + 1, end))
      i = end + 1
      continue
    }
    if (/[a-zA-Z]/.test(ch)) {
      let j = i
      while (pattern[j] === ch) j++
      if (!/[yMdHhkKmsSEaZXuDFwWG]/.test(ch)) throw new ToolError(`Error: Illegal pattern character '${ch}'`)
      parts.push({letter: ch, count: j - i})
      i = j
      continue
    }
    parts.push(ch)
    i++
  }
  return (ms: number) => {
    const d = new Date(ms)
    let out = ''
    for (const p of parts) {
      if (typeof p === 'string') { out += p; continue }
      const n = p.count
      switch (p.letter) {
        case 'y': case 'u': { const y = d.getFullYear(); out += n === 2 ? pad(y % 100, 2) : pad(y, n); break }
        case 'M': out += n >= 4 ? MONTHS[d.getMonth()] : n === 3 ? MONTHS[d.getMonth()].slice(0, 3) : pad(d.getMonth() + 1, n); break
        case 'd': out += pad(d.getDate(), n); break
        case 'H': out += pad(d.getHours(), n); break
        case 'k': out += pad(d.getHours() === 0 ? 24 : d.getHours(), n); break
        case 'K': out += pad(d.getHours() % 12, n); break
        case 'h': out += pad(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12, n); break
        case 'm': out += pad(d.getMinutes(), n); break
        case 's': out += pad(d.getSeconds(), n); break
        case 'S': out += pad(d.getMilliseconds(), n); break
        case 'E': out += n >= 4 ? DAYS[d.getDay()] : DAYS[d.getDay()].slice(0, 3); break
        case 'a': out += d.getHours() < 12 ? 'AM' : 'PM'; break
        case 'G': out += 'AD'; break
        case 'D': { const start = new Date(d.getFullYear(), 0, 1); out += pad(Math.floor((d.getTime() - start.getTime()) / 86400000) + 1, n); break }
        case 'F': out += pad(Math.floor((d.getDate() - 1) / 7) + 1, n); break
        case 'w': case 'W': out += pad(1, n); break
        case 'Z': case 'X': {
          const off = -d.getTimezoneOffset()
          const sign = off >= 0 ? '+' : '-'
          const a = Math.abs(off)
          out += p.letter === 'X' && off === 0 ? 'Z' : `${sign}${pad(Math.floor(a / 60), 2)}${p.letter === 'X' && n === 1 ? '' : (n === 3 ? ':' : '') + pad(a % 60, 2)}`
          break
        }
      }
    }
    return out
  }
}
